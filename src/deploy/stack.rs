//! Creating, updating and deleting one stack through change sets, following it to the end.

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter, Tag};

use aws_sdk_cloudformation::config::http::HttpResponse;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};

use super::query::{events, stack_outputs, stack_status};
use super::state::{decide, poll_delay, root_causes, Plan, StackStatus};
use super::tags::update_tags_if_changed;
use super::{sdk_message, Aws, DeployError, Progress};

/// Templates larger than this are uploaded and passed by URL (CloudFormation's inline limit).
pub const MAX_INLINE_TEMPLATE: usize = 51_200;

/// One resource change of a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceChange {
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    pub replacement: Option<String>,
}

/// How a deploy ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployResult {
    /// Nothing differed; no change set was executed.
    NoChanges,
    /// The change set was created but not executed (`--no-execute`).
    ChangeSetCreated {
        name: String,
        changes: Vec<ResourceChange>,
    },
    /// Applied; the stack's outputs.
    Deployed {
        changes: Vec<ResourceChange>,
        outputs: Vec<(String, String)>,
    },
}

/// What to deploy.
#[derive(Debug, Clone)]
pub struct StackDeploy<'a> {
    pub name: &'a str,
    pub template_body: &'a str,
    /// Set when the template is over the inline limit and was uploaded.
    pub template_url: Option<String>,
    pub parameters: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub continue_rollback: bool,
    /// Set on a stack this deploy creates directly (CreateStack takes it); otherwise the
    /// caller changes it afterwards.
    pub termination_protection: Option<bool>,
}

/// A computed change set that has not run yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub change_set: String,
    pub changes: Vec<ResourceChange>,
    /// A CREATE change set: the stack exists only to hold it (REVIEW_IN_PROGRESS).
    pub creates_stack: bool,
}

/// Wait until no operation runs on the stack; returns its final status.
pub async fn wait_stable(
    aws: &Aws,
    name: &str,
    progress: &dyn Progress,
) -> Result<Option<StackStatus>, DeployError> {
    let mut attempt = 0;
    let mut last_resources: Vec<(String, String)> = Vec::new();
    loop {
        let status = stack_status(aws, name).await?;
        // moto (and CloudFormation between events) may only show resource states: report
        // each change of one as a line.
        if let Ok(list) = aws
            .cloudformation
            .list_stack_resources()
            .stack_name(name)
            .send()
            .await
        {
            let now: Vec<(String, String)> = list
                .stack_resource_summaries()
                .iter()
                .map(|r| {
                    (
                        r.logical_resource_id().unwrap_or_default().to_string(),
                        r.resource_status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                    )
                })
                .collect();
            for (id, st) in &now {
                if !last_resources.contains(&(id.clone(), st.clone())) {
                    progress.resource(name, id, st);
                }
            }
            last_resources = now;
        }
        match &status {
            Some(s) if s.in_progress() => {
                tokio::time::sleep(poll_delay(attempt)).await;
                attempt += 1;
            }
            _ => return Ok(status),
        }
    }
}

pub(super) fn api_error<E: std::error::Error + ProvideErrorMetadata + 'static>(
    stack: &str,
    action: &str,
    e: &SdkError<E, HttpResponse>,
) -> DeployError {
    DeployError::Api {
        stack: stack.into(),
        action: action.into(),
        message: sdk_message(e),
    }
}

/// Bring the stack to a state where it can be created or updated, deciding from its status
/// (waiting, deleting a failed first create, continuing a rollback). Returns whether the
/// stack exists (update) or not (create).
async fn make_ready(
    aws: &Aws,
    d: &StackDeploy<'_>,
    progress: &dyn Progress,
) -> Result<bool, DeployError> {
    let mut status = stack_status(aws, d.name).await?;
    loop {
        match decide(d.name, status.as_ref(), d.continue_rollback) {
            Plan::Create => return Ok(false),
            Plan::Update => return Ok(true),
            Plan::Wait => {
                progress.note(
                    d.name,
                    &format!(
                        "waiting for the running operation ({}) to finish",
                        status.as_ref().map(|s| s.0.as_str()).unwrap_or("")
                    ),
                );
                status = wait_stable(aws, d.name, progress).await?;
            }
            Plan::DiscardReviewThenCreate => {
                progress.note(d.name, "discarding the unexecuted change sets of the REVIEW_IN_PROGRESS stack before creating it");
                delete_and_wait(aws, d.name, progress).await?;
                status = None;
            }
            Plan::DeleteThenCreate => {
                progress.note(d.name, "a failed first create left the stack in ROLLBACK_COMPLETE; deleting it and creating it again");
                delete_and_wait(aws, d.name, progress).await?;
                status = None;
            }
            Plan::ContinueRollback => {
                progress.note(d.name, "continuing the failed rollback");
                aws.cloudformation
                    .continue_update_rollback()
                    .stack_name(d.name)
                    .send()
                    .await
                    .map_err(|e| api_error(d.name, "ContinueUpdateRollback", &e))?;
                status = wait_stable(aws, d.name, progress).await?;
            }
            Plan::Refuse(message) => return Err(DeployError::Refused(message)),
        }
    }
}

fn parameters(d: &StackDeploy<'_>) -> Vec<Parameter> {
    d.parameters
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build()
        })
        .collect()
}

/// The stack tags to send. None given: none sent, so CloudFormation keeps the stack's tags
/// (an empty list would remove them all).
pub(super) fn tags(d: &StackDeploy<'_>) -> Option<Vec<Tag>> {
    (!d.tags.is_empty()).then(|| {
        d.tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    })
}

/// The capabilities every ordersctl stack needs: it names roles and may use macros.
pub(super) fn capabilities() -> Vec<Capability> {
    vec![
        Capability::CapabilityIam,
        Capability::CapabilityNamedIam,
        Capability::CapabilityAutoExpand,
    ]
}

/// The empty-update answers: some endpoints refuse an empty change set up front instead of
/// failing it, and UpdateStack says the same.
pub(super) fn means_no_changes(message: &str) -> bool {
    message.contains("No updates are to be performed") || message.contains("didn't contain changes")
}

/// Make the stack ready, create a change set and wait until it is computed. `None`: the
/// change set holds no changes (it is deleted again).
pub async fn prepare_change_set(
    aws: &Aws,
    d: &StackDeploy<'_>,
    progress: &dyn Progress,
) -> Result<Option<Prepared>, DeployError> {
    let exists = make_ready(aws, d, progress).await?;
    let change_set_type = if exists {
        ChangeSetType::Update
    } else {
        ChangeSetType::Create
    };
    create_change_set(aws, d, change_set_type, progress).await
}

/// What `diff --change-set` found for one stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preview {
    /// The change set, computed (the caller deletes it again).
    Changes(Prepared),
    /// CloudFormation sees nothing to change.
    NoChanges,
    /// No such stack: everything would be created (no change set was made, as a CREATE
    /// change set would itself create the stack).
    NotDeployed,
}

/// What a change set would say, for `diff --change-set`, changing nothing on the stack: only
/// a stack that can be updated as it is gets a change set. Any other state is an error that
/// says why, where a deploy would wait, delete a failed stack, discard someone's change sets
/// or continue a rollback.
pub async fn preview_change_set(
    aws: &Aws,
    d: &StackDeploy<'_>,
    progress: &dyn Progress,
) -> Result<Preview, DeployError> {
    let status = stack_status(aws, d.name).await?;
    let why = match decide(d.name, status.as_ref(), false) {
        Plan::Update => {
            return Ok(
                match create_change_set(aws, d, ChangeSetType::Update, progress).await? {
                    Some(p) => Preview::Changes(p),
                    None => Preview::NoChanges,
                },
            )
        }
        Plan::Create => return Ok(Preview::NotDeployed),
        Plan::Wait => "an operation is running; run the diff again when it ends".to_string(),
        Plan::DiscardReviewThenCreate => "it holds change sets nobody executed yet, which a change set of ours would have to discard".to_string(),
        Plan::DeleteThenCreate => "a failed first create left it, and it can only be deleted (deploy does that)".to_string(),
        Plan::ContinueRollback | Plan::Refuse(_) => "it cannot be updated until its failed rollback is dealt with".to_string(),
    };
    Err(DeployError::Refused(format!(
        "stack {} is {}: {why}. diff --change-set changes nothing, so it stops here; `ordersctl diff` without --change-set compares the templates",
        d.name,
        status.map(|s| s.0).unwrap_or_default()
    )))
}

/// Create a change set of `change_set_type` and wait until it is computed. `None`: it holds
/// no changes (it is deleted again).
async fn create_change_set(
    aws: &Aws,
    d: &StackDeploy<'_>,
    change_set_type: ChangeSetType,
    progress: &dyn Progress,
) -> Result<Option<Prepared>, DeployError> {
    let change_set = format!(
        "ordersctl-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|t| t.as_millis())
            .unwrap_or(0)
    );
    let req = aws
        .cloudformation
        .create_change_set()
        .stack_name(d.name)
        .change_set_name(&change_set)
        .change_set_type(change_set_type.clone())
        .set_capabilities(Some(capabilities()))
        .set_parameters(Some(parameters(d)))
        .set_tags(tags(d));
    let req = match &d.template_url {
        Some(url) => req.template_url(url),
        None => req.template_body(d.template_body),
    };
    if let Err(e) = req.send().await {
        let message = sdk_message(&e);
        if means_no_changes(&message) {
            return Ok(None);
        }
        return Err(DeployError::Api {
            stack: d.name.into(),
            action: "CreateChangeSet".into(),
            message,
        });
    }

    // Wait for the change set to be computed.
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        let cs = aws
            .cloudformation
            .describe_change_set()
            .stack_name(d.name)
            .change_set_name(&change_set)
            .send()
            .await
            .map_err(|e| api_error(d.name, "DescribeChangeSet", &e))?;
        match cs.status() {
            Some(ChangeSetStatus::CreateComplete) => {
                let changes = cs
                    .changes()
                    .iter()
                    .filter_map(|c| c.resource_change())
                    .map(|rc| ResourceChange {
                        action: rc
                            .action()
                            .map(|a| a.as_str().to_string())
                            .unwrap_or_default(),
                        logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
                        resource_type: rc.resource_type().unwrap_or_default().to_string(),
                        replacement: rc.replacement().map(|r| r.as_str().to_string()),
                    })
                    .collect::<Vec<_>>();
                progress.changes(d.name, &changes);
                return Ok(Some(Prepared {
                    change_set,
                    changes,
                    creates_stack: change_set_type == ChangeSetType::Create,
                }));
            }
            Some(ChangeSetStatus::Failed) => {
                let reason = cs.status_reason().unwrap_or_default().to_string();
                let _ = aws
                    .cloudformation
                    .delete_change_set()
                    .stack_name(d.name)
                    .change_set_name(&change_set)
                    .send()
                    .await;
                if means_no_changes(&reason) {
                    if change_set_type == ChangeSetType::Create {
                        // A CREATE change set leaves a REVIEW_IN_PROGRESS stack behind.
                        let _ = aws
                            .cloudformation
                            .delete_stack()
                            .stack_name(d.name)
                            .send()
                            .await;
                    }
                    return Ok(None);
                }
                return Err(DeployError::ChangeSetFailed {
                    stack: d.name.into(),
                    reason,
                });
            }
            _ if started.elapsed() > Duration::from_secs(600) => {
                return Err(DeployError::Api {
                    stack: d.name.into(),
                    action: "DescribeChangeSet".into(),
                    message: "the change set was not ready after 10 minutes".into(),
                });
            }
            _ => {
                tokio::time::sleep(Duration::from_millis(200u64 << attempt.min(5))).await;
                attempt += 1;
            }
        }
    }
}

/// Execute a prepared change set and follow the stack to the end.
pub async fn execute_change_set(
    aws: &Aws,
    name: &str,
    prepared: Prepared,
    progress: &dyn Progress,
) -> Result<DeployResult, DeployError> {
    aws.cloudformation
        .execute_change_set()
        .stack_name(name)
        .change_set_name(&prepared.change_set)
        .send()
        .await
        .map_err(|e| api_error(name, "ExecuteChangeSet", &e))?;
    let outputs = follow(aws, name, progress).await?;
    Ok(DeployResult::Deployed {
        changes: prepared.changes,
        outputs,
    })
}

/// Delete a change set that will not run, and the empty stack a CREATE change set made.
pub async fn discard_change_set(
    aws: &Aws,
    name: &str,
    prepared: &Prepared,
) -> Result<(), DeployError> {
    aws.cloudformation
        .delete_change_set()
        .stack_name(name)
        .change_set_name(&prepared.change_set)
        .send()
        .await
        .map_err(|e| api_error(name, "DeleteChangeSet", &e))?;
    if prepared.creates_stack {
        aws.cloudformation
            .delete_stack()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| api_error(name, "DeleteStack", &e))?;
    }
    Ok(())
}

/// Wait for the running operation; on success the outputs, otherwise the root causes.
pub(super) async fn follow(
    aws: &Aws,
    name: &str,
    progress: &dyn Progress,
) -> Result<Vec<(String, String)>, DeployError> {
    match wait_stable(aws, name, progress).await? {
        Some(s) if s.succeeded() => stack_outputs(aws, name).await,
        other => Err(DeployError::Failed {
            stack: name.into(),
            status: other.map(|s| s.0).unwrap_or_else(|| "DELETED".into()),
            causes: root_causes(name, &events(aws, name).await, 3),
        }),
    }
}

/// Deploy one stack through a change set, executing it without asking (bootstrap).
pub async fn deploy_stack(
    aws: &Aws,
    d: &StackDeploy<'_>,
    progress: &dyn Progress,
) -> Result<DeployResult, DeployError> {
    match prepare_change_set(aws, d, progress).await? {
        None => Ok(update_tags_if_changed(aws, d, progress)
            .await?
            .unwrap_or(DeployResult::NoChanges)),
        Some(p) => execute_change_set(aws, d.name, p, progress).await,
    }
}

/// Deploy one stack with CreateStack or UpdateStack, no change set (`--method direct`).
pub async fn deploy_direct(
    aws: &Aws,
    d: &StackDeploy<'_>,
    progress: &dyn Progress,
) -> Result<DeployResult, DeployError> {
    // CreateStack and UpdateStack take the same settings but are different builder types.
    macro_rules! send {
        ($req:expr, $action:literal) => {{
            let req = $req
                .stack_name(d.name)
                .set_capabilities(Some(capabilities()))
                .set_parameters(Some(parameters(d)))
                .set_tags(tags(d));
            match &d.template_url {
                Some(url) => req.template_url(url),
                None => req.template_body(d.template_body),
            }
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ($action, sdk_message(&e)))
        }};
    }
    let sent = if make_ready(aws, d, progress).await? {
        send!(aws.cloudformation.update_stack(), "UpdateStack")
    } else {
        send!(
            aws.cloudformation
                .create_stack()
                .set_enable_termination_protection(d.termination_protection),
            "CreateStack"
        )
    };
    match sent {
        Err((_, message)) if means_no_changes(&message) => Ok(DeployResult::NoChanges),
        Err((action, message)) => Err(DeployError::Api {
            stack: d.name.into(),
            action: action.into(),
            message,
        }),
        Ok(()) => Ok(DeployResult::Deployed {
            changes: Vec::new(),
            outputs: follow(aws, d.name, progress).await?,
        }),
    }
}

/// Delete a stack and wait until it is gone.
pub async fn delete_and_wait(
    aws: &Aws,
    name: &str,
    progress: &dyn Progress,
) -> Result<(), DeployError> {
    aws.cloudformation
        .delete_stack()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| api_error(name, "DeleteStack", &e))?;
    match wait_stable(aws, name, progress).await? {
        None => Ok(()),
        Some(s) if s.0 == "DELETE_COMPLETE" => Ok(()),
        Some(s) => {
            let causes = root_causes(name, &events(aws, name).await, 3);
            Err(DeployError::Failed {
                stack: name.into(),
                status: s.0,
                causes,
            })
        }
    }
}
