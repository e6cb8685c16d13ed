//! The matchers and the assertions, on small templates.

use serde_json::json;

use super::{Capture, Match, Template};

fn template() -> Template {
    Template::from_json(json!({"Resources": {
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60, "QueueName": "orders"}},
        "D": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "orders-dlq"}},
        "P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"], "Resource": "*"}]}}}
    }, "Outputs": {"Url": {"Value": {"Ref": "Q"}, "Export": {"Name": "orders-url"}}}}))
}

#[test]
fn objects_match_partially_and_deeply_arrays_whole() {
    let t = template();
    t.has_resource_properties("AWS::SQS::Queue", json!({"QueueName": "orders"}));
    t.has_resource_properties(
        "AWS::IAM::Policy",
        json!({"PolicyDocument": {"Statement": [
        {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"]}]}}),
    );
    // An array literal is the whole array: one action of two is not a match.
    let e = t
        .find_resource_properties(
            "AWS::IAM::Policy",
            json!({"PolicyDocument": {"Statement": [
            {"Action": ["sqs:SendMessage"]}]}}),
        )
        .unwrap_err();
    assert!(
        e.contains("the closest is P") && e.contains("expected 1 element(s), found 2"),
        "{e}"
    );
    t.resource_count_is("AWS::SQS::Queue", 2);
}

#[test]
fn matchers_inside_literals() {
    let t = template();
    t.has_resource_properties(
        "AWS::IAM::Policy",
        json!({"PolicyDocument": {"Statement": Match::array_with(vec![
        json!({"Action": Match::array_with(vec![json!("sqs:GetQueueUrl").into()])}).into()])}}),
    );
    t.has_resource_properties("AWS::SQS::Queue", json!({"QueueName": Match::string_like_regexp("-dlq$"), "VisibilityTimeout": Match::absent()}));
    t.has_resource_properties(
        "AWS::SQS::Queue",
        json!({"VisibilityTimeout": Match::any_value()}),
    );
    assert!(t
        .find_resource_properties(
            "AWS::SQS::Queue",
            json!({"QueueName": Match::exact(json!("nope"))})
        )
        .unwrap_err()
        .contains("expected exactly \"nope\""));
}

#[test]
fn the_closest_candidate_is_named_with_what_differs() {
    let e = template()
        .find_resource_properties(
            "AWS::SQS::Queue",
            json!({"QueueName": "orders", "VisibilityTimeout": 30}),
        )
        .unwrap_err();
    assert!(
        e.contains("the closest is Q") && e.contains("VisibilityTimeout: expected 30, found 60"),
        "{e}"
    );
    let e = template()
        .find_resource_properties("AWS::SNS::Topic", json!({}))
        .unwrap_err();
    assert!(e.contains("no resource of type AWS::SNS::Topic"), "{e}");
}

#[test]
fn captures_and_outputs() {
    let t = template();
    let name = Capture::new();
    t.has_resource_properties(
        "AWS::SQS::Queue",
        json!({"QueueName": name.clone(), "VisibilityTimeout": 60}),
    );
    assert_eq!(name.value(), json!("orders"));
    t.has_output("Url", json!({"Export": {"Name": "orders-url"}}));
    t.has_output("*", json!({"Value": {"Ref": "Q"}}));
}

#[test]
#[should_panic(expected = "no output Missing matches")]
fn a_missing_output_panics_naming_it() {
    template().has_output("Missing", json!({}));
}
