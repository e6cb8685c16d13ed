//! OrderSaga (seed 002) through `ordersctl local run`: business outcomes in the endpoint.

use std::collections::HashMap;
use std::path::Path;

use aws_sdk_dynamodb::types::AttributeValue;
use moto_harness::MotoServer;
use ordersctl::local::trace::Hop;

use crate::{count, local_run, scan, sdk, FIXTURES};

type Item = HashMap<String, AttributeValue>;

async fn table(moto: &MotoServer, part: &str) -> Vec<Item> {
    let db = aws_sdk_dynamodb::Client::new(&sdk(moto).await);
    let tables = db.list_tables().send().await.unwrap();
    let name = tables
        .table_names()
        .iter()
        .find(|t| t.contains(part))
        .unwrap_or_else(|| panic!("a table named *{part}*"))
        .clone();
    scan(moto, &name).await
}

fn s(item: &Item, k: &str) -> String {
    match item.get(k) {
        Some(AttributeValue::S(v)) => v.clone(),
        Some(AttributeValue::N(v)) => v.clone(),
        other => panic!("{k}: {other:?} in {item:?}"),
    }
}

fn by_pk<'a>(items: &'a [Item], pk: &str) -> Option<&'a Item> {
    items
        .iter()
        .find(|i| i.get("pk") == Some(&AttributeValue::S(pk.into())))
}

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
        ["202", "401", "202", "202", "202", "202", "202", "200", "200", "404"],
        "{hops:#?}"
    );
    let status_of = |h: &Hop| h.detail.clone().unwrap_or_default();
    assert!(
        status_of(http[7]).contains(r#""status":"FULFILLED""#),
        "{:?}",
        http[7]
    );
    assert!(
        status_of(http[8]).contains(r#""status":"CANCELLED""#),
        "{:?}",
        http[8]
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
    ] {
        let order = by_pk(&orders, &format!("ORDER#{id}")).unwrap_or_else(|| panic!("{id}"));
        assert_eq!(s(order, "status"), want, "{id}: {order:?}");
    }
    let inventory = table(&moto, "-Inventory-").await;
    for (sku, left) in [
        ("sku-1", "8"),
        ("sku-2", "9"),
        ("sku-3", "10"),
        ("sku-4", "10"),
        ("sku-5", "10"),
    ] {
        let stock = by_pk(&inventory, &format!("PRODUCT#{sku}")).unwrap();
        assert_eq!(s(stock, "available"), left, "{sku}");
    }
    let mut reservations: Vec<String> = inventory
        .iter()
        .map(|i| s(i, "pk"))
        .filter(|pk| pk.starts_with("RESERVATION#"))
        .collect();
    reservations.sort();
    assert_eq!(
        reservations,
        ["RESERVATION#ord-1001#sku-1", "RESERVATION#ord-1002#sku-2"]
    );

    // Executions in the fixture's order: 1001, 1002, 1003, 1005, 1006, 1004.
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
    assert_eq!(starts.len(), 6);
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
    // Every execution succeeds, cancellations included: ExecutionsFailed stays quiet.
    assert_eq!(count(&hops, "execution", "succeeded"), 6);
    assert_eq!(count(&hops, "execution", "failed"), 0);
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
