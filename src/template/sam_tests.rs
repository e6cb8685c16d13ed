//! Tests of the SAM expansion.

use super::*;

fn sam(resources: serde_json::Value, globals: serde_json::Value) -> Template {
    Template::from_json_value(&serde_json::json!({
        "Transform": SAM_TRANSFORM, "Globals": globals, "Resources": resources
    }))
    .unwrap()
}

#[test]
fn a_function_with_globals_and_events_becomes_what_sam_generates() {
    let t = expand(&sam(
        serde_json::json!({"F": {"Type": "AWS::Serverless::Function", "Properties": {
            "Timeout": 20, "Events": {"Jobs": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["Q", "Arn"]}}}},
            "EventInvokeConfig": {"DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": "arn"}}}}}}),
        serde_json::json!({"Function": {"Timeout": 10, "Tracing": "Active"}}),
    ))
    .into_owned();
    let f = &t.resources["F"];
    assert_eq!(f.resource_type, "AWS::Lambda::Function");
    // The function's own value wins over Globals; Globals fill the rest.
    assert_eq!(f.properties["Timeout"], Expr::Int(20));
    assert_eq!(
        f.properties["TracingConfig"],
        Expr::map([("Mode", Expr::from("Active"))])
    );
    assert_eq!(f.properties["Role"], Expr::get_att("FRole", "Arn"));
    assert_eq!(
        t.resources["FJobs"].resource_type,
        "AWS::Lambda::EventSourceMapping"
    );
    assert_eq!(
        t.resources["FEventInvokeConfig"].resource_type,
        "AWS::Lambda::EventInvokeConfig"
    );
    assert_eq!(t.resources["FRole"].resource_type, "AWS::IAM::Role");
}

#[test]
fn a_state_machine_and_its_schedule() {
    let t = expand(&sam(
        serde_json::json!({"SM": {"Type": "AWS::Serverless::StateMachine", "Properties": {
            "Definition": {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
            "Events": {"Nightly": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 day)"}}}}}}),
        serde_json::json!({}),
    ))
    .into_owned();
    assert_eq!(
        t.resources["SM"].resource_type,
        "AWS::StepFunctions::StateMachine"
    );
    let rule = &t.resources["SMNightly"];
    assert_eq!(rule.resource_type, "AWS::Events::Rule");
    assert!(format!("{:?}", rule.properties["Targets"]).contains("SM"));
}

#[test]
fn http_api_events_become_routes_with_the_apis_authorization() {
    let t = expand(&sam(
        serde_json::json!({
            "Api": {"Type": "AWS::Serverless::HttpApi", "Properties": {
                "Auth": {"DefaultAuthorizer": "Jwt", "Authorizers": {"Jwt": {"JwtConfiguration": {"issuer": "i", "audience": ["a"]}}}},
                "DefaultRouteSettings": {"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5}}},
            "F": {"Type": "AWS::Serverless::Function", "Properties": {"Events": {
                "Get": {"Type": "HttpApi", "Properties": {"ApiId": {"Ref": "Api"}, "Path": "/orders", "Method": "get"}},
                "Open": {"Type": "HttpApi", "Properties": {"Path": "/health", "Method": "GET"}}}}}}),
        serde_json::json!({}),
    ))
    .into_owned();
    let get = &t.resources["FGet"];
    assert_eq!(get.properties["RouteKey"], Expr::from("GET /orders"));
    assert_eq!(get.properties["AuthorizationType"], Expr::from("JWT"));
    assert!(t.resources["ApiApiGatewayDefaultStage"]
        .properties
        .contains_key("DefaultRouteSettings"));
    // No ApiId: the implicit API, unauthorized and unthrottled.
    assert_eq!(
        t.resources["FOpen"].properties["ApiId"],
        Expr::ref_("ServerlessHttpApi")
    );
    assert_eq!(
        t.resources["FOpen"].properties["AuthorizationType"],
        Expr::from("NONE")
    );
}

#[test]
fn a_template_without_the_transform_is_left_alone() {
    let t = Template::from_json_value(&serde_json::json!({"Resources": {
        "F": {"Type": "AWS::Serverless::Function"}}}))
    .unwrap();
    assert_eq!(expand(&t).as_ref(), &t);
}
