//! CloudFormation values: literals, lists, maps and the intrinsic functions.
//!
//! Every property value in a template is an [`Expr`]. References to resources carry the
//! [`StackId`] of the template that declares them, so that synth can turn a reference that
//! crosses stacks into an export/import pair.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// Identity of the stack (template) that declares a logical ID.
///
/// ```
/// use ordersctl::template::StackId;
/// assert_ne!(StackId(0), StackId(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StackId(pub u32);

/// A logical ID together with the stack that declares it (`None` for pseudo parameters).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub logical_id: String,
    pub owner: Option<StackId>,
}

/// A CloudFormation value.
///
/// ```
/// use ordersctl::template::Expr;
/// let arn = Expr::join("", [Expr::get_att("Orders", "Arn"), Expr::from("/index/*")]);
/// assert_eq!(
///     arn.to_json(),
///     serde_json::json!({"Fn::Join": ["", [{"Fn::GetAtt": ["Orders", "Arn"]}, "/index/*"]]})
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Expr>),
    Map(BTreeMap<String, Expr>),
    Ref(Target),
    GetAtt(Target, String),
    Sub(String, BTreeMap<String, Expr>),
    Join(String, Vec<Expr>),
    ImportValue(Box<Expr>),
    Select(u32, Box<Expr>),
    Split(String, Box<Expr>),
    GetAZs(Box<Expr>),
    If(String, Box<Expr>, Box<Expr>),
    Equals(Box<Expr>, Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Condition(String),
}

/// The pseudo parameters CloudFormation resolves at deploy time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pseudo {
    AccountId,
    Region,
    Partition,
    StackName,
    StackId,
    UrlSuffix,
    NoValue,
}

impl Pseudo {
    /// The name used in `Ref`.
    pub fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Region => "AWS::Region",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::StackId => "AWS::StackId",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
            Pseudo::NoValue => "AWS::NoValue",
        }
    }
}

impl Expr {
    /// `{"Ref": id}` to a logical ID of the same template.
    pub fn ref_(logical_id: impl Into<String>) -> Expr {
        Expr::Ref(Target {
            logical_id: logical_id.into(),
            owner: None,
        })
    }

    /// `{"Ref": id}` to a logical ID declared in `owner`.
    pub fn ref_in(owner: StackId, logical_id: impl Into<String>) -> Expr {
        Expr::Ref(Target {
            logical_id: logical_id.into(),
            owner: Some(owner),
        })
    }

    /// `{"Fn::GetAtt": [id, attribute]}` in the same template.
    pub fn get_att(logical_id: impl Into<String>, attribute: impl Into<String>) -> Expr {
        Expr::GetAtt(
            Target {
                logical_id: logical_id.into(),
                owner: None,
            },
            attribute.into(),
        )
    }

    /// `{"Fn::GetAtt": [id, attribute]}` to a logical ID declared in `owner`.
    pub fn get_att_in(
        owner: StackId,
        logical_id: impl Into<String>,
        attribute: impl Into<String>,
    ) -> Expr {
        Expr::GetAtt(
            Target {
                logical_id: logical_id.into(),
                owner: Some(owner),
            },
            attribute.into(),
        )
    }

    /// A pseudo parameter such as `AWS::Region`.
    pub fn pseudo(p: Pseudo) -> Expr {
        Expr::ref_(p.name())
    }

    /// `{"Fn::Sub": template}` without a variable map.
    pub fn sub(template: impl Into<String>) -> Expr {
        Expr::Sub(template.into(), BTreeMap::new())
    }

    /// `{"Fn::Join": [sep, parts]}`.
    pub fn join(separator: impl Into<String>, parts: impl IntoIterator<Item = Expr>) -> Expr {
        Expr::Join(separator.into(), parts.into_iter().collect())
    }

    /// `{"Fn::ImportValue": name}`.
    pub fn import_value(name: impl Into<Expr>) -> Expr {
        Expr::ImportValue(Box::new(name.into()))
    }

    /// `{"Fn::Select": [index, list]}`.
    pub fn select(index: u32, list: Expr) -> Expr {
        Expr::Select(index, Box::new(list))
    }

    /// `{"Fn::Split": [sep, source]}`.
    pub fn split(separator: impl Into<String>, source: Expr) -> Expr {
        Expr::Split(separator.into(), Box::new(source))
    }

    /// `{"Fn::GetAZs": region}` (empty string: the stack's region).
    pub fn get_azs(region: impl Into<Expr>) -> Expr {
        Expr::GetAZs(Box::new(region.into()))
    }

    /// `{"Fn::If": [condition, then, else]}`.
    pub fn if_(condition: impl Into<String>, then: Expr, otherwise: Expr) -> Expr {
        Expr::If(condition.into(), Box::new(then), Box::new(otherwise))
    }

    /// `{"Fn::Equals": [a, b]}`.
    pub fn equals(a: impl Into<Expr>, b: impl Into<Expr>) -> Expr {
        Expr::Equals(Box::new(a.into()), Box::new(b.into()))
    }

    /// `{"Fn::Not": [c]}`. Named after the intrinsic, as `and`/`or` are; it builds a
    /// template condition, it does not negate a Rust value.
    #[allow(clippy::should_implement_trait)]
    pub fn not(c: Expr) -> Expr {
        Expr::Not(Box::new(c))
    }

    /// A map from string keys.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Expr)>) -> Expr {
        Expr::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list.
    pub fn list(items: impl IntoIterator<Item = Expr>) -> Expr {
        Expr::List(items.into_iter().collect())
    }

    /// A literal list of strings.
    pub fn strings<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Expr {
        Expr::List(items.into_iter().map(|s| Expr::Str(s.into())).collect())
    }

    /// `arn:${AWS::Partition}:<service>:${AWS::Region}:${AWS::AccountId}:<resource>`.
    pub fn arn(service: &str, resource: &str) -> Expr {
        Expr::sub(format!(
            "arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"
        ))
    }

    /// The literal string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Expr::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Visit this value and every value nested in it, mutably, parents before children.
    pub fn walk_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        f(self);
        match self {
            Expr::List(items) | Expr::Join(_, items) | Expr::And(items) | Expr::Or(items) => {
                items.iter_mut().for_each(|e| e.walk_mut(f))
            }
            Expr::Map(m) | Expr::Sub(_, m) => m.values_mut().for_each(|e| e.walk_mut(f)),
            Expr::ImportValue(e)
            | Expr::Select(_, e)
            | Expr::Split(_, e)
            | Expr::GetAZs(e)
            | Expr::Not(e) => e.walk_mut(f),
            Expr::If(_, a, b) | Expr::Equals(a, b) => {
                a.walk_mut(f);
                b.walk_mut(f);
            }
            Expr::Null
            | Expr::Bool(_)
            | Expr::Int(_)
            | Expr::Float(_)
            | Expr::Str(_)
            | Expr::Ref(_)
            | Expr::GetAtt(..)
            | Expr::Condition(_) => {}
        }
    }

    /// Visit this value and every value nested in it.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::List(items) | Expr::Join(_, items) | Expr::And(items) | Expr::Or(items) => {
                items.iter().for_each(|e| e.walk(f))
            }
            Expr::Map(m) | Expr::Sub(_, m) => m.values().for_each(|e| e.walk(f)),
            Expr::ImportValue(e)
            | Expr::Select(_, e)
            | Expr::Split(_, e)
            | Expr::GetAZs(e)
            | Expr::Not(e) => e.walk(f),
            Expr::If(_, a, b) | Expr::Equals(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            _ => {}
        }
    }

    /// The logical IDs this value references through `Ref`, `Fn::GetAtt` and the `${Name}` /
    /// `${Name.Attribute}` variables of `Fn::Sub` strings (not pseudo parameters, not
    /// `${!Literal}`, not the Sub's own variables).
    ///
    /// ```
    /// use ordersctl::template::Expr;
    /// let e = Expr::from_json(&serde_json::json!({"Fn::Sub": "${Queue.Arn}/${AWS::Region}/${!Lit}"}));
    /// assert_eq!(e.references(), ["Queue"]);
    /// ```
    pub fn references(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&mut |e| match e {
            Expr::Ref(t) | Expr::GetAtt(t, _) if !t.logical_id.starts_with("AWS::") => {
                out.push(t.logical_id.clone())
            }
            Expr::Sub(template, vars) => out.extend(
                sub_variables(template)
                    .into_iter()
                    .filter(|n| !n.starts_with("AWS::") && !vars.contains_key(*n))
                    .map(str::to_string),
            ),
            _ => {}
        });
        out
    }

    /// The CloudFormation JSON form.
    pub fn to_json(&self) -> Value {
        match self {
            Expr::Null => Value::Null,
            Expr::Bool(b) => json!(b),
            Expr::Int(i) => json!(i),
            Expr::Float(f) => json!(f),
            Expr::Str(s) => json!(s),
            Expr::List(items) => Value::Array(items.iter().map(Expr::to_json).collect()),
            Expr::Map(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect::<Map<_, _>>(),
            ),
            Expr::Ref(t) => json!({ "Ref": t.logical_id }),
            Expr::GetAtt(t, attr) => json!({ "Fn::GetAtt": [t.logical_id, attr] }),
            Expr::Sub(s, vars) if vars.is_empty() => json!({ "Fn::Sub": s }),
            Expr::Sub(s, vars) => {
                let vars: Map<_, _> = vars.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
                json!({ "Fn::Sub": [s, vars] })
            }
            Expr::Join(sep, parts) => {
                json!({ "Fn::Join": [sep, parts.iter().map(Expr::to_json).collect::<Vec<_>>()] })
            }
            Expr::ImportValue(e) => json!({ "Fn::ImportValue": e.to_json() }),
            Expr::Select(i, e) => json!({ "Fn::Select": [i.to_string(), e.to_json()] }),
            Expr::Split(sep, e) => json!({ "Fn::Split": [sep, e.to_json()] }),
            Expr::GetAZs(e) => json!({ "Fn::GetAZs": e.to_json() }),
            Expr::If(c, a, b) => json!({ "Fn::If": [c, a.to_json(), b.to_json()] }),
            Expr::Equals(a, b) => json!({ "Fn::Equals": [a.to_json(), b.to_json()] }),
            Expr::And(items) => {
                json!({ "Fn::And": items.iter().map(Expr::to_json).collect::<Vec<_>>() })
            }
            Expr::Or(items) => {
                json!({ "Fn::Or": items.iter().map(Expr::to_json).collect::<Vec<_>>() })
            }
            Expr::Not(e) => json!({ "Fn::Not": [e.to_json()] }),
            Expr::Condition(c) => json!({ "Condition": c }),
        }
    }

    /// Read a CloudFormation JSON value back (intrinsics recognised by their `Fn::` keys).
    pub fn from_json(v: &Value) -> Expr {
        match v {
            Value::Null => Expr::Null,
            Value::Bool(b) => Expr::Bool(*b),
            Value::Number(n) => n
                .as_i64()
                .map(Expr::Int)
                .unwrap_or_else(|| Expr::Float(n.as_f64().unwrap_or(0.0))),
            Value::String(s) => Expr::Str(s.clone()),
            Value::Array(items) => Expr::List(items.iter().map(Expr::from_json).collect()),
            Value::Object(m) => {
                if m.len() == 1 {
                    let (k, arg) = m.iter().next().expect("one entry");
                    if let Some(e) = intrinsic_from_json(k, arg) {
                        return e;
                    }
                }
                Expr::Map(
                    m.iter()
                        .map(|(k, v)| (k.clone(), Expr::from_json(v)))
                        .collect(),
                )
            }
        }
    }
}

fn intrinsic_from_json(key: &str, arg: &Value) -> Option<Expr> {
    let list = |v: &Value| {
        v.as_array()
            .map(|a| a.iter().map(Expr::from_json).collect::<Vec<_>>())
    };
    Some(match (key, arg) {
        ("Ref", Value::String(s)) => Expr::ref_(s.clone()),
        ("Fn::GetAtt", Value::Array(a)) if a.len() == 2 => {
            Expr::get_att(a[0].as_str()?.to_string(), a[1].as_str()?.to_string())
        }
        ("Fn::GetAtt", Value::String(s)) => {
            let (id, attr) = s.split_once('.')?;
            Expr::get_att(id, attr)
        }
        ("Fn::Sub", Value::String(s)) => Expr::sub(s.clone()),
        ("Fn::Sub", Value::Array(a)) if a.len() == 2 => {
            let vars = a[1]
                .as_object()?
                .iter()
                .map(|(k, v)| (k.clone(), Expr::from_json(v)))
                .collect();
            Expr::Sub(a[0].as_str()?.to_string(), vars)
        }
        ("Fn::Join", Value::Array(a)) if a.len() == 2 => {
            Expr::Join(a[0].as_str()?.to_string(), list(&a[1])?)
        }
        ("Fn::ImportValue", v) => Expr::import_value(Expr::from_json(v)),
        ("Fn::Select", Value::Array(a)) if a.len() == 2 => {
            // A numeric index stays as written (the generic form), so a template renders back
            // as it was; ordersctl writes the index as a string.
            let index = match &a[0] {
                Value::String(s) => s.parse().ok()?,
                _ => return None,
            };
            Expr::select(index, Expr::from_json(&a[1]))
        }
        ("Fn::Split", Value::Array(a)) if a.len() == 2 => {
            Expr::split(a[0].as_str()?, Expr::from_json(&a[1]))
        }
        ("Fn::GetAZs", v) => Expr::get_azs(Expr::from_json(v)),
        ("Fn::If", Value::Array(a)) if a.len() == 3 => Expr::if_(
            a[0].as_str()?,
            Expr::from_json(&a[1]),
            Expr::from_json(&a[2]),
        ),
        ("Fn::Equals", Value::Array(a)) if a.len() == 2 => {
            Expr::equals(Expr::from_json(&a[0]), Expr::from_json(&a[1]))
        }
        ("Fn::And", v) => Expr::And(list(v)?),
        ("Fn::Or", v) => Expr::Or(list(v)?),
        ("Fn::Not", Value::Array(a)) if a.len() == 1 => Expr::not(Expr::from_json(&a[0])),
        ("Condition", Value::String(s)) => Expr::Condition(s.clone()),
        _ => return None,
    })
}

impl From<&str> for Expr {
    fn from(s: &str) -> Self {
        Expr::Str(s.to_string())
    }
}
impl From<String> for Expr {
    fn from(s: String) -> Self {
        Expr::Str(s)
    }
}
impl From<&String> for Expr {
    fn from(s: &String) -> Self {
        Expr::Str(s.clone())
    }
}
impl From<bool> for Expr {
    fn from(b: bool) -> Self {
        Expr::Bool(b)
    }
}
impl From<i64> for Expr {
    fn from(i: i64) -> Self {
        Expr::Int(i)
    }
}
impl From<u32> for Expr {
    fn from(i: u32) -> Self {
        Expr::Int(i64::from(i))
    }
}
impl From<u64> for Expr {
    fn from(i: u64) -> Self {
        Expr::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Expr {
    fn from(f: f64) -> Self {
        Expr::Float(f)
    }
}
impl From<Pseudo> for Expr {
    fn from(p: Pseudo) -> Self {
        Expr::pseudo(p)
    }
}
impl<T: Into<Expr>> From<Vec<T>> for Expr {
    fn from(v: Vec<T>) -> Self {
        Expr::List(v.into_iter().map(Into::into).collect())
    }
}

/// The names a `Fn::Sub` string's `${...}` variables start with (`${Queue.Arn}` -> `Queue`),
/// in order; `${!Literal}` is text, not a variable.
pub fn sub_variables(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = &after[..end];
        if !inner.starts_with('!') {
            out.push(inner.split('.').next().unwrap_or_default().trim());
        }
        rest = &after[end + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intrinsics_render_in_cloudformation_form() {
        assert_eq!(Expr::ref_("Q").to_json(), json!({"Ref": "Q"}));
        assert_eq!(
            Expr::pseudo(Pseudo::UrlSuffix).to_json(),
            json!({"Ref": "AWS::URLSuffix"})
        );
        assert_eq!(
            Expr::select(1, Expr::get_azs("")).to_json(),
            json!({"Fn::Select": ["1", {"Fn::GetAZs": ""}]})
        );
        assert_eq!(
            Expr::split(",", Expr::import_value("X")).to_json(),
            json!({"Fn::Split": [",", {"Fn::ImportValue": "X"}]})
        );
        assert_eq!(
            Expr::if_("IsProd", Expr::Int(5), Expr::pseudo(Pseudo::NoValue)).to_json(),
            json!({"Fn::If": ["IsProd", 5, {"Ref": "AWS::NoValue"}]})
        );
        assert_eq!(
            Expr::And(vec![
                Expr::equals(Expr::ref_("Env"), "prod"),
                Expr::not(Expr::Condition("C".into()))
            ])
            .to_json(),
            json!({"Fn::And": [{"Fn::Equals": [{"Ref": "Env"}, "prod"]}, {"Fn::Not": [{"Condition": "C"}]}]})
        );
        let mut vars = BTreeMap::new();
        vars.insert("Name".to_string(), Expr::ref_("T"));
        assert_eq!(
            Expr::Sub("${Name}-x".into(), vars).to_json(),
            json!({"Fn::Sub": ["${Name}-x", {"Name": {"Ref": "T"}}]})
        );
    }

    #[test]
    fn json_round_trips_through_the_model() {
        let v = json!({
            "A": {"Fn::Join": ["", [{"Fn::GetAtt": ["T", "Arn"]}, "/index/*"]]},
            "B": [{"Fn::Select": ["0", {"Fn::Split": [",", "a,b"]}]}, 1, 2.5, true, null],
            "C": {"Fn::If": ["Cond", {"Fn::Sub": "x"}, {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]}]}
        });
        assert_eq!(Expr::from_json(&v).to_json(), v);
        assert_eq!(
            Expr::from_json(&json!({"Fn::GetAtt": "Q.Arn"})),
            Expr::get_att("Q", "Arn")
        );
    }

    #[test]
    fn references_ignore_pseudo_parameters() {
        let e = Expr::join(
            ":",
            [
                Expr::pseudo(Pseudo::Region),
                Expr::ref_("Queue"),
                Expr::get_att("Table", "Arn"),
            ],
        );
        assert_eq!(
            e.references(),
            vec!["Queue".to_string(), "Table".to_string()]
        );
    }
}
