//! `order-pipeline`: OrderCreated messages on SQS, processed by a Lambda function into a
//! DynamoDB table; poison messages go to a dead-letter queue after three receives.

use ordersctl::constructs::{App, Attr, Duration, Removal, SynthError};

/// Stack `OrderPipeline`.
pub fn order_pipeline(app: &App) -> Result<(), SynthError> {
    let stack = app.stack("OrderPipeline");
    stack.description("Order pipeline: SQS -> Lambda -> DynamoDB with a dead-letter queue (ordersctl blueprint order-pipeline)");

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
    orders.grant_read_write(&processor);
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
