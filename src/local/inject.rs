//! The inject file of `ordersctl local run`: a JSON array of inputs, applied in order.
//!
//! ```
//! use ordersctl::local::inject::{parse, Injection};
//! let list = parse(r#"[{"queue": "OrderCreatedQueue", "body": {"orderId": "o-1"}}, {"idle": true}]"#).unwrap();
//! assert!(matches!(&list[0], Injection::Queue { name, .. } if name == "OrderCreatedQueue"));
//! assert_eq!(list[1], Injection::Idle);
//! ```

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// One input.
#[derive(Debug, Clone, PartialEq)]
pub enum Injection {
    /// SendMessage to a queue; a JSON body is sent as its text.
    Queue {
        name: String,
        body: String,
        attributes: BTreeMap<String, String>,
    },
    /// PutItem of a plain JSON object (feeds the table's stream).
    Table {
        name: String,
        item: serde_json::Map<String, Value>,
    },
    /// Publish to an SNS topic; attributes are `String` ones.
    Topic {
        name: String,
        message: String,
        subject: Option<String>,
        attributes: BTreeMap<String, String>,
    },
    /// PutEvents on a bus.
    Bus {
        name: String,
        source: String,
        detail_type: String,
        detail: Value,
    },
    /// Fire a schedule or a scheduled rule once.
    Schedule { name: String },
    /// Answer the first execution waiting in `state`.
    TaskToken {
        state: String,
        result: Result<Value, (String, String)>,
    },
    /// Invoke a function asynchronously (as an event).
    Invoke { function: String, payload: Value },
    /// StartExecution.
    StartExecution { name: String, input: Value },
    /// Move the engine's clock.
    Advance { millis: u64 },
    /// The next `times` invocations of a function crash.
    Fault { function: String, times: u32 },
    /// Run until idle before the next injection.
    Idle,
    /// An HTTP request to an API: method and target (`POST /orders?x=1`), the API's name when
    /// the stacks have several, headers, body, and whether it carries a valid token.
    Http {
        api: Option<String>,
        method: String,
        target: String,
        headers: BTreeMap<String, String>,
        body: Option<String>,
        auth_valid: bool,
    },
}

/// What is wrong with an inject file: the entry (0-based) and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{message}", index.map(|i| format!("entry {i}")).unwrap_or_default(), field.as_ref().map(|f| format!(", field `{f}`: ")).unwrap_or_else(|| if index.is_some() { ": ".into() } else { String::new() }))]
pub struct InjectError {
    /// The entry (0-based); none for the input as a whole.
    pub index: Option<usize>,
    pub field: Option<String>,
    pub message: String,
}

/// The longest `advance`: a year and a day.
pub const MAX_ADVANCE_MS: u64 = 366 * 86_400_000;

/// The kinds of entry, by their key.
pub const KINDS: &[&str] = &[
    "queue",
    "topic",
    "bus",
    "schedule",
    "task_token",
    "invoke",
    "start_execution",
    "advance",
    "fault",
    "idle",
    "table",
    "http",
];

/// Parse the file's text.
pub fn parse(text: &str) -> Result<Vec<Injection>, InjectError> {
    let top = |m: String| InjectError {
        index: None,
        field: None,
        message: m,
    };
    let v: Value = serde_json::from_str(text).map_err(|e| top(format!("not JSON: {e}")))?;
    let Value::Array(items) = v else {
        return Err(top("must be a JSON array of entries".into()));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| entry(i, item))
        .collect()
}

fn entry(index: usize, v: &Value) -> Result<Injection, InjectError> {
    let err = |field: &str, message: &str| InjectError {
        index: Some(index),
        field: (!field.is_empty()).then(|| field.to_string()),
        message: message.to_string(),
    };
    let Value::Object(m) = v else {
        return Err(err("", "an entry is a JSON object"));
    };
    let kind = KINDS
        .iter()
        .find(|k| m.contains_key(**k))
        .ok_or_else(|| err("", &format!("an entry names one of: {}", KINDS.join(", "))))?;
    let string = |field: &str| -> Result<String, InjectError> {
        match m.get(field) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(_) => Err(err(field, "must be a non-empty string")),
            None => Err(err(field, "is required")),
        }
    };
    // An object of string values (attributes, headers); absent is empty.
    let string_map = |field: &str| -> Result<BTreeMap<String, String>, InjectError> {
        match m.get(field) {
            None => Ok(BTreeMap::new()),
            Some(Value::Object(o)) => o
                .iter()
                .map(|(k, v)| {
                    v.as_str()
                        .map(|s| (k.clone(), s.to_string()))
                        .ok_or_else(|| err(field, "values must be strings"))
                })
                .collect(),
            Some(_) => Err(err(field, "must be an object of strings")),
        }
    };
    // A message body: a string as it is, JSON objects and arrays as their text.
    let payload = |field: &str| -> Result<String, InjectError> {
        match m.get(field) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v @ (Value::Object(_) | Value::Array(_))) => Ok(v.to_string()),
            Some(_) => Err(err(field, "must be a JSON object or array, or a string")),
            None => Err(err(field, "is required")),
        }
    };
    let only = |allowed: &[&str]| -> Result<(), InjectError> {
        match m.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(err(
                k,
                &format!(
                    "is not a field of a `{kind}` entry; allowed: {}",
                    allowed.join(", ")
                ),
            )),
            None => Ok(()),
        }
    };
    Ok(match *kind {
        "queue" => {
            only(&["queue", "body", "attributes"])?;
            let body = payload("body")?;
            let attributes = string_map("attributes")?;
            if attributes.len() > 10 {
                return Err(err(
                    "attributes",
                    "at most 10 message attributes (SQS's limit)",
                ));
            }
            if let Some(bad) = attributes.keys().find(|k| !valid_attribute_name(k)) {
                return Err(err("attributes", &format!("`{bad}` is not a message attribute name: 1-256 letters, digits, `_`, `-` or `.`, not starting with `AWS.` or `Amazon.` or `.`")));
            }
            Injection::Queue {
                name: string("queue")?,
                body,
                attributes,
            }
        }
        "table" => {
            only(&["table", "put"])?;
            let Some(Value::Object(item)) = m.get("put") else {
                return Err(err("put", "is required: the item as a plain JSON object"));
            };
            Injection::Table {
                name: string("table")?,
                item: item.clone(),
            }
        }
        "topic" => {
            only(&["topic", "message", "subject", "attributes"])?;
            let message = payload("message")?;
            let attributes = string_map("attributes")?;
            let subject = match m.get("subject") {
                None => None,
                Some(_) => Some(string("subject")?),
            };
            Injection::Topic {
                name: string("topic")?,
                message,
                subject,
                attributes,
            }
        }
        "bus" => {
            only(&["bus", "source", "detail-type", "detail"])?;
            let detail = match m.get("detail") {
                Some(v @ Value::Object(_)) => v.clone(),
                None => Value::Object(Map::new()),
                Some(_) => return Err(err("detail", "must be a JSON object")),
            };
            Injection::Bus {
                name: string("bus")?,
                source: string("source")?,
                detail_type: string("detail-type")?,
                detail,
            }
        }
        "schedule" => {
            only(&["schedule"])?;
            Injection::Schedule {
                name: string("schedule")?,
            }
        }
        "task_token" => {
            only(&["task_token"])?;
            let Some(Value::Object(t)) = m.get("task_token") else {
                return Err(err(
                    "task_token",
                    "must be an object with `state` and `success` or `failure`",
                ));
            };
            let state = t.get("state").and_then(Value::as_str).ok_or_else(|| {
                err(
                    "task_token.state",
                    "is required (the state waiting for the token)",
                )
            })?;
            let result =
                match (t.get("success"), t.get("failure")) {
                    (Some(out), None) => Ok(out.clone()),
                    (None, Some(Value::Object(f))) => Err((
                        f.get("error")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        f.get("cause")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    )),
                    _ => return Err(err(
                        "task_token",
                        "needs exactly one of `success` (any JSON) or `failure` ({error, cause})",
                    )),
                };
            Injection::TaskToken {
                state: state.to_string(),
                result,
            }
        }
        "invoke" => {
            only(&["invoke", "payload"])?;
            Injection::Invoke {
                function: string("invoke")?,
                payload: m
                    .get("payload")
                    .cloned()
                    .unwrap_or(Value::Object(Map::new())),
            }
        }
        "start_execution" => {
            only(&["start_execution", "input"])?;
            Injection::StartExecution {
                name: string("start_execution")?,
                input: m.get("input").cloned().unwrap_or(Value::Object(Map::new())),
            }
        }
        "advance" => {
            only(&["advance"])?;
            let millis = duration(&string("advance")?).ok_or_else(|| {
                err(
                    "advance",
                    "must be an ISO 8601 duration such as PT90S, PT2H or P1D",
                )
            })?;
            if millis > MAX_ADVANCE_MS {
                return Err(err("advance", "must be at most P366D"));
            }
            Injection::Advance { millis }
        }
        "fault" => {
            only(&["fault"])?;
            let f = m
                .get("fault")
                .and_then(Value::as_object)
                .ok_or_else(|| err("fault", "must be {\"function\": NAME, \"times\": N}"))?;
            let function = f
                .get("function")
                .and_then(Value::as_str)
                .ok_or_else(|| err("fault.function", "is required"))?;
            let times = f
                .get("times")
                .map_or(Some(1), Value::as_u64)
                .filter(|t| (1..=10_000).contains(t))
                .ok_or_else(|| err("fault.times", "must be a whole number from 1 to 10000"))?;
            Injection::Fault {
                function: function.to_string(),
                times: times as u32,
            }
        }
        "idle" => {
            only(&["idle"])?;
            if m.get("idle") != Some(&Value::Bool(true)) {
                return Err(err("idle", "must be true"));
            }
            Injection::Idle
        }
        "http" => {
            only(&["http", "api", "headers", "body", "auth"])?;
            let line = string("http")?;
            let Some((method, target)) = line
                .split_once(' ')
                .filter(|(m, t)| !m.is_empty() && t.starts_with('/'))
            else {
                return Err(err(
                    "http",
                    "must be \"METHOD /path\", e.g. \"POST /orders\"",
                ));
            };
            let headers = string_map("headers")?;
            let body = match m.get("body") {
                None => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(v) => Some(v.to_string()),
            };
            let auth_valid = match m.get("auth").map(|a| a.as_str()) {
                None => headers
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case("authorization")),
                Some(Some("valid")) => true,
                Some(Some("none")) => false,
                Some(_) => return Err(err("auth", "must be \"valid\" or \"none\"")),
            };
            let api = match m.get("api") {
                None => None,
                Some(_) => Some(string("api")?),
            };
            Injection::Http {
                api,
                method: method.to_ascii_uppercase(),
                target: target.to_string(),
                headers,
                body,
                auth_valid,
            }
        }
        other => {
            return Err(err(
                other,
                &format!("`{other}` entries are not run by the local engine yet"),
            ))
        }
    })
}

/// SQS's rule for message attribute names.
fn valid_attribute_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 256
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !n.starts_with('.')
        && !n.ends_with('.')
        && !n.contains("..")
        && !n.to_ascii_lowercase().starts_with("aws.")
        && !n.to_ascii_lowercase().starts_with("amazon.")
}

/// An ISO 8601 duration (`P1DT2H`, `PT90S`, `PT0.5S`) in milliseconds.
pub fn duration(s: &str) -> Option<u64> {
    let rest = s.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut ms = 0f64;
    let mut eat = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
            } else {
                let f = units.iter().find(|(u, _)| *u == c)?.1;
                ms += num.parse::<f64>().ok()? * f;
                num.clear();
            }
        }
        num.is_empty().then_some(())
    };
    eat(date, &[('W', 604_800_000.0), ('D', 86_400_000.0)])?;
    eat(time, &[('H', 3_600_000.0), ('M', 60_000.0), ('S', 1000.0)])?;
    // `P1DT` (a T with no time after it) is not a duration.
    (!rest.is_empty() && !rest.ends_with('T')).then_some(ms as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses() {
        let list = parse(
            r#"[
            {"queue": "Q", "body": "not json", "attributes": {"correlationId": "c"}},
            {"bus": "OrdersBus", "source": "com.app", "detail-type": "OrderCreated", "detail": {"orderId": "o"}},
            {"schedule": "DailyMaintenance"},
            {"task_token": {"state": "AwaitApproval", "failure": {"error": "Rejected", "cause": "no"}}},
            {"invoke": "F"}, {"start_execution": "EtlWorkflow", "input": {"a": 1}},
            {"advance": "PT1M30S"}, {"fault": {"function": "F", "times": 2}}, {"idle": true}
        ]"#,
        )
        .unwrap();
        assert_eq!(list.len(), 9);
        assert_eq!(
            list[3],
            Injection::TaskToken {
                state: "AwaitApproval".into(),
                result: Err(("Rejected".into(), "no".into()))
            }
        );
        assert_eq!(list[6], Injection::Advance { millis: 90_000 });
    }

    #[test]
    fn errors_name_the_entry_and_field() {
        let e = parse(r#"[{"idle": true}, {"queue": "Q"}]"#).unwrap_err();
        assert_eq!(e.to_string(), "entry 1, field `body`: is required");
        let e = parse(r#"[{"bus": "B", "source": "s", "detail-type": "d", "detial": {}}]"#)
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("field `detial`: is not a field of a `bus` entry"),
            "{e}"
        );
        let e = parse(r#"[{"advance": "P9999D"}]"#).unwrap_err();
        assert!(e.to_string().contains("at most P366D"), "{e}");
        let e = parse(r#"[{"fault": {"function": "F", "times": 4294967296}}]"#).unwrap_err();
        assert!(e.to_string().contains("field `fault.times`"), "{e}");
        let e = parse(r#"[{"advance": "90s"}]"#).unwrap_err();
        assert!(e.to_string().contains("ISO 8601"), "{e}");
        let e = parse(r#"[{"nothing": 1}]"#).unwrap_err();
        assert!(e.to_string().contains("queue, topic, bus"), "{e}");
        assert!(parse("{}").is_err());
        assert!(parse("[").unwrap_err().to_string().starts_with("not JSON"));
        assert_eq!(
            parse("{}").unwrap_err().to_string(),
            "must be a JSON array of entries"
        );
        let e = parse(r#"[{"queue": "Q", "body": "x", "attributes": {"a b": "v"}}]"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("`a b` is not a message attribute name"),
            "{e}"
        );
        let e = parse(r#"[{"table": "Orders", "put": []}]"#).unwrap_err();
        assert!(e.to_string().contains("field `put`: is required"), "{e}");
        let e = parse(r#"[{"http": "orders"}]"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("field `http`: must be \"METHOD /path\""),
            "{e}"
        );
        let ok = parse(r#"[{"http": "post /orders", "auth": "valid", "body": {"a": 1}}]"#).unwrap();
        assert!(
            matches!(&ok[0], Injection::Http { method, auth_valid: true, body: Some(b), .. } if method == "POST" && b == "{\"a\":1}")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(duration("PT90S"), Some(90_000));
        assert_eq!(duration("P1D"), Some(86_400_000));
        assert_eq!(duration("PT0.5S"), Some(500));
        assert_eq!(duration("P1DT2H"), Some(93_600_000));
        assert_eq!(duration("PT"), None);
        assert_eq!(duration("P1DT"), None);
        assert_eq!(duration("P"), None);
        assert_eq!(duration("PT5X"), None);
    }
}
