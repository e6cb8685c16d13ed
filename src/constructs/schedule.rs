//! EventBridge Scheduler schedules: cron or rate expressions that invoke a target through a
//! role of their own, with a retry policy and a dead-letter queue.

use super::error::check_range;
use super::function::{Destination, DestinationSpec};
use super::iam::assume_role_policy;
use super::queue::QueueRef;
use super::stack::{check_construct_id, handle, Facts, Node, PolicyHolder};
use super::{Duration, Stack, SynthError};
use crate::spec::cfn;
use crate::template::{Expr, Resource};

handle!(
    /// An EventBridge Scheduler schedule.
    ScheduleRef
);

/// Builder for an `AWS::Scheduler::Schedule` and its execution role `<Id>Role`.
///
/// ```
/// use ordersctl::constructs::App;
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let f = stack.function("Maintenance").handler_crate("maintenance").build()?;
/// let dlq = stack.queue("MaintenanceDlq").build()?;
/// stack.schedule("Nightly").expression("rate(1 day)").target(&f).dead_letter_queue(&dlq).build()?;
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "a schedule is added by build()"]
pub struct ScheduleBuilder<'a> {
    stack: &'a Stack,
    id: String,
    expression: Option<String>,
    timezone: Option<String>,
    description: Option<String>,
    flexible_window: Option<Duration>,
    target: Option<DestinationSpec>,
    input: Option<String>,
    dead_letter: Option<QueueRef<'a>>,
    retry: Option<(Duration, u32)>,
    enabled: bool,
}

impl Stack {
    /// Start a schedule.
    pub fn schedule(&self, id: &str) -> ScheduleBuilder<'_> {
        ScheduleBuilder {
            stack: self,
            id: id.to_string(),
            expression: None,
            timezone: None,
            description: None,
            flexible_window: None,
            target: None,
            input: None,
            dead_letter: None,
            retry: None,
            enabled: true,
        }
    }
}

impl<'a> ScheduleBuilder<'a> {
    /// `rate(1 day)`, `cron(0 3 * * ? *)` or `at(2026-12-01T00:00:00)`.
    pub fn expression(mut self, e: &str) -> Self {
        self.expression = Some(e.to_string());
        self
    }
    /// IANA time zone of a cron or at expression (UTC by default).
    pub fn timezone(mut self, tz: &str) -> Self {
        self.timezone = Some(tz.to_string());
        self
    }
    /// Description.
    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.to_string());
        self
    }
    /// Allow invoking up to this late (1 to 1,440 minutes); off by default.
    pub fn flexible_window(mut self, d: Duration) -> Self {
        self.flexible_window = Some(d);
        self
    }
    /// What the schedule invokes: a function, queue, topic or bus.
    pub fn target(mut self, d: &dyn Destination) -> Self {
        self.target = Some(DestinationSpec::of(d));
        self
    }
    /// Constant JSON input for the target.
    pub fn input(mut self, json: &str) -> Self {
        self.input = Some(json.to_string());
        self
    }
    /// Where invocations that fail all retries go.
    pub fn dead_letter_queue(mut self, q: &QueueRef<'a>) -> Self {
        self.dead_letter = Some(*q);
        self
    }
    /// Retry for up to `max_event_age` (60 s to 24 h), at most `attempts` times (0 to 185).
    pub fn retry_policy(mut self, max_event_age: Duration, attempts: u32) -> Self {
        self.retry = Some((max_event_age, attempts));
        self
    }
    /// Create the schedule disabled.
    pub fn disabled(mut self) -> Self {
        self.enabled = false;
        self
    }

    /// Validate and add the schedule with its role.
    pub fn build(self) -> Result<ScheduleRef<'a>, SynthError> {
        check_construct_id(self.stack.name(), &self.id)?;
        let path = self.stack.child_path(&self.id);
        let p = path.as_str();
        let expr = self.expression.clone().ok_or_else(|| {
            SynthError::invalid(p, "expression is required: rate(...), cron(...) or at(...)")
        })?;
        let well_formed = ["rate(", "cron(", "at("]
            .iter()
            .any(|k| expr.starts_with(k))
            && expr.ends_with(')');
        if !well_formed {
            return Err(SynthError::invalid(p, format!("expression `{expr}` is not allowed; allowed: rate(value unit), cron(fields) or at(yyyy-mm-ddThh:mm:ss)")));
        }
        let target = self.target.clone().ok_or_else(|| {
            SynthError::invalid(p, "target is required: a function, queue, topic or bus")
        })?;
        let window = match self.flexible_window {
            None => Expr::map([(cfn::Mode, Expr::from("OFF"))]),
            Some(d) => {
                let minutes = d.as_secs() / 60;
                if d.as_secs() % 60 != 0 {
                    return Err(SynthError::out_of_range(
                        p,
                        "flexible_window",
                        d.to_string(),
                        "whole minutes, 1 to 1440",
                    ));
                }
                check_range(p, "flexible_window", minutes as i64, 1, 1440, "min")?;
                Expr::map([
                    (cfn::Mode, Expr::from("FLEXIBLE")),
                    (cfn::MaximumWindowInMinutes, Expr::from(minutes)),
                ])
            }
        };
        let role_id = format!("{}Role", self.id);
        let mut role = Resource::new("AWS::IAM::Role");
        role.set(
            cfn::AssumeRolePolicyDocument,
            assume_role_policy("scheduler.amazonaws.com"),
        );
        self.stack.add_resource(&role_id, p, role)?;
        let holder = PolicyHolder::Role {
            policy_name: format!("{}Policy", self.id),
        };
        for s in &target.statements {
            self.stack
                .attach_policy(&role_id, holder.clone(), p, s.clone());
        }
        let mut t = vec![
            (cfn::Arn, target.arn.clone()),
            (cfn::RoleArn, self.stack.get_att(&role_id, cfn::Arn)),
        ];
        if let Some(input) = &self.input {
            serde_json::from_str::<serde_json::Value>(input)
                .map_err(|e| SynthError::invalid(p, format!("input is not JSON: {e}")))?;
            t.push((cfn::Input, Expr::from(input.as_str())));
        }
        if let Some(dlq) = self.dead_letter {
            // Scheduler sends to the DLQ with the schedule's own role.
            for s in DestinationSpec::of(&dlq).statements {
                self.stack.attach_policy(&role_id, holder.clone(), p, s);
            }
            t.push((cfn::DeadLetterConfig, Expr::map([(cfn::Arn, dlq.arn())])));
        }
        if let Some((age, attempts)) = self.retry {
            check_range(p, "retry max_event_age", age.secs_i64(), 60, 86_400, "s")?;
            check_range(p, "retry attempts", i64::from(attempts), 0, 185, "")?;
            t.push((
                cfn::RetryPolicy,
                Expr::map([
                    (cfn::MaximumEventAgeInSeconds, Expr::from(age.as_secs())),
                    (cfn::MaximumRetryAttempts, Expr::from(attempts)),
                ]),
            ));
        }
        let mut r = Resource::new("AWS::Scheduler::Schedule");
        r.set(cfn::ScheduleExpression, expr.as_str())
            .set(cfn::FlexibleTimeWindow, window)
            .set(cfn::Target, Expr::map(t))
            .set(
                cfn::State,
                if self.enabled { "ENABLED" } else { "DISABLED" },
            )
            .set_opt(cfn::ScheduleExpressionTimezone, self.timezone.clone())
            .set_opt(cfn::Description, self.description.clone());
        self.stack.add_resource(&self.id, p, r)?;
        let node = self.stack.add_node(Node {
            path,
            logical_id: self.id,
            facts: Facts::default(),
            imported: None,
        });
        Ok(ScheduleRef {
            stack: self.stack,
            node,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constructs::App;

    #[test]
    fn limits_name_the_path() {
        let app = App::new();
        let s = app.stack("S");
        let f = s.function("F").handler_crate("f").build().unwrap();
        let cases = [
            ("expression is required", s.schedule("A").target(&f).build()),
            (
                "expression `every day`",
                s.schedule("B").expression("every day").target(&f).build(),
            ),
            (
                "target is required",
                s.schedule("C").expression("rate(1 day)").build(),
            ),
            (
                "flexible_window",
                s.schedule("D")
                    .expression("rate(1 day)")
                    .target(&f)
                    .flexible_window(Duration::hours(25))
                    .build(),
            ),
            (
                "retry attempts",
                s.schedule("E")
                    .expression("rate(1 day)")
                    .target(&f)
                    .retry_policy(Duration::hours(1), 186)
                    .build(),
            ),
            (
                "input is not JSON",
                s.schedule("G")
                    .expression("rate(1 day)")
                    .target(&f)
                    .input("{")
                    .build(),
            ),
        ];
        for (needle, r) in cases {
            let e = r.unwrap_err().to_string();
            assert!(e.starts_with("S/") && e.contains(needle), "{needle}: {e}");
        }
    }

    #[test]
    fn role_may_invoke_the_target_and_send_to_the_dlq() {
        let app = App::new();
        let s = app.stack("S");
        let f = s.function("F").handler_crate("f").build().unwrap();
        let dlq = s.queue("Dlq").build().unwrap();
        s.schedule("Daily")
            .expression("rate(1 day)")
            .target(&f)
            .dead_letter_queue(&dlq)
            .build()
            .unwrap();
        let t = crate::synth::synthesize(&app)
            .unwrap()
            .stacks
            .remove(0)
            .template
            .to_json_value();
        let stmts = &t["Resources"]["DailyRole"]["Properties"]["Policies"][0]["PolicyDocument"]
            ["Statement"];
        assert_eq!(stmts[0]["Action"], "lambda:InvokeFunction");
        assert_eq!(stmts[1]["Action"], "sqs:SendMessage");
        assert_eq!(
            t["Resources"]["Daily"]["Properties"]["FlexibleTimeWindow"]["Mode"],
            "OFF"
        );
    }
}
