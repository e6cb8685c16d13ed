//! EventBridge rules: an event pattern or a schedule, delivering to up to five targets.

use crate::spec::cfn;
use std::collections::BTreeMap;

use super::bus::EventBusRef;
use super::target::{check_transformer, RuleContext, Target, TargetInput};
use super::{check_description, check_name, check_pattern};
use crate::constructs::error::check_range;
use crate::constructs::iam::assume_role_policy;
use crate::constructs::pattern::EventPattern;
use crate::constructs::stack::{check_construct_id, handle, Facts, Node, PolicyHolder};
use crate::constructs::{Stack, SynthError};
use crate::template::{Expr, Resource};

handle!(
    /// An EventBridge rule.
    RuleRef
);

impl RuleRef<'_> {
    /// Rule ARN.
    pub fn arn(&self) -> Expr {
        self.att("Arn")
    }
}

enum Trigger {
    Pattern(EventPattern),
    Schedule(String),
}

/// Builder for an `AWS::Events::Rule`, plus the grants its targets need: resource policies
/// scoped to the rule ARN (Lambda permission, queue policy, topic policy, KMS key policy of
/// an encrypted DLQ) or one shared role `<Rule>Role` for targets that need a role.
///
/// ```
/// use ordersctl::constructs::{App, Duration, EventPattern, Match, Target};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let bus = stack.event_bus("OrdersBus").bus_name("orders-bus").build()?;
/// let queue = stack.queue("Fulfilment").build()?;
/// let dlq = stack.queue("RuleDlq").build()?;
/// let audit = stack.function("Audit").handler_crate("audit").build()?;
/// stack.rule("OrderPlaced").bus(&bus)
///     .pattern(EventPattern::new().source(["shop.orders"]).detail_type(["OrderPlaced"]))
///     .target(Target::of(&queue).dead_letter_queue(&dlq).retry_policy(Duration::hours(1), 8))
///     .target(&audit)
///     .build()?;
/// stack.rule("Nightly").schedule("cron(0 2 * * ? *)").target(&audit).build()?;
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "a rule is added by build()"]
pub struct RuleBuilder<'a> {
    stack: &'a Stack,
    id: String,
    logical_id: Option<String>,
    rule_name: Option<String>,
    bus: Option<EventBusRef<'a>>,
    triggers: Vec<Trigger>,
    description: Option<String>,
    enabled: bool,
    targets: Vec<Target<'a>>,
}

impl Stack {
    /// Start a rule (on the default bus unless [`RuleBuilder::bus`] says otherwise).
    pub fn rule(&self, id: &str) -> RuleBuilder<'_> {
        RuleBuilder {
            stack: self,
            id: id.to_string(),
            logical_id: None,
            rule_name: None,
            bus: None,
            triggers: Vec::new(),
            description: None,
            enabled: true,
            targets: Vec::new(),
        }
    }
}

impl<'a> RuleBuilder<'a> {
    /// The bus whose events the rule matches (the default bus when not set).
    pub fn bus(mut self, bus: &EventBusRef<'a>) -> Self {
        self.bus = Some(*bus);
        self
    }
    /// Match events with this pattern (exactly one of pattern or schedule).
    pub fn pattern(mut self, pattern: EventPattern) -> Self {
        self.triggers.push(Trigger::Pattern(pattern));
        self
    }
    /// Run on a schedule, `rate(5 minutes)` or `cron(0 2 * * ? *)`; default bus only.
    pub fn schedule(mut self, expression: &str) -> Self {
        self.triggers
            .push(Trigger::Schedule(expression.to_string()));
        self
    }
    /// Physical rule name, 1 to 64 letters, digits, `.`, `-` and `_`.
    pub fn rule_name(mut self, name: &str) -> Self {
        self.rule_name = Some(name.to_string());
        self
    }
    /// Keep a logical ID stable through a rename of the construct.
    pub fn logical_id(mut self, id: &str) -> Self {
        self.logical_id = Some(id.to_string());
        self
    }
    /// Description, up to 512 characters.
    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.to_string());
        self
    }
    /// Create the rule disabled.
    pub fn disabled(mut self) -> Self {
        self.enabled = false;
        self
    }
    /// Add a target (1 to 5): a handle (`&queue`, `&function`, `&topic`, `&bus`) or a
    /// [`Target`] with options.
    pub fn target(mut self, target: impl Into<Target<'a>>) -> Self {
        self.targets.push(target.into());
        self
    }

    /// Validate, add the rule and grant its targets.
    pub fn build(self) -> Result<RuleRef<'a>, SynthError> {
        check_construct_id(self.stack.name(), &self.id)?;
        let path = self.stack.child_path(&self.id);
        let p = path.as_str();
        let logical_id = self.logical_id.clone().unwrap_or_else(|| self.id.clone());
        let bus = self.bus.filter(|b| !b.is_default());

        let mut r = Resource::new("AWS::Events::Rule");
        match self.triggers.as_slice() {
            [Trigger::Pattern(pattern)] => {
                check_pattern(p, "pattern", pattern)?;
                r.set(cfn::EventPattern, Expr::from_json(&pattern.to_json()));
            }
            [Trigger::Schedule(expression)] => {
                check_schedule(p, expression)?;
                if let Some(b) = bus {
                    return Err(SynthError::invalid(
                        p,
                        format!("schedule rules run only on the default event bus, not on {}; drop .bus(..)", b.path()),
                    ));
                }
                r.set(cfn::ScheduleExpression, expression.as_str());
            }
            [] => {
                return Err(SynthError::invalid(
                    p,
                    "a rule needs a pattern or a schedule; call .pattern(..) or .schedule(..)",
                ))
            }
            _ => {
                return Err(SynthError::invalid(
                    p,
                    "a rule takes exactly one pattern or schedule; more than one was given",
                ))
            }
        }
        if let Some(name) = &self.rule_name {
            check_name(p, "rule_name", name, 64)?;
        }
        if let Some(d) = &self.description {
            check_description(p, d)?;
        }
        check_range(p, "targets", self.targets.len() as i64, 1, 5, "targets")?;
        for t in &self.targets {
            check_target_options(p, t, bus.as_ref())?;
        }

        if let Some(b) = bus {
            r.set(cfn::EventBusName, b.name());
        }
        r.set_opt(cfn::Name, self.rule_name.clone())
            .set_opt(cfn::Description, self.description.clone())
            .set(
                cfn::State,
                if self.enabled { "ENABLED" } else { "DISABLED" },
            );
        // Claim the logical ID before targets are granted anything; targets are set below.
        self.stack.add_resource(&logical_id, p, r)?;

        let ctx = RuleContext {
            stack: self.stack,
            path: path.clone(),
            logical_id: logical_id.clone(),
        };
        let role_id = format!("{logical_id}Role");
        let mut role_needed = false;
        let mut ids: Vec<String> = Vec::new();
        let mut targets = Vec::with_capacity(self.targets.len());
        for (i, t) in self.targets.iter().enumerate() {
            let binding = t.target.bind(&ctx)?;
            if binding.needs_message_group_id != t.message_group_id.is_some() {
                let msg = if binding.needs_message_group_id {
                    format!(
                        "target {} is a FIFO queue and needs .message_group_id(..)",
                        t.target.target_label()
                    )
                } else {
                    format!(
                        "message_group_id is only for FIFO queue targets, not {}",
                        t.target.target_label()
                    )
                };
                return Err(SynthError::invalid(p, msg));
            }
            let mut m = BTreeMap::new();
            m.insert(cfn::Arn.to_string(), t.target.target_arn());
            m.insert(
                cfn::Id.to_string(),
                Expr::from(target_id(&t.target.target_label(), i, &mut ids)),
            );
            if !binding.role_statements.is_empty() {
                role_needed = true;
                m.insert(
                    cfn::RoleArn.to_string(),
                    self.stack.get_att(&role_id, cfn::Arn),
                );
                let holder = PolicyHolder::Role {
                    policy_name: format!("{role_id}Policy"),
                };
                for s in binding.role_statements {
                    self.stack.attach_policy(&role_id, holder.clone(), p, s);
                }
            }
            if let Some(dlq) = t.dead_letter {
                dlq.allow_service_send("events.amazonaws.com", ctx.rule_arn());
                m.insert(
                    cfn::DeadLetterConfig.to_string(),
                    Expr::map([(cfn::Arn, dlq.arn())]),
                );
            }
            if let Some((age, attempts)) = t.retry {
                m.insert(
                    cfn::RetryPolicy.to_string(),
                    Expr::map([
                        (cfn::MaximumEventAgeInSeconds, Expr::from(age.as_secs())),
                        (cfn::MaximumRetryAttempts, Expr::from(attempts)),
                    ]),
                );
            }
            match t.inputs.first() {
                Some(TargetInput::Constant(json)) => {
                    m.insert(cfn::Input.to_string(), Expr::from(json.to_string()));
                }
                Some(TargetInput::Transformer { paths, template }) => {
                    let map = Expr::Map(
                        paths
                            .iter()
                            .map(|(k, v)| (k.clone(), Expr::from(v.as_str())))
                            .collect(),
                    );
                    m.insert(
                        cfn::InputTransformer.to_string(),
                        Expr::map([
                            (cfn::InputPathsMap, map),
                            (cfn::InputTemplate, Expr::from(template.as_str())),
                        ]),
                    );
                }
                None => {}
            }
            if let Some(group) = &t.message_group_id {
                m.insert(
                    cfn::SqsParameters.to_string(),
                    Expr::map([(cfn::MessageGroupId, Expr::from(group.as_str()))]),
                );
            }
            targets.push(Expr::Map(m));
        }

        self.stack.modify_resource(&logical_id, |r| {
            r.set(cfn::Targets, Expr::List(targets));
        });
        if role_needed {
            let mut role = Resource::new("AWS::IAM::Role");
            role.set(
                cfn::AssumeRolePolicyDocument,
                assume_role_policy("events.amazonaws.com"),
            );
            self.stack.add_resource(&role_id, p, role)?;
        }
        let node = self.stack.add_node(Node {
            path,
            logical_id,
            facts: Facts::default(),
            imported: None,
        });
        Ok(RuleRef {
            stack: self.stack,
            node,
        })
    }
}

/// Options that can be checked before anything is granted.
fn check_target_options(
    p: &str,
    t: &Target<'_>,
    bus: Option<&EventBusRef<'_>>,
) -> Result<(), SynthError> {
    let label = t.target.target_label();
    if let Some(dlq) = t.dead_letter {
        if dlq.is_fifo() {
            return Err(SynthError::invalid(p, format!("dead_letter_queue {} of target {label} is FIFO; EventBridge needs a standard queue", dlq.path())));
        }
    }
    if let Some((age, attempts)) = t.retry {
        check_range(
            p,
            "retry_policy max_event_age",
            age.secs_i64(),
            60,
            86_400,
            "s",
        )?;
        check_range(
            p,
            "retry_policy max_retry_attempts",
            i64::from(attempts),
            0,
            185,
            "",
        )?;
    }
    match t.inputs.as_slice() {
        [] => {}
        [TargetInput::Constant(json)] => {
            let n = json.to_string().chars().count();
            if n > 8192 {
                return Err(SynthError::out_of_range(
                    p,
                    "input",
                    format!("{n} characters of JSON"),
                    "at most 8192",
                ));
            }
        }
        [TargetInput::Transformer { paths, template }] => check_transformer(p, paths, template)?,
        _ => {
            return Err(SynthError::invalid(
                p,
                format!("target {label} takes one of input or input_transformer, once"),
            ));
        }
    }
    if let Some(g) = &t.message_group_id {
        let ok = !g.is_empty() && g.len() <= 128 && g.chars().all(|c| c.is_ascii_graphic());
        if !ok {
            return Err(SynthError::invalid(p, format!("message_group_id `{g}` is not allowed; allowed: 1 to 128 printable ASCII characters")));
        }
    }
    let own_bus_arn = bus.map_or_else(
        || Expr::arn("events", "event-bus/default"),
        EventBusRef::arn,
    );
    if t.target.target_arn() == own_bus_arn {
        return Err(SynthError::invalid(
            p,
            "a rule cannot target the bus it is on: events would loop",
        ));
    }
    Ok(())
}

/// Target IDs: the target's label (at most 64 characters), made unique with the index.
fn target_id(label: &str, index: usize, taken: &mut Vec<String>) -> String {
    let base: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .take(60)
        .collect();
    let id = if base.is_empty() || taken.contains(&base) {
        format!("{}Target{index}", base.chars().take(52).collect::<String>())
    } else {
        base
    };
    taken.push(id.clone());
    id
}

/// `rate(<n> <unit>)` with a positive `n` (singular unit for 1) or `cron(<6 fields>)`.
fn check_schedule(p: &str, expression: &str) -> Result<(), SynthError> {
    let bad = |why: &str| {
        SynthError::invalid(
            p,
            format!("schedule `{expression}` is not allowed: {why}; allowed: `rate(<n> minute(s)|hour(s)|day(s))` or `cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)`"),
        )
    };
    if expression.len() > 256 {
        return Err(bad("longer than 256 characters"));
    }
    if let Some(inner) = expression
        .strip_prefix("rate(")
        .and_then(|s| s.strip_suffix(')'))
    {
        let (n, unit) = inner
            .split_once(' ')
            .ok_or_else(|| bad("a rate is a number and a unit"))?;
        let n: u64 = n
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad("the rate must be a positive whole number"))?;
        let ok = if n == 1 {
            ["minute", "hour", "day"].contains(&unit)
        } else {
            ["minutes", "hours", "days"].contains(&unit)
        };
        if !ok {
            return Err(bad(
                "the unit is minute, hour or day for 1, and minutes, hours or days otherwise",
            ));
        }
        return Ok(());
    }
    if let Some(inner) = expression
        .strip_prefix("cron(")
        .and_then(|s| s.strip_suffix(')'))
    {
        let fields: Vec<&str> = inner.split_whitespace().collect();
        if fields.len() != 6 {
            return Err(bad("a cron expression has 6 fields"));
        }
        if fields[2] != "?" && fields[4] != "?" {
            return Err(bad("one of day-of-month and day-of-week must be `?`"));
        }
        return Ok(());
    }
    Err(bad("it is neither rate(..) nor cron(..)"))
}

#[cfg(test)]
#[path = "rule_tests.rs"]
mod tests;
