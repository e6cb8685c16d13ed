//! `fulfillment-saga`: HTTP ingress, an event bus, a payment queue worker, notifications
//! over SNS -> SQS, and a Step Functions saga that reserves inventory, waits for approval of
//! large orders, charges payment and compensates (release, cancel) on failure.
//!
//! Seed 002, element by element. Scenario test: `tests/local_moto/order_saga.rs`
//! (`order_saga_fulfils_approves_rejects_times_out_and_compensates`, "scenario").
//!
//! - [x] POST /orders behind a JWT authorizer and throttles, 202 with a status URL; 401
//!   without a token: `OrdersApi`, handler `order_ingest::handle`; scenario.
//! - [x] Idempotent accept (Idempotency-Key, conditional put), correlation ID stamped and
//!   carried in the event: `order_ingest::submit`; `handlers/order-ingest/tests`.
//! - [x] GET /orders/{id} reads the order the saga updates: `OrderStatusReader`
//!   (`order_status_reader::Source::Orders`); scenario (FULFILLED, CANCELLED, 404).
//! - [x] Custom bus; OrderPlaced to the payment queue and the saga, each with a target DLQ and
//!   retry policy: `OrderPlacedToPayment`, `StartFulfillmentSaga`; scenario (rules matched).
//! - [x] Every event archived 30 days for replay: `OrdersArchive`; scenario (archive hops).
//! - [x] Payment queue: visibility 6x the timeout, DLQ (5 receives, 14 days), partial batch
//!   responses, max concurrency: `PaymentQueue`, `payment_worker.consume`; scenario.
//! - [x] Saga: reserve -> approval (orders over `APPROVAL_THRESHOLD`) -> charge -> FULFILLED
//!   -> notify; stock decremented once: `saga`; scenario (ord-1001, ord-1002).
//! - [x] Any answer but approval (SendTaskFailure with any error, the 24 h timeout) releases
//!   the stock and cancels: `AwaitApproval` `.catch_all`; scenario (ord-1003, ord-1004 after
//!   `advance PT25H` on the engine clock).
//! - [x] Payment failure compensates in reverse order (release, then cancel); a release that
//!   keeps failing still cancels, then fails as `StockNotReleased`: `ReleaseInventory`,
//!   `StockReleased`; scenario (ord-1005: Reserve, Await, Charge failed, Release, Cancel;
//!   ord-1007: the release crashes 4 times, the order is cancelled, the execution fails).
//! - [x] Business errors (OutOfStock, PaymentDeclined) are not retried, technical ones are
//!   with backoff: `business`, `task_failed`; scenario (ord-1006: one reserve, then cancel).
//! - [x] Guarded status writes: FULFILLED only over ACCEPTED, CANCELLED only on an existing,
//!   unfulfilled order: `set_status` condition expressions; snapshot.
//! - [x] Customer notified through SNS, filtered on channel and tier, raw delivery to the
//!   e-mail queue and its notifier: `NotifyCustomer` (`Task::publish`), `EmailQueue`
//!   subscription; scenario (gold delivered, standard filtered, notifier once).
//! - [x] Stream -> OrderStatusChanged events (outbox): `OrderStreamPublisher`; scenario.
//! - [x] Alarms that page (`on_call::on_call_topic`): every DLQ, queue message age, function
//!   errors, the stream's IteratorAge, rules' FailedInvocations, ExecutionsFailed (quiet for
//!   business cancellations: `Cancelled` is a Succeed state); snapshot; scenario (only
//!   StockNotReleased fails an execution).
//! - [x] Least privilege from the crates' contracts (ORD024-ORD026); scenario (0 denied).
//! - Open (needs an issue): PaymentWorker charges on OrderPlaced as well as the saga's
//!   ChargePayment (two charges, no refund on cancel); nothing reads ApprovalsQueue (the
//!   approver is outside the stack); no jitter on retries.
//! - [x] Correlation and tracing across hops: the payment worker reads the ID EventBridge puts
//!   in the body (`common::correlation::from_sqs`); PutEvents carries the invocation's X-Ray
//!   trace header (`common::correlation::trace_header`).

use ordersctl::constructs::state_machine::{
    Catch, Choice, Condition, Definition, Fail, Retry, Succeed, Task, TaskInput, TASK_TOKEN,
};
use ordersctl::constructs::{
    App, Attr, Comparison, Duration, EventPattern, HttpMethod, Match, Metric, Removal, Stack,
    StartingPosition, Statistic, StreamView, SynthError, Target, Throttle,
};
use ordersctl::template::{Expr, Parameter};

/// Orders above this total wait for a human approval.
const APPROVAL_THRESHOLD: f64 = 1000.0;

/// Stack `OrderSaga`.
pub fn fulfillment_saga(app: &App) -> Result<(), SynthError> {
    // The handlers/ crates log IDs and statuses only, hold no secrets in their environment
    // and call AWS APIs alone: the scanner exceptions that follow are recorded.
    app.assure_handlers();
    let stack = app.stack("OrderSaga");
    stack.description("Order fulfillment saga with HTTP ingress, payments, notifications and compensation (ordersctl blueprint fulfillment-saga)");
    let removal = app.stage().removal();
    super::on_call::on_call_topic(stack)?;

    let mut issuer = Parameter::new("String");
    issuer.description = Some("JWT issuer URL of the identity provider".into());
    let issuer = stack.parameter("JwtIssuer", issuer)?;
    let mut audience = Parameter::new("String");
    audience.description = Some("JWT audience (client ID) the API accepts".into());
    let audience = stack.parameter("JwtAudience", audience)?;

    let bus = stack
        .event_bus("OrdersBus")
        .bus_name("orders-bus")
        .build()?;
    let orders = stack
        .table("Orders")
        .partition_key("pk", Attr::String)
        .sort_key("sk", Attr::String)
        .stream(StreamView::NewAndOldImages)
        .removal(removal)
        .build()?;
    let inventory = stack
        .table("Inventory")
        .partition_key("pk", Attr::String)
        .removal(removal)
        .build()?;
    let idempotency = stack
        .table("IdempotencyTable")
        .partition_key("id", Attr::String)
        .ttl_attribute("expiration")
        .removal(removal)
        .build()?;

    // HTTP ingress: POST /orders -> OrderIngest, which stores the order and emits OrderPlaced.
    let ingest = stack
        .function("OrderIngest")
        .handler_crate("order-ingest")
        .memory_mb(256)
        .timeout(Duration::secs(10))
        .env("ORDERS_TABLE", orders.name())
        .env("IDEMPOTENCY_TABLE", idempotency.name())
        .env("EVENT_BUS_NAME", bus.name())
        .build()?;
    orders.grant(&ingest, &["dynamodb:PutItem"]);
    idempotency.grant(
        &ingest,
        &[
            "dynamodb:PutItem",
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ],
    );
    bus.grant_put_events(&ingest);
    let api = stack
        .http_api("OrdersApi")
        .api_name("orders-api")
        .jwt_authorizer(issuer, [audience])
        .throttle(Throttle {
            burst: 200,
            rate: 100.0,
        })
        .build()?;
    api.route(HttpMethod::Post, "/orders")
        .function(&ingest)
        .throttle(Throttle {
            burst: 100,
            rate: 50.0,
        })
        .build()?;
    // GET /orders/{id}: the status URL the 202 answers with, read from the order item the
    // saga updates at each transition.
    let status_reader = stack
        .function("OrderStatusReader")
        .handler_crate("order-status-reader")
        .memory_mb(256)
        .timeout(Duration::secs(5))
        .env("ORDERS_TABLE", orders.name())
        .build()?;
    orders.grant(&status_reader, &["dynamodb:GetItem"]);
    api.route(HttpMethod::Get, "/orders/{id}")
        .function(&status_reader)
        .build()?;
    // Every event on the bus is kept 30 days, to replay after a consumer's bug is fixed.
    stack
        .archive("OrdersArchive")
        .source(&bus)
        .retention(Duration::days(30))
        .description("Every orders-bus event, for replay")
        .build()?;

    // Payments: OrderPlaced -> PaymentQueue -> PaymentWorker.
    let payment_dlq = stack
        .queue("PaymentDLQ")
        .retention(Duration::days(14))
        .removal(removal)
        .build()?;
    let payment_queue = stack
        .queue("PaymentQueue")
        .visibility_timeout(Duration::secs(90))
        .dead_letter_queue(&payment_dlq, 5)
        .removal(removal)
        .build()?;
    let payment_rule_dlq = stack
        .queue("PaymentRuleDLQ")
        .retention(Duration::days(14))
        .removal(removal)
        .build()?;
    let order_placed = || {
        EventPattern::new()
            .source(["orders.api"])
            .detail_type(["OrderPlaced"])
    };
    stack
        .rule("OrderPlacedToPayment")
        .rule_name("OrderPlacedToPayment")
        .bus(&bus)
        .description("OrderPlaced events to the payment queue")
        .pattern(order_placed())
        .target(
            Target::of(&payment_queue)
                .dead_letter_queue(&payment_rule_dlq)
                .retry_policy(Duration::hours(1), 10),
        )
        .build()?;
    let payment_worker = stack
        .function("PaymentWorker")
        .handler_crate("payment-worker")
        .memory_mb(256)
        .timeout(Duration::secs(15))
        .env("ORDERS_TABLE", orders.name())
        .env("IDEMPOTENCY_TABLE", idempotency.name())
        .build()?;
    orders.grant(&payment_worker, &["dynamodb:UpdateItem"]);
    idempotency.grant(
        &payment_worker,
        &[
            "dynamodb:PutItem",
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ],
    );
    payment_worker
        .consume(&payment_queue)
        .batch_size(10)
        .report_batch_item_failures()
        .max_concurrency(20)
        .build()?;

    // Notifications: NotificationsTopic -> EmailQueue (gold and platinum email only) -> Notifier.
    let topic = stack.topic("NotificationsTopic").build()?;
    let email_dlq = stack
        .queue("EmailDLQ")
        .retention(Duration::days(14))
        .removal(removal)
        .build()?;
    let email_queue = stack
        .queue("EmailQueue")
        .visibility_timeout(Duration::secs(60))
        .dead_letter_queue(&email_dlq, 3)
        .removal(removal)
        .build()?;
    // What SNS cannot deliver to the queue (a policy or KMS mistake) is kept, not dropped.
    let undelivered = stack
        .queue("NotificationsUndeliveredDLQ")
        .retention(Duration::days(14))
        .removal(removal)
        .build()?;
    undelivered.alarm_not_empty()?;
    topic
        .subscribe_queue(&email_queue)
        .dead_letter_queue(&undelivered)
        .raw_message_delivery()
        .filter_policy(
            EventPattern::new()
                .field("channel", [Match::from("email")])
                .field("tier", [Match::from("gold"), Match::from("platinum")]),
        )
        .build()?;
    let notifier = stack
        .function("Notifier")
        .handler_crate("notifier")
        .memory_mb(256)
        .timeout(Duration::secs(10))
        .build()?;
    notifier
        .consume(&email_queue)
        .batch_size(10)
        .report_batch_item_failures()
        .build()?;

    // Order changes on the table stream become OrderStatusChanged events.
    let stream_dlq = stack
        .queue("OrderStreamDLQ")
        .retention(Duration::days(14))
        .removal(removal)
        .build()?;
    let publisher = stack
        .function("OrderStreamPublisher")
        .handler_crate("stream-publisher")
        .memory_mb(256)
        .timeout(Duration::secs(30))
        .env("EVENT_BUS_NAME", bus.name())
        .build()?;
    bus.grant_put_events(&publisher);
    publisher
        .consume_stream(&orders, StartingPosition::TrimHorizon)
        .batch_size(100)
        .bisect_on_error()
        .max_retry_attempts(3)
        .on_failure(&stream_dlq)
        .report_batch_item_failures()
        .build()?;

    saga(
        stack,
        removal,
        &bus,
        &orders,
        &inventory,
        &topic,
        &order_placed(),
    )?;

    for q in [&payment_dlq, &payment_rule_dlq, &email_dlq, &stream_dlq] {
        q.alarm_not_empty()?;
    }
    // The seed's operational alarms: work waiting too long, functions erroring, the stream
    // reader falling behind, rules failing to deliver.
    for q in [&payment_queue, &email_queue] {
        stack
            .alarm(&format!("{}Backlog", q.logical_id()))
            .description("The oldest message has waited more than 5 minutes")
            .metric(q.metric_age_of_oldest_message())
            .threshold(300.0, Comparison::GreaterThan)
            .evaluation_periods(3)
            .build()?;
    }
    for f in [
        &ingest,
        &status_reader,
        &payment_worker,
        &notifier,
        &publisher,
    ] {
        stack
            .alarm(&format!("{}Errors", f.logical_id()))
            .description("The function reported errors")
            .metric(f.metric_errors())
            .threshold(0.0, Comparison::GreaterThan)
            .build()?;
    }
    stack
        .alarm("OrderStreamPublisherIteratorAge")
        .description("The stream publisher is more than a minute behind the orders table")
        .metric(
            Metric::new(
                "AWS/Lambda",
                "IteratorAge",
                vec![("FunctionName".into(), publisher.name())],
            )
            .statistic(Statistic::Maximum),
        )
        .threshold(60_000.0, Comparison::GreaterThan)
        .evaluation_periods(3)
        .build()?;
    for rule in ["OrderPlacedToPayment", "StartFulfillmentSaga"] {
        stack
            .alarm(&format!("{rule}FailedInvocations"))
            .description("The rule could not deliver events to its target")
            .metric(Metric::new(
                "AWS/Events",
                "FailedInvocations",
                vec![
                    ("EventBusName".into(), Expr::from("orders-bus")),
                    ("RuleName".into(), Expr::from(rule)),
                ],
            ))
            .threshold(0.0, Comparison::GreaterThan)
            .build()?;
    }

    stack
        .output("ApiUrl", api.url())
        .description("Endpoint of the orders HTTP API");
    stack
        .output("EventBusName", bus.name())
        .description("Name of the orders event bus");
    stack
        .output("NotificationsTopicArn", topic.arn())
        .description("Topic for customer notifications");
    Ok(())
}

/// The FulfillmentSaga state machine and the rule that starts it on OrderPlaced.
fn saga<'a>(
    stack: &'a Stack,
    removal: Removal,
    bus: &ordersctl::constructs::EventBusRef<'a>,
    orders: &ordersctl::constructs::TableRef<'a>,
    inventory: &ordersctl::constructs::TableRef<'a>,
    topic: &ordersctl::constructs::TopicRef<'a>,
    order_placed: &EventPattern,
) -> Result<(), SynthError> {
    let step = |id: &str, krate: &str, action: &str| {
        stack
            .function(id)
            .handler_crate(krate)
            .memory_mb(256)
            .timeout(Duration::secs(15))
            .env("ACTION", action)
            .env("INVENTORY_TABLE", inventory.name())
            .build()
    };
    let reserve = step("ReserveInventory", "inventory", "reserve")?;
    let release = step("ReleaseInventory", "inventory", "release")?;
    inventory.grant(&reserve, &["dynamodb:UpdateItem", "dynamodb:PutItem"]);
    inventory.grant(
        &release,
        &[
            "dynamodb:GetItem",
            "dynamodb:DeleteItem",
            "dynamodb:UpdateItem",
        ],
    );
    let charge = stack
        .function("ChargePayment")
        .handler_crate("saga-step")
        .memory_mb(256)
        .timeout(Duration::secs(15))
        .env("ACTION", "charge")
        .build()?;
    // Approval requests the approver fails to handle three times are kept for a human.
    let approvals_dlq = stack
        .queue("ApprovalsDLQ")
        .retention(Duration::days(14))
        .removal(removal)
        .build()?;
    approvals_dlq.alarm_not_empty()?;
    let approvals = stack
        .queue("ApprovalsQueue")
        .retention(Duration::days(4))
        .dead_letter_queue(&approvals_dlq, 3)
        .removal(removal)
        .build()?;

    // A business answer (no stock, a declined card, a bad order) is final: the first
    // matching retrier wins, and this one never retries; only technical failures are.
    let business = || Retry::on(["OutOfStock", "PaymentDeclined", "InvalidInput"]).max_attempts(0);
    let task_failed = || {
        Retry::on(["States.TaskFailed"])
            .interval(Duration::secs(2))
            .max_attempts(3)
            .backoff_rate(2.0)
    };
    // Status writes are guarded: FULFILLED only over ACCEPTED (a late step cannot overwrite a
    // cancellation), CANCELLED only on an existing order that is not FULFILLED (no stub items).
    // Setting a status is idempotent: safe to retry.
    let set_status = |name: &str, status: &str, condition: &str, operand: (&str, &str)| {
        super::order_status::set_order_status(name, orders, status, condition, operand)
            .retry(task_failed())
    };
    let approval_request = TaskInput::object(Expr::map([
        ("orderId.$", Expr::from("$.detail.orderId")),
        ("total.$", Expr::from("$.detail.total")),
        ("correlationId.$", Expr::from("$.detail.correlationId")),
        ("taskToken.$", Expr::from(TASK_TOKEN)),
    ]));
    let notification = TaskInput::object(Expr::map([
        ("orderId.$", Expr::from("$.detail.orderId")),
        ("email.$", Expr::from("$.detail.email")),
        ("tier.$", Expr::from("$.detail.tier")),
        ("subject", Expr::from("Your order is on its way")),
        ("correlationId.$", Expr::from("$.detail.correlationId")),
    ]));
    let definition = Definition::new("ReserveInventory")
        .comment("Reserve -> (approve) -> charge -> fulfil -> notify, with compensation")
        .state(
            Task::invoke("ReserveInventory", &reserve)
                .result_path("$.reservation")
                .retry(business())
                .retry(task_failed())
                .catch_all("CancelOrder")
                .next("NeedsApproval"),
        )
        .state(
            Choice::new("NeedsApproval")
                .when(
                    Condition::numeric_greater_than("$.detail.total", APPROVAL_THRESHOLD),
                    "AwaitApproval",
                )
                .otherwise("ChargePayment"),
        )
        .state(
            Task::send_message_and_wait("AwaitApproval", &approvals, approval_request)
                .timeout(Duration::secs(86_400))
                .result_path("$.approval")
                // Only the send is retried (SQS errors), never a rejection or the timeout.
                .retry(
                    Retry::on(["SQS.SdkClientException", "SQS.AmazonSQSException"])
                        .interval(Duration::secs(2))
                        .max_attempts(3)
                        .backoff_rate(2.0),
                )
                // Any answer but approval (SendTaskFailure with any error, the 24 h timeout,
                // a send that kept failing) releases the stock.
                .catch_all("ReleaseInventory")
                .next("ChargePayment"),
        )
        .state(
            Task::invoke("ChargePayment", &charge)
                .result_path("$.payment")
                .retry(business())
                .retry(task_failed())
                .catch_all("ReleaseInventory")
                .next("MarkFulfilled"),
        )
        // Paid and reserved: if the status still cannot be written, undoing the payment would
        // be wrong; fail loudly for reconciliation instead.
        .state(
            set_status(
                "MarkFulfilled",
                "FULFILLED",
                "#status = :accepted",
                (":accepted", "ACCEPTED"),
            )
            .catch_all("StatusNotRecorded")
            .next("WantsNotification"),
        )
        .state(
            Fail::new("StatusNotRecorded")
                .error("StatusNotRecorded")
                .cause("Paid and reserved, but the FULFILLED status could not be written; reconcile the order"),
        )
        .state(
            Choice::new("WantsNotification")
                .when(Condition::is_present("$.detail.email"), "NotifyCustomer")
                .otherwise("Fulfilled"),
        )
        // The customer is told through the topic; its subscriptions filter on channel and
        // tier. The order is fulfilled either way: a failed notification does not undo it.
        .state(
            Task::publish("NotifyCustomer", topic, notification)
                .message_attribute("channel", "email")
                .message_attribute("tier", "$.detail.tier")
                .result_path("$.notification")
                .retry(Retry::all().interval(Duration::secs(2)).max_attempts(3).backoff_rate(2.0))
                .catch_all("Fulfilled")
                .next("Fulfilled"),
        )
        .state(Succeed::new("Fulfilled"))
        // Compensation. A release that keeps failing still cancels the order, then fails the
        // execution so the stock is reconciled by hand (and the alarm pages).
        .state(
            Task::invoke("ReleaseInventory", &release)
                .result_path("$.release")
                .retry(task_failed())
                .catch(Catch::all("CancelOrder").result_path("$.releaseError"))
                .next("CancelOrder"),
        )
        .state(
            set_status(
                "CancelOrder",
                "CANCELLED",
                "attribute_exists(pk) AND #status <> :fulfilled",
                (":fulfilled", "FULFILLED"),
            )
            .catch_all("StatusNotRecordedOnCancel")
            .next("StockReleased"),
        )
        .state(
            Fail::new("StatusNotRecordedOnCancel")
                .error("StatusNotRecorded")
                .cause("The order could not be fulfilled, and the CANCELLED status could not be written; reconcile the order"),
        )
        .state(
            Choice::new("StockReleased")
                .when(Condition::is_present("$.releaseError"), "StockNotReleased")
                .otherwise("Cancelled"),
        )
        .state(
            Fail::new("StockNotReleased")
                .error("StockNotReleased")
                .cause("The order was cancelled, but its reserved stock could not be released; reconcile the inventory"),
        )
        // A cancellation is a business outcome, not a failure: the execution succeeds, so
        // ExecutionsFailed counts only what needs a human.
        .state(Succeed::new("Cancelled"));
    let saga = stack
        .state_machine("FulfillmentSaga")
        .state_machine_name("FulfillmentSaga")
        .definition(definition)
        .timeout(Duration::days(2))
        .build()?;
    let saga_dlq = stack
        .queue("SagaStartDLQ")
        .retention(Duration::days(14))
        .removal(removal)
        .build()?;
    stack
        .rule("StartFulfillmentSaga")
        .rule_name("StartFulfillmentSaga")
        .bus(bus)
        .description("OrderPlaced events start the fulfillment saga")
        .pattern(order_placed.clone())
        .target(
            Target::of(&saga)
                .dead_letter_queue(&saga_dlq)
                .retry_policy(Duration::hours(1), 10),
        )
        .build()?;
    stack
        .alarm("FulfillmentSagaFailed")
        .description("Fulfillment saga executions failed")
        .metric(saga.metric_executions_failed())
        .threshold(0.0, Comparison::GreaterThan)
        .build()?;
    saga_dlq.alarm_not_empty()?;
    Ok(())
}
