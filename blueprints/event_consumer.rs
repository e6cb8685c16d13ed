//! `event-consumer`: an idempotent EventBridge consumer on a custom bus, an ETL workflow and
//! a daily maintenance schedule. Every asynchronous hop has a dead-letter queue.
//!
//! Seed 000, element by element. Scenario test: `tests/local_moto/event_consumer.rs`
//! (`event_consumer_processes_each_event_once_...`, "scenario").
//!
//! - [x] Rule on the custom bus matching the order events; other sources ignored: `event_consumer`
//!   rule; scenario (4 matched, 1 unmatched).
//! - [x] Exactly-once effect per `<detail-type>:<detail.id>`: a conditional lock, not the
//!   seed's racy get-then-put: `event_processor::handle` with `common::Idempotency`;
//!   scenario (o-1 sent twice, one PROCESSED record).
//! - [x] The idempotency table the seed leaves undefined, TTL `ttl` on the lock and on the
//!   effect records: `IdempotencyTable`, `EFFECT_RETENTION`; scenario (each record has `ttl`).
//! - [x] Asynchronous retries (2, the Lambda maximum; the seed's 3 is not allowed) and the
//!   on-failure destination: `EventProcessorDLQ`; scenario (crash then retry; 3 attempts then
//!   the on-failure record with `RetriesExhausted`).
//! - [x] ETL workflow validate -> transform -> load, Retry and Catch on each task, a clean
//!   failure state: `EtlWorkflow`; scenario (success and failure paths).
//! - [x] Daily maintenance schedule with a DLQ, purging what TTL has not yet deleted (TTL lags
//!   up to two days): `Maintenance`, `MaintenanceDLQ`; scenario (schedule fired, function ok).
//! - [x] Alarms on the DLQs, paging the on-call topic: `on_call::on_call_topic`; snapshot.
//! - [x] Least privilege from the crates' contracts (ORD024-ORD026); scenario (0 denied).
//! - Departures: a customer-managed key on the DLQ (EventBridge cannot use `aws/sqs`).
//! - [x] A failed ETL batch pages: `EtlWorkflowFailed`; snapshot.
//! - Open: no SDK operation timeouts in `common::sdk_config`.

use ordersctl::constructs::state_machine::{Definition, Fail, Retry, Task};
use ordersctl::constructs::{
    App, Attr, Comparison, Duration, EventPattern, QueueEncryption, StateMachineKind, SynthError,
    Target,
};

/// Stack `EventConsumer`.
pub fn event_consumer(app: &App) -> Result<(), SynthError> {
    // The handlers/ crates log IDs and statuses only, hold no secrets in their environment
    // and call AWS APIs alone: the scanner exceptions that follow are recorded.
    app.assure_handlers();
    let stack = app.stack("EventConsumer");
    stack.description("Idempotent EventBridge consumer, ETL workflow and daily maintenance (ordersctl blueprint event-consumer)");
    super::on_call::on_call_topic(stack)?;
    let removal = app.stage().removal();

    let bus = stack
        .event_bus("ApplicationBus")
        .bus_name("ApplicationBus")
        .build()?;
    let dlq_key = stack
        .key("EventProcessorDLQKey")
        .description("Encrypts the EventProcessor dead-letter queue")
        .build()?;
    let dlq = stack
        .queue("EventProcessorDLQ")
        .queue_name("EventProcessorDLQ")
        .retention(Duration::days(14))
        .encryption(QueueEncryption::Kms(dlq_key))
        .removal(removal)
        .build()?;
    let idempotency = stack
        .table("IdempotencyTable")
        .partition_key("id", Attr::String)
        .ttl_attribute("ttl")
        .removal(removal)
        .build()?;

    let processor = stack
        .function("EventProcessor")
        .function_name("EventProcessor")
        .handler_crate("event-processor")
        .memory_mb(512)
        .timeout(Duration::secs(30))
        .env("IDEMPOTENCY_TABLE", idempotency.name())
        .retry_attempts(2)
        .on_failure(&dlq)
        .build()?;
    // common::Idempotency: the lock, its completion and its release.
    idempotency.grant(
        &processor,
        &[
            "dynamodb:PutItem",
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ],
    );

    stack
        .rule("EventProcessorRule")
        .bus(&bus)
        .description("OrderCreated and PaymentProcessed events to the idempotent processor")
        .pattern(
            EventPattern::new()
                .source(["com.app.events"])
                .detail_type(["OrderCreated", "PaymentProcessed"]),
        )
        .target(
            Target::of(&processor)
                .dead_letter_queue(&dlq)
                .retry_policy(Duration::hours(1), 10),
        )
        .build()?;

    // ETL: Validate -> Transform -> Load, each retrying transient Lambda errors and failing
    // the workflow cleanly on anything else.
    // One handler crate runs the three steps; STEP says which.
    let step = |id: &str, name: &str, secs: u64| {
        stack
            .function(id)
            .handler_crate("etl-step")
            .memory_mb(256)
            .timeout(Duration::secs(secs))
            .env("STEP", name)
            .build()
    };
    let validate = step("EtlValidate", "validate", 10)?;
    let transform = step("EtlTransform", "transform", 30)?;
    let load = step("EtlLoad", "load", 60)?;
    let transient = || {
        Retry::lambda_transient()
            .interval(Duration::secs(2))
            .max_attempts(3)
            .backoff_rate(2.0)
    };
    let definition = Definition::new("Validate")
        .state(
            Task::invoke("Validate", &validate)
                .timeout(Duration::secs(10))
                .retry(transient())
                .catch_all("Failed")
                .next("Transform"),
        )
        .state(
            Task::invoke("Transform", &transform)
                .timeout(Duration::secs(30))
                .retry(transient())
                .catch_all("Failed")
                .next("Load"),
        )
        .state(
            Task::invoke("Load", &load)
                .timeout(Duration::secs(60))
                .retry(transient())
                .catch_all("Failed")
                .end(),
        )
        .state(
            Fail::new("Failed")
                .error("EtlFailed")
                .cause("A step of the ETL workflow failed"),
        );
    let etl = stack
        .state_machine("EtlWorkflow")
        .state_machine_name("EtlWorkflow")
        .kind(StateMachineKind::Standard)
        .definition(definition)
        .timeout(Duration::minutes(15))
        .build()?;

    // Daily maintenance through EventBridge Scheduler, with its own dead-letter queue.
    let maintenance_dlq = stack
        .queue("MaintenanceDLQ")
        .retention(Duration::days(14))
        .removal(removal)
        .build()?;
    // The scheduler invokes asynchronously: a run that still fails after Lambda's retries
    // lands in the same DLQ as an undeliverable schedule.
    let maintenance = stack
        .function("Maintenance")
        .handler_crate("maintenance")
        .memory_mb(256)
        .timeout(Duration::minutes(5))
        .env("IDEMPOTENCY_TABLE", idempotency.name())
        .on_failure(&maintenance_dlq)
        .build()?;
    idempotency.grant(&maintenance, &["dynamodb:Scan", "dynamodb:DeleteItem"]);
    stack
        .schedule("DailyMaintenance")
        .description("Runs the Maintenance function once a day")
        .expression("rate(1 day)")
        .target(&maintenance)
        .dead_letter_queue(&maintenance_dlq)
        .retry_policy(Duration::hours(1), 3)
        .build()?;

    for q in [&dlq, &maintenance_dlq] {
        q.alarm_not_empty()?;
    }
    stack
        .alarm("EtlWorkflowFailed")
        .description("An ETL batch failed and was not loaded")
        .metric(etl.metric_executions_failed())
        .threshold(0.0, Comparison::GreaterThan)
        .build()?;

    stack
        .output("EventBusName", bus.name())
        .description("Name of the application event bus");
    stack
        .output("DLQUrl", dlq.url())
        .description("URL of the EventProcessor dead-letter queue");
    Ok(())
}
