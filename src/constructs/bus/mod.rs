//! EventBridge: event buses, rules with their targets, and archives.

mod archive;
#[allow(clippy::module_inception)]
mod bus;
mod rule;
mod target;

pub use archive::{ArchiveBuilder, ArchiveRef};
pub use bus::{EventBusBuilder, EventBusRef};
pub use rule::{RuleBuilder, RuleRef};
pub use target::{RuleContext, RuleTarget, Target, TargetBinding};

use super::SynthError;

/// Longest event pattern EventBridge accepts, in characters of JSON.
const MAX_PATTERN_CHARS: usize = 4096;

/// An event pattern must match on something and fit EventBridge's size limit.
fn check_pattern(
    path: &str,
    property: &str,
    pattern: &super::EventPattern,
) -> Result<(), SynthError> {
    if pattern.is_empty() {
        return Err(SynthError::invalid(
            path,
            format!("{property} is empty; give at least one field to match"),
        ));
    }
    let n = pattern.to_json_string().chars().count();
    if n > MAX_PATTERN_CHARS {
        return Err(SynthError::out_of_range(
            path,
            property,
            format!("{n} characters of JSON"),
            format!("at most {MAX_PATTERN_CHARS}"),
        ));
    }
    Ok(())
}

/// Names of EventBridge rules and archives: letters, digits, `.`, `-` and `_`.
fn check_name(path: &str, property: &str, name: &str, max: usize) -> Result<(), SynthError> {
    let ok = !name.is_empty()
        && name.len() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_');
    if !ok {
        return Err(SynthError::invalid(
            path,
            format!("{property} `{name}` is not allowed; allowed: 1 to {max} characters, letters, digits, `.`, `-` and `_`"),
        ));
    }
    Ok(())
}

/// Descriptions of EventBridge resources: at most 512 characters.
fn check_description(path: &str, text: &str) -> Result<(), SynthError> {
    let n = text.chars().count();
    if n > 512 {
        return Err(SynthError::out_of_range(
            path,
            "description",
            format!("{n} characters"),
            "at most 512 characters",
        ));
    }
    Ok(())
}
