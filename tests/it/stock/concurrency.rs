//! The ledger under parallel requests (PostgreSQL: row locks in one order).

use serde_json::{Value, json};
use vaskem::tenancy::TenantDb;

use super::{ADJUST, call, on_hand};
use crate::support::app::error_code;
use crate::support::{Backend, TestApp, assert_ok};

/// Fifty parallel requests each take one unit of the ten on hand: exactly ten succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_fifty_parallel_takes_of_ten_units() {
    let checks = crate::support::Checks::begin();
    let app = TestApp::start(Backend::Postgres).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let s = &w.session;
    app.adjust(s, &w.product, &w.a, 10).await;
    let takes = (0..50).map(|n| {
        let (app, s, w) = (&app, s, &w);
        async move {
            call(app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": -1, "reason": "picked", "note": format!("take {n}") } })).await
        }
    });
    let replies = futures::future::join_all(takes).await;
    let (succeeded, refused): (Vec<&Value>, Vec<&Value>) =
        replies.iter().partition(|r| r["errors"].is_null());
    for reply in &succeeded {
        assert_ok(reply);
    }
    assert_eq!(succeeded.len(), 10, "takes that succeeded");
    assert_eq!(refused.len(), 40);
    for reply in refused {
        assert_eq!(error_code(reply), Some("CONFLICT"), "{reply}");
        assert!(
            reply["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("0 available, 1 requested"),
            "{reply}"
        );
    }
    assert_eq!(on_hand(&app, s, &w.product, &w.a).await, 0);
    let tx = TenantDb::for_operator(&app.database.db, w.tenant)
        .read()
        .await
        .expect("read");
    let movements = tx
        .all(<entity::stock_movement::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("movements");
    assert_eq!(
        movements.iter().filter(|m| m.reason == "picked").count(),
        10
    );
    let events = tx
        .all(<entity::audit_event::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("events");
    assert_eq!(
        events.iter().filter(|e| e.action == "stock.adjust").count(),
        11,
        "the +10 and ten takes"
    );
    drop(tx);
    // The teardown proves the balances still equal the movements.
    checks.finish().await;
}
