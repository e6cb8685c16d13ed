//! Log groups that functions, state machines and APIs make for themselves.

use super::{Duration, Stack, SynthError};
use crate::spec::cfn;
use crate::template::{Policy, Resource};

/// CloudWatch Logs accepts only these retention periods (days).
pub const LOG_RETENTION_DAYS: [u64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The retention in days, if CloudWatch Logs accepts it; the error names `path`.
pub(crate) fn retention_days(path: &str, retention: Duration) -> Result<u64, SynthError> {
    retention
        .whole_days()
        .filter(|d| LOG_RETENTION_DAYS.contains(d))
        .ok_or_else(|| {
            SynthError::out_of_range(
                path,
                "log_retention",
                retention.to_string(),
                format!("one of {LOG_RETENTION_DAYS:?} days"),
            )
        })
}

/// Add an `AWS::Logs::LogGroup` with this retention (already validated). Logs are evidence:
/// they are kept when the stack goes, as CDK does; the group has no physical name, so a
/// retained group never blocks re-creating the stack.
pub(crate) fn add_log_group(
    stack: &Stack,
    logical_id: &str,
    path: &str,
    retention_days: u64,
) -> Result<(), SynthError> {
    let mut log = Resource::new("AWS::Logs::LogGroup");
    log.set(cfn::RetentionInDays, retention_days);
    log.removal(Policy::Retain);
    stack.add_resource(logical_id, path, log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cloudwatch_periods_are_accepted() {
        assert_eq!(retention_days("S/F", Duration::days(30)), Ok(30));
        let e = retention_days("S/F", Duration::days(31))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("S/F: log_retention is 2678400 s; allowed: one of [1, 3"),
            "{e}"
        );
        assert!(retention_days("S/F", Duration::hours(36)).is_err());
    }
}
