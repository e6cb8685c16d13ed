//! Suppressions, read from resource Metadata: ordersctl's (`ordersctl.suppressions: [{rule,
//! reason}]`) silence findings; checkov's (`checkov.skip: [{id, comment}]`) are listed so one
//! command shows every deliberate exception.

use super::rules::rule;
use super::{Finding, Report, Suppressed};
use crate::template::Template;

/// Silence the suppressed findings; bad suppressions become findings themselves.
pub fn apply(stack: &str, t: &Template, findings: Vec<Finding>) -> Report {
    let listed = t.suppressions();
    let mut standing = Vec::new();
    let mut suppressed = Vec::new();
    for s in &listed {
        let bad = if s.reason.trim().is_empty() {
            Some(format!("the suppression of {} has no reason", s.rule))
        } else if s.tool == "ordersctl" && rule(&s.rule).is_none() {
            Some(format!(
                "the suppression names {}, which is not an ordersctl rule",
                s.rule
            ))
        } else {
            None
        };
        if let Some(message) = bad {
            let r = rule("ORD000").expect("catalogued");
            standing.push(Finding {
                rule: r.id,
                severity: r.severity,
                location: format!("{stack}/{}", s.logical_id),
                logical_id: Some(s.logical_id.clone()),
                message,
                fix: r.fix.to_string(),
            });
        }
    }
    for f in findings {
        let by = listed.iter().find(|s| {
            s.tool == "ordersctl"
                && s.rule == f.rule
                && Some(&s.logical_id) == f.logical_id.as_ref()
                && !s.reason.trim().is_empty()
        });
        match by {
            Some(s) => suppressed.push(Suppressed {
                finding: f,
                reason: s.reason.clone(),
            }),
            None => standing.push(f),
        }
    }
    standing.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(b.rule))
            .then_with(|| a.location.cmp(&b.location))
    });
    Report {
        stack: stack.to_string(),
        findings: standing,
        suppressed,
        suppressions: listed,
    }
}
