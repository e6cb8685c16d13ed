//! Running a function: its handler binary behind the emulated Runtime API, with the
//! environment the proxy needs to tell it apart; and the calls functions hand the engine.

use super::*;

impl Engine<'_> {
    /// Run a function on an event: its response, or (error type, message).
    pub(super) fn run_function(
        &mut self,
        f: &Function,
        event: &Value,
    ) -> Result<Value, (String, String)> {
        if let Some(n) = self.faults.get_mut(&f.name).filter(|n| **n > 0) {
            *n -= 1;
            return Err((
                "Runtime.ExitError".into(),
                "injected fault: the function crashed".into(),
            ));
        }
        let Some(bin) = self.opts.binaries.get(&f.handler_crate) else {
            return Err((
                "Runtime.InvalidEntrypoint".into(),
                format!("no binary for handler crate {}", f.handler_crate),
            ));
        };
        let mut env = f.env.clone();
        env.extend([
            (
                "AWS_ENDPOINT_URL".to_string(),
                self.opts.proxy_endpoint.clone(),
            ),
            ("AWS_ACCESS_KEY_ID".to_string(), access_key(f)),
            ("AWS_SECRET_ACCESS_KEY".to_string(), "local".to_string()),
            ("AWS_EC2_METADATA_DISABLED".to_string(), "true".to_string()),
            ("AWS_CONFIG_FILE".to_string(), "/dev/null".to_string()),
            (
                "AWS_SHARED_CREDENTIALS_FILE".to_string(),
                "/dev/null".to_string(),
            ),
            ("AWS_MAX_ATTEMPTS".to_string(), "2".to_string()),
            (
                "RUST_LOG".to_string(),
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            ),
        ]);
        let body = event.to_string();
        let began = Instant::now();
        // Never past the run's own bound (--timeout): a hung handler cannot hang the run.
        let budget = self.opts.timeout.saturating_sub(self.started.elapsed());
        if budget.is_zero() {
            return Err((
                "Sandbox.Timedout".into(),
                "not run: the run's --timeout ran out".into(),
            ));
        }
        let limit = Duration::from_secs(f.timeout_secs).min(budget.max(Duration::from_millis(1)));
        let result = invoke(
            bin,
            &Invocation {
                function_name: &f.name,
                memory_mb: f.memory_mb,
                timeout: limit,
                env,
                event: body.as_bytes(),
                inherit_env: false,
            },
        );
        self.handler_time += began.elapsed();
        match result {
            Ok(Outcome::Response(r)) => Ok(serde_json::from_str(&r).unwrap_or(Value::String(r))),
            Ok(Outcome::Error(e)) | Ok(Outcome::InitError(e)) => {
                let v: Value = serde_json::from_str(&e).unwrap_or(Value::Null);
                let ty = v
                    .get("errorType")
                    .and_then(Value::as_str)
                    .unwrap_or("Unhandled")
                    .to_string();
                let msg = v
                    .get("errorMessage")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or(e);
                Err((ty, msg))
            }
            Err(crate::invoke::InvokeError::Timeout(_))
                if limit < Duration::from_secs(f.timeout_secs) =>
            {
                Err((
                    "Sandbox.Timedout".into(),
                    "stopped: the run's --timeout ran out while the handler was running".into(),
                ))
            }
            Err(crate::invoke::InvokeError::Timeout(d)) => Err((
                "Sandbox.Timedout".into(),
                format!("Task timed out after {:.2} seconds", d.as_secs_f64()),
            )),
            Err(e) => Err(("Runtime.ExitError".into(), e.to_string())),
        }
    }

    pub(super) fn drain_proxy(&mut self) {
        let hops: Vec<Hop> = self
            .shared
            .hops
            .lock()
            .map(|mut h| std::mem::take(&mut *h))
            .unwrap_or_default();
        for h in hops {
            self.hop(h);
        }
        let calls: Vec<EngineCall> = self
            .shared
            .calls
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default();
        for c in calls {
            match c {
                EngineCall::PutEvent {
                    caller,
                    bus,
                    source,
                    detail_type,
                    detail,
                    resources,
                    trace_header,
                } => {
                    let event = self.event(&source, &detail_type, detail, resources);
                    let mut h = Hop::new("call", &caller, &bus, "put");
                    h.message_ids = vec![event["id"].as_str().unwrap_or_default().to_string()];
                    h.correlation_id = correlation(&event["detail"]);
                    h.detail = trace_header
                        .map(|t| format!("PutEvents {detail_type}; trace {t}"))
                        .or(Some(format!("PutEvents {detail_type}")));
                    self.hop(h);
                    self.work.push_back(Work::Event {
                        bus,
                        event,
                        from: caller,
                    });
                }
                EngineCall::StartExecution {
                    caller,
                    state_machine_arn,
                    execution_arn,
                    input,
                } => {
                    self.start_execution(&state_machine_arn, &execution_arn, input, &caller);
                }
                EngineCall::TaskResult {
                    caller,
                    token,
                    result,
                } => self.answer_token(&token, result, &caller),
                EngineCall::Publish {
                    caller,
                    topic_arn,
                    message,
                    subject,
                    attributes,
                    message_id,
                } => {
                    let attrs = attributes
                        .into_iter()
                        .map(|(n, t, v)| {
                            (
                                n,
                                crate::local::sns::Attribute {
                                    data_type: t,
                                    value: v,
                                },
                            )
                        })
                        .collect();
                    self.publish(
                        &caller,
                        &topic_arn,
                        &message,
                        subject.as_deref(),
                        &attrs,
                        &message_id,
                    );
                }
                EngineCall::InvokeAsync {
                    caller,
                    function,
                    payload,
                } => {
                    self.work.push_back(Work::AsyncInvoke {
                        function,
                        payload,
                        from: caller,
                        attempt: 0,
                    });
                }
            }
        }
    }
}

/// The access key ID a function's SDK signs with: the proxy tells callers apart by it.
pub fn access_key(f: &Function) -> String {
    format!(
        "LOCAL{}",
        f.name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
    )
}

/// The correlation ID a payload carries, by the names the handlers use.
pub fn correlation(v: &Value) -> Option<String> {
    ["correlationId", "correlation_id"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
}
