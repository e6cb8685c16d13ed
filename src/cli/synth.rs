//! `ordersctl synth`: blueprints -> cloud assembly directory.

use std::path::PathBuf;

use crate::checks::Severity;
use crate::synth::writer::write_rendered;
use crate::template::Format;
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};

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
///   ordersctl synth OrderPipeline        # every stack, and prints that template to stdout
///   ordersctl synth --out build --format yaml
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SynthArgs {
    /// Stacks to write (default: all). With exactly one, its template is also printed.
    stacks: Vec<String>,
    /// Assembly directory [default: ordersctl.out in the project root, beside ordersctl.toml]
    #[arg(long = "out", short = 'o', value_name = "DIR")]
    out_given: Option<PathBuf>,
    /// The assembly directory this run uses (`--out`, else the project's).
    #[arg(skip)]
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

pub fn run(mut args: SynthArgs) -> Result<()> {
    args.out = args.app.resolve_out(args.out_given.take());
    let format: Format = args.format.into();
    args.app.fingerprint_cache = Some(args.out.clone());
    let (assembly, reports, json) = args.app.checked_rendered()?;
    let known: Vec<String> = assembly.stacks.iter().map(|s| s.name.clone()).collect();
    for name in &args.stacks {
        if !known.contains(name) {
            bail!("no stack named `{name}`; stacks: {}", known.join(", "));
        }
    }
    // The whole app is written, as CDK writes all of cdk.out: naming a stack picks what is
    // printed and reported, and never drops the other stacks' templates from the assembly.
    let named = |s: &str| args.stacks.is_empty() || args.stacks.iter().any(|n| n == s);
    let rendered = (format == Format::Json).then_some(json.as_slice());
    let written = write_rendered(&assembly, &args.out, format, rendered)?;
    args.app.save_fingerprints();
    // The checks ran with synth (errors stop it); warnings are worth a line.
    let warnings: usize = reports
        .iter()
        .filter(|r| assembly.stack(&r.stack).is_some() && named(&r.stack))
        .map(|r| r.count(Severity::Warning))
        .sum();
    if warnings > 0 && !args.quiet {
        errln!("checks: {warnings} warning(s); `ordersctl check` shows them");
    }
    let printed = match args.stacks.as_slice() {
        [one] => assembly.stack(one),
        [] if assembly.stacks.len() == 1 => assembly.stacks.first(),
        _ => None,
    };
    if let (Some(only), false) = (printed, args.quiet) {
        match (
            format,
            assembly.stacks.iter().position(|s| s.name == only.name),
        ) {
            (Format::Json, Some(i)) => out!("{}", json[i])?,
            _ => out!("{}", only.template.render(format))?,
        }
    } else {
        for path in written {
            errln!("wrote {}", path.display());
        }
    }
    Ok(())
}
