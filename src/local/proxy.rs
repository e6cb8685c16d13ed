//! The AWS-call proxy in front of the local endpoint. Every function's SDK points at it (its
//! `AWS_ENDPOINT_URL`), with the function's own access key ID so the proxy knows who calls.
//! Each call is evaluated against that function role's policies with [`super::iam`]; a denied
//! call is answered with AccessDenied as AWS would. Calls whose delivery the engine owns
//! (EventBridge PutEvents, Step Functions StartExecution and task tokens, asynchronous Lambda
//! invokes) are answered here and handed to the engine; the rest (SQS, DynamoDB, S3 ...) go
//! on to the endpoint unchanged.

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::authorize::authorization;
#[cfg(test)]
use super::authorize::token_machine;
use super::http::{read_request, response, Request};
use super::iam::{evaluate, Decision};
use super::resolve::ACCOUNT;
use super::trace::Hop;

/// Who may call: a function (or the engine itself, unchecked).
#[derive(Debug, Clone)]
pub struct Principal {
    pub name: String,
    pub role_arn: String,
    pub policies: Vec<Value>,
}

/// A call the engine performs on the caller's behalf.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineCall {
    PutEvent {
        caller: String,
        bus: String,
        source: String,
        detail_type: String,
        detail: Value,
        resources: Vec<String>,
        trace_header: Option<String>,
    },
    StartExecution {
        caller: String,
        state_machine_arn: String,
        execution_arn: String,
        input: Value,
    },
    TaskResult {
        caller: String,
        token: String,
        result: Result<Value, (String, String)>,
    },
    InvokeAsync {
        caller: String,
        function: String,
        payload: Value,
    },
    /// SNS Publish: topic, message, subject, attributes (name, data type, value).
    Publish {
        caller: String,
        topic_arn: String,
        message: String,
        subject: Option<String>,
        attributes: Vec<(String, String, String)>,
        message_id: String,
    },
}

/// What the proxy and the engine share.
#[derive(Debug, Default)]
pub struct Shared {
    pub principals: Mutex<BTreeMap<String, Principal>>,
    /// Calls for the engine, in arrival order.
    pub calls: Mutex<Vec<EngineCall>>,
    /// Hops for the trace (AWS calls), in arrival order; the engine stamps time and order.
    pub hops: Mutex<Vec<Hop>>,
    counter: AtomicU64,
    stop: AtomicBool,
}

/// A running proxy; stops accepting when dropped.
pub struct Proxy {
    pub port: u16,
    pub shared: Arc<Shared>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

impl Proxy {
    /// Listen on a free loopback port, forwarding to `upstream`.
    pub fn start(upstream: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared::default());
        let s = Arc::clone(&shared);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let s = Arc::clone(&s);
                std::thread::spawn(move || serve(stream, upstream, &s));
            }
        });
        Ok(Proxy { port, shared })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn serve(stream: TcpStream, upstream: SocketAddr, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(300)));
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut out = stream;
    while let Some(req) = read_request(&mut reader) {
        let reply = handle(&req, upstream, shared);
        if out.write_all(&reply).is_err() {
            return;
        }
    }
}

/// The caller's access key and the service from the SigV4 credential scope.
fn credential(req: &Request) -> (String, String) {
    let auth = req.header("authorization").unwrap_or_default();
    let cred = auth
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split([',', ' ']).next())
        .unwrap_or_default();
    let parts: Vec<&str> = cred.split('/').collect();
    (
        parts.first().copied().unwrap_or_default().to_string(),
        parts.get(3).copied().unwrap_or_default().to_string(),
    )
}

fn handle(req: &Request, upstream: SocketAddr, shared: &Shared) -> Vec<u8> {
    let (key, service) = credential(req);
    let principal = shared
        .principals
        .lock()
        .map(|p| p.get(&key).cloned())
        .unwrap_or(None);
    let op = req
        .header("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "{} {}",
                req.method,
                req.target.split('?').next().unwrap_or_default()
            )
        });
    if let Some(p) = &principal {
        match authorization(&service, req) {
            Some(checks) => {
                for (action, resource) in checks {
                    if evaluate(&p.policies, &action, &resource) != Decision::Allow {
                        let mut h = Hop::new("call", &p.name, &service, "denied");
                        h.error = Some(format!("{action} on {resource}"));
                        push(shared, h);
                        return denied(&service, req, p, &action, &resource);
                    }
                }
            }
            None => {
                let mut h = Hop::new("call", &p.name, &service, "unchecked");
                h.detail = Some(format!(
                    "{op}: the proxy cannot tell this call's resource, so it was not evaluated"
                ));
                push(shared, h);
            }
        }
    }
    let caller = principal
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_else(|| "engine".into());
    if let Some(reply) = engine_call(&service, req, &caller, shared) {
        return reply;
    }
    forward(req, upstream)
}

fn push(shared: &Shared, h: Hop) {
    if let Ok(mut hops) = shared.hops.lock() {
        hops.push(h);
    }
}

fn denied(service: &str, req: &Request, p: &Principal, action: &str, resource: &str) -> Vec<u8> {
    let role = p.role_arn.rsplit('/').next().unwrap_or(&p.role_arn);
    let message = format!(
        "User: arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action",
        p.name
    );
    if req.header("x-amz-target").is_some() {
        let body = json!({"__type": "com.amazon.coral.service#AccessDeniedException", "message": message, "Message": message});
        return response(
            400,
            "Bad Request",
            &[
                ("content-type", "application/x-amz-json-1.0".into()),
                ("x-amzn-query-error", "AccessDenied;Sender".into()),
            ],
            body.to_string().as_bytes(),
        );
    }
    if service == "lambda" {
        let body = json!({"Type": "User", "Message": message});
        return response(
            403,
            "Forbidden",
            &[
                ("content-type", "application/json".into()),
                ("x-amzn-errortype", "AccessDeniedException".into()),
            ],
            body.to_string().as_bytes(),
        );
    }
    let xml = format!("<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{}</Message></Error><RequestId>local</RequestId></ErrorResponse>", message.replace('&', "&amp;").replace('<', "&lt;"));
    response(
        403,
        "Forbidden",
        &[("content-type", "text/xml".into())],
        xml.as_bytes(),
    )
}

/// Calls the engine performs itself; `None` to forward.
fn engine_call(service: &str, req: &Request, caller: &str, shared: &Shared) -> Option<Vec<u8>> {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let op = req
        .header("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or_default();
    let json_ok = |v: Value| {
        response(
            200,
            "OK",
            &[("content-type", "application/x-amz-json-1.1".into())],
            v.to_string().as_bytes(),
        )
    };
    let next = || shared.counter.fetch_add(1, Ordering::SeqCst) + 1;
    let mut calls = Vec::new();
    let reply = match (service, op) {
        ("events", "PutEvents") => {
            let mut entries = Vec::new();
            for e in body
                .get("Entries")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let s = |k: &str| {
                    e.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                let detail = serde_json::from_str(&s("Detail")).unwrap_or(Value::Null);
                let bus = s("EventBusName");
                calls.push(EngineCall::PutEvent {
                    caller: caller.into(),
                    bus: if bus.is_empty() {
                        "default".into()
                    } else {
                        bus.rsplit('/').next().unwrap_or(&bus).to_string()
                    },
                    source: s("Source"),
                    detail_type: s("DetailType"),
                    detail,
                    resources: e
                        .get("Resources")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default(),
                    trace_header: e
                        .get("TraceHeader")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                });
                entries
                    .push(json!({"EventId": format!("00000000-0000-4000-8000-{:012x}", next())}));
            }
            json_ok(json!({"FailedEntryCount": 0, "Entries": entries}))
        }
        ("states", "StartExecution") => {
            let sm = body
                .get("stateMachineArn")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let name = body
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("local-{}", next()));
            let execution_arn = format!("{}:{name}", sm.replace(":stateMachine:", ":execution:"));
            let input = body
                .get("input")
                .and_then(Value::as_str)
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or(json!({}));
            calls.push(EngineCall::StartExecution {
                caller: caller.into(),
                state_machine_arn: sm,
                execution_arn: execution_arn.clone(),
                input,
            });
            json_ok(json!({"executionArn": execution_arn, "startDate": 0}))
        }
        ("states", "SendTaskSuccess") | ("states", "SendTaskFailure") => {
            let token = body
                .get("taskToken")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let result = if op == "SendTaskSuccess" {
                Ok(body
                    .get("output")
                    .and_then(Value::as_str)
                    .and_then(|s| serde_json::from_str(s).ok())
                    .unwrap_or(Value::Null))
            } else {
                let s = |k: &str| {
                    body.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                Err((s("error"), s("cause")))
            };
            calls.push(EngineCall::TaskResult {
                caller: caller.into(),
                token,
                result,
            });
            json_ok(json!({}))
        }
        ("sns", _) => {
            let f = super::http::form(&req.body);
            let get = |k: &str| f.iter().find(|(fk, _)| fk == k).map(|(_, v)| v.clone());
            if get("Action").as_deref() != Some("Publish") {
                return None;
            }
            let mut attributes = Vec::new();
            for n in 1.. {
                let key = |part: &str| format!("MessageAttributes.entry.{n}.{part}");
                let Some(name) = get(&key("Name")) else { break };
                let data_type = get(&key("Value.DataType")).unwrap_or_else(|| "String".into());
                let value = get(&key("Value.StringValue"))
                    .or_else(|| get(&key("Value.BinaryValue")))
                    .unwrap_or_default();
                attributes.push((name, data_type, value));
            }
            let message_id = format!("00000000-0000-4000-8000-{:012x}", next());
            calls.push(EngineCall::Publish {
                caller: caller.into(),
                topic_arn: get("TopicArn")
                    .or_else(|| get("TargetArn"))
                    .unwrap_or_default(),
                message: get("Message").unwrap_or_default(),
                subject: get("Subject"),
                attributes,
                message_id: message_id.clone(),
            });
            let xml = format!("<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult><MessageId>{message_id}</MessageId></PublishResult><ResponseMetadata><RequestId>{message_id}</RequestId></ResponseMetadata></PublishResponse>");
            response(
                200,
                "OK",
                &[("content-type", "text/xml".into())],
                xml.as_bytes(),
            )
        }
        ("states", "SendTaskHeartbeat") => json_ok(json!({})),
        ("lambda", _) if req.target.contains("/invocations") => {
            let function = super::authorize::invoked_function(&req.target)?;
            if req.header("x-amz-invocation-type") != Some("Event") {
                let body = json!({"Type": "User", "Message": "the local engine runs asynchronous invocations (InvocationType Event) of one function from another; synchronous ones are not supported yet"});
                return Some(response(
                    400,
                    "Bad Request",
                    &[
                        ("content-type", "application/json".into()),
                        ("x-amzn-errortype", "InvalidRequestContentException".into()),
                    ],
                    body.to_string().as_bytes(),
                ));
            }
            let payload = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            calls.push(EngineCall::InvokeAsync {
                caller: caller.into(),
                function,
                payload,
            });
            response(
                202,
                "Accepted",
                &[("content-type", "application/json".into())],
                b"",
            )
        }
        _ => return None,
    };
    if let Ok(mut c) = shared.calls.lock() {
        c.extend(calls);
    }
    Some(reply)
}

fn forward(req: &Request, upstream: SocketAddr) -> Vec<u8> {
    let attempt = || -> std::io::Result<Option<Vec<u8>>> {
        let mut s = TcpStream::connect_timeout(&upstream, Duration::from_secs(5))?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        s.write_all(&req.to_bytes())?;
        Ok(super::http::reframe_response(&mut BufReader::new(s)))
    };
    match attempt() {
        Ok(Some(b)) => b,
        Ok(None) | Err(_) => response(
            502,
            "Bad Gateway",
            &[("content-type", "application/json".into())],
            json!({"__type": "ServiceUnavailable", "message": "the local endpoint did not answer"})
                .to_string()
                .as_bytes(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_req(target: &str, body: Value) -> Request {
        Request {
            method: "POST".into(),
            target: "/".into(),
            headers: vec![("x-amz-target".into(), target.into())],
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn dynamodb_calls_name_their_table_index_and_transaction_parts() {
        let t = "arn:aws:dynamodb:us-east-1:123456789012:table/";
        assert_eq!(
            authorization(
                "dynamodb",
                &json_req("DynamoDB_20120810.PutItem", json!({"TableName": "Orders"}))
            ),
            Some(vec![("dynamodb:PutItem".into(), format!("{t}Orders"))])
        );
        assert_eq!(
            authorization(
                "dynamodb",
                &json_req(
                    "DynamoDB_20120810.Query",
                    json!({"TableName": "Orders", "IndexName": "ByCustomer"})
                )
            ),
            Some(vec![(
                "dynamodb:Query".into(),
                format!("{t}Orders/index/ByCustomer")
            )])
        );
        let tx =
            json!({"TransactItems": [{"Put": {"TableName": "A"}}, {"Update": {"TableName": "B"}}]});
        assert_eq!(
            authorization(
                "dynamodb",
                &json_req("DynamoDB_20120810.TransactWriteItems", tx)
            ),
            Some(vec![
                ("dynamodb:PutItem".into(), format!("{t}A")),
                ("dynamodb:UpdateItem".into(), format!("{t}B"))
            ])
        );
    }

    #[test]
    fn sqs_events_and_states_calls() {
        assert_eq!(
            authorization(
                "sqs",
                &json_req(
                    "AmazonSQS.SendMessageBatch",
                    json!({"QueueUrl": "http://127.0.0.1:1/123456789012/Q"})
                )
            ),
            Some(vec![(
                "sqs:SendMessage".into(),
                "arn:aws:sqs:us-east-1:123456789012:Q".into()
            )])
        );
        assert_eq!(
            authorization(
                "events",
                &json_req(
                    "AWSEvents.PutEvents",
                    json!({"Entries": [{"EventBusName": "Orders"}, {}]})
                )
            ),
            Some(vec![
                (
                    "events:PutEvents".into(),
                    "arn:aws:events:us-east-1:123456789012:event-bus/Orders".into()
                ),
                (
                    "events:PutEvents".into(),
                    "arn:aws:events:us-east-1:123456789012:event-bus/default".into()
                )
            ])
        );
        assert_eq!(
            token_machine(
                "arn:aws:states:us-east-1:123456789012:execution:Saga:e1:AwaitApproval:3"
            ),
            "arn:aws:states:us-east-1:123456789012:stateMachine:Saga"
        );
        assert_eq!(
            authorization(
                "kinesis",
                &json_req("Kinesis_20131202.PutRecord", json!({}))
            ),
            None
        );
    }
}
