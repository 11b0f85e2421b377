//! SeaORM entities, one module per table, plus the id newtypes they share.
//!
//! Entities are storage, not API: GraphQL types live beside their resolvers and are built from these.

pub mod allocation;
pub mod audit_event;
pub mod audit_head;
pub mod backup;
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
    ActorKind, AddressKind, AllocationStatus, BackupStatus, CustomerReturnStatus, LocationKind,
    Outcome, PickListStatus, PlaceKind, PurchaseOrderStatus, PutAwayStatus, SalesOrderStatus,
    ShipmentStatus, Tracking,
};

pub use ids::{
    AllocationId, BackupId, CarrierId, CarrierServiceId, CustomerAddressId, CustomerId,
    CustomerReturnId, CustomerReturnLineId, LocationId, LotId, MovementId, PackageId, PickListId,
    ProductId, PurchaseOrderId, PurchaseOrderLineId, PutAwayTaskId, ReceiptId, ReceiptLineId,
    RoleId, SalesOrderId, SalesOrderLineId, SessionId, ShipmentEventId, ShipmentId,
    ShipmentPackageId, SupplierId, TenantId, UserId, WarehouseId,
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

/// Something done once per [`TenantScoped`] entity, typed (a backup streams each table).
pub trait TenantTableVisitor {
    fn visit<E: TenantScoped + Default>(&mut self);
}

/// Calls `visitor` with every [`TenantScoped`] entity, always in this order. This is the one list
/// of tenant tables: [`tenant_scoped_tables`] and the backup are both built from it, and
/// `tenancy::every_tenant_table_has_a_tenant_scoped_entity` fails when the database holds a
/// table with a tenant column that is missing here, so a new table cannot be forgotten.
pub fn visit_tenant_tables(visitor: &mut impl TenantTableVisitor) {
    visitor.visit::<allocation::Entity>();
    visitor.visit::<audit_event::Entity>();
    visitor.visit::<audit_head::Entity>();
    visitor.visit::<backup::Entity>();
    visitor.visit::<customer::Entity>();
    visitor.visit::<customer_address::Entity>();
    visitor.visit::<customer_return::Entity>();
    visitor.visit::<customer_return_line::Entity>();
    visitor.visit::<document_counter::Entity>();
    visitor.visit::<carrier::Entity>();
    visitor.visit::<carrier_service::Entity>();
    visitor.visit::<location::Entity>();
    visitor.visit::<lot::Entity>();
    visitor.visit::<organisation::Entity>();
    visitor.visit::<package::Entity>();
    visitor.visit::<pick_list::Entity>();
    visitor.visit::<product::Entity>();
    visitor.visit::<product_barcode::Entity>();
    visitor.visit::<product_unit::Entity>();
    visitor.visit::<purchase_order::Entity>();
    visitor.visit::<purchase_order_line::Entity>();
    visitor.visit::<putaway_task::Entity>();
    visitor.visit::<receipt::Entity>();
    visitor.visit::<receipt_line::Entity>();
    visitor.visit::<role::Entity>();
    visitor.visit::<sales_order::Entity>();
    visitor.visit::<sales_order_line::Entity>();
    visitor.visit::<session::Entity>();
    visitor.visit::<shipment::Entity>();
    visitor.visit::<shipment_event::Entity>();
    visitor.visit::<shipment_package::Entity>();
    visitor.visit::<stock_balance::Entity>();
    visitor.visit::<stock_movement::Entity>();
    visitor.visit::<stock_request::Entity>();
    visitor.visit::<supplier::Entity>();
    visitor.visit::<user::Entity>();
    visitor.visit::<warehouse::Entity>();
}

/// The table of every [`TenantScoped`] entity (see [`visit_tenant_tables`]).
pub fn tenant_scoped_tables() -> Vec<&'static str> {
    struct Names(Vec<&'static str>);
    impl TenantTableVisitor for Names {
        fn visit<E: TenantScoped + Default>(&mut self) {
            self.0.push(sea_orm::EntityName::table_name(&E::default()));
        }
    }
    let mut names = Names(Vec::new());
    visit_tenant_tables(&mut names);
    names.0
}
