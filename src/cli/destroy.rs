//! `ordersctl destroy`: delete stacks in reverse dependency order.

use std::sync::Mutex;

use crate::deploy::{
    delete_and_wait, stack_status, termination_protected, Aws, Progress, Schedule,
};
use crate::template::Policy;
use anyhow::{bail, Result};
use clap::Args;

use crate::cli::app_args::AppArgs;
use crate::cli::aws_args::{confirm, AwsArgs};
use crate::cli::deploy::select;
use crate::cli::fan_out::fan_out;
use crate::cli::interrupt::{self, unless_interrupted};
use crate::cli::progress::display;

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
    /// How many independent stacks are deleted at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
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
    } else if args.stacks.is_empty() {
        bail!(
            "name the stacks to destroy, or pass --all; stacks: {}",
            known.join(", ")
        );
    } else {
        select(&assembly, &args.stacks, false)?
            .into_iter()
            .filter(|s| args.stacks.contains(s))
            .collect()
    };
    // Anything that imports from a stack being deleted must go too, and first.
    let mut doomed: Vec<String> = named.clone();
    for s in &assembly.stacks {
        if s.dependencies.iter().any(|d| doomed.contains(d)) && !doomed.contains(&s.name) {
            doomed.push(s.name.clone());
        }
    }
    let schedule = Schedule::new(
        assembly
            .stacks
            .iter()
            .filter(|s| doomed.contains(&s.name))
            .map(|s| (s.name.clone(), s.dependencies.clone())),
    )
    .reversed();
    let order: Vec<String> = known
        .into_iter()
        .rev()
        .filter(|n| doomed.contains(n))
        .collect();
    if !confirm(&format!("Delete {}?", order.join(", ")), args.force)? {
        bail!("nothing deleted: confirm on a terminal or pass --force");
    }
    let result = interrupt::block_on(async {
        let aws = unless_interrupted(args.aws.connect(), "nothing was deleted").await?;
        let progress = display();
        let retained = Mutex::new(Vec::new());
        let failed = fan_out(
            &aws,
            schedule,
            usize::from(args.concurrency),
            |name| {
                let (aws, progress) = (&aws, progress.as_ref());
                async move { destroy_one(aws, &name, progress).await }
            },
            |name, result| match result {
                Ok(false) => errln!("{name}: not deployed"),
                Ok(true) => {
                    errln!("{name}: deleted");
                    let Some(s) = assembly.stack(name) else {
                        return;
                    };
                    let mut r = retained.lock().unwrap_or_else(|p| p.into_inner());
                    for (id, res) in &s.template.resources {
                        if res.deletion_policy == Some(Policy::Retain) {
                            r.push(format!("{name}/{id} ({})", res.resource_type));
                        }
                    }
                }
                Err(e) => errln!("{name}: failed: {e:#}"),
            },
        )
        .await?;
        let retained = retained.into_inner().unwrap_or_else(|p| p.into_inner());
        if !retained.is_empty() {
            errln!("retained (delete by hand when no longer needed):");
            for r in retained {
                errln!("  {r}");
            }
        }
        if !failed.is_empty() {
            bail!("not deleted: {}", failed.join(", "));
        }
        Ok(())
    })?;
    result
}

/// Delete one stack; `false` when it was not deployed.
async fn destroy_one(aws: &Aws, name: &str, progress: &dyn Progress) -> Result<bool> {
    if stack_status(aws, name).await?.is_none() {
        return Ok(false);
    }
    if termination_protected(aws, name).await? {
        bail!("termination protection is on; turn it off with `ordersctl deploy {name} --termination-protection off`, then destroy again");
    }
    delete_and_wait(aws, name, progress).await?;
    Ok(true)
}
