//! Retriers, catchers and Choice conditions.
//!
//! Reference: the Retry/Catch ("Error handling") and Choice sections of
//! <https://states-language.net/spec.html>.

use crate::spec::{asl, cfn};
use std::collections::BTreeMap;

use crate::constructs::Duration;
use crate::template::Expr;

/// The error name that matches every error.
pub const STATES_ALL: &str = "States.ALL";

/// Jitter applied to retry intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Randomize each interval between 0 and the computed delay.
    Full,
    /// No jitter.
    None,
}

/// A retrier: which errors to retry, how often and how long to wait.
///
/// ASL defaults when not set: 1 s interval, 3 attempts, backoff rate 2.0.
///
/// ```
/// use ordersctl::constructs::state_machine::{Jitter, Retry};
/// use ordersctl::constructs::Duration;
/// let r = Retry::on(["Orders.Busy"]).interval(Duration::secs(2)).max_attempts(5).backoff_rate(1.5)
///     .max_delay(Duration::secs(30)).jitter(Jitter::Full);
/// assert_eq!(r.errors(), ["Orders.Busy"]);
/// let _ = Retry::lambda_transient();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    pub(crate) errors: Vec<String>,
    pub(crate) interval: Duration,
    pub(crate) max_attempts: u32,
    pub(crate) backoff_rate: f64,
    pub(crate) max_delay: Option<Duration>,
    pub(crate) jitter: Option<Jitter>,
}

impl Retry {
    /// Retry these error names.
    pub fn on<S: Into<String>>(errors: impl IntoIterator<Item = S>) -> Self {
        Retry {
            errors: errors.into_iter().map(Into::into).collect(),
            interval: Duration::secs(1),
            max_attempts: 3,
            backoff_rate: 2.0,
            max_delay: None,
            jitter: None,
        }
    }
    /// Retry every error (`States.ALL`); must be the last retrier.
    pub fn all() -> Self {
        Retry::on([STATES_ALL])
    }
    /// The transient Lambda service errors AWS recommends retrying for `lambda:invoke` tasks
    /// (as CDK's `retryOnServiceExceptions`): 2 s interval, 6 attempts, backoff 2.
    pub fn lambda_transient() -> Self {
        Retry::on([
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
        ])
        .interval(Duration::secs(2))
        .max_attempts(6)
        .backoff_rate(2.0)
    }
    /// Wait before the first retry (at least 1 s).
    pub fn interval(mut self, d: Duration) -> Self {
        self.interval = d;
        self
    }
    /// Retries before giving up (0 disables retrying these errors).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }
    /// Multiplier for the interval on each attempt (at least 1.0).
    pub fn backoff_rate(mut self, rate: f64) -> Self {
        self.backoff_rate = rate;
        self
    }
    /// Cap on the interval.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = Some(d);
        self
    }
    /// Jitter strategy.
    pub fn jitter(mut self, j: Jitter) -> Self {
        self.jitter = Some(j);
        self
    }
    /// The error names.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    pub(crate) fn render(&self) -> Expr {
        let mut m = BTreeMap::new();
        m.insert(asl::ErrorEquals.into(), Expr::strings(self.errors.clone()));
        m.insert(
            asl::IntervalSeconds.into(),
            Expr::from(self.interval.as_secs()),
        );
        m.insert(asl::MaxAttempts.into(), Expr::from(self.max_attempts));
        m.insert(asl::BackoffRate.into(), number(self.backoff_rate));
        if let Some(d) = self.max_delay {
            m.insert(asl::MaxDelaySeconds.into(), Expr::from(d.as_secs()));
        }
        if let Some(j) = self.jitter {
            m.insert(
                asl::JitterStrategy.into(),
                Expr::from(if j == Jitter::Full { "FULL" } else { "NONE" }),
            );
        }
        Expr::Map(m)
    }
}

/// A catcher: on these errors (after retries), go to another state.
///
/// ```
/// use ordersctl::constructs::state_machine::Catch;
/// let c = Catch::on(["States.Timeout"], "TimedOut").result_path("$.error");
/// assert_eq!(c.next_state(), "TimedOut");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Catch {
    pub(crate) errors: Vec<String>,
    pub(crate) next: String,
    pub(crate) result_path: Option<String>,
}

impl Catch {
    /// Catch these error names and go to `next`.
    pub fn on<S: Into<String>>(errors: impl IntoIterator<Item = S>, next: &str) -> Self {
        Catch {
            errors: errors.into_iter().map(Into::into).collect(),
            next: next.to_string(),
            result_path: None,
        }
    }
    /// Catch every error (`States.ALL`); must be the last catcher.
    pub fn all(next: &str) -> Self {
        Catch::on([STATES_ALL], next)
    }
    /// Where the error output goes in the state input (`ResultPath`).
    pub fn result_path(mut self, path: &str) -> Self {
        self.result_path = Some(path.to_string());
        self
    }
    /// The state this catcher goes to.
    pub fn next_state(&self) -> &str {
        &self.next
    }

    pub(crate) fn render(&self) -> Expr {
        let mut m = BTreeMap::new();
        m.insert(asl::ErrorEquals.into(), Expr::strings(self.errors.clone()));
        m.insert(asl::Next.into(), Expr::from(self.next.as_str()));
        if let Some(p) = &self.result_path {
            m.insert(asl::ResultPath.into(), Expr::from(p.as_str()));
        }
        Expr::Map(m)
    }
}

/// A JSON number: whole values render as integers.
pub(crate) fn number(v: f64) -> Expr {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Expr::Int(v as i64)
    } else {
        Expr::Float(v)
    }
}

/// A Choice rule condition (without its `Next`).
///
/// ```
/// use ordersctl::constructs::state_machine::Condition;
/// let big = Condition::and([
///     Condition::is_present("$.total"),
///     Condition::numeric_greater_than("$.total", 100.0),
///     Condition::not(Condition::string_equals("$.status", "CANCELLED")),
/// ]);
/// assert!(big.to_expr().to_json()["And"].is_array());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Condition(Expr);

impl Condition {
    fn compare(variable: &str, op: &str, value: Expr) -> Self {
        Condition(Expr::map([
            (asl::Variable, Expr::from(variable)),
            (op, value),
        ]))
    }
    /// The string at `variable` equals `value`.
    pub fn string_equals(variable: &str, value: &str) -> Self {
        Self::compare(variable, "StringEquals", Expr::from(value))
    }
    /// The string at `variable` matches a pattern with `*` wildcards.
    pub fn string_matches(variable: &str, pattern: &str) -> Self {
        Self::compare(variable, "StringMatches", Expr::from(pattern))
    }
    /// The string at `variable` equals the string at path `other`.
    pub fn string_equals_path(variable: &str, other: &str) -> Self {
        Self::compare(variable, "StringEqualsPath", Expr::from(other))
    }
    /// The number at `variable` equals `value`.
    pub fn numeric_equals(variable: &str, value: f64) -> Self {
        Self::compare(variable, "NumericEquals", number(value))
    }
    /// The number at `variable` is greater than `value`.
    pub fn numeric_greater_than(variable: &str, value: f64) -> Self {
        Self::compare(variable, "NumericGreaterThan", number(value))
    }
    /// The number at `variable` is greater than or equal to `value`.
    pub fn numeric_greater_than_equals(variable: &str, value: f64) -> Self {
        Self::compare(variable, "NumericGreaterThanEquals", number(value))
    }
    /// The number at `variable` is less than `value`.
    pub fn numeric_less_than(variable: &str, value: f64) -> Self {
        Self::compare(variable, "NumericLessThan", number(value))
    }
    /// The number at `variable` is less than or equal to `value`.
    pub fn numeric_less_than_equals(variable: &str, value: f64) -> Self {
        Self::compare(variable, "NumericLessThanEquals", number(value))
    }
    /// The boolean at `variable` equals `value`.
    pub fn boolean_equals(variable: &str, value: bool) -> Self {
        Self::compare(variable, "BooleanEquals", Expr::Bool(value))
    }
    /// The timestamp at `variable` is after `value` (RFC 3339).
    pub fn timestamp_greater_than(variable: &str, value: &str) -> Self {
        Self::compare(variable, "TimestampGreaterThan", Expr::from(value))
    }
    /// The timestamp at `variable` is before `value` (RFC 3339).
    pub fn timestamp_less_than(variable: &str, value: &str) -> Self {
        Self::compare(variable, "TimestampLessThan", Expr::from(value))
    }
    /// `variable` is present in the input.
    pub fn is_present(variable: &str) -> Self {
        Self::compare(variable, "IsPresent", Expr::Bool(true))
    }
    /// The value at `variable` is JSON `null`.
    pub fn is_null(variable: &str) -> Self {
        Self::compare(variable, "IsNull", Expr::Bool(true))
    }
    /// All conditions hold.
    pub fn and(conditions: impl IntoIterator<Item = Condition>) -> Self {
        Condition(Expr::map([(
            cfn::And,
            Expr::list(conditions.into_iter().map(|c| c.0)),
        )]))
    }
    /// At least one condition holds.
    pub fn or(conditions: impl IntoIterator<Item = Condition>) -> Self {
        Condition(Expr::map([(
            "Or",
            Expr::list(conditions.into_iter().map(|c| c.0)),
        )]))
    }
    /// The condition does not hold.
    #[allow(clippy::should_implement_trait)]
    pub fn not(condition: Condition) -> Self {
        Condition(Expr::map([("Not", condition.0)]))
    }
    /// The rule in ASL form.
    pub fn to_expr(&self) -> Expr {
        self.0.clone()
    }
}
