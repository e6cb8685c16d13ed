//! event-processor against a real moto server.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_sdk_dynamodb::Client;
use moto_harness::MotoServer;
use serde_json::Value;

async fn setup(moto: &MotoServer) -> Client {
    let client = Client::new(&common::sdk_config_for_endpoint(&moto.endpoint()).await);
    common::dynamo::create_table(&client, "Idem", "id", None)
        .await
        .unwrap();
    client
}

fn sample() -> EventBridgeEvent<Value> {
    serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/events/order-created.json"
        ))
        .unwrap(),
    )
    .unwrap()
}

async fn effects(client: &Client) -> usize {
    let scan = client
        .scan()
        .table_name("Idem")
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    scan.items()
        .iter()
        .filter(|i| i["id"].as_s().unwrap().starts_with("PROCESSED#"))
        .count()
}

#[tokio::test]
async fn same_event_three_times_one_effect() {
    let moto = MotoServer::start();
    let client = setup(&moto).await;
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(
            event_processor::handle(&client, "Idem", sample())
                .await
                .unwrap(),
        );
    }
    assert_eq!(effects(&client).await, 1);
    assert_eq!(
        answers.iter().map(|a| a.duplicate).collect::<Vec<_>>(),
        [false, true, true]
    );
    assert!(answers
        .iter()
        .all(|a| a.key == "OrderCreated:ord-1001" && a.processed_at == answers[0].processed_at));

    // a different detail-type with the same detail.id is a different key
    let mut other = sample();
    other.detail_type = "PaymentProcessed".into();
    assert!(
        !event_processor::handle(&client, "Idem", other)
            .await
            .unwrap()
            .duplicate
    );
    assert_eq!(effects(&client).await, 2);
}

#[tokio::test]
async fn concurrent_deliveries_one_effect() {
    let moto = MotoServer::start();
    let client = setup(&moto).await;
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { event_processor::handle(&client, "Idem", sample()).await })
        })
        .collect();
    for t in tasks {
        // a loser of the race either replays or gets a retryable in-progress error
        if let Err(e) = t.await.unwrap() {
            assert!(
                matches!(e, event_processor::ProcessError::Idempotency(ref i) if i.is_retryable()),
                "{e}"
            );
        }
    }
    assert_eq!(effects(&client).await, 1);
}
