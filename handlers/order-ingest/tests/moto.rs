//! order-ingest against a real moto server (DynamoDB, EventBridge -> SQS to count events).

use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use moto_harness::MotoServer;
use order_ingest::Ingest;
use serde_json::{json, Value};

struct Env {
    ingest: Ingest,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

async fn setup(moto: &MotoServer) -> Env {
    let config = common::sdk_config_for_endpoint(&moto.endpoint()).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let events = aws_sdk_eventbridge::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    common::dynamo::create_table(&dynamodb, "Orders", "pk", Some("sk"))
        .await
        .unwrap();
    common::dynamo::create_table(&dynamodb, "Idem", "id", None)
        .await
        .unwrap();
    events
        .create_event_bus()
        .name("orders")
        .send()
        .await
        .unwrap();
    let queue_url = sqs
        .create_queue()
        .queue_name("placed")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let queue_arn = "arn:aws:sqs:us-east-1:123456789012:placed";
    events
        .put_rule()
        .name("placed")
        .event_bus_name("orders")
        .event_pattern(
            json!({"source": ["orders.api"], "detail-type": ["OrderPlaced"]}).to_string(),
        )
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule("placed")
        .event_bus_name("orders")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("q")
                .arn(queue_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    Env {
        ingest: Ingest {
            dynamodb,
            events,
            orders_table: "Orders".into(),
            idempotency_table: "Idem".into(),
            event_bus: "orders".into(),
        },
        sqs,
        queue_url,
    }
}

fn sample() -> ApiGatewayV2httpRequest {
    serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/events/post-order.json"
        ))
        .unwrap(),
    )
    .unwrap()
}

fn body(r: &ApiGatewayV2httpResponse) -> Value {
    match &r.body {
        Some(Body::Text(t)) => serde_json::from_str(t).unwrap(),
        other => panic!("unexpected body {other:?}"),
    }
}

async fn published(env: &Env) -> Vec<Value> {
    let mut all = Vec::new();
    loop {
        let out = env
            .sqs
            .receive_message()
            .queue_url(&env.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if out.messages().is_empty() {
            return all;
        }
        for m in out.messages() {
            all.push(serde_json::from_str(m.body().unwrap()).unwrap());
            env.sqs
                .delete_message()
                .queue_url(&env.queue_url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn same_idempotency_key_twice_same_answer_one_order_one_event() {
    let moto = MotoServer::start();
    let env = setup(&moto).await;
    let first = order_ingest::handle(&env.ingest, sample()).await;
    assert_eq!(first.status_code, 202, "{:?}", first.body);
    let mut again = sample();
    again.request_context.request_id = Some("another-request".into());
    let second = order_ingest::handle(&env.ingest, again).await;
    assert_eq!(second.status_code, 202);
    assert_eq!(
        body(&first),
        json!({"orderId": "ord-1001", "status": "ACCEPTED", "statusUrl": "/orders/ord-1001"})
    );
    assert_eq!(body(&first), body(&second));
    assert_eq!(
        first.headers["x-correlation-id"],
        "c0ffee00-0000-4000-8000-000000000001"
    );

    let orders = env
        .ingest
        .dynamodb
        .scan()
        .table_name("Orders")
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!(orders.items().len(), 1);
    let order = common::dynamo::from_item(&orders.items()[0]);
    assert_eq!(
        (
            order["pk"].as_str(),
            order["sk"].as_str(),
            order["status"].as_str()
        ),
        (Some("ORDER#ord-1001"), Some("META"), Some("ACCEPTED"))
    );

    let events = published(&env).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["source"], "orders.api");
    assert_eq!(events[0]["detail-type"], "OrderPlaced");
    assert_eq!(events[0]["detail"]["orderId"], "ord-1001");
    assert_eq!(events[0]["detail"]["customerId"], "cust-42");
    assert_eq!(events[0]["detail"]["total"], 45.48);
    assert_eq!(
        events[0]["detail"]["correlationId"],
        "c0ffee00-0000-4000-8000-000000000001"
    );
}

#[tokio::test]
async fn malformed_bodies_answer_400_with_a_reason() {
    let moto = MotoServer::start();
    let env = setup(&moto).await;
    for (raw, reason) in [
        ("{not json", "malformed order"),
        ("", "empty"),
        (r#"{"customerId":"c","items":[],"total":3}"#, "items"),
        (
            r#"{"customerId":"c","items":[{"productId":"p","quantity":1}],"total":0}"#,
            "total",
        ),
        (
            r#"{"items":[{"productId":"p","quantity":1}],"total":3}"#,
            "customerId",
        ),
    ] {
        let mut req = sample();
        req.body = Some(raw.to_string());
        let resp = order_ingest::handle(&env.ingest, req).await;
        assert_eq!(resp.status_code, 400, "{raw}");
        let msg = body(&resp)["message"].as_str().unwrap().to_string();
        assert!(msg.contains(reason), "{raw}: {msg}");
    }
    assert!(env
        .ingest
        .dynamodb
        .scan()
        .table_name("Orders")
        .send()
        .await
        .unwrap()
        .items()
        .is_empty());
    assert!(published(&env).await.is_empty());
}
