//! Templates ordersctl did not write, at and past its input limits: `check` and `diff` of
//! generated templates up to 20,000 resources (the limit), to show the time grows linearly;
//! and how fast input past the limits is refused.
//!
//! `cargo bench --bench hostile` prints the median and the fastest of several runs. Figures go
//! to BENCHMARKS.md; tests never assert on time.

use std::collections::BTreeMap;

use ordersctl::checks::check_stack;
use ordersctl::diff::{diff_stack, render, DiffContext};
use ordersctl::template::Template;
use serde_json::{json, Map, Value};

mod support;
use support::measure;

/// `units` x 5 resources: a queue with its DLQ, a function with its role, the mapping between.
/// Every unit differs (its own timeout and tag), so no two resources share a shape. `prefix`
/// renames every logical ID; `changed` renames (so replaces) every other queue, with its
/// mapping, and widens every other role.
fn generated(units: usize, prefix: &str, changed: bool) -> String {
    let mut res = Map::new();
    for i in 0..units {
        let id = |k: &str| format!("{prefix}{k}{i}");
        let widened = changed && i % 2 == 0;
        res.insert(id("Q"), json!({"Type": "AWS::SQS::Queue", "Properties": {
            "VisibilityTimeout": if widened { 900 } else { 60 + i % 800 },
            // A new name replaces the queue, and through EventSourceArn its mapping.
            "QueueName": if widened { format!("renamed-{i}") } else { format!("queue-{i}") },
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [id("D"), "Arn"]}, "maxReceiveCount": 3},
            "Tags": [{"Key": "unit", "Value": i.to_string()}]}}));
        res.insert(id("D"), json!({"Type": "AWS::SQS::Queue", "Properties": {
            "MessageRetentionPeriod": 1_209_600, "Tags": [{"Key": "unit", "Value": i.to_string()}]}}));
        res.insert(id("F"), json!({"Type": "AWS::Lambda::Function", "Properties": {
            "Role": {"Fn::GetAtt": [id("R"), "Arn"]}, "Runtime": "provided.al2023", "Handler": "bootstrap",
            "Timeout": 10, "Code": {"ZipFile": "x"}, "Description": format!("unit {i}")}}));
        let resource = if widened {
            json!("*")
        } else {
            json!({"Fn::GetAtt": [id("Q"), "Arn"]})
        };
        res.insert(id("R"), json!({"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "consume", "PolicyDocument": {"Statement": [{"Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"], "Resource": resource}]}}]}}));
        res.insert(
            id("M"),
            json!({"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "FunctionName": {"Ref": id("F")}, "EventSourceArn": {"Fn::GetAtt": [id("Q"), "Arn"]},
            "BatchSize": 1 + i % 10, "FunctionResponseTypes": ["ReportBatchItemFailures"]}}),
        );
    }
    serde_json::to_string(&json!({"Resources": Value::Object(res)})).expect("JSON")
}

/// `n` queues, each named after the one before (`QueueName` is create-only): renaming the
/// first replaces every one, the longest replacement chain a template can hold.
fn chain(n: usize, first: &str) -> String {
    let mut res = Map::new();
    res.insert(
        "Q0".into(),
        json!({"Type": "AWS::SQS::Queue", "Properties": {"QueueName": first}}),
    );
    for i in 1..n {
        res.insert(
            format!("Q{i}"),
            json!({"Type": "AWS::SQS::Queue", "Properties": {"QueueName":
            {"Fn::Join": ["", [{"Fn::GetAtt": [format!("Q{}", i - 1), "QueueName"]}, "x"]]}}}),
        );
    }
    serde_json::to_string(&json!({"Resources": Value::Object(res)})).expect("JSON")
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let none = BTreeMap::new();
    for resources in [2_000, 10_000, 20_000] {
        let units = resources / 5;
        let old = generated(units, "", false);
        let new = generated(units, "", true);
        let renamed = generated(units, "X", false);
        let runs = if resources > 10_000 { 5 } else { 10 };
        measure(
            &format!("check, {resources} resources"),
            "findings",
            runs,
            &|| {
                let t = Template::from_json_str(&old).expect("parses");
                check_stack("Big", &t, &none).findings.len()
            },
        );
        let diff = |a: &str, b: &str| {
            let (before, after) = (
                Template::from_json_str(a).expect("parses"),
                Template::from_json_str(b).expect("parses"),
            );
            let ctx = DiffContext::from_stacks([("Big", &after)]);
            render::text(&[diff_stack("Big", &before, &after, &ctx)], false).len()
        };
        measure(
            &format!("diff, {resources} resources, 1 in 5 replaced"),
            "bytes out",
            runs,
            &|| diff(&old, &new),
        );
        measure(
            &format!("diff, {resources} resources, all renamed"),
            "bytes out",
            runs,
            &|| diff(&old, &renamed),
        );
    }
    for resources in [5_000, 20_000] {
        let (old, new) = (chain(resources, "a"), chain(resources, "b"));
        measure(
            &format!("diff, a replacement chain of {resources}"),
            "bytes out",
            5,
            &|| {
                let (before, after) = (
                    Template::from_json_str(&old).expect("parses"),
                    Template::from_json_str(&new).expect("parses"),
                );
                let ctx = DiffContext::from_stacks([("Big", &after)]);
                render::text(&[diff_stack("Big", &before, &after, &ctx)], false).len()
            },
        );
    }
    let n = 1_000_000;
    let deep = format!("Resources:\n  Q: {}{}\n", "[".repeat(n), "]".repeat(n));
    measure("refuse YAML nested 1,000,000 deep", "bytes in", 10, &|| {
        assert!(Template::from_yaml_str(&deep).is_err());
        deep.len()
    });
    let many: Vec<String> = (0..20_001)
        .map(|i| format!("\"Q{i}\": {{\"Type\": \"AWS::SQS::Queue\"}}"))
        .collect();
    let many = format!("{{\"Resources\": {{{}}}}}", many.join(","));
    measure("refuse 20,001 resources", "bytes in", 10, &|| {
        assert!(Template::from_json_str(&many).is_err());
        many.len()
    });
}
