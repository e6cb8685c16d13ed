//! `OmniServices`: ingest queue and worker, a pipe publishing new orders to the bus, rules
//! routing `OrderCreated` to per-consumer queues, a projector keeping the read model,
//! customer notifications, the fulfillment saga, and alarms on all of it.

use ordersctl::constructs::state_machine::{
    Catch, Definition, Fail, Retry, Succeed, Task, TaskInput, TASK_TOKEN,
};
use ordersctl::constructs::{
    App, Attr, Comparison, Duration, EventPattern, FunctionRef, Match, QueueRef, Removal, Stack,
    StartingPosition, SynthError, Target, TopicRef,
};
use ordersctl::template::{Expr, Parameter};

use super::data::Data;

/// Handles the API stack uses.
pub struct Services<'a> {
    pub ingest_queue: QueueRef<'a>,
}

/// The OrderCreated event's detail: the order's references and lines, not the stored item.
/// Strings are quoted placeholders; the lines list is inserted as it is stored (DynamoDB
/// JSON), which the consumers read with `common::dynamo::untyped`.
const ORDER_CREATED: &str = r#"{"orderId": "<$.dynamodb.NewImage.orderId.S>", "customerId": "<$.dynamodb.NewImage.customerId.S>", "storeId": "<$.dynamodb.NewImage.storeId.S>", "currency": "<$.dynamodb.NewImage.currency.S>", "total": "<$.dynamodb.NewImage.total.N>", "correlationId": "<$.dynamodb.NewImage.correlationId.S>", "createdAt": "<$.dynamodb.NewImage.createdAt.S>", "items": <$.dynamodb.NewImage.items.L>}"#;

/// Alarm when a work queue's oldest message is older than this.
const MAX_MESSAGE_AGE_SECS: f64 = 300.0;

/// Everything that needs an alarm, collected while building.
#[derive(Default)]
struct Watch<'a> {
    dlqs: Vec<QueueRef<'a>>,
    work_queues: Vec<QueueRef<'a>>,
    functions: Vec<FunctionRef<'a>>,
}

pub fn services<'a>(app: &'a App, data: &Data<'a>) -> Result<Services<'a>, SynthError> {
    let stack = app.stack("OmniServices");
    stack.description("Omnichannel order platform: services (ordersctl blueprint omnichannel)");
    super::super::on_call::on_call_topic(stack)?;
    let removal = app.stage().removal();
    let mut watch = Watch::default();

    // Ingest: queue -> OrderIngestWorker, a conditional write into Orders.
    let (ingest_queue, ingest_dlq) = work_queue(stack, "Ingest", removal, Duration::secs(180))?;
    let ingest = stack
        .function("OrderIngestWorker")
        .handler_crate("order-ingest-worker")
        .memory_mb(256)
        .timeout(Duration::secs(30))
        .env("ORDERS_TABLE", data.orders.name())
        .build()?;
    data.orders.grant(&ingest, &["dynamodb:PutItem"]);
    consume(&ingest, &ingest_queue)?;
    watch.dlqs.push(ingest_dlq);
    watch.work_queues.push(ingest_queue);
    watch.functions.push(ingest);

    // New orders on the table stream become OrderCreated events on the bus.
    let pipe_dlq = dlq(stack, "OrderCreatedPipeDLQ", removal)?;
    stack
        .pipe("OrderCreatedPipe")
        .description(
            "New orders (ORDER#/META INSERTs) on Orders -> OrderCreated on lakeside-orders",
        )
        .source_stream(&data.orders, StartingPosition::TrimHorizon)
        // Only a new order's META item: stock and reservation items share the table, and
        // publishing them would start a saga per reservation (a feedback loop).
        .filter(
            EventPattern::new()
                .field("eventName", [Match::from("INSERT")])
                .field("dynamodb.Keys.pk.S", [Match::prefix("ORDER#")])
                .field("dynamodb.Keys.sk.S", [Match::from("META")]),
        )
        .input_template(ORDER_CREATED)
        .target_event_bus(&data.bus, "lakeside.orders", "OrderCreated")
        .max_retry_attempts(10)
        .dead_letter_queue(&pipe_dlq)
        .build()?;
    watch.dlqs.push(pipe_dlq);

    // Each consumer's effect once per order: redeliveries, a duplicate OrderCreated and a replay
    // from the archive find the idempotency record and do nothing again.
    let consumed = stack
        .table("ConsumerIdempotency")
        .partition_key("id", Attr::String)
        .ttl_attribute("expiration")
        .removal(removal)
        .build()?;
    // Fan out OrderCreated to one queue and consumer per downstream system.
    let order_created = || {
        EventPattern::new()
            .source(["lakeside.orders"])
            .detail_type(["OrderCreated"])
    };
    for (name, consumer_kind) in [
        ("Inventory", "inventory"),
        ("Loyalty", "loyalty"),
        ("MarketplaceSync", "marketplace-sync"),
    ] {
        let (queue, queue_dlq) = work_queue(stack, name, removal, Duration::secs(180))?;
        let rule_dlq = dlq(stack, &format!("{name}RuleDLQ"), removal)?;
        stack
            .rule(&format!("{name}Route"))
            .bus(&data.bus)
            .description(&format!("OrderCreated to the {name} queue"))
            .pattern(order_created())
            .target(
                Target::of(&queue)
                    .dead_letter_queue(&rule_dlq)
                    .retry_policy(Duration::hours(2), 20),
            )
            .build()?;
        let consumer = stack
            .function(&format!("{name}Consumer"))
            .handler_crate("order-created-consumer")
            .memory_mb(256)
            .timeout(Duration::secs(30))
            .env("CONSUMER", consumer_kind)
            .env("IDEMPOTENCY_TABLE", consumed.name())
            .build()?;
        consumed.grant(
            &consumer,
            &[
                "dynamodb:PutItem",
                "dynamodb:GetItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            ],
        );
        consume(&consumer, &queue)?;
        watch.dlqs.extend([queue_dlq, rule_dlq]);
        watch.work_queues.push(queue);
        watch.functions.push(consumer);
    }

    // The projector keeps OrderStatusView in step with Orders.
    let projector_dlq = dlq(stack, "ProjectorDLQ", removal)?;
    let projector = stack
        .function("StatusProjector")
        .handler_crate("status-projector")
        .memory_mb(256)
        .timeout(Duration::secs(30))
        .env("STATUS_VIEW_TABLE", data.status_view.name())
        .build()?;
    data.status_view.grant(&projector, &["dynamodb:PutItem"]);
    projector
        .consume_stream(&data.orders, StartingPosition::TrimHorizon)
        .batch_size(100)
        .bisect_on_error()
        .max_retry_attempts(5)
        .report_batch_item_failures()
        .on_failure(&projector_dlq)
        .build()?;
    watch.dlqs.push(projector_dlq);
    watch.functions.push(projector);

    let undelivered = dlq(stack, "NotificationsUndeliveredDLQ", removal)?;
    watch.dlqs.push(undelivered);
    let customers = notifications(stack, &undelivered)?;
    saga(
        stack,
        data,
        &customers,
        removal,
        &order_created(),
        &mut watch,
    )?;
    let analytics_dlq = dlq(stack, "AnalyticsRuleDLQ", removal)?;
    super::analytics::analytics(stack, &data.bus, removal, &analytics_dlq)?;
    watch.dlqs.push(analytics_dlq);
    alarms(stack, &watch)?;

    stack
        .output("IngestQueueUrl", ingest_queue.url())
        .description("URL of the order ingest queue");
    Ok(Services { ingest_queue })
}

fn dlq<'a>(stack: &'a Stack, id: &str, removal: Removal) -> Result<QueueRef<'a>, SynthError> {
    stack
        .queue(id)
        .retention(Duration::days(14))
        .removal(removal)
        .build()
}

/// A work queue `<name>Queue` with its own dead-letter queue `<name>DLQ` (3 receives).
fn work_queue<'a>(
    stack: &'a Stack,
    name: &str,
    removal: Removal,
    visibility: Duration,
) -> Result<(QueueRef<'a>, QueueRef<'a>), SynthError> {
    let dead = dlq(stack, &format!("{name}DLQ"), removal)?;
    let queue = stack
        .queue(&format!("{name}Queue"))
        .visibility_timeout(visibility)
        .retention(Duration::days(4))
        .dead_letter_queue(&dead, 3)
        .removal(removal)
        .build()?;
    Ok((queue, dead))
}

/// The consumer settings every queue in this platform uses.
fn consume<'a>(f: &FunctionRef<'a>, q: &QueueRef<'a>) -> Result<(), SynthError> {
    f.consume(q)
        .batch_size(10)
        .max_batching_window(Duration::secs(5))
        .report_batch_item_failures()
        .max_concurrency(20)
        .build()
        .map(|_| ())
}

/// SNS `CustomerNotifications` with email and SMS subscribers, each filtered by channel.
/// What SNS cannot deliver (an address that bounces, a blocked number) lands in `undelivered`.
fn notifications<'a>(
    stack: &'a Stack,
    undelivered: &QueueRef<'a>,
) -> Result<TopicRef<'a>, SynthError> {
    let mut email = Parameter::new("String");
    email.description = Some("Address receiving order notifications by email".into());
    let email = stack.parameter("NotificationEmail", email)?;
    let mut phone = Parameter::new("String");
    phone.description =
        Some("Phone number (E.164) receiving urgent order notifications by SMS".into());
    let phone = stack.parameter("NotificationPhone", phone)?;
    let topic = stack.topic("CustomerNotifications").build()?;
    topic
        .subscribe_email(email)
        .dead_letter_queue(undelivered)
        .filter_policy(EventPattern::new().field("channel", [Match::from("email")]))
        .build()?;
    topic
        .subscribe_sms(phone)
        .dead_letter_queue(undelivered)
        .filter_policy(
            EventPattern::new()
                .field("channel", [Match::from("sms")])
                .field("priority", [Match::from("urgent")]),
        )
        .build()?;
    Ok(topic)
}

/// Reserve -> Pay -> Allocate -> Ship, compensating with Refund and ReleaseStock.
fn saga<'a>(
    stack: &'a Stack,
    data: &Data<'a>,
    customers: &TopicRef<'a>,
    removal: Removal,
    order_created: &EventPattern,
    watch: &mut Watch<'a>,
) -> Result<(), SynthError> {
    let step = |id: &str, krate: &str, action: &str| {
        let f = stack
            .function(id)
            .handler_crate(krate)
            .memory_mb(256)
            .timeout(Duration::secs(15))
            .env("ACTION", action);
        // The inventory steps keep stock in the orders table (single-table layout).
        if krate == "inventory" {
            f.env("ORDERS_TABLE", data.orders.name()).build()
        } else {
            f.build()
        }
    };
    let reserve = step("SagaReserve", "inventory", "reserve")?;
    let release = step("SagaReleaseStock", "inventory", "release")?;
    let pay = step("SagaPay", "saga-step", "charge")?;
    let refund = step("SagaRefund", "saga-step", "refund")?;
    let allocate = step("SagaAllocate", "saga-step", "allocate")?;
    let ship = step("SagaShip", "saga-step", "ship")?;
    // The store confirms it has picked the order (a person with a handheld): the saga waits
    // on a task token, at most 4 hours; the store app answers SendTaskSuccess/Failure.
    let (store_tasks, store_tasks_dlq) =
        work_queue(stack, "StoreTasks", removal, Duration::secs(60))?;
    watch.dlqs.push(store_tasks_dlq);
    data.orders
        .grant(&reserve, &["dynamodb:UpdateItem", "dynamodb:PutItem"]);
    data.orders.grant(
        &release,
        &[
            "dynamodb:GetItem",
            "dynamodb:DeleteItem",
            "dynamodb:UpdateItem",
        ],
    );
    watch
        .functions
        .extend([reserve, release, pay, refund, allocate, ship]);

    // A business answer is final (the first matching retrier never retries); technical
    // failures are retried with backoff.
    let business = || {
        Retry::on([
            "OutOfStock",
            "PaymentDeclined",
            "ShipmentFailed",
            "InvalidInput",
        ])
        .max_attempts(0)
    };
    let retry = || {
        Retry::on(["States.TaskFailed"])
            .interval(Duration::secs(2))
            .max_attempts(3)
            .backoff_rate(2.0)
    };
    let task = |name: &str, f: &FunctionRef<'_>, on_error: &str, next: &str| {
        Task::invoke(name, f)
            .result_path(&format!("$.{}", name.to_ascii_lowercase()))
            .retry(business())
            .retry(Retry::lambda_transient())
            .retry(retry())
            .catch_all(on_error)
            .next(next)
    };
    // The read model follows the saga: each outcome is written on the order's META item
    // (a MODIFY, which the projector takes and the pipe's INSERT filter does not), guarded so
    // a late step cannot overwrite the other outcome and a missing order is not created.
    let mark = |name: &str, status: &str, condition: &str, operand: (&str, &str)| {
        super::super::order_status::set_order_status(name, &data.orders, status, condition, operand)
            .retry(retry())
            .catch_all("Failed")
    };
    let notification = TaskInput::object(Expr::map([
        ("orderId.$", Expr::from("$.detail.orderId")),
        ("customerId.$", Expr::from("$.detail.customerId")),
        ("status", Expr::from("FULFILLED")),
        ("correlationId.$", Expr::from("$.detail.correlationId")),
    ]));
    let definition = Definition::new("Reserve")
        .comment("Omnichannel fulfillment: Reserve -> Pay -> Allocate -> Ship with compensation")
        .state(
            Task::invoke("Reserve", &reserve)
                .result_path("$.reserve")
                .retry(business())
                .retry(Retry::lambda_transient())
                .retry(retry())
                // Nothing in stock: nothing to undo.
                .catch(Catch::on(["OutOfStock"], "MarkCancelled").result_path("$.error"))
                .catch_all("Failed")
                .next("Pay"),
        )
        .state(task("Pay", &pay, "ReleaseStock", "Allocate"))
        .state(task("Allocate", &allocate, "Refund", "ConfirmWithStore"))
        .state(
            Task::send_message_and_wait(
                "ConfirmWithStore",
                &store_tasks,
                TaskInput::object(Expr::map([
                    ("orderId.$", Expr::from("$.detail.orderId")),
                    ("storeId.$", Expr::from("$.detail.storeId")),
                    ("items.$", Expr::from("$.detail.items")),
                    ("correlationId.$", Expr::from("$.detail.correlationId")),
                    ("taskToken.$", Expr::from(TASK_TOKEN)),
                ])),
            )
            .timeout(Duration::hours(4))
            .result_path("$.storeConfirmation")
            .retry(
                Retry::on(["SQS.SdkClientException", "SQS.AmazonSQSException"])
                    .interval(Duration::secs(2))
                    .max_attempts(3)
                    .backoff_rate(2.0),
            )
            // The store could not pick it (or did not answer in time): undo the payment
            // and the reservation.
            .catch_all("Refund")
            .next("Ship"),
        )
        .state(task("Ship", &ship, "Refund", "MarkFulfilled"))
        .state(
            mark(
                "MarkFulfilled",
                "FULFILLED",
                "#status = :created",
                (":created", "CREATED"),
            )
            .next("NotifyCustomer"),
        )
        // The customer hears of it through CustomerNotifications (the e-mail channel); the
        // order is fulfilled either way.
        .state(
            Task::publish("NotifyCustomer", customers, notification)
                .message_attribute("channel", "email")
                .result_path("$.notification")
                .retry(
                    Retry::all()
                        .interval(Duration::secs(2))
                        .max_attempts(3)
                        .backoff_rate(2.0),
                )
                .catch_all("Fulfilled")
                .next("Fulfilled"),
        )
        .state(Succeed::new("Fulfilled"))
        .state(task("Refund", &refund, "Failed", "ReleaseStock"))
        .state(task("ReleaseStock", &release, "Failed", "MarkCancelled"))
        .state(
            mark(
                "MarkCancelled",
                "CANCELLED",
                "attribute_exists(pk) AND #status <> :fulfilled",
                (":fulfilled", "FULFILLED"),
            )
            .next("Cancelled"),
        )
        // A cancellation is a business outcome: the execution succeeds, and
        // FulfillmentSagaFailed counts only what needs a human.
        .state(Succeed::new("Cancelled"))
        .state(
            Fail::new("Failed")
                .error("FulfillmentFailed")
                .cause("The order could not be fulfilled or compensated; reconcile it"),
        );
    let saga = stack
        .state_machine("FulfillmentSaga")
        .definition(definition)
        .timeout(Duration::hours(24))
        .build()?;
    let start_dlq = dlq(stack, "SagaStartDLQ", removal)?;
    stack
        .rule("StartSaga")
        .bus(&data.bus)
        .description("OrderCreated starts the fulfillment saga")
        .pattern(order_created.clone())
        .target(
            Target::of(&saga)
                .dead_letter_queue(&start_dlq)
                .retry_policy(Duration::hours(2), 20),
        )
        .build()?;
    watch.dlqs.push(start_dlq);
    stack
        .alarm("FulfillmentSagaFailed")
        .description("Fulfillment saga executions failed")
        .metric(saga.metric_executions_failed())
        .threshold(0.0, Comparison::GreaterThan)
        .build()?;
    Ok(())
}

/// Every DLQ not empty, every work queue falling behind, every function erroring.
fn alarms(stack: &Stack, watch: &Watch<'_>) -> Result<(), SynthError> {
    for q in &watch.dlqs {
        q.alarm_not_empty()?;
    }
    for q in &watch.work_queues {
        stack
            .alarm(&format!("{}Backlog", q.logical_id()))
            .description("The oldest message has waited more than 5 minutes")
            .metric(q.metric_age_of_oldest_message())
            .threshold(MAX_MESSAGE_AGE_SECS, Comparison::GreaterThan)
            .evaluation_periods(3)
            .build()?;
    }
    for f in &watch.functions {
        stack
            .alarm(&format!("{}Errors", f.logical_id()))
            .description("The function reported errors")
            .metric(f.metric_errors())
            .threshold(0.0, Comparison::GreaterThan)
            .build()?;
    }
    Ok(())
}
