//! `ordersctl check`: the architecture rules over the blueprints or any template file.

use std::path::{Path, PathBuf};

use crate::checks::{check_file, check_stack, report, Report, RULES};
use crate::template::Template;
use anyhow::{anyhow, bail, Result};
use clap::{Args, ValueEnum};

use crate::cli::app_args::AppArgs;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

/// Check stacks against the production rules of event-driven order processing (DLQs on every
/// async hop, visibility timeouts, partial batch responses, retries, encryption, least
/// privilege, CloudFormation limits). Exits 1 on errors (and on warnings with --strict).
/// Suppressions (with their reasons) are listed.
///
/// Examples:
///   ordersctl check
///   ordersctl check --template other-tool.template.yaml
///   ordersctl check --format sarif > ordersctl.sarif
///   ordersctl check --rules
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CheckArgs {
    /// Stacks to check (default: all).
    stacks: Vec<String>,
    /// Check this CloudFormation template (JSON or YAML) instead of the blueprints.
    #[arg(long, value_name = "FILE")]
    template: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,
    /// Warnings fail too.
    #[arg(long)]
    strict: bool,
    /// List the rules and exit.
    #[arg(long)]
    rules: bool,
    #[command(flatten)]
    app: AppArgs,
}

/// Read a template file, JSON or YAML (with the short intrinsic tags).
pub fn read_template(path: &Path) -> Result<Template> {
    let text =
        crate::synth::reader::read_input(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    let parsed = if yaml {
        Template::from_yaml_str(&text)
    } else {
        Template::from_json_or_yaml_str(&text)
    };
    parsed.map_err(|e| anyhow!("{}: not a CloudFormation template: {e}", path.display()))
}

pub fn run(args: CheckArgs) -> Result<i32> {
    if args.rules {
        for r in RULES {
            outln!(
                "{} {:<7} {}. Fix: {}.",
                r.id,
                r.severity.as_str(),
                r.title,
                r.fix
            )?;
        }
        return Ok(0);
    }
    // The reports, and the file a stack's template is in (for SARIF locations).
    type FileOf = Box<dyn Fn(&str) -> String>;
    let (reports, file_of): (Vec<Report>, FileOf) = match &args.template {
        Some(path) => {
            if !args.stacks.is_empty() {
                bail!(
                    "stack names ({}) pick stacks of the synthesized app; --template {} checks that one file: drop one or the other",
                    args.stacks.join(", "),
                    path.display()
                );
            }
            let t = read_template(path)?;
            let name = path
                .file_name()
                .map(|n| {
                    n.to_string_lossy()
                        .split('.')
                        .next()
                        .unwrap_or("template")
                        .chars()
                        .map(|c| if c.is_control() { '?' } else { c })
                        .collect::<String>()
                })
                .unwrap_or_else(|| "template".into());
            let shown = path.display().to_string();
            (
                vec![check_file(
                    &name,
                    &t,
                    std::fs::metadata(path)?.len() as usize,
                )],
                Box::new(move |_| shown.clone()),
            )
        }
        None => {
            let assembly = args.app.assembly_unchecked()?;
            let contracts = args.app.contracts(&assembly)?;
            let names = if args.stacks.is_empty() {
                crate::cli::deploy::select(&assembly, &[], true)?
            } else {
                crate::cli::deploy::select(&assembly, &args.stacks, false)?;
                args.stacks.clone()
            };
            let reports = assembly
                .stacks
                .iter()
                .zip(&contracts)
                .filter(|(s, _)| names.contains(&s.name))
                .map(|(s, c)| check_stack(&s.name, &s.template, c))
                .collect();
            (
                reports,
                Box::new(|s: &str| format!("ordersctl.out/{s}.template.json")),
            )
        }
    };
    let out = match args.format {
        CheckFormat::Text => report::text(&reports),
        CheckFormat::Json => report::json(&reports),
        CheckFormat::Sarif => report::sarif(&reports, &*file_of),
    };
    out!("{out}")?;
    Ok(if reports.iter().any(|r| r.fails(args.strict)) {
        1
    } else {
        0
    })
}
