//! HTTP APIs (API Gateway v2): routes to functions or straight to SQS, JWT authorizers,
//! throttling and access logs on the `$default` stage.

use crate::spec::cfn;
use std::collections::BTreeMap;

use super::error::check_range;
use super::function::FunctionRef;
use super::iam::{assume_role_policy, Statement};
use super::key::key_use;
use super::log_group::{add_log_group, retention_days};
use super::queue::QueueRef;
use super::stack::{check_construct_id, handle, Facts, Node, PolicyHolder};
use super::{Duration, Stack, SynthError};
use crate::template::{Expr, Resource};

/// An HTTP method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
    Any,
}

impl HttpMethod {
    fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Head => "HEAD",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Any => "ANY",
        }
    }
}

/// Request throttling: burst (requests) and steady rate (requests per second).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    pub burst: u32,
    pub rate: f64,
}

handle!(
    /// An HTTP API.
    HttpApiRef
);

/// Builder for an `AWS::ApiGatewayV2::Api` (protocol HTTP) with a `$default` stage
/// (`<Id>DefaultStage`, auto-deploy, access logs to `<Id>AccessLogs`).
///
/// ```
/// use ordersctl::constructs::{App, HttpMethod, Throttle};
/// use ordersctl::template::Expr;
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let f = stack.function("Ingest").handler_crate("ingest").build()?;
/// let api = stack.http_api("OrdersApi")
///     .jwt_authorizer("https://issuer.example.com", [Expr::from("orders")])
///     .throttle(Throttle { burst: 100, rate: 50.0 })
///     .build()?;
/// api.route(HttpMethod::Post, "/orders").function(&f).build()?;
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "an HTTP API is added by build()"]
pub struct HttpApiBuilder<'a> {
    stack: &'a Stack,
    id: String,
    api_name: Option<String>,
    description: Option<String>,
    jwt: Option<(Expr, Vec<Expr>)>,
    throttle: Option<Throttle>,
    log_retention: Duration,
}

impl Stack {
    /// Start an HTTP API.
    pub fn http_api(&self, id: &str) -> HttpApiBuilder<'_> {
        HttpApiBuilder {
            stack: self,
            id: id.to_string(),
            api_name: None,
            description: None,
            jwt: None,
            throttle: None,
            log_retention: Duration::days(30),
        }
    }
}

impl<'a> HttpApiBuilder<'a> {
    /// Physical API name (defaults to the construct ID).
    pub fn api_name(mut self, name: &str) -> Self {
        self.api_name = Some(name.to_string());
        self
    }
    /// Description.
    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.to_string());
        self
    }
    /// A JWT authorizer (`<Id>Authorizer`) reading the `Authorization` header; routes use it
    /// unless they opt out with `.no_authorizer()`.
    pub fn jwt_authorizer(
        mut self,
        issuer: impl Into<Expr>,
        audience: impl IntoIterator<Item = Expr>,
    ) -> Self {
        self.jwt = Some((issuer.into(), audience.into_iter().collect()));
        self
    }
    /// Default throttling of every route.
    pub fn throttle(mut self, t: Throttle) -> Self {
        self.throttle = Some(t);
        self
    }
    /// Access-log retention (30 days by default).
    pub fn log_retention(mut self, d: Duration) -> Self {
        self.log_retention = d;
        self
    }

    /// Validate and add the API, its stage, access-log group and authorizer.
    pub fn build(self) -> Result<HttpApiRef<'a>, SynthError> {
        check_construct_id(self.stack.name(), &self.id)?;
        let path = self.stack.child_path(&self.id);
        let p = path.as_str();
        if let Some(t) = self.throttle {
            check_throttle(p, "throttle", t)?;
        }
        let days = retention_days(p, self.log_retention)?;
        if let Some((_, aud)) = &self.jwt {
            check_range(p, "jwt audience entries", aud.len() as i64, 1, 50, "")?;
        }
        let id = self.id.as_str();
        let mut api = Resource::new("AWS::ApiGatewayV2::Api");
        api.set(
            cfn::Name,
            self.api_name.clone().unwrap_or_else(|| id.to_string()),
        )
        .set(cfn::ProtocolType, "HTTP")
        .set_opt(cfn::Description, self.description.clone());
        self.stack.add_resource(id, p, api)?;

        let log_id = format!("{id}AccessLogs");
        add_log_group(self.stack, &log_id, p, days)?;

        let mut stage = Resource::new("AWS::ApiGatewayV2::Stage");
        let log_arn = Expr::join(
            "",
            [
                Expr::sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"),
                self.stack.ref_(&log_id),
            ],
        );
        let format = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","routeKey":"$context.routeKey","status":"$context.status","responseLength":"$context.responseLength","integrationError":"$context.integrationErrorMessage","authorizerError":"$context.authorizer.error"}"#;
        stage
            .set(cfn::ApiId, self.stack.ref_(id))
            .set(cfn::StageName, "$default")
            .set(cfn::AutoDeploy, true)
            .set(
                cfn::AccessLogSettings,
                Expr::map([
                    (cfn::DestinationArn, log_arn),
                    (cfn::Format, Expr::from(format)),
                ]),
            );
        if let Some(t) = self.throttle {
            stage.set(cfn::DefaultRouteSettings, throttle_expr(t));
        }
        self.stack
            .add_resource(&format!("{id}DefaultStage"), p, stage)?;

        let mut facts = Facts::default();
        if let Some((issuer, audience)) = &self.jwt {
            let auth_id = format!("{id}Authorizer");
            let mut a = Resource::new("AWS::ApiGatewayV2::Authorizer");
            a.set(cfn::ApiId, self.stack.ref_(id))
                .set(cfn::AuthorizerType, "JWT")
                .set(cfn::Name, format!("{id}Jwt"))
                .set(
                    cfn::IdentitySource,
                    Expr::strings(["$request.header.Authorization"]),
                )
                .set(
                    cfn::JwtConfiguration,
                    Expr::map([
                        (cfn::Issuer, issuer.clone()),
                        (cfn::Audience, Expr::List(audience.clone())),
                    ]),
                );
            self.stack.add_resource(&auth_id, p, a)?;
            facts.authorizer = Some(auth_id);
        }
        let node = self.stack.add_node(Node {
            path,
            logical_id: id.to_string(),
            facts,
            imported: None,
        });
        Ok(HttpApiRef {
            stack: self.stack,
            node,
        })
    }
}

fn check_throttle(path: &str, what: &str, t: Throttle) -> Result<(), SynthError> {
    check_range(
        path,
        &format!("{what} burst"),
        i64::from(t.burst),
        0,
        5000,
        "requests",
    )?;
    if !(t.rate >= 0.0 && t.rate <= 10_000.0) {
        return Err(SynthError::out_of_range(
            path,
            format!("{what} rate"),
            format!("{} requests/s", t.rate),
            "0 to 10000 requests/s",
        ));
    }
    Ok(())
}

fn throttle_expr(t: Throttle) -> Expr {
    Expr::map([
        (cfn::ThrottlingBurstLimit, Expr::from(t.burst)),
        (cfn::ThrottlingRateLimit, Expr::from(t.rate)),
    ])
}

/// What a route invokes.
#[derive(Debug, Clone, Copy)]
enum RouteTarget<'a> {
    Function(FunctionRef<'a>),
    SqsSendMessage(QueueRef<'a>),
}

/// Builder for one route, from [`HttpApiRef::route`].
///
/// ```
/// use ordersctl::constructs::{App, HttpMethod, Throttle};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let api = stack.http_api("Api").build()?;
/// let f = stack.function("GetOrder").handler_crate("order-status-reader").build()?;
/// api.route(HttpMethod::Get, "/orders/{id}")
///     .function(&f)
///     .throttle(Throttle { burst: 20, rate: 10.0 })
///     .build()?;
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "a route is added by build()"]
pub struct RouteBuilder<'a> {
    api: HttpApiRef<'a>,
    method: HttpMethod,
    route_path: String,
    target: Option<RouteTarget<'a>>,
    authorize: bool,
    throttle: Option<Throttle>,
    status_override: Option<u16>,
    /// SQS message attributes of a direct SQS route: name -> mapping (`${context.requestId}`).
    message_attributes: Vec<(String, String)>,
}

handle!(
    /// A route of an HTTP API.
    RouteRef
);

impl<'a> HttpApiRef<'a> {
    /// The API endpoint URL (`https://<id>.execute-api.<region>.amazonaws.com`).
    pub fn url(&self) -> Expr {
        self.att("ApiEndpoint")
    }
    /// The API ID.
    pub fn api_id(&self) -> Expr {
        self.ref_()
    }
    /// Start a route such as `POST /orders` or `GET /orders/{id}`.
    pub fn route(&self, method: HttpMethod, path: &str) -> RouteBuilder<'a> {
        RouteBuilder {
            api: *self,
            method,
            route_path: path.to_string(),
            target: None,
            authorize: true,
            throttle: None,
            status_override: None,
            message_attributes: Vec::new(),
        }
    }
}

fn route_id(method: HttpMethod, path: &str) -> String {
    let mut id = String::new();
    let m = method.as_str();
    id.push_str(&m[..1]);
    id.push_str(&m[1..].to_ascii_lowercase());
    for word in path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_uppercase());
            id.extend(chars);
        }
    }
    if path.contains('{') {
        id.push_str("Param");
    }
    id
}

impl<'a> RouteBuilder<'a> {
    /// Invoke a function (Lambda proxy, payload format 2.0).
    pub fn function(mut self, f: &FunctionRef<'a>) -> Self {
        self.target = Some(RouteTarget::Function(*f));
        self
    }
    /// Send the request body straight to a queue (no Lambda), through a role that may only
    /// send to that queue.
    pub fn sqs_send_message(mut self, q: &QueueRef<'a>) -> Self {
        self.target = Some(RouteTarget::SqsSendMessage(*q));
        self
    }
    /// A String message attribute on each message a direct SQS route sends, from a mapping
    /// expression (`${context.requestId}`, `${request.header.x-correlation-id}`) or a literal:
    /// e.g. a correlation ID stamped at the edge.
    ///
    /// ```
    /// use ordersctl::constructs::{App, HttpMethod};
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let q = stack.queue("Ingest").build()?;
    /// let api = stack.http_api("Api").build()?;
    /// api.route(HttpMethod::Post, "/orders")
    ///     .sqs_send_message(&q)
    ///     .message_attribute("correlationId", "${context.requestId}")
    ///     .build()?;
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn message_attribute(mut self, name: &str, value: &str) -> Self {
        self.message_attributes
            .push((name.to_string(), value.to_string()));
        self
    }
    /// Answer with this status code instead of the integration's 200 (e.g. 202 Accepted).
    pub fn status_code(mut self, code: u16) -> Self {
        self.status_override = Some(code);
        self
    }
    /// Route-specific throttling.
    pub fn throttle(mut self, t: Throttle) -> Self {
        self.throttle = Some(t);
        self
    }
    /// Do not use the API's authorizer on this route (public route).
    pub fn no_authorizer(mut self) -> Self {
        self.authorize = false;
        self
    }

    /// Validate and add the route, its integration and what the integration needs.
    pub fn build(self) -> Result<RouteRef<'a>, SynthError> {
        let stack = self.api.stack;
        let api_id = self.api.logical_id();
        let rid = route_id(self.method, &self.route_path);
        let path = format!("{}/{rid}", self.api.path());
        let p = path.as_str();
        if !self.route_path.starts_with('/')
            || self.route_path.contains("//")
            || self.route_path.contains(' ')
        {
            return Err(SynthError::invalid(p, format!("route path `{}` is not allowed; allowed: `/` then segments like `orders` or `{{id}}`", self.route_path)));
        }
        if let Some(t) = self.throttle {
            check_throttle(p, "route throttle", t)?;
        }
        if let Some(code) = self.status_override {
            check_range(p, "status_code", i64::from(code), 200, 599, "")?;
        }
        let target = self.target.ok_or_else(|| {
            SynthError::invalid(
                p,
                "a route needs a target: .function(&f) or .sqs_send_message(&queue)",
            )
        })?;
        let route_key = format!("{} {}", self.method.as_str(), self.route_path);
        let integ_id = format!("{api_id}{rid}Integration");
        let mut integ = Resource::new("AWS::ApiGatewayV2::Integration");
        integ
            .set(cfn::ApiId, stack.ref_(&api_id))
            .set(cfn::IntegrationType, "AWS_PROXY");
        match target {
            RouteTarget::Function(f) => {
                integ
                    .set(cfn::IntegrationUri, f.arn())
                    .set(cfn::PayloadFormatVersion, "2.0");
                let source = Expr::join(
                    "",
                    [
                        Expr::sub(
                            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:",
                        ),
                        stack.ref_(&api_id),
                        Expr::from(format!(
                            "/*/{}{}",
                            self.method.as_str().replace("ANY", "*"),
                            strip_params(&self.route_path)
                        )),
                    ],
                );
                let mut perm = Resource::new("AWS::Lambda::Permission");
                perm.set(cfn::Action, "lambda:InvokeFunction")
                    .set(cfn::FunctionName, f.arn())
                    .set(cfn::Principal, "apigateway.amazonaws.com")
                    .set(cfn::SourceArn, source);
                stack.add_resource(&format!("{api_id}{rid}Permission"), p, perm)?;
            }
            RouteTarget::SqsSendMessage(q) => {
                let role_id = format!("{api_id}{rid}Role");
                let mut role = Resource::new("AWS::IAM::Role");
                role.set(
                    cfn::AssumeRolePolicyDocument,
                    assume_role_policy("apigateway.amazonaws.com"),
                );
                stack.add_resource(&role_id, p, role)?;
                let holder = PolicyHolder::Role {
                    policy_name: format!("{api_id}{rid}Policy"),
                };
                stack.attach_policy(
                    &role_id,
                    holder.clone(),
                    p,
                    Statement::allow(["sqs:SendMessage"], [q.arn()]),
                );
                if let Some(key) = q.facts().kms_key_arn {
                    stack.attach_policy(&role_id, holder, p, key_use(key));
                }
                integ
                    .set(cfn::IntegrationSubtype, "SQS-SendMessage")
                    .set(cfn::CredentialsArn, stack.get_att(&role_id, cfn::Arn))
                    .set(cfn::PayloadFormatVersion, "1.0")
                    .set(cfn::RequestParameters, {
                        let mut params = vec![
                            (cfn::QueueUrl, q.url()),
                            ("MessageBody", Expr::from("$request.body")),
                        ];
                        if !self.message_attributes.is_empty() {
                            // A JSON string; API Gateway fills the `${..}` mappings in it.
                            let attributes: serde_json::Map<String, serde_json::Value> = self
                                .message_attributes
                                .iter()
                                .map(|(n, v)| {
                                    (
                                        n.clone(),
                                        serde_json::json!({cfn::DataType: "String", cfn::StringValue: v}),
                                    )
                                })
                                .collect();
                            params.push((
                                "MessageAttributes",
                                Expr::from(serde_json::Value::Object(attributes).to_string()),
                            ));
                        }
                        Expr::map(params)
                    });
            }
        }
        if let Some(code) = self.status_override {
            let param = Expr::map([
                (cfn::Destination, Expr::from("overwrite:statuscode")),
                (cfn::Source, Expr::from(code.to_string())),
            ]);
            integ.set(
                cfn::ResponseParameters,
                Expr::map([(
                    "200",
                    Expr::map([(cfn::ResponseParameters, Expr::list([param]))]),
                )]),
            );
        }
        stack.add_resource(&integ_id, p, integ)?;

        let mut route = Resource::new("AWS::ApiGatewayV2::Route");
        route
            .set(cfn::ApiId, stack.ref_(&api_id))
            .set(cfn::RouteKey, route_key.as_str())
            .set(
                cfn::Target,
                Expr::join("", [Expr::from("integrations/"), stack.ref_(&integ_id)]),
            );
        let authorizer = self.api.facts().authorizer;
        match (self.authorize, authorizer) {
            (true, Some(auth)) => {
                route
                    .set(cfn::AuthorizationType, "JWT")
                    .set(cfn::AuthorizerId, stack.ref_(&auth));
            }
            _ => {
                route.set(cfn::AuthorizationType, "NONE");
            }
        }
        let route_logical = format!("{api_id}{rid}Route");
        stack.add_resource(&route_logical, p, route)?;
        if let Some(t) = self.throttle {
            let stage_id = format!("{api_id}DefaultStage");
            let key = route_key.clone();
            stack.modify_resource(&stage_id, |stage| {
                let mut settings = match stage.properties.remove(cfn::RouteSettings) {
                    Some(Expr::Map(m)) => m,
                    _ => BTreeMap::new(),
                };
                settings.insert(key, throttle_expr(t));
                stage.set(cfn::RouteSettings, Expr::Map(settings));
                // The stage must be created after the route it configures.
                stage.depends_on.insert(route_logical.clone());
            });
        }
        let node = stack.add_node(Node {
            path,
            logical_id: format!("{api_id}{rid}Route"),
            facts: Facts::default(),
            imported: None,
        });
        Ok(RouteRef { stack, node })
    }
}

/// `/orders/{id}` -> `/orders/*`: the execute-api ARN matches path parameters with `*`.
fn strip_params(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "*" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
#[path = "http_api_tests.rs"]
mod tests;
