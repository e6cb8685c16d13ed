//! Event source mappings: an SQS queue or a DynamoDB stream feeding a function.

use super::error::check_range;
use super::function::{Destination, DestinationSpec, FunctionRef};
use super::iam::{Grantee, Statement};
use super::pattern::EventPattern;
use super::queue::QueueRef;
use super::stack::{handle, Facts, Node};
use super::table::TableRef;
use super::{Duration, SynthError};
use crate::spec::{cfn, value};
use crate::template::{Expr, Resource};

handle!(
    /// An `AWS::Lambda::EventSourceMapping`.
    EventSourceRef
);

/// Builder for an SQS event source, from [`FunctionRef::consume`].
///
/// ```
/// use ordersctl::constructs::{App, Duration};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let q = stack.queue("Jobs").visibility_timeout(Duration::secs(180)).build()?;
/// let f = stack.function("Worker").handler_crate("worker").timeout(Duration::secs(30)).build()?;
/// f.consume(&q).batch_size(10).report_batch_item_failures().build()?;
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "an event source is added by build()"]
pub struct SqsEventSourceBuilder<'a> {
    function: FunctionRef<'a>,
    queue: QueueRef<'a>,
    batch_size: Option<u32>,
    max_batching_window: Option<Duration>,
    report_batch_item_failures: bool,
    max_concurrency: Option<u32>,
    filters: Vec<EventPattern>,
    enabled: bool,
}

/// Where a stream event source starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    TrimHorizon,
    Latest,
}

/// Builder for a DynamoDB stream event source, from [`FunctionRef::consume_stream`].
///
/// ```
/// use ordersctl::constructs::{App, Attr, StartingPosition, StreamView};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let t = stack.table("Orders").partition_key("pk", Attr::String).stream(StreamView::NewImage).build()?;
/// let dlq = stack.queue("StreamDlq").build()?;
/// let f = stack.function("Publisher").handler_crate("publisher").build()?;
/// f.consume_stream(&t, StartingPosition::TrimHorizon)
///     .bisect_on_error().max_retry_attempts(3).on_failure(&dlq).build()?;
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "an event source is added by build()"]
pub struct StreamEventSourceBuilder<'a> {
    function: FunctionRef<'a>,
    table: TableRef<'a>,
    starting_position: StartingPosition,
    batch_size: Option<u32>,
    max_batching_window: Option<Duration>,
    bisect_on_error: bool,
    max_retry_attempts: Option<i32>,
    max_record_age: Option<Option<Duration>>,
    on_failure: Option<DestinationSpec>,
    parallelization_factor: Option<u32>,
    report_batch_item_failures: bool,
    filters: Vec<EventPattern>,
}

impl<'a> FunctionRef<'a> {
    /// Consume an SQS queue.
    pub fn consume(&self, queue: &QueueRef<'a>) -> SqsEventSourceBuilder<'a> {
        SqsEventSourceBuilder {
            function: *self,
            queue: *queue,
            batch_size: None,
            max_batching_window: None,
            report_batch_item_failures: false,
            max_concurrency: None,
            filters: Vec::new(),
            enabled: true,
        }
    }

    /// Consume a DynamoDB table's stream.
    pub fn consume_stream(
        &self,
        table: &TableRef<'a>,
        starting_position: StartingPosition,
    ) -> StreamEventSourceBuilder<'a> {
        StreamEventSourceBuilder {
            function: *self,
            table: *table,
            starting_position,
            batch_size: None,
            max_batching_window: None,
            bisect_on_error: false,
            max_retry_attempts: None,
            max_record_age: None,
            on_failure: None,
            parallelization_factor: None,
            report_batch_item_failures: false,
            filters: Vec::new(),
        }
    }
}

fn filter_criteria(filters: &[EventPattern]) -> Expr {
    Expr::map([(
        cfn::Filters,
        Expr::List(
            filters
                .iter()
                .map(|f| Expr::map([(cfn::Pattern, Expr::from(f.to_json_string()))]))
                .collect(),
        ),
    )])
}

fn add_mapping<'a>(
    function: FunctionRef<'a>,
    source_id: &str,
    r: Resource,
) -> Result<EventSourceRef<'a>, SynthError> {
    let stack = function.stack;
    let logical_id = format!("{}{}EventSource", function.logical_id(), source_id);
    let path = format!("{}/{}EventSource", function.path(), source_id);
    stack.add_resource(&logical_id, &path, r)?;
    let node = stack.add_node(Node {
        path,
        logical_id,
        facts: Facts::default(),
        imported: None,
    });
    Ok(EventSourceRef { stack, node })
}

impl<'a> SqsEventSourceBuilder<'a> {
    /// Records per invocation: 1 to 10 for FIFO queues, up to 10,000 for standard queues
    /// (above 10 a batching window of at least 1 s is required).
    pub fn batch_size(mut self, n: u32) -> Self {
        self.batch_size = Some(n);
        self
    }
    /// How long to gather records, 0 s to 300 s.
    pub fn max_batching_window(mut self, d: Duration) -> Self {
        self.max_batching_window = Some(d);
        self
    }
    /// Let the handler report the failed message IDs instead of failing the whole batch.
    pub fn report_batch_item_failures(mut self) -> Self {
        self.report_batch_item_failures = true;
        self
    }
    /// Most concurrent invocations this source drives, 2 to 1,000.
    pub fn max_concurrency(mut self, n: u32) -> Self {
        self.max_concurrency = Some(n);
        self
    }
    /// Only invoke for messages matching this pattern (up to 5 filters).
    pub fn filter(mut self, pattern: EventPattern) -> Self {
        self.filters.push(pattern);
        self
    }
    /// Create the mapping disabled.
    pub fn disabled(mut self) -> Self {
        self.enabled = false;
        self
    }

    /// Validate and add the mapping; the function's role gets receive/delete on the queue.
    pub fn build(self) -> Result<EventSourceRef<'a>, SynthError> {
        let path = format!(
            "{}/{}EventSource",
            self.function.path(),
            self.queue.logical_id()
        );
        let p = path.as_str();
        let fifo = self.queue.is_fifo();
        if let Some(n) = self.batch_size {
            let max = if fifo { 10 } else { 10_000 };
            check_range(p, "batch_size", i64::from(n), 1, max, "records")?;
            if n > 10 && self.max_batching_window.is_none_or(|w| w.as_secs() == 0) {
                return Err(SynthError::invalid(
                    p,
                    format!("batch_size {n} above 10 needs max_batching_window of at least 1 s"),
                ));
            }
        }
        if let Some(w) = self.max_batching_window {
            if fifo {
                return Err(SynthError::invalid(
                    p,
                    "max_batching_window is not supported for FIFO queues",
                ));
            }
            check_range(p, "max_batching_window", w.secs_i64(), 0, 300, "s")?;
        }
        if let Some(n) = self.max_concurrency {
            check_range(p, "max_concurrency", i64::from(n), 2, 1000, "")?;
        }
        check_range(p, "filters", self.filters.len() as i64, 0, 5, "")?;

        let mut r = Resource::new("AWS::Lambda::EventSourceMapping");
        r.set(cfn::EventSourceArn, self.queue.arn())
            .set(cfn::FunctionName, self.function.name())
            .set_opt(cfn::BatchSize, self.batch_size)
            .set_opt(
                cfn::MaximumBatchingWindowInSeconds,
                self.max_batching_window.map(Duration::as_secs),
            );
        if !self.enabled {
            r.set(cfn::Enabled, false);
        }
        if self.report_batch_item_failures {
            r.set(
                cfn::FunctionResponseTypes,
                Expr::strings([value::REPORT_BATCH_ITEM_FAILURES]),
            );
        }
        if let Some(n) = self.max_concurrency {
            r.set(
                cfn::ScalingConfig,
                Expr::map([(cfn::MaximumConcurrency, Expr::from(n))]),
            );
        }
        if !self.filters.is_empty() {
            r.set(cfn::FilterCriteria, filter_criteria(&self.filters));
        }
        // Exactly what the poller needs: receive, delete, attributes (no ChangeMessageVisibility).
        let actions = [
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage",
        ];
        self.function
            .add_to_principal_policy(Statement::allow(actions, [self.queue.arn()]));
        if let Some(key) = self.queue.facts().kms_key_arn {
            self.function
                .add_to_principal_policy(Statement::allow(["kms:Decrypt"], [key]));
        }
        add_mapping(self.function, &self.queue.logical_id(), r)
    }
}

impl<'a> StreamEventSourceBuilder<'a> {
    /// Records per invocation, 1 to 10,000.
    pub fn batch_size(mut self, n: u32) -> Self {
        self.batch_size = Some(n);
        self
    }
    /// How long to gather records, 0 s to 300 s.
    pub fn max_batching_window(mut self, d: Duration) -> Self {
        self.max_batching_window = Some(d);
        self
    }
    /// Split a failing batch in two and retry each half.
    pub fn bisect_on_error(mut self) -> Self {
        self.bisect_on_error = true;
        self
    }
    /// Retries of a failing batch, 0 to 10,000 (-1: until the record expires).
    pub fn max_retry_attempts(mut self, n: i32) -> Self {
        self.max_retry_attempts = Some(n);
        self
    }
    /// Oldest record still sent, 60 s to 7 days (`None`: infinite).
    pub fn max_record_age(mut self, d: Option<Duration>) -> Self {
        self.max_record_age = Some(d);
        self
    }
    /// Where records that exhaust their retries are described (a queue or topic).
    pub fn on_failure(mut self, d: &dyn Destination) -> Self {
        self.on_failure = Some(DestinationSpec::of(d));
        self
    }
    /// Concurrent batches per shard, 1 to 10.
    pub fn parallelization_factor(mut self, n: u32) -> Self {
        self.parallelization_factor = Some(n);
        self
    }
    /// Let the handler report the failed sequence number.
    pub fn report_batch_item_failures(mut self) -> Self {
        self.report_batch_item_failures = true;
        self
    }
    /// Only invoke for records matching this pattern (up to 5 filters).
    pub fn filter(mut self, pattern: EventPattern) -> Self {
        self.filters.push(pattern);
        self
    }

    /// Validate and add the mapping; the function's role gets stream read and destination send.
    pub fn build(self) -> Result<EventSourceRef<'a>, SynthError> {
        let source_id = format!("{}Stream", self.table.logical_id());
        let path = format!("{}/{}EventSource", self.function.path(), source_id);
        let p = path.as_str();
        if !self.table.has_stream() {
            return Err(SynthError::invalid(
                p,
                format!(
                    "table {} has no stream; call .stream(StreamView::...) on it",
                    self.table.path()
                ),
            ));
        }
        if let Some(n) = self.batch_size {
            check_range(p, "batch_size", i64::from(n), 1, 10_000, "records")?;
        }
        if let Some(w) = self.max_batching_window {
            check_range(p, "max_batching_window", w.secs_i64(), 0, 300, "s")?;
        }
        if let Some(n) = self.max_retry_attempts {
            check_range(p, "max_retry_attempts", i64::from(n), -1, 10_000, "")?;
        }
        if let Some(Some(age)) = self.max_record_age {
            check_range(p, "max_record_age", age.secs_i64(), 60, 604_800, "s")?;
        }
        if let Some(n) = self.parallelization_factor {
            check_range(p, "parallelization_factor", i64::from(n), 1, 10, "")?;
        }
        check_range(p, "filters", self.filters.len() as i64, 0, 5, "")?;

        let mut r = Resource::new("AWS::Lambda::EventSourceMapping");
        let position = match self.starting_position {
            StartingPosition::TrimHorizon => "TRIM_HORIZON",
            StartingPosition::Latest => "LATEST",
        };
        r.set(cfn::EventSourceArn, self.table.stream_arn())
            .set(cfn::FunctionName, self.function.name())
            .set(cfn::StartingPosition, position)
            .set_opt(cfn::BatchSize, self.batch_size)
            .set_opt(
                cfn::MaximumBatchingWindowInSeconds,
                self.max_batching_window.map(Duration::as_secs),
            )
            .set_opt(
                cfn::MaximumRetryAttempts,
                self.max_retry_attempts.map(i64::from),
            )
            .set_opt(cfn::ParallelizationFactor, self.parallelization_factor);
        if self.bisect_on_error {
            r.set(cfn::BisectBatchOnFunctionError, true);
        }
        if let Some(age) = self.max_record_age {
            r.set(
                cfn::MaximumRecordAgeInSeconds,
                age.map_or(-1, |d| d.secs_i64()),
            );
        }
        if self.report_batch_item_failures {
            r.set(
                cfn::FunctionResponseTypes,
                Expr::strings([value::REPORT_BATCH_ITEM_FAILURES]),
            );
        }
        if !self.filters.is_empty() {
            r.set(cfn::FilterCriteria, filter_criteria(&self.filters));
        }
        if let Some(spec) = &self.on_failure {
            r.set(
                cfn::DestinationConfig,
                Expr::map([(
                    cfn::OnFailure,
                    Expr::map([(cfn::Destination, spec.arn.clone())]),
                )]),
            );
            spec.statements
                .iter()
                .cloned()
                .for_each(|s| self.function.add_to_principal_policy(s));
        }
        self.table.grant_stream_read(&self.function);
        add_mapping(self.function, &source_id, r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constructs::{App, Attr, Stack, StreamView};

    fn sqs_err(
        f: impl for<'x> FnOnce(SqsEventSourceBuilder<'x>) -> SqsEventSourceBuilder<'x>,
        fifo: bool,
    ) -> String {
        let app = App::new();
        let s: &Stack = app.stack("S");
        let mut qb = s.queue("Q");
        if fifo {
            qb = qb.fifo();
        }
        let q = qb.build().unwrap();
        let func = s.function("F").handler_crate("w").build().unwrap();
        f(func.consume(&q))
            .build()
            .expect_err("must fail")
            .to_string()
    }

    #[test]
    fn sqs_limits_name_the_mapping_path() {
        let cases = [
            ("batch_size", sqs_err(|b| b.batch_size(0), false)),
            (
                "batch_size",
                sqs_err(
                    |b| b.batch_size(10_001).max_batching_window(Duration::secs(1)),
                    false,
                ),
            ),
            ("max_batching_window", sqs_err(|b| b.batch_size(11), false)),
            ("batch_size", sqs_err(|b| b.batch_size(11), true)),
            (
                "max_batching_window",
                sqs_err(|b| b.max_batching_window(Duration::secs(301)), false),
            ),
            ("max_concurrency", sqs_err(|b| b.max_concurrency(1), false)),
            (
                "max_concurrency",
                sqs_err(|b| b.max_concurrency(1001), false),
            ),
        ];
        for (needle, msg) in cases {
            assert!(msg.starts_with("S/F/QEventSource"), "{msg}");
            assert!(msg.contains(needle), "{needle} not in {msg}");
        }
    }

    #[test]
    fn stream_limits_and_missing_stream() {
        let app = App::new();
        let s = app.stack("S");
        let plain = s
            .table("Plain")
            .partition_key("pk", Attr::String)
            .build()
            .unwrap();
        let t = s
            .table("T")
            .partition_key("pk", Attr::String)
            .stream(StreamView::KeysOnly)
            .build()
            .unwrap();
        let f = s.function("F").handler_crate("w").build().unwrap();
        let e = f
            .consume_stream(&plain, StartingPosition::Latest)
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no stream"), "{e}");
        for (needle, b) in [
            (
                "max_retry_attempts",
                f.consume_stream(&t, StartingPosition::Latest)
                    .max_retry_attempts(10_001),
            ),
            (
                "max_record_age",
                f.consume_stream(&t, StartingPosition::Latest)
                    .max_record_age(Some(Duration::secs(59))),
            ),
            (
                "parallelization_factor",
                f.consume_stream(&t, StartingPosition::Latest)
                    .parallelization_factor(11),
            ),
            (
                "batch_size",
                f.consume_stream(&t, StartingPosition::Latest).batch_size(0),
            ),
        ] {
            let e = b.build().unwrap_err().to_string();
            assert!(
                e.starts_with("S/F/TStreamEventSource") && e.contains(needle),
                "{e}"
            );
        }
    }
}
