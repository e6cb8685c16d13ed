//! The Amazon States Language's data paths: reference paths (`$.a.b[0]`, `$['a']`), the
//! context object (`$$.Execution.Id`), payload templates (`"key.$": path`), and the
//! intrinsic functions the DSL and hand-written definitions commonly use.

use serde_json::{Map, Value};

use super::AslError;

/// One step of a reference path.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn parse(path: &str, state: &str) -> Result<(bool, Vec<Seg>), AslError> {
    let bad = |why: &str| AslError::Path {
        state: state.to_string(),
        path: path.to_string(),
        message: why.to_string(),
    };
    let (context, rest) = if let Some(r) = path.strip_prefix("$$") {
        (true, r)
    } else if let Some(r) = path.strip_prefix('$') {
        (false, r)
    } else {
        return Err(bad("a path starts with `$`"));
    };
    let mut segs = Vec::new();
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                let start = i + 1;
                i = start;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                if i == start {
                    return Err(bad("an empty field name"));
                }
                segs.push(Seg::Key(chars[start..i].iter().collect()));
            }
            '[' => {
                let close = chars[i..]
                    .iter()
                    .position(|c| *c == ']')
                    .ok_or_else(|| bad("`[` without `]`"))?
                    + i;
                let inner: String = chars[i + 1..close].iter().collect();
                if let Some(q) = inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
                    segs.push(Seg::Key(q.to_string()));
                } else if let Ok(n) = inner.parse::<usize>() {
                    segs.push(Seg::Index(n));
                } else {
                    return Err(bad("only field names and array indexes are supported in paths (no filters, slices or `*`)"));
                }
                i = close + 1;
            }
            _ => return Err(bad("expected `.` or `[`")),
        }
    }
    Ok((context, segs))
}

/// Read `path` from `data` (or the context object for `$$`). A missing field is an error, as
/// in Step Functions (`States.Runtime`).
pub fn read(path: &str, data: &Value, context: &Value, state: &str) -> Result<Value, AslError> {
    let (is_context, segs) = parse(path, state)?;
    let mut cur = if is_context { context } else { data };
    for s in &segs {
        let next = match (s, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get(k),
            (Seg::Index(n), Value::Array(a)) => a.get(*n),
            _ => None,
        };
        cur = next.ok_or_else(|| AslError::Runtime {
            state: state.to_string(),
            message: format!("the path `{path}` matched nothing in the input"),
        })?;
    }
    Ok(cur.clone())
}

/// Whether `path` names something in `data`.
pub fn present(path: &str, data: &Value, context: &Value, state: &str) -> Result<bool, AslError> {
    match read(path, data, context, state) {
        Ok(_) => Ok(true),
        Err(AslError::Runtime { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Put `value` at `path` inside `data` (a ResultPath), creating objects on the way.
pub fn write(path: &str, data: Value, value: Value, state: &str) -> Result<Value, AslError> {
    let (is_context, segs) = parse(path, state)?;
    if is_context {
        return Err(AslError::Path {
            state: state.to_string(),
            path: path.to_string(),
            message: "a ResultPath cannot write the context object".into(),
        });
    }
    if segs.is_empty() {
        return Ok(value);
    }
    let mut root = data;
    if !root.is_object() {
        root = Value::Object(Map::new());
    }
    let mut cur = &mut root;
    for (i, s) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        let Seg::Key(k) = s else {
            return Err(AslError::Path {
                state: state.to_string(),
                path: path.to_string(),
                message: "a ResultPath names fields only".into(),
            });
        };
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let m = cur.as_object_mut().expect("made an object above");
        if last {
            m.insert(k.clone(), value);
            break;
        }
        cur = m
            .entry(k.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    Ok(root)
}

/// Resolve a payload template (Parameters, ResultSelector, ItemSelector): fields ending in
/// `.$` take a path or an intrinsic function; other fields are copied, nested ones resolved.
pub fn template(
    t: &Value,
    data: &Value,
    context: &Value,
    state: &str,
    uuid: &mut dyn FnMut() -> String,
) -> Result<Value, AslError> {
    match t {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if let Some(key) = k.strip_suffix(".$") {
                    let Some(expr) = v.as_str() else {
                        return Err(AslError::Runtime {
                            state: state.to_string(),
                            message: format!(
                                "`{k}` must be a path or an intrinsic function string"
                            ),
                        });
                    };
                    let value = if expr.starts_with("States.") {
                        intrinsic(expr, data, context, state, uuid)?
                    } else {
                        read(expr, data, context, state)?
                    };
                    out.insert(key.to_string(), value);
                } else {
                    out.insert(k.clone(), template(v, data, context, state, uuid)?);
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(a) => a
            .iter()
            .map(|v| template(v, data, context, state, uuid))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        v => Ok(v.clone()),
    }
}

/// The intrinsic functions supported; others are refused when the definition is checked.
pub const INTRINSICS: &[&str] = &[
    "States.Format",
    "States.StringToJson",
    "States.JsonToString",
    "States.Array",
    "States.ArrayLength",
    "States.MathAdd",
    "States.UUID",
];

/// Names of intrinsic functions a string calls.
pub fn intrinsic_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("States.") {
        let tail = &rest[i..];
        let end = tail.find('(').unwrap_or(tail.len());
        names.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

fn intrinsic(
    expr: &str,
    data: &Value,
    context: &Value,
    state: &str,
    uuid: &mut dyn FnMut() -> String,
) -> Result<Value, AslError> {
    let mut p = Intrinsic {
        s: expr.as_bytes(),
        i: 0,
        expr,
        state,
    };
    let v = p.call(data, context, uuid)?;
    if p.i != p.s.len() {
        return Err(p.err("unexpected text after the call"));
    }
    Ok(v)
}

struct Intrinsic<'a> {
    s: &'a [u8],
    i: usize,
    expr: &'a str,
    state: &'a str,
}

impl Intrinsic<'_> {
    fn err(&self, m: &str) -> AslError {
        AslError::Runtime {
            state: self.state.to_string(),
            message: format!("intrinsic `{}`: {m}", self.expr),
        }
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i] == b' ' {
            self.i += 1;
        }
    }
    fn call(
        &mut self,
        data: &Value,
        context: &Value,
        uuid: &mut dyn FnMut() -> String,
    ) -> Result<Value, AslError> {
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i] != b'(' {
            self.i += 1;
        }
        let name = String::from_utf8_lossy(&self.s[start..self.i]).to_string();
        if self.i >= self.s.len() {
            return Err(self.err("expected `(`"));
        }
        self.i += 1;
        let mut args = Vec::new();
        loop {
            self.ws();
            if self.s.get(self.i) == Some(&b')') {
                self.i += 1;
                break;
            }
            args.push(self.arg(data, context, uuid)?);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b')') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(self.err("expected `,` or `)`")),
            }
        }
        self.apply(&name, args, uuid)
    }
    fn arg(
        &mut self,
        data: &Value,
        context: &Value,
        uuid: &mut dyn FnMut() -> String,
    ) -> Result<Value, AslError> {
        match self.s.get(self.i) {
            Some(b'\'') => {
                self.i += 1;
                let mut out = String::new();
                while let Some(&c) = self.s.get(self.i) {
                    self.i += 1;
                    match c {
                        b'\\' => {
                            if let Some(&n) = self.s.get(self.i) {
                                out.push(n as char);
                                self.i += 1;
                            }
                        }
                        b'\'' => return Ok(Value::String(out)),
                        c => out.push(c as char),
                    }
                }
                Err(self.err("unterminated string"))
            }
            Some(b'$') => {
                let start = self.i;
                while self.i < self.s.len() && !matches!(self.s[self.i], b',' | b')') {
                    self.i += 1;
                }
                let path = String::from_utf8_lossy(&self.s[start..self.i])
                    .trim()
                    .to_string();
                read(&path, data, context, self.state)
            }
            Some(b'S') => self.call(data, context, uuid),
            _ => {
                let start = self.i;
                while self.i < self.s.len() && !matches!(self.s[self.i], b',' | b')') {
                    self.i += 1;
                }
                let lit = String::from_utf8_lossy(&self.s[start..self.i])
                    .trim()
                    .to_string();
                serde_json::from_str(&lit)
                    .map_err(|_| self.err(&format!("`{lit}` is not a literal")))
            }
        }
    }
    fn apply(
        &self,
        name: &str,
        args: Vec<Value>,
        uuid: &mut dyn FnMut() -> String,
    ) -> Result<Value, AslError> {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        match name {
            "States.Format" => {
                let Some(Value::String(fmt)) = args.first() else {
                    return Err(self.err("States.Format takes a format string first"));
                };
                let mut out = String::new();
                let mut rest = args[1..].iter();
                let mut chars = fmt.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '{' && chars.peek() == Some(&'}') {
                        chars.next();
                        out.push_str(&text(
                            rest.next()
                                .ok_or_else(|| self.err("more {} than arguments"))?,
                        ));
                    } else {
                        out.push(c);
                    }
                }
                Ok(Value::String(out))
            }
            "States.StringToJson" => match args.as_slice() {
                [Value::String(s)] => {
                    serde_json::from_str(s).map_err(|e| self.err(&format!("not JSON: {e}")))
                }
                _ => Err(self.err("States.StringToJson takes one string")),
            },
            "States.JsonToString" => match args.as_slice() {
                [v] => Ok(Value::String(v.to_string())),
                _ => Err(self.err("States.JsonToString takes one value")),
            },
            "States.Array" => Ok(Value::Array(args)),
            "States.ArrayLength" => match args.as_slice() {
                [Value::Array(a)] => Ok(Value::from(a.len())),
                _ => Err(self.err("States.ArrayLength takes one array")),
            },
            "States.MathAdd" => match args.as_slice() {
                [a, b] => match (a.as_i64(), b.as_i64()) {
                    (Some(a), Some(b)) => Ok(Value::from(a + b)),
                    _ => Err(self.err("States.MathAdd takes two integers")),
                },
                _ => Err(self.err("States.MathAdd takes two integers")),
            },
            "States.UUID" => Ok(Value::String(uuid())),
            other => Err(self.err(&format!(
                "`{other}` is not supported; supported: {}",
                INTRINSICS.join(", ")
            ))),
        }
    }
}
