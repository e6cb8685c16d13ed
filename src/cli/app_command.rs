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

/// Set for an app command by the ordersctl that runs it: an ordersctl that finds it set
/// refuses to run an app command again (the marker outlives `env -u ORDERSCTL_OUT`).
pub const PARENT_ENV: &str = "ORDERSCTL_APP_PARENT";

/// How much of one line of the app's stderr is kept for the quote.
const LINE_CAP: usize = 2_000;

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
    if program.defers_to_configured_app() {
        bail!(
            "the prebuilt ordersctl is not an app: it would write its built-in blueprints; `app` in ordersctl.toml must name a program built on ordersctl::cli::main (e.g. \"cargo run --quiet --bin infra --\")"
        );
    }
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
    config: &Path,
    stage: Stage,
    workspace: &Path,
) -> Result<Assembly> {
    let root = config.parent().unwrap_or(Path::new("."));
    let source = format!("app in {}", config.display());
    // An ordersctl run by an app command must not run one in turn: `app = "ordersctl list"`
    // would start ordersctl after ordersctl without end.
    if std::env::var_os(PARENT_ENV).is_some() {
        bail!(
            "this ordersctl was started by an app command ({PARENT_ENV} is set), and would run the app command `{command}` again; `app` in {} must name a program built on ordersctl::cli::main, not an ordersctl verb",
            config.display()
        );
    }
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
        .env(PARENT_ENV, std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(stdout_to_stderr)
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run the app command `{command}` (ordersctl.toml)"))?;
    // The app's stderr is passed on line by line (bytes that are not UTF-8 too, shown
    // lossily) and its last lines kept; a reader thread, so that a background process of the
    // app holding the pipe open cannot hold this command after the app has exited.
    let tail: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<String>>> =
        Default::default();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    if let Some(err) = child.stderr.take() {
        let kept = std::sync::Arc::clone(&tail);
        std::thread::spawn(move || {
            // Bytes are passed on as they come; a line is kept (for the quote) up to
            // LINE_CAP bytes, so a huge line without a newline costs no memory.
            let mut reader = BufReader::new(err);
            let mut line: Vec<u8> = Vec::new();
            let mut cut = false;
            let send = |line: &mut Vec<u8>, cut: &mut bool| {
                let mut text = String::from_utf8_lossy(line)
                    .trim_end_matches('\r')
                    .to_string();
                if *cut {
                    text.push_str(" [...]");
                }
                line.clear();
                *cut = false;
                let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                if kept.len() == TAIL_LINES {
                    kept.pop_front();
                }
                kept.push_back(text);
            };
            loop {
                let chunk = match reader.fill_buf() {
                    Ok([]) | Err(_) => break,
                    Ok(chunk) => chunk.to_vec(),
                };
                reader.consume(chunk.len());
                let _ = std::io::stderr().lock().write_all(&chunk);
                for piece in chunk.split_inclusive(|b| *b == b'\n') {
                    let (body, ends) = match piece.strip_suffix(b"\n") {
                        Some(body) => (body, true),
                        None => (piece, false),
                    };
                    let room = LINE_CAP.saturating_sub(line.len());
                    line.extend_from_slice(&body[..body.len().min(room)]);
                    cut |= body.len() > room;
                    if ends {
                        send(&mut line, &mut cut);
                    }
                }
            }
            if !line.is_empty() {
                send(&mut line, &mut cut);
            }
            let _ = done_tx.send(());
        });
    }
    let status = child.wait().context("waiting for the app command")?;
    // The rest of its output, for a moment: a background process of the app may hold the
    // pipe open long after.
    let _ = done_rx.recv_timeout(std::time::Duration::from_millis(200));
    let tail = tail.lock().unwrap_or_else(|e| e.into_inner()).clone();
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
            "the app command `{command}` ({source}) {how}; no assembly was read.{}",
            quoted()
        );
    }
    if !out.join("manifest.json").is_file() {
        bail!(
            "the app command `{command}` ({source}) exited with code 0 but wrote no assembly to ORDERSCTL_OUT; its main must hand its stacks to ordersctl::cli::main (which writes one there when ORDERSCTL_OUT is set).{}",
            quoted()
        );
    }
    let assembly = read_assembly(&out).with_context(|| {
        format!("the app command `{command}` ({source}) wrote an assembly ordersctl cannot read")
    })?;
    if assembly.stage != stage {
        bail!(
            "the app command `{command}` ({source}) wrote a {} assembly where {} was asked (ORDERSCTL_STAGE={}); it must synthesize for the stage it is given",
            assembly.stage.as_str(),
            stage.as_str(),
            stage.as_str()
        );
    }
    Ok(assembly)
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
