//! OrderPipeline (seed 001) through `ordersctl local run`: business outcomes in the endpoint.

use std::path::Path;

use aws_sdk_dynamodb::types::AttributeValue;
use moto_harness::MotoServer;
use ordersctl::local::trace::Hop;

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
    assert_eq!(injected.len(), 6);
    // The batch's good records are stored at the first delivery; only the two poison
    // messages (not JSON; no createdAt, the sort key) come back, three times each, then
    // are redriven.
    let first = hops.iter().find(|h| h.kind == "esm").unwrap();
    assert_eq!(first.message_ids.len(), 6, "one batch: {first:?}");
    let mut poison = vec![
        injected[3].message_ids[0].clone(),
        injected[5].message_ids[0].clone(),
    ];
    poison.sort();
    for id in &poison {
        let deliveries = hops
            .iter()
            .filter(|h| h.kind == "esm" && h.message_ids.contains(id))
            .count();
        assert_eq!(deliveries, 3, "{hops:#?}");
    }
    for good in [0, 4] {
        let id = &injected[good].message_ids[0];
        let deliveries = hops
            .iter()
            .filter(|h| h.kind == "esm" && h.message_ids.contains(id))
            .count();
        assert_eq!(deliveries, 1, "{id}: {hops:#?}");
    }
    let redrive: Vec<&Hop> = hops.iter().filter(|h| h.kind == "redrive").collect();
    let mut redriven: Vec<String> = redrive
        .iter()
        .flat_map(|h| h.message_ids.iter().cloned())
        .collect();
    redriven.sort();
    assert_eq!(redriven, poison);
    assert!(redrive
        .iter()
        .all(|h| (h.from.as_str(), h.to.as_str()) == ("OrderCreatedQueue", "OrderCreatedDLQ")));
    // Every grant is in place: no call was denied.
    assert_eq!(count(&hops, "call", "denied"), 0);
    // The redeliveries waited the queue's 60 s visibility timeout on the engine's clock.
    let esm: Vec<&Hop> = hops.iter().filter(|h| h.kind == "esm").collect();
    assert!(
        esm[1].time > esm[0].time && esm[2].time > esm[1].time,
        "{esm:#?}"
    );
    assert_eq!(esm[0].correlation_id.as_deref(), Some("corr-o-1"));

    // o-1, sent three times, is stored once; o-2 from the poison messages' batch too; each
    // with a `ttl` 90 days ahead, on a table whose TTL is enabled on that attribute.
    let mut items = scan(&moto, "Orders").await;
    items.sort_by_key(|i| format!("{:?}", i["orderId"]));
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0]["orderId"], AttributeValue::S("o-1".into()));
    assert_eq!(items[1]["orderId"], AttributeValue::S("o-2".into()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for item in &items {
        assert_eq!(item["status"], AttributeValue::S("CONFIRMED".into()));
        let ttl: u64 = item["ttl"].as_n().unwrap().parse().unwrap();
        assert!(
            ttl > now + 89 * 24 * 3600 && ttl < now + 91 * 24 * 3600,
            "{item:?}"
        );
    }
    let db = aws_sdk_dynamodb::Client::new(&sdk(&moto).await);
    let ttl = db
        .describe_time_to_live()
        .table_name("Orders")
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some("ttl"));
    assert_eq!(
        ttl.time_to_live_status(),
        Some(&aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled)
    );
    let mut dead = drain(&moto, "OrderCreatedDLQ").await;
    dead.sort();
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[0], "this is not JSON");
    assert!(dead[1].contains("\"o-3\""), "{dead:?}");
    assert!(drain(&moto, "OrderCreatedQueue").await.is_empty());
}
