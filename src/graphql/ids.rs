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
    fn to_uuid(self) -> Uuid;
    fn from_uuid(uuid: Uuid) -> Self;
}

macro_rules! global_key {
    ($($key:ty => $type_name:literal;)*) => {$(
        impl GlobalKey for $key {
            const TYPE_NAME: &'static str = $type_name;
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
    entity::TenantId => "Organisation";
    entity::UserId => "User";
    entity::SessionId => "Session";
    entity::RoleId => "Role";
    entity::ProductId => "Product";
    entity::WarehouseId => "Warehouse";
    entity::LocationId => "Location";
    entity::LotId => "Lot";
    entity::MovementId => "StockMovement";
    entity::SupplierId => "Supplier";
    entity::CustomerId => "Customer";
    entity::CustomerAddressId => "CustomerAddress";
    entity::PurchaseOrderId => "PurchaseOrder";
    entity::PurchaseOrderLineId => "PurchaseOrderLine";
    entity::ReceiptId => "Receipt";
    entity::ReceiptLineId => "ReceiptLine";
    entity::PutAwayTaskId => "PutAwayTask";
    entity::CarrierId => "Carrier";
    entity::CarrierServiceId => "CarrierService";
    entity::SalesOrderId => "SalesOrder";
    entity::SalesOrderLineId => "SalesOrderLine";
    entity::PickListId => "PickList";
    entity::AllocationId => "Allocation";
    entity::PackageId => "Package";
    entity::ShipmentId => "Shipment";
    entity::ShipmentEventId => "ShipmentEvent";
    entity::CustomerReturnId => "CustomerReturn";
    entity::CustomerReturnLineId => "CustomerReturnLine";
    entity::BackupId => "Backup";
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
/// caller's mistake (BAD_USER_INPUT). A well-formed id of another type names nothing of this type:
/// it becomes the one key that is never generated (the max UUID; a v7 UUID's version bits rule it
/// out), so every service treats it exactly as an id that does not exist, in the same order of
/// checks and with the same message.
pub fn parse_id<K: GlobalKey>(id: &ID, field: &'static str) -> Result<K, AppError> {
    let (type_name, uuid) = decode(id)
        .ok_or_else(|| AppError::bad_input(field, format!("{field} is not a valid id")))?;
    if type_name != K::TYPE_NAME {
        return Ok(K::from_uuid(Uuid::max()));
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
    let uuid = Uuid::parse_str(key).ok()?;
    // One text per id: UUID spellings other than the one we hand out (upper case, braces, `urn:`,
    // no hyphens) are refused, so a client cache keyed on the text never holds one row twice.
    (uuid.hyphenated().to_string() == key).then(|| (type_name.to_owned(), uuid))
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
        let other = parse_id::<WarehouseId>(&id, "id").expect("well-formed");
        assert_eq!(other, WarehouseId(Uuid::max()));
        let shouting =
            ID(URL_SAFE_NO_PAD.encode(format!("Product:{}", product.0.to_string().to_uppercase())));
        assert!(matches!(
            parse_id::<ProductId>(&shouting, "id"),
            Err(AppError::BadUserInput { .. })
        ));
        let raw = ID(product.to_string());
        assert!(matches!(
            parse_id::<ProductId>(&raw, "id"),
            Err(AppError::BadUserInput { .. })
        ));
    }
}
