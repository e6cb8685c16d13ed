//! The omnichannel platform (seed 004) through `ordersctl local run`: business outcomes in
//! the endpoint.

use std::path::Path;

use moto_harness::MotoServer;
use ordersctl::local::trace::Hop;

use crate::{count, find, local_run, table, text, Item, FIXTURES};

#[tokio::test(flavor = "multi_thread")]
async fn omnichannel_orders_flow_from_the_api_to_a_fulfilled_or_cancelled_status_view() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    // Naming OmniApi brings the two stacks it imports from.
    let hops = local_run(
        &moto,
        dir.path(),
        &["OmniApi"],
        &Path::new(FIXTURES).join("omnichannel.json"),
    );

    // Accepted onto the ingest queue directly (the client's retry too); refused without a
    // token; each order's status read back from the view.
    let http: Vec<&Hop> = hops.iter().filter(|h| h.kind == "http").collect();
    let codes: Vec<&str> = http.iter().map(|h| h.outcome.as_str()).collect();
    assert_eq!(
        codes,
        ["202", "202", "202", "401", "202", "200", "200", "404"],
        "{hops:#?}"
    );
    assert!(http[0].to.contains("IngestQueue"));
    let body = |h: &Hop| h.detail.clone().unwrap_or_default();
    assert!(
        body(http[5]).contains(r#""status":"FULFILLED""#),
        "{:?}",
        http[5]
    );
    assert!(
        body(http[6]).contains(r#""status":"CANCELLED""#),
        "{:?}",
        http[6]
    );

    // One stored order per order ID: the client's retry of ord-3001 created nothing.
    let orders = table(&moto, "-Orders-").await;
    let metas: Vec<&Item> = orders.iter().filter(|i| text(i, "sk") == "META").collect();
    assert_eq!(metas.len(), 3, "{metas:#?}");
    let status = |id: &str| text(find(&orders, "pk", &format!("ORDER#{id}"))[0], "status");
    assert_eq!(status("ord-3001"), "FULFILLED");
    assert_eq!(status("ord-3002"), "CANCELLED"); // out of stock
    assert_eq!(status("ord-3004"), "CANCELLED"); // the store could not pick it
                                                 // Stock: two red mugs reserved once; the blue mug order (5 of 1) reserved nothing; the
                                                 // three red mugs of ord-3004 were reserved, then released after the refund.
    let stock = |sku: &str| {
        text(
            find(&orders, "pk", &format!("PRODUCT#{sku}"))[0],
            "available",
        )
    };
    assert_eq!(stock("SKU-RED-MUG"), "8");
    assert_eq!(stock("SKU-BLUE-MUG"), "1");
    let reservations: Vec<String> = orders
        .iter()
        .map(|i| text(i, "pk"))
        .filter(|pk| pk.starts_with("RESERVATION#"))
        .collect();
    assert_eq!(reservations, ["RESERVATION#ord-3001#SKU-RED-MUG"]);

    // No feedback loop: the pipe published exactly one OrderCreated per order, not the stock
    // or reservation items written to the same table; the saga ran once per order.
    let published: Vec<&Hop> = hops
        .iter()
        .filter(|h| h.kind == "pipe" && h.outcome == "ok")
        .collect();
    assert_eq!(published.len(), 3, "{hops:#?}");
    assert!(published.iter().all(|h| h.to == "lakeside-orders"));
    assert_eq!(count(&hops, "archive", "recorded"), 3);
    assert_eq!(count(&hops, "execution", "started"), 3);
    // The store's refusal compensates in reverse order: refund, then release, then cancel.
    let steps: Vec<String> = hops
        .iter()
        .filter(|h| h.kind == "task" && h.from.contains("FulfillmentSaga"))
        .map(|h| format!("{} {}", h.from.rsplit('/').next().unwrap(), h.outcome))
        .collect();
    let last = steps.iter().rposition(|s| s == "Reserve ok").unwrap();
    assert_eq!(
        steps[last..],
        [
            "Reserve ok",
            "Pay ok",
            "Allocate ok",
            "ConfirmWithStore waiting for token",
            "Refund ok",
            "ReleaseStock ok",
            "MarkCancelled ok"
        ],
        "{steps:#?}"
    );
    // A cancellation for want of stock is a business outcome: both executions succeed.
    assert_eq!(count(&hops, "execution", "succeeded"), 3);
    assert_eq!(count(&hops, "execution", "failed"), 0);
    // A duplicate OrderCreated (delivered twice more to the loyalty queue) finds the
    // consumer's idempotency record: one record per consumer and order, all COMPLETED.
    let consumed = table(&moto, "ConsumerIdempotency").await;
    let mut keys: Vec<String> = consumed.iter().map(|i| text(i, "id")).collect();
    keys.sort();
    let loyalty: Vec<&String> = keys.iter().filter(|k| k.contains("loyalty#")).collect();
    assert_eq!(
        loyalty,
        ["loyalty#ord-3001", "loyalty#ord-3002", "loyalty#ord-3004"],
        "{keys:?}"
    );
    assert!(consumed.iter().all(|i| text(i, "status") == "COMPLETED"));
    assert_eq!(keys.len(), 9, "3 consumers x 3 orders: {keys:?}");
    // The fan-out rules reach their consumers once per order.
    for consumer in [
        "InventoryConsumer",
        "LoyaltyConsumer",
        "MarketplaceSyncConsumer",
    ] {
        let runs = hops
            .iter()
            .filter(|h| h.kind == "esm" && h.to.contains(consumer) && h.outcome == "ok")
            .count();
        // Loyalty also got the two duplicates (in one batch or two).
        if consumer == "LoyaltyConsumer" {
            assert!((4..=5).contains(&runs), "{consumer}: {runs}");
        } else {
            assert_eq!(runs, 3, "{consumer}");
        }
    }

    // The read model follows the saga.
    let view = table(&moto, "OrderStatusView").await;
    assert_eq!(
        text(find(&view, "orderId", "ord-3001")[0], "status"),
        "FULFILLED"
    );
    assert_eq!(
        text(find(&view, "orderId", "ord-3002")[0], "status"),
        "CANCELLED"
    );

    // The customer of the fulfilled order is notified on the e-mail channel (not by SMS).
    let notified: Vec<(&str, &str)> = hops
        .iter()
        .filter(|h| h.kind == "subscription")
        .map(|h| (h.to.as_str(), h.outcome.as_str()))
        .collect();
    assert_eq!(
        notified,
        [
            ("email:local-NotificationEmail", "recorded"),
            ("local-NotificationPhone", "filtered")
        ]
    );
    assert_eq!(count(&hops, "call", "denied"), 0);

    // The correlation ID stamped at the edge (the API request's ID) is stored on the order
    // and carried by the event to the consumers.
    let first = find(&orders, "pk", "ORDER#ord-3001")[0];
    let correlation = text(first, "correlationId");
    assert_eq!(correlation, "http-00000001");
    let consumer_hops: Vec<&Hop> = hops
        .iter()
        .filter(|h| h.kind == "esm" && h.to.contains("Consumer"))
        .collect();
    assert!(
        consumer_hops
            .iter()
            .any(|h| h.correlation_id.as_deref() == Some(correlation.as_str())),
        "{consumer_hops:#?}"
    );
}
