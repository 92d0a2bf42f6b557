//! The HTTP client of the Zendesk Chat API: Bearer auth with OAuth refresh, one request budget
//! shared by every stream, retries with backoff on server errors and timeouts, `Retry-After` on
//! 429, and errors that say what to do. It implements [`crate::streams::Fetch`].

pub mod auth;
pub mod rate;
pub mod retry;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::Retryable;
use bytes::Bytes;
use tokio::time::Instant;
use url::Url;

use crate::config::ValidConfig;
use crate::error::{truncate, Error};
use crate::protocol::{AirbyteMessage, LogLevel, Output};
use crate::streams::Reply;
use auth::{unauthorized, Auth};
use rate::RequestBudget;
use retry::{is_transient_status, parse_retry_after, RetryPolicy};

/// How often a long wait tells the platform the connector is alive (it flags sources that stay
/// silent for 60 s).
const HEARTBEAT: Duration = Duration::from_secs(25);

/// How many 401s one request accepts (each answered by a refresh) before giving up.
const MAX_UNAUTHORIZED_PER_REQUEST: usize = 10;

/// Request counters, for logs and the benchmark.
#[derive(Debug, Default)]
pub struct ClientStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
}

/// The Zendesk Chat API client. Share it behind an `Arc`.
pub struct Client {
    http: reqwest::Client,
    base: Url,
    auth: Auth,
    budget: RequestBudget,
    policy: RetryPolicy,
    output: Arc<Output>,
    pub stats: ClientStats,
}

enum Failure {
    Transient { status: Option<u16>, detail: String },
    Throttled { retry_after: Option<Duration> },
    Unauthorized { generation: u64 },
    Fatal(Error),
}

impl Client {
    /// A client for a validated config.
    pub fn new(
        config: &ValidConfig,
        policy: RetryPolicy,
        output: Arc<Output>,
    ) -> Result<Self, Error> {
        let http = build_http()?;
        Ok(Self {
            auth: Auth::new(config, http.clone(), output.clone()),
            http,
            base: config.base_url.clone(),
            budget: RequestBudget::per_minute(config.requests_per_minute),
            policy,
            output,
            stats: ClientStats::default(),
        })
    }

    /// GETs `path` (relative to the API base URL) and returns the body of a successful answer.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Bytes, Error> {
        let mut url = self
            .base
            .join(path)
            .map_err(|e| Error::Internal(format!("bad API path {path:?}: {e}")))?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        let endpoint = format!("{}{}", self.base, path);
        let mut throttled = 0usize;
        let mut refreshes = 0usize;
        loop {
            let attempt = || self.attempt(&url);
            let result = attempt
                .retry(self.policy.backoff())
                .when(|f| matches!(f, Failure::Transient { .. }))
                .notify(|f, delay| {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    if let Failure::Transient { status, detail } = f {
                        let what = status.map_or_else(|| detail.clone(), |s| format!("HTTP {s}"));
                        tracing::warn!("GET {endpoint} failed ({what}); retrying in {delay:.1?}");
                    }
                })
                .await;
            match result {
                Ok(body) => return Ok(body),
                Err(Failure::Throttled { retry_after }) => {
                    throttled += 1;
                    self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                    if throttled > self.policy.max_throttled {
                        return Err(Error::Http {
                            endpoint,
                            status: 429,
                            message: format!("Zendesk Chat kept answering 429 Too Many Requests ({throttled} times); another tool may be using this account's 200 requests/minute. Lower `requests_per_minute` or try again later."),
                            body: String::new(),
                        });
                    }
                    let fallback =
                        Duration::from_secs(2u64.saturating_pow(throttled.min(6) as u32));
                    let wait = retry_after
                        .unwrap_or(fallback)
                        .min(self.policy.max_retry_after);
                    tracing::warn!(
                        "GET {endpoint}: 429 Too Many Requests; pausing all requests for {wait:.1?} (Retry-After {})",
                        retry_after.map_or("absent".to_owned(), |d| format!("{}s", d.as_secs()))
                    );
                    self.budget.pause_until(Instant::now() + wait);
                }
                Err(Failure::Unauthorized { generation }) => {
                    // Concurrent streams can use up a short-lived token before this request's
                    // retry; the auth layer tells a dead token from a bad one.
                    refreshes += 1;
                    if refreshes > MAX_UNAUTHORIZED_PER_REQUEST {
                        return Err(unauthorized());
                    }
                    self.auth.handle_unauthorized(generation).await?;
                }
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Transient { status, detail }) => {
                    let attempts = self.policy.max_attempts;
                    return Err(match status {
                        Some(s) => Error::Http {
                            endpoint: endpoint.clone(),
                            status: s,
                            message: format!("Zendesk Chat kept failing on {endpoint} (HTTP {s}) after {attempts} attempts; try again later."),
                            body: detail,
                        },
                        None => Error::Transport { endpoint, detail },
                    });
                }
            }
        }
    }

    async fn attempt(&self, url: &Url) -> Result<Bytes, Failure> {
        let (token, generation) = self.auth.token().await.map_err(Failure::Fatal)?;
        self.wait_for_budget().await.map_err(Failure::Fatal)?;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let resp = self
            .http
            .get(url.clone())
            .bearer_auth(token.expose())
            .send()
            .await
            .map_err(|e| Failure::Transient {
                status: None,
                detail: describe_reqwest_error(&e),
            })?;
        let status = resp.status().as_u16();
        if status == 429 {
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
            return Err(Failure::Throttled { retry_after });
        }
        if status == 401 {
            return Err(Failure::Unauthorized { generation });
        }
        let body = read_body(resp).await.map_err(|e| Failure::Transient {
            status: None,
            detail: format!(
                "reading the response failed: {}",
                describe_reqwest_error(&e)
            ),
        })?;
        if (200..300).contains(&status) {
            self.auth.record_success();
            return Ok(body);
        }
        let text = String::from_utf8_lossy(&body).into_owned();
        if is_transient_status(status) {
            return Err(Failure::Transient {
                status: Some(status),
                detail: truncate(&text, 300).to_owned(),
            });
        }
        Err(Failure::Fatal(status_error(url, status, text)))
    }

    /// Waits for the request budget, telling the platform every 25 s that the sync is alive.
    async fn wait_for_budget(&self) -> Result<(), Error> {
        let acquire = self.budget.acquire();
        tokio::pin!(acquire);
        loop {
            tokio::select! {
                _ = &mut acquire => return Ok(()),
                _ = tokio::time::sleep(HEARTBEAT) => {
                    let why = match self.budget.paused_until() {
                        Some(t) if t > Instant::now() => format!("Zendesk Chat asked us to slow down; resuming in {:.0?}", t - Instant::now()),
                        _ => "waiting for the requests-per-minute budget".to_owned(),
                    };
                    self.output.emit(&AirbyteMessage::log(LogLevel::Info, why))?;
                }
            }
        }
    }
}

impl crate::streams::Fetch for Client {
    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Reply, Error> {
        match Client::get(self, path, query).await {
            Ok(body) => Ok(Reply::Page(body)),
            Err(e) if e.status() == Some(404) => Ok(Reply::Missing(e)),
            Err(e) if e.status() == Some(403) => Ok(Reply::Forbidden(e)),
            Err(e) => Err(e),
        }
    }
}

/// Reads a response body into one buffer sized from `Content-Length`. (`Response::bytes` keeps
/// the chunks and then copies them into a new buffer: twice a multi-MB page at its peak.)
async fn read_body(mut resp: reqwest::Response) -> Result<Bytes, reqwest::Error> {
    const MAX_PREALLOCATION: u64 = 64 * 1024 * 1024;
    let expected = resp.content_length().unwrap_or(0).min(MAX_PREALLOCATION) as usize;
    let mut body = Vec::with_capacity(expected);
    while let Some(chunk) = resp.chunk().await? {
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// The error for a non-retried, non-2xx status.
fn status_error(url: &Url, status: u16, body: String) -> Error {
    let mut endpoint = url.clone();
    endpoint.set_query(None);
    let description = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("description")
                .and_then(|d| d.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let message = match status {
        403 => format!("Zendesk Chat denied access to {endpoint} (HTTP 403 Forbidden): the token's user lacks permission for it. Use a token of a Chat administrator or owner with the `read` scope."),
        404 => format!("Zendesk Chat has no {endpoint} (HTTP 404 Not Found): check the subdomain. Some endpoints also do not exist for accounts on Zendesk messaging."),
        400 => format!("Zendesk Chat rejected the request to {endpoint} (HTTP 400 Bad Request): {description}"),
        _ => format!("Zendesk Chat answered HTTP {status} for {endpoint}: {description}"),
    };
    Error::Http {
        endpoint: endpoint.to_string(),
        status,
        message,
        body: truncate(&body, 500).to_owned(),
    }
}

/// A reqwest error with its causes (connection refused, DNS, TLS), which its `Display` omits.
pub fn describe_reqwest_error(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "the request timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
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

fn build_http() -> Result<reqwest::Client, Error> {
    let extra_roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter_map(|c| reqwest::Certificate::from_der(c.as_ref()).ok());
    reqwest::Client::builder()
        .user_agent(concat!(
            "source-zendesk-chat/",
            env!("CARGO_PKG_VERSION"),
            " (Airbyte source connector; Rust)"
        ))
        .default_headers({
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(
                reqwest::header::ACCEPT,
                reqwest::header::HeaderValue::from_static("application/json"),
            );
            h
        })
        .connect_timeout(Duration::from_secs(15))
        .read_timeout(Duration::from_secs(90))
        .timeout(Duration::from_secs(300))
        .pool_max_idle_per_host(32)
        .tls_certs_merge(extra_roots)
        .build()
        .map_err(|e| {
            Error::Internal(format!(
                "cannot build the HTTP client: {}",
                describe_reqwest_error(&e)
            ))
        })
}
