//! A moto server on 127.0.0.1 for tests: a real AWS API endpoint (DynamoDB, SQS, EventBridge,
//! CloudFormation, S3, STS ...) started on a free port and stopped when the handle drops.
//!
//! The server binary comes from `ORDERSCTL_MOTO_SERVER` (set by `scripts/test`, which installs
//! `moto[server]` into a virtualenv), else `.venv/bin/moto_server` at the workspace root. A
//! missing server is a test failure with instructions, never a skip.
//!
//! ```no_run
//! let moto = moto_harness::MotoServer::start();
//! // point the SDK at it
//! std::env::set_var("AWS_ENDPOINT_URL", moto.endpoint());
//! ```

pub mod fault_proxy;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Credentials and region moto accepts; its account ID is `123456789012`.
pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";
pub const REGION: &str = "us-east-1";
pub const ACCOUNT_ID: &str = "123456789012";

/// A running moto server; killed on drop.
pub struct MotoServer {
    child: Child,
    port: u16,
}

fn server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("ORDERSCTL_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // testing/moto-harness -> workspace root
    dir.pop();
    dir.pop();
    let local = dir.join(".venv/bin/moto_server");
    if local.exists() {
        return local;
    }
    panic!("moto_server not found: run `scripts/test`, which installs moto[server] into a virtualenv and sets ORDERSCTL_MOTO_SERVER");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req =
        format!("GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && buf.starts_with(b"HTTP/1.") && &buf[9..12] == b"200")
}

impl MotoServer {
    /// Start a fresh server (empty state) and wait until it answers, at most 30 s.
    pub fn start() -> MotoServer {
        let bin = server_binary();
        let port = free_port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let server = MotoServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !answers(port) {
            assert!(
                Instant::now() < deadline,
                "moto server on 127.0.0.1:{port} did not answer within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Environment for a child process or SDK: endpoint, test credentials, region.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_string()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_DEFAULT_REGION", REGION.to_string()),
        ]
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
