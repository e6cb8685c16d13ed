use crate::constructs::App;
use crate::synth::synthesize;
use crate::template::{Expr, Parameter, Resource};

#[test]
fn suppressions_land_in_metadata_and_need_a_reason() {
    let app = App::new();
    let s = app.stack("S");
    let q = s.queue("Jobs").build().unwrap();
    q.suppress("ORD006", "drained by hand")
        .suppress("CKV_AWS_27", "SSE-SQS is on");
    let t = synthesize(&app).unwrap().stacks[0].template.clone();
    let meta = t.resources["Jobs"].to_owned().metadata;
    assert_eq!(
        Expr::Map(meta).to_json(),
        serde_json::json!({
            "checkov": {"skip": [{"id": "CKV_AWS_27", "comment": "SSE-SQS is on"}]},
            "ordersctl": {"suppressions": [{"rule": "ORD006", "reason": "drained by hand"}]}
        })
    );
    let bad = App::new();
    let b = bad.stack("B");
    b.queue("Jobs").build().unwrap().suppress("ORD006", "  ");
    let err = synthesize(&bad).unwrap_err().to_string();
    assert!(
        err.contains("B/Jobs") && err.contains("needs a reason"),
        "{err}"
    );
}

#[test]
fn escape_hatch_raw_resource_and_property_override() {
    let app = App::new();
    let s = app.stack("S");
    s.queue("Jobs").build().unwrap();
    let mut r = Resource::new("AWS::SSM::Parameter");
    r.set("Type", "String").set("Value", "x");
    let p = s.raw_resource("Flag", r).unwrap();
    s.override_property(
        "Jobs",
        "Tags",
        Expr::list([Expr::map([
            ("Key", Expr::from("team")),
            ("Value", Expr::from("orders")),
        ])]),
    );
    s.override_property("Jobs", "SqsManagedSseEnabled", Expr::Null);
    s.output("FlagName", p);
    let t = &synthesize(&app).unwrap().stacks[0].template;
    assert_eq!(t.resources["Flag"].resource_type, "AWS::SSM::Parameter");
    assert!(t.resources["Jobs"].properties.contains_key("Tags"));
    assert!(!t.resources["Jobs"]
        .properties
        .contains_key("SqsManagedSseEnabled"));
    assert!(s
        .raw_resource("Bad-Id", Resource::new("AWS::SNS::Topic"))
        .unwrap_err()
        .to_string()
        .contains("contains `-`"));
}

#[test]
fn override_of_a_missing_logical_id_is_a_synth_error() {
    let app = App::new();
    let s = app.stack("S");
    s.override_property("Nope", "A.B", Expr::from(1u32));
    let e = synthesize(&app).unwrap_err().to_string();
    assert!(
        e.starts_with("S/Nope") && e.contains("not in the stack"),
        "{e}"
    );
}

#[test]
fn parameters_conditions_and_exported_outputs() {
    let app = App::new();
    let s = app.stack("S");
    let env = s.parameter("Env", Parameter::new("String")).unwrap();
    let prod = s
        .condition("IsProd", Expr::equals(env.clone(), "prod"))
        .unwrap();
    s.output("Env", env)
        .description("the env")
        .export(Expr::sub("${AWS::StackName}-Env"));
    let t = &synthesize(&app).unwrap().stacks[0].template;
    let v = t.to_json_value();
    assert_eq!(
        v["Conditions"][&prod],
        serde_json::json!({"Fn::Equals": [{"Ref": "Env"}, "prod"]})
    );
    assert_eq!(
        v["Outputs"]["Env"]["Export"]["Name"],
        serde_json::json!({"Fn::Sub": "${AWS::StackName}-Env"})
    );
    assert!(s
        .parameter("Env", Parameter::new("String"))
        .unwrap_err()
        .to_string()
        .contains("already used"));
}

#[test]
fn duplicate_or_bad_output_ids_are_synth_errors() {
    let app = App::new();
    let s = app.stack("S");
    s.output("Url", Expr::from("a"));
    s.output("Url", Expr::from("b"));
    assert!(synthesize(&app)
        .unwrap_err()
        .to_string()
        .contains("S/Url: an output with this ID already exists"));
    let app = App::new();
    app.stack("S").output("Bad_Id", Expr::from("a"));
    assert!(synthesize(&app)
        .unwrap_err()
        .to_string()
        .contains("contains `_`"));
}
