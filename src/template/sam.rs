//! SAM templates (`Transform: AWS::Serverless-2016-10-31`) read as the CloudFormation they
//! become, so the rules apply to them as to any template: each `AWS::Serverless::Function`
//! with `Globals.Function` merged becomes a function (a `StateMachine` a state machine), and
//! its events the resources SAM generates, under the logical IDs SAM gives them (`<Function><Event>`,
//! `<Function>EventInvokeConfig`, `<Function>Role`). Only what the rules read is produced; the
//! template is checked, never deployed, from this.

use std::collections::BTreeMap;

use super::{Expr, Resource, Template};

/// The SAM transform's name.
pub const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";

/// Whether the template asks for the SAM transform.
pub fn is_sam(t: &Template) -> bool {
    match t.sections.get("Transform") {
        Some(Expr::Str(s)) => s == SAM_TRANSFORM,
        Some(Expr::List(items)) => items
            .iter()
            .any(|i| matches!(i, Expr::Str(s) if s == SAM_TRANSFORM)),
        _ => false,
    }
}

fn get<'e>(m: &'e BTreeMap<String, Expr>, key: &str) -> Option<&'e Expr> {
    m.get(key)
}

fn map(e: Option<&Expr>) -> BTreeMap<String, Expr> {
    match e {
        Some(Expr::Map(m)) => m.clone(),
        _ => BTreeMap::new(),
    }
}

/// Copy `keys` of `from` into `to`, where present.
fn copy(from: &BTreeMap<String, Expr>, to: &mut Resource, keys: &[&str]) {
    for k in keys {
        if let Some(v) = from.get(*k) {
            to.properties.insert((*k).to_string(), v.clone());
        }
    }
}

/// The template with its SAM resources expanded; a template without the transform is
/// borrowed as it is, not copied.
pub fn expand(t: &Template) -> std::borrow::Cow<'_, Template> {
    if !is_sam(t) {
        return std::borrow::Cow::Borrowed(t);
    }
    std::borrow::Cow::Owned(expand_sam(t))
}

fn expand_sam(t: &Template) -> Template {
    let globals = map(t.sections.get("Globals"));
    let function_globals = map(globals.get("Function"));
    let mut out = t.clone();
    out.resources.clear();
    // Each HttpApi's properties (Globals merged), for the routes its functions' events make.
    let apis: BTreeMap<String, BTreeMap<String, Expr>> = t
        .resources
        .iter()
        .filter(|(_, r)| r.resource_type == "AWS::Serverless::HttpApi")
        .map(|(id, r)| {
            let mut props = map(globals.get("HttpApi"));
            props.extend(r.properties.clone());
            (id.clone(), props)
        })
        .collect();
    for (id, r) in &t.resources {
        match r.resource_type.as_str() {
            "AWS::Serverless::Function" => {
                let mut props = function_globals.clone();
                props.extend(r.properties.clone());
                function(&mut out, &apis, id, r, &props);
            }
            "AWS::Serverless::StateMachine" => {
                let mut props = map(globals.get("StateMachine"));
                props.extend(r.properties.clone());
                state_machine(&mut out, id, r, &props);
            }
            "AWS::Serverless::HttpApi" => {
                let mut props = map(globals.get("HttpApi"));
                props.extend(r.properties.clone());
                let mut api = r.clone();
                api.resource_type = "AWS::ApiGatewayV2::Api".into();
                api.properties = BTreeMap::new();
                api.properties
                    .insert("ProtocolType".into(), Expr::from("HTTP"));
                out.resources.insert(id.clone(), api);
                let mut stage = Resource::new("AWS::ApiGatewayV2::Stage");
                stage.properties.insert("ApiId".into(), Expr::ref_(id));
                copy(
                    &props,
                    &mut stage,
                    &["DefaultRouteSettings", "AccessLogSettings"],
                );
                out.resources
                    .insert(format!("{id}ApiGatewayDefaultStage"), stage);
            }
            "AWS::Serverless::SimpleTable" => {
                let mut table = r.clone();
                table.resource_type = "AWS::DynamoDB::Table".into();
                table.properties = BTreeMap::new();
                let mut props = map(globals.get("SimpleTable"));
                props.extend(r.properties.clone());
                copy(&props, &mut table, &["SSESpecification", "TableName"]);
                out.resources.insert(id.clone(), table);
            }
            _ => {
                out.resources.insert(id.clone(), r.clone());
            }
        }
    }
    out
}

fn function(
    out: &mut Template,
    apis: &BTreeMap<String, BTreeMap<String, Expr>>,
    id: &str,
    r: &Resource,
    props: &BTreeMap<String, Expr>,
) {
    let mut f = r.clone();
    f.resource_type = "AWS::Lambda::Function".into();
    f.properties = BTreeMap::new();
    copy(
        props,
        &mut f,
        &[
            "Timeout",
            "MemorySize",
            "Runtime",
            "Handler",
            "Environment",
            "ReservedConcurrentExecutions",
            "LoggingConfig",
        ],
    );
    if let Some(Expr::Str(mode)) = get(props, "Tracing") {
        f.properties.insert(
            "TracingConfig".into(),
            Expr::map([("Mode", Expr::from(mode.as_str()))]),
        );
    }
    if let Some(target) = map(get(props, "DeadLetterQueue")).get("TargetArn") {
        f.properties.insert(
            "DeadLetterConfig".into(),
            Expr::map([("TargetArn", target.clone())]),
        );
    }
    let role_id = format!("{id}Role");
    match get(props, "Role") {
        Some(role) => {
            f.properties.insert("Role".into(), role.clone());
        }
        None => {
            f.properties
                .insert("Role".into(), Expr::get_att(&role_id, "Arn"));
            out.resources.insert(role_id.clone(), role(props));
        }
    }
    out.resources.insert(id.to_string(), f);
    let mut invoke = map(get(props, "EventInvokeConfig"));
    // `OnFailure: {Type: SQS}` without a Destination: SAM creates the queue.
    if let Some(Expr::Map(dc)) = invoke.get_mut("DestinationConfig") {
        if let Some(Expr::Map(on_failure)) = dc.get_mut("OnFailure") {
            if !on_failure.contains_key("Destination") && on_failure.contains_key("Type") {
                on_failure.insert(
                    "Destination".into(),
                    Expr::from("(a destination SAM creates)"),
                );
            }
        }
    }
    if !invoke.is_empty() {
        let mut c = Resource::new("AWS::Lambda::EventInvokeConfig");
        c.properties.insert("FunctionName".into(), Expr::ref_(id));
        copy(
            &invoke,
            &mut c,
            &[
                "DestinationConfig",
                "MaximumRetryAttempts",
                "MaximumEventAgeInSeconds",
            ],
        );
        out.resources.insert(format!("{id}EventInvokeConfig"), c);
    }
    for (event_id, event) in map(get(props, "Events")) {
        let Expr::Map(event) = event else { continue };
        let kind = match event.get("Type") {
            Some(Expr::Str(s)) => s.clone(),
            _ => continue,
        };
        let p = map(event.get("Properties"));
        let name = format!("{id}{event_id}");
        if kind == "HttpApi" {
            http_api_route(out, apis, &name, &p);
        } else if kind == "SNS"
            && p.get("SqsSubscription")
                .is_some_and(|v| *v != Expr::Bool(false))
        {
            // SAM puts a queue between the topic and the function, read by a mapping.
            let queue = format!("{name}Queue");
            out.resources
                .insert(queue.clone(), Resource::new("AWS::SQS::Queue"));
            let mut m = Resource::new("AWS::Lambda::EventSourceMapping");
            m.properties.insert("FunctionName".into(), Expr::ref_(id));
            m.properties
                .insert("EventSourceArn".into(), Expr::get_att(&queue, "Arn"));
            let batch = match p.get("SqsSubscription") {
                Some(Expr::Map(s)) => s.get("BatchSize").cloned(),
                _ => None,
            };
            m.properties
                .insert("BatchSize".into(), batch.unwrap_or(Expr::Int(10)));
            out.resources.insert(format!("{name}EventSourceMapping"), m);
        } else if kind == "S3" {
            // S3 invokes asynchronously: the permission SAM grants it says so.
            let mut perm = Resource::new("AWS::Lambda::Permission");
            perm.properties
                .insert("Action".into(), Expr::from("lambda:InvokeFunction"));
            perm.properties
                .insert("FunctionName".into(), Expr::ref_(id));
            perm.properties
                .insert("Principal".into(), Expr::from("s3.amazonaws.com"));
            out.resources.insert(format!("{name}Permission"), perm);
        } else if let Some(resource) = event_resource(id, &kind, &p) {
            out.resources.insert(name, resource);
        }
    }
}

/// The route SAM generates for a function's `HttpApi` event, on the API it names (or the
/// implicit `ServerlessHttpApi`, whose default stage has no throttling), with the
/// authorization the event or the API's default authorizer gives it.
fn http_api_route(
    out: &mut Template,
    apis: &BTreeMap<String, BTreeMap<String, Expr>>,
    name: &str,
    p: &BTreeMap<String, Expr>,
) {
    let api_id = match p.get("ApiId") {
        Some(Expr::Ref(t)) => t.logical_id.clone(),
        _ => {
            if !out.resources.contains_key("ServerlessHttpApi") {
                let mut api = Resource::new("AWS::ApiGatewayV2::Api");
                api.properties
                    .insert("ProtocolType".into(), Expr::from("HTTP"));
                out.resources.insert("ServerlessHttpApi".into(), api);
                let mut stage = Resource::new("AWS::ApiGatewayV2::Stage");
                stage
                    .properties
                    .insert("ApiId".into(), Expr::ref_("ServerlessHttpApi"));
                out.resources
                    .insert("ServerlessHttpApiApiGatewayDefaultStage".into(), stage);
            }
            "ServerlessHttpApi".to_string()
        }
    };
    let api_auth = apis
        .get(&api_id)
        .map(|a| map(a.get("Auth")))
        .unwrap_or_default();
    let event_auth = map(p.get("Auth"));
    let authorizer = event_auth
        .get("Authorizer")
        .or_else(|| api_auth.get("DefaultAuthorizer"))
        .and_then(|a| match a {
            Expr::Str(s) if s != "NONE" => Some(s.clone()),
            _ => None,
        });
    let authorization = match authorizer.as_deref() {
        None => "NONE",
        Some("AWS_IAM") => "AWS_IAM",
        Some(named) => match map(api_auth.get("Authorizers")).get(named) {
            Some(Expr::Map(a)) if a.contains_key("JwtConfiguration") => "JWT",
            _ => "CUSTOM",
        },
    };
    let method = match p.get("Method") {
        Some(Expr::Str(m)) => m.to_ascii_uppercase(),
        _ => "ANY".into(),
    };
    let path = match p.get("Path") {
        Some(Expr::Str(s)) => s.clone(),
        _ => "/{proxy+}".into(),
    };
    let mut route = Resource::new("AWS::ApiGatewayV2::Route");
    route.properties.insert("ApiId".into(), Expr::ref_(&api_id));
    route.properties.insert(
        "RouteKey".into(),
        Expr::from(format!("{method} {path}").as_str()),
    );
    route
        .properties
        .insert("AuthorizationType".into(), Expr::from(authorization));
    out.resources.insert(name.to_string(), route);
}

fn state_machine(out: &mut Template, id: &str, r: &Resource, props: &BTreeMap<String, Expr>) {
    let mut sm = r.clone();
    sm.resource_type = "AWS::StepFunctions::StateMachine".into();
    sm.properties = BTreeMap::new();
    copy(
        props,
        &mut sm,
        &[
            "Definition",
            "DefinitionString",
            "RoleArn",
            "Type",
            "StateMachineName",
        ],
    );
    if let Some(name) = props.get("Name") {
        sm.properties
            .insert("StateMachineName".into(), name.clone());
    }
    if let Some(t) = props.get("Tracing") {
        sm.properties
            .insert("TracingConfiguration".into(), t.clone());
    }
    if let Some(l) = props.get("Logging") {
        sm.properties
            .insert("LoggingConfiguration".into(), l.clone());
    }
    // Without a Role, SAM makes one from the machine's Policies.
    if let Some(role_arn) = props.get("Role") {
        sm.properties.insert("RoleArn".into(), role_arn.clone());
    } else if !props.contains_key("RoleArn") {
        let role_id = format!("{id}Role");
        sm.properties
            .insert("RoleArn".into(), Expr::get_att(&role_id, "Arn"));
        out.resources.insert(role_id, role(props));
    }
    out.resources.insert(id.to_string(), sm);
    for (event_id, event) in map(props.get("Events")) {
        let Expr::Map(event) = event else { continue };
        let kind = match event.get("Type") {
            Some(Expr::Str(s)) => s.clone(),
            _ => continue,
        };
        if matches!(
            kind.as_str(),
            "EventBridgeRule" | "CloudWatchEvent" | "Schedule"
        ) {
            let p = map(event.get("Properties"));
            if let Some(mut rule) = event_resource(id, &kind, &p) {
                // The rule starts the state machine: its target is the machine's ARN (Ref).
                if let Some(Expr::List(targets)) = rule.properties.get_mut("Targets") {
                    for t in targets {
                        if let Expr::Map(tm) = t {
                            tm.insert("Arn".into(), Expr::ref_(id));
                        }
                    }
                }
                out.resources.insert(format!("{id}{event_id}"), rule);
            }
        }
    }
}

/// A rule's or schedule's target: the function, its DLQ and retry policy as the event gives
/// them (`DeadLetterConfig: {Type: SQS}` asks SAM to create the queue: a DLQ all the same).
fn scheduled_target(target: Expr, p: &BTreeMap<String, Expr>) -> BTreeMap<String, Expr> {
    let mut t = BTreeMap::new();
    t.insert("Arn".to_string(), target);
    let dlq = map(p.get("DeadLetterConfig"));
    if !dlq.is_empty() {
        let arn = dlq
            .get("Arn")
            .cloned()
            .unwrap_or_else(|| Expr::from("(a queue SAM creates)"));
        t.insert("DeadLetterConfig".to_string(), Expr::map([("Arn", arn)]));
    }
    if let Some(retry) = p.get("RetryPolicy") {
        t.insert("RetryPolicy".to_string(), retry.clone());
    }
    t
}

/// The resource SAM generates for one event of a function, as far as the rules look.
fn event_resource(function: &str, kind: &str, p: &BTreeMap<String, Expr>) -> Option<Resource> {
    let target = Expr::get_att(function, "Arn");
    Some(match kind {
        "SQS" | "DynamoDB" | "Kinesis" => {
            let mut m = Resource::new("AWS::Lambda::EventSourceMapping");
            m.properties
                .insert("FunctionName".into(), Expr::ref_(function));
            let source = if kind == "SQS" { "Queue" } else { "Stream" };
            if let Some(arn) = p.get(source) {
                m.properties.insert("EventSourceArn".into(), arn.clone());
            }
            copy(
                p,
                &mut m,
                &[
                    "BatchSize",
                    "FunctionResponseTypes",
                    "ScalingConfig",
                    "StartingPosition",
                    "BisectBatchOnFunctionError",
                    "MaximumRetryAttempts",
                    "DestinationConfig",
                    "MaximumRecordAgeInSeconds",
                    "FilterCriteria",
                ],
            );
            m
        }
        "EventBridgeRule" | "CloudWatchEvent" | "Schedule" => {
            let mut rule = Resource::new("AWS::Events::Rule");
            let mut t = scheduled_target(target, p);
            t.insert("Id".to_string(), Expr::from("Target"));
            copy(p, &mut rule, &["EventBusName", "ScheduleExpression"]);
            if let Some(pattern) = p.get("Pattern") {
                rule.properties
                    .insert("EventPattern".into(), pattern.clone());
            }
            if let Some(schedule) = p.get("Schedule") {
                rule.properties
                    .insert("ScheduleExpression".into(), schedule.clone());
            }
            rule.properties
                .insert("Targets".into(), Expr::List(vec![Expr::Map(t)]));
            rule
        }
        "ScheduleV2" => {
            let mut s = Resource::new("AWS::Scheduler::Schedule");
            let t = scheduled_target(target, p);
            copy(
                p,
                &mut s,
                &["ScheduleExpression", "FlexibleTimeWindow", "State"],
            );
            s.properties.insert("Target".into(), Expr::Map(t));
            s
        }
        "SNS" => {
            let mut s = Resource::new("AWS::SNS::Subscription");
            s.properties.insert("Protocol".into(), Expr::from("lambda"));
            s.properties.insert("Endpoint".into(), target);
            if let Some(topic) = p.get("Topic") {
                s.properties.insert("TopicArn".into(), topic.clone());
            }
            copy(p, &mut s, &["FilterPolicy", "RedrivePolicy"]);
            s
        }
        _ => return None,
    })
}

/// The role SAM creates for a function: its `Policies` as inline policy documents (a policy
/// template by its actions, for the templates whose actions the rules weigh).
fn role(props: &BTreeMap<String, Expr>) -> Resource {
    let mut r = Resource::new("AWS::IAM::Role");
    let mut documents = Vec::new();
    let mut managed = Vec::new();
    let policies = match get(props, "Policies") {
        Some(Expr::List(items)) => items.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    for p in policies {
        let document = match &p {
            Expr::Map(m) if m.contains_key("Statement") => Some(p.clone()),
            Expr::Map(m) => m
                .iter()
                .next()
                .and_then(|(name, params)| policy_template(name, params)),
            // A managed policy ARN built with !Sub: held as written.
            Expr::Sub(text, _) if text.contains(":policy/") => {
                managed.push(p.clone());
                None
            }
            // A managed policy, by name or ARN: the role holds it.
            Expr::Str(name) => {
                managed.push(Expr::from(if name.starts_with("arn:") {
                    name.clone()
                } else {
                    format!("arn:aws:iam::aws:policy/{name}")
                }));
                None
            }
            _ => None,
        };
        if let Some(d) = document {
            documents.push(Expr::map([
                ("PolicyName", Expr::from("sam")),
                ("PolicyDocument", d),
            ]));
        }
    }
    if !documents.is_empty() {
        r.properties
            .insert("Policies".into(), Expr::List(documents));
    }
    if !managed.is_empty() {
        r.properties
            .insert("ManagedPolicyArns".into(), Expr::List(managed));
    }
    r
}

/// The SAM policy templates the rules weigh (writes to tables, sends), scoped as SAM scopes
/// them: to the table, queue or topic the template's parameter names.
fn policy_template(name: &str, params: &Expr) -> Option<Expr> {
    let (actions, key, arn): (&[&str], &str, &str) = match name {
        "DynamoDBCrudPolicy" => (
            &[
                "dynamodb:GetItem",
                "dynamodb:DeleteItem",
                "dynamodb:PutItem",
                "dynamodb:Scan",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:BatchGetItem",
            ],
            "TableName",
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Name}",
        ),
        "DynamoDBWritePolicy" => (
            &[
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:BatchWriteItem",
            ],
            "TableName",
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Name}",
        ),
        "DynamoDBReadPolicy" => (
            &[
                "dynamodb:GetItem",
                "dynamodb:Scan",
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
            ],
            "TableName",
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Name}",
        ),
        "SQSSendMessagePolicy" => (
            &["sqs:SendMessage*"],
            "QueueName",
            "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Name}",
        ),
        "SNSPublishMessagePolicy" => (
            &["sns:Publish"],
            "TopicName",
            "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${Name}",
        ),
        _ => return None,
    };
    let named = match params {
        Expr::Map(m) => m.get(key).cloned(),
        _ => None,
    }
    .unwrap_or_else(|| Expr::from("*"));
    let resource = Expr::Sub(arn.to_string(), [("Name".to_string(), named)].into());
    let actions = Expr::List(actions.iter().map(|a| Expr::from(*a)).collect());
    Some(Expr::map([(
        "Statement",
        Expr::List(vec![Expr::map([
            ("Effect", Expr::from("Allow")),
            ("Action", actions),
            ("Resource", resource),
        ])]),
    )]))
}

#[cfg(test)]
#[path = "sam_tests.rs"]
mod tests;
