//! SQS event source mappings: receive a batch, invoke, delete what succeeded, let the rest
//! become visible again after the queue's visibility timeout on the engine's clock.

use super::*;

impl Engine<'_> {
    pub(super) fn poll(&mut self, i: usize) -> Result<bool, EngineError> {
        let src = &self.world.sqs_sources[i];
        let Some(q) = self.world.queues.iter().find(|q| q.arn == src.queue_arn) else {
            return Ok(false);
        };
        // Before receiving: a message taken and then abandoned would stay invisible for hours.
        let f = self.function(&src.function)?;
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
            self.delete(&q.url, std::slice::from_ref(m))?;
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
        let corr = records.iter().find_map(record_correlation);
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
        let mut done = Vec::new();
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
                // Without a DLQ a failing message is retried until the queue's retention
                // period ends, as in SQS; then it is gone.
                let sent: u64 = m
                    .pointer("/Attributes/SentTimestamp")
                    .and_then(Value::as_str)
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(self.clock);
                let visible_at = self.clock + q.visibility_timeout_secs * 1000;
                if redrive_to.is_none() && visible_at >= sent + q.retention_secs * 1000 {
                    done.push(m.clone());
                    let mut h = Hop::new("redrive", &q.name, "(gone)", "expired");
                    h.message_ids = vec![id];
                    h.detail = Some(format!(
                        "the queue's retention period ({} s) ended while it was retried",
                        q.retention_secs
                    ));
                    self.hop(h);
                    continue;
                }
                let t = Timer::Visible {
                    queue_url: q.url.clone(),
                    queue: q.name.clone(),
                    receipt: m["ReceiptHandle"].as_str().unwrap_or_default().to_string(),
                    message_id: id,
                    redrive_to,
                };
                self.timer(q.visibility_timeout_secs * 1000, t, true);
            } else {
                done.push(m.clone());
            }
        }
        self.delete(&q.url, &done)?;
        Ok(true)
    }

    /// DeleteMessageBatch (a batch is at most ten, as a receive is).
    pub(super) fn delete(&self, url: &str, messages: &[Value]) -> Result<(), EngineError> {
        if messages.is_empty() {
            return Ok(());
        }
        let entries: Vec<Value> = messages
            .iter()
            .enumerate()
            .map(|(k, m)| json!({"Id": format!("d{k}"), "ReceiptHandle": m["ReceiptHandle"]}))
            .collect();
        let out = self
            .endpoint
            .sqs(
                "DeleteMessageBatch",
                &json!({"QueueUrl": url, "Entries": entries}),
            )
            .map_err(|e| EngineError::Endpoint(e.to_string()))?;
        match out
            .get("Failed")
            .and_then(Value::as_array)
            .filter(|f| !f.is_empty())
        {
            Some(f) => Err(EngineError::Endpoint(format!(
                "DeleteMessageBatch failed: {}",
                Value::Array(f.clone())
            ))),
            None => Ok(()),
        }
    }
}

/// The correlation ID a record carries, for the trace: its `correlationId` attribute, else
/// the body's (an EventBridge event's `detail.correlationId`, or a JSON message's own).
fn record_correlation(r: &Value) -> Option<String> {
    r["messageAttributes"]["correlationId"]["stringValue"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            let body: Value = serde_json::from_str(r["body"].as_str()?).ok()?;
            let found = [&body["detail"]["correlationId"], &body["correlationId"]]
                .into_iter()
                .find_map(|c| c.as_str().filter(|c| !c.is_empty()).map(str::to_string));
            found
        })
}

/// An SQS message as Lambda's event record.
pub(super) fn sqs_record(m: &Value, queue_arn: &str) -> Value {
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
pub(super) fn filter_view(record: &Value) -> Value {
    let mut v = record.clone();
    if let Some(b) = record["body"]
        .as_str()
        .and_then(|b| serde_json::from_str::<Value>(b).ok())
    {
        v["body"] = b;
    }
    v
}
