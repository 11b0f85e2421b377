//! The fixed value sets stored as text: tracking modes, location kinds, the places stock moves
//! between, and who acted and how it ended in the audit log. Each variant's `string_value` is exactly what the column (and its CHECK constraint,
//! where it has one) already holds, so the columns changed type in Rust only: no migration, no
//! data change. Services match on these; GraphQL has its own enums built from them with `From`.

use sea_orm::entity::prelude::*;

/// How a product's units are told apart (`products.tracking`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Tracking {
    /// Units are interchangeable.
    #[sea_orm(string_value = "none")]
    None,
    /// Units belong to lots (batches), each with an optional expiry date.
    #[sea_orm(string_value = "lot")]
    Lot,
    /// Each unit has its own serial number (a lot of one).
    #[sea_orm(string_value = "serial")]
    Serial,
}

/// What a location is for (`locations.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum LocationKind {
    #[sea_orm(string_value = "receiving")]
    Receiving,
    #[sea_orm(string_value = "storage")]
    Storage,
    #[sea_orm(string_value = "picking")]
    Picking,
    #[sea_orm(string_value = "shipping")]
    Shipping,
    #[sea_orm(string_value = "quarantine")]
    Quarantine,
}

/// Where a movement takes stock from or to (`stock_movements.from_place`, `.to_place`): a real
/// location (whose id is in the `*_location_id` column) or one of the virtual accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PlaceKind {
    #[sea_orm(string_value = "location")]
    Location,
    #[sea_orm(string_value = "supplier")]
    Supplier,
    #[sea_orm(string_value = "customer")]
    Customer,
    #[sea_orm(string_value = "adjustment")]
    Adjustment,
    #[sea_orm(string_value = "scrap")]
    Scrap,
    #[sea_orm(string_value = "in_transit")]
    InTransit,
}

/// What a customer address is for (`customer_addresses.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum AddressKind {
    /// Where invoices go.
    #[sea_orm(string_value = "billing")]
    Billing,
    /// Where goods go.
    #[sea_orm(string_value = "shipping")]
    Shipping,
}

/// Where a purchase order stands (`purchase_orders.status`). The service holds the transitions
/// (`service::purchasing`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PurchaseOrderStatus {
    /// Being written; lines may change.
    #[sea_orm(string_value = "draft")]
    Draft,
    /// Sent to the supplier; goods are expected.
    #[sea_orm(string_value = "ordered")]
    Ordered,
    /// Some goods have arrived, not all.
    #[sea_orm(string_value = "partially_received")]
    PartiallyReceived,
    /// Every line has arrived in full.
    #[sea_orm(string_value = "received")]
    Received,
    /// Closed without (all) its goods.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

/// Where a put-away task stands (`putaway_tasks.status`). The service holds the transitions
/// (`service::putaway`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PutAwayStatus {
    /// Some or all of the goods still wait in the receiving location.
    #[sea_orm(string_value = "open")]
    Open,
    /// All of them have been put away.
    #[sea_orm(string_value = "done")]
    Done,
}

/// Who an audit event's actor was (`audit_events.actor_kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ActorKind {
    /// A signed-in user, through the API.
    #[sea_orm(string_value = "user")]
    User,
    /// The operator, through the `vaskem` command line.
    #[sea_orm(string_value = "cli")]
    Cli,
}

/// How an audited attempt ended (`audit_events.outcome`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Outcome {
    #[sea_orm(string_value = "success")]
    Success,
    /// Refused: wrong credentials, bad input.
    #[sea_orm(string_value = "failure")]
    Failure,
    /// Refused by a rule: a locked-out account, a deactivated user.
    #[sea_orm(string_value = "denied")]
    Denied,
}

/// Where a sales order stands (`sales_orders.status`). The service holds the transitions
/// (`service::selling`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SalesOrderStatus {
    /// Being written; lines may change.
    #[sea_orm(string_value = "draft")]
    Draft,
    /// Agreed with the customer; waiting for stock to be reserved.
    #[sea_orm(string_value = "confirmed")]
    Confirmed,
    /// Stock is reserved for it.
    #[sea_orm(string_value = "allocated")]
    Allocated,
    /// On a pick list: pickers are fetching it.
    #[sea_orm(string_value = "picking")]
    Picking,
    /// Picked and packed into packages.
    #[sea_orm(string_value = "packed")]
    Packed,
    /// Handed to the carrier: the stock has left for the customer.
    #[sea_orm(string_value = "dispatched")]
    Dispatched,
    /// Closed without dispatch; its reservations were released.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

/// Where a pick list stands (`pick_lists.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PickListStatus {
    /// Some of its picks are still to be confirmed.
    #[sea_orm(string_value = "open")]
    Open,
    /// Every pick on it is confirmed.
    #[sea_orm(string_value = "completed")]
    Completed,
}

/// Where an allocation stands (`allocations.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum AllocationStatus {
    /// Reserved where it lies, waiting to be picked.
    #[sea_orm(string_value = "open")]
    Open,
    /// Picked: what was found lies reserved in the staging location.
    #[sea_orm(string_value = "picked")]
    Picked,
    /// Sent to the customer.
    #[sea_orm(string_value = "dispatched")]
    Dispatched,
    /// No longer held: the order was cancelled or nothing was found at the pick.
    #[sea_orm(string_value = "released")]
    Released,
}

/// Where a shipment stands (`shipments.status`). The service holds the transitions
/// (`service::shipping`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ShipmentStatus {
    /// Booked with the carrier; not yet collected.
    #[sea_orm(string_value = "created")]
    Created,
    /// With the carrier, on its way.
    #[sea_orm(string_value = "in_transit")]
    InTransit,
    /// Handed to the customer, who signed for it.
    #[sea_orm(string_value = "delivered")]
    Delivered,
    /// Held up: damaged, refused, address not found.
    #[sea_orm(string_value = "exception")]
    Exception,
}

/// Where an export of an organisation's data stands (`backups.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum BackupStatus {
    /// Being written.
    #[sea_orm(string_value = "running")]
    Running,
    /// Written: its size and SHA-256 are known and it can be downloaded until it expires.
    #[sea_orm(string_value = "ready")]
    Ready,
    /// Stopped by an error; nothing can be downloaded.
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// Where a customer return stands (`customer_returns.status`). The service holds the transitions
/// (`service::returns`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CustomerReturnStatus {
    /// In quarantine; nothing decided yet.
    #[sea_orm(string_value = "received")]
    Received,
    /// Some units restocked or scrapped, some still in quarantine.
    #[sea_orm(string_value = "partially_dispositioned")]
    PartiallyDispositioned,
    /// Every unit restocked or scrapped.
    #[sea_orm(string_value = "closed")]
    Closed,
}
