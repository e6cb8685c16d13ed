//! The event loop: injections in, deliveries out, on a virtual clock.
//!
//! One loop, one thing at a time: pending work first (events to route, targets to deliver,
//! asynchronous invocations, execution steps), then one poll of each consumed queue; when
//! nothing is runnable the clock jumps to the next timer (a message becoming visible again, a
//! retry delay, a Wait state). Idle is: no work, nothing visible on a consumed queue, no timer
//! that the flow itself is waiting on (task-token timeouts and schedules only fire when the
//! clock is advanced on purpose).

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::asl::{self, Action, Execution};
use super::inject::Injection;
use super::input::{select, transform};
use super::moto::Endpoint;
use super::pattern;
use super::proxy::{EngineCall, Principal, Shared};
use super::resolve::{ACCOUNT, REGION};
use super::trace::{rfc3339_ms, Hop};
use super::world::{Function, RuleTarget, World};
use crate::invoke::{invoke, Invocation, Outcome};

/// Why the engine stopped before the flow was idle.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the run did not become idle within {0:?} (--timeout); the trace so far is kept")]
    Timeout(Duration),
    #[error("the local endpoint failed: {0}")]
    Endpoint(String),
    #[error("{0}")]
    BadInput(String),
}

/// How to run.
pub struct Options {
    /// Handler crate -> its built binary.
    pub binaries: BTreeMap<String, PathBuf>,
    /// The proxy's endpoint, given to every function as `AWS_ENDPOINT_URL`.
    pub proxy_endpoint: String,
    /// Wall-clock bound of the whole run.
    pub timeout: Duration,
    /// The virtual clock's start (ms since the epoch).
    pub start_ms: u64,
}

enum Work {
    Event {
        bus: String,
        event: Value,
        from: String,
    },
    Target {
        from: String,
        target: RuleTarget,
        input: Value,
        attempt: u32,
        first_ms: u64,
    },
    AsyncInvoke {
        function: String,
        payload: Value,
        from: String,
        attempt: u32,
    },
    Step(String),
}

enum Timer {
    Visible {
        queue_url: String,
        queue: String,
        receipt: String,
        message_id: String,
        redrive_to: Option<String>,
    },
    Work(Work),
    WaitDone(String),
    TokenTimeout {
        exec: String,
        token: String,
        error: &'static str,
    },
}

struct Waiting {
    exec: String,
    state: String,
}

/// The engine over one deployed world.
pub struct Engine<'w> {
    world: &'w World,
    endpoint: Endpoint,
    shared: Arc<Shared>,
    opts: Options,
    clock: u64,
    seq: u64,
    /// (due, seq) -> (timer, counts for idleness)
    timers: BTreeMap<(u64, u64), (Timer, bool)>,
    work: VecDeque<Work>,
    hops: Vec<Hop>,
    sink: Box<dyn FnMut(&Hop) + 'w>,
    faults: BTreeMap<String, u32>,
    executions: BTreeMap<String, Execution>,
    tokens: BTreeMap<String, Waiting>,
    started: Instant,
    ids: u64,
}

impl<'w> Engine<'w> {
    /// An engine; `sink` sees every hop as it happens.
    pub fn new(
        world: &'w World,
        endpoint: Endpoint,
        shared: Arc<Shared>,
        opts: Options,
        sink: Box<dyn FnMut(&Hop) + 'w>,
    ) -> Engine<'w> {
        if let Ok(mut p) = shared.principals.lock() {
            for f in &world.functions {
                p.insert(
                    access_key(f),
                    Principal {
                        name: f.name.clone(),
                        role_arn: f.role_arn.clone(),
                        policies: f.policies.clone(),
                    },
                );
            }
        }
        Engine {
            world,
            endpoint,
            shared,
            clock: opts.start_ms,
            opts,
            seq: 0,
            timers: BTreeMap::new(),
            work: VecDeque::new(),
            hops: Vec::new(),
            sink,
            faults: BTreeMap::new(),
            executions: BTreeMap::new(),
            tokens: BTreeMap::new(),
            started: Instant::now(),
            ids: 0,
        }
    }

    /// The trace so far.
    pub fn hops(&self) -> &[Hop] {
        &self.hops
    }

    fn id(&mut self, prefix: &str) -> String {
        self.ids += 1;
        format!("{prefix}-{:08}", self.ids)
    }

    fn hop(&mut self, mut h: Hop) {
        self.seq += 1;
        h.seq = self.seq;
        h.time = rfc3339_ms(self.clock);
        (self.sink)(&h);
        self.hops.push(h);
    }

    fn timer(&mut self, after_ms: u64, t: Timer, counts: bool) {
        self.seq += 1;
        self.timers
            .insert((self.clock + after_ms, self.seq), (t, counts));
    }

    fn check_wall(&self) -> Result<(), EngineError> {
        if self.started.elapsed() > self.opts.timeout {
            return Err(EngineError::Timeout(self.opts.timeout));
        }
        Ok(())
    }

    /// Apply the injections in order, then run until idle.
    pub fn run(&mut self, injections: &[Injection]) -> Result<(), EngineError> {
        for inj in injections {
            self.inject(inj)?;
        }
        self.until_idle()
    }

    /// Check every name the injections use before any is applied: bad input fails whole.
    pub fn check(&self, injections: &[Injection]) -> Result<(), EngineError> {
        for (i, inj) in injections.iter().enumerate() {
            let at = |e: EngineError| EngineError::BadInput(format!("entry {i}: {e}"));
            match inj {
                Injection::Queue { name, .. } => self.queue(name).map(|_| ()).map_err(at)?,
                Injection::Bus { name, .. } => self.bus(name).map(|_| ()).map_err(at)?,
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
            Injection::Queue {
                name,
                body,
                attributes,
            } => {
                let q = self.queue(name)?;
                let (url, qname) = (q.url.clone(), q.name.clone());
                let attrs: serde_json::Map<String, Value> = attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), json!({"DataType": "String", "StringValue": v})))
                    .collect();
                let mut req = json!({"QueueUrl": url, "MessageBody": body});
                if !attrs.is_empty() {
                    req["MessageAttributes"] = Value::Object(attrs);
                }
                let out = self
                    .endpoint
                    .sqs("SendMessage", &req)
                    .map_err(|e| EngineError::Endpoint(e.to_string()))?;
                let mut h = Hop::new("inject", "inject", qname, "sent");
                h.message_ids = out
                    .get("MessageId")
                    .and_then(Value::as_str)
                    .map(|m| vec![m.to_string()])
                    .unwrap_or_default();
                h.correlation_id = attributes.get("correlationId").cloned();
                self.hop(h);
            }
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

    fn find<'a, T>(
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
                "no {kind} named `{name}`; {kind}s: {}",
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

    fn function(&self, name: &str) -> Result<&'w Function, EngineError> {
        self.find(
            "function",
            name,
            self.world
                .functions
                .iter()
                .map(|f| (f.stack.as_str(), f.logical_id.as_str(), f.name.as_str(), f)),
        )
    }

    fn queue(&self, name: &str) -> Result<&'w super::world::Queue, EngineError> {
        self.find(
            "queue",
            name,
            self.world
                .queues
                .iter()
                .map(|q| (q.stack.as_str(), q.logical_id.as_str(), q.name.as_str(), q)),
        )
    }

    fn bus(&self, name: &str) -> Result<String, EngineError> {
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
    }

    fn state_machine(&self, name: &str) -> Result<&'w super::world::StateMachine, EngineError> {
        self.find(
            "state machine",
            name,
            self.world
                .state_machines
                .iter()
                .map(|s| (s.stack.as_str(), s.logical_id.as_str(), s.name.as_str(), s)),
        )
    }

    fn event(
        &mut self,
        source: &str,
        detail_type: &str,
        detail: Value,
        resources: Vec<String>,
    ) -> Value {
        json!({
            "version": "0", "id": self.id("event"), "detail-type": detail_type, "source": source,
            "account": ACCOUNT, "time": rfc3339_ms(self.clock / 1000 * 1000).replace(".000Z", "Z"), "region": REGION,
            "resources": resources, "detail": detail
        })
    }

    /// Run until nothing is in flight.
    pub fn until_idle(&mut self) -> Result<(), EngineError> {
        loop {
            self.check_wall()?;
            if self.tick()? {
                continue;
            }
            // Nothing runnable now: jump to the next timer the flow waits on.
            let Some(key) = self
                .timers
                .iter()
                .find(|(_, (_, counts))| *counts)
                .map(|(k, _)| *k)
            else {
                return Ok(());
            };
            self.fire_timers_until(key.0)?;
        }
    }

    /// Move the clock by `ms`, running everything that falls due on the way.
    pub fn advance(&mut self, ms: u64) -> Result<(), EngineError> {
        let target = self.clock + ms;
        let from = self.clock;
        loop {
            self.check_wall()?;
            if self.tick()? {
                continue;
            }
            match self.timers.keys().next().copied() {
                Some((due, _)) if due <= target => self.fire_timers_until(due)?,
                _ => break,
            }
        }
        self.clock = target;
        self.fire_rate_schedules(from, target)?;
        let mut h = Hop::new("inject", "advance", "clock", "moved");
        h.detail = Some(format!("{} s", ms as f64 / 1000.0));
        self.hop(h);
        self.until_idle()
    }

    fn fire_timers_until(&mut self, due: u64) -> Result<(), EngineError> {
        self.clock = self.clock.max(due);
        let ready: Vec<(u64, u64)> = self
            .timers
            .keys()
            .filter(|(d, _)| *d <= due)
            .copied()
            .collect();
        for k in ready {
            if let Some((t, _)) = self.timers.remove(&k) {
                self.fire(t)?;
            }
        }
        Ok(())
    }

    fn fire(&mut self, t: Timer) -> Result<(), EngineError> {
        match t {
            Timer::Visible {
                queue_url,
                queue,
                receipt,
                message_id,
                redrive_to,
            } => {
                self.endpoint
                    .sqs("ChangeMessageVisibility", &json!({"QueueUrl": queue_url, "ReceiptHandle": receipt, "VisibilityTimeout": 0}))
                    .map_err(|e| EngineError::Endpoint(e.to_string()))?;
                if let Some(dlq) = redrive_to {
                    // The endpoint moves it on the next receive, as SQS does.
                    let mut h = Hop::new("redrive", queue, dlq, "moved");
                    h.message_ids = vec![message_id];
                    h.detail = Some("maxReceiveCount reached".into());
                    self.hop(h);
                }
            }
            Timer::Work(w) => self.work.push_back(w),
            Timer::WaitDone(exec) => {
                if let Some(e) = self.executions.get_mut(&exec) {
                    e.wait_done();
                }
                self.work.push_back(Work::Step(exec));
            }
            Timer::TokenTimeout { exec, token, error } => {
                if self.tokens.remove(&token).is_some() {
                    if let Some(e) = self.executions.get_mut(&exec) {
                        e.task_done(Err((
                            error.to_string(),
                            "the task token was not answered in time".into(),
                        )));
                    }
                    self.work.push_back(Work::Step(exec));
                }
            }
        }
        Ok(())
    }

    /// One unit of progress; false when nothing was runnable.
    fn tick(&mut self) -> Result<bool, EngineError> {
        self.drain_proxy();
        if let Some(w) = self.work.pop_front() {
            self.perform(w)?;
            return Ok(true);
        }
        let mut any = false;
        for i in 0..self.world.sqs_sources.len() {
            if self.world.sqs_sources[i].enabled {
                any |= self.poll(i)?;
            }
        }
        Ok(any)
    }

    fn drain_proxy(&mut self) {
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

    fn perform(&mut self, w: Work) -> Result<(), EngineError> {
        match w {
            Work::Event { bus, event, from } => self.route(&bus, event, &from),
            Work::Target {
                from,
                target,
                input,
                attempt,
                first_ms,
            } => self.deliver(&from, &target, input, attempt, first_ms),
            Work::AsyncInvoke {
                function,
                payload,
                from,
                attempt,
            } => self.invoke_async(&function, payload, &from, attempt),
            Work::Step(exec) => self.step(&exec),
        }
    }

    fn route(&mut self, bus: &str, event: Value, from: &str) -> Result<(), EngineError> {
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

    fn deliver(
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
                        self.hop(Hop::new("destination", from, name, "dead-lettered"));
                    }
                }
            }
        }
        Ok(())
    }

    /// SendMessage of a JSON value (strings as they are) to a queue by name.
    fn send(&mut self, queue: &str, body: &Value) -> Result<String, String> {
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
        self.endpoint
            .sqs(
                "SendMessage",
                &json!({"QueueUrl": url, "MessageBody": text}),
            )
            .map(|o| {
                o.get("MessageId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            })
            .map_err(|e| e.to_string())
    }

    /// Run a function on an event: its response, or (error type, message).
    fn run_function(&mut self, f: &Function, event: &Value) -> Result<Value, (String, String)> {
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
        let result = invoke(
            bin,
            &Invocation {
                function_name: &f.name,
                memory_mb: f.memory_mb,
                timeout: Duration::from_secs(f.timeout_secs),
                env,
                event: body.as_bytes(),
                inherit_env: false,
            },
        );
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
            Err(crate::invoke::InvokeError::Timeout(d)) => Err((
                "Sandbox.Timedout".into(),
                format!("Task timed out after {:.2} seconds", d.as_secs_f64()),
            )),
            Err(e) => Err(("Runtime.ExitError".into(), e.to_string())),
        }
    }

    fn invoke_async(
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
    fn destination(
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
        self.hop(Hop::new(
            "destination",
            &f.name,
            to,
            if condition == "Success" {
                "on-success"
            } else {
                "on-failure"
            },
        ));
        Ok(())
    }

    fn fire_schedule(&mut self, name: &str) -> Result<(), EngineError> {
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
    fn fire_rate_schedules(&mut self, from: u64, to: u64) -> Result<(), EngineError> {
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

    fn poll(&mut self, i: usize) -> Result<bool, EngineError> {
        let src = &self.world.sqs_sources[i];
        let Some(q) = self.world.queues.iter().find(|q| q.arn == src.queue_arn) else {
            return Ok(false);
        };
        let out = self
            .endpoint
            .sqs(
                "ReceiveMessage",
                &json!({"QueueUrl": q.url, "MaxNumberOfMessages": src.batch_size.clamp(1, 10), "VisibilityTimeout": 43_200, "WaitTimeSeconds": 0,
                        "AttributeNames": ["All"], "MessageSystemAttributeNames": ["All"], "MessageAttributeNames": ["All"]}),
            )
            .map_err(|e| EngineError::Endpoint(e.to_string()))?;
        let messages: Vec<Value> = out
            .get("Messages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if messages.is_empty() {
            return Ok(false);
        }
        let f = self.function(&src.function)?;
        let mut records = Vec::new();
        let mut filtered = Vec::new();
        for m in &messages {
            let record = sqs_record(m, &q.arn);
            let keep = src.filters.is_empty()
                || src
                    .filters
                    .iter()
                    .any(|p| pattern::matches(p, &filter_view(&record)).unwrap_or(false));
            if keep {
                records.push(record);
            } else {
                filtered.push(m.clone());
            }
        }
        for m in &filtered {
            // Lambda deletes messages its filters drop.
            self.delete(&q.url, m)?;
            let mut h = Hop::new("esm", &q.name, &f.name, "filtered");
            h.message_ids = vec![m["MessageId"].as_str().unwrap_or_default().to_string()];
            self.hop(h);
        }
        if records.is_empty() {
            return Ok(true);
        }
        let ids: Vec<String> = records
            .iter()
            .map(|r| r["messageId"].as_str().unwrap_or_default().to_string())
            .collect();
        let corr = records.iter().find_map(|r| {
            r["messageAttributes"]["correlationId"]["stringValue"]
                .as_str()
                .map(str::to_string)
        });
        let result = self.run_function(f, &json!({"Records": records}));
        let failed: Vec<String> = match &result {
            Err(_) => ids.clone(),
            Ok(resp) if src.report_batch_item_failures => match resp.get("batchItemFailures") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => {
                    let listed: Option<Vec<String>> = items
                        .iter()
                        .map(|i| {
                            i.get("itemIdentifier")
                                .and_then(Value::as_str)
                                .filter(|s| ids.iter().any(|id| id == s))
                                .map(str::to_string)
                        })
                        .collect();
                    // An item that names no record of the batch fails the whole batch, as in Lambda.
                    listed.unwrap_or_else(|| ids.clone())
                }
                Some(_) => ids.clone(),
            },
            Ok(_) => Vec::new(),
        };
        let outcome = match (result.is_err(), failed.len()) {
            (true, _) => "failed",
            (false, 0) => "ok",
            (false, n) if n == ids.len() => "failed",
            _ => "partial",
        };
        let mut h = Hop::new("esm", &q.name, &f.name, outcome);
        h.message_ids = ids.clone();
        h.correlation_id = corr;
        match &result {
            Err((t, m)) => h.error = Some(format!("{t}: {m}")),
            Ok(_) if !failed.is_empty() => {
                h.detail = Some(format!("batchItemFailures: {}", failed.join(",")))
            }
            Ok(_) => {}
        }
        self.hop(h);
        for m in &messages {
            let id = m["MessageId"].as_str().unwrap_or_default().to_string();
            if filtered.iter().any(|x| x["MessageId"] == m["MessageId"]) {
                continue;
            }
            if failed.contains(&id) {
                let count: u32 = m
                    .pointer("/Attributes/ApproximateReceiveCount")
                    .and_then(Value::as_str)
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1);
                let redrive_to = q
                    .redrive
                    .as_ref()
                    .filter(|(_, max)| count >= *max)
                    .map(|(arn, _)| arn.rsplit(':').next().unwrap_or(arn).to_string());
                let t = Timer::Visible {
                    queue_url: q.url.clone(),
                    queue: q.name.clone(),
                    receipt: m["ReceiptHandle"].as_str().unwrap_or_default().to_string(),
                    message_id: id,
                    redrive_to,
                };
                self.timer(q.visibility_timeout_secs * 1000, t, true);
            } else {
                self.delete(&q.url, m)?;
            }
        }
        Ok(true)
    }

    fn delete(&self, url: &str, m: &Value) -> Result<(), EngineError> {
        self.endpoint
            .sqs(
                "DeleteMessage",
                &json!({"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"]}),
            )
            .map(|_| ())
            .map_err(|e| EngineError::Endpoint(e.to_string()))
    }

    fn start_execution(&mut self, machine_arn: &str, exec: &str, input: Value, from: &str) {
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

    fn answer_token(&mut self, token: &str, result: Result<Value, (String, String)>, from: &str) {
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

    fn step(&mut self, exec: &str) -> Result<(), EngineError> {
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

    fn task(&mut self, exec: &str, machine: &str, call: asl::TaskCall) -> Result<(), EngineError> {
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
                    None => Ok(json!({"MessageId": self.id("sns")})),
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
    fn deny(
        &mut self,
        policies: &[Value],
        machine: &str,
        action: &str,
        resource: &str,
    ) -> Option<(String, String)> {
        if super::iam::evaluate(policies, action, resource) == super::iam::Decision::Allow {
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
fn token_states(definition: &Value) -> Vec<String> {
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

fn target_input(t: &RuleTarget, event: &Value) -> Value {
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

/// An SQS message as Lambda's event record.
fn sqs_record(m: &Value, queue_arn: &str) -> Value {
    let attrs: serde_json::Map<String, Value> = m
        .get("MessageAttributes")
        .and_then(Value::as_object)
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.clone(), json!({"stringValue": v.get("StringValue"), "binaryValue": v.get("BinaryValue"), "stringListValues": [], "binaryListValues": [], "dataType": v.get("DataType")})))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes").cloned().unwrap_or(json!({})),
        "messageAttributes": attrs, "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": REGION
    })
}

/// What an ESM filter sees: the record, with a JSON body parsed (as Lambda filters do).
fn filter_view(record: &Value) -> Value {
    let mut v = record.clone();
    if let Some(b) = record["body"]
        .as_str()
        .and_then(|b| serde_json::from_str::<Value>(b).ok())
    {
        v["body"] = b;
    }
    v
}

fn rate_ms(expr: &str) -> Option<u64> {
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

fn parse_rfc3339_ms(s: &str) -> Option<u64> {
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

fn truncate(s: &str) -> String {
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_timestamps() {
        assert_eq!(rate_ms("rate(1 day)"), Some(86_400_000));
        assert_eq!(rate_ms("rate(5 minutes)"), Some(300_000));
        assert_eq!(rate_ms("cron(0 3 * * ? *)"), None);
        assert_eq!(
            parse_rfc3339_ms("2026-12-01T00:00:01.5Z"),
            Some(1_796_083_201_500)
        );
        assert_eq!(
            parse_rfc3339_ms(&rfc3339_ms(1_796_083_201_234)),
            Some(1_796_083_201_234)
        );
    }

    #[test]
    fn filters_see_a_parsed_body() {
        let r = sqs_record(
            &json!({"MessageId": "m", "Body": "{\"status\":\"NEW\"}"}),
            "arn",
        );
        assert!(pattern::matches(&json!({"body": {"status": ["NEW"]}}), &filter_view(&r)).unwrap());
    }
}
