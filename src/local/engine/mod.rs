//! The event loop: injections in, deliveries out, on a virtual clock.
//!
//! One loop, one thing at a time: pending work first (events to route, targets to deliver,
//! asynchronous invocations, execution steps), then one poll of each consumed queue; when
//! nothing is runnable the clock jumps to the next timer (a message becoming visible again, a
//! retry delay, a Wait state). Idle is: no work, nothing visible on a consumed queue, no timer
//! that the flow itself is waiting on (task-token timeouts and schedules only fire when the
//! clock is advanced on purpose).

mod delivery;
mod executions;
mod functions;
mod http;
mod injections;
mod sns;
mod sqs;
mod streams;

#[cfg(test)]
use delivery::rate_ms;
#[cfg(test)]
use executions::parse_rfc3339_ms;
use executions::token_states;
pub use functions::{access_key, correlation};
pub use http::Auth;
#[cfg(test)]
use sqs::{filter_view, sqs_record};

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
    #[error("interrupted; the trace so far is kept")]
    Interrupted,
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
    /// Set (by a signal handler) to stop between hops.
    pub stop: Option<Arc<std::sync::atomic::AtomicBool>>,
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
    /// A stream source may retry its batch.
    Unblock(usize),
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
    handler_time: Duration,
    hop_seq: u64,
    streams: Vec<streams::StreamPos>,
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
            handler_time: Duration::ZERO,
            hop_seq: 0,
            streams: vec![Default::default(); world.stream_sources.len()],
            ids: 0,
        }
    }

    /// The trace so far.
    pub fn hops(&self) -> &[Hop] {
        &self.hops
    }

    /// Wall time spent inside handlers (process start to answer), so the engine's own share
    /// of a run can be told apart.
    pub fn handler_time(&self) -> Duration {
        self.handler_time
    }

    fn id(&mut self, prefix: &str) -> String {
        self.ids += 1;
        format!("{prefix}-{:08}", self.ids)
    }

    fn hop(&mut self, mut h: Hop) {
        self.hop_seq += 1;
        h.seq = self.hop_seq;
        if let Some(e) = h.error.as_mut() {
            e.truncate(e.trim_end().len());
        }
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
        if self
            .opts
            .stop
            .as_ref()
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst))
        {
            return Err(EngineError::Interrupted);
        }
        if self.started.elapsed() > self.opts.timeout {
            return Err(EngineError::Timeout(self.opts.timeout));
        }
        Ok(())
    }

    /// Apply the injections in order, then run until idle.
    pub fn run(&mut self, injections: &[Injection]) -> Result<(), EngineError> {
        let mut i = 0;
        while i < injections.len() {
            self.check_wall()?;
            // Consecutive messages for one queue go in batches of ten, as a producer would.
            let queue_of = |inj: &Injection| match inj {
                Injection::Queue { name, .. } => self.queue(name).ok().map(|q| q.url.clone()),
                _ => None,
            };
            match queue_of(&injections[i]) {
                Some(url) => {
                    let mut j = i + 1;
                    while j < injections.len()
                        && j - i < 10
                        && queue_of(&injections[j]).as_ref() == Some(&url)
                    {
                        j += 1;
                    }
                    self.send_injected(&injections[i..j])?;
                    // Consumers poll while producers send, as in AWS: one step of the flow
                    // after each batch keeps the queue as shallow as it would be there.
                    self.tick()?;
                    i = j;
                }
                None => {
                    self.inject(&injections[i])?;
                    i += 1;
                }
            }
        }
        self.until_idle()
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

    /// Bring the clock up to `now_ms` (never back), firing what falls due: `local up` keeps
    /// the engine's time with the wall clock between injections.
    pub fn catch_up(&mut self, now_ms: u64) -> Result<(), EngineError> {
        while let Some((due, _)) = self
            .timers
            .keys()
            .next()
            .copied()
            .filter(|(d, _)| *d <= now_ms)
        {
            self.fire_timers_until(due)?;
            self.until_idle()?;
        }
        self.clock = self.clock.max(now_ms);
        Ok(())
    }

    /// Move the clock by `ms`, running everything that falls due on the way.
    pub fn advance(&mut self, ms: u64) -> Result<(), EngineError> {
        let target = self.clock.saturating_add(ms);
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
            Timer::Unblock(i) => self.unblock_stream(i),
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
        for i in 0..self.world.stream_sources.len() {
            if self.world.stream_sources[i].enabled {
                any |= self.poll_stream(i)?;
            }
        }
        Ok(any)
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
