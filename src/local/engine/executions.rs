//! State machine executions: the interpreter's actions performed, tasks dispatched to their
//! integrations under the state machine role's policies, task tokens.

use super::*;

impl Engine<'_> {
    pub(super) fn start_execution(
        &mut self,
        machine_arn: &str,
        exec: &str,
        input: Value,
        from: &str,
    ) {
        let Some(sm) = self
            .world
            .state_machines
            .iter()
            .find(|s| s.arn == machine_arn)
        else {
            let mut h = Hop::new("execution", from, machine_arn, "failed");
            h.error = Some("StateMachineDoesNotExist: not among the stacks run".into());
            self.hop(h);
            return;
        };
        let mut h = Hop::new("execution", from, &sm.name, "started");
        h.execution_id = Some(exec.to_string());
        h.correlation_id = correlation(&input);
        self.hop(h);
        self.executions.insert(
            exec.to_string(),
            Execution::new(exec, sm.definition.clone(), input),
        );
        self.work.push_back(Work::Step(exec.to_string()));
    }

    pub(super) fn answer_token(
        &mut self,
        token: &str,
        result: Result<Value, (String, String)>,
        from: &str,
    ) {
        let Some(w) = self.tokens.remove(token) else {
            let mut h = Hop::new("call", from, "states", "failed");
            h.error = Some("TaskDoesNotExist: no execution waits for this task token".into());
            self.hop(h);
            return;
        };
        let mut h = Hop::new(
            "task",
            from,
            &w.state,
            if result.is_ok() {
                "token success"
            } else {
                "token failure"
            },
        );
        h.execution_id = Some(w.exec.clone());
        if let Err((e, c)) = &result {
            h.error = Some(format!("{e}: {c}"));
        }
        self.hop(h);
        if let Some(e) = self.executions.get_mut(&w.exec) {
            e.task_done(result);
        }
        // Its timeout timers find the token gone and do nothing.
        self.work.push_back(Work::Step(w.exec));
    }

    pub(super) fn step(&mut self, exec: &str) -> Result<(), EngineError> {
        let Some(machine) = exec.split(':').nth(6).map(str::to_string) else {
            return Ok(());
        };
        let now = rfc3339_ms(self.clock);
        let action = {
            let Some(e) = self.executions.get_mut(exec) else {
                return Ok(());
            };
            e.set_time(&now);
            e.step()
        };
        let action = match action {
            Ok(a) => a,
            Err(err) => Action::Failed {
                error: "States.Runtime".into(),
                cause: err.to_string(),
            },
        };
        match action {
            Action::Task(call) => self.task(exec, &machine, call),
            Action::Wait {
                state,
                seconds,
                until,
            } => {
                let ms = match (seconds, until) {
                    (Some(s), _) => s * 1000,
                    (None, Some(t)) => parse_rfc3339_ms(&t)
                        .map(|at| at.saturating_sub(self.clock))
                        .unwrap_or(0),
                    _ => 0,
                };
                let mut h = Hop::new("state", &machine, &state, "waiting");
                h.execution_id = Some(exec.to_string());
                h.detail = Some(format!("{} s", ms / 1000));
                self.hop(h);
                self.timer(ms, Timer::WaitDone(exec.to_string()), true);
                Ok(())
            }
            Action::Retry {
                state,
                error,
                attempt,
                delay_secs,
            } => {
                let mut h = Hop::new("state", &machine, &state, "retry");
                h.execution_id = Some(exec.to_string());
                h.error = Some(error);
                h.detail = Some(format!("attempt {attempt} after {delay_secs} s"));
                self.hop(h);
                self.timer(
                    (delay_secs * 1000.0) as u64,
                    Timer::Work(Work::Step(exec.to_string())),
                    true,
                );
                Ok(())
            }
            Action::Succeeded(output) => {
                let mut h = Hop::new("execution", &machine, "end", "succeeded");
                h.execution_id = Some(exec.to_string());
                h.detail = Some(truncate(&output.to_string()));
                self.hop(h);
                Ok(())
            }
            Action::Failed { error, cause } => {
                let mut h = Hop::new("execution", &machine, "end", "failed");
                h.execution_id = Some(exec.to_string());
                h.error = Some(format!("{error}: {cause}"));
                self.hop(h);
                Ok(())
            }
        }
    }

    pub(super) fn task(
        &mut self,
        exec: &str,
        machine: &str,
        call: asl::TaskCall,
    ) -> Result<(), EngineError> {
        let policies = self
            .world
            .state_machines
            .iter()
            .find(|s| s.name == machine)
            .map(|s| s.policies.clone())
            .unwrap_or_default();
        let (api, wait) = asl::integration(&call.resource).unwrap_or(("", false));
        let p = &call.parameters;
        let mut to = api.to_string();
        let result: Result<Value, (String, String)> = match api {
            "lambda:invoke" => {
                let bare = call.resource.starts_with("arn:aws:lambda:");
                let target = if bare {
                    call.resource.clone()
                } else {
                    p.get("FunctionName")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                let name = target
                    .split(":function:")
                    .nth(1)
                    .map(|n| n.split(':').next().unwrap_or(n))
                    .unwrap_or(&target)
                    .to_string();
                to = name.clone();
                let arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}");
                let payload = if bare {
                    p.clone()
                } else {
                    p.get("Payload").cloned().unwrap_or(json!({}))
                };
                if let Some(denied) = self.deny(&policies, machine, "lambda:InvokeFunction", &arn) {
                    Err(denied)
                } else {
                    match self.function(&name) {
                        Err(e) => Err(("Lambda.ResourceNotFoundException".into(), e.to_string())),
                        Ok(f) => {
                            let mut f2 = f.clone();
                            if let Some(t) = call.timeout_secs {
                                f2.timeout_secs = f2.timeout_secs.min(t.max(1));
                            }
                            match self.run_function(&f2, &payload) {
                                Ok(v) if wait => Ok(v),
                                Ok(v) if bare => Ok(v),
                                Ok(v) => Ok(asl::lambda_invoke_result(v)),
                                Err((t, _))
                                    if t == "Sandbox.Timedout"
                                        && call
                                            .timeout_secs
                                            .is_some_and(|ts| ts <= f.timeout_secs) =>
                                {
                                    Err((asl::TIMEOUT.into(), "the task timed out".into()))
                                }
                                Err((t, m)) => Err((
                                    t.clone(),
                                    json!({"errorType": t, "errorMessage": m}).to_string(),
                                )),
                            }
                        }
                    }
                }
            }
            "sqs:sendMessage" => {
                let url = p
                    .get("QueueUrl")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let name = url.rsplit('/').next().unwrap_or(url).to_string();
                to = name.clone();
                let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}");
                match self.deny(&policies, machine, "sqs:SendMessage", &arn) {
                    Some(d) => Err(d),
                    None => self
                        .send(&name, p.get("MessageBody").unwrap_or(&Value::Null))
                        .map(|id| json!({"MessageId": id}))
                        .map_err(|e| ("SQS.SdkClientException".into(), e)),
                }
            }
            "events:putEvents" => {
                let mut ids = Vec::new();
                let mut denied = None;
                for e in p
                    .get("Entries")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                {
                    let bus = e
                        .get("EventBusName")
                        .and_then(Value::as_str)
                        .unwrap_or("default");
                    let bus = bus.rsplit('/').next().unwrap_or(bus).to_string();
                    if let Some(d) = self.deny(
                        &policies,
                        machine,
                        "events:PutEvents",
                        &format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{bus}"),
                    ) {
                        denied = Some(d);
                        break;
                    }
                    let detail = match e.get("Detail") {
                        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
                        Some(v) => v.clone(),
                        None => json!({}),
                    };
                    let s = |k: &str| {
                        e.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    let event = self.event(&s("Source"), &s("DetailType"), detail, vec![]);
                    ids.push(json!({"EventId": event["id"]}));
                    to = bus.clone();
                    self.work.push_back(Work::Event {
                        bus,
                        event,
                        from: machine.to_string(),
                    });
                }
                match denied {
                    Some(d) => Err(d),
                    None => Ok(json!({"Entries": ids, "FailedEntryCount": 0})),
                }
            }
            "sns:publish" => {
                let topic = p
                    .get("TopicArn")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                to = topic.rsplit(':').next().unwrap_or(&topic).to_string();
                match self.deny(&policies, machine, "sns:Publish", &topic) {
                    Some(d) => Err(d),
                    None => {
                        let message = match p.get("Message") {
                            Some(Value::String(s)) => s.clone(),
                            Some(v) => v.to_string(),
                            None => String::new(),
                        };
                        let id = self.id("sns");
                        let attrs = super::sns::attributes_from(p.get("MessageAttributes"));
                        self.publish(
                            &format!("{machine}/{}", call.state),
                            &topic,
                            &message,
                            p.get("Subject").and_then(Value::as_str),
                            &attrs,
                            &id,
                        );
                        Ok(json!({"MessageId": id}))
                    }
                }
            }
            dynamo if dynamo.starts_with("dynamodb:") => {
                let op = dynamo.trim_start_matches("dynamodb:");
                let op = format!("{}{}", op[..1].to_uppercase(), &op[1..]);
                let table = p
                    .get("TableName")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                to = table.clone();
                match self.deny(
                    &policies,
                    machine,
                    &format!("dynamodb:{op}"),
                    &format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"),
                ) {
                    Some(d) => Err(d),
                    None => self
                        .endpoint
                        .dynamodb(&op, p)
                        .map_err(|e| (format!("DynamoDB.{}", e.code), e.message)),
                }
            }
            other => Err((
                "States.Runtime".into(),
                format!("integration `{other}` is not run locally"),
            )),
        };
        let state = call.state.clone();
        let mut h = Hop::new(
            "task",
            format!("{machine}/{state}"),
            &to,
            match (&result, wait) {
                (Err(_), _) => "failed",
                (Ok(_), true) => "waiting for token",
                (Ok(_), false) => "ok",
            },
        );
        h.execution_id = Some(exec.to_string());
        if let Err((e, c)) = &result {
            h.error = Some(format!("{e}: {}", truncate(c)));
        }
        self.hop(h);
        match (result, wait, call.token) {
            (Ok(_), true, Some(token)) => {
                self.tokens.insert(
                    token.clone(),
                    Waiting {
                        exec: exec.to_string(),
                        state,
                    },
                );
                if let Some(t) = call.timeout_secs {
                    self.timer(
                        t * 1000,
                        Timer::TokenTimeout {
                            exec: exec.to_string(),
                            token: token.clone(),
                            error: asl::TIMEOUT,
                        },
                        false,
                    );
                }
                if let Some(hb) = call.heartbeat_secs {
                    self.timer(
                        hb * 1000,
                        Timer::TokenTimeout {
                            exec: exec.to_string(),
                            token,
                            error: asl::HEARTBEAT_TIMEOUT,
                        },
                        false,
                    );
                }
            }
            (r, _, _) => {
                if let Some(e) = self.executions.get_mut(exec) {
                    e.task_done(r);
                }
                self.work.push_back(Work::Step(exec.to_string()));
            }
        }
        Ok(())
    }

    /// A denied call of a state machine's role, as a task error; the hop is traced.
    pub(super) fn deny(
        &mut self,
        policies: &[Value],
        machine: &str,
        action: &str,
        resource: &str,
    ) -> Option<(String, String)> {
        if crate::local::iam::evaluate(policies, action, resource)
            == crate::local::iam::Decision::Allow
        {
            return None;
        }
        let mut h = Hop::new(
            "call",
            machine,
            action.split(':').next().unwrap_or(action),
            "denied",
        );
        h.error = Some(format!("{action} on {resource}"));
        self.hop(h);
        Some((
            "States.TaskFailed".into(),
            format!("AccessDenied: the state machine's role may not {action} on {resource}"),
        ))
    }
}

/// Names of the states (at any depth) whose task waits for a token.
pub(super) fn token_states(definition: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(states) = definition.get("States").and_then(Value::as_object) {
        for (name, s) in states {
            if s.get("Resource")
                .and_then(Value::as_str)
                .is_some_and(|r| r.ends_with(".waitForTaskToken"))
            {
                out.push(name.clone());
            }
            for b in s
                .get("Branches")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.extend(token_states(b));
            }
            if let Some(p) = s.get("ItemProcessor").or_else(|| s.get("Iterator")) {
                out.extend(token_states(p));
            }
        }
    }
    out
}

pub(super) fn parse_rfc3339_ms(s: &str) -> Option<u64> {
    let (date, time) = s.split_once('T')?;
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let time = time.trim_end_matches('Z');
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let t: Vec<i64> = hms
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (y, m, day) = (*d.first()?, *d.get(1)?, *d.get(2)?);
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ms = frac
        .get(..3.min(frac.len()))
        .and_then(|f| format!("{f:0<3}").parse::<i64>().ok())
        .unwrap_or(0);
    u64::try_from(((days * 86_400 + t.first()? * 3600 + t.get(1)? * 60 + t.get(2)?) * 1000) + ms)
        .ok()
}
