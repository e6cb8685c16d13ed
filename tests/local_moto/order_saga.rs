//! OrderSaga (seed 002) through `ordersctl local run`: business outcomes in the endpoint.

use std::path::Path;

use aws_sdk_dynamodb::types::AttributeValue;
use moto_harness::MotoServer;

use crate::{count, local_run, scan, sdk, FIXTURES};

#[tokio::test(flavor = "multi_thread")]
async fn order_saga_takes_an_order_over_http_and_cancels_it_when_nothing_is_in_stock() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let hops = local_run(
        &moto,
        dir.path(),
        &["OrderSaga"],
        &Path::new(FIXTURES).join("order-saga.json"),
    );

    // The authorized request is accepted, the one without a token refused at the authorizer.
    let http: Vec<&str> = hops
        .iter()
        .filter(|h| h.kind == "http")
        .map(|h| h.outcome.as_str())
        .collect();
    assert_eq!(http, ["202", "401"], "{hops:#?}");
    // OrderPlaced fans out to the payment queue and the saga.
    assert_eq!(count(&hops, "rule", "matched"), 2);
    assert!(hops
        .iter()
        .any(|h| h.kind == "esm" && h.to.contains("PaymentWorker") && h.outcome == "ok"));
    // No stock exists, so the reservation fails, is retried, and the saga cancels the order.
    let end = hops
        .iter()
        .find(|h| h.kind == "execution" && h.to == "end")
        .expect("the saga ended");
    assert_eq!(end.outcome, "failed");
    assert!(
        end.error.as_deref().unwrap().starts_with("OrderCancelled"),
        "{end:?}"
    );
    assert!(count(&hops, "state", "retry") >= 1);
    // The order's changes reach the stream publisher through the table's stream.
    assert!(hops.iter().any(|h| h.kind == "esm"
        && h.from.ends_with("/stream")
        && h.to.contains("OrderStreamPublisher")
        && h.outcome == "ok"));
    let db = aws_sdk_dynamodb::Client::new(&sdk(&moto).await);
    let tables = db.list_tables().send().await.unwrap();
    let orders = tables
        .table_names()
        .iter()
        .find(|t| t.contains("-Orders-"))
        .expect("the orders table")
        .clone();
    let items = scan(&moto, &orders).await;
    let order = items
        .iter()
        .find(|i| i.get("orderId") == Some(&AttributeValue::S("ord-1001".into())))
        .expect("ord-1001 stored");
    assert_eq!(
        order.get("status"),
        Some(&AttributeValue::S("CANCELLED".into())),
        "{order:?}"
    );
    assert!(!items
        .iter()
        .any(|i| i.get("orderId") == Some(&AttributeValue::S("ord-1002".into()))));
    // The notification subscription takes gold e-mail notifications only, delivered raw.
    let subs: Vec<&str> = hops
        .iter()
        .filter(|h| h.kind == "subscription")
        .map(|h| h.outcome.as_str())
        .collect();
    assert_eq!(subs, ["delivered", "filtered"]);
    assert!(hops
        .iter()
        .any(|h| h.kind == "esm" && h.to.contains("Notifier") && h.outcome == "ok"));
}
