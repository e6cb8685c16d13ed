//! What a stack is now: status, outputs, parameters, template, events, termination
//! protection (DescribeStacks, GetTemplate, DescribeStackEvents).

use super::stack::api_error;
use super::state::{StackEvent, StackStatus};
use super::{sdk_message, Aws, DeployError};

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
        .map_err(|e| api_error(name, "DescribeStacks", &e))?;
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

/// Parameters of a stack as deployed, as (key, value), sorted.
pub async fn stack_parameters(aws: &Aws, name: &str) -> Result<Vec<(String, String)>, DeployError> {
    let out = aws
        .cloudformation
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| api_error(name, "DescribeStacks", &e))?;
    let mut params: Vec<(String, String)> = out
        .stacks()
        .first()
        .map(|s| {
            s.parameters()
                .iter()
                .map(|p| {
                    (
                        p.parameter_key().unwrap_or_default().to_string(),
                        p.parameter_value().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    params.sort();
    Ok(params)
}

pub(super) async fn events(aws: &Aws, name: &str) -> Vec<StackEvent> {
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

/// The template the stack runs now (GetTemplate), or `None` when there is no such stack.
pub async fn deployed_template(aws: &Aws, name: &str) -> Result<Option<String>, DeployError> {
    // A stack that only holds an unexecuted CREATE change set (REVIEW_IN_PROGRESS) or is gone
    // runs no template.
    match stack_status(aws, name).await? {
        None => return Ok(None),
        Some(s) if s.0 == "REVIEW_IN_PROGRESS" || s.0 == "DELETE_COMPLETE" => return Ok(None),
        Some(_) => {}
    }
    let out = aws
        .cloudformation
        .get_template()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| api_error(name, "GetTemplate", &e))?;
    Ok(out.template_body().map(str::to_string))
}

/// Turn termination protection on or off.
pub async fn set_termination_protection(
    aws: &Aws,
    name: &str,
    enabled: bool,
) -> Result<(), DeployError> {
    aws.cloudformation
        .update_termination_protection()
        .stack_name(name)
        .enable_termination_protection(enabled)
        .send()
        .await
        .map_err(|e| api_error(name, "UpdateTerminationProtection", &e))?;
    Ok(())
}

/// Whether the stack refuses deletion.
pub async fn termination_protected(aws: &Aws, name: &str) -> Result<bool, DeployError> {
    let out = aws
        .cloudformation
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| api_error(name, "DescribeStacks", &e))?;
    Ok(out
        .stacks()
        .first()
        .and_then(|s| s.enable_termination_protection())
        .unwrap_or(false))
}
