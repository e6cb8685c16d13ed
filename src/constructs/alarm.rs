//! CloudWatch metrics of constructs and alarms on them.

use super::error::check_range;
use super::function::FunctionRef;
use super::queue::QueueRef;
use super::stack::{check_construct_id, handle, Facts, Node};
use super::{Duration, Stack, SynthError};
use crate::spec::cfn;
use crate::template::{Expr, Resource};

/// How datapoints in a period are aggregated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    Sum,
    Average,
    Maximum,
    Minimum,
    SampleCount,
}

impl Statistic {
    fn as_str(self) -> &'static str {
        match self {
            Statistic::Sum => "Sum",
            Statistic::Average => "Average",
            Statistic::Maximum => "Maximum",
            Statistic::Minimum => "Minimum",
            Statistic::SampleCount => "SampleCount",
        }
    }
}

/// A CloudWatch metric: namespace, name, dimensions, statistic and period.
///
/// ```
/// use ordersctl::constructs::App;
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let dlq = stack.queue("Dlq").build()?;
/// assert_eq!(dlq.metric_visible_messages().metric_name, "ApproximateNumberOfMessagesVisible");
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<(String, Expr)>,
    pub statistic: Statistic,
    pub period: Duration,
}

impl Metric {
    /// A metric with the default statistic (Sum) and period (1 minute).
    pub fn new(namespace: &str, metric_name: &str, dimensions: Vec<(String, Expr)>) -> Self {
        Metric {
            namespace: namespace.to_string(),
            metric_name: metric_name.to_string(),
            dimensions,
            statistic: Statistic::Sum,
            period: Duration::minutes(1),
        }
    }
    /// Use another statistic.
    pub fn statistic(mut self, s: Statistic) -> Self {
        self.statistic = s;
        self
    }
    /// Use another period (10 s, 30 s or a multiple of 60 s).
    pub fn period(mut self, d: Duration) -> Self {
        self.period = d;
        self
    }
}

impl QueueRef<'_> {
    /// Messages waiting (Maximum over 1 minute).
    pub fn metric_visible_messages(&self) -> Metric {
        Metric::new(
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            vec![(cfn::QueueName.into(), self.name())],
        )
        .statistic(Statistic::Maximum)
    }
    /// Age of the oldest message, seconds (Maximum over 1 minute).
    pub fn metric_age_of_oldest_message(&self) -> Metric {
        Metric::new(
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            vec![(cfn::QueueName.into(), self.name())],
        )
        .statistic(Statistic::Maximum)
    }
}

impl<'a> QueueRef<'a> {
    /// An alarm `<Queue>NotEmpty` when any message is visible: what every dead-letter queue
    /// needs, since a message there is a failure nobody has handled yet.
    ///
    /// ```
    /// use ordersctl::constructs::App;
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let dlq = stack.queue("JobsDLQ").build()?;
    /// assert_eq!(dlq.alarm_not_empty()?.logical_id(), "JobsDLQNotEmpty");
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn alarm_not_empty(&self) -> Result<AlarmRef<'a>, SynthError> {
        self.stack
            .alarm(&format!("{}NotEmpty", self.logical_id()))
            .description("Messages are waiting in a dead-letter queue")
            .metric(self.metric_visible_messages())
            .threshold(0.0, Comparison::GreaterThan)
            .build()
    }
}

impl FunctionRef<'_> {
    /// Invocation errors (Sum over 1 minute).
    pub fn metric_errors(&self) -> Metric {
        Metric::new(
            "AWS/Lambda",
            "Errors",
            vec![(cfn::FunctionName.into(), self.name())],
        )
    }
    /// Throttled invocations (Sum over 1 minute).
    pub fn metric_throttles(&self) -> Metric {
        Metric::new(
            "AWS/Lambda",
            "Throttles",
            vec![(cfn::FunctionName.into(), self.name())],
        )
    }
}

/// How the metric is compared with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
}

impl Comparison {
    fn as_str(self) -> &'static str {
        match self {
            Comparison::GreaterThan => "GreaterThanThreshold",
            Comparison::GreaterThanOrEqual => "GreaterThanOrEqualToThreshold",
            Comparison::LessThan => "LessThanThreshold",
            Comparison::LessThanOrEqual => "LessThanOrEqualToThreshold",
        }
    }
}

handle!(
    /// A CloudWatch alarm.
    AlarmRef
);

/// Builder for an `AWS::CloudWatch::Alarm`. Missing data counts as not breaching.
///
/// ```
/// use ordersctl::constructs::{App, Comparison};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let dlq = stack.queue("Dlq").build()?;
/// stack.alarm("DlqNotEmpty").metric(dlq.metric_visible_messages())
///     .threshold(0.0, Comparison::GreaterThan).build()?;
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "an alarm is added by build()"]
pub struct AlarmBuilder<'a> {
    stack: &'a Stack,
    id: String,
    metric: Option<Metric>,
    threshold: f64,
    comparison: Comparison,
    evaluation_periods: u32,
    description: Option<String>,
    actions: Vec<Expr>,
}

impl Stack {
    /// Every alarm built in this stack after this call, and without actions of its own,
    /// notifies `arn` (an SNS topic): an alarm that pages nobody is noise on a dashboard.
    ///
    /// ```
    /// use ordersctl::constructs::App;
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let oncall = stack.topic("OnCall").build()?;
    /// stack.default_alarm_action(oncall.arn());
    /// let dlq = stack.queue("JobsDLQ").build()?;
    /// dlq.alarm_not_empty()?;
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn default_alarm_action(&self, arn: Expr) -> &Self {
        self.state.borrow_mut().default_alarm_actions.push(arn);
        self
    }

    /// Start an alarm.
    pub fn alarm(&self, id: &str) -> AlarmBuilder<'_> {
        AlarmBuilder {
            stack: self,
            id: id.to_string(),
            metric: None,
            threshold: 0.0,
            comparison: Comparison::GreaterThan,
            evaluation_periods: 1,
            description: None,
            actions: Vec::new(),
        }
    }
}

impl<'a> AlarmBuilder<'a> {
    /// The metric watched (required).
    pub fn metric(mut self, m: Metric) -> Self {
        self.metric = Some(m);
        self
    }
    /// Threshold and comparison (default: greater than 0).
    pub fn threshold(mut self, value: f64, comparison: Comparison) -> Self {
        self.threshold = value;
        self.comparison = comparison;
        self
    }
    /// Periods that must breach before alarming (1 by default).
    pub fn evaluation_periods(mut self, n: u32) -> Self {
        self.evaluation_periods = n;
        self
    }
    /// Description.
    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.to_string());
        self
    }
    /// Notify this ARN (an SNS topic) on ALARM.
    pub fn action(mut self, arn: Expr) -> Self {
        self.actions.push(arn);
        self
    }

    /// Validate and add the alarm.
    pub fn build(self) -> Result<AlarmRef<'a>, SynthError> {
        check_construct_id(self.stack.name(), &self.id)?;
        let path = self.stack.child_path(&self.id);
        let p = path.as_str();
        let m = self
            .metric
            .clone()
            .ok_or_else(|| SynthError::invalid(p, "metric is required"))?;
        let period = m.period.as_secs();
        if !(period == 10 || period == 30 || (period >= 60 && period % 60 == 0)) {
            return Err(SynthError::out_of_range(
                p,
                "metric period",
                m.period.to_string(),
                "10 s, 30 s or a multiple of 60 s",
            ));
        }
        check_range(
            p,
            "evaluation_periods",
            i64::from(self.evaluation_periods),
            1,
            100,
            "",
        )?;
        if self.evaluation_periods as u64 * period > 86_400 {
            return Err(SynthError::invalid(
                p,
                "evaluation_periods x period must be at most 1 day",
            ));
        }
        let actions = if self.actions.is_empty() {
            self.stack.state.borrow().default_alarm_actions.clone()
        } else {
            self.actions.clone()
        };
        check_range(p, "actions", actions.len() as i64, 0, 5, "")?;
        let dims: Vec<Expr> = m
            .dimensions
            .iter()
            .map(|(n, v)| Expr::map([(cfn::Name, Expr::from(n.as_str())), (cfn::Value, v.clone())]))
            .collect();
        let mut r = Resource::new("AWS::CloudWatch::Alarm");
        r.set(cfn::Namespace, m.namespace.as_str())
            .set(cfn::MetricName, m.metric_name.as_str())
            .set(cfn::Dimensions, Expr::List(dims))
            .set(cfn::Statistic, m.statistic.as_str())
            .set(cfn::Period, period)
            .set(cfn::EvaluationPeriods, self.evaluation_periods)
            .set(cfn::Threshold, self.threshold)
            .set(cfn::ComparisonOperator, self.comparison.as_str())
            .set(cfn::TreatMissingData, "notBreaching")
            .set_opt(cfn::AlarmDescription, self.description.clone());
        if !actions.is_empty() {
            r.set(cfn::AlarmActions, Expr::List(actions));
        }
        self.stack.add_resource(&self.id, p, r)?;
        let node = self.stack.add_node(Node {
            path,
            logical_id: self.id,
            facts: Facts::default(),
            imported: None,
        });
        Ok(AlarmRef {
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
        let q = s.queue("Q").build().unwrap();
        let cases = [
            ("metric is required", s.alarm("A").build()),
            (
                "metric period",
                s.alarm("B")
                    .metric(q.metric_visible_messages().period(Duration::secs(45)))
                    .build(),
            ),
            (
                "evaluation_periods",
                s.alarm("C")
                    .metric(q.metric_visible_messages())
                    .evaluation_periods(0)
                    .build(),
            ),
            (
                "at most 1 day",
                s.alarm("D")
                    .metric(q.metric_visible_messages().period(Duration::hours(1)))
                    .evaluation_periods(25)
                    .build(),
            ),
        ];
        for (needle, r) in cases {
            let e = r.unwrap_err().to_string();
            assert!(e.starts_with("S/") && e.contains(needle), "{needle}: {e}");
        }
    }
}
