//! Products: the catalogue.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::product;

use super::loaders::{BalancesOf, Loaders};
use super::stock::StockBalance;
use super::{
    ApiResult, ListConnection, Payload, SortDirection, connection, global_id, page_request,
    parse_id, payload, tenant_db,
};
use crate::auth::guard::{RequirePermission, may_see, requires};
use crate::auth::permission::Permission;
use crate::error::AppError;
use crate::service::catalogue;

/// Something stored and sold, counted in whole base units.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Product {
    pub(crate) id: ID,
    sku: String,
    name: String,
    description: String,
    base_unit: String,
    /// How its units are told apart: NONE, LOT or SERIAL.
    tracking: TrackingMode,
    expiry_required: bool,
    reorder_point: i64,
    reorder_quantity: i64,
    weight_grams: Option<i64>,
    length_mm: Option<i64>,
    width_mm: Option<i64>,
    height_mm: Option<i64>,
    active: bool,
    created_at: chrono::DateTime<chrono::Utc>,
    #[graphql(skip)]
    product_id: entity::ProductId,
}

/// How a product's units are told apart.
#[derive(Enum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TrackingMode {
    /// Units are interchangeable.
    #[default]
    None,
    /// Units belong to lots (batches), each with an optional expiry date; stock names its lot.
    Lot,
    /// Each unit has its own serial number, in stock at most once.
    Serial,
}

impl From<entity::Tracking> for TrackingMode {
    fn from(tracking: entity::Tracking) -> Self {
        match tracking {
            entity::Tracking::None => Self::None,
            entity::Tracking::Lot => Self::Lot,
            entity::Tracking::Serial => Self::Serial,
        }
    }
}

impl From<TrackingMode> for entity::Tracking {
    fn from(tracking: TrackingMode) -> Self {
        match tracking {
            TrackingMode::None => Self::None,
            TrackingMode::Lot => Self::Lot,
            TrackingMode::Serial => Self::Serial,
        }
    }
}

/// A pack or case: how many base units one holds.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "PackUnitInput")]
pub struct PackUnit {
    /// e.g. "case", "pallet".
    name: String,
    base_quantity: i64,
}

impl From<product::Model> for Product {
    fn from(model: product::Model) -> Self {
        Self {
            id: global_id(model.id),
            product_id: model.id,
            sku: model.sku,
            name: model.name,
            description: model.description,
            base_unit: model.base_unit,
            tracking: model.tracking.into(),
            expiry_required: model.expiry_required,
            reorder_point: model.reorder_point,
            reorder_quantity: model.reorder_quantity,
            weight_grams: model.weight_grams,
            length_mm: model.length_mm,
            width_mm: model.width_mm,
            height_mm: model.height_mm,
            active: model.is_active,
            created_at: model.created_at,
        }
    }
}

#[ComplexObject]
impl Product {
    /// The product's barcodes, each unique in the organisation.
    async fn barcodes(&self, ctx: &Context<'_>) -> ApiResult<Vec<String>> {
        let loader = &Loaders::of(ctx)?.barcodes;
        Ok(loader.load_one(self.product_id).await?.unwrap_or_default())
    }

    /// Pack and case conversions.
    async fn units(&self, ctx: &Context<'_>) -> ApiResult<Vec<PackUnit>> {
        let loader = &Loaders::of(ctx)?.units;
        Ok(loader
            .load_one(self.product_id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|u| PackUnit {
                name: u.name,
                base_quantity: u.base_quantity,
            })
            .collect())
    }

    /// The product's stock over every location and lot; null (with a FORBIDDEN error) without
    /// STOCK_VIEW.
    #[graphql(directive = requires::apply(Permission::StockView))]
    async fn stock(&self, ctx: &Context<'_>) -> ApiResult<Option<ProductStock>> {
        if !may_see(ctx, Permission::StockView) {
            return Ok(None);
        }
        let loader = &Loaders::of(ctx)?.stock_totals;
        let total = loader.load_one(self.product_id).await?.unwrap_or_default();
        Ok(Some(ProductStock {
            on_hand: total.on_hand,
            reserved: total.reserved,
            available: total.on_hand - total.reserved,
            below_reorder_point: total.on_hand - total.reserved < self.reorder_point,
        }))
    }

    /// The product's stock per location (and lot): at most `first` balances (1 to 100, default
    /// 5), in the locations' creation order, then by lot; balances that fell to zero only with
    /// `includeEmpty`. A page's products are read together, with their locations, in one query.
    /// Null (with a FORBIDDEN error) without STOCK_VIEW.
    #[graphql(
        complexity = "super::nested_list_complexity(first, child_complexity)",
        directive = requires::apply(Permission::StockView)
    )]
    async fn balances(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5)] first: i32,
        #[graphql(default)] include_empty: bool,
    ) -> ApiResult<Option<Vec<StockBalance>>> {
        if !may_see(ctx, Permission::StockView) {
            return Ok(None);
        }
        let key = BalancesOf {
            product: self.product_id,
            first: super::page_size(Some(first))?,
            include_empty,
        };
        let balances = Loaders::of(ctx)?
            .balances
            .load_one(key)
            .await?
            .unwrap_or_default();
        Ok(Some(
            balances.into_iter().map(StockBalance::located).collect(),
        ))
    }
}

/// How many balances `Product.balances` lists per product unless `first` says otherwise (the
/// field's `#[graphql(default)]` must say the same: the macro takes only a literal).
const DEFAULT_BALANCES_PER_PRODUCT: i32 = 5;

/// A product's stock summed over its locations.
#[derive(SimpleObject)]
pub struct ProductStock {
    on_hand: i64,
    reserved: i64,
    /// On hand minus reserved.
    available: i64,
    /// Available is below the product's reorder point.
    below_reorder_point: bool,
}

/// A new product's details (and, with its id, an update's).
#[derive(InputObject)]
pub struct CreateProductInput {
    sku: String,
    name: String,
    #[graphql(default)]
    description: String,
    #[graphql(default_with = "String::from(\"each\")")]
    base_unit: String,
    /// NONE (default), LOT or SERIAL; fixed once the product has stock history.
    #[graphql(default)]
    tracking: TrackingMode,
    #[graphql(default)]
    expiry_required: bool,
    #[graphql(default)]
    reorder_point: i64,
    #[graphql(default)]
    reorder_quantity: i64,
    #[graphql(default)]
    barcodes: Vec<String>,
    weight_grams: Option<i64>,
    length_mm: Option<i64>,
    width_mm: Option<i64>,
    height_mm: Option<i64>,
    #[graphql(default)]
    units: Vec<PackUnit>,
}

impl From<CreateProductInput> for catalogue::ProductInput {
    fn from(input: CreateProductInput) -> Self {
        Self {
            sku: input.sku,
            name: input.name,
            description: input.description,
            base_unit: input.base_unit,
            tracking: input.tracking.into(),
            expiry_required: input.expiry_required,
            reorder_point: input.reorder_point,
            reorder_quantity: input.reorder_quantity,
            barcodes: input.barcodes,
            weight_grams: input.weight_grams,
            length_mm: input.length_mm,
            width_mm: input.width_mm,
            height_mm: input.height_mm,
            units: input
                .units
                .into_iter()
                .map(|u| (u.name, u.base_quantity))
                .collect(),
        }
    }
}

/// What the product list may be narrowed to.
#[derive(InputObject, Default)]
pub struct ProductFilter {
    /// Matches SKU or name (case-insensitive, partial) or a whole barcode.
    search: Option<String>,
    #[graphql(default)]
    include_archived: bool,
    /// Only products whose available stock is below their reorder point (needs STOCK_VIEW).
    #[graphql(default)]
    below_reorder_point: bool,
    /// Only products tracked this way.
    tracking: Option<TrackingMode>,
}

/// What the product list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProductSortField {
    #[default]
    Sku,
    Name,
    /// Creation order.
    CreatedAt,
}

impl From<ProductSortField> for catalogue::ProductOrder {
    fn from(field: ProductSortField) -> Self {
        match field {
            ProductSortField::Sku => Self::Sku,
            ProductSortField::Name => Self::Name,
            ProductSortField::CreatedAt => Self::Created,
        }
    }
}

/// The product list's order.
#[derive(InputObject, Default)]
pub struct ProductSort {
    #[graphql(default)]
    field: ProductSortField,
    #[graphql(default)]
    direction: SortDirection,
}

/// Changes a product: its id and all its details (send them all).
#[derive(InputObject)]
pub struct UpdateProductInput {
    id: ID,
    #[graphql(flatten)]
    details: CreateProductInput,
}

/// Names the product to archive.
#[derive(InputObject)]
pub struct ArchiveProductInput {
    id: ID,
}

/// Names the archived product to restore.
#[derive(InputObject)]
pub struct RestoreProductInput {
    id: ID,
}

payload!(
    /// What a product mutation returns.
    ProductPayload,
    product: Product
);

/// Loads the relations the document asks for, for the whole page at once, so each costs one
/// query however long the page (the loaders alone would batch by timing, not by page).
async fn prime_loaders(ctx: &Context<'_>, products: &[&product::Model]) -> ApiResult<()> {
    // A page is read through `edges { node }` or `nodes`, or both.
    let look_ahead = ctx.look_ahead();
    let (edge_node, node) = (
        look_ahead.field("edges").field("node"),
        look_ahead.field("nodes"),
    );
    let asks = |field: &str| edge_node.field(field).exists() || node.field(field).exists();
    let ids: Vec<entity::ProductId> = products.iter().map(|p| p.id).collect();
    let loaders = Loaders::of(ctx)?;
    if asks("barcodes") {
        loaders
            .prime(&loaders.barcodes, ids.iter().copied())
            .await?;
    }
    if asks("units") {
        loaders.prime(&loaders.units, ids.iter().copied()).await?;
    }
    let may_see_stock = super::signed_in(ctx)
        .is_ok_and(|caller| caller.permissions.contains(Permission::StockView));
    if asks("balances") && may_see_stock {
        // One key per product for each distinct way the document asks (aliases may differ);
        // arguments that do not parse are left for the field itself to report.
        let mut ways = Vec::new();
        for field in edge_node
            .field("balances")
            .selection_fields()
            .into_iter()
            .chain(node.field("balances").selection_fields())
        {
            if let Some(way) = balances_arguments(&field)
                && !ways.contains(&way)
            {
                ways.push(way);
            }
        }
        let mut keys = Vec::with_capacity(ways.len() * ids.len());
        for &(first, include_empty) in &ways {
            keys.extend(ids.iter().map(|&product| BalancesOf {
                product,
                first,
                include_empty,
            }));
        }
        loaders.prime(&loaders.balances, keys).await?;
    }
    if asks("stock") && may_see_stock {
        loaders.prime(&loaders.stock_totals, ids).await?;
    }
    Ok(())
}

/// `first` and `includeEmpty` of one `balances` selection, as its resolver will read them.
fn balances_arguments(field: &async_graphql::SelectionField<'_>) -> Option<(u64, bool)> {
    let mut first = DEFAULT_BALANCES_PER_PRODUCT;
    let mut include_empty = false;
    for (name, value) in field.arguments().ok()? {
        match (name.as_str(), value) {
            ("first", async_graphql::Value::Number(n)) => {
                first = i32::try_from(n.as_i64()?).ok()?
            }
            ("includeEmpty", async_graphql::Value::Boolean(b)) => include_empty = b,
            _ => return None,
        }
    }
    Some((super::page_size(Some(first)).ok()?, include_empty))
}

#[derive(Default)]
pub struct CatalogueQuery;

#[Object]
impl CatalogueQuery {
    /// The catalogue, `first` at a time (at most 100) after the cursor `after`, by SKU unless
    /// `sort` says otherwise; archived products only with `filter.includeArchived`.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::ProductsView)",
        directive = requires::apply(Permission::ProductsView)
    )]
    async fn products(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProductFilter>,
        sort: Option<ProductSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<Product>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        if filter.below_reorder_point {
            // The filter compares stock with the reorder point: with PRODUCTS_EDIT, moving a
            // reorder point and filtering again would read the exact stock.
            super::signed_in(ctx)?.require(Permission::StockView)?;
        }
        let sort = sort.unwrap_or_default();
        let page = catalogue::page(
            tenant_db(ctx)?,
            &catalogue::ProductFilter {
                search: filter.search,
                include_archived: filter.include_archived,
                below_reorder_point: filter.below_reorder_point,
                tracking: filter.tracking.map(Into::into),
            },
            sort.field.into(),
            sort.direction.descending(),
            &request,
        )
        .await?;
        let models: Vec<&product::Model> = page.rows.iter().map(|(_, p)| p).collect();
        prime_loaders(ctx, &models).await?;
        Ok(connection(&request, page, Product::from))
    }

    /// One product.
    #[graphql(
        guard = "RequirePermission(Permission::ProductsView)",
        directive = requires::apply(Permission::ProductsView)
    )]
    async fn product(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Product> {
        Ok(catalogue::get(tenant_db(ctx)?, parse_id(&id, "id")?)
            .await?
            .into())
    }

    /// The product with this barcode.
    #[graphql(
        guard = "RequirePermission(Permission::ProductsView)",
        directive = requires::apply(Permission::ProductsView)
    )]
    async fn product_by_barcode(&self, ctx: &Context<'_>, barcode: String) -> ApiResult<Product> {
        Ok(catalogue::by_barcode(tenant_db(ctx)?, &barcode)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct CatalogueMutation;

#[Object]
impl CatalogueMutation {
    /// Creates a product. Audited as `product.create`.
    #[graphql(
        guard = "RequirePermission(Permission::ProductsCreate)",
        directive = requires::apply(Permission::ProductsCreate)
    )]
    async fn create_product(
        &self,
        ctx: &Context<'_>,
        input: CreateProductInput,
    ) -> ApiResult<ProductPayload> {
        let result = catalogue::create(tenant_db(ctx)?, input.into()).await;
        ProductPayload::answer(result)
    }

    /// Replaces a product's details, barcodes and pack conversions (send them all). The tracking
    /// mode cannot change once the product has stock history. Audited as `product.update`.
    #[graphql(
        guard = "RequirePermission(Permission::ProductsEdit)",
        directive = requires::apply(Permission::ProductsEdit)
    )]
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        input: UpdateProductInput,
    ) -> ApiResult<ProductPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            catalogue::update(tenant_db(ctx)?, id, input.details.into()).await
        }
        .await;
        ProductPayload::answer(result)
    }

    /// Archives a product: it stays in history but leaves lists and cannot be received.
    #[graphql(
        guard = "RequirePermission(Permission::ProductsArchive)",
        directive = requires::apply(Permission::ProductsArchive)
    )]
    async fn archive_product(
        &self,
        ctx: &Context<'_>,
        input: ArchiveProductInput,
    ) -> ApiResult<ProductPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            catalogue::set_active(tenant_db(ctx)?, id, false).await
        }
        .await;
        ProductPayload::answer(result)
    }

    /// Restores an archived product: it shows in lists and takes stock again. Audited as
    /// `product.restore`.
    #[graphql(
        guard = "RequirePermission(Permission::ProductsArchive)",
        directive = requires::apply(Permission::ProductsArchive)
    )]
    async fn restore_product(
        &self,
        ctx: &Context<'_>,
        input: RestoreProductInput,
    ) -> ApiResult<ProductPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            catalogue::set_active(tenant_db(ctx)?, id, true).await
        }
        .await;
        ProductPayload::answer(result)
    }
}
