//! A whole template: parameters, conditions, resources, outputs.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use super::{Expr, LogicalId, Resource};

/// A template parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub parameter_type: String,
    pub description: Option<String>,
    pub default: Option<Expr>,
    pub allowed_values: Vec<String>,
    pub no_echo: bool,
    /// Every other key (MinValue, MaxLength, AllowedPattern, ConstraintDescription ...),
    /// kept verbatim.
    pub constraints: BTreeMap<String, Expr>,
}

impl Parameter {
    /// A parameter of the given type (`String`, `Number`, `AWS::EC2::VPC::Id` ...).
    pub fn new(parameter_type: impl Into<String>) -> Self {
        Parameter {
            parameter_type: parameter_type.into(),
            description: None,
            default: None,
            allowed_values: Vec::new(),
            no_echo: false,
            constraints: BTreeMap::new(),
        }
    }
}

/// A template output, optionally exported for other stacks.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub value: Expr,
    pub description: Option<String>,
    pub export_name: Option<Expr>,
    pub condition: Option<String>,
}

impl Output {
    /// An output with a value and nothing else.
    pub fn new(value: Expr) -> Self {
        Output {
            value,
            description: None,
            export_name: None,
            condition: None,
        }
    }
}

/// A CloudFormation template. Resources and outputs keep the order they were declared in;
/// parameters, conditions and property keys are sorted; so rendering is deterministic.
///
/// ```
/// use ordersctl::template::{Resource, Template};
/// let mut t = Template::default();
/// t.add_resource("Queue", Resource::new("AWS::SQS::Queue")).unwrap();
/// assert!(t.add_resource("Queue", Resource::new("AWS::SQS::Queue")).is_err());
/// assert!(t.to_json_string().contains("\"AWS::SQS::Queue\""));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template {
    pub description: Option<String>,
    pub metadata: BTreeMap<String, Expr>,
    pub parameters: BTreeMap<String, Parameter>,
    pub conditions: BTreeMap<String, Expr>,
    pub resources: IndexMap<String, Resource>,
    pub outputs: IndexMap<String, Output>,
    /// Every other top-level section (Mappings, Rules, Transform, Globals, Hooks ...), kept
    /// verbatim so a template ordersctl did not write renders back as it was.
    pub sections: BTreeMap<String, Expr>,
    /// `Fn::ForEach` loops of `Resources`, as written; the resources they expand to are in
    /// `resources` (for analysis) and not rendered themselves.
    pub for_each: Vec<super::for_each::ForEachLoop>,
    /// `Fn::ForEach` loops of `Outputs`, as written.
    pub output_loops: Vec<(String, Expr)>,
}

/// A logical ID used twice in one template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("logical ID `{0}` is already used in this template")]
pub struct DuplicateLogicalId(pub String);

impl Template {
    /// Add a resource; a logical ID already taken by a resource, parameter or output is an error.
    pub fn add_resource(
        &mut self,
        id: impl Into<String>,
        resource: Resource,
    ) -> Result<(), DuplicateLogicalId> {
        let id = id.into();
        if self.is_taken(&id) {
            return Err(DuplicateLogicalId(id));
        }
        self.resources.insert(id, resource);
        Ok(())
    }

    /// Add a parameter (same uniqueness rule as resources).
    pub fn add_parameter(
        &mut self,
        id: impl Into<String>,
        p: Parameter,
    ) -> Result<(), DuplicateLogicalId> {
        let id = id.into();
        if self.is_taken(&id) {
            return Err(DuplicateLogicalId(id));
        }
        self.parameters.insert(id, p);
        Ok(())
    }

    /// Add an output; output IDs share a namespace with each other only.
    pub fn add_output(
        &mut self,
        id: impl Into<String>,
        o: Output,
    ) -> Result<(), DuplicateLogicalId> {
        let id = id.into();
        if self.outputs.contains_key(&id) {
            return Err(DuplicateLogicalId(id));
        }
        self.outputs.insert(id, o);
        Ok(())
    }

    /// Whether a resource or parameter already uses this ID.
    pub fn is_taken(&self, id: &str) -> bool {
        self.resources.contains_key(id) || self.parameters.contains_key(id)
    }

    /// Every value in the template, mutably (properties, outputs, conditions, metadata).
    pub fn walk_exprs_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        for r in self.resources.values_mut() {
            r.properties.values_mut().for_each(|e| e.walk_mut(f));
            r.metadata.values_mut().for_each(|e| e.walk_mut(f));
        }
        for o in self.outputs.values_mut() {
            o.value.walk_mut(f);
            if let Some(e) = o.export_name.as_mut() {
                e.walk_mut(f);
            }
        }
        self.conditions.values_mut().for_each(|e| e.walk_mut(f));
    }

    /// Check every logical ID against the naming rules.
    pub fn validate_ids(&self) -> Result<(), super::LogicalIdError> {
        for id in self
            .resources
            .keys()
            .chain(self.parameters.keys())
            .chain(self.outputs.keys())
        {
            LogicalId::new(id.clone())?;
        }
        Ok(())
    }
}
