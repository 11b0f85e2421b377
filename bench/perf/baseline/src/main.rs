//! Baseline for bench/perf/run.sh: answers W1 (the first 50 products by SKU, each with up to 5
//! stock balances and their location codes) and W2 (one product by id) with the JSON the service
//! sends, doing per request only what the service must: take a pooled connection, BEGIN, set the
//! tenant and the role for row-level security in one statement, run one query, COMMIT.
//!
//! There is no session: the organisation's id arrives in an `x-tenant` header (the service looks
//! its session up, which is part of what the service/baseline ratio measures). The operation is
//! chosen by `operationName`; the GraphQL text is not parsed.
//!
//!   BASELINE_DATABASE_URL=postgres://... BASELINE_LISTEN=127.0.0.1:18492 vaskem-bench-baseline

use std::env;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

/// The page and each product's balances (non-empty, in the locations' creation order, then by
/// lot, at most 5) in one query: a product without stock still comes back, with NULLs.
const PRODUCTS_WITH_BALANCES: &str = "SELECT p.id, p.sku, p.name, b.on_hand, b.code \
     FROM (SELECT id, sku, name FROM products WHERE tenant_id = $1 AND is_active \
           ORDER BY sku, id LIMIT 50) p \
     LEFT JOIN LATERAL (SELECT b.on_hand, b.location_id, b.lot_key, l.code \
           FROM stock_balances b \
           JOIN locations l ON l.tenant_id = b.tenant_id AND l.id = b.location_id \
           WHERE b.tenant_id = $1 AND b.product_id = p.id AND b.on_hand > 0 \
           ORDER BY b.location_id, b.lot_key LIMIT 5) b ON true \
     ORDER BY p.sku, p.id, b.location_id, b.lot_key";
const PRODUCT: &str = "SELECT id, sku, name FROM products WHERE tenant_id = $1 AND id = $2";
const SETTINGS: &str =
    "SELECT set_config('app.tenant_id', $1, true), set_config('role', 'vaskem_app', true)";

#[derive(Deserialize)]
struct Request {
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Value,
}

#[derive(Serialize)]
struct ProductNode {
    id: String,
    sku: String,
    name: String,
}

#[derive(Serialize)]
struct ScreenNode {
    id: String,
    sku: String,
    name: String,
    balances: Vec<BalanceNode>,
}

#[derive(Serialize)]
struct Location {
    code: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BalanceNode {
    location: Location,
    on_hand: i64,
}

fn global_id(type_name: &str, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}"))
}

fn product_uuid(id: &str) -> Option<Uuid> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
    Uuid::parse_str(text.strip_prefix("Product:")?).ok()
}

fn product_node(row: &tokio_postgres::Row) -> ProductNode {
    ProductNode {
        id: global_id("Product", row.get(0)),
        sku: row.get(1),
        name: row.get(2),
    }
}

fn fail(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (
        status,
        axum::Json(json!({ "errors": [{ "message": message.to_string() }] })),
    )
        .into_response()
}

async fn graphql(
    State(pool): State<Pool>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(tenant) = headers
        .get("x-tenant")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v).ok())
    else {
        return fail(StatusCode::UNAUTHORIZED, "x-tenant header missing");
    };
    let request: Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return fail(StatusCode::BAD_REQUEST, e),
    };
    match answer(&pool, tenant, &request).await {
        Ok(data) => axum::Json(json!({ "data": data })).into_response(),
        Err(e) => fail(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

async fn answer(
    pool: &Pool,
    tenant: Uuid,
    request: &Request,
) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let settings = tx.prepare_cached(SETTINGS).await?;
    tx.execute(&settings, &[&tenant.to_string()]).await?;
    let data = match request.operation_name.as_deref() {
        Some("W1") => {
            let query = tx.prepare_cached(PRODUCTS_WITH_BALANCES).await?;
            let mut products: Vec<ScreenNode> = Vec::with_capacity(50);
            for row in tx.query(&query, &[&tenant]).await? {
                let id: Uuid = row.get(0);
                let id = global_id("Product", id);
                if products.last().is_none_or(|last| last.id != id) {
                    products.push(ScreenNode {
                        id,
                        sku: row.get(1),
                        name: row.get(2),
                        balances: Vec::new(),
                    });
                }
                if let (Some(on_hand), Some(code)) =
                    (row.get::<_, Option<i64>>(3), row.get::<_, Option<String>>(4))
                {
                    if let Some(product) = products.last_mut() {
                        product.balances.push(BalanceNode {
                            location: Location { code },
                            on_hand,
                        });
                    }
                }
            }
            json!({ "products": { "nodes": products } })
        }
        Some("W2") => {
            let id = request
                .variables
                .get("id")
                .and_then(Value::as_str)
                .and_then(product_uuid)
                .ok_or("variable id is no product id")?;
            let product = tx.prepare_cached(PRODUCT).await?;
            let row = tx.query_opt(&product, &[&tenant, &id]).await?;
            json!({ "product": row.as_ref().map(product_node) })
        }
        _ => return Err("operationName must be W1 or W2".into()),
    };
    tx.commit().await?;
    Ok(data)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let url = env::var("BASELINE_DATABASE_URL")?;
    let listen = env::var("BASELINE_LISTEN").unwrap_or_else(|_| "127.0.0.1:18492".into());
    let manager = Manager::from_config(
        url.parse::<tokio_postgres::Config>()?,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager).max_size(10).build()?;
    let app = Router::new()
        .route("/graphql", post(graphql))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
