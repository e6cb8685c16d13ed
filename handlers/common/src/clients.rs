//! SDK configuration and clients from the Lambda environment.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The shared SDK configuration: region, credentials and endpoint from the environment
/// (`AWS_ENDPOINT_URL` is honoured, so the same binary runs against moto or a local endpoint).
pub async fn sdk_config() -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

/// A DynamoDB client from [`sdk_config`].
pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config().await)
}

/// Configuration for an explicit local endpoint (moto, `ordersctl invoke` against a local
/// server, tests): static `testing` credentials and `us-east-1`, no environment lookups for
/// those, so tests running in parallel do not need to mutate process environment.
pub async fn sdk_config_for_endpoint(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "local",
        ))
        .load()
        .await
}

/// A required environment variable was not set.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} is not set")]
pub struct MissingEnv(pub String);

/// A required environment variable (non-empty).
pub fn env_var(name: &str) -> Result<String, MissingEnv> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(MissingEnv(name.to_string())),
    }
}
