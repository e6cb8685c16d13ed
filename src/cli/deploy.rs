//! `ordersctl deploy`: synth, bundle, upload, then one change set per stack in dependency order.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use crate::bundle::bundle;
use crate::constructs::ASSET_BUCKET_PARAMETER;
use crate::deploy::{
    deploy_direct, deployed_template, execute_change_set, prepare_change_set,
    set_termination_protection, stack_outputs, stack_parameters, stack_status,
    termination_protected, toolkit_bucket, update_tags_if_changed, upload_if_missing,
    upload_template, Aws, DeployResult, Progress, ResourceChange, Schedule, StackDeploy,
    MAX_INLINE_TEMPLATE,
};
use crate::diff::{diff_stack, Action, DiffContext, StackDiff};
use crate::synth::reader::read_assembly;
use crate::synth::writer::{write_assembly, ASSETS_DIR};
use crate::synth::{Assembly, StackArtifact};
use crate::template::{Format, Template};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};

use crate::cli::app_args::AppArgs;
use crate::cli::aws_args::{confirm, parse_pair, AwsArgs};
use crate::cli::bundle::requests;
use crate::cli::fan_out::fan_out;
use crate::cli::interrupt::{self, unless_interrupted};
use crate::cli::progress::display;

/// When to ask before executing a change set.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Approval {
    /// Ask when IAM permissions or resource policies are added or changed.
    Broadening,
    /// Never ask.
    Never,
}

/// How stacks are created or updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// Create a change set, show it, then execute it.
    ChangeSet,
    /// CreateStack / UpdateStack directly (approval is decided from a template diff).
    Direct,
}

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Toggle {
    On,
    Off,
}

/// Deploy stacks: synth, bundle and upload the assets, then per stack create a change set,
/// show it, ask when permissions widen, execute and follow it. Stacks a named stack imports
/// from are deployed first.
///
/// Examples:
///   ordersctl bootstrap && ordersctl deploy OrderPipeline --yes
///   ordersctl deploy --all --outputs-file outputs.json
///   ordersctl deploy OmniApi --no-execute        # change sets only
///   ordersctl deploy --all --concurrency 2 --termination-protection on
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DeployArgs {
    /// Stacks to deploy (with the stacks they depend on).
    stacks: Vec<String>,
    /// Deploy every stack.
    #[arg(long)]
    all: bool,
    /// Approve without asking (needed without a TTY when permissions widen).
    #[arg(long)]
    yes: bool,
    /// When to ask before executing.
    #[arg(long, value_enum, default_value = "broadening")]
    require_approval: Approval,
    /// Create the change sets but do not execute them.
    #[arg(long)]
    no_execute: bool,
    /// Continue a rollback that failed (UPDATE_ROLLBACK_FAILED) before deploying.
    #[arg(long)]
    continue_rollback: bool,
    /// A stack parameter, KEY=VALUE (repeatable).
    #[arg(long = "parameters", value_name = "KEY=VALUE", value_parser = parse_pair)]
    parameters: Vec<(String, String)>,
    /// A stack tag, KEY=VALUE (repeatable).
    #[arg(long = "tags", value_name = "KEY=VALUE", value_parser = parse_pair)]
    tags: Vec<(String, String)>,
    /// Write the stacks' outputs here as JSON, by stack.
    #[arg(long, value_name = "FILE")]
    outputs_file: Option<PathBuf>,
    /// Assembly directory [default: ordersctl.out in the project root, beside ordersctl.toml]
    #[arg(long = "out", short = 'o', value_name = "DIR")]
    out_given: Option<PathBuf>,
    /// The assembly directory this run uses (`--out`, else the project's).
    #[arg(skip)]
    out: PathBuf,
    /// How many independent stacks deploy at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Through change sets (shown before they run) or directly.
    #[arg(long, value_enum, default_value = "change-set")]
    method: MethodArg,
    /// Turn termination protection on or off for the deployed stacks (unchanged if omitted).
    #[arg(long, value_enum, value_name = "on|off")]
    termination_protection: Option<Toggle>,
    /// Deploy this existing assembly (written by synth) instead of synthesizing.
    #[arg(long = "app", value_name = "DIR")]
    app_dir: Option<PathBuf>,
    #[command(flatten)]
    app: AppArgs,
    #[command(flatten)]
    aws: AwsArgs,
}

/// The named stacks and, first, everything they depend on, in assembly (dependency) order.
pub fn select(assembly: &Assembly, names: &[String], all: bool) -> Result<Vec<String>> {
    let known: Vec<&str> = assembly.stacks.iter().map(|s| s.name.as_str()).collect();
    if all {
        return Ok(known.iter().map(|s| s.to_string()).collect());
    }
    if names.is_empty() {
        bail!(
            "name the stacks to deploy, or pass --all; stacks: {}",
            known.join(", ")
        );
    }
    let mut wanted: Vec<String> = Vec::new();
    // Each name with the stack that needs it (none: named by the user).
    let mut queue: Vec<(String, Option<String>)> =
        names.iter().map(|n| (n.clone(), None)).collect();
    while let Some((n, needed_by)) = queue.pop() {
        let Some(s) = assembly.stack(&n) else {
            match needed_by {
                Some(by) => bail!(
                    "`{by}` depends on `{n}`, which this assembly does not hold (it is partial); synthesize the whole app into it again (`ordersctl synth --out DIR`); stacks it holds: {}",
                    known.join(", ")
                ),
                None => bail!("no stack named `{n}`; stacks: {}", known.join(", ")),
            }
        };
        if !wanted.contains(&n) {
            wanted.push(n.clone());
            queue.extend(s.dependencies.iter().map(|d| (d.clone(), Some(n.clone()))));
        }
    }
    Ok(known
        .iter()
        .filter(|k| wanted.iter().any(|w| w == *k))
        .map(|s| s.to_string())
        .collect())
}

pub fn run(mut args: DeployArgs) -> Result<()> {
    args.out = args.app.resolve_out(args.out_given.take());
    if args.no_execute && args.method == MethodArg::Direct {
        bail!("--no-execute needs change sets; drop --method direct");
    }
    args.app.fingerprint_cache = Some(args.out.clone());
    let assembly = match &args.app_dir {
        Some(dir) => read_assembly(dir)?,
        None => args.app.assembly()?,
    };
    let selected = select(&assembly, &args.stacks, args.all)?;
    if args.app_dir.is_none() {
        write_assembly(&assembly, &args.out, Format::Json)?;
        args.app.save_fingerprints();
    }
    interrupt::block_on(deploy_all(&args, &assembly, &selected))?
}

/// Connect, render, and upload what the bucket lacks: nothing here changes a stack.
async fn prepare<'a>(
    args: &DeployArgs,
    assembly: &Assembly,
    stacks: &[&'a StackArtifact],
) -> Result<(Aws, BTreeMap<&'a str, String>, Option<String>)> {
    let ws = args.app.workspace();
    let aws = args.aws.connect().await?;
    // Each template is rendered once (or sent as the assembly's file holds it, the bytes
    // that were reviewed): its size decides inline or by URL.
    let bodies: BTreeMap<&str, String> = stacks
        .iter()
        .map(|s| {
            let body = s.body.clone();
            (
                s.name.as_str(),
                body.unwrap_or_else(|| s.template.to_json_string()),
            )
        })
        .collect();
    let needs_bucket = stacks
        .iter()
        .any(|s| !s.assets.is_empty() || bodies[s.name.as_str()].len() > MAX_INLINE_TEMPLATE);
    let bucket = if needs_bucket {
        Some(toolkit_bucket(&aws).await?)
    } else {
        None
    };

    // Bundle and upload what the bucket does not hold yet (keys are fingerprints).
    let functions: Vec<String> = stacks
        .iter()
        .flat_map(|s| s.assets.iter().map(|a| a.path.clone()))
        .collect();
    if let (Some(bucket), false) = (&bucket, functions.is_empty()) {
        let assets_dir = args.app_dir.as_ref().unwrap_or(&args.out).join(ASSETS_DIR);
        let reqs = requests(assembly, &functions, None, &ws)?;
        let outcomes = bundle(&ws, &reqs, &assets_dir)?;
        let mut done = Vec::new();
        for o in &outcomes {
            if let Some(note) = o.note() {
                errln!("note: {note}");
            }
            let key = o
                .zip
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if done.contains(&key) {
                continue;
            }
            let uploaded = upload_if_missing(&aws, bucket, &key, &o.zip).await?;
            let what = if uploaded {
                "uploaded"
            } else {
                "already in the bucket"
            };
            errln!(
                "asset {key} ({}, {} bytes): {what}",
                o.handler_crate,
                o.size
            );
            done.push(key);
        }
    }

    Ok((aws, bodies, bucket))
}

/// What every stack's deploy shares.
struct Shared<'a> {
    args: &'a DeployArgs,
    aws: Aws,
    bucket: Option<String>,
    progress: Box<dyn Progress>,
    /// One question on the terminal at a time.
    prompt: tokio::sync::Mutex<()>,
}

async fn deploy_all(args: &DeployArgs, assembly: &Assembly, selected: &[String]) -> Result<()> {
    let stacks: Vec<&StackArtifact> = assembly
        .stacks
        .iter()
        .filter(|s| selected.contains(&s.name))
        .collect();
    // Every parameter without a default must be given, checked before anything is touched.
    let mut missing = Vec::new();
    for s in &stacks {
        for (k, p) in &s.template.parameters {
            let given =
                k == ASSET_BUCKET_PARAMETER || args.parameters.iter().any(|(pk, _)| pk == k);
            if p.default.is_none() && !given {
                missing.push(format!("{}.{k}", s.name));
            }
        }
    }
    if !missing.is_empty() {
        bail!(
            "parameters without a default need a value (--parameters KEY=VALUE): {}",
            missing.join(", ")
        );
    }
    given_parameters(&stacks, &args.parameters)?;
    if let Some(path) = &args.outputs_file {
        writable(path, args.app_dir.as_ref().unwrap_or(&args.out))?;
    }
    let (aws, bodies, bucket) =
        unless_interrupted(prepare(args, assembly, &stacks), "no stack was changed").await?;
    let shared = Shared {
        args,
        aws,
        bucket,
        progress: display(),
        prompt: tokio::sync::Mutex::new(()),
    };
    let schedule = Schedule::new(
        stacks
            .iter()
            .map(|s| (s.name.clone(), s.dependencies.clone())),
    );
    let outputs: Mutex<BTreeMap<String, BTreeMap<String, String>>> = Mutex::new(BTreeMap::new());
    let failed = fan_out(
        &shared.aws,
        schedule,
        usize::from(args.concurrency),
        |name| {
            let shared = &shared;
            let stack = assembly.stack(&name);
            let body = bodies.get(name.as_str());
            async move {
                let (Some(stack), Some(body)) = (stack, body) else {
                    bail!("{name}: not in the assembly");
                };
                deploy_one(shared, stack, body).await
            }
        },
        |name, result| match result {
            Ok((DeployResult::NoChanges, secs, outs)) => {
                errln!("{name}: no changes ({secs:.1} s)");
                // An unchanged stack's outputs belong in --outputs-file too.
                if let Ok(mut o) = outputs.lock() {
                    o.insert(name.to_string(), outs.into_iter().collect());
                }
            }
            Ok((DeployResult::ChangeSetCreated { name: cs, .. }, _, _)) => {
                errln!("{name}: change set {cs} created, not executed")
            }
            Ok((DeployResult::Deployed { outputs: outs, .. }, secs, _)) => {
                errln!("{name}: deployed ({secs:.1} s)");
                for (k, v) in &outs {
                    // The deploy goes on if nobody reads stdout; its result is in the exit code.
                    let _ = outln!("{name}.{k} = {v}");
                }
                if let Ok(mut o) = outputs.lock() {
                    o.insert(name.to_string(), outs.into_iter().collect());
                }
            }
            Err(e) => errln!("{name}: failed: {e:#}"),
        },
    )
    .await?;
    if let Some(path) = &args.outputs_file {
        let outputs = outputs.into_inner().unwrap_or_default();
        // Written beside and renamed over: a link put there meanwhile is replaced, not
        // written through.
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        std::fs::write(&tmp, serde_json::to_string_pretty(&outputs)? + "\n")
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                anyhow!("cannot write {}: {e}", path.display())
            })?;
    }
    if !failed.is_empty() {
        bail!("failed or skipped: {}", failed.join(", "));
    }
    Ok(())
}

/// Refuse an `--outputs-file` that cannot be written before deploying anything (a deploy that
/// succeeds and then loses its outputs helps nobody). Leaves no file behind.
fn writable(path: &std::path::Path, assembly: &std::path::Path) -> Result<()> {
    let shown = path.display();
    if path.is_dir() {
        bail!("--outputs-file {shown}: is a directory");
    }
    // Never through a link, never onto something that is not a plain file (a pipe would
    // block), never into the assembly the deploy reads.
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if m.file_type().is_symlink() {
            bail!("--outputs-file {shown}: is a symlink; name the file itself");
        }
        if !m.is_file() {
            bail!("--outputs-file {shown}: is not a regular file");
        }
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    if let (Ok(p), Ok(a)) = (
        std::fs::canonicalize(parent),
        std::fs::canonicalize(assembly),
    ) {
        if p.starts_with(&a) {
            bail!(
                "--outputs-file {shown}: is inside the assembly {}; write it elsewhere",
                assembly.display()
            );
        }
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| anyhow!("--outputs-file {shown}: cannot be written: {e}"))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// `--parameters` are checked before anything is touched: a value for a parameter no stack
/// declares is a typo, not something to drop silently, and the asset bucket is ordersctl's.
pub fn given_parameters(stacks: &[&StackArtifact], given: &[(String, String)]) -> Result<()> {
    let declared: Vec<String> = stacks
        .iter()
        .flat_map(|s| {
            s.template
                .parameters
                .keys()
                .filter(|k| *k != ASSET_BUCKET_PARAMETER)
                .map(|k| format!("{}.{k}", s.name))
        })
        .collect();
    for (k, _) in given {
        if k == ASSET_BUCKET_PARAMETER {
            bail!("--parameters {k}: ordersctl sets it to the toolkit stack's bucket; it cannot be given");
        }
        if !stacks.iter().any(|s| s.template.parameters.contains_key(k)) {
            bail!(
                "--parameters {k}: no stack deployed here declares it; declared: {}",
                if declared.is_empty() {
                    "none".to_string()
                } else {
                    declared.join(", ")
                }
            );
        }
    }
    Ok(())
}

/// The parameters a stack is deployed with: the asset bucket when it takes one, and those of
/// `--parameters` it declares.
pub fn stack_parameters_for(
    s: &StackArtifact,
    bucket: Option<&str>,
    given: &[(String, String)],
) -> Vec<(String, String)> {
    let mut parameters = Vec::new();
    if let (Some(b), true) = (
        bucket,
        s.template.parameters.contains_key(ASSET_BUCKET_PARAMETER),
    ) {
        parameters.push((ASSET_BUCKET_PARAMETER.to_string(), b.to_string()));
    }
    for (k, v) in given {
        if s.template.parameters.contains_key(k) {
            parameters.retain(|(pk, _)| pk != k);
            parameters.push((k.clone(), v.clone()));
        }
    }
    parameters
}

/// Deploy one stack; returns how it ended and how long ordersctl spent on it.
async fn deploy_one(
    shared: &Shared<'_>,
    s: &StackArtifact,
    body: &str,
) -> Result<(DeployResult, f64, Vec<(String, String)>)> {
    let args = shared.args;
    let aws = &shared.aws;
    let progress = shared.progress.as_ref();
    let started = Instant::now();
    let template_url = match (&shared.bucket, body.len() > MAX_INLINE_TEMPLATE) {
        (Some(b), true) => Some(upload_template(aws, b, &s.name, body).await?),
        _ => None,
    };
    let parameters = stack_parameters_for(s, shared.bucket.as_deref(), &args.parameters);
    let d = StackDeploy {
        name: &s.name,
        template_body: body,
        template_url,
        parameters,
        tags: args.tags.clone(),
        continue_rollback: args.continue_rollback,
        termination_protection: args.termination_protection.map(|t| t == Toggle::On),
    };
    // What widens is decided from the deployed template and the new one, the same rule
    // `ordersctl diff` reports.
    let diff = template_diff(aws, &s.name, &s.template).await?;
    progress.started(&s.name, s.template.resources.len());
    let result = match args.method {
        MethodArg::ChangeSet => match prepare_change_set(aws, &d, progress).await? {
            None => update_tags_if_changed(aws, &d, progress)
                .await?
                .unwrap_or(DeployResult::NoChanges),
            Some(p) if args.no_execute => DeployResult::ChangeSetCreated {
                name: p.change_set,
                changes: p.changes,
            },
            Some(p) => {
                if !approved(shared, &diff).await? {
                    progress.finished(&s.name);
                    bail!("IAM permissions or resource policies widen and nobody approved; change set {} was left unexecuted (rerun with --yes to approve)", p.change_set);
                }
                execute_change_set(aws, &s.name, p, progress).await?
            }
        },
        MethodArg::Direct => {
            if !approved(shared, &diff).await? {
                progress.finished(&s.name);
                bail!("IAM permissions or resource policies widen and nobody approved; nothing was changed (rerun with --yes to approve)");
            }
            let changes: Vec<ResourceChange> = diff
                .resources
                .iter()
                .map(|r| ResourceChange {
                    action: r.action.as_str().to_string(),
                    logical_id: r.logical_id.clone(),
                    resource_type: r.resource_type.clone(),
                    replacement: match r.impact {
                        Some(crate::diff::Impact::Replace) => Some("True".into()),
                        Some(crate::diff::Impact::MayReplace) => Some("Conditional".into()),
                        _ => (r.action == Action::Modify).then(|| "False".into()),
                    },
                })
                .collect();
            if !changes.is_empty() {
                progress.changes(&s.name, &changes);
            }
            let mut sent = d.parameters.clone();
            sent.sort();
            let deployed = diff.is_empty() && stack_status(aws, &s.name).await?.is_some();
            if deployed && stack_parameters(aws, &s.name).await? == sent {
                update_tags_if_changed(aws, &d, progress)
                    .await?
                    .unwrap_or(DeployResult::NoChanges)
            } else {
                deploy_direct(aws, &d, progress).await?
            }
        }
    };
    progress.finished(&s.name);
    if let (Some(t), DeployResult::Deployed { .. } | DeployResult::NoChanges) =
        (args.termination_protection, &result)
    {
        // Only when it differs (a direct create already set it).
        if termination_protected(aws, &s.name).await? != (t == Toggle::On) {
            set_termination_protection(aws, &s.name, t == Toggle::On)
                .await
                .context("the stack is deployed, but its termination protection was not changed")?;
        }
    }
    let unchanged_outputs = match (&result, &args.outputs_file) {
        (DeployResult::NoChanges, Some(_)) => stack_outputs(aws, &s.name).await?,
        _ => Vec::new(),
    };
    Ok((result, started.elapsed().as_secs_f64(), unchanged_outputs))
}

/// The deployed template (none: empty) against the new one.
async fn template_diff(aws: &Aws, name: &str, template: &Template) -> Result<StackDiff> {
    let old = match deployed_template(aws, name).await? {
        Some(body) => Template::from_json_or_yaml_str(&body)
            .map_err(|e| anyhow!("{name}: the deployed template cannot be read: {e}"))?,
        None => Template::default(),
    };
    Ok(diff_stack(name, &old, template, &DiffContext::default()))
}

/// Whether the changes may run: always unless permissions widen under
/// `--require-approval broadening`; then `--yes` or an answer on the terminal.
async fn approved(shared: &Shared<'_>, diff: &StackDiff) -> Result<bool> {
    match shared.args.require_approval {
        Approval::Never => return Ok(true),
        Approval::Broadening if !diff.broadens() => return Ok(true),
        Approval::Broadening => {}
    }
    let yes = shared.args.yes;
    let _one_at_a_time = shared.prompt.lock().await;
    let mut question = format!("{}: access widens:\n", diff.stack);
    for c in diff.security.iter().filter(|c| c.broadens) {
        let sign = if c.change == "add" { "+" } else { "- removed:" };
        let st = &c.statement;
        question.push_str(&format!("  {sign} {} ({})\n", st.summary(), st.owner));
    }
    question.push_str("Execute?");
    if !yes {
        errln!("{question}");
    }
    tokio::task::spawn_blocking(move || confirm("", yes)).await?
}
