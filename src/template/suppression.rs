//! Suppressions, as recorded in resource Metadata: ordersctl's rules under
//! `ordersctl.suppressions: [{rule, reason}]`, scanner checks in checkov's own form,
//! `checkov.skip: [{id, comment}]`.

use serde::{Deserialize, Serialize};

use super::{Expr, Template};

/// One deliberate exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Suppression {
    /// `ordersctl`, `checkov` or `cfn-lint`.
    pub tool: String,
    pub rule: String,
    pub logical_id: String,
    pub reason: String,
}

fn text(e: Option<&Expr>) -> String {
    match e {
        Some(Expr::Str(s)) => s.clone(),
        _ => String::new(),
    }
}

impl Template {
    /// Every suppression recorded in the resources' Metadata.
    ///
    /// ```
    /// use ordersctl::template::Template;
    /// let t = Template::from_json_str(r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue",
    ///   "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_27", "comment": "SSE-SQS"}]}}}}}"#).unwrap();
    /// assert_eq!(t.suppressions()[0].rule, "CKV_AWS_27");
    /// ```
    pub fn suppressions(&self) -> Vec<Suppression> {
        let t = self;
        let mut out = Vec::new();
        for (id, r) in &t.resources {
            for (tool, section, list, key, why) in [
                ("ordersctl", "ordersctl", "suppressions", "rule", "reason"),
                ("checkov", "checkov", "skip", "id", "comment"),
            ] {
                let Some(Expr::Map(m)) = r.metadata.get(section) else {
                    continue;
                };
                let Some(Expr::List(items)) = m.get(list) else {
                    continue;
                };
                for item in items {
                    let Expr::Map(entry) = item else { continue };
                    let rule = text(entry.get(key));
                    // ordersctl also keeps the reasons of cfn-lint's ignores (cfn-lint has no
                    // place for one).
                    let tool = if tool == "ordersctl" && !rule.starts_with("ORD") {
                        "cfn-lint"
                    } else {
                        tool
                    };
                    out.push(Suppression {
                        tool: tool.to_string(),
                        rule,
                        logical_id: id.clone(),
                        reason: text(entry.get(why)),
                    });
                }
            }
        }
        out
    }
}
