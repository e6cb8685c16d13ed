//! YAML templates read as CloudFormation and cfn-lint read them: YAML 1.1 scalars (`No` and
//! `off` are false, `0755` is octal, `1:20` is 80), every short intrinsic tag in its scalar,
//! sequence and mapping forms (`!GetAtt A.B`, `!Sub [..]`, `!Transform {..}`), anchors and
//! aliases (the nodes they expand to counted, so an alias bomb is refused), duplicate keys
//! refused with their line.

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Most nodes a document may expand to through its aliases (a real template has a few
/// thousand; a "billion laughs" document has billions).
pub const MAX_NODES: usize = 1_000_000;

/// Read one YAML document as the JSON form of a template.
///
/// ```
/// let v = ordersctl::template::yaml_read::to_json("A: !GetAtt Q.Arn\nB: No\nC: 0755\n").unwrap();
/// assert_eq!(v, serde_json::json!({"A": {"Fn::GetAtt": ["Q", "Arn"]}, "B": false, "C": 493}));
/// ```
pub fn to_json(text: &str) -> Result<Value, String> {
    let mut r = Reader {
        parser: Parser::new_from_str(text),
        depth: 0,
        anchors: Vec::new(),
        nodes: 0,
    };
    let root = loop {
        let (event, mark) = r.next()?;
        match event {
            Event::StreamStart | Event::DocumentStart => continue,
            Event::StreamEnd => return Ok(Value::Null),
            other => break r.node(other, mark)?,
        }
    };
    // One document only: CloudFormation reads one, and ignoring the rest would check
    // something other than what is deployed.
    loop {
        let (event, mark) = r.next()?;
        match event {
            Event::DocumentEnd => continue,
            Event::StreamEnd => return Ok(root),
            _ => {
                return Err(format!(
                    "{}: a second YAML document; a template is one document",
                    at(mark)
                ))
            }
        }
    }
}

struct Reader<'a> {
    parser: Parser<std::str::Chars<'a>>,
    depth: usize,
    /// Anchor ID -> the value it names.
    anchors: Vec<(usize, Value)>,
    nodes: usize,
}

fn at(mark: Marker) -> String {
    format!("line {} column {}", mark.line(), mark.col() + 1)
}

/// What a value weighs for the alias guard: one per node, and one per 64 bytes of text, so a
/// long string aliased many times counts as what it expands to.
fn count(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(count).sum::<usize>(),
        Value::Object(m) => {
            1 + m
                .iter()
                .map(|(k, x)| k.len() / 64 + count(x))
                .sum::<usize>()
        }
        Value::String(s) => 1 + s.len() / 64,
        _ => 1,
    }
}

impl Reader<'_> {
    fn next(&mut self) -> Result<(Event, Marker), String> {
        self.parser
            .next_token()
            .map_err(|e| format!("not YAML: {e}"))
    }

    fn grow(&mut self, n: usize, mark: Marker) -> Result<(), String> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(format!(
                "{}: the document expands to more than {MAX_NODES} nodes (a node per 64 bytes of text) through its aliases; refused",
                at(mark)
            ));
        }
        Ok(())
    }

    fn remember(&mut self, anchor: usize, v: &Value) {
        if anchor > 0 {
            self.anchors.push((anchor, v.clone()));
        }
    }

    fn node(&mut self, event: Event, mark: Marker) -> Result<Value, String> {
        self.grow(1, mark)?;
        self.depth += 1;
        if self.depth > super::input_limits::MAX_DEPTH {
            return Err(super::input_limits::too_deep(&at(mark)));
        }
        let v = self.node_inner(event, mark);
        self.depth -= 1;
        v
    }

    fn node_inner(&mut self, event: Event, mark: Marker) -> Result<Value, String> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let v = match &tag {
                    Some(t) if t.handle == "!" => intrinsic(&t.suffix, Value::String(text), mark)?,
                    Some(t) => standard_tag(t, &text, mark)?,
                    None if style == TScalarStyle::Plain => resolve_plain(&text),
                    None => Value::String(text),
                };
                self.remember(anchor, &v);
                Ok(v)
            }
            Event::SequenceStart(anchor, tag) => {
                let mut items = Vec::new();
                loop {
                    let (e, m) = self.next()?;
                    if e == Event::SequenceEnd {
                        break;
                    }
                    items.push(self.node(e, m)?);
                }
                let v = tagged(tag, Value::Array(items), mark)?;
                self.remember(anchor, &v);
                Ok(v)
            }
            Event::MappingStart(anchor, tag) => {
                let mut map = Map::new();
                // Keys written in this mapping (merged ones may be overridden, these not).
                let mut written = std::collections::HashSet::new();
                loop {
                    let (e, key_mark) = self.next()?;
                    if e == Event::MappingEnd {
                        break;
                    }
                    let key = match self.node(e, key_mark)? {
                        Value::String(s) => s,
                        Value::Null => "null".to_string(),
                        other => other.to_string(),
                    };
                    let (e, m) = self.next()?;
                    let value = self.node(e, m)?;
                    if key == "<<" {
                        // A merge key: the mapping's own keys win.
                        let merged = match value {
                            Value::Object(o) => vec![o],
                            Value::Array(a) => a
                                .into_iter()
                                .filter_map(|x| match x {
                                    Value::Object(o) => Some(o),
                                    _ => None,
                                })
                                .collect(),
                            _ => return Err(format!("{}: `<<` merges a mapping", at(key_mark))),
                        };
                        for o in merged {
                            for (k, v) in o {
                                if !written.contains(&k) {
                                    map.entry(k).or_insert(v);
                                }
                            }
                        }
                        continue;
                    }
                    if !written.insert(key.clone()) {
                        return Err(format!("{}: duplicate key `{key}`", at(key_mark)));
                    }
                    map.insert(key, value);
                }
                let v = tagged(tag, Value::Object(map), mark)?;
                self.remember(anchor, &v);
                Ok(v)
            }
            Event::Alias(id) => {
                let v = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| format!("{}: an alias to an unknown anchor", at(mark)))?;
                self.grow(count(&v), mark)?;
                Ok(v)
            }
            other => Err(format!("{}: unexpected {other:?}", at(mark))),
        }
    }
}

fn tagged(tag: Option<Tag>, v: Value, mark: Marker) -> Result<Value, String> {
    match tag {
        Some(t) if t.handle == "!" => intrinsic(&t.suffix, v, mark),
        _ => Ok(v),
    }
}

/// `!!str`, `!!int` and the like on a scalar.
fn standard_tag(t: &Tag, text: &str, mark: Marker) -> Result<Value, String> {
    match t.suffix.as_str() {
        "str" => Ok(Value::String(text.to_string())),
        "int" | "float" | "bool" | "null" => Ok(resolve_plain(text)),
        other => Err(format!(
            "{}: unknown YAML tag {}{other}",
            at(mark),
            t.handle
        )),
    }
}

/// A short intrinsic tag to its long form.
fn intrinsic(name: &str, v: Value, mark: Marker) -> Result<Value, String> {
    let key = match name {
        "Ref" => "Ref".to_string(),
        "Condition" => "Condition".to_string(),
        "GetAtt" => {
            let v = match v {
                Value::String(s) => {
                    let (res, attr) = s.split_once('.').ok_or_else(|| {
                        format!("{}: !GetAtt {s}: expected Resource.Attribute", at(mark))
                    })?;
                    serde_json::json!([res, attr])
                }
                other => other,
            };
            return Ok(serde_json::json!({ "Fn::GetAtt": v }));
        }
        "Sub" | "Join" | "Select" | "Split" | "ImportValue" | "GetAZs" | "If" | "Equals"
        | "And" | "Or" | "Not" | "FindInMap" | "Base64" | "Cidr" | "Transform" | "Length"
        | "ToJsonString" | "ForEach"
        // The rule functions of a template's Rules section.
        | "Contains" | "EachMemberEquals" | "EachMemberIn" | "RefAll" | "ValueOf" | "ValueOfAll" => {
            format!("Fn::{name}")
        }
        other => return Err(format!("{}: unknown YAML tag !{other}", at(mark))),
    };
    let mut m = Map::new();
    m.insert(key, v);
    Ok(Value::Object(m))
}

/// A plain scalar as YAML 1.1 resolves it (PyYAML's resolver, which cfn-lint uses), except
/// timestamps, which stay strings as CloudFormation reads them.
fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true)
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false)
        }
        _ => {}
    }
    if let Some(i) = int_1_1(s) {
        return Value::Number(Number::from(i));
    }
    if let Some(f) = float_1_1(s) {
        if let Some(n) = Number::from_f64(f) {
            return Value::Number(n);
        }
    }
    Value::String(s.to_string())
}

/// Splits an optional sign off.
fn signed(s: &str) -> (i64, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (-1, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    }
}

fn all(s: &str, ok: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(ok)
}

/// A base-60 tail: `:` then one or two digits below 60 (`:5`, `:05`, `:59`), repeated.
fn sexagesimal_parts(tail: &str) -> Option<Vec<i64>> {
    tail.split(':')
        .skip(1)
        .map(|p| {
            let ok = (1..=2).contains(&p.len())
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || p.as_bytes()[0] <= b'5');
            ok.then(|| p.parse().ok()).flatten()
        })
        .collect()
}

/// YAML 1.1 integers, as PyYAML's resolver reads them: `0b` binary, `0` octal, decimal,
/// `0x` hex, base 60 (`1:20`), with `_` separators.
fn int_1_1(s: &str) -> Option<i64> {
    let (sign, body) = signed(s);
    let digits = |b: &str, radix: u32| -> Option<i64> {
        let clean: String = b.chars().filter(|c| *c != '_').collect();
        i64::from_str_radix(&clean, radix).ok()
    };
    let value = if let Some(b) = body.strip_prefix("0b") {
        if !all(b, |c| c == '0' || c == '1' || c == '_') {
            return None;
        }
        digits(b, 2)?
    } else if let Some(h) = body.strip_prefix("0x") {
        if !all(h, |c| c.is_ascii_hexdigit() || c == '_') {
            return None;
        }
        digits(h, 16)?
    } else if body == "0" {
        0
    } else if let Some(o) = body.strip_prefix('0') {
        if !all(o, |c| ('0'..='7').contains(&c) || c == '_') {
            return None;
        }
        digits(o, 8)?
    } else if let Some((head, _)) = body.split_once(':') {
        if !head.starts_with(|c: char| ('1'..='9').contains(&c))
            || !all(head, |c| c.is_ascii_digit() || c == '_')
        {
            return None;
        }
        let mut total = digits(head, 10)?;
        for part in sexagesimal_parts(&body[head.len()..])? {
            total = total.checked_mul(60)?.checked_add(part)?;
        }
        total
    } else {
        if !body.starts_with(|c: char| ('1'..='9').contains(&c))
            || !all(body, |c| c.is_ascii_digit() || c == '_')
        {
            return None;
        }
        digits(body, 10)?
    };
    Some(sign * value)
}

/// YAML 1.1 floats, as PyYAML's resolver reads them: `1.5`, `1.`, `.5` (unsigned), an
/// exponent only with its sign (`1.0e+3`; `1.0e3` is text), base 60 (`1:20.5`); `.inf` and
/// `.nan` are not JSON numbers and stay text.
fn float_1_1(s: &str) -> Option<f64> {
    let clean = |x: &str| -> String { x.chars().filter(|c| *c != '_').collect() };
    let exponent_ok = |e: &str| {
        e.len() >= 2
            && matches!(e.as_bytes()[0], b'+' | b'-')
            && e[1..].chars().all(|c| c.is_ascii_digit())
    };
    let (sign, body) = signed(s);
    // Base 60 with a fraction: [-+]?[1-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
    if let Some((head, _)) = body.split_once(':') {
        let (sixties, frac) = body[head.len()..].rsplit_once('.')?;
        if !head.starts_with(|c: char| ('1'..='9').contains(&c))
            || !all(head, |c| c.is_ascii_digit() || c == '_')
            || !frac.chars().all(|c| c.is_ascii_digit() || c == '_')
        {
            return None;
        }
        let mut total: f64 = clean(head).parse().ok()?;
        for part in sexagesimal_parts(sixties)? {
            total = total * 60.0 + part as f64;
        }
        let frac: f64 = format!("0.{}", clean(frac)).parse().unwrap_or(0.0);
        return Some(sign as f64 * (total + frac));
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if exponent.is_some_and(|e| !exponent_ok(e)) {
        return None;
    }
    let (whole, frac) = mantissa.split_once('.')?;
    let ok = if whole.is_empty() {
        // `.5`: no sign allowed, a digit first.
        s.starts_with('.')
            && frac.starts_with(|c: char| c.is_ascii_digit())
            && all(frac, |c| c.is_ascii_digit() || c == '_')
    } else {
        whole.starts_with(|c: char| c.is_ascii_digit())
            && all(whole, |c| c.is_ascii_digit() || c == '_')
            && frac.chars().all(|c| c.is_ascii_digit() || c == '_')
    };
    if !ok {
        return None;
    }
    let text = format!(
        "{}.{}{}",
        clean(whole),
        clean(frac),
        exponent.map(|e| format!("e{e}")).unwrap_or_default()
    );
    let text = if text.starts_with('.') {
        format!("0{text}")
    } else {
        text
    };
    text.parse::<f64>().ok().map(|f| sign as f64 * f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_resolve_as_yaml_1_1() {
        let v = to_json("a: No\nb: on\nc: 0755\nd: 1:20\ne: 0x1F\nf: 1_000\ng: 2001-12-14\nh: \"No\"\ni: ~\nj: 1.5\nk: 1e3\nl: 08\nm: '0755'\nn: y\n").unwrap();
        // PyYAML's float and base-60 rules, which cfn-lint and `sam package` read with.
        let w =
            to_json("a: 1.0e3\nb: 1.0e+3\nc: -.5\nd: .5\ne: 1:20.5\nf: 1:005\ng: 1.\nh: -1:30\n")
                .unwrap();
        assert_eq!(
            w,
            json!({"a": "1.0e3", "b": 1000.0, "c": "-.5", "d": 0.5, "e": 80.5, "f": "1:005", "g": 1.0, "h": -90})
        );
        assert_eq!(
            v,
            json!({"a": false, "b": true, "c": 493, "d": 80, "e": 31, "f": 1000, "g": "2001-12-14",
                   "h": "No", "i": null, "j": 1.5, "k": "1e3", "l": "08", "m": "0755", "n": "y"})
        );
    }

    #[test]
    fn every_short_tag_form() {
        let v = to_json("a: !GetAtt Q.Arn\nb: !GetAtt [Q, Arn]\nc: !Sub [\"${X}\", {X: !Ref Y}]\nd: !Transform {Name: M}\ne: !Condition IsProd\nf: !GetAZs ''\ng: !Not [!Equals [a, b]]\n").unwrap();
        assert_eq!(v["a"], json!({"Fn::GetAtt": ["Q", "Arn"]}));
        assert_eq!(v["b"], json!({"Fn::GetAtt": ["Q", "Arn"]}));
        assert_eq!(v["c"], json!({"Fn::Sub": ["${X}", {"X": {"Ref": "Y"}}]}));
        assert_eq!(v["d"], json!({"Fn::Transform": {"Name": "M"}}));
        assert_eq!(v["e"], json!({"Condition": "IsProd"}));
        assert_eq!(v["f"], json!({"Fn::GetAZs": ""}));
        assert_eq!(v["g"], json!({"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}));
        assert!(to_json("a: !Bogus x\n")
            .unwrap_err()
            .contains("unknown YAML tag !Bogus"));
    }

    #[test]
    fn anchors_merge_and_an_alias_bomb_is_refused() {
        let v = to_json("base: &b {x: 1, y: 2}\nuse: {<<: *b, y: 3}\n").unwrap();
        assert_eq!(v["use"], json!({"x": 1, "y": 3}));
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let names = ["b", "c", "d", "e", "f", "g", "h"];
        let mut prev = "a";
        for n in names {
            bomb.push_str(&format!("{n}: &{n} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = n;
        }
        assert!(to_json(&bomb)
            .unwrap_err()
            .contains("more than 1000000 nodes"));
        // A long string aliased many times: counted by its size.
        let long = "x".repeat(100_000);
        let aliases = vec!["*s"; 1_000].join(", ");
        let strings = format!("s: &s {long}\nmany: [{aliases}]\n");
        assert!(to_json(&strings)
            .unwrap_err()
            .contains("more than 1000000 nodes"));
        assert!(to_json("a: 1\n---\nb: 2\n")
            .unwrap_err()
            .contains("a second YAML document"));
        assert!(to_json("a: 1\na: 2\n")
            .unwrap_err()
            .contains("line 2 column 1: duplicate key `a`"));
    }
}
