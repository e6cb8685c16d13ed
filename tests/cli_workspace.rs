//! Synth against a copy of the handler workspace that a test changes: the handler contract
//! (`[package.metadata.ordersctl]`) and what the fingerprint walk refuses.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

mod cli_support;
use cli_support::{ordersctl, stderr};

/// `synth --workspace WS --out WS/asm`.
fn synth_in(workspace: &Path) -> Output {
    let out = workspace.join("asm");
    ordersctl(&[
        "synth",
        "--workspace",
        workspace.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

/// The handler crates, the workspace manifest and lockfile, copied to `dir` (what synth
/// fingerprints), so a test can change a crate's contract.
fn copy_workspace(dir: &Path) {
    fn copy(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for e in fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let name = e.file_name();
            if name == "target" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &to.join(&name));
            } else {
                fs::copy(e.path(), to.join(&name)).unwrap();
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy(&root.join("handlers"), &dir.join("handlers"));
    copy(&root.join("testing"), &dir.join("testing"));
    for f in ["Cargo.toml", "Cargo.lock"] {
        fs::copy(root.join(f), dir.join(f)).unwrap();
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from} in {}", path.display());
    fs::write(path, text.replace(from, to)).unwrap();
}

#[test]
fn synth_refuses_a_function_without_a_variable_its_crate_requires() {
    let tmp = tempfile::tempdir().unwrap();
    copy_workspace(tmp.path());
    edit(
        &tmp.path().join("handlers/order-processor/Cargo.toml"),
        "env = [\"TABLE_NAME\"]",
        "env = [\"TABLE_NAME\", \"ORDERS_REGION\"]",
    );
    let out = tmp.path().join("asm");
    let o = synth_in(tmp.path());
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("ORD024 OrderPipeline/OrderProcessor")
            && err.contains("handler crate `order-processor` requires ORDERS_REGION")
            && err.contains("it sets: TABLE_NAME"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn a_malformed_handler_contract_is_an_error_naming_the_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    copy_workspace(tmp.path());
    let manifest = tmp.path().join("handlers/order-processor/Cargo.toml");
    edit(
        &manifest,
        "env = [\"TABLE_NAME\"]",
        "envs = [\"TABLE_NAME\"]",
    );
    let out = tmp.path().join("asm");
    let o = synth_in(tmp.path());
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(&manifest.display().to_string())
            && err.contains("[package.metadata.ordersctl]")
            && err.contains("unknown field `envs`"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn a_symlink_loop_in_a_handler_crate_is_an_error_naming_it_not_an_endless_walk() {
    let tmp = tempfile::tempdir().unwrap();
    copy_workspace(tmp.path());
    let link = tmp.path().join("handlers/order-processor/src/again");
    std::os::unix::fs::symlink("..", &link).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args([
            "synth",
            "--workspace",
            tmp.path().to_str().unwrap(),
            "--out",
        ])
        .arg(tmp.path().join("asm"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A generous guard: the walk used to run until killed.
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("synth still walking after 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(&link.display().to_string()) && err.contains("symlink loop"),
        "{err}"
    );
    assert!(!tmp.path().join("asm").exists());
}
