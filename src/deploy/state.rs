//! The decisions of a deploy, as pure functions over CloudFormation statuses and events, so
//! every failure path is tested without a cloud: what to do with a stack found in a given
//! state, whether an operation is over, and what its root cause was.

use std::fmt;

/// A CloudFormation stack status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackStatus(pub String);

impl StackStatus {
    /// From the API's spelling.
    pub fn new(s: impl Into<String>) -> Self {
        StackStatus(s.into())
    }
    /// An operation is running; wait.
    pub fn in_progress(&self) -> bool {
        self.0.ends_with("_IN_PROGRESS") && self.0 != "REVIEW_IN_PROGRESS"
    }
    /// A terminal state after which nothing more happens without a new request.
    pub fn terminal(&self) -> bool {
        !self.in_progress()
    }
    /// The last operation succeeded as asked (a rollback is not success).
    pub fn succeeded(&self) -> bool {
        matches!(
            self.0.as_str(),
            "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "DELETE_COMPLETE" | "IMPORT_COMPLETE"
        )
    }
}

impl fmt::Display for StackStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What deploy does with a stack, given the status it finds it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// No stack (or only a never-executed change set): create it.
    Create,
    /// A stable stack: update it.
    Update,
    /// A failed first create left it in ROLLBACK_COMPLETE, which can only be deleted: delete,
    /// then create (and say so).
    DeleteThenCreate,
    /// Only unexecuted CREATE change sets hold the stack (REVIEW_IN_PROGRESS, left by
    /// `--no-execute`, a refused approval or an interrupt): delete them with it, then create.
    DiscardReviewThenCreate,
    /// Another operation is running: wait for it, then decide again.
    Wait,
    /// UPDATE_ROLLBACK_FAILED and the user asked: continue the rollback, then decide again.
    ContinueRollback,
    /// Nothing safe to do; the message says what and how to fix it.
    Refuse(String),
}

/// Decide, from the stack's current status (`None`: no such stack).
///
/// ```
/// use ordersctl::deploy::{decide, Plan, StackStatus};
/// assert_eq!(decide("Orders", None, false), Plan::Create);
/// assert_eq!(decide("Orders", Some(&StackStatus::new("ROLLBACK_COMPLETE")), false), Plan::DeleteThenCreate);
/// ```
pub fn decide(stack: &str, status: Option<&StackStatus>, continue_rollback: bool) -> Plan {
    let Some(status) = status else {
        return Plan::Create;
    };
    match status.0.as_str() {
        "DELETE_COMPLETE" => Plan::Create,
        "REVIEW_IN_PROGRESS" => Plan::DiscardReviewThenCreate,
        "ROLLBACK_COMPLETE" => Plan::DeleteThenCreate,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE" | "IMPORT_COMPLETE" | "IMPORT_ROLLBACK_COMPLETE" => Plan::Update,
        "UPDATE_ROLLBACK_FAILED" if continue_rollback => Plan::ContinueRollback,
        "UPDATE_ROLLBACK_FAILED" => Plan::Refuse(format!(
            "stack {stack} is UPDATE_ROLLBACK_FAILED: an update failed and so did its rollback; fix the resource that blocks it (see the events), then run deploy with --continue-rollback"
        )),
        "ROLLBACK_FAILED" | "DELETE_FAILED" | "CREATE_FAILED" | "IMPORT_ROLLBACK_FAILED" => Plan::Refuse(format!(
            "stack {stack} is {status}; it cannot be updated: remove what blocks it (see the events) and destroy it, then deploy again"
        )),
        _ if status.in_progress() => Plan::Wait,
        other => Plan::Refuse(format!("stack {stack} is in the unknown state {other}; nothing was changed")),
    }
}

/// One stack event, as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEvent {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

/// A resource failure that explains a failed operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootCause {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
}

/// Reasons that only echo another failure, never the cause.
const ECHOES: [&str; 3] = [
    "Resource creation cancelled",
    "Resource update cancelled",
    "The following resource(s) failed to",
];

/// The first resource failures of an operation, oldest first (`events` oldest first too),
/// skipping the stack's own events and the cancellations that follow a real failure.
///
/// ```
/// use ordersctl::deploy::{root_causes, StackEvent};
/// let e = |id: &str, status: &str, reason: &str| StackEvent {
///     logical_id: id.into(), resource_type: "AWS::SQS::Queue".into(), status: status.into(),
///     reason: Some(reason.into()) };
/// let causes = root_causes("S", &[
///     e("Queue", "CREATE_FAILED", "Value 43201 for VisibilityTimeout is out of range"),
///     e("Table", "CREATE_FAILED", "Resource creation cancelled"),
/// ], 3);
/// assert_eq!(causes.len(), 1);
/// assert_eq!(causes[0].logical_id, "Queue");
/// ```
pub fn root_causes(stack: &str, events: &[StackEvent], limit: usize) -> Vec<RootCause> {
    events
        .iter()
        .filter(|e| e.logical_id != stack && e.status.ends_with("_FAILED"))
        .filter_map(|e| {
            let reason = e.reason.clone().unwrap_or_default();
            (!ECHOES.iter().any(|x| reason.starts_with(x))).then(|| RootCause {
                logical_id: e.logical_id.clone(),
                resource_type: e.resource_type.clone(),
                status: e.status.clone(),
                reason,
            })
        })
        .take(limit)
        .collect()
}

/// How long to wait before polling again: 1 s doubling to at most 10 s.
pub fn poll_delay(attempt: u32) -> std::time::Duration {
    std::time::Duration::from_millis((1000u64 << attempt.min(4)).min(10_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> StackStatus {
        StackStatus::new(x)
    }

    #[test]
    fn every_status_has_a_decision() {
        let cases = [
            ("CREATE_COMPLETE", Plan::Update),
            ("UPDATE_COMPLETE", Plan::Update),
            ("UPDATE_ROLLBACK_COMPLETE", Plan::Update),
            ("ROLLBACK_COMPLETE", Plan::DeleteThenCreate),
            ("REVIEW_IN_PROGRESS", Plan::DiscardReviewThenCreate),
            ("DELETE_COMPLETE", Plan::Create),
            ("CREATE_IN_PROGRESS", Plan::Wait),
            ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", Plan::Wait),
            ("UPDATE_ROLLBACK_IN_PROGRESS", Plan::Wait),
            ("DELETE_IN_PROGRESS", Plan::Wait),
        ];
        for (status, plan) in cases {
            assert_eq!(decide("S", Some(&s(status)), false), plan, "{status}");
        }
        assert!(
            matches!(decide("S", Some(&s("UPDATE_ROLLBACK_FAILED")), false), Plan::Refuse(m) if m.contains("--continue-rollback"))
        );
        assert_eq!(
            decide("S", Some(&s("UPDATE_ROLLBACK_FAILED")), true),
            Plan::ContinueRollback
        );
        assert!(
            matches!(decide("S", Some(&s("DELETE_FAILED")), false), Plan::Refuse(m) if m.contains("DELETE_FAILED"))
        );
        assert!(
            matches!(decide("S", Some(&s("SOMETHING_NEW")), false), Plan::Refuse(m) if m.contains("unknown"))
        );
    }

    /// A failed first create, as CloudFormation reports it: the real failure, the
    /// cancellations it causes, the rollback, then ROLLBACK_COMPLETE — which the next deploy
    /// must delete and recreate.
    #[test]
    fn scripted_failed_create_then_redeploy() {
        let ev = |id: &str, ty: &str, st: &str, r: Option<&str>| StackEvent {
            logical_id: id.into(),
            resource_type: ty.into(),
            status: st.into(),
            reason: r.map(Into::into),
        };
        let events = vec![
            ev(
                "OrderPipeline",
                "AWS::CloudFormation::Stack",
                "CREATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
            ev(
                "OrderCreatedDLQ",
                "AWS::SQS::Queue",
                "CREATE_IN_PROGRESS",
                None,
            ),
            ev("Orders", "AWS::DynamoDB::Table", "CREATE_IN_PROGRESS", None),
            ev(
                "OrderCreatedDLQ",
                "AWS::SQS::Queue",
                "CREATE_FAILED",
                Some("Resource handler returned message: \"Queue already exists\""),
            ),
            ev(
                "Orders",
                "AWS::DynamoDB::Table",
                "CREATE_FAILED",
                Some("Resource creation cancelled"),
            ),
            ev(
                "OrderPipeline",
                "AWS::CloudFormation::Stack",
                "ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to create: [OrderCreatedDLQ, Orders]."),
            ),
            ev("Orders", "AWS::DynamoDB::Table", "DELETE_COMPLETE", None),
            ev(
                "OrderPipeline",
                "AWS::CloudFormation::Stack",
                "ROLLBACK_COMPLETE",
                None,
            ),
        ];
        let causes = root_causes("OrderPipeline", &events, 3);
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].logical_id, "OrderCreatedDLQ");
        assert!(causes[0].reason.contains("already exists"));
        let last = s(&events.last().unwrap().status);
        assert!(last.terminal() && !last.succeeded());
        assert_eq!(
            decide("OrderPipeline", Some(&last), false),
            Plan::DeleteThenCreate
        );
    }

    #[test]
    fn polling_backs_off_to_ten_seconds() {
        assert_eq!(poll_delay(0).as_millis(), 1000);
        assert_eq!(poll_delay(2).as_millis(), 4000);
        assert_eq!(poll_delay(9).as_millis(), 10_000);
    }
}
