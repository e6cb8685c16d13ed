//! The command-line program, for this repository's blueprints and for any user's stacks:
//! `ordersctl::cli::main(|app| ...)` is a whole `main`. Each file orchestrates one verb; the
//! work lives in the rest of the library.
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     ordersctl::cli::main(|app| {
//!         app.stack("Jobs").queue("Work").build()?;
//!         Ok(())
//!     })
//! }
//! ```

/// `print!` to stdout that returns an error instead of panicking when stdout is closed (a
/// pipe into `head`) or full (`> /dev/full`): the command then exits 1 quietly.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)
            .map_err(|e| anyhow::Error::new($crate::cli::StdoutClosed(e)))
    }};
}

/// `println!` to stdout, as [`out!`].
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
            .map_err(|e| anyhow::Error::new($crate::cli::StdoutClosed(e)))
    }};
}

/// `eprintln!` that never panics: a closed or full stderr (`2>/dev/full`) loses the message,
/// it does not abort the command (the exit code still tells).
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// `eprint!`, as [`errln!`].
macro_rules! errprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod app_args;
mod app_command;
mod aws_args;
mod bootstrap;
mod bundle;
mod check;
mod config;
mod deploy;
mod destroy;
mod diff;
mod fan_out;
mod init;
mod interrupt;
mod invoke;
mod list;
mod local;
mod program;
mod progress;
mod synth;

use std::ffi::OsString;

pub use program::{main, Group, Program};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Infrastructure as code for event-driven order processing on AWS.
#[derive(Debug, Parser)]
#[command(name = "ordersctl", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Synth(synth::SynthArgs),
    List(list::ListArgs),
    Bundle(bundle::BundleArgs),
    Invoke(invoke::InvokeArgs),
    Bootstrap(bootstrap::BootstrapArgs),
    Deploy(deploy::DeployArgs),
    Destroy(destroy::DestroyArgs),
    Diff(diff::DiffArgs),
    Check(check::CheckArgs),
    Local(local::LocalArgs),
    Init(init::InitArgs),
}

/// Run the verb `args` name over the current program's stacks; the process exit code (0
/// success, 1 failure).
fn run_verb(args: impl IntoIterator<Item = OsString>) -> i32 {
    // A user's own program is not ordersctl: its help says so, and `init` (which writes a
    // new project) stays out of its list of verbs.
    let args: Vec<OsString> = args.into_iter().collect();
    let command = if program::current().defers_to_configured_app() {
        Cli::command()
    } else {
        // Named after its own binary; the version shown is the library's, said as such.
        let name = args
            .first()
            .and_then(|a| std::path::Path::new(a).file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "app".into());
        Cli::command()
            .bin_name(name.clone())
            .display_name(name)
            .version(concat!("(ordersctl ", env!("CARGO_PKG_VERSION"), ")"))
            .about("The ordersctl CLI over this program's stacks (ordersctl::cli::main).")
            .mut_subcommand("init", |c| c.hide(true))
    };
    let parsed = command
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                // Bad arguments are an ordinary failure (1), not clap's usage code (2).
                _ => 1,
            };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Synth(args) => synth::run(args).map(|()| 0),
        Command::List(args) => list::run(args).map(|()| 0),
        Command::Bundle(args) => bundle::run(args).map(|()| 0),
        Command::Invoke(args) => invoke::run(args).map(|()| 0),
        Command::Bootstrap(args) => bootstrap::run(args).map(|()| 0),
        Command::Deploy(args) => deploy::run(args).map(|()| 0),
        Command::Destroy(args) => destroy::run(args).map(|()| 0),
        Command::Diff(args) => diff::run(args),
        Command::Check(args) => check::run(args),
        Command::Local(args) => local::run(args).map(|()| 0),
        Command::Init(args) => init::run(args).map(|()| 0),
    };
    match result {
        Ok(code) => code,
        // Whoever stopped reading knows; nothing to say to them. A full device is said.
        Err(e) if e.downcast_ref::<StdoutClosed>().is_some() => {
            if let Some(StdoutClosed(io)) = e.downcast_ref::<StdoutClosed>() {
                if io.kind() != std::io::ErrorKind::BrokenPipe {
                    errln!("error: {e}");
                }
            }
            1
        }
        Err(e) => {
            errln!("error: {e}");
            // A cause the message above already quotes is not said twice.
            let mut said = e.to_string();
            for cause in e.chain().skip(1) {
                let c = cause.to_string();
                if !said.contains(&c) {
                    errln!("  caused by: {c}");
                    said.push_str(&c);
                }
            }
            1
        }
    }
}

/// Writing to stdout failed: the reader went away or the device is full.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to stdout: {0}")]
pub struct StdoutClosed(pub std::io::Error);
