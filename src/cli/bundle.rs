//! `ordersctl bundle`: synth, then build and zip the handlers the assembly references.

use std::path::PathBuf;

use crate::bundle::{bundle, BundleRequest, BundleStatus};
use crate::constructs::Architecture;
use crate::synth::writer::{write_assembly, ASSETS_DIR};
use crate::synth::Assembly;
use crate::template::Format;
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};

use crate::cli::app_args::AppArgs;

/// CPU architecture to build for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ArchArg {
    #[value(name = "x86_64")]
    X86_64,
    Arm64,
}

/// Build every handler the assembly references (one `cargo build`), zip each binary as
/// `bootstrap` into `<out>/assets/<fingerprint>.zip`, skip what is already there.
///
/// Examples:
///   ordersctl bundle                     # every function of every stack
///   ordersctl bundle OrderProcessor      # one function (logical ID or construct path)
///   ordersctl bundle --arch arm64        # build for Graviton (needs that Rust target)
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct BundleArgs {
    /// Functions to bundle, by logical ID or construct path (default: all).
    functions: Vec<String>,
    /// Build for this architecture instead of each function's own.
    #[arg(long, value_enum)]
    arch: Option<ArchArg>,
    /// Assembly directory [default: ordersctl.out in the project root, beside ordersctl.toml]
    #[arg(long = "out", short = 'o', value_name = "DIR")]
    out_given: Option<PathBuf>,
    /// The assembly directory this run uses (`--out`, else the project's).
    #[arg(skip)]
    out: PathBuf,
    #[command(flatten)]
    app: AppArgs,
}

/// The bundle requests for the named functions (all when none are named).
pub fn requests(
    assembly: &Assembly,
    functions: &[String],
    arch: Option<Architecture>,
    ws: &crate::bundle::HandlerWorkspace,
) -> Result<Vec<BundleRequest>> {
    let all: Vec<_> = assembly
        .stacks
        .iter()
        .flat_map(|s| s.assets.iter())
        .collect();
    for name in functions {
        if !all.iter().any(|a| &a.function == name || &a.path == name) {
            let known: Vec<&str> = all.iter().map(|a| a.path.as_str()).collect();
            bail!("no function `{name}`; functions: {}", known.join(", "));
        }
    }
    all.into_iter()
        .filter(|a| {
            functions.is_empty() || functions.iter().any(|n| n == &a.function || n == &a.path)
        })
        .map(|a| {
            let architecture = arch.unwrap_or(a.architecture);
            let fingerprint = match (&a.fingerprint, arch) {
                (Some(fp), None) => fp.clone(),
                // Without a fingerprint nothing ties the template's S3 key to any code: building
                // the sources as they are now could upload other code than the key names.
                (None, None) => bail!(
                    "{}: the assembly gives no fingerprint for its code (key {}), so ordersctl cannot tell which sources it was made from; synthesize it with ordersctl, or upload the object yourself",
                    a.path,
                    a.s3_key
                ),
                _ => ws.fingerprint(&a.handler_crate, architecture)?,
            };
            Ok(BundleRequest {
                function: a.path.clone(),
                handler_crate: a.handler_crate.clone(),
                architecture,
                fingerprint,
            })
        })
        .collect()
}

pub fn run(mut args: BundleArgs) -> Result<()> {
    args.out = args.app.resolve_out(args.out_given.take());
    let ws = args.app.workspace();
    let assembly = args.app.assembly()?;
    let arch = args.arch.map(|a| match a {
        ArchArg::X86_64 => Architecture::X86_64,
        ArchArg::Arm64 => Architecture::Arm64,
    });
    let reqs = requests(&assembly, &args.functions, arch, &ws)?;
    write_assembly(&assembly, &args.out, Format::Json)?;
    let outcomes = bundle(&ws, &reqs, &args.out.join(ASSETS_DIR))?;
    let wf = outcomes
        .iter()
        .map(|o| o.function.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let wc = outcomes
        .iter()
        .map(|o| o.handler_crate.len())
        .max()
        .unwrap_or(5)
        .max(5);
    outln!(
        "{:<wf$}  {:<wc$}  {:>10}  {:<64}  STATUS",
        "FUNCTION",
        "CRATE",
        "ZIP BYTES",
        "SHA256"
    )?;
    for note in outcomes.iter().filter_map(|o| o.note()) {
        errln!("note: {note}");
    }
    for o in &outcomes {
        let status = match &o.status {
            BundleStatus::Built => "built",
            BundleStatus::Cached => "cached",
            BundleStatus::Rebuilt { .. } => "rebuilt",
        };
        outln!(
            "{:<wf$}  {:<wc$}  {:>10}  {:<64}  {status}",
            o.function,
            o.handler_crate,
            o.size,
            o.sha256
        )?;
    }
    Ok(())
}
