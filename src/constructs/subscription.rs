//! SNS subscriptions: a topic delivering to a queue, a function or an email address.

use crate::spec::{cfn, value};
use serde_json::Value;

use super::function::FunctionRef;
use super::pattern::EventPattern;
use super::queue::QueueRef;
use super::stack::{handle, Facts, Node};
use super::topic::TopicRef;
use super::{Stack, SynthError};
use crate::template::{Expr, Resource};

/// What a filter policy is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FilterPolicyScope {
    /// The message attributes (the SNS default); the policy must be flat.
    #[default]
    MessageAttributes,
    /// The message body, which must be JSON; the policy may be nested.
    MessageBody,
}

impl FilterPolicyScope {
    /// The CloudFormation spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterPolicyScope::MessageAttributes => "MessageAttributes",
            FilterPolicyScope::MessageBody => "MessageBody",
        }
    }
}

#[derive(Clone)]
enum Endpoint<'a> {
    Queue(QueueRef<'a>),
    Function(FunctionRef<'a>),
    Email(Expr),
    Sms(Expr),
}

handle!(
    /// An `AWS::SNS::Subscription`.
    SubscriptionRef
);

/// Builder for an `AWS::SNS::Subscription` (logical ID `<Topic><Target>Subscription`), from
/// [`TopicRef::subscribe_queue`], [`TopicRef::subscribe_function`] or
/// [`TopicRef::subscribe_email`]. The subscription lives in the subscriber's stack (the
/// topic's stack for email), so a topic shared across stacks makes no dependency cycle.
///
/// ```
/// use ordersctl::constructs::{App, EventPattern, FilterPolicyScope, Match};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let topic = stack.topic("Orders").build()?;
/// let queue = stack.queue("Shipping").build()?;
/// let dlq = stack.queue("ShippingDlq").build()?;
/// topic.subscribe_queue(&queue).raw_message_delivery()
///     .filter_policy(EventPattern::new().field("kind", [Match::from("shipped")]))
///     .filter_policy_scope(FilterPolicyScope::MessageBody)
///     .dead_letter_queue(&dlq).build()?;
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "a subscription is added by build()"]
pub struct SubscriptionBuilder<'a> {
    topic: TopicRef<'a>,
    endpoint: Endpoint<'a>,
    raw_message_delivery: bool,
    filter_policy: Option<EventPattern>,
    filter_policy_scope: Option<FilterPolicyScope>,
    dead_letter: Option<QueueRef<'a>>,
}

impl<'a> TopicRef<'a> {
    fn subscription(&self, endpoint: Endpoint<'a>) -> SubscriptionBuilder<'a> {
        SubscriptionBuilder {
            topic: *self,
            endpoint,
            raw_message_delivery: false,
            filter_policy: None,
            filter_policy_scope: None,
            dead_letter: None,
        }
    }
    /// Deliver to an SQS queue; its queue policy lets this topic send.
    pub fn subscribe_queue(&self, queue: &QueueRef<'a>) -> SubscriptionBuilder<'a> {
        self.subscription(Endpoint::Queue(*queue))
    }
    /// Invoke a Lambda function; a `<Function><Topic>Permission` lets this topic invoke it.
    pub fn subscribe_function(&self, function: &FunctionRef<'a>) -> SubscriptionBuilder<'a> {
        self.subscription(Endpoint::Function(*function))
    }
    /// Email an address, literal or a stack parameter (the owner confirms the subscription).
    pub fn subscribe_email(&self, address: impl Into<Expr>) -> SubscriptionBuilder<'a> {
        self.subscription(Endpoint::Email(address.into()))
    }
    /// Text a phone number in E.164 form (`+15555550100`), literal or a stack parameter.
    pub fn subscribe_sms(&self, phone: impl Into<Expr>) -> SubscriptionBuilder<'a> {
        self.subscription(Endpoint::Sms(phone.into()))
    }
}

impl<'a> SubscriptionBuilder<'a> {
    /// Deliver the message as published, without the SNS JSON envelope (SQS only).
    pub fn raw_message_delivery(mut self) -> Self {
        self.raw_message_delivery = true;
        self
    }
    /// Deliver only messages matching this policy.
    pub fn filter_policy(mut self, policy: EventPattern) -> Self {
        self.filter_policy = Some(policy);
        self
    }
    /// Match the filter policy against attributes (default) or the body.
    pub fn filter_policy_scope(mut self, scope: FilterPolicyScope) -> Self {
        self.filter_policy_scope = Some(scope);
        self
    }
    /// Keep messages SNS cannot deliver in this queue; its queue policy lets the topic send.
    pub fn dead_letter_queue(mut self, dlq: &QueueRef<'a>) -> Self {
        self.dead_letter = Some(*dlq);
        self
    }

    /// Validate and add the subscription with the grants it needs.
    pub fn build(self) -> Result<SubscriptionRef<'a>, SynthError> {
        let topic = self.topic;
        let (stack, target_name, protocol, endpoint): (&'a Stack, String, &str, Expr) = match self
            .endpoint
        {
            Endpoint::Queue(q) => (q.stack(), q.logical_id(), "sqs", q.arn()),
            Endpoint::Function(f) => (f.stack(), f.logical_id(), value::PROTOCOL_LAMBDA, f.arn()),
            Endpoint::Email(ref a) => {
                (topic.stack(), address_label("Email", a), "email", a.clone())
            }
            Endpoint::Sms(ref a) => (topic.stack(), address_label("Sms", a), "sms", a.clone()),
        };
        let logical_id = format!("{}{}Subscription", topic.logical_id(), target_name);
        let path = stack.child_path(&logical_id);
        let p = path.as_str();
        let fifo = topic.is_fifo();
        match self.endpoint {
            Endpoint::Queue(q) if q.is_fifo() != fifo => {
                return Err(SynthError::invalid(
                    p,
                    format!(
                        "queue {} is {} but topic {} is {}; a FIFO topic delivers only to FIFO queues and a standard topic only to standard queues",
                        q.path(),
                        kind(q.is_fifo()),
                        topic.path(),
                        kind(fifo)
                    ),
                ))
            }
            Endpoint::Function(_) | Endpoint::Email(_) | Endpoint::Sms(_) if fifo => {
                return Err(SynthError::invalid(p, format!("FIFO topic {} delivers only to SQS FIFO queues, not to {protocol}", topic.path())))
            }
            Endpoint::Email(Expr::Str(ref a)) => check_email(p, a)?,
            Endpoint::Sms(Expr::Str(ref a)) => check_phone(p, a)?,
            _ => {}
        }
        if self.raw_message_delivery && !matches!(self.endpoint, Endpoint::Queue(_)) {
            return Err(SynthError::invalid(
                p,
                format!("raw_message_delivery is only for SQS subscriptions, not {protocol}"),
            ));
        }
        if self.filter_policy_scope.is_some() && self.filter_policy.is_none() {
            return Err(SynthError::invalid(
                p,
                "filter_policy_scope needs a filter_policy",
            ));
        }
        let scope = self.filter_policy_scope.unwrap_or_default();
        if let Some(policy) = &self.filter_policy {
            check_filter_policy(p, policy, scope)?;
        }
        if let Some(dlq) = self.dead_letter {
            if dlq.is_fifo() != fifo {
                return Err(SynthError::invalid(
                    p,
                    format!(
                        "dead_letter_queue {} must be {} like topic {}",
                        dlq.path(),
                        kind(fifo),
                        topic.path()
                    ),
                ));
            }
        }

        let mut r = Resource::new("AWS::SNS::Subscription");
        r.set(cfn::TopicArn, topic.arn())
            .set(cfn::Protocol, protocol)
            .set(cfn::Endpoint, endpoint);
        if self.raw_message_delivery {
            r.set(cfn::RawMessageDelivery, true);
        }
        if let Some(policy) = &self.filter_policy {
            r.set(cfn::FilterPolicy, Expr::from_json(&policy.to_json()));
            if let Some(scope) = self.filter_policy_scope {
                r.set(cfn::FilterPolicyScope, scope.as_str());
            }
        }
        if let Some(dlq) = self.dead_letter {
            r.set(
                cfn::RedrivePolicy,
                Expr::map([(cfn::deadLetterTargetArn, dlq.arn())]),
            );
        }
        stack.add_resource(&logical_id, p, r)?;
        match self.endpoint {
            Endpoint::Queue(q) => q.allow_service_send("sns.amazonaws.com", topic.arn()),
            Endpoint::Function(f) => {
                f.allow_service_invoke(&topic.logical_id(), "sns.amazonaws.com", topic.arn())?
            }
            Endpoint::Email(_) | Endpoint::Sms(_) => {}
        }
        if let Some(dlq) = self.dead_letter {
            dlq.allow_service_send("sns.amazonaws.com", topic.arn());
        }
        let node = stack.add_node(Node {
            path,
            logical_id,
            facts: Facts::default(),
            imported: None,
        });
        Ok(SubscriptionRef { stack, node })
    }
}

impl SubscriptionRef<'_> {
    /// Subscription ARN (`Ref`).
    pub fn arn(&self) -> Expr {
        self.ref_()
    }
}

fn kind(fifo: bool) -> &'static str {
    if fifo {
        "FIFO"
    } else {
        "standard"
    }
}

/// `ops@example.com` -> `EmailOpsExampleCom`, a parameter `OpsEmail` -> `EmailOpsEmail`: a
/// readable, stable logical ID part.
fn address_label(prefix: &str, address: &Expr) -> String {
    let text = match address {
        Expr::Str(s) => s.clone(),
        Expr::Ref(t) => t.logical_id.clone(),
        _ => "Address".to_string(),
    };
    let mut out = String::from(prefix);
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

fn check_phone(path: &str, phone: &str) -> Result<(), SynthError> {
    let digits = phone.strip_prefix('+').unwrap_or("");
    if !(digits.len() >= 7 && digits.len() <= 15 && digits.chars().all(|c| c.is_ascii_digit())) {
        return Err(SynthError::invalid(
            path,
            format!(
                "phone number `{phone}` is not allowed; allowed: E.164, `+` then 7 to 15 digits"
            ),
        ));
    }
    Ok(())
}

fn check_email(path: &str, address: &str) -> Result<(), SynthError> {
    let ok = match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !address.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !ok {
        return Err(SynthError::invalid(path, format!("email address `{address}` is not allowed; allowed: local@domain.tld without spaces")));
    }
    Ok(())
}

fn check_filter_policy(
    path: &str,
    policy: &EventPattern,
    scope: FilterPolicyScope,
) -> Result<(), SynthError> {
    if policy.is_empty() {
        return Err(SynthError::invalid(
            path,
            "filter_policy is empty; give at least one field to match",
        ));
    }
    if scope == FilterPolicyScope::MessageAttributes {
        if let Value::Object(m) = policy.to_json() {
            if let Some((k, _)) = m.iter().find(|(_, v)| v.is_object()) {
                return Err(SynthError::invalid(
                    path,
                    format!(
                        "filter_policy field `{k}` is nested, but a MessageAttributes policy must be flat; use filter_policy_scope(FilterPolicyScope::MessageBody) to match a JSON body"
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::constructs::{App, EventPattern, FilterPolicyScope, Match, Stack, SynthError};
    use serde_json::json;

    fn err(f: impl FnOnce(&Stack) -> Result<(), SynthError>) -> String {
        let app = App::new();
        let s = app.stack("S");
        f(s).expect_err("must fail").to_string()
    }

    #[test]
    fn every_check_names_the_subscription_path() {
        let cases: Vec<(&str, &str, String)> = vec![
            (
                "S/TQSubscription",
                "FIFO",
                err(|s| {
                    let t = s.topic("T").fifo().build()?;
                    let q = s.queue("Q").build()?;
                    t.subscribe_queue(&q).build().map(|_| ())
                }),
            ),
            (
                "S/TQSubscription",
                "standard",
                err(|s| {
                    let t = s.topic("T").build()?;
                    let q = s.queue("Q").fifo().build()?;
                    t.subscribe_queue(&q).build().map(|_| ())
                }),
            ),
            (
                "S/TFSubscription",
                "raw_message_delivery",
                err(|s| {
                    let t = s.topic("T").build()?;
                    let f = s.function("F").handler_crate("f").build()?;
                    t.subscribe_function(&f)
                        .raw_message_delivery()
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "S/TEmailOpsSubscription",
                "email address",
                err(|s| {
                    let t = s.topic("T").build()?;
                    t.subscribe_email("ops").build().map(|_| ())
                }),
            ),
            (
                "S/TQSubscription",
                "filter_policy",
                err(|s| {
                    let t = s.topic("T").build()?;
                    let q = s.queue("Q").build()?;
                    t.subscribe_queue(&q)
                        .filter_policy(EventPattern::new().field("a.b", [Match::from("x")]))
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "S/TQSubscription",
                "filter_policy",
                err(|s| {
                    let t = s.topic("T").build()?;
                    let q = s.queue("Q").build()?;
                    t.subscribe_queue(&q)
                        .filter_policy(EventPattern::new())
                        .build()
                        .map(|_| ())
                }),
            ),
            (
                "S/TQSubscription",
                "dead_letter_queue",
                err(|s| {
                    let t = s.topic("T").build()?;
                    let q = s.queue("Q").build()?;
                    let d = s.queue("D").fifo().build()?;
                    t.subscribe_queue(&q)
                        .dead_letter_queue(&d)
                        .build()
                        .map(|_| ())
                }),
            ),
        ];
        for (path, needle, msg) in cases {
            assert!(msg.starts_with(path), "{msg}");
            assert!(msg.contains(needle), "{needle} not in {msg}");
        }
    }

    #[test]
    fn sqs_subscription_makes_queue_policies_for_queue_and_dlq() {
        let app = App::new();
        let s = app.stack("S");
        let t = s.topic("T").build().unwrap();
        let q = s.queue("Q").build().unwrap();
        let d = s.queue("D").build().unwrap();
        t.subscribe_queue(&q)
            .raw_message_delivery()
            .filter_policy(EventPattern::new().field("order.kind", [Match::prefix("ship")]))
            .filter_policy_scope(FilterPolicyScope::MessageBody)
            .dead_letter_queue(&d)
            .build()
            .unwrap();
        let tpl = s.state_for_tests().finalize().unwrap();
        let sub = tpl.resources["TQSubscription"].properties.clone();
        assert_eq!(sub["Protocol"].to_json(), json!("sqs"));
        assert_eq!(
            sub["FilterPolicy"].to_json(),
            json!({"order": {"kind": [{"prefix": "ship"}]}})
        );
        assert_eq!(sub["FilterPolicyScope"].to_json(), json!("MessageBody"));
        assert_eq!(
            sub["RedrivePolicy"].to_json(),
            json!({"deadLetterTargetArn": {"Fn::GetAtt": ["D", "Arn"]}})
        );
        for queue in ["Q", "D"] {
            let policy = &tpl.resources[&format!("{queue}Policy")];
            assert_eq!(policy.resource_type, "AWS::SQS::QueuePolicy");
            assert_eq!(
                policy.properties["PolicyDocument"].to_json()["Statement"],
                json!([{
                    "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                    "Resource": {"Fn::GetAtt": [queue, "Arn"]}, "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": "T"}}}
                }])
            );
        }
    }

    #[test]
    fn lambda_subscription_makes_permission_and_email_gets_readable_id() {
        let app = App::new();
        let s = app.stack("S");
        let t = s.topic("T").build().unwrap();
        let f = s.function("F").handler_crate("f").build().unwrap();
        t.subscribe_function(&f).build().unwrap();
        t.subscribe_email("ops@example.com").build().unwrap();
        let tpl = s.state_for_tests().finalize().unwrap();
        let perm = &tpl.resources["FTPermission"];
        assert_eq!(
            perm.properties["Principal"].to_json(),
            json!("sns.amazonaws.com")
        );
        assert_eq!(perm.properties["SourceArn"].to_json(), json!({"Ref": "T"}));
        assert_eq!(
            tpl.resources["TEmailOpsExampleComSubscription"].properties["Endpoint"].to_json(),
            json!("ops@example.com")
        );
    }

    #[test]
    fn sms_and_parameter_addresses() {
        use crate::template::Parameter;
        let app = crate::constructs::App::new();
        let s = app.stack("S");
        let t = s.topic("Alerts").build().unwrap();
        let e = t.subscribe_sms("555-0100").build().unwrap_err().to_string();
        assert!(
            e.starts_with("S/AlertsSms5550100Subscription") && e.contains("E.164"),
            "{e}"
        );
        t.subscribe_sms("+15555550100").build().unwrap();
        let email = s.parameter("OpsEmail", Parameter::new("String")).unwrap();
        let sub = t.subscribe_email(email).build().unwrap();
        assert_eq!(sub.logical_id(), "AlertsEmailOpsEmailSubscription");
    }
}
