//! The projection against a real DynamoDB API (moto).

use aws_lambda_events::event::dynamodb::Event;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

const TABLE: &str = "OrderStatusView";

fn event_with(status: &str, updated_at: &str, seq: &str) -> Event {
    let mut v: Value = serde_json::from_str(include_str!("../events/orders-stream.json")).unwrap();
    v["Records"][0]["dynamodb"]["NewImage"]["status"]["S"] = status.into();
    v["Records"][0]["dynamodb"]["NewImage"]["updatedAt"]["S"] = updated_at.into();
    v["Records"][0]["dynamodb"]["SequenceNumber"] = seq.into();
    serde_json::from_value(v).unwrap()
}

async fn view(client: &aws_sdk_dynamodb::Client) -> (String, String) {
    let item = client
        .get_item()
        .table_name(TABLE)
        .key("orderId", AttributeValue::S("ord-2001".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    (
        item["status"].as_s().unwrap().clone(),
        item["updatedAt"].as_s().unwrap().clone(),
    )
}

#[tokio::test]
async fn newer_records_win_and_older_ones_are_ignored() {
    let moto = moto_harness::MotoServer::start();
    let client =
        aws_sdk_dynamodb::Client::new(&common::sdk_config_for_endpoint(&moto.endpoint()).await);
    common::dynamo::create_table(&client, TABLE, "orderId", None)
        .await
        .unwrap();

    let r = status_projector::handle(
        &client,
        TABLE,
        &event_with("SHIPPED", "2025-03-01T14:30:00Z", "2"),
    )
    .await;
    assert!(r.batch_item_failures.is_empty());
    assert_eq!(
        view(&client).await,
        ("SHIPPED".into(), "2025-03-01T14:30:00Z".into())
    );
    // The ITEM# record in the same batch wrote nothing.
    let count = client.scan().table_name(TABLE).send().await.unwrap().count;
    assert_eq!(count, 1);

    // An older record (redelivered out of order) does not overwrite the view.
    let older = event_with("PAID", "2025-03-01T12:05:00Z", "1");
    let rec = &older.records[0];
    assert_eq!(
        status_projector::handle_record(&client, TABLE, rec)
            .await
            .unwrap(),
        status_projector::Projection::Stale
    );
    assert_eq!(
        view(&client).await,
        ("SHIPPED".into(), "2025-03-01T14:30:00Z".into())
    );

    // A newer one does.
    let r = status_projector::handle(
        &client,
        TABLE,
        &event_with("DELIVERED", "2025-03-02T09:00:00Z", "3"),
    )
    .await;
    assert!(r.batch_item_failures.is_empty());
    assert_eq!(
        view(&client).await,
        ("DELIVERED".into(), "2025-03-02T09:00:00Z".into())
    );
}

#[tokio::test]
async fn a_store_failure_is_reported_by_sequence_number() {
    let moto = moto_harness::MotoServer::start();
    let client =
        aws_sdk_dynamodb::Client::new(&common::sdk_config_for_endpoint(&moto.endpoint()).await);
    // No table: the META record fails, the ITEM# record is ignored.
    let r = status_projector::handle(
        &client,
        "Missing",
        &event_with("SHIPPED", "2025-03-01T14:30:00Z", "77"),
    )
    .await;
    let ids: Vec<_> = r
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap_or_default())
        .collect();
    assert_eq!(ids, ["77"]);
}
