//! Build-time checks of a definition, so a bad graph fails at synth and not at deploy.
//! Every error names the construct path and, where it concerns one, the state.

use crate::spec::asl;
use std::collections::{BTreeSet, HashMap};

use super::flow::{Catch, Retry, STATES_ALL};
use super::graph::{Definition, State};
use super::states::Transition;
use super::tasks::IntegrationPattern;
use crate::constructs::error::check_range;
use crate::constructs::SynthError;

/// ASL's limit on a state name.
pub const MAX_STATE_NAME: usize = 80;
/// ASL's upper bound for the integer fields (IntervalSeconds, MaxAttempts, TimeoutSeconds ...).
pub(crate) const ASL_MAX: i64 = 99_999_999;

/// Check the whole machine: names, transitions, reachability, retriers, catchers, timeouts,
/// and what an Express machine cannot do.
pub(crate) fn validate(path: &str, def: &Definition, express: bool) -> Result<(), SynthError> {
    let mut seen = BTreeSet::new();
    check_graph(path, def, express, &mut seen, "the state machine")
}

fn check_graph(
    path: &str,
    def: &Definition,
    express: bool,
    seen: &mut BTreeSet<String>,
    scope: &str,
) -> Result<(), SynthError> {
    let bad = |name: &str, msg: String| SynthError::invalid(path, format!("state `{name}`: {msg}"));
    let mut by_name: HashMap<&str, &State> = HashMap::new();
    for s in &def.states {
        let name = s.name();
        if name.is_empty() || name.chars().count() > MAX_STATE_NAME {
            return Err(SynthError::out_of_range(
                path,
                format!("state name `{name}`"),
                format!("{} characters", name.chars().count()),
                format!("1 to {MAX_STATE_NAME} characters"),
            ));
        }
        if !seen.insert(name.to_string()) {
            return Err(bad(name, "the name is used by another state; state names must be unique in the whole state machine, branches and map processors included".into()));
        }
        by_name.insert(name, s);
    }
    if !by_name.contains_key(def.start_at.as_str()) {
        return Err(SynthError::invalid(
            path,
            format!(
                "StartAt names `{}`, which is not a state of {scope}; states there: {}",
                def.start_at,
                names(def)
            ),
        ));
    }
    for s in &def.states {
        let name = s.name();
        for (field, target) in s.targets() {
            if !by_name.contains_key(target) {
                return Err(bad(name, format!("{field} names `{target}`, which is not a state of {scope}; states there: {}", names(def))));
            }
        }
        if s.transition() == Some(&Transition::Unset) {
            return Err(bad(
                name,
                "it has neither Next nor End; call `.next(\"State\")` or `.end()`".into(),
            ));
        }
        let (retry, catch) = s.retry_catch();
        check_retry(path, name, retry)?;
        check_catch(path, name, catch)?;
        match s {
            State::Choice(c) if c.rules.is_empty() => {
                return Err(bad(
                    name,
                    "a Choice needs at least one rule (`.when(...)`)".into(),
                ))
            }
            State::Parallel(p) if p.branches.is_empty() => {
                return Err(bad(name, "a Parallel needs at least one branch".into()))
            }
            State::Task(t) => {
                let prop = |p: &str| format!("state `{name}` {p}");
                if let Some(d) = t.timeout {
                    check_range(
                        path,
                        &prop(asl::TimeoutSeconds),
                        d.secs_i64(),
                        1,
                        ASL_MAX,
                        "s",
                    )?;
                }
                if let Some(h) = t.heartbeat {
                    let max = t.timeout.map_or(ASL_MAX, |d| d.secs_i64() - 1);
                    let allowed = if t.timeout.is_some() {
                        format!("1 s to {max} s (less than TimeoutSeconds)")
                    } else {
                        format!("1 s to {max} s")
                    };
                    if h.secs_i64() < 1 || h.secs_i64() > max {
                        return Err(SynthError::out_of_range(
                            path,
                            prop(asl::HeartbeatSeconds),
                            h.to_string(),
                            allowed,
                        ));
                    }
                }
                if t.lacks_message_group() {
                    return Err(bad(name, "a send to a FIFO queue needs a MessageGroupId; call `.message_group_id(\"$.orderId\")`".into()));
                }
                match t.pattern {
                    IntegrationPattern::WaitForTaskToken if express => {
                        return Err(bad(name, "`.waitForTaskToken` is not supported by Express state machines; use a Standard machine".into()))
                    }
                    IntegrationPattern::Sync if express => {
                        return Err(bad(name, "`.sync` (run a job) is not supported by Express state machines; use a Standard machine".into()))
                    }
                    IntegrationPattern::WaitForTaskToken if !t.carries_task_token() => {
                        return Err(bad(name, format!("a `.waitForTaskToken` task must pass the task token (`{}`) in its input", super::TASK_TOKEN)))
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        for (i, child) in s.children().into_iter().enumerate() {
            let scope = match s {
                State::Map(_) => format!("the item processor of `{name}`"),
                _ => format!("branch {} of `{name}`", i + 1),
            };
            check_graph(path, child, express, seen, &scope)?;
        }
    }
    // ASL rejects states that cannot be reached from StartAt.
    let mut reached = BTreeSet::new();
    let mut todo = vec![def.start_at.as_str()];
    while let Some(n) = todo.pop() {
        if reached.insert(n) {
            todo.extend(by_name[n].targets().into_iter().map(|(_, t)| t));
        }
    }
    if let Some(s) = def.states.iter().find(|s| !reached.contains(s.name())) {
        return Err(bad(s.name(), format!("it cannot be reached from StartAt `{}` of {scope}; remove it or point a Next at it", def.start_at)));
    }
    Ok(())
}

fn names(def: &Definition) -> String {
    let v: Vec<&str> = def.states.iter().map(State::name).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// Error lists are not empty, and `States.ALL` stands alone in the last entry.
fn check_errors(path: &str, name: &str, what: &str, lists: &[&[String]]) -> Result<(), SynthError> {
    for (i, errors) in lists.iter().enumerate() {
        let bad = |msg: &str| {
            SynthError::invalid(path, format!("state `{name}`: {what} {}: {msg}", i + 1))
        };
        if errors.is_empty() {
            return Err(bad("ErrorEquals is empty; name at least one error"));
        }
        if errors.iter().any(|e| e == STATES_ALL) && (errors.len() > 1 || i + 1 != lists.len()) {
            return Err(bad("States.ALL must be the only error of the last entry"));
        }
    }
    Ok(())
}

fn check_retry(path: &str, name: &str, retry: &[Retry]) -> Result<(), SynthError> {
    let lists: Vec<&[String]> = retry.iter().map(|r| r.errors.as_slice()).collect();
    check_errors(path, name, asl::Retry, &lists)?;
    for r in retry {
        let prop = |p: &str| format!("state `{name}` Retry {p}");
        check_range(
            path,
            &prop(asl::IntervalSeconds),
            r.interval.secs_i64(),
            1,
            ASL_MAX,
            "s",
        )?;
        check_range(
            path,
            &prop(asl::MaxAttempts),
            i64::from(r.max_attempts),
            0,
            ASL_MAX,
            "",
        )?;
        if !r.backoff_rate.is_finite() || r.backoff_rate < 1.0 {
            return Err(SynthError::out_of_range(
                path,
                prop(asl::BackoffRate),
                r.backoff_rate.to_string(),
                "1.0 or more",
            ));
        }
        if let Some(d) = r.max_delay {
            check_range(
                path,
                &prop(asl::MaxDelaySeconds),
                d.secs_i64(),
                1,
                31_622_400,
                "s",
            )?;
        }
    }
    Ok(())
}

fn check_catch(path: &str, name: &str, catch: &[Catch]) -> Result<(), SynthError> {
    let lists: Vec<&[String]> = catch.iter().map(|c| c.errors.as_slice()).collect();
    check_errors(path, name, asl::Catch, &lists)
}
