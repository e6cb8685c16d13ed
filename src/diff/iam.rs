//! Who may do what: the policy statements of identity policies (roles, policies) and resource
//! policies (queue, topic, bucket, key, event bus, Lambda permission), compared between two
//! templates, with the additions that widen access flagged. The same rule decides deploy's
//! approval prompt.

use crate::spec::{cfn, iam};
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::template::show;
use crate::template::{Expr, Resource, Template};

/// One policy statement, flattened to readable strings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    /// The resource holding the policy (`OrderProcessorServiceRole`).
    pub owner: String,
    pub owner_type: String,
    /// `Allow` or `Deny`.
    pub effect: String,
    /// Who: a statement's principals, or for an identity policy the roles it applies to.
    pub principals: Vec<String>,
    /// Actions (`NotAction` entries are written `not sqs:*`).
    pub actions: Vec<String>,
    /// Resources (`NotResource` entries are written `not ...`).
    pub resources: Vec<String>,
    /// The condition block, if any, on one line.
    pub condition: Option<String>,
}

impl Statement {
    /// `Allow role R sqs:SendMessage on !GetAtt Q.Arn when ...`: who may do what to what.
    pub fn summary(&self) -> String {
        let resources = if self.resources.is_empty() {
            "-".to_string()
        } else {
            self.resources.join(", ")
        };
        let condition = self
            .condition
            .as_ref()
            .map(|c| format!(" when {c}"))
            .unwrap_or_default();
        format!(
            "{} {} {} on {resources}{condition}",
            self.effect,
            self.principals.join(", "),
            self.actions.join(", ")
        )
    }
}

/// A statement added or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityChange {
    /// `add` or `remove`.
    pub change: &'static str,
    pub statement: Statement,
    /// Access widens: an added Allow not covered by the old statements of the same holder,
    /// or a removed Deny.
    pub broadens: bool,
}

fn strings(e: Option<&Expr>) -> Vec<String> {
    match e {
        None => Vec::new(),
        Some(Expr::List(items)) => items.iter().map(plain).collect(),
        Some(other) => vec![plain(other)],
    }
}

/// A string as itself, anything else in its readable form.
fn plain(e: &Expr) -> String {
    match e {
        Expr::Str(s) => s.clone(),
        other => show(other),
    }
}

fn principals(e: Option<&Expr>) -> Vec<String> {
    match e {
        Some(Expr::Map(m)) => m
            .iter()
            .flat_map(|(kind, v)| {
                strings(Some(v))
                    .into_iter()
                    .map(move |p| format!("{kind}:{p}"))
            })
            .collect(),
        other => strings(other),
    }
}

fn get<'a>(m: &'a std::collections::BTreeMap<String, Expr>, k: &str) -> Option<&'a Expr> {
    m.get(k)
}

fn document_statements(
    id: &str,
    r: &Resource,
    doc: Option<&Expr>,
    holders: &[String],
    out: &mut Vec<Statement>,
) {
    let Some(Expr::Map(doc)) = doc else { return };
    let list = match get(doc, iam::Statement) {
        Some(Expr::List(items)) => items.clone(),
        Some(one) => vec![one.clone()],
        None => return,
    };
    for s in list {
        let Expr::Map(s) = s else { continue };
        let mut who = principals(get(&s, iam::Principal));
        who.extend(
            principals(get(&s, iam::NotPrincipal))
                .into_iter()
                .map(|p| format!("not {p}")),
        );
        if who.is_empty() {
            who = holders.to_vec();
        }
        let mut actions = strings(get(&s, iam::Action));
        actions.extend(
            strings(get(&s, iam::NotAction))
                .into_iter()
                .map(|a| format!("not {a}")),
        );
        let mut resources = strings(get(&s, iam::Resource));
        resources.extend(
            strings(get(&s, iam::NotResource))
                .into_iter()
                .map(|a| format!("not {a}")),
        );
        out.push(Statement {
            owner: id.to_string(),
            owner_type: r.resource_type.clone(),
            effect: get(&s, iam::Effect)
                .map(plain)
                .unwrap_or_else(|| iam::Allow.into()),
            principals: who,
            actions,
            resources,
            condition: get(&s, iam::Condition).map(show),
        });
    }
}

/// An Allow statement written by a resource's own properties (not a policy document).
fn allow(
    id: &str,
    r: &Resource,
    principals: Vec<String>,
    actions: Vec<String>,
    resources: Vec<String>,
    condition: Option<String>,
) -> Statement {
    Statement {
        owner: id.to_string(),
        owner_type: r.resource_type.clone(),
        effect: iam::Allow.into(),
        principals,
        actions,
        resources,
        condition,
    }
}

/// Every policy statement a template grants or denies.
pub fn statements(t: &Template) -> Vec<Statement> {
    let mut out = Vec::new();
    for (id, r) in &t.resources {
        let p = |k: &str| r.properties.get(k);
        match r.resource_type.as_str() {
            "AWS::IAM::Role" => {
                document_statements(id, r, p(cfn::AssumeRolePolicyDocument), &[], &mut out);
                let me = [format!("role {id}")];
                if let Some(Expr::List(policies)) = p(cfn::Policies) {
                    for pol in policies {
                        if let Expr::Map(m) = pol {
                            document_statements(id, r, m.get(cfn::PolicyDocument), &me, &mut out);
                        }
                    }
                }
                for arn in strings(p(cfn::ManagedPolicyArns)) {
                    out.push(allow(
                        id,
                        r,
                        me.to_vec(),
                        vec![format!("managed policy {arn}")],
                        Vec::new(),
                        None,
                    ));
                }
            }
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
                let holders: Vec<String> = [cfn::Roles, cfn::Users, cfn::Groups]
                    .iter()
                    .flat_map(|k| strings(p(k)))
                    .map(|h| format!("role {}", h.trim_start_matches("!Ref ")))
                    .collect();
                document_statements(id, r, p(cfn::PolicyDocument), &holders, &mut out);
            }
            "AWS::SQS::QueuePolicy" | "AWS::SNS::TopicPolicy" | "AWS::S3::BucketPolicy" => {
                document_statements(id, r, p(cfn::PolicyDocument), &[], &mut out);
            }
            "AWS::KMS::Key" => document_statements(id, r, p(cfn::KeyPolicy), &[], &mut out),
            "AWS::Events::EventBusPolicy" => {
                if p(cfn::Statement).is_some() {
                    let doc = Expr::Map(
                        [(
                            iam::Statement.to_string(),
                            p(cfn::Statement).cloned().unwrap_or(Expr::Null),
                        )]
                        .into(),
                    );
                    document_statements(id, r, Some(&doc), &[], &mut out);
                } else {
                    out.push(allow(
                        id,
                        r,
                        strings(p(cfn::Principal)),
                        strings(p(cfn::Action)),
                        strings(p(cfn::EventBusName)),
                        p(cfn::Condition).map(show),
                    ));
                }
            }
            "AWS::Lambda::Permission" => {
                let conditions: Vec<String> =
                    [cfn::SourceArn, cfn::SourceAccount, cfn::PrincipalOrgID]
                        .iter()
                        .filter_map(|k| p(k).map(|v| format!("{k}: {}", show(v))))
                        .collect();
                out.push(allow(
                    id,
                    r,
                    strings(p(cfn::Principal)),
                    strings(p(cfn::Action)),
                    strings(p(cfn::FunctionName)),
                    (!conditions.is_empty()).then(|| conditions.join(", ")),
                ));
            }
            _ => {}
        }
    }
    out
}

/// `*` and `?` wildcards, as IAM matches actions and resources.
fn glob(pattern: &str, s: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), s.as_bytes())
}

/// Whether an old Allow statement already granted everything in `new`.
fn covers(old: &Statement, new: &Statement) -> bool {
    let all = |news: &[String], olds: &[String]| {
        news.iter()
            .all(|n| olds.iter().any(|o| o == "*" || glob(o, n)))
    };
    old.owner == new.owner
        && old.effect == iam::Allow
        && all(&new.principals, &old.principals)
        && all(&new.actions, &old.actions)
        && all(&new.resources, &old.resources)
        && (old.condition.is_none() || old.condition == new.condition)
}

/// Statements added and removed between two templates, broadening flagged.
///
/// ```
/// use ordersctl::diff::security_changes;
/// use ordersctl::template::Template;
/// let policy = |actions: &str| Template::from_json_str(&format!(r#"{{"Resources": {{"P": {{
///     "Type": "AWS::IAM::Policy", "Properties": {{"Roles": [{{"Ref": "R"}}], "PolicyName": "p",
///     "PolicyDocument": {{"Statement": [{{"Effect": "Allow", "Action": {actions}, "Resource": "*"}}]}}}}}}}}}}"#)).unwrap();
/// let wider = security_changes(&policy(r#""sqs:SendMessage""#), &policy(r#"["sqs:SendMessage", "sqs:DeleteMessage"]"#));
/// assert!(wider.iter().any(|c| c.change == "add" && c.broadens));
/// let narrower = security_changes(&policy(r#""sqs:*""#), &policy(r#""sqs:SendMessage""#));
/// assert!(narrower.iter().all(|c| !c.broadens));
/// ```
pub fn security_changes(old: &Template, new: &Template) -> Vec<SecurityChange> {
    security_changes_renamed(old, new, &BTreeMap::new())
}

/// As [`security_changes`], with renamed logical IDs (old → new) taken as the same holder,
/// so a renamed role's unchanged policies are not reported.
pub fn security_changes_renamed(
    old: &Template,
    new: &Template,
    renamed: &BTreeMap<String, String>,
) -> Vec<SecurityChange> {
    let rename = |mut s: Statement| {
        if let Some(n) = renamed.get(&s.owner) {
            s.owner = n.clone();
        }
        for p in s.principals.iter_mut() {
            if let Some(n) = p.strip_prefix("role ").and_then(|id| renamed.get(id)) {
                *p = format!("role {n}");
            }
        }
        s
    };
    let before: BTreeSet<Statement> = statements(old).into_iter().map(rename).collect();
    let after: BTreeSet<Statement> = statements(new).into_iter().collect();
    let mut out = Vec::new();
    for s in after.difference(&before) {
        let broadens = s.effect == iam::Allow && !before.iter().any(|o| covers(o, s));
        out.push(SecurityChange {
            change: "add",
            statement: s.clone(),
            broadens,
        });
    }
    for s in before.difference(&after) {
        out.push(SecurityChange {
            change: "remove",
            statement: s.clone(),
            broadens: s.effect == iam::Deny,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(resources: serde_json::Value) -> Template {
        Template::from_json_value(&json!({ "Resources": resources })).unwrap()
    }

    fn queue_policy(principal: &str, action: &str) -> Template {
        template(
            json!({"QP": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [{"Ref": "Q"}],
            "PolicyDocument": {"Statement": [{"Effect": "Allow",
                "Principal": {"Service": principal}, "Action": action,
                "Resource": {"Fn::GetAtt": ["Q", "Arn"]}}]}}}}),
        )
    }

    #[test]
    fn a_new_principal_on_a_resource_policy_broadens() {
        let c = security_changes(
            &queue_policy("events.amazonaws.com", "sqs:SendMessage"),
            &queue_policy("sns.amazonaws.com", "sqs:SendMessage"),
        );
        assert_eq!(c.len(), 2);
        let add = c.iter().find(|c| c.change == "add").unwrap();
        assert!(add.broadens);
        assert_eq!(add.statement.principals, ["Service:sns.amazonaws.com"]);
        assert_eq!(add.statement.resources, ["!GetAtt Q.Arn"]);
        assert!(!c.iter().find(|c| c.change == "remove").unwrap().broadens);
    }

    #[test]
    fn unchanged_policies_report_nothing() {
        let t = queue_policy("events.amazonaws.com", "sqs:SendMessage");
        assert!(security_changes(&t, &t).is_empty());
    }

    #[test]
    fn a_lambda_permission_is_a_statement() {
        let t = template(
            json!({"P": {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Fn::GetAtt": ["F", "Arn"]},
            "Principal": "events.amazonaws.com", "SourceArn": {"Fn::GetAtt": ["Rule", "Arn"]}}}}),
        );
        let c = security_changes(&Template::default(), &t);
        assert_eq!(c.len(), 1);
        assert!(c[0].broadens);
        assert_eq!(
            c[0].statement.condition.as_deref(),
            Some("SourceArn: !GetAtt Rule.Arn")
        );
    }

    #[test]
    fn removing_a_deny_broadens_and_globs_cover() {
        assert!(glob("sqs:*", "sqs:SendMessage"));
        assert!(glob(
            "arn:aws:sqs:*:123:orders-?",
            "arn:aws:sqs:eu-west-1:123:orders-1"
        ));
        assert!(!glob("sqs:Send*", "sqs:DeleteMessage"));
        let deny = template(json!({"R": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
                {"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"}]}}]}}}));
        let open = template(json!({"R": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}}));
        let c = security_changes(&deny, &open);
        assert_eq!(c.len(), 1);
        assert!(c[0].broadens && c[0].change == "remove");
        assert_eq!(c[0].statement.principals, ["role R"]);
    }
}
