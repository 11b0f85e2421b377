//! Opaque global ids: every object's `id` names its type as well as its key, so an id is unique
//! across the whole API and a product id handed to a `warehouseId` argument is simply not found.
//!
//! The text is base64url (no padding) of `Type:uuid`. Clients must treat it as opaque; the
//! encoding is here only so that it can change without touching a resolver.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::error::AppError;

/// A key the API hands out as a global id.
pub trait GlobalKey: Copy {
    /// The GraphQL type the id belongs to.
    const TYPE_NAME: &'static str;
    /// How a NOT_FOUND error names it.
    const ENTITY: &'static str;
    fn to_uuid(self) -> Uuid;
    fn from_uuid(uuid: Uuid) -> Self;
}

macro_rules! global_key {
    ($($key:ty => $type_name:literal, $entity:literal;)*) => {$(
        impl GlobalKey for $key {
            const TYPE_NAME: &'static str = $type_name;
            const ENTITY: &'static str = $entity;
            fn to_uuid(self) -> Uuid {
                self.0
            }
            fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    )*};
}

global_key! {
    entity::TenantId => "Organisation", "organisation";
    entity::UserId => "User", "user";
    entity::SessionId => "Session", "session";
    entity::RoleId => "Role", "role";
    entity::ProductId => "Product", "product";
    entity::WarehouseId => "Warehouse", "warehouse";
    entity::LocationId => "Location", "location";
    entity::LotId => "Lot", "lot";
    entity::MovementId => "StockMovement", "stock movement";
}

/// The global id of a row of GraphQL type `type_name` (for ids that arrive untyped, as in the
/// audit log).
pub fn encode(type_name: &str, key: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{type_name}:{key}")))
}

/// The global id of `key`.
pub fn global_id<K: GlobalKey>(key: K) -> ID {
    encode(K::TYPE_NAME, key.to_uuid())
}

/// Reads a global id of type `K` from argument `field`. Text that is no global id at all is the
/// caller's mistake (BAD_USER_INPUT); a well-formed id of another type names nothing of this
/// type, exactly like an id that does not exist (NOT_FOUND).
pub fn parse_id<K: GlobalKey>(id: &ID, field: &'static str) -> Result<K, AppError> {
    let (type_name, uuid) = decode(id)
        .ok_or_else(|| AppError::bad_input(field, format!("{field} is not a valid id")))?;
    if type_name != K::TYPE_NAME {
        return Err(AppError::NotFound { entity: K::ENTITY });
    }
    Ok(K::from_uuid(uuid))
}

/// [`parse_id`] for an optional argument (a filter's id, say).
pub fn parse_optional_id<K: GlobalKey>(
    id: Option<ID>,
    field: &'static str,
) -> Result<Option<K>, AppError> {
    id.map(|id| parse_id(&id, field)).transpose()
}

/// The type name and key inside any global id.
pub fn decode(id: &ID) -> Option<(String, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(id.as_str()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (type_name, key) = text.split_once(':')?;
    Some((type_name.to_owned(), Uuid::parse_str(key).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::{ProductId, WarehouseId};

    #[test]
    fn an_id_reads_back_only_as_its_own_type() {
        let product = ProductId::generate();
        let id = global_id(product);
        assert_eq!(parse_id::<ProductId>(&id, "id").expect("own type"), product);
        assert!(matches!(
            parse_id::<WarehouseId>(&id, "id"),
            Err(AppError::NotFound {
                entity: "warehouse"
            })
        ));
        let raw = ID(product.to_string());
        assert!(matches!(
            parse_id::<ProductId>(&raw, "id"),
            Err(AppError::BadUserInput { .. })
        ));
    }
}
