//! What a stack is now: status, outputs, parameters, template, events, termination
//! protection (DescribeStacks, GetTemplate, DescribeStackEvents).

use aws_sdk_cloudformation::types::Stack;

use super::stack::api_error;
use super::state::{StackEvent, StackStatus};
use super::{sdk_message, Aws, DeployError};

/// DescribeStacks for one stack; `None` when there is no such stack.
async fn describe(aws: &Aws, name: &str) -> Result<Option<Stack>, DeployError> {
    match aws
        .cloudformation
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out.stacks().first().cloned()),
        Err(e) => {
            let message = sdk_message(&e);
            if message.contains("does not exist") {
                Ok(None)
            } else {
                Err(DeployError::Api {
                    stack: name.to_string(),
                    action: "DescribeStacks".into(),
                    message,
                })
            }
        }
    }
}

/// DescribeStacks for a stack that must exist.
async fn existing(aws: &Aws, name: &str) -> Result<Stack, DeployError> {
    describe(aws, name).await?.ok_or_else(|| DeployError::Api {
        stack: name.to_string(),
        action: "DescribeStacks".into(),
        message: format!("stack {name} does not exist"),
    })
}

/// The stack's status, or `None` when there is no such stack.
pub async fn stack_status(aws: &Aws, name: &str) -> Result<Option<StackStatus>, DeployError> {
    Ok(describe(aws, name)
        .await?
        .and_then(|s| s.stack_status().map(|st| StackStatus::new(st.as_str()))))
}

/// Outputs of a stack, as (key, value).
pub async fn stack_outputs(aws: &Aws, name: &str) -> Result<Vec<(String, String)>, DeployError> {
    let stack = existing(aws, name).await?;
    Ok(stack
        .outputs()
        .iter()
        .map(|o| pair(o.output_key(), o.output_value()))
        .collect())
}

/// Parameters of a stack as deployed, as (key, value), sorted.
pub async fn stack_parameters(aws: &Aws, name: &str) -> Result<Vec<(String, String)>, DeployError> {
    let stack = existing(aws, name).await?;
    let mut params: Vec<(String, String)> = stack
        .parameters()
        .iter()
        .map(|p| pair(p.parameter_key(), p.parameter_value()))
        .collect();
    params.sort();
    Ok(params)
}

/// The stack's tags, sorted, as (key, value).
pub async fn stack_tags(aws: &Aws, name: &str) -> Result<Vec<(String, String)>, DeployError> {
    let stack = existing(aws, name).await?;
    let mut tags: Vec<(String, String)> = stack
        .tags()
        .iter()
        .map(|t| pair(t.key(), t.value()))
        .collect();
    tags.sort();
    Ok(tags)
}

fn pair(key: Option<&str>, value: Option<&str>) -> (String, String) {
    (
        key.unwrap_or_default().to_string(),
        value.unwrap_or_default().to_string(),
    )
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
    Ok(existing(aws, name)
        .await?
        .enable_termination_protection()
        .unwrap_or(false))
}
