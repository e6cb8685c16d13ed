//! Options of the verbs that talk to AWS, and the line-per-event progress they print.

use std::io::IsTerminal;

use crate::deploy::{Aws, Target};
use anyhow::{Context, Result};
use clap::Args;

/// Credentials and endpoint: the standard AWS chain, plus these overrides.
#[derive(Debug, Args)]
pub struct AwsArgs {
    /// Named profile from the shared config files (else AWS_PROFILE, else default).
    #[arg(long)]
    pub profile: Option<String>,
    /// Region (else AWS_REGION or the profile's).
    #[arg(long)]
    pub region: Option<String>,
    /// Endpoint of a CloudFormation-compatible server, e.g. http://127.0.0.1:5000 (else AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Seconds to wait for a connection to an AWS endpoint.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub connect_timeout: u64,
    /// Seconds one attempt of an AWS call may take (the SDK retries up to 3 attempts).
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub call_timeout: u64,
}

impl AwsArgs {
    /// Connect and say as whom, before anything changes.
    pub async fn connect(&self) -> Result<Aws> {
        let target = Target {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            connect_timeout: std::time::Duration::from_secs(self.connect_timeout),
            call_timeout: std::time::Duration::from_secs(self.call_timeout),
        };
        let aws = Aws::connect(&target).await?;
        let who = aws.identity().await?;
        let at = aws
            .endpoint_url
            .as_deref()
            .map(|u| format!(" via {u}"))
            .unwrap_or_default();
        errln!(
            "account {} in {}{at} as {}",
            who.account,
            aws.region,
            who.arn
        );
        Ok(aws)
    }
}

/// `KEY=VALUE` for --parameters and --tags.
pub fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

/// Ask on a TTY; without one, only `yes` approves.
pub fn confirm(question: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    errprint!(
        "{question}{}[y/N] ",
        if question.is_empty() { "" } else { " " }
    );
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the answer")?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}
