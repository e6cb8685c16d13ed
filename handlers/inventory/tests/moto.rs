//! inventory against a real moto server.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use inventory::{Action, Config};
use moto_harness::MotoServer;
use serde_json::json;

async fn setup(moto: &MotoServer, stock: &[(&str, u32)]) -> (Client, Config) {
    let client = Client::new(&common::sdk_config_for_endpoint(&moto.endpoint()).await);
    common::dynamo::create_table(&client, "Inventory", "pk", None)
        .await
        .unwrap();
    let config = Config {
        table: "Inventory".into(),
        sort_key: None,
    };
    for (product, available) in stock {
        client
            .put_item()
            .table_name("Inventory")
            .set_item(Some(config.product_key(product)))
            .item("available", AttributeValue::N(available.to_string()))
            .send()
            .await
            .unwrap();
    }
    (client, config)
}

async fn available(client: &Client, config: &Config, product: &str) -> i64 {
    let got = client
        .get_item()
        .table_name(&config.table)
        .set_key(Some(config.product_key(product)))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    got.item().unwrap()["available"]
        .as_n()
        .unwrap()
        .parse()
        .unwrap()
}

async fn reservations(client: &Client) -> usize {
    let items = client
        .scan()
        .table_name("Inventory")
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    items
        .items()
        .iter()
        .filter(|i| i["pk"].as_s().unwrap().starts_with("RESERVATION#"))
        .count()
}

fn order(id: &str, lines: &[(&str, u32)]) -> serde_json::Value {
    let items: Vec<_> = lines
        .iter()
        .map(|(p, q)| json!({"productId": p, "quantity": q}))
        .collect();
    json!({"detail": {"orderId": id, "items": items, "total": 10}})
}

#[tokio::test]
async fn reserve_is_all_or_nothing_and_release_runs_once() {
    let moto = MotoServer::start();
    let (client, config) = setup(&moto, &[("a", 5), ("b", 1)]).await;
    // b is short: nothing reserved, a untouched
    let err = inventory::handle(
        &client,
        &config,
        Action::Reserve,
        order("o-1", &[("a", 2), ("b", 2)]),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "OutOfStock");
    assert_eq!(
        (
            available(&client, &config, "a").await,
            available(&client, &config, "b").await
        ),
        (5, 1)
    );
    assert_eq!(reservations(&client).await, 0);

    let ok = inventory::handle(
        &client,
        &config,
        Action::Reserve,
        order("o-2", &[("a", 2), ("b", 1)]),
    )
    .await
    .unwrap();
    assert_eq!(ok["status"], "RESERVED");
    // a retried reserve (Step Functions Retry) does not reserve twice
    let again = inventory::handle(
        &client,
        &config,
        Action::Reserve,
        order("o-2", &[("a", 2), ("b", 1)]),
    )
    .await
    .unwrap();
    assert_eq!(again["alreadyReserved"], true);
    assert_eq!(
        (
            available(&client, &config, "a").await,
            available(&client, &config, "b").await
        ),
        (3, 0)
    );

    // compensation twice: stock restored once
    let first = inventory::handle(
        &client,
        &config,
        Action::Release,
        order("o-2", &[("a", 2), ("b", 1)]),
    )
    .await
    .unwrap();
    assert_eq!(first["released"], 2);
    let second = inventory::handle(
        &client,
        &config,
        Action::Release,
        order("o-2", &[("a", 2), ("b", 1)]),
    )
    .await
    .unwrap();
    assert_eq!(second["released"], 0);
    assert_eq!(
        (
            available(&client, &config, "a").await,
            available(&client, &config, "b").await
        ),
        (5, 1)
    );
    assert_eq!(reservations(&client).await, 0);
}

#[tokio::test]
async fn sample_event_reserves() {
    let moto = MotoServer::start();
    let (client, config) = setup(&moto, &[("sku-1", 2), ("sku-7", 1)]).await;
    let sample: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/events/saga-state.json"
        ))
        .unwrap(),
    )
    .unwrap();
    inventory::handle(&client, &config, Action::Reserve, sample)
        .await
        .unwrap();
    assert_eq!(available(&client, &config, "sku-1").await, 0);
}
