//! `ordersctl bootstrap`: create or update the OrdersctlToolkit stack (the asset bucket).

use crate::deploy::{
    deploy_stack, toolkit_bucket, toolkit_template, DeployResult, StackDeploy, TOOLKIT_STACK,
};
use anyhow::Result;
use clap::Args;

use crate::cli::aws_args::AwsArgs;
use crate::cli::interrupt::{self, unless_interrupted};
use crate::cli::progress::display;

/// Create or update the OrdersctlToolkit stack: a versioned, encrypted, private, TLS-only
/// asset bucket whose old versions expire. Running it twice changes nothing.
///
/// Example:
///   ordersctl bootstrap --region eu-west-1
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct BootstrapArgs {
    #[command(flatten)]
    aws: AwsArgs,
}

pub fn run(args: BootstrapArgs) -> Result<()> {
    interrupt::block_on(unless_interrupted(async {
        let aws = args.aws.connect().await?;
        let body = toolkit_template().to_json_string();
        let d = StackDeploy {
            name: TOOLKIT_STACK,
            template_body: &body,
            template_url: None,
            parameters: vec![],
            tags: vec![],
            continue_rollback: false,
            termination_protection: None,
        };
        match deploy_stack(&aws, &d, display().as_ref()).await? {
            DeployResult::NoChanges => errln!("{TOOLKIT_STACK}: no changes"),
            _ => errln!("{TOOLKIT_STACK}: deployed"),
        }
        outln!("{}", toolkit_bucket(&aws).await?)?;
        Ok(())
    }, "if the toolkit stack was being created or updated, CloudFormation finishes that on its own; run bootstrap again to follow it"))?
}
