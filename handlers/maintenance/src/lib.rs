//! Daily maintenance of the idempotency table: DynamoDB deletes expired items only
//! eventually (often within days), and until then an expired record still exists. This scans
//! for records whose TTL attribute (`ttl` in the EventConsumer blueprint; `TTL_ATTRIBUTE`
//! overrides) is in the past and deletes each on condition it is still expired, so a record
//! refreshed meanwhile survives. Records without the attribute are left alone.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

pub const DEFAULT_TTL_ATTRIBUTE: &str = "ttl";

/// What a run did (the function's result, also logged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub scanned: u64,
    pub expired: u64,
    pub deleted: u64,
    /// Expired when scanned, refreshed before the delete.
    pub skipped: u64,
}

#[derive(Debug)]
pub struct MaintenanceError(pub String);

impl std::fmt::Display for MaintenanceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "maintenance: {}", self.0)
    }
}

impl std::error::Error for MaintenanceError {}

fn store<E: std::error::Error + 'static>(e: E) -> MaintenanceError {
    MaintenanceError(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
}

/// Deletes every record of `table` whose `ttl_attribute` (epoch seconds) is before `now`.
pub async fn purge_expired(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    ttl_attribute: &str,
    now: u64,
) -> Result<Report, MaintenanceError> {
    let mut report = Report::default();
    let now = AttributeValue::N(now.to_string());
    let mut start = None;
    loop {
        let page = dynamo
            .scan()
            .table_name(table)
            .filter_expression("#ttl < :now")
            .projection_expression("id")
            .expression_attribute_names("#ttl", ttl_attribute)
            .expression_attribute_values(":now", now.clone())
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(store)?;
        report.scanned += u64::try_from(page.scanned_count).unwrap_or(0);
        for item in page.items() {
            let Some(id) = item.get("id") else { continue };
            report.expired += 1;
            let deleted = dynamo
                .delete_item()
                .table_name(table)
                .key("id", id.clone())
                .condition_expression("#ttl < :now")
                .expression_attribute_names("#ttl", ttl_attribute)
                .expression_attribute_values(":now", now.clone())
                .send()
                .await;
            match deleted {
                Ok(_) => report.deleted += 1,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                {
                    report.skipped += 1
                }
                Err(e) => return Err(store(e)),
            }
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    tracing::info!(
        table,
        scanned = report.scanned,
        expired = report.expired,
        deleted = report.deleted,
        skipped = report.skipped,
        "maintenance done"
    );
    Ok(report)
}
