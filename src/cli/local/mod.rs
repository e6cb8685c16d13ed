//! `ordersctl local`: deploy stacks to a local endpoint and run their event flow there.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::bundle::build_dev;
use crate::deploy::{Aws, Progress, ResourceChange};
use crate::local::deploy as local_deploy;
use crate::local::engine::{Engine, EngineError, Options};
use crate::local::inject;
use crate::local::moto::Endpoint;
use crate::local::proxy::Proxy;
use crate::local::resolve::{DeployedStack, Resolver};
use crate::local::server::Server;
use crate::local::trace::{self, Hop};
use crate::local::world::{self, World};
use crate::synth::reader::read_assembly;
use crate::synth::Assembly;
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};

use crate::cli::app_args::AppArgs;

mod up;

use crate::cli::deploy::select;
use up::{send, up, SendArgs, UpArgs};

/// Run stacks' whole event flow on a local endpoint (moto on 127.0.0.1), no AWS account
/// needed. The stacks are deployed there (the "local deploy": CreateStack directly, event
/// source mappings disabled so only ordersctl delivers, outputs moto cannot resolve left out);
/// then ordersctl delivers every event itself, on a virtual clock: SQS and DynamoDB stream
/// event sources, EventBridge rules, targets and pipes, SNS subscriptions, HTTP APIs,
/// asynchronous invocation with retries and destinations, schedules and state machines.
/// Functions run as their handler binaries (cargo's dev profile); their AWS calls are checked
/// against their role's policies.
///
/// Examples:
///   ordersctl local run OrderPipeline --inject scenario.json --trace trace.jsonl
///   ordersctl local up EventConsumer          # then, from another terminal:
///   ordersctl local send '{"bus": "ApplicationBus", "source": "com.app.events", "detail-type": "OrderCreated", "detail": {"orderId": "o-1"}}'
///   ordersctl local trace o-1 --trace trace.jsonl
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct LocalArgs {
    #[command(subcommand)]
    command: LocalCommand,
}

#[derive(Debug, Subcommand)]
enum LocalCommand {
    Run(RunArgs),
    Up(UpArgs),
    Send(SendArgs),
    Trace(TraceArgs),
}

/// Where the stacks come from and where they run.
#[derive(Debug, Args)]
struct Target {
    /// Stacks to run (with the stacks they import from).
    stacks: Vec<String>,
    /// Run every stack.
    #[arg(long)]
    all: bool,
    /// A running local server (loopback only) instead of starting moto_server.
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Run this assembly (written by synth, possibly edited) instead of synthesizing.
    #[arg(long = "app", value_name = "DIR")]
    app_dir: Option<PathBuf>,
    /// A stack parameter, KEY=VALUE (repeatable); parameters without a value or default run
    /// with a placeholder (`local-<Name>`).
    #[arg(long = "parameters", value_name = "KEY=VALUE", value_parser = crate::cli::aws_args::parse_pair)]
    parameters: Vec<(String, String)>,
    #[command(flatten)]
    app: AppArgs,
}

/// Deploy, apply the injections in order, run until idle, write the trace. A business
/// failure (a handler error, a message in a dead-letter queue, a failed execution) is in the
/// trace, not the exit code; exit 1 is for bad input or an engine failure.
///
/// Example:
///   ordersctl local run OrderPipeline --inject scenario.json --trace trace.jsonl
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct RunArgs {
    #[command(flatten)]
    target: Target,
    /// The inputs: a JSON array (README: "The inject format").
    #[arg(long, value_name = "FILE")]
    inject: PathBuf,
    /// Give up (exit 1) when the flow is not idle after this many seconds of wall time.
    #[arg(long, default_value_t = 120, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    timeout: u64,
    /// Write the trace here as JSON lines.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Print hops as JSON lines on stdout instead of text on stderr.
    #[arg(long)]
    json: bool,
}

/// Print the hops of a trace that carry an ID (message, execution or correlation ID).
#[derive(Debug, Args)]
struct TraceArgs {
    /// The ID to follow.
    id: String,
    /// The trace file (JSON lines, written by `local run --trace`).
    #[arg(long, value_name = "FILE")]
    trace: PathBuf,
    /// Print JSON lines instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: LocalArgs) -> Result<()> {
    match args.command {
        LocalCommand::Run(a) => run_flow(a),
        LocalCommand::Up(a) => up(a),
        LocalCommand::Send(a) => send(a),
        LocalCommand::Trace(a) => show_trace(a),
    }
}

/// Everything a started run holds; dropped in reverse (proxy, then the server).
struct Running {
    _server: Server,
    proxy: Proxy,
    endpoint: Endpoint,
    world: World,
    binaries: BTreeMap<String, PathBuf>,
}

impl Running {
    /// The engine over this run's world, talking to its endpoint and proxy.
    fn engine<'a>(
        &'a self,
        timeout: Duration,
        stop: Arc<AtomicBool>,
        sink: Box<dyn FnMut(&Hop) + 'a>,
    ) -> Engine<'a> {
        let opts = Options {
            binaries: self.binaries.clone(),
            proxy_endpoint: self.proxy.endpoint(),
            timeout,
            start_ms: now_ms(),
            stop: Some(stop),
        };
        Engine::new(
            &self.world,
            self.endpoint,
            Arc::clone(&self.proxy.shared),
            opts,
            sink,
        )
    }
}

fn start(target: &Target) -> Result<Running> {
    let assembly: Assembly = match &target.app_dir {
        Some(dir) => read_assembly(dir)?,
        None => target.app.assembly()?,
    };
    let selected = select(&assembly, &target.stacks, target.all)?;
    let stacks: Vec<_> = assembly
        .stacks
        .iter()
        .filter(|s| selected.contains(&s.name))
        .collect();
    let crates: BTreeMap<(String, String), String> = stacks
        .iter()
        .flat_map(|s| {
            s.assets.iter().map(move |a| {
                (
                    (s.name.clone(), a.function.clone()),
                    a.handler_crate.clone(),
                )
            })
        })
        .collect();

    // Refuse what the engine cannot run before anything starts: the world read with
    // stand-in physical IDs (each resource named by its logical ID).
    let preview: Vec<DeployedStack> = stacks
        .iter()
        .map(|s| {
            // What moto cannot create is left out of the local deploy, not refused.
            let template = local_deploy::without_left_out(&s.template);
            let physical = template
                .resources
                .keys()
                .map(|k| (k.clone(), k.clone()))
                .collect();
            DeployedStack {
                name: s.name.clone(),
                template,
                physical,
                parameters: local_deploy::local_parameters(s, &target.parameters)
                    .into_iter()
                    .collect(),
            }
        })
        .collect();
    world::build(
        &Resolver {
            stacks: &preview,
            queue_url_base: "http://127.0.0.1".into(),
        },
        &crates,
    )
    .map_err(|problems| {
        anyhow!(
            "the local engine cannot run these stacks; it would have to skip:\n  {}",
            problems.join("\n  ")
        )
    })?;

    let ws = target.app.workspace();
    let mut wanted: Vec<String> = crates.values().cloned().collect();
    wanted.sort();
    wanted.dedup();
    for c in &wanted {
        if !ws.crate_dir(c).join("Cargo.toml").is_file() {
            bail!(
                "handler crate `{c}` is not in {} (pass --workspace DIR)",
                ws.root().join("handlers").display()
            );
        }
    }
    // The endpoint first: a bad --endpoint-url fails before a build.
    let server = match &target.endpoint_url {
        Some(url) => Server::at(url)?,
        None => Server::start()?,
    };
    errln!(
        "building {} handler crate(s) (dev profile) ...",
        wanted.len()
    );
    let binaries = build_dev(&ws, &wanted)?;
    let proxy =
        Proxy::start(server.addr).context("cannot start the AWS-call proxy on 127.0.0.1")?;
    let rt = tokio::runtime::Runtime::new()?;
    let endpoint_url = server.endpoint();
    let deployed = rt.block_on(async {
        let aws = Aws::local(&endpoint_url).await;
        local_deploy::deploy(&aws, &stacks, &target.parameters, &Quiet).await
    })?;
    let world = world::build(
        &Resolver {
            stacks: &deployed,
            queue_url_base: endpoint_url.clone(),
        },
        &crates,
    )
    .map_err(|problems| {
        anyhow!(
            "the local engine cannot run these stacks:\n  {}",
            problems.join("\n  ")
        )
    })?;
    local_deploy::complete(&Endpoint(server.addr), &world.tables)
        .context("cannot apply the tables' time-to-live settings on the local endpoint")?;
    errln!(
        "deployed {} on {endpoint_url}; AWS calls of functions go through {}",
        selected.join(", "),
        proxy.endpoint()
    );
    Ok(Running {
        endpoint: Endpoint(server.addr),
        _server: server,
        proxy,
        world,
        binaries,
    })
}

/// A flag set on Ctrl-C or SIGTERM, so the engine stops between hops and everything started
/// (moto, the proxy) is stopped on the way out.
fn stop_on_signals() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        });
        flag.store(true, Ordering::SeqCst);
    });
    stop
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn run_flow(args: RunArgs) -> Result<()> {
    // Bad input is refused before anything starts.
    let text = crate::synth::reader::read_input(&args.inject)
        .map_err(|e| anyhow!("the inject file {}: {e}", args.inject.display()))?;
    let injections = inject::parse(&text).map_err(|e| anyhow!("{}: {e}", args.inject.display()))?;
    if let Some(t) = &args.trace {
        if t.is_dir() {
            bail!("--trace {}: is a directory; name a file", t.display());
        }
        // The trace replaces a regular file only: never a device, a pipe or a link.
        if let Ok(meta) = std::fs::symlink_metadata(t) {
            if !meta.file_type().is_file() {
                bail!("--trace {}: exists and is not a regular file (a link, device or pipe); name a new or regular file", t.display());
            }
        }
        let same_file = |a: &std::path::Path, b: &std::path::Path| {
            use std::os::unix::fs::MetadataExt;
            match (std::fs::metadata(a), std::fs::metadata(b)) {
                (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
                _ => false,
            }
        };
        if let (Ok(a), Ok(b)) = (
            std::fs::canonicalize(t),
            std::fs::canonicalize(&args.inject),
        ) {
            // The same path, or a hard link to the same file.
            if a == b || same_file(&a, &b) {
                bail!(
                    "--trace {}: is the --inject file; name another file",
                    t.display()
                );
            }
        }
        let parent = t.parent().filter(|p| !p.as_os_str().is_empty());
        if parent.is_some_and(|p| !p.is_dir()) {
            bail!("--trace {}: the directory does not exist", t.display());
        }
        // Never into the assembly being run (it would overwrite its manifest or a template).
        if let Some(app) = &args.target.app_dir {
            let dir = parent.unwrap_or(std::path::Path::new("."));
            if let (Ok(d), Ok(a)) = (std::fs::canonicalize(dir), std::fs::canonicalize(app)) {
                if d.starts_with(&a) {
                    bail!(
                        "--trace {}: is inside the assembly {}; write it elsewhere",
                        t.display(),
                        app.display()
                    );
                }
            }
        }
    }
    let stop = stop_on_signals();
    let r = start(&args.target)?;
    let json = args.json;
    let sink: Box<dyn FnMut(&Hop)> = Box::new(move |h: &Hop| {
        if json {
            // A reader that went away stops no run; the trace file keeps every hop.
            let _ = outln!("{}", serde_json::to_string(h).unwrap_or_default());
        } else {
            errln!("{}", h.human());
        }
    });
    let mut engine = r.engine(Duration::from_secs(args.timeout), stop, sink);
    engine
        .check(&injections)
        .map_err(|e| anyhow!("{}: {e}", args.inject.display()))?;
    let engine_started = std::time::Instant::now();
    let result = engine.run(&injections);
    if let Some(path) = &args.trace {
        write_trace(path, engine.hops())?;
    }
    let hops = engine.hops().len();
    let wall = engine_started.elapsed();
    let handlers = engine.handler_time();
    match result {
        Ok(()) => {
            // The engine's own share per hop: everything but the handlers' time.
            if hops == 0 {
                errln!(
                    "idle after 0 hops in {:.2} s (nothing was injected)",
                    wall.as_secs_f64()
                );
                return Ok(());
            }
            let own = wall.saturating_sub(handlers).as_secs_f64() * 1000.0 / hops as f64;
            errln!(
                "idle after {hops} hops in {:.2} s ({:.2} s in handlers, {own:.1} ms of engine time per hop)",
                wall.as_secs_f64(),
                handlers.as_secs_f64()
            );
            Ok(())
        }
        Err(e @ (EngineError::Timeout(_) | EngineError::Interrupted)) => Err(anyhow!(e)),
        Err(e) => Err(anyhow!("the run stopped: {e}")),
    }
}

/// Write the trace whole or not at all.
fn write_trace(path: &PathBuf, hops: &[Hop]) -> Result<()> {
    let mut text = String::new();
    for h in hops {
        text.push_str(&serde_json::to_string(h)?);
        text.push('\n');
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("cannot write the trace next to {}", path.display()))?;
    tmp.write_all(text.as_bytes())?;
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path)
        .map_err(|e| anyhow!("cannot write the trace {}: {}", path.display(), e.error))?;
    Ok(())
}

fn show_trace(args: TraceArgs) -> Result<()> {
    let text = crate::synth::reader::read_input(&args.trace)
        .map_err(|e| anyhow!("the trace {}: {e}", args.trace.display()))?;
    let hops = trace::parse(&text).map_err(|e| anyhow!("{}: {e}", args.trace.display()))?;
    let found: Vec<&Hop> = hops.iter().filter(|h| h.mentions(&args.id)).collect();
    if found.is_empty() {
        bail!("no hop of {} carries `{}`", args.trace.display(), args.id);
    }
    for h in found {
        if args.json {
            outln!("{}", serde_json::to_string(h)?)?;
        } else {
            outln!("{}", h.human())?;
        }
    }
    Ok(())
}

/// Deploy progress for local runs: one line per stack.
struct Quiet;

impl Progress for Quiet {
    fn resource(&self, _stack: &str, _logical_id: &str, _status: &str) {}
    fn changes(&self, _stack: &str, _changes: &[ResourceChange]) {}
    fn note(&self, stack: &str, message: &str) {
        errln!("{stack}: {message}");
    }
    fn started(&self, stack: &str, total: usize) {
        errln!("{stack}: deploying {total} resources locally");
    }
}
