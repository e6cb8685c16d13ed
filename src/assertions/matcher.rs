//! Matchers, as `aws-cdk-lib/assertions`' `Match`: a literal object matches any object that
//! has at least its keys (deeply); a literal array matches an array of the same length,
//! element by element; `Match::exact`, `array_with`, `any_value`, `absent`,
//! `string_like_regexp` and `Capture` say otherwise. A matcher can sit inside a `json!`
//! literal: it serializes to a tagged value that matching recognizes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use serde_json::{json, Map, Value};

/// The key a matcher is tagged with inside a JSON literal.
const TAG: &str = "$ordersctl.match";

/// A pattern for a value of a template.
///
/// ```
/// use ordersctl::assertions::Match;
/// use serde_json::json;
/// let m: Match = json!({"Statement": Match::array_with(vec![json!({"Effect": "Allow"}).into()])}).into();
/// assert!(m.matches(&json!({"Statement": [{"Effect": "Deny"}, {"Effect": "Allow", "Action": "s3:GetObject"}]})));
/// ```
#[derive(Debug, Clone)]
pub enum Match {
    /// Objects deeply partial, arrays element by element, scalars equal.
    Like(Value),
    /// Equal, every key of every object included.
    Exact(Value),
    /// An array holding these, in this order, among others.
    ArrayWith(Vec<Match>),
    /// Present and not null.
    AnyValue,
    /// The key is not there (inside an object pattern).
    Absent,
    /// A string matching the regular expression.
    StringLikeRegexp(String),
    /// Anything (present); the value is recorded in the capture on a match.
    Capture(Capture),
}

impl Match {
    /// A deep partial match: the target has at least the pattern's keys.
    pub fn object_like(pattern: impl Into<Match>) -> Match {
        pattern.into()
    }
    /// Equal, including every key.
    pub fn exact(value: Value) -> Match {
        Match::Exact(value)
    }
    /// The target array holds these, in order, among other elements.
    pub fn array_with(items: Vec<Match>) -> Match {
        Match::ArrayWith(items)
    }
    /// Any value but null.
    pub fn any_value() -> Match {
        Match::AnyValue
    }
    /// The key is absent.
    pub fn absent() -> Match {
        Match::Absent
    }
    /// A string matching `pattern` (regex-lite syntax).
    pub fn string_like_regexp(pattern: &str) -> Match {
        Match::StringLikeRegexp(pattern.to_string())
    }

    /// Whether `actual` matches.
    pub fn matches(&self, actual: &Value) -> bool {
        self.mismatches(actual, "").is_empty()
    }

    /// At the top of an assertion a literal is a partial object match already.
    pub(super) fn at_top(self) -> Match {
        self
    }

    /// What differs, one line per difference, each with its path.
    pub fn mismatches(&self, actual: &Value, path: &str) -> Vec<String> {
        let at = |p: &str| {
            if p.is_empty() {
                "(top)".to_string()
            } else {
                p.to_string()
            }
        };
        match self {
            Match::Like(v) => like(v, actual, path),
            Match::Exact(v) if v == actual => Vec::new(),
            Match::Exact(v) => vec![format!(
                "{}: expected exactly {v}, found {actual}",
                at(path)
            )],
            Match::AnyValue if actual.is_null() => {
                vec![format!("{}: expected a value, found none", at(path))]
            }
            Match::AnyValue | Match::Capture(_) => Vec::new(),
            Match::Absent => vec![format!("{}: expected no value, found {actual}", at(path))],
            Match::StringLikeRegexp(re) => match (actual.as_str(), regex_lite::Regex::new(re)) {
                (_, Err(e)) => vec![format!(
                    "{}: the pattern /{re}/ is not a regular expression: {e}",
                    at(path)
                )],
                (Some(s), Ok(r)) if r.is_match(s) => Vec::new(),
                _ => vec![format!(
                    "{}: expected a string like /{re}/, found {actual}",
                    at(path)
                )],
            },
            Match::ArrayWith(items) => {
                let Some(a) = actual.as_array() else {
                    return vec![format!("{}: expected an array, found {actual}", at(path))];
                };
                // Each pattern item in order, each after the one before.
                let mut from = 0;
                for (i, m) in items.iter().enumerate() {
                    match (from..a.len()).find(|j| m.matches(&a[*j])) {
                        Some(j) => from = j + 1,
                        None => {
                            return vec![format!(
                                "{}: no element (after index {}) matches pattern item {i}",
                                at(path),
                                from as i64 - 1
                            )]
                        }
                    }
                }
                Vec::new()
            }
        }
    }

    /// Record captures from a value this pattern matched.
    pub(super) fn commit(&self, actual: &Value) {
        match self {
            Match::Capture(c) => c.set(actual.clone()),
            Match::Like(v) => commit_like(v, actual),
            Match::ArrayWith(items) => {
                if let Some(a) = actual.as_array() {
                    let mut from = 0;
                    for m in items {
                        if let Some(j) = (from..a.len()).find(|j| m.matches(&a[*j])) {
                            m.commit(&a[j]);
                            from = j + 1;
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn like(pattern: &Value, actual: &Value, path: &str) -> Vec<String> {
    if let Some(m) = embedded(pattern) {
        return m.mismatches(actual, path);
    }
    let at = |p: &str| {
        if p.is_empty() {
            "(top)".to_string()
        } else {
            p.to_string()
        }
    };
    match (pattern, actual) {
        (Value::Object(p), Value::Object(a)) => {
            let mut out = Vec::new();
            for (k, pv) in p {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (a.get(k), embedded(pv)) {
                    (None, Some(Match::Absent)) => {}
                    (None, _) => out.push(format!("{sub}: missing (expected {})", shown(pv))),
                    (Some(av), _) => out.extend(like(pv, av, &sub)),
                }
            }
            out
        }
        (Value::Array(p), Value::Array(a)) if p.len() == a.len() => p
            .iter()
            .zip(a)
            .enumerate()
            .flat_map(|(i, (pv, av))| like(pv, av, &format!("{path}[{i}]")))
            .collect(),
        (Value::Array(p), Value::Array(a)) => vec![format!(
            "{}: expected {} element(s), found {}: {actual}",
            at(path),
            p.len(),
            a.len()
        )],
        (p, a) if p == a => Vec::new(),
        (p, a) => vec![format!("{}: expected {}, found {a}", at(path), shown(p))],
    }
}

fn commit_like(pattern: &Value, actual: &Value) {
    if let Some(m) = embedded(pattern) {
        return m.commit(actual);
    }
    match (pattern, actual) {
        (Value::Object(p), Value::Object(a)) => {
            for (k, pv) in p {
                if let Some(av) = a.get(k) {
                    commit_like(pv, av);
                }
            }
        }
        (Value::Array(p), Value::Array(a)) => {
            for (pv, av) in p.iter().zip(a) {
                commit_like(pv, av);
            }
        }
        _ => {}
    }
}

/// A pattern value for a message: the matcher's own words where it is one.
fn shown(v: &Value) -> String {
    match embedded(v) {
        Some(Match::AnyValue) => "any value".into(),
        Some(Match::Capture(_)) => "any value (captured)".into(),
        Some(Match::StringLikeRegexp(r)) => format!("a string like /{r}/"),
        Some(Match::ArrayWith(_)) => "an array with ...".into(),
        Some(Match::Exact(e)) => format!("exactly {e}"),
        Some(Match::Absent) => "no value".into(),
        _ => v.to_string(),
    }
}

/// The matcher a tagged literal stands for.
fn embedded(v: &Value) -> Option<Match> {
    let m = v.as_object()?;
    let t = m.get(TAG)?;
    if m.len() != 1 {
        return None;
    }
    Some(match t["kind"].as_str()? {
        "exact" => Match::Exact(t["value"].clone()),
        "arrayWith" => Match::ArrayWith(
            t["items"]
                .as_array()?
                .iter()
                .map(|i| embedded(i).unwrap_or_else(|| Match::Like(i.clone())))
                .collect(),
        ),
        "anyValue" => Match::AnyValue,
        "absent" => Match::Absent,
        "stringLikeRegexp" => Match::StringLikeRegexp(t["pattern"].as_str()?.to_string()),
        "capture" => Match::Capture(Capture::by_id(t["id"].as_u64()?)?),
        "like" => Match::Like(t["value"].clone()),
        _ => return None,
    })
}

impl Serialize for Match {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let inner = match self {
            Match::Like(v) => json!({"kind": "like", "value": v}),
            Match::Exact(v) => json!({"kind": "exact", "value": v}),
            Match::ArrayWith(items) => json!({"kind": "arrayWith", "items": items}),
            Match::AnyValue => json!({"kind": "anyValue"}),
            Match::Absent => json!({"kind": "absent"}),
            Match::StringLikeRegexp(p) => json!({"kind": "stringLikeRegexp", "pattern": p}),
            Match::Capture(c) => json!({"kind": "capture", "id": c.id}),
        };
        let mut m = Map::new();
        m.insert(TAG.to_string(), inner);
        Value::Object(m).serialize(s)
    }
}

impl From<Value> for Match {
    fn from(v: Value) -> Match {
        embedded(&v).unwrap_or(Match::Like(v))
    }
}

impl From<Capture> for Match {
    fn from(c: Capture) -> Match {
        Match::Capture(c)
    }
}

/// Captures the value a pattern matched, to assert on it afterwards.
///
/// ```
/// use ordersctl::assertions::{Capture, Match};
/// use serde_json::json;
/// let arn = Capture::new();
/// let m: Match = json!({"Arn": arn.clone()}).into();
/// assert!(m.matches(&json!({"Arn": "arn:aws:sqs:x"})));
/// ```
#[derive(Debug, Clone)]
pub struct Capture {
    id: u64,
    value: Arc<Mutex<Option<Value>>>,
}

fn registry() -> &'static Mutex<HashMap<u64, Arc<Mutex<Option<Value>>>>> {
    static CAPTURES: OnceLock<Mutex<HashMap<u64, Arc<Mutex<Option<Value>>>>>> = OnceLock::new();
    CAPTURES.get_or_init(Default::default)
}

impl Capture {
    /// A new, empty capture.
    pub fn new() -> Capture {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let c = Capture {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            value: Arc::new(Mutex::new(None)),
        };
        if let Ok(mut r) = registry().lock() {
            r.insert(c.id, c.value.clone());
        }
        c
    }

    fn by_id(id: u64) -> Option<Capture> {
        let value = registry().lock().ok()?.get(&id)?.clone();
        Some(Capture { id, value })
    }

    fn set(&self, v: Value) {
        if let Ok(mut slot) = self.value.lock() {
            *slot = Some(v);
        }
    }

    /// The captured value. Panics when the pattern holding it never matched.
    pub fn value(&self) -> Value {
        self.value
            .lock()
            .ok()
            .and_then(|v| v.clone())
            .expect("the capture has no value: the assertion holding it did not match")
    }
}

impl Default for Capture {
    fn default() -> Self {
        Capture::new()
    }
}

impl Serialize for Capture {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Match::Capture(self.clone()).serialize(s)
    }
}
