//! Encryption at rest, log retention, tracing, least privilege and the HTTP API's front door.

use super::model::{boolean, field, prop, statements_of, strings, target, Model};
use super::{Finding, Severity};
use crate::spec::{cfn, iam, value};
use crate::template::Expr;

/// Actions that have no resource-level permissions: `Resource: "*"` is the only way to grant
/// them, so their `*` is no wildcard. Generated from the Service Authorization Reference
/// (scripts/gen-resourceless-actions.py); compared without case, as IAM compares actions.
static RESOURCELESS_ACTIONS: &str = include_str!("resourceless_actions.txt");

fn resourceless(action: &str) -> bool {
    use std::sync::OnceLock;
    // The generator sorts the table without case: a binary search over its lines, no set.
    static LINES: OnceLock<Vec<&'static str>> = OnceLock::new();
    let lines = LINES.get_or_init(|| {
        RESOURCELESS_ACTIONS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    });
    lines
        .binary_search_by(|l| caseless(l).cmp(caseless(action)))
        .is_ok()
}

/// Bytes compared as ASCII lower case.
fn caseless(s: &str) -> impl Iterator<Item = u8> + '_ {
    s.bytes().map(|b| b.to_ascii_lowercase())
}

/// AWS managed policies that grant a whole service (or everything) on every resource.
fn broad_managed_policy(arn: &str) -> bool {
    let name = arn.rsplit('/').next().unwrap_or(arn);
    arn.contains(":iam::aws:policy/")
        && (name == "AdministratorAccess"
            || name == "PowerUserAccess"
            || name.ends_with("FullAccess"))
}

pub fn check(m: &Model, out: &mut Vec<Finding>) {
    encryption(m, out);
    for (id, g) in m.of_type("AWS::Logs::LogGroup") {
        // Absent, not merely unknown here: `!Ref Retention` is set at deploy time.
        if prop(g, cfn::RetentionInDays).is_none() {
            out.push(m.at(
                id,
                "ORD014",
                "logs are kept forever and billed forever".into(),
            ));
        }
    }
    // A mode given by an intrinsic (`!If`) is known only at deploy time: not judged.
    let unknown =
        |e: Option<&Expr>| matches!(e, Some(x) if !matches!(x, Expr::Str(_) | Expr::Bool(_)));
    for (id, f) in m.of_type("AWS::Lambda::Function") {
        if unknown(prop(f, [cfn::TracingConfig, cfn::Mode])) {
            continue;
        }
        if strings(prop(f, [cfn::TracingConfig, cfn::Mode])) != [value::TRACING_ACTIVE] {
            out.push(m.at(
                id,
                "ORD015",
                "the function is not traced: a slow hop is invisible".into(),
            ));
        }
    }
    for (id, sm) in m.of_type("AWS::StepFunctions::StateMachine") {
        if unknown(prop(sm, [cfn::TracingConfiguration, cfn::Enabled])) {
            continue;
        }
        if boolean(prop(sm, [cfn::TracingConfiguration, cfn::Enabled])) != Some(true) {
            out.push(m.at(id, "ORD015", "the state machine is not traced".into()));
        }
    }
    wildcards(m, out);
    http_api(m, out);
}

fn encryption(m: &Model, out: &mut Vec<Finding>) {
    for (id, q) in m.of_type("AWS::SQS::Queue") {
        if boolean(prop(q, cfn::SqsManagedSseEnabled)) == Some(false)
            && prop(q, cfn::KmsMasterKeyId).is_none()
        {
            out.push(m.with_severity(
                id,
                "ORD013",
                Severity::Error,
                "the queue is not encrypted at rest".into(),
            ));
        }
    }
    for (id, t) in m.of_type("AWS::SNS::Topic") {
        if prop(t, cfn::KmsMasterKeyId).is_none() {
            out.push(m.at(
                id,
                "ORD013",
                "the topic is not encrypted at rest (SNS encrypts only with a KMS key)".into(),
            ));
        }
    }
    // DynamoDB always encrypts at rest (with an AWS owned key unless told otherwise), so a
    // table is never "off": worth a note, not a warning.
    for (id, t) in m.of_type("AWS::DynamoDB::Table") {
        if boolean(prop(t, [cfn::SSESpecification, cfn::SSEEnabled])) != Some(true) {
            out.push(m.with_severity(
                id,
                "ORD013",
                Severity::Note,
                "the table is encrypted with the AWS owned key only: no KMS key you can audit or revoke".into(),
            ));
        }
    }
}

fn wildcards(m: &Model, out: &mut Vec<Finding>) {
    for (id, r) in m.of_type("AWS::IAM::Role") {
        // Plain ARNs and those built with !Sub (`arn:${AWS::Partition}:iam::aws:policy/...`).
        let arns: Vec<String> = match prop(r, cfn::ManagedPolicyArns) {
            Some(Expr::List(items)) => items
                .iter()
                .filter_map(|i| match i {
                    Expr::Str(s) => Some(s.clone()),
                    Expr::Sub(s, _) => Some(s.replace("${AWS::Partition}", "aws")),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for arn in arns {
            if broad_managed_policy(&arn) {
                out.push(m.at(
                    id,
                    "ORD016",
                    format!("the role holds the AWS managed policy {arn}, which grants a whole service or more on every resource"),
                ));
            }
        }
    }
    let mut report = |holder: &str, doc: &Expr| {
        for s in statements_of(doc) {
            if strings(field(s, iam::Effect)) == [iam::Deny] {
                continue;
            }
            let actions = strings(field(s, iam::Action));
            let resources = strings(field(s, iam::Resource));
            let wild_actions: Vec<&String> = actions.iter().filter(|a| a.contains('*')).collect();
            let all_resourceless = !actions.is_empty() && actions.iter().all(|a| resourceless(a));
            let wild_resource = resources.iter().any(|r| r == "*") && !all_resourceless;
            if !wild_actions.is_empty() || wild_resource {
                let mut what = Vec::new();
                if !wild_actions.is_empty() {
                    what.push(format!(
                        "actions {}",
                        wild_actions
                            .iter()
                            .map(|a| a.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                if wild_resource {
                    let which = if actions.is_empty() {
                        // NotAction: everything but the listed actions.
                        format!(
                            "every action but {}",
                            strings(field(s, iam::NotAction)).join(", ")
                        )
                    } else {
                        actions.join(", ")
                    };
                    what.push(format!("resource * for {which}"));
                }
                out.push(m.at(
                    holder,
                    "ORD016",
                    format!("the policy grants {}", what.join(" and ")),
                ));
            }
        }
    };
    for (id, r) in m.of_type("AWS::IAM::Role") {
        if let Some(Expr::List(policies)) = prop(r, cfn::Policies) {
            for p in policies {
                if let Some(doc) = field(p, cfn::PolicyDocument) {
                    report(id, doc);
                }
            }
        }
    }
    for ty in ["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"] {
        for (id, r) in m.of_type(ty) {
            if let Some(doc) = prop(r, cfn::PolicyDocument) {
                report(id, doc);
            }
        }
    }
}

fn http_api(m: &Model, out: &mut Vec<Finding>) {
    for (id, route) in m.of_type("AWS::ApiGatewayV2::Route") {
        let api = target(prop(route, cfn::ApiId));
        let auth = strings(prop(route, cfn::AuthorizationType));
        let mut missing = Vec::new();
        // A WebSocket API authorizes its $connect route only; the others ride on that
        // connection and cannot have an authorizer.
        let websocket = api
            .and_then(|a| m.get(a))
            .is_some_and(|a| strings(prop(a, cfn::ProtocolType)) == ["WEBSOCKET"]);
        let authorizable = !websocket || strings(prop(route, cfn::RouteKey)) == ["$connect"];
        if authorizable && (auth.is_empty() || auth == ["NONE"]) {
            missing.push("authorizer");
        }
        let stages = api
            .map(|api| m.referring("AWS::ApiGatewayV2::Stage", cfn::ApiId, api))
            .unwrap_or_default();
        let route_key = strings(prop(route, cfn::RouteKey)).join("");
        let throttled = stages.iter().any(|(_, st)| {
            let limits = |settings: Option<&Expr>| {
                matches!(settings, Some(Expr::Map(m)) if m.contains_key(cfn::ThrottlingRateLimit) || m.contains_key(cfn::ThrottlingBurstLimit))
            };
            // The stage's default, or the route's own entry in RouteSettings.
            let own = match prop(st, cfn::RouteSettings) {
                Some(Expr::Map(routes)) => routes.get(&route_key),
                _ => None,
            };
            limits(prop(st, cfn::DefaultRouteSettings)) || limits(own)
        });
        if !throttled {
            missing.push("throttling");
        }
        if !missing.is_empty() {
            let key = prop(route, cfn::RouteKey)
                .map(crate::template::show)
                .unwrap_or_default();
            out.push(m.at(
                id,
                "ORD018",
                format!("route {key} has no {}", missing.join(" and no ")),
            ));
        }
    }
}

#[cfg(test)]
mod table_tests {
    use super::*;

    #[test]
    fn the_resourceless_table_is_sorted_without_case_so_lookups_find_every_entry() {
        let lines: Vec<&str> = RESOURCELESS_ACTIONS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect();
        assert!(lines
            .windows(2)
            .all(|w| caseless(w[0]).cmp(caseless(w[1])) == std::cmp::Ordering::Less));
        assert!(lines.iter().all(|l| resourceless(l)));
        assert!(resourceless("XRAY:PutTraceSegments") && resourceless("xray:puttracesegments"));
        assert!(!resourceless("sqs:SendMessage"));
    }
}
