//! `durable-chain`: a Lambda durable function orchestrating an order through three worker
//! functions — ValidateOrder (a step of its own) -> AuthorizePayment -> AllocateInventory ->
//! FulfillOrder — and restoring the allocated inventory when fulfillment fails. The
//! orchestrator checkpoints each step, so a retry resumes where it stopped.

use ordersctl::constructs::{App, Attr, Duration, SynthError};

/// Stack `DurableChain`.
pub fn durable_chain(app: &App) -> Result<(), SynthError> {
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
