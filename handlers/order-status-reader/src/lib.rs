//! `GET /orders/{id}` (HTTP API, payload format 2.0): the order's status as JSON, read from a
//! status view (`STATUS_VIEW_TABLE`, key `orderId`: the omnichannel read model) or from the
//! orders table itself (`ORDERS_TABLE`, single-table key `ORDER#<id>` / `META`: the saga's).
//! 200 with `{orderId, status, ...}`, 404 when there is no such order, 400 when the id is not
//! 1-64 characters of `[A-Za-z0-9_-]`, 500 when the table cannot be read. Every response
//! carries the request's correlation ID in `x-correlation-id`.

use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};
use tracing::Instrument;

/// A well-formed order id.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn response(status: i64, body: &Value, correlation_id: &str) -> ApiGatewayV2httpResponse {
    let mut r = ApiGatewayV2httpResponse::default();
    r.status_code = status;
    r.headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(correlation_id) {
        r.headers
            .insert(HeaderName::from_static(common::correlation::HEADER), v);
    }
    r.body = Some(Body::Text(body.to_string()));
    r
}

/// Where an order's status is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A status view keyed on `orderId`: its item is the answer.
    View(String),
    /// The single-table orders table: the order's `META` item, its public fields only.
    Orders(String),
}

impl Source {
    /// `STATUS_VIEW_TABLE`, else `ORDERS_TABLE`.
    pub fn from_env() -> Result<Source, common::MissingEnv> {
        match common::env_var("STATUS_VIEW_TABLE") {
            Ok(t) => Ok(Source::View(t)),
            Err(_) => common::env_var("ORDERS_TABLE")
                .map(Source::Orders)
                .map_err(|_| common::MissingEnv("STATUS_VIEW_TABLE or ORDERS_TABLE".into())),
        }
    }

    fn table(&self) -> &str {
        match self {
            Source::View(t) | Source::Orders(t) => t,
        }
    }

    fn key(&self, id: &str) -> Vec<(&'static str, AttributeValue)> {
        match self {
            Source::View(_) => vec![("orderId", AttributeValue::S(id.to_owned()))],
            Source::Orders(_) => vec![
                ("pk", AttributeValue::S(format!("ORDER#{id}"))),
                ("sk", AttributeValue::S("META".into())),
            ],
        }
    }

    fn answer(&self, mut item: serde_json::Map<String, Value>) -> Value {
        if let Source::Orders(_) = self {
            // Keys and bookkeeping stay inside; the client sees the order's state.
            item.retain(|k, _| {
                matches!(
                    k.as_str(),
                    "orderId" | "status" | "total" | "createdAt" | "updatedAt" | "correlationId"
                )
            });
        }
        Value::Object(item)
    }
}

pub async fn handle(
    dynamo: &aws_sdk_dynamodb::Client,
    source: &Source,
    request: &ApiGatewayV2httpRequest,
) -> ApiGatewayV2httpResponse {
    let correlation_id = common::correlation::from_headers(&request.headers);
    let span = common::correlation::span(&correlation_id);
    async {
        let id = request.path_parameters.get("id").map(String::as_str).unwrap_or("");
        if !valid_id(id) {
            tracing::info!(id, "bad order id");
            return response(400, &json!({"message": "order id must be 1-64 characters of A-Z a-z 0-9 _ -"}), &correlation_id);
        }
        let mut get = dynamo.get_item().table_name(source.table());
        for (k, v) in source.key(id) {
            get = get.key(k, v);
        }
        match get.send().await {
            Ok(out) => match out.item {
                Some(item) => response(200, &source.answer(common::dynamo::from_item(&item)), &correlation_id),
                None => response(404, &json!({"message": format!("order {id} not found")}), &correlation_id),
            },
            Err(e) => {
                tracing::error!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "status view read failed");
                response(500, &json!({"message": "internal error"}), &correlation_id)
            }
        }
    }
    .instrument(span)
    .await
}
