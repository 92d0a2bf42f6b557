//! Helpers shared by the sandbox's HTTP-level tests: a raw HTTP/1.1 client and export paging.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{SystemTime, UNIX_EPOCH};
use zendesk_chat_sandbox::{Sandbox, SandboxConfig};

pub const TOKEN: &str = "sandbox-token-0001";

pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

pub fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: chat-sandbox.test\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(body).expect("write body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .expect("status line")
        .split(' ')
        .nth(1)
        .expect("code")
        .parse()
        .expect("num");
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|t| t == "chunked")
    {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body,
    }
}

pub fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n").expect("chunk size");
        let n = usize::from_str_radix(std::str::from_utf8(&b[..nl]).expect("utf8").trim(), 16)
            .expect("hex");
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + n]);
        b = &b[nl + 4 + n..];
    }
}

pub fn get(sb: &Sandbox, target: &str) -> Resp {
    get_tok(sb, target, TOKEN)
}

pub fn get_tok(sb: &Sandbox, target: &str, token: &str) -> Resp {
    let auth = format!("Bearer {token}");
    request(sb.addr(), "GET", target, &[("Authorization", &auth)], b"")
}

pub fn post_form(sb: &Sandbox, body: &str) -> Resp {
    request(
        sb.addr(),
        "POST",
        "/oauth2/chat/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

pub fn spawn(cfg: SandboxConfig) -> Sandbox {
    Sandbox::spawn(cfg).expect("spawn sandbox")
}

/// Path+query of an absolute URL.
pub fn target_of(url: &str) -> String {
    let after = url.split_once("://").expect("scheme").1;
    let slash = after.find('/').expect("path");
    after[slash..].to_string()
}

/// Follows an incremental export from `first` (a path with query) until `count < limit`,
/// asserting the envelope on every page; returns (items of `key`, number of pages).
pub fn page_export(sb: &Sandbox, first: &str, key: &str, limit: usize) -> (Vec<Value>, usize) {
    let mut target = first.to_string();
    let mut items = Vec::new();
    for pages in 1..=10_000 {
        let r = get(sb, &target);
        assert_eq!(
            r.status,
            200,
            "{target}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let v = r.json();
        let page = v[key].as_array().expect("items array").clone();
        assert_eq!(
            v["count"].as_u64(),
            Some(page.len() as u64),
            "count of {target}"
        );
        let next = v["next_page"].as_str().expect("next_page always present");
        items.extend(page.iter().cloned());
        if page.len() < limit {
            return (items, pages);
        }
        target = target_of(next);
    }
    panic!("export {first} did not end in 10,000 pages");
}
