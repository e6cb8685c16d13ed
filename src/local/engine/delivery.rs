//! Delivery between resources: EventBridge routing and targets, asynchronous invocation
//! with its retries and destinations, schedules.

use super::*;

impl Engine<'_> {
    pub(super) fn route(&mut self, bus: &str, event: Value, from: &str) -> Result<(), EngineError> {
        let bus_arn = format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{bus}");
        let id = event["id"].as_str().unwrap_or_default().to_string();
        for a in &self.world.archives {
            if a.bus_arn == bus_arn
                && a.pattern
                    .as_ref()
                    .is_none_or(|p| pattern::matches(p, &event).unwrap_or(false))
            {
                let mut h = Hop::new("archive", bus, &a.logical_id, "recorded");
                h.message_ids = vec![id.clone()];
                self.hop(h);
            }
        }
        let mut matched = false;
        for rule in self
            .world
            .rules
            .iter()
            .filter(|r| r.bus == bus && r.enabled)
        {
            let Some(p) = &rule.pattern else { continue };
            match pattern::matches(p, &event) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    let mut h = Hop::new("rule", bus, &rule.logical_id, "failed");
                    h.error = Some(e.to_string());
                    self.hop(h);
                    continue;
                }
            }
            matched = true;
            let mut h = Hop::new("rule", bus, &rule.logical_id, "matched");
            h.message_ids = vec![id.clone()];
            h.correlation_id = correlation(&event["detail"]);
            self.hop(h);
            for t in &rule.targets {
                let input = target_input(t, &event);
                self.work.push_back(Work::Target {
                    from: rule.logical_id.clone(),
                    target: t.clone(),
                    input,
                    attempt: 0,
                    first_ms: self.clock,
                });
            }
        }
        if !matched {
            let mut h = Hop::new("rule", bus, "(no rule)", "unmatched");
            h.message_ids = vec![id];
            h.detail = Some(format!("from {from}"));
            self.hop(h);
        }
        Ok(())
    }

    pub(super) fn deliver(
        &mut self,
        from: &str,
        t: &RuleTarget,
        input: Value,
        attempt: u32,
        first_ms: u64,
    ) -> Result<(), EngineError> {
        let arn = t.arn.as_str();
        let outcome: Result<String, String> = if arn.contains(":function:") {
            let name = arn.rsplit(':').next().unwrap_or(arn).to_string();
            match self.function(&name) {
                Ok(_) => {
                    self.work.push_back(Work::AsyncInvoke {
                        function: name.clone(),
                        payload: input.clone(),
                        from: from.to_string(),
                        attempt: 0,
                    });
                    Ok(name)
                }
                Err(e) => Err(e.to_string()),
            }
        } else if arn.starts_with("arn:aws:sqs:") {
            let name = arn.rsplit(':').next().unwrap_or(arn).to_string();
            self.send(&name, &input).map(|_| name)
        } else if arn.contains(":stateMachine:") {
            let exec = format!(
                "{}:{}",
                arn.replace(":stateMachine:", ":execution:"),
                self.id("run")
            );
            self.start_execution(arn, &exec, input.clone(), from);
            Ok(arn.rsplit(':').next().unwrap_or(arn).to_string())
        } else if arn.starts_with("arn:aws:sns:") {
            let id = self.id("sns");
            let text = match &input {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            self.publish(from, arn, &text, None, &Default::default(), &id);
            Ok(arn.rsplit(':').next().unwrap_or(arn).to_string())
        } else if arn.contains(":event-bus/") {
            let bus = arn.rsplit('/').next().unwrap_or(arn).to_string();
            self.work.push_back(Work::Event {
                bus: bus.clone(),
                event: input.clone(),
                from: from.to_string(),
            });
            Ok(bus)
        } else {
            Err(format!("the local engine does not deliver to {arn}"))
        };
        match outcome {
            Ok(to) => {
                let mut h = Hop::new("target", from, to, "delivered");
                h.correlation_id = correlation(&input);
                h.message_ids = ids_of(&input);
                self.hop(h);
            }
            Err(e) => {
                let age = (self.clock - first_ms) / 1000;
                if attempt < t.max_retries && age < t.max_age_secs {
                    let mut h = Hop::new("target", from, arn, "retry");
                    h.error = Some(e);
                    self.hop(h);
                    let delay = 1000 * 2u64.pow(attempt.min(8));
                    self.timer(
                        delay,
                        Timer::Work(Work::Target {
                            from: from.to_string(),
                            target: t.clone(),
                            input,
                            attempt: attempt + 1,
                            first_ms,
                        }),
                        true,
                    );
                } else {
                    let mut h = Hop::new("target", from, arn, "failed");
                    h.error = Some(e.clone());
                    self.hop(h);
                    if let Some(dlq) = &t.dead_letter_arn {
                        let name = dlq.rsplit(':').next().unwrap_or(dlq).to_string();
                        self.send(&name, &input).map_err(EngineError::Endpoint)?;
                        let mut d = Hop::new("destination", from, name, "dead-lettered");
                        d.message_ids = ids_of(&input);
                        self.hop(d);
                    }
                }
            }
        }
        Ok(())
    }

    /// SendMessage of a JSON value (strings as they are) to a queue by name.
    pub(super) fn send(&mut self, queue: &str, body: &Value) -> Result<String, String> {
        self.send_with(queue, body, None)
    }

    /// SendMessage with message attributes (`{name: {DataType, StringValue}}`).
    pub(super) fn send_with(
        &mut self,
        queue: &str,
        body: &Value,
        attributes: Option<Value>,
    ) -> Result<String, String> {
        let url = self
            .world
            .queues
            .iter()
            .find(|q| q.name == queue)
            .map(|q| q.url.clone())
            .ok_or_else(|| format!("no queue `{queue}` in the stacks run"))?;
        let text = match body {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let mut req = json!({"QueueUrl": url, "MessageBody": text});
        if let Some(a) = attributes.filter(|a| a.as_object().is_some_and(|m| !m.is_empty())) {
            req["MessageAttributes"] = a;
        }
        self.endpoint
            .sqs("SendMessage", &req)
            .map(|o| {
                o.get("MessageId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            })
            .map_err(|e| e.to_string())
    }

    pub(super) fn invoke_async(
        &mut self,
        name: &str,
        payload: Value,
        from: &str,
        attempt: u32,
    ) -> Result<(), EngineError> {
        let f = self.function(name)?;
        let config = self
            .world
            .invoke_configs
            .get(&f.name)
            .cloned()
            .unwrap_or_default();
        let result = self.run_function(f, &payload);
        let mut h = Hop::new(
            "invoke",
            from,
            &f.name,
            if result.is_ok() { "ok" } else { "failed" },
        );
        h.correlation_id = correlation(&payload).or_else(|| correlation(&payload["detail"]));
        h.message_ids = ids_of(&payload);
        if attempt > 0 {
            h.detail = Some(format!("retry {attempt} of {}", config.max_retries));
        }
        match &result {
            Ok(_) => {
                self.hop(h);
                if let Some(dest) = &config.on_success {
                    self.destination(f, dest, &payload, &result, attempt, "Success")?;
                }
            }
            Err((ty, msg)) => {
                h.error = Some(format!("{ty}: {msg}"));
                self.hop(h);
                if attempt < config.max_retries {
                    // Lambda waits about a minute, then two, between attempts.
                    let delay = 60_000 * u64::from(attempt + 1);
                    self.timer(
                        delay,
                        Timer::Work(Work::AsyncInvoke {
                            function: f.name.clone(),
                            payload,
                            from: from.to_string(),
                            attempt: attempt + 1,
                        }),
                        true,
                    );
                } else if let Some(dest) = &config.on_failure {
                    self.destination(f, dest, &payload, &result, attempt, "RetriesExhausted")?;
                }
            }
        }
        Ok(())
    }

    /// An on-success or on-failure destination gets Lambda's invocation record.
    pub(super) fn destination(
        &mut self,
        f: &Function,
        dest: &str,
        payload: &Value,
        result: &Result<Value, (String, String)>,
        attempt: u32,
        condition: &str,
    ) -> Result<(), EngineError> {
        let record = json!({
            "version": "1.0", "timestamp": rfc3339_ms(self.clock),
            "requestContext": {"requestId": self.id("request"), "functionArn": format!("{}:$LATEST", f.arn), "condition": condition, "approximateInvokeCount": attempt + 1},
            "requestPayload": payload,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": if result.is_err() { Some("Unhandled") } else { None }},
            "responsePayload": match result { Ok(v) => v.clone(), Err((t, m)) => json!({"errorType": t, "errorMessage": m}) }
        });
        let to = if dest.starts_with("arn:aws:sqs:") {
            let name = dest.rsplit(':').next().unwrap_or(dest).to_string();
            self.send(&name, &record).map_err(EngineError::Endpoint)?;
            name
        } else if dest.contains(":event-bus/") {
            let bus = dest.rsplit('/').next().unwrap_or(dest).to_string();
            let detail_type = if condition == "Success" {
                "Lambda Function Invocation Result - Success"
            } else {
                "Lambda Function Invocation Result - Failure"
            };
            let event = self.event("lambda", detail_type, record, vec![f.arn.clone()]);
            self.work.push_back(Work::Event {
                bus: bus.clone(),
                event,
                from: f.name.clone(),
            });
            bus
        } else if dest.starts_with("arn:aws:sns:") {
            let id = self.id("sns");
            self.publish(
                &f.name,
                dest,
                &record.to_string(),
                None,
                &Default::default(),
                &id,
            );
            dest.rsplit(':').next().unwrap_or(dest).to_string()
        } else if dest.contains(":function:") {
            let g = dest.rsplit(':').next().unwrap_or(dest).to_string();
            self.work.push_back(Work::AsyncInvoke {
                function: g.clone(),
                payload: record,
                from: f.name.clone(),
                attempt: 0,
            });
            g
        } else {
            let mut h = Hop::new("destination", &f.name, dest, "failed");
            h.error = Some(
                "the local engine delivers destinations to SQS, EventBridge and Lambda".into(),
            );
            self.hop(h);
            return Ok(());
        };
        let mut d = Hop::new(
            "destination",
            &f.name,
            to,
            if condition == "Success" {
                "on-success"
            } else {
                "on-failure"
            },
        );
        d.message_ids = ids_of(payload);
        self.hop(d);
        Ok(())
    }

    pub(super) fn fire_schedule(&mut self, name: &str) -> Result<(), EngineError> {
        let schedules: Vec<(String, String, RuleTarget)> = self
            .world
            .schedules
            .iter()
            .map(|s| (s.stack.clone(), s.logical_id.clone(), s.target.clone()))
            .chain(
                self.world
                    .rules
                    .iter()
                    .filter(|r| r.schedule.is_some())
                    .flat_map(|r| {
                        r.targets
                            .iter()
                            .map(move |t| (r.stack.clone(), r.logical_id.clone(), t.clone()))
                    }),
            )
            .collect();
        let hits: Vec<_> = schedules
            .iter()
            .filter(|(s, id, _)| name == id || name == format!("{s}/{id}"))
            .cloned()
            .collect();
        if hits.is_empty() {
            return Err(EngineError::BadInput(format!(
                "no schedule or scheduled rule named `{name}`; schedules: {}",
                if schedules.is_empty() {
                    "none in these stacks".into()
                } else {
                    schedules
                        .iter()
                        .map(|(s, i, _)| format!("{s}/{i}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )));
        }
        for (_, id, t) in hits {
            self.hop(Hop::new("schedule", "clock", &id, "fired"));
            let input = match &t.input {
                Some(i) => serde_json::from_str(i).unwrap_or(Value::String(i.clone())),
                None => {
                    let e = self.event("aws.scheduler", "Scheduled Event", json!({}), vec![]);
                    target_input(&t, &e)
                }
            };
            self.work.push_back(Work::Target {
                from: id.clone(),
                target: t,
                input,
                attempt: 0,
                first_ms: self.clock,
            });
        }
        Ok(())
    }

    /// Fire `rate(...)` schedules whose period boundaries fall in (from, to].
    pub(super) fn fire_rate_schedules(&mut self, from: u64, to: u64) -> Result<(), EngineError> {
        let start = self.opts.start_ms;
        let mut due = Vec::new();
        let exprs = self
            .world
            .schedules
            .iter()
            .map(|s| (s.logical_id.clone(), s.expression.clone()))
            .chain(
                self.world
                    .rules
                    .iter()
                    .filter_map(|r| r.schedule.clone().map(|e| (r.logical_id.clone(), e))),
            );
        for (id, expr) in exprs {
            if let Some(period) = rate_ms(&expr) {
                let fired = (to - start) / period - (from - start) / period;
                for _ in 0..fired.min(100) {
                    due.push(id.clone());
                }
            }
        }
        for id in due {
            self.fire_schedule(&id)?;
        }
        Ok(())
    }
}

pub(super) fn target_input(t: &RuleTarget, event: &Value) -> Value {
    if let Some(i) = &t.input {
        return serde_json::from_str(i).unwrap_or(Value::String(i.clone()));
    }
    if let Some(p) = &t.input_path {
        return select(event, p).unwrap_or(Value::Null);
    }
    if let Some((paths, template)) = &t.transformer {
        return transform(event, paths, template);
    }
    event.clone()
}

pub(super) fn rate_ms(expr: &str) -> Option<u64> {
    let inner = expr.strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.split_once(' ')?;
    let n: u64 = n.parse().ok()?;
    let unit_ms = match unit.trim_end_matches('s') {
        "minute" => 60_000,
        "hour" => 3_600_000,
        "day" => 86_400_000,
        _ => return None,
    };
    Some(n * unit_ms).filter(|p| *p > 0)
}

/// The IDs a payload carries, so `local trace` can follow it: an EventBridge event's `id`,
/// an SNS message's `MessageId`.
pub(super) fn ids_of(payload: &Value) -> Vec<String> {
    if payload.get("detail-type").is_some() {
        if let Some(id) = payload.get("id").and_then(Value::as_str) {
            return vec![id.to_string()];
        }
    }
    if let Some(id) = payload
        .pointer("/Records/0/Sns/MessageId")
        .and_then(Value::as_str)
    {
        return vec![id.to_string()];
    }
    Vec::new()
}
