//! Stack tags on an otherwise unchanged stack: a change set does not count them as a change,
//! so they are applied by an UpdateStack of their own.

use aws_sdk_cloudformation::types::Parameter;

use super::query::{stack_parameters, stack_status, stack_tags};
use super::stack::{api_error, capabilities, follow, means_no_changes, tags};
use super::{sdk_message, Aws, DeployError, DeployResult, Progress, StackDeploy};

/// When the template and parameters are unchanged but the tags are not: CloudFormation's
/// change sets do not count stack tags as a change, so they are applied by an UpdateStack
/// that keeps the previous template and parameter values. `None` when the tags are equal too.
pub async fn update_tags_if_changed(
    aws: &Aws,
    d: &StackDeploy<'_>,
    progress: &dyn Progress,
) -> Result<Option<DeployResult>, DeployError> {
    // No --tags: the stack keeps the tags it has.
    if d.tags.is_empty() || stack_status(aws, d.name).await?.is_none() {
        return Ok(None);
    }
    let mut wanted = d.tags.clone();
    wanted.sort();
    if stack_tags(aws, d.name).await? == wanted {
        return Ok(None);
    }
    progress.note(d.name, "only the stack tags differ; updating them");
    let previous: Vec<Parameter> = stack_parameters(aws, d.name)
        .await?
        .into_iter()
        .map(|(k, _)| {
            Parameter::builder()
                .parameter_key(k)
                .use_previous_value(true)
                .build()
        })
        .collect();
    let sent = aws
        .cloudformation
        .update_stack()
        .stack_name(d.name)
        .use_previous_template(true)
        .set_parameters(Some(previous))
        .set_capabilities(Some(capabilities()))
        .set_tags(tags(d))
        .send()
        .await;
    match sent {
        // The endpoint saw nothing to do, yet the tags differ: say so rather than report a
        // change that did not happen (moto answers this way for a stack with parameters).
        Err(e) if means_no_changes(&sdk_message(&e)) => Err(DeployError::Refused(format!(
            "{}: the stack's tags could not be changed: UpdateStack answered \"{}\"; the stack keeps {}",
            d.name,
            sdk_message(&e),
            show_tags(&stack_tags(aws, d.name).await?)
        ))),
        Err(e) => Err(api_error(d.name, "UpdateStack", &e)),
        Ok(_) => Ok(Some(DeployResult::Deployed {
            changes: Vec::new(),
            outputs: follow(aws, d.name, progress).await?,
        })),
    }
}

fn show_tags(tags: &[(String, String)]) -> String {
    if tags.is_empty() {
        "no tags".into()
    } else {
        tags.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
