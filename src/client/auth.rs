//! Access tokens: the current Bearer token, and OAuth refresh that happens once however many
//! requests see a 401 at the same time, never reuses a spent (rotating) refresh token, and hands
//! the new tokens to the platform in a CONTROL message.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use backon::Retryable;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::config::ValidConfig;
use crate::error::{truncate, Error};
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

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl Auth {
    /// Tokens from a validated config.
    pub fn new(config: &ValidConfig, http: reqwest::Client, output: Arc<Output>) -> Self {
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

    /// True when a 401 can be answered with a refresh.
    pub fn can_refresh(&self) -> bool {
        self.can_refresh
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
        let expired = cur
            .expires_at
            .is_some_and(|t| Instant::now() + EXPIRY_MARGIN >= t);
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
        let Some(creds) = self.config.refresh.as_ref() else {
            return Err(unauthorized());
        };
        let mut refresh_token = self.refresh.lock().await;
        if self.snapshot().generation != seen_generation {
            return Ok(()); // someone refreshed while we waited for the lock
        }
        let Some(rt) = refresh_token.clone() else {
            return Err(unauthorized());
        };
        tracing::info!("refreshing the OAuth access token");
        let policy = super::retry::RetryPolicy::sync();
        let send = || async {
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
                .map_err(|e| RefreshFailure::Transient(super::describe_reqwest_error(&e)))?;
            let status = resp.status().as_u16();
            let body = resp
                .text()
                .await
                .map_err(|e| RefreshFailure::Transient(super::describe_reqwest_error(&e)))?;
            if super::retry::is_transient_status(status) || status == 429 {
                return Err(RefreshFailure::Transient(format!("HTTP {status}")));
            }
            if !(200..300).contains(&status) {
                return Err(RefreshFailure::Rejected(status, body));
            }
            serde_json::from_str::<TokenResponse>(&body).map_err(|e| {
                RefreshFailure::Rejected(status, format!("unreadable token response: {e}"))
            })
        };
        let parsed = send
            .retry(policy.backoff())
            .when(|e| matches!(e, RefreshFailure::Transient(_)))
            .await;
        let parsed = match parsed {
            Ok(p) => p,
            Err(RefreshFailure::Rejected(status, body)) => {
                let code = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                    .unwrap_or_default();
                return Err(Error::Auth {
                    message: format!(
                        "Zendesk Chat refused to refresh the OAuth access token (HTTP {status} {code}): the refresh token, client ID or client secret is invalid, or the refresh token was already used. Re-authenticate the source."
                    ),
                    internal: format!("POST {} -> {status}: {}", self.config.token_url, truncate(&body, 300)),
                });
            }
            Err(RefreshFailure::Transient(detail)) => {
                return Err(Error::Transport {
                    endpoint: self.config.token_url.to_string(),
                    detail,
                })
            }
        };
        let access = Secret::new(parsed.access_token);
        let new_refresh = parsed
            .refresh_token
            .filter(|t| !t.is_empty())
            .map(Secret::new);
        if let Some(rt) = &new_refresh {
            *refresh_token = Some(rt.clone());
        }
        {
            let mut cur = self.current.write().unwrap_or_else(|p| p.into_inner());
            cur.token = Some(access.clone());
            cur.generation += 1;
            self.refreshes_without_success
                .fetch_add(1, Ordering::Relaxed);
            cur.expires_at = parsed
                .expires_in
                .map(|s| Instant::now() + Duration::from_secs(s));
        }
        let current_refresh = refresh_token.clone();
        let config = self.config.with_tokens(&access, current_refresh.as_ref());
        self.output
            .emit(&AirbyteMessage::connector_config(config))?;
        tracing::info!("OAuth access token refreshed; updated config sent to the platform");
        Ok(())
    }
}

enum RefreshFailure {
    Transient(String),
    Rejected(u16, String),
}

/// The 401 error when no refresh is possible.
pub fn unauthorized() -> Error {
    Error::Auth {
        message: "Zendesk Chat rejected the access token (HTTP 401): it is invalid, expired, revoked, or lacks the `read` scope. Create a new Chat OAuth token, or use OAuth2.0 credentials with a refresh token so the connector can renew it.".into(),
        internal: "401 Unauthorized".into(),
    }
}
