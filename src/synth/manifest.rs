//! `manifest.json`, the cloud assembly's table of contents: a versioned, typed format.
//! Readers refuse fields they do not know and versions they do not read, so an assembly is
//! never half understood. The README's "The assembly" section documents it.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::template::Suppression;

/// The format version this ordersctl writes and reads.
pub const MANIFEST_VERSION: &str = "1";

/// The whole manifest.
///
/// ```
/// use ordersctl::synth::manifest::Manifest;
/// let m = Manifest::parse(r#"{"version": "1", "stage": "dev", "stacks": {}}"#).unwrap();
/// assert!(m.stacks.is_empty());
/// let e = Manifest::parse(r#"{"version": "2", "stage": "dev", "stacks": {}}"#).unwrap_err();
/// assert!(e.contains("version 2") && e.contains("reads version 1"), "{e}");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub version: String,
    /// `dev` or `prod`.
    pub stage: String,
    /// Per stack name, in dependency order.
    pub stacks: IndexMap<String, StackEntry>,
}

/// One stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StackEntry {
    /// The template's file name, beside the manifest.
    pub template: String,
    /// SHA-256 of the template and its assets' fingerprints (informational; an assembly
    /// made by hand may leave it out, as it may the environment and resource count).
    #[serde(default)]
    pub fingerprint: String,
    /// Stacks this one imports from.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Where it deploys; ordersctl leaves it to the credentials used.
    #[serde(default)]
    pub environment: Environment,
    /// How many resources the template declares.
    #[serde(default)]
    pub resource_count: usize,
    /// The output names.
    #[serde(default)]
    pub outputs: Vec<String>,
    /// The function bundles it needs.
    #[serde(default)]
    pub assets: Vec<AssetEntry>,
    /// Every deliberate exception to a check, with its reason.
    #[serde(default)]
    pub suppressions: Vec<Suppression>,
}

/// The target account and region (`unknown-account`, `unknown-region`: the caller's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The account ID, or `unknown-account`.
    pub account: String,
    /// The region, or `unknown-region`.
    pub region: String,
}

/// A function's code bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetEntry {
    /// The function's logical ID.
    pub id: String,
    /// The function's construct path.
    pub path: String,
    /// Always `lambda-zip`.
    #[serde(rename = "type", default = "lambda_zip")]
    pub kind: String,
    /// The handler crate built into it.
    pub handler_crate: String,
    /// The object key in the asset bucket.
    pub s3_key: String,
    /// The fingerprint of the crate's sources, when they were read.
    pub fingerprint: Option<String>,
    /// `x86_64` (Lambda's default) or `arm64`.
    #[serde(default = "x86_64")]
    pub architecture: String,
    /// The template parameter that names the asset bucket.
    #[serde(default = "asset_bucket")]
    pub bucket_parameter: String,
}

impl Default for Environment {
    fn default() -> Self {
        Environment {
            account: "unknown-account".into(),
            region: "unknown-region".into(),
        }
    }
}

fn x86_64() -> String {
    "x86_64".into()
}

fn lambda_zip() -> String {
    "lambda-zip".into()
}

fn asset_bucket() -> String {
    crate::constructs::ASSET_BUCKET_PARAMETER.into()
}

impl Manifest {
    /// Parse a manifest, checking the version before anything else: a newer format is
    /// refused naming both versions. Errors are sentences about the manifest's content.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        // A key twice is an error, as in templates: the last one would silently win.
        let value: serde_json::Value =
            crate::template::strict_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let version = match value.get("version") {
            Some(serde_json::Value::String(v)) => v.clone(),
            Some(other) => other.to_string(),
            None => {
                return Err(format!(
                    "has no format version; this ordersctl reads version {MANIFEST_VERSION}"
                ))
            }
        };
        if version != MANIFEST_VERSION {
            let newer = version.parse::<u64>().is_ok_and(|v| v > 1);
            return Err(format!(
                "is format version {version}{}; this ordersctl reads version {MANIFEST_VERSION}{}",
                if newer {
                    ", newer than this ordersctl"
                } else {
                    ""
                },
                if newer {
                    " (upgrade ordersctl, or synthesize with the ordersctl that reads it)"
                } else {
                    ""
                },
            ));
        }
        serde_json::from_value(value)
            .map_err(|e| format!("is not a version {MANIFEST_VERSION} manifest: {e}"))
    }
}
