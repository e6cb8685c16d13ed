//! `ordersctl check` end to end: the blueprints pass; any template file, JSON or YAML, is
//! checked; text, JSON and SARIF output; exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

fn ordersctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(args)
        .output()
        .expect("run ordersctl")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/checks")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn every_blueprint_passes_even_strictly() {
    let o = ordersctl(&["check", "--strict"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    // checkov skips and cfn-lint-serverless ignores, each listed with its reason.
    assert!(
        out.ends_with("8 stack(s): 0 error(s), 0 warning(s), 9 note(s), 257 suppressed\n"),
        "{out}"
    );
    assert!(
        out.contains("  CKV_AWS_117 (checkov, 30x): Reaches only AWS APIs"),
        "{out}"
    );
    assert!(
        out.contains("  WS1004 (cfn-lint, 30x): The function logs to its own log group"),
        "{out}"
    );
}

#[test]
fn a_template_file_with_a_short_visibility_timeout_reports_the_rule() {
    for file in ["visibility.template.json", "visibility.template.yaml"] {
        let path = fixture(file);
        let o = ordersctl(&["check", "--template", &path]);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "a warning alone passes: {out}");
        assert!(
            out.contains("warning ORD001 visibility/OrdersQueue: visibility timeout 60 s is below 6x the 30 s timeout of Processor (180 s)"),
            "{file}: {out}"
        );
        assert!(
            out.ends_with("1 stack(s): 0 error(s), 1 warning(s), 0 note(s), 0 suppressed\n"),
            "{file}: {out}"
        );
        let strict = ordersctl(&["check", "--template", &path, "--strict"]);
        assert_eq!(strict.status.code(), Some(1));
    }
}

#[test]
fn json_and_sarif_output() {
    let path = fixture("visibility.template.json");
    let j: serde_json::Value = serde_json::from_slice(
        &ordersctl(&["check", "--template", &path, "--format", "json"]).stdout,
    )
    .unwrap();
    assert_eq!(j["stacks"][0]["findings"][0]["rule"], "ORD001");
    assert_eq!(j["stacks"][0]["findings"][0]["logicalId"], "OrdersQueue");
    let s: serde_json::Value = serde_json::from_slice(
        &ordersctl(&["check", "--template", &path, "--format", "sarif"]).stdout,
    )
    .unwrap();
    assert_eq!(s["version"], "2.1.0");
    let result = &s["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "ORD001");
    assert_eq!(result["level"], "warning");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        path.as_str()
    );
    let rules = s["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["id"] == "ORD023"));
}

#[test]
fn an_unreadable_template_fails_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: !Bogus x\n",
    )
    .unwrap();
    let o = ordersctl(&["check", "--template", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not a CloudFormation template: line 4 column")
            && err.contains("unknown YAML tag !Bogus"),
        "{err}"
    );
}

#[test]
fn rules_are_listed() {
    let o = ordersctl(&["check", "--rules"]);
    assert!(stdout(&o).lines().count() >= 24);
    assert!(stdout(&o).starts_with("ORD000 error"));
}

#[test]
fn a_json_template_with_a_key_twice_is_refused_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("dup.template.json");
    std::fs::write(
        &path,
        "{\"Resources\": {\n  \"Q\": {\"Type\": \"AWS::SQS::Queue\"},\n  \"Q\": {\"Type\": \"AWS::SNS::Topic\"}\n}}\n",
    )
    .unwrap();
    let o = ordersctl(&["check", "--template", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("duplicate key `Q`") && err.contains("line 3"),
        "{err}"
    );
}

#[test]
fn hostile_templates_are_refused_at_once_naming_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let refused = |path: &str, expect: &str| {
        for verb in [
            vec!["check", "--template", path],
            vec!["diff", "OrderPipeline", "--against", path],
        ] {
            let o = ordersctl(&verb);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{verb:?}: {err}");
            assert!(
                err.contains(path) && err.contains(expect),
                "{verb:?}: {err}"
            );
        }
    };
    // Over 10 MiB: refused before it is read.
    let padding = " ".repeat(10 * 1024 * 1024);
    let big = write("big.json", format!("{{\"Resources\": {{}}{padding}}}"));
    refused(&big, "ordersctl reads templates up to 10485760 bytes");
    // More resources than the limit.
    let resources: Vec<String> = (0..20_001)
        .map(|i| format!("\"Q{i}\": {{\"Type\": \"AWS::SQS::Queue\"}}"))
        .collect();
    let many = write(
        "many.json",
        format!("{{\"Resources\": {{{}}}}}", resources.join(",")),
    );
    refused(
        &many,
        "has 20001 resources; ordersctl reads templates of up to 20000",
    );
    // Flow nesting far past the limit, in YAML and JSON.
    let n = 100_000;
    let deep_yaml = write(
        "deep.yaml",
        format!("Resources:\n  Q: {}{}\n", "[".repeat(n), "]".repeat(n)),
    );
    refused(&deep_yaml, "line 2: nesting is deeper than 128 levels");
    let deep_json = write(
        "deep.json",
        format!("{{\"Resources\": {}{}}}", "[".repeat(n), "]".repeat(n)),
    );
    refused(&deep_json, "nesting is deeper than 128 levels");
}

#[test]
fn a_sam_template_is_checked_as_the_cloudformation_it_becomes() {
    let o = ordersctl(&[
        "check",
        "--template",
        &fixture("sam-six-queues.template.yaml"),
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = report["stacks"][0]["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"));
    let at = |rule: &str| -> Vec<String> {
        let mut v: Vec<String> = findings
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| f["location"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    // Six consumed queues without a dead-letter queue.
    assert_eq!(at("ORD003").len(), 6, "{report}");
    // Advice in CloudFormation's words, not the DSL's.
    assert!(findings
        .iter()
        .filter(|f| f["rule"] == "ORD003")
        .all(|f| f["fix"].as_str().unwrap().contains("RedrivePolicy")));
    // Globals.Function.Timeout (60 s) is the function's: Q6 keeps the 30 s default.
    let ord001: Vec<&serde_json::Value> =
        findings.iter().filter(|f| f["rule"] == "ORD001").collect();
    assert_eq!(ord001.len(), 1, "{report}");
    assert!(ord001[0]["location"].as_str().unwrap().ends_with("/Q6"));
    assert_eq!(ord001[0]["severity"], "error");
    // The schedule's rule, under SAM's own logical ID, has no DLQ; the function it invokes
    // asynchronously keeps no failed event.
    assert!(
        at("ORD007").iter().any(|l| l.ends_with("/WorkerNightly")),
        "{report}"
    );
    assert!(
        at("ORD008").iter().any(|l| l.ends_with("/Worker")),
        "{report}"
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn fn_for_each_is_expanded_for_the_checks() {
    let o = ordersctl(&[
        "check",
        "--template",
        &fixture("language-extensions.template.yaml"),
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut ord003: Vec<&str> = report["stacks"][0]["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"))
        .iter()
        .filter(|f| f["rule"] == "ORD003")
        .map(|f| f["logicalId"].as_str().unwrap())
        .collect();
    // Each queue the loop makes is consumed and has no dead-letter queue.
    ord003.sort();
    assert_eq!(ord003, ["StoreQueue", "WebQueue"], "{report}");
}

#[test]
fn whatever_follows_the_template_is_refused_not_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, text, says) in [
        (
            "trailing.json",
            "{\"Resources\": {}} ]]} garbage {",
            "trailing characters",
        ),
        (
            "two.yaml",
            "Resources: {}\n---\nResources: {}\n",
            "a second YAML document",
        ),
    ] {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let o = ordersctl(&["check", "--template", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{name}: {err}");
    }
}
