//! Deploying assemblies through CloudFormation. The decisions are pure (`state`); the API
//! calls (`client`, `stack`) are thin and report through [`Progress`].
//!
//! The pure part decides what a stack in a given state needs before a change set:
//!
//! ```
//! use ordersctl::deploy::{decide, Plan, StackStatus};
//! assert_eq!(decide("Orders", Some(&StackStatus::new("UPDATE_COMPLETE")), false), Plan::Update);
//! ```

mod client;
mod query;
mod schedule;
mod stack;
mod state;
mod tags;
mod toolkit;

use std::path::Path;

pub use client::{
    Aws, Identity, Target, DEFAULT_CALL_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, LOCAL_REGION,
};
pub use query::{
    deployed_template, set_termination_protection, stack_outputs, stack_parameters, stack_status,
    stack_tags, termination_protected,
};
pub use schedule::Schedule;
pub use stack::{
    delete_and_wait, deploy_direct, deploy_stack, discard_change_set, execute_change_set,
    prepare_change_set, preview_change_set, wait_stable, DeployResult, Prepared, Preview,
    ResourceChange, StackDeploy, MAX_INLINE_TEMPLATE,
};
pub use state::{decide, poll_delay, root_causes, Plan, RootCause, StackEvent, StackStatus};
pub use tags::update_tags_if_changed;
pub use toolkit::{toolkit_template, BUCKET_OUTPUT, TOOLKIT_STACK};

use aws_sdk_cloudformation::config::http::HttpResponse;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

/// Why a deploy, destroy or bootstrap failed; always names the stack or file.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("no AWS region is configured; pass --region or set AWS_REGION")]
    NoRegion,
    #[error("cannot get the caller identity (credentials missing or expired?): {0}")]
    Credentials(String),
    #[error("{0}")]
    Unreachable(String),
    #[error("{stack}: {action} failed: {message}")]
    Api {
        stack: String,
        action: String,
        message: String,
    },
    #[error("{0}")]
    Refused(String),
    #[error("{stack}: the change set failed: {reason}")]
    ChangeSetFailed { stack: String, reason: String },
    #[error("{stack}: ended in {status}{}", causes.iter().map(|c| format!("\n  {} ({}) {}: {}", c.logical_id, c.resource_type, c.status, c.reason)).collect::<String>())]
    Failed {
        stack: String,
        status: String,
        causes: Vec<RootCause>,
    },
    #[error("the toolkit stack {TOOLKIT_STACK} is not deployed; run `ordersctl bootstrap` first")]
    NotBootstrapped,
    #[error("{path}: {message}")]
    Asset { path: String, message: String },
}

/// What the caller shows while a deploy runs.
pub trait Progress: Sync {
    /// An operation on a stack starts; `total` resources are expected to reach a `_COMPLETE`
    /// state (for a progress bar).
    fn started(&self, _stack: &str, _total: usize) {}
    /// The operation on a stack ended (a progress bar can go).
    fn finished(&self, _stack: &str) {}
    /// A resource changed state.
    fn resource(&self, stack: &str, logical_id: &str, status: &str);
    /// The computed changes of a change set.
    fn changes(&self, stack: &str, changes: &[ResourceChange]);
    /// Anything else worth a line.
    fn note(&self, stack: &str, message: &str);
}

/// The most useful message of an SDK error: the service's code and message when there is
/// one; for a server that failed without an error document (local endpoints answer some
/// unsupported requests with HTTP 500), the status instead of a parser complaint.
pub(crate) fn sdk_message<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    match e {
        SdkError::TimeoutError(_) => {
            return "no answer in time (the limit is --call-timeout, 60 s unless set)".into()
        }
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            return "no connection in time (the limit is --connect-timeout, 10 s unless set)".into()
        }
        _ => {}
    }
    if let Some(raw) = e.raw_response() {
        let status = raw.status().as_u16();
        if status >= 500 && e.code().is_none() {
            return format!(
                "the endpoint failed with HTTP {status} and gave no reason (a local endpoint may not support this request or what the template uses)"
            );
        }
        if matches!(e, SdkError::ServiceError(_)) && e.code().is_none() {
            return format!(
                "the endpoint answered HTTP {status} with nothing the SDK could read (a local endpoint may not support this request)"
            );
        }
    }
    // The service's own words, not the SDK's Debug rendering of its error struct.
    if let (SdkError::ServiceError(_), Some(code)) = (e, e.code()) {
        return match e.message() {
            Some(m) if !m.is_empty() => format!("{code}: {m}"),
            _ => code.to_string(),
        };
    }
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}

/// The asset bucket of the toolkit stack: the physical ID of its `AssetBucket` resource
/// (read from the resource rather than the output, which some local endpoints omit for stacks
/// made by change sets).
pub async fn toolkit_bucket(aws: &Aws) -> Result<String, DeployError> {
    if stack_status(aws, TOOLKIT_STACK).await?.is_none() {
        return Err(DeployError::NotBootstrapped);
    }
    let out = aws
        .cloudformation
        .describe_stack_resource()
        .stack_name(TOOLKIT_STACK)
        .logical_resource_id("AssetBucket")
        .send()
        .await
        .map_err(|e| DeployError::Api {
            stack: TOOLKIT_STACK.into(),
            action: "DescribeStackResource".into(),
            message: sdk_message(&e),
        })?;
    out.stack_resource_detail()
        .and_then(|d| d.physical_resource_id())
        .map(str::to_string)
        .ok_or(DeployError::NotBootstrapped)
}

/// Upload a file under `key` unless the bucket already holds that key. Returns whether it
/// uploaded.
pub async fn upload_if_missing(
    aws: &Aws,
    bucket: &str,
    key: &str,
    file: &Path,
) -> Result<bool, DeployError> {
    if aws
        .s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .is_ok()
    {
        return Ok(false);
    }
    let bytes = std::fs::read(file).map_err(|e| DeployError::Asset {
        path: file.display().to_string(),
        message: e.to_string(),
    })?;
    aws.s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| DeployError::Asset {
            path: file.display().to_string(),
            message: sdk_message(&e),
        })?;
    Ok(true)
}

/// Upload a large template and return the URL CloudFormation reads it from.
pub async fn upload_template(
    aws: &Aws,
    bucket: &str,
    stack: &str,
    body: &str,
) -> Result<String, DeployError> {
    use sha2::{Digest, Sha256};
    let key = format!(
        "templates/{stack}-{}.json",
        crate::bundle::hex(&Sha256::digest(body.as_bytes()))
    );
    aws.s3
        .put_object()
        .bucket(bucket)
        .key(&key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .map_err(|e| DeployError::Asset {
            path: key.clone(),
            message: sdk_message(&e),
        })?;
    // The virtual-hosted S3 URL even with a local endpoint: the CloudFormation server reads
    // it, and local servers (moto) resolve such URLs against their own S3.
    Ok(format!(
        "https://{bucket}.s3.{}.amazonaws.com/{key}",
        aws.region
    ))
}
