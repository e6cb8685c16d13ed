//! The ingest queue's worker. `POST /orders` sends the client's JSON body straight to SQS, so
//! each record body is `{orderId, customerId, storeId, items: [{sku, quantity, price}],
//! currency?}`; `orderId` is the client's idempotency key (a retry sends the same one). The order is written once into the single-table `Orders` (`ORDERS_TABLE`) as
//! `pk = ORDER#<orderId>`, `sk = META`, with `customerId`, `storeId` and `createdAt` for the
//! ByCustomer / ByStore indexes, `status = CREATED`, on condition `attribute_not_exists(pk)`:
//! a duplicate (client retry, SQS redelivery) is skipped, not an error. Lines are stored as
//! `{productId, quantity, price}`, with the message's correlation ID; `createdAt` is the
//! message's `SentTimestamp`, so a redelivery writes an identical order.
//! Invalid bodies fail their record only (partial batch response) and reach the DLQ.

use std::collections::HashMap;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestItem {
    #[serde(alias = "productId")]
    pub sku: String,
    pub quantity: u32,
    pub price: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestOrder {
    /// The client's idempotency key: a retry of the same order carries the same ID.
    pub order_id: String,
    pub customer_id: String,
    pub store_id: String,
    pub items: Vec<IngestItem>,
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    Created,
    Duplicate,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("invalid order: {0}")]
    Invalid(String),
    #[error("orders table: {0}")]
    Store(String),
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The item to write for a record, or why the record is invalid.
pub fn order_item(message: &SqsMessage) -> Result<HashMap<String, AttributeValue>, IngestError> {
    let body = message
        .body
        .as_deref()
        .ok_or_else(|| IngestError::Invalid("empty body".into()))?;
    let o: IngestOrder =
        serde_json::from_str(body).map_err(|e| IngestError::Invalid(e.to_string()))?;
    let order_id = o.order_id.clone();
    for (what, v) in [
        ("orderId", &order_id),
        ("customerId", &o.customer_id),
        ("storeId", &o.store_id),
    ] {
        if !valid_id(v) {
            return Err(IngestError::Invalid(format!(
                "{what} {v:?} must be 1-64 characters of A-Z a-z 0-9 _ -"
            )));
        }
    }
    if o.items.is_empty() {
        return Err(IngestError::Invalid("items is empty".into()));
    }
    if let Some(bad) = o
        .items
        .iter()
        .find(|i| i.quantity == 0 || i.price < 0.0 || !i.price.is_finite() || i.sku.is_empty())
    {
        return Err(IngestError::Invalid(format!(
            "item {:?} needs a sku, quantity >= 1 and price >= 0",
            bad.sku
        )));
    }
    let total = (o
        .items
        .iter()
        .map(|i| i.price * f64::from(i.quantity))
        .sum::<f64>()
        * 100.0)
        .round()
        / 100.0;
    let created_at = message
        .attributes
        .get("SentTimestamp")
        .and_then(|t| t.parse::<u64>().ok())
        .map(common::dynamo::millis_rfc3339)
        .unwrap_or_else(common::dynamo::now_rfc3339);
    let doc = json!({
        "pk": format!("ORDER#{order_id}"),
        "sk": "META",
        "orderId": order_id,
        "customerId": o.customer_id,
        "storeId": o.store_id,
        "createdAt": created_at,
        "updatedAt": created_at,
        "status": "CREATED",
        // Every later write increments it; the status view orders changes by it.
        "version": 1,
        "currency": o.currency.unwrap_or_else(|| "USD".into()),
        "total": total,
        "items": o.items.iter().map(|i| json!({"productId": i.sku, "quantity": i.quantity, "price": i.price})).collect::<Vec<Value>>(),
        "correlationId": common::correlation::from_sqs(message),
    });
    Ok(common::dynamo::to_item(doc.as_object().expect("an object")))
}

pub async fn ingest(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    message: &SqsMessage,
) -> Result<Ingested, IngestError> {
    let item = order_item(message)?;
    let order_id = item
        .get("orderId")
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default();
    let r = dynamo
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await;
    match r {
        Ok(_) => {
            tracing::info!(order_id = %order_id, "order created");
            Ok(Ingested::Created)
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            tracing::info!(order_id = %order_id, "duplicate order skipped");
            Ok(Ingested::Duplicate)
        }
        Err(e) => Err(IngestError::Store(
            aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string(),
        )),
    }
}

pub async fn handle(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    event: &SqsEvent,
) -> SqsBatchResponse {
    let mut results = Vec::with_capacity(event.records.len());
    for m in &event.records {
        let id = m.message_id.clone().unwrap_or_default();
        let span = common::correlation::span(&common::correlation::from_sqs(m));
        let r = tracing::Instrument::instrument(ingest(dynamo, table, m), span).await;
        if let Err(e) = &r {
            tracing::warn!(message_id = %id, error = %e, "record failed");
        }
        results.push((id, r));
    }
    common::batch::sqs_batch_response(results)
}
