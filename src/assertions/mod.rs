//! Assertions on synthesized templates for a project's own tests, the Rust counterpart of
//! `aws-cdk-lib/assertions`: find a resource by type and properties, count resources, find an
//! output; partial matchers (`Match`) and captures. A failed assertion panics, as `assert!`
//! does, with the closest candidate and what differs in it.
//!
//! ```
//! use ordersctl::assertions::{Match, Template};
//! use serde_json::json;
//! let app = ordersctl::constructs::App::new();
//! let stack = app.stack("Orders");
//! stack.queue("Jobs").visibility_timeout(ordersctl::constructs::Duration::secs(60)).build().unwrap();
//! let template = Template::from_app(&app, "Orders").unwrap();
//! template.resource_count_is("AWS::SQS::Queue", 1);
//! template.has_resource_properties("AWS::SQS::Queue", json!({"VisibilityTimeout": 60}));
//! template.has_resource_properties("AWS::SQS::Queue", Match::object_like(json!({"VisibilityTimeout": Match::any_value()})));
//! ```

mod matcher;

pub use matcher::{Capture, Match};

use serde_json::Value;

use crate::constructs::App;
use crate::synth::{synthesize, Assembly};

/// Why a template could not be had for assertions.
#[derive(Debug, thiserror::Error)]
pub enum AssertionError {
    #[error("synth failed: {0}")]
    Synth(String),
    #[error("no stack named `{name}`; stacks: {known}")]
    NoStack { name: String, known: String },
}

/// One stack's template, as CloudFormation would receive it.
#[derive(Debug, Clone)]
pub struct Template {
    json: Value,
}

impl Template {
    /// The template of `stack` in an app (synthesized here).
    pub fn from_app(app: &App, stack: &str) -> Result<Template, AssertionError> {
        let assembly = synthesize(app).map_err(|e| AssertionError::Synth(e.to_string()))?;
        Template::from_assembly(&assembly, stack)
    }

    /// The template of `stack` in a synthesized assembly.
    pub fn from_assembly(assembly: &Assembly, stack: &str) -> Result<Template, AssertionError> {
        let s = assembly
            .stack(stack)
            .ok_or_else(|| AssertionError::NoStack {
                name: stack.to_string(),
                known: assembly
                    .stacks
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        Ok(Template::from_json(s.template.to_json_value()))
    }

    /// A template already in JSON form (read from a file, say).
    pub fn from_json(json: Value) -> Template {
        Template { json }
    }

    fn resources_of<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = (&'a String, &'a Value)> {
        self.json["Resources"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(move |(_, r)| r["Type"] == ty)
    }

    /// Some resource of type `ty` has properties that `props` matches (a literal object is
    /// matched as `Match::object_like`, as CDK does). Panics, naming the closest resource and
    /// what differs in it, when none does.
    #[track_caller]
    pub fn has_resource_properties(&self, ty: &str, props: impl Into<Match>) {
        if let Err(e) = self.find_resource_properties(ty, props) {
            panic!("{e}");
        }
    }

    /// As [`Template::has_resource_properties`], returning the failure instead of panicking.
    pub fn find_resource_properties(
        &self,
        ty: &str,
        props: impl Into<Match>,
    ) -> Result<String, String> {
        let pattern = props.into().at_top();
        let mut closest: Option<(usize, &String, Vec<String>)> = None;
        for (id, r) in self.resources_of(ty) {
            let empty = Value::Object(Default::default());
            let actual = r.get("Properties").unwrap_or(&empty);
            let misses = pattern.mismatches(actual, "");
            if misses.is_empty() {
                pattern.commit(actual);
                return Ok(id.clone());
            }
            if closest.as_ref().is_none_or(|(n, _, _)| misses.len() < *n) {
                closest = Some((misses.len(), id, misses));
            }
        }
        Err(match closest {
            None => format!("no resource of type {ty} in the template"),
            Some((_, id, misses)) => format!(
                "no {ty} matches; the closest is {id}, where:\n  {}",
                misses.join("\n  ")
            ),
        })
    }

    /// Exactly `count` resources of type `ty`. Panics with the count found otherwise.
    #[track_caller]
    pub fn resource_count_is(&self, ty: &str, count: usize) {
        let found = self.resources_of(ty).count();
        assert_eq!(
            found, count,
            "expected {count} resource(s) of type {ty}, found {found}"
        );
    }

    /// An output named `name` (`"*"`: any) whose definition `props` matches.
    #[track_caller]
    pub fn has_output(&self, name: &str, props: impl Into<Match>) {
        let pattern = props.into().at_top();
        let outputs = self.json["Outputs"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut seen = Vec::new();
        for (id, o) in &outputs {
            if name != "*" && id != name {
                continue;
            }
            let misses = pattern.mismatches(o, "");
            if misses.is_empty() {
                pattern.commit(o);
                return;
            }
            seen.push(format!("{id}: {}", misses.join("; ")));
        }
        panic!(
            "no output {name} matches{}",
            if seen.is_empty() {
                format!(
                    "; outputs: {}",
                    outputs.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            } else {
                format!(":\n  {}", seen.join("\n  "))
            }
        );
    }
}

#[cfg(test)]
mod tests;
