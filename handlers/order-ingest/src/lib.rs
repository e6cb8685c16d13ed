//! OrderSaga HTTP ingress (API Gateway HTTP API, payload v2): `POST /orders`.
//!
//! `Idempotency-Key` header (fallback: the API request id) keys the whole submission through
//! `common::Idempotency` (table `IDEMPOTENCY_TABLE`, TTL attribute `expiration`): a duplicate
//! answers the original 202 without writing or publishing again. The effect: a conditional put
//! of the ACCEPTED order (`pk = ORDER#<orderId>`, `sk = META`) into `ORDERS_TABLE`, then
//! PutEvents `OrderPlaced` (source `orders.api`) on `EVENT_BUS_NAME`, failed entries retried a
//! bounded number of times. Malformed bodies answer 400 with a reason.

use std::time::Duration;

use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::http::{HeaderMap, HeaderValue};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use common::{Idempotency, IdempotencyError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tracing::Instrument;

/// Idempotency records (and so duplicate detection) last this long.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);
/// PutEvents attempts for a failed entry.
pub const PUT_EVENTS_ATTEMPTS: u32 = 3;

/// Clients and names the handler needs.
#[derive(Clone, Debug)]
pub struct Ingest {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub orders_table: String,
    pub idempotency_table: String,
    pub event_bus: String,
}

/// The request body.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRequest {
    #[serde(default)]
    pub order_id: Option<String>,
    pub customer_id: String,
    pub items: Vec<Item>,
    pub total: f64,
    /// Where the customer is notified when the order is fulfilled (none: not notified).
    #[serde(default)]
    pub email: Option<String>,
    /// The customer's tier, which notification subscriptions filter on (default `standard`).
    #[serde(default)]
    pub tier: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub product_id: String,
    pub quantity: u32,
}

/// The stored answer (what a duplicate gets back).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub order_id: String,
    pub status: String,
    pub status_url: String,
}

/// Why a submission was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    BadRequest(String),
    #[error("order {0} already exists")]
    Conflict(String),
    #[error("{0}")]
    Unavailable(String),
}

fn validate(body: Option<&str>, base64: bool) -> Result<OrderRequest, IngestError> {
    let bad = |m: String| IngestError::BadRequest(m);
    if base64 {
        return Err(bad(
            "base64-encoded bodies are not accepted; send application/json".into(),
        ));
    }
    let body = body
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| bad("request body is empty".into()))?;
    let order: OrderRequest =
        serde_json::from_str(body).map_err(|e| bad(format!("malformed order: {e}")))?;
    if order.customer_id.trim().is_empty() {
        return Err(bad("customerId must not be empty".into()));
    }
    if order.items.is_empty() {
        return Err(bad("items must not be empty".into()));
    }
    if order
        .items
        .iter()
        .any(|i| i.product_id.trim().is_empty() || i.quantity == 0)
    {
        return Err(bad("every item needs a productId and a quantity > 0".into()));
    }
    if !(order.total > 0.0 && order.total.is_finite()) {
        return Err(bad("total must be a number > 0".into()));
    }
    if order
        .order_id
        .as_deref()
        .is_some_and(|id| id.trim().is_empty())
    {
        return Err(bad("orderId, when given, must not be empty".into()));
    }
    Ok(order)
}

fn response(status: i64, body: &Value, correlation_id: &str) -> ApiGatewayV2httpResponse {
    let mut r = ApiGatewayV2httpResponse::default();
    r.status_code = status;
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(correlation_id) {
        headers.insert(common::correlation::HEADER, v);
    }
    r.headers = headers;
    r.body = Some(Body::Text(body.to_string()));
    r
}

/// The handler: always an HTTP answer (400/409/503 on failure, 202 on acceptance).
pub async fn handle(ingest: &Ingest, request: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let correlation_id = common::correlation::from_headers(&request.headers);
    let span = common::correlation::span(&correlation_id);
    let result = submit(ingest, &request, &correlation_id)
        .instrument(span.clone())
        .await;
    let _entered = span.enter();
    match result {
        Ok(accepted) => response(
            202,
            &serde_json::to_value(&accepted).unwrap_or_default(),
            &correlation_id,
        ),
        Err(IngestError::BadRequest(m)) => {
            tracing::info!(reason = %m, "rejected");
            response(400, &json!({"message": m}), &correlation_id)
        }
        Err(e @ IngestError::Conflict(_)) => {
            response(409, &json!({"message": e.to_string()}), &correlation_id)
        }
        Err(IngestError::Unavailable(m)) => {
            tracing::error!(error = %m, "submission failed");
            response(
                503,
                &json!({"message": "temporarily unavailable, retry with the same Idempotency-Key"}),
                &correlation_id,
            )
        }
    }
}

/// Validate, then (once per idempotency key) store and publish.
pub async fn submit(
    ingest: &Ingest,
    request: &ApiGatewayV2httpRequest,
    correlation_id: &str,
) -> Result<Accepted, IngestError> {
    let order = validate(request.body.as_deref(), request.is_base64_encoded)?;
    let key = request
        .headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| request.request_context.request_id.clone())
        .unwrap_or_else(common::correlation::generate);
    let order_id = order
        .order_id
        .clone()
        .unwrap_or_else(|| format!("ord-{}", common::correlation::generate()));
    let idem = Idempotency::new(
        ingest.dynamodb.clone(),
        &ingest.idempotency_table,
        IDEMPOTENCY_TTL,
    )
    .expiry_attribute("expiration");
    let outcome = idem
        .run_outcome(&format!("order-ingest#{key}"), || {
            accept(ingest, &order, &order_id, &key, correlation_id)
        })
        .await
        .map_err(|e| match e {
            IdempotencyError::Effect(e) => e,
            other => IngestError::Unavailable(other.to_string()),
        })?;
    tracing::info!(order_id = %order_id, duplicate = outcome.is_replay(), "order accepted");
    Ok(outcome.into_inner())
}

async fn accept(
    ingest: &Ingest,
    order: &OrderRequest,
    order_id: &str,
    key: &str,
    correlation_id: &str,
) -> Result<Accepted, IngestError> {
    let now = common::dynamo::now_rfc3339();
    let items = serde_json::to_value(&order.items).unwrap_or_default();
    let put = ingest
        .dynamodb
        .put_item()
        .table_name(&ingest.orders_table)
        .item("pk", AttributeValue::S(format!("ORDER#{order_id}")))
        .item("sk", AttributeValue::S("META".into()))
        .item("orderId", AttributeValue::S(order_id.to_string()))
        .item("customerId", AttributeValue::S(order.customer_id.clone()))
        .item("items", common::dynamo::to_attr(&items))
        .item("total", AttributeValue::N(order.total.to_string()))
        .item("status", AttributeValue::S("ACCEPTED".into()))
        .item("createdAt", AttributeValue::S(now))
        .item(
            "correlationId",
            AttributeValue::S(correlation_id.to_string()),
        )
        .item("idempotencyKey", AttributeValue::S(key.to_string()))
        // the same submission may rewrite its own order: a retry after PutEvents failed
        .condition_expression("attribute_not_exists(pk) OR idempotencyKey = :key")
        .expression_attribute_values(":key", AttributeValue::S(key.to_string()))
        .send()
        .await;
    match put {
        Ok(_) => {}
        Err(e)
            if matches!(
                e.as_service_error(),
                Some(PutItemError::ConditionalCheckFailedException(_))
            ) =>
        {
            return Err(IngestError::Conflict(order_id.to_string()));
        }
        Err(e) => return Err(IngestError::Unavailable(DisplayErrorContext(e).to_string())),
    }
    let mut detail = json!({
        "orderId": order_id,
        "total": order.total,
        "customerId": order.customer_id,
        "items": items,
        "tier": order.tier.as_deref().unwrap_or("standard"),
        "correlationId": correlation_id,
    });
    if let Some(email) = &order.email {
        detail["email"] = json!(email);
    }
    publish(ingest, detail.to_string()).await?;
    Ok(Accepted {
        order_id: order_id.to_string(),
        status: "ACCEPTED".into(),
        status_url: format!("/orders/{order_id}"),
    })
}

async fn publish(ingest: &Ingest, detail: String) -> Result<(), IngestError> {
    let entry = PutEventsRequestEntry::builder()
        .event_bus_name(&ingest.event_bus)
        .source("orders.api")
        .detail_type("OrderPlaced")
        .detail(detail)
        .set_trace_header(common::correlation::trace_header())
        .build();
    let mut last = String::new();
    for attempt in 1..=PUT_EVENTS_ATTEMPTS {
        match ingest
            .events
            .put_events()
            .entries(entry.clone())
            .send()
            .await
        {
            Ok(out) if out.failed_entry_count() == 0 => return Ok(()),
            Ok(out) => {
                last = out
                    .entries()
                    .iter()
                    .filter_map(|e| e.error_message())
                    .collect::<Vec<_>>()
                    .join("; ");
            }
            Err(e) => last = DisplayErrorContext(e).to_string(),
        }
        tracing::warn!(attempt, error = %last, "PutEvents failed");
        tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempt - 1))).await;
    }
    Err(IngestError::Unavailable(format!(
        "PutEvents failed after {PUT_EVENTS_ATTEMPTS} attempts: {last}"
    )))
}
