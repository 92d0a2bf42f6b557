//! The HTTP client of the Zendesk Chat API: Bearer auth with OAuth refresh, one request budget
//! shared by every stream, retries with backoff on server errors, stalls and timeouts within a
//! time bound per request, `Retry-After` on 429, heartbeats while waiting, and errors that say
//! what to do. It implements [`crate::paging::Fetch`].

pub mod auth;
mod http;
pub mod rate;
pub mod retry;
mod stats;
mod token;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::Retryable;
use bytes::Bytes;
use tokio::time::Instant;
use url::Url;

use crate::config::ValidConfig;
use crate::error::Error;
use crate::paging::Reply;
use crate::protocol::{AirbyteMessage, LogLevel, Output};
use auth::{unauthorized, Auth};
pub use http::{describe_reqwest_error, redirect_refusal, MAX_BODY_BYTES};
use http::{excerpt, not_json, read_body, without_query, BodyError, ATTEMPT_TIMEOUT};
use rate::RequestBudget;
use retry::{allowed_again_at, is_transient_status, parse_retry_after, RetryPolicy};
pub use stats::ClientStats;

/// How often a waiting request tells the platform the connector is alive (it flags sources
/// that stay silent for 60 s; 20 s leaves room for a slow start).
const HEARTBEAT: Duration = Duration::from_secs(20);

/// How many 401s one request accepts (each answered by a refresh) before giving up.
const MAX_UNAUTHORIZED_PER_REQUEST: usize = 10;

/// The Zendesk Chat API client. Share it behind an `Arc`.
pub struct Client {
    http: reqwest::Client,
    base: Url,
    auth: Auth,
    budget: RequestBudget,
    policy: RetryPolicy,
    output: Arc<Output>,
    /// What a 404 asks the user to check when `base_url` was given (else: the subdomain).
    not_found_advice: Option<String>,
    pub stats: ClientStats,
}

enum Failure {
    Transient { status: Option<u16>, detail: String },
    BadData { kind: &'static str, excerpt: String },
    Throttled { retry_after: Option<Duration> },
    Unauthorized { generation: u64 },
    Fatal(Error),
}

/// One request's progress, shared by its attempts and its heartbeat.
struct Progress {
    endpoint: String,
    started: Instant,
    /// When retrying stops; pushed back by waits for the request budget and by `Retry-After`.
    deadline: Mutex<Instant>,
    last_failure: Mutex<Option<String>>,
    attempts: AtomicUsize,
    bad_data: AtomicUsize,
    in_budget_wait: AtomicBool,
}

impl Progress {
    fn new(endpoint: String, max_total: Duration) -> Self {
        let started = Instant::now();
        Self {
            endpoint,
            started,
            deadline: Mutex::new(started + max_total),
            last_failure: Mutex::new(None),
            attempts: AtomicUsize::new(0),
            bad_data: AtomicUsize::new(0),
            in_budget_wait: AtomicBool::new(false),
        }
    }

    /// Pushes the deadline back by `waited` and returns the time left.
    fn extend(&self, waited: Duration) -> Duration {
        let mut d = self.deadline.lock().unwrap_or_else(|p| p.into_inner());
        *d = d.checked_add(waited).unwrap_or(*d);
        d.saturating_duration_since(Instant::now())
    }

    fn time_left(&self) -> Duration {
        self.extend(Duration::ZERO)
    }

    fn set_last(&self, what: String) {
        *self.last_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(what);
    }

    fn last(&self) -> Option<String> {
        self.last_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// "(3 attempts in 21 s)".
    fn tally(&self) -> String {
        let n = self.attempts.load(Ordering::Relaxed);
        let secs = self.started.elapsed().as_secs();
        format!("({} in {secs} s)", stats::plural(n, "attempt", "attempts"))
    }
}

impl Client {
    /// A client for a validated config.
    pub fn new(
        config: &ValidConfig,
        policy: RetryPolicy,
        output: Arc<Output>,
    ) -> Result<Self, Error> {
        Ok(Self {
            auth: Auth::new(config, http::token_client()?, output.clone()),
            http: http::api_client(&config.base_url)?,
            base: config.base_url.clone(),
            budget: RequestBudget::per_minute(config.requests_per_minute),
            policy,
            output,
            not_found_advice: config.not_found_advice.clone(),
            stats: ClientStats::default(),
        })
    }

    /// Tells `observer` when a `Retry-After` pauses every request and when requests resume.
    pub fn observe_pauses(&self, observer: rate::PauseObserver) {
        self.budget.observe(observer);
    }

    /// GETs `path` (relative to the API base URL) and returns the body of a successful answer,
    /// sending a heartbeat LOG every 25 s while it waits.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Bytes, Error> {
        let mut url = self
            .base
            .join(path)
            .map_err(|e| Error::Internal(format!("bad API path {path:?}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let progress = Progress::new(format!("{}{}", self.base, path), self.policy.max_total);
        let work = self.get_with_retries(&url, &progress);
        tokio::pin!(work);
        loop {
            tokio::select! {
                result = &mut work => return result,
                _ = tokio::time::sleep(HEARTBEAT) => self.heartbeat(&progress)?,
            }
        }
    }

    async fn get_with_retries(&self, url: &Url, p: &Progress) -> Result<Bytes, Error> {
        let mut throttled = 0usize;
        let mut refreshes = 0usize;
        loop {
            let result = (|| self.attempt(url, p))
                .retry(self.policy.backoff())
                .when(|f| self.should_retry(f, p))
                .notify(|f, delay| self.note_retry(f, delay, p))
                .await;
            match result {
                Ok(body) => return Ok(body),
                Err(Failure::Throttled { retry_after }) => {
                    throttled = throttled.saturating_add(1);
                    self.throttle(retry_after, throttled, p)?;
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
                Err(f) => return Err(self.exhausted(f, p)),
            }
        }
    }

    fn should_retry(&self, f: &Failure, p: &Progress) -> bool {
        match f {
            Failure::Transient { .. } => !p.time_left().is_zero(),
            Failure::BadData { .. } => {
                p.bad_data.load(Ordering::Relaxed) < self.policy.max_bad_data_attempts
            }
            _ => false,
        }
    }

    fn note_retry(&self, f: &Failure, delay: Duration, p: &Progress) {
        self.stats.retries.fetch_add(1, Ordering::Relaxed);
        let what = match f {
            Failure::Transient {
                status: Some(s), ..
            } => format!("HTTP {s}"),
            Failure::Transient { detail, .. } => detail.clone(),
            Failure::BadData { kind, .. } => format!("HTTP 200 with {kind}"),
            _ => return,
        };
        tracing::warn!(
            "GET {} failed ({what}); retrying in {delay:.1?}",
            p.endpoint
        );
        p.set_last(what);
    }

    /// Answers a 429: pauses every request for `Retry-After`, or fails at once when Zendesk
    /// asks for a wait longer than the policy allows.
    fn throttle(&self, retry_after: Option<Duration>, n: usize, p: &Progress) -> Result<(), Error> {
        self.stats.throttled.fetch_add(1, Ordering::Relaxed);
        let endpoint = &p.endpoint;
        let http_429 = |message: String| Error::Http {
            endpoint: endpoint.clone(),
            status: 429,
            message,
            body: String::new(),
        };
        if n > self.policy.max_throttled {
            return Err(http_429(format!("Zendesk Chat kept answering 429 Too Many Requests ({n} times) for {endpoint}; another tool may be using this account's 200 requests/minute. Lower `requests_per_minute` or try again later.")));
        }
        let fallback = Duration::from_secs(2u64.saturating_pow(n.min(6) as u32));
        let wait = retry_after.unwrap_or(fallback);
        let max = self.policy.max_retry_after;
        if wait > max {
            return Err(http_429(format!(
                "Zendesk Chat asked to wait {} s (Retry-After) before the next request to {endpoint}, longer than the connector waits ({} s). Zendesk allows requests again at {}; run the sync again after that.",
                wait.as_secs(), max.as_secs(), allowed_again_at(chrono::Utc::now(), wait)
            )));
        }
        tracing::warn!(
            "GET {endpoint}: 429 Too Many Requests; pausing all requests for {wait:.1?} (Retry-After {})",
            retry_after.map_or("absent".to_owned(), |d| format!("{} s", d.as_secs()))
        );
        let now = Instant::now();
        self.budget
            .pause_until(now.checked_add(wait).unwrap_or(now));
        Ok(())
    }

    /// The error once a request's retries are used up.
    fn exhausted(&self, f: Failure, p: &Progress) -> Error {
        let endpoint = p.endpoint.clone();
        let tally = p.tally();
        match f {
            Failure::BadData { kind, excerpt } => Error::BadAnswer {
                message: format!("Zendesk Chat answered 200 with {kind} instead of JSON at {endpoint} {tally}: {excerpt}. This is not a network problem; if it persists, check `base_url` (a proxy or login page?) or contact Zendesk support."),
                endpoint,
            },
            Failure::Transient {
                status: Some(s),
                detail,
            } => Error::Http {
                message: format!("Zendesk Chat kept failing on {endpoint} (HTTP {s}) {tally}; try again later."),
                endpoint,
                status: s,
                body: detail,
            },
            Failure::Transient { status: None, detail } => Error::Transport {
                detail: format!("{detail} {tally}"),
                endpoint,
            },
            Failure::Throttled { .. } | Failure::Unauthorized { .. } => {
                Error::Internal(format!("unexpected retry outcome for {endpoint}"))
            }
            Failure::Fatal(e) => e,
        }
    }

    async fn attempt(&self, url: &Url, p: &Progress) -> Result<Bytes, Failure> {
        let (token, generation) = self.auth.token().await.map_err(Failure::Fatal)?;
        p.in_budget_wait.store(true, Ordering::Relaxed);
        let waited = self.budget.acquire().await;
        p.in_budget_wait.store(false, Ordering::Relaxed);
        let left = p.extend(waited);
        if left.is_zero() {
            return Err(Failure::Transient {
                status: None,
                detail: p.last().unwrap_or_else(|| "no time left".to_owned()),
            });
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        p.attempts.fetch_add(1, Ordering::Relaxed);
        let limit = left.min(ATTEMPT_TIMEOUT);
        let result = tokio::time::timeout(limit, self.send(url, token.expose(), generation, p))
            .await
            .unwrap_or_else(|_| {
                Err(Failure::Transient {
                    status: None,
                    detail: format!("no complete answer within {:.0} s", limit.as_secs_f64()),
                })
            });
        if let Err(Failure::BadData { .. }) = &result {
            p.bad_data.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    async fn send(
        &self,
        url: &Url,
        token: &str,
        generation: u64,
        p: &Progress,
    ) -> Result<Bytes, Failure> {
        let started = Instant::now();
        let resp = self
            .http
            .get(url.clone())
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| send_failure(&e, p))?;
        let status = resp.status().as_u16();
        let log = |bytes: usize| {
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            tracing::debug!(
                method = "GET",
                path = url.path(),
                status,
                bytes,
                ms,
                "request"
            );
        };
        if status == 429 || status == 401 {
            log(0);
            return Err(match status {
                429 => Failure::Throttled {
                    retry_after: retry_after_of(&resp),
                },
                _ => Failure::Unauthorized { generation },
            });
        }
        let body = read_body(resp, MAX_BODY_BYTES)
            .await
            .map_err(|e| body_failure(e, p))?;
        log(body.len());
        if (200..300).contains(&status) {
            if let Some(kind) = not_json(&body) {
                let excerpt = excerpt(&body, 200);
                return Err(Failure::BadData { kind, excerpt });
            }
            self.auth.record_success();
            return Ok(body);
        }
        if is_transient_status(status) {
            return Err(Failure::Transient {
                status: Some(status),
                detail: excerpt(&body, 300),
            });
        }
        let advice = self.not_found_advice.as_deref();
        Err(Failure::Fatal(status_error(url, status, &body, advice)))
    }

    /// Tells the platform the sync is alive, and why it waits.
    fn heartbeat(&self, p: &Progress) -> Result<(), Error> {
        let now = Instant::now();
        let secs = p.started.elapsed().as_secs();
        let why = match self.budget.paused_until() {
            Some(t) if t > now => format!(
                "Zendesk Chat asked us to slow down; resuming in {:.0?}",
                t - now
            ),
            _ if p.in_budget_wait.load(Ordering::Relaxed) => {
                "waiting for the requests-per-minute budget".to_owned()
            }
            _ => match p.last() {
                Some(last) => format!(
                    "still trying GET {} for {secs} s (last failure: {last})",
                    p.endpoint
                ),
                None => format!(
                    "waiting {secs} s so far for Zendesk Chat to answer GET {}",
                    p.endpoint
                ),
            },
        };
        self.output
            .emit(&AirbyteMessage::log(LogLevel::Info, why))?;
        Ok(())
    }
}

impl crate::paging::Fetch for Client {
    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Reply, Error> {
        match Client::get(self, path, query).await {
            Ok(body) => Ok(Reply::Page(body)),
            Err(e) if e.status() == Some(404) => Ok(Reply::Missing(e)),
            Err(e) if e.status() == Some(403) => Ok(Reply::Forbidden(e)),
            Err(e) => Err(e),
        }
    }
}

fn retry_after_of(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, chrono::Utc::now()))
}

/// A failed send: a refused redirect is final; anything else is worth retrying.
fn send_failure(e: &reqwest::Error, p: &Progress) -> Failure {
    let detail = describe_reqwest_error(e);
    if e.is_redirect() {
        return Failure::Fatal(Error::Redirect {
            message: format!("Zendesk Chat redirected GET {} and the connector did not follow ({detail}). Check `base_url`: requests and redirects go only to the configured host or *.zendesk.com, over https (http only for loopback and private addresses).", p.endpoint),
            endpoint: p.endpoint.clone(),
        });
    }
    Failure::Transient {
        status: None,
        detail,
    }
}

fn body_failure(e: BodyError, p: &Progress) -> Failure {
    match e {
        BodyError::TooLarge => Failure::Fatal(Error::TooLarge {
            endpoint: p.endpoint.clone(),
            limit_mib: MAX_BODY_BYTES / (1024 * 1024),
        }),
        BodyError::Read(e) => Failure::Transient {
            status: None,
            detail: format!(
                "reading the response failed: {}",
                describe_reqwest_error(&e)
            ),
        },
    }
}

/// The error for a non-retried, non-2xx status; `not_found_advice` replaces "check the
/// subdomain" on a 404.
fn status_error(url: &Url, status: u16, body: &[u8], not_found_advice: Option<&str>) -> Error {
    let endpoint = without_query(url);
    let description = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("description")?.as_str().map(str::to_owned))
        .map(|d| crate::secrets::redact(&d).into_owned())
        .unwrap_or_default();
    let message = match status {
        403 => format!("Zendesk Chat denied access to {endpoint} (HTTP 403 Forbidden): the token's user lacks permission for it. Use a token of a Chat administrator or owner with the `read` scope."),
        404 => match not_found_advice {
            Some(advice) => format!("Zendesk Chat answered 404 Not Found for {endpoint}, the URL tried. {advice}"),
            None => format!("Zendesk Chat has no {endpoint} (HTTP 404 Not Found): check the subdomain. Some endpoints also do not exist for accounts on Zendesk messaging."),
        },
        400 => format!("Zendesk Chat rejected the request to {endpoint} (HTTP 400 Bad Request): {description}"),
        _ => format!("Zendesk Chat answered HTTP {status} for {endpoint}: {description}"),
    };
    Error::Http {
        endpoint,
        status,
        message,
        body: excerpt(body, 500),
    }
}

#[cfg(test)]
mod tests;
