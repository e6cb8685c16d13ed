//! Blocking JSON-protocol calls to the local endpoint (SQS and DynamoDB speak JSON), for the
//! engine's own deliveries: receive, delete, change visibility, send, item calls. Every call
//! has connect and read timeouts.

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

use super::http::Request;
use super::resolve::REGION;

/// An error answer or a failed exchange.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CallError {
    /// The service's error code (e.g. `ConditionalCheckFailedException`), or `Transport`.
    pub code: String,
    pub message: String,
}

/// The endpoint (moto) the engine stores state in.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint(pub SocketAddr);

impl Endpoint {
    /// `target` is the X-Amz-Target (e.g. `AmazonSQS.ReceiveMessage`); `service` the SigV4
    /// scope name (`sqs`, `dynamodb`).
    pub fn call(&self, service: &str, target: &str, body: &Value) -> Result<Value, CallError> {
        let transport = |e: std::io::Error| CallError {
            code: "Transport".into(),
            message: format!("the local endpoint {}: {e}", self.0),
        };
        let req = Request {
            method: "POST".into(),
            target: "/".into(),
            headers: vec![
                ("host".into(), self.0.to_string()),
                ("content-type".into(), "application/x-amz-json-1.0".to_string()),
                ("x-amz-target".into(), target.into()),
                ("authorization".into(), format!("AWS4-HMAC-SHA256 Credential=ordersctl-local/20260101/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0")),
            ],
            body: body.to_string().into_bytes(),
        };
        let mut s =
            TcpStream::connect_timeout(&self.0, Duration::from_secs(5)).map_err(transport)?;
        s.set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(transport)?;
        s.write_all(&req.to_bytes()).map_err(transport)?;
        let mut raw = Vec::new();
        BufReader::new(s).read_to_end(&mut raw).map_err(transport)?;
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| CallError {
            code: "Transport".into(),
            message: "the local endpoint sent no HTTP response".into(),
        })?;
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(json);
        }
        let code = json
            .get("__type")
            .and_then(Value::as_str)
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
            .unwrap_or_else(|| format!("HTTP {status}"));
        let message = json
            .get("message")
            .or_else(|| json.get("Message"))
            .and_then(Value::as_str)
            .unwrap_or(body)
            .to_string();
        Err(CallError { code, message })
    }

    /// An SQS action (`ReceiveMessage` ...).
    pub fn sqs(&self, action: &str, body: &Value) -> Result<Value, CallError> {
        self.call("sqs", &format!("AmazonSQS.{action}"), body)
    }

    /// A DynamoDB action (`PutItem` ...).
    pub fn dynamodb(&self, action: &str, body: &Value) -> Result<Value, CallError> {
        self.call("dynamodb", &format!("DynamoDB_20120810.{action}"), body)
    }
}
