//! The scanner checks (checkov, cfn-lint's serverless rules) that do not apply to what the
//! constructs synthesize, each with the reason, decided per resource from the finished
//! template so the reason fits how the resource is actually used. Rendered into Metadata in
//! each scanner's own form; `ordersctl check` lists them all.

use crate::spec::cfn;
use crate::template::{Expr, Resource, Template};

/// (logical ID, check ID, reason).
pub(crate) type Skip = (String, &'static str, &'static str);

const SQS_SSE: &str = "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled); CKV_AWS_27 only recognizes a KMS key. A KMS key would need a key policy for every producing service (EventBridge and SNS cannot use the aws/sqs managed key) and a KMS call per batch.";
const LOGS_SSE: &str = "CloudWatch Logs encrypts log data at rest with service-managed keys; the handlers log IDs, statuses and errors, no payment or personal data, so a customer-managed key (with a key policy for the logs service) buys nothing here.";
const NO_VPC: &str = "Reaches only AWS APIs (DynamoDB, SQS, SNS, EventBridge, Step Functions) through their public endpoints with IAM authentication; with no private resource to reach, a VPC would add ENI cold-start time and NAT or endpoint cost.";
const CONCURRENCY: &str = "Concurrency is bounded where load enters: SQS event sources set MaximumConcurrency (ordersctl ORD017), the HTTP API stage throttles (ORD018), workflows call at their own rate; reserved concurrency per function would carve up the account's pool.";
const ENV_KMS: &str = "The environment holds resource names, URLs and settings, no secrets; Lambda encrypts it at rest with its AWS managed key.";
const DLQ_SQS: &str = "Fed by an SQS event source: the queue's redrive policy is its dead-letter queue (a function DLQ applies only to asynchronous invocations).";
const DLQ_DESTINATION: &str = "Asynchronous failures go to the on-failure destination (EventInvokeConfig), which supersedes a function DLQ.";
const DLQ_STREAM: &str = "Fed by a stream event source whose on-failure destination keeps failed batches; a function DLQ applies only to asynchronous invocations.";
const DLQ_SYNC: &str = "Nothing in this stack invokes it asynchronously: its callers (an HTTP API, a Step Functions task, an authorizer, a function waiting for the result) get the error back and retry or compensate; a function DLQ applies only to asynchronous invocations.";
const DLQ_DURABLE: &str = "A durable function: Lambda keeps each execution's state and outcome for the retention period (DurableConfig), and a failed execution is reported to whoever started it; a function DLQ does not apply to durable executions.";
const TABLE_CMK: &str = "Encrypted at rest by DynamoDB with an AWS owned or AWS managed key; this blueprint has no requirement (cross-account access, key revocation) that a customer-managed key would serve.";
const LOG_GROUP_BY_CONFIG: &str = "The function logs to its own log group with a retention, named in LoggingConfig.LogGroup; WS1004 only looks for a group named /aws/lambda/<function>.";
const DLQ_NEEDS_NO_DLQ: &str = "This queue is a dead-letter queue: what lands here stays for inspection and redrive, there is no further hop to protect.";
const IMPORTED_FUNCTION: &str = "The function is imported by its ARN: its asynchronous invocation settings (EventInvokeConfig, on-failure destination) belong to the stack that owns it.";
const SQS_NO_DESTINATION: &str = "An SQS event source cannot have an on-failure destination (Lambda supports them for stream and Kafka sources only); the queue's redrive policy is the DLQ.";

fn target(e: Option<&Expr>) -> Option<&str> {
    match e? {
        Expr::Ref(t) | Expr::GetAtt(t, _) => Some(&t.logical_id),
        _ => None,
    }
}

fn has(r: &Resource, key: &str) -> bool {
    r.properties.contains_key(key)
}

/// Whether something sends its failures to `id`: a redrive policy, a dead-letter config or
/// an on-failure destination, wherever it sits in a resource's properties (queues, rule and
/// schedule targets, subscriptions, pipes, event source mappings, invoke configs).
fn is_dlq(t: &Template, id: &str) -> bool {
    fn failure_slot(key: &str) -> bool {
        matches!(
            key,
            cfn::DeadLetterConfig | cfn::RedrivePolicy | cfn::OnFailure
        )
    }
    fn walk(e: &Expr, in_slot: bool, id: &str) -> bool {
        match e {
            Expr::Map(m) => m
                .iter()
                .any(|(k, v)| walk(v, in_slot || failure_slot(k), id)),
            Expr::List(items) => items.iter().any(|v| walk(v, in_slot, id)),
            leaf => in_slot && leaf.references().iter().any(|x| x == id),
        }
    }
    t.resources.values().any(|r| {
        r.properties
            .iter()
            .any(|(k, v)| walk(v, failure_slot(k), id))
    })
}

fn function_dlq_reason(t: &Template, id: &str) -> &'static str {
    let mappings: Vec<&Resource> = t
        .resources
        .values()
        .filter(|r| {
            r.resource_type == "AWS::Lambda::EventSourceMapping"
                && target(r.properties.get(cfn::FunctionName)) == Some(id)
        })
        .collect();
    let invoke_config = t.resources.values().any(|r| {
        r.resource_type == "AWS::Lambda::EventInvokeConfig"
            && target(r.properties.get(cfn::FunctionName)) == Some(id)
            && matches!(r.properties.get(cfn::DestinationConfig), Some(Expr::Map(d)) if d.contains_key(cfn::OnFailure))
    });
    let durable = t
        .resources
        .get(id)
        .is_some_and(|f| has(f, cfn::DurableConfig));
    if invoke_config {
        DLQ_DESTINATION
    } else if durable {
        DLQ_DURABLE
    } else if mappings.iter().any(|m| has(m, cfn::StartingPosition)) {
        DLQ_STREAM
    } else if !mappings.is_empty() {
        DLQ_SQS
    } else {
        DLQ_SYNC
    }
}

/// The scanner checks that do not apply, per resource.
/// `assured`: the app vouched for its handlers (`App::assure_handlers`), so the exceptions
/// whose reasons speak for the handlers' code and data apply too.
pub(crate) fn default_skips(t: &Template, assured: bool) -> Vec<Skip> {
    let mut out: Vec<Skip> = Vec::new();
    for (id, r) in &t.resources {
        let mut skip =
            |check: &'static str, reason: &'static str| out.push((id.clone(), check, reason));
        match r.resource_type.as_str() {
            "AWS::SQS::Queue" => {
                if !has(r, cfn::KmsMasterKeyId) {
                    skip("CKV_AWS_27", SQS_SSE);
                }
                if !has(r, cfn::RedrivePolicy) && is_dlq(t, id) {
                    skip("ES6000", DLQ_NEEDS_NO_DLQ);
                }
            }
            "AWS::Logs::LogGroup" if assured && !has(r, cfn::KmsKeyId) => {
                skip("CKV_AWS_158", LOGS_SSE)
            }
            "AWS::DynamoDB::Table" => {
                let cmk = matches!(r.properties.get(cfn::SSESpecification), Some(Expr::Map(m)) if m.contains_key(cfn::KMSMasterKeyId));
                if assured && !cmk {
                    skip("CKV_AWS_119", TABLE_CMK);
                }
            }
            "AWS::Lambda::Function" => {
                if assured && !has(r, cfn::VpcConfig) {
                    skip("CKV_AWS_117", NO_VPC);
                }
                if assured && !has(r, cfn::ReservedConcurrentExecutions) {
                    skip("CKV_AWS_115", CONCURRENCY);
                }
                if assured && !has(r, cfn::KmsKeyArn) {
                    skip("CKV_AWS_173", ENV_KMS);
                }
                if !has(r, cfn::DeadLetterConfig) {
                    skip("CKV_AWS_116", function_dlq_reason(t, id));
                }
                if matches!(r.properties.get(cfn::LoggingConfig), Some(Expr::Map(m)) if m.contains_key(cfn::LogGroup))
                {
                    skip("WS1004", LOG_GROUP_BY_CONFIG);
                }
            }
            // Invoking a function imported by ARN: its asynchronous settings (retries,
            // on-failure destination) belong to the stack that owns it.
            "AWS::Lambda::Permission" if matches!(r.properties.get(cfn::FunctionName), Some(Expr::Str(a)) if a.starts_with("arn:")) =>
            {
                skip("ES1007", IMPORTED_FUNCTION);
            }
            "AWS::Lambda::EventSourceMapping" => {
                let arn = r.properties.get(cfn::EventSourceArn);
                let source = target(arn);
                // A queue of this stack, or one imported by its ARN.
                let sqs = source
                    .and_then(|s| t.resources.get(s))
                    .is_some_and(|q| q.resource_type == "AWS::SQS::Queue")
                    || matches!(arn, Some(Expr::Str(a)) if a.split(':').nth(2) == Some("sqs"));
                if sqs {
                    skip("ES1001", SQS_NO_DESTINATION);
                }
            }
            _ => {}
        }
    }
    out
}
