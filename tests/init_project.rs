//! `ordersctl init` writes a project that builds and passes its own tests at once, outside
//! this repository, and `app =` in its ordersctl.toml lets the prebuilt binary synthesize it.
//! The project depends on this checkout by path and builds offline with this repository's
//! lockfile and target directory, so only its own crates (and ordersctl, for a new feature
//! set) compile.

mod cli_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use cli_support::{ordersctl, stderr};

/// This build's target directory (`<target>/debug/ordersctl` -> `<target>`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_ordersctl"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

/// The commands in the README's ```sh blocks, in order.
fn readme_commands(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in readme.lines() {
        match (inside, line.trim()) {
            (false, "```sh") => inside = true,
            (true, "```") => inside = false,
            (true, cmd) if !cmd.is_empty() => out.push(cmd.to_string()),
            _ => {}
        }
    }
    out
}

/// Every file of the assembly under `dir` (not its fingerprint cache), relative path -> text.
fn tree(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                if rel != "fingerprints.cache.json" {
                    out.insert(
                        rel,
                        String::from_utf8_lossy(&fs::read(&p).unwrap()).into_owned(),
                    );
                }
            }
        }
    }
    out
}

#[test]
fn init_writes_a_project_whose_readme_commands_synthesize_and_pass_its_tests() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("greetings");
    let o = ordersctl(&[
        "init",
        project.to_str().unwrap(),
        "--ordersctl-path",
        env!("CARGO_MANIFEST_DIR"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("cargo run --quiet --bin infra -- synth"));
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"),
        project.join("Cargo.lock"),
    )
    .unwrap();

    let commands = readme_commands(&fs::read_to_string(project.join("README.md")).unwrap());
    assert_eq!(
        commands,
        [
            "cargo run --quiet --bin infra -- synth",
            "cargo test --workspace"
        ]
    );
    for command in &commands {
        let o = Command::new("sh")
            .args(["-c", command])
            .current_dir(&project)
            .env("CARGO_TARGET_DIR", target_dir())
            .env("CARGO_NET_OFFLINE", "true")
            .env_remove("RUSTFLAGS")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "`{command}` failed:\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            stderr(&o)
        );
        if command.contains("cargo test") {
            let out = String::from_utf8_lossy(&o.stdout);
            assert!(out.contains("the_template_is_pinned ... ok"), "{out}");
            assert!(out.contains("a_greeting_names_someone ... ok"), "{out}");
        }
    }
    let synthesized = tree(&project.join("ordersctl.out"));
    assert!(
        synthesized.contains_key("manifest.json")
            && synthesized.contains_key("Hello.template.json")
    );

    // The prebuilt binary, through `app =` in ordersctl.toml: the same assembly.
    let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(["synth", "--quiet", "--out", "via-app"])
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        o.stdout.is_empty(),
        "the app's output goes to stderr: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(tree(&project.join("via-app")), synthesized);
    // `list` shows the app's stacks, not the blueprints' groups.
    let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(["list"])
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("STACK  RESOURCES\nHello  "),
        "{out}{}",
        stderr(&o)
    );
}

#[test]
fn init_refuses_a_directory_that_is_not_empty_and_touches_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    let o = ordersctl(&["init", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not empty") && stderr(&o).contains("nothing was written"),
        "{}",
        stderr(&o)
    );
    assert_eq!(tree(tmp.path()).len(), 1);
    let o = ordersctl(&["init", tmp.path().join("notes.txt").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a directory"), "{}", stderr(&o));
    let o = ordersctl(&[
        "init",
        tmp.path().join("new").to_str().unwrap(),
        "--ordersctl-path",
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--ordersctl-path"), "{}", stderr(&o));
    assert!(!tmp.path().join("new").exists());
    // `missing/..` is the directory itself, which is not empty: refused, nothing touched.
    let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(["init", "missing/.."])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("steps back out"), "{}", stderr(&o));
    assert_eq!(tree(tmp.path()).len(), 1);
    assert_eq!(
        fs::read_to_string(tmp.path().join("notes.txt")).unwrap(),
        "mine"
    );
}

/// Runs the prebuilt binary's `synth` in a project whose `app` is `command`.
fn synth_with_app(command: &str) -> (std::process::Output, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("ordersctl.toml"),
        format!("app = {command:?}\n"),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(["synth", "--quiet"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    (o, tmp)
}

#[test]
fn a_failing_app_command_is_one_sentence_with_its_code_and_stderr() {
    let (o, tmp) =
        synth_with_app("echo compiling >&2; echo 'error[E0425]: cannot find value' >&2; exit 3");
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("exited with code 3"), "{e}");
    assert!(e.contains("| error[E0425]: cannot find value"), "{e}");
    assert!(!tmp.path().join("ordersctl.out").exists());

    let (o, _tmp) = synth_with_app("echo 'just printing'");
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("wrote no assembly to ORDERSCTL_OUT") && e.contains("ordersctl::cli::main"),
        "{e}"
    );
    assert!(
        e.contains("just printing"),
        "the app's stdout is passed on to stderr: {e}"
    );
    assert!(o.stdout.is_empty());

    // An app that writes a newer assembly format.
    let (o, _tmp) = synth_with_app(
        "mkdir -p \"$ORDERSCTL_OUT\" && echo '{\"version\": \"7\", \"stage\": \"dev\", \"stacks\": {}}' > \"$ORDERSCTL_OUT/manifest.json\"",
    );
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("format version 7, newer") && e.contains("reads version 1"),
        "{e}"
    );
}

#[test]
fn from_a_subdirectory_the_project_and_its_assembly_are_the_roots() {
    let tmp = tempfile::tempdir().unwrap();
    let ready = cli_support::one_stack_assembly(
        tmp.path(),
        "Notes",
        r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#,
    );
    let project = tmp.path().join("project");
    let deep = project.join("infra/src");
    fs::create_dir_all(&deep).unwrap();
    // The app "synthesizes" by copying a ready assembly where it is told to.
    fs::write(
        project.join("ordersctl.toml"),
        format!(
            "app = \"cp -R '{}' \\\"$ORDERSCTL_OUT\\\"\"\n",
            ready.display()
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(["synth", "--quiet"])
        .current_dir(&deep)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(project.join("ordersctl.out/Notes.template.json").is_file());
    assert!(!deep.join("ordersctl.out").exists());
    // Without a project, the prebuilt binary says so instead of looking for its blueprints.
    let empty = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(["list"])
        .current_dir(empty.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no ordersctl.toml") && stderr(&o).contains("ordersctl init"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_app_command_that_runs_ordersctl_again_is_refused_not_repeated() {
    let bin = env!("CARGO_BIN_EXE_ordersctl");
    // Each command counts its depth in a file and stops at 4, so a regression fails the test
    // instead of starting processes without end.
    for (app, wanted) in [
        (format!("{bin} list"), "started by an app command"),
        (
            format!("env -u ORDERSCTL_OUT {bin} list"),
            "started by an app command",
        ),
        (bin.to_string(), "the prebuilt ordersctl is not an app"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let guarded = format!(
            "d=$(cat depth 2>/dev/null || echo 0); [ $d -gt 3 ] && exit 99; echo $((d+1)) > depth; {app}"
        );
        fs::write(
            tmp.path().join("ordersctl.toml"),
            format!("app = {guarded:?}\n"),
        )
        .unwrap();
        let o = Command::new(bin)
            .args(["list"])
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{app}");
        assert!(stderr(&o).contains(wanted), "{app}: {}", stderr(&o));
        assert_eq!(
            fs::read_to_string(tmp.path().join("depth")).unwrap().trim(),
            "1",
            "{app}"
        );
    }
}

#[test]
fn an_app_command_writing_other_bytes_and_the_wrong_stage_is_named() {
    // Bytes that are not UTF-8 on its stderr neither stop the reader nor hide what follows.
    let (o, _tmp) = synth_with_app("printf 'caf\\351\\n' >&2; echo 'the real error' >&2; exit 4");
    let e = stderr(&o);
    assert!(
        e.contains("exited with code 4") && e.contains("| the real error"),
        "{e}"
    );
    // An app that writes a prod assembly when dev is asked.
    let tmp = tempfile::tempdir().unwrap();
    let ready = cli_support::one_stack_assembly(
        tmp.path(),
        "N",
        r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#,
    );
    let manifest = ready.join("manifest.json");
    let text = fs::read_to_string(&manifest)
        .unwrap()
        .replace("\"dev\"", "\"prod\"");
    fs::write(&manifest, text).unwrap();
    let (o, _tmp2) = synth_with_app(&format!("cp -R '{}' \"$ORDERSCTL_OUT\"", ready.display()));
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        e.contains("wrote a prod assembly where dev was asked"),
        "{e}"
    );
}
