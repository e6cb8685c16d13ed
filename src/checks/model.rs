//! What the rules ask of a template: resources by type, what refers to what, and the facts
//! that need several resources (who consumes a queue, which role a function has, what it may
//! write).

use std::collections::BTreeMap;

use crate::template::{Expr, Resource, Template};

use super::rules::rule;
use super::{Finding, Severity};

pub struct Model<'t> {
    pub stack: &'t str,
    pub t: &'t Template,
}

/// The logical ID a value points at (`Ref` or `Fn::GetAtt`), if it is one.
pub fn target(e: Option<&Expr>) -> Option<&str> {
    match e? {
        Expr::Ref(t) | Expr::GetAtt(t, _) => Some(t.logical_id.as_str()),
        _ => None,
    }
}

/// A property by dotted path.
pub fn prop<'r>(r: &'r Resource, path: &str) -> Option<&'r Expr> {
    let mut parts = path.split('.');
    let mut cur = r.properties.get(parts.next()?)?;
    for p in parts {
        cur = match cur {
            Expr::Map(m) => m.get(p)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// A number, whether written as a number or a numeric string.
pub fn num(e: Option<&Expr>) -> Option<i64> {
    match e? {
        Expr::Int(i) => Some(*i),
        Expr::Float(f) => Some(*f as i64),
        Expr::Str(s) => s.parse().ok(),
        _ => None,
    }
}

pub fn boolean(e: Option<&Expr>) -> Option<bool> {
    match e? {
        Expr::Bool(b) => Some(*b),
        Expr::Str(s) => s.parse().ok(),
        _ => None,
    }
}

/// Strings of a string-or-list value.
pub fn strings(e: Option<&Expr>) -> Vec<String> {
    match e {
        Some(Expr::Str(s)) => vec![s.clone()],
        Some(Expr::List(items)) => items
            .iter()
            .filter_map(|i| match i {
                Expr::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl<'t> Model<'t> {
    pub fn new(stack: &'t str, t: &'t Template) -> Self {
        Model { stack, t }
    }

    /// Resources of a type, in template order.
    pub fn of_type<'a>(
        &'a self,
        ty: &'a str,
    ) -> impl Iterator<Item = (&'t String, &'t Resource)> + 'a {
        self.t
            .resources
            .iter()
            .filter(move |(_, r)| r.resource_type == ty)
    }

    pub fn get(&self, id: &str) -> Option<&'t Resource> {
        self.t.resources.get(id)
    }

    /// The type of the resource a value points at.
    pub fn type_of(&self, e: Option<&Expr>) -> Option<&'t str> {
        self.get(target(e)?).map(|r| r.resource_type.as_str())
    }

    /// A finding at a resource, with the rule's default severity and fix.
    pub fn at(&self, id: &str, rule_id: &'static str, message: String) -> Finding {
        let r = rule(rule_id).expect("a catalogued rule");
        self.with_severity(id, r.id, r.severity, message)
    }

    pub fn with_severity(
        &self,
        id: &str,
        rule_id: &'static str,
        severity: Severity,
        message: String,
    ) -> Finding {
        let r = rule(rule_id).expect("a catalogued rule");
        Finding {
            rule: r.id,
            severity,
            location: format!("{}/{id}", self.stack),
            logical_id: Some(id.to_string()),
            message,
            fix: r.fix.to_string(),
        }
    }

    /// A finding about the whole template.
    pub fn template_wide(&self, rule_id: &'static str, message: String) -> Finding {
        let r = rule(rule_id).expect("a catalogued rule");
        Finding {
            rule: r.id,
            severity: r.severity,
            location: self.stack.to_string(),
            logical_id: None,
            message,
            fix: r.fix.to_string(),
        }
    }

    /// Event source mappings (and pipes) reading from a queue: (consumer ID, function ID if any).
    pub fn queue_consumers(&self, queue: &str) -> Vec<(&'t str, Option<&'t str>)> {
        let mut out = Vec::new();
        for (id, r) in self.of_type("AWS::Lambda::EventSourceMapping") {
            if target(prop(r, "EventSourceArn")) == Some(queue) {
                out.push((id.as_str(), target(prop(r, "FunctionName"))));
            }
        }
        for (id, r) in self.of_type("AWS::Pipes::Pipe") {
            if target(prop(r, "Source")) == Some(queue) {
                out.push((id.as_str(), None));
            }
        }
        out
    }

    /// Every EventBridge rule target: (rule ID, the target's properties).
    pub fn rule_targets(&self) -> Vec<(&'t str, &'t BTreeMap<String, Expr>)> {
        let mut out = Vec::new();
        for (id, rule) in self.of_type("AWS::Events::Rule") {
            if let Some(Expr::List(targets)) = prop(rule, "Targets") {
                for t in targets {
                    if let Expr::Map(tm) = t {
                        out.push((id.as_str(), tm));
                    }
                }
            }
        }
        out
    }

    /// Queues that another queue's redrive policy sends to.
    pub fn dead_letter_queues(&self) -> Vec<&'t str> {
        self.of_type("AWS::SQS::Queue")
            .filter_map(|(_, r)| target(prop(r, "RedrivePolicy.deadLetterTargetArn")))
            .collect()
    }

    /// Every policy statement granted to a role: inline policies and attached AWS::IAM::Policy.
    pub fn role_statements(&self, role: &str) -> Vec<&'t Expr> {
        let mut docs: Vec<&Expr> = Vec::new();
        if let Some(Expr::List(policies)) = self.get(role).and_then(|r| prop(r, "Policies")) {
            for p in policies {
                if let Expr::Map(m) = p {
                    docs.extend(m.get("PolicyDocument"));
                }
            }
        }
        for (_, r) in self.of_type("AWS::IAM::Policy") {
            if let Some(Expr::List(roles)) = prop(r, "Roles") {
                if roles.iter().any(|x| target(Some(x)) == Some(role)) {
                    docs.extend(prop(r, "PolicyDocument"));
                }
            }
        }
        docs.into_iter().flat_map(statements_of).collect()
    }
}

/// The statements of a policy document.
pub fn statements_of(doc: &Expr) -> Vec<&Expr> {
    let Expr::Map(m) = doc else { return Vec::new() };
    match m.get("Statement") {
        Some(Expr::List(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    }
}

/// A statement's field.
pub fn field<'e>(statement: &'e Expr, key: &str) -> Option<&'e Expr> {
    match statement {
        Expr::Map(m) => m.get(key),
        _ => None,
    }
}
