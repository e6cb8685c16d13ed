//! EventBridge event patterns: does a pattern match an event? The full content-filtering
//! syntax of rules (and of pipe filters and ESM filter criteria, which use a subset): exact
//! values, `prefix`, `suffix`, `anything-but` (value, list, prefix, suffix, wildcard,
//! equals-ignore-case), `numeric`, `exists`, `equals-ignore-case`, `wildcard`, `cidr`,
//! `$or`, and nesting. Arrays in the event match when any element matches.
//!
//! ```
//! use ordersctl::local::pattern::matches;
//! use serde_json::json;
//! let pattern = json!({"source": ["com.app.events"], "detail": {"total": [{"numeric": [">", 100]}]}});
//! assert!(matches(&pattern, &json!({"source": "com.app.events", "detail": {"total": 250}})).unwrap());
//! assert!(!matches(&pattern, &json!({"source": "com.app.events", "detail": {"total": 5}})).unwrap());
//! ```

use serde_json::{Map, Value};

/// A pattern that is not valid EventBridge syntax; names where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event pattern at `{path}`: {message}")]
pub struct PatternError {
    pub path: String,
    pub message: String,
}

fn err(path: &str, message: impl Into<String>) -> PatternError {
    PatternError {
        path: if path.is_empty() {
            "$".into()
        } else {
            path.to_string()
        },
        message: message.into(),
    }
}

/// Whether `pattern` matches `event`. An invalid pattern is an error, never a silent miss.
pub fn matches(pattern: &Value, event: &Value) -> Result<bool, PatternError> {
    let Value::Object(p) = pattern else {
        return Err(err("", "a pattern is a JSON object"));
    };
    object_matches(p, Some(event), "")
}

fn object_matches(
    p: &Map<String, Value>,
    event: Option<&Value>,
    path: &str,
) -> Result<bool, PatternError> {
    // An array of objects in the event: any element may satisfy the nested pattern.
    if let Some(Value::Array(items)) = event {
        for item in items {
            if object_matches(p, Some(item), path)? {
                return Ok(true);
            }
        }
        if !items.is_empty() {
            return Ok(false);
        }
    }
    let obj = event.and_then(Value::as_object);
    for (key, sub) in p {
        let here = format!("{path}.{key}");
        if key == "$or" {
            let Value::Array(alternatives) = sub else {
                return Err(err(&here, "$or takes an array of patterns"));
            };
            let mut any = false;
            for alt in alternatives {
                let Value::Object(alt) = alt else {
                    return Err(err(&here, "each $or alternative is an object"));
                };
                if object_matches(alt, event, path)? {
                    any = true;
                    break;
                }
            }
            if !any {
                return Ok(false);
            }
            continue;
        }
        let field = obj.and_then(|o| o.get(key));
        let ok = match sub {
            Value::Object(nested) => match field {
                Some(v @ (Value::Object(_) | Value::Array(_))) => {
                    object_matches(nested, Some(v), &here)?
                }
                // A nested pattern over a missing field: only `exists: false` leaves can hold.
                _ => object_matches(nested, None, &here)?,
            },
            Value::Array(matchers) => field_matches(matchers, field, &here)?,
            _ => {
                return Err(err(
                    &here,
                    "a pattern value is an array of matchers or a nested object",
                ))
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One field against its matcher list: any matcher, against the value or any element of it.
fn field_matches(
    matchers: &[Value],
    field: Option<&Value>,
    path: &str,
) -> Result<bool, PatternError> {
    if matchers.is_empty() {
        return Err(err(
            path,
            "an empty matcher list matches nothing; remove the field or add a value",
        ));
    }
    for m in matchers {
        if let Value::Object(o) = m {
            if let Some(Value::Bool(want)) = o.get("exists") {
                let present = match field {
                    None => false,
                    Some(Value::Object(_)) => false, // exists applies to leaves
                    Some(Value::Array(a)) => !a.is_empty(),
                    Some(_) => true,
                };
                if present == *want {
                    return Ok(true);
                }
                continue;
            }
        }
        let Some(value) = field else { continue };
        let leaves: Vec<&Value> = match value {
            Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        for leaf in leaves {
            if matcher(m, leaf, path)? {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn matcher(m: &Value, leaf: &Value, path: &str) -> Result<bool, PatternError> {
    match m {
        Value::Object(o) => {
            let (Some((op, arg)), 1) = (o.iter().next(), o.len()) else {
                return Err(err(path, "a matcher object has exactly one operator"));
            };
            match op.as_str() {
                "prefix" => string_op(arg, leaf, path, |s, p| s.starts_with(p), |s, p| s.to_lowercase().starts_with(&p.to_lowercase())),
                "suffix" => string_op(arg, leaf, path, |s, p| s.ends_with(p), |s, p| s.to_lowercase().ends_with(&p.to_lowercase())),
                "equals-ignore-case" => {
                    let Value::String(want) = arg else {
                        return Err(err(path, "equals-ignore-case takes a string"));
                    };
                    Ok(leaf.as_str().is_some_and(|s| s.to_lowercase() == want.to_lowercase()))
                }
                "wildcard" => {
                    let Value::String(w) = arg else {
                        return Err(err(path, "wildcard takes a string"));
                    };
                    Ok(leaf.as_str().is_some_and(|s| wildcard(w, s)))
                }
                "numeric" => numeric(arg, leaf, path),
                "anything-but" => anything_but(arg, leaf, path),
                "cidr" => cidr(arg, leaf, path),
                other => Err(err(
                    path,
                    format!("unknown operator `{other}`; allowed: prefix, suffix, anything-but, numeric, exists, equals-ignore-case, wildcard, cidr"),
                )),
            }
        }
        Value::Array(_) => Err(err(path, "a matcher cannot be an array")),
        literal => Ok(literal_eq(literal, leaf)),
    }
}

fn literal_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn string_op(
    arg: &Value,
    leaf: &Value,
    path: &str,
    exact: fn(&str, &str) -> bool,
    folded: fn(&str, &str) -> bool,
) -> Result<bool, PatternError> {
    let Some(s) = leaf.as_str() else {
        return Ok(false);
    };
    match arg {
        Value::String(p) => Ok(exact(s, p)),
        Value::Object(o) => match o.get("equals-ignore-case") {
            Some(Value::String(p)) if o.len() == 1 => Ok(folded(s, p)),
            _ => Err(err(
                path,
                "prefix/suffix take a string or {\"equals-ignore-case\": string}",
            )),
        },
        _ => Err(err(path, "prefix/suffix take a string")),
    }
}

/// Whether `leaf` is NOT excluded by the anything-but spec.
fn anything_but(spec: &Value, leaf: &Value, path: &str) -> Result<bool, PatternError> {
    match spec {
        Value::Array(values) => {
            if values.iter().any(|v| v.is_object() || v.is_array()) {
                return Err(err(
                    path,
                    "anything-but takes a value, a list of values, or one operator object",
                ));
            }
            Ok(!values.iter().any(|v| literal_eq(v, leaf)))
        }
        Value::Object(o) => {
            let (Some((op, arg)), 1) = (o.iter().next(), o.len()) else {
                return Err(err(path, "anything-but takes one operator"));
            };
            match op.as_str() {
                "prefix" | "suffix" | "wildcard" | "equals-ignore-case" => {
                    let list: Vec<&Value> = match arg {
                        Value::Array(a) => a.iter().collect(),
                        v => vec![v],
                    };
                    for v in list {
                        let inner = Value::Object(Map::from_iter([(op.clone(), v.clone())]));
                        if leaf.is_string() && matcher(&inner, leaf, path)? {
                            return Ok(false);
                        }
                        if !v.is_string() {
                            return Err(err(path, format!("anything-but {op} takes strings")));
                        }
                    }
                    Ok(true)
                }
                other => Err(err(path, format!("anything-but does not take `{other}`; allowed: prefix, suffix, wildcard, equals-ignore-case"))),
            }
        }
        v => Ok(!literal_eq(v, leaf)),
    }
}

/// `*` matches any run of characters; `\*` is a literal star.
fn wildcard(pattern: &str, s: &str) -> bool {
    let mut parts: Vec<String> = vec![String::new()];
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*') | Some('\\')) => {
                let n = chars.next().unwrap_or('\\');
                if let Some(last) = parts.last_mut() {
                    last.push(n);
                }
            }
            '*' => parts.push(String::new()),
            c => {
                if let Some(last) = parts.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    if parts.len() == 1 {
        return s == parts[0];
    }
    let (first, rest) = parts.split_first().expect("at least one part");
    let Some(mut remaining) = s.strip_prefix(first.as_str()) else {
        return false;
    };
    let (last, middle) = rest.split_last().expect("a star makes two parts");
    for part in middle {
        match remaining.find(part.as_str()) {
            Some(i) => remaining = &remaining[i + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last.as_str())
}

fn numeric(arg: &Value, leaf: &Value, path: &str) -> Result<bool, PatternError> {
    let Value::Array(terms) = arg else {
        return Err(err(path, "numeric takes [op, number, ...]"));
    };
    if terms.is_empty() || terms.len() % 2 != 0 || terms.len() > 4 {
        return Err(err(path, "numeric takes one or two [op, number] pairs"));
    }
    let value = leaf.as_f64();
    let mut ok = true;
    for pair in terms.chunks(2) {
        let (Some(op), Some(n)) = (pair[0].as_str(), pair[1].as_f64()) else {
            return Err(err(
                path,
                "numeric takes [op, number, ...] with op one of =, <, <=, >, >=",
            ));
        };
        let holds = match (op, value) {
            (_, None) => false,
            ("=", Some(v)) => v == n,
            ("<", Some(v)) => v < n,
            ("<=", Some(v)) => v <= n,
            (">", Some(v)) => v > n,
            (">=", Some(v)) => v >= n,
            (other, _) => {
                return Err(err(
                    path,
                    format!("numeric operator `{other}`; allowed: =, <, <=, >, >="),
                ))
            }
        };
        ok &= holds;
    }
    Ok(ok)
}

fn cidr(arg: &Value, leaf: &Value, path: &str) -> Result<bool, PatternError> {
    let Some(spec) = arg.as_str() else {
        return Err(err(path, "cidr takes a string like 10.0.0.0/24"));
    };
    let parse = |s: &str| -> Option<u32> {
        let octets: Vec<u8> = s
            .split('.')
            .map(|o| o.parse().ok())
            .collect::<Option<_>>()?;
        (octets.len() == 4)
            .then(|| u32::from_be_bytes([octets[0], octets[1], octets[2], octets[3]]))
    };
    let (net, bits) = spec
        .split_once('/')
        .and_then(|(n, b)| Some((parse(n)?, b.parse::<u32>().ok().filter(|b| *b <= 32)?)))
        .ok_or_else(|| err(path, format!("`{spec}` is not an IPv4 CIDR block")))?;
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    Ok(leaf
        .as_str()
        .and_then(parse)
        .is_some_and(|ip| ip & mask == net & mask))
}

#[cfg(test)]
#[path = "pattern_tests.rs"]
mod tests;
