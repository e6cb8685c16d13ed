//! checkov (PyPI), offline, over every synthesized template: no failed check, every skip
//! carries its reason, and the README's security table matches what checkov reports.
//!
//! `scripts/test` installs checkov into the virtualenv and sets `ORDERSCTL_CHECKOV`. A missing
//! checkov is a failure, never a skip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use ordersctl::synth::writer::write_assembly;
use ordersctl::template::Format;

mod common;

fn checkov() -> PathBuf {
    match std::env::var_os("ORDERSCTL_CHECKOV") {
        Some(p) => PathBuf::from(p),
        None => panic!("checkov not found: run `scripts/test`, which installs it into a virtualenv and sets ORDERSCTL_CHECKOV"),
    }
}

/// checkov's JSON report of a directory of CloudFormation templates, without network.
fn scan(dir: &Path) -> serde_json::Value {
    let out = Command::new(checkov())
        .args(["--directory"])
        .arg(dir)
        .args([
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
        ])
        .env("CKV_SKIP_PACKAGE_UPDATE_CHECK", "true")
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .expect("run checkov");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `| Stack | skipped |` rows of the README's security table.
fn readme_counts() -> BTreeMap<String, u64> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## Security")
        .nth(1)
        .expect("README has a Security section");
    section
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", stack, skipped, ..] => Some((stack.to_string(), skipped.parse().ok()?)),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn checkov_passes_every_blueprint_template_with_explained_skips() {
    let assembly = common::assembly();
    let tmp = tempfile::tempdir().unwrap();
    write_assembly(&assembly, tmp.path(), Format::Json).unwrap();
    std::fs::remove_file(tmp.path().join("manifest.json")).unwrap();
    let report = scan(tmp.path());
    let summary = &report["summary"];
    assert_eq!(
        summary["failed"], 0,
        "{:#}",
        report["results"]["failed_checks"]
    );
    assert_eq!(summary["parsing_errors"], 0);
    assert!(summary["passed"].as_u64().unwrap() > 400, "{summary}");

    let mut per_stack: BTreeMap<String, u64> = assembly
        .stacks
        .iter()
        .map(|s| (s.name.clone(), 0))
        .collect();
    for skip in report["results"]["skipped_checks"].as_array().unwrap() {
        let reason = skip["check_result"]["suppress_comment"]
            .as_str()
            .unwrap_or("");
        assert!(reason.len() > 40, "a skip without a real reason: {skip:#}");
        let file = skip["file_path"].as_str().unwrap().trim_start_matches('/');
        let stack = file.split('.').next().unwrap().to_string();
        *per_stack.get_mut(&stack).expect("a blueprint stack") += 1;
    }
    assert_eq!(
        readme_counts(),
        per_stack,
        "README's security table is out of date"
    );
}

#[test]
fn checkov_is_really_checking() {
    // An unencrypted queue with no skip: checkov must fail it, or the test above proves nothing.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("bad.template.json"),
        r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {}}}}"#,
    )
    .unwrap();
    let report = scan(tmp.path());
    let failed: Vec<&str> = report["results"]["failed_checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["check_id"].as_str())
        .collect();
    assert!(failed.contains(&"CKV_AWS_27"), "{failed:?}");
}
