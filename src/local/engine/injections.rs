//! Injections: checked whole against the stacks' names first, then applied one by one.

use super::*;

impl<'w> Engine<'w> {
    /// Check every name the injections use before any is applied: bad input fails whole.
    pub fn check(&self, injections: &[Injection]) -> Result<(), EngineError> {
        for (i, inj) in injections.iter().enumerate() {
            let at = |e: EngineError| EngineError::BadInput(format!("entry {i}: {e}"));
            match inj {
                Injection::Queue { name, .. } => self.queue(name).map(|_| ()).map_err(at)?,
                Injection::Bus { name, .. } => self.bus(name).map(|_| ()).map_err(at)?,
                Injection::Topic { name, .. } => self.topic(name).map(|_| ()).map_err(at)?,
                Injection::Table { name, .. } => self.table(name).map(|_| ()).map_err(at)?,
                Injection::Invoke { function, .. } | Injection::Fault { function, .. } => {
                    self.function(function).map(|_| ()).map_err(at)?
                }
                Injection::StartExecution { name, .. } => {
                    self.state_machine(name).map(|_| ()).map_err(at)?
                }
                Injection::Schedule { name } => {
                    let known: Vec<String> = self
                        .world
                        .schedules
                        .iter()
                        .map(|s| (s.stack.clone(), s.logical_id.clone()))
                        .chain(
                            self.world
                                .rules
                                .iter()
                                .filter(|r| r.schedule.is_some())
                                .map(|r| (r.stack.clone(), r.logical_id.clone())),
                        )
                        .filter(|(s, id)| name == id || *name == format!("{s}/{id}"))
                        .map(|(_, id)| id)
                        .collect();
                    if known.is_empty() {
                        let all: Vec<String> = self
                            .world
                            .schedules
                            .iter()
                            .map(|s| format!("{}/{}", s.stack, s.logical_id))
                            .chain(
                                self.world
                                    .rules
                                    .iter()
                                    .filter(|r| r.schedule.is_some())
                                    .map(|r| format!("{}/{}", r.stack, r.logical_id)),
                            )
                            .collect();
                        return Err(at(EngineError::BadInput(format!(
                            "no schedule or scheduled rule named `{name}`; schedules: {}",
                            if all.is_empty() {
                                "none in these stacks".into()
                            } else {
                                all.join(", ")
                            }
                        ))));
                    }
                }
                Injection::TaskToken { state, .. } => {
                    let waits: Vec<String> = self
                        .world
                        .state_machines
                        .iter()
                        .flat_map(|m| token_states(&m.definition))
                        .collect();
                    if !waits.contains(state) {
                        return Err(at(EngineError::BadInput(format!(
                            "no state named `{state}` waits for a task token; such states: {}",
                            if waits.is_empty() {
                                "none in these stacks".into()
                            } else {
                                waits.join(", ")
                            }
                        ))));
                    }
                }
                Injection::Http { api, .. } => {
                    self.api(api.as_deref()).map_err(at)?;
                }
                Injection::Advance { .. } | Injection::Idle => {}
            }
        }
        Ok(())
    }

    /// Apply one injection (`idle` and `advance` run the loop).
    pub fn inject(&mut self, inj: &Injection) -> Result<(), EngineError> {
        match inj {
            Injection::Idle => self.until_idle()?,
            Injection::Advance { millis } => self.advance(*millis)?,
            Injection::Fault { function, times } => {
                let f = self.function(function)?.name.clone();
                *self.faults.entry(f.clone()).or_default() += times;
                self.hop(Hop::new(
                    "inject",
                    "fault",
                    f,
                    &format!("next {times} invocation(s) crash"),
                ));
            }
            Injection::Queue { .. } => self.send_injected(std::slice::from_ref(inj))?,
            Injection::Bus {
                name,
                source,
                detail_type,
                detail,
            } => {
                let bus = self.bus(name)?;
                let event = self.event(source, detail_type, detail.clone(), vec![]);
                let mut h = Hop::new("inject", "inject", &bus, "put");
                h.message_ids = vec![event["id"].as_str().unwrap_or_default().to_string()];
                self.hop(h);
                self.work.push_back(Work::Event {
                    bus,
                    event,
                    from: "inject".into(),
                });
            }
            Injection::Schedule { name } => self.fire_schedule(name)?,
            Injection::Table { name, item } => {
                let table = self.table(name)?;
                let attrs: serde_json::Map<String, Value> = item
                    .iter()
                    .map(|(k, v)| (k.clone(), attribute_value(v)))
                    .collect();
                self.endpoint
                    .dynamodb("PutItem", &json!({"TableName": table, "Item": attrs}))
                    .map_err(|e| EngineError::BadInput(format!("PutItem into {table}: {e}")))?;
                self.hop(Hop::new("inject", "inject", table, "put"));
            }
            Injection::Topic {
                name,
                message,
                subject,
                attributes,
            } => {
                let arn = self.topic(name)?;
                let attrs = attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), crate::local::sns::Attribute::string(v)))
                    .collect();
                let id = self.id("sns");
                self.publish("inject", &arn, message, subject.as_deref(), &attrs, &id);
            }
            Injection::Http {
                api,
                method,
                target,
                headers,
                body,
                auth_valid,
            } => {
                let req = crate::local::http_api::HttpRequest {
                    method: method.clone(),
                    target: target.clone(),
                    headers: headers.clone(),
                    body: body.clone(),
                };
                let auth = if *auth_valid {
                    super::Auth::Valid
                } else {
                    super::Auth::None
                };
                self.http(api.as_deref(), &req, auth, "inject")?;
            }
            Injection::Invoke { function, payload } => {
                let f = self.function(function)?.name.clone();
                self.hop(Hop::new("inject", "inject", &f, "invoke"));
                self.work.push_back(Work::AsyncInvoke {
                    function: f,
                    payload: payload.clone(),
                    from: "inject".into(),
                    attempt: 0,
                });
            }
            Injection::StartExecution { name, input } => {
                let sm = self.state_machine(name)?;
                let (arn, name) = (sm.arn.clone(), sm.name.clone());
                let exec = format!(
                    "{}:{}",
                    arn.replace(":stateMachine:", ":execution:"),
                    self.id("inject")
                );
                self.hop(Hop::new("inject", "inject", name, "start"));
                self.start_execution(&arn, &exec, input.clone(), "inject");
            }
            Injection::TaskToken { state, result } => {
                let token = self
                    .tokens
                    .iter()
                    .find(|(_, w)| &w.state == state)
                    .map(|(t, _)| t.clone());
                match token {
                    Some(t) => self.answer_token(&t, result.clone(), "inject"),
                    None => {
                        let mut h = Hop::new("inject", "inject", state, "unanswered");
                        h.error = Some(format!("no execution is waiting for a task token in state `{state}` (add {{\"idle\": true}} before it if the flow has not reached it yet)"));
                        self.hop(h);
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn find<'a, T>(
        &self,
        kind: &str,
        name: &str,
        items: impl Iterator<Item = (&'a str, &'a str, &'a str, &'a T)>,
    ) -> Result<&'a T, EngineError>
    where
        T: 'a,
    {
        let all: Vec<_> = items.collect();
        let hits: Vec<_> = all
            .iter()
            .filter(|(stack, id, physical, _)| {
                name == format!("{stack}/{id}") || name == *id || name == *physical
            })
            .collect();
        match hits.as_slice() {
            [one] => Ok(one.3),
            [] => Err(EngineError::BadInput(format!(
                "no {kind} named `{name}`; {}: {}",
                plural(kind),
                if all.is_empty() {
                    "none in these stacks".to_string()
                } else {
                    all.iter()
                        .map(|(s, i, _, _)| format!("{s}/{i}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ))),
            many => Err(EngineError::BadInput(format!(
                "`{name}` names more than one {kind}; use one of: {}",
                many.iter()
                    .map(|(s, i, _, _)| format!("{s}/{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    pub(super) fn function(&self, name: &str) -> Result<&'w Function, EngineError> {
        self.find(
            "function",
            name,
            self.world
                .functions
                .iter()
                .map(|f| (f.stack.as_str(), f.logical_id.as_str(), f.name.as_str(), f)),
        )
    }

    pub(super) fn queue(&self, name: &str) -> Result<&'w crate::local::world::Queue, EngineError> {
        self.find(
            "queue",
            name,
            self.world
                .queues
                .iter()
                .map(|q| (q.stack.as_str(), q.logical_id.as_str(), q.name.as_str(), q)),
        )
    }

    pub(super) fn bus(&self, name: &str) -> Result<String, EngineError> {
        if name == "default" {
            return Ok("default".into());
        }
        self.find(
            "event bus",
            name,
            self.world
                .buses
                .iter()
                .map(|b| (b.0.as_str(), b.1.as_str(), b.2.as_str(), &b.2)),
        )
        .cloned()
        .map_err(|e| EngineError::BadInput(format!("{e} (and `default`)")))
    }

    pub(super) fn state_machine(
        &self,
        name: &str,
    ) -> Result<&'w crate::local::world::StateMachine, EngineError> {
        self.find(
            "state machine",
            name,
            self.world
                .state_machines
                .iter()
                .map(|s| (s.stack.as_str(), s.logical_id.as_str(), s.name.as_str(), s)),
        )
    }

    /// Queue injections to one queue (at most 10), sent in one SendMessageBatch.
    pub(super) fn send_injected(&mut self, batch: &[Injection]) -> Result<(), EngineError> {
        let mut entries = Vec::new();
        let mut target = None;
        for (k, inj) in batch.iter().enumerate() {
            let Injection::Queue {
                name,
                body,
                attributes,
            } = inj
            else {
                continue;
            };
            let q = self.queue(name)?;
            target = Some((q.url.clone(), q.name.clone()));
            let mut e = json!({"Id": format!("m{k}"), "MessageBody": body});
            if !attributes.is_empty() {
                let attrs: serde_json::Map<String, Value> = attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), json!({"DataType": "String", "StringValue": v})))
                    .collect();
                e["MessageAttributes"] = Value::Object(attrs);
            }
            entries.push((e, attributes.get("correlationId").cloned()));
        }
        let Some((url, qname)) = target else {
            return Ok(());
        };
        let out = self
            .endpoint
            .sqs("SendMessageBatch", &json!({"QueueUrl": url, "Entries": entries.iter().map(|(e, _)| e).collect::<Vec<_>>()}))
            .map_err(|e| EngineError::Endpoint(e.to_string()))?;
        if let Some(f) = out
            .get("Failed")
            .and_then(Value::as_array)
            .filter(|f| !f.is_empty())
        {
            return Err(EngineError::Endpoint(format!(
                "SendMessageBatch to {qname} failed: {}",
                Value::Array(f.clone())
            )));
        }
        let ids: BTreeMap<String, String> = out
            .get("Successful")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| {
                Some((
                    s.get("Id")?.as_str()?.to_string(),
                    s.get("MessageId")?.as_str()?.to_string(),
                ))
            })
            .collect();
        for (k, (_, corr)) in entries.into_iter().enumerate() {
            let mut h = Hop::new("inject", "inject", &qname, "sent");
            h.message_ids = ids.get(&format!("m{k}")).cloned().into_iter().collect();
            h.correlation_id = corr;
            self.hop(h);
        }
        Ok(())
    }

    /// A topic's ARN by name.
    pub(super) fn topic(&self, name: &str) -> Result<String, EngineError> {
        let by_name: Vec<(String, String, String, String)> = self
            .world
            .topics
            .iter()
            .map(|t| {
                (
                    t.0.clone(),
                    t.1.clone(),
                    t.2.rsplit(':').next().unwrap_or(&t.2).to_string(),
                    t.2.clone(),
                )
            })
            .collect();
        self.find(
            "topic",
            name,
            by_name
                .iter()
                .map(|t| (t.0.as_str(), t.1.as_str(), t.2.as_str(), &t.3)),
        )
        .cloned()
    }

    /// An HTTP API by name; the name may be left out when the stacks have exactly one.
    pub(super) fn api(
        &self,
        name: Option<&str>,
    ) -> Result<&'w crate::local::world::HttpApi, EngineError> {
        let apis = &self.world.http_apis;
        if let Some(name) = name {
            return self.find(
                "HTTP API",
                name,
                apis.iter()
                    .map(|a| (a.stack.as_str(), a.logical_id.as_str(), a.name.as_str(), a)),
            );
        }
        match apis.as_slice() {
            [one] => Ok(one),
            [] => Err(EngineError::BadInput(
                "there is no HTTP API in these stacks".into(),
            )),
            many => Err(EngineError::BadInput(format!(
                "name the API with \"api\"; APIs: {}",
                many.iter()
                    .map(|a| format!("{}/{}", a.stack, a.logical_id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// A table's physical name by name.
    pub(super) fn table(&self, name: &str) -> Result<String, EngineError> {
        self.find(
            "table",
            name,
            self.world.tables.iter().map(|t| {
                (
                    t.stack.as_str(),
                    t.logical_id.as_str(),
                    t.name.as_str(),
                    &t.name,
                )
            }),
        )
        .cloned()
    }
}

/// `event buses`, `queues`, `HTTP APIs`.
fn plural(kind: &str) -> String {
    if kind.ends_with('s') {
        format!("{kind}es")
    } else {
        format!("{kind}s")
    }
}
/// A plain JSON value as a DynamoDB attribute value.
fn attribute_value(v: &Value) -> Value {
    match v {
        Value::String(s) => json!({"S": s}),
        Value::Number(n) => json!({"N": n.to_string()}),
        Value::Bool(b) => json!({"BOOL": b}),
        Value::Null => json!({"NULL": true}),
        Value::Array(a) => json!({"L": a.iter().map(attribute_value).collect::<Vec<_>>()}),
        Value::Object(m) => {
            json!({"M": m.iter().map(|(k, v)| (k.clone(), attribute_value(v))).collect::<serde_json::Map<_, _>>()})
        }
    }
}
