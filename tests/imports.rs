//! Imported handles (`QueueRef::from_arn`, `TableRef::from_name` ...) in grants, rule
//! targets and an event source: the template pinned, no rule errors, and the mistakes a
//! user can make with them named by construct path.

mod common;

use ordersctl::constructs::{App, FunctionRef, KeyRef, QueueRef, RoleRef, TableRef};
use serde_json::{json, Value};

fn template() -> Value {
    let app = App::new();
    common::imports::imports(&app).expect("the imports stack builds");
    let assembly = ordersctl::synth::synthesize(&app).expect("it synthesizes");
    serde_json::from_str(&assembly.stack("Imports").unwrap().template.to_json_string()).unwrap()
}

#[test]
fn the_imports_template_is_pinned() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/imports");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::assert_snapshot!(
            "Imports.template.json",
            serde_json::to_string_pretty(&template()).unwrap()
        );
    });
}

#[test]
fn imported_resources_are_referenced_never_declared() {
    let t = template();
    let resources = t["Resources"].as_object().unwrap();
    for imported in [
        "OrdersQueue",
        "OrdersTable",
        "ArchiveTable",
        "Alerts",
        "OrdersBus",
        "Audit",
        "SharedKey",
        "Deployer",
    ] {
        assert!(!resources.contains_key(imported), "{imported} declared");
    }
    // Their queue and topic policies stay their owners': none is written.
    for r in resources.values() {
        assert_ne!(r["Type"], "AWS::SNS::TopicPolicy");
        if r["Type"] == "AWS::SQS::QueuePolicy" {
            assert_eq!(r["Properties"]["Queues"], json!([{"Ref": "RuleDLQ"}]));
        }
    }
    let mapping = resources
        .values()
        .find(|r| r["Type"] == "AWS::Lambda::EventSourceMapping")
        .unwrap();
    assert_eq!(
        mapping["Properties"]["EventSourceArn"],
        "arn:aws:sqs:us-east-1:123456789012:orders"
    );
    let role_policy = &resources["DeployerPolicy"];
    assert_eq!(role_policy["Type"], "AWS::IAM::Policy");
    assert_eq!(role_policy["Properties"]["Roles"], json!(["deployer"]));
    let permission = resources
        .values()
        .find(|r| r["Type"] == "AWS::Lambda::Permission")
        .unwrap();
    assert_eq!(
        permission["Properties"]["FunctionName"],
        "arn:aws:lambda:us-east-1:123456789012:function:audit"
    );
}

#[test]
fn the_imports_stack_passes_the_checks() {
    let app = App::new();
    common::imports::imports(&app).unwrap();
    let assembly = ordersctl::synth::synthesize(&app).unwrap();
    let stack = assembly.stack("Imports").unwrap();
    let report = ordersctl::checks::check_stack(&stack.name, &stack.template, &Default::default());
    let errors: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.severity == ordersctl::checks::Severity::Error)
        .map(|f| format!("{} {}: {}", f.rule, f.location, f.message))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn malformed_arns_and_impossible_grants_name_the_construct() {
    let app = App::new();
    let stack = app.stack("S");
    for (result, wanted) in [
        (
            QueueRef::from_arn(stack, "Q", "arn:aws:sns:us-east-1:123456789012:orders").map(|_| ()),
            "S/Q: \"arn:aws:sns",
        ),
        (
            TableRef::from_arn(stack, "T", "arn:aws:dynamodb:us-east-1:123456789012:orders")
                .map(|_| ()),
            "table/NAME",
        ),
        (TableRef::from_name(stack, "T2", "no").map(|_| ()), "S/T2"),
        (
            FunctionRef::from_arn(stack, "F", "arn:aws:lambda:us-east-1:12345:function:x")
                .map(|_| ()),
            "S/F",
        ),
        (
            KeyRef::from_arn(stack, "K", "arn:aws:kms:us-east-1:123456789012:alias/x").map(|_| ()),
            "key/KEY-ID",
        ),
        (
            RoleRef::from_arn(stack, "R", "arn:aws:iam:us-east-1:123456789012:role/x").map(|_| ()),
            "iam::ACCOUNT:role",
        ),
    ] {
        let e = result.expect_err(wanted).to_string();
        assert!(e.contains(wanted), "{e}");
    }
    // Values that would otherwise reach the template: other partitions and regions, names
    // with characters the service refuses (a `${...}` would become a Fn::Sub reference).
    let app = App::new();
    let stack = app.stack("S");
    for (i, arn) in [
        "arn:awsfoo:sqs:us-east-1:123456789012:q",
        "arn:aws:sqs:x:123456789012:q",
        "arn:aws:sqs:us-east-1:123456789012:a/b",
        "arn:aws:sqs:us-east-1:123456789012:${Missing}",
        "arn:aws:sqs:us-east-1:123456789012:q\u{1b}[31m",
        &format!("arn:aws:sqs:us-east-1:123456789012:{}", "q".repeat(81)),
    ]
    .iter()
    .enumerate()
    {
        assert!(
            QueueRef::from_arn(stack, &format!("Q{i}"), arn).is_err(),
            "{arn}"
        );
    }
    assert!(FunctionRef::from_arn(
        stack,
        "F1",
        "arn:aws:lambda:us-east-1:123456789012:function:f:1:2:3"
    )
    .is_err());
    assert!(FunctionRef::from_arn(
        stack,
        "F2",
        "arn:aws:lambda:us-east-1:123456789012:function:f:live"
    )
    .is_ok());
    assert!(RoleRef::from_arn(
        stack,
        "R1",
        &format!("arn:aws:iam::123456789012:role/../{}", "r".repeat(10))
    )
    .is_err());
    assert!(RoleRef::from_arn(
        stack,
        "R2",
        &format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65))
    )
    .is_err());
    assert!(RoleRef::from_arn(stack, "R3", "arn:aws:iam::123456789012:role/${X}/b").is_err());
    assert!(TableRef::from_arn(
        stack,
        "T3",
        "arn:aws:dynamodb:us-east-1:123456789012:table/${X}"
    )
    .is_err());
    let e = ordersctl::constructs::EventBusRef::from_name(
        stack,
        "B",
        "arn:aws:events:us-east-1:123456789012:event-bus/x",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("takes the bus name"), "{e}");
    // An imported function has no role here to grant to.
    let app = App::new();
    let stack = app.stack("S");
    let f = FunctionRef::from_arn(
        stack,
        "F",
        "arn:aws:lambda:us-east-1:123456789012:function:x",
    )
    .unwrap();
    let q = stack.queue("Q").build().unwrap();
    q.grant_send(&f);
    let e = ordersctl::synth::synthesize(&app).unwrap_err().to_string();
    assert!(e.contains("S/F") && e.contains("RoleRef::from_arn"), "{e}");
    // Two constructs cannot share an ID, imported or not.
    let app = App::new();
    let stack = app.stack("S");
    stack.queue("Q").build().unwrap();
    let e = QueueRef::from_arn(stack, "Q", "arn:aws:sqs:us-east-1:123456789012:q")
        .unwrap_err()
        .to_string();
    assert!(e.contains("S/Q"), "{e}");
}
