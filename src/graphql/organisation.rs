//! The caller's organisation.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::organisation;

use super::{ApiResult, Payload, global_id, payload, tenant_db};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::Permission;
use crate::service::organisations;

/// An organisation (tenant): every piece of data belongs to exactly one.
#[derive(SimpleObject)]
pub struct Organisation {
    id: ID,
    name: String,
    /// Unique and URL-safe: what `login` names the organisation by.
    slug: String,
    /// Deactivated organisations cannot sign in.
    active: bool,
}

/// Who a member's organisation is: what every member is shown on `me` (their organisation's name
/// and the slug they sign in with). A separate type from [`Organisation`], so that whatever is
/// added there later (settings) stays behind ORGANISATION_VIEW.
#[derive(SimpleObject)]
pub struct OrganisationSummary {
    id: ID,
    name: String,
    /// Unique and URL-safe: what `login` names the organisation by.
    slug: String,
    /// Deactivated organisations cannot sign in.
    active: bool,
}

impl From<organisation::Model> for OrganisationSummary {
    fn from(model: organisation::Model) -> Self {
        Self {
            id: global_id(model.id),
            name: model.name,
            slug: model.slug,
            active: model.is_active,
        }
    }
}

impl From<organisation::Model> for Organisation {
    fn from(model: organisation::Model) -> Self {
        Self {
            id: global_id(model.id),
            name: model.name,
            slug: model.slug,
            active: model.is_active,
        }
    }
}

#[derive(Default)]
pub struct OrganisationQuery;

#[Object]
impl OrganisationQuery {
    /// The signed-in user's organisation.
    #[graphql(
        guard = "RequirePermission(Permission::OrganisationView)",
        directive = requires::apply(Permission::OrganisationView)
    )]
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Organisation> {
        let db = tenant_db(ctx)?;
        Ok(organisations::current(db).await?.into())
    }
}

#[derive(Default)]
pub struct OrganisationMutation;

#[Object]
impl OrganisationMutation {
    /// Renames the signed-in user's organisation. Audited as `organisation.rename`.
    #[graphql(
        guard = "RequirePermission(Permission::OrganisationEdit)",
        directive = requires::apply(Permission::OrganisationEdit)
    )]
    async fn rename_organisation(
        &self,
        ctx: &Context<'_>,
        input: RenameOrganisationInput,
    ) -> ApiResult<OrganisationPayload> {
        let db = tenant_db(ctx)?;
        OrganisationPayload::answer(organisations::rename(db, &input.name).await)
    }
}

/// The organisation's new name.
#[derive(InputObject)]
pub struct RenameOrganisationInput {
    name: String,
}

payload!(
    /// What an organisation mutation returns.
    OrganisationPayload,
    organisation: Organisation
);
