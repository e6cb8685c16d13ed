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

use serde_json::json;

use super::moto::{CallError, Endpoint};
use super::resolve::DeployedStack;
use super::world::Table;

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
    "AWS::Cognito::UserPool",
];

/// Types moto's CloudFormation cannot create at all (or, for Firehose, not as a rule's
/// target): left out of the local deploy with everything that refers to them; the templates
/// keep them. The edge (CloudFront, WAF), analytics delivery and schema registry.
const LEFT_OUT: &[&str] = &[
    "AWS::CloudFront::",
    "AWS::WAFv2::",
    "AWS::KinesisFirehose::",
    "AWS::EventSchemas::",
];

fn placeholder(ty: &str) -> bool {
    PLACEHOLDERS.contains(&ty) || ty.starts_with("AWS::ApiGatewayV2::")
}

/// The template without what moto cannot create (`LEFT_OUT`) and what refers to it: what
/// the local deploy creates and the engine reads.
pub fn without_left_out(t: &Template) -> Template {
    let mut t = t.clone();
    let mut gone: Vec<String> = t
        .resources
        .iter()
        .filter(|(_, r)| LEFT_OUT.iter().any(|p| r.resource_type.starts_with(p)))
        .map(|(k, _)| k.clone())
        .collect();
    // Then whatever refers to what is gone (a rule targeting the stream, the stream's role).
    while !gone.is_empty() {
        t.resources.retain(|k, _| !gone.contains(k));
        t.outputs
            .retain(|_, o| !o.value.references().iter().any(|r| gone.contains(r)));
        gone = t
            .resources
            .iter()
            .filter(|(_, r)| {
                refers_to_missing(r, &|x| {
                    t.resources.contains_key(x)
                        || t.parameters.contains_key(x)
                        || x.starts_with("AWS::")
                })
            })
            .map(|(k, _)| k.clone())
            .collect();
    }
    t
}

/// The template as deployed locally.
pub fn local_template(t: &Template) -> Template {
    let mut t = without_left_out(t);
    // moto hands the records of a stream with a mapping to that mapping (and drops them when
    // it cannot invoke), so stream mappings are not created there at all; queue mappings are
    // created disabled.
    let stream_mappings: Vec<String> = t
        .resources
        .iter()
        .filter(|(_, r)| {
            r.resource_type == "AWS::Lambda::EventSourceMapping"
                && reads_a_stream(r.properties.get("EventSourceArn"))
        })
        .map(|(k, _)| k.clone())
        .collect();
    for id in stream_mappings {
        let referenced = t.resources.values().any(|r| r.references().contains(&id))
            || t.outputs
                .values()
                .any(|o| o.value.references().contains(&id));
        if !referenced {
            t.resources.shift_remove(&id);
        }
    }
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

/// Whether a resource refers (Ref, GetAtt, or `${Name}` in a Sub) to a name that `known`
/// does not know.
fn refers_to_missing(r: &crate::template::Resource, known: &dyn Fn(&str) -> bool) -> bool {
    r.references().iter().any(|x| !known(x))
}

/// Whether an event source ARN expression names a DynamoDB or Kinesis stream.
fn reads_a_stream(e: Option<&Expr>) -> bool {
    let mut found = false;
    if let Some(e) = e {
        e.walk(&mut |x| match x {
            Expr::GetAtt(_, attr) if attr == "StreamArn" => found = true,
            Expr::Str(s)
                if s.contains("/stream/")
                    || s.starts_with("arn:aws:kinesis:")
                    || s.contains("StreamArn") =>
            {
                found = true
            }
            _ => {}
        });
    }
    found
}

fn placeholder_value(name: &str) -> String {
    format!("local-{name}")
}

/// What each parameter is deployed with locally: the asset bucket, the value given, the
/// template's default, else a placeholder (`local-<Name>`): a JWT issuer or an e-mail address
/// has no meaning on the local endpoint.
pub fn local_parameters(s: &StackArtifact, given: &[(String, String)]) -> Vec<(String, String)> {
    s.template
        .parameters
        .iter()
        .filter_map(|(k, p)| {
            if k == ASSET_BUCKET_PARAMETER {
                return Some((k.clone(), ASSET_BUCKET.to_string()));
            }
            if let Some((_, v)) = given.iter().find(|(gk, _)| gk == k) {
                return Some((k.clone(), v.clone()));
            }
            p.default
                .is_none()
                .then(|| (k.clone(), placeholder_value(k)))
        })
        .collect()
}

/// Deploy `stacks` (in dependency order) and read what the endpoint named each resource.
pub async fn deploy(
    aws: &Aws,
    stacks: &[&StackArtifact],
    given: &[(String, String)],
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
        let parameters = local_parameters(s, given);
        let placeholders: Vec<&str> = parameters
            .iter()
            .filter(|(k, v)| *v == placeholder_value(k))
            .map(|(k, _)| k.as_str())
            .collect();
        if !placeholders.is_empty() {
            progress.note(&s.name, &format!("parameters without a value run with placeholders (set them with --parameters K=V): {}", placeholders.join(", ")));
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
            template: without_left_out(&s.template),
            physical: physical_ids(aws, &s.name).await?,
            parameters: parameters.into_iter().collect(),
        });
    }
    Ok(out)
}

/// What moto's CloudFormation accepts but does not apply, applied through the service API:
/// each table's time-to-live setting.
pub fn complete(endpoint: &Endpoint, tables: &[Table]) -> Result<(), CallError> {
    for t in tables {
        if let Some(attribute) = &t.ttl_attribute {
            endpoint.dynamodb(
                "UpdateTimeToLive",
                &json!({"TableName": t.name,
                    "TimeToLiveSpecification": {"Enabled": true, "AttributeName": attribute}}),
            )?;
        }
    }
    Ok(())
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
                "S": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"FunctionName": "f", "EventSourceArn": {"Fn::GetAtt": ["T", "StreamArn"]}}},
                "I": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"FunctionName": "f", "EventSourceArn": {"Fn::ImportValue": "OmniData:OrdersStreamArn"}}},
                "A": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}},
                "Q": {"Type": "AWS::SQS::Queue", "Properties": {}}},
              "Outputs": {"Url": {"Value": {"Fn::GetAtt": ["A", "ApiEndpoint"]}}, "Queue": {"Value": {"Ref": "Q"}}}}"#,
        )
        .unwrap();
        let l = local_template(&t);
        assert_eq!(l.resources["M"].properties["Enabled"], Expr::Bool(false));
        assert!(!l.resources.contains_key("S") && !l.resources.contains_key("I"));
        assert_eq!(l.outputs.keys().collect::<Vec<_>>(), vec!["Queue"]);
    }

    #[test]
    fn what_moto_cannot_create_is_left_out_with_what_refers_to_it() {
        let t = Template::from_json_str(
            r#"{"Parameters": {"Domain": {"Type": "String"}},
              "Resources": {
                "Stream": {"Type": "AWS::KinesisFirehose::DeliveryStream", "Properties": {"ExtendedS3DestinationConfiguration": {"BucketARN": {"Fn::GetAtt": ["Bucket", "Arn"]}}}},
                "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
                "Rule": {"Type": "AWS::Events::Rule", "Properties": {"Targets": [{"Id": "s", "Arn": {"Fn::Sub": "arn:${AWS::Partition}:firehose:${AWS::Region}:${AWS::AccountId}:deliverystream/${Stream}"}}]}},
                "RuleRole": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {"Statement": [{"Resource": {"Fn::GetAtt": ["Stream", "Arn"]}}]}}]}},
                "Cdn": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {"Origins": [{"DomainName": {"Ref": "Domain"}}]}}},
                "Q": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": [{"Key": "region", "Value": {"Ref": "AWS::Region"}}]}}},
              "Outputs": {"Edge": {"Value": {"Fn::GetAtt": ["Cdn", "DomainName"]}}, "Queue": {"Value": {"Ref": "Q"}}}}"#,
        )
        .unwrap();
        let l = local_template(&t);
        let kept: Vec<&String> = l.resources.keys().collect();
        assert_eq!(kept, ["Bucket", "Q"]);
        assert_eq!(l.outputs.keys().collect::<Vec<_>>(), vec!["Queue"]);
    }
}
