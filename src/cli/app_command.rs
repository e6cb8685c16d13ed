//! `app = "..."` in `ordersctl.toml`: the verbs run the user's app command, which writes an
//! assembly into `ORDERSCTL_OUT`, and work on that assembly (as `cdk` runs the app of
//! `cdk.json`). Both sides of that contract live here.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::bundle::HandlerWorkspace;
use crate::constructs::{App, Stage};
use crate::synth::reader::read_assembly;
use crate::synth::writer::write_assembly;
use crate::synth::{synthesize, Assembly};
use crate::template::Format;

use super::program::Program;

/// The directory the app writes its assembly into.
pub const OUT_ENV: &str = "ORDERSCTL_OUT";
/// The stage to synthesize for (`dev` or `prod`).
pub const STAGE_ENV: &str = "ORDERSCTL_STAGE";
/// The workspace holding the handler crates.
pub const WORKSPACE_ENV: &str = "ORDERSCTL_WORKSPACE";

/// How many lines of the app's stderr a failure quotes.
const TAIL_LINES: usize = 20;

/// The app side: synthesize the program's stacks into `ORDERSCTL_OUT`; the exit code.
pub(crate) fn synth_for_parent(program: &Program) -> i32 {
    match write_for_parent(program) {
        Ok(()) => 0,
        Err(e) => {
            errln!("error: {e:#}");
            1
        }
    }
}

fn write_for_parent(program: &Program) -> Result<()> {
    let out = std::env::var_os(OUT_ENV).context("ORDERSCTL_OUT is not set")?;
    let stage: Stage = match std::env::var(STAGE_ENV) {
        Ok(s) => s.parse().map_err(anyhow::Error::msg).context(STAGE_ENV)?,
        Err(_) => Stage::Dev,
    };
    let workspace = match std::env::var_os(WORKSPACE_ENV) {
        Some(w) => w.into(),
        None => std::env::current_dir()?,
    };
    let app = App::with_stage(stage).with_asset_source(Box::new(HandlerWorkspace::new(workspace)));
    program.build(&app).context("synth failed")?;
    let assembly = synthesize(&app).context("synth failed")?;
    write_assembly(&assembly, Path::new(&out), Format::Json)?;
    Ok(())
}

/// The CLI side: run `command` (through `sh -c`, in `root`) and read the assembly it
/// writes. Its stdout goes to our stderr, so ours stays the verb's; its stderr is passed on,
/// and its last lines are quoted if it fails.
pub(crate) fn assembly_from_command(
    command: &str,
    root: &Path,
    stage: Stage,
    workspace: &Path,
) -> Result<Assembly> {
    let scratch = tempfile::Builder::new()
        .prefix("ordersctl-app-")
        .tempdir()
        .context("cannot create a temporary directory for the app's assembly")?;
    let out = scratch.path().join("assembly");
    let stdout_to_stderr = std::io::stderr()
        .as_fd_clone()
        .context("cannot pass the app's output on")?;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(root)
        .env(OUT_ENV, &out)
        .env(STAGE_ENV, stage.as_str())
        .env(WORKSPACE_ENV, workspace)
        .stdin(Stdio::null())
        .stdout(stdout_to_stderr)
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run the app command `{command}` (ordersctl.toml)"))?;
    let mut tail: std::collections::VecDeque<String> = Default::default();
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(std::io::stderr().lock(), "{line}");
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    }
    let status = child.wait().context("waiting for the app command")?;
    let quoted = || {
        if tail.is_empty() {
            " It printed nothing on stderr.".to_string()
        } else {
            format!(
                " The last lines of its stderr:\n{}",
                tail.iter()
                    .map(|l| format!("  | {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        }
    };
    if !status.success() {
        let how = match status.code() {
            Some(code) => format!("exited with code {code}"),
            None => "was killed by a signal".to_string(),
        };
        bail!(
            "the app command `{command}` (app in ordersctl.toml) {how}; no assembly was read.{}",
            quoted()
        );
    }
    if !out.join("manifest.json").is_file() {
        bail!(
            "the app command `{command}` (app in ordersctl.toml) exited with code 0 but wrote no assembly to ORDERSCTL_OUT; its main must hand its stacks to ordersctl::cli::main (which writes one there when ORDERSCTL_OUT is set).{}",
            quoted()
        );
    }
    read_assembly(&out).with_context(|| {
        format!("the app command `{command}` (app in ordersctl.toml) wrote an assembly ordersctl cannot read")
    })
}

/// Duplicating stderr's descriptor, for a child's stdout.
trait CloneFd {
    fn as_fd_clone(&self) -> std::io::Result<Stdio>;
}

impl CloneFd for std::io::Stderr {
    fn as_fd_clone(&self) -> std::io::Result<Stdio> {
        use std::os::fd::AsFd;
        Ok(Stdio::from(self.as_fd().try_clone_to_owned()?))
    }
}
