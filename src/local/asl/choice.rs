//! Choice rules: comparisons on a variable, and `And`/`Or`/`Not`.

use serde_json::Value;

use super::path::{present, read};
use super::AslError;

const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringLessThan",
    "StringGreaterThan",
    "StringLessThanEquals",
    "StringGreaterThanEquals",
    "StringMatches",
    "NumericEquals",
    "NumericLessThan",
    "NumericGreaterThan",
    "NumericLessThanEquals",
    "NumericGreaterThanEquals",
    "BooleanEquals",
    "TimestampEquals",
    "TimestampLessThan",
    "TimestampGreaterThan",
    "TimestampLessThanEquals",
    "TimestampGreaterThanEquals",
    "IsNull",
    "IsPresent",
    "IsNumeric",
    "IsString",
    "IsBoolean",
    "IsTimestamp",
];

/// The comparison operators a rule may use (each also in its `...Path` form).
pub fn operators() -> &'static [&'static str] {
    OPERATORS
}

/// Whether the rule holds for `input`.
pub fn holds(rule: &Value, input: &Value, context: &Value, state: &str) -> Result<bool, AslError> {
    let bad = |m: String| AslError::Definition {
        state: state.to_string(),
        message: m,
    };
    if let Some(Value::Array(all)) = rule.get("And") {
        for r in all {
            if !holds(r, input, context, state)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if let Some(Value::Array(any)) = rule.get("Or") {
        for r in any {
            if holds(r, input, context, state)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if let Some(r) = rule.get("Not") {
        return Ok(!holds(r, input, context, state)?);
    }
    let var = rule
        .get("Variable")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("a choice rule needs Variable, And, Or or Not".into()))?;
    let Some((op, operand)) = rule.as_object().and_then(|m| {
        m.iter()
            .find(|(k, _)| k.as_str() != "Variable" && k.as_str() != "Next")
    }) else {
        return Err(bad(format!("the rule on {var} has no comparison")));
    };
    let (base, operand) = match op.strip_suffix("Path") {
        Some(b) if OPERATORS.contains(&b) => {
            let p = operand
                .as_str()
                .ok_or_else(|| bad(format!("{op} takes a path")))?;
            (b, read(p, input, context, state)?)
        }
        _ if OPERATORS.contains(&op.as_str()) => (op.as_str(), operand.clone()),
        _ => return Err(bad(format!("unknown choice operator `{op}`"))),
    };
    if base == "IsPresent" {
        return Ok(present(var, input, context, state)? == operand.as_bool().unwrap_or(true));
    }
    // A missing variable fails every other comparison with a runtime error, as in AWS.
    let v = read(var, input, context, state)?;
    let is_ts = |v: &Value| {
        v.as_str()
            .is_some_and(|s| s.len() >= 20 && s.as_bytes()[4] == b'-' && s.contains('T'))
    };
    Ok(match base {
        "IsNull" => v.is_null() == operand.as_bool().unwrap_or(true),
        "IsNumeric" => v.is_number() == operand.as_bool().unwrap_or(true),
        "IsString" => v.is_string() == operand.as_bool().unwrap_or(true),
        "IsBoolean" => v.is_boolean() == operand.as_bool().unwrap_or(true),
        "IsTimestamp" => is_ts(&v) == operand.as_bool().unwrap_or(true),
        "BooleanEquals" => v.is_boolean() && v == operand,
        "StringMatches" => match (v.as_str(), operand.as_str()) {
            (Some(s), Some(p)) => crate::local::iam::glob(p, s),
            _ => false,
        },
        b if b.starts_with("String") || b.starts_with("Timestamp") => {
            match (v.as_str(), operand.as_str()) {
                // RFC 3339 timestamps in UTC compare as strings.
                (Some(a), Some(b2)) => compare(b, a.cmp(b2)),
                _ => false,
            }
        }
        b => match (v.as_f64(), operand.as_f64()) {
            (Some(a), Some(b2)) => a.partial_cmp(&b2).is_some_and(|o| compare(b, o)),
            _ => false,
        },
    })
}

fn compare(op: &str, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    if op.ends_with("LessThanEquals") {
        o != Greater
    } else if op.ends_with("GreaterThanEquals") {
        o != Less
    } else if op.ends_with("LessThan") {
        o == Less
    } else if op.ends_with("GreaterThan") {
        o == Greater
    } else {
        o == Equal
    }
}
