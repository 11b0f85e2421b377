//! SeaORM entities, one module per table, plus the id newtypes they share.
//!
//! Entities are storage, not API: GraphQL types live beside their resolvers and are built from these.

pub mod allocation;
pub mod audit_event;
pub mod audit_head;
pub mod carrier;
pub mod carrier_service;
pub mod customer;
pub mod customer_address;
pub mod customer_return;
pub mod customer_return_line;
pub mod document_counter;
pub mod ids;
pub mod location;
pub mod lot;
pub mod organisation;
pub mod package;
pub mod pick_list;
pub mod product;
pub mod product_barcode;
pub mod product_unit;
pub mod purchase_order;
pub mod purchase_order_line;
pub mod putaway_task;
pub mod receipt;
pub mod receipt_line;
pub mod role;
pub mod sales_order;
pub mod sales_order_line;
pub mod session;
pub mod shipment;
pub mod shipment_event;
pub mod shipment_package;
pub mod stock_balance;
pub mod stock_movement;
pub mod stock_request;
pub mod supplier;
pub mod user;
pub mod values;
pub mod warehouse;

pub use values::{
    ActorKind, AddressKind, AllocationStatus, CustomerReturnStatus, LocationKind, Outcome,
    PickListStatus, PlaceKind, PurchaseOrderStatus, PutAwayStatus, SalesOrderStatus,
    ShipmentStatus, Tracking,
};

pub use ids::{
    AllocationId, CarrierId, CarrierServiceId, CustomerAddressId, CustomerId, CustomerReturnId,
    CustomerReturnLineId, LocationId, LotId, MovementId, PackageId, PickListId, ProductId,
    PurchaseOrderId, PurchaseOrderLineId, PutAwayTaskId, ReceiptId, ReceiptLineId, RoleId,
    SalesOrderId, SalesOrderLineId, SessionId, ShipmentEventId, ShipmentId, ShipmentPackageId,
    SupplierId, TenantId, UserId, WarehouseId,
};

use sea_orm::EntityTrait;

/// An entity whose rows belong to one organisation.
///
/// Only the tenant-scoped handle (`vaskem::tenancy`) uses this: it adds `tenant_column = current
/// tenant` to every read, update and delete and stamps it on every insert. Implement it for every
/// table that has a `tenant_id`, and list it in [`tenant_scoped_tables`], which a test compares
/// with the database's own catalogue.
pub trait TenantScoped: EntityTrait {
    /// The non-null `tenant_id` column.
    fn tenant_column() -> Self::Column;
}

/// The table of every [`TenantScoped`] entity. Only such entities can be listed (see `table`),
/// and `tenancy::every_tenant_table_has_a_tenant_scoped_entity` fails when the database holds a
/// table with a tenant column that is missing here, so a new table cannot be forgotten.
pub fn tenant_scoped_tables() -> Vec<&'static str> {
    fn table<E: TenantScoped + Default>() -> &'static str {
        sea_orm::EntityName::table_name(&E::default())
    }
    vec![
        table::<allocation::Entity>(),
        table::<audit_event::Entity>(),
        table::<audit_head::Entity>(),
        table::<customer::Entity>(),
        table::<customer_address::Entity>(),
        table::<customer_return::Entity>(),
        table::<customer_return_line::Entity>(),
        table::<document_counter::Entity>(),
        table::<carrier::Entity>(),
        table::<carrier_service::Entity>(),
        table::<location::Entity>(),
        table::<lot::Entity>(),
        table::<organisation::Entity>(),
        table::<package::Entity>(),
        table::<pick_list::Entity>(),
        table::<product::Entity>(),
        table::<product_barcode::Entity>(),
        table::<product_unit::Entity>(),
        table::<purchase_order::Entity>(),
        table::<purchase_order_line::Entity>(),
        table::<putaway_task::Entity>(),
        table::<receipt::Entity>(),
        table::<receipt_line::Entity>(),
        table::<role::Entity>(),
        table::<sales_order::Entity>(),
        table::<sales_order_line::Entity>(),
        table::<session::Entity>(),
        table::<shipment::Entity>(),
        table::<shipment_event::Entity>(),
        table::<shipment_package::Entity>(),
        table::<stock_balance::Entity>(),
        table::<stock_movement::Entity>(),
        table::<stock_request::Entity>(),
        table::<supplier::Entity>(),
        table::<user::Entity>(),
        table::<warehouse::Entity>(),
    ]
}
