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
