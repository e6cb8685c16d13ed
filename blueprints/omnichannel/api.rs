//! `OmniApi`: the HTTP API. `POST /orders` goes straight to the ingest queue (no Lambda) and
//! answers 202; `GET /orders/{id}` reads the status view.

use ordersctl::constructs::{App, Duration, HttpMethod, SynthError, Throttle};
use ordersctl::template::Parameter;

use super::data::Data;
use super::services::Services;

pub fn api<'a>(app: &'a App, data: &Data<'a>, services: &Services<'a>) -> Result<(), SynthError> {
    let stack = app.stack("OmniApi");
    stack.description("Omnichannel order platform: HTTP API (ordersctl blueprint omnichannel)");

    let mut issuer = Parameter::new("String");
    issuer.description = Some("JWT issuer URL of the identity provider".into());
    let issuer = stack.parameter("JwtIssuer", issuer)?;
    let mut audience = Parameter::new("String");
    audience.description = Some("JWT audience (client ID) the API accepts".into());
    let audience = stack.parameter("JwtAudience", audience)?;

    let api = stack
        .http_api("OrdersApi")
        .api_name("omnichannel-orders")
        .jwt_authorizer(issuer, [audience])
        .throttle(Throttle {
            burst: 500,
            rate: 200.0,
        })
        .build()?;
    // The correlation ID is stamped at the edge (the request's ID, which the access log
    // records too) and travels as a message attribute to the worker, which stores it.
    api.route(HttpMethod::Post, "/orders")
        .sqs_send_message(&services.ingest_queue)
        .message_attribute("correlationId", "${context.requestId}")
        .status_code(202)
        .build()?;

    let reader = stack
        .function("OrderStatusReader")
        .handler_crate("order-status-reader")
        .memory_mb(256)
        .timeout(Duration::secs(5))
        .env("STATUS_VIEW_TABLE", data.status_view.name())
        .build()?;
    data.status_view.grant(&reader, &["dynamodb:GetItem"]);
    api.route(HttpMethod::Get, "/orders/{id}")
        .function(&reader)
        .build()?;

    stack
        .output("ApiUrl", api.url())
        .description("Endpoint of the omnichannel orders API");
    Ok(())
}
