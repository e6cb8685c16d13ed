//! The DurableChain orchestrator, a Lambda durable function
//! (`aws-durable-execution-sdk`):
//!
//! 1. `ValidateOrder` — a durable step that reads every product from `CATALOG_TABLE` and
//!    checks it exists and has the stock; the verdict (and the amount, from catalog prices)
//!    is checkpointed, so a replay does not read the catalog again;
//! 2. `AuthorizePayment` -> `AllocateInventory` -> `FulfillOrder` — durable chained invokes
//!    of the worker functions (`ctx.invoke`): the service runs each worker once and records
//!    its result;
//! 3. when `FulfillOrder` fails, the compensation `ReleaseInventory` invokes
//!    `AllocateInventory` again with `action: "release"` (idempotent on the worker side), and
//!    the execution fails with `FulfillmentFailed`.
//!
//! The sequence lives in [`orchestrate`], generic over [`Chain`]; [`DurableChain`] is the
//! production [`Chain`] (a step and chained invokes on a [`DurableContext`]), and the tests
//! drive [`orchestrate`] through the SDK's `LocalRunner` with steps standing in for invokes.

use std::collections::BTreeMap;
use std::future::Future;

use aws_durable_execution_sdk::{BoxError, DurableContext};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Function names and the catalog table, from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub catalog_table: String,
    pub authorize_payment_function: String,
    pub allocate_inventory_function: String,
    pub fulfill_order_function: String,
}

impl Config {
    pub fn from_env() -> Result<Config, BoxError> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| BoxError::from(format!("{name} is not set")))
        };
        Ok(Config {
            catalog_table: var("CATALOG_TABLE")?,
            authorize_payment_function: var("AUTHORIZE_PAYMENT_FUNCTION")?,
            allocate_inventory_function: var("ALLOCATE_INVENTORY_FUNCTION")?,
            fulfill_order_function: var("FULFILL_ORDER_FUNCTION")?,
        })
    }

    pub fn function(&self, worker: Worker) -> &str {
        match worker {
            Worker::AuthorizePayment => &self.authorize_payment_function,
            Worker::AllocateInventory => &self.allocate_inventory_function,
            Worker::FulfillOrder => &self.fulfill_order_function,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Worker {
    AuthorizePayment,
    AllocateInventory,
    FulfillOrder,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub product_id: String,
    pub quantity: u32,
}

/// The execution input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRequest {
    pub order_id: String,
    #[serde(default)]
    pub customer_id: Option<String>,
    pub items: Vec<LineItem>,
    /// Passed to AuthorizePayment (test hook for the decline path).
    #[serde(default)]
    pub simulate_decline: bool,
    /// Passed to FulfillOrder (test hook for the compensation path).
    #[serde(default)]
    pub simulate_fulfillment_failure: bool,
}

/// A catalog row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub product_id: String,
    pub price: f64,
    pub stock: i64,
}

/// ValidateOrder's checkpointed verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    pub valid: bool,
    pub reasons: Vec<String>,
    pub amount: f64,
}

/// The execution result when the order is fulfilled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub order_id: String,
    pub status: String,
    pub amount: f64,
    pub payment: Value,
    pub allocation: Value,
    pub fulfillment: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum OrchestrationError {
    #[error("OrderRejected: order {order_id} is invalid: {}", reasons.join("; "))]
    Rejected {
        order_id: String,
        reasons: Vec<String>,
    },
    #[error("PaymentFailed: order {order_id}: {cause}")]
    PaymentFailed { order_id: String, cause: String },
    #[error("AllocationFailed: order {order_id}: {cause}")]
    AllocationFailed { order_id: String, cause: String },
    #[error("FulfillmentFailed: order {order_id}: {cause}; inventory released")]
    FulfillmentFailed { order_id: String, cause: String },
}

/// Pure validation of an order against the catalog rows it names.
pub fn validate_order(order: &OrderRequest, catalog: &BTreeMap<String, Product>) -> Validation {
    let mut reasons = Vec::new();
    let mut amount = 0.0;
    if order.order_id.trim().is_empty() {
        reasons.push("orderId is empty".to_owned());
    }
    if order.items.is_empty() {
        reasons.push("the order has no items".to_owned());
    }
    for item in &order.items {
        if item.quantity == 0 {
            reasons.push(format!("{}: quantity must be at least 1", item.product_id));
            continue;
        }
        match catalog.get(&item.product_id) {
            None => reasons.push(format!("{}: not in the catalog", item.product_id)),
            Some(p) if p.stock < i64::from(item.quantity) => reasons.push(format!(
                "{}: {} requested, {} in stock",
                item.product_id, item.quantity, p.stock
            )),
            Some(p) => amount += p.price * f64::from(item.quantity),
        }
    }
    Validation {
        valid: reasons.is_empty(),
        reasons,
        amount: (amount * 100.0).round() / 100.0,
    }
}

/// Reads the named products (consistent reads); missing products are absent from the map.
pub async fn read_products(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    ids: &[String],
) -> Result<BTreeMap<String, Product>, BoxError> {
    let mut out = BTreeMap::new();
    for id in ids {
        let resp = dynamo
            .get_item()
            .table_name(table)
            .key("productId", AttributeValue::S(id.clone()))
            .consistent_read(true)
            .send()
            .await?;
        if let Some(item) = resp.item {
            let num = |k: &str| {
                item.get(k)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse::<f64>().ok())
            };
            out.insert(
                id.clone(),
                Product {
                    product_id: id.clone(),
                    price: num("price").unwrap_or(0.0),
                    stock: num("stock").unwrap_or(0.0) as i64,
                },
            );
        }
    }
    Ok(out)
}

/// The operations the orchestration needs; each is durable in production.
pub trait Chain: Send + Sync {
    /// The ValidateOrder step.
    fn validate(
        &self,
        order: OrderRequest,
    ) -> impl Future<Output = Result<Validation, BoxError>> + Send;
    /// A named call of a worker function; its result is recorded under `name`.
    fn call(
        &self,
        name: &'static str,
        worker: Worker,
        input: Value,
    ) -> impl Future<Output = Result<Value, BoxError>> + Send;
}

/// Validate -> authorize -> allocate -> fulfill, releasing inventory if fulfillment fails.
pub async fn orchestrate<C: Chain>(chain: &C, order: OrderRequest) -> Result<Outcome, BoxError> {
    let order_id = order.order_id.clone();
    let validation = chain.validate(order.clone()).await?;
    if !validation.valid {
        return Err(OrchestrationError::Rejected {
            order_id,
            reasons: validation.reasons,
        }
        .into());
    }
    let payment = chain
        .call(
            "AuthorizePayment",
            Worker::AuthorizePayment,
            json!({"orderId": order_id, "amount": validation.amount, "customerId": order.customer_id, "simulateDecline": order.simulate_decline}),
        )
        .await
        .map_err(|e| OrchestrationError::PaymentFailed { order_id: order_id.clone(), cause: e.to_string() })?;
    let allocation = chain
        .call(
            "AllocateInventory",
            Worker::AllocateInventory,
            json!({"action": "allocate", "orderId": order_id, "items": order.items}),
        )
        .await
        .map_err(|e| OrchestrationError::AllocationFailed {
            order_id: order_id.clone(),
            cause: e.to_string(),
        })?;
    let fulfillment = chain
        .call(
            "FulfillOrder",
            Worker::FulfillOrder,
            json!({"orderId": order_id, "items": order.items, "authorization": payment, "allocation": allocation, "simulateFailure": order.simulate_fulfillment_failure}),
        )
        .await;
    match fulfillment {
        Ok(fulfillment) => {
            tracing::info!(order_id = %order_id, "order fulfilled");
            Ok(Outcome {
                order_id,
                status: "FULFILLED".into(),
                amount: validation.amount,
                payment,
                allocation,
                fulfillment,
            })
        }
        Err(e) => {
            tracing::warn!(order_id = %order_id, error = %e, "fulfillment failed; releasing inventory");
            chain
                .call(
                    "ReleaseInventory",
                    Worker::AllocateInventory,
                    json!({"action": "release", "orderId": order_id, "items": order.items}),
                )
                .await?;
            Err(OrchestrationError::FulfillmentFailed {
                order_id,
                cause: e.to_string(),
            }
            .into())
        }
    }
}

/// The production [`Chain`]: a durable step for validation, durable chained invokes for the
/// workers.
pub struct DurableChain {
    pub ctx: DurableContext,
    pub config: Config,
    pub dynamo: aws_sdk_dynamodb::Client,
}

impl Chain for DurableChain {
    fn validate(
        &self,
        order: OrderRequest,
    ) -> impl Future<Output = Result<Validation, BoxError>> + Send {
        let dynamo = self.dynamo.clone();
        let table = self.config.catalog_table.clone();
        // The operation is created here, at the call site, so its ID is deterministic.
        let step = self
            .ctx
            .step(move |_| async move {
                let mut ids: Vec<String> =
                    order.items.iter().map(|i| i.product_id.clone()).collect();
                ids.sort();
                ids.dedup();
                let catalog = read_products(&dynamo, &table, &ids).await?;
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
        let invoke = self
            .ctx
            .invoke::<Value, _>(self.config.function(worker), input)
            .name(name);
        async move { invoke.await.map_err(BoxError::from) }
    }
}

/// The durable handler.
pub async fn handler(
    config: Config,
    dynamo: aws_sdk_dynamodb::Client,
    order: OrderRequest,
    ctx: DurableContext,
) -> Result<Outcome, BoxError> {
    orchestrate(
        &DurableChain {
            ctx,
            config,
            dynamo,
        },
        order,
    )
    .await
}
