//! Purging against a real DynamoDB API (moto).

use aws_sdk_dynamodb::types::AttributeValue;

const TABLE: &str = "IdempotencyTable";

#[tokio::test]
async fn deletes_only_expired_records() {
    let moto = moto_harness::MotoServer::start();
    let client =
        aws_sdk_dynamodb::Client::new(&common::sdk_config_for_endpoint(&moto.endpoint()).await);
    common::dynamo::create_table(&client, TABLE, "id", None)
        .await
        .unwrap();
    let now = 1_740_900_000_u64;
    let records: [(&str, Option<u64>); 5] = [
        ("old-1", Some(now - 86_400 * 3)),
        ("old-2", Some(now - 1)),
        ("fresh", Some(now + 3_600)),
        ("exactly-now", Some(now)),
        ("no-ttl", None),
    ];
    for (id, ttl) in records {
        let mut put = client
            .put_item()
            .table_name(TABLE)
            .item("id", AttributeValue::S(id.into()))
            .item("status", AttributeValue::S("COMPLETED".into()));
        if let Some(t) = ttl {
            put = put.item("ttl", AttributeValue::N(t.to_string()));
        }
        put.send().await.unwrap();
    }

    let report = maintenance::purge_expired(&client, TABLE, "ttl", now)
        .await
        .unwrap();
    assert_eq!(report.expired, 2);
    assert_eq!(report.deleted, 2);
    assert_eq!(report.scanned, 5);
    let mut left: Vec<String> = client
        .scan()
        .table_name(TABLE)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .map(|i| i["id"].as_s().unwrap().clone())
        .collect();
    left.sort();
    assert_eq!(left, ["exactly-now", "fresh", "no-ttl"]);

    // A second run finds nothing.
    let again = maintenance::purge_expired(&client, TABLE, "ttl", now)
        .await
        .unwrap();
    assert_eq!((again.expired, again.deleted), (0, 0));
}
