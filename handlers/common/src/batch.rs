//! Partial batch responses (`ReportBatchItemFailures`): per-record results in, the
//! `batchItemFailures` response out. Only failed records are retried by Lambda.

use aws_lambda_events::event::sqs::SqsBatchResponse;
use aws_lambda_events::event::streams::{DynamoDbEventResponse, KinesisEventResponse};

/// SQS (standard queue): every record whose result is `Err` is reported by its message ID.
pub fn sqs_batch_response<Id, T, E>(
    results: impl IntoIterator<Item = (Id, Result<T, E>)>,
) -> SqsBatchResponse
where
    Id: Into<String>,
{
    let mut response = SqsBatchResponse::default();
    response.set_failures(failed_ids(results));
    response
}

/// SQS FIFO: ordering within a message group must hold, so after the first failure every later
/// record is reported as failed too (Lambda then retries them in order).
pub fn sqs_fifo_batch_response<Id, T, E>(
    results: impl IntoIterator<Item = (Id, Result<T, E>)>,
) -> SqsBatchResponse
where
    Id: Into<String>,
{
    let mut failed = false;
    let mut ids = Vec::new();
    for (id, r) in results {
        failed |= r.is_err();
        if failed {
            ids.push(id.into());
        }
    }
    let mut response = SqsBatchResponse::default();
    response.set_failures(ids);
    response
}

/// DynamoDB Streams: records are identified by their sequence number
/// (`dynamodb.SequenceNumber`). Lambda retries from the first reported failure.
pub fn dynamodb_batch_response<Id, T, E>(
    results: impl IntoIterator<Item = (Id, Result<T, E>)>,
) -> DynamoDbEventResponse
where
    Id: Into<String>,
{
    let mut response = DynamoDbEventResponse::default();
    for id in failed_ids(results) {
        let mut f = aws_lambda_events::event::streams::DynamoDbBatchItemFailure::default();
        f.item_identifier = Some(id);
        response.batch_item_failures.push(f);
    }
    response
}

/// Kinesis: records are identified by their sequence number.
pub fn kinesis_batch_response<Id, T, E>(
    results: impl IntoIterator<Item = (Id, Result<T, E>)>,
) -> KinesisEventResponse
where
    Id: Into<String>,
{
    let mut response = KinesisEventResponse::default();
    response.set_failures(failed_ids(results));
    response
}

fn failed_ids<Id: Into<String>, T, E>(
    results: impl IntoIterator<Item = (Id, Result<T, E>)>,
) -> Vec<String> {
    results
        .into_iter()
        .filter(|(_, r)| r.is_err())
        .map(|(id, _)| id.into())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_are_reported() {
        let r = sqs_batch_response([("a", Ok(())), ("b", Err("bad")), ("c", Ok(()))]);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "b"}]})
        );
    }

    #[test]
    fn fifo_fails_everything_after_the_first_failure() {
        let r = sqs_fifo_batch_response([("a", Ok(())), ("b", Err("bad")), ("c", Ok(()))]);
        let ids: Vec<_> = r
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(ids, ["b", "c"]);
    }

    #[test]
    fn stream_responses() {
        let r = dynamodb_batch_response([("1", Err::<(), _>("x")), ("2", Ok(()))]);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "1"}]})
        );
        let r = kinesis_batch_response([("1", Ok::<(), ()>(()))]);
        assert!(r.batch_item_failures.is_empty());
    }
}
