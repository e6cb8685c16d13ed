//! `ordersctl synth`: blueprints -> cloud assembly directory.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use ordersctl::checks::Severity;
use ordersctl::synth::writer::write_assembly;
use ordersctl::template::Format;

use crate::cli::app_args::AppArgs;

/// Template format on disk.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Json,
    Yaml,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Json => Format::Json,
            FormatArg::Yaml => Format::Yaml,
        }
    }
}

/// Synthesize CloudFormation templates and the manifest into the assembly directory.
///
/// Examples:
///   ordersctl synth                      # every stack into ordersctl.out/
///   ordersctl synth OrderPipeline        # also prints that template to stdout
///   ordersctl synth --out build --format yaml
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SynthArgs {
    /// Stacks to write (default: all). With exactly one, its template is also printed.
    stacks: Vec<String>,
    /// Assembly directory.
    #[arg(long, short, default_value = "ordersctl.out")]
    out: PathBuf,
    /// Template format.
    #[arg(long, value_enum, default_value = "json")]
    format: FormatArg,
    /// Do not print the template even when one stack is named.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    app: AppArgs,
}

pub fn run(args: SynthArgs) -> Result<()> {
    let format: Format = args.format.into();
    let (mut assembly, reports) = args.app.checked_assembly()?;
    if !args.stacks.is_empty() {
        let known: Vec<String> = assembly.stacks.iter().map(|s| s.name.clone()).collect();
        for name in &args.stacks {
            if !known.contains(name) {
                bail!("no stack named `{name}`; stacks: {}", known.join(", "));
            }
        }
        assembly.stacks.retain(|s| args.stacks.contains(&s.name));
    }
    let written = write_assembly(&assembly, &args.out, format)?;
    // The checks ran with synth (errors stop it); warnings are worth a line.
    let warnings: usize = reports
        .iter()
        .filter(|r| assembly.stack(&r.stack).is_some())
        .map(|r| r.count(Severity::Warning))
        .sum();
    if warnings > 0 && !args.quiet {
        eprintln!("checks: {warnings} warning(s); `ordersctl check` shows them");
    }
    if let ([only], false) = (assembly.stacks.as_slice(), args.quiet) {
        let mut out = std::io::stdout().lock();
        out.write_all(only.template.render(format).as_bytes())?;
    } else {
        for path in written {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}
