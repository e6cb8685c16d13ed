//! Idempotency in the Powertools style, on a DynamoDB table keyed by `id` (S).
//!
//! `run(key, effect)`:
//! 1. a conditional PutItem of `{id: key, status: IN_PROGRESS, <expiry>: now + ttl,
//!    in_progress_expiry: now + in-progress timeout (ms)}` with
//!    `attribute_not_exists(id) OR <expiry> < :now OR (status = IN_PROGRESS AND
//!    in_progress_expiry < :now_ms)`. The conditional put *is* the lock: there is no
//!    read-then-write window, two concurrent callers cannot both win.
//! 2. the winner runs the effect; on success an UpdateItem stores `status: COMPLETED` and the
//!    JSON result in `data`; on failure the IN_PROGRESS record is deleted so a retry can run.
//! 3. a loser reads the existing record (returned by the failed put itself with
//!    `ReturnValuesOnConditionCheckFailure: ALL_OLD`, else a consistent GetItem):
//!    COMPLETED -> the stored result, without running the effect ([`Outcome::Replayed`]);
//!    IN_PROGRESS -> [`IdempotencyError::InProgress`], which is retryable.
//!
//! The expiry attribute is the table's TTL attribute (`ttl` in the EventConsumer blueprint,
//! `expiration` in the saga blueprints; default `expiration` as in Powertools).

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Record status values stored in the `status` attribute.
pub const STATUS_IN_PROGRESS: &str = "IN_PROGRESS";
pub const STATUS_COMPLETED: &str = "COMPLETED";

/// Idempotent execution of effects keyed by a business key.
#[derive(Clone, Debug)]
pub struct Idempotency {
    client: Client,
    table: String,
    ttl: Duration,
    expiry_attribute: String,
    in_progress_timeout: Duration,
}

/// What [`Idempotency::run_outcome`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<T> {
    /// The effect ran now; its result was stored.
    Executed(T),
    /// A completed record existed; this is its stored result, the effect did not run.
    Replayed(T),
}

impl<T> Outcome<T> {
    /// The result, whichever way it was obtained.
    pub fn into_inner(self) -> T {
        match self {
            Outcome::Executed(v) | Outcome::Replayed(v) => v,
        }
    }
    /// True when the stored result of an earlier run was returned.
    pub fn is_replay(&self) -> bool {
        matches!(self, Outcome::Replayed(_))
    }
}

/// Why [`Idempotency::run`] did not return a result.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError<E> {
    /// Another invocation holds the key and has not finished: retry later.
    #[error("a request with idempotency key {key:?} is already in progress; retry later")]
    InProgress { key: String },
    /// The effect ran and failed; the record was removed so a retry can run it again.
    #[error("{0}")]
    Effect(E),
    /// The idempotency table could not be read or written (retryable).
    #[error("idempotency store: {0}")]
    Store(String),
    /// A stored result could not be (de)serialized.
    #[error("idempotency record for {key:?}: {message}")]
    Corrupt { key: String, message: String },
}

impl<E> IdempotencyError<E> {
    /// True for errors a retry may resolve (in-flight duplicate, store trouble).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            IdempotencyError::InProgress { .. } | IdempotencyError::Store(_)
        )
    }
}

fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

fn store_err<E, R: std::error::Error + 'static>(e: R) -> IdempotencyError<E> {
    IdempotencyError::Store(DisplayErrorContext(e).to_string())
}

impl Idempotency {
    /// Records expire (table TTL) `ttl` after they are written. Expiry attribute `expiration`,
    /// in-progress timeout 60 s (set it to at least the function timeout).
    pub fn new(client: Client, table: impl Into<String>, ttl: Duration) -> Self {
        Idempotency {
            client,
            table: table.into(),
            ttl,
            expiry_attribute: "expiration".to_string(),
            in_progress_timeout: Duration::from_secs(60),
        }
    }

    /// The table's TTL attribute name (`ttl`, `expiration`, ...).
    pub fn expiry_attribute(mut self, name: impl Into<String>) -> Self {
        self.expiry_attribute = name.into();
        self
    }

    /// After this long an IN_PROGRESS record is considered abandoned (the function crashed or
    /// timed out) and another invocation may take the key over.
    pub fn in_progress_timeout(mut self, timeout: Duration) -> Self {
        self.in_progress_timeout = timeout;
        self
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Run `effect` at most once per `key` (within the TTL); see the module docs.
    pub async fn run<T, E, F, Fut>(&self, key: &str, effect: F) -> Result<T, IdempotencyError<E>>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.run_outcome(key, effect).await.map(Outcome::into_inner)
    }

    /// Like [`run`](Self::run), telling whether the result was replayed.
    pub async fn run_outcome<T, E, F, Fut>(
        &self,
        key: &str,
        effect: F,
    ) -> Result<Outcome<T>, IdempotencyError<E>>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        // At most two attempts: a record can vanish between our failed put and the read
        // (its effect failed and it was deleted); then the key is free again.
        for _ in 0..2 {
            match self.acquire(key).await? {
                Acquired::Lock => return self.execute(key, effect).await.map(Outcome::Executed),
                Acquired::Existing(Some(item)) => {
                    return self.existing(key, &item).map(Outcome::Replayed)
                }
                Acquired::Existing(None) => continue,
            }
        }
        Err(IdempotencyError::InProgress {
            key: key.to_string(),
        })
    }

    async fn acquire<E>(&self, key: &str) -> Result<Acquired, IdempotencyError<E>> {
        let now = now();
        let expiry = now + self.ttl;
        let in_progress_expiry = now + self.in_progress_timeout;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("id", AttributeValue::S(key.to_string()))
            .item("status", AttributeValue::S(STATUS_IN_PROGRESS.to_string()))
            .item(&self.expiry_attribute, AttributeValue::N(expiry.as_secs().to_string()))
            .item("in_progress_expiry", AttributeValue::N(in_progress_expiry.as_millis().to_string()))
            .condition_expression(
                "attribute_not_exists(#id) OR #expiry < :now OR (#status = :in_progress AND #ipe < :now_ms)",
            )
            .expression_attribute_names("#id", "id")
            .expression_attribute_names("#expiry", &self.expiry_attribute)
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#ipe", "in_progress_expiry")
            .expression_attribute_values(":now", AttributeValue::N(now.as_secs().to_string()))
            .expression_attribute_values(":now_ms", AttributeValue::N(now.as_millis().to_string()))
            .expression_attribute_values(":in_progress", AttributeValue::S(STATUS_IN_PROGRESS.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(Acquired::Lock),
            Err(e) => {
                let old = match e.as_service_error() {
                    Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c)) => {
                        c.item().cloned()
                    }
                    _ => return Err(store_err(e)),
                };
                match old {
                    Some(item) if !item.is_empty() => Ok(Acquired::Existing(Some(item))),
                    _ => {
                        let got = self
                            .client
                            .get_item()
                            .table_name(&self.table)
                            .key("id", AttributeValue::S(key.to_string()))
                            .consistent_read(true)
                            .send()
                            .await
                            .map_err(store_err)?;
                        Ok(Acquired::Existing(got.item))
                    }
                }
            }
        }
    }

    fn existing<T: DeserializeOwned, E>(
        &self,
        key: &str,
        item: &HashMap<String, AttributeValue>,
    ) -> Result<T, IdempotencyError<E>> {
        let status = item
            .get("status")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str);
        if status != Some(STATUS_COMPLETED) {
            return Err(IdempotencyError::InProgress {
                key: key.to_string(),
            });
        }
        let data = item
            .get("data")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
            .unwrap_or("null");
        serde_json::from_str(data).map_err(|e| IdempotencyError::Corrupt {
            key: key.to_string(),
            message: e.to_string(),
        })
    }

    async fn execute<T, E, F, Fut>(&self, key: &str, effect: F) -> Result<T, IdempotencyError<E>>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        match effect().await {
            Ok(value) => {
                let data =
                    serde_json::to_string(&value).map_err(|e| IdempotencyError::Corrupt {
                        key: key.to_string(),
                        message: e.to_string(),
                    })?;
                let expiry = now() + self.ttl;
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .key("id", AttributeValue::S(key.to_string()))
                    .update_expression(
                        "SET #status = :completed, #data = :data, #expiry = :expiry REMOVE #ipe",
                    )
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_names("#data", "data")
                    .expression_attribute_names("#expiry", &self.expiry_attribute)
                    .expression_attribute_names("#ipe", "in_progress_expiry")
                    .expression_attribute_values(
                        ":completed",
                        AttributeValue::S(STATUS_COMPLETED.to_string()),
                    )
                    .expression_attribute_values(":data", AttributeValue::S(data))
                    .expression_attribute_values(
                        ":expiry",
                        AttributeValue::N(expiry.as_secs().to_string()),
                    )
                    .send()
                    .await
                    .map_err(store_err)?;
                Ok(value)
            }
            Err(e) => {
                // Free the key so a retry can run the effect; only our own IN_PROGRESS record.
                let deleted = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .key("id", AttributeValue::S(key.to_string()))
                    .condition_expression("#status = :in_progress")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(
                        ":in_progress",
                        AttributeValue::S(STATUS_IN_PROGRESS.to_string()),
                    )
                    .send()
                    .await;
                if let Err(d) = deleted {
                    tracing::warn!(key, error = %DisplayErrorContext(&d), "could not delete the in-progress idempotency record");
                }
                Err(IdempotencyError::Effect(e))
            }
        }
    }
}

enum Acquired {
    Lock,
    Existing(Option<HashMap<String, AttributeValue>>),
}
