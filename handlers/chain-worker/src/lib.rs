//! The DurableChain workers, one crate for the three functions (`STEP`):
//!
//! - `authorize-payment`: deterministic simulated authorization; amounts above
//!   [`AUTHORIZATION_LIMIT`] or `simulateDecline: true` fail with `PaymentDeclined`;
//! - `allocate-inventory`: `{action: "allocate" | "release", orderId, items: [{productId,
//!   quantity}]}` against `CATALOG_TABLE`. Allocation is one transaction: every product's
//!   `stock` is decremented on condition `stock >= quantity`, and an allocation marker item
//!   `productId = "ALLOCATION#<orderId>"` (`state = ALLOCATED`, the items) is created on
//!   condition it does not exist. Release flips the marker to `RELEASED` on condition it is
//!   `ALLOCATED` and restores the stock it recorded, in one transaction. Both are idempotent: a
//!   repeated allocate or release changes nothing and says so in `status`;
//! - `fulfill-order`: deterministic simulated fulfillment; `simulateFailure: true` fails with
//!   `FulfillmentFailed` (the orchestrator's compensation path).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use lambda_runtime::Diagnostic;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Authorizations above this amount are declined.
pub const AUTHORIZATION_LIMIT: f64 = 5_000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    AuthorizePayment,
    AllocateInventory,
    FulfillOrder,
}

impl Step {
    pub fn parse(s: &str) -> Result<Step, WorkerError> {
        match s {
            "authorize-payment" => Ok(Step::AuthorizePayment),
            "allocate-inventory" => Ok(Step::AllocateInventory),
            "fulfill-order" => Ok(Step::FulfillOrder),
            other => Err(WorkerError::Invalid(format!(
                "STEP must be authorize-payment|allocate-inventory|fulfill-order, got {other:?}"
            ))),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("{0}")]
    Invalid(String),
    #[error("payment declined for order {0}: {1}")]
    PaymentDeclined(String, String),
    #[error("insufficient stock for order {0}")]
    InsufficientStock(String),
    #[error("order {0} was already released; it cannot be allocated again")]
    AlreadyReleased(String),
    #[error("fulfillment failed for order {0}")]
    FulfillmentFailed(String),
    #[error("catalog: {0}")]
    Store(String),
}

impl From<WorkerError> for Diagnostic {
    fn from(e: WorkerError) -> Diagnostic {
        let error_type = match &e {
            WorkerError::Invalid(_) => "InvalidInput",
            WorkerError::PaymentDeclined(..) => "PaymentDeclined",
            WorkerError::InsufficientStock(_) => "InsufficientStock",
            WorkerError::AlreadyReleased(_) => "AlreadyReleased",
            WorkerError::FulfillmentFailed(_) => "FulfillmentFailed",
            WorkerError::Store(_) => "CatalogError",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

fn store<E: std::error::Error + 'static>(e: E) -> WorkerError {
    WorkerError::Store(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub product_id: String,
    pub quantity: u32,
}

fn order_id(input: &Value) -> Result<String, WorkerError> {
    input
        .get("orderId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| WorkerError::Invalid("orderId is missing".into()))
}

/// Quantities per product (a product listed twice is allocated once, summed).
fn line_items(input: &Value) -> Result<BTreeMap<String, u32>, WorkerError> {
    let items: Vec<LineItem> =
        serde_json::from_value(input.get("items").cloned().unwrap_or(Value::Null))
            .map_err(|e| WorkerError::Invalid(format!("items: {e}")))?;
    let mut out = BTreeMap::new();
    for i in items {
        if i.quantity == 0 {
            return Err(WorkerError::Invalid(format!(
                "{}: quantity must be at least 1",
                i.product_id
            )));
        }
        *out.entry(i.product_id).or_insert(0) += i.quantity;
    }
    if out.is_empty() {
        return Err(WorkerError::Invalid("items is empty".into()));
    }
    Ok(out)
}

/// FNV-1a, stable across releases.
fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub fn authorize_payment(input: &Value) -> Result<Value, WorkerError> {
    let id = order_id(input)?;
    let amount = input
        .get("amount")
        .and_then(Value::as_f64)
        .ok_or_else(|| WorkerError::Invalid("amount is missing".into()))?;
    if input.get("simulateDecline") == Some(&Value::Bool(true)) {
        return Err(WorkerError::PaymentDeclined(
            id,
            "declined by issuer (simulated)".into(),
        ));
    }
    if amount > AUTHORIZATION_LIMIT {
        return Err(WorkerError::PaymentDeclined(
            id,
            format!("amount {amount:.2} above the limit {AUTHORIZATION_LIMIT:.2}"),
        ));
    }
    Ok(
        json!({"orderId": id, "status": "AUTHORIZED", "authorizationId": format!("auth-{:016x}", stable_hash(&id)), "amount": amount}),
    )
}

pub fn fulfill_order(input: &Value) -> Result<Value, WorkerError> {
    let id = order_id(input)?;
    line_items(input)?;
    if input.get("simulateFailure") == Some(&Value::Bool(true)) {
        return Err(WorkerError::FulfillmentFailed(id));
    }
    Ok(
        json!({"orderId": id, "status": "FULFILLED", "shipmentId": format!("shp-{:016x}", stable_hash(&id))}),
    )
}

/// The allocation marker's key in the catalog table.
pub fn marker_key(order_id: &str) -> String {
    format!("ALLOCATION#{order_id}")
}

pub struct Worker {
    pub step: Step,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub catalog_table: Option<String>,
}

impl Worker {
    pub async fn handle(&self, input: Value) -> Result<Value, WorkerError> {
        let out = match self.step {
            Step::AuthorizePayment => authorize_payment(&input),
            Step::FulfillOrder => fulfill_order(&input),
            Step::AllocateInventory => {
                let table = self
                    .catalog_table
                    .as_deref()
                    .ok_or_else(|| WorkerError::Invalid("CATALOG_TABLE is not set".into()))?;
                match input
                    .get("action")
                    .and_then(Value::as_str)
                    .unwrap_or("allocate")
                {
                    "allocate" => allocate(&self.dynamo, table, &input).await,
                    "release" => release(&self.dynamo, table, &input).await,
                    other => Err(WorkerError::Invalid(format!(
                        "action must be allocate|release, got {other:?}"
                    ))),
                }
            }
        };
        match &out {
            Ok(v) => tracing::info!(step = ?self.step, result = %v, "worker done"),
            Err(e) => tracing::warn!(step = ?self.step, error = %e, "worker failed"),
        }
        out
    }
}

async fn marker_state(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    order_id: &str,
) -> Result<Option<HashMap<String, AttributeValue>>, WorkerError> {
    let resp = dynamo
        .get_item()
        .table_name(table)
        .key("productId", AttributeValue::S(marker_key(order_id)))
        .consistent_read(true)
        .send()
        .await
        .map_err(store)?;
    Ok(resp.item)
}

fn state_of(item: &HashMap<String, AttributeValue>) -> &str {
    item.get("state")
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .unwrap_or("")
}

fn stock_update(
    table: &str,
    product_id: &str,
    quantity: u32,
    decrement: bool,
) -> Result<TransactWriteItem, WorkerError> {
    let mut u = Update::builder()
        .table_name(table)
        .key("productId", AttributeValue::S(product_id.to_owned()))
        .expression_attribute_values(":q", AttributeValue::N(quantity.to_string()));
    u = if decrement {
        u.update_expression("SET stock = stock - :q")
            .condition_expression("attribute_exists(productId) AND stock >= :q")
    } else {
        u.update_expression("SET stock = stock + :q")
            .condition_expression("attribute_exists(productId)")
    };
    Ok(TransactWriteItem::builder()
        .update(u.build().map_err(store)?)
        .build())
}

fn items_attr(items: &BTreeMap<String, u32>) -> AttributeValue {
    AttributeValue::M(
        items
            .iter()
            .map(|(p, q)| (p.clone(), AttributeValue::N(q.to_string())))
            .collect(),
    )
}

/// Decrements stock for every item and records the allocation, all or nothing.
pub async fn allocate(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    input: &Value,
) -> Result<Value, WorkerError> {
    let id = order_id(input)?;
    let items = line_items(input)?;
    let mut tx = vec![TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .item("productId", AttributeValue::S(marker_key(&id)))
                .item("state", AttributeValue::S("ALLOCATED".into()))
                .item("orderId", AttributeValue::S(id.clone()))
                .item("items", items_attr(&items))
                .item(
                    "allocatedAt",
                    AttributeValue::S(common::dynamo::now_rfc3339()),
                )
                .condition_expression("attribute_not_exists(productId)")
                .build()
                .map_err(store)?,
        )
        .build()];
    for (p, q) in &items {
        tx.push(stock_update(table, p, *q, true)?);
    }
    match dynamo
        .transact_write_items()
        .set_transact_items(Some(tx))
        .send()
        .await
    {
        Ok(_) => Ok(json!({"orderId": id, "status": "ALLOCATED", "items": items})),
        Err(e) => {
            // Cancelled: either this order is already allocated (a retry) or stock is short.
            match marker_state(dynamo, table, &id).await? {
                Some(m) if state_of(&m) == "ALLOCATED" => {
                    Ok(json!({"orderId": id, "status": "ALREADY_ALLOCATED", "items": items}))
                }
                Some(_) => Err(WorkerError::AlreadyReleased(id)),
                None if e
                    .as_service_error()
                    .is_some_and(|s| s.is_transaction_canceled_exception()) =>
                {
                    Err(WorkerError::InsufficientStock(id))
                }
                None => Err(store(e)),
            }
        }
    }
}

/// Restores the stock an allocation took, once.
pub async fn release(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    input: &Value,
) -> Result<Value, WorkerError> {
    let id = order_id(input)?;
    let Some(marker) = marker_state(dynamo, table, &id).await? else {
        return Ok(json!({"orderId": id, "status": "NOTHING_TO_RELEASE"}));
    };
    if state_of(&marker) != "ALLOCATED" {
        return Ok(json!({"orderId": id, "status": "ALREADY_RELEASED"}));
    }
    // The stock to restore is what the allocation recorded, not what the caller says.
    let mut items = BTreeMap::new();
    if let Some(AttributeValue::M(m)) = marker.get("items") {
        for (p, q) in m {
            items.insert(
                p.clone(),
                q.as_n()
                    .ok()
                    .and_then(|n| n.parse::<u32>().ok())
                    .unwrap_or(0),
            );
        }
    }
    let mut tx = vec![TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(table)
                .key("productId", AttributeValue::S(marker_key(&id)))
                .update_expression("SET #state = :released, releasedAt = :now")
                .condition_expression("#state = :allocated")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":released", AttributeValue::S("RELEASED".into()))
                .expression_attribute_values(":allocated", AttributeValue::S("ALLOCATED".into()))
                .expression_attribute_values(
                    ":now",
                    AttributeValue::S(common::dynamo::now_rfc3339()),
                )
                .build()
                .map_err(store)?,
        )
        .build()];
    for (p, q) in items.iter().filter(|(_, q)| **q > 0) {
        tx.push(stock_update(table, p, *q, false)?);
    }
    match dynamo
        .transact_write_items()
        .set_transact_items(Some(tx))
        .send()
        .await
    {
        Ok(_) => Ok(json!({"orderId": id, "status": "RELEASED", "items": items})),
        Err(e) => match marker_state(dynamo, table, &id).await? {
            // A concurrent release won.
            Some(m) if state_of(&m) == "RELEASED" => {
                Ok(json!({"orderId": id, "status": "ALREADY_RELEASED"}))
            }
            _ => Err(store(e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_and_fulfill_are_deterministic() {
        let input: Value =
            serde_json::from_str(include_str!("../events/authorize-payment.json")).unwrap();
        let a = authorize_payment(&input).unwrap();
        assert_eq!(a, authorize_payment(&input).unwrap());
        assert_eq!(a["status"], "AUTHORIZED");
        let too_much = json!({"orderId": "o", "amount": 5000.01});
        assert_eq!(
            Diagnostic::from(authorize_payment(&too_much).unwrap_err()).error_type,
            "PaymentDeclined"
        );
        let f: Value = serde_json::from_str(include_str!("../events/fulfill-order.json")).unwrap();
        assert_eq!(fulfill_order(&f).unwrap()["status"], "FULFILLED");
        let mut failing = f.clone();
        failing["simulateFailure"] = json!(true);
        assert_eq!(
            Diagnostic::from(fulfill_order(&failing).unwrap_err()).error_type,
            "FulfillmentFailed"
        );
    }

    #[test]
    fn items_are_summed_and_checked() {
        let items = line_items(&json!({"items": [{"productId": "A", "quantity": 1}, {"productId": "A", "quantity": 2}]})).unwrap();
        assert_eq!(items["A"], 3);
        assert!(line_items(&json!({"items": []})).is_err());
        assert!(line_items(&json!({"items": [{"productId": "A", "quantity": 0}]})).is_err());
        assert!(Step::parse("ship").is_err());
    }
}
