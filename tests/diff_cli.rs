//! `ordersctl diff` end to end, offline: against a previous assembly and a template file.

use std::path::Path;
use std::process::{Command, Output};

fn ordersctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run ordersctl")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn synth(dir: &Path) {
    let o = ordersctl(&["synth", "--out", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The assembly with the Orders table's sort key renamed, as a blueprint edit would.
fn change_sort_key(dir: &Path) {
    let path = dir.join("OrderPipeline.template.json");
    let mut t: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let props = &mut t["Resources"]["Orders"]["Properties"];
    for list in ["KeySchema", "AttributeDefinitions"] {
        for e in props[list].as_array_mut().unwrap() {
            if e["AttributeName"] == "createdAt" {
                e["AttributeName"] = "placedAt".into();
            }
        }
    }
    std::fs::write(&path, serde_json::to_string_pretty(&t).unwrap()).unwrap();
}

#[test]
fn against_its_own_assembly_there_is_nothing_and_a_sort_key_change_is_a_replacement() {
    let tmp = tempfile::tempdir().unwrap();
    let (main, branch) = (tmp.path().join("main"), tmp.path().join("branch"));
    synth(&main);
    let main_s = main.to_str().unwrap();
    let same = ordersctl(&["diff", "OrderPipeline", "--against", main_s, "--fail"]);
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
    assert!(stdout(&same).ends_with("OrderPipeline: no differences\n"));

    synth(&branch);
    change_sort_key(&branch);
    let app = ["--app", branch.to_str().unwrap(), "--against", main_s];
    let text = ordersctl(&[&["diff", "OrderPipeline", "--fail"][..], &app].concat());
    assert_eq!(text.status.code(), Some(1));
    let out = stdout(&text);
    assert!(
        out.contains("[~] Orders AWS::DynamoDB::Table  REPLACE"),
        "{out}"
    );
    assert!(
        out.contains("KeySchema[1].AttributeName: \"createdAt\" -> \"placedAt\"  [replace]"),
        "{out}"
    );
    assert!(
        out.trim_end()
            .ends_with("(1 replacement), 0 to remove; 1 output change(s); 1 warning(s)"),
        "{out}"
    );

    let md = ordersctl(
        &[
            &[
                "diff",
                "OrderPipeline",
                "--format",
                "markdown",
                "--exit-code",
            ][..],
            &app,
        ]
        .concat(),
    );
    assert_eq!(md.status.code(), Some(2), "plan-style: 2 means differences");
    assert!(stdout(&md).contains("| ~ | `Orders` | `AWS::DynamoDB::Table` | **replace** |"));

    let json = ordersctl(&[&["diff", "OrderPipeline", "--format", "json"][..], &app].concat());
    assert_eq!(
        json.status.code(),
        Some(0),
        "without --fail a diff is not a failure"
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let orders = v["stacks"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["logicalId"] == "Orders")
        .unwrap();
    assert_eq!(orders["impact"], "replace");
}

#[test]
fn against_a_template_file_names_one_stack() {
    let tmp = tempfile::tempdir().unwrap();
    let main = tmp.path().join("main");
    synth(&main);
    let file = main.join("OrderPipeline.template.json");
    let f = file.to_str().unwrap();
    let o = ordersctl(&["diff", "OrderPipeline", "--against", f, "--exit-code"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let all = ordersctl(&["diff", "--against", f]);
    assert_eq!(all.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&all.stderr).contains("name the one stack to compare it with"));
    let missing = ordersctl(&["diff", "OrderPipeline", "--against", "/no/such/place"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr)
        .contains("--against /no/such/place: no such file or directory"));
}

#[test]
fn against_a_yaml_template_too() {
    // The same template written as YAML (as synth --format yaml does): no differences.
    let tmp = tempfile::tempdir().unwrap();
    let yaml = tmp.path().join("yaml");
    let o = ordersctl(&["synth", "--out", yaml.to_str().unwrap(), "--format", "yaml"]);
    assert!(o.status.success());
    let file = yaml.join("OrderPipeline.template.yaml");
    let o = ordersctl(&[
        "diff",
        "OrderPipeline",
        "--against",
        file.to_str().unwrap(),
        "--fail",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn two_template_files_are_diffed_with_the_exit_codes_of_a_gate() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff/visibility-timeout");
    let (old, new) = (case.join("old.json"), case.join("new.json"));
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    let o = ordersctl(&["diff", "--template", new, "--against", old]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Named after the file, as no stack was given.
    assert!(
        stdout(&o).contains("new") && stdout(&o).contains("VisibilityTimeout"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        ordersctl(&["diff", "--template", new, "--against", old, "--fail"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        ordersctl(&["diff", "--template", new, "--against", old, "--exit-code"])
            .status
            .code(),
        Some(2)
    );
    let o = ordersctl(&[
        "diff",
        "Orders",
        "--template",
        new,
        "--against",
        new,
        "--fail",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("Orders"), "{}", stdout(&o));
    // The same template in YAML is no difference.
    let tmp = tempfile::tempdir().unwrap();
    let yaml = tmp.path().join("old.yaml");
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(old).unwrap()).unwrap();
    std::fs::write(&yaml, serde_yaml::to_string(&value).unwrap()).unwrap();
    let o = ordersctl(&[
        "diff",
        "--template",
        yaml.to_str().unwrap(),
        "--against",
        old,
        "--fail",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    // One template is one stack.
    let o = ordersctl(&["diff", "A", "B", "--template", new, "--against", old]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("name at most one stack"));
}

#[test]
fn every_golden_pair_is_a_difference_for_the_gate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 14, "{cases:?}");
    for case in cases {
        let (new, old) = (case.join("new.json"), case.join("old.json"));
        let (new, old) = (new.to_str().unwrap(), old.to_str().unwrap());
        let fail = ordersctl(&["diff", "--template", new, "--against", old, "--fail"]);
        assert_eq!(
            fail.status.code(),
            Some(1),
            "{}: {}",
            case.display(),
            stdout(&fail)
        );
        // A difference, not an error.
        assert!(
            stdout(&fail).contains("new: "),
            "{}: {}",
            case.display(),
            stdout(&fail)
        );
        let code = ordersctl(&["diff", "--template", new, "--against", old, "--exit-code"]);
        assert_eq!(code.status.code(), Some(2), "{}", case.display());
        let same = ordersctl(&["diff", "--template", old, "--against", old, "--fail"]);
        assert_eq!(
            same.status.code(),
            Some(0),
            "{}: {}",
            case.display(),
            stdout(&same)
        );
    }
}
