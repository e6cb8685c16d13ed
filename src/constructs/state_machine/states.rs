//! The Amazon States Language states: Task, Pass, Choice, Wait, Parallel, Map, Succeed, Fail,
//! with retriers, catchers and Choice conditions, and their JSON rendering.
//!
//! Reference: <https://states-language.net/spec.html> and
//! <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-amazon-states-language.html>.

use std::collections::BTreeMap;

use super::tasks::Task;
use crate::constructs::Duration;
use crate::template::Expr;

/// Where a state goes after it: not said yet, another state, or the end of its graph.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum Transition {
    #[default]
    Unset,
    Next(String),
    End,
}

impl Transition {
    pub(crate) fn render(&self, m: &mut BTreeMap<String, Expr>) {
        match self {
            Transition::Unset => {}
            Transition::Next(n) => {
                m.insert("Next".into(), Expr::from(n.as_str()));
            }
            Transition::End => {
                m.insert("End".into(), Expr::Bool(true));
            }
        }
    }
}

/// Input and output processing fields shared by the states that have them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Io {
    pub comment: Option<String>,
    pub input_path: Option<String>,
    pub output_path: Option<String>,
    /// `Some(None)` discards the result (`"ResultPath": null`).
    pub result_path: Option<Option<String>>,
    pub parameters: Option<Expr>,
    pub result_selector: Option<Expr>,
}

impl Io {
    pub(crate) fn render(&self, m: &mut BTreeMap<String, Expr>) {
        let mut put = |k: &str, v: Option<Expr>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        put("Comment", self.comment.as_deref().map(Expr::from));
        put("InputPath", self.input_path.as_deref().map(Expr::from));
        put("OutputPath", self.output_path.as_deref().map(Expr::from));
        put("ResultPath", self.result_path.as_ref().map(|p| p.as_deref().map_or(Expr::Null, Expr::from)));
        put("Parameters", self.parameters.clone());
        put("ResultSelector", self.result_selector.clone());
    }
}

/// `comment`, `input_path`, `output_path`.
macro_rules! common_methods {
    () => {
        /// A human-readable comment on the state.
        pub fn comment(mut self, text: &str) -> Self {
            self.io.comment = Some(text.to_string());
            self
        }
        /// JSONPath selecting the part of the input this state sees (`InputPath`).
        pub fn input_path(mut self, path: &str) -> Self {
            self.io.input_path = Some(path.to_string());
            self
        }
        /// JSONPath selecting the part of the state's output passed on (`OutputPath`).
        pub fn output_path(mut self, path: &str) -> Self {
            self.io.output_path = Some(path.to_string());
            self
        }
    };
}

/// `next`, `end`.
macro_rules! next_methods {
    () => {
        /// The state to run after this one (`Next`).
        pub fn next(mut self, state: &str) -> Self {
            self.transition = $crate::constructs::state_machine::states::Transition::Next(state.to_string());
            self
        }
        /// This state ends its graph (`End: true`).
        pub fn end(mut self) -> Self {
            self.transition = $crate::constructs::state_machine::states::Transition::End;
            self
        }
    };
}

/// `result_path`, `discard_result`, `parameters`.
macro_rules! result_methods {
    () => {
        /// Where the state's result goes in its input (`ResultPath`, `$` by default).
        pub fn result_path(mut self, path: &str) -> Self {
            self.io.result_path = Some(Some(path.to_string()));
            self
        }
        /// Drop the result and pass the input through (`"ResultPath": null`).
        pub fn discard_result(mut self) -> Self {
            self.io.result_path = Some(None);
            self
        }
        /// The effective input, built from the state input (`Parameters`, keys ending in `.$` are paths).
        pub fn parameters(mut self, parameters: $crate::template::Expr) -> Self {
            self.io.parameters = Some(parameters);
            self
        }
    };
}

/// `result_selector`, `retry`, `catch`, `catch_all`.
macro_rules! error_methods {
    () => {
        /// Reshape the raw result before `ResultPath` applies (`ResultSelector`).
        pub fn result_selector(mut self, selector: $crate::template::Expr) -> Self {
            self.io.result_selector = Some(selector);
            self
        }
        /// Add a retrier; retriers are tried in order.
        pub fn retry(mut self, retry: $crate::constructs::state_machine::Retry) -> Self {
            self.retry.push(retry);
            self
        }
        /// Add a catcher; catchers are tried in order, after the retriers are exhausted.
        pub fn catch(mut self, catch: $crate::constructs::state_machine::Catch) -> Self {
            self.catch.push(catch);
            self
        }
        /// Catch every error (`States.ALL`) and go to `next`, the error at `$.error`.
        pub fn catch_all(self, next: &str) -> Self {
            self.catch($crate::constructs::state_machine::Catch::all(next).result_path("$.error"))
        }
    };
}

pub(crate) use {common_methods, error_methods, next_methods};

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
        m.insert("ErrorEquals".into(), Expr::strings(self.errors.clone()));
        m.insert("IntervalSeconds".into(), Expr::from(self.interval.as_secs()));
        m.insert("MaxAttempts".into(), Expr::from(self.max_attempts));
        m.insert("BackoffRate".into(), number(self.backoff_rate));
        if let Some(d) = self.max_delay {
            m.insert("MaxDelaySeconds".into(), Expr::from(d.as_secs()));
        }
        if let Some(j) = self.jitter {
            m.insert("JitterStrategy".into(), Expr::from(if j == Jitter::Full { "FULL" } else { "NONE" }));
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
        Catch { errors: errors.into_iter().map(Into::into).collect(), next: next.to_string(), result_path: None }
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
        m.insert("ErrorEquals".into(), Expr::strings(self.errors.clone()));
        m.insert("Next".into(), Expr::from(self.next.as_str()));
        if let Some(p) = &self.result_path {
            m.insert("ResultPath".into(), Expr::from(p.as_str()));
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
        Condition(Expr::map([("Variable", Expr::from(variable)), (op, value)]))
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
        Condition(Expr::map([("And", Expr::list(conditions.into_iter().map(|c| c.0)))]))
    }
    /// At least one condition holds.
    pub fn or(conditions: impl IntoIterator<Item = Condition>) -> Self {
        Condition(Expr::map([("Or", Expr::list(conditions.into_iter().map(|c| c.0)))]))
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

/// A Pass state: passes its input (or a fixed `result`) to its output.
///
/// ```
/// use ordersctl::constructs::state_machine::Pass;
/// use ordersctl::template::Expr;
/// let p = Pass::new("Defaults").result(Expr::map([("retries", Expr::Int(0))])).result_path("$.config").next("Work");
/// assert_eq!(p.name(), "Defaults");
/// ```
#[derive(Debug, Clone)]
pub struct Pass {
    pub(crate) name: String,
    pub(crate) io: Io,
    pub(crate) transition: Transition,
    pub(crate) result: Option<Expr>,
}

impl Pass {
    /// A Pass state named `name`.
    pub fn new(name: &str) -> Self {
        Pass { name: name.to_string(), io: Io::default(), transition: Transition::Unset, result: None }
    }
    /// A fixed result instead of the input (`Result`).
    pub fn result(mut self, value: Expr) -> Self {
        self.result = Some(value);
        self
    }
    /// The state name.
    pub fn name(&self) -> &str {
        &self.name
    }
    common_methods!();
    next_methods!();
    result_methods!();
}

/// A Choice state: the first rule that holds picks the next state, else `otherwise`.
///
/// ```
/// use ordersctl::constructs::state_machine::{Choice, Condition};
/// let c = Choice::new("IsLarge")
///     .when(Condition::numeric_greater_than("$.total", 1000.0), "ManualReview")
///     .otherwise("AutoApprove");
/// assert_eq!(c.name(), "IsLarge");
/// ```
#[derive(Debug, Clone)]
pub struct Choice {
    pub(crate) name: String,
    pub(crate) io: Io,
    pub(crate) rules: Vec<(Condition, String)>,
    pub(crate) default: Option<String>,
}

impl Choice {
    /// A Choice state named `name`.
    pub fn new(name: &str) -> Self {
        Choice { name: name.to_string(), io: Io::default(), rules: Vec::new(), default: None }
    }
    /// When `condition` holds, go to `next`.
    pub fn when(mut self, condition: Condition, next: &str) -> Self {
        self.rules.push((condition, next.to_string()));
        self
    }
    /// Where to go when no rule holds (`Default`); without it, no match fails the execution.
    pub fn otherwise(mut self, next: &str) -> Self {
        self.default = Some(next.to_string());
        self
    }
    /// The state name.
    pub fn name(&self) -> &str {
        &self.name
    }
    common_methods!();
}

/// How long a Wait state waits.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WaitFor {
    Seconds(Duration),
    SecondsPath(String),
    Timestamp(String),
    TimestampPath(String),
}

/// A Wait state: pause for a time or until a timestamp.
///
/// ```
/// use ordersctl::constructs::state_machine::Wait;
/// use ordersctl::constructs::Duration;
/// let w = Wait::duration("Cooldown", Duration::minutes(5)).next("Retry");
/// let until = Wait::until_path("UntilShipDate", "$.shipAt").end();
/// assert_eq!(w.name(), "Cooldown");
/// assert_eq!(until.name(), "UntilShipDate");
/// ```
#[derive(Debug, Clone)]
pub struct Wait {
    pub(crate) name: String,
    pub(crate) io: Io,
    pub(crate) transition: Transition,
    pub(crate) wait: WaitFor,
}

impl Wait {
    fn with(name: &str, wait: WaitFor) -> Self {
        Wait { name: name.to_string(), io: Io::default(), transition: Transition::Unset, wait }
    }
    /// Wait a fixed time (`Seconds`).
    pub fn duration(name: &str, d: Duration) -> Self {
        Self::with(name, WaitFor::Seconds(d))
    }
    /// Wait the number of seconds found at `path` (`SecondsPath`).
    pub fn seconds_path(name: &str, path: &str) -> Self {
        Self::with(name, WaitFor::SecondsPath(path.to_string()))
    }
    /// Wait until a fixed RFC 3339 timestamp (`Timestamp`).
    pub fn until(name: &str, timestamp: &str) -> Self {
        Self::with(name, WaitFor::Timestamp(timestamp.to_string()))
    }
    /// Wait until the timestamp found at `path` (`TimestampPath`).
    pub fn until_path(name: &str, path: &str) -> Self {
        Self::with(name, WaitFor::TimestampPath(path.to_string()))
    }
    /// The state name.
    pub fn name(&self) -> &str {
        &self.name
    }
    common_methods!();
    next_methods!();
}

/// A Parallel state: runs each branch on the same input; the output is the list of branch outputs.
///
/// ```
/// use ordersctl::constructs::state_machine::{Definition, Parallel, Pass};
/// let p = Parallel::new("FanOut")
///     .branch(Definition::new("A").state(Pass::new("A").end()))
///     .branch(Definition::new("B").state(Pass::new("B").end()))
///     .next("Join");
/// assert_eq!(p.name(), "FanOut");
/// ```
#[derive(Debug, Clone)]
pub struct Parallel {
    pub(crate) name: String,
    pub(crate) io: Io,
    pub(crate) transition: Transition,
    pub(crate) branches: Vec<Definition>,
    pub(crate) retry: Vec<Retry>,
    pub(crate) catch: Vec<Catch>,
}

impl Parallel {
    /// A Parallel state named `name`.
    pub fn new(name: &str) -> Self {
        Parallel { name: name.to_string(), io: Io::default(), transition: Transition::Unset, branches: Vec::new(), retry: Vec::new(), catch: Vec::new() }
    }
    /// Add a branch: a sub-graph with its own `StartAt`.
    pub fn branch(mut self, branch: Definition) -> Self {
        self.branches.push(branch);
        self
    }
    /// The state name.
    pub fn name(&self) -> &str {
        &self.name
    }
    common_methods!();
    next_methods!();
    result_methods!();
    error_methods!();
}

/// A Map state (inline mode): runs `processor` once per item of the array at `items_path`.
///
/// ```
/// use ordersctl::constructs::state_machine::{Definition, Map, Pass};
/// let m = Map::new("EachLine", Definition::new("Price").state(Pass::new("Price").end()))
///     .items_path("$.lines").max_concurrency(10).end();
/// assert_eq!(m.name(), "EachLine");
/// ```
#[derive(Debug, Clone)]
pub struct Map {
    pub(crate) name: String,
    pub(crate) io: Io,
    pub(crate) transition: Transition,
    pub(crate) processor: Box<Definition>,
    pub(crate) items_path: Option<String>,
    pub(crate) max_concurrency: Option<u32>,
    pub(crate) item_selector: Option<Expr>,
    pub(crate) retry: Vec<Retry>,
    pub(crate) catch: Vec<Catch>,
}

impl Map {
    /// A Map state named `name` running `processor` (its `ItemProcessor`) per item.
    pub fn new(name: &str, processor: Definition) -> Self {
        Map {
            name: name.to_string(),
            io: Io::default(),
            transition: Transition::Unset,
            processor: Box::new(processor),
            items_path: None,
            max_concurrency: None,
            item_selector: None,
            retry: Vec::new(),
            catch: Vec::new(),
        }
    }
    /// JSONPath to the array to iterate (`ItemsPath`, `$` by default).
    pub fn items_path(mut self, path: &str) -> Self {
        self.items_path = Some(path.to_string());
        self
    }
    /// At most this many iterations at once (`MaxConcurrency`; 0 means as many as possible).
    pub fn max_concurrency(mut self, n: u32) -> Self {
        self.max_concurrency = Some(n);
        self
    }
    /// Build each iteration's input (`ItemSelector`; `$$.Map.Item.Value` is the item).
    pub fn item_selector(mut self, selector: Expr) -> Self {
        self.item_selector = Some(selector);
        self
    }
    /// The state name.
    pub fn name(&self) -> &str {
        &self.name
    }
    common_methods!();
    next_methods!();
    error_methods!();

    /// Where the Map's result goes in its input (`ResultPath`, `$` by default).
    pub fn result_path(mut self, path: &str) -> Self {
        self.io.result_path = Some(Some(path.to_string()));
        self
    }
}

/// A Succeed state: ends its graph successfully.
///
/// ```
/// use ordersctl::constructs::state_machine::Succeed;
/// assert_eq!(Succeed::new("Done").name(), "Done");
/// ```
#[derive(Debug, Clone)]
pub struct Succeed {
    pub(crate) name: String,
    pub(crate) io: Io,
}

impl Succeed {
    /// A Succeed state named `name`.
    pub fn new(name: &str) -> Self {
        Succeed { name: name.to_string(), io: Io::default() }
    }
    /// The state name.
    pub fn name(&self) -> &str {
        &self.name
    }
    common_methods!();
}

/// A Fail state: ends the execution with an error name and cause.
///
/// ```
/// use ordersctl::constructs::state_machine::Fail;
/// let f = Fail::new("Failed").error("OrderRejected").cause("Payment declined");
/// assert_eq!(f.name(), "Failed");
/// ```
#[derive(Debug, Clone)]
pub struct Fail {
    pub(crate) name: String,
    pub(crate) comment: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) cause: Option<String>,
}

impl Fail {
    /// A Fail state named `name`.
    pub fn new(name: &str) -> Self {
        Fail { name: name.to_string(), comment: None, error: None, cause: None }
    }
    /// The error name (`Error`).
    pub fn error(mut self, error: &str) -> Self {
        self.error = Some(error.to_string());
        self
    }
    /// A human-readable cause (`Cause`).
    pub fn cause(mut self, cause: &str) -> Self {
        self.cause = Some(cause.to_string());
        self
    }
    /// A comment on the state.
    pub fn comment(mut self, text: &str) -> Self {
        self.comment = Some(text.to_string());
        self
    }
    /// The state name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Any state of a graph.
#[derive(Debug, Clone)]
pub enum State {
    Task(Task),
    Pass(Pass),
    Choice(Choice),
    Wait(Wait),
    Parallel(Parallel),
    Map(Map),
    Succeed(Succeed),
    Fail(Fail),
}

macro_rules! state_from {
    ($($t:ident),*) => {$(
        impl From<$t> for State {
            fn from(s: $t) -> Self {
                State::$t(s)
            }
        }
    )*};
}
state_from!(Task, Pass, Choice, Wait, Parallel, Map, Succeed, Fail);

impl State {
    /// The state name.
    pub fn name(&self) -> &str {
        match self {
            State::Task(s) => &s.name,
            State::Pass(s) => &s.name,
            State::Choice(s) => &s.name,
            State::Wait(s) => &s.name,
            State::Parallel(s) => &s.name,
            State::Map(s) => &s.name,
            State::Succeed(s) => &s.name,
            State::Fail(s) => &s.name,
        }
    }

    /// `Next`/`End`, for the states that must have one of them.
    pub(crate) fn transition(&self) -> Option<&Transition> {
        match self {
            State::Task(s) => Some(&s.transition),
            State::Pass(s) => Some(&s.transition),
            State::Wait(s) => Some(&s.transition),
            State::Parallel(s) => Some(&s.transition),
            State::Map(s) => Some(&s.transition),
            State::Choice(_) | State::Succeed(_) | State::Fail(_) => None,
        }
    }

    /// Every state name this state can go to, with the field that names it.
    pub(crate) fn targets(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        if let Some(Transition::Next(n)) = self.transition() {
            out.push(("Next", n.as_str()));
        }
        let catches: &[Catch] = match self {
            State::Task(s) => &s.catch,
            State::Parallel(s) => &s.catch,
            State::Map(s) => &s.catch,
            _ => &[],
        };
        out.extend(catches.iter().map(|c| ("Catch Next", c.next.as_str())));
        if let State::Choice(c) = self {
            out.extend(c.rules.iter().map(|(_, n)| ("Choice rule Next", n.as_str())));
            if let Some(d) = &c.default {
                out.push(("Default", d.as_str()));
            }
        }
        out
    }

    /// Retriers and catchers, for the states that have them.
    pub(crate) fn retry_catch(&self) -> (&[Retry], &[Catch]) {
        match self {
            State::Task(s) => (&s.retry, &s.catch),
            State::Parallel(s) => (&s.retry, &s.catch),
            State::Map(s) => (&s.retry, &s.catch),
            _ => (&[], &[]),
        }
    }

    /// Sub-graphs (Parallel branches, the Map item processor).
    pub(crate) fn children(&self) -> Vec<&Definition> {
        match self {
            State::Parallel(p) => p.branches.iter().collect(),
            State::Map(m) => vec![&m.processor],
            _ => Vec::new(),
        }
    }

    pub(crate) fn render(&self) -> Expr {
        let mut m = BTreeMap::new();
        let retry_catch = |m: &mut BTreeMap<String, Expr>, retry: &[Retry], catch: &[Catch]| {
            if !retry.is_empty() {
                m.insert("Retry".into(), Expr::list(retry.iter().map(Retry::render)));
            }
            if !catch.is_empty() {
                m.insert("Catch".into(), Expr::list(catch.iter().map(Catch::render)));
            }
        };
        let ty = match self {
            State::Task(t) => {
                t.render_into(&mut m);
                retry_catch(&mut m, &t.retry, &t.catch);
                "Task"
            }
            State::Pass(p) => {
                p.io.render(&mut m);
                p.transition.render(&mut m);
                if let Some(r) = &p.result {
                    m.insert("Result".into(), r.clone());
                }
                "Pass"
            }
            State::Choice(c) => {
                c.io.render(&mut m);
                let rules = c.rules.iter().map(|(cond, next)| {
                    let mut rule = match cond.to_expr() {
                        Expr::Map(r) => r,
                        _ => BTreeMap::new(),
                    };
                    rule.insert("Next".into(), Expr::from(next.as_str()));
                    Expr::Map(rule)
                });
                m.insert("Choices".into(), Expr::list(rules));
                if let Some(d) = &c.default {
                    m.insert("Default".into(), Expr::from(d.as_str()));
                }
                "Choice"
            }
            State::Wait(w) => {
                w.io.render(&mut m);
                w.transition.render(&mut m);
                let (k, v) = match &w.wait {
                    WaitFor::Seconds(d) => ("Seconds", Expr::from(d.as_secs())),
                    WaitFor::SecondsPath(p) => ("SecondsPath", Expr::from(p.as_str())),
                    WaitFor::Timestamp(t) => ("Timestamp", Expr::from(t.as_str())),
                    WaitFor::TimestampPath(p) => ("TimestampPath", Expr::from(p.as_str())),
                };
                m.insert(k.into(), v);
                "Wait"
            }
            State::Parallel(p) => {
                p.io.render(&mut m);
                p.transition.render(&mut m);
                m.insert("Branches".into(), Expr::list(p.branches.iter().map(Definition::render)));
                retry_catch(&mut m, &p.retry, &p.catch);
                "Parallel"
            }
            State::Map(s) => {
                s.io.render(&mut m);
                s.transition.render(&mut m);
                let mut processor = match s.processor.render() {
                    Expr::Map(p) => p,
                    _ => BTreeMap::new(),
                };
                processor.insert("ProcessorConfig".into(), Expr::map([("Mode", Expr::from("INLINE"))]));
                m.insert("ItemProcessor".into(), Expr::Map(processor));
                if let Some(p) = &s.items_path {
                    m.insert("ItemsPath".into(), Expr::from(p.as_str()));
                }
                if let Some(n) = s.max_concurrency {
                    m.insert("MaxConcurrency".into(), Expr::from(n));
                }
                if let Some(sel) = &s.item_selector {
                    m.insert("ItemSelector".into(), sel.clone());
                }
                retry_catch(&mut m, &s.retry, &s.catch);
                "Map"
            }
            State::Succeed(s) => {
                s.io.render(&mut m);
                "Succeed"
            }
            State::Fail(f) => {
                for (k, v) in [("Comment", &f.comment), ("Error", &f.error), ("Cause", &f.cause)] {
                    if let Some(v) = v {
                        m.insert(k.into(), Expr::from(v.as_str()));
                    }
                }
                "Fail"
            }
        };
        m.insert("Type".into(), Expr::from(ty));
        Expr::Map(m)
    }
}

/// A graph of states with its own `StartAt`: the whole machine, a Parallel branch or a Map
/// item processor. States render in a map, so their order here does not matter.
///
/// ```
/// use ordersctl::constructs::state_machine::{Definition, Fail, Pass, Succeed};
/// let def = Definition::new("Start")
///     .comment("Smallest useful machine")
///     .state(Pass::new("Start").next("Done"))
///     .state(Succeed::new("Done"))
///     .state(Fail::new("Unused").error("Never"));
/// assert_eq!(def.start_at(), "Start");
/// ```
#[derive(Debug, Clone)]
pub struct Definition {
    pub(crate) start_at: String,
    pub(crate) comment: Option<String>,
    pub(crate) states: Vec<State>,
}

impl Definition {
    /// A graph that starts at the state named `start_at`.
    pub fn new(start_at: &str) -> Self {
        Definition { start_at: start_at.to_string(), comment: None, states: Vec::new() }
    }
    /// Add a state.
    pub fn state(mut self, state: impl Into<State>) -> Self {
        self.states.push(state.into());
        self
    }
    /// A comment on the graph.
    pub fn comment(mut self, text: &str) -> Self {
        self.comment = Some(text.to_string());
        self
    }
    /// The first state's name.
    pub fn start_at(&self) -> &str {
        &self.start_at
    }
    /// The states, in the order they were added.
    pub fn states(&self) -> &[State] {
        &self.states
    }

    /// `{"StartAt": ..., "States": {...}}` (and `Comment`).
    pub fn render(&self) -> Expr {
        let mut m = BTreeMap::new();
        m.insert("StartAt".to_string(), Expr::from(self.start_at.as_str()));
        if let Some(c) = &self.comment {
            m.insert("Comment".to_string(), Expr::from(c.as_str()));
        }
        let states: BTreeMap<String, Expr> = self.states.iter().map(|s| (s.name().to_string(), s.render())).collect();
        m.insert("States".to_string(), Expr::Map(states));
        Expr::Map(m)
    }

    /// Every Task in this graph and its sub-graphs.
    pub(crate) fn tasks(&self) -> Vec<&Task> {
        let mut out = Vec::new();
        for s in &self.states {
            if let State::Task(t) = s {
                out.push(t);
            }
            for child in s.children() {
                out.extend(child.tasks());
            }
        }
        out
    }
}
