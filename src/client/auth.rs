//! Access tokens: the current Bearer token, and OAuth refresh that happens once however many
//! requests see a 401 at the same time, never reuses a spent (rotating) refresh token, and hands
//! the new tokens to the platform in a CONTROL message.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use backon::Retryable;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::http::{describe_reqwest_error, excerpt, read_body, BodyError};
use super::retry::is_transient_status;
use super::token;
use crate::config::ValidConfig;
use crate::error::Error;
use crate::protocol::{AirbyteMessage, Output};
use crate::secrets::Secret;

/// Fresh tokens refused in a row before the credentials are declared bad.
const MAX_REFRESHES_WITHOUT_SUCCESS: u64 = 5;

/// Refresh this long before a token's announced expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

#[derive(Clone)]
struct Current {
    token: Option<Secret>,
    generation: u64,
    expires_at: Option<Instant>,
}

/// Hands out the token to use and refreshes it.
pub struct Auth {
    current: RwLock<Current>,
    /// Held while refreshing; holds the refresh token, which rotates.
    refresh: Mutex<Option<Secret>>,
    can_refresh: bool,
    /// Refreshes since the last successful request: new tokens that never work mean the
    /// credentials are bad, however the answers of concurrent requests interleave.
    refreshes_without_success: AtomicU64,
    config: ValidConfig,
    http: reqwest::Client,
    output: Arc<Output>,
}

impl Auth {
    /// Tokens from a validated config.
    pub fn new(config: &ValidConfig, http: reqwest::Client, output: Arc<Output>) -> Self {
        // Whatever path built the config, its credentials (and their encoded forms) are
        // scrubbed from every message.
        let creds = config
            .refresh
            .iter()
            .flat_map(|r| [&r.client_id, &r.client_secret, &r.refresh_token]);
        for secret in config.access_token.iter().chain(creds) {
            crate::secrets::register(secret.expose());
        }
        Self {
            current: RwLock::new(Current {
                token: config.access_token.clone(),
                generation: 0,
                expires_at: None,
            }),
            refresh: Mutex::new(config.refresh.as_ref().map(|r| r.refresh_token.clone())),
            can_refresh: config.refresh.is_some(),
            refreshes_without_success: AtomicU64::new(0),
            config: config.clone(),
            http,
            output,
        }
    }

    /// Notes that a request succeeded.
    pub fn record_success(&self) {
        self.refreshes_without_success.store(0, Ordering::Relaxed);
    }

    /// Answers a 401 for a request sent with the token of `generation`: refreshes (once, however
    /// many requests ask), unless several fresh tokens in a row were refused with no request
    /// succeeding in between, which means new tokens do not work either.
    pub async fn handle_unauthorized(&self, generation: u64) -> Result<(), Error> {
        if !self.can_refresh {
            return Err(unauthorized());
        }
        if self.refreshes_without_success.load(Ordering::Relaxed) >= MAX_REFRESHES_WITHOUT_SUCCESS {
            return Err(Error::Auth {
                message: "Zendesk Chat rejected several freshly refreshed access tokens (HTTP 401): the OAuth client may lack the `read` scope or access was revoked. Re-authenticate the source.".into(),
                internal: "401 after several refreshes with no successful request".into(),
            });
        }
        self.refresh(generation).await
    }

    fn snapshot(&self) -> Current {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The token to send and its generation (pass the generation back to [`Auth::refresh`]).
    pub async fn token(&self) -> Result<(Secret, u64), Error> {
        let cur = self.snapshot();
        let expired = cur.expires_at.is_some_and(|t| {
            t.checked_duration_since(Instant::now())
                .is_none_or(|left| left <= EXPIRY_MARGIN)
        });
        match cur.token {
            Some(t) if !expired => Ok((t, cur.generation)),
            _ if self.can_refresh => {
                self.refresh(cur.generation).await?;
                let cur = self.snapshot();
                cur.token
                    .map(|t| (t, cur.generation))
                    .ok_or_else(|| Error::Internal("no access token after refresh".into()))
            }
            Some(t) => Ok((t, cur.generation)),
            None => Err(Error::Config("No access token is configured.".into())),
        }
    }

    /// Refreshes the access token unless another request already did since `seen_generation`.
    pub async fn refresh(&self, seen_generation: u64) -> Result<(), Error> {
        if self.config.refresh.is_none() {
            return Err(unauthorized());
        }
        let mut refresh_token = self.refresh.lock().await;
        if self.snapshot().generation != seen_generation {
            return Ok(()); // someone refreshed while we waited for the lock
        }
        let Some(rt) = refresh_token.clone() else {
            return Err(unauthorized());
        };
        tracing::info!("refreshing the OAuth access token");
        let body = self.request_tokens(&rt).await?;
        // The refresh token may have rotated: keep it before reading anything else.
        let tokens = token::parse(&body);
        if let Some(new) = tokens.refresh_token.filter(|t| !t.trim().is_empty()) {
            *refresh_token = Some(Secret::new(new));
        }
        let Some(access) = tokens.access_token.filter(|t| !t.trim().is_empty()) else {
            // Hand back a rotated refresh token even so, or the next sync cannot refresh.
            if let Some(current) = self.snapshot().token {
                self.send_config(&current, refresh_token.as_ref())?;
            }
            return Err(Error::Auth {
                message: "Zendesk Chat answered the OAuth token refresh without an `access_token`. Re-authenticate the source; if it persists, contact Zendesk support.".into(),
                internal: format!("POST {} -> 200 without access_token: {}", self.config.token_url, excerpt(&body, 300)),
            });
        };
        let access = Secret::new(access);
        {
            let mut cur = self.current.write().unwrap_or_else(|p| p.into_inner());
            cur.token = Some(access.clone());
            cur.generation = cur.generation.wrapping_add(1);
            self.refreshes_without_success
                .fetch_add(1, Ordering::Relaxed);
            cur.expires_at = tokens
                .expires_in
                .and_then(|d| Instant::now().checked_add(d));
        }
        self.send_config(&access, refresh_token.as_ref())?;
        tracing::info!("OAuth access token refreshed; updated config sent to the platform");
        Ok(())
    }

    /// Hands the config with the current tokens to the platform (a CONTROL message).
    fn send_config(&self, access: &Secret, refresh: Option<&Secret>) -> Result<(), Error> {
        let config = self.config.with_tokens(access, refresh);
        self.output
            .emit(&AirbyteMessage::connector_config(config))?;
        Ok(())
    }

    /// POSTs the refresh grant (retrying transient failures, within the request time bound) and
    /// returns the body of a 2xx answer.
    async fn request_tokens(&self, rt: &Secret) -> Result<Vec<u8>, Error> {
        let policy = super::retry::RetryPolicy::sync();
        let send = || self.post_refresh(rt);
        let retried = send
            .retry(policy.backoff())
            .when(|e| matches!(e, RefreshFailure::Transient(_)))
            .notify(|e, delay| {
                if let RefreshFailure::Transient(what) = e {
                    tracing::warn!("OAuth token refresh failed ({what}); retrying in {delay:.1?}");
                }
            });
        let endpoint = self.config.token_url.to_string();
        let result = tokio::time::timeout(policy.max_total, retried)
            .await
            .unwrap_or_else(|_| {
                Err(RefreshFailure::Transient(format!(
                    "no token within {} s",
                    policy.max_total.as_secs()
                )))
            });
        match result {
            Ok(body) => Ok(body),
            Err(RefreshFailure::Transient(detail)) => Err(Error::Transport { endpoint, detail }),
            Err(RefreshFailure::Redirected(status, target)) => Err(Error::Auth {
                message: format!("The OAuth token endpoint {endpoint} answered HTTP {status}, a redirect to {target}; the connector never sends credentials to a redirect target. Check `base_url` (the token URL is derived from it)."),
                internal: format!("POST {endpoint} -> {status} Location {target}"),
            }),
            Err(RefreshFailure::Rejected(status, body)) => Err(rejected(&endpoint, status, &body)),
        }
    }

    async fn post_refresh(&self, rt: &Secret) -> Result<Vec<u8>, RefreshFailure> {
        let Some(creds) = self.config.refresh.as_ref() else {
            return Err(RefreshFailure::Rejected(401, Vec::new()));
        };
        let transient = |e: reqwest::Error| RefreshFailure::Transient(describe_reqwest_error(&e));
        let resp = self
            .http
            .post(self.config.token_url.clone())
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt.expose()),
                ("client_id", creds.client_id.expose()),
                ("client_secret", creds.client_secret.expose()),
            ])
            .send()
            .await
            .map_err(transient)?;
        let status = resp.status().as_u16();
        if resp.status().is_redirection() {
            let target = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|l| l.split(['?', '#']).next().unwrap_or_default().to_owned())
                .unwrap_or_else(|| "(no Location)".to_owned());
            return Err(RefreshFailure::Redirected(status, target));
        }
        let body = read_body(resp, token::MAX_TOKEN_BODY)
            .await
            .map_err(|e| match e {
                BodyError::Read(e) => transient(e),
                BodyError::TooLarge => {
                    RefreshFailure::Rejected(status, b"(oversized body)".to_vec())
                }
            })?
            .to_vec();
        if is_transient_status(status) || status == 429 {
            return Err(RefreshFailure::Transient(format!("HTTP {status}")));
        }
        if !(200..300).contains(&status) {
            return Err(RefreshFailure::Rejected(status, body));
        }
        Ok(body)
    }
}

enum RefreshFailure {
    Transient(String),
    Rejected(u16, Vec<u8>),
    Redirected(u16, String),
}

/// The error for a refused refresh (`invalid_grant` and friends).
fn rejected(endpoint: &str, status: u16, body: &[u8]) -> Error {
    let code = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error")?.as_str().map(str::to_owned))
        .map(|c| excerpt(c.as_bytes(), 60))
        .unwrap_or_default();
    Error::Auth {
        message: format!(
            "Zendesk Chat refused to refresh the OAuth access token (HTTP {status} {code}): the refresh token, client ID or client secret is invalid, or the refresh token was already used. Re-authenticate the source."
        ),
        internal: format!("POST {endpoint} -> {status}: {}", excerpt(body, 300)),
    }
}

/// The 401 error when no refresh is possible.
pub fn unauthorized() -> Error {
    Error::Auth {
        message: "Zendesk Chat rejected the access token (HTTP 401): it is invalid, expired, revoked, or lacks the `read` scope. Create a new Chat OAuth token, or use OAuth2.0 credentials with a refresh token so the connector can renew it.".into(),
        internal: "401 Unauthorized".into(),
    }
}
