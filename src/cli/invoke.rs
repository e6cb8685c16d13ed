//! `ordersctl invoke`: run one function's bundled binary locally on an event.

use std::path::PathBuf;
use std::time::Duration;

use crate::bundle::{bundle, unzip_bootstrap};
use crate::invoke::{invoke, Invocation, Outcome};
use crate::synth::writer::ASSETS_DIR;
use crate::template::Expr;
use anyhow::{bail, Context, Result};
use clap::Args;

use crate::cli::app_args::AppArgs;
use crate::cli::bundle::requests;

/// Run a function locally behind an emulated Lambda Runtime API on 127.0.0.1, bundling it
/// first when needed. The function's environment comes from its template: literal values as
/// they are; values that reference other resources are left out (with a warning naming them)
/// unless given with --env. AWS endpoint settings (AWS_ENDPOINT_URL, AWS_PROFILE ...) are
/// passed through, so a local AWS endpoint works. The response is printed as JSON; logs go to
/// stderr; exit 1 when the handler errors.
///
/// Examples:
///   ordersctl invoke OrderProcessor --event handlers/order-processor/events/sqs-batch.json
///   AWS_ENDPOINT_URL=http://127.0.0.1:5000 ordersctl invoke OrderProcessor \
///       --event events.json --env TABLE_NAME=Orders
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct InvokeArgs {
    /// The function: logical ID (e.g. OrderProcessor) or construct path (OrderPipeline/OrderProcessor).
    function: String,
    /// The event, a JSON file (samples ship in handlers/<crate>/events/).
    #[arg(long, value_name = "FILE")]
    event: PathBuf,
    /// Set or override an environment variable, K=V (repeatable).
    #[arg(long = "env", value_name = "K=V", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Assembly directory, whose assets/ keeps the bundles [default: ordersctl.out in the
    /// project root, beside ordersctl.toml]
    #[arg(long = "out", short = 'o', value_name = "DIR")]
    out_given: Option<PathBuf>,
    /// The assembly directory this run uses (`--out`, else the project's).
    #[arg(skip)]
    out: PathBuf,
    #[command(flatten)]
    app: AppArgs,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not K=V")),
    }
}

pub fn run(mut args: InvokeArgs) -> Result<()> {
    args.out = args.app.resolve_out(args.out_given.take());
    // A regular file of bounded size: a FIFO or a device would hang or fill memory.
    let event = crate::synth::reader::read_input(&args.event)
        .map_err(|e| anyhow::anyhow!("the event file {}: {e}", args.event.display()))?
        .into_bytes();
    serde_json::from_slice::<serde_json::Value>(&event)
        .with_context(|| format!("{} is not JSON", args.event.display()))?;
    let ws = args.app.workspace();
    let assembly = args.app.assembly()?;
    let reqs = requests(&assembly, std::slice::from_ref(&args.function), None, &ws)?;
    let [req] = reqs.as_slice() else {
        bail!(
            "`{}` names more than one function; use its construct path",
            args.function
        )
    };
    let (stack, asset) = assembly
        .stacks
        .iter()
        .find_map(|s| {
            s.assets
                .iter()
                .find(|a| a.path == req.function)
                .map(|a| (s, a))
        })
        .context("function not found in the assembly")?;
    let function = stack
        .template
        .resources
        .get(&asset.function)
        .context("function resource missing")?;

    let outcome = bundle(&ws, std::slice::from_ref(req), &args.out.join(ASSETS_DIR))?;
    if let Some(note) = outcome[0].note() {
        errln!("note: {note}");
    }
    let zip = std::fs::read(&outcome[0].zip)
        .with_context(|| format!("cannot read {}", outcome[0].zip.display()))?;
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let bin = dir.path().join("bootstrap");
    std::fs::write(&bin, unzip_bootstrap(&zip)?)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755))?;
    }

    let mut env = Vec::new();
    let mut unresolved = Vec::new();
    if let Some(Expr::Map(vars)) = function
        .properties
        .get("Environment")
        .and_then(|e| match e {
            Expr::Map(m) => m.get("Variables"),
            _ => None,
        })
    {
        for (k, v) in vars {
            match v {
                Expr::Str(s) => env.push((k.clone(), s.clone())),
                _ if args.env.iter().any(|(ek, _)| ek == k) => {}
                _ => unresolved.push(k.clone()),
            }
        }
    }
    if !unresolved.is_empty() {
        errln!(
            "warning: left out {} (they reference deployed resources); set them with --env K=V",
            unresolved.join(", ")
        );
    }
    env.retain(|(k, _)| !args.env.iter().any(|(ek, _)| ek == k));
    env.extend(args.env.iter().cloned());

    let memory = function.properties.get("MemorySize").and_then(|m| match m {
        Expr::Int(i) => u64::try_from(*i).ok(),
        _ => None,
    });
    let timeout = function.properties.get("Timeout").and_then(|m| match m {
        Expr::Int(i) => u64::try_from(*i).ok(),
        _ => None,
    });
    let name = match function.properties.get("FunctionName") {
        Some(Expr::Str(s)) => s.clone(),
        _ => asset.function.clone(),
    };
    let result = invoke(
        &bin,
        &Invocation {
            function_name: &name,
            memory_mb: memory.unwrap_or(128),
            timeout: Duration::from_secs(timeout.unwrap_or(3)),
            env,
            event: &event,
            inherit_env: true,
        },
    )?;
    match result {
        Outcome::Response(body) => {
            outln!("{}", pretty(&body))?;
            Ok(())
        }
        Outcome::Error(body) => bail!("the handler returned an error: {}", pretty(&body)),
        Outcome::InitError(body) => bail!("the handler failed to initialise: {}", pretty(&body)),
    }
}

fn pretty(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.to_string())
}
