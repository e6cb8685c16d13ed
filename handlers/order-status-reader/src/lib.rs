//! `GET /orders/{id}` (HTTP API, payload format 2.0): the order's `OrderStatusView` item as
//! JSON. 200 with `{orderId, status, updatedAt}`, 404 when there is no view, 400 when the id
//! is not 1-64 characters of `[A-Za-z0-9_-]`, 500 when the table cannot be read. Every
//! response carries the request's correlation ID in `x-correlation-id`.

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

pub async fn handle(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
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
        match dynamo.get_item().table_name(table).key("orderId", AttributeValue::S(id.to_owned())).send().await {
            Ok(out) => match out.item {
                Some(item) => response(200, &Value::Object(common::dynamo::from_item(&item)), &correlation_id),
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
