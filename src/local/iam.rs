//! IAM policy evaluation for one principal's identity-based policies: is `action` on
//! `resource` allowed? As AWS evaluates them: an explicit Deny wins, then any Allow, else the
//! implicit deny. `Action`/`NotAction` match case-insensitively with `*` and `?`;
//! `Resource`/`NotResource` match ARNs case-sensitively with the same wildcards.
//!
//! Conditions are not evaluated: a statement with a `Condition` applies as if it held (the
//! local engine has none of the request context, such as source IP or MFA, that conditions
//! test). The engine's functions have no such statements today.
//!
//! ```
//! use ordersctl::local::iam::{evaluate, Decision};
//! use serde_json::json;
//! let policy = json!({"Version": "2012-10-17", "Statement": [
//!     {"Effect": "Allow", "Action": "dynamodb:*Item", "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Orders"}
//! ]});
//! let arn = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders";
//! assert_eq!(evaluate(std::slice::from_ref(&policy), "dynamodb:PutItem", arn), Decision::Allow);
//! assert_eq!(evaluate(&[policy], "dynamodb:Scan", arn), Decision::ImplicitDeny);
//! ```

use serde_json::Value;

/// The outcome of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// No statement allows it.
    ImplicitDeny,
    /// A Deny statement matches.
    ExplicitDeny,
}

/// Evaluate `action` (e.g. `sqs:SendMessage`) on `resource` (an ARN) against the documents.
pub fn evaluate(policies: &[Value], action: &str, resource: &str) -> Decision {
    let mut allowed = false;
    for doc in policies {
        for st in statements(doc) {
            if !applies(st, action, resource) {
                continue;
            }
            match st.get("Effect").and_then(Value::as_str) {
                Some("Deny") => return Decision::ExplicitDeny,
                Some("Allow") => allowed = true,
                _ => {}
            }
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => vec![],
    }
}

fn strings(v: Option<&Value>) -> Option<Vec<&str>> {
    match v? {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(a) => Some(a.iter().filter_map(Value::as_str).collect()),
        _ => Some(vec![]),
    }
}

fn applies(st: &Value, action: &str, resource: &str) -> bool {
    let action_ok = match (strings(st.get("Action")), strings(st.get("NotAction"))) {
        (Some(list), _) => list
            .iter()
            .any(|p| glob(&p.to_ascii_lowercase(), &action.to_ascii_lowercase())),
        (None, Some(list)) => !list
            .iter()
            .any(|p| glob(&p.to_ascii_lowercase(), &action.to_ascii_lowercase())),
        (None, None) => false,
    };
    let resource_ok = match (strings(st.get("Resource")), strings(st.get("NotResource"))) {
        (Some(list), _) => list.iter().any(|p| glob(p, resource)),
        (None, Some(list)) => !list.iter().any(|p| glob(p, resource)),
        (None, None) => false,
    };
    action_ok && resource_ok
}

/// `*` any run (also across `:` and `/`), `?` any one character.
pub fn glob(pattern: &str, s: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    //! Cases after the IAM user guide's examples (policy evaluation logic, `NotAction`,
    //! `NotResource`, wildcards in ARNs, case rules for actions).
    use super::*;
    use serde_json::json;

    const TABLE: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders";

    fn doc(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    #[test]
    fn allow_needs_a_matching_action_and_resource() {
        let p = doc(
            json!([{"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": TABLE}]),
        );
        assert_eq!(
            evaluate(std::slice::from_ref(&p), "dynamodb:PutItem", TABLE),
            Decision::Allow
        );
        assert_eq!(
            evaluate(std::slice::from_ref(&p), "dynamodb:DeleteItem", TABLE),
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate(&[p], "dynamodb:PutItem", &format!("{TABLE}2")),
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate(&[], "dynamodb:PutItem", TABLE),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn actions_ignore_case_and_take_wildcards() {
        let p = doc(json!({"Effect": "Allow", "Action": "DynamoDB:Get*", "Resource": "*"}));
        assert_eq!(
            evaluate(std::slice::from_ref(&p), "dynamodb:getitem", TABLE),
            Decision::Allow
        );
        assert_eq!(
            evaluate(std::slice::from_ref(&p), "dynamodb:GetRecords", TABLE),
            Decision::Allow
        );
        assert_eq!(
            evaluate(&[p], "dynamodb:PutItem", TABLE),
            Decision::ImplicitDeny
        );
        let q = doc(json!({"Effect": "Allow", "Action": "sqs:?eceiveMessage", "Resource": "*"}));
        assert_eq!(
            evaluate(
                &[q],
                "sqs:ReceiveMessage",
                "arn:aws:sqs:us-east-1:123456789012:Q"
            ),
            Decision::Allow
        );
    }

    #[test]
    fn resources_are_case_sensitive_with_wildcards() {
        let index = format!("{TABLE}/index/*");
        let p =
            doc(json!({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": [TABLE, index]}));
        assert_eq!(
            evaluate(
                std::slice::from_ref(&p),
                "dynamodb:Query",
                &format!("{TABLE}/index/CustomerIndex")
            ),
            Decision::Allow
        );
        assert_eq!(
            evaluate(
                std::slice::from_ref(&p),
                "dynamodb:Query",
                &TABLE.replace("Orders", "orders")
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate(&[p], "dynamodb:Query", &format!("{TABLE}/stream/2020")),
            Decision::ImplicitDeny
        );
        let any_region = doc(
            json!({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:*:123456789012:Order*"}),
        );
        assert_eq!(
            evaluate(
                &[any_region],
                "sqs:SendMessage",
                "arn:aws:sqs:eu-west-1:123456789012:OrderDLQ"
            ),
            Decision::Allow
        );
    }

    #[test]
    fn explicit_deny_overrides_any_allow_in_any_document() {
        let allow = doc(json!({"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}));
        let deny =
            doc(json!({"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": TABLE}));
        assert_eq!(
            evaluate(
                &[allow.clone(), deny.clone()],
                "dynamodb:DeleteTable",
                TABLE
            ),
            Decision::ExplicitDeny
        );
        assert_eq!(
            evaluate(&[deny, allow], "dynamodb:PutItem", TABLE),
            Decision::Allow
        );
    }

    #[test]
    fn not_action_and_not_resource() {
        // The guide's pattern: allow everything except IAM.
        let p = doc(json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}));
        assert_eq!(
            evaluate(
                std::slice::from_ref(&p),
                "sqs:SendMessage",
                "arn:aws:sqs:us-east-1:1:Q"
            ),
            Decision::Allow
        );
        assert_eq!(
            evaluate(&[p], "iam:CreateUser", "arn:aws:iam::1:user/x"),
            Decision::ImplicitDeny
        );
        // Deny with NotResource: deny everywhere but the one table.
        let allow = doc(json!({"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}));
        let fence = doc(json!({"Effect": "Deny", "Action": "dynamodb:*", "NotResource": TABLE}));
        assert_eq!(
            evaluate(&[allow.clone(), fence.clone()], "dynamodb:PutItem", TABLE),
            Decision::Allow
        );
        assert_eq!(
            evaluate(&[allow, fence], "dynamodb:PutItem", &format!("{TABLE}X")),
            Decision::ExplicitDeny
        );
    }

    #[test]
    fn a_single_statement_object_counts() {
        let p = json!({"Statement": {"Effect": "Allow", "Action": "events:PutEvents", "Resource": "arn:aws:events:us-east-1:1:event-bus/B"}});
        assert_eq!(
            evaluate(
                &[p],
                "events:PutEvents",
                "arn:aws:events:us-east-1:1:event-bus/B"
            ),
            Decision::Allow
        );
    }
}
