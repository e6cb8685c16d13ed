//! One Step Functions saga task per `ACTION` (charge | refund | allocate | ship). The logic is
//! a deterministic simulation: the same order always gives the same payment ID, warehouse and
//! tracking number, so retries are harmless. A declined charge (total above
//! [`CHARGE_LIMIT`] or `simulateDecline: true`) is an error of type `PaymentDeclined`, which
//! the saga's Catch turns into compensation.

use lambda_runtime::Diagnostic;
use serde::Serialize;
use serde_json::{json, Value};

/// Charges above this amount are declined.
pub const CHARGE_LIMIT: f64 = 10_000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Charge,
    Refund,
    Allocate,
    Ship,
}

impl Action {
    pub fn parse(s: &str) -> Result<Action, StepError> {
        match s {
            "charge" => Ok(Action::Charge),
            "refund" => Ok(Action::Refund),
            "allocate" => Ok(Action::Allocate),
            "ship" => Ok(Action::Ship),
            other => Err(StepError::Config(format!(
                "ACTION must be charge|refund|allocate|ship, got {other:?}"
            ))),
        }
    }

    pub fn from_env() -> Result<Action, StepError> {
        Action::parse(
            &std::env::var("ACTION").map_err(|_| StepError::Config("ACTION is not set".into()))?,
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::Charge => "charge",
            Action::Refund => "refund",
            Action::Allocate => "allocate",
            Action::Ship => "ship",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StepError {
    #[error("{0}")]
    Config(String),
    #[error("invalid saga input: {0}")]
    InvalidInput(String),
    #[error("payment declined for order {order_id}: {reason}")]
    PaymentDeclined { order_id: String, reason: String },
    #[error("shipment failed for order {0}")]
    ShipmentFailed(String),
}

impl From<StepError> for Diagnostic {
    fn from(e: StepError) -> Diagnostic {
        let error_type = match &e {
            StepError::Config(_) => "ConfigurationError",
            StepError::InvalidInput(_) => "InvalidInput",
            StepError::PaymentDeclined { .. } => "PaymentDeclined",
            StepError::ShipmentFailed(_) => "ShipmentFailed",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

/// What a step needs from the saga input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRef {
    pub order_id: String,
    pub total: f64,
    pub simulate_decline: bool,
    pub simulate_ship_failure: bool,
}

/// The order inside the saga input: the EventBridge `detail` (plain, or a DynamoDB stream
/// record as the OrderCreated pipe sends it), or the input itself.
pub fn order_ref(input: &Value) -> Result<OrderRef, StepError> {
    let detail = input.get("detail").unwrap_or(input);
    let image = detail.pointer("/dynamodb/NewImage");
    let field = |name: &str| -> Option<Value> {
        match image {
            Some(img) => img.get(name).map(common::dynamo::untyped),
            None => detail.get(name).cloned(),
        }
    };
    let order_id = field("orderId")
        .and_then(|v| v.as_str().map(str::to_owned))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| StepError::InvalidInput("orderId is missing".into()))?;
    let total = match field("total") {
        None => 0.0,
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| StepError::InvalidInput(format!("total {s:?} is not a number")))?,
        Some(other) => {
            return Err(StepError::InvalidInput(format!(
                "total {other} is not a number"
            )))
        }
    };
    if total < 0.0 {
        return Err(StepError::InvalidInput("total is negative".into()));
    }
    let flag = |name: &str| {
        field(name).and_then(|v| v.as_bool()).unwrap_or(false)
            || input.get(name).and_then(Value::as_bool).unwrap_or(false)
    };
    Ok(OrderRef {
        order_id,
        total,
        simulate_decline: flag("simulateDecline"),
        simulate_ship_failure: flag("simulateShipFailure"),
    })
}

/// FNV-1a: a stable hash (std's `DefaultHasher` may change between releases).
fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

const WAREHOUSES: [&str; 3] = ["WH-EAST", "WH-CENTRAL", "WH-WEST"];

/// Runs one saga step and returns its JSON result.
pub fn handle(action: Action, input: &Value) -> Result<Value, StepError> {
    let order = order_ref(input)?;
    let id = &order.order_id;
    let h = stable_hash(id);
    let out = match action {
        Action::Charge => {
            if order.simulate_decline {
                return Err(StepError::PaymentDeclined {
                    order_id: id.clone(),
                    reason: "declined by issuer (simulated)".into(),
                });
            }
            if order.total > CHARGE_LIMIT {
                return Err(StepError::PaymentDeclined {
                    order_id: id.clone(),
                    reason: format!(
                        "amount {:.2} is above the limit {CHARGE_LIMIT:.2}",
                        order.total
                    ),
                });
            }
            json!({"action": "charge", "orderId": id, "status": "CHARGED", "paymentId": format!("pay-{h:016x}"), "amount": order.total})
        }
        Action::Refund => {
            json!({"action": "refund", "orderId": id, "status": "REFUNDED", "refundId": format!("ref-{h:016x}"), "amount": order.total})
        }
        Action::Allocate => {
            let warehouse = WAREHOUSES[(h % WAREHOUSES.len() as u64) as usize];
            json!({"action": "allocate", "orderId": id, "status": "ALLOCATED", "warehouse": warehouse})
        }
        Action::Ship => {
            if order.simulate_ship_failure {
                return Err(StepError::ShipmentFailed(id.clone()));
            }
            json!({"action": "ship", "orderId": id, "status": "SHIPPED", "trackingNumber": format!("TRK{:010}", h % 10_000_000_000)})
        }
    };
    tracing::info!(action = action.name(), order_id = %id, result = %out, "saga step done");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        serde_json::from_str(include_str!("../events/order-placed.json")).unwrap()
    }

    #[test]
    fn charge_is_deterministic() {
        let a = handle(Action::Charge, &sample()).unwrap();
        let b = handle(Action::Charge, &sample()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a["status"], "CHARGED");
        assert_eq!(a["orderId"], "ord-1001");
        assert_eq!(a["amount"], 129.5);
    }

    #[test]
    fn charge_above_limit_is_declined_with_its_error_type() {
        let input = json!({"detail": {"orderId": "big", "total": 10_000.01}});
        let err = handle(Action::Charge, &input).unwrap_err();
        assert!(matches!(err, StepError::PaymentDeclined { .. }));
        assert_eq!(Diagnostic::from(err).error_type, "PaymentDeclined");
    }

    #[test]
    fn simulate_decline_flag_declines() {
        let mut input = sample();
        input["detail"]["simulateDecline"] = json!(true);
        assert!(matches!(
            handle(Action::Charge, &input),
            Err(StepError::PaymentDeclined { .. })
        ));
        // The other actions ignore it.
        assert_eq!(
            handle(Action::Refund, &input).unwrap()["status"],
            "REFUNDED"
        );
    }

    #[test]
    fn allocate_and_ship() {
        let a = handle(Action::Allocate, &sample()).unwrap();
        assert!(WAREHOUSES.contains(&a["warehouse"].as_str().unwrap()));
        let s = handle(Action::Ship, &sample()).unwrap();
        assert!(s["trackingNumber"].as_str().unwrap().starts_with("TRK"));
        let mut input = sample();
        input["simulateShipFailure"] = json!(true);
        assert_eq!(
            Diagnostic::from(handle(Action::Ship, &input).unwrap_err()).error_type,
            "ShipmentFailed"
        );
    }

    #[test]
    fn reads_a_stream_record_detail() {
        let input: Value =
            serde_json::from_str(include_str!("../events/order-created-stream.json")).unwrap();
        let o = order_ref(&input).unwrap();
        assert_eq!(o.order_id, "ord-2001");
        assert_eq!(o.total, 42.0);
    }

    #[test]
    fn missing_order_id_is_invalid_input() {
        assert!(matches!(
            handle(Action::Charge, &json!({"detail": {}})),
            Err(StepError::InvalidInput(_))
        ));
        assert!(Action::parse("teleport").is_err());
    }
}
