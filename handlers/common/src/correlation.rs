//! Correlation IDs: taken from the incoming message (SQS message attribute, EventBridge detail
//! field, HTTP header), else generated; and a span that stamps them on every log line.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsMessage;
use aws_lambda_events::http::HeaderMap;
use serde_json::Value;

/// The HTTP header (and SQS message attribute) carrying the correlation ID.
pub const HEADER: &str = "x-correlation-id";
/// The field name in JSON payloads (EventBridge `detail`, message bodies) and SQS attributes.
pub const FIELD: &str = "correlationId";

/// A fresh correlation ID (UUID v4).
pub fn generate() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// From an SQS message attribute `correlationId` or `x-correlation-id` (string), else from
/// the body: an EventBridge event's `detail.correlationId` (what a rule delivers to a queue
/// carries no attributes) or a JSON message's own `correlationId`; else the message ID (the
/// same on every receive, so a message's retries stay correlated); else generated.
pub fn from_sqs(message: &SqsMessage) -> String {
    [FIELD, HEADER]
        .iter()
        .filter_map(|name| message.message_attributes.get(*name))
        .filter_map(|a| a.string_value.clone())
        .find(|v| !v.is_empty())
        .or_else(|| {
            let body: Value = serde_json::from_str(message.body.as_deref()?).ok()?;
            body.get("detail")
                .and_then(from_json)
                .or_else(|| from_json(&body))
        })
        .or_else(|| message.message_id.clone().filter(|id| !id.is_empty()))
        .unwrap_or_else(generate)
}

/// The X-Ray trace header of the current invocation (`_X_AMZN_TRACE_ID`, which the Lambda
/// runtime sets per invocation), to pass on in PutEvents so the trace continues at the rule's
/// targets.
pub fn trace_header() -> Option<String> {
    std::env::var("_X_AMZN_TRACE_ID")
        .ok()
        .filter(|t| !t.is_empty())
}

/// From the EventBridge event's `detail.correlationId`, else generated.
pub fn from_eventbridge(event: &EventBridgeEvent<Value>) -> String {
    from_json(&event.detail).unwrap_or_else(generate)
}

/// `correlationId` of a JSON object, if present and a non-empty string.
pub fn from_json(value: &Value) -> Option<String> {
    value
        .get(FIELD)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// From the `x-correlation-id` header (case-insensitive), else generated.
pub fn from_headers(headers: &HeaderMap) -> String {
    headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(generate)
}

/// A span with a `correlation_id` field; enter it (or `.instrument(span)`) around the handling
/// of one message so every log line carries the ID.
pub fn span(correlation_id: &str) -> tracing::Span {
    tracing::info_span!("handler", correlation_id = %correlation_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqs_attribute_wins() {
        let msg: SqsMessage = serde_json::from_value(serde_json::json!({
            "messageId": "m1",
            "body": "{}",
            "messageAttributes": {"correlationId": {"stringValue": "abc", "dataType": "String"}}
        }))
        .unwrap();
        assert_eq!(from_sqs(&msg), "abc");
        let bare: SqsMessage =
            serde_json::from_value(serde_json::json!({"messageId": "m2"})).unwrap();
        assert_eq!(from_sqs(&bare), "m2");
        let anonymous: SqsMessage = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(from_sqs(&anonymous).len(), 36);
    }

    #[test]
    fn an_eventbridge_event_or_a_json_message_on_a_queue_carries_it_in_the_body() {
        let event: SqsMessage = serde_json::from_value(serde_json::json!({
            "messageId": "m1",
            "body": r#"{"detail-type": "OrderPlaced", "detail": {"orderId": "o-1", "correlationId": "c-7"}}"#
        }))
        .unwrap();
        assert_eq!(from_sqs(&event), "c-7");
        let raw: SqsMessage = serde_json::from_value(serde_json::json!({
            "messageId": "m2", "body": r#"{"orderId": "o-1", "correlationId": "c-8"}"#
        }))
        .unwrap();
        assert_eq!(from_sqs(&raw), "c-8");
    }

    #[test]
    fn eventbridge_and_headers() {
        let ev: EventBridgeEvent<Value> = serde_json::from_value(serde_json::json!({
            "detail-type": "OrderCreated", "source": "orders", "detail": {"correlationId": "c-1"}
        }))
        .unwrap();
        assert_eq!(from_eventbridge(&ev), "c-1");
        let mut h = HeaderMap::new();
        h.insert("X-Correlation-Id", "h-1".parse().unwrap());
        assert_eq!(from_headers(&h), "h-1");
        assert_ne!(
            from_headers(&HeaderMap::new()),
            from_headers(&HeaderMap::new())
        );
    }
}
