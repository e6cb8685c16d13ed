//! Reading each resource type of a deployed template into the event plane.

use std::collections::BTreeMap;

use serde_json::Value;

use super::*;
use crate::local::resolve::{
    queue_name, text, DeployedStack, ResolveError, Resolver, ACCOUNT, REGION,
};
use crate::template::{Expr, Resource};

fn props(r: &Resolver<'_>, stack: &str, res: &Resource) -> Result<Value, ResolveError> {
    Ok(r.value(stack, &Expr::Map(res.properties.clone()))?
        .unwrap_or(Value::Null))
}

fn s_(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn n_(v: &Value, k: &str) -> Option<u64> {
    v.get(k).and_then(|x| {
        x.as_u64()
            .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
    })
}

fn function_name(arn_or_name: &str) -> String {
    match arn_or_name.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest).to_string(),
        None => arn_or_name.to_string(),
    }
}

pub(super) fn read(
    r: &Resolver<'_>,
    s: &DeployedStack,
    id: &str,
    res: &Resource,
    crates: &BTreeMap<(String, String), String>,
    w: &mut World,
) -> Result<(), String> {
    let stack = s.name.as_str();
    let e = |e: ResolveError| e.message;
    match res.resource_type.as_str() {
        "AWS::Lambda::Function" => {
            let p = props(r, stack, res).map_err(e)?;
            if p.get("DurableConfig").is_some() {
                return Err("durable functions are not run by the local engine yet (it does not serve the durable-execution checkpoint API)".into());
            }
            let name = r.reference(stack, id).map_err(e)?;
            let handler_crate = crates
                .get(&(stack.to_string(), id.to_string()))
                .cloned()
                .ok_or("the function has no handler crate in the assembly (its code cannot be run locally)")?;
            let env = p
                .pointer("/Environment/Variables")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), text(v))).collect())
                .unwrap_or_default();
            let role_arn = s_(&p, "Role").unwrap_or_default();
            let policies = role_policies(r, s, res.properties.get("Role"))?;
            w.functions.push(Function {
                stack: stack.into(),
                logical_id: id.into(),
                arn: format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"),
                name,
                handler_crate,
                env,
                timeout_secs: n_(&p, "Timeout").unwrap_or(3),
                memory_mb: n_(&p, "MemorySize").unwrap_or(128),
                policies,
                role_arn,
            });
        }
        "AWS::SQS::Queue" => {
            let p = props(r, stack, res).map_err(e)?;
            let name = queue_name(&r.reference(stack, id).map_err(e)?);
            let redrive = match p.get("RedrivePolicy") {
                Some(rp) => {
                    let rp = if let Value::String(s) = rp {
                        serde_json::from_str(s).unwrap_or(Value::Null)
                    } else {
                        rp.clone()
                    };
                    Some((
                        s_(&rp, "deadLetterTargetArn")
                            .ok_or("RedrivePolicy without deadLetterTargetArn")?,
                        n_(&rp, "maxReceiveCount").unwrap_or(10) as u32,
                    ))
                }
                None => None,
            };
            w.queues.push(Queue {
                stack: stack.into(),
                logical_id: id.into(),
                url: r.queue_url(&name),
                arn: format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"),
                name,
                visibility_timeout_secs: n_(&p, "VisibilityTimeout").unwrap_or(30),
                // SQS's default: four days.
                retention_secs: n_(&p, "MessageRetentionPeriod").unwrap_or(345_600),
                redrive,
            });
        }
        "AWS::Lambda::EventSourceMapping" => {
            let p = props(r, stack, res).map_err(e)?;
            let source =
                s_(&p, "EventSourceArn").ok_or("no EventSourceArn (only SQS sources are run)")?;
            let function = function_name(&s_(&p, "FunctionName").unwrap_or_default());
            let filters = filter_patterns(&p, "/FilterCriteria/Filters")?;
            let report_batch_item_failures = p
                .get("FunctionResponseTypes")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|t| t == "ReportBatchItemFailures"));
            let enabled = p.get("Enabled").and_then(Value::as_bool).unwrap_or(true);
            if let Some(table) = stream_table(&source) {
                w.stream_sources.push(StreamSource {
                    stack: stack.into(),
                    logical_id: id.into(),
                    table,
                    function,
                    batch_size: n_(&p, "BatchSize").unwrap_or(100) as usize,
                    report_batch_item_failures,
                    bisect: p
                        .get("BisectBatchOnFunctionError")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    max_retries: p
                        .get("MaximumRetryAttempts")
                        .and_then(Value::as_i64)
                        .unwrap_or(-1),
                    on_failure: p
                        .pointer("/DestinationConfig/OnFailure/Destination")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    filters,
                    enabled,
                    pipe: None,
                });
                return Ok(());
            }
            if !source.starts_with("arn:aws:sqs:") {
                return Err(format!("event source `{source}`: only SQS and DynamoDB stream event sources are run by the local engine (not Kinesis, Kafka or MQ)"));
            }
            w.sqs_sources.push(SqsSource {
                stack: stack.into(),
                logical_id: id.into(),
                queue_arn: source,
                function,
                batch_size: n_(&p, "BatchSize").unwrap_or(10) as usize,
                report_batch_item_failures,
                enabled,
                filters,
            });
        }
        "AWS::Events::Rule" => {
            let p = props(r, stack, res).map_err(e)?;
            let name = r.reference(stack, id).map_err(e)?;
            let bus = s_(&p, "EventBusName")
                .map(|b| b.rsplit('/').next().unwrap_or(&b).to_string())
                .unwrap_or_else(|| "default".into());
            let targets = p
                .get("Targets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(target)
                .collect::<Result<Vec<_>, _>>()?;
            w.rules.push(Rule {
                stack: stack.into(),
                logical_id: id.into(),
                arn: format!(
                    "arn:aws:events:{REGION}:{ACCOUNT}:rule/{}{}",
                    if bus == "default" {
                        String::new()
                    } else {
                        format!("{bus}/")
                    },
                    name.rsplit('|').next().unwrap_or(&name)
                ),
                name,
                bus,
                pattern: p.get("EventPattern").map(|v| {
                    if let Value::String(s) = v {
                        serde_json::from_str(s).unwrap_or(Value::Null)
                    } else {
                        v.clone()
                    }
                }),
                schedule: s_(&p, "ScheduleExpression"),
                enabled: s_(&p, "State").is_none_or(|st| st == "ENABLED"),
                targets,
            });
        }
        "AWS::Lambda::EventInvokeConfig" => {
            let p = props(r, stack, res).map_err(e)?;
            let f = function_name(&s_(&p, "FunctionName").unwrap_or_default());
            w.invoke_configs.insert(
                f,
                InvokeConfig {
                    max_retries: n_(&p, "MaximumRetryAttempts").unwrap_or(2) as u32,
                    max_age_secs: n_(&p, "MaximumEventAgeInSeconds").unwrap_or(21_600),
                    on_success: p
                        .pointer("/DestinationConfig/OnSuccess/Destination")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    on_failure: p
                        .pointer("/DestinationConfig/OnFailure/Destination")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                },
            );
        }
        "AWS::Scheduler::Schedule" => {
            let p = props(r, stack, res).map_err(e)?;
            let t = p.get("Target").ok_or("no Target")?;
            w.schedules.push(Schedule {
                stack: stack.into(),
                logical_id: id.into(),
                expression: s_(&p, "ScheduleExpression").unwrap_or_default(),
                target: target(t)?,
            });
        }
        "AWS::StepFunctions::StateMachine" => {
            let p = props(r, stack, res).map_err(e)?;
            let mut definition = match (p.get("Definition"), p.get("DefinitionString")) {
                (Some(d), _) => d.clone(),
                (None, Some(Value::String(s))) => serde_json::from_str(s)
                    .map_err(|err| format!("DefinitionString is not JSON: {err}"))?,
                _ => return Err(
                    "no Definition or DefinitionString (DefinitionS3Location is not read locally)"
                        .into(),
                ),
            };
            if let Some(Value::Object(subs)) = p.get("DefinitionSubstitutions") {
                let mut text = definition.to_string();
                for (k, v) in subs {
                    text = text.replace(&format!("${{{k}}}"), v.as_str().unwrap_or_default());
                }
                definition = serde_json::from_str(&text).map_err(|err| {
                    format!("the definition after DefinitionSubstitutions is not JSON: {err}")
                })?;
            }
            let arn = r.reference(stack, id).map_err(e)?;
            w.state_machines.push(StateMachine {
                stack: stack.into(),
                logical_id: id.into(),
                name: arn.rsplit(':').next().unwrap_or(&arn).to_string(),
                arn,
                definition,
                express: s_(&p, "StateMachineType").as_deref() == Some("EXPRESS"),
                policies: role_policies(r, s, res.properties.get("RoleArn"))?,
            });
        }
        "AWS::Events::Archive" => {
            let p = props(r, stack, res).map_err(e)?;
            w.archives.push(Archive {
                stack: stack.into(),
                logical_id: id.into(),
                bus_arn: s_(&p, "SourceArn").unwrap_or_default(),
                pattern: p.get("EventPattern").cloned(),
            });
        }
        "AWS::Events::EventBus" => {
            let name = r.reference(stack, id).map_err(e)?;
            let name = name.rsplit('/').next().unwrap_or(&name).to_string();
            w.buses.push((stack.to_string(), id.to_string(), name));
        }
        "AWS::DynamoDB::Table" => {
            let p = props(r, stack, res).map_err(e)?;
            let ttl = p.get("TimeToLiveSpecification");
            let ttl_attribute = ttl
                .filter(|t| t.get("Enabled").and_then(Value::as_bool) == Some(true))
                .and_then(|t| s_(t, "AttributeName"));
            w.tables.push(Table {
                stack: stack.into(),
                logical_id: id.into(),
                name: r.reference(stack, id).map_err(e)?,
                ttl_attribute,
            });
        }
        "AWS::Pipes::Pipe" => {
            let p = props(r, stack, res).map_err(e)?;
            let source = s_(&p, "Source").ok_or("no Source")?;
            let Some(table) = stream_table(&source) else {
                return Err(format!(
                    "source `{source}`: the local engine runs pipes from DynamoDB streams only"
                ));
            };
            if p.get("Enrichment").is_some() {
                return Err("pipe enrichment is not run by the local engine yet".into());
            }
            let target = s_(&p, "Target").ok_or("no Target")?;
            let supported = target.starts_with("arn:aws:sqs:")
                || target.contains(":event-bus/")
                || target.contains(":stateMachine:")
                || target.contains(":function:");
            if !supported {
                return Err(format!("target `{target}`: the local engine runs pipe targets on SQS, EventBridge, Step Functions and Lambda"));
            }
            let sp = p
                .pointer("/SourceParameters/DynamoDBStreamParameters")
                .cloned()
                .unwrap_or(Value::Null);
            let tp = p.get("TargetParameters").cloned().unwrap_or(Value::Null);
            let bus = tp
                .get("EventBridgeEventBusParameters")
                .cloned()
                .unwrap_or(Value::Null);
            w.stream_sources.push(StreamSource {
                stack: stack.into(),
                logical_id: id.into(),
                table,
                function: String::new(),
                batch_size: n_(&sp, "BatchSize").unwrap_or(1) as usize,
                report_batch_item_failures: false,
                bisect: sp.get("OnPartialBatchItemFailure").and_then(Value::as_str)
                    == Some("AUTOMATIC_BISECT"),
                max_retries: sp
                    .get("MaximumRetryAttempts")
                    .and_then(Value::as_i64)
                    .unwrap_or(-1),
                on_failure: sp
                    .pointer("/DeadLetterConfig/Arn")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                filters: filter_patterns(&p, "/SourceParameters/FilterCriteria/Filters")?,
                enabled: s_(&p, "DesiredState").is_none_or(|d| d == "RUNNING"),
                pipe: Some(PipeTarget {
                    arn: target,
                    input_template: s_(&tp, "InputTemplate"),
                    source: s_(&bus, "Source"),
                    detail_type: s_(&bus, "DetailType"),
                    policies: role_policies(r, s, res.properties.get("RoleArn"))?,
                }),
            });
        }
        "AWS::SNS::Subscription" => {
            let p = props(r, stack, res).map_err(e)?;
            let protocol = s_(&p, "Protocol").unwrap_or_default();
            if ![
                "sqs",
                "lambda",
                "email",
                "email-json",
                "sms",
                "http",
                "https",
            ]
            .contains(&protocol.as_str())
            {
                return Err(format!("protocol `{protocol}`: the local engine delivers SNS to sqs and lambda endpoints and records email, sms and http(s) ones"));
            }
            let text_json = |v: Option<&Value>| match v {
                Some(Value::String(t)) => serde_json::from_str(t).ok(),
                Some(v @ Value::Object(_)) => Some(v.clone()),
                _ => None,
            };
            let truthy = |v: Option<&Value>| {
                matches!(v, Some(Value::Bool(true))) || v.and_then(Value::as_str) == Some("true")
            };
            w.subscriptions.push(Subscription {
                stack: stack.into(),
                logical_id: id.into(),
                topic_arn: s_(&p, "TopicArn").ok_or("no TopicArn")?,
                protocol,
                endpoint: s_(&p, "Endpoint").ok_or("no Endpoint")?,
                raw: truthy(p.get("RawMessageDelivery")),
                filter: text_json(p.get("FilterPolicy")),
                body_scope: s_(&p, "FilterPolicyScope").as_deref() == Some("MessageBody"),
                dead_letter_arn: text_json(p.get("RedrivePolicy"))
                    .and_then(|rp| s_(&rp, "deadLetterTargetArn")),
            });
        }
        "AWS::SNS::Topic" => {
            w.topics.push((
                stack.to_string(),
                id.to_string(),
                r.reference(stack, id).map_err(e)?,
            ));
        }
        _ => {}
    }
    Ok(())
}

fn target(t: &Value) -> Result<RuleTarget, String> {
    Ok(RuleTarget {
        id: s_(t, "Id").unwrap_or_default(),
        arn: s_(t, "Arn").ok_or("a target without Arn")?,
        input: s_(t, "Input"),
        input_path: s_(t, "InputPath"),
        transformer: t.get("InputTransformer").map(|x| {
            let paths = x
                .get("InputPathsMap")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            (paths, s_(x, "InputTemplate").unwrap_or_default())
        }),
        dead_letter_arn: t
            .pointer("/DeadLetterConfig/Arn")
            .and_then(Value::as_str)
            .map(str::to_string),
        // EventBridge's defaults: 185 attempts over 24 hours.
        max_retries: t
            .pointer("/RetryPolicy/MaximumRetryAttempts")
            .and_then(Value::as_u64)
            .unwrap_or(185) as u32,
        max_age_secs: t
            .pointer("/RetryPolicy/MaximumEventAgeInSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(86_400),
    })
}

/// The identity-based policies of the role a `Role`/`RoleArn` expression points at: its
/// inline policies and every AWS::IAM::Policy / ManagedPolicy of the stack attached to it.
pub(super) fn role_policies(
    r: &Resolver<'_>,
    s: &DeployedStack,
    role: Option<&Expr>,
) -> Result<Vec<Value>, String> {
    let role_id = match role {
        Some(Expr::GetAtt(t, _)) | Some(Expr::Ref(t)) => t.logical_id.clone(),
        _ => return Ok(Vec::new()),
    };
    let stack = s.name.as_str();
    let Some(role_res) = s.template.resources.get(&role_id) else {
        return Ok(Vec::new());
    };
    let mut docs = Vec::new();
    let rp = props(r, stack, role_res).map_err(|e| e.message)?;
    for p in rp
        .get("Policies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(d) = p.get("PolicyDocument") {
            docs.push(d.clone());
        }
    }
    for res in s.template.resources.values() {
        if !matches!(
            res.resource_type.as_str(),
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy"
        ) {
            continue;
        }
        let attached = match res.properties.get("Roles") {
            Some(Expr::List(items)) => items
                .iter()
                .any(|i| matches!(i, Expr::Ref(t) if t.logical_id == role_id)),
            _ => false,
        };
        if attached {
            let p = props(r, stack, res).map_err(|e| e.message)?;
            if let Some(d) = p.get("PolicyDocument") {
                docs.push(d.clone());
            }
        }
    }
    Ok(docs)
}

/// The table a DynamoDB stream ARN belongs to.
fn stream_table(arn: &str) -> Option<String> {
    let rest = arn
        .strip_prefix("arn:aws:dynamodb:")?
        .split(":table/")
        .nth(1)?;
    let (table, stream) = rest.split_once('/')?;
    stream.starts_with("stream/").then(|| table.to_string())
}

/// Filter criteria patterns (each a JSON text in the template) at `pointer`.
fn filter_patterns(p: &Value, pointer: &str) -> Result<Vec<Value>, String> {
    p.pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| s_(f, "Pattern"))
        .map(|t| {
            serde_json::from_str(&t).map_err(|err| format!("a filter pattern is not JSON: {err}"))
        })
        .collect()
}
