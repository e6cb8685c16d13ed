//! Creating, updating and deleting one stack through change sets, following it to the end.

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter, Tag};

use super::state::{decide, poll_delay, root_causes, Plan, StackEvent, StackStatus};
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
#[derive(Clone)]
pub struct StackDeploy<'a> {
    pub name: &'a str,
    pub template_body: &'a str,
    /// Set when the template is over the inline limit and was uploaded.
    pub template_url: Option<String>,
    pub parameters: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub execute: bool,
    pub continue_rollback: bool,
    /// Asked before executing a change set; `false` leaves it unexecuted.
    pub approve: &'a (dyn Fn(&[ResourceChange]) -> bool + Sync),
}

/// The stack's status, or `None` when there is no such stack.
pub async fn stack_status(aws: &Aws, name: &str) -> Result<Option<StackStatus>, DeployError> {
    match aws
        .cloudformation
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .stacks()
            .first()
            .and_then(|s| s.stack_status())
            .map(|s| StackStatus::new(s.as_str()))),
        Err(e) => {
            let msg = sdk_message(&e);
            if msg.contains("does not exist") {
                Ok(None)
            } else {
                Err(DeployError::Api {
                    stack: name.to_string(),
                    action: "DescribeStacks".into(),
                    message: msg,
                })
            }
        }
    }
}

/// Outputs of a stack, as (key, value).
pub async fn stack_outputs(aws: &Aws, name: &str) -> Result<Vec<(String, String)>, DeployError> {
    let out = aws
        .cloudformation
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| DeployError::Api {
            stack: name.into(),
            action: "DescribeStacks".into(),
            message: sdk_message(&e),
        })?;
    Ok(out
        .stacks()
        .first()
        .map(|s| {
            s.outputs()
                .iter()
                .map(|o| {
                    (
                        o.output_key().unwrap_or_default().to_string(),
                        o.output_value().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default())
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

async fn events(aws: &Aws, name: &str) -> Vec<StackEvent> {
    let Ok(out) = aws
        .cloudformation
        .describe_stack_events()
        .stack_name(name)
        .send()
        .await
    else {
        return Vec::new();
    };
    let mut v: Vec<StackEvent> = out
        .stack_events()
        .iter()
        .map(|e| StackEvent {
            logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
            resource_type: e.resource_type().unwrap_or_default().to_string(),
            status: e
                .resource_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            reason: e.resource_status_reason().map(str::to_string),
        })
        .collect();
    v.reverse(); // the API lists newest first
    v
}

/// Deploy one stack: decide from its state, create a change set, approve, execute, follow.
pub async fn deploy_stack(
    aws: &Aws,
    d: &StackDeploy<'_>,
    progress: &dyn Progress,
) -> Result<DeployResult, DeployError> {
    let mut status = stack_status(aws, d.name).await?;
    let change_set_type = loop {
        match decide(d.name, status.as_ref(), d.continue_rollback) {
            Plan::Create => break ChangeSetType::Create,
            Plan::Update => break ChangeSetType::Update,
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
                    .map_err(|e| DeployError::Api {
                        stack: d.name.into(),
                        action: "ContinueUpdateRollback".into(),
                        message: sdk_message(&e),
                    })?;
                status = wait_stable(aws, d.name, progress).await?;
            }
            Plan::Refuse(message) => return Err(DeployError::Refused(message)),
        }
    };
    let change_set = format!(
        "ordersctl-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|t| t.as_secs())
            .unwrap_or(0)
    );
    let mut req = aws
        .cloudformation
        .create_change_set()
        .stack_name(d.name)
        .change_set_name(&change_set)
        .change_set_type(change_set_type.clone())
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        .capabilities(Capability::CapabilityAutoExpand);
    req = match &d.template_url {
        Some(url) => req.template_url(url),
        None => req.template_body(d.template_body),
    };
    for (k, v) in &d.parameters {
        req = req.parameters(
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build(),
        );
    }
    for (k, v) in &d.tags {
        req = req.tags(Tag::builder().key(k).value(v).build());
    }
    if let Err(e) = req.send().await {
        let message = sdk_message(&e);
        // Some endpoints refuse an empty change set up front instead of failing it.
        if message.contains("No updates are to be performed") {
            return Ok(DeployResult::NoChanges);
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
    let changes = loop {
        let cs = aws
            .cloudformation
            .describe_change_set()
            .stack_name(d.name)
            .change_set_name(&change_set)
            .send()
            .await
            .map_err(|e| DeployError::Api {
                stack: d.name.into(),
                action: "DescribeChangeSet".into(),
                message: sdk_message(&e),
            })?;
        match cs.status() {
            Some(ChangeSetStatus::CreateComplete) => {
                break cs
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
                if reason.contains("didn't contain changes") || reason.contains("No updates") {
                    if change_set_type == ChangeSetType::Create {
                        // A CREATE change set leaves a REVIEW_IN_PROGRESS stack behind.
                        let _ = aws
                            .cloudformation
                            .delete_stack()
                            .stack_name(d.name)
                            .send()
                            .await;
                    }
                    return Ok(DeployResult::NoChanges);
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
    };
    progress.changes(d.name, &changes);
    if !d.execute || !(d.approve)(&changes) {
        return Ok(DeployResult::ChangeSetCreated {
            name: change_set,
            changes,
        });
    }
    aws.cloudformation
        .execute_change_set()
        .stack_name(d.name)
        .change_set_name(&change_set)
        .send()
        .await
        .map_err(|e| DeployError::Api {
            stack: d.name.into(),
            action: "ExecuteChangeSet".into(),
            message: sdk_message(&e),
        })?;
    let final_status = wait_stable(aws, d.name, progress).await?;
    match final_status {
        Some(s) if s.succeeded() => Ok(DeployResult::Deployed {
            changes,
            outputs: stack_outputs(aws, d.name).await?,
        }),
        other => {
            let causes = root_causes(d.name, &events(aws, d.name).await, 3);
            Err(DeployError::Failed {
                stack: d.name.into(),
                status: other.map(|s| s.0).unwrap_or_else(|| "DELETED".into()),
                causes,
            })
        }
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
        .map_err(|e| DeployError::Api {
            stack: name.into(),
            action: "DeleteStack".into(),
            message: sdk_message(&e),
        })?;
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
