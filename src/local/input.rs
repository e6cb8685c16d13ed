//! What an EventBridge target receives: the whole event, a constant `Input`, the part an
//! `InputPath` selects, or an `InputTransformer`'s template filled from the event.
//!
//! ```
//! use ordersctl::local::input::transform;
//! use serde_json::json;
//! let event = json!({"detail": {"orderId": "o-1", "total": 42}});
//! let paths = [("id".to_string(), "$.detail.orderId".to_string()), ("t".to_string(), "$.detail.total".to_string())].into();
//! let out = transform(&event, &paths, r#"{"order": <id>, "text": "order <id> costs <t>"}"#);
//! assert_eq!(out, json!({"order": "o-1", "text": "order o-1 costs 42"}));
//! ```

use std::collections::BTreeMap;

use serde_json::Value;

/// Read an EventBridge JSON path (`$`, `$.a.b`, `$.a[0]`); missing yields `None`.
pub fn select(event: &Value, path: &str) -> Option<Value> {
    let rest = path.strip_prefix('$')?;
    let mut cur = event;
    for part in rest.split('.').filter(|p| !p.is_empty()) {
        let (key, index) = match part.split_once('[') {
            Some((k, i)) => (k, i.strip_suffix(']').and_then(|i| i.parse::<usize>().ok())),
            None => (part, None),
        };
        if !key.is_empty() {
            cur = cur.get(key)?;
        }
        if let Some(i) = index {
            cur = cur.get(i)?;
        }
    }
    Some(cur.clone())
}

/// Fill an InputTemplate. A placeholder inside a JSON string takes the value's text; outside,
/// the value as JSON (`null` when the path matched nothing). A result that is not JSON is
/// delivered as a JSON string, as EventBridge sends plain-text templates.
pub fn transform(event: &Value, paths: &BTreeMap<String, String>, template: &str) -> Value {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    let chars: Vec<char> = template.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '<' {
            if let Some(end) = chars[i + 1..].iter().position(|c| *c == '>') {
                let name: String = chars[i + 1..i + 1 + end].iter().collect();
                let value = if name == "aws.events.event.json" {
                    Some(Some(event.clone()))
                } else if name.starts_with("$.") || name == "$" {
                    // Pipes write the path in the placeholder itself.
                    Some(select(event, &name))
                } else {
                    paths.get(&name).map(|p| select(event, p))
                };
                if let Some(v) = value {
                    let v = v.unwrap_or(Value::Null);
                    if in_string {
                        let text = match &v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        let quoted = serde_json::to_string(&text).unwrap_or_default();
                        out.push_str(&quoted[1..quoted.len() - 1]);
                    } else {
                        out.push_str(&v.to_string());
                    }
                    i += end + 2;
                    continue;
                }
            }
        }
        if c == '"' && !escaped {
            in_string = !in_string;
        }
        escaped = c == '\\' && !escaped;
        out.push(c);
        i += 1;
    }
    serde_json::from_str(&out).unwrap_or(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_and_templates_after_the_user_guide() {
        // The guide's EC2 example: instance and state into a sentence.
        let e = json!({"detail": {"instance-id": "i-0123", "state": "running"}, "time": "2019-11-20T12:00:00Z"});
        let paths: BTreeMap<String, String> = [
            ("instance".into(), "$.detail.instance-id".into()),
            ("state".into(), "$.detail.state".into()),
        ]
        .into();
        assert_eq!(
            transform(&e, &paths, "\"<instance> is in state <state>\""),
            json!("i-0123 is in state running")
        );
        assert_eq!(
            transform(&e, &paths, "<instance> is <state>"),
            json!("\"i-0123\" is \"running\"")
        );
        // A placeholder the map does not define stays as written (then the text is not JSON).
        assert_eq!(
            transform(&e, &paths, "{\"i\": <instance>, \"m\": <nope>}"),
            json!("{\"i\": \"i-0123\", \"m\": <nope>}")
        );
        assert_eq!(
            transform(&e, &paths, "{\"whole\": <aws.events.event.json>}")["whole"],
            e
        );
        assert_eq!(
            transform(&e, &BTreeMap::new(), "{\"id\": <$.detail.instance-id>}"),
            json!({"id": "i-0123"})
        );
        assert_eq!(select(&e, "$.detail.state"), Some(json!("running")));
        assert_eq!(select(&json!({"a": [1, 2]}), "$.a[1]"), Some(json!(2)));
        assert_eq!(select(&e, "$.nope"), None);
    }
}
