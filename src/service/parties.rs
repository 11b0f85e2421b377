//! Parties: suppliers (goods come from them) and customers (goods go to them), with each
//! customer's billing and shipping addresses.
//!
//! A customer has at most one default address of each kind: the first of a kind becomes the
//! default, making another the default takes the mark from the old one in the same transaction,
//! and removing the default hands it to the oldest remaining address of that kind. The database
//! holds the rule too (a partial unique index), so concurrent changes cannot break it.

use chrono::{DateTime, Utc};
use entity::{
    AddressKind, CustomerAddressId, CustomerId, SupplierId, TenantScoped, customer,
    customer_address, supplier,
};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr, sea_query::ExprTrait,
};
use serde_json::{Value, json};

use crate::audit::AuditRecord;
use crate::error::{AppError, AppResult, on_duplicate};
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::service::text;
use crate::tenancy::{TenantDb, TenantTx};

/// Most addresses one customer may have: plenty for a customer's sites, and a bound on what one
/// customer's `addresses` field can return.
pub const MAX_ADDRESSES_PER_CUSTOMER: u64 = 50;

/// How to reach a party. Every field may be empty.
#[derive(Clone, Debug, Default)]
pub struct Contact {
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// A postal address. Every field may be empty.
#[derive(Clone, Debug, Default)]
pub struct PostalAddress {
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub postal_code: String,
    pub country: String,
}

pub struct SupplierInput {
    pub code: String,
    pub name: String,
    pub contact: Contact,
    pub address: PostalAddress,
}

pub struct CustomerInput {
    pub code: String,
    pub name: String,
    pub contact: Contact,
}

pub struct CustomerAddressInput {
    pub kind: AddressKind,
    pub label: String,
    pub address: PostalAddress,
    /// Make it the default of its kind (the first of a kind always is).
    pub make_default: bool,
}

/// What a party list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct PartyFilter {
    /// Code, name or contact email, case-insensitive, partial.
    pub search: Option<String>,
    pub include_archived: bool,
}

/// What party lists may be ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PartyOrder {
    #[default]
    Code,
    Name,
    /// Creation order (ids are time-ordered).
    Created,
}

/// Checked codes, names and contact details, shared by suppliers and customers.
struct CheckedParty {
    code: String,
    name: String,
    contact: Contact,
}

fn check_party(code: &str, name: &str, contact: &Contact) -> AppResult<CheckedParty> {
    let email = contact.email.trim();
    Ok(CheckedParty {
        code: text::single_line("code", code, 32)?,
        name: text::single_line("name", name, 200)?,
        contact: Contact {
            name: text::multi_line("contactName", &contact.name, 200)?,
            email: if email.is_empty() {
                String::new()
            } else {
                text::email("email", email)?
            },
            phone: phone(&contact.phone)?,
        },
    })
}

/// A phone number as people write them: digits, spaces and `+ - ( ) .`, at most 32 characters.
fn phone(value: &str) -> AppResult<String> {
    let value = value.trim();
    let plain = value.chars().count() <= 32
        && value
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !plain {
        return Err(AppError::bad_input(
            "phone",
            "phone must be at most 32 of digits, spaces and + - ( ) .",
        ));
    }
    Ok(value.to_owned())
}

fn check_address(address: &PostalAddress) -> AppResult<PostalAddress> {
    Ok(PostalAddress {
        line1: text::multi_line("addressLine1", &address.line1, 200)?,
        line2: text::multi_line("addressLine2", &address.line2, 200)?,
        city: text::multi_line("city", &address.city, 100)?,
        postal_code: text::multi_line("postalCode", &address.postal_code, 20)?,
        country: text::multi_line("country", &address.country, 60)?,
    })
}

fn code_used<P: PartyTable>(code: &str) -> String
where
    P::Model: Sync,
{
    format!("{} code {code} is already used", P::KIND)
}

/// CONFLICT if a party of this kind other than `except` already has `code`. The unique index
/// stands behind this check for requests that pass it together.
async fn ensure_code_free<P: PartyTable>(
    tx: &TenantTx,
    code: &str,
    except: Option<sea_orm::Value>,
) -> AppResult<()>
where
    P::Model: Sync,
{
    let mut query = P::find().filter(P::CODE.eq(code));
    if let Some(id) = except {
        query = query.filter(P::ID.ne(id));
    }
    if tx.count(query).await? > 0 {
        return Err(AppError::Conflict(code_used::<P>(code)));
    }
    Ok(())
}

fn supplier_view(s: &supplier::Model) -> Value {
    json!({
        "code": s.code, "name": s.name, "contactName": s.contact_name, "email": s.email,
        "phone": s.phone, "addressLine1": s.address_line1, "addressLine2": s.address_line2,
        "city": s.city, "postalCode": s.postal_code, "country": s.country, "active": s.is_active,
    })
}

fn customer_view(c: &customer::Model) -> Value {
    json!({
        "code": c.code, "name": c.name, "contactName": c.contact_name, "email": c.email,
        "phone": c.phone, "active": c.is_active,
    })
}

fn address_view(a: &customer_address::Model) -> Value {
    json!({
        "kind": a.kind.to_value(), "default": a.is_default, "label": a.label,
        "addressLine1": a.address_line1, "addressLine2": a.address_line2, "city": a.city,
        "postalCode": a.postal_code, "country": a.country,
    })
}

// ---- what suppliers and customers share -----------------------------------------------------

/// A table of parties: suppliers and customers are listed, archived and restored alike.
pub trait PartyTable: TenantScoped + Default
where
    Self::Model: Sync,
{
    /// As the audit log and error messages name it.
    const KIND: &'static str;
    const ID: Self::Column;
    const CODE: Self::Column;
    const NAME: Self::Column;
    const EMAIL: Self::Column;
    const IS_ACTIVE: Self::Column;
    const UPDATED_AT: Self::Column;
    const ARCHIVE: &'static str;
    const RESTORE: &'static str;

    fn is_active(model: &Self::Model) -> bool;
    fn with_active(model: Self::Model, active: bool, at: DateTime<Utc>) -> Self::Model;
}

impl PartyTable for supplier::Entity {
    const KIND: &'static str = "supplier";
    const ID: supplier::Column = supplier::Column::Id;
    const CODE: supplier::Column = supplier::Column::Code;
    const NAME: supplier::Column = supplier::Column::Name;
    const EMAIL: supplier::Column = supplier::Column::Email;
    const IS_ACTIVE: supplier::Column = supplier::Column::IsActive;
    const UPDATED_AT: supplier::Column = supplier::Column::UpdatedAt;
    const ARCHIVE: &'static str = "supplier.archive";
    const RESTORE: &'static str = "supplier.restore";

    fn is_active(model: &supplier::Model) -> bool {
        model.is_active
    }
    fn with_active(model: supplier::Model, active: bool, at: DateTime<Utc>) -> supplier::Model {
        supplier::Model {
            is_active: active,
            updated_at: at,
            ..model
        }
    }
}

impl PartyTable for customer::Entity {
    const KIND: &'static str = "customer";
    const ID: customer::Column = customer::Column::Id;
    const CODE: customer::Column = customer::Column::Code;
    const NAME: customer::Column = customer::Column::Name;
    const EMAIL: customer::Column = customer::Column::Email;
    const IS_ACTIVE: customer::Column = customer::Column::IsActive;
    const UPDATED_AT: customer::Column = customer::Column::UpdatedAt;
    const ARCHIVE: &'static str = "customer.archive";
    const RESTORE: &'static str = "customer.restore";

    fn is_active(model: &customer::Model) -> bool {
        model.is_active
    }
    fn with_active(model: customer::Model, active: bool, at: DateTime<Utc>) -> customer::Model {
        customer::Model {
            is_active: active,
            updated_at: at,
            ..model
        }
    }
}

/// Archives or restores a supplier or customer. An archived party stays on what already names
/// it, but new orders cannot name it. Archiving what is archived changes and records nothing.
pub async fn set_active<P>(
    db: &TenantDb,
    id: impl Into<sea_orm::Value> + ToString + Copy,
    active: bool,
) -> AppResult<P::Model>
where
    P: PartyTable,
    P::Model: Sync,
{
    let mut tx = db.write().await?;
    let before = tx
        .one(P::find().filter(P::ID.eq(id)).lock_exclusive())
        .await?
        .ok_or(AppError::NotFound { entity: P::KIND })?;
    if P::is_active(&before) == active {
        return Ok(before);
    }
    let now = Utc::now();
    let after = P::with_active(before, active, now);
    tx.update_many(
        P::update_many()
            .col_expr(P::IS_ACTIVE, Expr::value(active))
            .col_expr(P::UPDATED_AT, Expr::value(now))
            .filter(P::ID.eq(id)),
    )
    .await?;
    let action = if active { P::RESTORE } else { P::ARCHIVE };
    tx.record(
        AuditRecord::new(action, P::KIND, id)
            .with_change(json!({ "active": !active }), json!({ "active": active })),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A page of the organisation's suppliers or customers.
pub async fn list<P>(
    db: &TenantDb,
    filter: &PartyFilter,
    order: PartyOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<P::Model>>
where
    P: PartyTable,
    P::Model: Sync,
{
    let mut query = P::find();
    if !filter.include_archived {
        query = query.filter(P::IS_ACTIVE.eq(true));
    }
    if let Some(pattern) = text::search_pattern(filter.search.as_deref())? {
        query = query.filter(
            Condition::any()
                .add(text::lower(P::CODE).like(pattern.clone()))
                .add(text::lower(P::NAME).like(pattern.clone()))
                .add(text::lower(P::EMAIL).like(pattern)),
        );
    }
    let columns = match order {
        PartyOrder::Code => vec![P::CODE, P::ID],
        PartyOrder::Name => vec![P::NAME, P::ID],
        PartyOrder::Created => vec![P::ID],
    };
    let tx = db.read().await?;
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}

// ---- suppliers -------------------------------------------------------------------------------

pub async fn create_supplier(db: &TenantDb, input: SupplierInput) -> AppResult<supplier::Model> {
    let party = check_party(&input.code, &input.name, &input.contact)?;
    let address = check_address(&input.address)?;
    let mut tx = db.write().await?;
    ensure_code_free::<supplier::Entity>(&tx, &party.code, None).await?;
    let now = Utc::now();
    let code = party.code.clone();
    let created = tx
        .insert(supplier::ActiveModel {
            id: Set(SupplierId::generate()),
            tenant_id: Set(tx.tenant()),
            code: Set(party.code),
            name: Set(party.name),
            contact_name: Set(party.contact.name),
            email: Set(party.contact.email),
            phone: Set(party.contact.phone),
            address_line1: Set(address.line1),
            address_line2: Set(address.line2),
            city: Set(address.city),
            postal_code: Set(address.postal_code),
            country: Set(address.country),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await
        .map_err(on_duplicate(|| code_used::<supplier::Entity>(&code)))?;
    tx.record(
        AuditRecord::new("supplier.create", "supplier", created.id)
            .with_change(json!(null), supplier_view(&created)),
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// Replaces a supplier's code, name, contact details and address.
pub async fn update_supplier(
    db: &TenantDb,
    id: SupplierId,
    input: SupplierInput,
) -> AppResult<supplier::Model> {
    let party = check_party(&input.code, &input.name, &input.contact)?;
    let address = check_address(&input.address)?;
    let mut tx = db.write().await?;
    let before = tx
        .one(supplier::Entity::find_by_id(id).lock_exclusive())
        .await?
        .ok_or(AppError::NotFound { entity: "supplier" })?;
    ensure_code_free::<supplier::Entity>(&tx, &party.code, Some(id.into())).await?;
    let after = supplier::Model {
        code: party.code,
        name: party.name,
        contact_name: party.contact.name,
        email: party.contact.email,
        phone: party.contact.phone,
        address_line1: address.line1,
        address_line2: address.line2,
        city: address.city,
        postal_code: address.postal_code,
        country: address.country,
        updated_at: Utc::now(),
        ..before.clone()
    };
    if supplier_view(&after) == supplier_view(&before) {
        // Nothing changes, so nothing is written or recorded: a retried update is a no-op.
        return Ok(before);
    }
    tx.update_many(
        supplier::Entity::update_many()
            .set(supplier::ActiveModel {
                code: Set(after.code.clone()),
                name: Set(after.name.clone()),
                contact_name: Set(after.contact_name.clone()),
                email: Set(after.email.clone()),
                phone: Set(after.phone.clone()),
                address_line1: Set(after.address_line1.clone()),
                address_line2: Set(after.address_line2.clone()),
                city: Set(after.city.clone()),
                postal_code: Set(after.postal_code.clone()),
                country: Set(after.country.clone()),
                updated_at: Set(after.updated_at),
                ..Default::default()
            })
            .filter(supplier::Column::Id.eq(id)),
    )
    .await
    .map_err(on_duplicate(|| code_used::<supplier::Entity>(&after.code)))?;
    tx.record(
        AuditRecord::new("supplier.update", "supplier", id)
            .with_change(supplier_view(&before), supplier_view(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// One supplier, archived or not.
pub async fn supplier(db: &TenantDb, id: SupplierId) -> AppResult<supplier::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<supplier::Entity>(id)
        .await?
        .ok_or(AppError::NotFound { entity: "supplier" })
}

// ---- customers -------------------------------------------------------------------------------

/// Creates a customer with its first addresses, all or nothing.
pub async fn create_customer(
    db: &TenantDb,
    input: CustomerInput,
    addresses: Vec<CustomerAddressInput>,
) -> AppResult<(customer::Model, Vec<customer_address::Model>)> {
    let party = check_party(&input.code, &input.name, &input.contact)?;
    if addresses.len() as u64 > MAX_ADDRESSES_PER_CUSTOMER {
        return Err(AppError::bad_input(
            "addresses",
            format!("a customer has at most {MAX_ADDRESSES_PER_CUSTOMER} addresses"),
        ));
    }
    let mut checked = Vec::with_capacity(addresses.len());
    for address in &addresses {
        checked.push(check_address_input(address)?);
    }
    let mut tx = db.write().await?;
    ensure_code_free::<customer::Entity>(&tx, &party.code, None).await?;
    let now = Utc::now();
    let code = party.code.clone();
    let created = tx
        .insert(customer::ActiveModel {
            id: Set(CustomerId::generate()),
            tenant_id: Set(tx.tenant()),
            code: Set(party.code),
            name: Set(party.name),
            contact_name: Set(party.contact.name),
            email: Set(party.contact.email),
            phone: Set(party.contact.phone),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await
        .map_err(on_duplicate(|| code_used::<customer::Entity>(&code)))?;
    let mut stored: Vec<customer_address::Model> = Vec::with_capacity(checked.len());
    for (index, address) in checked.into_iter().enumerate() {
        // The first of a kind, or the last of a kind asked to be the default, holds the mark.
        let later_default = addresses[index + 1..]
            .iter()
            .any(|other| other.kind == address.kind && other.make_default);
        let first_of_kind = !stored.iter().any(|a| a.kind == address.kind);
        let is_default = !later_default && (address.make_default || first_of_kind);
        if is_default {
            clear_default(&mut tx, created.id, address.kind).await?;
            for earlier in stored.iter_mut().filter(|a| a.kind == address.kind) {
                earlier.is_default = false;
            }
        }
        stored.push(insert_address(&mut tx, created.id, address, is_default, now).await?);
    }
    tx.record(
        AuditRecord::new("customer.create", "customer", created.id).with_change(
            json!(null),
            json!({
                "customer": customer_view(&created),
                "addresses": stored.iter().map(address_view).collect::<Vec<_>>(),
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((created, stored))
}

struct CheckedAddress {
    kind: AddressKind,
    label: String,
    address: PostalAddress,
    make_default: bool,
}

fn check_address_input(input: &CustomerAddressInput) -> AppResult<CheckedAddress> {
    Ok(CheckedAddress {
        kind: input.kind,
        label: text::multi_line("label", &input.label, 100)?,
        address: check_address(&input.address)?,
        make_default: input.make_default,
    })
}

async fn insert_address(
    tx: &mut TenantTx,
    customer_id: CustomerId,
    address: CheckedAddress,
    is_default: bool,
    now: chrono::DateTime<Utc>,
) -> AppResult<customer_address::Model> {
    Ok(tx
        .insert(customer_address::ActiveModel {
            id: Set(CustomerAddressId::generate()),
            tenant_id: Set(tx.tenant()),
            customer_id: Set(customer_id),
            kind: Set(address.kind),
            is_default: Set(is_default),
            label: Set(address.label),
            address_line1: Set(address.address.line1),
            address_line2: Set(address.address.line2),
            city: Set(address.address.city),
            postal_code: Set(address.address.postal_code),
            country: Set(address.address.country),
            created_at: Set(now),
        })
        .await?)
}

/// Takes the default mark off the customer's address of `kind` that holds it, if any.
async fn clear_default(
    tx: &mut TenantTx,
    customer_id: CustomerId,
    kind: AddressKind,
) -> AppResult<()> {
    tx.update_many(
        customer_address::Entity::update_many()
            .col_expr(customer_address::Column::IsDefault, Expr::value(false))
            .filter(customer_address::Column::CustomerId.eq(customer_id))
            .filter(customer_address::Column::Kind.eq(kind))
            .filter(customer_address::Column::IsDefault.eq(true)),
    )
    .await?;
    Ok(())
}

/// Replaces a customer's code, name and contact details (its addresses change on their own).
pub async fn update_customer(
    db: &TenantDb,
    id: CustomerId,
    input: CustomerInput,
) -> AppResult<customer::Model> {
    let party = check_party(&input.code, &input.name, &input.contact)?;
    let mut tx = db.write().await?;
    let before = lock_customer(&mut tx, id).await?;
    ensure_code_free::<customer::Entity>(&tx, &party.code, Some(id.into())).await?;
    let after = customer::Model {
        code: party.code,
        name: party.name,
        contact_name: party.contact.name,
        email: party.contact.email,
        phone: party.contact.phone,
        updated_at: Utc::now(),
        ..before.clone()
    };
    if customer_view(&after) == customer_view(&before) {
        return Ok(before);
    }
    tx.update_many(
        customer::Entity::update_many()
            .set(customer::ActiveModel {
                code: Set(after.code.clone()),
                name: Set(after.name.clone()),
                contact_name: Set(after.contact_name.clone()),
                email: Set(after.email.clone()),
                phone: Set(after.phone.clone()),
                updated_at: Set(after.updated_at),
                ..Default::default()
            })
            .filter(customer::Column::Id.eq(id)),
    )
    .await
    .map_err(on_duplicate(|| code_used::<customer::Entity>(&after.code)))?;
    tx.record(
        AuditRecord::new("customer.update", "customer", id)
            .with_change(customer_view(&before), customer_view(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// The customer, locked against concurrent changes to it and its addresses.
async fn lock_customer(tx: &mut TenantTx, id: CustomerId) -> AppResult<customer::Model> {
    tx.one(customer::Entity::find_by_id(id).lock_exclusive())
        .await?
        .ok_or(AppError::NotFound { entity: "customer" })
}

/// One customer, archived or not.
pub async fn customer(db: &TenantDb, id: CustomerId) -> AppResult<customer::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<customer::Entity>(id)
        .await?
        .ok_or(AppError::NotFound { entity: "customer" })
}

// ---- customer addresses ----------------------------------------------------------------------

/// The addresses of these customers, defaults first within each kind, then oldest first.
pub async fn addresses_of(
    db: &TenantDb,
    customers: &[CustomerId],
) -> AppResult<Vec<customer_address::Model>> {
    let tx = db.read().await?;
    Ok(tx
        .all(
            customer_address::Entity::find()
                .filter(customer_address::Column::CustomerId.is_in(customers.iter().copied()))
                .order_by_asc(customer_address::Column::CustomerId)
                .order_by_asc(customer_address::Column::Kind)
                .order_by_desc(customer_address::Column::IsDefault)
                .order_by_asc(customer_address::Column::Id),
        )
        .await?)
}

/// Adds an address to a customer.
pub async fn add_customer_address(
    db: &TenantDb,
    customer_id: CustomerId,
    input: CustomerAddressInput,
) -> AppResult<customer_address::Model> {
    let address = check_address_input(&input)?;
    let mut tx = db.write().await?;
    let customer = lock_customer(&mut tx, customer_id).await?;
    let existing = tx
        .all(
            customer_address::Entity::find()
                .filter(customer_address::Column::CustomerId.eq(customer_id)),
        )
        .await?;
    if existing.len() as u64 >= MAX_ADDRESSES_PER_CUSTOMER {
        return Err(AppError::Conflict(format!(
            "customer {} already has {MAX_ADDRESSES_PER_CUSTOMER} addresses, the most allowed",
            customer.code
        )));
    }
    let first_of_kind = !existing.iter().any(|a| a.kind == address.kind);
    let is_default = address.make_default || first_of_kind;
    if is_default {
        clear_default(&mut tx, customer_id, address.kind).await?;
    }
    let created = insert_address(&mut tx, customer_id, address, is_default, Utc::now()).await?;
    tx.record(
        AuditRecord::new("customer.address.add", "customer", customer_id)
            .with_change(json!(null), address_view(&created)),
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// Replaces an address's kind, label and lines; `make_default` makes it the default of its kind
/// (an address stops being the default only when another takes the mark or it is removed).
pub async fn update_customer_address(
    db: &TenantDb,
    id: CustomerAddressId,
    input: CustomerAddressInput,
) -> AppResult<customer_address::Model> {
    let address = check_address_input(&input)?;
    let mut tx = db.write().await?;
    let (before, _) = locked_address(&mut tx, id).await?;
    let kind_changes = before.kind != address.kind;
    let siblings = tx
        .all(
            customer_address::Entity::find()
                .filter(customer_address::Column::CustomerId.eq(before.customer_id))
                .filter(customer_address::Column::Id.ne(id))
                .order_by_asc(customer_address::Column::Id),
        )
        .await?;
    let first_of_new_kind = !siblings.iter().any(|a| a.kind == address.kind);
    // Already the default of the kind it stays in: it keeps the mark and nothing moves.
    let keeps_mark = before.is_default && !kind_changes;
    let is_default = address.make_default || first_of_new_kind || keeps_mark;
    if is_default && !keeps_mark {
        clear_default(&mut tx, before.customer_id, address.kind).await?;
    }
    let after = customer_address::Model {
        kind: address.kind,
        is_default,
        label: address.label,
        address_line1: address.address.line1,
        address_line2: address.address.line2,
        city: address.address.city,
        postal_code: address.address.postal_code,
        country: address.address.country,
        ..before.clone()
    };
    if address_view(&after) == address_view(&before) {
        return Ok(before);
    }
    tx.update_many(
        customer_address::Entity::update_many()
            .set(customer_address::ActiveModel {
                kind: Set(after.kind),
                is_default: Set(after.is_default),
                label: Set(after.label.clone()),
                address_line1: Set(after.address_line1.clone()),
                address_line2: Set(after.address_line2.clone()),
                city: Set(after.city.clone()),
                postal_code: Set(after.postal_code.clone()),
                country: Set(after.country.clone()),
                ..Default::default()
            })
            .filter(customer_address::Column::Id.eq(id)),
    )
    .await?;
    if kind_changes && before.is_default {
        // The old kind keeps a default: its oldest other address takes the mark (after this
        // one has left the kind, so the two never hold it at once).
        hand_default_on(&mut tx, &siblings, before.kind).await?;
    }
    tx.record(
        AuditRecord::new("customer.address.update", "customer", before.customer_id)
            .with_change(address_view(&before), address_view(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Removes an address. If it was the default of its kind, the oldest remaining address of that
/// kind becomes the default. Orders keep their own copy of the address they ship to.
pub async fn remove_customer_address(
    db: &TenantDb,
    id: CustomerAddressId,
) -> AppResult<customer::Model> {
    let mut tx = db.write().await?;
    let (before, customer) = locked_address(&mut tx, id).await?;
    tx.delete_many(
        customer_address::Entity::delete_many().filter(customer_address::Column::Id.eq(id)),
    )
    .await?;
    if before.is_default {
        let siblings = tx
            .all(
                customer_address::Entity::find()
                    .filter(customer_address::Column::CustomerId.eq(before.customer_id))
                    .order_by_asc(customer_address::Column::Id),
            )
            .await?;
        hand_default_on(&mut tx, &siblings, before.kind).await?;
    }
    tx.record(
        AuditRecord::new("customer.address.remove", "customer", before.customer_id)
            .with_change(address_view(&before), json!(null)),
    )
    .await?;
    tx.commit().await?;
    Ok(customer)
}

/// The address as it is once its customer is locked, and that customer. Read before the lock, its default mark may
/// already have passed to another address, and acting on that stale mark broke the one-default
/// rule under parallel requests (caught by the PostgreSQL race test).
async fn locked_address(
    tx: &mut TenantTx,
    id: CustomerAddressId,
) -> AppResult<(customer_address::Model, customer::Model)> {
    let unlocked = find_address(tx, id).await?;
    let customer = lock_customer(tx, unlocked.customer_id).await?;
    Ok((find_address(tx, id).await?, customer))
}

async fn find_address(tx: &TenantTx, id: CustomerAddressId) -> AppResult<customer_address::Model> {
    tx.find_by_id::<customer_address::Entity>(id)
        .await?
        .ok_or(AppError::NotFound {
            entity: "customer address",
        })
}

/// Makes the oldest of `others` of `kind` the default (they are in id order, oldest first).
async fn hand_default_on(
    tx: &mut TenantTx,
    others: &[customer_address::Model],
    kind: AddressKind,
) -> AppResult<()> {
    if let Some(heir) = others.iter().find(|a| a.kind == kind) {
        tx.update_many(
            customer_address::Entity::update_many()
                .col_expr(customer_address::Column::IsDefault, Expr::value(true))
                .filter(customer_address::Column::Id.eq(heir.id)),
        )
        .await?;
    }
    Ok(())
}
