//! Templates as they are written: every template fixture, JSON or YAML, parses to what
//! cfn-lint's decoder reads and renders back equal as JSON, sections and attributes the model
//! does not type included.

use std::path::{Path, PathBuf};

use ordersctl::template::Template;
use serde_json::Value;

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    let mut dirs = vec![root.join("diff"), root.join("checks"), root.join("corpus")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("json" | "yaml")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The Python of the virtualenv `scripts/test` installs cfn-lint into (a missing one is a
/// failure, never a skip).
fn python() -> PathBuf {
    let lint = std::env::var_os("ORDERSCTL_CFN_LINT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/cfn-lint"));
    let python = lint.with_file_name("python");
    assert!(
        python.exists(),
        "{} not found: run `scripts/test`, which installs cfn-lint into a virtualenv and sets ORDERSCTL_CFN_LINT",
        python.display()
    );
    python
}

/// Every file as cfn-lint's decoder reads it (YAML 1.1, short tags to long forms), as JSON.
fn decoded_by_cfn_lint(files: &[PathBuf]) -> Vec<Value> {
    let code = "import json, sys\nfrom cfnlint.decode import decode\nfor f in sys.argv[1:]:\n    t, m = decode(f)\n    assert not m, (f, m)\n    print(json.dumps(t, default=str))\n";
    let out = std::process::Command::new(python())
        .arg("-c")
        .arg(code)
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_fixture_renders_back_equal_as_json() {
    let files = fixtures();
    assert!(files.len() >= 20, "{files:?}");
    let expected = decoded_by_cfn_lint(&files);
    for (path, mut original) in files.into_iter().zip(expected) {
        let text = std::fs::read_to_string(&path).unwrap();
        let t = Template::from_json_or_yaml_str(&text).unwrap();
        let mut rendered = t.to_json_value();
        // Rendering always states the format version; the input may leave it implicit.
        for v in [&mut rendered, &mut original] {
            v.as_object_mut()
                .unwrap()
                .remove("AWSTemplateFormatVersion");
        }
        assert_eq!(rendered, original, "{}", path.display());
    }
}

/// The corpus (`tests/fixtures/corpus/<kind>/`): templates with the shapes real ones have.
/// What `check` finds in each is pinned as a snapshot in `snapshots/corpus/`.
#[test]
fn the_corpus_gives_reviewed_findings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
    let files: Vec<PathBuf> = fixtures()
        .into_iter()
        .filter(|p| p.starts_with(&root))
        .collect();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/corpus");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let t = Template::from_json_or_yaml_str(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let rel = path.strip_prefix(&root).unwrap();
        let kind = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .into_owned();
        let stem = path
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .replace(".template", "");
        let report = ordersctl::checks::check_file(&stem, &t, text.len());
        let mut lines: Vec<String> = report
            .findings
            .iter()
            .map(|f| format!("{} {:?} {}: {}", f.rule, f.severity, f.location, f.message))
            .collect();
        lines.sort();
        if lines.is_empty() {
            lines.push("(no findings)".into());
        }
        settings.bind(|| {
            insta::assert_snapshot!(format!("{kind}__{stem}"), lines.join("\n"));
        });
    }
}
