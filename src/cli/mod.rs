//! Command-line verbs. Each file orchestrates one verb; the work lives in the library.

mod app_args;
mod aws_args;
mod bootstrap;
mod bundle;
mod check;
mod config;
mod deploy;
mod destroy;
mod diff;
mod fan_out;
mod invoke;
mod list;
mod local;
mod progress;
mod synth;

use std::ffi::OsString;

use clap::{Parser, Subcommand};

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
}

/// Run the CLI; returns the process exit code (0 success, 1 failure).
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
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
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            1
        }
    }
}
