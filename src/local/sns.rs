//! Amazon SNS as the engine delivers it: subscription filter policies (on message attributes
//! or on the message body), and what each endpoint receives (the notification envelope, or the
//! raw message; Lambda's SNS event). Pure.
//!
//! Filter policies use the same operators as EventBridge patterns, so they are matched with
//! [`super::pattern`]: a message's attributes become a JSON object first (`String` as a
//! string, `Number` as a number, `String.Array` as the array it holds).
//!
//! ```
//! use ordersctl::local::sns::{accepts, Attribute};
//! use serde_json::json;
//! let attrs = [("event".to_string(), Attribute::string("order_placed"))].into();
//! assert!(accepts(&json!({"event": ["order_placed"]}), false, &attrs, "{}").unwrap());
//! assert!(!accepts(&json!({"event": ["order_cancelled"]}), false, &attrs, "{}").unwrap());
//! ```

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::pattern::{self, PatternError};

/// One message attribute: its SNS data type and its value as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub data_type: String,
    pub value: String,
}

impl Attribute {
    /// A `String` attribute.
    pub fn string(v: &str) -> Attribute {
        Attribute {
            data_type: "String".into(),
            value: v.into(),
        }
    }
}

/// Whether a subscription with this filter policy takes the message. `body_scope` is
/// `FilterPolicyScope: MessageBody` (the message must then be a JSON object).
pub fn accepts(
    policy: &Value,
    body_scope: bool,
    attributes: &BTreeMap<String, Attribute>,
    message: &str,
) -> Result<bool, PatternError> {
    if body_scope {
        return match serde_json::from_str::<Value>(message) {
            Ok(v @ Value::Object(_)) => pattern::matches(policy, &v),
            _ => Ok(false),
        };
    }
    let mut view = Map::new();
    for (k, a) in attributes {
        let v = match a.data_type.split('.').next().unwrap_or_default() {
            "Number" => a
                .value
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number),
            "String" if a.data_type == "String.Array" => serde_json::from_str::<Value>(&a.value)
                .ok()
                .filter(Value::is_array),
            "String" => Some(Value::String(a.value.clone())),
            // Binary attributes take no part in filtering.
            _ => None,
        };
        if let Some(v) = v {
            view.insert(k.clone(), v);
        }
    }
    pattern::matches(policy, &Value::Object(view))
}

fn attributes_json(attributes: &BTreeMap<String, Attribute>) -> Value {
    Value::Object(
        attributes
            .iter()
            .map(|(k, a)| (k.clone(), json!({"Type": a.data_type, "Value": a.value})))
            .collect(),
    )
}

/// The notification an SQS endpoint receives without raw delivery (and the `Sns` part of a
/// Lambda event).
pub fn envelope(
    topic_arn: &str,
    message_id: &str,
    subject: Option<&str>,
    message: &str,
    timestamp: &str,
    attributes: &BTreeMap<String, Attribute>,
) -> Value {
    let mut v = json!({
        "Type": "Notification", "MessageId": message_id, "TopicArn": topic_arn, "Message": message,
        "Timestamp": timestamp, "SignatureVersion": "1", "Signature": "local", "SigningCertURL": "local",
        "UnsubscribeURL": "local", "MessageAttributes": attributes_json(attributes)
    });
    if let Some(s) = subject {
        v["Subject"] = json!(s);
    }
    v
}

/// The event a Lambda endpoint is invoked with.
pub fn lambda_event(subscription_arn: &str, notification: &Value) -> Value {
    let mut sns = notification.clone();
    // Lambda's event spells these two with a lower-case "rl".
    if let Some(m) = sns.as_object_mut() {
        for (from, to) in [
            ("SigningCertURL", "SigningCertUrl"),
            ("UnsubscribeURL", "UnsubscribeUrl"),
        ] {
            if let Some(v) = m.remove(from) {
                m.insert(to.into(), v);
            }
        }
    }
    json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription_arn, "Sns": sns}]})
}

/// SQS message attributes for raw delivery (SNS carries String and Number ones).
pub fn sqs_attributes(attributes: &BTreeMap<String, Attribute>) -> Value {
    Value::Object(
        attributes
            .iter()
            .filter(|(_, a)| !a.data_type.starts_with("Binary"))
            .map(|(k, a)| (k.clone(), json!({"DataType": if a.data_type == "String.Array" { "String" } else { a.data_type.as_str() }, "StringValue": a.value})))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    //! After the SNS developer guide's "Amazon SNS example filter policies": its transaction
    //! message, with the attributes in MessageAttributes and again in the body.
    use super::*;

    fn attrs() -> BTreeMap<String, Attribute> {
        [
            (
                "customer_interests",
                "String.Array",
                "[\"soccer\", \"rugby\", \"hockey\"]",
            ),
            ("store", "String", "example_corp"),
            ("event", "String", "order_placed"),
            ("price_usd", "Number", "210.75"),
        ]
        .iter()
        .map(|(k, t, v)| {
            (
                k.to_string(),
                Attribute {
                    data_type: t.to_string(),
                    value: v.to_string(),
                },
            )
        })
        .collect()
    }

    const BODY: &str = r#"{"customer_interests": ["soccer", "rugby", "hockey"], "store": "example_corp", "event": "order_placed", "price_usd": 210.75}"#;

    #[test]
    fn the_guides_accepting_policy_matches_attributes_and_body() {
        let policy = json!({
            "store": ["example_corp"], "event": [{"anything-but": "order_cancelled"}],
            "customer_interests": ["rugby", "football", "baseball"], "price_usd": [{"numeric": [">=", 100]}]
        });
        assert!(accepts(&policy, false, &attrs(), "not json").unwrap());
        assert!(accepts(&policy, true, &BTreeMap::new(), BODY).unwrap());
    }

    #[test]
    fn rejections() {
        let a = attrs();
        assert!(!accepts(&json!({"event": ["order_cancelled"]}), false, &a, "").unwrap());
        assert!(!accepts(&json!({"customer_interests": ["football"]}), false, &a, "").unwrap());
        assert!(!accepts(
            &json!({"price_usd": [{"numeric": ["<", 100]}]}),
            false,
            &a,
            ""
        )
        .unwrap());
        // A string attribute does not match a numeric condition, nor a missing one anything.
        assert!(!accepts(&json!({"store": [{"numeric": [">", 0]}]}), false, &a, "").unwrap());
        assert!(!accepts(&json!({"color": ["red"]}), false, &a, "").unwrap());
        assert!(accepts(&json!({"color": [{"exists": false}]}), false, &a, "").unwrap());
        // Body scope needs a JSON object body.
        assert!(!accepts(&json!({"store": ["example_corp"]}), true, &a, "plain text").unwrap());
        assert!(accepts(&json!({"store": [{"prefix": "example"}]}), true, &a, BODY).unwrap());
    }

    #[test]
    fn envelopes_for_sqs_and_lambda() {
        let a = attrs();
        let n = envelope(
            "arn:aws:sns:us-east-1:123456789012:T",
            "m-1",
            Some("s"),
            "hello",
            "2026-12-01T00:00:00.000Z",
            &a,
        );
        assert_eq!(n["Type"], "Notification");
        assert_eq!(
            n["MessageAttributes"]["price_usd"],
            json!({"Type": "Number", "Value": "210.75"})
        );
        let e = lambda_event("arn:sub", &n);
        assert_eq!(e["Records"][0]["Sns"]["Message"], "hello");
        assert!(e["Records"][0]["Sns"].get("UnsubscribeUrl").is_some());
        assert_eq!(
            sqs_attributes(&a)["customer_interests"]["DataType"],
            "String"
        );
    }
}
