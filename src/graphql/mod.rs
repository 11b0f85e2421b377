//! The GraphQL schema: one module per domain, merged here.

pub mod admission;
mod audit;
mod backups;
mod carriers;
mod catalogue;
pub(crate) mod field_order;
mod health;
pub mod ids;
mod introspection;
pub mod loaders;
mod node;
mod organisation;
mod parties;
mod picking;
mod places;
mod purchasing;
mod putaway;
mod receiving;
pub mod requirements;
mod returns;
mod roles;
mod selling;
mod session;
mod shipping;
mod stock;
mod users;

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, EmptySubscription, MergedObject, Schema};

pub use ids::{global_id, parse_id, parse_optional_id};
pub use requirements::{
    PER_TYPE_FIELDS, PUBLIC_FIELDS, Requirement, SELF_SERVICE_FIELDS, SchemaShape,
};

use crate::auth::AuthSettings;
use crate::auth::session::SignedIn;
use crate::error::AppError;
use crate::service::lifecycle::Lifecycle;
use crate::service::paging::{Page, PageRequest};
use crate::tenancy::{Database, RequestOrigin, TenantDb};

#[derive(MergedObject, Default)]
pub struct Query(
    health::HealthQuery,
    session::SessionQuery,
    organisation::OrganisationQuery,
    users::UsersQuery,
    roles::RolesQuery,
    audit::AuditQuery,
    backups::BackupsQuery,
    catalogue::CatalogueQuery,
    places::PlacesQuery,
    parties::PartiesQuery,
    purchasing::PurchasingQuery,
    receiving::ReceivingQuery,
    returns::ReturnsQuery,
    selling::SellingQuery,
    picking::PickingQuery,
    putaway::PutAwayQuery,
    carriers::CarriersQuery,
    shipping::ShippingQuery,
    stock::StockQuery,
    node::NodeQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    session::SessionMutation,
    organisation::OrganisationMutation,
    backups::BackupsMutation,
    users::UsersMutation,
    roles::RolesMutation,
    catalogue::CatalogueMutation,
    places::PlacesMutation,
    parties::PartiesMutation,
    purchasing::PurchasingMutation,
    receiving::ReceivingMutation,
    returns::ReturnsMutation,
    selling::SellingMutation,
    picking::PickingMutation,
    putaway::PutAwayMutation,
    carriers::CarriersMutation,
    shipping::ShippingMutation,
    stock::StockMutation,
);

pub type VaskemSchema = Schema<Query, Mutation, EmptySubscription>;

/// Abuse limits for every document, each configurable (see `vaskem serve --help`).
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct QueryLimits {
    /// Deepest selection nesting accepted, 1 to 64 (GraphiQL's introspection query needs 14).
    #[arg(
        long = "max-query-depth",
        env = "VASKEM_MAX_QUERY_DEPTH",
        default_value_t = QueryLimits::DEFAULT.depth,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64)
    )]
    pub depth: usize,
    /// Highest query complexity accepted, 1 to 100000: each field counts 1, and a list 20 for its
    /// query plus its selection once per row it may return (`first`, 50 when not given); a list
    /// inside each row of a page (`Product.balances`) only its selection per row.
    #[arg(
        long = "max-query-complexity",
        env = "VASKEM_MAX_QUERY_COMPLEXITY",
        default_value_t = QueryLimits::DEFAULT.complexity,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000)
    )]
    pub complexity: usize,
    /// Most fields a document may select, every operation and `__typename` included, with each
    /// fragment spread counted once itself and again for what it expands to (1 to 100000).
    #[arg(
        long = "max-query-fields",
        env = "VASKEM_MAX_QUERY_FIELDS",
        default_value_t = QueryLimits::DEFAULT.fields,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000)
    )]
    pub fields: usize,
    /// Longest document text accepted, in bytes (1024 to 1048576). Parsing costs by the byte, so
    /// the text is held well under the body limit; large inputs belong in variables.
    #[arg(
        long = "max-document-bytes",
        env = "VASKEM_MAX_DOCUMENT_BYTES",
        default_value_t = QueryLimits::DEFAULT.document_bytes,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..=1_048_576)
    )]
    pub document_bytes: usize,
    /// Most aliased fields a document may select, fragments expanded (0 to 10000).
    #[arg(
        long = "max-aliases",
        env = "VASKEM_MAX_ALIASES",
        default_value_t = QueryLimits::DEFAULT.aliases,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=10_000)
    )]
    pub aliases: usize,
    /// Most directives accepted on one field, 1 to 50 (async-graphql ≥ 7.0.10 enforces this).
    #[arg(
        long = "max-directives",
        env = "VASKEM_MAX_DIRECTIVES",
        default_value_t = QueryLimits::DEFAULT.directives,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=50)
    )]
    pub directives: usize,
    /// Deepest nesting accepted anywhere in a document or its variables, 8 to 128: brackets of
    /// selection sets, arguments and list or object values, and selection sets with fragments
    /// expanded.
    #[arg(
        long = "max-recursive-depth",
        env = "VASKEM_MAX_RECURSIVE_DEPTH",
        default_value_t = QueryLimits::DEFAULT.recursive_depth,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(8..=128)
    )]
    pub recursive_depth: usize,
}

impl QueryLimits {
    /// What `vaskem serve` uses when neither flag nor environment variable says otherwise: the
    /// one place these numbers are written (clap's defaults and `Default` both read it).
    pub const DEFAULT: Self = Self {
        depth: 16,
        complexity: 1000,
        fields: 1000,
        document_bytes: 65_536,
        aliases: 100,
        directives: 5,
        recursive_depth: 32,
    };
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The two faces of one schema: anonymous callers get neither introspection nor "did you mean"
/// suggestions, so the API's shape is not handed to strangers.
#[derive(Clone)]
pub struct Schemas {
    pub anonymous: VaskemSchema,
    pub signed_in: VaskemSchema,
    limits: QueryLimits,
}

impl Schemas {
    pub fn new(limits: QueryLimits) -> Self {
        Self {
            anonymous: build(limits, false),
            signed_in: build(limits, true),
            limits,
        }
    }

    /// Checks `request` against the limits the engine does not enforce itself (see
    /// [`admission`]), before anything else is done for it.
    pub fn admit(
        &self,
        request: &mut async_graphql::Request,
    ) -> Result<(), async_graphql::ServerError> {
        admission::admit(request, &self.limits)
    }
}

fn build(limits: QueryLimits, signed_in: bool) -> VaskemSchema {
    let builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .limit_directives(limits.directives)
        .limit_recursive_depth(limits.recursive_depth);
    if signed_in {
        builder.finish()
    } else {
        builder
            .disable_introspection()
            .disable_suggestions()
            .extension(introspection::AnonymousIntrospectionGate)
            .finish()
    }
}

/// Every root field with what it needs (`Query.users` needs `USERS_VIEW`), read from the
/// schema's `@requires` directives, which a test proves agree with the guards.
pub fn permission_requirements() -> Vec<(String, Requirement)> {
    match SchemaShape::parse(&sdl()) {
        Ok(shape) => shape.root_requirements(),
        // The SDL is generated by async-graphql from our own types; the schema-drift and
        // permission tests fail long before this could be reached.
        Err(err) => vec![(format!("SDL unreadable: {err}"), Requirement::Unguarded)],
    }
}

/// `docs/PERMISSIONS.md`: the 48 bits and every operation's requirement, generated from the code.
pub fn permission_matrix() -> String {
    use crate::auth::permission::Permission;
    use async_graphql::resolver_utils::EnumType;
    let mut out = String::from(
        "# Permissions\n\n\
         Generated from the code by `vaskem permissions`; a test fails when this file drifts.\n\n\
         ## The 48 permission bits\n\n\
         Bit positions are stored in role masks and user overrides and never change.\n\n\
         | bit | permission | allows |\n|---|---|---|\n",
    );
    for item in Permission::items() {
        out.push_str(&format!(
            "| {} | `{}` | {} |\n",
            item.value.bit(),
            item.name,
            item.value.description()
        ));
    }
    out.push_str(
        "\n## Operations\n\n\
         `public`: no session needed. `signed in`: any signed-in user, acting on their own \
         account. Otherwise the permission the caller must hold.\n\n\
         | operation | needs |\n|---|---|\n",
    );
    for (field, needs) in permission_requirements() {
        let needs = match needs {
            Requirement::Permission(permission) => format!("`{permission}`"),
            other => other.to_string(),
        };
        out.push_str(&format!("| `{field}` | {needs} |\n"));
    }
    out.push_str(
        "\n## Fields inside objects\n\n\
         Fields that hand out what another permission guards. Without the permission the field \
         is null and the reply carries a FORBIDDEN error naming it; the rest of the object is \
         answered.\n\n\
         | field | needs |\n|---|---|\n",
    );
    if let Ok(shape) = SchemaShape::parse(&sdl()) {
        for (type_name, field, permission) in shape.guarded_object_fields() {
            out.push_str(&format!("| `{type_name}.{field}` | `{permission}` |\n"));
        }
    }
    out
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    build(QueryLimits::default(), true).sdl()
}

/// What resolvers return on failure.
///
/// Deliberately not `Display`: async-graphql converts any `Display` error into a bare
/// `async_graphql::Error` (losing `extensions.code` and exposing the message), so an [`AppError`]
/// can only reach a client through this type's conversion.
#[derive(Clone)]
pub struct ApiError(async_graphql::Error);

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        Self(err.into_graphql())
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.0
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// What every request carries into GraphQL, signed in or not.
pub struct RequestServices {
    pub db: Database,
    pub auth: AuthSettings,
    /// Where and with which key backups are written.
    pub backups: std::sync::Arc<crate::service::backup::requests::BackupSettings>,
    pub origin: RequestOrigin,
    pub cookies: tower_cookies::Cookies,
}

/// What the HTTP edge put into every request.
pub(crate) fn services<'a>(ctx: &Context<'a>) -> Result<&'a RequestServices, AppError> {
    ctx.data_opt::<RequestServices>()
        .ok_or_else(|| AppError::Internal("request services missing".into()))
}

/// The caller's verified session, or UNAUTHENTICATED.
pub(crate) fn signed_in<'a>(ctx: &Context<'a>) -> Result<&'a SignedIn, AppError> {
    ctx.data_opt::<SignedIn>().ok_or(AppError::Unauthenticated)
}

/// The caller's tenant handle, or UNAUTHENTICATED.
pub(crate) fn tenant_db<'a>(ctx: &Context<'a>) -> Result<&'a TenantDb, AppError> {
    signed_in(ctx).map(|session| &session.db)
}

/// A validation failure reported inside a mutation's payload rather than as a top-level error.
#[derive(async_graphql::SimpleObject, Clone, Debug)]
pub struct UserError {
    /// The input field at fault, if one is.
    pub field: Option<String>,
    pub message: String,
    /// Always `BAD_USER_INPUT` today.
    pub code: String,
}

/// Splits a service result for a payload: validation failures become `userErrors`; anything else
/// (not found, forbidden, conflict, internal) stays a top-level error.
pub(crate) fn into_payload<T>(
    result: Result<T, AppError>,
) -> ApiResult<(Option<T>, Vec<UserError>)> {
    match result {
        Ok(value) => Ok((Some(value), Vec::new())),
        Err(AppError::BadUserInput { field, message }) => Ok((
            None,
            vec![UserError {
                field: field.map(str::to_owned),
                message,
                code: crate::error::ErrorCode::BadUserInput.as_str().to_owned(),
            }],
        )),
        Err(err) => Err(err.into()),
    }
}

/// A mutation's answer: what it changed, or the `userErrors` that stopped it. Declared with
/// [`payload!`], answered with [`Payload::answer`].
pub(crate) trait Payload: Sized {
    /// What the mutation hands back when it succeeds.
    type Value;

    fn new(value: Option<Self::Value>, user_errors: Vec<UserError>) -> Self;

    /// The payload for a service's result: BAD_USER_INPUT becomes `userErrors` (and the value
    /// null); any other error is the field's GraphQL error.
    fn answer<T: Into<Self::Value>>(result: Result<T, AppError>) -> ApiResult<Self> {
        let (value, user_errors) = into_payload(result)?;
        Ok(Self::new(value.map(Into::into), user_errors))
    }
}

/// Declares a mutation payload: `payload!(/// doc, ProductPayload, product: Product)` is an
/// object with a nullable `product` and `userErrors`, implementing [`Payload`].
macro_rules! payload {
    ($(#[$meta:meta])* $name:ident, $(#[$field_meta:meta])* $field:ident: $value:ty) => {
        $(#[$meta])*
        #[derive(async_graphql::SimpleObject)]
        pub struct $name {
            $(#[$field_meta])*
            $field: Option<$value>,
            user_errors: Vec<$crate::graphql::UserError>,
        }

        impl $crate::graphql::Payload for $name {
            type Value = $value;

            fn new(value: Option<$value>, user_errors: Vec<$crate::graphql::UserError>) -> Self {
                Self {
                    $field: value,
                    user_errors,
                }
            }
        }
    };
}
pub(crate) use payload;

/// The states a document in `status` may go to next, as the API names them (empty once final).
pub(crate) fn next_statuses<S: Lifecycle, T: From<S>>(status: S) -> Vec<T> {
    status.next().iter().map(|&next| next.into()).collect()
}

/// Which way a list runs.
#[derive(async_graphql::Enum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

impl SortDirection {
    pub(crate) fn descending(self) -> bool {
        self == Self::Desc
    }
}

/// About the whole list, not just this page.
#[derive(async_graphql::SimpleObject)]
pub struct ListInfo {
    /// How many rows match the filter in all (counted only when asked for).
    total_count: u64,
}

/// Every list's shape: Relay edges and `pageInfo`, plus `totalCount`.
pub type ListConnection<T> = Connection<String, T, ListInfo, EmptyFields>;

/// Whether the document asks, of each row of the list being resolved, for the field at `path`
/// (`["lines", "product"]`), through `nodes` or `edges { node }`: what a list primes its loaders
/// for.
pub(crate) fn rows_ask(ctx: &Context<'_>, path: &[&str]) -> bool {
    let look_ahead = ctx.look_ahead();
    [
        look_ahead.field("nodes"),
        look_ahead.field("edges").field("node"),
    ]
    .into_iter()
    .any(|row| {
        path.iter()
            .fold(row, |field, name| field.field(name))
            .exists()
    })
}

/// Reads `first` and `after`, and whether the document asks for `totalCount`.
pub(crate) fn page_request(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<PageRequest, AppError> {
    Ok(PageRequest {
        limit: page_size(first)?,
        want_total: ctx.look_ahead().field("totalCount").exists(),
        after,
    })
}

/// A service page as a connection of `T`.
pub(crate) fn connection<R, T: async_graphql::OutputType>(
    request: &PageRequest,
    page: Page<R>,
    node: impl Fn(R) -> T,
) -> ListConnection<T> {
    let mut connection = Connection::with_additional_fields(
        request.after.is_some(),
        page.has_more,
        ListInfo {
            total_count: page.total.unwrap_or_default(),
        },
    );
    connection.edges.extend(
        page.rows
            .into_iter()
            .map(|(cursor, row)| Edge::new(cursor, node(row))),
    );
    connection
}

/// Largest page any list returns.
pub const MAX_PAGE_SIZE: usize = 100;
const DEFAULT_PAGE_SIZE: usize = 50;

/// What a list costs against the complexity limit: a query of its own ([`LIST_QUERY_COST`]) and
/// its selection once per row it may return, so a hundred aliased pages of a hundred rows cost
/// what they load, not one unit each.
pub(crate) fn list_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.map_or(DEFAULT_PAGE_SIZE, |n| {
        usize::try_from(n).unwrap_or(1).clamp(1, MAX_PAGE_SIZE)
    });
    LIST_QUERY_COST.saturating_add(rows.saturating_mul(child_complexity.max(1)))
}

/// What a list nested in each row of a page costs (`Product.balances`): its selection once per
/// row it may return. No query charge: the lists of a whole page are read together, in at most
/// two queries however many rows or aliases ask (see its data loader), and the page itself paid
/// [`LIST_QUERY_COST`].
pub(crate) fn nested_list_complexity(first: i32, child_complexity: usize) -> usize {
    let rows = usize::try_from(first).unwrap_or(1).clamp(1, MAX_PAGE_SIZE);
    rows.saturating_mul(child_complexity.max(1))
}

/// The complexity a list charges for running its query at all, however few rows it asks for:
/// at the default limit a document runs at most about fifty list queries.
pub const LIST_QUERY_COST: usize = 20;

/// Reads `first`, refusing values outside 1..=[`MAX_PAGE_SIZE`].
pub(crate) fn page_size(first: Option<i32>) -> Result<u64, AppError> {
    match first {
        None => Ok(DEFAULT_PAGE_SIZE as u64),
        Some(n) if n >= 1 && n as usize <= MAX_PAGE_SIZE => Ok(n as u64),
        Some(_) => Err(AppError::bad_input(
            "first",
            format!("first must be 1 to {MAX_PAGE_SIZE}"),
        )),
    }
}
