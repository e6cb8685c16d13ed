//! What an AWS request asks permission for: the IAM actions and resource ARNs of a call,
//! read from its protocol (JSON target and body, query form, REST path).

use serde_json::Value;

use super::http::{form, Request};
use super::resolve::{queue_name, ACCOUNT, REGION};

/// What a request asks: IAM actions with their resources, or `None` when the proxy cannot
/// tell (such calls are forwarded and traced as unchecked).
pub fn authorization(service: &str, req: &Request) -> Option<Vec<(String, String)>> {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let op = req
        .header("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
        .map(str::to_string);
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    match service {
        "dynamodb" => {
            let op = op?;
            let table = |name: &str| {
                if name.starts_with("arn:") {
                    name.to_string()
                } else {
                    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}")
                }
            };
            match op.as_str() {
                "BatchWriteItem" | "BatchGetItem" => {
                    let items = body.get("RequestItems")?.as_object()?;
                    Some(
                        items
                            .keys()
                            .map(|t| (format!("dynamodb:{op}"), table(t)))
                            .collect(),
                    )
                }
                "TransactWriteItems" | "TransactGetItems" => {
                    let mut out = Vec::new();
                    for item in body.get("TransactItems")?.as_array()? {
                        for (kind, action) in [
                            ("Put", "PutItem"),
                            ("Update", "UpdateItem"),
                            ("Delete", "DeleteItem"),
                            ("ConditionCheck", "ConditionCheckItem"),
                            ("Get", "GetItem"),
                        ] {
                            if let Some(t) = item.get(kind).and_then(|x| str_of(x, "TableName")) {
                                out.push((format!("dynamodb:{action}"), table(&t)));
                            }
                        }
                    }
                    Some(out)
                }
                "ListTables" | "DescribeLimits" | "DescribeEndpoints" => {
                    Some(vec![(format!("dynamodb:{op}"), "*".into())])
                }
                _ => {
                    let mut arn = table(&str_of(&body, "TableName")?);
                    if let Some(i) = str_of(&body, "IndexName") {
                        arn = format!("{arn}/index/{i}");
                    }
                    Some(vec![(format!("dynamodb:{op}"), arn)])
                }
            }
        }
        "sqs" => {
            let op = op.or_else(|| {
                form(&req.body)
                    .into_iter()
                    .find(|(k, _)| k == "Action")
                    .map(|(_, v)| v)
            })?;
            let queue = str_of(&body, "QueueUrl")
                .map(|u| queue_name(&u))
                .or_else(|| str_of(&body, "QueueName"))?;
            let action = op.strip_suffix("Batch").unwrap_or(&op);
            Some(vec![(
                format!("sqs:{action}"),
                format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}"),
            )])
        }
        "events" => {
            let op = op?;
            if op != "PutEvents" {
                return None;
            }
            Some(
                body.get("Entries")?
                    .as_array()?
                    .iter()
                    .map(|e| {
                        (
                            "events:PutEvents".to_string(),
                            bus_arn(&str_of(e, "EventBusName").unwrap_or_else(|| "default".into())),
                        )
                    })
                    .collect(),
            )
        }
        "states" => {
            let op = op?;
            let resource = match op.as_str() {
                "StartExecution" | "StartSyncExecution" => str_of(&body, "stateMachineArn")?,
                "SendTaskSuccess" | "SendTaskFailure" | "SendTaskHeartbeat" => {
                    token_machine(&str_of(&body, "taskToken")?)
                }
                _ => return None,
            };
            Some(vec![(format!("states:{op}"), resource)])
        }
        "lambda" => {
            let name = invoked_function(&req.target)?;
            req.target.contains("/invocations").then(|| {
                vec![(
                    "lambda:InvokeFunction".to_string(),
                    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"),
                )]
            })
        }
        "sns" => {
            let f = form(&req.body);
            let get = |k: &str| f.iter().find(|(fk, _)| fk == k).map(|(_, v)| v.clone());
            let action = get("Action")?;
            let topic = get("TopicArn").or_else(|| get("TargetArn"))?;
            Some(vec![(format!("sns:{action}"), topic)])
        }
        "sts" => Some(vec![]),
        _ => None,
    }
}

fn bus_arn(name_or_arn: &str) -> String {
    if name_or_arn.starts_with("arn:") {
        name_or_arn.to_string()
    } else {
        format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name_or_arn}")
    }
}

/// The state machine ARN a task token belongs to (tokens are `<execution ARN>:<state>:<n>`).
pub fn token_machine(token: &str) -> String {
    let exec: Vec<&str> = token.split(':').collect();
    if exec.len() >= 8 && exec[5] == "execution" {
        format!(
            "arn:aws:states:{}:{}:stateMachine:{}",
            exec[3], exec[4], exec[6]
        )
    } else {
        "*".into()
    }
}

/// The function a Lambda Invoke path names (`/2015-03-31/functions/{name or ARN}/invocations`).
pub fn invoked_function(target: &str) -> Option<String> {
    let name = target.split("/functions/").nth(1)?.split('/').next()?;
    Some(name.rsplit(':').next().unwrap_or(name).to_string())
}
