//! Deliberate exceptions to checks, rendered into Metadata where ordersctl, checkov and
//! cfn-lint each find them.

use super::SynthError;
use crate::template::{Expr, Resource, Template};

/// A check deliberately not applied to one resource, and why.
#[derive(Debug, Clone)]
pub(crate) struct Suppression {
    pub logical_id: String,
    pub rule: String,
    pub reason: String,
}

/// Write suppressions into the resources' Metadata: scanner checks (checkov's `CKV_` IDs) in
/// the form checkov reads (`checkov.skip: [{id, comment}]`), cfn-lint's under
/// `cfn-lint.config.ignore_checks`, ordersctl's own rules (and cfn-lint's reasons) under
/// `ordersctl.suppressions: [{rule, reason}]`.
pub(crate) fn render(
    stack: &str,
    t: &mut Template,
    suppressions: &[Suppression],
) -> Result<(), SynthError> {
    for s in suppressions {
        let r = t.resources.get_mut(&s.logical_id).ok_or_else(|| {
            SynthError::invalid(
                format!("{stack}/{}", s.logical_id),
                format!(
                    "suppression of {} names a logical ID that is not in the stack",
                    s.rule
                ),
            )
        })?;
        let entry = |k: &str, v: &str| {
            Expr::map([
                (k, Expr::from(s.rule.as_str())),
                (v, Expr::from(s.reason.as_str())),
            ])
        };
        if s.rule.starts_with("CKV") {
            push_metadata(r, "checkov", "skip", entry("id", "comment"));
            continue;
        }
        // cfn-lint reads `cfn-lint.config.ignore_checks` (IDs only); the reason stays
        // beside ordersctl's own.
        if is_cfn_lint_rule(&s.rule) {
            let config = r
                .metadata
                .entry("cfn-lint".to_string())
                .or_insert_with(|| Expr::Map(Default::default()));
            if let Expr::Map(m) = config {
                let inner = m
                    .entry("config".to_string())
                    .or_insert_with(|| Expr::Map(Default::default()));
                if let Expr::Map(c) = inner {
                    if let Expr::List(ids) = c
                        .entry("ignore_checks".to_string())
                        .or_insert_with(|| Expr::List(Vec::new()))
                    {
                        ids.push(Expr::from(s.rule.as_str()));
                    }
                }
            }
        }
        push_metadata(r, "ordersctl", "suppressions", entry("rule", "reason"));
    }
    Ok(())
}

/// cfn-lint's rule IDs: E/W/I, optionally S (serverless rules), four digits.
fn is_cfn_lint_rule(id: &str) -> bool {
    let rest = id
        .strip_prefix(['E', 'W', 'I'])
        .map(|r| r.strip_prefix('S').unwrap_or(r));
    rest.is_some_and(|r| r.len() == 4 && r.chars().all(|c| c.is_ascii_digit()))
}

/// Append `entry` to the list `section.list` of a resource's Metadata.
fn push_metadata(r: &mut Resource, section: &str, list: &str, entry: Expr) {
    let holder = r
        .metadata
        .entry(section.to_string())
        .or_insert_with(|| Expr::Map(Default::default()));
    if let Expr::Map(m) = holder {
        match m
            .entry(list.to_string())
            .or_insert_with(|| Expr::List(Vec::new()))
        {
            Expr::List(items) => items.push(entry),
            other => *other = Expr::List(vec![entry]),
        }
    }
}
