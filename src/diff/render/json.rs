//! JSON for programs: every change with CloudFormation JSON values and their readable form.

use serde_json::{json, Map, Value};

use super::super::{show, Action, EntryChange, StackDiff};

fn action(a: Action) -> &'static str {
    match a {
        Action::Add => "add",
        Action::Modify => "modify",
        Action::Remove => "remove",
    }
}

fn entry(e: &EntryChange) -> Value {
    json!({"name": e.name, "action": action(e.action), "old": e.old, "new": e.new, "cause": e.cause})
}

fn stack(d: &StackDiff) -> Value {
    let resources: Vec<Value> = d
        .resources
        .iter()
        .map(|r| {
            let mut o = Map::new();
            o.insert("logicalId".into(), json!(r.logical_id));
            o.insert("type".into(), json!(r.resource_type));
            o.insert("action".into(), json!(action(r.action)));
            o.insert("impact".into(), json!(r.impact));
            match (r.action, &r.renamed) {
                (Action::Add, Some(from)) => o.insert("renamedFrom".into(), json!(from)),
                (Action::Remove, Some(to)) => o.insert("renamedTo".into(), json!(to)),
                _ => None,
            };
            let changes: Vec<Value> = r
                .changes
                .iter()
                .map(|c| {
                    json!({
                        "path": c.path,
                        "old": c.old.as_ref().map(|e| e.to_json()),
                        "new": c.new.as_ref().map(|e| e.to_json()),
                        "oldText": c.old.as_ref().map(show),
                        "newText": c.new.as_ref().map(show),
                        "impact": c.impact,
                        "cause": c.cause,
                    })
                })
                .collect();
            o.insert("changes".into(), Value::Array(changes));
            Value::Object(o)
        })
        .collect();
    json!({
        "stack": d.stack,
        "differences": !d.is_empty(),
        "template": d.sections.iter().map(entry).collect::<Vec<_>>(),
        "parameters": d.parameters.iter().map(entry).collect::<Vec<_>>(),
        "resources": resources,
        "outputs": d.outputs.iter().map(entry).collect::<Vec<_>>(),
        "security": d.security,
        "broadens": d.broadens(),
        "warnings": d.warnings,
        "summary": d.summary(),
    })
}

/// The diffs as a JSON document (pretty, newline-terminated).
///
/// ```
/// use ordersctl::diff::{diff_stack, render, DiffContext};
/// use ordersctl::template::Template;
/// let t = Template::from_json_str(r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#).unwrap();
/// let d = diff_stack("Orders", &Template::default(), &t, &DiffContext::default());
/// let v: serde_json::Value = serde_json::from_str(&render::json(&[d])).unwrap();
/// assert_eq!(v["stacks"][0]["resources"][0]["action"], "add");
/// ```
pub fn json(diffs: &[StackDiff]) -> String {
    let v = json!({
        "stacks": diffs.iter().map(stack).collect::<Vec<_>>(),
        "differences": diffs.iter().any(|d| !d.is_empty()),
        "summary": diffs.iter().map(StackDiff::summary).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}
