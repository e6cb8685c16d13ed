//! `order-pipeline`: OrderCreated messages on SQS, processed by a Lambda function into a
//! DynamoDB table; poison messages go to a dead-letter queue after three receives.
//!
//! Seed 001 (SQS -> Lambda -> DynamoDB), element by element. Scenario test:
//! `tests/local_moto/order_pipeline.rs` (`order_pipeline_stores_an_order_once_...`, "scenario").
//!
//! - [x] Standard queue, 7 days' retention; DLQ, 14 days, `maxReceiveCount` 3: `order_pipeline`
//!   (`OrderCreatedQueue`, `OrderCreatedDLQ`); checks ORD003-ORD005; scenario (redrive after 3).
//! - [x] Batch 10, 5 s window, partial batch responses: `processor.consume(..)`; handler
//!   `order_processor::handle`; scenario (the poison messages' batch-mates stored once).
//! - [x] Idempotent store, `attribute_not_exists(orderId)`, duplicate skipped not failed:
//!   `order_processor::process_record`; `handlers/order-processor/tests/moto.rs`; scenario.
//! - [x] `createdAt` required: it is the sort key, so one resend without it would be a second
//!   order: `order_processor::parse_order`; moto test `poison_records_...`; scenario (o-3).
//! - [x] `ttl` 90 days ahead, TTL enabled on the table: `RETENTION_SECS`, `.ttl_attribute`;
//!   scenario (DescribeTimeToLive ENABLED, each item's ttl).
//! - [x] Keys `orderId` + `createdAt`, GSI `CustomerIndex`, on-demand, PITR: `orders` builder;
//!   snapshot `snapshots/OrderPipeline.template.json.snap`.
//! - [x] DLQ depth alarm, paging the stack's on-call topic: `alarm_not_empty`,
//!   `on_call::on_call_topic`; snapshot.
//! - [x] Least privilege: only `dynamodb:PutItem` (the crate's contract,
//!   `handlers/order-processor/Cargo.toml`); ORD026 at every synth; scenario (0 denied calls).
//! - [x] Client built once, JSON logs with the correlation ID: `handlers/order-processor/src/main.rs`.
//! - Departures, each for an AWS rule the seed breaks or a resource the seed does not use:
//!   the function timeout is 10 s, not 30 s (visibility 60 s = 6x the timeout, ORD001); the
//!   handler is Rust on `provided.al2023`; `DLQ_URL` and the DLQ send grant are left out (the
//!   seed's handler never sends: SQS redrives by itself); concurrency is bounded by the event
//!   source's `max_concurrency` rather than reserved concurrency.
//! - Not built: Lambda error-rate, p99 duration and DynamoDB throttle alarms (the DSL has no
//!   percentile statistic yet).

use ordersctl::constructs::{App, Attr, Duration, Removal, SynthError};

/// Stack `OrderPipeline`.
pub fn order_pipeline(app: &App) -> Result<(), SynthError> {
    // The handlers/ crates log IDs and statuses only, hold no secrets in their environment
    // and call AWS APIs alone: the scanner exceptions that follow are recorded.
    app.assure_handlers();
    let stack = app.stack("OrderPipeline");
    stack.description("Order pipeline: SQS -> Lambda -> DynamoDB with a dead-letter queue (ordersctl blueprint order-pipeline)");
    super::on_call::on_call_topic(stack)?;

    let dlq = stack
        .queue("OrderCreatedDLQ")
        .queue_name("OrderCreatedDLQ")
        .retention(Duration::days(14))
        .build()?;
    let queue = stack
        .queue("OrderCreatedQueue")
        .queue_name("OrderCreatedQueue")
        .visibility_timeout(Duration::secs(60))
        .retention(Duration::days(7))
        .dead_letter_queue(&dlq, 3)
        .build()?;
    let orders = stack
        .table("Orders")
        .table_name("Orders")
        .partition_key("orderId", Attr::String)
        .sort_key("createdAt", Attr::String)
        .global_index(
            "CustomerIndex",
            ("customerId", Attr::String),
            Some(("createdAt", Attr::String)),
        )
        // The handler stamps `ttl` 90 days ahead; TTL deletes expired orders at no cost.
        .ttl_attribute("ttl")
        .removal(Removal::Destroy)
        .build()?;
    let processor = stack
        .function("OrderProcessor")
        .function_name("OrderProcessor")
        .handler_crate("order-processor")
        .memory_mb(256)
        // One batch of at most 10 conditional writes: 10 s is ample, and keeps the queue's
        // 60 s visibility timeout at the 6x AWS recommends (check ORD001).
        .timeout(Duration::secs(10))
        .env("TABLE_NAME", orders.name())
        .build()?;
    // Exactly what the order-processor crate declares (its Cargo.toml): the conditional put.
    orders.grant(&processor, &["dynamodb:PutItem"]);
    processor
        .consume(&queue)
        .batch_size(10)
        .max_batching_window(Duration::secs(5))
        .report_batch_item_failures()
        // A backlog drains at most 10 batches at a time: the table sees a bounded write rate.
        .max_concurrency(10)
        .build()?;
    dlq.alarm_not_empty()?;

    stack
        .output("QueueUrl", queue.url())
        .description("URL of the OrderCreated SQS queue");
    stack
        .output("TableName", orders.name())
        .description("Name of the Orders DynamoDB table");
    stack
        .output("DLQUrl", dlq.url())
        .description("URL of the OrderCreated dead-letter queue");
    Ok(())
}
