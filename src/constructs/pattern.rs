//! Event patterns: EventBridge rule patterns and event-source-mapping filters, as typed values.

use serde_json::{json, Map, Value};

/// One content filter on a field.
///
/// ```
/// use ordersctl::constructs::Match;
/// assert_eq!(Match::prefix("ord-").to_json(), serde_json::json!({"prefix": "ord-"}));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Match {
    /// Exactly this string.
    Equals(String),
    /// Exactly this number.
    Number(f64),
    /// Starts with.
    Prefix(String),
    /// Ends with.
    Suffix(String),
    /// Any value except these strings.
    AnythingBut(Vec<String>),
    /// Any value not starting with this prefix.
    AnythingButPrefix(String),
    /// Numeric comparisons, e.g. `[(">", 0.0), ("<=", 100.0)]`.
    Numeric(Vec<(NumericOp, f64)>),
    /// The field is present (`true`) or absent (`false`).
    Exists(bool),
}

/// A numeric comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumericOp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl NumericOp {
    fn as_str(self) -> &'static str {
        match self {
            NumericOp::Eq => "=",
            NumericOp::Lt => "<",
            NumericOp::Le => "<=",
            NumericOp::Gt => ">",
            NumericOp::Ge => ">=",
        }
    }
}

impl Match {
    /// `{"prefix": p}`.
    pub fn prefix(p: &str) -> Match {
        Match::Prefix(p.to_string())
    }
    /// `{"anything-but": [values]}`.
    pub fn anything_but<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Match {
        Match::AnythingBut(values.into_iter().map(Into::into).collect())
    }
    /// The pattern JSON of this filter.
    pub fn to_json(&self) -> Value {
        match self {
            Match::Equals(s) => json!(s),
            Match::Number(n) => json!(n),
            Match::Prefix(p) => json!({ "prefix": p }),
            Match::Suffix(s) => json!({ "suffix": s }),
            Match::AnythingBut(v) => json!({ "anything-but": v }),
            Match::AnythingButPrefix(p) => json!({ "anything-but": { "prefix": p } }),
            Match::Numeric(ops) => {
                let mut flat = Vec::new();
                for (op, n) in ops {
                    flat.push(json!(op.as_str()));
                    flat.push(json!(n));
                }
                json!({ "numeric": flat })
            }
            Match::Exists(b) => json!({ "exists": b }),
        }
    }
}

impl From<&str> for Match {
    fn from(s: &str) -> Self {
        Match::Equals(s.to_string())
    }
}

/// An event pattern. Fields are given by dotted path (`detail.order.total`); each field
/// matches when any of its filters does.
///
/// ```
/// use ordersctl::constructs::{EventPattern, Match, NumericOp};
/// let p = EventPattern::new()
///     .source(["com.app.events"])
///     .detail_type(["OrderCreated", "PaymentProcessed"])
///     .field("detail.total", [Match::Numeric(vec![(NumericOp::Gt, 0.0)])]);
/// assert_eq!(p.to_json_string(),
///   r#"{"detail":{"total":[{"numeric":[">",0.0]}]},"detail-type":["OrderCreated","PaymentProcessed"],"source":["com.app.events"]}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventPattern {
    root: Map<String, Value>,
}

impl EventPattern {
    /// An empty pattern.
    pub fn new() -> Self {
        EventPattern::default()
    }

    /// Match the `source` field.
    pub fn source<S: AsRef<str>>(self, sources: impl IntoIterator<Item = S>) -> Self {
        let m: Vec<Match> = sources
            .into_iter()
            .map(|s| Match::from(s.as_ref()))
            .collect();
        self.field("source", m)
    }

    /// Match the `detail-type` field.
    pub fn detail_type<S: AsRef<str>>(self, types: impl IntoIterator<Item = S>) -> Self {
        let m: Vec<Match> = types.into_iter().map(|s| Match::from(s.as_ref())).collect();
        self.field("detail-type", m)
    }

    /// Match a field by dotted path with any of these filters.
    pub fn field(mut self, path: &str, matches: impl IntoIterator<Item = Match>) -> Self {
        let parts: Vec<&str> = path.split('.').collect();
        let values: Vec<Value> = matches.into_iter().map(|m| m.to_json()).collect();
        let mut map = &mut self.root;
        for part in &parts[..parts.len() - 1] {
            let entry = map
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            map = entry.as_object_mut().expect("made an object above");
        }
        map.insert(parts[parts.len() - 1].to_string(), Value::Array(values));
        self
    }

    /// Whether nothing is matched on.
    pub fn is_empty(&self) -> bool {
        self.root.is_empty()
    }

    /// The pattern as JSON with sorted keys.
    pub fn to_json(&self) -> Value {
        sort(&Value::Object(self.root.clone()))
    }

    /// The compact JSON string event source filters want.
    pub fn to_json_string(&self) -> String {
        self.to_json().to_string()
    }
}

fn sort(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sort(&m[k]))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
        other => other.clone(),
    }
}
