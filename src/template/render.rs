//! Deterministic JSON and YAML rendering.
//!
//! Top-level sections and resource attributes come in the order CloudFormation documents
//! them; property keys are sorted; resources and outputs keep declaration order. Two renders
//! of the same template are byte-identical.

use serde_json::{json, Map, Value};

use super::{Output, Parameter, Resource, Template};

/// Output format of a rendered template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Json,
    Yaml,
}

impl Format {
    /// File extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
        }
    }
}

impl Template {
    /// The template as a JSON value with CloudFormation's section order.
    pub fn to_json_value(&self) -> Value {
        let mut root = Map::new();
        root.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
        if let Some(d) = &self.description {
            root.insert("Description".into(), json!(d));
        }
        if !self.metadata.is_empty() {
            root.insert(
                "Metadata".into(),
                map_of(self.metadata.iter().map(|(k, v)| (k.clone(), v.to_json()))),
            );
        }
        if !self.parameters.is_empty() {
            root.insert(
                "Parameters".into(),
                map_of(
                    self.parameters
                        .iter()
                        .map(|(k, p)| (k.clone(), parameter_json(p))),
                ),
            );
        }
        for (k, v) in &self.sections {
            root.insert(k.clone(), v.to_json());
        }
        if !self.conditions.is_empty() {
            root.insert(
                "Conditions".into(),
                map_of(
                    self.conditions
                        .iter()
                        .map(|(k, c)| (k.clone(), c.to_json())),
                ),
            );
        }
        // Resources a Fn::ForEach loop expands to render as the loop, as written.
        let looped: std::collections::BTreeSet<&String> =
            self.for_each.iter().flat_map(|l| &l.expanded).collect();
        root.insert(
            "Resources".into(),
            map_of(
                self.resources
                    .iter()
                    .filter(|(k, _)| !looped.contains(k))
                    .map(|(k, r)| (k.clone(), resource_json(r)))
                    .chain(
                        self.for_each
                            .iter()
                            .map(|l| (l.key.clone(), l.body.to_json())),
                    ),
            ),
        );
        if !self.outputs.is_empty() || !self.output_loops.is_empty() {
            root.insert(
                "Outputs".into(),
                map_of(
                    self.outputs
                        .iter()
                        .map(|(k, o)| (k.clone(), output_json(o)))
                        .chain(
                            self.output_loops
                                .iter()
                                .map(|(k, e)| (k.clone(), e.to_json())),
                        ),
                ),
            );
        }
        Value::Object(root)
    }

    /// Pretty JSON (two-space indent) with a trailing newline.
    pub fn to_json_string(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.to_json_value())
            .expect("a JSON value always serializes");
        s.push('\n');
        s
    }

    /// YAML in long form (`Fn::GetAtt:` keys, no short tags), safe for YAML 1.1 readers.
    pub fn to_yaml_string(&self) -> String {
        super::yaml::to_yaml(&self.to_json_value())
    }

    /// Render in the given format.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => self.to_json_string(),
            Format::Yaml => self.to_yaml_string(),
        }
    }
}

fn map_of(entries: impl Iterator<Item = (String, Value)>) -> Value {
    Value::Object(entries.collect())
}

fn parameter_json(p: &Parameter) -> Value {
    let mut m = Map::new();
    m.insert("Type".into(), json!(p.parameter_type));
    if let Some(d) = &p.description {
        m.insert("Description".into(), json!(d));
    }
    if let Some(d) = &p.default {
        m.insert("Default".into(), d.to_json());
    }
    if !p.allowed_values.is_empty() {
        m.insert("AllowedValues".into(), json!(p.allowed_values));
    }
    if p.no_echo {
        m.insert("NoEcho".into(), json!(true));
    }
    for (k, v) in &p.constraints {
        m.insert(k.clone(), v.to_json());
    }
    Value::Object(m)
}

fn resource_json(r: &Resource) -> Value {
    let mut m = Map::new();
    m.insert("Type".into(), json!(r.resource_type));
    if let Some(c) = &r.condition {
        m.insert("Condition".into(), json!(c));
    }
    if !r.depends_on.is_empty() {
        m.insert(
            "DependsOn".into(),
            json!(r.depends_on.iter().collect::<Vec<_>>()),
        );
    }
    if !r.properties.is_empty() {
        m.insert(
            "Properties".into(),
            map_of(r.properties.iter().map(|(k, v)| (k.clone(), v.to_json()))),
        );
    }
    if let Some(p) = r.deletion_policy {
        m.insert("DeletionPolicy".into(), json!(p.as_str()));
    }
    if let Some(p) = r.update_replace_policy {
        m.insert("UpdateReplacePolicy".into(), json!(p.as_str()));
    }
    if !r.metadata.is_empty() {
        m.insert(
            "Metadata".into(),
            map_of(r.metadata.iter().map(|(k, v)| (k.clone(), v.to_json()))),
        );
    }
    for (k, v) in &r.attributes {
        m.insert(k.clone(), v.to_json());
    }
    Value::Object(m)
}

fn output_json(o: &Output) -> Value {
    let mut m = Map::new();
    if let Some(d) = &o.description {
        m.insert("Description".into(), json!(d));
    }
    if let Some(c) = &o.condition {
        m.insert("Condition".into(), json!(c));
    }
    m.insert("Value".into(), o.value.to_json());
    if let Some(e) = &o.export_name {
        m.insert("Export".into(), json!({ "Name": e.to_json() }));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Expr, Policy};

    fn sample() -> Template {
        let mut t = Template {
            description: Some("d".into()),
            ..Default::default()
        };
        let mut q = Resource::new("AWS::SQS::Queue");
        q.set("VisibilityTimeout", 60u32).set("QueueName", "Q");
        q.removal(Policy::Retain);
        q.depends_on.insert("Other".into());
        t.add_resource("Queue", q).unwrap();
        t.add_resource("Other", Resource::new("AWS::SNS::Topic"))
            .unwrap();
        t.add_parameter("Env", Parameter::new("String")).unwrap();
        let mut o = Output::new(Expr::ref_("Queue"));
        o.export_name = Some(Expr::sub("${AWS::StackName}-Queue"));
        t.add_output("QueueUrl", o).unwrap();
        t
    }

    #[test]
    fn sections_and_attributes_come_in_cloudformation_order() {
        let s = sample().to_json_string();
        let pos = |k: &str| s.find(k).unwrap_or_else(|| panic!("{k} missing in {s}"));
        assert!(pos("AWSTemplateFormatVersion") < pos("\"Description\""));
        assert!(pos("\"Parameters\"") < pos("\"Resources\""));
        assert!(pos("\"Resources\"") < pos("\"Outputs\""));
        // declaration order of resources, sorted property keys
        assert!(pos("\"Queue\": {") < pos("\"Other\": {"));
        assert!(pos("\"QueueName\"") < pos("\"VisibilityTimeout\""));
        assert!(pos("\"DependsOn\"") < pos("\"Properties\""));
        assert!(pos("\"Properties\"") < pos("\"DeletionPolicy\""));
        assert!(s.ends_with("}\n"));
    }

    #[test]
    fn rendering_is_byte_identical_and_yaml_parses_back() {
        let t = sample();
        assert_eq!(t.to_json_string(), sample().to_json_string());
        let yaml: Value = serde_yaml::from_str(&t.to_yaml_string()).unwrap();
        assert_eq!(yaml, t.to_json_value());
        assert!(t
            .to_yaml_string()
            .starts_with("AWSTemplateFormatVersion: '2010-09-09'\n"));
    }
}
