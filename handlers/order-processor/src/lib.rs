//! OrderPipeline: SQS batch of orders -> validated, enriched, stored once in the orders table
//! (key `orderId` + `createdAt`). Partial batch responses: an invalid or failed record is
//! reported in `batchItemFailures`; a duplicate (the order is already stored) is skipped, not
//! failed; the rest of the batch is unaffected.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use serde_json::{Map, Value};
use tracing::Instrument;

/// Stored orders expire (table TTL `ttl`) after this long.
pub const RETENTION_SECS: u64 = 90 * 24 * 3600;

/// What happened to one record.
#[derive(Debug, PartialEq, Eq)]
pub enum RecordOutcome {
    Stored,
    Duplicate,
}

/// Why one record failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("invalid order: {0}")]
    Invalid(String),
    #[error("storing the order failed: {0}")]
    Store(String),
}

/// A validated order (the JSON object as received).
#[derive(Debug, Clone)]
pub struct Order {
    pub order_id: String,
    pub item_count: usize,
    pub created_at: String,
    pub fields: Map<String, Value>,
}

/// Parse and validate: `orderId`, `customerId`, `createdAt` non-empty strings, `items` a
/// non-empty array, `totalAmount` a number > 0.
pub fn parse_order(body: &str) -> Result<Order, RecordError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| RecordError::Invalid(format!("body is not JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(RecordError::Invalid("body is not a JSON object".into()));
    };
    let non_empty = |name: &str| match fields.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(RecordError::Invalid(format!(
            "{name} must be a non-empty string"
        ))),
    };
    let order_id = non_empty("orderId")?;
    non_empty("customerId")?;
    let item_count = match fields.get("items") {
        Some(Value::Array(items)) if !items.is_empty() => items.len(),
        _ => {
            return Err(RecordError::Invalid(
                "items must be a non-empty array".into(),
            ))
        }
    };
    match fields.get("totalAmount").and_then(Value::as_f64) {
        Some(t) if t > 0.0 && t.is_finite() => {}
        _ => {
            return Err(RecordError::Invalid(
                "totalAmount must be a number > 0".into(),
            ))
        }
    }
    // `createdAt` is the table's sort key and so part of the order's identity: taking it from
    // the message instead (SentTimestamp) would store one order resent by its producer twice.
    let created_at = non_empty("createdAt")?;
    Ok(Order {
        order_id,
        item_count,
        created_at,
        fields,
    })
}

/// Validate, enrich and store one message's order with `attribute_not_exists(orderId)` on
/// its key (`orderId`, `createdAt`): a redelivery or a producer's resend is a duplicate.
pub async fn process_record(
    client: &Client,
    table: &str,
    message: &SqsMessage,
) -> Result<RecordOutcome, RecordError> {
    let order = parse_order(message.body.as_deref().unwrap_or(""))?;
    let processed_at = common::dynamo::now_rfc3339();
    let created_at = order.created_at.clone();
    let mut item = common::dynamo::to_item(&order.fields);
    item.insert("orderId".into(), AttributeValue::S(order.order_id.clone()));
    item.insert("createdAt".into(), AttributeValue::S(created_at));
    item.insert("status".into(), AttributeValue::S("CONFIRMED".into()));
    item.insert("processedAt".into(), AttributeValue::S(processed_at));
    item.insert(
        "itemCount".into(),
        AttributeValue::N(order.item_count.to_string()),
    );
    item.insert(
        "sqsMessageId".into(),
        AttributeValue::S(message.message_id.clone().unwrap_or_default()),
    );
    item.insert(
        "ttl".into(),
        AttributeValue::N((common::dynamo::epoch_seconds() + RETENTION_SECS).to_string()),
    );
    let put = client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(orderId)")
        .send()
        .await;
    match put {
        Ok(_) => {
            tracing::info!(order_id = %order.order_id, "order stored");
            Ok(RecordOutcome::Stored)
        }
        Err(e)
            if matches!(
                e.as_service_error(),
                Some(PutItemError::ConditionalCheckFailedException(_))
            ) =>
        {
            tracing::info!(order_id = %order.order_id, "duplicate order skipped");
            Ok(RecordOutcome::Duplicate)
        }
        Err(e) => Err(RecordError::Store(DisplayErrorContext(e).to_string())),
    }
}

/// The handler: every record in turn, failures reported by message ID.
pub async fn handle(client: &Client, table: &str, event: SqsEvent) -> SqsBatchResponse {
    let mut results = Vec::with_capacity(event.records.len());
    for message in &event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let span = common::correlation::span(&common::correlation::from_sqs(message));
        let result = process_record(client, table, message)
            .instrument(span.clone())
            .await;
        if let Err(e) = &result {
            span.in_scope(|| tracing::error!(message_id = %id, error = %e, "record failed"));
        }
        results.push((id, result));
    }
    common::batch::sqs_batch_response(results)
}
