//! The Amazon States Language states other than Task: Pass, Choice, Wait, Parallel, Map,
//! Succeed, Fail; the shared input/output fields and builder-method macros.
//!
//! Reference: <https://states-language.net/spec.html> and
//! <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-amazon-states-language.html>.

use crate::spec::asl;
use std::collections::BTreeMap;

use super::flow::{Catch, Condition, Retry};
use super::graph::Definition;
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
                m.insert(asl::Next.into(), Expr::from(n.as_str()));
            }
            Transition::End => {
                m.insert(asl::End.into(), Expr::Bool(true));
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
        put(asl::Comment, self.comment.as_deref().map(Expr::from));
        put(asl::InputPath, self.input_path.as_deref().map(Expr::from));
        put(asl::OutputPath, self.output_path.as_deref().map(Expr::from));
        put(
            asl::ResultPath,
            self.result_path
                .as_ref()
                .map(|p| p.as_deref().map_or(Expr::Null, Expr::from)),
        );
        put(asl::Parameters, self.parameters.clone());
        put(asl::ResultSelector, self.result_selector.clone());
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
            self.transition =
                $crate::constructs::state_machine::states::Transition::Next(state.to_string());
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
        Pass {
            name: name.to_string(),
            io: Io::default(),
            transition: Transition::Unset,
            result: None,
        }
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
        Choice {
            name: name.to_string(),
            io: Io::default(),
            rules: Vec::new(),
            default: None,
        }
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
        Wait {
            name: name.to_string(),
            io: Io::default(),
            transition: Transition::Unset,
            wait,
        }
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
        Parallel {
            name: name.to_string(),
            io: Io::default(),
            transition: Transition::Unset,
            branches: Vec::new(),
            retry: Vec::new(),
            catch: Vec::new(),
        }
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
        Succeed {
            name: name.to_string(),
            io: Io::default(),
        }
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
        Fail {
            name: name.to_string(),
            comment: None,
            error: None,
            cause: None,
        }
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
