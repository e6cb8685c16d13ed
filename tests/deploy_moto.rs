//! The whole path against a real CloudFormation-compatible API on 127.0.0.1 (moto server):
//! bootstrap, deploy OrderPipeline, check what exists through the SQS, DynamoDB and Lambda
//! APIs, invoke the bundled handler locally against the deployed table, redeploy unchanged,
//! apply one change, destroy.

use std::path::Path;
use std::process::{Command, Output};

use moto_harness::MotoServer;

fn ordersctl(moto: &MotoServer, args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(args)
        .envs(moto.env())
        .output()
        .expect("run ordersctl");
    eprintln!(
        "$ ordersctl {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
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

fn set_visibility(template: &Path, secs: u64) {
    let mut t: serde_json::Value =
        serde_json::from_slice(&std::fs::read(template).unwrap()).unwrap();
    t["Resources"]["OrderCreatedQueue"]["Properties"]["VisibilityTimeout"] =
        serde_json::json!(secs);
    std::fs::write(template, serde_json::to_string_pretty(&t).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bootstrap_deploy_invoke_update_destroy() {
    let moto = MotoServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let asm = tmp.path().join("asm");
    let asm_s = asm.to_str().unwrap();

    let boot = ordersctl(&moto, &["bootstrap"]);
    ok(&boot);
    assert!(ok(&ordersctl(&moto, &["bootstrap"])).contains("OrdersctlToolkit: no changes"));

    let first = ok(&ordersctl(
        &moto,
        &["deploy", "OrderPipeline", "--yes", "--out", asm_s],
    ));
    assert!(first.contains("OrderPipeline: deployed"), "{first}");

    let config = sdk(&moto).await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let url = sqs
        .get_queue_url()
        .queue_name("OrderCreatedQueue")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    use aws_sdk_sqs::types::QueueAttributeName as A;
    assert_eq!(attrs[&A::VisibilityTimeout], "60");
    assert_eq!(attrs[&A::MessageRetentionPeriod], "604800");
    assert!(
        attrs[&A::RedrivePolicy].contains("OrderCreatedDLQ")
            && attrs[&A::RedrivePolicy].contains('3'),
        "{attrs:?}"
    );

    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let table = ddb
        .describe_table()
        .table_name("Orders")
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let keys: Vec<(String, String)> = table
        .key_schema()
        .iter()
        .map(|k| {
            (
                k.attribute_name().to_string(),
                k.key_type().as_str().to_string(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("orderId".to_string(), "HASH".to_string()),
            ("createdAt".to_string(), "RANGE".to_string())
        ]
    );
    assert_eq!(
        table.global_secondary_indexes()[0].index_name(),
        Some("CustomerIndex")
    );

    let lambda = aws_sdk_lambda::Client::new(&config);
    let f = lambda
        .get_function()
        .function_name("OrderProcessor")
        .send()
        .await
        .unwrap()
        .configuration
        .unwrap();
    assert_eq!(f.runtime().map(|r| r.as_str()), Some("provided.al2023"));
    assert_eq!(
        (f.memory_size(), f.timeout(), f.handler()),
        (Some(256), Some(10), Some("bootstrap"))
    );

    // The bundled handler, run locally three times on the same event against the deployed
    // table: the order is stored once.
    let event = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("handlers/order-processor/events/sqs-orders.json");
    for _ in 0..3 {
        let o = ordersctl(
            &moto,
            &[
                "invoke",
                "OrderProcessor",
                "--event",
                event.to_str().unwrap(),
                "--env",
                "TABLE_NAME=Orders",
                "--out",
                asm_s,
            ],
        );
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        ok(&o);
        let response: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(
            response["batchItemFailures"],
            serde_json::json!([]),
            "{stdout}"
        );
    }
    let items = ddb.scan().table_name("Orders").send().await.unwrap();
    let ids: Vec<_> = items
        .items()
        .iter()
        .filter_map(|i| i.get("orderId")?.as_s().ok().cloned())
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        ids.len(),
        unique.len(),
        "an order was stored twice: {ids:?}"
    );
    assert!(!ids.is_empty());

    // Unchanged: no change set executed.
    let again = ok(&ordersctl(
        &moto,
        &["deploy", "OrderPipeline", "--yes", "--out", asm_s],
    ));
    assert!(again.contains("OrderPipeline: no changes"), "{again}");

    // diff against the deployed stack: nothing; then exactly the one changed property.
    let same = ordersctl(&moto, &["diff", "OrderPipeline", "--fail"]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stdout)
    );
    set_visibility(&asm.join("OrderPipeline.template.json"), 120);
    let changed = ordersctl(
        &moto,
        &["diff", "OrderPipeline", "--app", asm_s, "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&changed.stdout).unwrap();
    let resources = v["stacks"][0]["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 1, "{v:#}");
    assert_eq!(resources[0]["logicalId"], "OrderCreatedQueue");
    let changes = resources[0]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{v:#}");
    assert_eq!(
        (
            &changes[0]["path"],
            &changes[0]["old"],
            &changes[0]["new"],
            &changes[0]["impact"]
        ),
        (
            &"VisibilityTimeout".into(),
            &60.into(),
            &120.into(),
            &"no-interruption".into()
        )
    );

    // CloudFormation's own view of the same change, through a change set it then deletes.
    let cs = ordersctl(
        &moto,
        &["diff", "OrderPipeline", "--app", asm_s, "--change-set"],
    );
    let cs_out = String::from_utf8_lossy(&cs.stdout);
    assert!(
        cs_out.contains("OrderPipeline: Modify  OrderCreatedQueue (AWS::SQS::Queue)"),
        "{cs_out}"
    );
    assert!(cs_out.ends_with("(change set)\n"), "{cs_out}");

    // One property changed in the assembly: exactly that update.
    let update = ok(&ordersctl(
        &moto,
        &["deploy", "OrderPipeline", "--yes", "--app", asm_s],
    ));
    assert!(
        update.contains("Modify  OrderCreatedQueue (AWS::SQS::Queue)"),
        "{update}"
    );
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::VisibilityTimeout)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attrs[&A::VisibilityTimeout], "120");

    let gone = ok(&ordersctl(&moto, &["destroy", "OrderPipeline", "--force"]));
    assert!(gone.contains("OrderPipeline: deleted"), "{gone}");
    assert!(
        gone.contains("retained") && gone.contains("OrderProcessorLogGroup"),
        "{gone}"
    );
    assert!(sqs
        .get_queue_url()
        .queue_name("OrderCreatedQueue")
        .send()
        .await
        .is_err());
}

/// Put a stand-in zip where bundling would put each asset of the assembly, so deploy uploads
/// it instead of compiling: this test is about stack order, not bundling (which the test
/// above and tests/bundle_invoke.rs cover). moto stores Lambda code without running it.
fn stand_in_assets(asm: &Path) {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(asm.join("manifest.json")).unwrap()).unwrap();
    let assets = asm.join("assets");
    std::fs::create_dir_all(&assets).unwrap();
    for stack in manifest["stacks"].as_object().unwrap().values() {
        for a in stack["assets"].as_array().unwrap() {
            let path = assets.join(a["s3Key"].as_str().unwrap());
            let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
            zip.start_file("bootstrap", zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(&mut zip, b"#!/bin/sh\n").unwrap();
            zip.finish().unwrap();
        }
    }
}

fn drop_outputs(template: &Path) {
    let mut t: serde_json::Value =
        serde_json::from_slice(&std::fs::read(template).unwrap()).unwrap();
    t.as_object_mut().unwrap().remove("Outputs");
    std::fs::write(template, serde_json::to_string_pretty(&t).unwrap()).unwrap();
}

async fn stack_names(moto: &MotoServer) -> Vec<String> {
    let cfn = aws_sdk_cloudformation::Client::new(&sdk(moto).await);
    let out = cfn.describe_stacks().send().await.unwrap();
    let mut names: Vec<String> = out
        .stacks()
        .iter()
        .filter(|s| s.stack_status().map(|s| s.as_str()) != Some("DELETE_COMPLETE"))
        .filter_map(|s| s.stack_name().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn omni_stacks_in_dependency_order_direct_method_and_destroy_all() {
    let moto = MotoServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let asm = tmp.path().join("asm");
    let asm_s = asm.to_str().unwrap();
    ok(&ordersctl(&moto, &["bootstrap"]));
    ok(&ordersctl(&moto, &["synth", "--out", asm_s]));
    stand_in_assets(&asm);

    // A parameter without a default must be given; nothing is touched until it is.
    let missing = ordersctl(&moto, &["deploy", "OmniApi", "--yes", "--app", asm_s]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(stack_names(&moto).await, ["OrdersctlToolkit"]);
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("parameters without a default need a value (--parameters KEY=VALUE): OmniServices.NotificationEmail, OmniServices.NotificationPhone, OmniApi.JwtAudience, OmniApi.JwtIssuer"),
        "{missing:?}"
    );

    // Naming OmniApi brings the stacks it imports from, deployed first. Without change sets:
    // moto registers a stack's exports on CreateStack but not when it executes a change set
    // (moto 5.2.5, cloudformation/models.py execute_change_set), so imports only resolve here.
    let direct = [
        "deploy",
        "OmniApi",
        "--yes",
        "--method",
        "direct",
        "--app",
        asm_s,
        "--parameters",
        "NotificationEmail=ops@example.com",
        "--parameters",
        "NotificationPhone=+15550100",
        "--parameters",
        "JwtIssuer=https://auth.example.com/",
        "--parameters",
        "JwtAudience=orders-api",
    ];
    let first = ordersctl(&moto, &direct);
    let first_err = String::from_utf8_lossy(&first.stderr).into_owned();
    assert_eq!(first.status.code(), Some(1), "{first_err}");
    let at = |s: &str| {
        first_err
            .find(&format!("{s}: deployed"))
            .unwrap_or_else(|| panic!("{s} not deployed:\n{first_err}"))
    };
    assert!(at("OmniData") < at("OmniServices"), "{first_err}");
    // moto has no CloudFormation model of AWS::ApiGatewayV2::Api and crashes (HTTP 500, no
    // error document) on the output that reads its ApiEndpoint: said plainly, no panic.
    assert!(
        first_err.contains("OmniApi: failed: OmniApi: CreateStack failed: the endpoint failed with HTTP 500 and gave no reason"),
        "{first_err}"
    );
    drop_outputs(&asm.join("OmniApi.template.json"));
    let omni = ok(&ordersctl(&moto, &direct));
    assert!(omni.contains("OmniData: no changes"), "{omni}");
    assert!(omni.contains("OmniServices: no changes"), "{omni}");
    assert!(omni.contains("OmniApi: deployed"), "{omni}");
    assert_eq!(
        stack_names(&moto).await,
        ["OmniApi", "OmniData", "OmniServices", "OrdersctlToolkit"]
    );
    // The assets were stand-ins; nothing was compiled.
    assert!(!omni.contains("Compiling"), "{omni}");
    // OmniServices exports what OmniApi imports (moto's ListImports fails with HTTP 500).
    let cfn = aws_sdk_cloudformation::Client::new(&sdk(&moto).await);
    let exports = cfn.list_exports().send().await.unwrap();
    assert!(
        exports
            .exports()
            .iter()
            .any(|e| e.name() == Some("OmniServices:IngestQueueArn")),
        "{exports:?}"
    );

    // Nothing changed: the deployed templates equal the assembly's, no update is sent.
    let again = ok(&ordersctl(&moto, &direct));
    for s in ["OmniData", "OmniServices", "OmniApi"] {
        assert!(again.contains(&format!("{s}: no changes")), "{again}");
    }

    // Permissions widen on a first deploy; without a TTY and without --yes nothing runs: the
    // change set stays for review and the stack holds no resources.
    let refused = ordersctl(&moto, &["deploy", "EventConsumer", "--app", asm_s]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("left unexecuted"),
        "{refused:?}"
    );
    let review = cfn
        .describe_stacks()
        .stack_name("EventConsumer")
        .send()
        .await
        .unwrap();
    assert_eq!(
        review.stacks()[0].stack_status().map(|s| s.as_str()),
        Some("REVIEW_IN_PROGRESS")
    );

    let gone = ok(&ordersctl(&moto, &["destroy", "--all", "--force"]));
    let at = |s: &str| {
        gone.find(&format!("{s}: deleted"))
            .unwrap_or_else(|| panic!("{s} not deleted:\n{gone}"))
    };
    assert!(at("OmniApi") < at("OmniServices"), "{gone}");
    assert!(at("OmniServices") < at("OmniData"), "{gone}");
    assert!(gone.contains("EventConsumer: deleted"), "{gone}");
    assert!(gone.contains("OrderSaga: not deployed"), "{gone}");
    assert_eq!(stack_names(&moto).await, ["OrdersctlToolkit"]);
}

/// A TCP relay to moto that holds every chunk the client sends for `delay`: an endpoint slow
/// enough for a signal to land while a deploy is under way.
fn slow_relay(to: u16, delay: std::time::Duration) -> u16 {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    fn pump(mut from: TcpStream, mut to: TcpStream, delay: std::time::Duration) {
        let mut buf = [0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = to.shutdown(Shutdown::Write);
                    return;
                }
                Ok(n) => {
                    std::thread::sleep(delay);
                    if to.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else {
                continue;
            };
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || pump(client, server, delay));
            std::thread::spawn(move || pump(s2, c2, std::time::Duration::ZERO));
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_a_deploy_says_what_is_still_running() {
    use std::io::BufRead;
    let moto = MotoServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let asm = tmp.path().join("asm");
    let asm_s = asm.to_str().unwrap();
    ok(&ordersctl(&moto, &["synth", "--out", asm_s]));

    // OmniData has no assets and no parameters: the deploy goes straight to its change set.
    let relay = slow_relay(moto.port(), std::time::Duration::from_millis(400));
    let mut child = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(["deploy", "OmniData", "--yes", "--app", asm_s])
        .envs(moto.env())
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{relay}"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    let mut lines = stderr.lines();
    // The change set is computed: the deploy is inside the stack loop, where Ctrl-C is handled.
    for line in lines.by_ref() {
        let line = line.unwrap();
        let ready = line.contains("OmniData: Add");
        seen.push(line);
        if ready {
            break;
        }
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    seen.extend(lines.map_while(Result::ok));
    let status = child.wait().unwrap();
    let all = seen.join("\n");
    eprintln!("{all}");
    assert_eq!(status.code(), Some(1), "{all}");
    assert!(
        all.contains("interrupted; nothing more will start"),
        "{all}"
    );
    // Whatever CloudFormation was doing is reported, not cut off.
    assert!(
        all.contains("OmniData: a change set was created and not executed; the stack is unchanged")
            || all.contains("OmniData: CREATE_COMPLETE")
            || all.contains("OmniData: still CREATE_IN_PROGRESS"),
        "{all}"
    );
    assert!(all.contains("error: interrupted"), "{all}");
    // A request already on its way when the signal came still lands (the relay delivers it,
    // as a network would): give it time, then run the same command again, which picks up from
    // whatever state was left.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let again = ok(&ordersctl(
        &moto,
        &["deploy", "OmniData", "--yes", "--app", asm_s],
    ));
    assert!(
        again.contains("OmniData: deployed") || again.contains("OmniData: no changes"),
        "{again}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_protected_stack_is_not_destroyed() {
    let moto = MotoServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let asm = tmp.path().join("asm");
    let asm_s = asm.to_str().unwrap();
    ok(&ordersctl(&moto, &["synth", "--out", asm_s]));
    // Created directly, CreateStack takes the flag (moto has no UpdateTerminationProtection).
    let deployed = ok(&ordersctl(
        &moto,
        &[
            "deploy",
            "OmniData",
            "--yes",
            "--method",
            "direct",
            "--termination-protection",
            "on",
            "--app",
            asm_s,
        ],
    ));
    assert!(deployed.contains("OmniData: deployed"), "{deployed}");
    let refused = ordersctl(&moto, &["destroy", "OmniData", "--force"]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(
        err.contains("OmniData: failed: termination protection is on; turn it off with `ordersctl deploy OmniData --termination-protection off`"),
        "{err}"
    );
    assert!(stack_names(&moto).await.contains(&"OmniData".to_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_each_stack_gets_a_progress_bar() {
    let moto = MotoServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let asm = tmp.path().join("asm");
    let asm_s = asm.to_str().unwrap();
    ok(&ordersctl(&moto, &["synth", "--out", asm_s]));
    // `script` (util-linux) runs the deploy on a pseudo-terminal and copies what it shows.
    let command = format!(
        "{} deploy OmniData --yes --app {asm_s}",
        env!("CARGO_BIN_EXE_ordersctl")
    );
    let out = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .envs(moto.env())
        .output()
        .expect("run script(1)");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    // A bar (indicatif limits its redraws, so which counts show is not pinned).
    assert!(
        screen.contains("OmniData [") && screen.contains("/8 resources"),
        "{screen}"
    );
    // The lines still appear, printed above the bar.
    assert!(
        screen.contains("OmniData Orders CREATE_COMPLETE"),
        "{screen}"
    );
    assert!(screen.contains("OmniData: deployed"), "{screen}");
}
