//! Queues, event sources and asynchronous hops: visibility timeouts, partial batch responses,
//! dead-letter queues and their alarms, retries and on-failure destinations.

use super::model::{boolean, num, prop, strings, target, Model};
use super::{Finding, Severity};
use crate::spec::{cfn, iam, value};
use crate::template::{show, Expr};

/// SQS's default visibility timeout and Lambda's default timeout, in seconds.
const SQS_DEFAULT_VISIBILITY: i64 = 30;
const LAMBDA_DEFAULT_TIMEOUT: i64 = 3;
const SQS_DEFAULT_BATCH: i64 = 10;
const DLQ_RETENTION: i64 = 14 * 86_400;

/// DynamoDB actions that write.
const TABLE_WRITES: [&str; 6] = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:TransactWriteItems",
    "dynamodb:*",
];

pub fn check(m: &Model, out: &mut Vec<Finding>) {
    queues(m, out);
    sqs_event_sources(m, out);
    stream_event_sources(m, out);
    rule_targets(m, out);
    async_functions(m, out);
}

fn queues(m: &Model, out: &mut Vec<Finding>) {
    let dlqs: std::collections::HashSet<&str> = m.dead_letter_queues().into_iter().collect();
    // Queues with an alarm on their visible messages, found in one pass over the alarms.
    let mut alarmed: std::collections::HashSet<&str> = std::collections::HashSet::new();
    // Queue-name values alarms name that are not references (a literal, a FindInMap): matched
    // against the queues' own QueueName below.
    let mut alarmed_names: Vec<&Expr> = Vec::new();
    for (_, a) in m.of_type("AWS::CloudWatch::Alarm") {
        // The plain form, and each metric of the metric-math form (Metrics[].MetricStat.Metric).
        let mut metrics: Vec<(Option<&Expr>, Option<&Expr>)> =
            vec![(prop(a, cfn::MetricName), prop(a, cfn::Dimensions))];
        if let Some(Expr::List(ms)) = prop(a, cfn::Metrics) {
            for x in ms {
                if let Some(Expr::Map(stat)) = super::model::field(x, cfn::MetricStat) {
                    if let Some(Expr::Map(metric)) = stat.get(cfn::Metric) {
                        metrics.push((metric.get(cfn::MetricName), metric.get(cfn::Dimensions)));
                    }
                }
            }
        }
        for (name, dimensions) in metrics {
            if !strings(name).contains(&"ApproximateNumberOfMessagesVisible".to_string()) {
                continue;
            }
            if let Some(Expr::List(ds)) = dimensions {
                for d in ds {
                    if let Expr::Map(dm) = d {
                        match target(dm.get(cfn::Value)) {
                            Some(t) => {
                                alarmed.insert(t);
                            }
                            None => alarmed_names.extend(dm.get(cfn::Value)),
                        }
                    }
                }
            }
        }
    }
    for (id, q) in m.of_type("AWS::SQS::Queue") {
        let consumers = m.queue_consumers(id);
        let visibility = m.number(prop(q, cfn::VisibilityTimeout), SQS_DEFAULT_VISIBILITY);
        for (_, function) in &consumers {
            let Some(f) = function.and_then(|f| m.get(f)) else {
                continue;
            };
            let (Some((visibility, vnote)), Some((timeout, tnote))) = (
                visibility.clone(),
                m.number(prop(f, cfn::Timeout), LAMBDA_DEFAULT_TIMEOUT),
            ) else {
                continue; // a value only known at deploy time
            };
            let fname = function.unwrap_or_default();
            if visibility < timeout {
                out.push(m.with_severity(id, "ORD001", Severity::Error, format!(
                    "visibility timeout {visibility} s{vnote} is below the {timeout} s{tnote} timeout of {fname}, which consumes it: messages reappear while still being processed"
                )));
            } else if visibility < 6 * timeout {
                out.push(m.at(id, "ORD001", format!(
                    "visibility timeout {visibility} s{vnote} is below 6x the {timeout} s{tnote} timeout of {fname} ({} s), as AWS recommends for Lambda consumers",
                    6 * timeout
                )));
            }
        }
        let redrive = prop(q, cfn::RedrivePolicy);
        if !consumers.is_empty() && redrive.is_none() {
            out.push(m.at(id, "ORD003", "the queue is consumed but has no dead-letter queue: a poison message is retried until it expires".into()));
        }
        if let Some(count) = num(prop(q, [cfn::RedrivePolicy, cfn::maxReceiveCount])) {
            if !(3..=5).contains(&count) {
                out.push(m.at(id, "ORD004", format!("maxReceiveCount is {count}")));
            }
        }
        if dlqs.contains(id.as_str()) {
            if let Some((retention, note)) =
                m.number(prop(q, cfn::MessageRetentionPeriod), 4 * 86_400)
            {
                if retention < DLQ_RETENTION {
                    out.push(m.at(id, "ORD005", format!(
                        "the dead-letter queue keeps messages {} days{note}; failures need time to be looked at",
                        retention / 86_400
                    )));
                }
            }
            let named = prop(q, cfn::QueueName).is_some_and(|n| alarmed_names.contains(&n));
            if !alarmed.contains(id.as_str()) && !named {
                out.push(m.at(
                    id,
                    "ORD006",
                    "nobody hears about messages landing in this dead-letter queue".into(),
                ));
            }
        }
    }
}

fn is_sqs_source(m: &Model, esm: &crate::template::Resource) -> bool {
    let arn = prop(esm, cfn::EventSourceArn);
    m.type_of(arn) == Some("AWS::SQS::Queue")
        || matches!(arn, Some(Expr::Str(s)) if s.contains(":sqs:"))
}

fn writes_tables(m: &Model, function: &str) -> bool {
    let Some(role) = m.get(function).and_then(|f| target(prop(f, cfn::Role))) else {
        return false;
    };
    m.role_statements(role).iter().any(|s| {
        strings(super::model::field(s, iam::Action))
            .iter()
            .any(|a| TABLE_WRITES.contains(&a.as_str()) || a == "*")
    })
}

fn sqs_event_sources(m: &Model, out: &mut Vec<Finding>) {
    for (id, esm) in m.of_type("AWS::Lambda::EventSourceMapping") {
        if !is_sqs_source(m, esm) {
            continue;
        }
        // Unknown here (a parameter without a default): judged as the default would be.
        let batch = m
            .number(prop(esm, cfn::BatchSize), SQS_DEFAULT_BATCH)
            .map_or(SQS_DEFAULT_BATCH, |(b, _)| b);
        let partial = strings(prop(esm, cfn::FunctionResponseTypes))
            .contains(&value::REPORT_BATCH_ITEM_FAILURES.to_string());
        if batch > 1 && !partial {
            out.push(m.at(id, "ORD002", format!(
                "batch size {batch} without ReportBatchItemFailures: one bad message makes the whole batch retry"
            )));
        }
        let function = target(prop(esm, cfn::FunctionName));
        if function.is_some_and(|f| writes_tables(m, f))
            && num(prop(esm, [cfn::ScalingConfig, cfn::MaximumConcurrency])).is_none()
        {
            out.push(m.at(id, "ORD017", format!(
                "{} writes to DynamoDB and scales with the queue unbounded: a backlog becomes a write storm and throttling",
                function.unwrap_or_default()
            )));
        }
    }
}

fn stream_event_sources(m: &Model, out: &mut Vec<Finding>) {
    for (id, esm) in m.of_type("AWS::Lambda::EventSourceMapping") {
        if prop(esm, cfn::StartingPosition).is_none() || is_sqs_source(m, esm) {
            continue;
        }
        let mut missing = Vec::new();
        if prop(
            esm,
            [cfn::DestinationConfig, cfn::OnFailure, cfn::Destination],
        )
        .is_none()
        {
            missing.push("on-failure destination");
        }
        if boolean(prop(esm, cfn::BisectBatchOnFunctionError)) != Some(true) {
            missing.push("bisect on error");
        }
        match num(prop(esm, cfn::MaximumRetryAttempts)) {
            None | Some(-1) => missing.push("bounded retry count"),
            _ => {}
        }
        if !missing.is_empty() {
            out.push(m.at(
                id,
                "ORD009",
                format!(
                "the stream event source has no {}: a bad record blocks its shard until it expires",
                missing.join(", no ")
            ),
            ));
        }
    }
}

/// A target without a dead-letter queue drops what it cannot deliver once the retries run out.
/// A missing retry policy is no finding: EventBridge and Scheduler retry by default (185
/// attempts over 24 hours), which is what a reviewer would set anyway.
fn rule_targets(m: &Model, out: &mut Vec<Finding>) {
    for (id, tm) in m.rule_targets() {
        if tm.get(cfn::DeadLetterConfig).is_none() {
            let name = tm.get(cfn::Id).map(show).unwrap_or_default();
            out.push(m.at(
                id,
                "ORD007",
                format!("target {name} has no dead-letter queue: events that cannot be delivered are dropped after the retries"),
            ));
        }
    }
    for (id, s) in m.of_type("AWS::Scheduler::Schedule") {
        if prop(s, [cfn::Target, cfn::DeadLetterConfig, cfn::Arn]).is_none() {
            out.push(m.at(
                id,
                "ORD007",
                "the schedule's target has no dead-letter queue: invocations that fail after the retries are dropped".into(),
            ));
        }
    }
}

/// Services that invoke Lambda asynchronously (the Lambda developer guide's list of
/// asynchronous invokers).
const ASYNC_INVOKERS: &[&str] = &[
    "s3.amazonaws.com",
    "sns.amazonaws.com",
    "events.amazonaws.com",
    "scheduler.amazonaws.com",
    "iot.amazonaws.com",
    "ses.amazonaws.com",
    "logs.amazonaws.com",
    "codecommit.amazonaws.com",
    "config.amazonaws.com",
    "cloudformation.amazonaws.com",
];

/// Functions invoked asynchronously: targets of rules and schedules, SNS subscribers.
fn async_functions(m: &Model, out: &mut Vec<Finding>) {
    let mut invoked: Vec<&str> = Vec::new();
    for (_, tm) in m.rule_targets() {
        invoked.extend(target(tm.get(cfn::Arn)));
    }
    for (_, s) in m.of_type("AWS::Scheduler::Schedule") {
        invoked.extend(target(prop(s, [cfn::Target, cfn::Arn])));
    }
    for (_, s) in m.of_type("AWS::SNS::Subscription") {
        if strings(prop(s, cfn::Protocol)) == [value::PROTOCOL_LAMBDA] {
            invoked.extend(target(prop(s, cfn::Endpoint)));
        }
    }
    // A topic's inline subscriptions, a bucket's notifications, an IoT rule's actions.
    let list = |e: Option<&'_ Expr>| match e {
        Some(Expr::List(items)) => items.clone(),
        _ => Vec::new(),
    };
    let mut owned: Vec<String> = Vec::new();
    for (_, t) in m.of_type("AWS::SNS::Topic") {
        for s in list(prop(t, cfn::Subscription)) {
            if let Expr::Map(sm) = &s {
                if strings(sm.get(cfn::Protocol)) == [value::PROTOCOL_LAMBDA] {
                    owned.extend(target(sm.get(cfn::Endpoint)).map(str::to_string));
                }
            }
        }
    }
    for (_, b) in m.of_type("AWS::S3::Bucket") {
        for c in list(prop(
            b,
            [cfn::NotificationConfiguration, cfn::LambdaConfigurations],
        )) {
            if let Expr::Map(cm) = &c {
                owned.extend(target(cm.get(cfn::Function)).map(str::to_string));
            }
        }
    }
    for (_, r) in m.of_type("AWS::IoT::TopicRule") {
        for a in list(prop(r, [cfn::TopicRulePayload, cfn::Actions])) {
            if let Expr::Map(am) = &a {
                if let Some(Expr::Map(l)) = am.get(cfn::Lambda) {
                    owned.extend(target(l.get(cfn::FunctionArn)).map(str::to_string));
                }
            }
        }
    }
    // Any service allowed to invoke a function that invokes asynchronously.
    for (_, p) in m.of_type("AWS::Lambda::Permission") {
        let principal = strings(prop(p, cfn::Principal)).join(",");
        if ASYNC_INVOKERS.iter().any(|s| principal == *s) {
            invoked.extend(target(prop(p, cfn::FunctionName)));
        }
    }
    invoked.extend(owned.iter().map(String::as_str));
    // Through an alias or version, the function itself.
    let mut invoked: Vec<&str> = invoked
        .into_iter()
        .filter_map(|f| m.function(Some(f)))
        .collect();
    invoked.sort();
    invoked.dedup();
    for f in invoked {
        let Some(function) = m.get(f) else { continue };
        if function.resource_type != "AWS::Lambda::Function" {
            continue;
        }
        let has_dlq = prop(function, [cfn::DeadLetterConfig, cfn::TargetArn]).is_some();
        let has_destination = m
            .referring("AWS::Lambda::EventInvokeConfig", cfn::FunctionName, f)
            .iter()
            .any(|(_, c)| {
                prop(
                    c,
                    [cfn::DestinationConfig, cfn::OnFailure, cfn::Destination],
                )
                .is_some()
            });
        if !has_dlq && !has_destination {
            out.push(m.at(f, "ORD008", "the function is invoked asynchronously; after Lambda's retries a failed event is lost".into()));
        }
    }
}
