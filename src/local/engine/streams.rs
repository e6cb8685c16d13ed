//! DynamoDB stream event sources: records read from the table's stream on the endpoint in
//! order, filtered, handed to the function in batches; a failed batch is retried (split in
//! two with BisectBatchOnFunctionError, resumed from the first failed record with
//! ReportBatchItemFailures) until MaximumRetryAttempts, then described to the on-failure
//! destination and skipped, as Lambda does.

use super::*;

/// How long a DynamoDB stream keeps a record.
const STREAM_RETENTION_MS: u64 = 24 * 3_600_000;

/// Where one stream source stands.
#[derive(Debug, Clone, Default)]
pub(super) struct StreamPos {
    stream_arn: Option<String>,
    shard: Option<String>,
    /// The last record handled (delivered, filtered out, or given up on).
    last_seq: Option<String>,
    /// A batch waiting to be retried.
    pending: Option<Vec<Value>>,
    retries: u32,
    /// When the batch being retried first failed (engine time).
    first_failed_ms: Option<u64>,
    blocked: bool,
}

impl Engine<'_> {
    fn stream_call(&self, action: &str, body: &Value) -> Result<Value, EngineError> {
        self.endpoint
            .call(
                "dynamodb",
                &format!("DynamoDBStreams_20120810.{action}"),
                body,
            )
            .map_err(|e| EngineError::Endpoint(format!("{action}: {e}")))
    }

    /// Records after the last one handled, at most `limit`.
    fn read_stream(&mut self, i: usize, limit: usize) -> Result<Vec<Value>, EngineError> {
        let src = &self.world.stream_sources[i];
        if self.streams[i].stream_arn.is_none() {
            let t = self
                .endpoint
                .dynamodb("DescribeTable", &json!({"TableName": src.table}))
                .map_err(|e| EngineError::Endpoint(format!("DescribeTable {}: {e}", src.table)))?;
            let arn = t
                .pointer("/Table/LatestStreamArn")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    EngineError::Endpoint(format!(
                        "table {} has no stream on the endpoint",
                        src.table
                    ))
                })?;
            let d = self.stream_call("DescribeStream", &json!({"StreamArn": arn}))?;
            self.streams[i].shard = d
                .pointer("/StreamDescription/Shards/0/ShardId")
                .and_then(Value::as_str)
                .map(str::to_string);
            self.streams[i].stream_arn = Some(arn.to_string());
        }
        let (Some(arn), Some(shard)) = (
            self.streams[i].stream_arn.clone(),
            self.streams[i].shard.clone(),
        ) else {
            return Ok(Vec::new());
        };
        let mut req =
            json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"});
        if let Some(seq) = &self.streams[i].last_seq {
            req["ShardIteratorType"] = json!("AFTER_SEQUENCE_NUMBER");
            req["SequenceNumber"] = json!(seq);
        }
        let it = self.stream_call("GetShardIterator", &req)?;
        let Some(iterator) = it.get("ShardIterator").and_then(Value::as_str) else {
            return Ok(Vec::new());
        };
        let out = self.stream_call(
            "GetRecords",
            &json!({"ShardIterator": iterator, "Limit": limit.clamp(1, 1000)}),
        )?;
        let mut records = out
            .get("Records")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for r in &mut records {
            r["eventSourceARN"] = json!(arn);
        }
        Ok(records)
    }

    pub(super) fn poll_stream(&mut self, i: usize) -> Result<bool, EngineError> {
        if self.streams[i].blocked {
            return Ok(false);
        }
        let src = self.world.stream_sources[i].clone();
        let batch = match self.streams[i].pending.take() {
            Some(b) => b,
            None => self.read_stream(i, src.batch_size)?,
        };
        if batch.is_empty() {
            return Ok(false);
        }
        let seq = |r: &Value| {
            r.pointer("/dynamodb/SequenceNumber")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let last = seq(batch.last().expect("not empty"));
        let kept: Vec<Value> = batch
            .iter()
            .filter(|r| {
                src.filters.is_empty()
                    || src
                        .filters
                        .iter()
                        .any(|p| pattern::matches(p, r).unwrap_or(false))
            })
            .cloned()
            .collect();
        let table = format!("{}/stream", src.table);
        if kept.is_empty() {
            self.streams[i].last_seq = Some(last);
            let mut h = Hop::new("esm", &table, &src.function, "filtered");
            h.detail = Some(format!("{} record(s) matched no filter", batch.len()));
            self.hop(h);
            return Ok(true);
        }
        let ids: Vec<String> = kept
            .iter()
            .map(|r| r["eventID"].as_str().unwrap_or_default().to_string())
            .collect();
        let (kind, consumer, consumer_arn, result) = match &src.pipe {
            None => {
                let f = self.function(&src.function)?;
                (
                    "esm",
                    f.name.clone(),
                    f.arn.clone(),
                    self.run_function(f, &json!({"Records": kept})),
                )
            }
            Some(pipe) => {
                let to = pipe
                    .arn
                    .rsplit([':', '/'])
                    .next()
                    .unwrap_or(&pipe.arn)
                    .to_string();
                let arn = format!("arn:aws:pipes:{REGION}:{ACCOUNT}:pipe/{}", src.logical_id);
                (
                    "pipe",
                    to,
                    arn,
                    self.pipe_deliver(&src.logical_id, pipe, &kept),
                )
            }
        };
        // The records still to do after this attempt: none on success.
        // As Lambda reads a partial batch response for streams: an answer it cannot use (not a
        // list, an item naming no record of the batch) fails the whole batch.
        let failed_from: Option<usize> = match &result {
            Err(_) => Some(0),
            Ok(resp) if src.report_batch_item_failures => match resp.get("batchItemFailures") {
                None | Some(Value::Null) => None,
                Some(Value::Array(items)) if items.is_empty() => None,
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|x| {
                        x.get("itemIdentifier")
                            .and_then(Value::as_str)
                            .and_then(|id| kept.iter().position(|r| seq(r) == id))
                    })
                    .collect::<Option<Vec<usize>>>()
                    .map(|p| p.into_iter().min().unwrap_or(0))
                    .or(Some(0)),
                Some(_) => Some(0),
            },
            Ok(_) => None,
        };
        let mut h = Hop::new(
            kind,
            &table,
            &consumer,
            match failed_from {
                None => "ok",
                Some(0) => "failed",
                Some(_) => "partial",
            },
        );
        h.message_ids = ids;
        if let Err((t, m)) = &result {
            h.error = Some(format!("{t}: {m}"));
        }
        let Some(from) = failed_from else {
            self.hop(h);
            self.streams[i].last_seq = Some(last);
            self.streams[i].retries = 0;
            self.streams[i].first_failed_ms = None;
            return Ok(true);
        };
        if from > 0 {
            self.streams[i].last_seq = Some(seq(&kept[from - 1]));
        }
        let mut rest: Vec<Value> = kept[from..].to_vec();
        let now = self.clock;
        let pos = &mut self.streams[i];
        let first_failed = *pos.first_failed_ms.get_or_insert(now);
        // Splitting a batch does not count as a retry.
        let split = src.bisect && rest.len() > 1 && result.is_err();
        if !split {
            pos.retries += 1;
        }
        let attempts = pos.retries + 1;
        // Records leave the stream after 24 hours, so "retry forever" (-1) ends there.
        let expired = now.saturating_sub(first_failed) >= STREAM_RETENTION_MS;
        if expired || (src.max_retries >= 0 && i64::from(pos.retries) > src.max_retries) {
            h.detail = Some(if expired {
                "the records expired (24 h) while being retried".to_string()
            } else {
                format!("retries exhausted after {} attempt(s)", pos.retries)
            });
            pos.retries = 0;
            pos.first_failed_ms = None;
            pos.last_seq = Some(last);
            let shard = pos.shard.clone().unwrap_or_default();
            self.hop(h);
            if let Some(dest) = &src.on_failure {
                self.stream_failure(
                    &src.logical_id,
                    &consumer_arn,
                    dest,
                    &rest,
                    attempts,
                    &shard,
                    result.is_err(),
                )?;
            }
            return Ok(true);
        }
        if split {
            rest.truncate(rest.len().div_ceil(2));
            h.detail = Some(format!("split: the first {} record(s) again", rest.len()));
        } else {
            h.detail = Some(format!("retry {}", pos.retries));
        }
        pos.pending = Some(rest);
        pos.blocked = true;
        let delay = 1000 * u64::from(pos.retries.clamp(1, 60));
        self.hop(h);
        self.timer(delay, Timer::Unblock(i), true);
        Ok(true)
    }

    /// What Lambda sends an on-failure destination for a stream batch it gives up on.
    #[allow(clippy::too_many_arguments)]
    fn stream_failure(
        &mut self,
        mapping: &str,
        function_arn: &str,
        dest: &str,
        records: &[Value],
        attempts: u32,
        shard: &str,
        function_error: bool,
    ) -> Result<(), EngineError> {
        let seq = |r: Option<&Value>| {
            r.and_then(|r| r.pointer("/dynamodb/SequenceNumber"))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let arn = records
            .first()
            .and_then(|r| r.get("eventSourceARN"))
            .cloned()
            .unwrap_or(Value::Null);
        let mut response = json!({"statusCode": 200, "executedVersion": "$LATEST"});
        if function_error {
            response["functionError"] = json!("Unhandled");
        }
        let record = json!({
            "requestContext": {"requestId": self.id("request"), "functionArn": function_arn, "condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
            "responseContext": response,
            "version": "1.0", "timestamp": rfc3339_ms(self.clock),
            "DDBStreamBatchInfo": {"shardId": shard, "startSequenceNumber": seq(records.first()), "endSequenceNumber": seq(records.last()), "batchSize": records.len(), "streamArn": arn}
        });
        let to = dest.rsplit(':').next().unwrap_or(dest).to_string();
        if dest.starts_with("arn:aws:sqs:") {
            self.send(&to, &record).map_err(EngineError::Endpoint)?;
        } else if dest.starts_with("arn:aws:sns:") {
            let id = self.id("sns");
            self.publish(
                mapping,
                dest,
                &record.to_string(),
                None,
                &Default::default(),
                &id,
            );
        }
        self.hop(Hop::new("destination", mapping, to, "on-failure"));
        Ok(())
    }

    pub(super) fn unblock_stream(&mut self, i: usize) {
        if let Some(p) = self.streams.get_mut(i) {
            p.blocked = false;
        }
    }

    /// A pipe hands each record (through its input template) to its target, under the pipe
    /// role's policies; the first failure fails the batch.
    fn pipe_deliver(
        &mut self,
        pipe_id: &str,
        pipe: &crate::local::world::PipeTarget,
        records: &[Value],
    ) -> Result<Value, (String, String)> {
        let arn = pipe.arn.as_str();
        let action = if arn.starts_with("arn:aws:sqs:") {
            "sqs:SendMessage"
        } else if arn.contains(":event-bus/") {
            "events:PutEvents"
        } else if arn.contains(":stateMachine:") {
            "states:StartExecution"
        } else {
            "lambda:InvokeFunction"
        };
        if crate::local::iam::evaluate(&pipe.policies, action, arn)
            != crate::local::iam::Decision::Allow
        {
            let mut d = Hop::new(
                "call",
                pipe_id,
                action.split(':').next().unwrap_or(action),
                "denied",
            );
            d.error = Some(format!("{action} on {arn}"));
            self.hop(d);
            return Err((
                "AccessDenied".into(),
                format!("the pipe's role may not {action} on {arn}"),
            ));
        }
        let mut lambda_inputs = Vec::new();
        for record in records {
            let input = match &pipe.input_template {
                Some(t) => crate::local::input::transform(record, &Default::default(), t),
                None => record.clone(),
            };
            if arn.contains(":event-bus/") {
                let bus = arn.rsplit('/').next().unwrap_or(arn).to_string();
                let source = pipe
                    .source
                    .clone()
                    .unwrap_or_else(|| format!("Pipe {pipe_id}"));
                let detail_type = pipe
                    .detail_type
                    .clone()
                    .unwrap_or_else(|| "Event from aws:dynamodb".into());
                let event = self.event(&source, &detail_type, input, vec![]);
                self.work.push_back(Work::Event {
                    bus,
                    event,
                    from: pipe_id.to_string(),
                });
            } else if arn.starts_with("arn:aws:sqs:") {
                let q = arn.rsplit(':').next().unwrap_or(arn).to_string();
                self.send(&q, &input)
                    .map_err(|e| ("SQS.SendMessageFailed".to_string(), e))?;
            } else if arn.contains(":stateMachine:") {
                let exec = format!(
                    "{}:{}",
                    arn.replace(":stateMachine:", ":execution:"),
                    self.id("pipe")
                );
                self.start_execution(arn, &exec, input, pipe_id);
            } else {
                lambda_inputs.push(input);
            }
        }
        if !lambda_inputs.is_empty() {
            // A Lambda target gets the batch in one invocation.
            let name = arn.rsplit(':').next().unwrap_or(arn).to_string();
            let f = self.function(&name).map_err(|e| {
                (
                    "Lambda.ResourceNotFoundException".to_string(),
                    e.to_string(),
                )
            })?;
            self.run_function(f, &Value::Array(lambda_inputs))?;
        }
        Ok(Value::Null)
    }
}
