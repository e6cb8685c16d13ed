//! Running the `ordersctl` binary from the CLI tests (each test file uses what it needs).
#![allow(dead_code)]

use std::process::{Command, Output};

/// Run `ordersctl ARGS` and wait for it.
pub fn ordersctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(args)
        .output()
        .expect("run ordersctl")
}

/// What it printed on stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `DIR/asm`: an assembly of one stack named `stack` whose template file holds `template`
/// exactly (no assets, no dependencies), as a user's or another tool's would be.
pub fn one_stack_assembly(
    dir: &std::path::Path,
    stack: &str,
    template: &str,
) -> std::path::PathBuf {
    let asm = dir.join("asm");
    std::fs::create_dir_all(&asm).unwrap();
    let file = format!("{stack}.template.json");
    std::fs::write(asm.join(&file), template).unwrap();
    let manifest = serde_json::json!({"version": "1", "stage": "dev", "stacks": {
        stack: {"template": file, "dependencies": [], "assets": []}}});
    std::fs::write(asm.join("manifest.json"), manifest.to_string()).unwrap();
    asm
}
