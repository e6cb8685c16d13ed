//! What the engine can run: a definition is checked whole before a run, and everything it
//! cannot run is named.

use serde_json::Value;

use super::{choice, path};

/// The Task integrations the engine runs (the DSL's, plus a bare Lambda function ARN).
pub const INTEGRATIONS: &[&str] = &[
    "lambda:invoke",
    "sqs:sendMessage",
    "sns:publish",
    "dynamodb:putItem",
    "dynamodb:getItem",
    "dynamodb:updateItem",
    "dynamodb:deleteItem",
    "events:putEvents",
];

/// The integration a Task resource names (`lambda:invoke`), with whether it waits for a token.
pub fn integration(resource: &str) -> Option<(&str, bool)> {
    if resource.starts_with("arn:aws:lambda:") && resource.contains(":function:") {
        return Some(("lambda:invoke", false));
    }
    let rest = resource.split_once(":states:::")?.1;
    let (api, wait) = match rest.strip_suffix(".waitForTaskToken") {
        Some(a) => (a, true),
        None => (rest.strip_suffix(".sync").map_or(rest, |_| ""), false),
    };
    INTEGRATIONS.contains(&api).then_some((api, wait))
}

/// Everything in `definition` the engine cannot run, one line each naming the state.
pub fn check(definition: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check_block(definition, "", &mut problems);
    problems
}

fn check_block(block: &Value, prefix: &str, out: &mut Vec<String>) {
    if block.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata") {
        out.push(format!(
            "{prefix}QueryLanguage JSONata is not supported (JSONPath only)"
        ));
    }
    let Some(states) = block.get("States").and_then(Value::as_object) else {
        out.push(format!("{prefix}no States"));
        return;
    };
    if !block
        .get("StartAt")
        .and_then(Value::as_str)
        .is_some_and(|s| states.contains_key(s))
    {
        out.push(format!("{prefix}StartAt names no state"));
    }
    for (name, s) in states {
        let here = format!("{prefix}{name}");
        let ty = s.get("Type").and_then(Value::as_str).unwrap_or_default();
        if s.get("QueryLanguage").is_some() {
            out.push(format!("state `{here}`: QueryLanguage is not supported"));
        }
        for k in ["Parameters", "ResultSelector", "ItemSelector"] {
            if let Some(p) = s.get(k) {
                check_intrinsics(p, &here, out);
            }
        }
        match ty {
            "Pass" | "Choice" | "Wait" | "Succeed" | "Fail" => {}
            "Task" => match s.get("Resource").and_then(Value::as_str) {
                Some(r) if integration(r).is_some() => {}
                Some(r) => out.push(format!(
                    "state `{here}`: the integration `{r}` is not supported; supported: {}",
                    INTEGRATIONS.join(", ")
                )),
                None => out.push(format!("state `{here}`: Task without a Resource")),
            },
            "Parallel" => {
                for (i, b) in s
                    .get("Branches")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    check_block(b, &format!("{here}[{i}]/"), out);
                }
            }
            "Map" => {
                if s.get("ItemReader").is_some() || s.get("ResultWriter").is_some() {
                    out.push(format!("state `{here}`: distributed Map (ItemReader/ResultWriter) is not supported"));
                }
                match s.get("ItemProcessor").or_else(|| s.get("Iterator")) {
                    Some(b) => check_block(b, &format!("{here}/"), out),
                    None => out.push(format!("state `{here}`: Map without an ItemProcessor")),
                }
            }
            other => out.push(format!("state `{here}`: unknown state type `{other}`")),
        }
        if let Some(Value::Array(choices)) = s.get("Choices") {
            for c in choices {
                check_rule(c, &here, out);
            }
        }
    }
}

fn check_rule(rule: &Value, state: &str, out: &mut Vec<String>) {
    let Some(m) = rule.as_object() else { return };
    for (k, v) in m {
        match k.as_str() {
            "Variable" | "Next" | "Comment" => {}
            "And" | "Or" => v
                .as_array()
                .into_iter()
                .flatten()
                .for_each(|r| check_rule(r, state, out)),
            "Not" => check_rule(v, state, out),
            op => {
                let base = op.strip_suffix("Path").unwrap_or(op);
                if !choice::operators().contains(&base) {
                    out.push(format!(
                        "state `{state}`: choice operator `{op}` is not supported"
                    ));
                }
            }
        }
    }
}

fn check_intrinsics(v: &Value, state: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if let (true, Some(s)) = (k.ends_with(".$"), v.as_str()) {
                    for n in path::intrinsic_names(s) {
                        if !path::INTRINSICS.contains(&n.as_str()) {
                            out.push(format!("state `{state}`: intrinsic function `{n}` is not supported; supported: {}", path::INTRINSICS.join(", ")));
                        }
                    }
                } else {
                    check_intrinsics(v, state, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| check_intrinsics(v, state, out)),
        _ => {}
    }
}
