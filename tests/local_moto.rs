//! `ordersctl local run` against a moto server on 127.0.0.1: the blueprints' flows end to
//! end, judged by their business outcomes in the endpoint's DynamoDB and SQS and by the trace.

use std::path::Path;
use std::process::{Command, Output};

use aws_sdk_dynamodb::types::AttributeValue;
use moto_harness::MotoServer;
use ordersctl::local::trace::{parse, Hop};
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/local");

fn ordersctl(args: &[&str]) -> Output {
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
fn local_run(moto: &MotoServer, dir: &Path, stack_or_app: &[&str], inject: &Path) -> Vec<Hop> {
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

async fn sdk(moto: &MotoServer) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto.endpoint())
        .region(aws_config::Region::new(moto_harness::REGION))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}

async fn scan(
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
async fn drain(moto: &MotoServer, queue: &str) -> Vec<String> {
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

fn count(hops: &[Hop], kind: &str, outcome: &str) -> usize {
    hops.iter()
        .filter(|h| h.kind == kind && h.outcome == outcome)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn order_pipeline_stores_an_order_once_and_dead_letters_a_poison_message_after_three_receives(
) {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let hops = local_run(
        &moto,
        dir.path(),
        &["OrderPipeline"],
        &Path::new(FIXTURES).join("order-pipeline.json"),
    );

    let injected: Vec<&Hop> = hops.iter().filter(|h| h.kind == "inject").collect();
    assert_eq!(injected.len(), 4);
    let poison = injected[3].message_ids[0].clone();
    // Three deliveries of the poison message to the function, then the redrive.
    let deliveries = hops
        .iter()
        .filter(|h| h.kind == "esm" && h.message_ids.contains(&poison))
        .count();
    assert_eq!(deliveries, 3, "{hops:#?}");
    let redrive: Vec<&Hop> = hops.iter().filter(|h| h.kind == "redrive").collect();
    assert_eq!(redrive.len(), 1);
    assert_eq!(
        (redrive[0].from.as_str(), redrive[0].to.as_str()),
        ("OrderCreatedQueue", "OrderCreatedDLQ")
    );
    assert_eq!(redrive[0].message_ids, vec![poison]);
    // Every grant is in place: no call was denied.
    assert_eq!(count(&hops, "call", "denied"), 0);
    // The redeliveries waited the queue's 60 s visibility timeout on the engine's clock.
    let esm: Vec<&Hop> = hops.iter().filter(|h| h.kind == "esm").collect();
    assert!(
        esm[1].time > esm[0].time && esm[2].time > esm[1].time,
        "{esm:#?}"
    );
    assert_eq!(esm[0].correlation_id.as_deref(), Some("corr-o-1"));

    let items = scan(&moto, "Orders").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["orderId"], AttributeValue::S("o-1".into()));
    assert_eq!(items[0]["status"], AttributeValue::S("CONFIRMED".into()));
    assert_eq!(
        drain(&moto, "OrderCreatedDLQ").await,
        vec!["this is not JSON".to_string()]
    );
    assert!(drain(&moto, "OrderCreatedQueue").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grant_removed_from_the_role_denies_exactly_that_call() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let asm = dir.path().join("asm");
    let o = ordersctl(&["synth", "--out", asm.to_str().unwrap()]);
    assert!(o.status.success());
    // A test template: the processor's role loses its table grant; one receive before the DLQ.
    let file = asm.join("OrderPipeline.template.json");
    let mut t: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let statements = t["Resources"]["OrderProcessorServiceRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"]
        .as_array_mut()
        .unwrap();
    let before = statements.len();
    statements.retain(|s| !s["Action"].to_string().contains("dynamodb:PutItem"));
    assert_eq!(statements.len(), before - 1);
    t["Resources"]["OrderCreatedQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] =
        1.into();
    std::fs::write(&file, serde_json::to_string_pretty(&t).unwrap()).unwrap();
    let inject = dir.path().join("one-order.json");
    std::fs::write(
        &inject,
        r#"[{"queue": "OrderCreatedQueue", "body": {"orderId": "o-9", "customerId": "c-9", "items": [{"sku": "B"}], "totalAmount": 3, "createdAt": "2026-12-01T11:00:00Z"}}]"#,
    )
    .unwrap();

    let hops = local_run(
        &moto,
        dir.path(),
        &["OrderPipeline", "--app", asm.to_str().unwrap()],
        &inject,
    );
    let denied: Vec<&Hop> = hops.iter().filter(|h| h.outcome == "denied").collect();
    assert_eq!(denied.len(), 1, "{hops:#?}");
    assert_eq!(denied[0].from, "OrderProcessor");
    assert_eq!(
        denied[0].error.as_deref(),
        Some("dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table/Orders")
    );
    assert!(scan(&moto, "Orders").await.is_empty());
    assert_eq!(drain(&moto, "OrderCreatedDLQ").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn event_consumer_processes_each_event_once_retries_dead_letters_and_runs_its_workflow() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let hops = local_run(
        &moto,
        dir.path(),
        &["EventConsumer"],
        &Path::new(FIXTURES).join("event-consumer.json"),
    );

    // Four events match the rule; the one from another source does not.
    assert_eq!(count(&hops, "rule", "matched"), 4);
    assert_eq!(count(&hops, "rule", "unmatched"), 1);
    let processor: Vec<&Hop> = hops
        .iter()
        .filter(|h| h.kind == "invoke" && h.to == "EventProcessor")
        .collect();
    let outcomes: Vec<&str> = processor.iter().map(|h| h.outcome.as_str()).collect();
    // o-1 twice; p-1 crashes once then succeeds on Lambda's retry; p-2 crashes on all three attempts.
    assert_eq!(
        outcomes,
        ["ok", "ok", "failed", "ok", "failed", "failed", "failed"],
        "{processor:#?}"
    );
    assert_eq!(count(&hops, "call", "denied"), 0);
    let dead: Vec<&Hop> = hops.iter().filter(|h| h.kind == "destination").collect();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].to.as_str(), dead[0].outcome.as_str()),
        ("EventProcessorDLQ", "on-failure")
    );

    // The effect ran once per event: one PROCESSED record for o-1 (sent twice) and p-1.
    let db = aws_sdk_dynamodb::Client::new(&sdk(&moto).await);
    let tables = db.list_tables().send().await.unwrap();
    let table = tables
        .table_names()
        .iter()
        .find(|t| t.contains("IdempotencyTable"))
        .expect("the idempotency table")
        .clone();
    let mut processed: Vec<String> = scan(&moto, &table)
        .await
        .iter()
        .filter_map(|i| {
            i.get("id")
                .and_then(|v| v.as_s().ok())
                .filter(|id| id.starts_with("PROCESSED#"))
                .cloned()
        })
        .collect();
    processed.sort();
    assert_eq!(
        processed,
        [
            "PROCESSED#OrderCreated:o-1",
            "PROCESSED#PaymentProcessed:p-1"
        ]
    );
    // p-2's invocation record went to the on-failure destination.
    let records = drain(&moto, "EventProcessorDLQ").await;
    assert_eq!(records.len(), 1);
    let record: Value = serde_json::from_str(&records[0]).unwrap();
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(record["requestPayload"]["detail"]["id"], "p-2");

    // The ETL workflow loads a good batch and fails a bad one cleanly.
    let ends: Vec<&Hop> = hops
        .iter()
        .filter(|h| h.kind == "execution" && h.to == "end")
        .collect();
    assert_eq!(ends.len(), 2);
    assert_eq!(ends[0].outcome, "failed");
    assert!(
        ends[0].error.as_deref().unwrap().starts_with("EtlFailed"),
        "{ends:#?}"
    );
    assert_eq!(ends[1].outcome, "succeeded");
    assert!(ends[1]
        .detail
        .as_deref()
        .unwrap()
        .contains("\"status\":\"LOADED\""));
    // The daily schedule ran the maintenance function.
    assert_eq!(count(&hops, "schedule", "fired"), 1);
    assert!(hops
        .iter()
        .any(|h| h.kind == "invoke" && h.from == "DailyMaintenance" && h.outcome == "ok"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_one_clear_sentence_and_exit_1() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let fail = |args: &[&str]| {
        let o = ordersctl(args);
        assert_eq!(o.status.code(), Some(1));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let endpoint = moto.endpoint();
    let trace = dir.path().join("trace.jsonl");

    // A malformed file names the entry and field, before anything starts.
    let bad = write("bad.json", r#"[{"queue": "OrderCreatedQueue"}]"#);
    assert!(fail(&[
        "local",
        "run",
        "OrderPipeline",
        "--inject",
        bad.to_str().unwrap()
    ])
    .contains("entry 0, field `body`: is required"));
    // An unknown name lists the candidates; no trace is written.
    let unknown = write("unknown.json", r#"[{"queue": "OrderQueue", "body": "x"}]"#);
    let e = fail(&[
        "local",
        "run",
        "OrderPipeline",
        "--inject",
        unknown.to_str().unwrap(),
        "--endpoint-url",
        &endpoint,
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert!(e.contains("no queue named `OrderQueue`; queues: OrderPipeline/OrderCreatedDLQ, OrderPipeline/OrderCreatedQueue"), "{e}");
    assert!(!trace.exists());
    // What the engine cannot run is refused up front, each named.
    let ok = write("ok.json", "[]");
    let e = fail(&[
        "local",
        "run",
        "DurableChain",
        "--inject",
        ok.to_str().unwrap(),
        "--endpoint-url",
        &endpoint,
    ]);
    assert!(
        e.contains("DurableChain/")
            && e.contains("durable functions are not run by the local engine yet"),
        "{e}"
    );
    // Never anything but loopback.
    let e = fail(&[
        "local",
        "run",
        "OrderPipeline",
        "--inject",
        ok.to_str().unwrap(),
        "--endpoint-url",
        "http://10.1.2.3:5000",
    ]);
    assert!(e.contains("only talk to a server on this machine"), "{e}");
    let e = fail(&[
        "local",
        "run",
        "NoSuchStack",
        "--inject",
        ok.to_str().unwrap(),
    ]);
    assert!(e.contains("no stack named `NoSuchStack`"), "{e}");
    let e = fail(&["local", "trace", "x", "--trace", bad.to_str().unwrap()]);
    assert!(e.contains("line 1: not a trace hop"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn local_up_runs_until_interrupted_and_local_send_injects_into_it() {
    use std::io::BufRead;
    let moto = MotoServer::start();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let mut up = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args([
            "local",
            "up",
            "OrderPipeline",
            "--endpoint-url",
            &moto.endpoint(),
            "--control-port",
            &port,
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stderr = up.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            eprintln!("up: {line}");
            let _ = tx.send(line);
        }
    });
    let wait_for = |needle: &str| loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("local up went quiet");
        if line.contains(needle) {
            return line;
        }
    };
    wait_for("running; inject with");
    let send = |entry: &str| {
        Command::new(env!("CARGO_BIN_EXE_ordersctl"))
            .args(["local", "send", "--control-port", &port, entry])
            .output()
            .unwrap()
    };
    let o = send(
        r#"{"queue": "OrderCreatedQueue", "body": {"orderId": "o-up", "customerId": "c", "items": [1], "totalAmount": 2, "createdAt": "2026-12-01T12:00:00Z"}}"#,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let hop = wait_for("esm ");
    assert!(
        hop.contains("OrderCreatedQueue -> OrderProcessor  ok"),
        "{hop}"
    );
    // A bad name is refused by the running engine, naming the candidates.
    let o = send(r#"{"queue": "Nope", "body": "x"}"#);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("queues: OrderPipeline/OrderCreatedDLQ"));
    assert_eq!(scan(&moto, "Orders").await.len(), 1);

    let killed = Command::new("kill")
        .args(["-INT", &up.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(up.wait().unwrap().success());
    wait_for("stopped after");
}

#[tokio::test(flavor = "multi_thread")]
async fn task_tokens_are_answered_by_injections_or_time_out_on_the_engine_clock() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let asm = dir.path().join("asm");
    assert!(ordersctl(&["synth", "--out", asm.to_str().unwrap()])
        .status
        .success());
    // A test template: EventConsumer's workflow becomes an approval that waits for a task
    // token sent through a queue, for at most a day.
    let file = asm.join("EventConsumer.template.json");
    let mut t: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    t["Resources"]["EtlWorkflow"]["Properties"]["Definition"] = serde_json::json!({
        "StartAt": "Await",
        "States": {
            "Await": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": {"Ref": "MaintenanceDLQ"}, "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.orderId"}},
                "TimeoutSeconds": 86400,
                "Catch": [
                    {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Expired"},
                    {"ErrorEquals": ["Rejected"], "ResultPath": "$.error", "Next": "Release"}
                ],
                "Next": "Approved"},
            "Approved": {"Type": "Succeed"},
            "Release": {"Type": "Pass", "Result": "released", "End": true},
            "Expired": {"Type": "Fail", "Error": "ApprovalExpired", "Cause": "nobody answered"}
        }
    });
    let statements = t["Resources"]["EtlWorkflowRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"]
        .as_array_mut()
        .unwrap();
    statements.push(serde_json::json!({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["MaintenanceDLQ", "Arn"]}}));
    std::fs::write(&file, serde_json::to_string_pretty(&t).unwrap()).unwrap();
    let inject = dir.path().join("approvals.json");
    std::fs::write(
        &inject,
        r#"[
        {"start_execution": "EtlWorkflow", "input": {"orderId": "o-1"}},
        {"start_execution": "EtlWorkflow", "input": {"orderId": "o-2"}},
        {"start_execution": "EtlWorkflow", "input": {"orderId": "o-3"}},
        {"idle": true},
        {"task_token": {"state": "Await", "success": {"approved": true}}},
        {"task_token": {"state": "Await", "failure": {"error": "Rejected", "cause": "out of stock"}}},
        {"idle": true},
        {"advance": "P1D"}
    ]"#,
    )
    .unwrap();

    let hops = local_run(
        &moto,
        dir.path(),
        &["EventConsumer", "--app", asm.to_str().unwrap()],
        &inject,
    );
    let ends: Vec<&Hop> = hops
        .iter()
        .filter(|h| h.kind == "execution" && h.to == "end")
        .collect();
    let ends_seen: Vec<(String, String, String, String)> = ends
        .iter()
        .map(|h| {
            (
                h.outcome.clone(),
                h.error.clone().unwrap_or_default(),
                h.detail.clone().unwrap_or_default(),
                h.time.clone(),
            )
        })
        .collect();
    assert_eq!(ends_seen.len(), 3, "{hops:#?}");
    // First answered with success, the second rejected (caught, released), the third expired a
    // day later on the engine's clock.
    assert_eq!(ends_seen[0].0, "succeeded");
    assert_eq!(ends_seen[1].0, "succeeded");
    assert_eq!(ends_seen[1].2, "\"released\"");
    assert_eq!(ends_seen[2].0, "failed");
    assert!(
        ends_seen[2].1.starts_with("ApprovalExpired"),
        "{:?}",
        ends_seen[2]
    );
    let first = hops
        .iter()
        .find(|h| h.kind == "execution")
        .unwrap()
        .time
        .clone();
    assert!(
        ends_seen[2].3.as_str()
            >= first
                .replacen(&first[..10], &next_day(&first[..10]), 1)
                .as_str(),
        "{} vs {first}",
        ends_seen[2].3
    );
    // Each waiting task sent its token through the queue.
    let bodies = drain(&moto, &queue_named(&moto, "MaintenanceDLQ").await).await;
    assert_eq!(bodies.len(), 3);
    assert!(bodies
        .iter()
        .all(|b| serde_json::from_str::<Value>(b).unwrap()["token"]
            .as_str()
            .is_some_and(|t| t.contains(":Await:"))));
}

/// The physical name of a queue whose name contains `part` (generated names).
async fn queue_named(moto: &MotoServer, part: &str) -> String {
    let sqs = aws_sdk_sqs::Client::new(&sdk(moto).await);
    let urls = sqs.list_queues().send().await.unwrap();
    let url = urls
        .queue_urls()
        .iter()
        .find(|u| u.contains(part))
        .expect("the queue")
        .clone();
    url.rsplit('/').next().unwrap().to_string()
}

/// `YYYY-MM-DD` of the day after.
fn next_day(date: &str) -> String {
    let days_in = |y: i32, m: u32| match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let (y, m, d): (i32, u32, u32) = (
        date[..4].parse().unwrap(),
        date[5..7].parse().unwrap(),
        date[8..10].parse().unwrap(),
    );
    let (y, m, d) = if d < days_in(y, m) {
        (y, m, d + 1)
    } else if m < 12 {
        (y, m + 1, 1)
    } else {
        (y + 1, 1, 1)
    };
    format!("{y:04}-{m:02}-{d:02}")
}

#[tokio::test(flavor = "multi_thread")]
async fn order_saga_takes_an_order_over_http_and_cancels_it_when_nothing_is_in_stock() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let hops = local_run(
        &moto,
        dir.path(),
        &["OrderSaga"],
        &Path::new(FIXTURES).join("order-saga.json"),
    );

    // The authorized request is accepted, the one without a token refused at the authorizer.
    let http: Vec<&str> = hops
        .iter()
        .filter(|h| h.kind == "http")
        .map(|h| h.outcome.as_str())
        .collect();
    assert_eq!(http, ["202", "401"], "{hops:#?}");
    // OrderPlaced fans out to the payment queue and the saga.
    assert_eq!(count(&hops, "rule", "matched"), 2);
    assert!(hops
        .iter()
        .any(|h| h.kind == "esm" && h.to.contains("PaymentWorker") && h.outcome == "ok"));
    // No stock exists, so the reservation fails, is retried, and the saga cancels the order.
    let end = hops
        .iter()
        .find(|h| h.kind == "execution" && h.to == "end")
        .expect("the saga ended");
    assert_eq!(end.outcome, "failed");
    assert!(
        end.error.as_deref().unwrap().starts_with("OrderCancelled"),
        "{end:?}"
    );
    assert!(count(&hops, "state", "retry") >= 1);
    // The order's changes reach the stream publisher through the table's stream.
    assert!(hops.iter().any(|h| h.kind == "esm"
        && h.from.ends_with("/stream")
        && h.to.contains("OrderStreamPublisher")
        && h.outcome == "ok"));
    let db = aws_sdk_dynamodb::Client::new(&sdk(&moto).await);
    let tables = db.list_tables().send().await.unwrap();
    let orders = tables
        .table_names()
        .iter()
        .find(|t| t.contains("-Orders-"))
        .expect("the orders table")
        .clone();
    let items = scan(&moto, &orders).await;
    let order = items
        .iter()
        .find(|i| i.get("orderId") == Some(&AttributeValue::S("ord-1001".into())))
        .expect("ord-1001 stored");
    assert_eq!(
        order.get("status"),
        Some(&AttributeValue::S("CANCELLED".into())),
        "{order:?}"
    );
    assert!(!items
        .iter()
        .any(|i| i.get("orderId") == Some(&AttributeValue::S("ord-1002".into()))));
    // The notification subscription takes gold e-mail notifications only, delivered raw.
    let subs: Vec<&str> = hops
        .iter()
        .filter(|h| h.kind == "subscription")
        .map(|h| h.outcome.as_str())
        .collect();
    assert_eq!(subs, ["delivered", "filtered"]);
    assert!(hops
        .iter()
        .any(|h| h.kind == "esm" && h.to.contains("Notifier") && h.outcome == "ok"));
}

#[tokio::test(flavor = "multi_thread")]
async fn omnichannel_orders_flow_from_the_api_through_the_queue_table_stream_pipe_and_bus() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    // Naming OmniApi brings the two stacks it imports from.
    let hops = local_run(
        &moto,
        dir.path(),
        &["OmniApi"],
        &Path::new(FIXTURES).join("omnichannel.json"),
    );

    let http: Vec<&Hop> = hops.iter().filter(|h| h.kind == "http").collect();
    let codes: Vec<&str> = http.iter().map(|h| h.outcome.as_str()).collect();
    // Accepted onto the ingest queue directly; refused without a token; read back; unknown.
    assert_eq!(codes, ["202", "401", "200", "404"], "{hops:#?}");
    assert!(http[0].to.contains("IngestQueue"));
    assert!(
        http[2].detail.as_deref().unwrap().contains("ord-3001"),
        "{:?}",
        http[2]
    );
    // The worker stores the order; its INSERT goes through the table's stream to the pipe
    // (OrderCreated on the lakeside bus, recorded by the archive) and to the projector.
    assert!(hops
        .iter()
        .any(|h| h.kind == "esm" && h.to.contains("OrderIngestWorker") && h.outcome == "ok"));
    let pipe: Vec<&Hop> = hops.iter().filter(|h| h.kind == "pipe").collect();
    assert_eq!(pipe.len(), 1, "{hops:#?}");
    assert_eq!(
        (pipe[0].to.as_str(), pipe[0].outcome.as_str()),
        ("lakeside-orders", "ok")
    );
    assert_eq!(count(&hops, "archive", "recorded"), 1);
    assert!(hops.iter().any(|h| h.kind == "esm"
        && h.from.ends_with("/stream")
        && h.to.contains("StatusProjector")
        && h.outcome == "ok"));
    // The fan-out rules deliver to their consumers, and the saga starts once.
    let rules: Vec<&str> = hops
        .iter()
        .filter(|h| h.kind == "rule" && h.outcome == "matched")
        .map(|h| h.to.as_str())
        .collect();
    assert_eq!(
        rules,
        [
            "InventoryRoute",
            "LoyaltyRoute",
            "MarketplaceSyncRoute",
            "StartSaga"
        ]
    );
    for consumer in [
        "InventoryConsumer",
        "LoyaltyConsumer",
        "MarketplaceSyncConsumer",
    ] {
        assert!(
            hops.iter()
                .any(|h| h.kind == "esm" && h.to.contains(consumer) && h.outcome == "ok"),
            "{consumer}"
        );
    }
    assert_eq!(count(&hops, "execution", "started"), 1);
    assert_eq!(count(&hops, "call", "denied"), 0);
}
