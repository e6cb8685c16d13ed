use serde_json::json;

use crate::constructs::{
    App, Duration, EventPattern, QueueEncryption, Stack, SynthError, Target, TopicEncryption,
};

fn p() -> EventPattern {
    EventPattern::new().source(["shop"])
}

fn err(f: impl FnOnce(&Stack) -> Result<(), SynthError>) -> String {
    let app = App::new();
    let s = app.stack("S");
    f(s).expect_err("must fail").to_string()
}

#[test]
fn every_limit_names_the_construct_path() {
    let cases: Vec<(&str, String)> = vec![
        (
            "pattern or a schedule",
            err(|s| {
                let q = s.queue("Q").build()?;
                s.rule("R").target(&q).build().map(|_| ())
            }),
        ),
        (
            "exactly one",
            err(|s| {
                let q = s.queue("Q").build()?;
                s.rule("R")
                    .pattern(p())
                    .schedule("rate(1 day)")
                    .target(&q)
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "pattern",
            err(|s| {
                let q = s.queue("Q").build()?;
                s.rule("R")
                    .pattern(EventPattern::new())
                    .target(&q)
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "schedule",
            err(|s| {
                let q = s.queue("Q").build()?;
                s.rule("R")
                    .schedule("rate(1 days)")
                    .target(&q)
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "schedule",
            err(|s| {
                let q = s.queue("Q").build()?;
                s.rule("R")
                    .schedule("cron(0 2 * * *)")
                    .target(&q)
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "default event bus",
            err(|s| {
                let q = s.queue("Q").build()?;
                let b = s.event_bus("B").build()?;
                s.rule("R")
                    .bus(&b)
                    .schedule("rate(5 minutes)")
                    .target(&q)
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "targets",
            err(|s| s.rule("R").pattern(p()).build().map(|_| ())),
        ),
        (
            "targets",
            err(|s| {
                let q = s.queue("Q").build()?;
                let mut r = s.rule("R").pattern(p());
                for _ in 0..6 {
                    r = r.target(&q);
                }
                r.build().map(|_| ())
            }),
        ),
        (
            "rule_name",
            err(|s| {
                let q = s.queue("Q").build()?;
                s.rule("R")
                    .rule_name(&"n".repeat(65))
                    .pattern(p())
                    .target(&q)
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "description",
            err(|s| {
                let q = s.queue("Q").build()?;
                s.rule("R")
                    .description(&"d".repeat(513))
                    .pattern(p())
                    .target(&q)
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "retry_policy max_event_age",
            err(|s| {
                let q = s.queue("Q").build()?;
                s.rule("R")
                    .pattern(p())
                    .target(Target::of(&q).retry_policy(Duration::secs(59), 3))
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "retry_policy max_event_age",
            err(|s| {
                let q = s.queue("Q").build()?;
                s.rule("R")
                    .pattern(p())
                    .target(Target::of(&q).retry_policy(Duration::secs(86_401), 3))
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "retry_policy max_retry_attempts",
            err(|s| {
                let q = s.queue("Q").build()?;
                s.rule("R")
                    .pattern(p())
                    .target(Target::of(&q).retry_policy(Duration::hours(1), 186))
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "dead_letter_queue",
            err(|s| {
                let q = s.queue("Q").build()?;
                let d = s.queue("D").fifo().build()?;
                s.rule("R")
                    .pattern(p())
                    .target(Target::of(&q).dead_letter_queue(&d))
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "input or input_transformer",
            err(|s| {
                let q = s.queue("Q").build()?;
                let t = Target::of(&q)
                    .input(json!({"a": 1}))
                    .input_transformer([("id", "$.id")], "<id>");
                s.rule("R").pattern(p()).target(t).build().map(|_| ())
            }),
        ),
        (
            "input_transformer template",
            err(|s| {
                let q = s.queue("Q").build()?;
                s.rule("R")
                    .pattern(p())
                    .target(Target::of(&q).input_transformer([("id", "$.id")], "<nope>"))
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "message_group_id",
            err(|s| {
                let q = s.queue("Q").fifo().build()?;
                s.rule("R").pattern(p()).target(&q).build().map(|_| ())
            }),
        ),
        (
            "message_group_id",
            err(|s| {
                let q = s.queue("Q").build()?;
                s.rule("R")
                    .pattern(p())
                    .target(Target::of(&q).message_group_id("g"))
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "loop",
            err(|s| {
                let b = s.event_bus("B").build()?;
                s.rule("R")
                    .bus(&b)
                    .pattern(p())
                    .target(&b)
                    .build()
                    .map(|_| ())
            }),
        ),
    ];
    for (needle, msg) in cases {
        assert!(msg.starts_with("S/R"), "{msg}");
        assert!(msg.contains(needle), "{needle} not in {msg}");
    }
}

#[test]
fn targets_get_resource_policies_scoped_to_the_rule() {
    let app = App::new();
    let s = app.stack("S");
    let bus = s.event_bus("B").build().unwrap();
    let key = s.key("K").build().unwrap();
    let q = s.queue("Q").build().unwrap();
    let dlq = s
        .queue("D")
        .encryption(QueueEncryption::Kms(key))
        .build()
        .unwrap();
    let f = s.function("F").handler_crate("f").build().unwrap();
    let topic_key = s.key("TK").build().unwrap();
    let topic = s
        .topic("T")
        .encryption(TopicEncryption::Kms(topic_key))
        .build()
        .unwrap();
    s.rule("R")
        .bus(&bus)
        .pattern(p())
        .target(
            Target::of(&q)
                .dead_letter_queue(&dlq)
                .retry_policy(Duration::hours(2), 5),
        )
        .target(&f)
        .target(Target::of(&topic).input(json!({"kind": "order"})))
        .build()
        .unwrap();
    let t = s.state_for_tests().finalize().unwrap();
    let rule = t.resources["R"].properties.clone();
    assert_eq!(
        rule["EventBusName"].to_json(),
        json!({"Fn::GetAtt": ["B", "Name"]})
    );
    assert_eq!(rule["State"].to_json(), json!("ENABLED"));
    let targets = rule["Targets"].to_json();
    assert_eq!(targets[0]["Id"], json!("Q"));
    assert_eq!(
        targets[0]["DeadLetterConfig"],
        json!({"Arn": {"Fn::GetAtt": ["D", "Arn"]}})
    );
    assert_eq!(
        targets[0]["RetryPolicy"],
        json!({"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 5})
    );
    assert_eq!(targets[2]["Input"], json!(r#"{"kind":"order"}"#));
    assert!(targets[0].get("RoleArn").is_none());
    let source = json!({"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["R", "Arn"]}}});
    for (holder, action) in [
        ("QPolicy", "sqs:SendMessage"),
        ("DPolicy", "sqs:SendMessage"),
        ("TPolicy", "sns:Publish"),
    ] {
        let st = t.resources[holder].properties["PolicyDocument"].to_json()["Statement"][0].clone();
        assert_eq!(
            st["Principal"],
            json!({"Service": "events.amazonaws.com"}),
            "{holder}"
        );
        assert_eq!(st["Action"], json!(action), "{holder}");
        assert_eq!(st["Condition"], source, "{holder}");
    }
    for key in ["K", "TK"] {
        let st = t.resources[key].properties["KeyPolicy"].to_json()["Statement"][1].clone();
        assert_eq!(
            st["Principal"],
            json!({"Service": "events.amazonaws.com"}),
            "{key}"
        );
    }
    let perm = &t.resources["FRPermission"].properties;
    assert_eq!(perm["Principal"].to_json(), json!("events.amazonaws.com"));
    assert_eq!(
        perm["SourceArn"].to_json(),
        json!({"Fn::GetAtt": ["R", "Arn"]})
    );
    assert!(!t.resources.contains_key("RRole"));
}

#[test]
fn bus_targets_share_one_rule_role() {
    let app = App::new();
    let s = app.stack("S");
    let b1 = s.event_bus("B1").build().unwrap();
    let b2 = s.event_bus("B2").build().unwrap();
    let q = s.queue("Q").fifo().build().unwrap();
    s.rule("R")
        .pattern(p())
        .target(&b1)
        .target(&b2)
        .target(
            Target::of(&q)
                .message_group_id("orders")
                .input_transformer([("id", "$.detail.id")], r#"{"id": <id>}"#),
        )
        .build()
        .unwrap();
    let t = s.state_for_tests().finalize().unwrap();
    let rule = t.resources["R"].properties.clone();
    assert!(!rule.contains_key("EventBusName"));
    let targets = rule["Targets"].to_json();
    assert_eq!(
        targets[0]["RoleArn"],
        json!({"Fn::GetAtt": ["RRole", "Arn"]})
    );
    assert_eq!(
        targets[1]["RoleArn"],
        json!({"Fn::GetAtt": ["RRole", "Arn"]})
    );
    assert_eq!(
        targets[2]["SqsParameters"],
        json!({"MessageGroupId": "orders"})
    );
    assert_eq!(
        targets[2]["InputTransformer"],
        json!({"InputPathsMap": {"id": "$.detail.id"}, "InputTemplate": "{\"id\": <id>}"})
    );
    let role = t.resources["RRole"].properties.clone();
    assert_eq!(
        role["AssumeRolePolicyDocument"].to_json()["Statement"][0]["Principal"],
        json!({"Service": "events.amazonaws.com"})
    );
    let policy = role["Policies"].to_json();
    assert_eq!(policy[0]["PolicyName"], json!("RRolePolicy"));
    assert_eq!(
        policy[0]["PolicyDocument"]["Statement"],
        json!([
            {"Effect": "Allow", "Action": "events:PutEvents", "Resource": [{"Fn::GetAtt": ["B1", "Arn"]}, {"Fn::GetAtt": ["B2", "Arn"]}]}
        ])
    );
}

#[test]
fn topic_on_aws_managed_key_cannot_be_a_target() {
    let app = App::new();
    let s = app.stack("S");
    let topic = s.topic("T").build().unwrap();
    s.rule("R").pattern(p()).target(&topic).build().unwrap();
    let e = s.state_for_tests().finalize().unwrap_err().to_string();
    assert!(
        e.starts_with("S/T") && e.contains("customer-managed key"),
        "{e}"
    );
}

#[test]
fn schedules_and_disabled_rules() {
    let app = App::new();
    let s = app.stack("S");
    let f = s.function("F").handler_crate("f").build().unwrap();
    s.rule("R")
        .schedule("rate(1 hour)")
        .disabled()
        .target(&f)
        .build()
        .unwrap();
    let t = s.state_for_tests().finalize().unwrap();
    assert_eq!(
        t.resources["R"].properties["ScheduleExpression"].to_json(),
        json!("rate(1 hour)")
    );
    assert_eq!(
        t.resources["R"].properties["State"].to_json(),
        json!("DISABLED")
    );
}
