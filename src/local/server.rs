//! The local endpoint: a moto server on 127.0.0.1, started for a run and stopped after it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why there is no endpoint.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("moto_server was not found: install it with `python3 -m venv .venv && .venv/bin/pip install 'moto[server]'` and set ORDERSCTL_MOTO_SERVER=.venv/bin/moto_server (or put moto_server on PATH), or pass --endpoint-url to a running one")]
    NotFound,
    #[error("cannot start {0}: {1}")]
    Spawn(String, std::io::Error),
    #[error("ORDERSCTL_MOTO_SERVER={0}: no such file; point it at moto_server (e.g. .venv/bin/moto_server)")]
    Missing(String),
    #[error("moto_server on 127.0.0.1:{0} did not answer within 30 s")]
    NotReady(u16),
    #[error("{0} exited ({1}) before answering; is it moto_server (`moto[server]` from PyPI)?")]
    Exited(String, String),
    #[error("--endpoint-url {0}: local runs only talk to a server on this machine (127.0.0.0/8, localhost or [::1])")]
    NotLoopback(String),
    #[error("--endpoint-url {0}: not an http://HOST:PORT URL")]
    BadUrl(String),
    #[error("nothing answers at {0} (is the server running?)")]
    Unreachable(String),
}

/// A server this process started (killed on drop) or one it was pointed at.
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Server {
    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Start moto from `ORDERSCTL_MOTO_SERVER` or PATH on a free port and wait until it answers.
    pub fn start() -> Result<Server, ServerError> {
        let bin = binary().ok_or(ServerError::NotFound)?;
        if !bin.is_file() {
            return Err(ServerError::Missing(bin.display().to_string()));
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| ServerError::Spawn("a loopback port".into(), e))?;
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| ServerError::Spawn(bin.display().to_string(), e))?;
        let mut server = Server {
            child: Some(child),
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !answers(server.addr) {
            if let Some(Ok(Some(status))) = server.child.as_mut().map(|c| c.try_wait()) {
                return Err(ServerError::Exited(
                    bin.display().to_string(),
                    status.to_string(),
                ));
            }
            if Instant::now() > deadline {
                return Err(ServerError::NotReady(port));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }

    /// A running server at a loopback URL.
    pub fn at(url: &str) -> Result<Server, ServerError> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| ServerError::BadUrl(url.into()))?;
        let hostport = rest.trim_end_matches('/');
        let (host, _) = hostport
            .rsplit_once(':')
            .ok_or_else(|| ServerError::BadUrl(url.into()))?;
        let loopback_v4 = host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.is_loopback());
        if !(loopback_v4 || matches!(host, "localhost" | "[::1]")) {
            return Err(ServerError::NotLoopback(url.into()));
        }
        let addr = hostport
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.find(|a| a.ip().is_loopback()))
            .ok_or_else(|| ServerError::BadUrl(url.into()))?;
        if !answers(addr) {
            return Err(ServerError::Unreachable(url.into()));
        }
        Ok(Server { child: None, addr })
    }
}

fn binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ORDERSCTL_MOTO_SERVER") {
        return Some(PathBuf::from(p));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("moto_server"))
        .find(|p| p.is_file())
}

fn answers(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = format!("GET /moto-api/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && buf.starts_with(b"HTTP/1.") && &buf[9..12] == b"200")
}
