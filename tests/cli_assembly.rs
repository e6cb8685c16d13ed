//! The assembly directory is never lost: synth replaces only an assembly of its own, writes
//! through a symlink, and concurrent writers take turns under one lock per directory.

use std::fs;
use std::path::Path;

mod cli_support;
use cli_support::{ordersctl, stderr};

/// No staging, old or lock file (a name starting with a dot) left in `dir`.
fn assert_nothing_left(dir: &Path) {
    let left = hidden_entries(dir);
    assert!(
        left.is_empty(),
        "left behind in {}: {left:?}",
        dir.display()
    );
}

/// `ordersctl synth --quiet --out OUT`, which must succeed.
fn synth_into(out: &str) {
    let o = ordersctl(&["synth", "--quiet", "--out", out]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Names in `dir` that start with a dot: staging, old or lock files left behind.
fn hidden_entries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn synth_replaces_only_an_assembly_of_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let web = tmp.path().join("web");
    fs::create_dir(&web).unwrap();
    fs::write(web.join("manifest.json"), "{}").unwrap();
    fs::write(web.join("index.html"), "hi").unwrap();
    let o = ordersctl(&["synth", "--out", web.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not an ordersctl assembly"),
        "{}",
        stderr(&o)
    );
    assert_eq!(fs::read_to_string(web.join("index.html")).unwrap(), "hi");
    // A directory holding only bundled zips (what `invoke` leaves in a fresh directory) is
    // taken, and the zips kept.
    let fresh = tmp.path().join("fresh");
    fs::create_dir_all(fresh.join("assets")).unwrap();
    fs::write(fresh.join("assets/abc.zip"), "zip").unwrap();
    let o = ordersctl(&["synth", "--out", fresh.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(fresh.join("assets/abc.zip")).unwrap(),
        "zip"
    );
    // Its own assembly it replaces.
    let asm = tmp.path().join("asm");
    assert!(ordersctl(&["synth", "--out", asm.to_str().unwrap()])
        .status
        .success());
    assert!(ordersctl(&["synth", "--out", asm.to_str().unwrap()])
        .status
        .success());
}

#[test]
fn synth_through_a_symlinked_out_writes_where_it_points_and_keeps_the_link_and_assets() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    assert!(
        ordersctl(&["synth", "--quiet", "--out", real.to_str().unwrap()])
            .status
            .success()
    );
    fs::create_dir_all(real.join("assets")).unwrap();
    fs::write(real.join("assets/abc.zip"), "zip").unwrap();
    let link = tmp.path().join("out");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let o = ordersctl(&["synth", "--quiet", "--out", link.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(real.join("OrderPipeline.template.json").is_file());
    assert_eq!(
        fs::read_to_string(real.join("assets/abc.zip")).unwrap(),
        "zip"
    );
    // Nothing left beside either.
    assert_nothing_left(tmp.path());
}

#[test]
fn concurrent_synths_into_one_directory_keep_assets_and_leave_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let asm = tmp.path().join("asm");
    let out = asm.to_str().unwrap().to_string();
    synth_into(&out);
    fs::create_dir_all(asm.join("assets")).unwrap();
    fs::write(asm.join("assets/abc.zip"), "zip").unwrap();
    let reference = fs::read(asm.join("manifest.json")).unwrap();
    for round in 0..10 {
        let runs: Vec<_> = (0..4)
            .map(|_| {
                let out = out.clone();
                std::thread::spawn(move || ordersctl(&["synth", "--quiet", "--out", &out]))
            })
            .collect();
        for r in runs {
            let o = r.join().unwrap();
            assert!(o.status.success(), "round {round}: {}", stderr(&o));
        }
        assert_eq!(
            fs::read_to_string(asm.join("assets/abc.zip"))
                .ok()
                .as_deref(),
            Some("zip"),
            "round {round}: assets/ lost"
        );
        assert_eq!(fs::read(asm.join("manifest.json")).unwrap(), reference);
        assert!(
            hidden_entries(tmp.path()).is_empty(),
            "round {round}: {:?}",
            hidden_entries(tmp.path())
        );
    }
}

#[test]
fn a_killed_synths_staging_directory_is_cleared_by_the_next() {
    let tmp = tempfile::tempdir().unwrap();
    let asm = tmp.path().join("asm");
    assert!(
        ordersctl(&["synth", "--quiet", "--out", asm.to_str().unwrap()])
            .status
            .success()
    );
    fs::create_dir_all(tmp.path().join(".asm.staging-999999/assets")).unwrap();
    fs::create_dir_all(tmp.path().join(".asm.old-999999")).unwrap();
    assert!(
        ordersctl(&["synth", "--quiet", "--out", asm.to_str().unwrap()])
            .status
            .success()
    );
    assert_nothing_left(tmp.path());
}

#[test]
fn a_partial_assembly_names_what_is_missing_and_how_to_write_it() {
    let tmp = tempfile::tempdir().unwrap();
    let asm = tmp.path().join("asm");
    let out = asm.to_str().unwrap();
    synth_into(out);
    // A template file gone.
    fs::remove_file(asm.join("OrderPipeline.template.json")).unwrap();
    let o = ordersctl(&["diff", "OrderPipeline", "--app", out, "--against", out]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("stack OrderPipeline's template is missing, so the assembly is partial")
            && err.contains("ordersctl synth --out DIR"),
        "{err}"
    );
    // A stack whose dependency the manifest does not hold.
    synth_into(out);
    let manifest = asm.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
    m["stacks"].as_object_mut().unwrap().remove("OmniData");
    fs::write(&manifest, m.to_string()).unwrap();
    let o = ordersctl(&["deploy", "OmniServices", "--yes", "--app", out]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("`OmniServices` depends on `OmniData`, which this assembly does not hold")
            && err.contains("ordersctl synth --out DIR"),
        "{err}"
    );
}

#[test]
fn synth_out_dot_inside_an_assembly_replaces_it_and_keeps_assets() {
    let tmp = tempfile::tempdir().unwrap();
    let asm = tmp.path().join("asm");
    assert!(
        ordersctl(&["synth", "--quiet", "--out", asm.to_str().unwrap()])
            .status
            .success()
    );
    fs::create_dir_all(asm.join("assets")).unwrap();
    fs::write(asm.join("assets/abc.zip"), "zip").unwrap();
    // The directory a shell stands in is written in place, never replaced: the shell (and
    // the process) would be left in a deleted directory.
    use std::os::unix::fs::MetadataExt;
    let inode = fs::metadata(&asm).unwrap().ino();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(["synth", "--quiet", "--out", "."])
        .args(["--workspace", env!("CARGO_MANIFEST_DIR")])
        .current_dir(&asm)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(asm.join("manifest.json").is_file());
    assert_eq!(
        fs::metadata(&asm).unwrap().ino(),
        inode,
        "the directory was replaced"
    );
    assert_eq!(
        fs::read_to_string(asm.join("assets/abc.zip")).unwrap(),
        "zip"
    );
    assert_nothing_left(tmp.path());
    assert_nothing_left(&asm);
}

#[test]
fn files_ordersctl_did_not_write_survive_a_synth_into_the_assembly() {
    let tmp = tempfile::tempdir().unwrap();
    let asm = tmp.path().join("asm");
    let out = asm.to_str().unwrap();
    synth_into(out);
    fs::write(asm.join("notes.txt"), "mine").unwrap();
    fs::write(asm.join(".gitignore"), "*\n").unwrap();
    synth_into(out);
    assert_eq!(fs::read_to_string(asm.join("notes.txt")).unwrap(), "mine");
    assert_eq!(fs::read_to_string(asm.join(".gitignore")).unwrap(), "*\n");
    // A file of someone else's where a template goes: refused, nothing lost.
    let manifest = asm.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
    m["stacks"].as_object_mut().unwrap().remove("OrderPipeline");
    fs::write(&manifest, m.to_string()).unwrap();
    fs::write(asm.join("OrderPipeline.template.json"), "theirs").unwrap();
    let o = ordersctl(&["synth", "--quiet", "--out", out]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not a file ordersctl wrote"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        fs::read_to_string(asm.join("OrderPipeline.template.json")).unwrap(),
        "theirs"
    );
    assert_nothing_left(tmp.path());
}

#[test]
fn a_crafted_manifest_cannot_make_diff_read_outside_the_assembly() {
    let tmp = tempfile::tempdir().unwrap();
    let asm = tmp.path().join("asm");
    let out = asm.to_str().unwrap();
    synth_into(out);
    fs::write(tmp.path().join("secret.json"), r#"{"Resources": {}}"#).unwrap();
    let manifest = asm.join("manifest.json");
    let original = fs::read(&manifest).unwrap();
    let craft = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut m: serde_json::Value = serde_json::from_slice(&original).unwrap();
        edit(&mut m);
        fs::write(&manifest, m.to_string()).unwrap();
        ordersctl(&["diff", "OrderPipeline", "--app", out, "--against", out])
    };
    let o = craft(&|m| m["stacks"]["OrderPipeline"]["template"] = "../secret.json".into());
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not a plain file name inside the assembly"),
        "{}",
        stderr(&o)
    );
    let o = craft(&|m| {
        m["stacks"]["OrderPipeline"]["assets"][0]["fingerprint"] = "../../loot/secret".into()
    });
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not a fingerprint"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn nothing_the_user_names_is_written_inside_the_assembly_or_through_its_links() {
    let tmp = tempfile::tempdir().unwrap();
    let asm = tmp.path().join("asm");
    let out = asm.to_str().unwrap();
    synth_into(out);
    let manifest = fs::read(asm.join("manifest.json")).unwrap();
    // A trace written over the manifest of the assembly being run.
    let inject = tmp.path().join("inject.json");
    fs::write(&inject, "[]").unwrap();
    let o = ordersctl(&[
        "local",
        "run",
        "OrderPipeline",
        "--app",
        out,
        "--inject",
        inject.to_str().unwrap(),
        "--trace",
        asm.join("manifest.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is inside the assembly"),
        "{}",
        stderr(&o)
    );
    assert_eq!(fs::read(asm.join("manifest.json")).unwrap(), manifest);
    // assets/ linked to a directory elsewhere: bundle refuses before building anything.
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, asm.join("assets")).unwrap();
    let o = ordersctl(&["bundle", "OrderPipeline/OrderProcessor", "--out", out]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("assets/ must be a directory of its own"),
        "{}",
        stderr(&o)
    );
}
