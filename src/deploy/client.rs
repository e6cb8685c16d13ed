//! AWS clients from the standard credential chain, with `--profile`, `--region` and
//! `--endpoint-url` (or `AWS_ENDPOINT_URL`) for a local CloudFormation-compatible server.

use aws_config::{BehaviorVersion, Region};

use super::DeployError;

/// The region local endpoints are addressed in (moto's default).
pub const LOCAL_REGION: &str = "us-east-1";

/// Where and as whom to deploy.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// The clients a deploy needs, and who they act as.
#[derive(Debug, Clone)]
pub struct Aws {
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub sts: aws_sdk_sts::Client,
    pub region: String,
    pub endpoint_url: Option<String>,
}

/// Who the credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

impl Aws {
    /// Load configuration from the standard chain (environment, profiles, SSO, roles).
    pub async fn connect(target: &Target) -> Result<Aws, DeployError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = &target.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &target.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(u) = &target.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        let config = loader.load().await;
        let region = config
            .region()
            .map(|r| r.to_string())
            .ok_or(DeployError::NoRegion)?;
        let endpoint_url = target
            .endpoint_url
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
        // Local S3-compatible servers want path-style addressing.
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(endpoint_url.is_some())
            .build();
        Ok(Aws {
            cloudformation: aws_sdk_cloudformation::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            sts: aws_sdk_sts::Client::new(&config),
            region,
            endpoint_url,
        })
    }

    /// Clients for a local endpoint only: the test credentials and region a local server
    /// (moto) accepts, nothing read from the environment or profiles, so a local run can
    /// never act on a real account. Every call has a timeout.
    pub async fn local(endpoint_url: &str) -> Aws {
        use aws_config::timeout::TimeoutConfig;
        let config = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint_url)
            .region(Region::new(LOCAL_REGION))
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "ordersctl-local",
            ))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(std::time::Duration::from_secs(5))
                    .operation_attempt_timeout(std::time::Duration::from_secs(60))
                    .build(),
            )
            .load()
            .await;
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build();
        Aws {
            cloudformation: aws_sdk_cloudformation::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            sts: aws_sdk_sts::Client::new(&config),
            region: LOCAL_REGION.to_string(),
            endpoint_url: Some(endpoint_url.to_string()),
        }
    }

    /// GetCallerIdentity: fails clearly when credentials are missing or expired.
    pub async fn identity(&self) -> Result<Identity, DeployError> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| DeployError::Credentials(super::sdk_message(&e)))?;
        Ok(Identity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
        })
    }
}
