//! AWS clients from the standard credential chain, with `--profile`, `--region` and
//! `--endpoint-url` (or `AWS_ENDPOINT_URL`) for a local CloudFormation-compatible server.

use std::path::PathBuf;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};

use super::DeployError;

/// How long to wait for a TCP connection to an AWS endpoint, by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one attempt of an AWS call may take, by default (the SDK retries throttling and
/// transient errors on top, up to 3 attempts).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// The region local endpoints are addressed in (moto's default).
pub const LOCAL_REGION: &str = "us-east-1";

/// Where and as whom to deploy.
///
/// ```
/// let t = ordersctl::deploy::Target { region: Some("eu-west-1".into()), ..Default::default() };
/// assert_eq!(t.call_timeout, ordersctl::deploy::DEFAULT_CALL_TIMEOUT);
/// ```
#[derive(Debug, Clone)]
pub struct Target {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub connect_timeout: Duration,
    pub call_timeout: Duration,
}

impl Default for Target {
    fn default() -> Self {
        Target {
            profile: None,
            region: None,
            endpoint_url: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            call_timeout: DEFAULT_CALL_TIMEOUT,
        }
    }
}

/// The shared config and credentials files, as the AWS CLI finds them.
pub fn profile_files() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let file = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".aws").join(default))
    };
    vec![
        file("AWS_CONFIG_FILE", "config"),
        file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
    ]
}

/// Whether a profile named `name` is defined in either file: `[profile NAME]` (or
/// `[default]`) in the config file, `[NAME]` in the credentials file.
pub fn profile_defined(name: &str, config: &str, credentials: &str) -> bool {
    let sections = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| {
                let l = l.trim();
                l.strip_prefix('[')?
                    .strip_suffix(']')
                    .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            })
            .collect()
    };
    sections(config)
        .iter()
        .any(|s| *s == format!("profile {name}") || (name == "default" && s == "default"))
        || sections(credentials).iter().any(|s| s == name)
}

/// A region name as AWS spells them (`eu-west-1`, `us-gov-east-1`, `cn-north-1`).
fn is_region_name(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
}

/// An endpoint URL the SDK can use: `http(s)://host[:port][/path]`.
fn check_endpoint_url(u: &str, source: &str) -> Result<(), DeployError> {
    let refuse = |why: &str| {
        Err(DeployError::Refused(format!(
            "{source} {u:?} is not a URL ({why}); expected http://HOST[:PORT] or https://HOST[:PORT], e.g. http://127.0.0.1:5000"
        )))
    };
    if u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return refuse("it holds a space or a control character");
    }
    let Some(rest) = u
        .strip_prefix("http://")
        .or_else(|| u.strip_prefix("https://"))
    else {
        return refuse("it does not start with http:// or https://");
    };
    if rest.contains(['?', '#']) {
        return refuse("a query or fragment does not belong in an endpoint");
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return refuse("credentials do not belong in the URL");
    }
    let (name, port) = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((addr, tail)) => (addr, tail.strip_prefix(':')),
            None => return refuse("an IPv6 address without its closing `]`"),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (authority, None),
        }
    };
    if name.is_empty() {
        return refuse("no host");
    }
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return refuse("the port is not a number from 0 to 65535");
    }
    Ok(())
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
        let (endpoint_url, source) = match &target.endpoint_url {
            Some(u) => (Some(u.clone()), "--endpoint-url"),
            None => (
                std::env::var("AWS_ENDPOINT_URL")
                    .ok()
                    .filter(|u| !u.is_empty()),
                "AWS_ENDPOINT_URL",
            ),
        };
        if let Some(u) = &endpoint_url {
            check_endpoint_url(u, source)?;
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(target.connect_timeout)
                .operation_attempt_timeout(target.call_timeout)
                .build(),
        );
        // A profile named in AWS_PROFILE must exist too (as the AWS CLI insists), or the SDK
        // would fall through to the instance metadata service and say something unrelated.
        let env_profile = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty());
        let named = match (&target.profile, &env_profile) {
            (Some(p), _) => Some((format!("--profile {p}"), p.clone())),
            (None, Some(p)) => Some((format!("AWS_PROFILE={p}"), p.clone())),
            (None, None) => None,
        };
        if let Some((source, p)) = &named {
            let files = profile_files();
            let read = |i: usize| std::fs::read_to_string(&files[i]).unwrap_or_default();
            if !profile_defined(p, &read(0), &read(1)) {
                return Err(DeployError::Refused(format!(
                    "{source}: no such profile in {} or {}",
                    files[0].display(),
                    files[1].display()
                )));
            }
        }
        if let Some(p) = &target.profile {
            // As in the AWS CLI, a named profile wins over credentials in the environment
            // (the default chain would read AWS_ACCESS_KEY_ID first).
            loader = loader.profile_name(p).credentials_provider(
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .profile_name(p)
                    .build(),
            );
        }
        if let Some(r) = &target.region {
            if !is_region_name(r) {
                return Err(DeployError::Refused(format!(
                    "--region {r:?} is not a region name; expected one like us-east-1 or eu-west-1"
                )));
            }
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(u) = &endpoint_url {
            loader = loader.endpoint_url(u);
        }
        let config = loader.load().await;
        let region = config
            .region()
            .map(|r| r.to_string())
            .ok_or(DeployError::NoRegion)?;
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
            .map_err(|e| self.identity_error(&e))?;
        Ok(Identity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
        })
    }

    /// Say which of the usual causes it is: no answer, no connection, or the credentials.
    fn identity_error<E>(
        &self,
        e: &aws_sdk_sts::error::SdkError<E, aws_sdk_sts::config::http::HttpResponse>,
    ) -> DeployError
    where
        E: std::error::Error + aws_sdk_sts::error::ProvideErrorMetadata + 'static,
    {
        use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
        let detail = super::sdk_message(e);
        let at = match &self.endpoint_url {
            Some(u) => u.clone(),
            None => format!("the STS endpoint of region {}", self.region),
        };
        let region_hint = if self.endpoint_url.is_none() {
            format!(" (is the region {} right?)", self.region)
        } else {
            String::new()
        };
        match e {
            SdkError::TimeoutError(_) => DeployError::Unreachable(format!("{at}: {detail}")),
            SdkError::DispatchFailure(d) if d.is_timeout() => {
                DeployError::Unreachable(format!("{at}{region_hint}: {detail}"))
            }
            // Loading credentials happens at dispatch: none found is not a network problem.
            SdkError::DispatchFailure(_) if detail.contains("credentials") => {
                DeployError::Credentials(format!(
                    "no credentials found (environment keys, --profile/AWS_PROFILE, SSO, or an instance role): {detail}"
                ))
            }
            SdkError::DispatchFailure(d) if d.is_io() || d.is_other() => DeployError::Unreachable(
                format!("the connection to {at} failed{region_hint}: {detail}"),
            ),
            SdkError::ConstructionFailure(_) if !detail.contains("credentials") => {
                DeployError::Unreachable(format!("cannot call {at}: {detail}"))
            }
            SdkError::ResponseError(_) => DeployError::Unreachable(format!(
                "{at} answered with something that is not an AWS response: {detail}"
            )),
            SdkError::ServiceError(_) if !matches!(e.code(), Some(c) if is_credentials_code(c)) => {
                DeployError::Unreachable(format!("{at} refused GetCallerIdentity: {detail}"))
            }
            _ => DeployError::Credentials(detail),
        }
    }
}

fn is_credentials_code(code: &str) -> bool {
    matches!(
        code,
        "InvalidClientTokenId"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "SignatureDoesNotMatch"
            | "AccessDenied"
            | "UnrecognizedClientException"
            | "InvalidAccessKeyId"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_found_in_either_file_as_the_cli_names_them() {
        let config =
            "[default]\nregion = eu-west-1\n\n[profile  ci ]\nrole_arn = x\n[sso-session s]\n";
        let credentials = "[dev]\naws_access_key_id = a\n";
        assert!(profile_defined("default", config, ""));
        assert!(profile_defined("ci", config, ""));
        assert!(profile_defined("dev", "", credentials));
        assert!(
            !profile_defined("dev", config, ""),
            "config needs `profile dev`"
        );
        assert!(!profile_defined("s", config, credentials));
        assert!(!profile_defined("nope", config, credentials));
    }

    #[test]
    fn region_names_and_endpoint_urls_are_checked_before_any_call() {
        for ok in [
            "us-east-1",
            "eu-west-1",
            "us-gov-east-1",
            "cn-north-1",
            "ap-southeast-4",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "us-east",
            "US-EAST-1",
            "us east 1",
            "",
            "eu-west-1a",
            "http://x",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
        for ok in [
            "http://127.0.0.1:5000",
            "https://cloudformation.example.com/",
            "http://[::1]:5000",
        ] {
            assert!(check_endpoint_url(ok, "--endpoint-url").is_ok(), "{ok}");
        }
        for bad in [
            "127.0.0.1:5000",
            "http://",
            "http://host:99999",
            "ftp://x",
            "http://a b",
            "http://[::1",
            "http://127.0.0.1:5077/ x",
            "http://user:pw@127.0.0.1:5077",
            "http://127.0.0.1:5077/?x=1",
            "http://127.0.0.1:5077#frag",
        ] {
            let e = check_endpoint_url(bad, "--endpoint-url")
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("is not a URL") && e.contains("http://HOST[:PORT]"),
                "{bad}: {e}"
            );
        }
    }
}
