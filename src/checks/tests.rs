//! For each rule, a minimal template that triggers it and one that does not.

use serde_json::{json, Value};

use super::{check_template, Severity};
use crate::template::Template;

fn findings(resources: Value) -> Vec<(&'static str, Severity)> {
    let t = Template::from_json_value(&json!({ "Resources": resources })).unwrap();
    check_template("S", &t)
        .findings
        .into_iter()
        .map(|f| (f.rule, f.severity))
        .collect()
}

fn fires(rule: &str, resources: Value) -> Option<Severity> {
    findings(resources)
        .into_iter()
        .find(|(r, _)| *r == rule)
        .map(|(_, s)| s)
}

fn queue(props: Value) -> Value {
    json!({"Type": "AWS::SQS::Queue", "Properties": props})
}

fn function(timeout: i64) -> Value {
    json!({"Type": "AWS::Lambda::Function", "Properties": {"Timeout": timeout,
        "TracingConfig": {"Mode": "Active"}, "Role": {"Fn::GetAtt": ["Role", "Arn"]}}})
}

fn sqs_mapping(extra: Value) -> Value {
    let mut props = json!({"EventSourceArn": {"Fn::GetAtt": ["Q", "Arn"]}, "FunctionName": {"Ref": "F"},
        "FunctionResponseTypes": ["ReportBatchItemFailures"]});
    props
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"Type": "AWS::Lambda::EventSourceMapping", "Properties": props})
}

fn role(actions: Value, resource: Value) -> Value {
    json!({"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": resource}]}}]}})
}

#[test]
fn ord001_visibility_timeout_against_the_consumer() {
    let at = |visibility: i64, timeout: i64| {
        fires(
            "ORD001",
            json!({"Q": queue(json!({"VisibilityTimeout": visibility})),
            "F": function(timeout), "M": sqs_mapping(json!({}))}),
        )
    };
    assert_eq!(at(60, 30), Some(Severity::Warning));
    assert_eq!(at(20, 30), Some(Severity::Error));
    assert_eq!(at(180, 30), None);
}

#[test]
fn ord002_batches_need_partial_failures() {
    let mapping = |batch: i64, partial: bool| {
        let mut m = sqs_mapping(json!({"BatchSize": batch}));
        if !partial {
            m["Properties"]
                .as_object_mut()
                .unwrap()
                .remove("FunctionResponseTypes");
        }
        fires(
            "ORD002",
            json!({"Q": queue(json!({})), "F": function(3), "M": m}),
        )
    };
    assert!(mapping(10, false).is_some());
    assert!(mapping(10, true).is_none());
    assert!(mapping(1, false).is_none());
}

#[test]
fn ord003_to_ord006_dead_letter_queues() {
    let dlq_target =
        json!({"deadLetterTargetArn": {"Fn::GetAtt": ["D", "Arn"]}, "maxReceiveCount": 3});
    let consumed = |redrive: Option<Value>, dlq: Value, alarm: bool| {
        let mut q = json!({"VisibilityTimeout": 180});
        if let Some(r) = redrive {
            q["RedrivePolicy"] = r;
        }
        let mut r =
            json!({"Q": queue(q), "D": queue(dlq), "F": function(30), "M": sqs_mapping(json!({}))});
        if alarm {
            r["A"] = json!({"Type": "AWS::CloudWatch::Alarm", "Properties": {
                "MetricName": "ApproximateNumberOfMessagesVisible", "Namespace": "AWS/SQS",
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["D", "QueueName"]}}]}});
        }
        findings(r).into_iter().map(|(r, _)| r).collect::<Vec<_>>()
    };
    let good = consumed(
        Some(dlq_target.clone()),
        json!({"MessageRetentionPeriod": 1209600}),
        true,
    );
    for rule in ["ORD003", "ORD004", "ORD005", "ORD006"] {
        assert!(!good.contains(&rule), "{rule}: {good:?}");
    }
    assert!(consumed(None, json!({}), true).contains(&"ORD003"));
    let mut ten = dlq_target.clone();
    ten["maxReceiveCount"] = json!(10);
    assert!(
        consumed(Some(ten), json!({"MessageRetentionPeriod": 1209600}), true).contains(&"ORD004")
    );
    assert!(consumed(
        Some(dlq_target.clone()),
        json!({"MessageRetentionPeriod": 86400}),
        true
    )
    .contains(&"ORD005"));
    assert!(consumed(
        Some(dlq_target),
        json!({"MessageRetentionPeriod": 1209600}),
        false
    )
    .contains(&"ORD006"));
}

#[test]
fn ord007_and_ord008_asynchronous_hops() {
    let rule =
        |target: Value| json!({"Type": "AWS::Events::Rule", "Properties": {"Targets": [target]}});
    let bare = json!({"Id": "F", "Arn": {"Fn::GetAtt": ["F", "Arn"]}});
    let safe = json!({"Id": "F", "Arn": {"Fn::GetAtt": ["F", "Arn"]},
        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["D", "Arn"]}},
        "RetryPolicy": {"MaximumRetryAttempts": 3}});
    let destination = json!({"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
        "FunctionName": {"Ref": "F"}, "Qualifier": "$LATEST",
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["D", "Arn"]}}}}});
    assert!(fires("ORD007", json!({"R": rule(bare.clone()), "F": function(3)})).is_some());
    assert!(fires("ORD007", json!({"R": rule(safe.clone()), "F": function(3)})).is_none());
    assert!(fires("ORD008", json!({"R": rule(safe.clone()), "F": function(3)})).is_some());
    assert!(fires(
        "ORD008",
        json!({"R": rule(safe), "F": function(3), "C": destination})
    )
    .is_none());
    // EventBridge retries by default: a DLQ without a retry policy is enough.
    let dlq_only = json!({"Id": "F", "Arn": {"Fn::GetAtt": ["F", "Arn"]},
        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["D", "Arn"]}}});
    assert!(fires("ORD007", json!({"R": rule(dlq_only), "F": function(3)})).is_none());
}

#[test]
fn ord008_every_asynchronous_caller() {
    let s3 = json!({"Type": "AWS::S3::Bucket", "Properties": {"NotificationConfiguration": {
        "LambdaConfigurations": [{"Event": "s3:ObjectCreated:*", "Function": {"Fn::GetAtt": ["F", "Arn"]}}]}}});
    let iot = json!({"Type": "AWS::IoT::TopicRule", "Properties": {"TopicRulePayload": {
        "Sql": "SELECT * FROM 'orders'", "Actions": [{"Lambda": {"FunctionArn": {"Fn::GetAtt": ["F", "Arn"]}}}]}}});
    let topic = json!({"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": "k",
        "Subscription": [{"Protocol": "lambda", "Endpoint": {"Fn::GetAtt": ["F", "Arn"]}}]}});
    let permission = json!({"Type": "AWS::Lambda::Permission", "Properties": {"Action": "lambda:InvokeFunction",
        "FunctionName": {"Ref": "F"}, "Principal": "ses.amazonaws.com"}});
    for caller in [s3, iot, topic, permission] {
        assert!(
            fires("ORD008", json!({"C": caller.clone(), "F": function(3)})).is_some(),
            "{caller}"
        );
    }
    let api = json!({"Type": "AWS::Lambda::Permission", "Properties": {"Action": "lambda:InvokeFunction",
        "FunctionName": {"Ref": "F"}, "Principal": "apigateway.amazonaws.com"}});
    assert!(fires("ORD008", json!({"C": api, "F": function(3)})).is_none());
}

#[test]
fn ord009_stream_sources_are_bounded() {
    let stream = |props: Value| {
        let mut p = json!({"EventSourceArn": {"Fn::GetAtt": ["T", "StreamArn"]},
            "FunctionName": {"Ref": "F"}, "StartingPosition": "LATEST"});
        p.as_object_mut()
            .unwrap()
            .extend(props.as_object().unwrap().clone());
        fires(
            "ORD009",
            json!({"T": {"Type": "AWS::DynamoDB::Table"}, "F": function(3),
            "M": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": p}}),
        )
    };
    assert!(stream(json!({})).is_some());
    assert!(stream(
        json!({"BisectBatchOnFunctionError": true, "MaximumRetryAttempts": 3,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["D", "Arn"]}}}})
    )
    .is_none());
    assert!(stream(
        json!({"BisectBatchOnFunctionError": true, "MaximumRetryAttempts": -1,
        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:1:d"}}})
    )
    .is_some());
}

#[test]
fn ord010_to_ord012_workflows() {
    let machine = |states: Value, timeout: bool| {
        let mut d = json!({"StartAt": "A", "States": states});
        if timeout {
            d["TimeoutSeconds"] = json!(300);
        }
        findings(
            json!({"SM": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "Definition": d, "TracingConfiguration": {"Enabled": true}}}}),
        )
        .into_iter()
        .map(|(r, _)| r)
        .collect::<Vec<_>>()
    };
    let retry = json!([{"ErrorEquals": ["States.TaskFailed"]}]);
    let catch = json!([{"ErrorEquals": ["States.ALL"], "Next": "Undo"}]);
    let task = |next: Option<&str>, with_retry: bool, with_catch: bool| {
        let mut s = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke"});
        match next {
            Some(n) => s["Next"] = json!(n),
            None => s["End"] = json!(true),
        }
        if with_retry {
            s["Retry"] = retry.clone();
        }
        if with_catch {
            s["Catch"] = catch.clone();
        }
        s
    };
    let undo = json!({"Type": "Pass", "End": true});
    let good = machine(
        json!({"A": task(Some("B"), true, false), "B": task(None, true, true), "Undo": undo}),
        true,
    );
    assert!(good.is_empty(), "{good:?}");
    assert!(machine(json!({"A": task(None, false, false)}), true).contains(&"ORD010"));
    assert!(machine(
        json!({"A": task(Some("B"), true, false), "B": task(None, true, false)}),
        true
    )
    .contains(&"ORD011"));
    assert!(machine(json!({"A": task(None, true, false)}), false).contains(&"ORD012"));
}

#[test]
fn ord013_encryption_at_rest() {
    assert_eq!(
        fires(
            "ORD013",
            json!({"Q": queue(json!({"SqsManagedSseEnabled": false}))})
        ),
        Some(Severity::Error)
    );
    assert!(fires("ORD013", json!({"Q": queue(json!({}))})).is_none());
    assert!(fires("ORD013", json!({"T": {"Type": "AWS::SNS::Topic"}})).is_some());
    assert!(fires(
        "ORD013",
        json!({"T": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": "alias/aws/sns"}}})
    )
    .is_none());
    assert_eq!(
        fires("ORD013", json!({"T": {"Type": "AWS::DynamoDB::Table"}})),
        Some(Severity::Note)
    );
    assert!(fires("ORD013", json!({"T": {"Type": "AWS::DynamoDB::Table", "Properties": {"SSESpecification": {"SSEEnabled": true}}}})).is_none());
}

#[test]
fn ord014_and_ord015_logs_and_tracing() {
    assert!(fires("ORD014", json!({"L": {"Type": "AWS::Logs::LogGroup"}})).is_some());
    assert!(fires(
        "ORD014",
        json!({"L": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}}})
    )
    .is_none());
    assert!(fires("ORD015", json!({"F": {"Type": "AWS::Lambda::Function"}})).is_some());
    assert!(fires("ORD015", json!({"F": function(3)})).is_none());
}

#[test]
fn ord016_wildcards_except_actions_without_resource_level_permissions() {
    assert!(fires(
        "ORD016",
        json!({"Role": role(json!("sqs:*"), json!({"Fn::GetAtt": ["Q", "Arn"]}))})
    )
    .is_some());
    assert!(fires(
        "ORD016",
        json!({"Role": role(json!(["sqs:SendMessage"]), json!("*"))})
    )
    .is_some());
    assert!(fires(
        "ORD016",
        json!({"Role": role(json!(["sqs:SendMessage"]), json!({"Fn::GetAtt": ["Q", "Arn"]}))})
    )
    .is_none());
    assert!(fires("ORD016", json!({"Role": role(json!(["xray:PutTraceSegments", "xray:PutTelemetryRecords"]), json!("*"))})).is_none());
    // From the Service Authorization Reference, case as IAM ignores it: no resource types.
    assert!(fires(
        "ORD016",
        json!({"Role": role(json!(["s3:ListAllMyBuckets", "SQS:ListQueues"]), json!("*"))})
    )
    .is_none());
    // A broad AWS managed policy is a wildcard too.
    let managed = |arn: &str| {
        json!({"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Statement": []}, "ManagedPolicyArns": [arn]}}})
    };
    assert!(fires(
        "ORD016",
        managed("arn:aws:iam::aws:policy/AmazonSQSFullAccess")
    )
    .is_some());
    assert!(fires(
        "ORD016",
        managed("arn:aws:iam::aws:policy/AdministratorAccess")
    )
    .is_some());
    assert!(fires(
        "ORD016",
        managed("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    )
    .is_none());
}

#[test]
fn ord017_table_writers_need_bounded_concurrency() {
    let app = |writes: bool, bounded: bool| {
        let action = if writes {
            "dynamodb:PutItem"
        } else {
            "dynamodb:GetItem"
        };
        let scaling = if bounded {
            json!({"ScalingConfig": {"MaximumConcurrency": 5}})
        } else {
            json!({})
        };
        fires(
            "ORD017",
            json!({"Q": queue(json!({"VisibilityTimeout": 180})), "F": function(30),
            "Role": role(json!(action), json!({"Fn::GetAtt": ["T", "Arn"]})), "M": sqs_mapping(scaling)}),
        )
    };
    assert!(app(true, false).is_some());
    assert!(app(true, true).is_none());
    assert!(app(false, false).is_none());
}

#[test]
fn ord018_routes_need_an_authorizer_and_throttling() {
    let api = |auth: &str, throttled: bool| {
        let mut r = json!({"Route": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {
            "ApiId": {"Ref": "Api"}, "RouteKey": "GET /orders", "AuthorizationType": auth}}});
        if throttled {
            r["Stage"] = json!({"Type": "AWS::ApiGatewayV2::Stage", "Properties": {"ApiId": {"Ref": "Api"},
                "DefaultRouteSettings": {"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100}}});
        }
        fires("ORD018", r)
    };
    assert!(api("NONE", true).is_some());
    assert!(api("JWT", false).is_some());
    assert!(api("JWT", true).is_none());
    // A WebSocket API authorizes $connect only; its other routes cannot have an authorizer.
    let websocket = |key: &str| {
        fires(
            "ORD018",
            json!({
            "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "WEBSOCKET", "Name": "ws"}},
            "Route": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Api"}, "RouteKey": key}},
            "Stage": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {"ApiId": {"Ref": "Api"},
                "DefaultRouteSettings": {"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100}}}}),
        )
    };
    assert!(websocket("$connect").is_some());
    assert!(websocket("sendmessage").is_none());
    assert!(websocket("$default").is_none());
}

#[test]
fn ord019_to_ord023_limits() {
    let many: serde_json::Map<String, Value> = (0..501)
        .map(|i| {
            (
                format!("T{i}"),
                json!({"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": "k"}}),
            )
        })
        .collect();
    assert!(fires("ORD019", Value::Object(many.clone())).is_some());
    let few: serde_json::Map<String, Value> = many.into_iter().take(500).collect();
    let rules: Vec<_> = findings(Value::Object(few))
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    assert!(!rules.contains(&"ORD019"));
    assert!(
        rules.contains(&"ORD022"),
        "500 small resources are over 51,200 bytes"
    );
    let outputs: serde_json::Map<String, Value> = (0..201)
        .map(|i| (format!("O{i}"), json!({"Value": "x"})))
        .collect();
    let t = Template::from_json_value(&json!({"Resources": {}, "Outputs": outputs})).unwrap();
    assert!(check_template("S", &t)
        .findings
        .iter()
        .any(|f| f.rule == "ORD020"));
    let huge = "x".repeat(1_000_001);
    assert!(fires(
        "ORD021",
        json!({"P": {"Type": "AWS::SSM::Parameter", "Properties": {"Value": huge}}})
    )
    .is_some());
    let long = "L".repeat(256);
    assert!(fires(
        "ORD023",
        json!({long: {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": "k"}}})
    )
    .is_some());
    assert!(findings(
        json!({"T": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": "k"}}})
    )
    .is_empty());
}

#[test]
fn suppressions_silence_with_a_reason_and_bad_ones_are_errors() {
    let with = |metadata: Value| {
        let t =
            Template::from_json_value(&json!({"Resources": {"L": {"Type": "AWS::Logs::LogGroup",
            "Metadata": metadata}}}))
            .unwrap();
        check_template("S", &t)
    };
    let ok = with(
        json!({"ordersctl": {"suppressions": [{"rule": "ORD014", "reason": "audit log, kept by law"}]},
        "checkov": {"skip": [{"id": "CKV_AWS_158", "comment": "no KMS for this log group"}]}}),
    );
    assert!(ok.findings.is_empty(), "{:?}", ok.findings);
    assert_eq!(ok.suppressed[0].reason, "audit log, kept by law");
    assert_eq!(ok.suppressions.len(), 2, "checkov's skips are listed too");
    let no_reason =
        with(json!({"ordersctl": {"suppressions": [{"rule": "ORD014", "reason": " "}]}}));
    assert!(no_reason
        .findings
        .iter()
        .any(|f| f.rule == "ORD000" && f.severity == Severity::Error));
    assert!(
        no_reason.findings.iter().any(|f| f.rule == "ORD014"),
        "not silenced"
    );
    let unknown = with(json!({"ordersctl": {"suppressions": [{"rule": "ORD999", "reason": "x"}]}}));
    assert!(unknown.findings.iter().any(|f| f.rule == "ORD000"));
}

#[test]
fn ord028_dangling_depends_on_and_circles() {
    let dangling = json!({"Q": {"Type": "AWS::SQS::Queue", "DependsOn": ["Nope"]}});
    assert_eq!(fires("ORD028", dangling), Some(Severity::Error));
    let itself = json!({"A": {"Type": "AWS::SQS::Queue", "DependsOn": "A"}});
    assert_eq!(fires("ORD028", itself), Some(Severity::Error));
    let circle = json!({
        "A": {"Type": "AWS::SQS::Queue", "DependsOn": "B"},
        "B": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::GetAtt": ["C", "Arn"]}}},
        "C": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": [{"Key": "a", "Value": {"Ref": "A"}}]}}
    });
    let t = Template::from_json_value(&json!({ "Resources": circle })).unwrap();
    let f = check_template("S", &t);
    let hit = f.findings.iter().find(|f| f.rule == "ORD028").unwrap();
    assert!(
        hit.message.contains("A -> B -> C -> A")
            || hit.message.contains("B -> C -> A -> B")
            || hit.message.contains("C -> A -> B -> C"),
        "{}",
        hit.message
    );
    // A chain, a diamond and a parameter reference are fine.
    let fine = json!({
        "A": {"Type": "AWS::SQS::Queue", "DependsOn": ["B", "C"]},
        "B": {"Type": "AWS::SQS::Queue", "DependsOn": "D"},
        "C": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "D"}}},
        "D": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "AWS::StackName"}}}
    });
    assert_eq!(fires("ORD028", fine), None);
}

#[test]
fn a_value_given_by_a_parameter_is_its_default_and_the_finding_says_so() {
    let check = |parameters: Value| {
        let t = Template::from_json_value(&json!({
            "Parameters": parameters,
            "Resources": {
                "Q": queue(json!({"VisibilityTimeout": {"Ref": "Visibility"}})),
                "F": function(10),
                "M": sqs_mapping(json!({})),
                "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": {"Ref": "Days"}}},
            }
        }))
        .unwrap();
        check_template("S", &t).findings
    };
    let with_default =
        check(json!({"Visibility": {"Type": "Number", "Default": 20}, "Days": {"Type": "Number"}}));
    let ord001 = with_default
        .iter()
        .find(|f| f.rule == "ORD001")
        .expect("ORD001 from the default");
    assert!(
        ord001
            .message
            .contains("visibility timeout 20 s (the default of parameter Visibility)"),
        "{}",
        ord001.message
    );
    // Without a default the value is only known at deploy time: not judged, not assumed 30 s.
    let without = check(json!({"Visibility": {"Type": "Number"}, "Days": {"Type": "Number"}}));
    assert!(!without.iter().any(|f| f.rule == "ORD001"), "{without:?}");
    // A retention set by a parameter is set, not "kept forever".
    assert!(!with_default
        .iter()
        .any(|f| f.rule == "ORD014" && f.location.ends_with("/Logs")));
}

#[test]
fn ord005_and_ord006_every_dead_letter_queue_not_only_redrive_targets() {
    let rule = json!({"Type": "AWS::Events::Rule", "Properties": {"Targets": [{"Id": "F",
        "Arn": {"Fn::GetAtt": ["F", "Arn"]}, "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["D", "Arn"]}}}]}});
    let function_dlq = json!({"Type": "AWS::Lambda::Function", "Properties": {"Timeout": 3,
        "TracingConfig": {"Mode": "Active"}, "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["D", "Arn"]}}}});
    for (holder, value) in [("R", rule), ("G", function_dlq)] {
        let found = findings(json!({holder: value, "F": function(3), "D": queue(json!({}))}));
        let rules: Vec<&str> = found.iter().map(|(r, _)| *r).collect();
        // A DLQ that keeps messages 4 days (the default) and that no alarm watches.
        assert!(
            rules.contains(&"ORD005") && rules.contains(&"ORD006"),
            "{holder}: {rules:?}"
        );
    }
}
