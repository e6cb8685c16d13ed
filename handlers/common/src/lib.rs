//! What the ordersctl Lambda handlers share: idempotency, correlation IDs and JSON logs,
//! partial batch responses, SDK clients from the environment.
//!
//! API (stable; other handler crates depend on it):
//!
//! - [`idempotency::Idempotency`]: `Idempotency::new(dynamodb_client, table, ttl)`
//!   `.expiry_attribute("ttl")`, then `run(key, || async { effect }).await` ->
//!   `Result<T, IdempotencyError<E>>` (or `run_outcome` to learn whether it was a replay).
//! - [`correlation`]: `from_sqs`, `from_eventbridge`, `from_headers`, `from_json`, `generate`,
//!   `span(id)`; the header name [`correlation::HEADER`].
//! - [`init_tracing`]: JSON logs to stdout; level from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`,
//!   else `info`. Spans from [`correlation::span`] put `correlation_id` on every log line.
//! - [`batch`]: `sqs_batch_response`, `sqs_fifo_batch_response`, `dynamodb_batch_response`,
//!   `kinesis_batch_response` from per-record results.
//! - [`clients`]: `sdk_config()` (honours `AWS_ENDPOINT_URL`), `dynamodb_client()`,
//!   `sdk_config_for_endpoint(url)` (local endpoints and tests), `env_var(name)`.
//! - [`dynamo`]: JSON <-> attribute values (`to_item`, `from_item`, `to_attr`, `from_attr`),
//!   `epoch_seconds`, `now_rfc3339`, `millis_rfc3339`.

pub mod batch;
pub mod clients;
pub mod correlation;
pub mod dynamo;
pub mod idempotency;

pub use clients::{dynamodb_client, env_var, sdk_config, sdk_config_for_endpoint, MissingEnv};
pub use idempotency::{Idempotency, IdempotencyError, Outcome};

/// JSON logs on stdout (what CloudWatch and Lambda's JSON log format expect), one object per
/// line with the fields of the current span (e.g. `correlation_id`) flattened into `span`.
/// Level from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else `info`. Safe to call twice.
pub fn init_tracing() {
    // A plain level (RUST_LOG, else AWS_LAMBDA_LOG_LEVEL, else info) rather than EnvFilter
    // directives: the directive parser pulls in a regex engine, half a megabyte of every zip.
    let level = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| std::env::var("AWS_LAMBDA_LOG_LEVEL").ok())
        .and_then(|l| l.trim().parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .try_init();
}
