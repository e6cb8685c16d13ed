//! The three steps of the EtlWorkflow state machine, chosen by `STEP`:
//!
//! - `validate`: checks a batch `{batchId, records: [{orderId, amount, currency, date}]}` and
//!   fails with `ValidationError` listing every bad record;
//! - `transform`: normalizes records (upper-case currency, integer cents, `YYYY-MM-DD`
//!   partition) and adds per-currency totals;
//! - `load`: plans the load (one partition per day) and returns a manifest.
//!
//! Each step's output is the next step's input (the state machine passes the whole result).

use lambda_runtime::Diagnostic;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Validate,
    Transform,
    Load,
}

impl Step {
    pub fn parse(s: &str) -> Result<Step, EtlError> {
        match s {
            "validate" => Ok(Step::Validate),
            "transform" => Ok(Step::Transform),
            "load" => Ok(Step::Load),
            other => Err(EtlError::Config(format!(
                "STEP must be validate|transform|load, got {other:?}"
            ))),
        }
    }

    pub fn from_env() -> Result<Step, EtlError> {
        Step::parse(&std::env::var("STEP").map_err(|_| EtlError::Config("STEP is not set".into()))?)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EtlError {
    #[error("{0}")]
    Config(String),
    #[error("validation failed: {}", .0.join("; "))]
    Validation(Vec<String>),
    #[error("malformed step input: {0}")]
    Malformed(String),
}

impl From<EtlError> for Diagnostic {
    fn from(e: EtlError) -> Diagnostic {
        let error_type = match &e {
            EtlError::Config(_) => "ConfigurationError",
            EtlError::Validation(_) => "ValidationError",
            EtlError::Malformed(_) => "MalformedInput",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

/// A record after `transform`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanRecord {
    pub order_id: String,
    pub amount_cents: i64,
    pub currency: String,
    pub partition: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transformed {
    pub batch_id: String,
    pub records: Vec<CleanRecord>,
    pub totals_cents: BTreeMap<String, i64>,
}

pub fn handle(step: Step, input: Value) -> Result<Value, EtlError> {
    let out = match step {
        Step::Validate => validate(input)?,
        Step::Transform => serde_json::to_value(transform(&input)?)
            .map_err(|e| EtlError::Malformed(e.to_string()))?,
        Step::Load => load(&input)?,
    };
    tracing::info!(step = ?step, "etl step done");
    Ok(out)
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// Checks the batch; returns it unchanged plus `validated: true` and the record count.
pub fn validate(mut input: Value) -> Result<Value, EtlError> {
    let mut problems = Vec::new();
    if input
        .get("batchId")
        .and_then(Value::as_str)
        .is_none_or(|s| s.is_empty())
    {
        problems.push("batchId must be a non-empty string".to_owned());
    }
    let count =
        match input.get("records").and_then(Value::as_array) {
            None => {
                problems.push("records must be an array".to_owned());
                0
            }
            Some(records) if records.is_empty() => {
                problems.push("records is empty".to_owned());
                0
            }
            Some(records) => {
                for (i, r) in records.iter().enumerate() {
                    if r.get("orderId")
                        .and_then(Value::as_str)
                        .is_none_or(|s| s.is_empty())
                    {
                        problems.push(format!("records[{i}].orderId is missing"));
                    }
                    match r.get("amount").and_then(Value::as_f64) {
                        Some(a) if a >= 0.0 && a.is_finite() => {}
                        _ => problems.push(format!("records[{i}].amount must be a number >= 0")),
                    }
                    if !r.get("currency").and_then(Value::as_str).is_some_and(|c| {
                        c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic())
                    }) {
                        problems.push(format!("records[{i}].currency must be a 3-letter code"));
                    }
                    if !r.get("date").and_then(Value::as_str).is_some_and(is_date) {
                        problems.push(format!("records[{i}].date must start with YYYY-MM-DD"));
                    }
                }
                records.len()
            }
        };
    if !problems.is_empty() {
        return Err(EtlError::Validation(problems));
    }
    input["validated"] = json!(true);
    input["recordCount"] = json!(count);
    Ok(input)
}

/// Normalizes validated records.
pub fn transform(input: &Value) -> Result<Transformed, EtlError> {
    if input.get("validated") != Some(&Value::Bool(true)) {
        return Err(EtlError::Malformed(
            "transform expects the output of validate".into(),
        ));
    }
    let batch_id = input["batchId"].as_str().unwrap_or_default().to_owned();
    let mut records = Vec::new();
    let mut totals_cents = BTreeMap::new();
    for r in input["records"].as_array().into_iter().flatten() {
        let rec = CleanRecord {
            order_id: r["orderId"].as_str().unwrap_or_default().trim().to_owned(),
            amount_cents: (r["amount"].as_f64().unwrap_or(0.0) * 100.0).round() as i64,
            currency: r["currency"]
                .as_str()
                .unwrap_or_default()
                .to_ascii_uppercase(),
            partition: r["date"].as_str().unwrap_or_default()[..10].to_owned(),
        };
        *totals_cents.entry(rec.currency.clone()).or_insert(0) += rec.amount_cents;
        records.push(rec);
    }
    Ok(Transformed {
        batch_id,
        records,
        totals_cents,
    })
}

/// Plans the load: records grouped by day partition.
pub fn load(input: &Value) -> Result<Value, EtlError> {
    let t: Transformed = serde_json::from_value(input.clone())
        .map_err(|e| EtlError::Malformed(format!("load expects the output of transform: {e}")))?;
    let mut partitions: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &t.records {
        *partitions.entry(r.partition.as_str()).or_insert(0) += 1;
    }
    Ok(json!({
        "batchId": t.batch_id,
        "status": "LOADED",
        "loaded": t.records.len(),
        "partitions": partitions,
        "totalsCents": t.totals_cents,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        serde_json::from_str(include_str!("../events/batch.json")).unwrap()
    }

    #[test]
    fn the_three_steps_chain() {
        let v = handle(Step::Validate, sample()).unwrap();
        assert_eq!(v["recordCount"], 3);
        let t = handle(Step::Transform, v).unwrap();
        assert_eq!(t["records"][0]["currency"], "USD");
        assert_eq!(t["records"][0]["amountCents"], 1999);
        assert_eq!(t["totalsCents"]["USD"], 1999 + 500);
        assert_eq!(t["totalsCents"]["EUR"], 1250);
        let l = handle(Step::Load, t).unwrap();
        assert_eq!(l["status"], "LOADED");
        assert_eq!(l["loaded"], 3);
        assert_eq!(l["partitions"]["2025-03-01"], 2);
        assert_eq!(l["partitions"]["2025-03-02"], 1);
    }

    #[test]
    fn validate_rejects_bad_records_listing_each() {
        let bad = json!({"batchId": "b", "records": [{"orderId": "", "amount": -1, "currency": "usdollar", "date": "yesterday"}]});
        let err = handle(Step::Validate, bad).unwrap_err();
        let EtlError::Validation(problems) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert_eq!(Diagnostic::from(err).error_type, "ValidationError");
        assert!(validate(json!({"batchId": "b", "records": []})).is_err());
        assert!(validate(json!("not an object")).is_err());
    }

    #[test]
    fn later_steps_refuse_unvalidated_input() {
        assert!(matches!(
            handle(Step::Transform, sample()),
            Err(EtlError::Malformed(_))
        ));
        assert!(matches!(
            handle(Step::Load, sample()),
            Err(EtlError::Malformed(_))
        ));
        assert!(Step::parse("extract").is_err());
    }
}
