//! JSON <-> DynamoDB attribute values, and time helpers the handlers share.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Number, Value};

/// A JSON value as an attribute value (numbers as `N`, null as `NULL`, arrays as `L`,
/// objects as `M`).
pub fn to_attr(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(a) => AttributeValue::L(a.iter().map(to_attr).collect()),
        Value::Object(o) => AttributeValue::M(to_item(o)),
    }
}

/// A JSON object as an item.
pub fn to_item(object: &Map<String, Value>) -> HashMap<String, AttributeValue> {
    object
        .iter()
        .map(|(k, v)| (k.clone(), to_attr(v)))
        .collect()
}

/// An attribute value as JSON (`N` parsed as integer or float; sets as arrays; binary as null).
pub fn from_attr(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => parse_number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::L(l) => Value::Array(l.iter().map(from_attr).collect()),
        AttributeValue::M(m) => Value::Object(from_item(m)),
        AttributeValue::Ss(s) => Value::Array(s.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(n) => Value::Array(n.iter().map(|n| parse_number(n)).collect()),
        _ => Value::Null,
    }
}

/// An item as a JSON object.
pub fn from_item(item: &HashMap<String, AttributeValue>) -> Map<String, Value> {
    item.iter()
        .map(|(k, v)| (k.clone(), from_attr(v)))
        .collect()
}

fn parse_number(n: &str) -> Value {
    if let Ok(i) = n.parse::<i64>() {
        return Value::Number(i.into());
    }
    n.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// Seconds since the Unix epoch.
pub fn epoch_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// `time` as RFC 3339 UTC, always with milliseconds (`2024-05-01T12:00:00.123Z`), so that
/// timestamps compare as strings: Step Functions' `$$.State.EnteredTime` has them too, and
/// `...:00Z` would sort after `...:00.123Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let whole = DateTime::from_secs(since.as_secs() as i64)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default();
    format!(
        "{}.{:03}Z",
        whole.trim_end_matches('Z'),
        since.subsec_millis()
    )
}

/// DynamoDB JSON (`{"S": ..}`, `{"N": ..}`, `{"BOOL": ..}`, `{"NULL": true}`, `{"L": [..]}`,
/// `{"M": {..}}`, as in stream records and pipe templates) as plain JSON; an integral `N` is an
/// integer. A JSON array is read element by element (a pipe template inserts a list's `L`
/// as such an array). Anything else is returned as it is, so plain JSON passes through.
///
/// ```no_run
/// use serde_json::json;
/// let v = common::dynamo::untyped(&json!({"L": [{"M": {"sku": {"S": "A"}, "qty": {"N": "2"}}}]}));
/// assert_eq!(v, json!([{"sku": "A", "qty": 2}]));
/// let l = common::dynamo::untyped(&json!([{"M": {"sku": {"S": "A"}}}, {"sku": "B"}]));
/// assert_eq!(l, json!([{"sku": "A"}, {"sku": "B"}]));
/// ```
pub fn untyped(v: &Value) -> Value {
    if let Value::Array(items) = v {
        return Value::Array(items.iter().map(untyped).collect());
    }
    let Some((k, inner)) = v
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.iter().next())
    else {
        return v.clone();
    };
    match k.as_str() {
        "S" | "BOOL" => inner.clone(),
        "N" => inner
            .as_str()
            .and_then(|n| {
                n.parse::<i64>()
                    .map(Value::from)
                    .ok()
                    .or_else(|| n.parse::<f64>().ok().map(Value::from))
            })
            .unwrap_or(Value::Null),
        "NULL" => Value::Null,
        "L" => Value::Array(
            inner
                .as_array()
                .map(|a| a.iter().map(untyped).collect())
                .unwrap_or_default(),
        ),
        "M" => Value::Object(
            inner
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), untyped(v))).collect())
                .unwrap_or_default(),
        ),
        _ => v.clone(),
    }
}

/// Now as RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

/// Milliseconds since the epoch (e.g. SQS `SentTimestamp`) as RFC 3339 UTC.
pub fn millis_rfc3339(millis: u64) -> String {
    rfc3339(UNIX_EPOCH + Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let v = serde_json::json!({"a": "x", "n": 3, "f": 2.5, "l": [true, null], "m": {"k": "v"}});
        assert_eq!(
            Value::Object(from_item(&to_item(v.as_object().unwrap()))),
            v
        );
    }

    #[test]
    fn times() {
        assert_eq!(
            millis_rfc3339(1_700_000_000_000),
            "2023-11-14T22:13:20.000Z"
        );
        assert_eq!(
            millis_rfc3339(1_700_000_000_042),
            "2023-11-14T22:13:20.042Z"
        );
        assert!(now_rfc3339().ends_with('Z'));
    }

    #[test]
    fn dynamodb_json_reads_as_plain_json() {
        use serde_json::json;
        let stream = json!({"L": [{"M": {"sku": {"S": "A"}, "qty": {"N": "2"}, "price": {"N": "9.5"},
            "gift": {"BOOL": true}, "note": {"NULL": true}}}]});
        assert_eq!(
            untyped(&stream),
            json!([{"sku": "A", "qty": 2, "price": 9.5, "gift": true, "note": null}])
        );
        // A template's unquoted `<..L>` inserts the list's elements as a JSON array.
        let inserted = json!([{"M": {"sku": {"S": "A"}}}, {"sku": "B"}]);
        assert_eq!(untyped(&inserted), json!([{"sku": "A"}, {"sku": "B"}]));
        // Plain JSON passes through.
        assert_eq!(
            untyped(&json!({"sku": "C", "qty": 1})),
            json!({"sku": "C", "qty": 1})
        );
    }
}

/// Create an on-demand table with string keys, on a local endpoint (moto) or for a tool:
/// the deployed tables come from the blueprints, never from handlers.
///
/// ```no_run
/// # async fn f(client: aws_sdk_dynamodb::Client) {
/// common::dynamo::create_table(&client, "Orders", "pk", Some("sk")).await.unwrap();
/// # }
/// ```
pub async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    partition_key: &str,
    sort_key: Option<&str>,
) -> Result<(), aws_sdk_dynamodb::Error> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let mut req = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(partition_key).expect("name and type are set"))
        .key_schema(key(partition_key, KeyType::Hash).expect("name and type are set"));
    if let Some(sk) = sort_key {
        req = req
            .attribute_definitions(attr(sk).expect("name and type are set"))
            .key_schema(key(sk, KeyType::Range).expect("name and type are set"));
    }
    req.send().await?;
    Ok(())
}
