//! HTTP APIs: a request is routed, authorized (a JWT route takes `auth: valid`, or any bearer
//! token on the local listener; signatures are not checked locally), and handed to its
//! integration: a Lambda function (payload 2.0, answered synchronously) or SQS SendMessage
//! under the integration role's policies.

use super::*;
use crate::local::http_api::{event_v2, match_route, response_v2, HttpRequest, HttpResponse};
use crate::local::world::HttpIntegration;

/// Whether the caller presents a valid token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Valid,
    None,
}

fn json_response(status: u16, body: Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: [("content-type".to_string(), "application/json".to_string())].into(),
        body: body.to_string(),
    }
}

impl Engine<'_> {
    /// Serve one request on an API (by name; optional when the stacks have one API).
    pub fn http(
        &mut self,
        api: Option<&str>,
        req: &HttpRequest,
        auth: Auth,
        from: &str,
    ) -> Result<HttpResponse, EngineError> {
        let api = self.api(api)?;
        let keys: Vec<String> = api.routes.iter().map(|r| r.key.clone()).collect();
        let request_id = self.id("http");
        let mut h = Hop::new("http", from, &api.logical_id, "");
        h.detail = Some(format!("{} {}", req.method, req.target));
        h.correlation_id = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("x-correlation-id"))
            .map(|(_, v)| v.clone());
        let Some((i, params)) = match_route(&keys, &req.method, req.path()) else {
            h.outcome = "404".into();
            self.hop(h);
            return Ok(json_response(404, json!({"message": "Not Found"})));
        };
        let route = &api.routes[i];
        h.detail = Some(format!(
            "{} {} -> route {}",
            req.method, req.target, route.key
        ));
        let claims = match (&route.jwt, auth) {
            (None, _) => None,
            (Some(_), Auth::None) => {
                h.outcome = "401".into();
                h.error = Some(
                    "the route has a JWT authorizer and the request has no valid token".into(),
                );
                self.hop(h);
                return Ok(json_response(401, json!({"message": "Unauthorized"})));
            }
            (Some((issuer, audience)), Auth::Valid) => Some(
                json!({"iss": issuer, "aud": audience.first().cloned().unwrap_or_default(), "sub": "local-user", "scope": ""}),
            ),
        };
        let response = match &route.integration {
            HttpIntegration::Lambda { function } => {
                let f = self.function(function)?;
                h.to = f.name.clone();
                let event = event_v2(
                    req,
                    &api.logical_id,
                    &route.key,
                    &params,
                    claims.as_ref(),
                    &request_id,
                    self.clock,
                );
                match self.run_function(f, &event) {
                    Ok(answer) => response_v2(&answer),
                    Err((t, m)) => {
                        h.error = Some(format!("{t}: {m}"));
                        json_response(500, json!({"message": "Internal Server Error"}))
                    }
                }
            }
            HttpIntegration::SqsSend {
                queue,
                body,
                attributes,
                policies,
                status,
            } => {
                h.to = queue.clone();
                let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}");
                if crate::local::iam::evaluate(policies, "sqs:SendMessage", &arn)
                    != crate::local::iam::Decision::Allow
                {
                    let mut d = Hop::new(
                        "call",
                        format!("{}/integration", api.logical_id),
                        "sqs",
                        "denied",
                    );
                    d.error = Some(format!("sqs:SendMessage on {arn}"));
                    self.hop(d);
                    json_response(500, json!({"message": "Internal Server Error"}))
                } else {
                    let text = if body == "$request.body" {
                        req.body.clone().unwrap_or_default()
                    } else {
                        body.clone()
                    };
                    let attributes = attributes
                        .as_ref()
                        .map(|a| fill_mappings(a, &request_id, req));
                    match self.send_with(queue, &Value::String(text), attributes) {
                        Ok(id) => {
                            h.message_ids = vec![id.clone()];
                            json_response(
                                *status,
                                json!({"SendMessageResponse": {"SendMessageResult": {"MessageId": id}, "ResponseMetadata": {"RequestId": request_id}}}),
                            )
                        }
                        Err(e) => {
                            h.error = Some(e);
                            json_response(500, json!({"message": "Internal Server Error"}))
                        }
                    }
                }
            }
        };
        h.outcome = response.status.to_string();
        if response.status < 400 && !response.body.is_empty() {
            let shown: String = response.body.chars().take(300).collect();
            h.detail = Some(format!(
                "{}; response {shown}",
                h.detail.take().unwrap_or_default()
            ));
        }
        if h.error.is_none() && response.status >= 400 {
            h.error = Some(response.body.chars().take(300).collect());
        }
        self.hop(h);
        Ok(response)
    }
}

/// The `${context.requestId}` and `${request.header.NAME}` mappings API Gateway fills in a
/// direct integration's parameters (an unknown mapping becomes empty, as API Gateway's does).
fn fill_mappings(v: &Value, request_id: &str, req: &HttpRequest) -> Value {
    match v {
        Value::String(s) => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("${") {
                out.push_str(&rest[..start]);
                let Some(end) = rest[start..].find('}') else {
                    break;
                };
                let name = &rest[start + 2..start + end];
                let value = match name {
                    "context.requestId" => Some(request_id.to_string()),
                    n => n.strip_prefix("request.header.").and_then(|h| {
                        req.headers
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(h))
                            .map(|(_, v)| v.clone())
                    }),
                };
                out.push_str(&value.unwrap_or_default());
                rest = &rest[start + end + 1..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), fill_mappings(x, request_id, req)))
                .collect(),
        ),
        other => other.clone(),
    }
}
