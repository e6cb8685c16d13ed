//! The seed write-up 001 ("SQS -> Lambda -> DynamoDB") ships a CDK unit test written with
//! `aws-cdk-lib/assertions`. Here it is against the OrderPipeline blueprint, with
//! `ordersctl::assertions`. Where the blueprint departs from the write-up on purpose, the
//! assertion is adapted and says why.

use ordersctl::assertions::{Match, Template};
use serde_json::json;

mod common;

fn template() -> Template {
    Template::from_assembly(&common::assembly(), "OrderPipeline").expect("the OrderPipeline stack")
}

#[test]
fn creates_the_sqs_queue_with_a_dlq() {
    let t = template();
    t.has_resource_properties(
        "AWS::SQS::Queue",
        json!({"QueueName": "OrderCreatedQueue", "VisibilityTimeout": 60}),
    );
    t.has_resource_properties("AWS::SQS::Queue", json!({"QueueName": "OrderCreatedDLQ"}));
}

#[test]
fn creates_the_dynamodb_table_with_correct_keys() {
    template().has_resource_properties(
        "AWS::DynamoDB::Table",
        json!({
            "TableName": "Orders",
            "KeySchema": [
                {"AttributeName": "orderId", "KeyType": "HASH"},
                {"AttributeName": "createdAt", "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }),
    );
}

#[test]
fn creates_the_lambda_function_with_correct_config() {
    template().has_resource_properties(
        "AWS::Lambda::Function",
        json!({
            "FunctionName": "OrderProcessor",
            // The handler is a Rust binary on the OS-only runtime, not Node.js 20.
            "Runtime": "provided.al2023",
            "MemorySize": 256,
            // 10 s, not 30: the queue's 60 s visibility timeout must be at least 6x the
            // function's timeout (ORD001, AWS's guidance for Lambda consumers).
            "Timeout": 10,
        }),
    );
}

#[test]
fn lambda_has_event_source_mapping_to_sqs() {
    template().has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        Match::object_like(json!({
            "BatchSize": 10,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        })),
    );
}

#[test]
fn lambda_has_iam_permissions_for_dynamodb() {
    // The grant is an inline policy of the function's role (one resource fewer than CDK's
    // separate AWS::IAM::Policy), and it names only PutItem: the handler crate declares that
    // one action (ORD026 keeps grants to what the code calls), where CDK's grantWriteData
    // adds BatchWriteItem and the other writes.
    template().has_resource_properties(
        "AWS::IAM::Role",
        json!({"Policies": Match::array_with(vec![json!({
            "PolicyDocument": {"Statement": Match::array_with(vec![json!({
                "Action": "dynamodb:PutItem",
                "Effect": "Allow",
            })
            .into()])},
        })
        .into()])}),
    );
}
