//! What an update does to a resource.

use serde::Serialize;

/// What an update does to a resource, ordered by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impact {
    /// Updated in place.
    NoInterruption,
    /// A type the registry schemas do not describe (a custom resource, a third-party or newer
    /// type): nothing is known, so nothing is promised.
    Unknown,
    /// Replaced depending on the values (CloudFormation's "Conditional").
    MayReplace,
    /// A new physical resource is created and the old one deleted.
    Replace,
}

impl Impact {
    /// How the diff prints it.
    pub fn label(self) -> &'static str {
        match self {
            Impact::NoInterruption => "no interruption",
            Impact::Unknown => "impact unknown",
            Impact::MayReplace => "may replace",
            Impact::Replace => "replace",
        }
    }
}
