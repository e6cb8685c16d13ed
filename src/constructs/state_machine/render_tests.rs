//! How machines render: definitions, sub-graphs, the role's least-privilege policy, and
//! cross-stack handles. (Validation is in tests.rs.)

use serde_json::{json, Value};

use super::tests::pass_end;
use super::*;
use crate::constructs::{App, Attr, QueueEncryption};

fn policy(t: &crate::template::Template, role: &str) -> Value {
    t.resources[role].properties["Policies"].to_json()[0]["PolicyDocument"]["Statement"].clone()
}

#[test]
fn small_machine_renders_the_expected_definition() {
    let app = App::new();
    let s = app.stack("S");
    let f = s.function("Check").handler_crate("worker").build().unwrap();
    let def = Definition::new("Check")
        .state(
            Task::invoke("Check", &f)
                .timeout(Duration::secs(10))
                .retry(Retry::lambda_transient())
                .catch_all("Failed")
                .next("Route"),
        )
        .state(
            Choice::new("Route")
                .when(
                    Condition::and([
                        Condition::is_present("$.total"),
                        Condition::numeric_greater_than("$.total", 100.0),
                    ]),
                    "Hold",
                )
                .otherwise("Done"),
        )
        .state(Wait::duration("Hold", Duration::secs(30)).next("Done"))
        .state(Succeed::new("Done"))
        .state(Fail::new("Failed").error("CheckFailed"));
    s.state_machine("M")
        .definition(def)
        .timeout(Duration::minutes(15))
        .build()
        .unwrap();
    let t = s.state_for_tests().finalize().unwrap();
    let sm = &t.resources["M"];
    assert_eq!(
        sm.properties["Definition"].to_json(),
        json!({
            "StartAt": "Check",
            "TimeoutSeconds": 900,
            "States": {
                "Check": {
                    "Type": "Task",
                    "Resource": {"Fn::Sub": "arn:${AWS::Partition}:states:::lambda:invoke"},
                    "Parameters": {"FunctionName": {"Fn::GetAtt": ["Check", "Arn"]}, "Payload.$": "$"},
                    "OutputPath": "$.Payload",
                    "TimeoutSeconds": 10,
                    "Retry": [{
                        "ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
                        "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2
                    }],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed", "ResultPath": "$.error"}],
                    "Next": "Route"
                },
                "Route": {
                    "Type": "Choice",
                    "Choices": [{"And": [{"Variable": "$.total", "IsPresent": true}, {"Variable": "$.total", "NumericGreaterThan": 100}], "Next": "Hold"}],
                    "Default": "Done"
                },
                "Hold": {"Type": "Wait", "Seconds": 30, "Next": "Done"},
                "Done": {"Type": "Succeed"},
                "Failed": {"Type": "Fail", "Error": "CheckFailed"}
            }
        })
    );
    assert_eq!(
        sm.properties["RoleArn"].to_json(),
        json!({"Fn::GetAtt": ["MRole", "Arn"]})
    );
    assert_eq!(
        sm.properties["StateMachineType"].to_json(),
        json!("STANDARD")
    );
    assert_eq!(
        sm.properties["LoggingConfiguration"].to_json(),
        json!({"Destinations": [{"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": ["MLogGroup", "Arn"]}}}],
               "IncludeExecutionData": false, "Level": "ERROR"})
    );
    assert_eq!(
        sm.properties["TracingConfiguration"].to_json(),
        json!({"Enabled": true})
    );
    assert_eq!(
        t.resources["MLogGroup"].properties["RetentionInDays"].to_json(),
        json!(30)
    );
    assert_eq!(
        t.resources["MRole"].properties["AssumeRolePolicyDocument"].to_json()["Statement"][0]
            ["Principal"],
        json!({"Service": "states.amazonaws.com"})
    );
    let statements = policy(&t, "MRole");
    assert_eq!(
        statements[0],
        json!({"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": {"Fn::GetAtt": ["Check", "Arn"]}})
    );
    // The logs delivery and X-Ray actions take no resource ARNs, so both are on `*` and merge.
    assert_eq!(
        statements[1],
        json!({"Effect": "Allow", "Resource": "*", "Action": [
            "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
            "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
            "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"
        ]})
    );
    assert_eq!(statements.as_array().unwrap().len(), 2);
}

#[test]
fn role_holds_exactly_what_each_task_uses() {
    let app = App::new();
    let s = app.stack("S");
    let key = s.key("Key").build().unwrap();
    let q = s
        .queue("Q")
        .encryption(QueueEncryption::Kms(key))
        .build()
        .unwrap();
    let table = s
        .table("T")
        .partition_key("pk", Attr::String)
        .build()
        .unwrap();
    let child = s
        .state_machine("Child")
        .definition(Definition::new("A").state(pass_end("A")))
        .without_tracing()
        .logging(LogLevel::Off)
        .build()
        .unwrap();
    let bus = crate::template::Expr::arn("events", "event-bus/default");
    let pk = || [("pk", DynamoValue::string_at("$.id"))];
    let def = Definition::new("Put")
        .state(Task::put_item("Put", &table, pk()).next("Get"))
        .state(
            Task::get_item("Get", &table, pk())
                .result_path("$.got")
                .next("Update"),
        )
        .state(
            Task::update_item(
                "Update",
                &table,
                pk(),
                "SET #n = :n",
                [(":n", DynamoValue::number_at("$.n"))],
            )
            .expression_names([("#n", "n")])
            .next("Send"),
        )
        .state(Task::send_message("Send", &q, TaskInput::path("$")).next("Emit"))
        .state(
            Task::put_events("Emit", &bus, "orders", "OrderStored", TaskInput::path("$"))
                .next("Child"),
        )
        .state(Task::start_execution("Child", &child).end());
    s.state_machine("M")
        .definition(def)
        .without_tracing()
        .logging(LogLevel::Off)
        .build()
        .unwrap();
    let t = s.state_for_tests().finalize().unwrap();
    assert!(!t.resources.contains_key("MLogGroup"));
    assert!(!t.resources["M"]
        .properties
        .contains_key("LoggingConfiguration"));
    assert_eq!(
        policy(&t, "MRole"),
        json!([
            {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], "Resource": {"Fn::GetAtt": ["T", "Arn"]}},
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Q", "Arn"]}},
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": {"Fn::GetAtt": ["Key", "Arn"]}},
            {"Effect": "Allow", "Action": "events:PutEvents", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"}},
            {"Effect": "Allow", "Action": "states:StartExecution", "Resource": {"Ref": "Child"}}
        ])
    );
    let states = t.resources["M"].properties["Definition"].to_json()["States"].clone();
    assert_eq!(
        states["Update"]["Parameters"],
        json!({"TableName": {"Ref": "T"}, "Key": {"pk": {"S.$": "$.id"}}, "UpdateExpression": "SET #n = :n",
               "ExpressionAttributeNames": {"#n": "n"}, "ExpressionAttributeValues": {":n": {"N.$": "States.JsonToString($.n)"}}})
    );
    assert_eq!(
        states["Emit"]["Parameters"],
        json!({"Entries": [{"EventBusName": {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"},
               "Source": "orders", "DetailType": "OrderStored", "Detail.$": "$"}]})
    );
    assert_eq!(
        states["Send"]["Parameters"],
        json!({"QueueUrl": {"Ref": "Q"}, "MessageBody.$": "$"})
    );
    assert_eq!(
        states["Child"]["Parameters"],
        json!({"StateMachineArn": {"Ref": "Child"}, "Input.$": "$"})
    );
    assert_eq!(states["Get"].get("OutputPath"), None);
}

#[test]
fn callback_and_sync_tasks_use_their_resource_suffix_and_extra_permissions() {
    let app = App::new();
    let s = app.stack("S");
    let q = s.queue("Q").build().unwrap();
    let child = s
        .state_machine("Child")
        .definition(Definition::new("A").state(pass_end("A")))
        .build()
        .unwrap();
    let body = TaskInput::object(crate::template::Expr::map([(
        "token.$",
        crate::template::Expr::from(TASK_TOKEN),
    )]));
    let def = Definition::new("Ask")
        .state(
            Task::send_message_and_wait("Ask", &q, body)
                .heartbeat(Duration::minutes(5))
                .timeout(Duration::hours(1))
                .next("Run"),
        )
        .state(Task::start_execution_sync("Run", &child).end());
    s.state_machine("M").definition(def).build().unwrap();
    let t = s.state_for_tests().finalize().unwrap();
    let states = t.resources["M"].properties["Definition"].to_json()["States"].clone();
    assert_eq!(
        states["Ask"]["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:states:::sqs:sendMessage.waitForTaskToken"})
    );
    assert_eq!(states["Ask"]["HeartbeatSeconds"], json!(300));
    assert_eq!(
        states["Run"]["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:states:::states:startExecution.sync:2"})
    );
    let actions: Vec<Value> = policy(&t, "MRole")
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Action"].clone())
        .collect();
    assert!(
        actions.contains(&json!(["states:DescribeExecution", "states:StopExecution"])),
        "{actions:?}"
    );
    assert!(
        actions.contains(&json!([
            "events:DescribeRule",
            "events:PutRule",
            "events:PutTargets"
        ])),
        "{actions:?}"
    );
}

#[test]
fn grants_and_express_defaults() {
    let app = App::new();
    let s = app.stack("S");
    let table = s
        .table("T")
        .partition_key("pk", Attr::String)
        .build()
        .unwrap();
    let f = s.function("F").handler_crate("worker").build().unwrap();
    let sm = s
        .state_machine("M")
        .kind(StateMachineKind::Express)
        .definition(Definition::new("A").state(pass_end("A")))
        .build()
        .unwrap();
    table.grant_read(&sm);
    sm.grant_start_execution(&f);
    assert_eq!(sm.arn().to_json(), json!({"Ref": "M"}));
    assert_eq!(sm.name().to_json(), json!({"Fn::GetAtt": ["M", "Name"]}));
    let t = s.state_for_tests().finalize().unwrap();
    assert_eq!(
        t.resources["M"].properties["StateMachineType"].to_json(),
        json!("EXPRESS")
    );
    assert_eq!(
        t.resources["M"].properties["LoggingConfiguration"].to_json()["Level"],
        json!("ERROR")
    );
    assert!(policy(&t, "MRole")
        .as_array()
        .unwrap()
        .iter()
        .any(|st| st["Action"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("dynamodb:GetItem")))));
    assert!(policy(&t, "FServiceRole")
        .as_array()
        .unwrap()
        .iter()
        .any(|st| st["Action"] == json!("states:StartExecution")
            && st["Resource"] == json!({"Ref": "M"})));
}

#[test]
fn parallel_and_map_render_sub_graphs() {
    let def = Definition::new("P")
        .state(
            Parallel::new("P")
                .branch(Definition::new("A").state(pass_end("A")))
                .branch(Definition::new("B").state(pass_end("B")))
                .result_path("$.branches")
                .next("M"),
        )
        .state(
            Map::new("M", Definition::new("Item").state(pass_end("Item")))
                .items_path("$.items")
                .max_concurrency(4)
                .end(),
        );
    let app = App::new();
    let s = app.stack("S");
    s.state_machine("M").definition(def).build().unwrap();
    let t = s.state_for_tests().finalize().unwrap();
    let states = t.resources["M"].properties["Definition"].to_json()["States"].clone();
    assert_eq!(
        states["P"],
        json!({"Type": "Parallel", "ResultPath": "$.branches", "Next": "M", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}
        ]})
    );
    assert_eq!(
        states["M"],
        json!({"Type": "Map", "End": true, "ItemsPath": "$.items", "MaxConcurrency": 4, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": true}}
        }})
    );
}

#[test]
fn tasks_on_another_stacks_handles_become_imports() {
    let app = App::new();
    let shared = app.stack("Shared");
    let f = shared
        .function("Worker")
        .handler_crate("worker")
        .build()
        .unwrap();
    let flow = app.stack("Flow");
    let def = Definition::new("Work").state(Task::invoke("Work", &f).end());
    flow.state_machine("M").definition(def).build().unwrap();
    let asm = crate::synth::synthesize(&app).unwrap();
    let artifact = asm.stack("Flow").unwrap();
    assert_eq!(artifact.dependencies, vec!["Shared".to_string()]);
    let def = artifact.template.resources["M"].properties["Definition"].to_json();
    assert!(
        def["States"]["Work"]["Parameters"]["FunctionName"]
            .get("Fn::ImportValue")
            .is_some(),
        "{def}"
    );
}

#[test]
fn discard_result_renders_null_result_path() {
    let app = App::new();
    let s = app.stack("S");
    s.state_machine("M")
        .definition(Definition::new("A").state(Pass::new("A").discard_result().end()))
        .build()
        .unwrap();
    let t = s.state_for_tests().finalize().unwrap();
    assert_eq!(
        t.resources["M"].properties["Definition"].to_json()["States"]["A"],
        json!({"Type": "Pass", "ResultPath": null, "End": true})
    );
}
