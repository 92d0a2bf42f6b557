//! The HTTP layer under the client: the reqwest clients (timeouts, no-redirect token client,
//! the API redirect rule), reading a body under a size cap, and the words for what went wrong.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use url::Url;

use crate::error::{truncate, Error};
use crate::secrets;

/// How long connecting (TCP and TLS) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server may stay silent while we wait for (the rest of) an answer.
pub const READ_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one attempt (connect, answer and body) may take in all.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(90);
/// The largest decoded body accepted; a real page is a few MB.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Redirects followed for one API request.
const MAX_REDIRECTS: usize = 5;

/// The client for API requests: follows redirects only where [`redirect_refusal`] allows.
pub fn api_client(base: &Url) -> Result<reqwest::Client, Error> {
    let base = base.clone();
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(RedirectRefused(format!(
                "more than {MAX_REDIRECTS} redirects"
            )));
        }
        let from = attempt.previous().last().unwrap_or(&base).clone();
        match redirect_refusal(&base, &from, attempt.url()) {
            Some(why) => attempt.error(RedirectRefused(why)),
            None => attempt.follow(),
        }
    });
    builder().redirect(policy).build().map_err(build_error)
}

/// The client for OAuth token requests: never follows a redirect, so the client secret and
/// refresh token are only ever sent to the configured token URL.
pub fn token_client() -> Result<reqwest::Client, Error> {
    builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(build_error)
}

fn builder() -> reqwest::ClientBuilder {
    let extra_roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter_map(|c| reqwest::Certificate::from_der(c.as_ref()).ok());
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    reqwest::Client::builder()
        .user_agent(concat!(
            "source-zendesk-chat/",
            env!("CARGO_PKG_VERSION"),
            " (Airbyte source connector; Rust)"
        ))
        .default_headers(headers)
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_IDLE_TIMEOUT)
        .timeout(ATTEMPT_TIMEOUT)
        .pool_max_idle_per_host(32)
        .tls_certs_merge(extra_roots)
}

fn build_error(e: reqwest::Error) -> Error {
    Error::Internal(format!(
        "cannot build the HTTP client: {}",
        describe_reqwest_error(&e)
    ))
}

/// Why a redirect from `from` to `to` is refused, or `None` to follow it. Allowed targets are
/// hosts the connector would accept as its base (the configured base host, or `*.zendesk.com`)
/// over https, or over http where `base_url` allows it (loopback and private addresses) and the
/// request was not already on https.
pub fn redirect_refusal(base: &Url, from: &Url, to: &Url) -> Option<String> {
    let host = to.host_str().unwrap_or_default().to_ascii_lowercase();
    let known = Some(host.as_str()) == base.host_str().map(str::to_ascii_lowercase).as_deref()
        || host == "zendesk.com"
        || host.ends_with(".zendesk.com");
    if !known {
        return Some(format!(
            "{} is neither the configured host nor a zendesk.com host",
            without_query(to)
        ));
    }
    match to.scheme() {
        "https" => None,
        "http" if from.scheme() == "https" => Some(format!(
            "{} would downgrade https to plain http",
            without_query(to)
        )),
        "http" if to.host().is_some_and(is_local_host) => None,
        _ => Some(format!(
            "{} is not https (plain http is only allowed for loopback and private addresses)",
            without_query(to)
        )),
    }
}

/// Loopback and private addresses, and `localhost`: where plain http is acceptable.
fn is_local_host(host: url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => is_local_ip(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => is_local_ip(IpAddr::V6(ip)),
    }
}

fn is_local_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// A URL without its query and fragment (where tokens could hide), for messages.
pub fn without_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// The error a refused redirect carries through reqwest.
#[derive(Debug, thiserror::Error)]
#[error("refused redirect: {0}")]
pub struct RedirectRefused(pub String);

/// What stopped reading a body.
pub enum BodyError {
    Read(reqwest::Error),
    TooLarge,
}

/// Reads a body into one buffer sized from `Content-Length` (`Response::bytes` would hold a
/// multi-MB page twice at its peak), stopping once it exceeds `limit` decoded bytes.
pub async fn read_body(mut resp: reqwest::Response, limit: usize) -> Result<Bytes, BodyError> {
    let announced = resp.content_length().unwrap_or(0);
    if usize::try_from(announced).map_or(true, |n| n > limit) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Pooled::take(usize::try_from(announced).unwrap_or(0));
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        if body.0.len().saturating_add(chunk.len()) > limit {
            return Err(BodyError::TooLarge);
        }
        body.0.extend_from_slice(&chunk);
    }
    Ok(Bytes::from_owner(body))
}

/// Bodies are buffers of several MB, one per page. A few are kept for reuse once their page is
/// dropped, instead of being mapped, faulted in page by page and unmapped again for every page
/// (measured: 243,000 page faults and 1.1 s of system time for 100,000 chats).
static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
/// How many free buffers are kept, and the largest kept (a rare huge body is not held).
const POOLED: usize = 2;
const POOLED_MAX_BYTES: usize = 16 << 20;

/// A body buffer that goes back to [`POOL`] when its last `Bytes` is dropped.
struct Pooled(Vec<u8>);

impl Pooled {
    fn take(capacity: usize) -> Self {
        let mut buf = POOL
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default();
        buf.reserve(capacity);
        Self(buf)
    }
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let mut buf = std::mem::take(&mut self.0);
        if buf.capacity() > POOLED_MAX_BYTES {
            return;
        }
        buf.clear();
        if let Ok(mut pool) = POOL.lock() {
            if pool.len() < POOLED {
                pool.push(buf);
            }
        }
    }
}

/// What a 200 body that should be JSON is, when it is not: `None` when it looks like JSON.
pub fn not_json(body: &[u8]) -> Option<&'static str> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        Some(b'{' | b'[') => None,
        Some(b'<') => Some("an HTML page"),
        None => Some("an empty body"),
        Some(_) => Some("a body that is not JSON"),
    }
}

/// A short, redacted, single-line excerpt of a body, for messages (secrets are removed before
/// cutting, so no piece of one survives).
pub fn excerpt(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let redacted = secrets::redact(&text);
    let one_line: String = redacted.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut = truncate(&one_line, max);
    if cut.len() < one_line.len() {
        format!("{cut}…")
    } else {
        cut.to_owned()
    }
}

/// A reqwest error in words, with its causes (connection refused, DNS, TLS), which its
/// `Display` omits.
pub fn describe_reqwest_error(e: &reqwest::Error) -> String {
    let mut text = if e.is_connect() {
        format!("could not connect (within {} s)", CONNECT_TIMEOUT.as_secs())
    } else if e.is_timeout() {
        format!(
            "the server sent nothing for {} s, or the answer took over {} s",
            READ_IDLE_TIMEOUT.as_secs(),
            ATTEMPT_TIMEOUT.as_secs()
        )
    } else if e.is_redirect() {
        "the redirect was not followed".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn redirect_rule() {
        let zd = u("https://acme.zendesk.com/api/v2/chat/");
        let ok = |from: &Url, to: &str| redirect_refusal(&zd, from, &u(to));
        assert_eq!(ok(&zd, "https://acme.zendesk.com/api/v2/chat/x"), None);
        assert_eq!(ok(&zd, "https://other.zendesk.com/api/v2/chat/x"), None);
        assert!(ok(&zd, "https://evil.example.com/x?token=abc")
            .is_some_and(|w| w.contains("evil.example.com/x") && !w.contains("abc")));
        assert!(ok(&zd, "http://acme.zendesk.com/x").is_some_and(|w| w.contains("downgrade")));
        assert!(ok(&zd, "https://zendesk.com.evil.io/x").is_some());
        let local = u("http://127.0.0.1:8080/api/v2/chat/");
        let ok = |to: &str| redirect_refusal(&local, &local, &u(to));
        assert_eq!(ok("http://127.0.0.1:9090/api/v2/chat/x"), None);
        assert!(ok("http://localhost:9090/x").is_some(), "another host");
        assert!(ok("http://acme.zendesk.com/x").is_some_and(|w| w.contains("not https")));
        assert_eq!(ok("https://acme.zendesk.com/x"), None);
    }

    #[test]
    fn excerpts_redact_before_cutting() {
        let token = "excerpt-token-abcdefghijklmnop";
        let _s = crate::secrets::Secret::new(token);
        let body = format!("{}{token} and more", "x".repeat(290));
        let cut = excerpt(body.as_bytes(), 300);
        assert!(cut.len() <= 300 + "…".len(), "{}", cut.len());
        for piece in token.as_bytes().windows(6) {
            let piece = std::str::from_utf8(piece).unwrap();
            assert!(
                !cut.contains(piece),
                "{piece:?} of the token survived in {cut:?}"
            );
        }
    }

    #[test]
    fn bodies_that_are_not_json_are_named() {
        assert_eq!(not_json(b"  {\"a\":1}"), None);
        assert_eq!(not_json(b"\n[1]"), None);
        assert_eq!(not_json(b"<!DOCTYPE html><html>"), Some("an HTML page"));
        assert_eq!(not_json(b"   "), Some("an empty body"));
        assert_eq!(
            not_json(b"Service Unavailable"),
            Some("a body that is not JSON")
        );
    }
}
