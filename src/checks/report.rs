//! Check results as text, JSON, or SARIF 2.1.0 for code-scanning tools.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{Report, Severity, RULES};

/// One line per finding, the suppressions with their reasons, then a summary line.
pub fn text(reports: &[Report]) -> String {
    let mut out = String::new();
    for r in reports {
        for f in &r.findings {
            out.push_str(&format!(
                "{} {} {}: {}. Fix: {}.\n",
                f.severity.as_str(),
                f.rule,
                f.location,
                f.message,
                f.fix
            ));
        }
    }
    // Suppressions grouped by check and reason: one line per reason, then where it applies.
    let mut groups: BTreeMap<(&str, &str, &str), Vec<String>> = BTreeMap::new();
    for r in reports {
        for s in &r.suppressions {
            groups
                .entry((s.rule.as_str(), s.tool.as_str(), s.reason.as_str()))
                .or_default()
                .push(format!("{}/{}", r.stack, s.logical_id));
        }
    }
    if !groups.is_empty() {
        out.push_str("suppressed:\n");
        for ((rule, tool, reason), at) in groups {
            out.push_str(&format!(
                "  {rule} ({tool}, {}x): {reason}\n    {}\n",
                at.len(),
                at.join(", ")
            ));
        }
    }
    let n = |sev| reports.iter().map(|r| r.count(sev)).sum::<usize>();
    out.push_str(&format!(
        "{} stack(s): {} error(s), {} warning(s), {} note(s), {} suppressed\n",
        reports.len(),
        n(Severity::Error),
        n(Severity::Warning),
        n(Severity::Note),
        reports.iter().map(|r| r.suppressions.len()).sum::<usize>()
    ));
    out
}

/// The reports as JSON.
pub fn json(reports: &[Report]) -> String {
    serde_json::to_string_pretty(&json!({ "stacks": reports })).unwrap_or_default() + "\n"
}

/// SARIF 2.1.0: one run, every rule described, each finding a result at its template file
/// and logical ID; suppressed findings carry their justification.
pub fn sarif(reports: &[Report], template_file: &dyn Fn(&str) -> String) -> String {
    let level = |s: Severity| match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "shortDescription": {"text": r.title},
                "help": {"text": r.fix},
                "defaultConfiguration": {"level": level(r.severity)},
            })
        })
        .collect();
    let mut results = Vec::new();
    for r in reports {
        let findings = r
            .findings
            .iter()
            .map(|f| (f, None))
            .chain(r.suppressed.iter().map(|s| (&s.finding, Some(&s.reason))));
        for (f, reason) in findings {
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": {"text": format!("{}: {}", f.location, f.message)},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": template_file(&r.stack)}},
                    "logicalLocations": [{"name": f.logical_id.clone().unwrap_or_else(|| r.stack.clone()), "fullyQualifiedName": f.location}],
                }],
            });
            if let Some(reason) = reason {
                result["suppressions"] = json!([{"kind": "inSource", "justification": reason}]);
            }
            results.push(result);
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "ordersctl", "informationUri": "https://github.com/ordersctl/ordersctl", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
