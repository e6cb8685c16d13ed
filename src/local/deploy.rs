//! The local deploy: the stacks created on the local endpoint the way `ordersctl local` needs
//! them. Direct CreateStack/UpdateStack (moto registers exports only then); stand-in code
//! zips (the engine runs the real handler binaries itself); event source mappings created
//! disabled (moto would otherwise receive the messages and fail to invoke); outputs that
//! reference resources moto does not model left out (it fails on them).

use std::collections::BTreeMap;

use crate::bundle::zip_bootstrap;
use crate::constructs::ASSET_BUCKET_PARAMETER;
use crate::deploy::{deploy_direct, Aws, DeployError, Progress, StackDeploy};
use crate::synth::StackArtifact;
use crate::template::{Expr, Template};

use super::resolve::DeployedStack;

/// The bucket the stand-in code zips go to.
pub const ASSET_BUCKET: &str = "ordersctl-local-assets";

/// Types moto accepts in a template but does not create (a `Ref` gives "", a `GetAtt` in an
/// output fails): LOCAL-AWS.md's measured list.
const PLACEHOLDERS: &[&str] = &[
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::Subscription",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::CloudWatch::Alarm",
    "AWS::Pipes::Pipe",
    "AWS::Scheduler::Schedule",
    "AWS::Events::Archive",
    "AWS::KinesisFirehose::DeliveryStream",
    "AWS::Cognito::UserPool",
];

fn placeholder(ty: &str) -> bool {
    PLACEHOLDERS.contains(&ty) || ty.starts_with("AWS::ApiGatewayV2::")
}

/// The template as deployed locally.
pub fn local_template(t: &Template) -> Template {
    let mut t = t.clone();
    for r in t.resources.values_mut() {
        if r.resource_type == "AWS::Lambda::EventSourceMapping" {
            r.properties.insert("Enabled".into(), Expr::Bool(false));
        }
    }
    let skip: Vec<String> = t
        .resources
        .iter()
        .filter(|(_, r)| placeholder(&r.resource_type))
        .map(|(k, _)| k.clone())
        .collect();
    t.outputs
        .retain(|_, o| !o.value.references().iter().any(|r| skip.contains(r)));
    t
}

/// Deploy `stacks` (in dependency order) and read what the endpoint named each resource.
pub async fn deploy(
    aws: &Aws,
    stacks: &[&StackArtifact],
    progress: &dyn Progress,
) -> Result<Vec<DeployedStack>, DeployError> {
    let api = |action: &str, message: String| DeployError::Api {
        stack: ASSET_BUCKET.into(),
        action: action.into(),
        message,
    };
    if stacks.iter().any(|s| !s.assets.is_empty()) {
        // Creating a bucket that exists is fine on a reused endpoint.
        let _ = aws.s3.create_bucket().bucket(ASSET_BUCKET).send().await;
        let stand_in = zip_bootstrap(
            b"#!/bin/sh\necho 'ordersctl local runs the handler itself' >&2\nexit 1\n",
        )
        .map_err(|e| api("zip", e.to_string()))?;
        let mut keys: Vec<&str> = stacks
            .iter()
            .flat_map(|s| s.assets.iter().map(|a| a.s3_key.as_str()))
            .collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            aws.s3
                .put_object()
                .bucket(ASSET_BUCKET)
                .key(key)
                .body(stand_in.clone().into())
                .send()
                .await
                .map_err(|e| api("PutObject", crate::deploy::sdk_message(&e)))?;
        }
    }
    let mut out = Vec::new();
    for s in stacks {
        let body = local_template(&s.template).to_json_string();
        let mut parameters = Vec::new();
        if s.template.parameters.contains_key(ASSET_BUCKET_PARAMETER) {
            parameters.push((ASSET_BUCKET_PARAMETER.to_string(), ASSET_BUCKET.to_string()));
        }
        let d = StackDeploy {
            name: &s.name,
            template_body: &body,
            template_url: None,
            parameters: parameters.clone(),
            tags: vec![],
            continue_rollback: false,
            termination_protection: None,
        };
        progress.started(&s.name, s.template.resources.len());
        let result = deploy_direct(aws, &d, progress).await;
        progress.finished(&s.name);
        result?;
        out.push(DeployedStack {
            name: s.name.clone(),
            template: s.template.clone(),
            physical: physical_ids(aws, &s.name).await?,
            parameters: parameters.into_iter().collect(),
        });
    }
    Ok(out)
}

async fn physical_ids(aws: &Aws, stack: &str) -> Result<BTreeMap<String, String>, DeployError> {
    let mut ids = BTreeMap::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws
            .cloudformation
            .list_stack_resources()
            .stack_name(stack)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| DeployError::Api {
                stack: stack.into(),
                action: "ListStackResources".into(),
                message: crate::deploy::sdk_message(&e),
            })?;
        for r in page.stack_resource_summaries() {
            if let (Some(l), Some(p)) = (r.logical_resource_id(), r.physical_resource_id()) {
                ids.insert(l.to_string(), p.to_string());
            }
        }
        match page.next_token() {
            Some(t) => next = Some(t.to_string()),
            None => return Ok(ids),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_are_disabled_and_placeholder_outputs_dropped() {
        let t = Template::from_json_str(
            r#"{"Resources": {
                "M": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"FunctionName": "f", "EventSourceArn": "a"}},
                "A": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}},
                "Q": {"Type": "AWS::SQS::Queue", "Properties": {}}},
              "Outputs": {"Url": {"Value": {"Fn::GetAtt": ["A", "ApiEndpoint"]}}, "Queue": {"Value": {"Ref": "Q"}}}}"#,
        )
        .unwrap();
        let l = local_template(&t);
        assert_eq!(l.resources["M"].properties["Enabled"], Expr::Bool(false));
        assert_eq!(l.outputs.keys().collect::<Vec<_>>(), vec!["Queue"]);
    }
}
