//! The `ordersctl` binary end to end: synth, list, and how it fails.

use std::fs;
use std::path::Path;
use std::process::Command;

mod cli_support;
use cli_support::{ordersctl, stderr};

fn read_dir_sorted(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn synth_writes_manifest_and_templates() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("asm");
    let o = ordersctl(&["synth", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["version"], "1");
    let stack = &manifest["stacks"]["OrderPipeline"];
    assert_eq!(stack["template"], "OrderPipeline.template.json");
    assert_eq!(stack["assets"][0]["handlerCrate"], "order-processor");
    // The stack's source fingerprint: its template's and assets' digest, never a time.
    let template_bytes = fs::read(out.join("OrderPipeline.template.json")).unwrap();
    assert_eq!(stack["fingerprint"].as_str().map(str::len), Some(64));
    assert_ne!(
        stack["fingerprint"],
        manifest["stacks"]["EventConsumer"]["fingerprint"]
    );
    assert!(!template_bytes.is_empty());
    let template: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("OrderPipeline.template.json")).unwrap())
            .unwrap();
    assert_eq!(
        template["Resources"]["OrderCreatedQueue"]["Properties"]["VisibilityTimeout"],
        60
    );
    assert_eq!(
        template["Outputs"]["QueueUrl"]["Description"],
        "URL of the OrderCreated SQS queue"
    );
}

#[test]
fn two_synths_are_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    for dir in [&a, &b] {
        let o = ordersctl(&["synth", "--out", dir.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let (fa, fb) = (read_dir_sorted(&a), read_dir_sorted(&b));
    assert!(!fa.is_empty());
    assert_eq!(fa, fb);
}

#[test]
fn one_named_stack_is_also_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("asm");
    let o = ordersctl(&["synth", "OrderPipeline", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        o.stdout,
        fs::read(out.join("OrderPipeline.template.json")).unwrap()
    );
    // The other stacks' templates are written too: naming one never prunes the assembly.
    assert!(out.join("OrderSaga.template.json").is_file());
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["stacks"]["OmniApi"].is_object(), "{manifest}");
}

#[test]
fn yaml_format_writes_yaml_templates() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("asm");
    let o = ordersctl(&[
        "synth",
        "--format",
        "yaml",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(out.join("OrderPipeline.template.yaml")).unwrap();
    let v: serde_json::Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(v["Resources"]["Orders"]["Type"], "AWS::DynamoDB::Table");
}

#[test]
fn unknown_stack_fails_and_keeps_the_previous_assembly() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("asm");
    assert!(ordersctl(&["synth", "--out", out.to_str().unwrap()])
        .status
        .success());
    let before = read_dir_sorted(&out);
    let o = ordersctl(&["synth", "NoSuchStack", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("no stack named `NoSuchStack`") && err.contains("OrderPipeline"),
        "{err}"
    );
    assert_eq!(read_dir_sorted(&out), before);
}

#[test]
fn out_pointing_at_a_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("notes.txt");
    fs::write(&file, "keep me").unwrap();
    let o = ordersctl(&["synth", "--out", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not an ordersctl assembly"),
        "{}",
        stderr(&o)
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), "keep me");
}

#[test]
fn bad_arguments_exit_1_with_the_allowed_values() {
    let o = ordersctl(&["synth", "--format", "xml"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("--format") && err.contains("json") && err.contains("yaml"),
        "{err}"
    );
    let o = ordersctl(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(ordersctl(&["--help"]).status.success());
}

#[test]
fn list_shows_stacks_with_resource_counts() {
    let o = ordersctl(&["list", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["stack"] == "OrderPipeline")
        .unwrap();
    assert_eq!(row["blueprint"], "order-pipeline");
    // The pipeline's 8 and the on-call key and topic its alarm notifies.
    assert_eq!(row["resources"], 10);
    let o = ordersctl(&["list"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("OrderPipeline") && l.trim_end().ends_with("10")),
        "{text}"
    );
}

#[test]
fn stage_comes_from_the_flag_or_ordersctl_toml() {
    let tmp = tempfile::tempdir().unwrap();
    // The settings come from the current directory's ordersctl.toml; the handler crates
    // from this checkout.
    let run_in = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ordersctl"))
            .args(args)
            .args(["--workspace", env!("CARGO_MANIFEST_DIR")])
            .current_dir(tmp.path())
            .output()
            .unwrap()
    };
    let stage_of = |dir: &str| -> String {
        let m: serde_json::Value =
            serde_json::from_slice(&fs::read(tmp.path().join(dir).join("manifest.json")).unwrap())
                .unwrap();
        m["stage"].as_str().unwrap().to_string()
    };
    assert!(run_in(&["synth", "--out", "a"]).status.success());
    assert_eq!(stage_of("a"), "dev");
    fs::write(tmp.path().join("ordersctl.toml"), "stage = \"prod\"\n").unwrap();
    assert!(run_in(&["synth", "--out", "b"]).status.success());
    assert_eq!(stage_of("b"), "prod");
    assert!(run_in(&["synth", "--stage", "dev", "--out", "c"])
        .status
        .success());
    assert_eq!(stage_of("c"), "dev");
    let o = run_in(&["synth", "--stage", "qa"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("dev") && stderr(&o).contains("prod"),
        "{}",
        stderr(&o)
    );
    fs::write(tmp.path().join("ordersctl.toml"), "stage = \"qa\"\n").unwrap();
    let o = run_in(&["synth", "--out", "d"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("ordersctl.toml") && stderr(&o).contains("allowed: dev, prod"),
        "{}",
        stderr(&o)
    );
    assert!(!tmp.path().join("d").exists());
}

#[test]
fn every_blueprint_stack_is_listed_and_omnichannel_is_ordered_by_dependency() {
    let o = ordersctl(&["list", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["stack"].as_str().unwrap())
        .collect();
    for expected in [
        "OrderPipeline",
        "EventConsumer",
        "OrderSaga",
        "OmniData",
        "OmniServices",
        "OmniApi",
        "DurableChain",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("asm");
    assert!(
        ordersctl(&["synth", "--quiet", "--out", out.to_str().unwrap()])
            .status
            .success()
    );
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let order: Vec<&String> = m["stacks"].as_object().unwrap().keys().collect();
    let pos = |n: &str| order.iter().position(|s| *s == n).unwrap();
    assert!(
        pos("OmniData") < pos("OmniServices") && pos("OmniServices") < pos("OmniApi"),
        "{order:?}"
    );
    assert_eq!(
        m["stacks"]["OmniServices"]["dependencies"],
        serde_json::json!(["OmniData"])
    );
    assert_eq!(
        m["stacks"]["OmniApi"]["dependencies"],
        serde_json::json!(["OmniData", "OmniServices"])
    );
    for stack in &order {
        assert!(
            out.join(format!("{stack}.template.json")).exists(),
            "{stack}"
        );
    }
}

#[test]
fn prod_stage_retains_tables_and_queues() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("asm");
    assert!(ordersctl(&[
        "synth",
        "--stage",
        "prod",
        "--quiet",
        "--out",
        out.to_str().unwrap()
    ])
    .status
    .success());
    let t: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("OrderSaga.template.json")).unwrap()).unwrap();
    assert_eq!(t["Resources"]["Orders"]["DeletionPolicy"], "Retain");
    assert_eq!(t["Resources"]["PaymentQueue"]["DeletionPolicy"], "Retain");
    assert_eq!(t["Resources"]["Orders"]["UpdateReplacePolicy"], "Retain");
}

#[test]
fn a_missing_handler_crate_is_a_synth_error_naming_crate_and_function() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("handlers/other")).unwrap();
    fs::write(
        tmp.path().join("handlers/other/Cargo.toml"),
        "[package]\nname = \"other\"\n",
    )
    .unwrap();
    let out = tmp.path().join("asm");
    let o = ordersctl(&[
        "synth",
        "--workspace",
        tmp.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("OrderPipeline/OrderProcessor")
            && err.contains("`order-processor`")
            && err.contains("crates there: other"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn asset_keys_are_fingerprints_recorded_in_the_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("asm");
    assert!(
        ordersctl(&["synth", "--quiet", "--out", out.to_str().unwrap()])
            .status
            .success()
    );
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let asset = &m["stacks"]["OrderPipeline"]["assets"][0];
    let fp = asset["fingerprint"].as_str().unwrap();
    assert_eq!(fp.len(), 64);
    assert_eq!(asset["s3Key"], format!("{fp}.zip"));
    let t: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("OrderPipeline.template.json")).unwrap())
            .unwrap();
    assert_eq!(
        t["Resources"]["OrderProcessor"]["Properties"]["Code"]["S3Key"],
        format!("{fp}.zip")
    );
}

#[test]
fn bundling_for_a_target_that_is_not_installed_fails_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("asm");
    let o = ordersctl(&[
        "bundle",
        "OrderProcessor",
        "--arch",
        "arm64",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("aarch64-unknown-linux-gnu is not installed")
            && err.contains("rustup target add"),
        "{err}"
    );
}

#[test]
fn invoke_refuses_an_event_that_is_not_json() {
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("event.json");
    fs::write(&ev, "{not json").unwrap();
    let o = ordersctl(&["invoke", "OrderProcessor", "--event", ev.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is not JSON"), "{}", stderr(&o));
    fs::write(&ev, "{}").unwrap();
    let o = ordersctl(&["invoke", "NoSuchFunction", "--event", ev.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no function `NoSuchFunction`")
            && stderr(&o).contains("OrderPipeline/OrderProcessor"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_full_stdout_is_exit_1_without_a_panic() {
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["check"],
        &["check", "--rules"],
    ] {
        let full = fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.contains("cannot write to stdout"), "{args:?}: {err}");
    }
    // A full stderr loses the messages, not the exit code, and does not panic (101).
    for args in [
        &["synth", "--out", "/dev/null/x"][..],
        &["check", "--template", "/nonexistent.json"],
    ] {
        let full = fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
            .args(args)
            .stderr(full)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}");
    }
}

#[test]
fn input_that_would_be_ignored_is_refused_naming_it() {
    // A workspace that is not there, or holds no handlers/.
    let o = ordersctl(&["list", "--workspace", "/nonexistent-ordersctl-ws"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--workspace /nonexistent-ordersctl-ws: the directory does not exist"),
        "{}",
        stderr(&o)
    );
    let empty = tempfile::tempdir().unwrap();
    let o = ordersctl(&["list", "--workspace", empty.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("there is no handlers/ directory"),
        "{}",
        stderr(&o)
    );
    // Stack names with --template, which checks one file.
    let template = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/checks/visibility.template.json"
    );
    let o = ordersctl(&["check", "--template", template, "NoSuchStack"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("stack names (NoSuchStack) pick stacks of the synthesized app"),
        "{}",
        stderr(&o)
    );
    // A parameter value no deployed stack declares: refused before anything is touched (no
    // endpoint is configured, so reaching AWS would fail differently).
    let tmp = tempfile::tempdir().unwrap();
    let asm = tmp.path().join("asm");
    assert!(ordersctl(&["synth", "--out", asm.to_str().unwrap()])
        .status
        .success());
    let o = ordersctl(&[
        "deploy",
        "OrderPipeline",
        "--yes",
        "--app",
        asm.to_str().unwrap(),
        "--parameters",
        "Nope=1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--parameters Nope: no stack deployed here declares it"),
        "{}",
        stderr(&o)
    );
    // An outputs file that cannot be written, refused before deploying.
    let o = ordersctl(&[
        "deploy",
        "OrderPipeline",
        "--yes",
        "--app",
        asm.to_str().unwrap(),
        "--outputs-file",
        "/nonexistent-ordersctl-dir/outputs.json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .contains("--outputs-file /nonexistent-ordersctl-dir/outputs.json: cannot be written"),
        "{}",
        stderr(&o)
    );
}
