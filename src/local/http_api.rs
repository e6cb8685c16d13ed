//! HTTP APIs (API Gateway v2) as the engine serves them: route matching (`GET /orders/{id}`,
//! greedy `{proxy+}`, `$default`), the Lambda proxy event in payload format 2.0, and the
//! function's answer turned into an HTTP response. Pure.
//!
//! ```
//! use ordersctl::local::http_api::match_route;
//! let routes = ["POST /orders".to_string(), "GET /orders/{id}".to_string()];
//! let (i, params) = match_route(&routes, "GET", "/orders/o-1").unwrap();
//! assert_eq!((i, params["id"].as_str()), (1, "o-1"));
//! assert!(match_route(&routes, "DELETE", "/orders/o-1").is_none());
//! ```

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// The route (index into `routes`) an HTTP request takes, with its path parameters. Exact
/// routes win over ones with parameters, `ANY` matches every method, `$default` comes last.
pub fn match_route(
    routes: &[String],
    method: &str,
    path: &str,
) -> Option<(usize, BTreeMap<String, String>)> {
    // (route, its parameters, its rank: method specificity, then literal segments)
    type Candidate = (usize, BTreeMap<String, String>, (u8, usize));
    let mut best: Option<Candidate> = None;
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    for (i, key) in routes.iter().enumerate() {
        if key == "$default" {
            if best.is_none() {
                best = Some((i, BTreeMap::new(), (0, 0)));
            }
            continue;
        }
        let Some((m, template)) = key.split_once(' ') else {
            continue;
        };
        if m != "ANY" && !m.eq_ignore_ascii_case(method) {
            continue;
        }
        let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
        let mut params = BTreeMap::new();
        let mut exact = 0usize;
        let mut ok = true;
        for (k, p) in parts.iter().enumerate() {
            if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
                if k >= segments.len() || (k + 1) != parts.len() {
                    ok = false;
                    break;
                }
                params.insert(name.to_string(), segments[k..].join("/"));
                break;
            }
            match segments.get(k) {
                None => {
                    ok = false;
                    break;
                }
                Some(s) => match p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(name) if !s.is_empty() => {
                        params.insert(name.to_string(), s.to_string());
                    }
                    Some(_) => {
                        ok = false;
                        break;
                    }
                    None if p == s => exact += 1,
                    None => {
                        ok = false;
                        break;
                    }
                },
            }
            if k + 1 == parts.len() && segments.len() != parts.len() {
                ok = false;
            }
        }
        if !ok {
            continue;
        }
        let rank = (if m == "ANY" { 1 } else { 2 }, exact);
        if best.as_ref().is_none_or(|(_, _, r)| rank > *r) {
            best = Some((i, params, rank));
        }
    }
    best.map(|(i, p, _)| (i, p))
}

/// What a request carries in.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    /// Path with an optional `?query`.
    pub target: String,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
}

impl HttpRequest {
    /// The path without the query string.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or(&self.target)
    }
}

/// The Lambda proxy event, payload format 2.0.
pub fn event_v2(
    req: &HttpRequest,
    api_id: &str,
    route_key: &str,
    params: &BTreeMap<String, String>,
    claims: Option<&Value>,
    request_id: &str,
    time_ms: u64,
) -> Value {
    let query = req
        .target
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default();
    let mut qs = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let entry = qs
            .entry(k.to_string())
            .or_insert(Value::String(String::new()));
        *entry = match entry.as_str() {
            Some("") => Value::String(v.to_string()),
            Some(prev) => Value::String(format!("{prev},{v}")),
            None => Value::String(v.to_string()),
        };
    }
    let headers: serde_json::Map<String, Value> = req
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone())))
        .collect();
    let mut e = json!({
        "version": "2.0", "routeKey": route_key, "rawPath": req.path(), "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": super::resolve::ACCOUNT, "apiId": api_id, "domainName": format!("{api_id}.execute-api.localhost"),
            "domainPrefix": api_id, "http": {"method": req.method, "path": req.path(), "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": req.headers.get("user-agent").cloned().unwrap_or_else(|| "ordersctl-local".into())},
            "requestId": request_id, "routeKey": route_key, "stage": "$default",
            "time": super::trace::rfc3339_ms(time_ms), "timeEpoch": time_ms
        },
        "isBase64Encoded": false
    });
    if !qs.is_empty() {
        e["queryStringParameters"] = Value::Object(qs);
    }
    if !params.is_empty() {
        e["pathParameters"] = json!(params);
    }
    if let Some(b) = &req.body {
        e["body"] = Value::String(b.clone());
    }
    if let Some(c) = claims {
        e["requestContext"]["authorizer"] = json!({"jwt": {"claims": c, "scopes": null}});
    }
    e
}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// A function's answer as the response (payload 2.0): an object with `statusCode` is taken as
/// a response; anything else is a 200 with the value as a JSON body.
pub fn response_v2(answer: &Value) -> HttpResponse {
    match answer {
        Value::Object(m) if m.contains_key("statusCode") => {
            let status = m
                .get("statusCode")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .filter(|s| (100..600).contains(s))
                .unwrap_or(500);
            let headers = m
                .get("headers")
                .and_then(Value::as_object)
                .map(|h| {
                    h.iter()
                        .map(|(k, v)| (k.clone(), super::resolve::text(v)))
                        .collect()
                })
                .unwrap_or_default();
            let body = match m.get("body") {
                Some(Value::String(s)) => s.clone(),
                None | Some(Value::Null) => String::new(),
                Some(v) => v.to_string(),
            };
            HttpResponse {
                status,
                headers,
                body,
            }
        }
        v => HttpResponse {
            status: 200,
            headers: [("content-type".to_string(), "application/json".to_string())].into(),
            body: v.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Vec<String> {
        [
            "POST /orders",
            "GET /orders/{id}",
            "GET /orders/summary",
            "ANY /files/{proxy+}",
            "$default",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    #[test]
    fn routes_match_most_specific_first() {
        let r = routes();
        assert_eq!(match_route(&r, "POST", "/orders").unwrap().0, 0);
        assert_eq!(match_route(&r, "GET", "/orders/summary").unwrap().0, 2);
        let (i, p) = match_route(&r, "GET", "/orders/o-9").unwrap();
        assert_eq!((i, p["id"].as_str()), (1, "o-9"));
        let (i, p) = match_route(&r, "PUT", "/files/a/b/c.txt").unwrap();
        assert_eq!((i, p["proxy"].as_str()), (3, "a/b/c.txt"));
        assert_eq!(match_route(&r, "GET", "/nothing/here").unwrap().0, 4);
        assert!(match_route(&r[..3], "GET", "/orders/o-9/items").is_none());
        assert!(match_route(&r[..3], "GET", "/orders/").is_none());
    }

    #[test]
    fn the_v2_event_and_responses() {
        let req = HttpRequest {
            method: "GET".into(),
            target: "/orders/o-1?verbose=1&x=a&x=b".into(),
            headers: [("Authorization".into(), "Bearer t".into())].into(),
            body: None,
        };
        let e = event_v2(
            &req,
            "api1",
            "GET /orders/{id}",
            &[("id".to_string(), "o-1".to_string())].into(),
            Some(&json!({"sub": "u"})),
            "r-1",
            0,
        );
        assert_eq!(e["rawPath"], "/orders/o-1");
        assert_eq!(
            e["queryStringParameters"],
            json!({"verbose": "1", "x": "a,b"})
        );
        assert_eq!(e["pathParameters"]["id"], "o-1");
        assert_eq!(e["headers"]["authorization"], "Bearer t");
        assert_eq!(
            e["requestContext"]["authorizer"]["jwt"]["claims"]["sub"],
            "u"
        );
        assert_eq!(
            response_v2(&json!({"statusCode": 202, "body": "{\"ok\":true}"})).status,
            202
        );
        let plain = response_v2(&json!({"orderId": "o-1"}));
        assert_eq!(
            (plain.status, plain.body.as_str()),
            (200, "{\"orderId\":\"o-1\"}")
        );
        assert_eq!(response_v2(&json!({"statusCode": 9999})).status, 500);
    }
}
