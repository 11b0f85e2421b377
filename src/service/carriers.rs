//! Carriers, their service levels, and the tracking links shipments will hand out.
//!
//! Lock order: a carrier before its service levels. Adding a service level locks its carrier
//! (`FOR UPDATE`), so adds to one carrier queue (its code check and the cap on service levels see
//! each other) and an archive in flight is seen. Archiving a carrier leaves its service levels as
//! they are: a shipment needs both active, and restoring the carrier brings back exactly the
//! service levels it had.

use std::collections::HashMap;

use chrono::Utc;
use entity::{CarrierId, CarrierServiceId, carrier, carrier_service};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;

use crate::audit::AuditRecord;
use crate::error::{AppError, AppResult, on_duplicate};
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::service::text;
use crate::tenancy::{TenantDb, TenantTx};

/// Where the tracking number goes in a tracking URL template.
pub const TRACKING_PLACEHOLDER: &str = "{tracking}";
/// The longest tracking URL template.
pub const MAX_TEMPLATE_CHARS: usize = 500;
/// Most service levels one carrier may have, archived ones included: enough for any real
/// carrier's, and a bound on what `Carrier.services` can return per carrier.
pub const MAX_SERVICES_PER_CARRIER: u64 = 20;

/// A carrier's code, name and tracking URL template.
pub struct CarrierInput {
    pub code: String,
    pub name: String,
    pub tracking_url_template: String,
}

/// A service level's code and name.
pub struct ServiceInput {
    pub code: String,
    pub name: String,
}

struct CleanCarrier {
    code: String,
    name: String,
    tracking_url_template: String,
}

fn clean(input: &CarrierInput) -> AppResult<CleanCarrier> {
    Ok(CleanCarrier {
        code: text::single_line("code", &input.code, 32)?,
        name: text::single_line("name", &input.name, 200)?,
        tracking_url_template: tracking_url_template(
            "trackingUrlTemplate",
            &input.tracking_url_template,
        )?,
    })
}

/// What the audit log shows of a carrier.
fn snapshot(carrier: &carrier::Model) -> serde_json::Value {
    json!({ "code": carrier.code, "name": carrier.name, "trackingUrlTemplate": carrier.tracking_url_template })
}

fn code_taken(code: &str) -> String {
    format!("carrier code {code} is already used")
}

fn service_code_taken(carrier: &str, code: &str) -> String {
    format!("{carrier} already has a service level {code}")
}

const CARRIER_NOT_FOUND: AppError = AppError::NotFound { entity: "carrier" };
const SERVICE_NOT_FOUND: AppError = AppError::NotFound {
    entity: "carrier service",
};

pub async fn create_carrier(db: &TenantDb, input: CarrierInput) -> AppResult<carrier::Model> {
    let clean = clean(&input)?;
    let mut tx = db.write().await?;
    if tx
        .one(carrier::Entity::find().filter(carrier::Column::Code.eq(clean.code.as_str())))
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(code_taken(&clean.code)));
    }
    let now = Utc::now();
    let code = clean.code.clone();
    let created = tx
        .insert(carrier::ActiveModel {
            id: Set(CarrierId::generate()),
            tenant_id: Set(tx.tenant()),
            code: Set(clean.code),
            name: Set(clean.name),
            tracking_url_template: Set(clean.tracking_url_template),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await
        .map_err(on_duplicate(|| code_taken(&code)))?;
    tx.record(
        AuditRecord::new("carrier.create", "carrier", created.id)
            .with_change(json!(null), snapshot(&created)),
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// One carrier, archived or not.
pub async fn carrier(db: &TenantDb, id: CarrierId) -> AppResult<carrier::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<carrier::Entity>(id)
        .await?
        .ok_or(CARRIER_NOT_FOUND)
}

/// One service level, archived or not.
pub async fn service(db: &TenantDb, id: CarrierServiceId) -> AppResult<carrier_service::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<carrier_service::Entity>(id)
        .await?
        .ok_or(SERVICE_NOT_FOUND)
}

/// What a carrier list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct CarrierFilter {
    /// Code or name, case-insensitive, partial.
    pub search: Option<String>,
    pub include_archived: bool,
}

/// What a carrier list may be ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CarrierOrder {
    #[default]
    Code,
    Name,
    /// Creation order (ids are time-ordered).
    Created,
}

/// A page of the organisation's carriers.
pub async fn carriers(
    db: &TenantDb,
    filter: &CarrierFilter,
    order: CarrierOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<carrier::Model>> {
    let mut query = carrier::Entity::find();
    if !filter.include_archived {
        query = query.filter(carrier::Column::IsActive.eq(true));
    }
    if let Some(pattern) = text::search_pattern(filter.search.as_deref())? {
        query = query.filter(
            Condition::any()
                .add(text::lower(carrier::Column::Code).like(pattern.clone()))
                .add(text::lower(carrier::Column::Name).like(pattern)),
        );
    }
    let columns = match order {
        CarrierOrder::Code => vec![carrier::Column::Code, carrier::Column::Id],
        CarrierOrder::Name => vec![carrier::Column::Name, carrier::Column::Id],
        CarrierOrder::Created => vec![carrier::Column::Id],
    };
    let tx = db.read().await?;
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}

/// Replaces a carrier's code, name and tracking URL template.
pub async fn update_carrier(
    db: &TenantDb,
    id: CarrierId,
    input: CarrierInput,
) -> AppResult<carrier::Model> {
    let clean = clean(&input)?;
    let mut tx = db.write().await?;
    let before = tx
        .find_by_id::<carrier::Entity>(id)
        .await?
        .ok_or(CARRIER_NOT_FOUND)?;
    let clash = tx
        .one(carrier::Entity::find().filter(carrier::Column::Code.eq(clean.code.as_str())))
        .await?;
    if clash.is_some_and(|other| other.id != id) {
        return Err(AppError::Conflict(code_taken(&clean.code)));
    }
    let now = Utc::now();
    tx.update_many(
        carrier::Entity::update_many()
            .col_expr(carrier::Column::Code, Expr::value(clean.code.clone()))
            .col_expr(carrier::Column::Name, Expr::value(clean.name.clone()))
            .col_expr(
                carrier::Column::TrackingUrlTemplate,
                Expr::value(clean.tracking_url_template.clone()),
            )
            .col_expr(carrier::Column::UpdatedAt, Expr::value(now))
            .filter(carrier::Column::Id.eq(id)),
    )
    .await
    .map_err(on_duplicate(|| code_taken(&clean.code)))?;
    let after = carrier::Model {
        code: clean.code,
        name: clean.name,
        tracking_url_template: clean.tracking_url_template,
        updated_at: now,
        ..before.clone()
    };
    tx.record(
        AuditRecord::new("carrier.update", "carrier", id)
            .with_change(snapshot(&before), snapshot(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Archives or restores a carrier. Its service levels keep their own state.
pub async fn set_carrier_active(
    db: &TenantDb,
    id: CarrierId,
    active: bool,
) -> AppResult<carrier::Model> {
    let mut tx = db.write().await?;
    // Locked first: a service level being added waits, or sees the carrier archived.
    let before = tx
        .one(carrier::Entity::find_by_id(id).lock_exclusive())
        .await?
        .ok_or(CARRIER_NOT_FOUND)?;
    if before.is_active == active {
        // Already so: nothing changes, so nothing is recorded (a retried archive is a no-op).
        return Ok(before);
    }
    let now = Utc::now();
    tx.update_many(
        carrier::Entity::update_many()
            .col_expr(carrier::Column::IsActive, Expr::value(active))
            .col_expr(carrier::Column::UpdatedAt, Expr::value(now))
            .filter(carrier::Column::Id.eq(id)),
    )
    .await?;
    let action = if active {
        "carrier.restore"
    } else {
        "carrier.archive"
    };
    tx.record(AuditRecord::new(action, "carrier", id).with_change(
        json!({ "active": before.is_active }),
        json!({ "active": active }),
    ))
    .await?;
    tx.commit().await?;
    Ok(carrier::Model {
        is_active: active,
        updated_at: now,
        ..before
    })
}

/// Adds a service level to an active carrier.
pub async fn add_service(
    db: &TenantDb,
    carrier_id: CarrierId,
    input: ServiceInput,
) -> AppResult<carrier_service::Model> {
    let code = text::single_line("code", &input.code, 32)?;
    let name = text::single_line("name", &input.name, 200)?;
    let mut tx = db.write().await?;
    let carrier = tx
        .one(carrier::Entity::find_by_id(carrier_id).lock_exclusive())
        .await?
        .ok_or(CARRIER_NOT_FOUND)?;
    if !carrier.is_active {
        return Err(AppError::Conflict(format!(
            "carrier {} is archived",
            carrier.code
        )));
    }
    let services = tx
        .all(
            carrier_service::Entity::find()
                .filter(carrier_service::Column::CarrierId.eq(carrier_id)),
        )
        .await?;
    if services.iter().any(|service| service.code == code) {
        return Err(AppError::Conflict(service_code_taken(&carrier.code, &code)));
    }
    if services.len() as u64 >= MAX_SERVICES_PER_CARRIER {
        return Err(AppError::Conflict(format!(
            "{} already has {MAX_SERVICES_PER_CARRIER} service levels, the most a carrier may \
             have (archived ones count: rename one to reuse it)",
            carrier.code
        )));
    }
    let created = tx
        .insert(carrier_service::ActiveModel {
            id: Set(CarrierServiceId::generate()),
            tenant_id: Set(tx.tenant()),
            carrier_id: Set(carrier_id),
            code: Set(code.clone()),
            name: Set(name),
            is_active: Set(true),
        })
        .await
        .map_err(on_duplicate(|| service_code_taken(&carrier.code, &code)))?;
    tx.record(
        AuditRecord::new("carrier_service.add", "carrier_service", created.id).with_change(
            json!(null),
            json!({ "carrier": carrier.code, "code": created.code, "name": created.name }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// The carrier `service` belongs to (the composite foreign key keeps it there).
async fn carrier_of(tx: &TenantTx, service: &carrier_service::Model) -> AppResult<carrier::Model> {
    tx.find_by_id::<carrier::Entity>(service.carrier_id)
        .await?
        .ok_or_else(|| AppError::Internal("service level without its carrier".into()))
}

/// Changes a service level's code and name (it stays with its carrier).
pub async fn update_service(
    db: &TenantDb,
    id: CarrierServiceId,
    input: ServiceInput,
) -> AppResult<carrier_service::Model> {
    let code = text::single_line("code", &input.code, 32)?;
    let name = text::single_line("name", &input.name, 200)?;
    let mut tx = db.write().await?;
    let before = tx
        .find_by_id::<carrier_service::Entity>(id)
        .await?
        .ok_or(SERVICE_NOT_FOUND)?;
    let carrier = carrier_of(&tx, &before).await?;
    let clash = tx
        .one(
            carrier_service::Entity::find()
                .filter(carrier_service::Column::CarrierId.eq(before.carrier_id))
                .filter(carrier_service::Column::Code.eq(code.as_str())),
        )
        .await?;
    if clash.is_some_and(|other| other.id != id) {
        return Err(AppError::Conflict(service_code_taken(&carrier.code, &code)));
    }
    tx.update_many(
        carrier_service::Entity::update_many()
            .col_expr(carrier_service::Column::Code, Expr::value(code.clone()))
            .col_expr(carrier_service::Column::Name, Expr::value(name.clone()))
            .filter(carrier_service::Column::Id.eq(id)),
    )
    .await
    .map_err(on_duplicate(|| service_code_taken(&carrier.code, &code)))?;
    let after = carrier_service::Model {
        code,
        name,
        ..before.clone()
    };
    let view = |s: &carrier_service::Model| json!({ "code": s.code, "name": s.name });
    tx.record(
        AuditRecord::new("carrier_service.update", "carrier_service", id)
            .with_change(view(&before), view(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Archives or restores a service level. Restoring one needs its carrier active.
pub async fn set_service_active(
    db: &TenantDb,
    id: CarrierServiceId,
    active: bool,
) -> AppResult<carrier_service::Model> {
    let mut tx = db.write().await?;
    let before = tx
        .one(carrier_service::Entity::find_by_id(id).lock_exclusive())
        .await?
        .ok_or(SERVICE_NOT_FOUND)?;
    if before.is_active == active {
        // Already so: nothing changes, so nothing is recorded (a retried archive is a no-op).
        return Ok(before);
    }
    if active {
        let carrier = carrier_of(&tx, &before).await?;
        if !carrier.is_active {
            return Err(AppError::Conflict(format!(
                "carrier {} is archived: restore it first",
                carrier.code
            )));
        }
    }
    tx.update_many(
        carrier_service::Entity::update_many()
            .col_expr(carrier_service::Column::IsActive, Expr::value(active))
            .filter(carrier_service::Column::Id.eq(id)),
    )
    .await?;
    let action = if active {
        "carrier_service.restore"
    } else {
        "carrier_service.archive"
    };
    tx.record(AuditRecord::new(action, "carrier_service", id).with_change(
        json!({ "active": before.is_active }),
        json!({ "active": active }),
    ))
    .await?;
    tx.commit().await?;
    Ok(carrier_service::Model {
        is_active: active,
        ..before
    })
}

/// The service levels of several carriers in one query, by code (for the GraphQL data loader).
pub async fn services_for(
    db: &TenantDb,
    ids: &[CarrierId],
) -> AppResult<HashMap<CarrierId, Vec<carrier_service::Model>>> {
    let tx = db.read().await?;
    let mut by_carrier: HashMap<CarrierId, Vec<carrier_service::Model>> = HashMap::new();
    for row in tx
        .all(
            carrier_service::Entity::find()
                .filter(carrier_service::Column::CarrierId.is_in(ids.iter().copied()))
                .order_by_asc(carrier_service::Column::Code),
        )
        .await?
    {
        by_carrier.entry(row.carrier_id).or_default().push(row);
    }
    Ok(by_carrier)
}

/// Checks a tracking URL template: an `https://` URL holding [`TRACKING_PLACEHOLDER`] exactly once,
/// after the host (a tracking number must not choose where the link goes), with no user name or
/// password, no spaces and no other braces.
pub fn tracking_url_template(field: &'static str, value: &str) -> AppResult<String> {
    let template = text::single_line(field, value, MAX_TEMPLATE_CHARS)?;
    let refuse = |why: &str| {
        Err(AppError::bad_input(
            field,
            format!("{field} must {why}, e.g. https://track.example.com/?n={TRACKING_PLACEHOLDER}"),
        ))
    };
    if template.matches(TRACKING_PLACEHOLDER).count() != 1 {
        return refuse("contain {tracking} exactly once");
    }
    if template
        .replacen(TRACKING_PLACEHOLDER, "", 1)
        .contains(['{', '}'])
    {
        return refuse("hold no braces other than those of {tracking}");
    }
    if template.contains(|c: char| c.is_whitespace() || c == '\\') {
        return refuse("hold no spaces or backslashes");
    }
    let Some(after_scheme) = template.strip_prefix("https://") else {
        return refuse("be an https:// URL");
    };
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    if authority.contains('@') {
        return refuse("hold no user name or password");
    }
    if authority.contains(TRACKING_PLACEHOLDER) {
        return refuse("put {tracking} after the host name");
    }
    // The parser has the last word on the rest (the host, the port), with a tracking number in.
    let parsed = url::Url::parse(&template.replacen(TRACKING_PLACEHOLDER, "0", 1));
    if !parsed.is_ok_and(|url| url.scheme() == "https" && url.host().is_some()) {
        return refuse("be a valid https:// URL");
    }
    Ok(template)
}

/// A shipment's tracking number as carriers issue them: 1 to 64 ASCII letters, digits, '-' and
/// '_'. Only [`TrackingNumber::parse`] makes one, so [`tracking_url`] never meets anything else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackingNumber(String);

impl TrackingNumber {
    pub const MAX_CHARS: usize = 64;

    /// Reads a tracking number from input `field`, trimmed; anything else is BAD_USER_INPUT.
    pub fn parse(field: &'static str, value: &str) -> AppResult<Self> {
        let value = value.trim();
        let well_formed = (1..=Self::MAX_CHARS).contains(&value.len())
            && value
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        if !well_formed {
            return Err(AppError::bad_input(
                field,
                format!(
                    "{field} must be 1 to {} letters, digits, '-' and '_'",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What is percent-encoded in a tracking number: everything but RFC 3986's unreserved characters.
/// A valid number holds none of it today; the encoding keeps a link whole should the rules on
/// numbers ever widen.
const ENCODED_IN_TRACKING: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The link to a shipment's tracking page: `template` (checked by [`tracking_url_template`]) with
/// the percent-encoded tracking number in place of [`TRACKING_PLACEHOLDER`].
pub fn tracking_url(template: &str, tracking: &TrackingNumber) -> String {
    let encoded = utf8_percent_encode(tracking.as_str(), ENCODED_IN_TRACKING).to_string();
    template.replacen(TRACKING_PLACEHOLDER, &encoded, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(result: AppResult<impl std::fmt::Debug>) -> Option<&'static str> {
        match result {
            Err(AppError::BadUserInput { field, .. }) => field,
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn templates_are_https_urls_with_one_placeholder_after_the_host() {
        for good in [
            "https://track.example.com/?n={tracking}",
            "  https://track.example.com/parcels/{tracking}/status  ",
            "https://track.example.com:8443/t?id={tracking}&lang=en",
            "https://track.example.com/#/shipment/{tracking}",
        ] {
            let template = tracking_url_template("trackingUrlTemplate", good);
            assert_eq!(template.ok().as_deref(), Some(good.trim()), "{good}");
        }
        for bad in [
            "",
            "http://track.example.com/?n={tracking}",
            "HTTPS://track.example.com/?n={tracking}",
            "https:track.example.com/?n={tracking}",
            "ftp://track.example.com/{tracking}",
            "//track.example.com/?n={tracking}",
            "https://track.example.com/",
            "https://track.example.com/?n={tracking}&again={tracking}",
            "https://track.example.com/?n={TRACKING}",
            "https://track.example.com/?n={tracking}&x={other}",
            "https://track.example.com/?n={ tracking }",
            "https://{tracking}.example.com/",
            "https://track.example.com{tracking}",
            "https://user:secret@track.example.com/?n={tracking}",
            "https://track.example.com/a b/{tracking}",
            "https://track.example.com\\{tracking}",
            "https:///?n={tracking}",
            "https://track.example.com:99999/?n={tracking}",
            "https://track.example.com/\u{202E}/{tracking}",
        ] {
            assert_eq!(
                field_of(tracking_url_template("trackingUrlTemplate", bad)),
                Some("trackingUrlTemplate"),
                "{bad:?}"
            );
        }
        let long = format!("https://track.example.com/{}{{tracking}}", "a".repeat(500));
        assert!(tracking_url_template("trackingUrlTemplate", &long).is_err());
    }

    #[test]
    fn tracking_numbers_are_letters_digits_dashes_and_underscores() {
        for good in [
            "1Z999AA10123456784",
            "JD014600006281234567",
            "AB-12_cd",
            "x",
        ] {
            let number = TrackingNumber::parse("trackingNumber", good).expect(good);
            assert_eq!(number.as_str(), good);
        }
        assert_eq!(
            TrackingNumber::parse("trackingNumber", &"9".repeat(64))
                .map(|n| n.as_str().len())
                .ok(),
            Some(64)
        );
        for bad in [
            "",
            "   ",
            "AB 12",
            "AB/12",
            "AB?x=1",
            "AB%2F",
            "AB#1",
            "ÄB12",
            "AB\u{0}",
            &"9".repeat(65),
        ] {
            assert_eq!(
                field_of(TrackingNumber::parse("trackingNumber", bad)),
                Some("trackingNumber"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_tracking_number_takes_the_placeholders_place() {
        let number = TrackingNumber::parse("trackingNumber", " 1Z-99_a ").expect("valid");
        assert_eq!(
            tracking_url("https://track.example.com/?n={tracking}&l=en", &number),
            "https://track.example.com/?n=1Z-99_a&l=en"
        );
        // Anything outside the unreserved set would be encoded, not spliced in as it stands.
        let widened = TrackingNumber("A/B?c=#d é".into());
        assert_eq!(
            tracking_url("https://t.example.com/{tracking}", &widened),
            "https://t.example.com/A%2FB%3Fc%3D%23d%20%C3%A9"
        );
    }
}
