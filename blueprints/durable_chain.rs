//! `durable-chain`: a Lambda durable function orchestrating an order through three worker
//! functions — ValidateOrder (a step of its own) -> AuthorizePayment -> AllocateInventory ->
//! FulfillOrder — and restoring the allocated inventory when fulfillment fails. The
//! orchestrator checkpoints each step, so a retry resumes where it stopped.
//!
//! Seed 003, element by element: the durable order chain (aws-samples PR #2926) and its review.
//! B = `blueprints/durable_chain.rs`; O, W = `src/lib.rs` of `handlers/order-orchestrator`,
//! `handlers/chain-worker`; LR = O's `tests/local_runner.rs` (SDK LocalRunner, fake workers);
//! CM = W's `tests/catalog_moto.rs` (moto).
//! - [x] Validate -> pay -> allocate -> fulfill, each checkpointed and resumed, not rerun: O
//!   `orchestrate`, `DurableChain` (`ctx.step` ValidateOrder, `ctx.invoke` per worker); LR
//!   `happy_path_runs_each_stage_once` (stage order, each stage once across replays).
//! - [x] Allocation decrements stock; failed fulfillment restores it once: W `allocate`, `release`,
//!   O `ReleaseInventory`; LR `failed_fulfillment_releases_the_inventory`, CM
//!   `allocate_then_release_restores_stock_exactly_once`.
//! - [x] One durable function (1 h), three workers, one table: B `.durable(..)`, `STEP` (W
//!   `Step::parse`), `ProductCatalog`; snapshot via `every_blueprint_stack_template_is_pinned`.
//! - [x] Review, housekeeping: metadata JSON n/a (analog `blueprints/mod.rs` `durable-chain`); no
//!   .vscode tracked; "Lambda durable function" lower case. Folder casing: a missing crate fails
//!   synth (`BundleError::MissingCrate`); `tests/cli.rs`
//!   `a_missing_handler_crate_is_a_synth_error_naming_crate_and_function`.
//! - [x] Review, table removal: B `.removal(app.stage().removal())`, Delete in dev, Retain in prod;
//!   `tests/cli.rs` `prod_stage_retains_tables_and_queues` (asserts OrderSaga, not this stack).
//! - [x] Review, atomic stock: W `allocate` is one TransactWriteItems (`stock_update` on
//!   `stock >= :q`, marker on `attribute_not_exists`); CM `short_stock_allocates_nothing`.
//! - [x] Review, log retention: each function's own LogGroup, 30 d, in LoggingConfig
//!   (`add_log_group`); `tests/check_cli.rs` `every_blueprint_passes_even_strictly` (ORD014).
//! - [x] Review, replay safety: O reads no clock (its result holds recorded values only; timestamps
//!   are W's); `ReleaseInventory` is a top-level invoke after `FulfillOrder` resolves, not nested
//!   in it; LR `failed_fulfillment_releases_the_inventory`. No clock-determinism test.
//! - [x] Review, `context.invoke`: O `DurableChain::call` (`ctx.invoke`), no aws-sdk-lambda dep,
//!   B `grant_invoke` x3. Untested: LR substitutes steps (`StepChain`) for chained invokes.
//! - [ ] Async start (seed), README steps (review): one table row; no deploy, catalog seeding,
//!   start, `get-durable-execution` or destroy steps.
//! - [ ] Scenarios end to end: await `ordersctl local` durable support (`src/local/world/read.rs`;
//!   `tests/local_moto/engine.rs` `bad_input_is_one_clear_sentence_and_exit_1`). Per crate: success
//!   (LR happy path, CM); replay/retry decrements once (CM: retried allocate -> ALREADY_ALLOCATED,
//!   stock unchanged); payment failure: payment precedes allocation, so no stock to restore; only
//!   the decline is unit-tested (W `authorize_and_fulfill_are_deterministic`), not the chain.
//! - Departures: prices read in the checkpointed ValidateOrder step, not the payment worker;
//!   workers fail with typed errors, not `{status: "failed"}`. AWS rules: checkpoint rights in a
//!   separate `OrderOrchestratorDurablePolicy` on `<arn>:*` (qualified execution ARNs; inline would
//!   cycle); CKV_AWS_116 skipped (no DLQ for durable runs); Put/UpdateItem authorize TransactWrite.
//! - Open: a 1 h run must start async and qualified (AWS rejects unqualified durable invokes; no
//!   Version/Alias, bare-name output); AllocationFailed skips the (idempotent) release; a failed
//!   release is not retried; the authorization is never voided; no concurrent-allocation test.

use ordersctl::constructs::{App, Attr, Duration, SynthError};

/// Stack `DurableChain`.
pub fn durable_chain(app: &App) -> Result<(), SynthError> {
    // The handlers/ crates log IDs and statuses only, hold no secrets in their environment
    // and call AWS APIs alone: the scanner exceptions that follow are recorded.
    app.assure_handlers();
    let stack = app.stack("DurableChain");
    stack.description("Durable function chain: validate, authorize payment, allocate inventory, fulfill (ordersctl blueprint durable-chain)");
    let removal = app.stage().removal();

    let catalog = stack
        .table("ProductCatalog")
        .table_name("ProductCatalog")
        .partition_key("productId", Attr::String)
        .removal(removal)
        .build()?;

    let payments = stack
        .function("AuthorizePayment")
        .function_name("AuthorizePayment")
        .handler_crate("chain-worker")
        .env("STEP", "authorize-payment")
        .memory_mb(256)
        .timeout(Duration::secs(15))
        .build()?;
    let inventory = stack
        .function("AllocateInventory")
        .function_name("AllocateInventory")
        .handler_crate("chain-worker")
        .env("STEP", "allocate-inventory")
        .memory_mb(256)
        .timeout(Duration::secs(15))
        .env("CATALOG_TABLE", catalog.name())
        .build()?;
    let fulfillment = stack
        .function("FulfillOrder")
        .function_name("FulfillOrder")
        .handler_crate("chain-worker")
        .env("STEP", "fulfill-order")
        .memory_mb(256)
        .timeout(Duration::secs(30))
        .build()?;
    // Allocation and its compensation (restore) both change stock.
    catalog.grant(
        &inventory,
        &[
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        ],
    );

    let orchestrator = stack
        .function("OrderOrchestrator")
        .function_name("OrderOrchestrator")
        .handler_crate("order-orchestrator")
        .memory_mb(512)
        .timeout(Duration::secs(60))
        .durable(Duration::hours(1), Some(Duration::days(14)))
        .env("CATALOG_TABLE", catalog.name())
        .env("AUTHORIZE_PAYMENT_FUNCTION", payments.name())
        .env("ALLOCATE_INVENTORY_FUNCTION", inventory.name())
        .env("FULFILL_ORDER_FUNCTION", fulfillment.name())
        .build()?;
    // ValidateOrder runs inside the orchestrator and reads the catalog; it invokes exactly
    // the three workers.
    catalog.grant(&orchestrator, &["dynamodb:GetItem"]);
    for worker in [&payments, &inventory, &fulfillment] {
        worker.grant_invoke(&orchestrator);
    }

    stack
        .output("OrchestratorName", orchestrator.name())
        .description("Name of the durable orchestrator function");
    stack
        .output("CatalogTableName", catalog.name())
        .description("Name of the ProductCatalog table");
    Ok(())
}
