//! Ingest against a real DynamoDB API (moto).

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_dynamodb::types::AttributeValue;

#[tokio::test]
async fn writes_each_order_once_and_fails_only_bad_records() {
    let moto = moto_harness::MotoServer::start();
    let client =
        aws_sdk_dynamodb::Client::new(&common::sdk_config_for_endpoint(&moto.endpoint()).await);
    common::dynamo::create_table(&client, "Orders", "pk", Some("sk"))
        .await
        .unwrap();
    let event: SqsEvent =
        serde_json::from_str(include_str!("../events/ingest-queue.json")).unwrap();

    let r = order_ingest_worker::handle(&client, "Orders", &event).await;
    let failed: Vec<_> = r
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    // 0002 has no orderId, the client's idempotency key: a retry of it could not be told
    // from a new order, so it is refused rather than keyed on the SQS message ID.
    assert_eq!(failed, ["6f1c2b7e-0002", "6f1c2b7e-0003", "6f1c2b7e-0004"]);

    let key = |id: &str| {
        [
            ("pk".to_owned(), AttributeValue::S(format!("ORDER#{id}"))),
            ("sk".to_owned(), AttributeValue::S("META".into())),
        ]
    };
    let item = client
        .get_item()
        .table_name("Orders")
        .set_key(Some(key("ord-3001").into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["customerId"].as_s().unwrap(), "cust-7");
    assert_eq!(item["storeId"].as_s().unwrap(), "store-12");
    assert_eq!(
        item["createdAt"].as_s().unwrap(),
        "2025-03-01T12:00:00.000Z"
    );
    assert_eq!(item["version"].as_n().unwrap(), "1");
    let lines = item["items"].as_l().unwrap();
    assert_eq!(
        lines[0].as_m().unwrap()["productId"].as_s().unwrap(),
        "SKU-RED-MUG"
    );
    assert_eq!(item["total"].as_n().unwrap(), "64.5");
    assert!(client
        .get_item()
        .table_name("Orders")
        .set_key(Some(key("6f1c2b7e-0002").into()))
        .send()
        .await
        .unwrap()
        .item
        .is_none());

    // Redelivery: duplicates are skipped, the stored order is unchanged.
    client
        .update_item()
        .table_name("Orders")
        .set_key(Some(key("ord-3001").into()))
        .update_expression("SET #s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", AttributeValue::S("PAID".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        order_ingest_worker::ingest(&client, "Orders", &event.records[0])
            .await
            .unwrap(),
        order_ingest_worker::Ingested::Duplicate
    );
    let item = client
        .get_item()
        .table_name("Orders")
        .set_key(Some(key("ord-3001").into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["status"].as_s().unwrap(), "PAID");
    assert_eq!(
        client
            .scan()
            .table_name("Orders")
            .send()
            .await
            .unwrap()
            .count,
        1
    );
}
