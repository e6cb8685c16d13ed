//! `fulfillment-saga`: HTTP ingress, an event bus, a payment queue worker, notifications
//! over SNS -> SQS, and a Step Functions saga that reserves inventory, waits for approval of
//! large orders, charges payment and compensates (release, cancel) on failure.

use ordersctl::constructs::state_machine::{
    Catch, Choice, Condition, Definition, DynamoValue, Fail, Retry, Task, TaskInput, TASK_TOKEN,
};
use ordersctl::constructs::{
    App, Attr, Comparison, Duration, EventPattern, HttpMethod, Match, Removal, Stack,
    StartingPosition, StreamView, SynthError, Target, Throttle,
};
use ordersctl::template::{Expr, Parameter};

/// Orders above this total wait for a human approval.
const APPROVAL_THRESHOLD: f64 = 1000.0;

/// Stack `OrderSaga`.
pub fn fulfillment_saga(app: &App) -> Result<(), SynthError> {
    let stack = app.stack("OrderSaga");
    stack.description("Order fulfillment saga with HTTP ingress, payments, notifications and compensation (ordersctl blueprint fulfillment-saga)");
    let removal = app.stage().removal();

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
    orders.grant_write(&ingest);
    idempotency.grant_read_write(&ingest);
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
    orders.grant_read_write(&payment_worker);
    idempotency.grant_read_write(&payment_worker);
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

    saga(stack, removal, &bus, &orders, &inventory, &order_placed())?;

    for q in [&payment_dlq, &payment_rule_dlq, &email_dlq, &stream_dlq] {
        q.alarm_not_empty()?;
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
    inventory.grant_read_write(&reserve);
    inventory.grant_read_write(&release);
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

    let task_failed = || {
        Retry::on(["States.TaskFailed"])
            .interval(Duration::secs(2))
            .max_attempts(3)
            .backoff_rate(2.0)
    };
    let order_key = || {
        [
            (
                "pk",
                DynamoValue::string_format("ORDER#{}", ["$.detail.orderId"]),
            ),
            ("sk", DynamoValue::string("META")),
        ]
    };
    let set_status = |name: &str, status: &str| {
        Task::update_item(
            name,
            orders,
            order_key(),
            "SET #status = :status",
            [(":status", DynamoValue::string(status))],
        )
        .expression_names([("#status", "status")])
        .result_path("$.statusUpdate")
        // Setting a status is idempotent: safe to retry.
        .retry(task_failed())
    };
    let approval_request = TaskInput::object(Expr::map([
        ("orderId.$", Expr::from("$.detail.orderId")),
        ("taskToken.$", Expr::from(TASK_TOKEN)),
    ]));
    let definition = Definition::new("ReserveInventory")
        .comment("Reserve -> (approve) -> charge -> fulfil, with compensation")
        .state(
            Task::invoke("ReserveInventory", &reserve)
                .result_path("$.reservation")
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
                .catch(
                    Catch::on(["States.Timeout", "ApprovalRejected"], "ReleaseInventory")
                        .result_path("$.error"),
                )
                .next("ChargePayment"),
        )
        .state(
            Task::invoke("ChargePayment", &charge)
                .result_path("$.payment")
                .retry(task_failed())
                .catch_all("ReleaseInventory")
                .next("MarkFulfilled"),
        )
        // Paid and reserved: if the status still cannot be written, undoing the payment would
        // be wrong; fail loudly for reconciliation instead.
        .state(set_status("MarkFulfilled", "FULFILLED").catch_all("StatusNotRecorded").end())
        .state(
            Fail::new("StatusNotRecorded")
                .error("StatusNotRecorded")
                .cause("Paid and reserved, but the FULFILLED status could not be written; reconcile the order"),
        )
        .state(
            Task::invoke("ReleaseInventory", &release)
                .result_path("$.release")
                .retry(task_failed())
                .next("CancelOrder"),
        )
        .state(
            set_status("CancelOrder", "CANCELLED")
                .catch_all("OrderFailed")
                .next("OrderFailed"),
        )
        .state(
            Fail::new("OrderFailed")
                .error("OrderCancelled")
                .cause("The order could not be fulfilled and was cancelled"),
        );
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
