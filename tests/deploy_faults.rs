//! Deploy through a fault-injecting proxy in front of moto (`moto_harness::fault_proxy`): a
//! matrix of call x fault, each with the message and exit code a user gets; Ctrl-C during a
//! stalled call; two deploys of one stack at once; a tags-only update; and a stack deployed
//! from YAML by another tool, read back by diff and deploy.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use moto_harness::fault_proxy::{Fault, FaultProxy, ALWAYS};
use moto_harness::MotoServer;

mod cli_support;
use cli_support::one_stack_assembly;

/// An assembly of one small stack, `Faulty` (a queue; no assets, no parameters), so a deploy
/// goes straight to its change set.
fn assembly(dir: &Path) -> PathBuf {
    one_stack_assembly(
        dir,
        "Faulty",
        r#"{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}, "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}}}"#,
    )
}

/// `ordersctl deploy Faulty` through the proxy, with short timeouts so a stall ends soon.
fn deploy(moto: &MotoServer, proxy: &FaultProxy, asm: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "deploy",
        "Faulty",
        "--yes",
        "--app",
        asm.to_str().unwrap(),
        "--call-timeout",
        "2",
        "--connect-timeout",
        "2",
    ];
    args.extend_from_slice(extra);
    let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(&args)
        .envs(moto.env())
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .output()
        .expect("run ordersctl");
    eprintln!(
        "$ ordersctl {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// One row of the matrix: before the deploy, `deployed_first` deploys the stack cleanly (and
/// `changed` then edits the template, so an update has work); then `fault` on `call` (after
/// `skip` such calls, for `times`); the exit code and what stderr must say.
struct Case {
    call: &'static str,
    skip: usize,
    times: usize,
    fault: Fault,
    deployed_first: bool,
    changed: bool,
    exit: i32,
    says: &'static [&'static str],
}

fn add_a_second_queue(asm: &Path) {
    std::fs::write(
        asm.join("Faulty.template.json"),
        r#"{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}, "Second": {"Type": "AWS::SQS::Queue"}}, "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}}}"#,
    )
    .unwrap();
}

fn run(case: &Case) {
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.port());
    let tmp = tempfile::tempdir().unwrap();
    let asm = assembly(tmp.path());
    if case.deployed_first {
        assert!(deploy(&moto, &proxy, &asm, &[]).status.success());
    }
    if case.changed {
        add_a_second_queue(&asm);
    }
    proxy.inject_after(case.call, case.skip, case.times, case.fault.clone());
    let started = Instant::now();
    let o = deploy(&moto, &proxy, &asm, &[]);
    let err = stderr(&o).replace(&proxy.endpoint(), "PROXY");
    let label = format!("{} x {:?}", case.call, case.fault);
    eprintln!(
        "{label}: exit {:?} after {:.1} s",
        o.status.code(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(o.status.code(), Some(case.exit), "{label}: {err}");
    for s in case.says {
        assert!(err.contains(s), "{label}: expected {s:?} in:\n{err}");
    }
    assert!(!err.contains("panicked"), "{label}: {err}");
}

fn error(status: u16, code: &str) -> Fault {
    Fault::Error {
        status,
        code: code.into(),
    }
}

#[test]
fn identity_faults_say_what_is_wrong() {
    for case in [
        Case { call: "GetCallerIdentity", skip: 0, times: ALWAYS, fault: Fault::Stall, deployed_first: false, changed: false, exit: 1,
            says: &["PROXY: no answer in time (the limit is --call-timeout"] },
        Case { call: "GetCallerIdentity", skip: 0, times: ALWAYS, fault: Fault::Drop, deployed_first: false, changed: false, exit: 1,
            says: &["the connection to PROXY failed"] },
        Case { call: "GetCallerIdentity", skip: 0, times: ALWAYS, fault: Fault::Empty500, deployed_first: false, changed: false, exit: 1,
            says: &["PROXY refused GetCallerIdentity: the endpoint failed with HTTP 500 and gave no reason"] },
        Case { call: "GetCallerIdentity", skip: 0, times: ALWAYS, fault: error(403, "InvalidClientTokenId"), deployed_first: false, changed: false, exit: 1,
            says: &["cannot get the caller identity (credentials missing or expired?): InvalidClientTokenId: injected by the fault proxy"] },
        // Throttling is retried by the SDK: the deploy goes on.
        Case { call: "GetCallerIdentity", skip: 0, times: 1, fault: Fault::Throttle, deployed_first: false, changed: false, exit: 0,
            says: &["Faulty: deployed"] },
    ] {
        run(&case);
    }
}

#[test]
fn change_set_faults_stop_the_deploy_naming_the_call() {
    for case in [
        Case { call: "CreateChangeSet", skip: 0, times: 1, fault: Fault::Throttle, deployed_first: false, changed: false, exit: 0,
            says: &["Faulty: deployed"] },
        Case { call: "CreateChangeSet", skip: 0, times: ALWAYS, fault: error(500, "InternalFailure"), deployed_first: false, changed: false, exit: 1,
            says: &["Faulty: CreateChangeSet failed", "InternalFailure", "injected by the fault proxy", "failed or skipped: Faulty"] },
        Case { call: "CreateChangeSet", skip: 0, times: ALWAYS, fault: Fault::Stall, deployed_first: false, changed: false, exit: 1,
            says: &["Faulty: CreateChangeSet failed: no answer in time (the limit is --call-timeout"] },
        Case { call: "DescribeChangeSet", skip: 0, times: ALWAYS, fault: Fault::Drop, deployed_first: false, changed: false, exit: 1,
            says: &["Faulty: DescribeChangeSet failed"] },
        Case { call: "ExecuteChangeSet", skip: 0, times: ALWAYS, fault: error(400, "InvalidChangeSetStatus"), deployed_first: true, changed: true, exit: 1,
            says: &["Faulty: ExecuteChangeSet failed", "InvalidChangeSetStatus"] },
        Case { call: "ExecuteChangeSet", skip: 0, times: ALWAYS, fault: Fault::Empty500, deployed_first: true, changed: true, exit: 1,
            says: &["Faulty: ExecuteChangeSet failed: the endpoint failed with HTTP 500 and gave no reason"] },
    ] {
        run(&case);
    }
}

#[test]
fn stack_states_moto_never_reaches_are_handled() {
    for case in [
        // Found before anything is changed.
        Case {
            call: "DescribeStacks",
            skip: 0,
            times: ALWAYS,
            fault: Fault::StackStatus("UPDATE_ROLLBACK_FAILED".into()),
            deployed_first: true,
            changed: true,
            exit: 1,
            says: &[
                "stack Faulty is UPDATE_ROLLBACK_FAILED",
                "--continue-rollback",
            ],
        },
        Case {
            call: "DescribeStacks",
            skip: 0,
            times: ALWAYS,
            fault: Fault::StackStatus("DELETE_FAILED".into()),
            deployed_first: true,
            changed: true,
            exit: 1,
            says: &["Faulty", "DELETE_FAILED"],
        },
        // The update rolls back: two DescribeStacks come before the change set executes.
        Case {
            call: "DescribeStacks",
            skip: 2,
            times: ALWAYS,
            fault: Fault::StackStatus("UPDATE_ROLLBACK_COMPLETE".into()),
            deployed_first: true,
            changed: true,
            exit: 1,
            says: &["Faulty: ended in UPDATE_ROLLBACK_COMPLETE"],
        },
        // The endpoint stops answering while the update is followed.
        Case {
            call: "DescribeStacks",
            skip: 2,
            times: ALWAYS,
            fault: Fault::Stall,
            deployed_first: true,
            changed: true,
            exit: 1,
            says: &["DescribeStacks failed: no answer in time"],
        },
        // Still running for a while, then done: followed to the end.
        Case {
            call: "DescribeStacks",
            skip: 2,
            times: 3,
            fault: Fault::StackStatus("UPDATE_IN_PROGRESS".into()),
            deployed_first: true,
            changed: true,
            exit: 0,
            says: &["Faulty: deployed"],
        },
    ] {
        run(&case);
    }
}

#[test]
fn a_second_deploy_of_a_stack_in_progress_waits_for_the_first() {
    // Moto finishes every operation at once, so the first deploy's operation is played by
    // the proxy: the stack reports UPDATE_IN_PROGRESS to the second deploy for a while.
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.port());
    let tmp = tempfile::tempdir().unwrap();
    let asm = assembly(tmp.path());
    assert!(deploy(&moto, &proxy, &asm, &[]).status.success());
    add_a_second_queue(&asm);
    proxy.inject(
        "DescribeStacks",
        4,
        Fault::StackStatus("UPDATE_IN_PROGRESS".into()),
    );
    let o = deploy(&moto, &proxy, &asm, &[]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let waited = err.find("waiting for the running operation (UPDATE_IN_PROGRESS) to finish");
    let deployed = err.find("Faulty: deployed");
    assert!(
        waited.is_some() && deployed.is_some() && waited < deployed,
        "{err}"
    );
    // Its change set came only after the wait.
    let calls = proxy.calls();
    let first_create = calls.iter().rposition(|c| c == "CreateChangeSet").unwrap();
    let in_progress_answers = calls[..first_create]
        .iter()
        .rev()
        .take_while(|c| *c != "GetCallerIdentity")
        .filter(|c| *c == "DescribeStacks")
        .count();
    assert!(in_progress_answers >= 4, "{calls:?}");
}

#[test]
fn tags_on_an_unchanged_stack_are_applied() {
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.port());
    let tmp = tempfile::tempdir().unwrap();
    let asm = assembly(tmp.path());
    assert!(deploy(&moto, &proxy, &asm, &["--tags", "team=a"])
        .status
        .success());
    let o = deploy(&moto, &proxy, &asm, &["--tags", "team=b"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("only the stack tags differ; updating them"),
        "{err}"
    );
    assert!(err.contains("Faulty: deployed"), "{err}");
    assert!(proxy.calls().contains(&"UpdateStack".to_string()));
    // Applied: the same tags again are no change.
    let o = deploy(&moto, &proxy, &asm, &["--tags", "team=b"]);
    assert!(stderr(&o).contains("Faulty: no changes"), "{}", stderr(&o));
}

/// Start a deploy through the proxy, wait until the proxy has seen `call`, send SIGINT
/// `signals` times (a second apart), and return the exit code and stderr (the seconds from
/// the first signal to the exit are printed, for BENCHMARKS.md).
fn interrupt_at(call: &str, stall_also: Option<&str>, signals: usize) -> (Option<i32>, String) {
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.port());
    let tmp = tempfile::tempdir().unwrap();
    let asm = assembly(tmp.path());
    proxy.inject(call, ALWAYS, Fault::Stall);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(["deploy", "Faulty", "--yes", "--app", asm.to_str().unwrap()])
        .envs(moto.env())
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = Instant::now() + Duration::from_secs(30);
    while !proxy.calls().iter().any(|c| c == call) {
        assert!(
            Instant::now() < guard,
            "{call} never came: {:?}",
            proxy.calls()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    if let Some(also) = stall_also {
        proxy.inject(also, ALWAYS, Fault::Stall);
    }
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    let started = Instant::now();
    for i in 0..signals {
        if i > 0 {
            std::thread::sleep(Duration::from_secs(1));
        }
        assert!(Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
    }
    // A generous guard: the call timeout (60 s) must not be what ends it.
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still running 30 s after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let secs = started.elapsed().as_secs_f64();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    eprintln!("Ctrl-C x{signals} at {call}: exit {code:?} after {secs:.2} s\n{err}");
    (code, err)
}

#[test]
fn ctrl_c_during_a_stalled_call_ends_promptly_with_the_state_it_knows() {
    // Before any stack is touched.
    let (code, err) = interrupt_at("GetCallerIdentity", None, 1);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("interrupted; no stack was changed"), "{err}");
    // While a change set is being created: the stack's state is asked for and reported.
    let (code, err) = interrupt_at("CreateChangeSet", None, 1);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("interrupted; nothing more will start"),
        "{err}"
    );
    assert!(err.contains("Faulty: not created"), "{err}");
    // The endpoint stalls for the status too: a second Ctrl-C exits at once.
    let (code, err) = interrupt_at("CreateChangeSet", Some("DescribeStacks"), 2);
    // 130 is the second Ctrl-C's exit: the first alone would end after the 5 s status wait,
    // with 1.
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("interrupted again; exiting now"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_deployed_from_yaml_is_read_back_by_diff_and_deploy() {
    let moto = MotoServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let asm = assembly(tmp.path());
    // Deployed by another tool, from YAML: GetTemplate returns the YAML as it was sent.
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto.endpoint())
        .region(aws_config::Region::new(moto_harness::REGION))
        .credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    aws_sdk_cloudformation::Client::new(&config)
        .create_stack()
        .stack_name("Faulty")
        .template_body("Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      VisibilityTimeout: 45\n")
        .send()
        .await
        .unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ordersctl"))
            .args(args)
            .args(["--app", asm.to_str().unwrap()])
            .envs(moto.env())
            .output()
            .unwrap()
    };
    let o = run(&["diff", "Faulty"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains("VisibilityTimeout"), "{out}");
    assert!(out.contains("QueueUrl"), "{out}");
    let o = run(&["deploy", "Faulty", "--yes"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn the_profile_asked_for_is_the_identity_used() {
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.port());
    let tmp = tempfile::tempdir().unwrap();
    let asm = assembly(tmp.path());
    let credentials = tmp.path().join("credentials");
    std::fs::write(
        &credentials,
        "[ci]\naws_access_key_id = PROFILEKEY\naws_secret_access_key = secret\n",
    )
    .unwrap();
    let config = tmp.path().join("config");
    std::fs::write(&config, "[profile other]\nregion = eu-west-1\n").unwrap();
    let diff = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ordersctl"))
            .args(["diff", "Faulty", "--app", asm.to_str().unwrap()])
            .args(extra)
            .envs(moto.env())
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .env("AWS_ACCESS_KEY_ID", "ENVKEY")
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env("AWS_CONFIG_FILE", &config)
            .output()
            .unwrap()
    };
    // As in the AWS CLI, --profile wins over keys in the environment.
    let o = diff(&["--profile", "ci"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let keys = proxy.access_keys();
    assert!(
        !keys.is_empty() && keys.iter().all(|k| k == "PROFILEKEY"),
        "{keys:?}"
    );
    // Without it, the environment's keys.
    let before = keys.len();
    assert!(diff(&[]).status.success());
    assert!(proxy.access_keys()[before..].iter().all(|k| k == "ENVKEY"));
    // A profile in neither file: an error naming both, before any call.
    let calls = proxy.calls().len();
    let o = diff(&["--profile", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("--profile nope: no such profile in")
            && err.contains(&*config.to_string_lossy())
            && err.contains(&*credentials.to_string_lossy()),
        "{err}"
    );
    assert_eq!(proxy.calls().len(), calls, "a call was made");
}

#[test]
fn a_malformed_endpoint_or_region_is_refused_before_any_call() {
    let tmp = tempfile::tempdir().unwrap();
    let asm = assembly(tmp.path());
    let diff = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ordersctl"))
            .args(["diff", "Faulty", "--app", asm.to_str().unwrap()])
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", "k")
            .env("AWS_SECRET_ACCESS_KEY", "s")
            .env_remove("AWS_ENDPOINT_URL")
            .output()
            .unwrap()
    };
    let o = diff(&["--endpoint-url", "127.0.0.1:5000", "--region", "us-east-1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "--endpoint-url \"127.0.0.1:5000\" is not a URL (it does not start with http:// or https://); expected http://HOST[:PORT]"
        ),
        "{}",
        stderr(&o)
    );
    let o = diff(&[
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--region",
        "us east 1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .contains("--region \"us east 1\" is not a region name; expected one like us-east-1"),
        "{}",
        stderr(&o)
    );
    // Nothing listens on port 9 of 127.0.0.1: the connection is refused, and said so.
    let o = diff(&[
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--region",
        "us-east-1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("the connection to http://127.0.0.1:9 failed"),
        "{}",
        stderr(&o)
    );
    assert!(
        !stderr(&o).contains("credentials missing"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn diff_change_set_changes_nothing_on_any_stack() {
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto.port());
    let tmp = tempfile::tempdir().unwrap();
    let asm = assembly(tmp.path());
    let diff = || {
        let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
            .args([
                "diff",
                "Faulty",
                "--change-set",
                "--app",
                asm.to_str().unwrap(),
            ])
            .envs(moto.env())
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        (o.status.code(), out, stderr(&o))
    };
    let writes = |calls: &[String]| -> Vec<String> {
        calls
            .iter()
            .filter(|c| {
                [
                    "DeleteStack",
                    "ExecuteChangeSet",
                    "CreateStack",
                    "UpdateStack",
                    "ContinueUpdateRollback",
                ]
                .contains(&c.as_str())
            })
            .cloned()
            .collect()
    };
    // Not deployed: every resource is new, and no change set is made (a CREATE change set
    // would create the stack).
    let (code, out, err) = diff();
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("Queue"), "{out}");
    assert!(
        !proxy.calls().iter().any(|c| c == "CreateChangeSet"),
        "{:?}",
        proxy.calls()
    );
    // Deployed and changed: a change set is made, read and deleted; only that.
    assert!(deploy(&moto, &proxy, &asm, &[]).status.success());
    add_a_second_queue(&asm);
    let before = proxy.calls().len();
    let (code, out, err) = diff();
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("Second"), "{out}");
    let calls = proxy.calls()[before..].to_vec();
    assert!(writes(&calls).is_empty(), "{calls:?}");
    assert_eq!(calls.iter().filter(|c| *c == "CreateChangeSet").count(), 1);
    assert_eq!(calls.iter().filter(|c| *c == "DeleteChangeSet").count(), 1);
    // States a deploy would change first: the diff says why and stops, touching nothing.
    for status in [
        "ROLLBACK_COMPLETE",
        "REVIEW_IN_PROGRESS",
        "UPDATE_IN_PROGRESS",
        "UPDATE_ROLLBACK_FAILED",
    ] {
        proxy.clear();
        proxy.inject("DescribeStacks", ALWAYS, Fault::StackStatus(status.into()));
        let before = proxy.calls().len();
        let (code, _, err) = diff();
        assert_eq!(code, Some(1), "{status}: {err}");
        assert!(
            err.contains(&format!("stack Faulty is {status}:"))
                && err.contains("diff --change-set changes nothing, so it stops here"),
            "{status}: {err}"
        );
        let calls = proxy.calls()[before..].to_vec();
        assert!(writes(&calls).is_empty(), "{status}: {calls:?}");
        assert!(
            !calls
                .iter()
                .any(|c| c == "CreateChangeSet" || c == "DeleteChangeSet"),
            "{status}: {calls:?}"
        );
    }
}
