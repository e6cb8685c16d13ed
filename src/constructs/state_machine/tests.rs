//! Definition validation: every rule names the path and state; limits of tasks, retries,
//! express machines and the builder. (Rendering is in render_tests.rs.)

use super::*;
use crate::constructs::App;

pub(super) fn pass_end(name: &str) -> Pass {
    Pass::new(name).end()
}

/// Build a machine in a fresh stack `S` under ID `M`; the error text.
fn err_kind(kind: StateMachineKind, def: Definition) -> String {
    let app = App::new();
    let s = app.stack("S");
    s.state_machine("M")
        .kind(kind)
        .definition(def)
        .build()
        .expect_err("must fail")
        .to_string()
}

fn err(def: Definition) -> String {
    err_kind(StateMachineKind::Standard, def)
}

#[test]
fn every_definition_rule_names_the_path_and_state() {
    let long = "L".repeat(81);
    let cases: Vec<(&str, String)> = vec![
        (
            "StartAt names `Nope`",
            err(Definition::new("Nope").state(pass_end("A"))),
        ),
        (
            "state `A`: Next names `Missing`",
            err(Definition::new("A").state(Pass::new("A").next("Missing"))),
        ),
        (
            "state `C`: Default names `Missing`",
            err(Definition::new("C")
                .state(
                    Choice::new("C")
                        .when(Condition::is_present("$.x"), "A")
                        .otherwise("Missing"),
                )
                .state(pass_end("A"))),
        ),
        (
            "state `P`: Catch Next names `Missing`",
            err(Definition::new("T").state(Pass::new("T").end()).state(
                Parallel::new("P")
                    .branch(Definition::new("B").state(pass_end("B")))
                    .catch_all("Missing")
                    .end(),
            )),
        ),
        (
            "state name",
            err(Definition::new(&long).state(pass_end(&long))),
        ),
        (
            "state `A`: the name is used",
            err(Definition::new("A")
                .state(pass_end("A"))
                .state(pass_end("A"))),
        ),
        (
            "state `A`: it has neither Next nor End",
            err(Definition::new("A").state(Pass::new("A"))),
        ),
        (
            "state `B`: it cannot be reached",
            err(Definition::new("A")
                .state(pass_end("A"))
                .state(pass_end("B"))),
        ),
        (
            "state `C`: a Choice needs at least one rule",
            err(Definition::new("C").state(Choice::new("C"))),
        ),
        (
            "state `P`: a Parallel needs at least one branch",
            err(Definition::new("P").state(Parallel::new("P").end())),
        ),
    ];
    for (needle, msg) in cases {
        assert!(msg.starts_with("S/M: "), "{msg}");
        assert!(msg.contains(needle), "`{needle}` not in `{msg}`");
    }
}

#[test]
fn names_are_unique_across_branches_and_next_does_not_cross_them() {
    let dup = Definition::new("P").state(
        Parallel::new("P")
            .branch(Definition::new("P").state(pass_end("P")))
            .end(),
    );
    assert!(err(dup).contains("state `P`: the name is used"));
    let crossing = Definition::new("P")
        .state(
            Parallel::new("P")
                .branch(Definition::new("B").state(Pass::new("B").next("After")))
                .next("After"),
        )
        .state(pass_end("After"));
    let msg = err(crossing);
    assert!(
        msg.starts_with(
            "S/M: state `B`: Next names `After`, which is not a state of branch 1 of `P`"
        ),
        "{msg}"
    );
    let map =
        Definition::new("M").state(Map::new("M", Definition::new("X").state(pass_end("Y"))).end());
    assert!(
        err(map).contains("StartAt names `X`, which is not a state of the item processor of `M`")
    );
}

fn task_err(t: Task) -> String {
    let app = App::new();
    let s = app.stack("S");
    let def = Definition::new("T")
        .state(t.end())
        .state(Fail::new("Failed"));
    s.state_machine("M")
        .definition(def)
        .build()
        .expect_err("must fail")
        .to_string()
}

#[test]
fn retry_catch_and_task_limits() {
    let app = App::new();
    let s = app.stack("X");
    let f = s.function("F").handler_crate("worker").build().unwrap();
    let q = s.queue("Q").build().unwrap();
    let fifo = s.queue("Fifo").fifo().build().unwrap();
    let t = || Task::invoke("T", &f).catch_all("Failed");
    let cases = [
        (
            "state `T` Retry IntervalSeconds is 0 s",
            task_err(t().retry(Retry::all().interval(Duration::secs(0)))),
        ),
        (
            "state `T` Retry BackoffRate is 0.5; allowed: 1.0 or more",
            task_err(t().retry(Retry::all().backoff_rate(0.5))),
        ),
        (
            "state `T` Retry MaxAttempts",
            task_err(t().retry(Retry::all().max_attempts(100_000_000))),
        ),
        (
            "state `T` Retry MaxDelaySeconds",
            task_err(t().retry(Retry::all().max_delay(Duration::secs(0)))),
        ),
        (
            "state `T`: Retry 1: States.ALL must be the only error",
            task_err(t().retry(Retry::all()).retry(Retry::on(["X"]))),
        ),
        (
            "state `T`: Retry 1: ErrorEquals is empty",
            task_err(t().retry(Retry::on(Vec::<String>::new()))),
        ),
        (
            "state `T`: Catch 1: States.ALL",
            task_err(Task::invoke("T", &f).catch(Catch::on(["States.ALL", "X"], "Failed"))),
        ),
        (
            "state `T` TimeoutSeconds is 0 s",
            task_err(t().timeout(Duration::secs(0))),
        ),
        (
            "state `T` HeartbeatSeconds is 0 s",
            task_err(t().heartbeat(Duration::secs(0))),
        ),
        (
            "state `T` HeartbeatSeconds is 10 s; allowed: 1 s to 9 s (less than TimeoutSeconds)",
            task_err(
                t().timeout(Duration::secs(10))
                    .heartbeat(Duration::secs(10)),
            ),
        ),
        (
            "state `T`: a send to a FIFO queue needs a MessageGroupId",
            task_err(Task::send_message("T", &fifo, TaskInput::path("$")).catch_all("Failed")),
        ),
        (
            "state `T`: a `.waitForTaskToken` task must pass the task token",
            task_err(
                Task::send_message_and_wait("T", &q, TaskInput::path("$")).catch_all("Failed"),
            ),
        ),
    ];
    for (needle, msg) in cases {
        assert!(msg.starts_with("S/M: "), "{msg}");
        assert!(msg.contains(needle), "`{needle}` not in `{msg}`");
    }
}

#[test]
fn express_limits() {
    let app = App::new();
    let s = app.stack("S");
    let q = s.queue("Q").build().unwrap();
    let token = TaskInput::object(crate::template::Expr::map([(
        "token.$",
        crate::template::Expr::from(TASK_TOKEN),
    )]));
    let wait = Definition::new("T").state(Task::send_message_and_wait("T", &q, token).end());
    let msg = err_kind(StateMachineKind::Express, wait.clone());
    assert!(
        msg.starts_with("S/M: state `T`: `.waitForTaskToken` is not supported by Express"),
        "{msg}"
    );
    // The same task is fine in a Standard machine.
    s.state_machine("Ok").definition(wait).build().unwrap();

    let child = s
        .state_machine("Child")
        .definition(Definition::new("A").state(pass_end("A")))
        .build()
        .unwrap();
    let sync = Definition::new("T").state(Task::start_execution_sync("T", &child).end());
    assert!(err_kind(StateMachineKind::Express, sync).starts_with("S/M: state `T`: `.sync`"));

    let app = App::new();
    let s = app.stack("S");
    let msg = s
        .state_machine("M")
        .kind(StateMachineKind::Express)
        .timeout(Duration::minutes(6))
        .definition(Definition::new("A").state(pass_end("A")))
        .build()
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "S/M: timeout is 360 s; allowed: 1 s to 300 s for an Express state machine"
    );
}

#[test]
fn builder_limits() {
    let app = App::new();
    let s = app.stack("S");
    let def = || Definition::new("A").state(pass_end("A"));
    let cases = [
        s.state_machine("M").build().unwrap_err().to_string(),
        s.state_machine("M")
            .definition(def())
            .state_machine_name("bad name")
            .build()
            .unwrap_err()
            .to_string(),
        s.state_machine("M")
            .definition(def())
            .timeout(Duration::secs(0))
            .build()
            .unwrap_err()
            .to_string(),
        s.state_machine("M")
            .definition(def())
            .log_retention(Duration::days(2))
            .build()
            .unwrap_err()
            .to_string(),
    ];
    for (needle, msg) in [
        "definition is required",
        "state_machine_name",
        "timeout",
        "log_retention",
    ]
    .iter()
    .zip(cases)
    {
        assert!(msg.starts_with("S/M: ") && msg.contains(needle), "{msg}");
    }
}
