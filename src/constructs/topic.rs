//! SNS topics: standard and FIFO, encrypted at rest by default.

use super::error::check_fifo_capable_name;
use super::function::Destination;
use super::iam::{Grantee, Statement};
use super::key::{key_use, KeyRef};
use super::stack::{check_construct_id, handle, Facts, Node, PolicyHolder};
use super::{Stack, SynthError};
use crate::spec::cfn;
use crate::template::{Expr, Resource};

/// The AWS-managed SNS key, the default encryption of a topic.
const AWS_MANAGED_SNS_KEY: &str = "alias/aws/sns";

/// How a topic is encrypted at rest.
///
/// ```
/// use ordersctl::constructs::{App, TopicEncryption};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let key = stack.key("TopicKey").build()?;
/// let t = stack.topic("Orders").encryption(TopicEncryption::Kms(key)).build()?;
/// assert_eq!(t.logical_id(), "Orders");
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub enum TopicEncryption<'a> {
    /// The AWS-managed key `alias/aws/sns` (the default). AWS services such as EventBridge
    /// cannot publish to a topic encrypted with it.
    AwsManaged,
    /// A customer-managed KMS key.
    Kms(KeyRef<'a>),
    /// No encryption at rest: only on explicit request.
    Unencrypted,
}

handle!(
    /// An SNS topic.
    TopicRef
);

/// Builder for an `AWS::SNS::Topic`.
///
/// ```
/// use ordersctl::constructs::App;
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let t = stack.topic("OrderEvents").topic_name("order-events.fifo").fifo()
///     .content_based_deduplication().display_name("Order events").build()?;
/// assert!(t.is_fifo());
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "a topic is added by build()"]
pub struct TopicBuilder<'a> {
    stack: &'a Stack,
    id: String,
    logical_id: Option<String>,
    topic_name: Option<String>,
    display_name: Option<String>,
    fifo: bool,
    content_based_deduplication: bool,
    encryption: TopicEncryption<'a>,
}

impl Stack {
    /// Start a topic.
    pub fn topic(&self, id: &str) -> TopicBuilder<'_> {
        TopicBuilder {
            stack: self,
            id: id.to_string(),
            logical_id: None,
            topic_name: None,
            display_name: None,
            fifo: false,
            content_based_deduplication: false,
            encryption: TopicEncryption::AwsManaged,
        }
    }
}

impl<'a> TopicBuilder<'a> {
    /// Physical topic name, 1 to 256 letters, digits, `-` and `_` (a name ending in `.fifo`
    /// makes a FIFO topic).
    pub fn topic_name(mut self, name: &str) -> Self {
        self.topic_name = Some(name.to_string());
        self
    }
    /// Keep a logical ID stable through a rename of the construct.
    pub fn logical_id(mut self, id: &str) -> Self {
        self.logical_id = Some(id.to_string());
        self
    }
    /// Display name (used by SMS subscriptions), up to 100 characters.
    pub fn display_name(mut self, name: &str) -> Self {
        self.display_name = Some(name.to_string());
        self
    }
    /// A FIFO topic.
    pub fn fifo(mut self) -> Self {
        self.fifo = true;
        self
    }
    /// FIFO content-based deduplication.
    pub fn content_based_deduplication(mut self) -> Self {
        self.content_based_deduplication = true;
        self
    }
    /// Encryption at rest (the AWS-managed key by default).
    pub fn encryption(mut self, e: TopicEncryption<'a>) -> Self {
        self.encryption = e;
        self
    }

    /// Validate against the SNS limits and add the topic.
    pub fn build(self) -> Result<TopicRef<'a>, SynthError> {
        check_construct_id(self.stack.name(), &self.id)?;
        let path = self.stack.child_path(&self.id);
        let p = path.as_str();
        let fifo = self.fifo
            || self
                .topic_name
                .as_deref()
                .is_some_and(|n| n.ends_with(".fifo"));
        if let Some(name) = &self.topic_name {
            check_topic_name(p, name, fifo)?;
        }
        if self.content_based_deduplication && !fifo {
            return Err(SynthError::invalid(
                p,
                "content_based_deduplication needs a FIFO topic; call .fifo() or name the topic `*.fifo`",
            ));
        }
        if let Some(d) = &self.display_name {
            let n = d.chars().count();
            if n == 0 || n > 100 {
                return Err(SynthError::out_of_range(
                    p,
                    "display_name",
                    format!("{n} characters"),
                    "1 to 100 characters",
                ));
            }
        }
        let mut r = Resource::new("AWS::SNS::Topic");
        r.set_opt(cfn::TopicName, self.topic_name.clone())
            .set_opt(cfn::DisplayName, self.display_name.clone());
        if fifo {
            r.set(cfn::FifoTopic, true);
        }
        if self.content_based_deduplication {
            r.set(cfn::ContentBasedDeduplication, true);
        }
        let mut facts = Facts {
            fifo,
            ..Facts::default()
        };
        match self.encryption {
            TopicEncryption::AwsManaged => {
                r.set(cfn::KmsMasterKeyId, AWS_MANAGED_SNS_KEY);
                facts.aws_managed_key = true;
            }
            TopicEncryption::Kms(key) => {
                r.set(cfn::KmsMasterKeyId, key.arn());
                facts.kms_key_arn = Some(key.arn());
            }
            TopicEncryption::Unencrypted => {}
        }
        let logical_id = self.logical_id.clone().unwrap_or_else(|| self.id.clone());
        self.stack.add_resource(&logical_id, p, r)?;
        let node = self.stack.add_node(Node {
            path,
            logical_id,
            facts,
            imported: None,
        });
        Ok(TopicRef {
            stack: self.stack,
            node,
        })
    }
}

fn check_topic_name(path: &str, name: &str, fifo: bool) -> Result<(), SynthError> {
    check_fifo_capable_name(path, "topic_name", "topic", name, fifo, 256)
}

impl<'a> TopicRef<'a> {
    /// Topic ARN (`Ref`).
    pub fn arn(&self) -> Expr {
        self.ref_()
    }
    /// Topic name.
    pub fn name(&self) -> Expr {
        self.att("TopicName")
    }
    /// Whether this is a FIFO topic.
    pub fn is_fifo(&self) -> bool {
        self.facts().fifo
    }

    pub(crate) fn publish_statements(&self) -> Vec<Statement> {
        let mut v = vec![Statement::allow(["sns:Publish"], [self.arn()])];
        if let Some(key) = self.facts().kms_key_arn {
            v.push(key_use(key));
        }
        v
    }

    /// Let a principal publish (and use the topic's customer-managed key, if any).
    ///
    /// ```
    /// use ordersctl::constructs::App;
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let t = stack.topic("Orders").build()?;
    /// let f = stack.function("Notifier").handler_crate("notifier").build()?;
    /// t.grant_publish(&f);
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn grant_publish(&self, grantee: &dyn Grantee) {
        self.publish_statements()
            .into_iter()
            .for_each(|s| grantee.add_to_principal_policy(s));
    }

    /// Let an AWS service (EventBridge ...) publish on behalf of `source_arn`: adds the
    /// statement to the topic's `AWS::SNS::TopicPolicy` (`<Topic>Policy`, made on first use)
    /// and, for a customer-managed key, lets the service use the key. A topic on the
    /// AWS-managed key cannot be published to by a service: that is reported by synth.
    pub(crate) fn allow_service_publish(&self, service: &str, source_arn: Expr) {
        if self.is_imported() {
            return; // its policy is its owner's (see TopicRef::from_arn)
        }
        let facts = self.facts();
        if facts.aws_managed_key {
            self.stack.defer_error(SynthError::invalid(
                self.path(),
                format!(
                    "{service} cannot publish to this topic: it is encrypted with the AWS-managed key `{AWS_MANAGED_SNS_KEY}`, \
                     whose key policy only lets SNS itself use it; encrypt the topic with a customer-managed key: \
                     .encryption(TopicEncryption::Kms(key))"
                ),
            ));
            return;
        }
        let holder = format!("{}Policy", self.logical_id());
        let stmt = Statement::allow_service(service, ["sns:Publish"], [self.arn()])
            .for_source_arn(source_arn);
        self.stack.attach_policy(
            &holder,
            PolicyHolder::Topic {
                topic: self.logical_id(),
            },
            &self.path(),
            stmt,
        );
        if facts.kms_key_arn.is_some() {
            self.stack
                .defer_key_service_grant(self.node, "topic", service);
        }
    }
}

impl Destination for TopicRef<'_> {
    fn destination_arn(&self) -> Expr {
        self.arn()
    }
    fn destination_statements(&self) -> Vec<Statement> {
        self.publish_statements()
    }
}

#[cfg(test)]
mod tests {
    use crate::constructs::{App, Stack, SynthError, TopicEncryption};
    use crate::template::Expr;

    fn err(f: impl FnOnce(&Stack) -> Result<(), SynthError>) -> String {
        let app = App::new();
        let s = app.stack("S");
        f(s).expect_err("must fail").to_string()
    }

    #[test]
    fn every_limit_names_the_construct_path() {
        let long = "x".repeat(257);
        let cases: Vec<(&str, String)> = vec![
            (
                "topic_name",
                err(|s| s.topic("T").topic_name("bad name").build().map(|_| ())),
            ),
            (
                "topic_name",
                err(|s| s.topic("T").topic_name(&long).build().map(|_| ())),
            ),
            (
                "topic_name",
                err(|s| s.topic("T").fifo().topic_name("orders").build().map(|_| ())),
            ),
            (
                "content_based_deduplication",
                err(|s| {
                    s.topic("T")
                        .content_based_deduplication()
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "display_name",
                err(|s| {
                    s.topic("T")
                        .display_name(&"d".repeat(101))
                        .build()
                        .map(|_| ())
                }),
            ),
        ];
        for (needle, msg) in cases {
            assert!(msg.starts_with("S/T"), "{msg}");
            assert!(msg.contains(needle), "{needle} not in {msg}");
        }
    }

    #[test]
    fn aws_managed_key_by_default_and_cmk_on_request() {
        let app = App::new();
        let s = app.stack("S");
        s.topic("A").build().unwrap();
        let key = s.key("K").build().unwrap();
        s.topic("B")
            .topic_name("b.fifo")
            .encryption(TopicEncryption::Kms(key))
            .build()
            .unwrap();
        let t = s.state_for_tests().finalize().unwrap();
        assert_eq!(
            t.resources["A"].properties["KmsMasterKeyId"],
            Expr::from("alias/aws/sns")
        );
        assert_eq!(
            t.resources["B"].properties["KmsMasterKeyId"].to_json(),
            serde_json::json!({"Fn::GetAtt": ["K", "Arn"]})
        );
        assert_eq!(t.resources["B"].properties["FifoTopic"], true.into());
    }

    #[test]
    fn service_publish_makes_topic_policy_and_key_grant() {
        let app = App::new();
        let s = app.stack("S");
        let key = s.key("K").build().unwrap();
        let topic = s
            .topic("T")
            .encryption(TopicEncryption::Kms(key))
            .build()
            .unwrap();
        topic.allow_service_publish("events.amazonaws.com", Expr::get_att("R", "Arn"));
        let t = s.state_for_tests().finalize().unwrap();
        let policy = t.resources["TPolicy"].to_owned();
        assert_eq!(policy.resource_type, "AWS::SNS::TopicPolicy");
        assert_eq!(
            policy.properties["PolicyDocument"].to_json()["Statement"],
            serde_json::json!([{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
                "Resource": {"Ref": "T"}, "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["R", "Arn"]}}}
            }])
        );
        let key_policy = t.resources["K"].properties["KeyPolicy"].to_json();
        assert_eq!(
            key_policy["Statement"][1]["Principal"]["Service"],
            "events.amazonaws.com"
        );
    }

    #[test]
    fn service_publish_to_aws_managed_key_is_an_error() {
        let app = App::new();
        let s = app.stack("S");
        let topic = s.topic("T").build().unwrap();
        topic.allow_service_publish("events.amazonaws.com", Expr::get_att("R", "Arn"));
        let e = s.state_for_tests().finalize().unwrap_err().to_string();
        assert!(
            e.starts_with("S/T") && e.contains("customer-managed key"),
            "{e}"
        );
    }
}
