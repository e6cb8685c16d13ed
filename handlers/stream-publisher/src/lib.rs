//! Orders table stream (NEW_AND_OLD_IMAGES) -> `OrderStatusChanged` on `EVENT_BUS_NAME`.
//!
//! A record is published when it is a MODIFY whose `status` differs between the old and the
//! new image (an INSERT is the order being placed, announced by the ingest function; a
//! REMOVE is not a status change). Entries go out in PutEvents calls of at most 10; an entry
//! the bus rejects, or a whole call that fails, is reported as a batch item failure by the
//! record's sequence number, so Lambda retries (and bisects) from there.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde_json::{json, Map, Value};

pub const SOURCE: &str = "orders.stream";
pub const DETAIL_TYPE: &str = "OrderStatusChanged";
/// PutEvents accepts at most 10 entries.
const MAX_ENTRIES: usize = 10;

fn image(item: &serde_dynamo::Item) -> Map<String, Value> {
    if item.is_empty() {
        return Map::new();
    }
    serde_dynamo::from_item(item.clone()).unwrap_or_default()
}

fn sequence_number(record: &EventRecord) -> String {
    record
        .change
        .sequence_number
        .clone()
        .unwrap_or_else(|| record.event_id.clone())
}

/// The event detail for a record whose status changed, else `None`.
pub fn status_change(record: &EventRecord) -> Option<Value> {
    if record.event_name != "MODIFY" {
        return None;
    }
    let (new, old) = (
        image(&record.change.new_image),
        image(&record.change.old_image),
    );
    let status = new.get("status").and_then(Value::as_str)?;
    let previous = old.get("status").and_then(Value::as_str);
    if previous == Some(status) {
        return None;
    }
    let order_id = new
        .get("orderId")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            new.get("pk")
                .and_then(Value::as_str)
                .map(|pk| pk.trim_start_matches("ORDER#").to_owned())
        })?;
    let t = record.change.approximate_creation_date_time;
    Some(json!({
        "orderId": order_id,
        "status": status,
        "previousStatus": previous,
        "changedAt": new.get("updatedAt").cloned().unwrap_or_else(|| json!(common::dynamo::millis_rfc3339(u64::try_from(t.timestamp_millis()).unwrap_or(0)))),
        "sequenceNumber": sequence_number(record),
    }))
}

/// Publishes the status changes in `event`; returns the failed sequence numbers.
pub async fn handle(
    events: &aws_sdk_eventbridge::Client,
    bus: &str,
    event: &Event,
) -> DynamoDbEventResponse {
    let changes: Vec<(String, Value)> = event
        .records
        .iter()
        .filter_map(|r| status_change(r).map(|d| (sequence_number(r), d)))
        .collect();
    let mut results: Vec<(String, Result<(), String>)> = Vec::new();
    for chunk in changes.chunks(MAX_ENTRIES) {
        let entries: Vec<PutEventsRequestEntry> = chunk
            .iter()
            .map(|(_, detail)| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(bus)
                    .source(SOURCE)
                    .detail_type(DETAIL_TYPE)
                    .detail(detail.to_string())
                    .set_trace_header(common::correlation::trace_header())
                    .build()
            })
            .collect();
        match events.put_events().set_entries(Some(entries)).send().await {
            Ok(out) => {
                // Result entries are in request order.
                let out_entries = out.entries();
                for (i, (seq, detail)) in chunk.iter().enumerate() {
                    let r = match out_entries.get(i) {
                        Some(e) if e.error_code().is_some() => Err(format!(
                            "{}: {}",
                            e.error_code().unwrap_or_default(),
                            e.error_message().unwrap_or_default()
                        )),
                        Some(e) => {
                            tracing::info!(order_id = %detail["orderId"], status = %detail["status"], event_id = e.event_id().unwrap_or_default(), "published OrderStatusChanged");
                            Ok(())
                        }
                        None => Err("no result entry".to_owned()),
                    };
                    results.push((seq.clone(), r));
                }
            }
            Err(e) => {
                let message = aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string();
                results.extend(
                    chunk
                        .iter()
                        .map(|(seq, _)| (seq.clone(), Err(message.clone()))),
                );
            }
        }
    }
    for (seq, r) in &results {
        if let Err(e) = r {
            tracing::error!(sequence_number = %seq, error = %e, "publish failed");
        }
    }
    common::batch::dynamodb_batch_response(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_status_changes_are_events() {
        let event: Event =
            serde_json::from_str(include_str!("../events/orders-stream.json")).unwrap();
        let details: Vec<_> = event.records.iter().filter_map(status_change).collect();
        assert_eq!(details.len(), 1);
        assert_eq!(details[0]["orderId"], "ord-2001");
        assert_eq!(details[0]["status"], "SHIPPED");
        assert_eq!(details[0]["previousStatus"], "PAID");
        assert_eq!(details[0]["sequenceNumber"], "400000000000000000002");
    }
}
