//! `ordersctl local` against a moto server on 127.0.0.1: the blueprints' flows end to end,
//! judged by their business outcomes in the endpoint's DynamoDB and SQS and by the trace
//! (one file per blueprint), and the engine's own behaviour: IAM, task tokens, `up`/`send`,
//! bad input (`engine.rs`).

mod engine;
mod event_consumer;
mod omnichannel;
mod order_pipeline;
mod order_saga;

use std::path::Path;
use std::process::{Command, Output};

use aws_sdk_dynamodb::types::AttributeValue;
use moto_harness::MotoServer;
use ordersctl::local::trace::{parse, Hop};

pub(crate) const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/local");

pub(crate) fn ordersctl(args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(args)
        .output()
        .expect("run ordersctl");
    eprintln!(
        "$ ordersctl {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// `local run` on `moto`; returns the trace.
pub(crate) fn local_run(
    moto: &MotoServer,
    dir: &Path,
    stack_or_app: &[&str],
    inject: &Path,
) -> Vec<Hop> {
    let trace = dir.join("trace.jsonl");
    let mut args = vec!["local", "run"];
    args.extend_from_slice(stack_or_app);
    let endpoint = moto.endpoint();
    args.extend([
        "--inject",
        inject.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
        "--endpoint-url",
        &endpoint,
    ]);
    let o = ordersctl(&args);
    assert!(
        o.status.success(),
        "local run failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    parse(&std::fs::read_to_string(&trace).unwrap()).unwrap()
}

pub(crate) async fn sdk(moto: &MotoServer) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto.endpoint())
        .region(aws_config::Region::new(moto_harness::REGION))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}

pub(crate) async fn scan(
    moto: &MotoServer,
    table: &str,
) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    let db = aws_sdk_dynamodb::Client::new(&sdk(moto).await);
    db.scan()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .items()
        .to_vec()
}

/// Every message on a queue (by name), each received once.
pub(crate) async fn drain(moto: &MotoServer, queue: &str) -> Vec<String> {
    let sqs = aws_sdk_sqs::Client::new(&sdk(moto).await);
    let url = sqs
        .get_queue_url()
        .queue_name(queue)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let mut bodies = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(300)
            .send()
            .await
            .unwrap();
        if out.messages().is_empty() {
            return bodies;
        }
        bodies.extend(
            out.messages()
                .iter()
                .map(|m| m.body().unwrap_or_default().to_string()),
        );
    }
}

pub(crate) type Item = std::collections::HashMap<String, AttributeValue>;

/// Every item of the table whose (deployed, generated) name contains `part`.
pub(crate) async fn table(moto: &MotoServer, part: &str) -> Vec<Item> {
    let db = aws_sdk_dynamodb::Client::new(&sdk(moto).await);
    let tables = db.list_tables().send().await.unwrap();
    let name = tables
        .table_names()
        .iter()
        .find(|t| t.contains(part))
        .unwrap_or_else(|| panic!("a table named *{part}*"))
        .clone();
    scan(moto, &name).await
}

/// A string or number attribute as text.
pub(crate) fn text(item: &Item, k: &str) -> String {
    match item.get(k) {
        Some(AttributeValue::S(v) | AttributeValue::N(v)) => v.clone(),
        other => panic!("{k}: {other:?} in {item:?}"),
    }
}

/// The items whose string attribute `k` is `v`.
pub(crate) fn find<'a>(items: &'a [Item], k: &str, v: &str) -> Vec<&'a Item> {
    items
        .iter()
        .filter(|i| i.get(k) == Some(&AttributeValue::S(v.into())))
        .collect()
}

pub(crate) fn count(hops: &[Hop], kind: &str, outcome: &str) -> usize {
    hops.iter()
        .filter(|h| h.kind == kind && h.outcome == outcome)
        .count()
}
