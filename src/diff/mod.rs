//! What a change does to a stack: template × template → [`StackDiff`], rendered as text,
//! markdown or JSON ([`render`]). Pure: no I/O, no clock.
//!
//! ```
//! use ordersctl::diff::{diff_stack, DiffContext};
//! use ordersctl::template::Template;
//! let old = Template::from_json_str(r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue",
//!     "Properties": {"VisibilityTimeout": 60}}}}"#).unwrap();
//! let new = Template::from_json_str(r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue",
//!     "Properties": {"VisibilityTimeout": 120}}}}"#).unwrap();
//! let d = diff_stack("Orders", &old, &new, &DiffContext::default());
//! assert_eq!(d.summary(), "Orders: 0 to add, 1 to change, 0 to remove");
//! ```

mod compare;
mod entries;
mod iam;
mod properties;
pub mod render;
mod replacement;

use std::collections::BTreeMap;

pub use crate::template::show;
pub use compare::diff_stack;
pub use iam::{security_changes, statements, SecurityChange, Statement};
pub use replacement::{name_property, replacing_properties, update_impact, Impact};

use crate::template::{Expr, Template};

/// What happens to a logical ID (resource, parameter or output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Add,
    Modify,
    Remove,
}

impl Action {
    /// CloudFormation's spelling in change sets.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Add => "Add",
            Action::Modify => "Modify",
            Action::Remove => "Remove",
        }
    }
}

/// What the diff needs to know beyond the two templates.
#[derive(Debug, Clone, Default)]
pub struct DiffContext {
    /// Export name → the other stacks that import it.
    pub imports: BTreeMap<String, Vec<String>>,
}

impl DiffContext {
    /// Who imports what, from every stack's template (`Fn::ImportValue` of a literal name).
    ///
    /// ```
    /// use ordersctl::diff::DiffContext;
    /// use ordersctl::template::Template;
    /// let api = Template::from_json_str(r#"{"Resources": {"Q": {"Type": "AWS::SQS::QueuePolicy",
    ///     "Properties": {"Queues": [{"Fn::ImportValue": "Data:QueueUrl"}]}}}}"#).unwrap();
    /// let ctx = DiffContext::from_stacks([("Api", &api)]);
    /// assert_eq!(ctx.imports["Data:QueueUrl"], ["Api"]);
    /// ```
    pub fn from_stacks<'a>(stacks: impl IntoIterator<Item = (&'a str, &'a Template)>) -> Self {
        let mut imports: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, t) in stacks {
            let mut found = Vec::new();
            let values = t
                .resources
                .values()
                .flat_map(|r| r.properties.values())
                .chain(t.outputs.values().map(|o| &o.value));
            for v in values {
                v.walk(&mut |e| {
                    if let Expr::ImportValue(inner) = e {
                        if let Expr::Str(export) = inner.as_ref() {
                            found.push(export.clone());
                        }
                    }
                });
            }
            for export in found {
                let who = imports.entry(export).or_default();
                if !who.iter().any(|w| w == name) {
                    who.push(name.to_string());
                }
            }
        }
        DiffContext { imports }
    }
}

/// One changed value of a modified resource.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyChange {
    /// `KeySchema[1].AttributeName`; resource attributes in parentheses: `(DeletionPolicy)`.
    pub path: String,
    pub old: Option<Expr>,
    pub new: Option<Expr>,
    pub impact: Impact,
    /// Set when the template text is unchanged but the value changes at deploy time because
    /// a referenced resource is replaced.
    pub cause: Option<String>,
}

/// One resource that differs.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDiff {
    pub logical_id: String,
    pub resource_type: String,
    pub action: Action,
    /// For a modification: the worst impact of its changes.
    pub impact: Option<Impact>,
    pub changes: Vec<PropertyChange>,
    /// A removal paired with an addition of the same type and nearly the same properties:
    /// the other logical ID.
    pub renamed: Option<String>,
}

/// A parameter or output that differs, values in readable form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryChange {
    pub name: String,
    pub action: Action,
    pub old: Option<String>,
    pub new: Option<String>,
    pub cause: Option<String>,
}

/// Everything that differs in one stack.
#[derive(Debug, Clone, PartialEq)]
pub struct StackDiff {
    pub stack: String,
    /// Template-level sections: Mappings, Conditions, Rules, Transform, Globals, Metadata,
    /// Description ... (an entry per key of a section that is a map).
    pub sections: Vec<EntryChange>,
    pub parameters: Vec<EntryChange>,
    pub resources: Vec<ResourceDiff>,
    pub outputs: Vec<EntryChange>,
    pub security: Vec<SecurityChange>,
    /// What needs a human's eyes: data-holding resources renamed, exports in use changed,
    /// named resources that cannot be replaced.
    pub warnings: Vec<String>,
}

impl StackDiff {
    /// Nothing differs.
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
            && self.parameters.is_empty()
            && self.resources.is_empty()
            && self.outputs.is_empty()
            && self.security.is_empty()
    }

    fn count(&self, action: Action) -> usize {
        self.resources.iter().filter(|r| r.action == action).count()
    }

    /// Resources replaced for certain, and possibly.
    pub fn replacements(&self) -> (usize, usize) {
        let n = |i| {
            self.resources
                .iter()
                .filter(|r| r.impact == Some(i))
                .count()
        };
        (n(Impact::Replace), n(Impact::MayReplace))
    }

    /// IAM permissions or resource policies widen.
    pub fn broadens(&self) -> bool {
        self.security.iter().any(|s| s.broadens)
    }

    /// `OrderPipeline: 1 to add, 2 to change (1 replacement), 0 to remove; IAM broadened`.
    pub fn summary(&self) -> String {
        if self.is_empty() {
            return format!("{}: no differences", self.stack);
        }
        let (replace, maybe) = self.replacements();
        let mut detail = Vec::new();
        if replace > 0 {
            detail.push(format!(
                "{replace} replacement{}",
                if replace == 1 { "" } else { "s" }
            ));
        }
        if maybe > 0 {
            detail.push(format!(
                "{maybe} possible replacement{}",
                if maybe == 1 { "" } else { "s" }
            ));
        }
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", detail.join(", "))
        };
        let mut s = format!(
            "{}: {} to add, {} to change{detail}, {} to remove",
            self.stack,
            self.count(Action::Add),
            self.count(Action::Modify),
            self.count(Action::Remove)
        );
        if !self.sections.is_empty() {
            s.push_str(&format!(
                "; {} template-level change(s)",
                self.sections.len()
            ));
        }
        if !self.parameters.is_empty() {
            s.push_str(&format!("; {} parameter change(s)", self.parameters.len()));
        }
        if !self.outputs.is_empty() {
            s.push_str(&format!("; {} output change(s)", self.outputs.len()));
        }
        if self.broadens() {
            s.push_str("; IAM broadened");
        } else if !self.security.is_empty() {
            s.push_str("; IAM changed");
        }
        if !self.warnings.is_empty() {
            s.push_str(&format!("; {} warning(s)", self.warnings.len()));
        }
        s
    }
}
