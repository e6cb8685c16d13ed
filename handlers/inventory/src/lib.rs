//! Saga steps `ReserveInventory` / `ReleaseInventory` (env `ACTION` = reserve | release).
//!
//! Table (key `pk`, plus `sk` in the omnichannel single-table `Orders`):
//! - product stock: `pk = PRODUCT#<productId>` (`sk = STOCK`), attribute `available` (N);
//! - reservation: `pk = RESERVATION#<orderId>#<productId>` (`sk = RESERVATION`), with
//!   `orderId`, `productId`, `quantity`, `reservedAt`.
//!
//! Reserve is ONE TransactWriteItems: per line an Update of the product
//! (`available >= :q`, decrement) and a Put of the reservation (`attribute_not_exists(pk)`).
//! Either every line is reserved or none. A retry after a successful reserve finds every
//! reservation present and answers `alreadyReserved` without touching stock.
//! Release is one transaction too: per line a Delete of the reservation (condition: it exists)
//! and an Update incrementing `available` by the reserved quantity; a second release finds no
//! reservation and does nothing.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tracing::Instrument;

/// A transaction holds at most 100 actions: two per line.
pub const MAX_LINES: usize = 50;

/// Which step this function is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Reserve,
    Release,
}

impl std::str::FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "reserve" => Ok(Action::Reserve),
            "release" => Ok(Action::Release),
            other => Err(format!("ACTION must be reserve or release, not {other:?}")),
        }
    }
}

/// Where stock lives.
#[derive(Clone, Debug)]
pub struct Config {
    pub table: String,
    /// `Some("sk")` for a table with a sort key (the omnichannel single table).
    pub sort_key: Option<String>,
}

impl Config {
    /// `INVENTORY_TABLE` (key `pk`), else `ORDERS_TABLE` (single table, key `pk` + `sk`).
    pub fn from_env() -> Result<Config, common::MissingEnv> {
        if let Ok(table) = common::env_var("INVENTORY_TABLE") {
            return Ok(Config {
                table,
                sort_key: None,
            });
        }
        let table = common::env_var("ORDERS_TABLE")
            .map_err(|_| common::MissingEnv("INVENTORY_TABLE or ORDERS_TABLE".into()))?;
        Ok(Config {
            table,
            sort_key: Some("sk".into()),
        })
    }

    fn key(&self, pk: String, sk: &str) -> HashMap<String, AttributeValue> {
        let mut key = HashMap::from([("pk".to_string(), AttributeValue::S(pk))]);
        if let Some(name) = &self.sort_key {
            key.insert(name.clone(), AttributeValue::S(sk.to_string()));
        }
        key
    }

    /// Key of a product's stock item.
    pub fn product_key(&self, product_id: &str) -> HashMap<String, AttributeValue> {
        self.key(format!("PRODUCT#{product_id}"), "STOCK")
    }

    /// Key of an order line's reservation item.
    pub fn reservation_key(
        &self,
        order_id: &str,
        product_id: &str,
    ) -> HashMap<String, AttributeValue> {
        self.key(
            format!("RESERVATION#{order_id}#{product_id}"),
            "RESERVATION",
        )
    }
}

/// The saga state (only what this step reads).
#[derive(Clone, Debug, Deserialize)]
pub struct SagaInput {
    pub detail: OrderDetail,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDetail {
    pub order_id: String,
    #[serde(default)]
    pub items: Vec<Line>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    #[serde(alias = "sku")]
    pub product_id: String,
    pub quantity: u32,
}

/// Failures; `error_type` is what a Step Functions Catch matches on.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("not enough stock for order {order_id}")]
    OutOfStock { order_id: String },
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("inventory table: {0}")]
    Store(String),
}

impl InventoryError {
    /// `OutOfStock`, `InvalidInput`, `InventoryStoreError`.
    pub fn error_type(&self) -> &'static str {
        match self {
            InventoryError::OutOfStock { .. } => "OutOfStock",
            InventoryError::InvalidInput(_) => "InvalidInput",
            InventoryError::Store(_) => "InventoryStoreError",
        }
    }
}

impl From<InventoryError> for lambda_runtime::Diagnostic {
    fn from(e: InventoryError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}

fn validate(detail: &OrderDetail) -> Result<(), InventoryError> {
    if detail.order_id.is_empty() {
        return Err(InventoryError::InvalidInput(
            "detail.orderId is empty".into(),
        ));
    }
    if detail.items.is_empty() || detail.items.len() > MAX_LINES {
        return Err(InventoryError::InvalidInput(format!(
            "detail.items must hold 1..={MAX_LINES} lines"
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for line in &detail.items {
        if line.quantity == 0 || line.product_id.is_empty() {
            return Err(InventoryError::InvalidInput(
                "every line needs a productId and a quantity > 0".into(),
            ));
        }
        if !seen.insert(&line.product_id) {
            return Err(InventoryError::InvalidInput(format!(
                "product {} appears twice",
                line.product_id
            )));
        }
    }
    Ok(())
}

fn codes(e: &TransactWriteItemsError) -> Option<Vec<String>> {
    match e {
        TransactWriteItemsError::TransactionCanceledException(c) => Some(
            c.cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None").to_string())
                .collect(),
        ),
        _ => None,
    }
}

/// Reserve every line of the order in one transaction.
pub async fn reserve(
    client: &Client,
    config: &Config,
    detail: &OrderDetail,
) -> Result<Value, InventoryError> {
    validate(detail)?;
    let now = common::dynamo::now_rfc3339();
    let mut actions = Vec::with_capacity(detail.items.len() * 2);
    for line in &detail.items {
        let q = AttributeValue::N(line.quantity.to_string());
        let update = Update::builder()
            .table_name(&config.table)
            .set_key(Some(config.product_key(&line.product_id)))
            .update_expression("SET available = available - :q")
            .condition_expression("attribute_exists(pk) AND available >= :q")
            .expression_attribute_values(":q", q.clone())
            .build()
            .map_err(|e| InventoryError::Store(e.to_string()))?;
        let mut item = config.reservation_key(&detail.order_id, &line.product_id);
        item.insert("orderId".into(), AttributeValue::S(detail.order_id.clone()));
        item.insert(
            "productId".into(),
            AttributeValue::S(line.product_id.clone()),
        );
        item.insert("quantity".into(), q);
        item.insert("reservedAt".into(), AttributeValue::S(now.clone()));
        let put = Put::builder()
            .table_name(&config.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| InventoryError::Store(e.to_string()))?;
        actions.push(TransactWriteItem::builder().update(update).build());
        actions.push(TransactWriteItem::builder().put(put).build());
    }
    match client
        .transact_write_items()
        .set_transact_items(Some(actions))
        .send()
        .await
    {
        Ok(_) => {
            tracing::info!(order_id = %detail.order_id, lines = detail.items.len(), "inventory reserved");
            Ok(json!({"orderId": detail.order_id, "status": "RESERVED", "items": detail.items}))
        }
        Err(e) => {
            let Some(codes) = e.as_service_error().and_then(codes) else {
                return Err(InventoryError::Store(DisplayErrorContext(e).to_string()));
            };
            let failed = |i: usize| codes.get(i).is_some_and(|c| c == "ConditionalCheckFailed");
            let lines = detail.items.len();
            if (0..lines).all(|l| failed(2 * l + 1)) {
                // every reservation exists: a retry of a reserve that already succeeded
                tracing::info!(order_id = %detail.order_id, "inventory already reserved");
                return Ok(
                    json!({"orderId": detail.order_id, "status": "RESERVED", "items": detail.items, "alreadyReserved": true}),
                );
            }
            if (0..lines).any(|l| failed(2 * l)) {
                tracing::warn!(order_id = %detail.order_id, "out of stock");
                return Err(InventoryError::OutOfStock {
                    order_id: detail.order_id.clone(),
                });
            }
            Err(InventoryError::Store(format!(
                "transaction cancelled: {codes:?}"
            )))
        }
    }
}

/// Release the order's reservations (those that exist), restoring stock, in one transaction.
pub async fn release(
    client: &Client,
    config: &Config,
    detail: &OrderDetail,
) -> Result<Value, InventoryError> {
    validate(detail)?;
    // Find what is actually reserved (the reserved quantity, not the requested one).
    let mut reserved = Vec::new();
    for line in &detail.items {
        let got = client
            .get_item()
            .table_name(&config.table)
            .set_key(Some(
                config.reservation_key(&detail.order_id, &line.product_id),
            ))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| InventoryError::Store(DisplayErrorContext(e).to_string()))?;
        if let Some(q) = got
            .item()
            .and_then(|i| i.get("quantity"))
            .and_then(|q| q.as_n().ok())
        {
            reserved.push((line.product_id.clone(), q.clone()));
        }
    }
    if reserved.is_empty() {
        tracing::info!(order_id = %detail.order_id, "nothing reserved; release is a no-op");
        return Ok(json!({"orderId": detail.order_id, "status": "RELEASED", "released": 0}));
    }
    let mut actions = Vec::with_capacity(reserved.len() * 2);
    for (product_id, q) in &reserved {
        let delete = Delete::builder()
            .table_name(&config.table)
            .set_key(Some(config.reservation_key(&detail.order_id, product_id)))
            .condition_expression("attribute_exists(pk) AND quantity = :q")
            .expression_attribute_values(":q", AttributeValue::N(q.clone()))
            .build()
            .map_err(|e| InventoryError::Store(e.to_string()))?;
        let update = Update::builder()
            .table_name(&config.table)
            .set_key(Some(config.product_key(product_id)))
            .update_expression("SET available = available + :q")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":q", AttributeValue::N(q.clone()))
            .build()
            .map_err(|e| InventoryError::Store(e.to_string()))?;
        actions.push(TransactWriteItem::builder().delete(delete).build());
        actions.push(TransactWriteItem::builder().update(update).build());
    }
    match client
        .transact_write_items()
        .set_transact_items(Some(actions))
        .send()
        .await
    {
        Ok(_) => {
            tracing::info!(order_id = %detail.order_id, lines = reserved.len(), "inventory released");
            Ok(
                json!({"orderId": detail.order_id, "status": "RELEASED", "released": reserved.len()}),
            )
        }
        Err(e) => {
            let concurrent = e
                .as_service_error()
                .and_then(codes)
                .is_some_and(|c| c.iter().step_by(2).any(|c| c == "ConditionalCheckFailed"));
            if concurrent {
                // a concurrent release removed a reservation between our read and the
                // transaction: nothing was applied; the retry (Step Functions Retry) re-reads.
                return Err(InventoryError::Store(
                    "reservation changed concurrently; retry".into(),
                ));
            }
            Err(InventoryError::Store(DisplayErrorContext(e).to_string()))
        }
    }
}

/// The handler: saga state in, small JSON result out.
pub async fn handle(
    client: &Client,
    config: &Config,
    action: Action,
    input: Value,
) -> Result<Value, InventoryError> {
    let correlation = input
        .get("detail")
        .and_then(common::correlation::from_json)
        .unwrap_or_else(common::correlation::generate);
    let mut input = input;
    if let Some(items) = input.pointer_mut("/detail/items") {
        // The omnichannel pipe forwards the stored list as it is (DynamoDB JSON).
        *items = common::dynamo::untyped(items);
    }
    let input: SagaInput =
        serde_json::from_value(input).map_err(|e| InventoryError::InvalidInput(e.to_string()))?;
    let span = common::correlation::span(&correlation);
    match action {
        Action::Reserve => {
            reserve(client, config, &input.detail)
                .instrument(span)
                .await
        }
        Action::Release => {
            release(client, config, &input.detail)
                .instrument(span)
                .await
        }
    }
}
