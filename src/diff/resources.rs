//! Resources added, removed and modified between two templates.

use crate::template::Template;

/// What happens to one logical ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResourceAction {
    Add,
    Modify,
    Remove,
}

impl ResourceAction {
    /// CloudFormation's spelling in change sets.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceAction::Add => "Add",
            ResourceAction::Modify => "Modify",
            ResourceAction::Remove => "Remove",
        }
    }
}

/// One resource that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDelta {
    pub action: ResourceAction,
    pub logical_id: String,
    /// The new type (the old one for a removal).
    pub resource_type: String,
}

/// The resources that differ, in the new template's order, then the removed ones in the old
/// template's order. A resource whose type changes is modified (CloudFormation rejects that
/// update; the change is still reported).
///
/// ```
/// use ordersctl::diff::{resource_changes, ResourceAction};
/// use ordersctl::template::Template;
/// let old = Template::from_json_str(r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#).unwrap();
/// let new = Template::from_json_str(r#"{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}"#).unwrap();
/// let d = resource_changes(&old, &new);
/// assert_eq!((d[0].action, d[0].logical_id.as_str()), (ResourceAction::Add, "T"));
/// assert_eq!((d[1].action, d[1].logical_id.as_str()), (ResourceAction::Remove, "Q"));
/// ```
pub fn resource_changes(old: &Template, new: &Template) -> Vec<ResourceDelta> {
    let mut out = Vec::new();
    for (id, r) in &new.resources {
        let action = match old.resources.get(id) {
            None => ResourceAction::Add,
            Some(o) if o != r => ResourceAction::Modify,
            Some(_) => continue,
        };
        out.push(ResourceDelta {
            action,
            logical_id: id.clone(),
            resource_type: r.resource_type.clone(),
        });
    }
    for (id, r) in &old.resources {
        if !new.resources.contains_key(id) {
            out.push(ResourceDelta {
                action: ResourceAction::Remove,
                logical_id: id.clone(),
                resource_type: r.resource_type.clone(),
            });
        }
    }
    out
}
