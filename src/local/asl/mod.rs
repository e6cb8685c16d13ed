//! A States Language interpreter as a step function: the engine asks an [`Execution`] for its
//! next [`Action`] (run a task, wait, retry after a delay, or the final outcome), performs it
//! on its own clock, and reports back. Everything here is pure: no clock, no I/O; the engine
//! sets the current time before each step.
//!
//! Supported: every state type (Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map with an
//! inline processor), Retry (first matching retrier, attempts, interval, backoff, max delay)
//! and Catch (error matching with `States.ALL`, `States.TaskFailed`, exact names), InputPath,
//! Parameters, ResultSelector, ResultPath, OutputPath, the context object, the intrinsic
//! functions in [`path::INTRINSICS`], and `.waitForTaskToken`. Branches and Map iterations
//! run one after another (a valid interleaving of what AWS runs concurrently). [`check`]
//! refuses everything else before a run starts, naming the state.
//!
//! ```
//! use ordersctl::local::asl::{Action, Execution};
//! use serde_json::json;
//! let def = json!({"StartAt": "Add", "States": {
//!     "Add": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": true}}});
//! let mut ex = Execution::new("exec-1", def, json!({"a": 2, "b": 3}));
//! assert_eq!(ex.step().unwrap(), Action::Succeeded(json!({"sum": 5})));
//! ```

mod check;
mod choice;
mod flow;
pub mod path;

pub use check::{check, integration, INTEGRATIONS};

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// A definition the engine cannot run, or a run-time data error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AslError {
    #[error("state `{state}`: {message}")]
    Definition { state: String, message: String },
    #[error("state `{state}`: path `{path}`: {message}")]
    Path {
        state: String,
        path: String,
        message: String,
    },
    #[error("state `{state}`: {message}")]
    Runtime { state: String, message: String },
}

/// A task the engine performs.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskCall {
    pub state: String,
    /// The resolved `Resource` ARN, e.g. `arn:aws:states:::lambda:invoke`.
    pub resource: String,
    /// The effective input (after InputPath and Parameters).
    pub parameters: Value,
    pub timeout_secs: Option<u64>,
    pub heartbeat_secs: Option<u64>,
    /// Set for `.waitForTaskToken`: the token the task must be answered with.
    pub token: Option<String>,
}

/// What the execution needs next.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Task(TaskCall),
    /// Resume ([`Execution::wait_done`]) after `seconds`, or at `until` (RFC 3339).
    Wait {
        state: String,
        seconds: Option<u64>,
        until: Option<String>,
    },
    /// Call [`Execution::step`] again after `delay_secs` (a Retry).
    Retry {
        state: String,
        error: String,
        attempt: u32,
        delay_secs: f64,
    },
    Succeeded(Value),
    Failed {
        error: String,
        cause: String,
    },
}

#[derive(Debug, Clone)]
enum Phase {
    Ready,
    AwaitTask,
    TaskDone(Result<Value, (String, String)>),
    Waiting,
    WaitDone,
}

/// One branch or Map iteration to run: its block, its input, and the Map item it is for.
type Run = (Value, Value, Option<(usize, Value)>);

#[derive(Debug, Clone)]
struct Fan {
    runs: Vec<Run>,
    results: Vec<Value>,
}

#[derive(Debug, Clone)]
struct Frame {
    block: Value,
    state: String,
    input: Value,
    phase: Phase,
    retries: BTreeMap<usize, u32>,
    fan: Option<Fan>,
    map_item: Option<(usize, Value)>,
}

/// One execution of a state machine.
#[derive(Debug, Clone)]
pub struct Execution {
    id: String,
    input: Value,
    frames: Vec<Frame>,
    outcome: Option<Action>,
    counter: u64,
    now: String,
}

/// The error names Step Functions raises itself.
pub const TIMEOUT: &str = "States.Timeout";
pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
pub const TASK_FAILED: &str = "States.TaskFailed";

impl Execution {
    /// A new execution of `definition` (`{"StartAt", "States"}`) on `input`.
    pub fn new(id: &str, definition: Value, input: Value) -> Execution {
        let start = definition
            .get("StartAt")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Execution {
            id: id.to_string(),
            frames: vec![Frame {
                block: definition,
                state: start,
                input: input.clone(),
                phase: Phase::Ready,
                retries: BTreeMap::new(),
                fan: None,
                map_item: None,
            }],
            input,
            outcome: None,
            counter: 0,
            now: "1970-01-01T00:00:00Z".into(),
        }
    }

    /// The execution's ID (its ARN in the engine).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Set the time `$$.State.EnteredTime` and timestamps read from.
    pub fn set_time(&mut self, rfc3339: &str) {
        self.now = rfc3339.to_string();
    }

    /// The state the execution is in (innermost), if it has not ended.
    pub fn current_state(&self) -> Option<&str> {
        self.frames.last().map(|f| f.state.as_str())
    }

    /// Report the result of the task last returned by [`step`](Self::step).
    pub fn task_done(&mut self, result: Result<Value, (String, String)>) {
        if let Some(f) = self.frames.last_mut() {
            f.phase = Phase::TaskDone(result);
        }
    }

    /// Report that the wait last returned has elapsed.
    pub fn wait_done(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            f.phase = Phase::WaitDone;
        }
    }

    /// Run until the next task, wait, retry delay, or the end.
    pub fn step(&mut self) -> Result<Action, AslError> {
        if let Some(o) = &self.outcome {
            return Ok(o.clone());
        }
        loop {
            match self.advance() {
                Ok(Some(a)) => {
                    if matches!(a, Action::Succeeded(_) | Action::Failed { .. }) {
                        self.outcome = Some(a.clone());
                    }
                    return Ok(a);
                }
                Ok(None) => continue,
                // Data errors end the execution, as States.Runtime does in AWS.
                Err(e @ (AslError::Runtime { .. } | AslError::Path { .. })) => {
                    let a = Action::Failed {
                        error: "States.Runtime".into(),
                        cause: e.to_string(),
                    };
                    self.frames.clear();
                    self.outcome = Some(a.clone());
                    return Ok(a);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn context(&self, f: &Frame, token: Option<&str>) -> Value {
        let retry: u32 = f.retries.values().sum();
        let mut c = json!({
            "Execution": {"Id": self.id, "Input": self.input, "Name": self.id.rsplit(':').next().unwrap_or(&self.id), "StartTime": self.now},
            "State": {"Name": f.state, "EnteredTime": self.now, "RetryCount": retry},
            "StateMachine": {"Id": self.id.rsplit_once(':').map(|(a, _)| a).unwrap_or(&self.id)},
        });
        if let Some(t) = token {
            c["Task"] = json!({"Token": t});
        }
        if let Some((i, v)) = &f.map_item {
            c["Map"] = json!({"Item": {"Index": i, "Value": v}});
        }
        c
    }

    fn next_uuid(&mut self) -> String {
        self.counter += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.counter)
    }

    /// What `States.UUID()` gives while a payload template is filled: IDs made up front, one
    /// per call in the template (the template is filled while the execution is borrowed).
    fn uuids_for(&mut self, template: Option<&Value>) -> impl FnMut() -> String {
        let n = template
            .map(|p| p.to_string().matches("States.UUID").count())
            .unwrap_or(0);
        let mut ids: Vec<String> = (0..n).map(|_| self.next_uuid()).collect();
        ids.reverse();
        move || ids.pop().unwrap_or_default()
    }

    /// One move; `None` means keep going.
    fn advance(&mut self) -> Result<Option<Action>, AslError> {
        let Some(f) = self.frames.last() else {
            return Err(AslError::Runtime {
                state: String::new(),
                message: "the execution has ended".into(),
            });
        };
        let name = f.state.clone();
        let s = state_def(&f.block, &name).ok_or_else(|| AslError::Definition {
            state: name.clone(),
            message: "no such state".into(),
        })?;
        let ty = s
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let phase = f.phase.clone();
        let ctx = self.context(f, None);
        let raw = f.input.clone();
        let effective = || -> Result<Value, AslError> {
            match s.get("InputPath") {
                None => Ok(raw.clone()),
                Some(Value::Null) => Ok(json!({})),
                Some(Value::String(p)) => path::read(p, &raw, &ctx, &name),
                Some(_) => Err(AslError::Definition {
                    state: name.clone(),
                    message: "InputPath is a path or null".into(),
                }),
            }
        };
        match (ty.as_str(), phase) {
            ("Pass", _) => {
                let eff = effective()?;
                // A Result, when given, is the state's result whatever Parameters made.
                let result = if let Some(r) = s.get("Result") {
                    r.clone()
                } else if let Some(p) = s.get("Parameters") {
                    let mut uuids = self.uuids_for(Some(p));
                    path::template(p, &eff, &ctx, &name, &mut uuids)?
                } else {
                    eff
                };
                self.finish(&s, raw, result)
            }
            ("Task", Phase::Ready) => {
                let eff = effective()?;
                let resource = s
                    .get("Resource")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let token = resource
                    .ends_with(".waitForTaskToken")
                    .then(|| format!("{}:{}:{}", self.id, name, self.counter + 1));
                if token.is_some() {
                    self.counter += 1;
                }
                let ctx = self.context(self.frames.last().expect("checked"), token.as_deref());
                let mut g = self.uuids_for(s.get("Parameters"));
                let parameters = match s.get("Parameters") {
                    Some(p) => path::template(p, &eff, &ctx, &name, &mut g)?,
                    None => eff,
                };
                let secs = |k: &str| s.get(k).and_then(Value::as_u64);
                if let Some(f) = self.frames.last_mut() {
                    f.phase = Phase::AwaitTask;
                }
                Ok(Some(Action::Task(TaskCall {
                    state: name,
                    resource,
                    parameters,
                    timeout_secs: secs("TimeoutSeconds"),
                    heartbeat_secs: secs("HeartbeatSeconds"),
                    token,
                })))
            }
            ("Task", Phase::AwaitTask) => Err(AslError::Runtime {
                state: name,
                message: "waiting for the task's result".into(),
            }),
            ("Task", Phase::TaskDone(Ok(result)))
            | ("Parallel" | "Map", Phase::TaskDone(Ok(result))) => self.finish(&s, raw, result),
            (_, Phase::TaskDone(Err((error, cause)))) => self.raise(&error, &cause),
            ("Choice", _) => {
                let eff = effective()?;
                let mut next = None;
                for rule in s
                    .get("Choices")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if choice::holds(rule, &eff, &ctx, &name)? {
                        next = rule.get("Next").and_then(Value::as_str).map(str::to_string);
                        break;
                    }
                }
                let Some(next) =
                    next.or_else(|| s.get("Default").and_then(Value::as_str).map(str::to_string))
                else {
                    return self.raise(
                        "States.NoChoiceMatched",
                        &format!("no choice rule of `{name}` matched and it has no Default"),
                    );
                };
                let out = output_path(&s, eff, &ctx, &name)?;
                self.goto(&next, out);
                Ok(None)
            }
            ("Wait", Phase::Ready) => {
                let eff = effective()?;
                let (mut seconds, mut until) = (
                    s.get("Seconds").and_then(Value::as_u64),
                    s.get("Timestamp")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                );
                if let Some(p) = s.get("SecondsPath").and_then(Value::as_str) {
                    seconds =
                        Some(path::read(p, &eff, &ctx, &name)?.as_u64().ok_or_else(|| {
                            AslError::Runtime {
                                state: name.clone(),
                                message: format!("SecondsPath `{p}` is not a non-negative integer"),
                            }
                        })?);
                }
                if let Some(p) = s.get("TimestampPath").and_then(Value::as_str) {
                    until = Some(
                        path::read(p, &eff, &ctx, &name)?
                            .as_str()
                            .map(str::to_string)
                            .ok_or_else(|| AslError::Runtime {
                                state: name.clone(),
                                message: format!("TimestampPath `{p}` is not a timestamp string"),
                            })?,
                    );
                }
                if let Some(f) = self.frames.last_mut() {
                    f.phase = Phase::Waiting;
                }
                Ok(Some(Action::Wait {
                    state: name,
                    seconds,
                    until,
                }))
            }
            ("Wait", Phase::Waiting) => Err(AslError::Runtime {
                state: name,
                message: "waiting".into(),
            }),
            ("Wait", _) => {
                let eff = effective()?;
                let out = output_path(&s, eff, &ctx, &name)?;
                self.transition(&s, out)
            }
            ("Succeed", _) => {
                let eff = effective()?;
                let out = output_path(&s, eff, &ctx, &name)?;
                self.end_frame(out)
            }
            ("Fail", _) => {
                let text = |k: &str, pk: &str| -> Result<String, AslError> {
                    match (
                        s.get(k).and_then(Value::as_str),
                        s.get(pk).and_then(Value::as_str),
                    ) {
                        (Some(v), _) => Ok(v.to_string()),
                        (None, Some(p)) => Ok(path::read(p, &raw, &ctx, &name)?
                            .as_str()
                            .unwrap_or_default()
                            .to_string()),
                        _ => Ok(String::new()),
                    }
                };
                let (error, cause) = (text("Error", "ErrorPath")?, text("Cause", "CausePath")?);
                // A Fail state is not caught by its own frame: the block fails.
                self.fail_frame(&error, &cause)
            }
            ("Parallel", Phase::Ready) => {
                let eff = effective()?;
                let runs = s
                    .get("Branches")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|b| (b, eff.clone(), None))
                    .collect();
                self.fan_out(runs)
            }
            ("Map", Phase::Ready) => {
                let eff = effective()?;
                let items_path = s.get("ItemsPath").and_then(Value::as_str).unwrap_or("$");
                let Value::Array(items) = path::read(items_path, &eff, &ctx, &name)? else {
                    return Err(AslError::Runtime {
                        state: name,
                        message: format!("ItemsPath `{items_path}` is not an array"),
                    });
                };
                let block = s
                    .get("ItemProcessor")
                    .or_else(|| s.get("Iterator"))
                    .cloned()
                    .unwrap_or(Value::Null);
                let selector = s
                    .get("ItemSelector")
                    .or_else(|| s.get("Parameters"))
                    .cloned();
                let mut runs = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    let input = match &selector {
                        Some(sel) => {
                            let mut c = ctx.clone();
                            c["Map"] = json!({"Item": {"Index": i, "Value": item}});
                            let mut u = || String::new();
                            path::template(sel, &eff, &c, &name, &mut u)?
                        }
                        None => item.clone(),
                    };
                    runs.push((block.clone(), input, Some((i, item))));
                }
                self.fan_out(runs)
            }
            ("Parallel" | "Map", _) => Err(AslError::Runtime {
                state: name,
                message: "a branch is running".into(),
            }),
            (other, _) => Err(AslError::Definition {
                state: name,
                message: format!("unknown state type `{other}`"),
            }),
        }
    }
}

/// The definition of state `name` in a block (`{"StartAt", "States"}`).
fn state_def(block: &Value, name: &str) -> Option<Value> {
    block.get("States").and_then(|m| m.get(name)).cloned()
}

fn output_path(s: &Value, v: Value, ctx: &Value, state: &str) -> Result<Value, AslError> {
    match s.get("OutputPath") {
        None => Ok(v),
        Some(Value::Null) => Ok(json!({})),
        Some(Value::String(p)) => path::read(p, &v, ctx, state),
        Some(_) => Err(AslError::Definition {
            state: state.to_string(),
            message: "OutputPath is a path or null".into(),
        }),
    }
}

/// Whether an `ErrorEquals` list matches `error`.
pub fn error_matches(list: Option<&Value>, error: &str) -> bool {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|e| {
            e == error
                || e == "States.ALL"
                || (e == TASK_FAILED && error != TIMEOUT && error != "States.Runtime")
        })
}

/// A Lambda task's `Payload`-wrapped result, as `lambda:invoke` returns it.
pub fn lambda_invoke_result(payload: Value) -> Value {
    let mut m = Map::new();
    m.insert("ExecutedVersion".into(), json!("$LATEST"));
    m.insert("Payload".into(), payload);
    m.insert("StatusCode".into(), json!(200));
    Value::Object(m)
}

#[cfg(test)]
mod tests;
