//! Keeps `OrderStatusView` (`{orderId, status, updatedAt}`) in step with the `META` items of
//! the single-table `Orders` (stream, NEW_AND_OLD_IMAGES).
//!
//! The write is a PutItem conditional on `attribute_not_exists(orderId) OR version < :version`
//! when the item carries a `version` (every writer increments it: no clocks to compare across
//! writers), else on `updatedAt < :updatedAt`: a redelivered or out-of-order (older) record
//! never overwrites a newer view, so retries and bisected batches are harmless. `updatedAt`
//! comes from the item's
//! `updatedAt`, else the stream record's approximate creation time; both are RFC 3339 UTC
//! strings, which order correctly as strings when they share a format (writers should set
//! `updatedAt` whole-second or always with the same fractional digits).
//! Failed records are reported by sequence number (partial batch response).

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusView {
    pub order_id: String,
    pub status: String,
    pub updated_at: String,
    /// The item's `version`, when its writers keep one.
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    Written,
    /// The view already holds this or a newer state.
    Stale,
    /// Not an order's META item, a delete, or no status.
    Ignored,
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("stream record image: {0}")]
    Image(String),
    #[error("status view: {0}")]
    Store(String),
}

fn image(item: &serde_dynamo::Item) -> Result<Map<String, Value>, ProjectError> {
    if item.is_empty() {
        return Ok(Map::new());
    }
    serde_dynamo::from_item(item.clone()).map_err(|e| ProjectError::Image(e.to_string()))
}

/// The view a stream record implies, if any.
pub fn view_of(record: &EventRecord) -> Result<Option<StatusView>, ProjectError> {
    if record.event_name == "REMOVE" {
        return Ok(None);
    }
    let new = image(&record.change.new_image)?;
    let s = |k: &str| new.get(k).and_then(Value::as_str).map(str::to_owned);
    let (Some(pk), Some(sk)) = (s("pk"), s("sk")) else {
        return Ok(None);
    };
    let Some(id_from_pk) = pk.strip_prefix("ORDER#") else {
        return Ok(None);
    };
    if sk != "META" {
        return Ok(None);
    }
    let Some(status) = s("status") else {
        return Ok(None);
    };
    // Without `updatedAt` the stream record's time orders the changes (`createdAt` would not:
    // it stays the same while the status moves on).
    let updated_at = s("updatedAt").unwrap_or_else(|| {
        let t = record.change.approximate_creation_date_time;
        common::dynamo::millis_rfc3339(u64::try_from(t.timestamp_millis()).unwrap_or(0))
    });
    Ok(Some(StatusView {
        order_id: s("orderId").unwrap_or_else(|| id_from_pk.to_owned()),
        status,
        updated_at,
        version: new.get("version").and_then(Value::as_i64),
    }))
}

/// Writes the view unless a newer (or the same) state is already there.
pub async fn project(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    view: &StatusView,
) -> Result<Projection, ProjectError> {
    let put = dynamo
        .put_item()
        .table_name(table)
        .item("orderId", AttributeValue::S(view.order_id.clone()))
        .item("status", AttributeValue::S(view.status.clone()))
        .item("updatedAt", AttributeValue::S(view.updated_at.clone()));
    let put = match view.version {
        Some(v) => put
            .item("version", AttributeValue::N(v.to_string()))
            .condition_expression("attribute_not_exists(orderId) OR version < :v")
            .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        None => put
            .condition_expression("attribute_not_exists(orderId) OR updatedAt < :u")
            .expression_attribute_values(":u", AttributeValue::S(view.updated_at.clone())),
    };
    let result = put.send().await;
    match result {
        Ok(_) => Ok(Projection::Written),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(Projection::Stale)
        }
        Err(e) => Err(ProjectError::Store(
            aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string(),
        )),
    }
}

pub async fn handle_record(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    record: &EventRecord,
) -> Result<Projection, ProjectError> {
    match view_of(record)? {
        None => Ok(Projection::Ignored),
        Some(view) => {
            let p = project(dynamo, table, &view).await?;
            tracing::info!(order_id = %view.order_id, status = %view.status, updated_at = %view.updated_at, projection = ?p, "status view");
            Ok(p)
        }
    }
}

/// Processes the batch in order; failures are reported by sequence number.
pub async fn handle(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    event: &Event,
) -> DynamoDbEventResponse {
    let mut results = Vec::with_capacity(event.records.len());
    for record in &event.records {
        let seq = record
            .change
            .sequence_number
            .clone()
            .unwrap_or_else(|| record.event_id.clone());
        let r = handle_record(dynamo, table, record).await;
        if let Err(e) = &r {
            tracing::error!(sequence_number = %seq, error = %e, "projection failed");
        }
        results.push((seq, r));
    }
    common::batch::dynamodb_batch_response(results)
}
