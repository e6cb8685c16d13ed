//! How the AWS verbs say what is wrong with the identity or the endpoint, before or instead
//! of any call (no server needed: nothing here reaches the network).

use std::process::Command;

mod cli_support;
use cli_support::{one_stack_assembly, stderr};

/// `ordersctl diff --change-set` of a one-stack assembly, with only the environment given.
fn diff(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let tmp = tempfile::tempdir().unwrap();
    let asm = one_stack_assembly(
        tmp.path(),
        "A",
        r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#,
    );
    let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args([
            "diff",
            "A",
            "--app",
            asm.to_str().unwrap(),
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", tmp.path())
        // Never the instance metadata service: tests talk only to 127.0.0.1.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (o.status.code(), stderr(&o))
}

#[test]
fn a_profile_named_in_aws_profile_must_exist() {
    let (code, err) = diff(&[("AWS_PROFILE", "nope"), ("AWS_REGION", "us-east-1")]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("AWS_PROFILE=nope: no such profile in"),
        "{err}"
    );
    // Also when no region is set: the profile is named first.
    let (_, err) = diff(&[("AWS_PROFILE", "nope")]);
    assert!(err.contains("AWS_PROFILE=nope: no such profile"), "{err}");
}

#[test]
fn no_credentials_is_said_as_such_not_as_a_connection_failure() {
    let (code, err) = diff(&[("AWS_REGION", "us-east-1")]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no credentials found"), "{err}");
    assert!(!err.contains("the connection to"), "{err}");
}

#[test]
fn outputs_file_is_never_a_link_a_pipe_or_inside_the_assembly() {
    let tmp = tempfile::tempdir().unwrap();
    let asm = one_stack_assembly(
        tmp.path(),
        "A",
        r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#,
    );
    let manifest = std::fs::read_to_string(asm.join("manifest.json")).unwrap();
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "keep").unwrap();
    let link = tmp.path().join("link.json");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let fifo = tmp.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for (target, says) in [
        (asm.join("manifest.json"), "is inside the assembly"),
        (link.clone(), "is a symlink"),
        (fifo.clone(), "is not a regular file"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
            .args(["deploy", "A", "--yes", "--app", asm.to_str().unwrap()])
            .args(["--outputs-file", target.to_str().unwrap()])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).contains(says),
            "{}: {}",
            target.display(),
            stderr(&o)
        );
    }
    assert_eq!(
        std::fs::read_to_string(asm.join("manifest.json")).unwrap(),
        manifest
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
}

#[test]
fn a_device_or_pipe_as_a_template_is_refused_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("t.json");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for path in [fifo.to_str().unwrap(), "/dev/zero"] {
        let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
            .args(["check", "--template", path])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{path}");
        assert!(
            stderr(&o).contains("is not a regular file"),
            "{path}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn diff_change_set_checks_its_parameters_as_deploy_does() {
    let tmp = tempfile::tempdir().unwrap();
    let asm = one_stack_assembly(
        tmp.path(),
        "A",
        r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#,
    );
    for (param, says) in [
        ("AssetBucket=evil", "ordersctl sets it"),
        ("Bogus=1", "no stack deployed here declares it"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
            .args([
                "diff",
                "A",
                "--change-set",
                "--app",
                asm.to_str().unwrap(),
                "--parameters",
                param,
            ])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{param}");
        assert!(stderr(&o).contains(says), "{param}: {}", stderr(&o));
    }
}
