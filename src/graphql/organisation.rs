//! The caller's organisation.

use async_graphql::{Context, ID, Object, SimpleObject};
use entity::organisation;

use super::{ApiResult, tenant_db};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::Permission;
use crate::service::organisations;

/// An organisation (tenant): every piece of data belongs to exactly one.
#[derive(SimpleObject)]
pub struct Organisation {
    id: ID,
    name: String,
    /// Deactivated organisations cannot sign in.
    active: bool,
}

impl From<organisation::Model> for Organisation {
    fn from(model: organisation::Model) -> Self {
        Self {
            id: ID(model.id.to_string()),
            name: model.name,
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
        name: String,
    ) -> ApiResult<Organisation> {
        let db = tenant_db(ctx)?;
        Ok(organisations::rename(db, &name).await?.into())
    }
}
