//! The event plane of deployed stacks, read from their templates: functions with their
//! environment and role policies, queues, event source mappings, buses, rules and targets,
//! async-invoke configs, schedules, state machines and archives. What the engine cannot run is
//! refused here, each named, before anything runs.

use std::collections::BTreeMap;

use serde_json::Value;

mod http;
mod read;

pub use http::{HttpApi, HttpIntegration, HttpRoute};

use read::{read, role_policies as role_policies_of};

use super::asl;
use super::resolve::Resolver;

/// A Lambda function.
#[derive(Debug, Clone)]
pub struct Function {
    pub stack: String,
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub handler_crate: String,
    pub env: Vec<(String, String)>,
    pub timeout_secs: u64,
    pub memory_mb: u64,
    /// The execution role's identity-based policy documents, resolved.
    pub policies: Vec<Value>,
    pub role_arn: String,
}

/// An SQS queue.
#[derive(Debug, Clone)]
pub struct Queue {
    pub stack: String,
    pub logical_id: String,
    pub name: String,
    pub url: String,
    pub arn: String,
    pub visibility_timeout_secs: u64,
    /// MessageRetentionPeriod.
    pub retention_secs: u64,
    /// Dead-letter queue ARN and maxReceiveCount.
    pub redrive: Option<(String, u32)>,
}

/// An SQS event source mapping.
#[derive(Debug, Clone)]
pub struct SqsSource {
    pub stack: String,
    pub logical_id: String,
    pub queue_arn: String,
    pub function: String,
    pub batch_size: usize,
    pub report_batch_item_failures: bool,
    pub enabled: bool,
    /// Filter criteria patterns (a message is delivered when any matches).
    pub filters: Vec<Value>,
}

/// A DynamoDB stream event source mapping.
#[derive(Debug, Clone)]
pub struct StreamSource {
    pub stack: String,
    pub logical_id: String,
    /// The table whose stream it reads.
    pub table: String,
    pub function: String,
    pub batch_size: usize,
    pub report_batch_item_failures: bool,
    pub bisect: bool,
    /// -1: until the records expire (24 h), as in Lambda.
    pub max_retries: i64,
    pub on_failure: Option<String>,
    pub filters: Vec<Value>,
    pub enabled: bool,
    /// Set when the reader is an EventBridge pipe instead of a Lambda mapping (`function` is
    /// then empty).
    pub pipe: Option<PipeTarget>,
}

/// Where an EventBridge pipe sends what it reads.
#[derive(Debug, Clone)]
pub struct PipeTarget {
    pub arn: String,
    /// InputTemplate, with `<$.path>` placeholders.
    pub input_template: Option<String>,
    /// EventBridgeEventBusParameters: Source and DetailType.
    pub source: Option<String>,
    pub detail_type: Option<String>,
    /// The pipe role's policies.
    pub policies: Vec<Value>,
}

/// An EventBridge rule target.
#[derive(Debug, Clone)]
pub struct RuleTarget {
    pub id: String,
    pub arn: String,
    pub input: Option<String>,
    pub input_path: Option<String>,
    /// InputPathsMap and InputTemplate.
    pub transformer: Option<(BTreeMap<String, String>, String)>,
    pub dead_letter_arn: Option<String>,
    pub max_retries: u32,
    pub max_age_secs: u64,
}

/// An EventBridge rule (pattern or schedule).
#[derive(Debug, Clone)]
pub struct Rule {
    pub stack: String,
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub bus: String,
    pub pattern: Option<Value>,
    pub schedule: Option<String>,
    pub enabled: bool,
    pub targets: Vec<RuleTarget>,
}

/// Asynchronous invocation settings of a function.
#[derive(Debug, Clone)]
pub struct InvokeConfig {
    pub max_retries: u32,
    pub max_age_secs: u64,
    pub on_success: Option<String>,
    pub on_failure: Option<String>,
}

impl Default for InvokeConfig {
    fn default() -> Self {
        // Lambda's defaults: two retries, six hours.
        InvokeConfig {
            max_retries: 2,
            max_age_secs: 21_600,
            on_success: None,
            on_failure: None,
        }
    }
}

/// An EventBridge Scheduler schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub stack: String,
    pub logical_id: String,
    pub expression: String,
    pub target: RuleTarget,
}

/// A state machine.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub stack: String,
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub definition: Value,
    pub express: bool,
    pub policies: Vec<Value>,
}

/// An event archive: records what its pattern matches on its bus.
#[derive(Debug, Clone)]
pub struct Archive {
    pub stack: String,
    pub logical_id: String,
    pub bus_arn: String,
    pub pattern: Option<Value>,
}

/// A DynamoDB table.
#[derive(Debug, Clone)]
pub struct Table {
    pub stack: String,
    pub logical_id: String,
    pub name: String,
    /// The enabled `TimeToLiveSpecification` attribute: moto's CloudFormation does not apply
    /// it, so the local deploy does (UpdateTimeToLive) and the table reads as in AWS.
    pub ttl_attribute: Option<String>,
}

/// An SNS subscription (SQS and Lambda endpoints).
#[derive(Debug, Clone)]
pub struct Subscription {
    pub stack: String,
    pub logical_id: String,
    pub topic_arn: String,
    /// `sqs` and `lambda` are delivered; `email`, `email-json`, `sms`, `http(s)` recorded.
    pub protocol: String,
    pub endpoint: String,
    pub raw: bool,
    pub filter: Option<Value>,
    /// FilterPolicyScope MessageBody.
    pub body_scope: bool,
    pub dead_letter_arn: Option<String>,
}

/// Everything the engine delivers between.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub functions: Vec<Function>,
    pub queues: Vec<Queue>,
    pub sqs_sources: Vec<SqsSource>,
    pub buses: Vec<(String, String, String)>,
    pub rules: Vec<Rule>,
    pub invoke_configs: BTreeMap<String, InvokeConfig>,
    pub schedules: Vec<Schedule>,
    pub state_machines: Vec<StateMachine>,
    pub archives: Vec<Archive>,
    pub tables: Vec<Table>,
    /// (stack, logical ID, topic ARN).
    pub topics: Vec<(String, String, String)>,
    pub subscriptions: Vec<Subscription>,
    pub http_apis: Vec<HttpApi>,
    pub stream_sources: Vec<StreamSource>,
}

/// Resource types that hold state or configuration the engine reads elsewhere, or that take no
/// part in delivery (alarms have no metrics locally).
const INERT: &[&str] = &[
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::Logs::LogGroup",
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
    "AWS::CloudWatch::Alarm",
    "AWS::Lambda::Permission",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::Events::EventBusPolicy",
    "AWS::Scheduler::ScheduleGroup",
    "AWS::DynamoDB::Table",
    "AWS::SNS::Topic",
    "AWS::Events::EventBus",
];

/// Why a type is not run yet, for the refusal.
fn unsupported(ty: &str) -> Option<&'static str> {
    Some(match ty {
        t if t.starts_with("AWS::ApiGateway::") => {
            "REST APIs (API Gateway v1) are not served by the local engine"
        }
        _ => return None,
    })
}

/// Read the event plane. `crates` maps (stack, function logical ID) to its handler crate.
pub fn build(
    r: &Resolver<'_>,
    crates: &BTreeMap<(String, String), String>,
) -> Result<World, Vec<String>> {
    let mut w = World::default();
    let mut problems = Vec::new();
    for s in r.stacks {
        for (id, res) in &s.template.resources {
            let ty = res.resource_type.as_str();
            let here = format!("{}/{id} ({ty})", s.name);
            if let Err(e) = read(r, s, id, res, crates, &mut w) {
                problems.push(format!("{here}: {e}"));
            } else if let Some(why) = unsupported(ty) {
                problems.push(format!("{here}: {why}"));
            } else if !INERT.contains(&ty) && !RUN.contains(&ty) {
                problems.push(format!(
                    "{here}: this resource type is not run by the local engine"
                ));
            }
        }
    }
    for s in r.stacks {
        http::read_apis(r, s, &mut w, &mut problems);
    }
    for sm in &w.state_machines {
        for p in asl::check(&sm.definition) {
            problems.push(format!(
                "{}/{} (AWS::StepFunctions::StateMachine): {p}",
                sm.stack, sm.logical_id
            ));
        }
    }
    if problems.is_empty() {
        Ok(w)
    } else {
        Err(problems)
    }
}

const RUN: &[&str] = &[
    "AWS::Lambda::Function",
    "AWS::SQS::Queue",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Events::Rule",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Scheduler::Schedule",
    "AWS::StepFunctions::StateMachine",
    "AWS::Events::Archive",
    "AWS::SNS::Subscription",
    "AWS::Pipes::Pipe",
    // Read as a whole per API (world/http.rs).
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Stage",
];
