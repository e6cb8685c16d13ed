//! Reading a CloudFormation JSON template back into the model (for `deploy --app DIR`, and
//! later `check --template` and `diff`).

use serde_json::Value;

use super::input_limits::{check_size, too_deep, yaml_flow_too_deep, MAX_RESOURCES};
use super::{Expr, Output, Parameter, Policy, Resource, Template};

/// Why a template could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

fn policy(v: &Value, where_: &str) -> Result<Policy, ParseError> {
    match v.as_str() {
        Some("Delete") => Ok(Policy::Delete),
        Some("Retain") => Ok(Policy::Retain),
        Some("RetainExceptOnCreate") => Ok(Policy::RetainExceptOnCreate),
        Some("Snapshot") => Ok(Policy::Snapshot),
        _ => Err(ParseError(format!(
            "{where_}: allowed: Delete, Retain, RetainExceptOnCreate, Snapshot"
        ))),
    }
}

/// No terminal escape or other control character (but tab and line breaks) in any key or
/// string: none belongs in a template, and printed raw it could rewrite a reviewer's screen.
fn no_control_characters<'v>(v: &'v Value, path: &mut Vec<&'v str>) -> Result<(), ParseError> {
    let bad = |s: &str| {
        s.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    };
    let refuse = |path: &[&str], what: &str| {
        ParseError(format!(
            "{}: {what} holds a control character (an escape sequence?); refused",
            if path.is_empty() {
                "the template".to_string()
            } else {
                path.join(".")
            }
        ))
    };
    match v {
        Value::String(s) if bad(s) => Err(refuse(path, "a value")),
        Value::Array(a) => a.iter().try_for_each(|x| no_control_characters(x, path)),
        Value::Object(m) => {
            for (k, x) in m {
                if bad(k) {
                    return Err(refuse(path, &format!("the key {k:?}")));
                }
                path.push(k);
                no_control_characters(x, path)?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A logical ID is letters and digits, as CloudFormation requires (which also keeps terminal
/// escapes and line breaks out of every report that prints one).
fn logical_id(section: &str, id: &str) -> Result<(), ParseError> {
    // The length is ORD023's to report, with the template's other findings.
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(ParseError(format!(
            "{section}.{id:?}: a logical ID is letters and digits only (CloudFormation refuses others)"
        )))
    }
}

/// The keys of `m` the model does not type, kept verbatim.
fn unknown_keys(
    m: &serde_json::Map<String, Value>,
    known: &[&str],
) -> std::collections::BTreeMap<String, Expr> {
    m.iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), Expr::from_json(v)))
        .collect()
}

impl Template {
    /// Parse a JSON template.
    ///
    /// ```
    /// use ordersctl::template::Template;
    /// let t = Template::from_json_str(r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#).unwrap();
    /// assert_eq!(t.resources["Q"].resource_type, "AWS::SQS::Queue");
    /// ```
    pub fn from_json_str(text: &str) -> Result<Template, ParseError> {
        check_size(text.len()).map_err(ParseError)?;
        // A byte-order mark is no part of the document (editors on Windows write one).
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let v: Value = super::strict_json::from_str(text).map_err(|e| {
            if e.to_string().starts_with("recursion limit exceeded") {
                ParseError(too_deep(&format!("line {}", e.line())))
            } else {
                ParseError(format!("not JSON: {e}"))
            }
        })?;
        Template::from_json_value(&v)
    }

    /// Parse a template that may be JSON or YAML, as GetTemplate returns what was deployed:
    /// JSON when it starts with `{`, else YAML.
    ///
    /// ```
    /// use ordersctl::template::Template;
    /// let json = Template::from_json_or_yaml_str(r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#).unwrap();
    /// let yaml = Template::from_json_or_yaml_str("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n").unwrap();
    /// assert_eq!(json, yaml);
    /// ```
    pub fn from_json_or_yaml_str(text: &str) -> Result<Template, ParseError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim_start().starts_with('{') {
            // JSON, or YAML in flow style: the JSON error is the one to show.
            Template::from_json_str(text)
                .or_else(|json| Template::from_yaml_str(text).map_err(|_| json))
        } else {
            Template::from_yaml_str(text)
        }
    }

    /// Parse a YAML template, short intrinsic tags included (`!Ref`, `!GetAtt A.B`, `!Sub` ...).
    ///
    /// ```
    /// use ordersctl::template::{Expr, Template};
    /// let t = Template::from_yaml_str("Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: !GetAtt R.Arn\n").unwrap();
    /// assert_eq!(t.resources["F"].properties["Role"], Expr::get_att("R", "Arn"));
    /// ```
    pub fn from_yaml_str(text: &str) -> Result<Template, ParseError> {
        check_size(text.len()).map_err(ParseError)?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if let Some(line) = yaml_flow_too_deep(text) {
            return Err(ParseError(too_deep(&format!("line {line}"))));
        }
        let v = super::yaml_read::to_json(text).map_err(ParseError)?;
        Template::from_json_value(&v)
    }

    /// Parse a template from a JSON value.
    pub fn from_json_value(v: &Value) -> Result<Template, ParseError> {
        no_control_characters(v, &mut Vec::new())?;
        let root = v
            .as_object()
            .ok_or_else(|| ParseError("a template is a JSON object".into()))?;
        let mut t = Template {
            description: root
                .get("Description")
                .and_then(Value::as_str)
                .map(str::to_string),
            ..Default::default()
        };
        t.sections = unknown_keys(
            root,
            &[
                "AWSTemplateFormatVersion",
                "Description",
                "Metadata",
                "Parameters",
                "Conditions",
                "Resources",
                "Outputs",
            ],
        );
        if let Some(Value::Object(m)) = root.get("Metadata") {
            t.metadata = m
                .iter()
                .map(|(k, v)| (k.clone(), Expr::from_json(v)))
                .collect();
        }
        if let Some(Value::Object(m)) = root.get("Parameters") {
            for (id, p) in m {
                logical_id("Parameters", id)?;
                let mut param =
                    Parameter::new(p.get("Type").and_then(Value::as_str).unwrap_or("String"));
                param.description = p
                    .get("Description")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                param.default = p.get("Default").map(Expr::from_json);
                // `NoEcho: "true"` is as secret as `NoEcho: true` (and renders as written).
                param.no_echo = match p.get("NoEcho") {
                    Some(Value::Bool(b)) => *b,
                    Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
                    _ => false,
                };
                // Allowed values that are all strings are typed; any other list is kept as
                // written, with the other constraints.
                let typed_allowed = match p.get("AllowedValues") {
                    Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
                        param.allowed_values = a
                            .iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect();
                        true
                    }
                    _ => false,
                };
                if let Some(m) = p.as_object() {
                    let mut known = vec!["Type", "Description", "Default"];
                    if matches!(p.get("NoEcho"), None | Some(Value::Bool(_))) {
                        known.push("NoEcho");
                    }
                    if typed_allowed {
                        known.push("AllowedValues");
                    }
                    param.constraints = unknown_keys(m, &known);
                }
                t.parameters.insert(id.clone(), param);
            }
        }
        if let Some(Value::Object(m)) = root.get("Conditions") {
            t.conditions = m
                .iter()
                .map(|(k, v)| (k.clone(), Expr::from_json(v)))
                .collect();
        }
        let resources = root
            .get("Resources")
            .and_then(Value::as_object)
            .ok_or_else(|| ParseError("the template has no Resources object".into()))?;
        if resources.len() > MAX_RESOURCES {
            return Err(ParseError(format!(
                "the template has {} resources; ordersctl reads templates of up to {MAX_RESOURCES} (CloudFormation allows 500)",
                resources.len()
            )));
        }
        let language_extensions =
            super::for_each::has_transform(root, super::for_each::LANGUAGE_EXTENSIONS);
        let no_parameters = serde_json::Map::new();
        let parameters = root
            .get("Parameters")
            .and_then(Value::as_object)
            .unwrap_or(&no_parameters);
        let mut entries: Vec<(String, Value)> = Vec::new();
        for (id, r) in resources {
            if id.starts_with("Fn::ForEach::") && language_extensions {
                let expanded = super::for_each::expand(id, r, parameters).map_err(ParseError)?;
                t.for_each.push(super::for_each::ForEachLoop {
                    key: id.clone(),
                    body: Expr::from_json(r),
                    expanded: expanded.iter().map(|(k, _)| k.clone()).collect(),
                });
                entries.extend(expanded);
            } else {
                entries.push((id.clone(), r.clone()));
            }
        }
        if entries.len() > MAX_RESOURCES {
            return Err(ParseError(format!(
                "the template has {} resources after Fn::ForEach expansion; ordersctl reads templates of up to {MAX_RESOURCES}",
                entries.len()
            )));
        }
        for (id, r) in &entries {
            logical_id("Resources", id)?;
            let kind = |v: &Value| match v {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a string",
                Value::Array(_) => "a list",
                Value::Object(_) => "an object",
            };
            if !r.is_object() {
                return Err(ParseError(format!(
                    "Resources.{id} is {}; a resource is an object with a Type",
                    kind(r)
                )));
            }
            let ty = match r.get("Type") {
                None => return Err(ParseError(format!("Resources.{id}: Type is missing"))),
                Some(Value::String(t)) => t.as_str(),
                Some(other) => {
                    return Err(ParseError(format!(
                        "Resources.{id}.Type is {}; it must be a string such as AWS::SQS::Queue",
                        kind(other)
                    )))
                }
            };
            let mut res = Resource::new(ty);
            match r.get("Properties") {
                Some(Value::Object(p)) => {
                    res.properties = p
                        .iter()
                        .map(|(k, v)| (k.clone(), Expr::from_json(v)))
                        .collect();
                }
                None | Some(Value::Null) => {}
                Some(other) => {
                    return Err(ParseError(format!(
                        "Resources.{id}.Properties is {}; it must be an object",
                        kind(other)
                    )))
                }
            }
            match r.get("DependsOn") {
                Some(Value::String(s)) => {
                    res.depends_on.insert(s.clone());
                }
                Some(Value::Array(a)) if a.iter().all(Value::is_string) => res
                    .depends_on
                    .extend(a.iter().filter_map(|x| x.as_str().map(str::to_string))),
                None => {}
                Some(Value::Array(_)) => {
                    return Err(ParseError(format!(
                        "Resources.{id}.DependsOn holds something other than logical IDs; it must be a logical ID or a list of them"
                    )))
                }
                Some(other) => {
                    return Err(ParseError(format!(
                        "Resources.{id}.DependsOn is {}; it must be a logical ID or a list of them",
                        kind(other)
                    )))
                }
            }
            // Under AWS::LanguageExtensions a policy may be an intrinsic: kept as written.
            let mut policy_exprs = Vec::new();
            for (key, slot) in [
                ("DeletionPolicy", &mut res.deletion_policy),
                ("UpdateReplacePolicy", &mut res.update_replace_policy),
            ] {
                match r.get(key) {
                    None => {}
                    Some(p @ Value::Object(_)) if language_extensions => {
                        policy_exprs.push((key.to_string(), Expr::from_json(p)));
                    }
                    Some(Value::Object(_)) => {
                        return Err(ParseError(format!(
                            "Resources.{id}.{key}: an intrinsic here needs `Transform: {}`; allowed otherwise: Delete, Retain, RetainExceptOnCreate, Snapshot",
                            super::for_each::LANGUAGE_EXTENSIONS
                        )))
                    }
                    Some(p) => *slot = Some(policy(p, &format!("Resources.{id}.{key}"))?),
                }
            }
            res.condition = r
                .get("Condition")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(Value::Object(m)) = r.get("Metadata") {
                res.metadata = m
                    .iter()
                    .map(|(k, v)| (k.clone(), Expr::from_json(v)))
                    .collect();
            }
            if let Some(m) = r.as_object() {
                res.attributes = unknown_keys(
                    m,
                    &[
                        "Type",
                        "Properties",
                        "DependsOn",
                        "DeletionPolicy",
                        "UpdateReplacePolicy",
                        "Condition",
                        "Metadata",
                    ],
                );
            }
            res.attributes.extend(policy_exprs);
            // As written where the typed form would render differently: a single DependsOn
            // string, a list in its own order, an empty Properties object.
            match r.get("DependsOn") {
                Some(d @ Value::String(_)) => {
                    res.attributes
                        .insert("DependsOn".into(), Expr::from_json(d));
                }
                Some(d @ Value::Array(a)) => {
                    let sorted = a.windows(2).all(|w| w[0].as_str() < w[1].as_str());
                    let unique = res.depends_on.len() == a.len();
                    if !sorted || !unique {
                        res.attributes
                            .insert("DependsOn".into(), Expr::from_json(d));
                    }
                }
                _ => {}
            }
            if matches!(r.get("Properties"), Some(Value::Object(p)) if p.is_empty()) {
                res.attributes
                    .insert("Properties".into(), Expr::Map(Default::default()));
            }
            t.resources.insert(id.clone(), res);
        }
        if let Some(Value::Object(m)) = root.get("Outputs") {
            for (id, o) in m {
                if id.starts_with("Fn::ForEach::") && language_extensions {
                    // Kept as written; outputs are not analysed beyond their values.
                    t.output_loops.push((id.clone(), Expr::from_json(o)));
                    continue;
                }
                logical_id("Outputs", id)?;
                let value = o
                    .get("Value")
                    .ok_or_else(|| ParseError(format!("Outputs.{id}: Value is missing")))?;
                let mut out = Output::new(Expr::from_json(value));
                out.description = o
                    .get("Description")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                out.condition = o
                    .get("Condition")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                out.export_name = o
                    .get("Export")
                    .and_then(|e| e.get("Name"))
                    .map(Expr::from_json);
                t.outputs.insert(id.clone(), out);
            }
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_then_parsing_gives_the_same_template() {
        let app = crate::constructs::App::new();
        let s = app.stack("S");
        let q = s
            .queue("Q")
            .retention(crate::constructs::Duration::days(14))
            .build()
            .unwrap();
        s.table("T")
            .partition_key("pk", crate::constructs::Attr::String)
            .build()
            .unwrap();
        s.output("Url", q.url()).description("d").export("S-Url");
        let t = crate::synth::synthesize(&app)
            .unwrap()
            .stacks
            .remove(0)
            .template;
        let back = Template::from_json_str(&t.to_json_string()).unwrap();
        assert_eq!(back.to_json_string(), t.to_json_string());
    }

    #[test]
    fn bad_templates_say_where() {
        assert!(Template::from_json_str("[]")
            .unwrap_err()
            .0
            .contains("JSON object"));
        assert!(Template::from_json_str(r#"{"Resources": {"Q": {}}}"#)
            .unwrap_err()
            .0
            .contains("Resources.Q: Type"));
        let e = Template::from_json_str(r#"{"Resources": {"Q": "AWS::SQS::Queue"}}"#).unwrap_err();
        assert!(e.0.contains("Resources.Q is a string"), "{e}");
        let e = Template::from_json_str(r#"{"Resources": {"Q": {"Type": 7}}}"#).unwrap_err();
        assert!(e.0.contains("Resources.Q.Type is a number"), "{e}");
        let e = Template::from_json_str(r#"{"Resources": {"Q": {"Type": "X", "DependsOn": 5}}}"#)
            .unwrap_err();
        assert!(e.0.contains("Resources.Q.DependsOn is a number"), "{e}");
        let e =
            Template::from_json_str(r#"{"Resources": {"Q": {"Type": "X", "Properties": "x"}}}"#)
                .unwrap_err();
        assert!(e.0.contains("Resources.Q.Properties is a string"), "{e}");
        let e =
            Template::from_json_str("{\"Resources\": {\"Q-1\": {\"Type\": \"X\"}}}").unwrap_err();
        assert!(
            e.0.contains(r#"Resources."Q-1": a logical ID is letters and digits only"#),
            "{e}"
        );
        // An escape sequence anywhere: a key, a Type, a reference.
        for bad in [
            "{\"Resources\": {\"Q\\u001b[2J\": {\"Type\": \"X\"}}}",
            "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\\u001b[31m\"}}}",
            "{\"Resources\": {\"Q\": {\"Type\": \"X\", \"Properties\": {\"A\": {\"Ref\": \"B\\u001b[2J\"}}}}}",
        ] {
            let e = Template::from_json_str(bad).unwrap_err();
            assert!(e.0.contains("holds a control character"), "{bad}: {e}");
        }
        assert!(Template::from_json_str(
            "{\"Resources\": {\"Q\": {\"Type\": \"X\", \"Properties\": {\"Code\": \"a\\n\\tb\"}}}}"
        )
        .is_ok());
        let e = Template::from_json_str(
            r#"{"Resources": {"Q": {"Type": "X", "DeletionPolicy": "Keep"}}}"#,
        )
        .unwrap_err();
        assert!(e.0.contains("Resources.Q.DeletionPolicy"), "{e}");
    }
}
