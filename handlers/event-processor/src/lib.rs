//! EventConsumer: EventBridge events (OrderCreated, PaymentProcessed, ...) processed exactly once
//! per idempotency key `<detail-type>:<detail.id>` (fallback: the envelope `id`).
//!
//! The effect records the processed event in the idempotency table itself as
//! `id = PROCESSED#<key>` (one item per effect, so effects can be counted), kept
//! [`EFFECT_RETENTION`] by the table's TTL like the idempotency records.

use std::time::Duration;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use common::{Idempotency, IdempotencyError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::Instrument;

/// Idempotency records live this long (table TTL attribute `ttl`).
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);

/// Effect records expire (table TTL attribute `ttl`) after this long.
pub const EFFECT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// The handler's answer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Processed {
    pub key: String,
    pub processed_at: String,
    /// True when this delivery was a duplicate and the stored result was returned.
    #[serde(default)]
    pub duplicate: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("event has neither detail.id nor id")]
    NoKey,
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError<String>),
}

/// `<detail-type>:<detail.id>`, else `<detail-type>:<id>`.
pub fn idempotency_key(event: &EventBridgeEvent<Value>) -> Option<String> {
    let id = event
        .detail
        .get("id")
        .and_then(|v| {
            v.as_str()
                .map(str::to_string)
                .or_else(|| v.as_number().map(|n| n.to_string()))
        })
        .or_else(|| event.id.clone())?;
    Some(format!("{}:{}", event.detail_type, id))
}

/// The idempotency store for this function.
pub fn idempotency(client: Client, table: &str) -> Idempotency {
    Idempotency::new(client, table, IDEMPOTENCY_TTL).expiry_attribute("ttl")
}

/// Process one event: the effect runs at most once per key.
pub async fn handle(
    client: &Client,
    table: &str,
    event: EventBridgeEvent<Value>,
) -> Result<Processed, ProcessError> {
    let key = idempotency_key(&event).ok_or(ProcessError::NoKey)?;
    let span = common::correlation::span(&common::correlation::from_eventbridge(&event));
    async {
        let outcome = idempotency(client.clone(), table)
            .run_outcome(&key, || record_effect(client, table, &key, &event))
            .await?;
        let duplicate = outcome.is_replay();
        let mut processed = outcome.into_inner();
        processed.duplicate = duplicate;
        tracing::info!(key = %key, duplicate, "event processed");
        Ok(processed)
    }
    .instrument(span)
    .await
}

async fn record_effect(
    client: &Client,
    table: &str,
    key: &str,
    event: &EventBridgeEvent<Value>,
) -> Result<Processed, String> {
    let processed_at = common::dynamo::now_rfc3339();
    client
        .put_item()
        .table_name(table)
        .item("id", AttributeValue::S(format!("PROCESSED#{key}")))
        .item("detailType", AttributeValue::S(event.detail_type.clone()))
        .item("source", AttributeValue::S(event.source.clone()))
        .item("detail", common::dynamo::to_attr(&event.detail))
        .item("processedAt", AttributeValue::S(processed_at.clone()))
        .item(
            "ttl",
            AttributeValue::N(
                (common::dynamo::epoch_seconds() + EFFECT_RETENTION.as_secs()).to_string(),
            ),
        )
        .send()
        .await
        .map_err(|e| DisplayErrorContext(e).to_string())?;
    Ok(Processed {
        key: key.to_string(),
        processed_at,
        duplicate: false,
    })
}
