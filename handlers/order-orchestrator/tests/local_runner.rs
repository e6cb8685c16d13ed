//! The orchestration driven through the SDK's `LocalRunner` (in-memory checkpoints, real
//! replay across simulated invocations). `LocalRunner` cannot complete chained invokes, so
//! [`StepChain`] runs in-process fake workers as durable steps; the sequence under test is the
//! production [`orchestrate`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_durable_execution_sdk::test_util::LocalRunner;
use aws_durable_execution_sdk::{BoxError, DurableContext, RetryDecision};
use order_orchestrator::{
    orchestrate, validate_order, Chain, OrderRequest, Outcome, Product, Validation, Worker,
};
use serde_json::{json, Value};

#[derive(Default)]
struct Fakes {
    catalog: Mutex<BTreeMap<String, Product>>,
    calls: Mutex<Vec<String>>,
}

impl Fakes {
    fn new() -> Arc<Fakes> {
        let f = Fakes::default();
        for (id, price, stock) in [("P-KETTLE", 35.0, 5), ("P-MUG", 7.5, 10)] {
            f.catalog.lock().unwrap().insert(
                id.into(),
                Product {
                    product_id: id.into(),
                    price,
                    stock,
                },
            );
        }
        Arc::new(f)
    }

    fn stock(&self, id: &str) -> i64 {
        self.catalog.lock().unwrap()[id].stock
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn run(&self, name: &str, worker: Worker, input: &Value) -> Result<Value, BoxError> {
        self.calls.lock().unwrap().push(name.to_owned());
        match worker {
            Worker::AuthorizePayment => {
                Ok(json!({"status": "AUTHORIZED", "authorizationId": "auth-1"}))
            }
            Worker::AllocateInventory => {
                let sign = if input["action"] == "release" { 1 } else { -1 };
                let mut catalog = self.catalog.lock().unwrap();
                for item in input["items"].as_array().unwrap() {
                    let p = catalog
                        .get_mut(item["productId"].as_str().unwrap())
                        .unwrap();
                    p.stock += sign * item["quantity"].as_i64().unwrap();
                }
                Ok(json!({"status": if sign < 0 { "ALLOCATED" } else { "RELEASED" }}))
            }
            Worker::FulfillOrder if input["simulateFailure"] == true => {
                Err("FulfillmentFailed: carrier rejected the shipment".into())
            }
            Worker::FulfillOrder => Ok(json!({"status": "FULFILLED", "shipmentId": "shp-1"})),
        }
    }
}

struct StepChain {
    ctx: DurableContext,
    fakes: Arc<Fakes>,
}

impl Chain for StepChain {
    fn validate(
        &self,
        order: OrderRequest,
    ) -> impl Future<Output = Result<Validation, BoxError>> + Send {
        let fakes = self.fakes.clone();
        let step = self
            .ctx
            .step(move |_| async move {
                let catalog = fakes.catalog.lock().unwrap().clone();
                Ok(validate_order(&order, &catalog))
            })
            .name("ValidateOrder");
        async move { step.await.map_err(BoxError::from) }
    }

    fn call(
        &self,
        name: &'static str,
        worker: Worker,
        input: Value,
    ) -> impl Future<Output = Result<Value, BoxError>> + Send {
        let fakes = self.fakes.clone();
        let step = self
            .ctx
            .step(move |_| async move { fakes.run(name, worker, &input) })
            .name(name)
            .retry_strategy(|_, _| RetryDecision::Stop);
        async move { step.await.map_err(BoxError::from) }
    }
}

async fn run(
    fakes: &Arc<Fakes>,
    order: OrderRequest,
) -> aws_durable_execution_sdk::test_util::TestResult<Outcome> {
    let fakes = fakes.clone();
    LocalRunner::new()
        .run(
            move |order: OrderRequest, ctx: DurableContext| {
                let fakes = fakes.clone();
                async move { orchestrate(&StepChain { ctx, fakes }, order).await }
            },
            order,
        )
        .await
}

fn order(file: &str) -> OrderRequest {
    serde_json::from_str(
        &std::fs::read_to_string(format!("{}/events/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn happy_path_runs_each_stage_once() {
    let fakes = Fakes::new();
    let result = run(&fakes, order("order.json")).await;
    assert!(
        result.is_success(),
        "{:?} {:?}",
        result.error_type(),
        result.error_message()
    );
    let out = result.output().unwrap();
    assert_eq!(out.status, "FULFILLED");
    assert_eq!(out.amount, 35.0 + 4.0 * 7.5);
    assert_eq!(out.fulfillment["shipmentId"], "shp-1");
    // Every stage ran exactly once across all the replays.
    assert_eq!(
        fakes.calls(),
        ["AuthorizePayment", "AllocateInventory", "FulfillOrder"]
    );
    assert_eq!((fakes.stock("P-KETTLE"), fakes.stock("P-MUG")), (4, 6));
    let names: Vec<_> = result
        .operations()
        .iter()
        .filter_map(|o| o.name())
        .collect();
    assert_eq!(
        names,
        [
            "ValidateOrder",
            "AuthorizePayment",
            "AllocateInventory",
            "FulfillOrder"
        ]
    );
}

#[tokio::test]
async fn failed_fulfillment_releases_the_inventory() {
    let fakes = Fakes::new();
    let result = run(&fakes, order("order-fulfillment-fails.json")).await;
    assert!(result.is_failure());
    let message = result.error_message().unwrap_or_default();
    assert!(
        message.contains("FulfillmentFailed") && message.contains("inventory released"),
        "{message}"
    );
    assert_eq!(
        fakes.calls(),
        [
            "AuthorizePayment",
            "AllocateInventory",
            "FulfillOrder",
            "ReleaseInventory"
        ]
    );
    assert_eq!(fakes.stock("P-MUG"), 10, "stock restored");
    let release = result
        .operations()
        .iter()
        .find(|o| o.name() == Some("ReleaseInventory"))
        .unwrap();
    assert!(release.succeeded());
}

#[tokio::test]
async fn an_invalid_order_calls_no_worker() {
    let fakes = Fakes::new();
    let mut o = order("order.json");
    o.items.push(order_orchestrator::LineItem {
        product_id: "P-UNKNOWN".into(),
        quantity: 1,
    });
    o.items[0].quantity = 99;
    let result = run(&fakes, o).await;
    assert!(result.is_failure());
    let message = result.error_message().unwrap_or_default();
    assert!(
        message.contains("OrderRejected")
            && message.contains("P-UNKNOWN")
            && message.contains("99 requested"),
        "{message}"
    );
    assert!(fakes.calls().is_empty());
}
