//! A resource in a template: type, properties and the resource attributes.

use std::collections::{BTreeMap, BTreeSet};

use super::Expr;

/// DeletionPolicy / UpdateReplacePolicy values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Delete,
    Retain,
    RetainExceptOnCreate,
    Snapshot,
}

impl Policy {
    /// The CloudFormation spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Delete => "Delete",
            Policy::Retain => "Retain",
            Policy::RetainExceptOnCreate => "RetainExceptOnCreate",
            Policy::Snapshot => "Snapshot",
        }
    }
}

/// One resource.
///
/// ```
/// use ordersctl::template::{Expr, Resource};
/// let mut r = Resource::new("AWS::SQS::Queue");
/// r.set("VisibilityTimeout", 60u32);
/// r.set_path(&["RedrivePolicy", "maxReceiveCount"], Expr::Int(3));
/// assert_eq!(r.properties["RedrivePolicy"], Expr::map([("maxReceiveCount", Expr::Int(3))]));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub resource_type: String,
    pub properties: BTreeMap<String, Expr>,
    pub depends_on: BTreeSet<String>,
    pub deletion_policy: Option<Policy>,
    pub update_replace_policy: Option<Policy>,
    pub condition: Option<String>,
    pub metadata: BTreeMap<String, Expr>,
    /// Every other resource attribute (UpdatePolicy, CreationPolicy ...), kept verbatim.
    pub attributes: BTreeMap<String, Expr>,
}

impl Resource {
    /// A resource of the given type with no properties.
    pub fn new(resource_type: impl Into<String>) -> Self {
        Resource {
            resource_type: resource_type.into(),
            properties: BTreeMap::new(),
            depends_on: BTreeSet::new(),
            deletion_policy: None,
            update_replace_policy: None,
            condition: None,
            metadata: BTreeMap::new(),
            attributes: BTreeMap::new(),
        }
    }

    /// Set a top-level property.
    pub fn set(&mut self, key: &str, value: impl Into<Expr>) -> &mut Self {
        self.properties.insert(key.to_string(), value.into());
        self
    }

    /// Set a property only when a value is given.
    pub fn set_opt<V: Into<Expr>>(&mut self, key: &str, value: Option<V>) -> &mut Self {
        if let Some(v) = value {
            self.set(key, v);
        }
        self
    }

    /// Set a nested property, creating maps on the way (the escape hatch's override).
    /// `Expr::Null` as the value deletes the property instead.
    pub fn set_path(&mut self, path: &[&str], value: Expr) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut map = &mut self.properties;
        for p in parents {
            let entry = map
                .entry(p.to_string())
                .or_insert_with(|| Expr::Map(BTreeMap::new()));
            if !matches!(entry, Expr::Map(_)) {
                *entry = Expr::Map(BTreeMap::new());
            }
            let Expr::Map(m) = entry else {
                unreachable!("just made a map")
            };
            map = m;
        }
        if value == Expr::Null {
            map.remove(*last);
        } else {
            map.insert(last.to_string(), value);
        }
    }

    /// DeletionPolicy and UpdateReplacePolicy together, as a removal policy.
    pub fn removal(&mut self, policy: Policy) -> &mut Self {
        self.deletion_policy = Some(policy);
        self.update_replace_policy = Some(policy);
        self
    }

    /// Every logical ID this resource references in properties, conditions and DependsOn.
    pub fn references(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self.depends_on.iter().cloned().collect();
        for v in self.properties.values() {
            out.extend(v.references());
        }
        out
    }
}
