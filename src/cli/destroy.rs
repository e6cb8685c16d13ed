//! `ordersctl destroy`: delete stacks in reverse dependency order.

use anyhow::{bail, Result};
use clap::Args;
use ordersctl::deploy::{delete_and_wait, stack_status};
use ordersctl::template::Policy;

use crate::cli::app_args::AppArgs;
use crate::cli::aws_args::{confirm, AwsArgs, Lines};
use crate::cli::deploy::select;

/// Delete stacks, dependents first. Resources with a Retain policy stay and are listed.
///
/// Examples:
///   ordersctl destroy OrderPipeline --force
///   ordersctl destroy --all
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DestroyArgs {
    /// Stacks to delete.
    stacks: Vec<String>,
    /// Delete every stack of the app.
    #[arg(long)]
    all: bool,
    /// Do not ask.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    app: AppArgs,
    #[command(flatten)]
    aws: AwsArgs,
}

pub fn run(args: DestroyArgs) -> Result<()> {
    let assembly = args.app.assembly()?;
    let known: Vec<String> = assembly.stacks.iter().map(|s| s.name.clone()).collect();
    let named = if args.all {
        known.clone()
    } else {
        select(&assembly, &args.stacks, false)?
            .into_iter()
            .filter(|s| args.stacks.contains(s))
            .collect()
    };
    // Anything that imports from a stack being deleted must go first.
    let mut order: Vec<String> = Vec::new();
    for s in assembly.stacks.iter().rev() {
        let dependent_of_named = named.iter().any(|n| {
            assembly
                .stack(n)
                .is_some_and(|_| s.dependencies.contains(n))
        });
        if named.contains(&s.name) || (dependent_of_named && !args.all) {
            order.push(s.name.clone());
        }
    }
    if !confirm(&format!("Delete {}?", order.join(", ")), args.force)? {
        bail!("nothing deleted: confirm on a terminal or pass --force");
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let aws = args.aws.connect().await?;
        let mut retained = Vec::new();
        for name in &order {
            if stack_status(&aws, name).await?.is_none() {
                eprintln!("{name}: not deployed");
                continue;
            }
            delete_and_wait(&aws, name, &Lines).await?;
            eprintln!("{name}: deleted");
            if let Some(s) = assembly.stack(name) {
                for (id, r) in &s.template.resources {
                    if r.deletion_policy == Some(Policy::Retain) {
                        retained.push(format!("{name}/{id} ({})", r.resource_type));
                    }
                }
            }
        }
        if !retained.is_empty() {
            eprintln!("retained (delete by hand when no longer needed):");
            for r in retained {
                eprintln!("  {r}");
            }
        }
        Ok(())
    })
}
