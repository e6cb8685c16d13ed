//! `ordersctl deploy`: synth, bundle, upload, then one change set per stack in dependency order.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use ordersctl::bundle::bundle;
use ordersctl::constructs::ASSET_BUCKET_PARAMETER;
use ordersctl::deploy::{
    deploy_stack, toolkit_bucket, upload_if_missing, upload_template, DeployResult, ResourceChange,
    StackDeploy, MAX_INLINE_TEMPLATE,
};
use ordersctl::synth::reader::read_assembly;
use ordersctl::synth::writer::{write_assembly, ASSETS_DIR};
use ordersctl::synth::Assembly;
use ordersctl::template::Format;

use crate::cli::app_args::AppArgs;
use crate::cli::aws_args::{broadens, confirm, parse_pair, AwsArgs, Lines};
use crate::cli::bundle::requests;

/// When to ask before executing a change set.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Approval {
    /// Ask when IAM permissions or resource policies are added or changed.
    Broadening,
    /// Never ask.
    Never,
}

/// Deploy stacks: synth, bundle and upload the assets, then per stack create a change set,
/// show it, ask when permissions widen, execute and follow it. Stacks a named stack imports
/// from are deployed first.
///
/// Examples:
///   ordersctl bootstrap && ordersctl deploy OrderPipeline --yes
///   ordersctl deploy --all --outputs-file outputs.json
///   ordersctl deploy OmniApi --no-execute        # change sets only
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
    /// Assembly directory.
    #[arg(long, short, default_value = "ordersctl.out")]
    out: PathBuf,
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
    let mut queue: Vec<String> = names.to_vec();
    while let Some(n) = queue.pop() {
        let Some(s) = assembly.stack(&n) else {
            bail!("no stack named `{n}`; stacks: {}", known.join(", "))
        };
        if !wanted.contains(&n) {
            wanted.push(n);
            queue.extend(s.dependencies.iter().cloned());
        }
    }
    Ok(known
        .iter()
        .filter(|k| wanted.iter().any(|w| w == *k))
        .map(|s| s.to_string())
        .collect())
}

pub fn run(args: DeployArgs) -> Result<()> {
    let ws = args.app.workspace();
    let assembly = match &args.app_dir {
        Some(dir) => read_assembly(dir)?,
        None => args.app.assembly()?,
    };
    let selected = select(&assembly, &args.stacks, args.all)?;
    if args.app_dir.is_none() {
        write_assembly(&assembly, &args.out, Format::Json)?;
    }
    let assets_dir = args.app_dir.as_ref().unwrap_or(&args.out).join(ASSETS_DIR);
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let aws = args.aws.connect().await?;
        let stacks: Vec<_> = assembly.stacks.iter().filter(|s| selected.contains(&s.name)).collect();
        // Each template is rendered once: its size decides inline or by URL.
        let bodies: Vec<String> = stacks.iter().map(|s| s.template.to_json_string()).collect();
        let needs_bucket = stacks
            .iter()
            .zip(&bodies)
            .any(|(s, body)| !s.assets.is_empty() || body.len() > MAX_INLINE_TEMPLATE);
        let bucket = if needs_bucket { Some(toolkit_bucket(&aws).await?) } else { None };

        // Bundle and upload what the bucket does not hold yet (keys are fingerprints).
        let functions: Vec<String> = stacks.iter().flat_map(|s| s.assets.iter().map(|a| a.path.clone())).collect();
        if let (Some(bucket), false) = (&bucket, functions.is_empty()) {
            let reqs = requests(&assembly, &functions, None, &ws)?;
            let outcomes = bundle(&ws, &reqs, &assets_dir)?;
            let mut done = Vec::new();
            for o in &outcomes {
                let key = o.zip.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                if done.contains(&key) {
                    continue;
                }
                let uploaded = upload_if_missing(&aws, bucket, &key, &o.zip).await?;
                eprintln!("asset {key} ({}, {} bytes): {}", o.handler_crate, o.size, if uploaded { "uploaded" } else { "already in the bucket" });
                done.push(key);
            }
        }

        let approve_mode = args.require_approval;
        let yes = args.yes;
        let approve = move |changes: &[ResourceChange]| -> bool {
            match approve_mode {
                Approval::Never => true,
                Approval::Broadening if !broadens(changes) => true,
                Approval::Broadening => confirm("IAM permissions or resource policies are added or changed. Execute?", yes).unwrap_or(false),
            }
        };
        let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (s, body) in stacks.iter().zip(&bodies) {
            let started = Instant::now();
            let template_url = match (&bucket, body.len() > MAX_INLINE_TEMPLATE) {
                (Some(b), true) => Some(upload_template(&aws, b, &s.name, &body).await?),
                _ => None,
            };
            let mut parameters = Vec::new();
            if let (Some(b), true) = (&bucket, s.template.parameters.contains_key(ASSET_BUCKET_PARAMETER)) {
                parameters.push((ASSET_BUCKET_PARAMETER.to_string(), b.clone()));
            }
            for (k, v) in &args.parameters {
                if s.template.parameters.contains_key(k) {
                    parameters.retain(|(pk, _)| pk != k);
                    parameters.push((k.clone(), v.clone()));
                }
            }
            let d = StackDeploy {
                name: &s.name,
                template_body: body,
                template_url,
                parameters,
                tags: args.tags.clone(),
                execute: !args.no_execute,
                continue_rollback: args.continue_rollback,
                approve: &approve,
            };
            match deploy_stack(&aws, &d, &Lines).await? {
                DeployResult::NoChanges => eprintln!("{}: no changes ({:.1} s)", s.name, started.elapsed().as_secs_f64()),
                DeployResult::ChangeSetCreated { name, changes } => {
                    if !args.no_execute && broadens(&changes) {
                        bail!("{}: IAM permissions or resource policies widen and nobody approved; change set {name} was left unexecuted (rerun with --yes to approve)", s.name);
                    }
                    eprintln!("{}: change set {name} created, not executed", s.name);
                }
                DeployResult::Deployed { outputs: outs, .. } => {
                    eprintln!("{}: deployed ({:.1} s)", s.name, started.elapsed().as_secs_f64());
                    for (k, v) in &outs {
                        println!("{}.{k} = {v}", s.name);
                    }
                    outputs.insert(s.name.clone(), outs.into_iter().collect());
                }
            }
        }
        if let Some(path) = &args.outputs_file {
            std::fs::write(path, serde_json::to_string_pretty(&outputs)? + "\n")
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        }
        Ok(())
    })
}
