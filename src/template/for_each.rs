//! `Fn::ForEach` of the `AWS::LanguageExtensions` transform, expanded for analysis: each
//! loop in `Resources` becomes the resources it stands for (so checks and diff see them), and
//! the loop itself is kept as written for rendering.
//!
//! ```json
//! "Fn::ForEach::Topics": ["Name", ["Orders", "Refunds"],
//!     {"${Name}Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Name"}}}}]
//! ```

use serde_json::{Map, Value};

/// The transform that allows `Fn::ForEach` and intrinsics in resource policies.
pub const LANGUAGE_EXTENSIONS: &str = "AWS::LanguageExtensions";

/// A loop as written, and the logical IDs it expanded to.
#[derive(Debug, Clone, PartialEq)]
pub struct ForEachLoop {
    /// `Fn::ForEach::<Name>`.
    pub key: String,
    pub body: super::Expr,
    pub expanded: Vec<String>,
}

/// Whether the template's `Transform` includes `name`.
pub fn has_transform(root: &Map<String, Value>, name: &str) -> bool {
    match root.get("Transform") {
        Some(Value::String(s)) => s == name,
        Some(Value::Array(a)) => a.iter().any(|t| t.as_str() == Some(name)),
        _ => false,
    }
}

/// Expand one loop into (logical ID, resource JSON) pairs. `parameters` gives the defaults a
/// collection `{"Ref": P}` reads. An error names the loop and what is wrong.
pub fn expand(
    key: &str,
    body: &Value,
    parameters: &Map<String, Value>,
) -> Result<Vec<(String, Value)>, String> {
    let Some([Value::String(id), collection, Value::Object(template)]) =
        body.as_array().map(Vec::as_slice)
    else {
        return Err(format!(
            "Resources.{key}: expected [identifier, collection, {{OutputKey: OutputValue}}]"
        ));
    };
    let items: Vec<String> = match collection {
        Value::Array(a) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("Resources.{key}: the collection holds {other}; ordersctl expands lists of strings")),
            })
            .collect::<Result<_, _>>()?,
        Value::Object(r) if r.len() == 1 && r.contains_key("Ref") => {
            let p = r["Ref"].as_str().unwrap_or_default();
            match parameters.get(p).and_then(|p| p.get("Default")) {
                Some(Value::String(s)) => s.split(',').map(|x| x.trim().to_string()).collect(),
                Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
                _ => return Err(format!("Resources.{key}: the collection is parameter {p}, which has no default to expand")),
            }
        }
        _ => return Err(format!("Resources.{key}: the collection must be a list or a Ref to a list parameter")),
    };
    let mut out = Vec::new();
    for item in &items {
        let alnum: String = item.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        for (k, v) in template {
            let value = substitute(v, id, item);
            if k.starts_with("Fn::ForEach::") {
                // An inner loop's output keys may name the outer identifier too.
                let value = match value {
                    Value::Array(mut inner) if inner.len() == 3 => {
                        if let Value::Object(m) = &inner[2] {
                            inner[2] = Value::Object(
                                m.iter()
                                    .map(|(key, x)| {
                                        let key = key
                                            .replace(&format!("${{{id}}}"), item)
                                            .replace(&format!("&{{{id}}}"), &alnum);
                                        (key, x.clone())
                                    })
                                    .collect(),
                            );
                        }
                        Value::Array(inner)
                    }
                    other => other,
                };
                out.extend(expand(k, &value, parameters)?);
                continue;
            }
            let name = k
                .replace(&format!("${{{id}}}"), item)
                .replace(&format!("&{{{id}}}"), &alnum);
            out.push((name, value));
        }
    }
    Ok(out)
}

/// `{"Ref": id}` -> the item; `${id}` in `Fn::Sub` strings -> the item.
fn substitute(v: &Value, id: &str, item: &str) -> Value {
    match v {
        Value::Object(m) if m.len() == 1 && m.get("Ref").and_then(Value::as_str) == Some(id) => {
            Value::String(item.to_string())
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let x = if k == "Fn::Sub" {
                        sub_string(x, id, item)
                    } else {
                        substitute(x, id, item)
                    };
                    (k.clone(), x)
                })
                .collect::<Map<String, Value>>(),
        )
        .pipe(collapse_literal_sub),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, id, item)).collect()),
        other => other.clone(),
    }
}

/// A `Fn::Sub` of a string with no variable left is that string (`!GetAtt [!Sub
/// "${Name}Queue", Arn]` names a logical ID once the loop variable is in).
fn collapse_literal_sub(v: Value) -> Value {
    match &v {
        Value::Object(m) if m.len() == 1 => match m.get("Fn::Sub") {
            Some(Value::String(s)) if !s.contains("${") => Value::String(s.clone()),
            _ => v,
        },
        _ => v,
    }
}

trait Pipe: Sized {
    fn pipe(self, f: impl FnOnce(Self) -> Self) -> Self {
        f(self)
    }
}
impl Pipe for Value {}

fn sub_string(v: &Value, id: &str, item: &str) -> Value {
    let pattern = format!("${{{id}}}");
    match v {
        Value::String(s) => Value::String(s.replace(&pattern, item)),
        Value::Array(a) if !a.is_empty() => {
            let mut a = a.clone();
            if let Value::String(s) = &a[0] {
                a[0] = Value::String(s.replace(&pattern, item));
            }
            for x in a.iter_mut().skip(1) {
                *x = substitute(x, id, item);
            }
            Value::Array(a)
        }
        other => substitute(other, id, item),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_loop_becomes_its_resources() {
        let body = json!(["Name", ["Orders", "Re-funds"], {
            "${Name}Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Name"},
                "DisplayName": {"Fn::Sub": "${Name} topic"}}},
            "&{Name}Queue": {"Type": "AWS::SQS::Queue"}
        }]);
        let out = expand("Fn::ForEach::Topics", &body, &Map::new()).unwrap();
        let ids: Vec<&str> = out.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            ids,
            [
                "OrdersTopic",
                "OrdersQueue",
                "Re-fundsTopic",
                "RefundsQueue"
            ]
        );
        assert_eq!(out[0].1["Properties"]["TopicName"], "Orders");
        assert_eq!(
            out[0].1["Properties"]["DisplayName"], "Orders topic",
            "a Sub with no variable left is its string"
        );
    }

    #[test]
    fn nested_loops_name_both_identifiers() {
        let body = json!(["Env", ["Dev", "Prod"], {
            "Fn::ForEach::Targets": ["Target", ["Web", "Store"], {
                "${Target}${Env}Queue": {"Type": "AWS::SQS::Queue",
                    "Properties": {"QueueName": {"Fn::Sub": "${Env}-${Target}"}}}}]}]);
        let out = expand("Fn::ForEach::Envs", &body, &Map::new()).unwrap();
        let ids: Vec<&str> = out.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            ids,
            [
                "WebDevQueue",
                "StoreDevQueue",
                "WebProdQueue",
                "StoreProdQueue"
            ]
        );
        assert_eq!(out[3].1["Properties"]["QueueName"], "Prod-Store");
    }

    #[test]
    fn a_collection_from_a_parameter_default() {
        let params = json!({"Names": {"Type": "CommaDelimitedList", "Default": "a, b"}});
        let body = json!(["N", {"Ref": "Names"}, {"Q${N}": {"Type": "AWS::SQS::Queue"}}]);
        let out = expand("Fn::ForEach::Q", &body, params.as_object().unwrap()).unwrap();
        assert_eq!(out.len(), 2);
        let params = json!({"Names": {"Type": "CommaDelimitedList"}});
        let e = expand("Fn::ForEach::Q", &body, params.as_object().unwrap()).unwrap_err();
        assert!(e.contains("has no default"), "{e}");
    }
}
