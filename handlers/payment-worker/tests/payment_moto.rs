//! Payments against a real DynamoDB API (moto): once per order, bad records fail alone.

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_dynamodb::types::AttributeValue;
use payment_worker::PaymentWorker;

#[tokio::test]
async fn charges_each_order_once() {
    let moto = moto_harness::MotoServer::start();
    let client =
        aws_sdk_dynamodb::Client::new(&common::sdk_config_for_endpoint(&moto.endpoint()).await);
    common::dynamo::create_table(&client, "Orders", "pk", Some("sk"))
        .await
        .unwrap();
    common::dynamo::create_table(&client, "Idempotency", "id", None)
        .await
        .unwrap();
    client
        .put_item()
        .table_name("Orders")
        .item("pk", AttributeValue::S("ORDER#ord-1001".into()))
        .item("sk", AttributeValue::S("META".into()))
        .item("status", AttributeValue::S("PLACED".into()))
        .send()
        .await
        .unwrap();
    let worker = PaymentWorker::new(client.clone(), "Orders".into(), "Idempotency".into());
    let event: SqsEvent =
        serde_json::from_str(include_str!("../events/payment-queue.json")).unwrap();

    let r = worker.handle(&event).await;
    let failed: Vec<_> = r
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["a1b2c3d4-0003", "a1b2c3d4-0004"]);

    let order = client
        .get_item()
        .table_name("Orders")
        .key("pk", AttributeValue::S("ORDER#ord-1001".into()))
        .key("sk", AttributeValue::S("META".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(order["paymentStatus"].as_s().unwrap(), "CHARGED");
    assert_eq!(order["paymentAmount"].as_n().unwrap(), "129.5");

    // The duplicate in the batch and any later redelivery replay the stored result.
    let again = worker.process(&event.records[0]).await.unwrap();
    assert!(again.is_replay());
    let record = client
        .get_item()
        .table_name("Idempotency")
        .key("id", AttributeValue::S("payment#ord-1001".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(record["status"].as_s().unwrap(), "COMPLETED");
    assert!(record.contains_key("expiration"));
    // The failed order left no idempotency record behind, so a retry can charge it.
    assert!(client
        .get_item()
        .table_name("Idempotency")
        .key("id", AttributeValue::S("payment#ord-missing".into()))
        .send()
        .await
        .unwrap()
        .item
        .is_none());
}
