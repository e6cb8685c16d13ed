use super::*;
use crate::constructs::App;

fn err(f: impl FnOnce(FunctionBuilder<'_>) -> FunctionBuilder<'_>) -> String {
    let app = App::new();
    let s = app.stack("S");
    f(s.function("F").handler_crate("worker"))
        .build()
        .expect_err("must fail")
        .to_string()
}

#[test]
fn every_limit_names_the_construct_path() {
    let cases = [
        ("memory_mb", err(|b| b.memory_mb(127))),
        ("memory_mb", err(|b| b.memory_mb(10_241))),
        ("timeout", err(|b| b.timeout(Duration::secs(0)))),
        ("timeout", err(|b| b.timeout(Duration::secs(901)))),
        ("log_retention", err(|b| b.log_retention(Duration::days(2)))),
        ("retry_attempts", err(|b| b.retry_attempts(3))),
        (
            "max_event_age",
            err(|b| b.max_event_age(Duration::secs(59))),
        ),
        ("environment variable", err(|b| b.env("AWS_REGION", "x"))),
        ("function_name", err(|b| b.function_name("has space"))),
        (
            "durable execution_timeout",
            err(|b| b.durable(Duration::days(367), None)),
        ),
        (
            "durable retention",
            err(|b| b.durable(Duration::days(1), Some(Duration::days(91)))),
        ),
        ("handler_crate", err(|b| b.handler_crate("bad/crate"))),
    ];
    for (needle, msg) in cases {
        assert!(msg.starts_with("S/F"), "{msg}");
        assert!(msg.contains(needle), "{needle} not in {msg}");
    }
}

#[test]
fn role_may_log_only_to_its_own_group() {
    let app = App::new();
    let s = app.stack("S");
    s.function("F")
        .handler_crate("worker")
        .tracing(Tracing::Disabled)
        .build()
        .unwrap();
    let t = s.state_for_tests().finalize().unwrap();
    let policies = t.resources["FServiceRole"].properties["Policies"].to_json();
    assert_eq!(
        policies[0]["PolicyDocument"]["Statement"],
        serde_json::json!([{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": {"Fn::GetAtt": ["FLogGroup", "Arn"]}}])
    );
    assert_eq!(
        t.resources["FLogGroup"].properties["RetentionInDays"],
        Expr::Int(30)
    );
}
