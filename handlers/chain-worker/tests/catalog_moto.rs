//! allocate-inventory against a real DynamoDB API (moto).

use aws_sdk_dynamodb::types::AttributeValue;
use chain_worker::{Step, Worker};
use serde_json::{json, Value};

const TABLE: &str = "ProductCatalog";

async fn setup(moto: &moto_harness::MotoServer) -> aws_sdk_dynamodb::Client {
    let client =
        aws_sdk_dynamodb::Client::new(&common::sdk_config_for_endpoint(&moto.endpoint()).await);
    common::dynamo::create_table(&client, TABLE, "productId", None)
        .await
        .unwrap();
    for (id, stock) in [("P-KETTLE", 5), ("P-MUG", 10)] {
        client
            .put_item()
            .table_name(TABLE)
            .item("productId", AttributeValue::S(id.into()))
            .item("price", AttributeValue::N("7.5".into()))
            .item("stock", AttributeValue::N(stock.to_string()))
            .send()
            .await
            .unwrap();
    }
    client
}

async fn stock(client: &aws_sdk_dynamodb::Client, id: &str) -> i64 {
    let item = client
        .get_item()
        .table_name(TABLE)
        .key("productId", AttributeValue::S(id.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    item["stock"].as_n().unwrap().parse().unwrap()
}

fn event(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn allocate_then_release_restores_stock_exactly_once() {
    let moto = moto_harness::MotoServer::start();
    let dynamo = setup(&moto).await;
    let worker = Worker {
        step: Step::AllocateInventory,
        dynamo: dynamo.clone(),
        catalog_table: Some(TABLE.into()),
    };

    let out = worker
        .handle(event("allocate-inventory.json"))
        .await
        .unwrap();
    assert_eq!(out["status"], "ALLOCATED");
    assert_eq!(
        (
            stock(&dynamo, "P-KETTLE").await,
            stock(&dynamo, "P-MUG").await
        ),
        (4, 6)
    );

    // A retried allocation changes nothing.
    let out = worker
        .handle(event("allocate-inventory.json"))
        .await
        .unwrap();
    assert_eq!(out["status"], "ALREADY_ALLOCATED");
    assert_eq!(stock(&dynamo, "P-MUG").await, 6);

    let out = worker
        .handle(event("release-inventory.json"))
        .await
        .unwrap();
    assert_eq!(out["status"], "RELEASED");
    assert_eq!(
        (
            stock(&dynamo, "P-KETTLE").await,
            stock(&dynamo, "P-MUG").await
        ),
        (5, 10)
    );

    // Released once: a second release and a late allocate change nothing.
    let out = worker
        .handle(event("release-inventory.json"))
        .await
        .unwrap();
    assert_eq!(out["status"], "ALREADY_RELEASED");
    assert!(worker
        .handle(event("allocate-inventory.json"))
        .await
        .is_err());
    assert_eq!(
        (
            stock(&dynamo, "P-KETTLE").await,
            stock(&dynamo, "P-MUG").await
        ),
        (5, 10)
    );
}

#[tokio::test]
async fn short_stock_allocates_nothing() {
    let moto = moto_harness::MotoServer::start();
    let dynamo = setup(&moto).await;
    let worker = Worker {
        step: Step::AllocateInventory,
        dynamo: dynamo.clone(),
        catalog_table: Some(TABLE.into()),
    };
    let input = json!({"action": "allocate", "orderId": "big", "items": [{"productId": "P-KETTLE", "quantity": 1}, {"productId": "P-MUG", "quantity": 11}]});
    let err = worker.handle(input).await.unwrap_err();
    assert!(
        matches!(err, chain_worker::WorkerError::InsufficientStock(_)),
        "{err}"
    );
    assert_eq!(
        (
            stock(&dynamo, "P-KETTLE").await,
            stock(&dynamo, "P-MUG").await
        ),
        (5, 10)
    );
    // Nothing to release for an order that never allocated.
    let out = worker
        .handle(json!({"action": "release", "orderId": "big"}))
        .await
        .unwrap();
    assert_eq!(out["status"], "NOTHING_TO_RELEASE");
}
