//! SQS queues: standard and FIFO, with dead-letter queues and encryption on by default.

use super::error::{check_fifo_capable_name, check_range};
use super::iam::{Grantee, Statement};
use super::key::{key_use, KeyRef};
use super::stack::PolicyHolder;
use super::stack::{check_construct_id, handle, Facts, Node};
use super::{Duration, Removal, Size, Stack, SynthError};
use crate::spec::cfn;
use crate::template::{Expr, Resource};

/// How a queue is encrypted at rest.
#[derive(Debug, Clone, Copy)]
pub enum QueueEncryption<'a> {
    /// SQS-managed keys (SSE-SQS): the default.
    SqsManaged,
    /// A customer-managed KMS key.
    Kms(KeyRef<'a>),
    /// No encryption at rest: only on explicit request.
    Unencrypted,
}

/// Which source queues may use a queue as their dead-letter queue.
#[derive(Debug, Clone)]
pub enum RedriveAllow<'a> {
    AllowAll,
    DenyAll,
    ByQueue(Vec<QueueRef<'a>>),
}

handle!(
    /// An SQS queue.
    QueueRef
);

/// Builder for an `AWS::SQS::Queue`.
///
/// ```
/// use ordersctl::constructs::{App, Duration};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let dlq = stack.queue("JobsDlq").retention(Duration::days(14)).build()?;
/// let jobs = stack.queue("Jobs").visibility_timeout(Duration::secs(180)).dead_letter_queue(&dlq, 3).build()?;
/// assert_eq!(jobs.logical_id(), "Jobs");
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "a queue is added by build()"]
pub struct QueueBuilder<'a> {
    stack: &'a Stack,
    id: String,
    logical_id: Option<String>,
    queue_name: Option<String>,
    fifo: bool,
    content_based_deduplication: bool,
    visibility_timeout: Option<Duration>,
    retention: Option<Duration>,
    delivery_delay: Option<Duration>,
    receive_wait_time: Option<Duration>,
    max_message_size: Option<Size>,
    encryption: QueueEncryption<'a>,
    dead_letter: Option<(QueueRef<'a>, u32)>,
    redrive_allow: Option<RedriveAllow<'a>>,
    removal: Option<Removal>,
}

impl Stack {
    /// Start a queue.
    pub fn queue(&self, id: &str) -> QueueBuilder<'_> {
        QueueBuilder {
            stack: self,
            id: id.to_string(),
            logical_id: None,
            queue_name: None,
            fifo: false,
            content_based_deduplication: false,
            visibility_timeout: None,
            retention: None,
            delivery_delay: None,
            receive_wait_time: None,
            max_message_size: None,
            encryption: QueueEncryption::SqsManaged,
            dead_letter: None,
            redrive_allow: None,
            removal: None,
        }
    }
}

impl<'a> QueueBuilder<'a> {
    /// Physical queue name (a name ending in `.fifo` makes a FIFO queue).
    pub fn queue_name(mut self, name: &str) -> Self {
        self.queue_name = Some(name.to_string());
        self
    }
    /// Keep a logical ID stable through a rename of the construct.
    pub fn logical_id(mut self, id: &str) -> Self {
        self.logical_id = Some(id.to_string());
        self
    }
    /// A FIFO queue.
    pub fn fifo(mut self) -> Self {
        self.fifo = true;
        self
    }
    /// FIFO content-based deduplication.
    pub fn content_based_deduplication(mut self) -> Self {
        self.content_based_deduplication = true;
        self
    }
    /// Visibility timeout, 0 s to 12 h (default 30 s).
    pub fn visibility_timeout(mut self, d: Duration) -> Self {
        self.visibility_timeout = Some(d);
        self
    }
    /// Message retention, 60 s to 14 days (default 4 days).
    pub fn retention(mut self, d: Duration) -> Self {
        self.retention = Some(d);
        self
    }
    /// Delivery delay, 0 s to 15 min.
    pub fn delivery_delay(mut self, d: Duration) -> Self {
        self.delivery_delay = Some(d);
        self
    }
    /// Long-polling wait, 0 s to 20 s.
    pub fn receive_wait_time(mut self, d: Duration) -> Self {
        self.receive_wait_time = Some(d);
        self
    }
    /// Largest message, 1 KiB to 1 MiB.
    pub fn max_message_size(mut self, s: Size) -> Self {
        self.max_message_size = Some(s);
        self
    }
    /// Encryption at rest (SQS-managed by default).
    pub fn encryption(mut self, e: QueueEncryption<'a>) -> Self {
        self.encryption = e;
        self
    }
    /// Redrive to `dlq` after `max_receive_count` receives (1 to 1,000).
    pub fn dead_letter_queue(mut self, dlq: &QueueRef<'a>, max_receive_count: u32) -> Self {
        self.dead_letter = Some((*dlq, max_receive_count));
        self
    }
    /// Which queues may use this one as a dead-letter queue.
    pub fn redrive_allow(mut self, policy: RedriveAllow<'a>) -> Self {
        self.redrive_allow = Some(policy);
        self
    }

    /// DeletionPolicy and UpdateReplacePolicy (by default CloudFormation deletes queues).
    pub fn removal(mut self, removal: Removal) -> Self {
        self.removal = Some(removal);
        self
    }

    /// Validate against the SQS limits and add the queue.
    pub fn build(self) -> Result<QueueRef<'a>, SynthError> {
        check_construct_id(self.stack.name(), &self.id)?;
        let path = self.stack.child_path(&self.id);
        let p = path.as_str();
        let fifo = self.fifo
            || self
                .queue_name
                .as_deref()
                .is_some_and(|n| n.ends_with(".fifo"));
        if let Some(name) = &self.queue_name {
            check_queue_name(p, name, fifo)?;
        }
        if self.content_based_deduplication && !fifo {
            return Err(SynthError::invalid(p, "content_based_deduplication needs a FIFO queue; call .fifo() or name the queue `*.fifo`"));
        }
        let mut r = Resource::new("AWS::SQS::Queue");
        r.set_opt(cfn::QueueName, self.queue_name.clone());
        if fifo {
            r.set(cfn::FifoQueue, true);
        }
        if self.content_based_deduplication {
            r.set(cfn::ContentBasedDeduplication, true);
        }
        if let Some(d) = self.visibility_timeout {
            check_range(p, "visibility_timeout", d.secs_i64(), 0, 43_200, "s")?;
            r.set(cfn::VisibilityTimeout, d.as_secs());
        }
        if let Some(d) = self.retention {
            check_range(p, "retention", d.secs_i64(), 60, 1_209_600, "s")?;
            r.set(cfn::MessageRetentionPeriod, d.as_secs());
        }
        if let Some(d) = self.delivery_delay {
            check_range(p, "delivery_delay", d.secs_i64(), 0, 900, "s")?;
            r.set(cfn::DelaySeconds, d.as_secs());
        }
        if let Some(d) = self.receive_wait_time {
            check_range(p, "receive_wait_time", d.secs_i64(), 0, 20, "s")?;
            r.set(cfn::ReceiveMessageWaitTimeSeconds, d.as_secs());
        }
        if let Some(s) = self.max_message_size {
            check_range(
                p,
                "max_message_size",
                s.bytes_i64(),
                1024,
                1_048_576,
                "bytes",
            )?;
            r.set(cfn::MaximumMessageSize, s.as_bytes());
        }
        let mut facts = Facts {
            fifo,
            ..Facts::default()
        };
        match self.encryption {
            QueueEncryption::SqsManaged => {
                r.set(cfn::SqsManagedSseEnabled, true);
            }
            QueueEncryption::Kms(key) => {
                r.set(cfn::KmsMasterKeyId, key.arn());
                facts.kms_key_arn = Some(key.arn());
            }
            QueueEncryption::Unencrypted => {
                r.set(cfn::SqsManagedSseEnabled, false);
            }
        }
        if let Some((dlq, count)) = self.dead_letter {
            check_range(
                p,
                "dead_letter_queue max_receive_count",
                i64::from(count),
                1,
                1000,
                "",
            )?;
            if dlq.facts().fifo != fifo {
                return Err(SynthError::invalid(
                    p,
                    format!(
                        "dead-letter queue {} must be {} like this queue",
                        dlq.path(),
                        if fifo { "FIFO" } else { "standard" }
                    ),
                ));
            }
            r.set(
                cfn::RedrivePolicy,
                Expr::map([
                    (cfn::deadLetterTargetArn, dlq.arn()),
                    (cfn::maxReceiveCount, Expr::from(count)),
                ]),
            );
        }
        if let Some(policy) = &self.redrive_allow {
            r.set(cfn::RedriveAllowPolicy, redrive_allow_expr(p, policy)?);
        }
        if let Some(removal) = self.removal {
            if removal == Removal::Snapshot {
                return Err(SynthError::invalid(
                    p,
                    "removal Snapshot is not supported for queues; allowed: Retain, Destroy",
                ));
            }
            r.removal(removal.policy());
        }
        let logical_id = self.logical_id.clone().unwrap_or_else(|| self.id.clone());
        self.stack.add_resource(&logical_id, p, r)?;
        let node = self.stack.add_node(Node {
            path,
            logical_id,
            facts,
            imported: None,
        });
        Ok(QueueRef {
            stack: self.stack,
            node,
        })
    }
}

fn check_queue_name(path: &str, name: &str, fifo: bool) -> Result<(), SynthError> {
    check_fifo_capable_name(path, "queue_name", "queue", name, fifo, 80)
}

fn redrive_allow_expr(path: &str, policy: &RedriveAllow<'_>) -> Result<Expr, SynthError> {
    Ok(match policy {
        RedriveAllow::AllowAll => Expr::map([(cfn::redrivePermission, Expr::from("allowAll"))]),
        RedriveAllow::DenyAll => Expr::map([(cfn::redrivePermission, Expr::from("denyAll"))]),
        RedriveAllow::ByQueue(queues) => {
            check_range(
                path,
                "redrive_allow source queues",
                queues.len() as i64,
                1,
                10,
                "queues",
            )?;
            Expr::map([
                (cfn::redrivePermission, Expr::from("byQueue")),
                (
                    cfn::sourceQueueArns,
                    Expr::List(queues.iter().map(QueueRef::arn).collect()),
                ),
            ])
        }
    })
}

impl<'a> QueueRef<'a> {
    /// Queue URL (`Ref`).
    pub fn url(&self) -> Expr {
        self.ref_()
    }
    /// Queue ARN.
    pub fn arn(&self) -> Expr {
        self.att("Arn")
    }
    /// Queue name.
    pub fn name(&self) -> Expr {
        self.att("QueueName")
    }
    /// Whether this is a FIFO queue.
    pub fn is_fifo(&self) -> bool {
        self.facts().fifo
    }

    fn with_key(&self, grantee: &dyn Grantee, statement: Statement) {
        grantee.add_to_principal_policy(statement);
        if let Some(key) = self.facts().kms_key_arn {
            grantee.add_to_principal_policy(key_use(key));
        }
    }

    /// Let a principal send messages.
    pub fn grant_send(&self, grantee: &dyn Grantee) {
        self.with_key(grantee, self.send_statement());
    }

    /// Let a principal receive and delete messages (what an SQS event source also needs).
    pub fn grant_consume(&self, grantee: &dyn Grantee) {
        self.with_key(grantee, self.consume_statement());
    }

    pub(crate) fn send_statement(&self) -> Statement {
        Statement::allow(["sqs:SendMessage"], [self.arn()])
    }

    pub(crate) fn consume_statement(&self) -> Statement {
        Statement::allow(
            [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
            ],
            [self.arn()],
        )
    }

    /// Let an AWS service (EventBridge, SNS) send to this queue on behalf of `source_arn`:
    /// adds the statement to the queue's `AWS::SQS::QueuePolicy` (made on first use) and, for
    /// a KMS-encrypted queue, lets the service use the key.
    pub(crate) fn allow_service_send(&self, service: &str, source_arn: Expr) {
        if self.is_imported() {
            return; // its policy is its owner's (see QueueRef::from_arn)
        }
        let holder = format!("{}Policy", self.logical_id());
        let stmt = Statement::allow_service(service, ["sqs:SendMessage"], [self.arn()])
            .for_source_arn(source_arn);
        self.stack.attach_policy(
            &holder,
            PolicyHolder::Queue {
                queue: self.logical_id(),
            },
            &self.path(),
            stmt,
        );
        if self.facts().kms_key_arn.is_some() {
            self.stack
                .defer_key_service_grant(self.node, "queue", service);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::constructs::{App, Duration, Size};

    fn err(
        f: impl FnOnce(&crate::constructs::Stack) -> Result<(), crate::constructs::SynthError>,
    ) -> String {
        let app = App::new();
        let s = app.stack("S");
        f(s).expect_err("must fail").to_string()
    }

    #[test]
    fn every_limit_names_the_construct_path() {
        let cases: Vec<(&str, String)> = vec![
            (
                "visibility_timeout",
                err(|s| {
                    s.queue("Q")
                        .visibility_timeout(Duration::secs(43_201))
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "retention",
                err(|s| {
                    s.queue("Q")
                        .retention(Duration::secs(59))
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "retention",
                err(|s| {
                    s.queue("Q")
                        .retention(Duration::days(15))
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "delivery_delay",
                err(|s| {
                    s.queue("Q")
                        .delivery_delay(Duration::secs(901))
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "receive_wait_time",
                err(|s| {
                    s.queue("Q")
                        .receive_wait_time(Duration::secs(21))
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "max_message_size",
                err(|s| {
                    s.queue("Q")
                        .max_message_size(Size::bytes(1023))
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "max_receive_count",
                err(|s| {
                    let d = s.queue("D").build()?;
                    s.queue("Q").dead_letter_queue(&d, 0).build().map(|_| ())
                }),
            ),
            (
                "queue_name",
                err(|s| s.queue("Q").queue_name("bad name").build().map(|_| ())),
            ),
            (
                "FIFO",
                err(|s| s.queue("Q").fifo().queue_name("jobs").build().map(|_| ())),
            ),
            (
                "content_based_deduplication",
                err(|s| {
                    s.queue("Q")
                        .content_based_deduplication()
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "FIFO",
                err(|s| {
                    let d = s.queue("D").build()?;
                    s.queue("Q")
                        .fifo()
                        .dead_letter_queue(&d, 3)
                        .build()
                        .map(|_| ())
                }),
            ),
        ];
        for (needle, msg) in cases {
            assert!(msg.starts_with("S/Q"), "{msg}");
            assert!(msg.contains(needle), "{needle} not in {msg}");
        }
    }

    #[test]
    fn fifo_from_name_and_sse_by_default() {
        let app = App::new();
        let s = app.stack("S");
        let q = s
            .queue("Q")
            .queue_name("jobs.fifo")
            .content_based_deduplication()
            .build()
            .unwrap();
        assert!(q.is_fifo());
        let t = s.state_for_tests().finalize().unwrap();
        let props = &t.resources["Q"].properties;
        assert_eq!(props["FifoQueue"], true.into());
        assert_eq!(props["SqsManagedSseEnabled"], true.into());
    }

    #[test]
    fn service_send_makes_queue_policy_and_key_grant() {
        use crate::constructs::QueueEncryption;
        use crate::template::Expr;
        let app = App::new();
        let s = app.stack("S");
        let key = s.key("DlqKey").build().unwrap();
        let q = s
            .queue("Dlq")
            .encryption(QueueEncryption::Kms(key))
            .build()
            .unwrap();
        q.allow_service_send("events.amazonaws.com", Expr::get_att("Rule", "Arn"));
        let t = s.state_for_tests().finalize().unwrap();
        let policy = t.resources["DlqPolicy"].to_owned();
        assert_eq!(policy.resource_type, "AWS::SQS::QueuePolicy");
        let stmt = &policy.properties["PolicyDocument"].to_json()["Statement"][0];
        assert_eq!(stmt["Principal"]["Service"], "events.amazonaws.com");
        assert_eq!(
            stmt["Condition"]["ArnEquals"]["aws:SourceArn"],
            serde_json::json!({"Fn::GetAtt": ["Rule", "Arn"]})
        );
        let key_policy = t.resources["DlqKey"].properties["KeyPolicy"].to_json();
        let services: Vec<_> = key_policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Principal"].clone())
            .collect();
        assert!(
            services.contains(&serde_json::json!({"Service": "events.amazonaws.com"})),
            "{key_policy}"
        );
    }

    #[test]
    fn service_send_with_a_key_in_another_stack_is_a_synth_error() {
        use crate::constructs::QueueEncryption;
        use crate::template::Expr;
        let app = App::new();
        let k = app.stack("Keys").key("K").build().unwrap();
        let s = app.stack("S");
        let q = s
            .queue("Dlq")
            .encryption(QueueEncryption::Kms(k))
            .build()
            .unwrap();
        q.allow_service_send("sns.amazonaws.com", Expr::ref_("Topic"));
        let e = crate::synth::synthesize(&app).unwrap_err().to_string();
        assert!(e.starts_with("S/Dlq") && e.contains("another stack"), "{e}");
    }

    #[test]
    fn duplicate_ids_are_errors_naming_both_paths() {
        let app = App::new();
        let s = app.stack("S");
        s.queue("Q").build().unwrap();
        let e = s.queue("Q").build().unwrap_err().to_string();
        assert!(e.contains("S/Q") && e.contains("already used"), "{e}");
    }
}
