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

mod choice;
pub mod path;

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

    /// One move; `None` means keep going.
    fn advance(&mut self) -> Result<Option<Action>, AslError> {
        let Some(f) = self.frames.last() else {
            return Err(AslError::Runtime {
                state: String::new(),
                message: "the execution has ended".into(),
            });
        };
        let name = f.state.clone();
        let s = f
            .block
            .get("States")
            .and_then(|m| m.get(&name))
            .cloned()
            .ok_or_else(|| AslError::Definition {
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
                let result = if let Some(p) = s.get("Parameters") {
                    let mut u = || String::new();
                    let needs_uuid = p.to_string().contains("States.UUID");
                    if needs_uuid {
                        let id = self.next_uuid();
                        let mut once = Some(id);
                        let mut g = move || once.take().unwrap_or_default();
                        path::template(p, &eff, &ctx, &name, &mut g)?
                    } else {
                        path::template(p, &eff, &ctx, &name, &mut u)?
                    }
                } else if let Some(r) = s.get("Result") {
                    r.clone()
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
                let mut uuids = Vec::new();
                for _ in 0..s
                    .get("Parameters")
                    .map(|p| p.to_string().matches("States.UUID").count())
                    .unwrap_or(0)
                {
                    uuids.push(self.next_uuid());
                }
                let mut g = move || uuids.pop().unwrap_or_default();
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

    fn fan_out(&mut self, mut runs: Vec<Run>) -> Result<Option<Action>, AslError> {
        let f = self.frames.last_mut().expect("a frame");
        f.phase = Phase::AwaitTask;
        if runs.is_empty() {
            f.phase = Phase::TaskDone(Ok(json!([])));
            return Ok(None);
        }
        let (block, input, item) = runs.remove(0);
        f.fan = Some(Fan {
            runs,
            results: Vec::new(),
        });
        self.push(block, input, item);
        Ok(None)
    }

    fn push(&mut self, block: Value, input: Value, map_item: Option<(usize, Value)>) {
        let start = block
            .get("StartAt")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.frames.push(Frame {
            block,
            state: start,
            input,
            phase: Phase::Ready,
            retries: BTreeMap::new(),
            fan: None,
            map_item,
        });
    }

    /// ResultSelector, ResultPath, OutputPath, then the transition.
    fn finish(&mut self, s: &Value, raw: Value, result: Value) -> Result<Option<Action>, AslError> {
        let name = self
            .frames
            .last()
            .map(|f| f.state.clone())
            .unwrap_or_default();
        let ctx = self.context(self.frames.last().expect("a frame"), None);
        let result = match s.get("ResultSelector") {
            Some(sel) => {
                let mut u = || String::new();
                path::template(sel, &result, &ctx, &name, &mut u)?
            }
            None => result,
        };
        let merged = match s.get("ResultPath") {
            None => result,
            Some(Value::Null) => raw,
            Some(Value::String(p)) => path::write(p, raw, result, &name)?,
            Some(_) => {
                return Err(AslError::Definition {
                    state: name,
                    message: "ResultPath is a path or null".into(),
                })
            }
        };
        let out = output_path(s, merged, &ctx, &name)?;
        self.transition(s, out)
    }

    fn transition(&mut self, s: &Value, output: Value) -> Result<Option<Action>, AslError> {
        if s.get("End").and_then(Value::as_bool) == Some(true) {
            return self.end_frame(output);
        }
        let next = s
            .get("Next")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| AslError::Definition {
                state: self.current_state().unwrap_or_default().to_string(),
                message: "neither Next nor End".into(),
            })?;
        self.goto(&next, output);
        Ok(None)
    }

    fn goto(&mut self, next: &str, input: Value) {
        if let Some(f) = self.frames.last_mut() {
            f.state = next.to_string();
            f.input = input;
            f.phase = Phase::Ready;
            f.retries.clear();
            f.fan = None;
        }
    }

    fn end_frame(&mut self, output: Value) -> Result<Option<Action>, AslError> {
        self.frames.pop();
        let Some(parent) = self.frames.last_mut() else {
            return Ok(Some(Action::Succeeded(output)));
        };
        let Some(fan) = parent.fan.as_mut() else {
            return Err(AslError::Runtime {
                state: parent.state.clone(),
                message: "a branch ended without its parent".into(),
            });
        };
        fan.results.push(output);
        if fan.runs.is_empty() {
            let results = std::mem::take(&mut fan.results);
            parent.fan = None;
            parent.phase = Phase::TaskDone(Ok(Value::Array(results)));
        } else {
            let (block, input, item) = fan.runs.remove(0);
            self.push(block, input, item);
        }
        Ok(None)
    }

    fn fail_frame(&mut self, error: &str, cause: &str) -> Result<Option<Action>, AslError> {
        self.frames.pop();
        match self.frames.last_mut() {
            None => Ok(Some(Action::Failed {
                error: error.to_string(),
                cause: cause.to_string(),
            })),
            Some(parent) => {
                // The Parallel or Map state fails with the branch's error; its Retry and
                // Catch decide.
                parent.fan = None;
                self.raise(error, cause)
            }
        }
    }

    /// An error in the current state: the first matching retrier, else the first matching
    /// catcher, else the block fails.
    fn raise(&mut self, error: &str, cause: &str) -> Result<Option<Action>, AslError> {
        let f = self.frames.last_mut().expect("a frame");
        let name = f.state.clone();
        let s = f
            .block
            .get("States")
            .and_then(|m| m.get(&name))
            .cloned()
            .unwrap_or(Value::Null);
        for (i, r) in s
            .get("Retry")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if !error_matches(r.get("ErrorEquals"), error) {
                continue;
            }
            let max = r.get("MaxAttempts").and_then(Value::as_u64).unwrap_or(3) as u32;
            let done = *f.retries.get(&i).unwrap_or(&0);
            if done < max {
                let interval = r
                    .get("IntervalSeconds")
                    .and_then(Value::as_f64)
                    .unwrap_or(1.0);
                let backoff = r.get("BackoffRate").and_then(Value::as_f64).unwrap_or(2.0);
                let mut delay = interval * backoff.powi(done as i32);
                if let Some(cap) = r.get("MaxDelaySeconds").and_then(Value::as_f64) {
                    delay = delay.min(cap);
                }
                f.retries.insert(i, done + 1);
                f.phase = Phase::Ready;
                f.fan = None;
                return Ok(Some(Action::Retry {
                    state: name,
                    error: error.to_string(),
                    attempt: done + 1,
                    delay_secs: delay,
                }));
            }
            break;
        }
        for c in s
            .get("Catch")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !error_matches(c.get("ErrorEquals"), error) {
                continue;
            }
            let next = c
                .get("Next")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let err = json!({"Error": error, "Cause": cause});
            let out = match c.get("ResultPath") {
                None => err,
                Some(Value::Null) => f.input.clone(),
                Some(Value::String(p)) => path::write(p, f.input.clone(), err, &name)?,
                Some(_) => {
                    return Err(AslError::Definition {
                        state: name,
                        message: "a catcher's ResultPath is a path or null".into(),
                    })
                }
            };
            self.goto(&next, out);
            return Ok(None);
        }
        self.fail_frame(error, cause)
    }
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

/// The Task integrations the engine runs (the DSL's, plus a bare Lambda function ARN).
pub const INTEGRATIONS: &[&str] = &[
    "lambda:invoke",
    "sqs:sendMessage",
    "sns:publish",
    "dynamodb:putItem",
    "dynamodb:getItem",
    "dynamodb:updateItem",
    "dynamodb:deleteItem",
    "events:putEvents",
];

/// The integration a Task resource names (`lambda:invoke`), with whether it waits for a token.
pub fn integration(resource: &str) -> Option<(&str, bool)> {
    if resource.starts_with("arn:aws:lambda:") && resource.contains(":function:") {
        return Some(("lambda:invoke", false));
    }
    let rest = resource.split_once(":states:::")?.1;
    let (api, wait) = match rest.strip_suffix(".waitForTaskToken") {
        Some(a) => (a, true),
        None => (rest.strip_suffix(".sync").map_or(rest, |_| ""), false),
    };
    INTEGRATIONS.contains(&api).then_some((api, wait))
}

/// Everything in `definition` the engine cannot run, one line each naming the state.
pub fn check(definition: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check_block(definition, "", &mut problems);
    problems
}

fn check_block(block: &Value, prefix: &str, out: &mut Vec<String>) {
    if block.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata") {
        out.push(format!(
            "{prefix}QueryLanguage JSONata is not supported (JSONPath only)"
        ));
    }
    let Some(states) = block.get("States").and_then(Value::as_object) else {
        out.push(format!("{prefix}no States"));
        return;
    };
    if !block
        .get("StartAt")
        .and_then(Value::as_str)
        .is_some_and(|s| states.contains_key(s))
    {
        out.push(format!("{prefix}StartAt names no state"));
    }
    for (name, s) in states {
        let here = format!("{prefix}{name}");
        let ty = s.get("Type").and_then(Value::as_str).unwrap_or_default();
        if s.get("QueryLanguage").is_some() {
            out.push(format!("state `{here}`: QueryLanguage is not supported"));
        }
        for k in ["Parameters", "ResultSelector", "ItemSelector"] {
            if let Some(p) = s.get(k) {
                check_intrinsics(p, &here, out);
            }
        }
        match ty {
            "Pass" | "Choice" | "Wait" | "Succeed" | "Fail" => {}
            "Task" => match s.get("Resource").and_then(Value::as_str) {
                Some(r) if integration(r).is_some() => {}
                Some(r) => out.push(format!(
                    "state `{here}`: the integration `{r}` is not supported; supported: {}",
                    INTEGRATIONS.join(", ")
                )),
                None => out.push(format!("state `{here}`: Task without a Resource")),
            },
            "Parallel" => {
                for (i, b) in s
                    .get("Branches")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    check_block(b, &format!("{here}[{i}]/"), out);
                }
            }
            "Map" => {
                if s.get("ItemReader").is_some() || s.get("ResultWriter").is_some() {
                    out.push(format!("state `{here}`: distributed Map (ItemReader/ResultWriter) is not supported"));
                }
                match s.get("ItemProcessor").or_else(|| s.get("Iterator")) {
                    Some(b) => check_block(b, &format!("{here}/"), out),
                    None => out.push(format!("state `{here}`: Map without an ItemProcessor")),
                }
            }
            other => out.push(format!("state `{here}`: unknown state type `{other}`")),
        }
        if let Some(Value::Array(choices)) = s.get("Choices") {
            for c in choices {
                check_rule(c, &here, out);
            }
        }
    }
}

fn check_rule(rule: &Value, state: &str, out: &mut Vec<String>) {
    let Some(m) = rule.as_object() else { return };
    for (k, v) in m {
        match k.as_str() {
            "Variable" | "Next" | "Comment" => {}
            "And" | "Or" => v
                .as_array()
                .into_iter()
                .flatten()
                .for_each(|r| check_rule(r, state, out)),
            "Not" => check_rule(v, state, out),
            op => {
                let base = op.strip_suffix("Path").unwrap_or(op);
                if !choice::operators().contains(&base) {
                    out.push(format!(
                        "state `{state}`: choice operator `{op}` is not supported"
                    ));
                }
            }
        }
    }
}

fn check_intrinsics(v: &Value, state: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if let (true, Some(s)) = (k.ends_with(".$"), v.as_str()) {
                    for n in path::intrinsic_names(s) {
                        if !path::INTRINSICS.contains(&n.as_str()) {
                            out.push(format!("state `{state}`: intrinsic function `{n}` is not supported; supported: {}", path::INTRINSICS.join(", ")));
                        }
                    }
                } else {
                    check_intrinsics(v, state, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| check_intrinsics(v, state, out)),
        _ => {}
    }
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
