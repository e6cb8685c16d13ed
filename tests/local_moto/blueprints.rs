//! The blueprints run end to end.

use std::path::Path;

use aws_sdk_dynamodb::types::AttributeValue;
use moto_harness::MotoServer;
use ordersctl::local::trace::Hop;
use serde_json::Value;

use crate::{count, drain, local_run, scan, sdk, FIXTURES};

#[tokio::test(flavor = "multi_thread")]
async fn order_pipeline_stores_an_order_once_and_dead_letters_a_poison_message_after_three_receives(
) {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let hops = local_run(
        &moto,
        dir.path(),
        &["OrderPipeline"],
        &Path::new(FIXTURES).join("order-pipeline.json"),
    );

    let injected: Vec<&Hop> = hops.iter().filter(|h| h.kind == "inject").collect();
    assert_eq!(injected.len(), 4);
    let poison = injected[3].message_ids[0].clone();
    // Three deliveries of the poison message to the function, then the redrive.
    let deliveries = hops
        .iter()
        .filter(|h| h.kind == "esm" && h.message_ids.contains(&poison))
        .count();
    assert_eq!(deliveries, 3, "{hops:#?}");
    let redrive: Vec<&Hop> = hops.iter().filter(|h| h.kind == "redrive").collect();
    assert_eq!(redrive.len(), 1);
    assert_eq!(
        (redrive[0].from.as_str(), redrive[0].to.as_str()),
        ("OrderCreatedQueue", "OrderCreatedDLQ")
    );
    assert_eq!(redrive[0].message_ids, vec![poison]);
    // Every grant is in place: no call was denied.
    assert_eq!(count(&hops, "call", "denied"), 0);
    // The redeliveries waited the queue's 60 s visibility timeout on the engine's clock.
    let esm: Vec<&Hop> = hops.iter().filter(|h| h.kind == "esm").collect();
    assert!(
        esm[1].time > esm[0].time && esm[2].time > esm[1].time,
        "{esm:#?}"
    );
    assert_eq!(esm[0].correlation_id.as_deref(), Some("corr-o-1"));

    let items = scan(&moto, "Orders").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["orderId"], AttributeValue::S("o-1".into()));
    assert_eq!(items[0]["status"], AttributeValue::S("CONFIRMED".into()));
    assert_eq!(
        drain(&moto, "OrderCreatedDLQ").await,
        vec!["this is not JSON".to_string()]
    );
    assert!(drain(&moto, "OrderCreatedQueue").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn event_consumer_processes_each_event_once_retries_dead_letters_and_runs_its_workflow() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let hops = local_run(
        &moto,
        dir.path(),
        &["EventConsumer"],
        &Path::new(FIXTURES).join("event-consumer.json"),
    );

    // Four events match the rule; the one from another source does not.
    assert_eq!(count(&hops, "rule", "matched"), 4);
    assert_eq!(count(&hops, "rule", "unmatched"), 1);
    let processor: Vec<&Hop> = hops
        .iter()
        .filter(|h| h.kind == "invoke" && h.to == "EventProcessor")
        .collect();
    let outcomes: Vec<&str> = processor.iter().map(|h| h.outcome.as_str()).collect();
    // o-1 twice; p-1 crashes once then succeeds on Lambda's retry; p-2 crashes on all three attempts.
    assert_eq!(
        outcomes,
        ["ok", "ok", "failed", "ok", "failed", "failed", "failed"],
        "{processor:#?}"
    );
    assert_eq!(count(&hops, "call", "denied"), 0);
    let dead: Vec<&Hop> = hops.iter().filter(|h| h.kind == "destination").collect();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].to.as_str(), dead[0].outcome.as_str()),
        ("EventProcessorDLQ", "on-failure")
    );

    // The effect ran once per event: one PROCESSED record for o-1 (sent twice) and p-1.
    let db = aws_sdk_dynamodb::Client::new(&sdk(&moto).await);
    let tables = db.list_tables().send().await.unwrap();
    let table = tables
        .table_names()
        .iter()
        .find(|t| t.contains("IdempotencyTable"))
        .expect("the idempotency table")
        .clone();
    let mut processed: Vec<String> = scan(&moto, &table)
        .await
        .iter()
        .filter_map(|i| {
            i.get("id")
                .and_then(|v| v.as_s().ok())
                .filter(|id| id.starts_with("PROCESSED#"))
                .cloned()
        })
        .collect();
    processed.sort();
    assert_eq!(
        processed,
        [
            "PROCESSED#OrderCreated:o-1",
            "PROCESSED#PaymentProcessed:p-1"
        ]
    );
    // p-2's invocation record went to the on-failure destination.
    let records = drain(&moto, "EventProcessorDLQ").await;
    assert_eq!(records.len(), 1);
    let record: Value = serde_json::from_str(&records[0]).unwrap();
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(record["requestPayload"]["detail"]["id"], "p-2");

    // The ETL workflow loads a good batch and fails a bad one cleanly.
    let ends: Vec<&Hop> = hops
        .iter()
        .filter(|h| h.kind == "execution" && h.to == "end")
        .collect();
    assert_eq!(ends.len(), 2);
    assert_eq!(ends[0].outcome, "failed");
    assert!(
        ends[0].error.as_deref().unwrap().starts_with("EtlFailed"),
        "{ends:#?}"
    );
    assert_eq!(ends[1].outcome, "succeeded");
    assert!(ends[1]
        .detail
        .as_deref()
        .unwrap()
        .contains("\"status\":\"LOADED\""));
    // The daily schedule ran the maintenance function.
    assert_eq!(count(&hops, "schedule", "fired"), 1);
    assert!(hops
        .iter()
        .any(|h| h.kind == "invoke" && h.from == "DailyMaintenance" && h.outcome == "ok"));
}

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

#[tokio::test(flavor = "multi_thread")]
async fn omnichannel_orders_flow_from_the_api_through_the_queue_table_stream_pipe_and_bus() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    // Naming OmniApi brings the two stacks it imports from.
    let hops = local_run(
        &moto,
        dir.path(),
        &["OmniApi"],
        &Path::new(FIXTURES).join("omnichannel.json"),
    );

    let http: Vec<&Hop> = hops.iter().filter(|h| h.kind == "http").collect();
    let codes: Vec<&str> = http.iter().map(|h| h.outcome.as_str()).collect();
    // Accepted onto the ingest queue directly; refused without a token; read back; unknown.
    assert_eq!(codes, ["202", "401", "200", "404"], "{hops:#?}");
    assert!(http[0].to.contains("IngestQueue"));
    assert!(
        http[2].detail.as_deref().unwrap().contains("ord-3001"),
        "{:?}",
        http[2]
    );
    // The worker stores the order; its INSERT goes through the table's stream to the pipe
    // (OrderCreated on the lakeside bus, recorded by the archive) and to the projector.
    assert!(hops
        .iter()
        .any(|h| h.kind == "esm" && h.to.contains("OrderIngestWorker") && h.outcome == "ok"));
    let pipe: Vec<&Hop> = hops.iter().filter(|h| h.kind == "pipe").collect();
    assert_eq!(pipe.len(), 1, "{hops:#?}");
    assert_eq!(
        (pipe[0].to.as_str(), pipe[0].outcome.as_str()),
        ("lakeside-orders", "ok")
    );
    assert_eq!(count(&hops, "archive", "recorded"), 1);
    assert!(hops.iter().any(|h| h.kind == "esm"
        && h.from.ends_with("/stream")
        && h.to.contains("StatusProjector")
        && h.outcome == "ok"));
    // The fan-out rules deliver to their consumers, and the saga starts once.
    let rules: Vec<&str> = hops
        .iter()
        .filter(|h| h.kind == "rule" && h.outcome == "matched")
        .map(|h| h.to.as_str())
        .collect();
    assert_eq!(
        rules,
        [
            "InventoryRoute",
            "LoyaltyRoute",
            "MarketplaceSyncRoute",
            "StartSaga"
        ]
    );
    for consumer in [
        "InventoryConsumer",
        "LoyaltyConsumer",
        "MarketplaceSyncConsumer",
    ] {
        assert!(
            hops.iter()
                .any(|h| h.kind == "esm" && h.to.contains(consumer) && h.outcome == "ok"),
            "{consumer}"
        );
    }
    assert_eq!(count(&hops, "execution", "started"), 1);
    assert_eq!(count(&hops, "call", "denied"), 0);
}
