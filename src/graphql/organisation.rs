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
    /// How far past the ordered quantity a receipt may go, in percent (0 to 100).
    receipt_tolerance_percent: i32,
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
            receipt_tolerance_percent: model.receipt_tolerance_percent,
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

    /// Sets how far past the ordered quantity a receipt may go, in percent (0 to 100; 0 refuses
    /// any over-receipt). Audited as `organisation.set_receipt_tolerance`.
    #[graphql(
        guard = "RequirePermission(Permission::OrganisationEdit)",
        directive = requires::apply(Permission::OrganisationEdit)
    )]
    async fn set_receipt_tolerance(
        &self,
        ctx: &Context<'_>,
        input: SetReceiptToleranceInput,
    ) -> ApiResult<OrganisationPayload> {
        let db = tenant_db(ctx)?;
        OrganisationPayload::answer(organisations::set_receipt_tolerance(db, input.percent).await)
    }
}

/// The organisation's receipt tolerance.
#[derive(InputObject)]
pub struct SetReceiptToleranceInput {
    /// 0 to 100.
    percent: i32,
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
