//! GET /orders/{id} against a real DynamoDB API (moto).

use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_sdk_dynamodb::types::AttributeValue;
use order_status_reader::Source;
use serde_json::Value;

const TABLE: &str = "OrderStatusView";

fn request(id: &str) -> ApiGatewayV2httpRequest {
    let mut v: Value = serde_json::from_str(include_str!("../events/get-order.json")).unwrap();
    v["pathParameters"]["id"] = id.into();
    serde_json::from_value(v).unwrap()
}

fn body(r: &ApiGatewayV2httpResponse) -> Value {
    match &r.body {
        Some(Body::Text(t)) => serde_json::from_str(t).unwrap(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn ok_not_found_and_bad_request() {
    let moto = moto_harness::MotoServer::start();
    let client =
        aws_sdk_dynamodb::Client::new(&common::sdk_config_for_endpoint(&moto.endpoint()).await);
    common::dynamo::create_table(&client, TABLE, "orderId", None)
        .await
        .unwrap();
    client
        .put_item()
        .table_name(TABLE)
        .item("orderId", AttributeValue::S("ord-2001".into()))
        .item("status", AttributeValue::S("SHIPPED".into()))
        .item(
            "updatedAt",
            AttributeValue::S("2025-03-01T14:30:00Z".into()),
        )
        .send()
        .await
        .unwrap();

    let r = order_status_reader::handle(&client, &Source::View(TABLE.into()), &request("ord-2001"))
        .await;
    assert_eq!(r.status_code, 200);
    assert_eq!(
        body(&r),
        serde_json::json!({"orderId": "ord-2001", "status": "SHIPPED", "updatedAt": "2025-03-01T14:30:00Z"})
    );
    assert_eq!(r.headers["x-correlation-id"], "corr-7f3a");
    assert_eq!(r.headers["content-type"], "application/json");

    let r = order_status_reader::handle(&client, &Source::View(TABLE.into()), &request("ord-9999"))
        .await;
    assert_eq!(r.status_code, 404);
    assert!(body(&r)["message"].as_str().unwrap().contains("ord-9999"));

    for bad in ["", "has space", "semi;colon", &"x".repeat(65)] {
        let r =
            order_status_reader::handle(&client, &Source::View(TABLE.into()), &request(bad)).await;
        assert_eq!(r.status_code, 400, "{bad:?}");
    }
}

#[tokio::test]
async fn the_single_table_layout_answers_the_orders_public_fields() {
    let moto = moto_harness::MotoServer::start();
    let client =
        aws_sdk_dynamodb::Client::new(&common::sdk_config_for_endpoint(&moto.endpoint()).await);
    common::dynamo::create_table(&client, "Orders", "pk", Some("sk"))
        .await
        .unwrap();
    client
        .put_item()
        .table_name("Orders")
        .item("pk", AttributeValue::S("ORDER#ord-7".into()))
        .item("sk", AttributeValue::S("META".into()))
        .item("orderId", AttributeValue::S("ord-7".into()))
        .item("status", AttributeValue::S("CANCELLED".into()))
        .item("idempotencyKey", AttributeValue::S("k-1".into()))
        .send()
        .await
        .unwrap();
    let source = Source::Orders("Orders".into());
    let r = order_status_reader::handle(&client, &source, &request("ord-7")).await;
    assert_eq!(r.status_code, 200);
    assert_eq!(
        body(&r),
        serde_json::json!({"orderId": "ord-7", "status": "CANCELLED"})
    );
    let r = order_status_reader::handle(&client, &source, &request("ord-8")).await;
    assert_eq!(r.status_code, 404);
}
