//! Rule targets: what a target type must give a rule, and the per-target options.

use crate::spec::cfn;
use serde_json::Value;

use super::bus::EventBusRef;
use crate::constructs::function::FunctionRef;
use crate::constructs::iam::Statement;
use crate::constructs::queue::QueueRef;
use crate::constructs::topic::TopicRef;
use crate::constructs::{Duration, Stack, SynthError};
use crate::template::Expr;

/// The rule a target is being bound to.
#[derive(Debug, Clone)]
pub struct RuleContext<'a> {
    pub(crate) stack: &'a Stack,
    pub(crate) path: String,
    pub(crate) logical_id: String,
}

impl<'a> RuleContext<'a> {
    /// The rule's stack.
    pub fn stack(&self) -> &'a Stack {
        self.stack
    }
    /// The rule's construct path, for error messages.
    pub fn rule_path(&self) -> &str {
        &self.path
    }
    /// The rule's logical ID.
    pub fn rule_logical_id(&self) -> &str {
        &self.logical_id
    }
    /// The rule's ARN: the `aws:SourceArn` resource policies are scoped to.
    pub fn rule_arn(&self) -> Expr {
        self.stack.get_att(&self.logical_id, cfn::Arn)
    }
}

/// What a bound target needs from the rule.
///
/// ```
/// use ordersctl::constructs::TargetBinding;
/// use ordersctl::constructs::iam::Statement;
/// use ordersctl::template::Expr;
/// let b = TargetBinding::role([Statement::allow(["states:StartExecution"], [Expr::get_att("Flow", "Arn")])]);
/// assert_eq!(b.role_statements.len(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct TargetBinding {
    /// Statements the rule's role (`<Rule>Role`, assumed by `events.amazonaws.com`) needs to
    /// deliver; empty when a resource policy lets EventBridge deliver instead.
    pub role_statements: Vec<Statement>,
    /// The target is an SQS FIFO queue: a message group ID is required.
    pub needs_message_group_id: bool,
}

impl TargetBinding {
    /// Delivery allowed by the target's resource policy (made by `bind`): no role.
    pub fn resource_policy() -> Self {
        TargetBinding::default()
    }
    /// Delivery through the rule's role, with these statements.
    pub fn role(statements: impl IntoIterator<Item = Statement>) -> Self {
        TargetBinding {
            role_statements: statements.into_iter().collect(),
            ..TargetBinding::default()
        }
    }
}

/// Something an EventBridge rule can deliver to. Implement it for a new handle type (in its
/// own file) to make it a target: give the ARN, a label for the target ID, and in `bind`
/// either grant EventBridge on the target's resource policy or return role statements.
///
/// ```
/// use ordersctl::constructs::{RuleContext, RuleTarget, SynthError, TargetBinding};
/// use ordersctl::constructs::iam::Statement;
/// use ordersctl::template::Expr;
/// #[derive(Clone)]
/// struct Flow(Expr);
/// impl RuleTarget for Flow {
///     fn target_arn(&self) -> Expr { self.0.clone() }
///     fn target_label(&self) -> String { "Flow".into() }
///     fn bind(&self, _rule: &RuleContext<'_>) -> Result<TargetBinding, SynthError> {
///         Ok(TargetBinding::role([Statement::allow(["states:StartExecution"], [self.0.clone()])]))
///     }
/// }
/// ```
pub trait RuleTarget {
    /// The ARN EventBridge delivers to.
    fn target_arn(&self) -> Expr;
    /// A readable label (the target's logical ID), used for the target ID.
    fn target_label(&self) -> String;
    /// Called once when the rule is built: grant what delivery needs.
    fn bind(&self, rule: &RuleContext<'_>) -> Result<TargetBinding, SynthError>;
}

impl RuleTarget for QueueRef<'_> {
    fn target_arn(&self) -> Expr {
        self.arn()
    }
    fn target_label(&self) -> String {
        self.logical_id()
    }
    fn bind(&self, rule: &RuleContext<'_>) -> Result<TargetBinding, SynthError> {
        self.allow_service_send("events.amazonaws.com", rule.rule_arn());
        Ok(TargetBinding {
            needs_message_group_id: self.is_fifo(),
            ..TargetBinding::resource_policy()
        })
    }
}

impl RuleTarget for FunctionRef<'_> {
    fn target_arn(&self) -> Expr {
        self.arn()
    }
    fn target_label(&self) -> String {
        self.logical_id()
    }
    fn bind(&self, rule: &RuleContext<'_>) -> Result<TargetBinding, SynthError> {
        self.allow_service_invoke(
            rule.rule_logical_id(),
            "events.amazonaws.com",
            rule.rule_arn(),
        )?;
        Ok(TargetBinding::resource_policy())
    }
}

impl RuleTarget for TopicRef<'_> {
    fn target_arn(&self) -> Expr {
        self.arn()
    }
    fn target_label(&self) -> String {
        self.logical_id()
    }
    fn bind(&self, rule: &RuleContext<'_>) -> Result<TargetBinding, SynthError> {
        self.allow_service_publish("events.amazonaws.com", rule.rule_arn());
        Ok(TargetBinding::resource_policy())
    }
}

impl RuleTarget for EventBusRef<'_> {
    fn target_arn(&self) -> Expr {
        self.arn()
    }
    fn target_label(&self) -> String {
        self.logical_id().unwrap_or_else(|| "DefaultBus".into())
    }
    fn bind(&self, _rule: &RuleContext<'_>) -> Result<TargetBinding, SynthError> {
        Ok(TargetBinding::role([Statement::allow(
            ["events:PutEvents"],
            [self.arn()],
        )]))
    }
}

/// What the target receives instead of the matched event.
#[derive(Debug, Clone)]
pub(crate) enum TargetInput {
    Constant(Value),
    Transformer {
        paths: Vec<(String, String)>,
        template: String,
    },
}

/// One target of a rule, with its per-target options. Handles convert into it (`&queue`
/// works where a `Target` is expected); use [`Target::of`] to set options.
///
/// ```
/// use ordersctl::constructs::{App, Duration, EventPattern, Target};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let q = stack.queue("Jobs").build()?;
/// let dlq = stack.queue("JobsDlq").build()?;
/// stack.rule("OrderPlaced").pattern(EventPattern::new().source(["shop"]))
///     .target(Target::of(&q).dead_letter_queue(&dlq).retry_policy(Duration::hours(2), 10)
///         .input_transformer([("id", "$.detail.id")], r#"{"orderId": <id>}"#))
///     .build()?;
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
pub struct Target<'a> {
    pub(crate) target: Box<dyn RuleTarget + 'a>,
    pub(crate) dead_letter: Option<QueueRef<'a>>,
    pub(crate) retry: Option<(Duration, u32)>,
    pub(crate) inputs: Vec<TargetInput>,
    pub(crate) message_group_id: Option<String>,
}

impl std::fmt::Debug for Target<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("label", &self.target.target_label())
            .finish()
    }
}

impl<'a, T: RuleTarget + Clone + 'a> From<&T> for Target<'a> {
    fn from(t: &T) -> Self {
        Target::of(t)
    }
}

impl<'a> Target<'a> {
    /// A target with default options.
    pub fn of<T: RuleTarget + Clone + 'a>(target: &T) -> Self {
        Target {
            target: Box::new(target.clone()),
            dead_letter: None,
            retry: None,
            inputs: Vec::new(),
            message_group_id: None,
        }
    }
    /// Keep events EventBridge cannot deliver in this standard queue; its queue policy (and
    /// KMS key policy, for a customer-managed key) lets this rule send.
    pub fn dead_letter_queue(mut self, dlq: &QueueRef<'a>) -> Self {
        self.dead_letter = Some(*dlq);
        self
    }
    /// Retry for at most `max_event_age` (60 s to 24 h) and `max_retry_attempts` (0 to 185).
    pub fn retry_policy(mut self, max_event_age: Duration, max_retry_attempts: u32) -> Self {
        self.retry = Some((max_event_age, max_retry_attempts));
        self
    }
    /// Send this constant JSON instead of the event.
    pub fn input(mut self, json: Value) -> Self {
        self.inputs.push(TargetInput::Constant(json));
        self
    }
    /// Send `template` with `<name>` placeholders filled from the event at JSON `paths`
    /// (`("id", "$.detail.id")`, up to 100).
    pub fn input_transformer<'p>(
        mut self,
        paths: impl IntoIterator<Item = (&'p str, &'p str)>,
        template: &str,
    ) -> Self {
        let paths = paths
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.inputs.push(TargetInput::Transformer {
            paths,
            template: template.to_string(),
        });
        self
    }
    /// Message group of the events sent to a FIFO queue target (required there).
    pub fn message_group_id(mut self, id: &str) -> Self {
        self.message_group_id = Some(id.to_string());
        self
    }
}

/// Variables EventBridge defines for every input template.
const PREDEFINED: [&str; 5] = [
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    "aws.events.event",
    "aws.events.event.json",
];

/// Check an input transformer against the EventBridge limits.
pub(crate) fn check_transformer(
    path: &str,
    paths: &[(String, String)],
    template: &str,
) -> Result<(), SynthError> {
    if paths.len() > 100 {
        return Err(SynthError::out_of_range(
            path,
            "input_transformer paths",
            format!("{} entries", paths.len()),
            "at most 100",
        ));
    }
    for (name, json_path) in paths {
        let ok = !name.is_empty()
            && name.len() <= 256
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.to_ascii_lowercase().starts_with("aws");
        if !ok {
            return Err(SynthError::invalid(
                path,
                format!("input_transformer variable `{name}` is not allowed; allowed: 1 to 256 letters, digits and `_`, not starting with `AWS`"),
            ));
        }
        if !json_path.starts_with('$')
            || json_path.len() > 256
            || json_path.contains('[') && json_path.contains("['")
        {
            return Err(SynthError::invalid(
                path,
                format!("input_transformer path `{json_path}` for `{name}` is not allowed; allowed: a JSON path in dot notation starting with `$`, up to 256 characters"),
            ));
        }
    }
    let n = template.chars().count();
    if n == 0 || n > 8192 {
        return Err(SynthError::out_of_range(
            path,
            "input_transformer template",
            format!("{n} characters"),
            "1 to 8192 characters",
        ));
    }
    for placeholder in placeholders(template) {
        if !paths.iter().any(|(k, _)| k == placeholder) && !PREDEFINED.contains(&placeholder) {
            return Err(SynthError::invalid(
                path,
                format!("input_transformer template uses <{placeholder}>, which is neither in its paths nor predefined by EventBridge"),
            ));
        }
    }
    Ok(())
}

/// `<name>` placeholders of an input template (names of letters, digits, `_`, `.`, `-`).
fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        match after.find('>') {
            Some(end) => {
                let name = &after[..end];
                if !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
                {
                    out.push(name);
                }
                rest = &after[end..];
            }
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transformer_placeholders_must_be_defined() {
        let paths = vec![("id".to_string(), "$.detail.id".to_string())];
        assert!(check_transformer(
            "S/R",
            &paths,
            r#"{"id": <id>, "rule": "<aws.events.rule-name>"}"#
        )
        .is_ok());
        let e = check_transformer("S/R", &paths, "<other>")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("S/R") && e.contains("<other>"), "{e}");
        let bad = vec![("awsX".to_string(), "$.x".to_string())];
        assert!(check_transformer("S/R", &bad, "<awsX>")
            .unwrap_err()
            .to_string()
            .contains("input_transformer variable"));
        let bad = vec![("x".to_string(), "detail.x".to_string())];
        assert!(check_transformer("S/R", &bad, "<x>")
            .unwrap_err()
            .to_string()
            .contains("input_transformer path"));
    }
}
