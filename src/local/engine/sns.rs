//! SNS: a published message goes to every subscription of its topic whose filter policy
//! accepts it; SQS endpoints get the notification (or the raw message), Lambda endpoints are
//! invoked asynchronously; what cannot be delivered goes to the subscription's DLQ.

use std::collections::BTreeMap;

use super::*;
use crate::local::sns::{accepts, envelope, lambda_event, sqs_attributes, Attribute};

impl Engine<'_> {
    /// Publish to a topic (by ARN) from `from`.
    pub(super) fn publish(
        &mut self,
        from: &str,
        topic_arn: &str,
        message: &str,
        subject: Option<&str>,
        attributes: &BTreeMap<String, Attribute>,
        message_id: &str,
    ) {
        let topic = topic_arn
            .rsplit(':')
            .next()
            .unwrap_or(topic_arn)
            .to_string();
        let mut h = Hop::new("call", from, &topic, "published");
        h.message_ids = vec![message_id.to_string()];
        if !self.world.topics.iter().any(|t| t.2 == topic_arn) {
            h.outcome = "failed".into();
            h.error = Some(format!(
                "NotFound: no topic {topic_arn} among the stacks run"
            ));
            self.hop(h);
            return;
        }
        self.hop(h);
        let notification = envelope(
            topic_arn,
            message_id,
            subject,
            message,
            &rfc3339_ms(self.clock),
            attributes,
        );
        let subscriptions: Vec<_> = self
            .world
            .subscriptions
            .iter()
            .filter(|s| s.topic_arn == topic_arn)
            .cloned()
            .collect();
        for sub in subscriptions {
            let to = sub
                .endpoint
                .rsplit(':')
                .next()
                .unwrap_or(&sub.endpoint)
                .to_string();
            let mut h = Hop::new("subscription", &topic, &to, "delivered");
            h.message_ids = vec![message_id.to_string()];
            if let Some(policy) = &sub.filter {
                match accepts(policy, sub.body_scope, attributes, message) {
                    Ok(true) => {}
                    Ok(false) => {
                        h.outcome = "filtered".into();
                        self.hop(h);
                        continue;
                    }
                    Err(e) => {
                        h.outcome = "failed".into();
                        h.error = Some(format!("filter policy of {}: {e}", sub.logical_id));
                        self.hop(h);
                        continue;
                    }
                }
            }
            if sub.protocol != "sqs" && sub.protocol != "lambda" {
                // Outside the system: shown, not sent.
                h.outcome = "recorded".into();
                h.to = format!("{}:{}", sub.protocol, sub.endpoint);
                h.detail = Some(format!("{} endpoint: not sent locally", sub.protocol));
                self.hop(h);
                continue;
            }
            let delivered: Result<(), String> = if sub.protocol == "sqs" {
                let body = if sub.raw {
                    message.to_string()
                } else {
                    notification.to_string()
                };
                let attrs = if sub.raw {
                    Some(sqs_attributes(attributes))
                } else {
                    None
                };
                self.send_with(&to, &Value::String(body), attrs).map(|_| ())
            } else {
                match self.function(&to) {
                    Ok(f) => {
                        let sub_arn = format!("{topic_arn}:{}", sub.logical_id);
                        self.work.push_back(Work::AsyncInvoke {
                            function: f.name.clone(),
                            payload: lambda_event(&sub_arn, &notification),
                            from: topic.clone(),
                            attempt: 0,
                        });
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                }
            };
            if let Err(e) = delivered {
                h.outcome = "failed".into();
                h.error = Some(e);
                self.hop(h);
                if let Some(dlq) = &sub.dead_letter_arn {
                    let name = dlq.rsplit(':').next().unwrap_or(dlq).to_string();
                    let ok = self.send(&name, &notification).is_ok();
                    self.hop(Hop::new(
                        "destination",
                        &topic,
                        name,
                        if ok { "dead-lettered" } else { "failed" },
                    ));
                }
                continue;
            }
            self.hop(h);
        }
    }
}

/// Attributes from `{name: {DataType, StringValue}}` (Step Functions' and the SDK's shape).
pub(super) fn attributes_from(v: Option<&Value>) -> BTreeMap<String, Attribute> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, a)| {
                    let s = |f: &str| {
                        a.get(f)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    (
                        k.clone(),
                        Attribute {
                            data_type: if s("DataType").is_empty() {
                                "String".into()
                            } else {
                                s("DataType")
                            },
                            value: s("StringValue"),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
