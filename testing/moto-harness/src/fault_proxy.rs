//! A fault-injecting HTTP proxy in front of moto: it forwards each request, one per
//! connection, and can instead stall, drop the connection, answer with an error status, or
//! rewrite the stack status a `DescribeStacks` reports (statuses moto never reaches, as it
//! finishes every operation at once).
//!
//! Calls are named by their action (`Action=` of the query protocol, or the operation of an
//! `X-Amz-Target` header), else `S3 <METHOD>`.
//!
//! ```no_run
//! use moto_harness::{fault_proxy::{Fault, FaultProxy}, MotoServer};
//! let moto = MotoServer::start();
//! let proxy = FaultProxy::start(moto.port());
//! proxy.inject("CreateChangeSet", 1, Fault::Throttle); // the first one only
//! // point the client at proxy.endpoint()
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What to do to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Read the request and never answer (until the proxy is dropped).
    Stall,
    /// Read the request and close the connection without an answer.
    Drop,
    /// Answer with this HTTP status and an AWS error of this code.
    Error { status: u16, code: String },
    /// Answer HTTP 500 with an empty body (no error code at all).
    Empty500,
    /// Answer 400 `Throttling`, which the SDK retries.
    Throttle,
    /// Forward, then report this stack status in the answer.
    StackStatus(String),
}

#[derive(Debug)]
struct Rule {
    call: String,
    /// Matching calls to let through first.
    skip: usize,
    /// How many more matching calls it applies to (`usize::MAX`: all).
    remaining: usize,
    fault: Fault,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    calls: Vec<String>,
    access_keys: Vec<String>,
}

/// The proxy; stops accepting (and releases stalled calls) on drop.
pub struct FaultProxy {
    port: u16,
    state: Arc<Mutex<State>>,
    stopped: Arc<AtomicBool>,
}

/// Apply to every matching call.
pub const ALWAYS: usize = usize::MAX;

impl FaultProxy {
    /// Listen on a free port of 127.0.0.1 and forward to moto's `upstream` port.
    pub fn start(upstream: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let stopped = Arc::new(AtomicBool::new(false));
        let (st, stop) = (state.clone(), stopped.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let (st, stop) = (st.clone(), stop.clone());
                std::thread::spawn(move || serve(client, upstream, &st, &stop));
            }
        });
        FaultProxy {
            port,
            state,
            stopped,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Apply `fault` to the next `times` calls named `call` ([`ALWAYS`]: every one).
    pub fn inject(&self, call: &str, times: usize, fault: Fault) {
        self.inject_after(call, 0, times, fault);
    }

    /// As [`FaultProxy::inject`], after letting `skip` such calls through.
    pub fn inject_after(&self, call: &str, skip: usize, times: usize, fault: Fault) {
        self.state.lock().unwrap().rules.push(Rule {
            call: call.to_string(),
            skip,
            remaining: times,
            fault,
        });
    }

    /// Remove every rule.
    pub fn clear(&self) {
        self.state.lock().unwrap().rules.clear();
    }

    /// The calls seen so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    /// The access key IDs the calls were signed with (SigV4 `Credential=`), in order: which
    /// identity a client acted as.
    pub fn access_keys(&self) -> Vec<String> {
        self.state.lock().unwrap().access_keys.clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One request: its head (request line and headers) and its body, as sent.
struct Request {
    head: Vec<String>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().skip(1).find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn call(&self) -> String {
        if let Some(target) = self.header("x-amz-target") {
            return target.rsplit('.').next().unwrap_or(target).to_string();
        }
        let form = String::from_utf8_lossy(&self.body);
        let query = self.head[0].split(' ').nth(1).unwrap_or_default();
        let query = query.split_once('?').map(|(_, q)| q).unwrap_or_default();
        for pair in form.split('&').chain(query.split('&')) {
            if let Some(action) = pair.strip_prefix("Action=") {
                return action.to_string();
            }
        }
        format!("S3 {}", self.head[0].split(' ').next().unwrap_or_default())
    }
}

fn read_request(r: &mut impl BufRead) -> Option<Request> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let mut req = Request {
        head,
        body: Vec::new(),
    };
    if let Some(n) = req
        .header("content-length")
        .and_then(|n| n.parse::<usize>().ok())
    {
        req.body = vec![0; n];
        r.read_exact(&mut req.body).ok()?;
    } else if req
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        // Kept chunked, as sent: read up to and including the last chunk and trailers.
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            req.body.extend_from_slice(size.as_bytes());
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            if n == 0 {
                loop {
                    let mut trailer = String::new();
                    r.read_line(&mut trailer).ok()?;
                    req.body.extend_from_slice(trailer.as_bytes());
                    if trailer == "\r\n" || trailer.is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            req.body.extend_from_slice(&chunk);
        }
    }
    Some(req)
}

fn respond(mut client: &TcpStream, status: u16, body: &str) {
    let reason = match status {
        400 => "Bad Request",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let _ = write!(
        client,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn error_body(code: &str, message: &str) -> String {
    format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>")
}

fn serve(client: TcpStream, upstream: u16, state: &Mutex<State>, stopped: &AtomicBool) {
    let mut reader = BufReader::new(client.try_clone().expect("clone the stream"));
    let Some(req) = read_request(&mut reader) else {
        return;
    };
    let call = req.call();
    let fault = {
        let mut st = state.lock().unwrap();
        st.calls.push(call.clone());
        if let Some(key) = req
            .header("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').next())
        {
            st.access_keys.push(key.to_string());
        }
        let rule = st
            .rules
            .iter_mut()
            .find(|r| r.call == call && r.remaining > 0);
        rule.and_then(|r| {
            if r.skip > 0 {
                r.skip -= 1;
                return None;
            }
            r.remaining = r
                .remaining
                .saturating_sub(usize::from(r.remaining != ALWAYS));
            Some(r.fault.clone())
        })
    };
    match fault {
        Some(Fault::Stall) => {
            while !stopped.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Some(Fault::Drop) => {
            let _ = client.shutdown(Shutdown::Both);
        }
        Some(Fault::Error { status, code }) => respond(
            &client,
            status,
            &error_body(&code, "injected by the fault proxy"),
        ),
        Some(Fault::Empty500) => respond(&client, 500, ""),
        Some(Fault::Throttle) => respond(&client, 400, &error_body("Throttling", "Rate exceeded")),
        Some(Fault::StackStatus(status)) => forward(&client, upstream, &req, Some(&status)),
        None => forward(&client, upstream, &req, None),
    }
}

/// Send the request on to moto (one request per connection) and its answer back.
fn forward(mut client: &TcpStream, upstream: u16, req: &Request, status: Option<&str>) {
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let mut head: Vec<&str> = req
        .head
        .iter()
        .map(String::as_str)
        .filter(|h| !h.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    head.push("Connection: close");
    let mut out = head.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(&req.body);
    if server.write_all(&out).is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = server.read_to_end(&mut answer);
    let Some(split) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return;
    };
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut body = answer[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    if let Some(status) = status {
        let text = String::from_utf8_lossy(&body).into_owned();
        let mut rewritten = String::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("<StackStatus>") {
            let open = start + "<StackStatus>".len();
            let Some(end) = rest[open..].find("</StackStatus>") else {
                break;
            };
            rewritten.push_str(&rest[..open]);
            rewritten.push_str(status);
            rest = &rest[open + end..];
        }
        rewritten.push_str(rest);
        body = rewritten.into_bytes();
    }
    let mut lines = head.lines();
    let mut out = format!("{}\r\n", lines.next().unwrap_or("HTTP/1.1 200 OK"));
    for h in lines {
        let lower = h.to_ascii_lowercase();
        if !(lower.starts_with("content-length:")
            || lower.starts_with("transfer-encoding:")
            || lower.starts_with("connection:"))
        {
            out.push_str(h);
            out.push_str("\r\n");
        }
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let _ = client.write_all(out.as_bytes());
    let _ = client.write_all(&body);
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&body[..eol]);
        let Ok(n) = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16) else {
            break;
        };
        if n == 0 || body.len() < eol + 2 + n {
            break;
        }
        out.extend_from_slice(&body[eol + 2..eol + 2 + n]);
        body = &body[(eol + 4 + n).min(body.len())..];
    }
    out
}
