//! EventBridge Pipes: a DynamoDB stream or SQS queue, filtered, delivered to an event bus,
//! queue, function or state machine, through a role of its own.

use super::bus::EventBusRef;
use super::error::check_range;
use super::event_source::StartingPosition;
use super::function::{Destination, DestinationSpec};
use super::iam::{assume_role_policy, Statement};
use super::pattern::EventPattern;
use super::queue::QueueRef;
use super::stack::{check_construct_id, handle, Facts, Node, PolicyHolder};
use super::table::TableRef;
use super::{Stack, SynthError};
use crate::spec::cfn;
use crate::template::{Expr, Resource};

handle!(
    /// An EventBridge pipe.
    PipeRef
);

#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    Stream(TableRef<'a>, StartingPosition),
    Queue(QueueRef<'a>),
}

#[derive(Debug, Clone)]
enum PipeTarget {
    Bus {
        spec: DestinationSpec,
        source: String,
        detail_type: String,
    },
    Other(DestinationSpec),
}

/// Builder for an `AWS::Pipes::Pipe` and its role `<Id>Role`.
///
/// ```
/// use ordersctl::constructs::{App, Attr, EventPattern, Match, StartingPosition, StreamView};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let orders = stack.table("Orders").partition_key("pk", Attr::String).stream(StreamView::NewImage).build()?;
/// let bus = stack.event_bus("Bus").bus_name("orders").build()?;
/// stack.pipe("NewOrders")
///     .source_stream(&orders, StartingPosition::Latest)
///     .filter(EventPattern::new().field("eventName", [Match::from("INSERT")]))
///     .target_event_bus(&bus, "orders.data", "OrderCreated")
///     .build()?;
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "a pipe is added by build()"]
pub struct PipeBuilder<'a> {
    stack: &'a Stack,
    id: String,
    pipe_name: Option<String>,
    description: Option<String>,
    source: Option<Source<'a>>,
    filters: Vec<EventPattern>,
    target: Option<PipeTarget>,
    input_template: Option<String>,
    batch_size: Option<u32>,
    max_retry_attempts: Option<i32>,
    dead_letter: Option<QueueRef<'a>>,
}

impl Stack {
    /// Start a pipe.
    pub fn pipe(&self, id: &str) -> PipeBuilder<'_> {
        PipeBuilder {
            stack: self,
            id: id.to_string(),
            pipe_name: None,
            description: None,
            source: None,
            filters: Vec::new(),
            target: None,
            input_template: None,
            batch_size: None,
            max_retry_attempts: None,
            dead_letter: None,
        }
    }
}

impl<'a> PipeBuilder<'a> {
    /// Physical pipe name (1 to 64 characters).
    pub fn pipe_name(mut self, name: &str) -> Self {
        self.pipe_name = Some(name.to_string());
        self
    }
    /// Description.
    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.to_string());
        self
    }
    /// Read a table's stream.
    pub fn source_stream(mut self, table: &TableRef<'a>, position: StartingPosition) -> Self {
        self.source = Some(Source::Stream(*table, position));
        self
    }
    /// Read a queue.
    pub fn source_queue(mut self, queue: &QueueRef<'a>) -> Self {
        self.source = Some(Source::Queue(*queue));
        self
    }
    /// Only pass records matching this pattern (up to 5 filters).
    pub fn filter(mut self, pattern: EventPattern) -> Self {
        self.filters.push(pattern);
        self
    }
    /// Put each record on an event bus with this source and detail-type.
    pub fn target_event_bus(
        mut self,
        bus: &EventBusRef<'a>,
        source: &str,
        detail_type: &str,
    ) -> Self {
        self.target = Some(PipeTarget::Bus {
            spec: DestinationSpec::of(bus),
            source: source.to_string(),
            detail_type: detail_type.to_string(),
        });
        self
    }
    /// Deliver to a queue, function or state machine.
    pub fn target(mut self, d: &dyn Destination) -> Self {
        self.target = Some(PipeTarget::Other(DestinationSpec::of(d)));
        self
    }
    /// Reshape each record (`<$.dynamodb.NewImage.pk.S>` placeholders).
    pub fn input_template(mut self, template: &str) -> Self {
        self.input_template = Some(template.to_string());
        self
    }
    /// Records per batch (1 to 10,000 for streams, 1 to 10 for queues).
    pub fn batch_size(mut self, n: u32) -> Self {
        self.batch_size = Some(n);
        self
    }
    /// Retries of a failing stream batch (-1 to 185).
    pub fn max_retry_attempts(mut self, n: i32) -> Self {
        self.max_retry_attempts = Some(n);
        self
    }
    /// Where stream records that exhaust their retries are described.
    pub fn dead_letter_queue(mut self, q: &QueueRef<'a>) -> Self {
        self.dead_letter = Some(*q);
        self
    }

    /// Validate and add the pipe with its role.
    pub fn build(self) -> Result<PipeRef<'a>, SynthError> {
        check_construct_id(self.stack.name(), &self.id)?;
        let path = self.stack.child_path(&self.id);
        let p = path.as_str();
        let source = self.source.ok_or_else(|| {
            SynthError::invalid(
                p,
                "a source is required: .source_stream(&table, ..) or .source_queue(&queue)",
            )
        })?;
        let target = self.target.clone().ok_or_else(|| {
            SynthError::invalid(
                p,
                "a target is required: .target_event_bus(..) or .target(..)",
            )
        })?;
        if let Some(name) = &self.pipe_name {
            let ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !ok {
                return Err(SynthError::invalid(p, format!("pipe_name `{name}` is not allowed; allowed: 1 to 64 letters, digits, `.`, `_` and `-`")));
            }
        }
        check_range(p, "filters", self.filters.len() as i64, 0, 5, "")?;
        let role_id = format!("{}Role", self.id);
        let mut role = Resource::new("AWS::IAM::Role");
        role.set(
            cfn::AssumeRolePolicyDocument,
            assume_role_policy("pipes.amazonaws.com"),
        );
        self.stack.add_resource(&role_id, p, role)?;
        let holder = PolicyHolder::Role {
            policy_name: format!("{}Policy", self.id),
        };
        let grant = |s: Statement| self.stack.attach_policy(&role_id, holder.clone(), p, s);

        let mut r = Resource::new("AWS::Pipes::Pipe");
        let mut source_params = Vec::new();
        match source {
            Source::Stream(table, position) => {
                if !table.has_stream() {
                    return Err(SynthError::invalid(
                        p,
                        format!(
                            "table {} has no stream; call .stream(StreamView::...) on it",
                            table.path()
                        ),
                    ));
                }
                if let Some(n) = self.batch_size {
                    check_range(p, "batch_size", i64::from(n), 1, 10_000, "records")?;
                }
                if let Some(n) = self.max_retry_attempts {
                    check_range(p, "max_retry_attempts", i64::from(n), -1, 185, "")?;
                }
                r.set(cfn::Source, table.stream_arn());
                table.stream_read_statements().into_iter().for_each(&grant);
                let mut m = vec![(
                    cfn::StartingPosition,
                    Expr::from(match position {
                        StartingPosition::TrimHorizon => "TRIM_HORIZON",
                        StartingPosition::Latest => "LATEST",
                    }),
                )];
                if let Some(n) = self.batch_size {
                    m.push((cfn::BatchSize, Expr::from(n)));
                }
                if let Some(n) = self.max_retry_attempts {
                    m.push((cfn::MaximumRetryAttempts, Expr::from(i64::from(n))));
                }
                if let Some(dlq) = self.dead_letter {
                    DestinationSpec::of(&dlq)
                        .statements
                        .into_iter()
                        .for_each(&grant);
                    m.push((cfn::DeadLetterConfig, Expr::map([(cfn::Arn, dlq.arn())])));
                }
                source_params.push((cfn::DynamoDBStreamParameters, Expr::map(m)));
            }
            Source::Queue(queue) => {
                if self.dead_letter.is_some() || self.max_retry_attempts.is_some() {
                    return Err(SynthError::invalid(p, "dead_letter_queue and max_retry_attempts apply to stream sources; a queue source uses its own redrive policy"));
                }
                let max = if queue.is_fifo() { 10 } else { 10_000 };
                if let Some(n) = self.batch_size {
                    check_range(p, "batch_size", i64::from(n), 1, max, "records")?;
                    source_params.push((
                        cfn::SqsQueueParameters,
                        Expr::map([(cfn::BatchSize, Expr::from(n))]),
                    ));
                }
                r.set(cfn::Source, queue.arn());
                grant(Statement::allow(
                    [
                        "sqs:DeleteMessage",
                        "sqs:GetQueueAttributes",
                        "sqs:ReceiveMessage",
                    ],
                    [queue.arn()],
                ));
                if let Some(key) = queue.facts().kms_key_arn {
                    grant(Statement::allow(["kms:Decrypt"], [key]));
                }
            }
        }
        if !self.filters.is_empty() {
            let filters = self
                .filters
                .iter()
                .map(|f| Expr::map([(cfn::Pattern, Expr::from(f.to_json_string()))]));
            source_params.push((
                cfn::FilterCriteria,
                Expr::map([(cfn::Filters, Expr::List(filters.collect()))]),
            ));
        }
        if !source_params.is_empty() {
            r.set(cfn::SourceParameters, Expr::map(source_params));
        }
        let mut target_params = Vec::new();
        let spec = match &target {
            PipeTarget::Bus {
                spec,
                source,
                detail_type,
            } => {
                target_params.push((
                    cfn::EventBridgeEventBusParameters,
                    Expr::map([
                        (cfn::Source, Expr::from(source.as_str())),
                        (cfn::DetailType, Expr::from(detail_type.as_str())),
                    ]),
                ));
                spec
            }
            PipeTarget::Other(spec) => spec,
        };
        spec.statements.iter().cloned().for_each(&grant);
        if let Some(t) = &self.input_template {
            target_params.push((cfn::InputTemplate, Expr::from(t.as_str())));
        }
        r.set(cfn::Target, spec.arn.clone())
            .set(cfn::RoleArn, self.stack.get_att(&role_id, cfn::Arn))
            .set_opt(cfn::Name, self.pipe_name.clone())
            .set_opt(cfn::Description, self.description.clone());
        if !target_params.is_empty() {
            r.set(cfn::TargetParameters, Expr::map(target_params));
        }
        self.stack.add_resource(&self.id, p, r)?;
        let node = self.stack.add_node(Node {
            path,
            logical_id: self.id,
            facts: Facts::default(),
            imported: None,
        });
        Ok(PipeRef {
            stack: self.stack,
            node,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constructs::{App, Attr, Match, StreamView};

    #[test]
    fn stream_to_bus_gets_read_and_put_permissions() {
        let app = App::new();
        let s = app.stack("S");
        let t = s
            .table("T")
            .partition_key("pk", Attr::String)
            .stream(StreamView::NewImage)
            .build()
            .unwrap();
        let bus = s.event_bus("Bus").build().unwrap();
        let dlq = s.queue("Dlq").build().unwrap();
        s.pipe("P")
            .source_stream(&t, StartingPosition::Latest)
            .filter(EventPattern::new().field("eventName", [Match::from("INSERT")]))
            .target_event_bus(&bus, "orders", "OrderCreated")
            .dead_letter_queue(&dlq)
            .build()
            .unwrap();
        let v = crate::synth::synthesize(&app)
            .unwrap()
            .stacks
            .remove(0)
            .template
            .to_json_value();
        let props = &v["Resources"]["P"]["Properties"];
        assert_eq!(
            props["SourceParameters"]["FilterCriteria"]["Filters"][0]["Pattern"],
            r#"{"eventName":["INSERT"]}"#
        );
        assert_eq!(
            props["TargetParameters"]["EventBridgeEventBusParameters"]["DetailType"],
            "OrderCreated"
        );
        let actions: Vec<String> = v["Resources"]["PRole"]["Properties"]["Policies"][0]
            ["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Action"].to_string())
            .collect();
        assert!(
            actions.iter().any(|a| a.contains("dynamodb:GetRecords")),
            "{actions:?}"
        );
        assert!(
            actions.iter().any(|a| a.contains("events:PutEvents")),
            "{actions:?}"
        );
        assert!(
            actions.iter().any(|a| a.contains("sqs:SendMessage")),
            "{actions:?}"
        );
    }

    #[test]
    fn limits_name_the_path() {
        let app = App::new();
        let s = app.stack("S");
        let plain = s
            .table("Plain")
            .partition_key("pk", Attr::String)
            .build()
            .unwrap();
        let q = s.queue("Q").build().unwrap();
        let bus = s.event_bus("Bus").build().unwrap();
        let cases = [
            (
                "source is required",
                s.pipe("A").target_event_bus(&bus, "s", "d").build(),
            ),
            ("target is required", s.pipe("B").source_queue(&q).build()),
            (
                "has no stream",
                s.pipe("C")
                    .source_stream(&plain, StartingPosition::Latest)
                    .target(&q)
                    .build(),
            ),
            (
                "batch_size",
                s.pipe("D")
                    .source_queue(&q)
                    .batch_size(0)
                    .target_event_bus(&bus, "s", "d")
                    .build(),
            ),
            (
                "redrive",
                s.pipe("E")
                    .source_queue(&q)
                    .dead_letter_queue(&q)
                    .target_event_bus(&bus, "s", "d")
                    .build(),
            ),
        ];
        for (needle, r) in cases {
            let e = r.unwrap_err().to_string();
            assert!(e.starts_with("S/") && e.contains(needle), "{needle}: {e}");
        }
    }
}
