//! Run a bundled handler locally, as Lambda would: the `bootstrap` binary talks to an emulated
//! Lambda Runtime API on 127.0.0.1, receives one event and posts its response or error.
//! Like `cargo lambda invoke` and `sam local invoke`, without containers.
//!
//! ```no_run
//! use std::path::Path;
//! use std::time::Duration;
//! use ordersctl::invoke::{invoke, Invocation, Outcome};
//! let event = br#"{"Records": []}"#;
//! let run = Invocation {
//!     function_name: "OrderProcessor",
//!     memory_mb: 256,
//!     timeout: Duration::from_secs(10),
//!     env: vec![("TABLE_NAME".into(), "orders".into())],
//!     event,
//!     inherit_env: false,
//! };
//! match invoke(Path::new("bootstrap"), &run)? {
//!     Outcome::Response(body) => println!("{body}"),
//!     Outcome::Error(e) | Outcome::InitError(e) => eprintln!("{e}"),
//! }
//! # Ok::<(), ordersctl::invoke::InvokeError>(())
//! ```

pub mod http;

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the function answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The handler's response body.
    Response(String),
    /// The handler reported an error (`/invocation/<id>/error`): the error document.
    Error(String),
    /// The runtime failed to initialise (`/init/error`).
    InitError(String),
}

/// Why the invocation could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("cannot start {binary}: {source}")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("cannot open the Runtime API on 127.0.0.1: {0}")]
    Listen(std::io::Error),
    #[error("the handler exited ({status}) before answering the event")]
    ExitedEarly { status: String },
    #[error("the handler did not answer within {0:?} (the function's timeout)")]
    Timeout(Duration),
}

/// How to run the handler.
#[derive(Debug, Clone)]
pub struct Invocation<'a> {
    pub function_name: &'a str,
    pub memory_mb: u64,
    pub timeout: Duration,
    /// Extra environment on top of this process's (which carries AWS endpoint settings).
    pub env: Vec<(String, String)>,
    pub event: &'a [u8],
    /// Whether the handler also sees this process's environment; `false` gives it only the
    /// Lambda variables and `env` (local runs, so no real credentials or profile leak in).
    pub inherit_env: bool,
}

enum Msg {
    Done(Outcome),
}

struct Shared {
    event: Option<Vec<u8>>,
    request_id: String,
    deadline_ms: u128,
    function_arn: String,
}

/// Run `binary` against one event; its logs go to this process's stderr.
pub fn invoke(binary: &Path, inv: &Invocation<'_>) -> Result<Outcome, InvokeError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(InvokeError::Listen)?;
    let addr = listener.local_addr().map_err(InvokeError::Listen)?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let shared = Arc::new(Mutex::new(Shared {
        event: Some(inv.event.to_vec()),
        request_id: format!("ordersctl-invoke-{}-{now_ms}", std::process::id()),
        deadline_ms: now_ms + inv.timeout.as_millis(),
        function_arn: format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            inv.function_name
        ),
    }));
    let (tx, rx) = mpsc::channel::<Msg>();
    {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (shared, tx) = (Arc::clone(&shared), tx.clone());
                std::thread::spawn(move || serve(stream, &shared, &tx));
            }
        });
    }
    let mut command = Command::new(binary);
    // Its own process group, so a timeout ends what the handler started too.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    if !inv.inherit_env {
        command.env_clear();
    }
    let mut child = command
        .envs(lambda_env(inv, &addr.to_string()))
        .envs(inv.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| InvokeError::Spawn {
            binary: binary.display().to_string(),
            source,
        })?;
    let deadline = Instant::now() + inv.timeout;
    let result = loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(Msg::Done(outcome)) => break Ok(outcome),
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {}
        }
        if let Ok(Some(status)) = child.try_wait() {
            // It may have posted just before exiting.
            if let Ok(Msg::Done(outcome)) = rx.recv_timeout(Duration::from_millis(100)) {
                break Ok(outcome);
            }
            break Err(InvokeError::ExitedEarly {
                status: status.to_string(),
            });
        }
        if Instant::now() >= deadline {
            break Err(InvokeError::Timeout(inv.timeout));
        }
    };
    kill_group(&child);
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// SIGKILL to the handler's whole process group (its pid is the group's id).
fn kill_group(child: &std::process::Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) takes plain integers; a group already gone gives ESRCH, ignored.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

fn lambda_env(inv: &Invocation<'_>, api: &str) -> Vec<(String, String)> {
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_string());
    vec![
        ("AWS_LAMBDA_RUNTIME_API".into(), api.to_string()),
        (
            "AWS_LAMBDA_FUNCTION_NAME".into(),
            inv.function_name.to_string(),
        ),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
            inv.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".into(),
            format!("/aws/lambda/{}", inv.function_name),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME".into(),
            "local/ordersctl-invoke".into(),
        ),
        ("AWS_REGION".into(), region.clone()),
        ("AWS_DEFAULT_REGION".into(), region),
        ("_HANDLER".into(), "bootstrap".into()),
    ]
}

/// Lambda's synchronous payload limit (6 MB), for what the Runtime API takes from a handler.
pub const PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;

/// Serve requests on one connection (the runtime client may keep it alive).
fn serve(stream: TcpStream, shared: &Mutex<Shared>, tx: &Sender<Msg>) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut out = stream;
    loop {
        let (method, path, body) = match http::read_request_within(&mut reader, PAYLOAD_LIMIT) {
            http::Incoming::Request(r) => (r.method, r.target, r.body),
            http::Incoming::End => return,
            // As Lambda: a response over the payload limit fails the invocation; the body is
            // not read (nor allocated), and the connection is closed.
            http::Incoming::TooLarge { target, .. } => {
                let _ = out.write_all(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                if target.ends_with("/response") {
                    let _ = tx.send(Msg::Done(Outcome::Error(format!(
                        "{{\"errorType\":\"Function.ResponseSizeTooLarge\",\"errorMessage\":\"Response payload size exceeded maximum allowed payload size ({PAYLOAD_LIMIT} bytes).\"}}"
                    ))));
                }
                return;
            }
        };
        match (method.as_str(), path.as_str()) {
            ("GET", "/2018-06-01/runtime/invocation/next") => {
                let next = {
                    let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                    s.event.take().map(|e| {
                        (
                            e,
                            s.request_id.clone(),
                            s.deadline_ms,
                            s.function_arn.clone(),
                        )
                    })
                };
                // After the one event, leave the runtime waiting (no answer, the connection
                // open) until the process is stopped: a closed connection would make the
                // runtime report an error of its own.
                let Some((event, id, deadline, arn)) = next else {
                    let mut buf = [0u8; 1];
                    let _ = reader.read(&mut buf);
                    return;
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {id}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\nLambda-Runtime-Invoked-Function-Arn: {arn}\r\nLambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0\r\nContent-Length: {}\r\n\r\n",
                    event.len()
                );
                if out
                    .write_all(head.as_bytes())
                    .and_then(|_| out.write_all(&event))
                    .is_err()
                {
                    return;
                }
            }
            ("POST", p) => {
                let body = String::from_utf8_lossy(&body).into_owned();
                let outcome = if p.ends_with("/response") {
                    Outcome::Response(body)
                } else if p.ends_with("/init/error") {
                    Outcome::InitError(body)
                } else if p.ends_with("/error") {
                    Outcome::Error(body)
                } else {
                    let _ = out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                    continue;
                };
                let _ = out.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n");
                let _ = tx.send(Msg::Done(outcome));
            }
            _ => {
                let _ = out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a process is still running (gone, or a zombie waiting to be reaped, is not).
    fn running(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                let state = s.rsplit(')').next().unwrap_or("").split_whitespace().next();
                state != Some("Z")
            })
            .unwrap_or(false)
    }

    #[test]
    fn a_timeout_ends_what_the_handler_started_too() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("child.pid");
        let script = dir.path().join("bootstrap");
        std::fs::write(
            &script,
            "#!/bin/sh\nsleep 300 &\necho $! > \"$PIDFILE\"\nsleep 300\n",
        )
        .unwrap();
        let mut perms = std::fs::metadata(&script).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&script, perms).unwrap();
        let inv = Invocation {
            function_name: "Sleeper",
            memory_mb: 128,
            timeout: Duration::from_secs(1),
            env: vec![("PIDFILE".into(), pidfile.display().to_string())],
            event: b"{}",
            inherit_env: false,
        };
        let r = invoke(&script, &inv);
        assert!(matches!(r, Err(InvokeError::Timeout(_))), "{r:?}");
        let pid = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .to_string();
        let gone = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            !running(&pid)
        });
        assert!(gone, "the handler's child {pid} outlived the timeout");
    }
}
