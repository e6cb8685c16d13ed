//! The engine itself: a missing grant, task tokens on the clock, `local up` and `local send`,
//! bad input.

use std::process::Command;

use moto_harness::MotoServer;
use ordersctl::local::trace::Hop;
use serde_json::Value;

use crate::{drain, local_run, ordersctl, scan, sdk};

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
