//! cfn-lint over every synthesized template, JSON and YAML, with the serverless rules of
//! cfn-lint-serverless appended: zero errors, zero warnings.
//!
//! `scripts/test` installs cfn-lint into a virtualenv and sets `ORDERSCTL_CFN_LINT`. A
//! missing cfn-lint is a failure, never a skip.

use std::path::PathBuf;
use std::process::Command;

use ordersctl::synth::writer::write_assembly;
use ordersctl::template::Format;

mod common;

fn cfn_lint() -> PathBuf {
    if let Some(p) = std::env::var_os("ORDERSCTL_CFN_LINT") {
        return PathBuf::from(p);
    }
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/cfn-lint");
    if local.exists() {
        return local;
    }
    panic!("cfn-lint not found: run `scripts/test`, which installs it into a virtualenv and sets ORDERSCTL_CFN_LINT");
}

#[test]
fn cfn_lint_reports_nothing_on_any_template() {
    let lint = cfn_lint();
    let assembly = common::assembly();
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for format in [Format::Json, Format::Yaml] {
        let dir = tmp.path().join(format.extension());
        let written = write_assembly(&assembly, &dir, format).unwrap();
        files.extend(
            written
                .into_iter()
                .filter(|p| !p.ends_with("manifest.json")),
        );
    }
    assert_eq!(files.len(), 2 * assembly.stacks.len());
    // The stack of imported handles (tests/imports.rs) too.
    let app = ordersctl::constructs::App::new();
    common::imports::imports(&app).unwrap();
    let imports = ordersctl::synth::synthesize(&app).unwrap();
    let written = write_assembly(&imports, &tmp.path().join("imports"), Format::Json).unwrap();
    files.extend(
        written
            .into_iter()
            .filter(|p| !p.ends_with("manifest.json")),
    );
    // With the serverless rules (PyPI cfn-lint-serverless) appended to cfn-lint's own.
    let out = Command::new(&lint)
        .args([
            "--format",
            "parseable",
            "--append-rules",
            "cfn_lint_serverless.rules",
            "--",
        ])
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", lint.display()));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && report.trim().is_empty(),
        "cfn-lint found problems:\n{report}"
    );
}

#[test]
fn cfn_lint_is_really_checking() {
    // A template cfn-lint must reject: proves the tool runs and reports, so the test above
    // cannot pass vacuously.
    let lint = cfn_lint();
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.template.json");
    std::fs::write(
        &bad,
        r#"{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": "sixty"}}}}"#,
    )
    .unwrap();
    let out = Command::new(&lint).arg(&bad).output().unwrap();
    assert!(
        !out.status.success(),
        "cfn-lint accepted an invalid template"
    );
}

#[test]
fn the_serverless_rules_are_really_loaded() {
    // A consumed queue without a redrive policy: cfn-lint-serverless's ES6000 must report it.
    let lint = cfn_lint();
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("queue.template.json");
    std::fs::write(
        &bad,
        r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {}}}}"#,
    )
    .unwrap();
    let out = Command::new(&lint)
        .args(["--append-rules", "cfn_lint_serverless.rules", "--"])
        .arg(&bad)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("ES6000"),
        "serverless rules not loaded: {report}"
    );
}
