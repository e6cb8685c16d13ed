//! `ordersctl list`: the stacks the blueprints declare.

use anyhow::Result;
use clap::Args;

use crate::blueprints;
use crate::cli::app_args::AppArgs;

/// List stacks with their blueprint and resource counts.
///
/// Example:
///   ordersctl list
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ListArgs {
    /// Print JSON instead of aligned text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    app: AppArgs,
}

pub fn run(args: ListArgs) -> Result<()> {
    let assembly = args.app.assembly()?;
    let rows: Vec<(String, String, usize)> = assembly
        .stacks
        .iter()
        .map(|s| {
            let bp = blueprints::blueprint_of(&s.name).unwrap_or("-").to_string();
            (s.name.clone(), bp, s.template.resources.len())
        })
        .collect();
    if args.json {
        let summary = |name: &str| {
            blueprints::ALL
                .iter()
                .find(|b| b.name == name)
                .map_or("", |b| b.summary)
        };
        let v: Vec<_> = rows
            .iter()
            .map(|(s, b, n)| serde_json::json!({"stack": s, "blueprint": b, "summary": summary(b), "resources": n}))
            .collect();
        outln!("{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(5).max(5);
    let wb = rows.iter().map(|r| r.1.len()).max().unwrap_or(9).max(9);
    outln!("{:<w$}  {:<wb$}  RESOURCES", "STACK", "BLUEPRINT")?;
    for (s, b, n) in rows {
        outln!("{s:<w$}  {b:<wb$}  {n}")?;
    }
    Ok(())
}
