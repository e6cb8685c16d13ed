//! PaymentQueue consumer (OrderSaga). Each SQS body is the `OrderPlaced` EventBridge event
//! the rule delivered; the worker charges the order (deterministic simulation: declined above
//! [`CHARGE_LIMIT`] or with `simulateDecline`) and records `paymentStatus`, `paymentId`,
//! `paymentAmount`, `paymentUpdatedAt` on the order's `META` item in `ORDERS_TABLE`.
//!
//! Exactly once per order: the charge and the write run inside `common::Idempotency` keyed
//! `payment#<orderId>` in `IDEMPOTENCY_TABLE` (TTL attribute `expiration`, as the OrderSaga
//! table declares), so a redelivered or duplicated OrderPlaced replays the stored result.
//! A decline is a business outcome (recorded, the record succeeds); an unreadable body, a
//! missing order or a store error fails the record alone (partial batch response).

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::AttributeValue;
use common::{Idempotency, IdempotencyError, Outcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const CHARGE_LIMIT: f64 = 10_000.0;
/// How long a payment's idempotency record is kept.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub order_id: String,
    pub status: String,
    pub payment_id: String,
    pub amount: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("not an OrderPlaced event: {0}")]
    Invalid(String),
    #[error("order {0} does not exist")]
    UnknownOrder(String),
    #[error("orders table: {0}")]
    Store(String),
    #[error("{0}")]
    Idempotency(String),
}

/// What the worker needs from the event.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedOrder {
    pub order_id: String,
    pub total: f64,
    pub simulate_decline: bool,
}

pub fn parse(message: &SqsMessage) -> Result<PlacedOrder, PaymentError> {
    let body = message
        .body
        .as_deref()
        .ok_or_else(|| PaymentError::Invalid("empty body".into()))?;
    let event: Value =
        serde_json::from_str(body).map_err(|e| PaymentError::Invalid(e.to_string()))?;
    let detail = event
        .get("detail")
        .ok_or_else(|| PaymentError::Invalid("no detail".into()))?;
    let order_id = detail
        .get("orderId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| PaymentError::Invalid("detail.orderId is missing".into()))?
        .to_owned();
    let total = detail
        .get("total")
        .and_then(Value::as_f64)
        .ok_or_else(|| PaymentError::Invalid("detail.total is missing".into()))?;
    if total < 0.0 {
        return Err(PaymentError::Invalid("detail.total is negative".into()));
    }
    Ok(PlacedOrder {
        order_id,
        total,
        simulate_decline: detail.get("simulateDecline") == Some(&Value::Bool(true)),
    })
}

/// The simulated charge: same order, same answer.
pub fn charge(order: &PlacedOrder) -> Payment {
    let h = order
        .order_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let declined = order.simulate_decline || order.total > CHARGE_LIMIT;
    Payment {
        order_id: order.order_id.clone(),
        status: if declined { "DECLINED" } else { "CHARGED" }.into(),
        payment_id: format!("pay-{h:016x}"),
        amount: order.total,
    }
}

pub struct PaymentWorker {
    dynamo: aws_sdk_dynamodb::Client,
    orders_table: String,
    idempotency: Idempotency,
}

impl PaymentWorker {
    pub fn new(
        dynamo: aws_sdk_dynamodb::Client,
        orders_table: String,
        idempotency_table: String,
    ) -> PaymentWorker {
        let idempotency = Idempotency::new(dynamo.clone(), idempotency_table, IDEMPOTENCY_TTL)
            .expiry_attribute("expiration")
            .in_progress_timeout(Duration::from_secs(30));
        PaymentWorker {
            dynamo,
            orders_table,
            idempotency,
        }
    }

    async fn record(&self, payment: &Payment) -> Result<(), PaymentError> {
        let r = self
            .dynamo
            .update_item()
            .table_name(&self.orders_table)
            .key(
                "pk",
                AttributeValue::S(format!("ORDER#{}", payment.order_id)),
            )
            .key("sk", AttributeValue::S("META".into()))
            .update_expression(
                "SET paymentStatus = :s, paymentId = :p, paymentAmount = :a, paymentUpdatedAt = :t",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":s", AttributeValue::S(payment.status.clone()))
            .expression_attribute_values(":p", AttributeValue::S(payment.payment_id.clone()))
            .expression_attribute_values(":a", AttributeValue::N(payment.amount.to_string()))
            .expression_attribute_values(":t", AttributeValue::S(common::dynamo::now_rfc3339()))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(PaymentError::UnknownOrder(payment.order_id.clone()))
            }
            Err(e) => Err(PaymentError::Store(
                aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string(),
            )),
        }
    }

    /// Charges one record's order at most once.
    pub async fn process(&self, message: &SqsMessage) -> Result<Outcome<Payment>, PaymentError> {
        let order = parse(message)?;
        let key = format!("payment#{}", order.order_id);
        let outcome = self
            .idempotency
            .run_outcome(&key, || async {
                let payment = charge(&order);
                self.record(&payment).await?;
                Ok::<_, PaymentError>(payment)
            })
            .await
            .map_err(|e| match e {
                IdempotencyError::Effect(inner) => inner,
                other => PaymentError::Idempotency(other.to_string()),
            })?;
        let p = match &outcome {
            Outcome::Executed(p) | Outcome::Replayed(p) => p,
        };
        tracing::info!(order_id = %p.order_id, status = %p.status, payment_id = %p.payment_id, replay = outcome.is_replay(), "payment processed");
        Ok(outcome)
    }

    pub async fn handle(&self, event: &SqsEvent) -> SqsBatchResponse {
        let mut results = Vec::with_capacity(event.records.len());
        for m in &event.records {
            let id = m.message_id.clone().unwrap_or_default();
            let span = common::correlation::span(&common::correlation::from_sqs(m));
            let r = tracing::Instrument::instrument(self.process(m), span).await;
            if let Err(e) = &r {
                tracing::warn!(message_id = %id, error = %e, "record failed");
            }
            results.push((id, r));
        }
        common::batch::sqs_batch_response(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_charge() {
        let event: SqsEvent =
            serde_json::from_str(include_str!("../events/payment-queue.json")).unwrap();
        let o = parse(&event.records[0]).unwrap();
        assert_eq!(o.order_id, "ord-1001");
        let p = charge(&o);
        assert_eq!(p.status, "CHARGED");
        assert_eq!(p, charge(&o));
        assert_eq!(
            charge(&PlacedOrder {
                total: 10_000.5,
                ..o.clone()
            })
            .status,
            "DECLINED"
        );
        assert_eq!(
            charge(&PlacedOrder {
                simulate_decline: true,
                ..o
            })
            .status,
            "DECLINED"
        );
        assert!(parse(&event.records[2]).is_err());
    }
}
