//! A user's own app, deployed to moto and diffed against its previous assembly.
//!
//! This file is both the app and its test (a `harness = false` test): called with
//! `USER_APP_MODE=app`, `main` is exactly what a platform team writes,
//! `ordersctl::cli::main(stacks)`; otherwise it runs the scenario, calling itself as the app.
//! `USER_APP_VARIANT=2` is the app's next revision: a longer visibility timeout, a new topic.

use std::process::{Command, ExitCode, Output};

use moto_harness::MotoServer;
use ordersctl::constructs::{App, Attr, Duration, SynthError};

fn stacks(app: &App) -> Result<(), SynthError> {
    let next = std::env::var("USER_APP_VARIANT").as_deref() == Ok("2");
    let stack = app.stack("Notes");
    let dlq = stack
        .queue("NotesDLQ")
        .retention(Duration::days(14))
        .build()?;
    dlq.alarm_not_empty()?;
    let queue = stack
        .queue("Notes")
        .visibility_timeout(Duration::secs(if next { 90 } else { 60 }))
        .dead_letter_queue(&dlq, 3)
        .build()?;
    stack
        .table("NotesTable")
        .partition_key("noteId", Attr::String)
        .build()?;
    if next {
        stack.topic("NoteEvents").build()?;
    }
    stack.output("NotesUrl", queue.url());
    Ok(())
}

fn main() -> ExitCode {
    if std::env::var("USER_APP_MODE").as_deref() == Ok("app") {
        return ordersctl::cli::main(stacks);
    }
    // `cargo test` passes harness flags (--nocapture, filters): this scenario takes none.
    scenario();
    println!("test user_app_deploys_and_diffs_against_its_previous_assembly ... ok");
    ExitCode::SUCCESS
}

/// Run the app (this binary) with `args`, as revision `variant`, against moto.
fn app(moto: &MotoServer, dir: &std::path::Path, variant: &str, args: &[&str]) -> Output {
    let o = Command::new(std::env::current_exe().unwrap())
        .args(args)
        .env("USER_APP_MODE", "app")
        .env("USER_APP_VARIANT", variant)
        .envs(moto.env())
        .current_dir(dir)
        .output()
        .expect("run the app");
    eprintln!(
        "$ app {} (variant {variant}) -> {:?}\n{}",
        args.join(" "),
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn scenario() {
    let moto = MotoServer::start();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    // The project's own settings file, as `ordersctl init` writes one (no handlers needed).
    std::fs::write(dir.join("ordersctl.toml"), "stage = \"dev\"\n").unwrap();

    // The program says what it is: its own name, the library's version, no `init`.
    let o = app(&moto, dir, "1", &["--version"]);
    assert!(stdout(&o).contains("(ordersctl "), "{}", stdout(&o));
    let o = app(&moto, dir, "1", &["--help"]);
    assert!(
        stdout(&o).contains("this program's stacks") && !stdout(&o).contains("\n  init"),
        "{}",
        stdout(&o)
    );

    assert!(app(&moto, dir, "1", &["bootstrap"]).status.success());
    let o = app(
        &moto,
        dir,
        "1",
        // Direct (CreateStack): moto gives no Outputs to stacks made by change sets
        // (LOCAL-AWS.md), and the output is how the queue is found.
        &[
            "deploy",
            "--all",
            "--yes",
            "--method",
            "direct",
            "--out",
            "v1",
            "--outputs-file",
            "outputs.json",
        ],
    );
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("Notes: deployed"));
    assert!(dir.join("v1/Notes.template.json").is_file());

    // What exists, through the SQS API: the queue the stack's output names, with revision
    // 1's timeout.
    let outputs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("outputs.json")).unwrap()).unwrap();
    let url = outputs["Notes"]["NotesUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("no NotesUrl output: {outputs}"))
        .to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let visibility = |moto: &MotoServer| {
        rt.block_on(async {
            let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(moto.endpoint())
                .region(aws_config::Region::new(moto_harness::REGION))
                .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                    "testing", "testing", None, None, "test",
                ))
                .load()
                .await;
            let sqs = aws_sdk_sqs::Client::new(&config);
            let attrs = sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout)
                .send()
                .await
                .unwrap();
            attrs.attributes.unwrap()[&aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout]
                .clone()
        })
    };
    assert_eq!(visibility(&moto), "60");

    // Revision 2 against the previous assembly, offline: the changes, and exit code 2.
    let o = app(&moto, dir, "2", &["diff", "--against", "v1", "--exit-code"]);
    assert_eq!(o.status.code(), Some(2));
    let text = stdout(&o);
    assert!(
        text.contains("VisibilityTimeout") && text.contains("60") && text.contains("90"),
        "{text}"
    );
    assert!(text.contains("NoteEvents"), "{text}");
    assert!(text.contains("Notes: 1 to add, 1 to change"), "{text}");
    // The same against what is deployed (GetTemplate).
    let o = app(
        &moto,
        dir,
        "2",
        &["diff", "--exit-code", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let actions: Vec<&str> = json["stacks"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"add") && actions.contains(&"modify"),
        "{json}"
    );
    // Revision 1 against itself: nothing.
    let o = app(&moto, dir, "1", &["diff", "--against", "v1", "--exit-code"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // Deploy revision 2; then nothing differs from what is deployed.
    assert!(app(
        &moto,
        dir,
        "2",
        &["deploy", "--all", "--yes", "--out", "v2"]
    )
    .status
    .success());
    assert_eq!(visibility(&moto), "90");
    let o = app(&moto, dir, "2", &["diff", "--exit-code"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(app(&moto, dir, "2", &["destroy", "--all", "--force"])
        .status
        .success());
}
