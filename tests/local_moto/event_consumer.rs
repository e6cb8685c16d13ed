//! EventConsumer (seed 000) through `ordersctl local run`: business outcomes in the endpoint.

use std::path::Path;

use moto_harness::MotoServer;
use ordersctl::local::trace::Hop;
use serde_json::Value;

use crate::{count, drain, local_run, scan, sdk, FIXTURES};

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
    let items = scan(&moto, &table).await;
    // Effect records expire with the table's TTL, as the idempotency records do.
    for item in items.iter().filter(|i| {
        i.get("id")
            .and_then(|v| v.as_s().ok())
            .is_some_and(|id| id.starts_with("PROCESSED#"))
    }) {
        assert!(
            item.get("ttl").and_then(|t| t.as_n().ok()).is_some(),
            "{item:?}"
        );
    }
    let mut processed: Vec<String> = items
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
