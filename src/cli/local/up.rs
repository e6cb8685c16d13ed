//! `ordersctl local up` and `local send`: the event plane in the foreground, fed from another
//! terminal and from the APIs' listeners.

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;

use crate::local::engine::{Auth, EngineError};
use crate::local::http::{read_request, response};
use crate::local::http_api::{HttpRequest, HttpResponse};
use crate::local::inject::{self, Injection};
use crate::local::trace::Hop;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;

use super::{now_ms, start, stop_on_signals, Target};

/// Deploy and run the event plane in the foreground, one line per hop, until Ctrl-C; inject
/// from another terminal with `ordersctl local send`.
#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    target: Target,
    /// Loopback port `local send` talks to.
    #[arg(long, default_value_t = 4599, value_parser = clap::value_parser!(u16).range(1..))]
    control_port: u16,
}

/// Inject into a running `ordersctl local up`: one entry or an array, as JSON text or a file.
///
/// Example:
///   ordersctl local send '{"queue": "OrderCreatedQueue", "body": {"orderId": "o-1"}}'
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SendArgs {
    /// The entry (or array of entries) as JSON.
    entry: Option<String>,
    /// Read the entries from this file instead.
    #[arg(long, value_name = "FILE", conflicts_with = "entry")]
    file: Option<PathBuf>,
    /// The port `local up` listens on.
    #[arg(long, default_value_t = 4599, value_parser = clap::value_parser!(u16).range(1..))]
    control_port: u16,
}

/// What reaches the `local up` loop: entries from `local send`, or a request on an API's
/// listener.
enum Control {
    Inject(Vec<Injection>, Sender<Result<(), String>>),
    Http(String, HttpRequest, Sender<HttpResponse>),
}

pub fn up(args: UpArgs) -> Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", args.control_port)).with_context(|| {
        format!(
            "cannot listen on 127.0.0.1:{} (another `local up`? choose --control-port)",
            args.control_port
        )
    })?;
    let stop = stop_on_signals();
    let r = start(&args.target)?;
    let (tx, rx): (Sender<Control>, Receiver<Control>) = mpsc::channel();
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                control(stream, &tx);
            }
        });
    }
    for api in &r.world.http_apis {
        let l = TcpListener::bind("127.0.0.1:0")
            .context("cannot open a loopback port for an HTTP API")?;
        let url = format!("http://{}", l.local_addr()?);
        let (tx, id) = (tx.clone(), api.logical_id.clone());
        errln!(
            "{}/{}: {url} (routes: {})",
            api.stack,
            api.logical_id,
            api.routes
                .iter()
                .map(|r| r.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        std::thread::spawn(move || {
            for stream in l.incoming().flatten() {
                let (tx, id) = (tx.clone(), id.clone());
                std::thread::spawn(move || serve_api(stream, &id, &tx));
            }
        });
    }
    errln!("running; inject with `ordersctl local send '<entry JSON>'` (port {}); Ctrl-C stops and removes the endpoint", args.control_port);
    let sink: Box<dyn FnMut(&Hop)> = Box::new(|h: &Hop| errln!("{}", h.human()));
    let mut engine = r.engine(Duration::MAX, Arc::clone(&stop), sink);
    while !stop.load(Ordering::SeqCst) {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Control::Inject(list, reply)) => {
                let outcome = engine
                    .check(&list)
                    .and_then(|()| list.iter().try_for_each(|i| engine.inject(i)));
                let _ = reply.send(outcome.map_err(|e| e.to_string()));
            }
            Ok(Control::Http(api, req, reply)) => {
                // Locally any bearer token passes a JWT authorizer; signatures are not checked.
                let auth = if req
                    .headers
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case("authorization"))
                {
                    Auth::Valid
                } else {
                    Auth::None
                };
                let response = engine
                    .http(Some(&api), &req, auth, "http")
                    .unwrap_or_else(|e| HttpResponse {
                        status: 500,
                        headers: BTreeMap::new(),
                        body: serde_json::json!({"message": e.to_string()}).to_string(),
                    });
                let _ = reply.send(response);
            }
            Err(_) => {}
        }
        match engine.until_idle().and_then(|()| engine.catch_up(now_ms())) {
            Ok(()) | Err(EngineError::Interrupted) => {}
            Err(e) => return Err(anyhow!("the engine stopped: {e}")),
        }
    }
    errln!("stopped after {} hops", engine.hops().len());
    Ok(())
}

fn control(stream: TcpStream, tx: &Sender<Control>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut out = stream;
    let Some(req) = read_request(&mut BufReader::new(read_half)) else {
        return;
    };
    let text = String::from_utf8_lossy(&req.body).trim().to_string();
    let text = if text.starts_with('{') {
        format!("[{text}]")
    } else {
        text
    };
    let reply = match inject::parse(&text) {
        Err(e) => Err(format!("the entry: {e}")),
        Ok(list) => {
            let (rtx, rrx) = mpsc::channel();
            if tx.send(Control::Inject(list, rtx)).is_err() {
                Err("the engine has stopped".to_string())
            } else {
                rrx.recv_timeout(Duration::from_secs(600))
                    .unwrap_or_else(|_| Err("no answer from the engine".into()))
            }
        }
    };
    let (status, body) = match reply {
        Ok(()) => (200, serde_json::json!({"ok": true})),
        Err(e) => (400, serde_json::json!({"error": e})),
    };
    let _ = out.write_all(&response(
        status,
        if status == 200 { "OK" } else { "Bad Request" },
        &[("content-type", "application/json".into())],
        body.to_string().as_bytes(),
    ));
}

/// One connection to an API's listener: requests go to the engine, answers come back.
fn serve_api(stream: TcpStream, api: &str, tx: &Sender<Control>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut out = stream;
    while let Some(req) = read_request(&mut reader) {
        let request = HttpRequest {
            method: req.method.clone(),
            target: req.target.clone(),
            headers: req.headers.iter().cloned().collect(),
            body: (!req.body.is_empty()).then(|| String::from_utf8_lossy(&req.body).into_owned()),
        };
        let (rtx, rrx) = mpsc::channel();
        let answer = if tx
            .send(Control::Http(api.to_string(), request, rtx))
            .is_ok()
        {
            rrx.recv_timeout(Duration::from_secs(900)).ok()
        } else {
            None
        };
        let r = answer.unwrap_or(HttpResponse {
            status: 503,
            headers: BTreeMap::new(),
            body: "{\"message\":\"the engine has stopped\"}".into(),
        });
        let headers: Vec<(&str, String)> = r
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        if out
            .write_all(&response(r.status, "", &headers, r.body.as_bytes()))
            .is_err()
        {
            return;
        }
    }
}

pub fn send(args: SendArgs) -> Result<()> {
    let body = match (&args.entry, &args.file) {
        (Some(e), None) => e.clone(),
        (None, Some(f)) => crate::synth::reader::read_input(f)
            .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?,
        _ => bail!("give the entry as JSON text or with --file FILE"),
    };
    let text = if body.trim_start().starts_with('{') {
        format!("[{body}]")
    } else {
        body.clone()
    };
    inject::parse(&text).map_err(|e| anyhow!("the entry: {e}"))?;
    let mut s = TcpStream::connect_timeout(
        &([127, 0, 0, 1], args.control_port).into(),
        Duration::from_secs(3),
    )
    .map_err(|_| {
        anyhow!(
            "nothing listens on 127.0.0.1:{}; start `ordersctl local up` first",
            args.control_port
        )
    })?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let req = format!("POST /inject HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    s.write_all(req.as_bytes())?;
    let mut raw = String::new();
    std::io::Read::read_to_string(&mut s, &mut raw).map_err(|_| {
        anyhow!(
            "127.0.0.1:{} gave no answer within 30 s (is it `ordersctl local up`?)",
            args.control_port
        )
    })?;
    let answer: serde_json::Value = raw
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or_default();
    match answer.get("error").and_then(|e| e.as_str()) {
        Some(e) => bail!("{e}"),
        None if answer.get("ok").is_some() => {
            errln!("sent; the hops show in the `local up` terminal");
            Ok(())
        }
        None => bail!("`local up` gave no answer"),
    }
}
