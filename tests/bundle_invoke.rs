//! Bundling and local invoke against a real cargo build of a tiny fixture handler
//! (`tests/fixtures/echo-ws`): reproducible zips, caching by fingerprint, the emulated
//! Runtime API answering both a response and an error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ordersctl::bundle::{bundle, unzip_bootstrap, BundleRequest, BundleStatus, HandlerWorkspace};
use ordersctl::constructs::Architecture;
use ordersctl::invoke::{invoke, Invocation, Outcome};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/echo-ws")
}

fn request(ws: &HandlerWorkspace) -> BundleRequest {
    BundleRequest {
        function: "Echo/Echo".into(),
        handler_crate: "echo".into(),
        architecture: Architecture::X86_64,
        fingerprint: ws.fingerprint("echo", Architecture::X86_64).unwrap(),
    }
}

fn extract(zip: &Path, dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bootstrap");
    std::fs::write(&bin, unzip_bootstrap(&std::fs::read(zip).unwrap()).unwrap()).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn bundles_are_reproducible_cached_and_run_behind_the_runtime_api() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = HandlerWorkspace::new(fixture()).with_target_dir(tmp.path().join("target-a"));
    let assets = tmp.path().join("assets-a");
    let first = bundle(&ws, &[request(&ws)], &assets).unwrap();
    assert_eq!(first[0].status, BundleStatus::Built);
    assert!(first[0]
        .zip
        .ends_with(format!("{}.zip", request(&ws).fingerprint)));
    let again = bundle(&ws, &[request(&ws)], &assets).unwrap();
    assert_eq!(again[0].status, BundleStatus::Cached);
    assert_eq!(again[0].sha256, first[0].sha256);

    // A truncated zip (a killed write, a hand edit) is named and rebuilt, never reused.
    let good = std::fs::read(&first[0].zip).unwrap();
    std::fs::write(&first[0].zip, &good[..good.len() / 3]).unwrap();
    let repaired = bundle(&ws, &[request(&ws)], &assets).unwrap();
    match &repaired[0].status {
        BundleStatus::Rebuilt { reason } => {
            assert!(
                reason.contains(&*first[0].zip.to_string_lossy()),
                "{reason}"
            );
            assert!(reason.contains("not a readable zip"), "{reason}");
        }
        other => panic!("a truncated zip was not rebuilt: {other:?}"),
    }
    assert_eq!(repaired[0].sha256, first[0].sha256);

    // A clean build elsewhere gives the same bytes.
    let ws_b = HandlerWorkspace::new(fixture()).with_target_dir(tmp.path().join("target-b"));
    let other = bundle(&ws_b, &[request(&ws_b)], &tmp.path().join("assets-b")).unwrap();
    assert_eq!(other[0].status, BundleStatus::Built);
    assert_eq!(
        other[0].sha256, first[0].sha256,
        "two builds of the same sources differ"
    );

    let bin = extract(&first[0].zip, tmp.path());
    let ok = invoke(
        &bin,
        &Invocation {
            function_name: "Echo",
            memory_mb: 128,
            timeout: Duration::from_secs(10),
            env: vec![("GREETING".into(), "hello".into())],
            event: br#"{"orderId":"o-1"}"#,
            inherit_env: true,
        },
    )
    .unwrap();
    assert_eq!(
        ok,
        Outcome::Response(r#"{"echo":{"orderId":"o-1"},"greeting":"hello"}"#.into())
    );
    let failed = invoke(
        &bin,
        &Invocation {
            function_name: "Echo",
            memory_mb: 128,
            timeout: Duration::from_secs(10),
            env: vec![],
            event: br#"{"fail": true}"#,
            inherit_env: true,
        },
    )
    .unwrap();
    assert!(
        matches!(failed, Outcome::Error(ref e) if e.contains("EchoFailure")),
        "{failed:?}"
    );
}

#[test]
fn a_handler_that_exits_without_answering_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("bootstrap");
    std::fs::write(&script, "#!/bin/sh\nexit 3\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let e = invoke(
        &script,
        &Invocation {
            function_name: "X",
            memory_mb: 128,
            timeout: Duration::from_secs(5),
            env: vec![],
            event: b"{}",
            inherit_env: true,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("exited") && e.contains('3'), "{e}");
}
