//! HTTP APIs read from their API Gateway v2 resources: routes with their authorizer and
//! integration. Route targets and IDs are read from the template's references (local
//! endpoints do not model these resources, so they have no physical IDs to resolve).

use serde_json::Value;

use super::{role_policies_of, World};
use crate::local::resolve::{DeployedStack, Resolver};
use crate::template::Expr;

/// An HTTP API.
#[derive(Debug, Clone)]
pub struct HttpApi {
    pub stack: String,
    pub logical_id: String,
    pub name: String,
    pub routes: Vec<HttpRoute>,
}

/// One route.
#[derive(Debug, Clone)]
pub struct HttpRoute {
    /// `POST /orders`, `GET /orders/{id}`, `$default`.
    pub key: String,
    /// The JWT authorizer's issuer and audiences, when the route has one.
    pub jwt: Option<(String, Vec<String>)>,
    pub integration: HttpIntegration,
}

/// What a route calls.
#[derive(Debug, Clone)]
pub enum HttpIntegration {
    /// Lambda proxy, payload format 2.0.
    Lambda { function: String },
    /// The SQS-SendMessage integration: the queue, the body source, the integration role's
    /// policies, the status code it answers with.
    SqsSend {
        queue: String,
        body: String,
        /// `MessageAttributes` (name -> DataType/StringValue with `${..}` mappings).
        attributes: Option<Value>,
        policies: Vec<Value>,
        status: u16,
    },
}

fn referenced(e: Option<&Expr>) -> Option<String> {
    let mut found = None;
    e?.walk(&mut |x| {
        if let (Expr::Ref(t), None) = (x, &found) {
            found = Some(t.logical_id.clone());
        }
    });
    found
}

/// Read every HTTP API of `s` into `w`; problems are pushed, each naming the resource.
pub(super) fn read_apis(
    r: &Resolver<'_>,
    s: &DeployedStack,
    w: &mut World,
    problems: &mut Vec<String>,
) {
    let stack = s.name.as_str();
    let res = &s.template.resources;
    for (api_id, api) in res
        .iter()
        .filter(|(_, x)| x.resource_type == "AWS::ApiGatewayV2::Api")
    {
        let here = |id: &str, ty: &str, m: String| format!("{stack}/{id} ({ty}): {m}");
        if api.properties.get("ProtocolType").and_then(Expr::as_str) != Some("HTTP") {
            problems.push(here(
                api_id,
                "AWS::ApiGatewayV2::Api",
                "only HTTP APIs are served (not WebSocket)".into(),
            ));
            continue;
        }
        if api.properties.contains_key("Target")
            || api.properties.contains_key("Body")
            || api.properties.contains_key("BodyS3Location")
        {
            problems.push(here(api_id, "AWS::ApiGatewayV2::Api", "quick-create and OpenAPI-body APIs are not served; declare Route and Integration resources".into()));
            continue;
        }
        let name = api
            .properties
            .get("Name")
            .and_then(|e| r.string(stack, e).ok())
            .unwrap_or_else(|| api_id.clone());
        let mut routes = Vec::new();
        for (route_id, route) in res
            .iter()
            .filter(|(_, x)| x.resource_type == "AWS::ApiGatewayV2::Route")
        {
            if referenced(route.properties.get("ApiId")).as_deref() != Some(api_id.as_str()) {
                continue;
            }
            let rty = "AWS::ApiGatewayV2::Route";
            let Some(key) = route
                .properties
                .get("RouteKey")
                .and_then(|e| r.string(stack, e).ok())
            else {
                problems.push(here(route_id, rty, "no RouteKey".into()));
                continue;
            };
            let jwt = match route
                .properties
                .get("AuthorizationType")
                .and_then(Expr::as_str)
            {
                None | Some("NONE") => None,
                Some("JWT") => {
                    let Some(auth) =
                        referenced(route.properties.get("AuthorizerId")).and_then(|a| res.get(&a))
                    else {
                        problems.push(here(
                            route_id,
                            rty,
                            "AuthorizationType JWT without an AuthorizerId of this stack".into(),
                        ));
                        continue;
                    };
                    let cfg = auth
                        .properties
                        .get("JwtConfiguration")
                        .and_then(|e| r.value(stack, e).ok().flatten())
                        .unwrap_or(Value::Null);
                    let issuer = cfg
                        .get("Issuer")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    let audience = cfg
                        .get("Audience")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    Some((issuer, audience))
                }
                Some(other) => {
                    problems.push(here(
                        route_id,
                        rty,
                        format!("AuthorizationType {other} is not run locally (JWT and NONE are)"),
                    ));
                    continue;
                }
            };
            let Some((int_id, integ)) = referenced(route.properties.get("Target"))
                .and_then(|i| res.get(&i).map(|x| (i, x)))
            else {
                problems.push(here(
                    route_id,
                    rty,
                    "no Target integration of this stack".into(),
                ));
                continue;
            };
            let ity = "AWS::ApiGatewayV2::Integration";
            let prop = |k: &str| {
                integ
                    .properties
                    .get(k)
                    .and_then(|e| r.value(stack, e).ok().flatten())
            };
            let text = |k: &str| prop(k).and_then(|v| v.as_str().map(str::to_string));
            let integration = match (
                text("IntegrationType").as_deref(),
                text("IntegrationSubtype").as_deref(),
            ) {
                (Some("AWS_PROXY"), None) => {
                    if text("PayloadFormatVersion").as_deref() != Some("2.0") {
                        problems.push(here(
                            &int_id,
                            ity,
                            "Lambda proxy integrations are served with payload format 2.0 only"
                                .into(),
                        ));
                        continue;
                    }
                    let uri = text("IntegrationUri").unwrap_or_default();
                    let function = uri
                        .split(":function:")
                        .nth(1)
                        .map(|f| f.split([':', '/']).next().unwrap_or(f).to_string())
                        .unwrap_or(uri);
                    HttpIntegration::Lambda { function }
                }
                (Some("AWS_PROXY"), Some("SQS-SendMessage")) => {
                    let params = prop("RequestParameters").unwrap_or(Value::Null);
                    let queue = params
                        .get("QueueUrl")
                        .and_then(Value::as_str)
                        .map(|u| u.rsplit('/').next().unwrap_or(u).to_string())
                        .unwrap_or_default();
                    let body = params
                        .get("MessageBody")
                        .and_then(Value::as_str)
                        .unwrap_or("$request.body")
                        .to_string();
                    let status = prop("ResponseParameters")
                        .and_then(|rp| rp.get("200").cloned())
                        .and_then(|m| {
                            m.get("ResponseParameters")
                                .and_then(Value::as_array)
                                .cloned()
                        })
                        .and_then(|list| {
                            list.iter()
                                .find(|p| {
                                    p.get("Destination").and_then(Value::as_str)
                                        == Some("overwrite:statuscode")
                                })
                                .and_then(|p| p.get("Source")?.as_str()?.parse().ok())
                        })
                        .unwrap_or(200);
                    let policies =
                        match role_policies_of(r, s, integ.properties.get("CredentialsArn")) {
                            Ok(p) => p,
                            Err(e) => {
                                problems.push(here(&int_id, ity, e));
                                continue;
                            }
                        };
                    let attributes = params
                        .get("MessageAttributes")
                        .and_then(Value::as_str)
                        .and_then(|s| serde_json::from_str(s).ok());
                    HttpIntegration::SqsSend {
                        queue,
                        body,
                        attributes,
                        policies,
                        status,
                    }
                }
                (t, st) => {
                    problems.push(here(&int_id, ity, format!("integration {} {} is not served locally (AWS_PROXY to Lambda, and SQS-SendMessage, are)", t.unwrap_or("?"), st.unwrap_or(""))));
                    continue;
                }
            };
            routes.push(HttpRoute {
                key,
                jwt,
                integration,
            });
        }
        w.http_apis.push(HttpApi {
            stack: stack.into(),
            logical_id: api_id.clone(),
            name,
            routes,
        });
    }
}
