//! How an execution moves: transitions, the end of a block (a branch or Map iteration
//! hands its output to its parent), and errors (Retry, then Catch, then the block fails).

use serde_json::{json, Value};

use super::*;

impl Execution {
    pub(super) fn fan_out(&mut self, mut runs: Vec<Run>) -> Result<Option<Action>, AslError> {
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

    pub(super) fn push(&mut self, block: Value, input: Value, map_item: Option<(usize, Value)>) {
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
    pub(super) fn finish(
        &mut self,
        s: &Value,
        raw: Value,
        result: Value,
    ) -> Result<Option<Action>, AslError> {
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

    pub(super) fn transition(
        &mut self,
        s: &Value,
        output: Value,
    ) -> Result<Option<Action>, AslError> {
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

    pub(super) fn goto(&mut self, next: &str, input: Value) {
        if let Some(f) = self.frames.last_mut() {
            f.state = next.to_string();
            f.input = input;
            f.phase = Phase::Ready;
            f.retries.clear();
            f.fan = None;
        }
    }

    pub(super) fn end_frame(&mut self, output: Value) -> Result<Option<Action>, AslError> {
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

    pub(super) fn fail_frame(
        &mut self,
        error: &str,
        cause: &str,
    ) -> Result<Option<Action>, AslError> {
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
    pub(super) fn raise(&mut self, error: &str, cause: &str) -> Result<Option<Action>, AslError> {
        let f = self.frames.last_mut().expect("a frame");
        let name = f.state.clone();
        let s = state_def(&f.block, &name).unwrap_or(Value::Null);
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
