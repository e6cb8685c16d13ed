//! What the Hello stack must keep doing, asserted on its template.

use ordersctl::assertions::{Match, Template};
use ordersctl::constructs::App;
use serde_json::json;

fn hello() -> Template {
    let app = App::new();
    infra::stacks(&app).expect("the stacks synthesize");
    Template::from_app(&app, "Hello").expect("a Hello stack")
}

#[test]
fn the_queue_feeds_the_function_with_partial_batch_responses() {
    let t = hello();
    t.resource_count_is("AWS::SQS::Queue", 2);
    t.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        json!({
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": 2},
        }),
    );
    t.has_resource_properties(
        "AWS::SQS::Queue",
        json!({"RedrivePolicy": {"maxReceiveCount": 3, "deadLetterTargetArn": Match::any_value()}}),
    );
}

#[test]
fn the_function_may_only_put_items() {
    hello().has_resource_properties(
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

/// The whole template, pinned: a change fails until the snapshot is reviewed
/// (`cargo insta review`, or delete the .snap file and run again).
#[test]
fn the_template_is_pinned() {
    let app = App::new();
    infra::stacks(&app).unwrap();
    let assembly = ordersctl::synth::synthesize(&app).unwrap();
    let template = assembly.stack("Hello").unwrap().template.to_json_string();
    insta::assert_snapshot!("Hello.template.json", template);
}
