//! Where a function's code asset lives: the object key its template points at.
//!
//! The pure core does not read files. Synth asks an [`AssetSource`] for each function's key;
//! the default gives a readable placeholder, and the CLI plugs in the bundler's fingerprinting
//! source, which reads the handler crate's sources (and says so when the crate is missing).

use super::Architecture;

/// Answers the S3 object key of a handler crate's zip, or why there is none.
pub trait AssetSource {
    /// The key for `handler_crate` built for `arch`; `Err` explains (e.g. no such crate).
    fn asset_key(&self, handler_crate: &str, arch: Architecture) -> Result<AssetKey, String>;
}

/// An asset's object key and, when known, the fingerprint it was derived from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetKey {
    pub s3_key: String,
    pub fingerprint: Option<String>,
}

/// `assets/<crate>.zip`, no files read: for snapshot tests and library users without a
/// handlers workspace.
///
/// ```
/// use ordersctl::constructs::{Architecture, AssetSource, PlaceholderAssets};
/// let key = PlaceholderAssets.asset_key("order-processor", Architecture::X86_64).unwrap();
/// assert_eq!(key.s3_key, "assets/order-processor.zip");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct PlaceholderAssets;

impl AssetSource for PlaceholderAssets {
    fn asset_key(&self, handler_crate: &str, _arch: Architecture) -> Result<AssetKey, String> {
        Ok(AssetKey {
            s3_key: format!("assets/{handler_crate}.zip"),
            fingerprint: None,
        })
    }
}
