//! What the rules ask of a template: resources by type, what refers to what, and the facts
//! that need several resources (who consumes a queue, which role a function has, what it may
//! write).

use crate::spec::{cfn, iam};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use crate::template::{Expr, Resource, Template};

use super::rules::rule;
use super::{Finding, Severity};

type Entry<'t> = (&'t String, &'t Resource);
/// Target logical ID -> the resources whose property points at it.
type RefIndex<'t> = HashMap<&'t str, Vec<Entry<'t>>>;

/// A template read for the rules. Lookups by type and by reference are indexed, so the
/// rules stay linear in the template's size (a hostile 20,000-resource template included).
pub struct Model<'t> {
    pub stack: &'t str,
    pub t: &'t Template,
    by_type: HashMap<&'t str, Vec<Entry<'t>>>,
    /// Built on first use, per (resource type, property path).
    refs: RefCell<HashMap<(String, String), Rc<RefIndex<'t>>>>,
}

/// The logical ID a value points at (`Ref` or `Fn::GetAtt`), if it is one.
pub fn target(e: Option<&Expr>) -> Option<&str> {
    match e? {
        Expr::Ref(t) | Expr::GetAtt(t, _) => Some(t.logical_id.as_str()),
        _ => None,
    }
}

/// A property path: one name, or names from the top level down.
pub trait PropPath {
    /// The names, outermost first.
    fn names(&self) -> &[&str];
}

impl PropPath for &str {
    fn names(&self) -> &[&str] {
        std::slice::from_ref(self)
    }
}

impl<const N: usize> PropPath for [&str; N] {
    fn names(&self) -> &[&str] {
        self
    }
}

impl PropPath for &[&str] {
    fn names(&self) -> &[&str] {
        self
    }
}

/// A property by name, or a nested one by path (`[cfn::TracingConfig, cfn::Mode]`).
pub fn prop(r: &Resource, path: impl PropPath) -> Option<&Expr> {
    let (first, rest) = path.names().split_first()?;
    let mut cur = r.properties.get(*first)?;
    for p in rest {
        cur = match cur {
            Expr::Map(m) => m.get(*p)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// A number, whether written as a number or a numeric string.
pub fn num(e: Option<&Expr>) -> Option<i64> {
    match e? {
        Expr::Int(i) => Some(*i),
        Expr::Float(f) => Some(*f as i64),
        Expr::Str(s) => s.parse().ok(),
        _ => None,
    }
}

pub fn boolean(e: Option<&Expr>) -> Option<bool> {
    match e? {
        Expr::Bool(b) => Some(*b),
        Expr::Str(s) => s.parse().ok(),
        _ => None,
    }
}

/// Strings of a string-or-list value.
pub fn strings(e: Option<&Expr>) -> Vec<String> {
    match e {
        Some(Expr::Str(s)) => vec![s.clone()],
        Some(Expr::List(items)) => items
            .iter()
            .filter_map(|i| match i {
                Expr::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl<'t> Model<'t> {
    pub fn new(stack: &'t str, t: &'t Template) -> Self {
        let mut by_type: HashMap<&'t str, Vec<Entry<'t>>> = HashMap::new();
        for (id, r) in &t.resources {
            by_type
                .entry(r.resource_type.as_str())
                .or_default()
                .push((id, r));
        }
        Model {
            stack,
            t,
            by_type,
            refs: RefCell::new(HashMap::new()),
        }
    }

    /// Resources of a type, in template order.
    pub fn of_type<'a>(&'a self, ty: &str) -> impl Iterator<Item = Entry<'t>> + 'a {
        self.by_type.get(ty).into_iter().flatten().copied()
    }

    /// Resources of type `ty` whose property at `path` points at `id` (by `Ref` or
    /// `Fn::GetAtt`, or an item of a list of those), in template order.
    pub fn referring(&self, ty: &str, path: &str, id: &str) -> Vec<Entry<'t>> {
        let key = (ty.to_string(), path.to_string());
        let index = self
            .refs
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| {
                let mut index: RefIndex<'t> = HashMap::new();
                for (rid, r) in self.of_type(ty) {
                    let targets: Vec<&'t str> = match prop(r, path) {
                        Some(Expr::List(items)) => {
                            items.iter().filter_map(|i| target(Some(i))).collect()
                        }
                        one => target(one).into_iter().collect(),
                    };
                    for t in targets {
                        index.entry(t).or_default().push((rid, r));
                    }
                }
                Rc::new(index)
            })
            .clone();
        index.get(id).cloned().unwrap_or_default()
    }

    /// A number property as deployed: the literal; a `Ref` to a parameter resolved to its
    /// default, with a note saying so; `default` when the property is absent. `None` when it
    /// cannot be known here (a parameter without a default, another intrinsic): rules then
    /// judge nothing rather than assume.
    pub fn number(&self, e: Option<&Expr>, default: i64) -> Option<(i64, String)> {
        let Some(e) = e else {
            return Some((default, String::new()));
        };
        if let Expr::Ref(t) = e {
            let p = self.t.parameters.get(&t.logical_id)?;
            let value = num(p.default.as_ref())?;
            return Some((
                value,
                format!(" (the default of parameter {})", t.logical_id),
            ));
        }
        num(Some(e)).map(|n| (n, String::new()))
    }

    /// The function a name points at, through an alias or a version of it.
    pub fn function<'a>(&self, id: Option<&'a str>) -> Option<&'a str>
    where
        't: 'a,
    {
        let mut id = id?;
        for _ in 0..3 {
            match self.get(id) {
                Some(r)
                    if matches!(
                        r.resource_type.as_str(),
                        "AWS::Lambda::Alias" | "AWS::Lambda::Version"
                    ) =>
                {
                    id = target(prop(r, cfn::FunctionName))?;
                }
                _ => return Some(id),
            }
        }
        Some(id)
    }

    pub fn get(&self, id: &str) -> Option<&'t Resource> {
        self.t.resources.get(id)
    }

    /// The type of the resource a value points at.
    pub fn type_of(&self, e: Option<&Expr>) -> Option<&'t str> {
        self.get(target(e)?).map(|r| r.resource_type.as_str())
    }

    /// A finding at a resource, with the rule's default severity and fix.
    pub fn at(&self, id: &str, rule_id: &'static str, message: String) -> Finding {
        let r = rule(rule_id).expect("a catalogued rule");
        self.with_severity(id, r.id, r.severity, message)
    }

    pub fn with_severity(
        &self,
        id: &str,
        rule_id: &'static str,
        severity: Severity,
        message: String,
    ) -> Finding {
        let r = rule(rule_id).expect("a catalogued rule");
        Finding {
            rule: r.id,
            severity,
            location: format!("{}/{id}", self.stack),
            logical_id: Some(id.to_string()),
            message,
            fix: r.fix.to_string(),
        }
    }

    /// A finding about the whole template.
    pub fn template_wide(&self, rule_id: &'static str, message: String) -> Finding {
        let r = rule(rule_id).expect("a catalogued rule");
        Finding {
            rule: r.id,
            severity: r.severity,
            location: self.stack.to_string(),
            logical_id: None,
            message,
            fix: r.fix.to_string(),
        }
    }

    /// Event source mappings (and pipes) reading from a queue: (consumer ID, function ID if any).
    pub fn queue_consumers(&self, queue: &str) -> Vec<(&'t str, Option<&'t str>)> {
        let mut out = Vec::new();
        for (id, r) in self.referring(
            "AWS::Lambda::EventSourceMapping",
            cfn::EventSourceArn,
            queue,
        ) {
            out.push((
                id.as_str(),
                self.function(target(prop(r, cfn::FunctionName))),
            ));
        }
        for (id, _) in self.referring("AWS::Pipes::Pipe", cfn::Source, queue) {
            out.push((id.as_str(), None));
        }
        out
    }

    /// Every EventBridge rule target: (rule ID, the target's properties).
    pub fn rule_targets(&self) -> Vec<(&'t str, &'t BTreeMap<String, Expr>)> {
        let mut out = Vec::new();
        for (id, rule) in self.of_type("AWS::Events::Rule") {
            if let Some(Expr::List(targets)) = prop(rule, cfn::Targets) {
                for t in targets {
                    if let Expr::Map(tm) = t {
                        out.push((id.as_str(), tm));
                    }
                }
            }
        }
        out
    }

    /// Queues that another queue's redrive policy sends to.
    /// Every queue something sends its failures to: a redrive target, an EventBridge or
    /// Scheduler target's DLQ, a function's DLQ, an SNS subscription's, an on-failure
    /// destination of an event source or of asynchronous invocation.
    pub fn dead_letter_queues(&self) -> Vec<&'t str> {
        let mut out: Vec<&'t str> = self
            .of_type("AWS::SQS::Queue")
            .filter_map(|(_, r)| target(prop(r, [cfn::RedrivePolicy, cfn::deadLetterTargetArn])))
            .collect();
        for (_, tm) in self.rule_targets() {
            if let Some(Expr::Map(d)) = tm.get(cfn::DeadLetterConfig) {
                out.extend(target(d.get(cfn::Arn)));
            }
        }
        let paths: [(&str, &[&str]); 5] = [
            (
                "AWS::Scheduler::Schedule",
                &[cfn::Target, cfn::DeadLetterConfig, cfn::Arn],
            ),
            (
                "AWS::Lambda::Function",
                &[cfn::DeadLetterConfig, cfn::TargetArn],
            ),
            (
                "AWS::SNS::Subscription",
                &[cfn::RedrivePolicy, cfn::deadLetterTargetArn],
            ),
            (
                "AWS::Lambda::EventSourceMapping",
                &[cfn::DestinationConfig, cfn::OnFailure, cfn::Destination],
            ),
            (
                "AWS::Lambda::EventInvokeConfig",
                &[cfn::DestinationConfig, cfn::OnFailure, cfn::Destination],
            ),
        ];
        for (ty, path) in paths {
            out.extend(self.of_type(ty).filter_map(|(_, r)| target(prop(r, path))));
        }
        // Only queues: an on-failure destination may be a topic, a bus or a function.
        out.retain(|id| {
            self.get(id)
                .is_some_and(|r| r.resource_type == "AWS::SQS::Queue")
        });
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every policy statement granted to a role: inline policies and attached AWS::IAM::Policy.
    pub fn role_statements(&self, role: &str) -> Vec<&'t Expr> {
        let mut docs: Vec<&Expr> = Vec::new();
        if let Some(Expr::List(policies)) = self.get(role).and_then(|r| prop(r, cfn::Policies)) {
            for p in policies {
                if let Expr::Map(m) = p {
                    docs.extend(m.get(cfn::PolicyDocument));
                }
            }
        }
        for (_, r) in self.referring("AWS::IAM::Policy", cfn::Roles, role) {
            docs.extend(prop(r, cfn::PolicyDocument));
        }
        docs.into_iter().flat_map(statements_of).collect()
    }
}

/// The statements of a policy document.
pub fn statements_of(doc: &Expr) -> Vec<&Expr> {
    let Expr::Map(m) = doc else { return Vec::new() };
    match m.get(iam::Statement) {
        Some(Expr::List(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    }
}

/// A statement's field.
pub fn field<'e>(statement: &'e Expr, key: &str) -> Option<&'e Expr> {
    match statement {
        Expr::Map(m) => m.get(key),
        _ => None,
    }
}
