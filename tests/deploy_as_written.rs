//! Templates deployed as they are written: `deploy --app DIR` sends the assembly's template
//! file byte for byte (what was reviewed), including what ordersctl's model does not know.

use std::process::Command;

use moto_harness::MotoServer;

mod cli_support;
use cli_support::one_stack_assembly;

#[tokio::test(flavor = "multi_thread")]
async fn deploy_app_sends_the_template_file_byte_for_byte() {
    let moto = MotoServer::start();
    let tmp = tempfile::tempdir().unwrap();
    // Hand-formatted, with a section the model does not keep (Mappings) and key order of
    // its own.
    let body = "{\n  \"Mappings\": {\"Sizes\": {\"dev\": {\"Retention\": \"345600\"}}},\n  \"Resources\": {\n    \"Queue\": {\"Type\": \"AWS::SQS::Queue\",\n      \"Properties\": {\"MessageRetentionPeriod\": {\"Fn::FindInMap\": [\"Sizes\", \"dev\", \"Retention\"]}}}\n  }\n}\n";
    let asm = one_stack_assembly(tmp.path(), "Written", body);
    let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
        .args(["deploy", "Written", "--yes", "--app", asm.to_str().unwrap()])
        .envs(moto.env())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto.endpoint())
        .region(aws_config::Region::new(moto_harness::REGION))
        .credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let deployed = aws_sdk_cloudformation::Client::new(&config)
        .get_template()
        .stack_name("Written")
        .send()
        .await
        .unwrap();
    assert_eq!(deployed.template_body(), Some(body));
}

#[test]
fn outputs_file_holds_unchanged_stacks_too() {
    let moto = MotoServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let asm = one_stack_assembly(
        tmp.path(),
        "Kept",
        r#"{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}, "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}}}"#,
    );
    let outputs = tmp.path().join("outputs.json");
    let deploy = || {
        let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
            // moto reports outputs for stacks made directly, not through change sets.
            .args([
                "deploy",
                "Kept",
                "--yes",
                "--method",
                "direct",
                "--app",
                asm.to_str().unwrap(),
            ])
            .args(["--outputs-file", outputs.to_str().unwrap()])
            .envs(moto.env())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    deploy();
    let first: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&outputs).unwrap()).unwrap();
    assert!(first["Kept"]["QueueUrl"].is_string(), "{first}");
    assert!(deploy().contains("Kept: no changes"));
    let again: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&outputs).unwrap()).unwrap();
    assert_eq!(again, first);
}

#[test]
fn a_deploy_without_tags_keeps_the_stacks_tags() {
    let moto = MotoServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let asm = one_stack_assembly(
        tmp.path(),
        "T",
        r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#,
    );
    let deploy = |extra: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_ordersctl"))
            .args(["deploy", "T", "--yes", "--app", asm.to_str().unwrap()])
            .args(extra)
            .envs(moto.env())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    deploy(&["--tags", "team=a"]);
    // No --tags: nothing to change (an empty tag list would strip them on CloudFormation).
    let err = deploy(&[]);
    assert!(err.contains("T: no changes"), "{err}");
    assert!(!err.contains("tags differ"), "{err}");
}
