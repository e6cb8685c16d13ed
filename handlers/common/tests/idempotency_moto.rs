//! Idempotency against a real moto server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use common::{Idempotency, IdempotencyError, Outcome};
use moto_harness::MotoServer;

async fn setup(moto: &MotoServer) -> Client {
    let client = Client::new(&common::sdk_config_for_endpoint(&moto.endpoint()).await);
    common::dynamo::create_table(&client, "Idem", "id", None)
        .await
        .unwrap();
    client
}

#[tokio::test]
async fn completed_duplicate_replays_the_stored_result() {
    let moto = MotoServer::start();
    let idem = Idempotency::new(setup(&moto).await, "Idem", Duration::from_secs(3600))
        .expiry_attribute("ttl");
    let effects = AtomicUsize::new(0);
    for i in 0..3 {
        let out = idem
            .run_outcome("k1", || async {
                effects.fetch_add(1, Ordering::SeqCst);
                Ok::<_, String>(serde_json::json!({"n": 42}))
            })
            .await
            .unwrap();
        assert_eq!(out.is_replay(), i > 0);
        assert_eq!(out.into_inner(), serde_json::json!({"n": 42}));
    }
    assert_eq!(effects.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn failed_effect_frees_the_key_and_in_flight_duplicate_is_retryable() {
    let moto = MotoServer::start();
    let idem = Idempotency::new(setup(&moto).await, "Idem", Duration::from_secs(3600));
    let err = idem
        .run("k2", || async { Err::<u32, _>("boom") })
        .await
        .unwrap_err();
    assert!(matches!(err, IdempotencyError::Effect("boom")));
    assert!(!err.is_retryable());
    // the retry runs the effect
    assert_eq!(
        idem.run("k2", || async { Ok::<_, String>(7u32) })
            .await
            .unwrap(),
        7
    );

    // in-flight: hold the key while a duplicate arrives
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let holder = {
        let idem = idem.clone();
        tokio::spawn(async move {
            idem.run("k3", || async {
                rx.await.unwrap();
                Ok::<_, String>(1u32)
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let dup = idem
        .run("k3", || async { Ok::<_, String>(2u32) })
        .await
        .unwrap_err();
    assert!(
        matches!(dup, IdempotencyError::InProgress { .. }),
        "{dup:?}"
    );
    assert!(dup.is_retryable());
    tx.send(()).unwrap();
    assert_eq!(holder.await.unwrap().unwrap(), 1);
    assert_eq!(
        idem.run_outcome("k3", || async { Ok::<_, String>(3u32) })
            .await
            .unwrap(),
        Outcome::Replayed(1)
    );
}

#[tokio::test]
async fn concurrent_duplicates_run_the_effect_once() {
    let moto = MotoServer::start();
    let idem = Idempotency::new(setup(&moto).await, "Idem", Duration::from_secs(3600));
    let effects = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (idem, effects) = (idem.clone(), effects.clone());
        tasks.push(tokio::spawn(async move {
            idem.run("same", || async {
                effects.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(200)).await;
                Ok::<_, String>("done".to_string())
            })
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(v) => {
                assert_eq!(v, "done");
                ok += 1
            }
            Err(e) => assert!(e.is_retryable(), "{e:?}"),
        }
    }
    assert!(ok >= 1);
    assert_eq!(effects.load(Ordering::SeqCst), 1);
}
