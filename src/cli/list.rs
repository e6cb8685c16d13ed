//! `ordersctl list`: the stacks the program declares, with their groups (blueprints).

use anyhow::Result;
use clap::Args;

use crate::cli::app_args::AppArgs;
use crate::cli::program;

/// List stacks with their group (blueprint) and resource counts.
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
    // An app command's stacks are its own: the built-in groups do not describe them.
    let program = match args.app.app_command()? {
        Some(_) => program::Program::new(|_| Ok(())),
        None => program::current(),
    };
    let (groups, label) = program.groups();
    let rows: Vec<(String, String, usize)> = assembly
        .stacks
        .iter()
        .map(|s| {
            let group = program.group_of(&s.name).unwrap_or("-").to_string();
            (s.name.clone(), group, s.template.resources.len())
        })
        .collect();
    if args.json {
        let summary = |name: &str| {
            groups
                .iter()
                .find(|g| g.name == name)
                .map_or("", |g| g.summary)
        };
        let v: Vec<_> = rows
            .iter()
            .map(|(s, g, n)| {
                if groups.is_empty() {
                    serde_json::json!({"stack": s, "resources": n})
                } else {
                    serde_json::json!({"stack": s, (label): g, "summary": summary(g), "resources": n})
                }
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(5).max(5);
    if groups.is_empty() {
        outln!("{:<w$}  RESOURCES", "STACK")?;
        for (s, _, n) in rows {
            outln!("{s:<w$}  {n}")?;
        }
        return Ok(());
    }
    let heading = label.to_uppercase();
    let wg = rows
        .iter()
        .map(|r| r.1.len())
        .max()
        .unwrap_or(0)
        .max(heading.len());
    outln!("{:<w$}  {:<wg$}  RESOURCES", "STACK", heading)?;
    for (s, g, n) in rows {
        outln!("{s:<w$}  {g:<wg$}  {n}")?;
    }
    Ok(())
}
