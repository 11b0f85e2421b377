//! Suppliers and customers, with customers' addresses.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::{customer, customer_address, supplier};

use super::loaders::Loaders;
use super::{
    ApiResult, ListConnection, Payload, SortDirection, connection, global_id, page_request,
    parse_id, payload, tenant_db,
};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::Permission;
use crate::error::AppError;
use crate::service::parties;

/// A supplier: who goods are bought from.
#[derive(SimpleObject)]
pub struct Supplier {
    pub(crate) id: ID,
    /// Unique in the organisation.
    code: String,
    name: String,
    contact_name: String,
    email: String,
    phone: String,
    address_line1: String,
    address_line2: String,
    city: String,
    postal_code: String,
    country: String,
    active: bool,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<supplier::Model> for Supplier {
    fn from(m: supplier::Model) -> Self {
        Self {
            id: global_id(m.id),
            code: m.code,
            name: m.name,
            contact_name: m.contact_name,
            email: m.email,
            phone: m.phone,
            address_line1: m.address_line1,
            address_line2: m.address_line2,
            city: m.city,
            postal_code: m.postal_code,
            country: m.country,
            active: m.is_active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// What a customer address is for.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressKind {
    /// Where invoices go.
    Billing,
    /// Where goods go.
    Shipping,
}

impl From<entity::AddressKind> for AddressKind {
    fn from(kind: entity::AddressKind) -> Self {
        match kind {
            entity::AddressKind::Billing => Self::Billing,
            entity::AddressKind::Shipping => Self::Shipping,
        }
    }
}

impl From<AddressKind> for entity::AddressKind {
    fn from(kind: AddressKind) -> Self {
        match kind {
            AddressKind::Billing => Self::Billing,
            AddressKind::Shipping => Self::Shipping,
        }
    }
}

/// One of a customer's addresses.
#[derive(SimpleObject, Clone)]
pub struct CustomerAddress {
    pub(crate) id: ID,
    kind: AddressKind,
    /// The one address of its kind orders use unless they name another.
    default: bool,
    label: String,
    address_line1: String,
    address_line2: String,
    city: String,
    postal_code: String,
    country: String,
}

impl From<customer_address::Model> for CustomerAddress {
    fn from(m: customer_address::Model) -> Self {
        Self {
            id: global_id(m.id),
            kind: m.kind.into(),
            default: m.is_default,
            label: m.label,
            address_line1: m.address_line1,
            address_line2: m.address_line2,
            city: m.city,
            postal_code: m.postal_code,
            country: m.country,
        }
    }
}

/// A customer: who goods are sold to.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Customer {
    pub(crate) id: ID,
    /// Unique in the organisation.
    code: String,
    name: String,
    contact_name: String,
    email: String,
    phone: String,
    active: bool,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    #[graphql(skip)]
    customer_id: entity::CustomerId,
}

impl From<customer::Model> for Customer {
    fn from(m: customer::Model) -> Self {
        Self {
            id: global_id(m.id),
            customer_id: m.id,
            code: m.code,
            name: m.name,
            contact_name: m.contact_name,
            email: m.email,
            phone: m.phone,
            active: m.is_active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[ComplexObject]
impl Customer {
    /// Every address (at most 50): billing before shipping, the default first within each.
    async fn addresses(&self, ctx: &Context<'_>) -> ApiResult<Vec<CustomerAddress>> {
        Ok(self.addresses_of(ctx).await?.into_iter().collect())
    }

    /// The default billing address, if the customer has any billing address.
    async fn default_billing_address(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<CustomerAddress>> {
        self.default_of(ctx, AddressKind::Billing).await
    }

    /// The default shipping address, if the customer has any shipping address.
    async fn default_shipping_address(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<CustomerAddress>> {
        self.default_of(ctx, AddressKind::Shipping).await
    }
}

impl Customer {
    async fn addresses_of(&self, ctx: &Context<'_>) -> ApiResult<Vec<CustomerAddress>> {
        let loader = &Loaders::of(ctx)?.customer_addresses;
        Ok(loader
            .load_one(self.customer_id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(CustomerAddress::from)
            .collect())
    }

    async fn default_of(
        &self,
        ctx: &Context<'_>,
        kind: AddressKind,
    ) -> ApiResult<Option<CustomerAddress>> {
        Ok(self
            .addresses_of(ctx)
            .await?
            .into_iter()
            .find(|address| address.kind == kind && address.default))
    }
}

/// Contact details and a postal address, as a supplier has them.
#[derive(InputObject)]
pub struct CreateSupplierInput {
    code: String,
    name: String,
    #[graphql(default)]
    contact_name: String,
    /// Empty, or a plausible email address.
    #[graphql(default)]
    email: String,
    /// Digits, spaces and `+ - ( ) .`, at most 32 characters.
    #[graphql(default)]
    phone: String,
    #[graphql(default)]
    address_line1: String,
    #[graphql(default)]
    address_line2: String,
    #[graphql(default)]
    city: String,
    #[graphql(default)]
    postal_code: String,
    #[graphql(default)]
    country: String,
}

impl From<CreateSupplierInput> for parties::SupplierInput {
    fn from(input: CreateSupplierInput) -> Self {
        Self {
            code: input.code,
            name: input.name,
            contact: parties::Contact {
                name: input.contact_name,
                email: input.email,
                phone: input.phone,
            },
            address: parties::PostalAddress {
                line1: input.address_line1,
                line2: input.address_line2,
                city: input.city,
                postal_code: input.postal_code,
                country: input.country,
            },
        }
    }
}

/// Changes a supplier: its id and its code, name, contact details and address (send them all).
#[derive(InputObject)]
pub struct UpdateSupplierInput {
    id: ID,
    #[graphql(flatten)]
    details: CreateSupplierInput,
}

/// An address of a customer.
#[derive(InputObject)]
pub struct CustomerAddressInput {
    kind: AddressKind,
    /// What the customer calls it, e.g. "Head office".
    #[graphql(default)]
    label: String,
    #[graphql(default)]
    address_line1: String,
    #[graphql(default)]
    address_line2: String,
    #[graphql(default)]
    city: String,
    #[graphql(default)]
    postal_code: String,
    #[graphql(default)]
    country: String,
    /// Make it the default of its kind. The first address of a kind is the default anyway.
    #[graphql(default)]
    make_default: bool,
}

impl From<CustomerAddressInput> for parties::CustomerAddressInput {
    fn from(input: CustomerAddressInput) -> Self {
        Self {
            kind: input.kind.into(),
            label: input.label,
            address: parties::PostalAddress {
                line1: input.address_line1,
                line2: input.address_line2,
                city: input.city,
                postal_code: input.postal_code,
                country: input.country,
            },
            make_default: input.make_default,
        }
    }
}

/// A customer's code, name and contact details.
#[derive(InputObject)]
pub struct CustomerDetailsInput {
    code: String,
    name: String,
    #[graphql(default)]
    contact_name: String,
    /// Empty, or a plausible email address.
    #[graphql(default)]
    email: String,
    /// Digits, spaces and `+ - ( ) .`, at most 32 characters.
    #[graphql(default)]
    phone: String,
}

impl From<CustomerDetailsInput> for parties::CustomerInput {
    fn from(input: CustomerDetailsInput) -> Self {
        Self {
            code: input.code,
            name: input.name,
            contact: parties::Contact {
                name: input.contact_name,
                email: input.email,
                phone: input.phone,
            },
        }
    }
}

/// A new customer and its first addresses.
#[derive(InputObject)]
pub struct CreateCustomerInput {
    #[graphql(flatten)]
    details: CustomerDetailsInput,
    /// At most 50; the first of each kind is its default unless a later one says `makeDefault`.
    #[graphql(default)]
    addresses: Vec<CustomerAddressInput>,
}

/// Changes a customer's code, name and contact details (send them all); addresses change
/// through their own mutations.
#[derive(InputObject)]
pub struct UpdateCustomerInput {
    id: ID,
    #[graphql(flatten)]
    details: CustomerDetailsInput,
}

/// A new address for a customer.
#[derive(InputObject)]
pub struct AddCustomerAddressInput {
    customer_id: ID,
    #[graphql(flatten)]
    address: CustomerAddressInput,
}

/// Changes an address (send every field).
#[derive(InputObject)]
pub struct UpdateCustomerAddressInput {
    id: ID,
    #[graphql(flatten)]
    address: CustomerAddressInput,
}

/// Names the supplier, customer or address a mutation acts on.
#[derive(InputObject)]
pub struct PartyIdInput {
    id: ID,
}

/// What the supplier and customer lists may be narrowed to.
#[derive(InputObject, Default)]
pub struct PartyFilter {
    /// Matches code, name or email (case-insensitive, partial).
    search: Option<String>,
    #[graphql(default)]
    include_archived: bool,
}

impl From<PartyFilter> for parties::PartyFilter {
    fn from(filter: PartyFilter) -> Self {
        Self {
            search: filter.search,
            include_archived: filter.include_archived,
        }
    }
}

/// What the supplier and customer lists may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum PartySortField {
    #[default]
    Code,
    Name,
    /// Creation order.
    CreatedAt,
}

impl From<PartySortField> for parties::PartyOrder {
    fn from(field: PartySortField) -> Self {
        match field {
            PartySortField::Code => Self::Code,
            PartySortField::Name => Self::Name,
            PartySortField::CreatedAt => Self::Created,
        }
    }
}

/// The supplier or customer list's order.
#[derive(InputObject, Default)]
pub struct PartySort {
    #[graphql(default)]
    field: PartySortField,
    #[graphql(default)]
    direction: SortDirection,
}

payload!(
    /// What a supplier mutation returns.
    SupplierPayload,
    supplier: Supplier
);

payload!(
    /// What a customer mutation returns.
    CustomerPayload,
    customer: Customer
);

payload!(
    /// What a customer address mutation returns.
    CustomerAddressPayload,
    address: CustomerAddress
);

/// Loads the page's addresses at once when the document asks for them.
async fn prime_addresses(ctx: &Context<'_>, customers: &[&customer::Model]) -> ApiResult<()> {
    let asks = |field: &str| super::rows_ask(ctx, &[field]);
    if asks("addresses") || asks("defaultBillingAddress") || asks("defaultShippingAddress") {
        let loaders = Loaders::of(ctx)?;
        loaders
            .prime(
                &loaders.customer_addresses,
                customers.iter().map(|customer| customer.id),
            )
            .await?;
    }
    Ok(())
}

#[derive(Default)]
pub struct PartiesQuery;

#[Object]
impl PartiesQuery {
    /// The organisation's suppliers, `first` at a time (at most 100) after `after`, by code
    /// unless `sort` says otherwise; archived ones only with `filter.includeArchived`.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::SuppliersView)",
        directive = requires::apply(Permission::SuppliersView)
    )]
    async fn suppliers(
        &self,
        ctx: &Context<'_>,
        filter: Option<PartyFilter>,
        sort: Option<PartySort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<Supplier>> {
        let request = page_request(ctx, first, after)?;
        let sort = sort.unwrap_or_default();
        let page = parties::list::<supplier::Entity>(
            tenant_db(ctx)?,
            &filter.unwrap_or_default().into(),
            sort.field.into(),
            sort.direction.descending(),
            &request,
        )
        .await?;
        Ok(connection(&request, page, Supplier::from))
    }

    /// One supplier, archived or not.
    #[graphql(
        guard = "RequirePermission(Permission::SuppliersView)",
        directive = requires::apply(Permission::SuppliersView)
    )]
    async fn supplier(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Supplier> {
        Ok(parties::supplier(tenant_db(ctx)?, parse_id(&id, "id")?)
            .await?
            .into())
    }

    /// The organisation's customers, `first` at a time (at most 100) after `after`, by code
    /// unless `sort` says otherwise; archived ones only with `filter.includeArchived`.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::CustomersView)",
        directive = requires::apply(Permission::CustomersView)
    )]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        filter: Option<PartyFilter>,
        sort: Option<PartySort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<Customer>> {
        let request = page_request(ctx, first, after)?;
        let sort = sort.unwrap_or_default();
        let page = parties::list::<customer::Entity>(
            tenant_db(ctx)?,
            &filter.unwrap_or_default().into(),
            sort.field.into(),
            sort.direction.descending(),
            &request,
        )
        .await?;
        prime_addresses(
            ctx,
            &page.rows.iter().map(|(_, row)| row).collect::<Vec<_>>(),
        )
        .await?;
        Ok(connection(&request, page, Customer::from))
    }

    /// One customer, archived or not.
    #[graphql(
        guard = "RequirePermission(Permission::CustomersView)",
        directive = requires::apply(Permission::CustomersView)
    )]
    async fn customer(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Customer> {
        Ok(parties::customer(tenant_db(ctx)?, parse_id(&id, "id")?)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct PartiesMutation;

#[Object]
impl PartiesMutation {
    /// Creates a supplier. Audited as `supplier.create`.
    #[graphql(
        guard = "RequirePermission(Permission::SuppliersManage)",
        directive = requires::apply(Permission::SuppliersManage)
    )]
    async fn create_supplier(
        &self,
        ctx: &Context<'_>,
        input: CreateSupplierInput,
    ) -> ApiResult<SupplierPayload> {
        let result = parties::create_supplier(tenant_db(ctx)?, input.into()).await;
        SupplierPayload::answer(result)
    }

    /// Replaces a supplier's code, name, contact details and address (send them all). Audited
    /// as `supplier.update`.
    #[graphql(
        guard = "RequirePermission(Permission::SuppliersManage)",
        directive = requires::apply(Permission::SuppliersManage)
    )]
    async fn update_supplier(
        &self,
        ctx: &Context<'_>,
        input: UpdateSupplierInput,
    ) -> ApiResult<SupplierPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            parties::update_supplier(tenant_db(ctx)?, id, input.details.into()).await
        }
        .await;
        SupplierPayload::answer(result)
    }

    /// Archives a supplier: new purchase orders cannot name it. Audited as `supplier.archive`.
    #[graphql(
        guard = "RequirePermission(Permission::SuppliersManage)",
        directive = requires::apply(Permission::SuppliersManage)
    )]
    async fn archive_supplier(
        &self,
        ctx: &Context<'_>,
        input: PartyIdInput,
    ) -> ApiResult<SupplierPayload> {
        let result: Result<_, AppError> = async {
            parties::set_active::<supplier::Entity>(
                tenant_db(ctx)?,
                parse_id::<entity::SupplierId>(&input.id, "id")?,
                false,
            )
            .await
        }
        .await;
        SupplierPayload::answer(result)
    }

    /// Restores an archived supplier. Audited as `supplier.restore`.
    #[graphql(
        guard = "RequirePermission(Permission::SuppliersManage)",
        directive = requires::apply(Permission::SuppliersManage)
    )]
    async fn restore_supplier(
        &self,
        ctx: &Context<'_>,
        input: PartyIdInput,
    ) -> ApiResult<SupplierPayload> {
        let result: Result<_, AppError> = async {
            parties::set_active::<supplier::Entity>(
                tenant_db(ctx)?,
                parse_id::<entity::SupplierId>(&input.id, "id")?,
                true,
            )
            .await
        }
        .await;
        SupplierPayload::answer(result)
    }

    /// Creates a customer with its first addresses, all or nothing. Audited as
    /// `customer.create`.
    #[graphql(
        guard = "RequirePermission(Permission::CustomersManage)",
        directive = requires::apply(Permission::CustomersManage)
    )]
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        input: CreateCustomerInput,
    ) -> ApiResult<CustomerPayload> {
        let addresses = input.addresses.into_iter().map(Into::into).collect();
        let result = parties::create_customer(tenant_db(ctx)?, input.details.into(), addresses)
            .await
            .map(|(customer, _)| customer);
        CustomerPayload::answer(result)
    }

    /// Replaces a customer's code, name and contact details (send them all). Audited as
    /// `customer.update`.
    #[graphql(
        guard = "RequirePermission(Permission::CustomersManage)",
        directive = requires::apply(Permission::CustomersManage)
    )]
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        input: UpdateCustomerInput,
    ) -> ApiResult<CustomerPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            parties::update_customer(tenant_db(ctx)?, id, input.details.into()).await
        }
        .await;
        CustomerPayload::answer(result)
    }

    /// Archives a customer: new sales orders cannot name it. Audited as `customer.archive`.
    #[graphql(
        guard = "RequirePermission(Permission::CustomersManage)",
        directive = requires::apply(Permission::CustomersManage)
    )]
    async fn archive_customer(
        &self,
        ctx: &Context<'_>,
        input: PartyIdInput,
    ) -> ApiResult<CustomerPayload> {
        let result: Result<_, AppError> = async {
            parties::set_active::<customer::Entity>(
                tenant_db(ctx)?,
                parse_id::<entity::CustomerId>(&input.id, "id")?,
                false,
            )
            .await
        }
        .await;
        CustomerPayload::answer(result)
    }

    /// Restores an archived customer. Audited as `customer.restore`.
    #[graphql(
        guard = "RequirePermission(Permission::CustomersManage)",
        directive = requires::apply(Permission::CustomersManage)
    )]
    async fn restore_customer(
        &self,
        ctx: &Context<'_>,
        input: PartyIdInput,
    ) -> ApiResult<CustomerPayload> {
        let result: Result<_, AppError> = async {
            parties::set_active::<customer::Entity>(
                tenant_db(ctx)?,
                parse_id::<entity::CustomerId>(&input.id, "id")?,
                true,
            )
            .await
        }
        .await;
        CustomerPayload::answer(result)
    }

    /// Adds an address to a customer (at most 50 each). Audited as `customer.address.add`.
    #[graphql(
        guard = "RequirePermission(Permission::CustomersManage)",
        directive = requires::apply(Permission::CustomersManage)
    )]
    async fn add_customer_address(
        &self,
        ctx: &Context<'_>,
        input: AddCustomerAddressInput,
    ) -> ApiResult<CustomerAddressPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.customer_id, "customerId")?;
            parties::add_customer_address(tenant_db(ctx)?, id, input.address.into()).await
        }
        .await;
        CustomerAddressPayload::answer(result)
    }

    /// Changes an address (send every field). With `makeDefault` it becomes the default of its
    /// kind; moved to the other kind, the old kind's oldest address takes its default mark.
    /// Audited as `customer.address.update`.
    #[graphql(
        guard = "RequirePermission(Permission::CustomersManage)",
        directive = requires::apply(Permission::CustomersManage)
    )]
    async fn update_customer_address(
        &self,
        ctx: &Context<'_>,
        input: UpdateCustomerAddressInput,
    ) -> ApiResult<CustomerAddressPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            parties::update_customer_address(tenant_db(ctx)?, id, input.address.into()).await
        }
        .await;
        CustomerAddressPayload::answer(result)
    }

    /// Removes an address; if it was the default of its kind, the oldest remaining address of
    /// that kind becomes the default. Returns the customer. Audited as
    /// `customer.address.remove`.
    #[graphql(
        guard = "RequirePermission(Permission::CustomersManage)",
        directive = requires::apply(Permission::CustomersManage)
    )]
    async fn remove_customer_address(
        &self,
        ctx: &Context<'_>,
        input: PartyIdInput,
    ) -> ApiResult<CustomerPayload> {
        let result: Result<_, AppError> = async {
            parties::remove_customer_address(tenant_db(ctx)?, parse_id(&input.id, "id")?).await
        }
        .await;
        CustomerPayload::answer(result)
    }
}
