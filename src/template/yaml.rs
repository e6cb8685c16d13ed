//! A small YAML emitter for templates.
//!
//! CloudFormation and cfn-lint read YAML 1.1, where plain `OFF`, `yes` or `on` are booleans
//! and `2010-09-09` may be a date; general-purpose emitters follow YAML 1.2 and leave those
//! unquoted. Here any string that is not plainly safe in both is quoted, so the YAML means
//! exactly what the JSON rendering means.

use serde_json::Value;

/// YAML block rendering of a JSON value (a template's root object).
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_block(v, 0, &mut out),
        Value::Array(a) if !a.is_empty() => write_block(v, 0, &mut out),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

fn write_block(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                pad(indent, out);
                out.push_str(&string(k));
                out.push(':');
                if is_block(val) {
                    out.push('\n');
                    write_block(val, indent + 2, out);
                } else {
                    out.push(' ');
                    out.push_str(&scalar(val));
                    out.push('\n');
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                pad(indent, out);
                out.push('-');
                if is_block(item) {
                    // The first line of the nested block goes on the dash's line.
                    let mut nested = String::new();
                    write_block(item, indent + 2, &mut nested);
                    out.push(' ');
                    out.push_str(&nested[indent + 2..]);
                } else {
                    out.push(' ');
                    out.push_str(&scalar(item));
                    out.push('\n');
                }
            }
        }
        other => {
            pad(indent, out);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn pad(n: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(_) => "[]".to_string(),
        Value::Object(_) => "{}".to_string(),
    }
}

/// Words YAML 1.1 or 1.2 read as something other than a string.
const RESERVED: [&str; 12] = [
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "nan", "inf",
];

fn plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let body_ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_./:-${}*@+".contains(c));
    let first_ok = first.is_ascii_alphabetic() || first == '_' || first == '/' || first == '$';
    body_ok
        && first_ok
        && !s.ends_with(':')
        && !s.contains(": ")
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str())
}

fn string(s: &str) -> String {
    if plain_safe(s) {
        s.to_string()
    } else if s.chars().any(|c| c.is_control()) {
        // A JSON string literal is a valid YAML double-quoted scalar.
        serde_json::to_string(s).expect("strings serialize")
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_1_1_lookalikes_are_quoted() {
        for s in [
            "OFF",
            "on",
            "Yes",
            "n",
            "2010-09-09",
            "123",
            "0.5",
            "",
            " lead",
            "a: b",
            "#x",
            "- x",
            "null",
            ".inf",
            "*",
            "POST /orders",
        ] {
            let y = string(s);
            assert!(y.starts_with('\'') || y.starts_with('"'), "{s:?} -> {y}");
        }
        for s in [
            "AWS::SQS::Queue",
            "Fn::GetAtt",
            "${AWS::Region}",
            "arn:aws:states:::lambda:invoke",
            "/aws/lambda/x",
            "OrderProcessor",
        ] {
            assert_eq!(string(s), s);
        }
        assert_eq!(string("it's"), "'it''s'");
        assert_eq!(string("a\nb"), "\"a\\nb\"");
    }

    #[test]
    fn nested_blocks_round_trip() {
        let v = json!({
            "A": {"B": [1, "two", {"C": "OFF", "D": [true, null]}, [3, 4]], "E": {}},
            "F": [],
            "G": "x"
        });
        let y = to_yaml(&v);
        let back: Value = serde_yaml::from_str(&y).unwrap();
        assert_eq!(back, v, "{y}");
        assert!(y.contains("C: 'OFF'"), "{y}");
    }
}
