//! Store each greeting once: a message `{"name": "Ada"}` becomes the item `{name: "Ada"}`.
//! A message that is not such JSON, or whose write fails, is reported in
//! `batchItemFailures`, so SQS retries only it; a name already stored is not an error.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use aws_sdk_dynamodb::types::AttributeValue;

/// The name a message greets, or why it has none.
pub fn name_of(body: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    match value.get("name").and_then(|n| n.as_str()) {
        Some(name) if !name.trim().is_empty() => Ok(name.to_string()),
        _ => Err("no non-empty \"name\"".to_string()),
    }
}

/// Store each record's greeting; the records that failed, for SQS to retry.
pub async fn handle(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    event: SqsEvent,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let stored = match name_of(record.body.as_deref().unwrap_or("")) {
            Ok(name) => client
                .put_item()
                .table_name(table)
                .item("name", AttributeValue::S(name))
                .condition_expression("attribute_not_exists(#n)")
                .expression_attribute_names("#n", "name")
                .send()
                .await
                .map(|_| ())
                .or_else(|e| match e.as_service_error() {
                    Some(s) if s.is_conditional_check_failed_exception() => Ok(()),
                    _ => Err(e.to_string()),
                }),
            Err(why) => Err(why),
        };
        if let Err(why) = stored {
            eprintln!("message {id}: {why}");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_greeting_names_someone() {
        assert_eq!(name_of(r#"{"name": "Ada"}"#), Ok("Ada".to_string()));
        assert!(name_of(r#"{"name": " "}"#).is_err());
        assert!(name_of("hello").is_err());
    }
}
