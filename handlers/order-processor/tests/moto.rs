//! order-processor against a real moto server.

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_dynamodb::Client;
use moto_harness::MotoServer;
use serde_json::{json, Value};

const TABLE: &str = "Orders";

async fn setup(moto: &MotoServer) -> Client {
    let client = Client::new(&common::sdk_config_for_endpoint(&moto.endpoint()).await);
    common::dynamo::create_table(&client, TABLE, "orderId", Some("createdAt"))
        .await
        .unwrap();
    client
}

fn record(message_id: &str, body: Value, sent: &str) -> Value {
    let body = match body {
        Value::String(s) => s,
        other => other.to_string(),
    };
    json!({"messageId": message_id, "body": body, "attributes": {"SentTimestamp": sent}, "messageAttributes": {}, "eventSource": "aws:sqs"})
}

fn order(id: &str, created_at: Option<&str>) -> Value {
    let mut o = json!({"orderId": id, "customerId": "c-1", "items": [{"productId": "p", "quantity": 1}], "totalAmount": 12.5});
    if let Some(c) = created_at {
        o["createdAt"] = json!(c);
    }
    o
}

fn event(records: Vec<Value>) -> SqsEvent {
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

async fn scan(client: &Client) -> Vec<Value> {
    let out = client
        .scan()
        .table_name(TABLE)
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    out.items()
        .iter()
        .map(|i| Value::Object(common::dynamo::from_item(i)))
        .collect()
}

#[tokio::test]
async fn each_order_three_times_is_stored_once() {
    let moto = MotoServer::start();
    let client = setup(&moto).await;
    // a producer retry (new message IDs, order carries createdAt) ...
    for (n, batch) in [0, 1, 2].into_iter().map(|n| {
        (
            n,
            vec![record(
                &format!("a-{n}"),
                order("o-1", Some("2024-05-01T10:00:00Z")),
                "1714557600000",
            )],
        )
    }) {
        let resp = order_processor::handle(&client, TABLE, event(batch)).await;
        assert!(
            resp.batch_item_failures.is_empty(),
            "delivery {n}: {resp:?}"
        );
    }
    // ... and an SQS redelivery of one message, twice in one batch and once more in the next
    let same = record(
        "b-1",
        order("o-2", Some("2024-05-01T10:00:01Z")),
        "1714557601000",
    );
    let resp =
        order_processor::handle(&client, TABLE, event(vec![same.clone(), same.clone()])).await;
    assert!(resp.batch_item_failures.is_empty());
    let resp = order_processor::handle(&client, TABLE, event(vec![same])).await;
    assert!(resp.batch_item_failures.is_empty());

    let items = scan(&client).await;
    assert_eq!(items.len(), 2, "{items:#?}");
    let o1 = items.iter().find(|i| i["orderId"] == "o-1").unwrap();
    assert_eq!(o1["status"], "CONFIRMED");
    assert_eq!(o1["itemCount"], 1);
    assert_eq!(o1["sqsMessageId"], "a-0");
    assert_eq!(o1["createdAt"], "2024-05-01T10:00:00Z");
    assert!(o1["ttl"].as_u64().unwrap() > common::dynamo::epoch_seconds() + 89 * 24 * 3600);
    assert!(o1["processedAt"].as_str().unwrap().ends_with('Z'));
    let o2 = items.iter().find(|i| i["orderId"] == "o-2").unwrap();
    assert_eq!(o2["createdAt"], "2024-05-01T10:00:01Z");
}

#[tokio::test]
async fn poison_records_are_reported_and_the_rest_stored() {
    let moto = MotoServer::start();
    let client = setup(&moto).await;
    let batch = vec![
        record(
            "good-1",
            order("g-1", Some("2024-05-01T00:00:00Z")),
            "1714557600000",
        ),
        // without its sort key an order has no identity to be stored once by
        record("bad-created", order("n-1", None), "1714557600000"),
        record("bad-json", json!("{not json"), "1714557600000"),
        record(
            "bad-items",
            json!({"orderId": "x", "customerId": "c", "items": [], "totalAmount": 3}),
            "1714557600000",
        ),
        record(
            "good-2",
            order("g-2", Some("2024-05-02T00:00:00Z")),
            "1714557600000",
        ),
        record(
            "bad-total",
            json!({"orderId": "y", "customerId": "c", "items": [1], "totalAmount": 0}),
            "1714557600000",
        ),
        record(
            "bad-customer",
            json!({"orderId": "z", "items": [1], "totalAmount": 3}),
            "1714557600000",
        ),
    ];
    let resp = order_processor::handle(&client, TABLE, event(batch)).await;
    let mut failed: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    failed.sort();
    assert_eq!(
        failed,
        [
            "bad-created",
            "bad-customer",
            "bad-items",
            "bad-json",
            "bad-total"
        ]
    );
    let mut stored: Vec<_> = scan(&client)
        .await
        .iter()
        .map(|i| i["orderId"].as_str().unwrap().to_string())
        .collect();
    stored.sort();
    assert_eq!(stored, ["g-1", "g-2"]);
}

#[tokio::test]
async fn sample_event_parses_and_is_processed() {
    let moto = MotoServer::start();
    let client = setup(&moto).await;
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/events/sqs-orders.json"
    ))
    .unwrap();
    let resp =
        order_processor::handle(&client, TABLE, serde_json::from_str(&sample).unwrap()).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(scan(&client).await.len(), 2);
}
