//! One consumer per downstream system (`CONSUMER` = inventory | loyalty | marketplace-sync)
//! of the `OrderCreated` events that rules route from `lakeside-orders` to SQS. Each SQS
//! body is the EventBridge event; its `detail` is the order as the pipe's template shapes it
//! (`items` still in DynamoDB JSON), a raw stream record (`detail.dynamodb.NewImage`), or an
//! order published directly. The processing is a deterministic simulation, logged as one
//! structured line per order, once per order and consumer (an idempotency record keyed
//! `<consumer>#<orderId>`); an unreadable record fails alone (partial batch response).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use common::{Idempotency, IdempotencyError};
use serde::Serialize;
use serde_json::{json, Map, Value};
use tracing::Instrument;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumer {
    Inventory,
    Loyalty,
    MarketplaceSync,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    #[error("{0}")]
    Config(String),
    #[error("record is not an OrderCreated event: {0}")]
    Invalid(String),
    #[error("idempotency store: {0}")]
    Store(String),
}

impl Consumer {
    pub fn parse(s: &str) -> Result<Consumer, ConsumeError> {
        match s {
            "inventory" => Ok(Consumer::Inventory),
            "loyalty" => Ok(Consumer::Loyalty),
            "marketplace-sync" => Ok(Consumer::MarketplaceSync),
            other => Err(ConsumeError::Config(format!(
                "CONSUMER must be inventory|loyalty|marketplace-sync, got {other:?}"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Consumer::Inventory => "inventory",
            Consumer::Loyalty => "loyalty",
            Consumer::MarketplaceSync => "marketplace-sync",
        }
    }
}

/// The order fields the consumers use.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedOrder {
    pub order_id: String,
    pub customer_id: Option<String>,
    pub store_id: Option<String>,
    pub total: f64,
    pub items: Vec<Value>,
}

pub fn parse(message: &SqsMessage) -> Result<CreatedOrder, ConsumeError> {
    let body = message
        .body
        .as_deref()
        .ok_or_else(|| ConsumeError::Invalid("empty body".into()))?;
    let event: Value =
        serde_json::from_str(body).map_err(|e| ConsumeError::Invalid(e.to_string()))?;
    if event.get("detail-type").and_then(Value::as_str) != Some("OrderCreated") {
        return Err(ConsumeError::Invalid(format!(
            "detail-type is {}",
            event.get("detail-type").unwrap_or(&Value::Null)
        )));
    }
    let detail = event
        .get("detail")
        .ok_or_else(|| ConsumeError::Invalid("no detail".into()))?;
    let order: Map<String, Value> = match detail
        .pointer("/dynamodb/NewImage")
        .and_then(Value::as_object)
    {
        Some(image) => image
            .iter()
            .map(|(k, v)| (k.clone(), common::dynamo::untyped(v)))
            .collect(),
        None => detail.as_object().cloned().unwrap_or_default(),
    };
    let s = |k: &str| order.get(k).and_then(Value::as_str).map(str::to_owned);
    let order_id = s("orderId")
        .or_else(|| s("pk").and_then(|pk| pk.strip_prefix("ORDER#").map(str::to_owned)))
        .ok_or_else(|| ConsumeError::Invalid("orderId is missing".into()))?;
    // The pipe's template carries the stored list as it is (DynamoDB JSON).
    let items = order
        .get("items")
        .map(common::dynamo::untyped)
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    let total = order
        .get("total")
        .and_then(|t| {
            t.as_f64()
                .or_else(|| t.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or_else(|| {
            items
                .iter()
                .map(|i| {
                    i.get("price").and_then(Value::as_f64).unwrap_or(0.0)
                        * i.get("quantity").and_then(Value::as_f64).unwrap_or(1.0)
                })
                .sum()
        });
    Ok(CreatedOrder {
        order_id,
        customer_id: s("customerId"),
        store_id: s("storeId"),
        total,
        items,
    })
}

/// The consumer's (simulated) work for one order.
pub fn consume(consumer: Consumer, order: &CreatedOrder) -> Value {
    match consumer {
        Consumer::Inventory => {
            let units: f64 = order
                .items
                .iter()
                .map(|i| i.get("quantity").and_then(Value::as_f64).unwrap_or(1.0))
                .sum();
            json!({"consumer": "inventory", "orderId": order.order_id, "storeId": order.store_id, "lines": order.items.len(), "unitsToPick": units})
        }
        Consumer::Loyalty => {
            // 10 points per whole currency unit; none without a customer.
            let points = if order.customer_id.is_some() {
                (order.total.floor() as i64) * 10
            } else {
                0
            };
            json!({"consumer": "loyalty", "orderId": order.order_id, "customerId": order.customer_id, "pointsAwarded": points})
        }
        Consumer::MarketplaceSync => {
            let skus: Vec<&str> = order
                .items
                .iter()
                .filter_map(|i| {
                    i.get("productId")
                        .or_else(|| i.get("sku"))
                        .and_then(Value::as_str)
                })
                .collect();
            json!({"consumer": "marketplace-sync", "orderId": order.order_id, "listingsToUpdate": skus})
        }
    }
}

pub fn process(consumer: Consumer, message: &SqsMessage) -> Result<Value, ConsumeError> {
    let order = parse(message)?;
    let result = consume(consumer, &order);
    tracing::info!(consumer = consumer.name(), order_id = %order.order_id, result = %result, "OrderCreated consumed");
    Ok(result)
}

/// Each order's effect once per consumer, whatever the deliveries: the work runs under
/// `idempotency`, keyed `<consumer>#<orderId>`; a redelivered or replayed OrderCreated gets the
/// stored result and does nothing again.
pub async fn handle_once(
    consumer: Consumer,
    idempotency: &Idempotency,
    event: &SqsEvent,
) -> SqsBatchResponse {
    let mut results = Vec::with_capacity(event.records.len());
    for m in &event.records {
        let id = m.message_id.clone().unwrap_or_default();
        let span = common::correlation::span(&common::correlation::from_sqs(m));
        let r = async {
            let order = parse(m)?;
            let key = format!("{}#{}", consumer.name(), order.order_id);
            let outcome = idempotency
                .run_outcome(&key, || async {
                    Ok::<_, ConsumeError>(consume(consumer, &order))
                })
                .await
                .map_err(|e| match e {
                    IdempotencyError::Effect(e) => e,
                    other => ConsumeError::Store(other.to_string()),
                })?;
            tracing::info!(consumer = consumer.name(), order_id = %order.order_id, duplicate = outcome.is_replay(), "OrderCreated consumed");
            Ok::<_, ConsumeError>(outcome.into_inner())
        }
        .instrument(span.clone())
        .await;
        if let Err(e) = &r {
            span.in_scope(|| tracing::warn!(message_id = %id, error = %e, "record failed"));
        }
        results.push((id, r));
    }
    common::batch::sqs_batch_response(results)
}

/// [`handle`] without a store: every delivery does the work (tests and tools).
pub fn handle(consumer: Consumer, event: &SqsEvent) -> SqsBatchResponse {
    let results = event.records.iter().map(|m| {
        let id = m.message_id.clone().unwrap_or_default();
        let span = common::correlation::span(&common::correlation::from_sqs(m));
        let r = span.in_scope(|| process(consumer, m));
        if let Err(e) = &r {
            tracing::warn!(message_id = %id, error = %e, "record failed");
        }
        (id, r)
    });
    common::batch::sqs_batch_response(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> SqsEvent {
        serde_json::from_str(include_str!("../events/order-created-queue.json")).unwrap()
    }

    #[test]
    fn every_consumer_reports_only_the_bad_record() {
        for c in ["inventory", "loyalty", "marketplace-sync"] {
            let r = handle(Consumer::parse(c).unwrap(), &event());
            let failed: Vec<_> = r
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.as_str())
                .collect();
            assert_eq!(failed, ["msg-garbage"], "{c}");
        }
        assert!(Consumer::parse("billing").is_err());
    }

    #[test]
    fn reads_stream_records_and_plain_details() {
        let e = event();
        let streamed = parse(&e.records[0]).unwrap();
        assert_eq!(streamed.order_id, "ord-2001");
        assert_eq!(streamed.customer_id.as_deref(), Some("cust-7"));
        assert_eq!(streamed.total, 42.0);
        assert_eq!(consume(Consumer::Loyalty, &streamed)["pointsAwarded"], 420);
        assert_eq!(consume(Consumer::Inventory, &streamed)["unitsToPick"], 3.0);
        assert_eq!(
            consume(Consumer::MarketplaceSync, &streamed)["listingsToUpdate"],
            json!(["SKU-RED-MUG", "SKU-KETTLE"])
        );
        let direct = parse(&e.records[1]).unwrap();
        assert_eq!(direct.order_id, "ord-2002");
        assert_eq!(direct.total, 19.5);
    }
}
