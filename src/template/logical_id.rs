//! Logical IDs: readable, stable, derived from the construct path.

use std::fmt;

/// Longest logical ID CloudFormation accepts.
pub const MAX_LOGICAL_ID_LEN: usize = 255;

/// A validated logical ID: 1 to 255 ASCII letters and digits.
///
/// ```
/// use ordersctl::template::LogicalId;
/// assert_eq!(LogicalId::from_parts(["OrderProcessor", "ServiceRole"]).unwrap().as_str(), "OrderProcessorServiceRole");
/// assert!(LogicalId::new("Order-Queue").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogicalId(String);

/// Why a string is not a logical ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogicalIdError {
    #[error("logical ID is empty (allowed: 1 to 255 ASCII letters and digits)")]
    Empty,
    #[error("logical ID `{0}` is {1} characters long (allowed: at most 255)")]
    TooLong(String, usize),
    #[error("logical ID `{0}` contains `{1}` (allowed: ASCII letters A-Z, a-z and digits 0-9)")]
    BadChar(String, char),
}

impl LogicalId {
    /// Validate a logical ID as given.
    pub fn new(id: impl Into<String>) -> Result<Self, LogicalIdError> {
        let id = id.into();
        if id.is_empty() {
            return Err(LogicalIdError::Empty);
        }
        if let Some(c) = id.chars().find(|c| !c.is_ascii_alphanumeric()) {
            return Err(LogicalIdError::BadChar(id, c));
        }
        if id.len() > MAX_LOGICAL_ID_LEN {
            let len = id.len();
            return Err(LogicalIdError::TooLong(id, len));
        }
        Ok(LogicalId(id))
    }

    /// Concatenate path parts (construct IDs), as CDK does for nested constructs.
    pub fn from_parts<'a>(
        parts: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, LogicalIdError> {
        LogicalId::new(parts.into_iter().collect::<String>())
    }

    /// The ID as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_cloudformation_rejects() {
        assert_eq!(LogicalId::new(""), Err(LogicalIdError::Empty));
        assert!(matches!(
            LogicalId::new("a_b"),
            Err(LogicalIdError::BadChar(_, '_'))
        ));
        assert!(matches!(
            LogicalId::new("a".repeat(256)),
            Err(LogicalIdError::TooLong(_, 256))
        ));
        assert!(LogicalId::new("a".repeat(255)).is_ok());
    }
}
