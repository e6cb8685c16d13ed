//! `ordersctl diff`: what deploying would change, against the deployed stacks, a previous
//! assembly or a template file.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::deploy::{
    deployed_template, discard_change_set, preview_change_set, toolkit_bucket, Aws, Preview,
    Progress, ResourceChange, StackDeploy,
};
use crate::diff::{diff_stack, render, DiffContext, StackDiff};
use crate::synth::reader::read_assembly;
use anyhow::{anyhow, bail, Result};
use clap::{Args, ValueEnum};

use crate::cli::interrupt::{self, unless_interrupted};
use crate::synth::{Assembly, StackArtifact};
use crate::template::Template;

use crate::cli::app_args::AppArgs;
use crate::cli::aws_args::{parse_pair, AwsArgs};
use crate::cli::check::read_template;
use crate::cli::deploy::{given_parameters, select, stack_parameters_for};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// For a terminal (coloured on a TTY unless NO_COLOR is set).
    Text,
    /// For a pull-request comment.
    Markdown,
    /// For programs.
    Json,
}

/// Show what deploying would change: resources added, removed and modified (each changed
/// property, and whether CloudFormation replaces the resource), renames, exports in use, and
/// IAM statements added or removed with broadening flagged.
///
/// Compares the synthesized templates with the deployed stacks (GetTemplate; a stack that
/// does not exist is all additions), or offline with `--against`.
///
/// Examples:
///   ordersctl diff OrderPipeline
///   ordersctl diff --against main.out --format markdown > diff.md
///   ordersctl diff OrderPipeline --against old.template.json --fail
///   ordersctl diff --template new.yaml --against old.yaml --fail
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DiffArgs {
    /// Stacks to compare (default: all).
    stacks: Vec<String>,
    /// A previous assembly directory, or a template file, JSON or YAML (then name exactly one
    /// stack).
    #[arg(long, value_name = "DIR|FILE")]
    against: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: DiffFormat,
    /// Exit 1 when there are differences (0 otherwise).
    #[arg(long)]
    fail: bool,
    /// Plan-style exit codes: 0 no differences, 1 error, 2 differences.
    #[arg(long, conflicts_with = "fail")]
    exit_code: bool,
    /// Ask CloudFormation instead: create a change set per stack, show its changes, delete it.
    #[arg(long, conflicts_with = "against")]
    change_set: bool,
    /// A stack parameter for --change-set, KEY=VALUE (repeatable).
    #[arg(long = "parameters", value_name = "KEY=VALUE", value_parser = parse_pair, requires = "change_set")]
    parameters: Vec<(String, String)>,
    /// Compare this existing assembly instead of synthesizing.
    #[arg(long = "app", value_name = "DIR")]
    app_dir: Option<PathBuf>,
    /// The new side is this template file, JSON or YAML (any template, not only ordersctl's);
    /// the stack is named after the file unless one STACK is given.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["app_dir", "change_set"])]
    template: Option<PathBuf>,
    #[command(flatten)]
    app: AppArgs,
    #[command(flatten)]
    aws: AwsArgs,
}

/// The old side of each stack, by the rules of `--against`.
enum Baseline {
    Assembly(Box<Assembly>),
    File(Box<Template>),
    Deployed,
}

/// Returns the process exit code.
pub fn run(args: DiffArgs) -> Result<i32> {
    let assembly = match (&args.template, &args.app_dir) {
        (Some(file), _) => one_template(file, &args.stacks)?,
        (None, Some(dir)) => read_assembly(dir)?,
        (None, None) => args.app.assembly()?,
    };
    let names = if args.stacks.is_empty() {
        select(&assembly, &[], true)?
    } else {
        // Only the named stacks: dependencies are not pulled in here.
        select(&assembly, &args.stacks, false)?;
        args.stacks.clone()
    };
    if args.change_set {
        return change_sets(&args, &assembly, &names);
    }
    let baseline = match &args.against {
        Some(p) if p.is_dir() => Baseline::Assembly(Box::new(read_assembly(p)?)),
        Some(p) if p.is_file() => {
            if names.len() != 1 {
                bail!(
                    "--against {} is one template: name the one stack to compare it with",
                    p.display()
                );
            }
            Baseline::File(Box::new(read_template(p)?))
        }
        Some(p) if p.exists() => bail!(
            "--against {}: is neither a regular file nor a directory (a device or pipe?)",
            p.display()
        ),
        Some(p) => bail!("--against {}: no such file or directory", p.display()),
        None => Baseline::Deployed,
    };
    let ctx = DiffContext::from_stacks(
        assembly
            .stacks
            .iter()
            .map(|s| (s.name.as_str(), &s.template)),
    );
    let diffs: Vec<StackDiff> = match &baseline {
        Baseline::Assembly(old) => names
            .iter()
            .map(|n| {
                let new = &assembly.stack(n).expect("selected").template;
                let empty = Template::default();
                let before = old.stack(n).map(|s| &s.template).unwrap_or(&empty);
                diff_stack(n, before, new, &ctx)
            })
            .collect(),
        Baseline::File(before) => {
            let n = &names[0];
            vec![diff_stack(
                n,
                before,
                &assembly.stack(n).expect("selected").template,
                &ctx,
            )]
        }
        Baseline::Deployed => interrupt::block_on(unless_interrupted(
            async {
                let aws = args.aws.connect().await?;
                let mut out = Vec::new();
                for n in &names {
                    let before = deployed(&aws, n).await?;
                    out.push(diff_stack(
                        n,
                        &before,
                        &assembly.stack(n).expect("selected").template,
                        &ctx,
                    ));
                }
                Ok::<_, anyhow::Error>(out)
            },
            "nothing was changed",
        ))??,
    };
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let rendered = match args.format {
        DiffFormat::Text => render::text(&diffs, color),
        DiffFormat::Markdown => render::markdown(&diffs),
        DiffFormat::Json => render::json(&diffs),
    };
    out!("{rendered}")?;
    Ok(exit_code(&args, diffs.iter().any(|d| !d.is_empty())))
}

/// `--template FILE` as a one-stack assembly, named by the one STACK given or after the file
/// (`orders.template.yaml` -> `orders`).
fn one_template(file: &std::path::Path, stacks: &[String]) -> Result<Assembly> {
    let name = match stacks {
        [] => {
            let base = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            [
                ".template.json",
                ".template.yaml",
                ".template.yml",
                ".json",
                ".yaml",
                ".yml",
            ]
            .iter()
            .find_map(|ext| base.strip_suffix(ext))
            .unwrap_or(&base)
            // A file name is printed as the stack's: no control characters in it.
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect()
        }
        [one] => one.clone(),
        more => bail!(
            "--template {} is one template: name at most one stack for it (got {})",
            file.display(),
            more.join(", ")
        ),
    };
    Ok(Assembly {
        stacks: vec![StackArtifact {
            name,
            template: read_template(file)?,
            dependencies: Vec::new(),
            assets: Vec::new(),
            body: None,
        }],
        stage: crate::constructs::Stage::Dev,
    })
}

/// `--fail`: 1 on differences; `--exit-code`: 2 on differences; otherwise 0.
fn exit_code(args: &DiffArgs, differ: bool) -> i32 {
    match (differ, args.fail, args.exit_code) {
        (true, true, _) => 1,
        (true, _, true) => 2,
        _ => 0,
    }
}

async fn deployed(aws: &Aws, name: &str) -> Result<Template> {
    match deployed_template(aws, name).await? {
        Some(body) => Template::from_json_or_yaml_str(&body)
            .map_err(|e| anyhow!("{name}: the deployed template cannot be read: {e}")),
        None => Ok(Template::default()),
    }
}

/// Progress that stays silent: diff prints only the result.
struct Quiet;

impl Progress for Quiet {
    fn resource(&self, _: &str, _: &str, _: &str) {}
    fn changes(&self, _: &str, _: &[ResourceChange]) {}
    fn note(&self, stack: &str, message: &str) {
        errln!("{stack}: {message}");
    }
}

/// `--change-set`: CloudFormation's own answer, rendered; the change sets are deleted again.
fn change_sets(args: &DiffArgs, assembly: &Assembly, names: &[String]) -> Result<i32> {
    let selected: Vec<&StackArtifact> = names.iter().filter_map(|n| assembly.stack(n)).collect();
    given_parameters(&selected, &args.parameters)?;
    let per_stack: Vec<(String, Vec<ResourceChange>)> = interrupt::block_on(unless_interrupted(async {
        let aws = args.aws.connect().await?;
        let needs_bucket = names.iter().any(|n| {
            assembly.stack(n).is_some_and(|s| {
                s.template
                    .parameters
                    .contains_key(crate::constructs::ASSET_BUCKET_PARAMETER)
            })
        });
        let bucket = if needs_bucket {
            Some(toolkit_bucket(&aws).await?)
        } else {
            None
        };
        let mut out = Vec::new();
        for n in names {
            let s = assembly.stack(n).expect("selected");
            let body = s.body.clone().unwrap_or_else(|| s.template.to_json_string());
            let d = StackDeploy {
                name: n,
                template_body: &body,
                template_url: None,
                parameters: stack_parameters_for(s, bucket.as_deref(), &args.parameters),
                tags: Vec::new(),
                continue_rollback: false,
                termination_protection: None,
            };
            let changes = match preview_change_set(&aws, &d, &Quiet).await? {
                Preview::NoChanges => Vec::new(),
                Preview::NotDeployed => s
                    .template
                    .resources
                    .iter()
                    .map(|(id, r)| ResourceChange {
                        action: "Add".into(),
                        logical_id: id.clone(),
                        resource_type: r.resource_type.clone(),
                        replacement: None,
                    })
                    .collect(),
                Preview::Changes(p) => {
                    discard_change_set(&aws, n, &p).await?;
                    p.changes
                }
            };
            out.push((n.clone(), changes));
        }
        Ok::<_, anyhow::Error>(out)
    }, "no stack was changed; a change set this diff created may remain on a stack (it changes nothing; delete it, or run the diff again)"))??;
    let replacement = |c: &ResourceChange| match c.replacement.as_deref() {
        Some("True") => "replace",
        Some("Conditional") => "may replace",
        Some("False") => "no interruption",
        _ => "",
    };
    let summary = |stack: &str, changes: &[ResourceChange]| {
        let n = |a: &str| changes.iter().filter(|c| c.action == a).count();
        let replaced = changes
            .iter()
            .filter(|c| c.replacement.as_deref() == Some("True"))
            .count();
        if changes.is_empty() {
            format!("{stack}: no changes (change set)")
        } else {
            format!(
                "{stack}: {} to add, {} to change ({replaced} replacement(s)), {} to remove (change set)",
                n("Add"),
                n("Modify"),
                n("Remove")
            )
        }
    };
    let mut out = String::new();
    match args.format {
        DiffFormat::Json => {
            let stacks: Vec<serde_json::Value> = per_stack
                .iter()
                .map(|(stack, changes)| {
                    serde_json::json!({
                        "stack": stack,
                        "changes": changes.iter().map(|c| serde_json::json!({
                            "action": c.action, "logicalId": c.logical_id,
                            "type": c.resource_type, "replacement": c.replacement,
                        })).collect::<Vec<_>>(),
                        "summary": summary(stack, changes),
                    })
                })
                .collect();
            out = serde_json::to_string_pretty(&serde_json::json!({"stacks": stacks}))? + "\n";
        }
        DiffFormat::Markdown => {
            out.push_str("## ordersctl diff (change sets)\n\n| Stack | Action | Resource | Type | Replacement |\n|---|---|---|---|---|\n");
            for (stack, changes) in &per_stack {
                for c in changes {
                    out.push_str(&format!(
                        "| {stack} | {} | `{}` | `{}` | {} |\n",
                        c.action,
                        c.logical_id,
                        c.resource_type,
                        replacement(c)
                    ));
                }
            }
            out.push('\n');
            for (stack, changes) in &per_stack {
                out.push_str(&format!("**{}**  \n", summary(stack, changes)));
            }
        }
        DiffFormat::Text => {
            for (stack, changes) in &per_stack {
                for c in changes {
                    out.push_str(&format!(
                        "{stack}: {:<7} {} ({}) {}\n",
                        c.action,
                        c.logical_id,
                        c.resource_type,
                        replacement(c)
                    ));
                }
            }
            for (stack, changes) in &per_stack {
                out.push_str(&summary(stack, changes));
                out.push('\n');
            }
        }
    }
    out!("{out}")?;
    Ok(exit_code(
        args,
        per_stack.iter().any(|(_, c)| !c.is_empty()),
    ))
}
