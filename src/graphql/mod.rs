//! The GraphQL schema: one module per domain, merged here.

mod audit;
mod health;
mod introspection;
mod organisation;
mod roles;
mod session;
mod users;

use async_graphql::{Context, EmptySubscription, ID, MergedObject, Schema};

use crate::auth::AuthSettings;
use crate::auth::session::SignedIn;
use crate::error::AppError;
use crate::tenancy::{Database, RequestOrigin, TenantDb};

#[derive(MergedObject, Default)]
pub struct Query(
    health::HealthQuery,
    session::SessionQuery,
    organisation::OrganisationQuery,
    users::UsersQuery,
    roles::RolesQuery,
    audit::AuditQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    session::SessionMutation,
    organisation::OrganisationMutation,
    users::UsersMutation,
    roles::RolesMutation,
);

pub type VaskemSchema = Schema<Query, Mutation, EmptySubscription>;

/// Abuse limits for every document, each configurable (see `vaskem serve --help`).
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct QueryLimits {
    /// Deepest selection nesting accepted (GraphiQL's introspection query needs 14).
    #[arg(
        long = "max-query-depth",
        env = "VASKEM_MAX_QUERY_DEPTH",
        default_value_t = 16
    )]
    pub depth: usize,
    /// Highest query complexity accepted (each field counts 1 unless it says otherwise).
    #[arg(
        long = "max-query-complexity",
        env = "VASKEM_MAX_QUERY_COMPLEXITY",
        default_value_t = 1000
    )]
    pub complexity: usize,
    /// Most directives accepted on one field (async-graphql ≥ 7.0.10 enforces this).
    #[arg(
        long = "max-directives",
        env = "VASKEM_MAX_DIRECTIVES",
        default_value_t = 5
    )]
    pub directives: usize,
    /// Deepest recursion accepted while parsing (nested lists, fragments).
    #[arg(
        long = "max-recursive-depth",
        env = "VASKEM_MAX_RECURSIVE_DEPTH",
        default_value_t = 32
    )]
    pub recursive_depth: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            depth: 16,
            complexity: 1000,
            directives: 5,
            recursive_depth: 32,
        }
    }
}

/// The two faces of one schema: anonymous callers get neither introspection nor "did you mean"
/// suggestions, so the API's shape is not handed to strangers.
#[derive(Clone)]
pub struct Schemas {
    pub anonymous: VaskemSchema,
    pub signed_in: VaskemSchema,
}

impl Schemas {
    pub fn new(limits: QueryLimits) -> Self {
        Self {
            anonymous: build(limits, false),
            signed_in: build(limits, true),
        }
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
    pub origin: RequestOrigin,
    pub cookies: tower_cookies::Cookies,
}

/// The caller's verified session, or UNAUTHENTICATED.
pub(crate) fn signed_in<'a>(ctx: &Context<'a>) -> Result<&'a SignedIn, AppError> {
    ctx.data_opt::<SignedIn>().ok_or(AppError::Unauthenticated)
}

/// The caller's tenant handle, or UNAUTHENTICATED.
pub(crate) fn tenant_db<'a>(ctx: &Context<'a>) -> Result<&'a TenantDb, AppError> {
    signed_in(ctx).map(|session| &session.db)
}

/// Parses a GraphQL `ID` into a typed id; a malformed one is the caller's mistake.
pub(crate) fn parse_id<T: std::str::FromStr>(id: &ID, field: &'static str) -> Result<T, AppError> {
    id.parse()
        .map_err(|_| AppError::bad_input(field, format!("{field} is not a valid id")))
}
