//! Reading a CloudFormation JSON template back into the model (for `deploy --app DIR`, and
//! later `check --template` and `diff`).

use serde_json::Value;

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

impl Template {
    /// Parse a JSON template.
    ///
    /// ```
    /// use ordersctl::template::Template;
    /// let t = Template::from_json_str(r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#).unwrap();
    /// assert_eq!(t.resources["Q"].resource_type, "AWS::SQS::Queue");
    /// ```
    pub fn from_json_str(text: &str) -> Result<Template, ParseError> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| ParseError(format!("not JSON: {e}")))?;
        Template::from_json_value(&v)
    }

    /// Parse a template from a JSON value.
    pub fn from_json_value(v: &Value) -> Result<Template, ParseError> {
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
        if let Some(Value::Object(m)) = root.get("Metadata") {
            t.metadata = m
                .iter()
                .map(|(k, v)| (k.clone(), Expr::from_json(v)))
                .collect();
        }
        if let Some(Value::Object(m)) = root.get("Parameters") {
            for (id, p) in m {
                let mut param =
                    Parameter::new(p.get("Type").and_then(Value::as_str).unwrap_or("String"));
                param.description = p
                    .get("Description")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                param.default = p.get("Default").map(Expr::from_json);
                param.no_echo = p.get("NoEcho").and_then(Value::as_bool).unwrap_or(false);
                if let Some(Value::Array(a)) = p.get("AllowedValues") {
                    param.allowed_values = a
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect();
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
        for (id, r) in resources {
            let ty = r
                .get("Type")
                .and_then(Value::as_str)
                .ok_or_else(|| ParseError(format!("Resources.{id}: Type is missing")))?;
            let mut res = Resource::new(ty);
            if let Some(Value::Object(p)) = r.get("Properties") {
                res.properties = p
                    .iter()
                    .map(|(k, v)| (k.clone(), Expr::from_json(v)))
                    .collect();
            }
            match r.get("DependsOn") {
                Some(Value::String(s)) => {
                    res.depends_on.insert(s.clone());
                }
                Some(Value::Array(a)) => res
                    .depends_on
                    .extend(a.iter().filter_map(|x| x.as_str().map(str::to_string))),
                _ => {}
            }
            if let Some(p) = r.get("DeletionPolicy") {
                res.deletion_policy = Some(policy(p, &format!("Resources.{id}.DeletionPolicy"))?);
            }
            if let Some(p) = r.get("UpdateReplacePolicy") {
                res.update_replace_policy =
                    Some(policy(p, &format!("Resources.{id}.UpdateReplacePolicy"))?);
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
            t.resources.insert(id.clone(), res);
        }
        if let Some(Value::Object(m)) = root.get("Outputs") {
            for (id, o) in m {
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
        let e = Template::from_json_str(
            r#"{"Resources": {"Q": {"Type": "X", "DeletionPolicy": "Keep"}}}"#,
        )
        .unwrap_err();
        assert!(e.0.contains("Resources.Q.DeletionPolicy"), "{e}");
    }
}
