//! Publishing against moto: an EventBridge rule on the bus forwards OrderStatusChanged to an
//! SQS queue, and the queue must hold exactly one event per status change.

use aws_lambda_events::event::dynamodb::Event;
use aws_sdk_eventbridge::types::Target;
use serde_json::Value;

#[tokio::test]
async fn one_event_per_status_change_reaches_a_rule_target() {
    let moto = moto_harness::MotoServer::start();
    let config = common::sdk_config_for_endpoint(&moto.endpoint()).await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);

    events
        .create_event_bus()
        .name("orders-bus")
        .send()
        .await
        .unwrap();
    let queue_url = sqs
        .create_queue()
        .queue_name("status-changes")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = format!(
        "arn:aws:sqs:us-east-1:{}:status-changes",
        moto_harness::ACCOUNT_ID
    );
    events
        .put_rule()
        .name("StatusChanged")
        .event_bus_name("orders-bus")
        .event_pattern(r#"{"source": ["orders.stream"], "detail-type": ["OrderStatusChanged"]}"#)
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule("StatusChanged")
        .event_bus_name("orders-bus")
        .targets(
            Target::builder()
                .id("queue")
                .arn(queue_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let event: Event = serde_json::from_str(include_str!("../events/orders-stream.json")).unwrap();
    let response = stream_publisher::handle(&events, "orders-bus", &event).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");

    let mut bodies = Vec::new();
    for _ in 0..3 {
        let out = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        bodies.extend(
            out.messages()
                .iter()
                .filter_map(|m| m.body().map(str::to_owned)),
        );
    }
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let delivered: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(delivered["detail-type"], "OrderStatusChanged");
    assert_eq!(delivered["detail"]["orderId"], "ord-2001");
    assert_eq!(delivered["detail"]["status"], "SHIPPED");
    assert_eq!(delivered["detail"]["previousStatus"], "PAID");
}

#[tokio::test]
async fn a_missing_bus_fails_the_changed_records_only() {
    let moto = moto_harness::MotoServer::start();
    let events =
        aws_sdk_eventbridge::Client::new(&common::sdk_config_for_endpoint(&moto.endpoint()).await);
    let event: Event = serde_json::from_str(include_str!("../events/orders-stream.json")).unwrap();
    let response = stream_publisher::handle(&events, "no-such-bus", &event).await;
    let ids: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap_or_default())
        .collect();
    assert_eq!(ids, ["400000000000000000002"]);
}
