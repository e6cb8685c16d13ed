//! IAM policy documents and grants.
//!
//! Grants add least-privilege statements to a principal's role: the exact actions, sorted and
//! without duplicates, scoped to resource ARNs. Statements with the same effect, principal,
//! resources and condition merge, so a read grant plus a write grant on one table is one
//! statement.

use crate::spec::iam;
use std::collections::BTreeSet;

use crate::template::Expr;

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// One policy statement.
///
/// ```
/// use ordersctl::constructs::iam::Statement;
/// use ordersctl::template::Expr;
/// let s = Statement::allow(["sqs:SendMessage", "sqs:SendMessage"], [Expr::get_att("Dlq", "Arn")]);
/// assert_eq!(s.actions.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Expr>,
    pub actions: BTreeSet<String>,
    pub resources: Vec<Expr>,
    pub condition: Option<Expr>,
}

impl Statement {
    /// An Allow statement for these actions on these resources.
    pub fn allow<A: Into<String>>(
        actions: impl IntoIterator<Item = A>,
        resources: impl IntoIterator<Item = Expr>,
    ) -> Self {
        Statement {
            sid: None,
            effect: Effect::Allow,
            principal: None,
            actions: actions.into_iter().map(Into::into).collect(),
            resources: resources.into_iter().collect(),
            condition: None,
        }
    }

    /// Allow a service principal (`events.amazonaws.com` ...), for resource policies.
    pub fn allow_service<A: Into<String>>(
        service: &str,
        actions: impl IntoIterator<Item = A>,
        resources: impl IntoIterator<Item = Expr>,
    ) -> Self {
        Statement {
            principal: Some(Expr::map([(iam::Service, Expr::from(service))])),
            ..Statement::allow(actions, resources)
        }
    }

    /// Add a condition (`{"ArnEquals": {"aws:SourceArn": ...}}` ...).
    pub fn with_condition(mut self, condition: Expr) -> Self {
        self.condition = Some(condition);
        self
    }

    /// Restrict a resource policy to requests made on behalf of `source_arn`.
    pub fn for_source_arn(self, source_arn: Expr) -> Self {
        self.with_condition(Expr::map([(
            "ArnEquals",
            Expr::map([("aws:SourceArn", source_arn)]),
        )]))
    }

    fn same_scope(&self, other: &Statement) -> bool {
        self.effect == other.effect
            && self.principal == other.principal
            && self.resources == other.resources
            && self.condition == other.condition
            && self.sid == other.sid
    }

    fn same_actions(&self, other: &Statement) -> bool {
        self.effect == other.effect
            && self.principal == other.principal
            && self.actions == other.actions
            && self.condition == other.condition
            && self.sid == other.sid
    }

    /// The statement in policy-document JSON form (single action or resource as a string).
    pub fn to_expr(&self) -> Expr {
        let mut m = std::collections::BTreeMap::new();
        if let Some(sid) = &self.sid {
            m.insert(iam::Sid.to_string(), Expr::from(sid.as_str()));
        }
        let effect = match self.effect {
            Effect::Allow => iam::Allow,
            Effect::Deny => iam::Deny,
        };
        m.insert(iam::Effect.to_string(), Expr::from(effect));
        if let Some(p) = &self.principal {
            m.insert(iam::Principal.to_string(), p.clone());
        }
        let actions: Vec<Expr> = self.actions.iter().map(Expr::from).collect();
        m.insert(iam::Action.to_string(), one_or_list(actions));
        m.insert(
            iam::Resource.to_string(),
            one_or_list(self.resources.clone()),
        );
        if let Some(c) = &self.condition {
            m.insert(iam::Condition.to_string(), c.clone());
        }
        Expr::Map(m)
    }
}

fn one_or_list(mut items: Vec<Expr>) -> Expr {
    if items.len() == 1 {
        items.remove(0)
    } else {
        Expr::List(items)
    }
}

/// A policy document: statements in the order they were first added.
///
/// ```
/// use ordersctl::constructs::iam::{PolicyDocument, Statement};
/// use ordersctl::template::Expr;
/// let mut doc = PolicyDocument::default();
/// doc.add(Statement::allow(["dynamodb:GetItem"], [Expr::get_att("T", "Arn")]));
/// doc.add(Statement::allow(["dynamodb:PutItem"], [Expr::get_att("T", "Arn")]));
/// assert_eq!(doc.statements().len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyDocument {
    statements: Vec<Statement>,
}

impl PolicyDocument {
    /// Add a statement: its actions merge into a statement with the same resources, or its
    /// resources into a statement with the same actions; otherwise it is appended.
    pub fn add(&mut self, statement: Statement) {
        if let Some(existing) = self
            .statements
            .iter_mut()
            .find(|s| s.same_scope(&statement))
        {
            existing.actions.extend(statement.actions);
        } else if let Some(existing) = self
            .statements
            .iter_mut()
            .find(|s| s.same_actions(&statement))
        {
            for r in statement.resources {
                if !existing.resources.contains(&r) {
                    existing.resources.push(r);
                }
            }
        } else {
            self.statements.push(statement);
        }
    }

    /// A document holding these statements (merged as [`PolicyDocument::add`] does).
    pub fn from_statements(statements: impl IntoIterator<Item = Statement>) -> Self {
        let mut doc = PolicyDocument::default();
        statements.into_iter().for_each(|s| doc.add(s));
        doc
    }

    /// The statements.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Whether there is nothing in it.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// `{"Version": "2012-10-17", "Statement": [...]}`.
    pub fn to_expr(&self) -> Expr {
        Expr::map([
            (iam::Version, Expr::from("2012-10-17")),
            (
                iam::Statement,
                Expr::List(self.statements.iter().map(Statement::to_expr).collect()),
            ),
        ])
    }
}

/// Something with an IAM role that grants can add statements to (a function, a state machine).
pub trait Grantee {
    /// Add a statement to the principal's own policy.
    fn add_to_principal_policy(&self, statement: Statement);
}

/// The trust policy that lets a service assume a role.
pub(crate) fn assume_role_policy(service: &str) -> Expr {
    Expr::map([
        (iam::Version, Expr::from("2012-10-17")),
        (
            iam::Statement,
            Expr::list([Expr::map([
                (iam::Effect, Expr::from(iam::Allow)),
                (
                    iam::Principal,
                    Expr::map([(iam::Service, Expr::from(service))]),
                ),
                (iam::Action, Expr::from("sts:AssumeRole")),
            ])]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_with_other_resources_stay_apart_and_render_sorted() {
        let mut doc = PolicyDocument::default();
        doc.add(Statement::allow(["b:Y", "a:X"], [Expr::from("r1")]));
        doc.add(Statement::allow(["c:Z"], [Expr::from("r2")]));
        doc.add(Statement::allow(["a:X"], [Expr::from("r1")]));
        assert_eq!(doc.statements().len(), 2);
        doc.add(Statement::allow(["c:Z"], [Expr::from("r3")]));
        assert_eq!(doc.statements().len(), 2);
        doc.add(Statement::allow(["c:Z"], [Expr::from("r3")]));
        assert_eq!(
            doc.to_expr().to_json(),
            serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["a:X", "b:Y"], "Resource": "r1"},
                {"Effect": "Allow", "Action": "c:Z", "Resource": ["r2", "r3"]}
            ]})
        );
    }
}
