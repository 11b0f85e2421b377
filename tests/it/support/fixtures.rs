//! Fixtures made through the real API: an organisation ready for stock work in one call, and the
//! smaller builders the stock tests share.

use entity::TenantId;
use serde_json::{Value, json};

use super::app::Member;
use super::{Session, TestApp};

/// Adjusts stock; `$i` is an `AdjustStockInput`. Asks for `userErrors`, so [`TestApp::ok`] sees a
/// refusal.
pub const ADJUST: &str = "mutation ($i: AdjustStockInput!) { adjustStock(input: $i) { movements { id quantity fromPlace toPlace } balances { locationId onHand available } userErrors { field message } } }";

/// An organisation with its owner signed in, one warehouse (`JHB1`) with a location of each
/// kind stock work needs, and a product of each tracking mode. Ids are global ids.
pub struct StockSetup {
    pub tenant: TenantId,
    pub session: Session,
    pub warehouse: String,
    /// `RCV-01`, kind `receiving`.
    pub receiving: String,
    /// `A-01-01`, kind `storage`.
    pub a: String,
    /// `B-02-01`, kind `storage`.
    pub b: String,
    /// `P-01-01`, kind `picking`.
    pub picking: String,
    /// `SKU-1`, untracked.
    pub product: String,
    /// `LOT-1`, lot-tracked.
    pub lotted: String,
    /// `SER-1`, serial-tracked.
    pub serial: String,
}

impl TestApp {
    /// A new organisation named `name` set up for stock work (see [`StockSetup`]), in three
    /// requests; fails the test if any part is refused.
    pub async fn organisation_with_stock_setup(&self, name: &str) -> StockSetup {
        let Member {
            tenant, session, ..
        } = self.member_of_new_organisation(name).await;
        let product = |sku: &str, tracking: &str| json!({ "sku": sku, "name": format!("Product {sku}"), "tracking": tracking, "barcodes": [format!("600{sku}")] });
        let data = self
            .ok(
                &session,
                "mutation ($none: CreateProductInput!, $lot: CreateProductInput!, $serial: CreateProductInput!) {
                   warehouse: createWarehouse(input: { code: \"JHB1\", name: \"Johannesburg\" }) { warehouse { id } userErrors { field message } }
                   none: createProduct(input: $none) { product { id } userErrors { field message } }
                   lot: createProduct(input: $lot) { product { id } userErrors { field message } }
                   serial: createProduct(input: $serial) { product { id } userErrors { field message } }
                 }",
                json!({
                    "none": product("SKU-1", "NONE"),
                    "lot": product("LOT-1", "LOT"),
                    "serial": product("SER-1", "SERIAL"),
                }),
            )
            .await;
        let warehouse = id(&data["warehouse"]["warehouse"]);
        let location = |code: &str, kind: &str| json!({ "warehouseId": warehouse, "code": code, "kind": kind });
        let locations = self
            .ok(
                &session,
                "mutation ($r: CreateLocationInput!, $a: CreateLocationInput!, $b: CreateLocationInput!, $p: CreateLocationInput!) {
                   receiving: createLocation(input: $r) { location { id } userErrors { field message } }
                   a: createLocation(input: $a) { location { id } userErrors { field message } }
                   b: createLocation(input: $b) { location { id } userErrors { field message } }
                   picking: createLocation(input: $p) { location { id } userErrors { field message } }
                 }",
                json!({
                    "r": location("RCV-01", "RECEIVING"),
                    "a": location("A-01-01", "STORAGE"),
                    "b": location("B-02-01", "STORAGE"),
                    "p": location("P-01-01", "PICKING"),
                }),
            )
            .await;
        StockSetup {
            tenant,
            session,
            receiving: id(&locations["receiving"]["location"]),
            a: id(&locations["a"]["location"]),
            b: id(&locations["b"]["location"]),
            picking: id(&locations["picking"]["location"]),
            product: id(&data["none"]["product"]),
            lotted: id(&data["lot"]["product"]),
            serial: id(&data["serial"]["product"]),
            warehouse,
        }
    }

    /// Adds `change` units of an untracked product at `location` (a negative change takes them
    /// away); fails the test on any refusal. Returns the `adjustStock` payload.
    pub async fn adjust(
        &self,
        session: &Session,
        product: &str,
        location: &str,
        change: i64,
    ) -> Value {
        let data = self
            .ok(
                session,
                ADJUST,
                json!({ "i": { "productId": product, "locationId": location, "change": change, "reason": "found" } }),
            )
            .await;
        data["adjustStock"].clone()
    }
}

/// The `id` of an object in a reply.
#[track_caller]
fn id(object: &Value) -> String {
    object["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {object}"))
        .to_owned()
}

/// A warehouse with two locations and one untracked product, as the older tests build it.
pub struct Warehouse {
    pub warehouse: String,
    pub product: String,
    pub a: String,
    pub b: String,
}

/// Sends `document` as `session` and returns the whole reply, whatever it holds.
pub async fn call(app: &TestApp, session: &Session, document: &str, variables: Value) -> Value {
    let (_, body) = app.graphql_in(Some(session), document, variables).await;
    body
}

/// Creates a product (barcode `600<sku>`); returns its id.
pub async fn product(app: &TestApp, session: &Session, sku: &str, tracking: &str) -> String {
    let data = app
        .ok(
            session,
            "mutation ($i: CreateProductInput!) { createProduct(input: $i) { product { id } userErrors { field message } } }",
            json!({ "i": { "sku": sku, "name": format!("Product {sku}"), "tracking": tracking, "barcodes": [format!("600{sku}")] } }),
        )
        .await;
    id(&data["createProduct"]["product"])
}

/// Warehouse `JHB1` with storage locations `A-01-01` and `B-02-01` and product `SKU-1`.
pub async fn warehouse(app: &TestApp, session: &Session) -> Warehouse {
    let data = app
        .ok(
            session,
            "mutation { createWarehouse(input: { code: \"JHB1\", name: \"Johannesburg\" }) { warehouse { id } userErrors { field message } } }",
            json!({}),
        )
        .await;
    let warehouse = id(&data["createWarehouse"]["warehouse"]);
    let location = async |code: &str| {
        let data = app
            .ok(
                session,
                "mutation ($i: CreateLocationInput!) { createLocation(input: $i) { location { id } userErrors { field message } } }",
                json!({ "i": { "warehouseId": warehouse, "code": code } }),
            )
            .await;
        id(&data["createLocation"]["location"])
    };
    let a = location("A-01-01").await;
    let b = location("B-02-01").await;
    Warehouse {
        product: product(app, session, "SKU-1", "NONE").await,
        warehouse,
        a,
        b,
    }
}

/// A carrier made by [`carrier`]: its id and its service levels' ids, in the order given.
pub struct Carrier {
    pub id: String,
    pub services: Vec<String>,
}

/// Creates carrier `code` (named `Carrier <code>`, tracked at
/// `https://track.example.com/<code>?n={tracking}`) with a service level of each code in
/// `services`, in two requests; fails the test on any refusal.
pub async fn carrier(app: &TestApp, session: &Session, code: &str, services: &[&str]) -> Carrier {
    let data = app
        .ok(
            session,
            "mutation ($i: CreateCarrierInput!) { createCarrier(input: $i) { carrier { id } userErrors { field message } } }",
            json!({ "i": { "code": code, "name": format!("Carrier {code}"), "trackingUrlTemplate": format!("https://track.example.com/{code}?n={{tracking}}") } }),
        )
        .await;
    let carrier = id(&data["createCarrier"]["carrier"]);
    if services.is_empty() {
        return Carrier {
            id: carrier,
            services: Vec::new(),
        };
    }
    let adds: String = services
        .iter()
        .enumerate()
        .map(|(i, service)| {
            format!(
                "s{i}: addCarrierService(input: {{ carrierId: $c, code: \"{service}\", name: \"Service {service}\" }}) {{ carrierService {{ id }} userErrors {{ field message }} }} "
            )
        })
        .collect();
    let data = app
        .ok(
            session,
            &format!("mutation ($c: ID!) {{ {adds}}}"),
            json!({ "c": carrier }),
        )
        .await;
    Carrier {
        services: (0..services.len())
            .map(|i| id(&data[format!("s{i}")]["carrierService"]))
            .collect(),
        id: carrier,
    }
}
