//! This project's stacks. `ordersctl` (or `cargo run --bin infra --`) synthesizes, checks,
//! diffs and deploys them; `cargo test` asserts on them.

use ordersctl::constructs::{App, Attr, Duration, SynthError};

/// Hello: an SQS queue feeds the `hello` function (handlers/hello), which stores each
/// greeting once in a DynamoDB table. A message that keeps failing moves to the dead-letter
/// queue after 3 receives, and an alarm goes off.
pub fn stacks(app: &App) -> Result<(), SynthError> {
    let stack = app.stack("Hello");
    let dlq = stack
        .queue("GreetingsDLQ")
        .retention(Duration::days(14))
        .build()?;
    dlq.alarm_not_empty()?; // someone hears about what lands there (ORD006)
    let queue = stack
        .queue("Greetings")
        .visibility_timeout(Duration::secs(60))
        .dead_letter_queue(&dlq, 3)
        .build()?;
    let greeted = stack
        .table("Greeted")
        .partition_key("name", Attr::String)
        .build()?;
    let hello = stack
        .function("Hello")
        .handler_crate("hello")
        .timeout(Duration::secs(10)) // the queue's 60 s visibility is 6x this (ORD001)
        .env("TABLE_NAME", greeted.name())
        .build()?;
    greeted.grant(&hello, &["dynamodb:PutItem"]);
    hello
        .consume(&queue)
        .batch_size(10)
        .report_batch_item_failures()
        .max_concurrency(2)
        .build()?;
    stack.output("QueueUrl", queue.url());
    Ok(())
}
