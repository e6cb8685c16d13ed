//! The interpreter against the States Language specification's rules and the Step Functions
//! developer guide's examples: one test per state type, input/output processing, Retry and
//! Catch ordering, and task-token timeouts.

use super::*;
use serde_json::json;

const LAMBDA: &str = "arn:aws:states:::lambda:invoke";

fn run(def: Value, input: Value) -> Action {
    Execution::new(
        "arn:aws:states:us-east-1:123456789012:execution:M:e1",
        def,
        input,
    )
    .step()
    .unwrap()
}

fn task(ex: &mut Execution) -> TaskCall {
    match ex.step().unwrap() {
        Action::Task(t) => t,
        other => panic!("expected a task, got {other:?}"),
    }
}

#[test]
fn pass_with_result_and_result_path() {
    // The guide's Pass example: Result placed at ResultPath inside the input.
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"x-datum": 0.381018, "y-datum": 622.2269926397355}, "ResultPath": "$.coords", "End": true}}});
    assert_eq!(
        run(def, json!({"georefOf": "Home"})),
        Action::Succeeded(
            json!({"georefOf": "Home", "coords": {"x-datum": 0.381018, "y-datum": 622.2269926397355}})
        )
    );
}

#[test]
fn a_pass_result_wins_over_its_parameters() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"a.$": "$.x"}, "Result": {"fixed": true}, "ResultPath": "$.r", "End": true}}});
    assert_eq!(
        run(def, json!({"x": 1})),
        Action::Succeeded(json!({"x": 1, "r": {"fixed": true}}))
    );
}

#[test]
fn input_path_parameters_and_output_path() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$.order",
        "Parameters": {"id.$": "$.id", "fixed": "yes", "label.$": "States.Format('order {} of {}', $.id, $$.Execution.Name)", "nested": {"first.$": "$.items[0]"}},
        "ResultPath": "$.out", "OutputPath": "$.out", "End": true}}});
    assert_eq!(
        run(def, json!({"order": {"id": "o-1", "items": ["a", "b"]}})),
        Action::Succeeded(
            json!({"id": "o-1", "fixed": "yes", "label": "order o-1 of e1", "nested": {"first": "a"}})
        )
    );
}

#[test]
fn result_path_null_keeps_the_input_and_output_path_null_empties_it() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": 1, "ResultPath": null, "Next": "B"},
        "B": {"Type": "Pass", "OutputPath": null, "End": true}}});
    assert_eq!(run(def, json!({"k": 1})), Action::Succeeded(json!({})));
}

#[test]
fn a_missing_path_fails_the_execution_with_states_runtime() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$.nope", "End": true}}});
    let Action::Failed { error, cause } = run(def, json!({})) else {
        panic!()
    };
    assert_eq!(error, "States.Runtime");
    assert!(cause.contains("$.nope"), "{cause}");
}

#[test]
fn task_then_selector_result_path_output_path() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA,
        "Parameters": {"FunctionName": "f", "Payload.$": "$"}, "ResultSelector": {"body.$": "$.Payload"}, "ResultPath": "$.result", "OutputPath": "$.result.body",
        "TimeoutSeconds": 10, "End": true}}});
    let mut ex = Execution::new("e", def, json!({"orderId": "o-1"}));
    let t = task(&mut ex);
    assert_eq!(
        t.parameters,
        json!({"FunctionName": "f", "Payload": {"orderId": "o-1"}})
    );
    assert_eq!(t.timeout_secs, Some(10));
    assert_eq!(t.token, None);
    ex.task_done(Ok(lambda_invoke_result(json!({"ok": true}))));
    assert_eq!(ex.step().unwrap(), Action::Succeeded(json!({"ok": true})));
}

#[test]
fn choice_rules_and_default() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Variable": "$.total", "NumericGreaterThan": 1000, "Next": "Big"},
            {"And": [{"Variable": "$.status", "StringEquals": "NEW"}, {"Not": {"Variable": "$.vip", "IsPresent": true}}], "Next": "New"},
            {"Or": [{"Variable": "$.status", "StringMatches": "CANCEL*"}, {"And": [{"Variable": "$.flag", "IsPresent": true}, {"Variable": "$.flag", "BooleanEquals": true}]}], "Next": "Cancel"},
            {"Variable": "$.total", "NumericLessThanPath": "$.limit", "Next": "Small"}
        ], "Default": "Other"},
        "Big": {"Type": "Pass", "Result": "big", "End": true},
        "New": {"Type": "Pass", "Result": "new", "End": true},
        "Cancel": {"Type": "Pass", "Result": "cancel", "End": true},
        "Small": {"Type": "Pass", "Result": "small", "End": true},
        "Other": {"Type": "Pass", "Result": "other", "End": true}}});
    let r = |input: Value| match run(def.clone(), input) {
        Action::Succeeded(v) => v,
        o => panic!("{o:?}"),
    };
    assert_eq!(r(json!({"total": 2000, "status": "NEW"})), json!("big"));
    assert_eq!(r(json!({"total": 5, "status": "NEW"})), json!("new"));
    assert_eq!(
        r(json!({"total": 5, "status": "NEW", "vip": 1, "flag": true})),
        json!("cancel")
    );
    assert_eq!(
        r(json!({"total": 5, "status": "CANCELLED"})),
        json!("cancel")
    );
    assert_eq!(
        r(json!({"total": 5, "status": "X", "limit": 10})),
        json!("small")
    );
    assert_eq!(
        r(json!({"total": 50, "status": "X", "limit": 10})),
        json!("other")
    );
    // A comparison on a missing variable is a runtime error, not a false (guard with IsPresent).
    let Action::Failed { error, .. } = run(def, json!({"total": 5, "status": "X"})) else {
        panic!()
    };
    assert_eq!(error, "States.Runtime");
}

#[test]
fn choice_without_a_match_or_default_fails() {
    let def = json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "StringEquals": "x", "Next": "C"}]}}});
    let Action::Failed { error, .. } = run(def, json!({"a": "y"})) else {
        panic!()
    };
    assert_eq!(error, "States.NoChoiceMatched");
}

#[test]
fn wait_reports_seconds_or_timestamp_then_continues() {
    let def = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "U"}, "U": {"Type": "Wait", "Timestamp": "2030-01-01T00:00:00Z", "End": true}}});
    let mut ex = Execution::new("e", def, json!({"delay": 90}));
    assert_eq!(
        ex.step().unwrap(),
        Action::Wait {
            state: "W".into(),
            seconds: Some(90),
            until: None
        }
    );
    ex.wait_done();
    assert_eq!(
        ex.step().unwrap(),
        Action::Wait {
            state: "U".into(),
            seconds: None,
            until: Some("2030-01-01T00:00:00Z".into())
        }
    );
    ex.wait_done();
    assert_eq!(ex.step().unwrap(), Action::Succeeded(json!({"delay": 90})));
}

#[test]
fn succeed_and_fail_states() {
    let ok = json!({"StartAt": "S", "States": {"S": {"Type": "Succeed", "OutputPath": "$.a"}}});
    assert_eq!(run(ok, json!({"a": 1})), Action::Succeeded(json!(1)));
    let fail = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "OrderRejected", "CausePath": "$.why"}}});
    assert_eq!(
        run(fail, json!({"why": "no stock"})),
        Action::Failed {
            error: "OrderRejected".into(),
            cause: "no stock".into()
        }
    );
}

#[test]
fn retry_uses_the_first_matching_retrier_with_backoff_then_catch() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": LAMBDA, "Parameters": {"FunctionName": "f"},
            "Retry": [
                {"ErrorEquals": ["Transient"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 3.0},
                {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1, "IntervalSeconds": 5}
            ],
            "Catch": [
                {"ErrorEquals": ["Other"], "Next": "Wrong"},
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handled"}
            ],
            "End": true},
        "Wrong": {"Type": "Fail", "Error": "wrong catcher"},
        "Handled": {"Type": "Pass", "End": true}}});
    let mut ex = Execution::new("e", def, json!({"id": 1}));
    task(&mut ex);
    ex.task_done(Err(("Transient".into(), "1".into())));
    assert_eq!(
        ex.step().unwrap(),
        Action::Retry {
            state: "T".into(),
            error: "Transient".into(),
            attempt: 1,
            delay_secs: 2.0
        }
    );
    task(&mut ex);
    ex.task_done(Err(("Transient".into(), "2".into())));
    assert_eq!(
        ex.step().unwrap(),
        Action::Retry {
            state: "T".into(),
            error: "Transient".into(),
            attempt: 2,
            delay_secs: 6.0
        }
    );
    task(&mut ex);
    // The first matching retrier is exhausted: the later States.ALL retrier is NOT used.
    ex.task_done(Err(("Transient".into(), "3".into())));
    assert_eq!(
        ex.step().unwrap(),
        Action::Succeeded(json!({"id": 1, "error": {"Error": "Transient", "Cause": "3"}}))
    );
}

#[test]
fn states_task_failed_does_not_match_timeouts_and_max_attempts_zero_never_retries() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": LAMBDA, "Parameters": {},
            "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 0}],
            "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Failed"}, {"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}],
            "End": true},
        "Failed": {"Type": "Pass", "Result": "failed", "End": true},
        "TimedOut": {"Type": "Pass", "Result": "timed out", "End": true}}});
    let mut ex = Execution::new("e", def.clone(), json!({}));
    task(&mut ex);
    ex.task_done(Err((TIMEOUT.into(), String::new())));
    assert_eq!(ex.step().unwrap(), Action::Succeeded(json!("timed out")));
    let mut ex = Execution::new("e", def, json!({}));
    task(&mut ex);
    ex.task_done(Err(("Lambda.Unknown".into(), String::new())));
    assert_eq!(ex.step().unwrap(), Action::Succeeded(json!("failed")));
}

#[test]
fn an_uncaught_error_fails_the_execution() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "Catch": [{"ErrorEquals": ["X"], "Next": "T"}], "End": true}}});
    let mut ex = Execution::new("e", def, json!({}));
    task(&mut ex);
    ex.task_done(Err(("Boom".into(), "it broke".into())));
    assert_eq!(
        ex.step().unwrap(),
        Action::Failed {
            error: "Boom".into(),
            cause: "it broke".into()
        }
    );
}

#[test]
fn task_token_is_in_the_context_and_a_heartbeat_timeout_is_catchable() {
    let def = json!({"StartAt": "Await", "States": {
        "Await": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.id"}},
            "TimeoutSeconds": 86400, "HeartbeatSeconds": 3600,
            "Catch": [{"ErrorEquals": ["States.Timeout", "States.HeartbeatTimeout"], "Next": "Expired"}], "End": true},
        "Expired": {"Type": "Pass", "Result": "expired", "End": true}}});
    let mut ex = Execution::new("exec", def, json!({"id": "o-9"}));
    let t = task(&mut ex);
    let token = t.token.clone().expect("a token");
    assert_eq!(t.parameters["MessageBody"]["token"], json!(token));
    assert_eq!(
        (t.timeout_secs, t.heartbeat_secs),
        (Some(86400), Some(3600))
    );
    ex.task_done(Err((HEARTBEAT_TIMEOUT.into(), String::new())));
    assert_eq!(ex.step().unwrap(), Action::Succeeded(json!("expired")));
}

#[test]
fn parallel_collects_branch_outputs_in_order_and_a_failing_branch_is_caught() {
    let branch = |r: Value| json!({"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": r, "End": true}}});
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [branch(json!(1)), branch(json!(2))], "ResultPath": "$.both", "End": true}}});
    assert_eq!(
        run(def, json!({})),
        Action::Succeeded(json!({"both": [1, 2]}))
    );

    let failing = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "BranchFailed", "Cause": "c"}}});
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [branch(json!(1)), failing], "Catch": [{"ErrorEquals": ["BranchFailed"], "Next": "Recover"}], "End": true},
        "Recover": {"Type": "Pass", "End": true}}});
    assert_eq!(
        run(def, json!({"k": 0})),
        Action::Succeeded(json!({"Error": "BranchFailed", "Cause": "c"}))
    );
}

#[test]
fn map_runs_each_item_with_its_selector_and_tasks_inside() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
        "ItemSelector": {"sku.$": "$$.Map.Item.Value.sku", "index.$": "$$.Map.Item.Index", "order.$": "$.orderId"},
        "ItemProcessor": {"StartAt": "Reserve", "States": {"Reserve": {"Type": "Task", "Resource": LAMBDA, "Parameters": {"Payload.$": "$"}, "OutputPath": "$.Payload", "End": true}}},
        "ResultPath": "$.reserved", "End": true}}});
    let mut ex = Execution::new(
        "e",
        def,
        json!({"orderId": "o-1", "items": [{"sku": "A"}, {"sku": "B"}]}),
    );
    for (i, sku) in ["A", "B"].iter().enumerate() {
        let t = task(&mut ex);
        assert_eq!(
            t.parameters,
            json!({"Payload": {"sku": sku, "index": i, "order": "o-1"}})
        );
        ex.task_done(Ok(lambda_invoke_result(json!(format!("{sku}-ok")))));
    }
    assert_eq!(
        ex.step().unwrap(),
        Action::Succeeded(
            json!({"orderId": "o-1", "items": [{"sku": "A"}, {"sku": "B"}], "reserved": ["A-ok", "B-ok"]})
        )
    );
}

#[test]
fn intrinsics() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {
        "parsed.$": "States.StringToJson($.s)", "text.$": "States.JsonToString($.o)", "arr.$": "States.Array(1, 'two', $.o)",
        "len.$": "States.ArrayLength($.a)", "id.$": "States.UUID()"}, "End": true}}});
    let Action::Succeeded(v) = run(
        def,
        json!({"s": "{\"k\":1}", "o": {"x": true}, "a": [1, 2, 3]}),
    ) else {
        panic!()
    };
    assert_eq!(v["parsed"], json!({"k": 1}));
    assert_eq!(v["text"], json!("{\"x\":true}"));
    assert_eq!(v["arr"], json!([1, "two", {"x": true}]));
    assert_eq!(v["len"], json!(3));
    assert_eq!(v["id"].as_str().map(str::len), Some(36));
}

#[test]
fn check_names_what_the_engine_cannot_run() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync", "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"h.$": "States.Hash($.x, 'SHA-1')"}, "Next": "C"},
        "C": {"Type": "Map", "ItemReader": {}, "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}, "End": true}}});
    let problems = check(&def);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].contains("`A`") && problems[0].contains("glue:startJobRun"));
    assert!(problems[1].contains("States.Hash"));
    assert!(problems[2].contains("distributed Map"));
    let ok =
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}});
    assert!(check(&ok).is_empty());
}
