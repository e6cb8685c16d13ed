//! A stack built on resources that exist outside the app: every kind of imported handle in
//! grants, rule targets and an event source.

use ordersctl::constructs::{
    App, Duration, EventBusRef, EventPattern, FunctionRef, KeyRef, QueueEncryption, QueueRef,
    RoleRef, SynthError, TableRef, Target, TopicRef,
};

/// The `Imports` stack.
pub fn imports(app: &App) -> Result<(), SynthError> {
    let stack = app.stack("Imports");
    let orders = QueueRef::from_arn(
        stack,
        "OrdersQueue",
        "arn:aws:sqs:us-east-1:123456789012:orders",
    )?;
    let table = TableRef::from_name(stack, "OrdersTable", "orders")?;
    let archive = TableRef::from_arn(
        stack,
        "ArchiveTable",
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders-archive",
    )?;
    let alerts = TopicRef::from_arn(stack, "Alerts", "arn:aws:sns:us-east-1:123456789012:alerts")?;
    let bus = EventBusRef::from_name(stack, "OrdersBus", "orders")?;
    let audit = FunctionRef::from_arn(
        stack,
        "Audit",
        "arn:aws:lambda:us-east-1:123456789012:function:audit",
    )?;
    let key = KeyRef::from_arn(
        stack,
        "SharedKey",
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )?;
    let deployer = RoleRef::from_arn(
        stack,
        "Deployer",
        "arn:aws:iam::123456789012:role/ci/deployer",
    )?;

    // An event source on an imported queue, grants on imported tables and a key.
    let worker = stack
        .function("Worker")
        .handler_crate("order-processor")
        .timeout(Duration::secs(10))
        .env("TABLE_NAME", table.name())
        .build()?;
    worker
        .consume(&orders)
        .batch_size(10)
        .report_batch_item_failures()
        .max_concurrency(2)
        .build()?;
    table.grant(&worker, &["dynamodb:PutItem"]);
    archive.grant(&worker, &["dynamodb:GetItem"]);
    let dlq = stack
        .queue("RuleDLQ")
        .retention(Duration::days(14))
        .build()?;
    dlq.alarm_not_empty()?;
    // A queue encrypted with an imported key: senders get the key's use.
    let receipts = stack
        .queue("Receipts")
        .encryption(QueueEncryption::Kms(key))
        .dead_letter_queue(&dlq, 3)
        .build()?;
    receipts.grant_send(&worker);

    // A rule on an imported bus, delivering to an imported function and topic.
    stack
        .rule("OrderPlaced")
        .bus(&bus)
        .pattern(
            EventPattern::new()
                .source(["orders"])
                .detail_type(["OrderPlaced"]),
        )
        .target(Target::of(&audit).dead_letter_queue(&dlq))
        .target(Target::of(&alerts).dead_letter_queue(&dlq))
        .build()?;

    // A grant to an imported role: a policy of this stack attached to it.
    orders.grant_send(&deployer);
    worker.grant_invoke(&deployer);
    stack.output("OrdersUrl", orders.url());
    Ok(())
}
