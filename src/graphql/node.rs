//! `node(id:)`: refetch any object the API handed out by its global id alone (Relay's object
//! identification). Each type still needs its own view permission, checked here by type.

use async_graphql::{Context, ID, Interface, Object};

use super::carriers::{Carrier, CarrierService};
use super::catalogue::Product;
use super::ids::decode;
use super::parties::{Customer, Supplier};
use super::picking::PickList;
use super::places::{Location, Warehouse};
use super::purchasing::PurchaseOrder;
use super::putaway::PutAwayTask;
use super::receiving::Receipt;
use super::returns::CustomerReturn;
use super::roles::Role;
use super::selling::{Allocation, SalesOrder};
use super::shipping::Shipment;
use super::users::User;
use super::{ApiResult, parse_id, signed_in, tenant_db};
use crate::auth::guard::RequireSession;
use crate::auth::permission::Permission;
use crate::error::AppError;
use crate::service::{
    allocating, carriers, catalogue, parties, picking, places, purchasing, putaway, receiving,
    returns, roles, selling, shipping, users,
};

/// An object that can be fetched again by its global id with `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "&ID"))]
pub enum Node {
    Product(Product),
    Warehouse(Warehouse),
    Location(Location),
    User(User),
    Role(Role),
    Supplier(Supplier),
    Customer(Customer),
    PurchaseOrder(PurchaseOrder),
    Receipt(Receipt),
    PutAwayTask(PutAwayTask),
    Carrier(Carrier),
    CarrierService(CarrierService),
    SalesOrder(SalesOrder),
    Allocation(Allocation),
    PickList(PickList),
    Shipment(Shipment),
    CustomerReturn(CustomerReturn),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The product, warehouse, location, user, role, supplier, customer, purchase order,
    /// receipt, put-away task, carrier, carrier service level, sales order, allocation, pick
    /// list, shipment or customer return with this id, if the caller may see that type
    /// (FORBIDDEN names the permission). An id of any other kind, of another organisation, or of
    /// nothing at all is NOT_FOUND.
    #[graphql(guard = "RequireSession")]
    async fn node(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Node> {
        let (type_name, _) =
            decode(&id).ok_or_else(|| AppError::bad_input("id", "id is not a valid id"))?;
        let caller = signed_in(ctx)?;
        let db = tenant_db(ctx)?;
        let needs = |permission: Permission| caller.require(permission);
        Ok(match type_name.as_str() {
            "Product" => {
                needs(Permission::ProductsView)?;
                Node::Product(catalogue::get(db, parse_id(&id, "id")?).await?.into())
            }
            "Warehouse" => {
                needs(Permission::WarehousesView)?;
                Node::Warehouse(places::warehouse(db, parse_id(&id, "id")?).await?.into())
            }
            "Location" => {
                needs(Permission::LocationsView)?;
                Node::Location(places::location(db, parse_id(&id, "id")?).await?.into())
            }
            "User" => {
                needs(Permission::UsersView)?;
                let model = users::get(caller, parse_id(&id, "id")?).await?;
                let role = roles::get(db, model.role_id).await?;
                Node::User(User::new(model, &role))
            }
            "Role" => {
                needs(Permission::RolesView)?;
                Node::Role(roles::get(db, parse_id(&id, "id")?).await?.into())
            }
            "Supplier" => {
                needs(Permission::SuppliersView)?;
                Node::Supplier(parties::supplier(db, parse_id(&id, "id")?).await?.into())
            }
            "Customer" => {
                needs(Permission::CustomersView)?;
                Node::Customer(parties::customer(db, parse_id(&id, "id")?).await?.into())
            }
            "PurchaseOrder" => {
                needs(Permission::ReceiptsView)?;
                Node::PurchaseOrder(purchasing::get(db, parse_id(&id, "id")?).await?.into())
            }
            "Receipt" => {
                needs(Permission::ReceiptsView)?;
                Node::Receipt(receiving::get(db, parse_id(&id, "id")?).await?.into())
            }
            "PutAwayTask" => {
                needs(Permission::ReceiptsView)?;
                Node::PutAwayTask(putaway::get(db, parse_id(&id, "id")?).await?.into())
            }
            "Carrier" => {
                needs(Permission::CarriersView)?;
                Node::Carrier(carriers::carrier(db, parse_id(&id, "id")?).await?.into())
            }
            "CarrierService" => {
                needs(Permission::CarriersView)?;
                Node::CarrierService(carriers::service(db, parse_id(&id, "id")?).await?.into())
            }
            "SalesOrder" => {
                needs(Permission::OrdersView)?;
                Node::SalesOrder(selling::get(db, parse_id(&id, "id")?).await?.into())
            }
            "Allocation" => {
                needs(Permission::PickingView)?;
                Node::Allocation(allocating::get(db, parse_id(&id, "id")?).await?.into())
            }
            "PickList" => {
                needs(Permission::PickingView)?;
                Node::PickList(picking::get(db, parse_id(&id, "id")?).await?.into())
            }
            "Shipment" => {
                needs(Permission::ShipmentsView)?;
                Node::Shipment(shipping::get(db, parse_id(&id, "id")?).await?.into())
            }
            "CustomerReturn" => {
                needs(Permission::OrdersView)?;
                Node::CustomerReturn(returns::get(db, parse_id(&id, "id")?).await?.into())
            }
            _ => return Err(AppError::NotFound { entity: "node" }.into()),
        })
    }
}
