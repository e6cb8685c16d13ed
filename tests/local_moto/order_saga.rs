//! OrderSaga (seed 002) through `ordersctl local run`: business outcomes in the endpoint.

use std::path::Path;

use moto_harness::MotoServer;
use ordersctl::local::trace::Hop;

use crate::{count, find, local_run, table, text, FIXTURES};

/// The states one execution (by its order) went through, in order.
fn states_of(hops: &[Hop], execution: &str) -> Vec<String> {
    hops.iter()
        .filter(|h| h.kind == "task" && h.from.starts_with("FulfillmentSaga/"))
        .filter(|h| h.execution_id.as_deref() == Some(execution))
        .map(|h| format!("{} {}", &h.from["FulfillmentSaga/".len()..], h.outcome))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn order_saga_fulfils_approves_rejects_times_out_and_compensates() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let hops = local_run(
        &moto,
        dir.path(),
        &["OrderSaga"],
        &Path::new(FIXTURES).join("order-saga.json"),
    );

    // Accepted with 202 (refused without a token); the status route reads each state.
    let http: Vec<&Hop> = hops.iter().filter(|h| h.kind == "http").collect();
    let codes: Vec<&str> = http.iter().map(|h| h.outcome.as_str()).collect();
    assert_eq!(
        codes,
        ["202", "401", "202", "202", "202", "202", "202", "202", "200", "200", "404"],
        "{hops:#?}"
    );
    let status_of = |h: &Hop| h.detail.clone().unwrap_or_default();
    assert!(
        status_of(http[8]).contains(r#""status":"FULFILLED""#),
        "{:?}",
        http[8]
    );
    assert!(
        status_of(http[9]).contains(r#""status":"CANCELLED""#),
        "{:?}",
        http[9]
    );

    // Each order's outcome in the orders table; stock decremented once for the two
    // fulfilled orders and restored for every cancelled one.
    let orders = table(&moto, "-Orders-").await;
    for (id, want) in [
        ("ord-1001", "FULFILLED"), // small: no approval
        ("ord-1002", "FULFILLED"), // approved
        ("ord-1003", "CANCELLED"), // approval rejected with SendTaskFailure("Rejected")
        ("ord-1004", "CANCELLED"), // approval timed out after 24 h (engine clock)
        ("ord-1005", "CANCELLED"), // approved, payment declined: compensated
        ("ord-1006", "CANCELLED"), // nothing in stock
        ("ord-1007", "CANCELLED"), // rejected, and the release kept failing
    ] {
        let order = find(&orders, "pk", &format!("ORDER#{id}"))[0];
        assert_eq!(text(order, "status"), want, "{id}: {order:?}");
    }
    let inventory = table(&moto, "-Inventory-").await;
    for (sku, left) in [
        ("sku-1", "8"),
        ("sku-2", "9"),
        ("sku-3", "10"),
        ("sku-4", "10"),
        ("sku-5", "10"),
        ("sku-7", "8"), // its release kept failing: left reserved, for reconciliation
    ] {
        let stock = find(&inventory, "pk", &format!("PRODUCT#{sku}"))[0];
        assert_eq!(text(stock, "available"), left, "{sku}");
    }
    let mut reservations: Vec<String> = inventory
        .iter()
        .map(|i| text(i, "pk"))
        .filter(|pk| pk.starts_with("RESERVATION#"))
        .collect();
    reservations.sort();
    assert_eq!(
        reservations,
        [
            "RESERVATION#ord-1001#sku-1",
            "RESERVATION#ord-1002#sku-2",
            "RESERVATION#ord-1007#sku-7"
        ]
    );

    // Executions in the fixture's order: 1001, 1002, 1003, 1005, 1006, 1004, 1007.
    // Compensation in reverse order: the declined payment releases the stock, then cancels.
    let starts: Vec<String> = hops
        .iter()
        .filter(|h| h.kind == "task" && h.from == "FulfillmentSaga/ReserveInventory")
        .filter_map(|h| h.execution_id.clone())
        .fold(Vec::new(), |mut v, e| {
            if !v.contains(&e) {
                v.push(e);
            }
            v
        });
    assert_eq!(starts.len(), 7);
    assert_eq!(
        states_of(&hops, &starts[3]),
        [
            "ReserveInventory ok",
            "AwaitApproval waiting for token",
            "ChargePayment failed",
            "ReleaseInventory ok",
            "CancelOrder ok"
        ]
    );
    // Business answers are not retried; no stock means nothing to release.
    assert_eq!(
        states_of(&hops, &starts[4]),
        ["ReserveInventory failed", "CancelOrder ok"]
    );
    // A release that keeps failing (a crash, retried 3 times) still cancels the order, then
    // fails the execution as StockNotReleased: the one failure that pages.
    let release: Vec<String> = states_of(&hops, &starts[6])
        .into_iter()
        .filter(|s| s.starts_with("ReleaseInventory"))
        .collect();
    assert_eq!(release, vec!["ReleaseInventory failed"; 4]);
    assert_eq!(
        states_of(&hops, &starts[6]).last().map(String::as_str),
        Some("CancelOrder ok")
    );
    let failed: Vec<&Hop> = hops
        .iter()
        .filter(|h| h.kind == "execution" && h.outcome == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(
        failed[0]
            .error
            .as_deref()
            .unwrap_or_default()
            .starts_with("StockNotReleased"),
        "{failed:?}"
    );
    // Every other execution succeeds, cancellations included: ExecutionsFailed stays quiet.
    assert_eq!(count(&hops, "execution", "succeeded"), 6);
    assert_eq!(count(&hops, "call", "denied"), 0);

    // The customer of a fulfilled order is told through the topic: the gold e-mail
    // subscription takes ord-1001, not ord-1002 (standard tier), and the notifier runs.
    let subs: Vec<&str> = hops
        .iter()
        .filter(|h| h.kind == "subscription")
        .map(|h| h.outcome.as_str())
        .collect();
    assert_eq!(subs, ["delivered", "filtered"]);
    let notified: Vec<&Hop> = hops
        .iter()
        .filter(|h| h.kind == "esm" && h.to.contains("Notifier"))
        .collect();
    assert_eq!(notified.len(), 1);
    assert_eq!(notified[0].outcome, "ok");
    // Every bus event is archived.
    assert_eq!(
        count(&hops, "archive", "recorded"),
        hops.iter()
            .filter(|h| h.kind == "call" && h.to == "orders-bus")
            .count()
    );
}
