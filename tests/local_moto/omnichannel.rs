//! The omnichannel platform (seed 004) through `ordersctl local run`: business outcomes in
//! the endpoint.

use std::path::Path;

use moto_harness::MotoServer;
use ordersctl::local::trace::Hop;

use crate::{count, local_run, FIXTURES};

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
