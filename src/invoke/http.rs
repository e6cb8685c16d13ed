//! Minimal HTTP/1.1 framing, shared by the emulated Runtime API and the local engine's proxy
//! and listeners: read one request or response from a stream, write a response.

use std::io::{BufRead, BufReader, Read};

/// A request as read off the wire.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header of that (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The request re-encoded with `Connection: close` and a Content-Length body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.target).into_bytes();
        for (k, v) in &self.headers {
            if matches!(
                k.as_str(),
                "connection" | "content-length" | "transfer-encoding" | "expect"
            ) {
                continue;
            }
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "content-length: {}\r\nconnection: close\r\n\r\n",
                self.body.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&self.body);
        out
    }
}

/// The largest body any reader here takes (far above what AWS APIs accept in one call): a
/// declared length is never allocated before the bytes arrive, and never past this.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// What reading one request found.
#[derive(Debug)]
pub enum Incoming {
    Request(Request),
    /// The body is larger than the limit; it was not read (answer, then close the connection).
    TooLarge {
        method: String,
        target: String,
    },
    /// End of stream, or a malformed request.
    End,
}

/// Read one request; `None` at end of stream, on a malformed head, or past [`MAX_BODY`].
pub fn read_request<R: Read>(reader: &mut BufReader<R>) -> Option<Request> {
    match read_request_within(reader, MAX_BODY) {
        Incoming::Request(r) => Some(r),
        _ => None,
    }
}

/// Read one request whose body may be at most `limit` bytes.
pub fn read_request_within<R: Read>(reader: &mut BufReader<R>, limit: usize) -> Incoming {
    let mut line = String::new();
    if !matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
        return Incoming::End;
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Incoming::End;
    };
    let (method, target) = (method.to_string(), target.to_string());
    let Some(headers) = read_headers(reader) else {
        return Incoming::End;
    };
    match read_body(reader, &headers, limit) {
        Body::Read(body) => Incoming::Request(Request {
            method,
            target,
            headers,
            body,
        }),
        Body::TooLarge => Incoming::TooLarge { method, target },
        Body::Broken => Incoming::End,
    }
}

enum Body {
    Read(Vec<u8>),
    TooLarge,
    Broken,
}

fn read_headers<R: Read>(reader: &mut BufReader<R>) -> Option<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            return Some(headers);
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
}

fn read_body<R: Read>(
    reader: &mut BufReader<R>,
    headers: &[(String, String)],
    limit: usize,
) -> Body {
    let Some(body) = read_body_inner(reader, headers, limit) else {
        return Body::Broken;
    };
    body
}

fn read_body_inner<R: Read>(
    reader: &mut BufReader<R>,
    headers: &[(String, String)],
    limit: usize,
) -> Option<Body> {
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).ok()?;
            let size =
                usize::from_str_radix(size_line.trim().split(';').next()?.trim(), 16).ok()?;
            if size == 0 {
                loop {
                    let mut t = String::new();
                    if reader.read_line(&mut t).ok()? == 0 || t.trim_end().is_empty() {
                        return Some(Body::Read(body));
                    }
                }
            }
            if body.len().saturating_add(size) > limit {
                return Some(Body::TooLarge);
            }
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            chunk.truncate(size);
            body.extend_from_slice(&chunk);
        }
    }
    let len: usize = get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if len > limit {
        return Some(Body::TooLarge);
    }
    // Grown as bytes arrive, not allocated up front from the header.
    let mut body = Vec::new();
    reader
        .by_ref()
        .take(len as u64)
        .read_to_end(&mut body)
        .ok()?;
    (body.len() == len).then_some(Body::Read(body))
}

/// Read one response whole (by Content-Length, chunks, or to the end of the stream) and
/// return it re-framed with a Content-Length: the proxy's client keeps its connection, so the
/// framing must not depend on the upstream closing its own.
pub fn reframe_response<R: Read>(reader: &mut BufReader<R>) -> Option<Vec<u8>> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.trim_end().splitn(3, ' ');
    let (_version, status, reason) = (parts.next()?, parts.next()?, parts.next().unwrap_or(""));
    let status: u16 = status.parse().ok()?;
    let headers = read_headers(reader)?;
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let body = if get("transfer-encoding").is_some() || get("content-length").is_some() {
        match read_body(reader, &headers, MAX_BODY) {
            Body::Read(b) => b,
            Body::TooLarge | Body::Broken => return None,
        }
    } else {
        let mut b = Vec::new();
        reader.read_to_end(&mut b).ok()?;
        b
    };
    let kept: Vec<(&str, String)> = headers
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "content-length" | "transfer-encoding" | "connection" | "keep-alive"
            )
        })
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    Some(response(status, reason, &kept, &body))
}

/// A response with a body and headers.
pub fn response(status: u16, reason: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n").into_bytes();
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// Decode `application/x-www-form-urlencoded`.
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_past_the_limit_is_refused_unread_and_unallocated() {
        // 10 GB declared, nothing sent: refused at once (allocating it would abort).
        let raw = b"POST /x/response HTTP/1.1\r\nContent-Length: 10000000000\r\n\r\n";
        let mut r = BufReader::new(&raw[..]);
        assert!(matches!(
            read_request_within(&mut r, 6 * 1024 * 1024),
            Incoming::TooLarge { target, .. } if target == "/x/response"
        ));
        let chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n";
        let mut r = BufReader::new(&chunked[..]);
        assert!(matches!(
            read_request_within(&mut r, 8),
            Incoming::TooLarge { .. }
        ));
        // At the limit it is read; a body cut short is a broken request, not a short one.
        let exact = b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
        let mut r = BufReader::new(&exact[..]);
        assert!(matches!(read_request_within(&mut r, 3), Incoming::Request(q) if q.body == b"abc"));
        let short = b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc";
        let mut r = BufReader::new(&short[..]);
        assert!(matches!(read_request_within(&mut r, 5), Incoming::End));
    }

    #[test]
    fn reads_requests_with_length_or_chunks_and_re_encodes_them() {
        let raw = b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\nContent-Length: 2\r\n\r\n{}GET /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let mut r = BufReader::new(&raw[..]);
        let a = read_request(&mut r).unwrap();
        assert_eq!(
            (
                a.method.as_str(),
                a.header("x-amz-target"),
                a.body.as_slice()
            ),
            ("POST", Some("DynamoDB_20120810.PutItem"), &b"{}"[..])
        );
        let b = read_request(&mut r).unwrap();
        assert_eq!(b.body, b"abc");
        assert!(String::from_utf8(b.to_bytes())
            .unwrap()
            .contains("content-length: 3\r\nconnection: close"));
        assert!(read_request(&mut r).is_none());
    }

    #[test]
    fn responses_are_reframed_with_a_length() {
        let raw = b"HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\n\r\n{\"a\":1}";
        let out =
            String::from_utf8(reframe_response(&mut BufReader::new(&raw[..])).unwrap()).unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(
            out.contains("content-length: 7\r\n")
                && !out.to_ascii_lowercase().contains("connection"),
            "{out}"
        );
        assert!(out.ends_with("{\"a\":1}"));
    }

    #[test]
    fn decodes_forms() {
        assert_eq!(
            form(b"Action=Publish&Message=a+b%2Fc&X=%ZZ"),
            vec![
                ("Action".into(), "Publish".into()),
                ("Message".into(), "a b/c".into()),
                ("X".into(), "%ZZ".into())
            ]
        );
    }
}
