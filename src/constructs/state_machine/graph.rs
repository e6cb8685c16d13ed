//! A graph of states (the machine, a Parallel branch, a Map item processor) and the
//! `State` sum type with its JSON rendering.

use crate::spec::asl;
use std::collections::BTreeMap;

use super::flow::{Catch, Retry};
use super::states::{Choice, Fail, Map, Parallel, Pass, Succeed, Transition, Wait, WaitFor};
use super::tasks::Task;
use crate::template::Expr;

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
            out.push((asl::Next, n.as_str()));
        }
        let catches: &[Catch] = match self {
            State::Task(s) => &s.catch,
            State::Parallel(s) => &s.catch,
            State::Map(s) => &s.catch,
            _ => &[],
        };
        out.extend(catches.iter().map(|c| ("Catch Next", c.next.as_str())));
        if let State::Choice(c) = self {
            out.extend(
                c.rules
                    .iter()
                    .map(|(_, n)| ("Choice rule Next", n.as_str())),
            );
            if let Some(d) = &c.default {
                out.push((asl::Default, d.as_str()));
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
                m.insert(
                    asl::Retry.into(),
                    Expr::list(retry.iter().map(Retry::render)),
                );
            }
            if !catch.is_empty() {
                m.insert(
                    asl::Catch.into(),
                    Expr::list(catch.iter().map(Catch::render)),
                );
            }
        };
        let ty = match self {
            State::Task(t) => {
                t.render_into(&mut m);
                retry_catch(&mut m, &t.retry, &t.catch);
                asl::Task
            }
            State::Pass(p) => {
                p.io.render(&mut m);
                p.transition.render(&mut m);
                if let Some(r) = &p.result {
                    m.insert(asl::Result.into(), r.clone());
                }
                asl::Pass
            }
            State::Choice(c) => {
                c.io.render(&mut m);
                let rules = c.rules.iter().map(|(cond, next)| {
                    let mut rule = match cond.to_expr() {
                        Expr::Map(r) => r,
                        _ => BTreeMap::new(),
                    };
                    rule.insert(asl::Next.into(), Expr::from(next.as_str()));
                    Expr::Map(rule)
                });
                m.insert(asl::Choices.into(), Expr::list(rules));
                if let Some(d) = &c.default {
                    m.insert(asl::Default.into(), Expr::from(d.as_str()));
                }
                asl::Choice
            }
            State::Wait(w) => {
                w.io.render(&mut m);
                w.transition.render(&mut m);
                let (k, v) = match &w.wait {
                    WaitFor::Seconds(d) => (asl::Seconds, Expr::from(d.as_secs())),
                    WaitFor::SecondsPath(p) => (asl::SecondsPath, Expr::from(p.as_str())),
                    WaitFor::Timestamp(t) => (asl::Timestamp, Expr::from(t.as_str())),
                    WaitFor::TimestampPath(p) => (asl::TimestampPath, Expr::from(p.as_str())),
                };
                m.insert(k.into(), v);
                asl::Wait
            }
            State::Parallel(p) => {
                p.io.render(&mut m);
                p.transition.render(&mut m);
                m.insert(
                    asl::Branches.into(),
                    Expr::list(p.branches.iter().map(Definition::render)),
                );
                retry_catch(&mut m, &p.retry, &p.catch);
                asl::Parallel
            }
            State::Map(s) => {
                s.io.render(&mut m);
                s.transition.render(&mut m);
                let mut processor = match s.processor.render() {
                    Expr::Map(p) => p,
                    _ => BTreeMap::new(),
                };
                processor.insert(
                    asl::ProcessorConfig.into(),
                    Expr::map([(asl::Mode, Expr::from("INLINE"))]),
                );
                m.insert(asl::ItemProcessor.into(), Expr::Map(processor));
                if let Some(p) = &s.items_path {
                    m.insert(asl::ItemsPath.into(), Expr::from(p.as_str()));
                }
                if let Some(n) = s.max_concurrency {
                    m.insert(asl::MaxConcurrency.into(), Expr::from(n));
                }
                if let Some(sel) = &s.item_selector {
                    m.insert(asl::ItemSelector.into(), sel.clone());
                }
                retry_catch(&mut m, &s.retry, &s.catch);
                asl::Map
            }
            State::Succeed(s) => {
                s.io.render(&mut m);
                asl::Succeed
            }
            State::Fail(f) => {
                for (k, v) in [
                    (asl::Comment, &f.comment),
                    (asl::Error, &f.error),
                    (asl::Cause, &f.cause),
                ] {
                    if let Some(v) = v {
                        m.insert(k.into(), Expr::from(v.as_str()));
                    }
                }
                asl::Fail
            }
        };
        m.insert(asl::Type.into(), Expr::from(ty));
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
        Definition {
            start_at: start_at.to_string(),
            comment: None,
            states: Vec::new(),
        }
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
        m.insert(asl::StartAt.to_string(), Expr::from(self.start_at.as_str()));
        if let Some(c) = &self.comment {
            m.insert(asl::Comment.to_string(), Expr::from(c.as_str()));
        }
        let states: BTreeMap<String, Expr> = self
            .states
            .iter()
            .map(|s| (s.name().to_string(), s.render()))
            .collect();
        m.insert(asl::States.to_string(), Expr::Map(states));
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
