//! Step Functions: retries on tasks, compensation after side effects, bounded executions.

use crate::spec::{asl, cfn, value};
use std::collections::{BTreeMap, BTreeSet};

use super::model::{prop, strings, Model};
use super::Finding;
use crate::template::Expr;

pub fn check(m: &Model, out: &mut Vec<Finding>) {
    for (id, sm) in m.of_type("AWS::StepFunctions::StateMachine") {
        let parsed;
        let definition = match prop(sm, cfn::Definition) {
            Some(d) => d,
            None => {
                // A literal JSON string (other tools write it this way), or one built with
                // !Sub: its variables are names and ARNs, which the rules do not read, so
                // each stands in as a placeholder string.
                let text = match prop(sm, cfn::DefinitionString) {
                    Some(Expr::Str(s)) => s.clone(),
                    Some(Expr::Sub(s, _)) => placeholders(s),
                    _ => continue,
                };
                match serde_json::from_str(&text) {
                    Ok(v) => {
                        parsed = Expr::from_json(&v);
                        &parsed
                    }
                    Err(_) => continue,
                }
            }
        };
        let express = strings(prop(sm, cfn::StateMachineType)) == [value::EXPRESS];
        if !express && field(definition, asl::TimeoutSeconds).is_none() {
            out.push(m.at(
                id,
                "ORD012",
                "a Standard execution may run for a year; nothing stops a stuck one".into(),
            ));
        }
        scope(m, id, definition, out);
    }
}

/// `${Name}` -> `Name` (the escape `${!Literal}` -> `${Literal}`), so a Sub's text parses.
fn placeholders(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        match after[..end].strip_prefix('!') {
            Some(literal) => out.push_str(&format!("${{{literal}}}")),
            None => out.push_str(&after[..end].replace(['"', '\\'], "")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn field<'e>(e: &'e Expr, k: &str) -> Option<&'e Expr> {
    match e {
        Expr::Map(m) => m.get(k),
        _ => None,
    }
}

fn text(e: Option<&Expr>) -> String {
    match e {
        Some(Expr::Str(s)) => s.clone(),
        Some(Expr::Sub(s, _)) => s.clone(),
        Some(other) => crate::template::show(other),
        None => String::new(),
    }
}

/// Reads change nothing: a failure after them needs no compensation.
fn side_effecting(state: &Expr) -> bool {
    let resource = text(field(state, asl::Resource)).to_ascii_lowercase();
    !["getitem", "query", "describe", ":get", "scan"]
        .iter()
        .any(|r| resource.contains(r))
}

/// One `States` map (the top level, a Parallel branch or a Map's processor).
fn scope(m: &Model, id: &str, definition: &Expr, out: &mut Vec<Finding>) {
    let Some(Expr::Map(states)) = field(definition, asl::States) else {
        return;
    };
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, s) in states {
        let mut to: Vec<&str> = Vec::new();
        if let Some(Expr::Str(n)) = field(s, asl::Next) {
            to.push(n);
        }
        if let Some(Expr::Str(n)) = field(s, asl::Default) {
            to.push(n);
        }
        if let Some(Expr::List(choices)) = field(s, asl::Choices) {
            for c in choices {
                if let Some(Expr::Str(n)) = field(c, asl::Next) {
                    to.push(n);
                }
            }
        }
        next.insert(name.as_str(), to);
    }
    // States reachable after a side-effecting task (through normal transitions).
    let mut after_effect: BTreeSet<&str> = BTreeSet::new();
    for (name, s) in states {
        if text(field(s, asl::Type)) == asl::Task && side_effecting(s) {
            let mut stack: Vec<&str> = next.get(name.as_str()).cloned().unwrap_or_default();
            while let Some(n) = stack.pop() {
                if after_effect.insert(n) {
                    stack.extend(next.get(n).cloned().unwrap_or_default());
                }
            }
        }
    }
    for (name, s) in states {
        let ty = text(field(s, asl::Type));
        if ty == asl::Task {
            if field(s, asl::Retry).is_none() {
                out.push(m.at(
                    id,
                    "ORD010",
                    format!("state {name} has no Retry: one transient error fails the execution"),
                ));
            }
            if after_effect.contains(name.as_str()) && field(s, asl::Catch).is_none() {
                out.push(m.at(id, "ORD011", format!(
                    "state {name} runs after a step with side effects and has no Catch: its failure leaves those effects uncompensated"
                )));
            }
        }
        if let Some(Expr::List(branches)) = field(s, asl::Branches) {
            for b in branches {
                scope(m, id, b, out);
            }
        }
        for key in [asl::ItemProcessor, asl::Iterator] {
            if let Some(p) = field(s, key) {
                scope(m, id, p, out);
            }
        }
    }
}
