//! A stack: one CloudFormation template, and the bookkeeping constructs share while building it.

use crate::spec::cfn;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use indexmap::IndexMap;

use super::iam::{PolicyDocument, Statement};
pub(crate) use super::node::{handle, Facts, Imported, Node};
use super::suppression::Suppression;
use super::SynthError;
use crate::template::{Expr, LogicalId, Output, Parameter, Resource, StackId, Template};

/// Name of the stack parameter that receives the asset bucket at deploy time.
pub const ASSET_BUCKET_PARAMETER: &str = "AssetBucket";

/// A deployable unit: one CloudFormation stack. Made by [`crate::constructs::App::stack`].
///
/// ```
/// use ordersctl::constructs::App;
/// use ordersctl::template::Expr;
/// let app = App::new();
/// let stack = app.stack("Demo");
/// stack.description("A demo stack");
/// stack.output("Region", Expr::sub("${AWS::Region}")).description("Where it runs");
/// ```
pub struct Stack {
    id: StackId,
    name: String,
    pub(crate) state: Rc<RefCell<StackState>>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack").field("name", &self.name).finish()
    }
}

/// Who holds a policy that grants accumulate into.
#[derive(Debug, Clone)]
pub(crate) enum PolicyHolder {
    /// Inline policy on an `AWS::IAM::Role`.
    Role { policy_name: String },
    /// An `AWS::SQS::QueuePolicy` for the queue with this logical ID.
    Queue { queue: String },
    /// An `AWS::SNS::TopicPolicy` for the topic with this logical ID.
    Topic { topic: String },
    /// The `KeyPolicy` property of the `AWS::KMS::Key` with the holder's logical ID.
    Key,
    /// An `AWS::IAM::Policy` attached to a role made outside the app (by name).
    ImportedRole { role_name: Expr },
}

#[derive(Debug, Clone)]
pub(crate) struct PendingPolicy {
    pub holder: PolicyHolder,
    pub document: PolicyDocument,
    pub path: String,
}

/// A Lambda code asset the stack needs: built from a handler crate by the bundler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Logical ID of the function that runs it.
    pub function: String,
    /// Construct path of that function.
    pub path: String,
    /// The handler crate under `handlers/`.
    pub handler_crate: String,
    /// CPU architecture the function runs on.
    pub architecture: super::Architecture,
    /// Object key the template points at.
    pub s3_key: String,
    /// Fingerprint of the asset's inputs, when the asset source computed one.
    pub fingerprint: Option<String>,
}

#[derive(Debug, Clone)]
struct Override {
    logical_id: String,
    path: Vec<String>,
    value: Expr,
}

/// Mutable state behind a [`Stack`].
#[derive(Debug)]
pub(crate) struct StackState {
    pub name: String,
    pub template: Template,
    pub nodes: Vec<Node>,
    pub assets: Vec<Asset>,
    owners: HashMap<String, String>,
    policies: IndexMap<String, PendingPolicy>,
    overrides: Vec<Override>,
    suppressions: Vec<Suppression>,
    /// Problems found by calls that return no `Result` (outputs, grants); synth reports the first.
    errors: Vec<SynthError>,
    /// What alarms built without their own actions notify.
    pub(crate) default_alarm_actions: Vec<Expr>,
    /// Whether the app vouched for its handlers ([`App::assure_handlers`](super::App::assure_handlers)).
    pub(crate) handlers_assured: Rc<std::cell::Cell<bool>>,
}

impl StackState {
    pub(crate) fn new(name: &str) -> Self {
        StackState {
            name: name.to_string(),
            template: Template::default(),
            nodes: Vec::new(),
            assets: Vec::new(),
            owners: HashMap::new(),
            policies: IndexMap::new(),
            overrides: Vec::new(),
            suppressions: Vec::new(),
            errors: Vec::new(),
            default_alarm_actions: Vec::new(),
            handlers_assured: Rc::default(),
        }
    }

    /// The template with accumulated policies and overrides applied.
    pub(crate) fn finalize(&self) -> Result<Template, SynthError> {
        if let Some(e) = self.errors.first() {
            return Err(e.clone());
        }
        let mut t = self.template.clone();
        for (holder_id, pending) in &self.policies {
            if pending.document.is_empty() {
                continue;
            }
            let doc = pending.document.to_expr();
            match &pending.holder {
                PolicyHolder::Role { policy_name } => {
                    let role = t
                        .resources
                        .get_mut(holder_id)
                        .ok_or_else(|| missing(&pending.path, holder_id))?;
                    let policy = Expr::map([
                        (cfn::PolicyName, Expr::from(policy_name.as_str())),
                        (cfn::PolicyDocument, doc),
                    ]);
                    role.set(cfn::Policies, Expr::list([policy]));
                }
                PolicyHolder::Key => {
                    let key = t
                        .resources
                        .get_mut(holder_id)
                        .ok_or_else(|| missing(&pending.path, holder_id))?;
                    key.set(cfn::KeyPolicy, doc);
                }
                PolicyHolder::Queue { queue } => {
                    let mut r = Resource::new("AWS::SQS::QueuePolicy");
                    r.set(cfn::Queues, Expr::list([Expr::ref_(queue.as_str())]))
                        .set(cfn::PolicyDocument, doc);
                    t.add_resource(holder_id.clone(), r)
                        .map_err(|_| dup(&pending.path, holder_id))?;
                }
                PolicyHolder::ImportedRole { role_name } => {
                    let mut r = Resource::new("AWS::IAM::Policy");
                    r.set(
                        cfn::PolicyName,
                        Expr::sub(format!("${{AWS::StackName}}-{holder_id}")),
                    )
                    .set(cfn::PolicyDocument, doc)
                    .set(cfn::Roles, Expr::list([role_name.clone()]));
                    t.add_resource(holder_id.clone(), r)
                        .map_err(|_| dup(&pending.path, holder_id))?;
                }
                PolicyHolder::Topic { topic } => {
                    let mut r = Resource::new("AWS::SNS::TopicPolicy");
                    r.set(cfn::Topics, Expr::list([Expr::ref_(topic.as_str())]))
                        .set(cfn::PolicyDocument, doc);
                    t.add_resource(holder_id.clone(), r)
                        .map_err(|_| dup(&pending.path, holder_id))?;
                }
            }
        }
        for o in &self.overrides {
            let r = t.resources.get_mut(&o.logical_id).ok_or_else(|| {
                SynthError::invalid(
                    format!("{}/{}", self.name, o.logical_id),
                    "property override names a logical ID that is not in the stack",
                )
            })?;
            let path: Vec<&str> = o.path.iter().map(String::as_str).collect();
            r.set_path(&path, o.value.clone());
        }
        let mut suppressions = self.suppressions.clone();
        for (logical_id, rule, reason) in
            super::scanner::default_skips(&t, self.handlers_assured.get())
        {
            let already = suppressions
                .iter()
                .any(|s| s.logical_id == logical_id && s.rule == rule);
            if !already {
                suppressions.push(Suppression {
                    logical_id,
                    rule: rule.to_string(),
                    reason: reason.to_string(),
                });
            }
        }
        super::suppression::render(&self.name, &mut t, &suppressions)?;
        Ok(t)
    }
}

fn missing(path: &str, id: &str) -> SynthError {
    SynthError::invalid(path, format!("policy holder `{id}` is not in the stack"))
}

fn dup(path: &str, id: &str) -> SynthError {
    SynthError::DuplicateLogicalId {
        path: path.to_string(),
        logical_id: id.to_string(),
        other: "another construct".into(),
    }
}

/// Construct IDs are CamelCase words: letters and digits, starting with a letter.
pub(crate) fn check_construct_id(stack: &str, id: &str) -> Result<(), SynthError> {
    let ok = id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric());
    if !ok {
        return Err(SynthError::invalid(
            format!("{stack}/{id}"),
            format!("construct ID `{id}` is not allowed; allowed: ASCII letters and digits, starting with a letter (it becomes the logical ID)"),
        ));
    }
    Ok(())
}

impl Stack {
    pub(crate) fn new(id: StackId, name: &str, state: Rc<RefCell<StackState>>) -> Self {
        Stack {
            id,
            name: name.to_string(),
            state,
        }
    }

    /// The stack name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The identity used in cross-stack references.
    pub fn id(&self) -> StackId {
        self.id
    }

    /// Set the template description.
    pub fn description(&self, text: &str) -> &Self {
        self.state.borrow_mut().template.description = Some(text.to_string());
        self
    }

    /// Add a template parameter; returns `{"Ref": id}` to use as a value.
    pub fn parameter(&self, id: &str, parameter: Parameter) -> Result<Expr, SynthError> {
        check_construct_id(&self.name, id)?;
        let path = self.child_path(id);
        self.claim(id, &path)?;
        self.state
            .borrow_mut()
            .template
            .parameters
            .insert(id.to_string(), parameter);
        Ok(self.ref_(id))
    }

    /// Add a template condition; use its name in `Expr::if_` and `Resource::condition`.
    pub fn condition(&self, id: &str, condition: Expr) -> Result<String, SynthError> {
        check_construct_id(&self.name, id)?;
        let mut st = self.state.borrow_mut();
        if st
            .template
            .conditions
            .insert(id.to_string(), condition)
            .is_some()
        {
            return Err(SynthError::invalid(
                self.child_path(id),
                "a condition with this name already exists",
            ));
        }
        Ok(id.to_string())
    }

    /// Add an output. An ID used twice is reported by synth.
    pub fn output(&self, id: &str, value: Expr) -> OutputBuilder<'_> {
        let mut st = self.state.borrow_mut();
        let path = self.child_path(id);
        if let Err(e) = LogicalId::new(id) {
            st.errors
                .push(SynthError::invalid(path, format!("output ID: {e}")));
        } else if st.template.add_output(id, Output::new(value)).is_err() {
            st.errors.push(SynthError::invalid(
                path,
                "an output with this ID already exists in the stack",
            ));
        }
        OutputBuilder {
            stack: self,
            id: id.to_string(),
        }
    }

    /// Escape hatch: add a resource the DSL does not model, under an exact logical ID.
    pub fn raw_resource(&self, logical_id: &str, resource: Resource) -> Result<Expr, SynthError> {
        let path = self.child_path(logical_id);
        LogicalId::new(logical_id).map_err(|e| SynthError::invalid(&path, e.to_string()))?;
        self.add_resource(logical_id, &path, resource)?;
        Ok(self.ref_(logical_id))
    }

    /// Escape hatch: set (or with `Expr::Null`, delete) a property of a synthesized resource,
    /// by logical ID and dotted property path, as CDK's `addPropertyOverride`.
    ///
    /// ```
    /// use ordersctl::constructs::App;
    /// use ordersctl::template::Expr;
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// stack.queue("Jobs").build().unwrap();
    /// stack.override_property("Jobs", "Tags", Expr::list([]));
    /// ```
    pub fn override_property(&self, logical_id: &str, property_path: &str, value: Expr) {
        self.state.borrow_mut().overrides.push(Override {
            logical_id: logical_id.to_string(),
            path: property_path.split('.').map(str::to_string).collect(),
            value,
        });
    }

    /// Deliberately skip one check on one resource, with the reason a reviewer reads: an
    /// ordersctl rule (`ORD…`, see `ordersctl check --help`) or a scanner check (checkov's
    /// `CKV_…`). Recorded in the resource's Metadata, where `ordersctl check` and checkov find
    /// it; a suppression without a reason is a synth error.
    ///
    /// ```
    /// use ordersctl::constructs::App;
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let q = stack.queue("Jobs").build().unwrap();
    /// stack.suppress(&q.logical_id(), "ORD006", "a human drains this DLQ daily; no pager");
    /// ```
    pub fn suppress(&self, logical_id: &str, rule: &str, reason: &str) {
        let mut st = self.state.borrow_mut();
        if reason.trim().is_empty() {
            let path = format!("{}/{logical_id}", self.name);
            st.errors.push(SynthError::invalid(
                path,
                format!("the suppression of {rule} needs a reason a reviewer would accept"),
            ));
            return;
        }
        st.suppressions.push(Suppression {
            logical_id: logical_id.to_string(),
            rule: rule.to_string(),
            reason: reason.to_string(),
        });
    }

    // ---- crate-internal helpers shared by the constructs ----

    pub(crate) fn child_path(&self, id: &str) -> String {
        format!("{}/{}", self.name, id)
    }

    pub(crate) fn ref_(&self, logical_id: &str) -> Expr {
        Expr::ref_in(self.id, logical_id)
    }

    pub(crate) fn get_att(&self, logical_id: &str, attribute: &str) -> Expr {
        Expr::get_att_in(self.id, logical_id, attribute)
    }

    pub(crate) fn claim(&self, logical_id: &str, path: &str) -> Result<(), SynthError> {
        let mut st = self.state.borrow_mut();
        if let Some(other) = st.owners.get(logical_id) {
            return Err(SynthError::DuplicateLogicalId {
                path: path.to_string(),
                logical_id: logical_id.to_string(),
                other: other.clone(),
            });
        }
        LogicalId::new(logical_id).map_err(|e| SynthError::invalid(path, e.to_string()))?;
        st.owners.insert(logical_id.to_string(), path.to_string());
        Ok(())
    }

    /// Add a resource, owned by the construct at `path`.
    pub(crate) fn add_resource(
        &self,
        logical_id: &str,
        path: &str,
        resource: Resource,
    ) -> Result<(), SynthError> {
        self.claim(logical_id, path)?;
        self.state
            .borrow_mut()
            .template
            .resources
            .insert(logical_id.to_string(), resource);
        Ok(())
    }

    /// Change a resource already added (used by constructs that grow after build, like roles).
    pub(crate) fn modify_resource(&self, logical_id: &str, f: impl FnOnce(&mut Resource)) {
        if let Some(r) = self
            .state
            .borrow_mut()
            .template
            .resources
            .get_mut(logical_id)
        {
            f(r);
        }
    }

    /// Add a statement to the policy held by `holder_id` (made on first use).
    pub(crate) fn attach_policy(
        &self,
        holder_id: &str,
        holder: PolicyHolder,
        path: &str,
        statement: Statement,
    ) {
        let mut st = self.state.borrow_mut();
        st.policies
            .entry(holder_id.to_string())
            .or_insert_with(|| PendingPolicy {
                holder,
                document: PolicyDocument::default(),
                path: path.to_string(),
            })
            .document
            .add(statement);
    }

    /// Record a problem found where no `Result` can carry it; synth reports it.
    pub(crate) fn defer_error(&self, error: SynthError) {
        self.state.borrow_mut().errors.push(error);
    }

    /// Register a Lambda asset and return the `Code` property pointing at it.
    pub(crate) fn add_asset(&self, asset: Asset) -> Result<Expr, SynthError> {
        let needs_param = !self
            .state
            .borrow()
            .template
            .parameters
            .contains_key(ASSET_BUCKET_PARAMETER);
        if needs_param {
            let mut p = Parameter::new("String");
            p.description =
                Some("S3 bucket holding the Lambda code assets; set by `ordersctl deploy`".into());
            self.claim(
                ASSET_BUCKET_PARAMETER,
                &self.child_path(ASSET_BUCKET_PARAMETER),
            )?;
            self.state
                .borrow_mut()
                .template
                .parameters
                .insert(ASSET_BUCKET_PARAMETER.to_string(), p);
        }
        let code = Expr::map([
            (cfn::S3Bucket, Expr::ref_(ASSET_BUCKET_PARAMETER)),
            (cfn::S3Key, Expr::from(asset.s3_key.as_str())),
        ]);
        self.state.borrow_mut().assets.push(asset);
        Ok(code)
    }
}

/// Sets the optional parts of an output; the output exists as soon as `Stack::output` returns.
///
/// ```
/// use ordersctl::constructs::App;
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let q = stack.queue("Jobs").build()?;
/// stack.output("JobsUrl", q.url()).description("Where to send jobs").export("Demo-JobsUrl");
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
pub struct OutputBuilder<'a> {
    stack: &'a Stack,
    id: String,
}

impl OutputBuilder<'_> {
    fn with(self, f: impl FnOnce(&mut Output)) -> Self {
        if let Some(o) = self
            .stack
            .state
            .borrow_mut()
            .template
            .outputs
            .get_mut(&self.id)
        {
            f(o);
        }
        self
    }

    /// The output's description.
    pub fn description(self, text: &str) -> Self {
        let text = text.to_string();
        self.with(|o| o.description = Some(text))
    }

    /// Export the value under this name for `Fn::ImportValue` in other stacks.
    pub fn export(self, name: impl Into<Expr>) -> Self {
        let name = name.into();
        self.with(|o| o.export_name = Some(name))
    }
}

#[cfg(test)]
impl Stack {
    pub(crate) fn state_for_tests(&self) -> std::cell::Ref<'_, StackState> {
        self.state.borrow()
    }
}

#[cfg(test)]
#[path = "stack_tests.rs"]
mod tests;
