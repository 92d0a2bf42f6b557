//! The connector configuration: one struct whose doc comments are the user-facing text of the
//! Airbyte spec, and its validation into a ready-to-use [`ValidConfig`].

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::error::Error;
use crate::secrets::Secret;

mod fields;
mod hints;
use hints::{check_credentials_shape, future_start_date_warning};

/// The Chat API's documented budget on every Zendesk plan.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 200;

/// Default number of chat export slices read at once.
pub const DEFAULT_BACKFILL_CONCURRENCY: u32 = 4;

fn default_backfill_concurrency() -> u32 {
    DEFAULT_BACKFILL_CONCURRENCY
}

fn default_requests_per_minute() -> u32 {
    DEFAULT_REQUESTS_PER_MINUTE
}

/// Zendesk Chat source configuration. Configs of the certified Airbyte Zendesk Chat connector are
/// accepted unchanged.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Zendesk Chat Spec", extend("additionalProperties" = true))]
pub struct Config {
    /// The date and time (UTC) from which to replicate data, as YYYY-MM-DDTHH:MM:SSZ. Chats,
    /// agent timeline entries and other time-based data before it are not synced.
    #[schemars(
        title = "Start Date",
        extend(
            "order" = 0,
            "format" = "date-time",
            "pattern" = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
            "pattern_descriptor" = "YYYY-MM-DDTHH:MM:SSZ",
            "examples" = ["2021-02-01T00:00:00Z"]
        )
    )]
    pub start_date: String,

    /// Your Zendesk subdomain: `acme` if your Zendesk address is https://acme.zendesk.com.
    #[schemars(title = "Subdomain", extend("order" = 1, "pattern" = "^(?!https://)", "examples" = ["myzendeskchat"]))]
    pub subdomain: String,

    /// How to authenticate with the Zendesk Chat API.
    #[schemars(title = "Authorization Method", extend("order" = 2))]
    pub credentials: Credentials,

    /// The most API requests the connector makes per minute, across all streams. Zendesk allows
    /// 200 on every plan; lower it if other tools share the same account's budget.
    #[serde(default = "default_requests_per_minute")]
    #[schemars(title = "Requests per minute", range(min = 1, max = 10000), extend("order" = 3))]
    pub requests_per_minute: u32,

    /// How many requests the sync keeps in flight at once, all streams together, and so how many
    /// time slices of one export may be read at once during a backfill. Slices are added only
    /// when the API is slow (over 250 ms per page: Zendesk often takes a second or more), where
    /// one request at a time would use a fraction of the request budget; 1 reads sequentially.
    #[serde(default = "default_backfill_concurrency")]
    #[schemars(title = "Backfill concurrency", range(min = 1, max = 16), extend("order" = 4))]
    pub backfill_concurrency: u32,

    /// Overrides the API base URL (default https://{subdomain}.zendesk.com/api/v2/chat/), for
    /// proxies and tests. Plain http:// is accepted only for loopback and private addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(title = "API base URL", extend("airbyte_hidden" = true, "order" = 5))]
    pub base_url: Option<String>,
}

/// Authentication method.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "credentials")]
pub enum Credentials {
    /// OAuth 2.0 with a Chat API client. With a refresh token the connector renews expired access
    /// tokens by itself and hands the new tokens back to Airbyte.
    #[serde(rename = "oauth2.0")]
    #[schemars(title = "OAuth2.0")]
    OAuth2(OAuth2Credentials),
    /// A Chat OAuth access token obtained out of band (for example with the implicit grant).
    #[serde(rename = "access_token")]
    #[schemars(title = "Access Token")]
    AccessToken(AccessTokenCredentials),
}

/// OAuth 2.0 credentials.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OAuth2Credentials {
    /// The client ID of your Zendesk Chat OAuth application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(title = "Client ID", extend("airbyte_secret" = true))]
    pub client_id: Option<Secret>,
    /// The client secret of your Zendesk Chat OAuth application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(title = "Client Secret", extend("airbyte_secret" = true))]
    pub client_secret: Option<Secret>,
    /// An access token. Optional when a refresh token, client ID and client secret are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(title = "Access Token", extend("airbyte_secret" = true))]
    pub access_token: Option<Secret>,
    /// A refresh token, used to renew the access token when it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(title = "Refresh Token", extend("airbyte_secret" = true))]
    pub refresh_token: Option<Secret>,
}

/// Static access-token credentials.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AccessTokenCredentials {
    /// A Zendesk Chat OAuth access token with the `read` scope (Chat dashboard → Settings →
    /// Account → API & SDKs → Add API client).
    #[schemars(title = "Access Token", extend("airbyte_secret" = true))]
    pub access_token: Secret,
}

/// What a refreshing client needs.
#[derive(Debug, Clone)]
pub struct RefreshCredentials {
    pub client_id: Secret,
    pub client_secret: Secret,
    pub refresh_token: Secret,
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct ValidConfig {
    pub subdomain: String,
    pub start_date: DateTime<Utc>,
    /// May be absent when a refresh token can obtain one.
    pub access_token: Option<Secret>,
    pub refresh: Option<RefreshCredentials>,
    pub requests_per_minute: u32,
    pub backfill_concurrency: u32,
    pub base_url: Url,
    pub token_url: Url,
    /// What to check when the API answers 404, if `base_url` was given: the form it must have.
    pub not_found_advice: Option<String>,
    /// The config as given, so a CONTROL message can hand it back with new tokens and nothing
    /// else changed.
    pub raw: Value,
    /// Problems that do not stop a sync (e.g. a `start_date` in the future), already logged as
    /// warnings; the caller may also emit them as LOG messages.
    pub warnings: Vec<String>,
}

impl ValidConfig {
    /// Parses and validates a config file's text.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let raw: Value = serde_json::from_str(text).map_err(|e| {
            Error::Config(format!(
                "The config file is not valid JSON (line {}, column {}: {}).",
                e.line(),
                e.column(),
                crate::protocol::state::classify(&e)
            ))
        })?;
        register_secrets(&raw);
        Self::from_value(raw)
    }

    /// Validates a config already parsed as JSON.
    pub fn from_value(raw: Value) -> Result<Self, Error> {
        let Some(map) = raw.as_object() else {
            return Err(Error::Config(format!(
                "The config must be a JSON object, found {}.",
                crate::protocol::state::json_kind(&raw)
            )));
        };
        check_credentials_shape(map.get("credentials"))?;
        fields::check_types(map)?;
        let config: Config = serde_json::from_value(raw.clone())
            .map_err(|e| Error::Config(describe_serde_error(&e, map)))?;
        let subdomain = validate_subdomain(&config.subdomain)?;
        let start_date = parse_start_date(&config.start_date)?;
        let warnings: Vec<String> = fields::unknown_keys_warning(map)
            .into_iter()
            .chain(future_start_date_warning(start_date, Utc::now()))
            .collect();
        for w in &warnings {
            tracing::warn!("{w}");
        }
        let default_url = Url::parse(&format!("https://{subdomain}.zendesk.com/api/v2/chat/"))
            .map_err(|e| Error::Config(format!("`subdomain` does not form a valid URL: {e}")))?;
        let (base_url, not_found_advice) = match &config.base_url {
            Some(u) if !u.trim().is_empty() => {
                let url = parse_base_url(u)?;
                let advice = hints::base_url_advice(&url, &default_url);
                (url, Some(advice))
            }
            _ => (default_url, None),
        };
        let token_url = base_url
            .join("/oauth2/chat/token")
            .map_err(|e| Error::Config(format!("cannot derive the OAuth token URL: {e}")))?;
        let (access_token, refresh) = match config.credentials {
            Credentials::AccessToken(c) => {
                if c.access_token.is_blank() {
                    return Err(Error::Config(
                        "`credentials.access_token` is empty: paste a Zendesk Chat OAuth access token.".into(),
                    ));
                }
                (Some(c.access_token), None)
            }
            Credentials::OAuth2(c) => {
                let access = c.access_token.filter(|t| !t.is_blank());
                let refresh = match (c.client_id, c.client_secret, c.refresh_token) {
                    (Some(id), Some(secret), Some(rt))
                        if !id.is_blank() && !secret.is_blank() && !rt.is_blank() =>
                    {
                        Some(RefreshCredentials {
                            client_id: id,
                            client_secret: secret,
                            refresh_token: rt,
                        })
                    }
                    _ => None,
                };
                if access.is_none() && refresh.is_none() {
                    return Err(Error::Config(
                        "OAuth2.0 credentials need an `access_token`, or a `refresh_token` together with `client_id` and `client_secret`.".into(),
                    ));
                }
                (access, refresh)
            }
        };
        Ok(Self {
            subdomain,
            start_date,
            access_token,
            refresh,
            requests_per_minute: config.requests_per_minute,
            backfill_concurrency: config.backfill_concurrency,
            base_url,
            token_url,
            not_found_advice,
            raw,
            warnings,
        })
    }

    /// The config as given, with new OAuth tokens in place (for the CONTROL message).
    pub fn with_tokens(&self, access_token: &Secret, refresh_token: Option<&Secret>) -> Value {
        let mut raw = self.raw.clone();
        if let Some(creds) = raw.get_mut("credentials").and_then(Value::as_object_mut) {
            creds.insert(
                "access_token".into(),
                Value::String(access_token.expose().to_owned()),
            );
            if let Some(rt) = refresh_token {
                creds.insert(
                    "refresh_token".into(),
                    Value::String(rt.expose().to_owned()),
                );
            }
        }
        raw
    }
}

/// Registers every string under a secret-looking key for redaction, even in a config that then
/// fails validation.
fn register_secrets(value: &Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let secretish = ["token", "secret", "password", "client_id"]
                    .iter()
                    .any(|s| k.contains(s));
                match v {
                    Value::String(s) if secretish => crate::secrets::register(s),
                    _ => register_secrets(v),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(register_secrets),
        _ => {}
    }
}

/// Turns a serde error into a message that names the field, without echoing values; a missing
/// field also names an unknown key of `config` that looks like it.
fn describe_serde_error(e: &serde_json::Error, config: &serde_json::Map<String, Value>) -> String {
    let text = e.to_string();
    if let Some(field) = text
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        let hint = match field {
            "subdomain" => " Give your Zendesk subdomain, e.g. \"acme\" for https://acme.zendesk.com.",
            "start_date" => " Give a UTC date-time such as \"2021-02-01T00:00:00Z\".",
            "credentials" => " Add a `credentials` object: {\"credentials\": \"access_token\", \"access_token\": \"...\"}.",
            "access_token" => " Paste a Zendesk Chat OAuth access token.",
            _ => "",
        };
        let typo = fields::did_you_mean(field, config);
        return format!("The config is missing the required field `{field}`.{hint}{typo}");
    }
    if text.contains("credentials")
        && (text.contains("unknown variant") || text.contains("missing field `credentials`"))
    {
        return "`credentials.credentials` must be \"oauth2.0\" or \"access_token\".".into();
    }
    // serde's "invalid type: string \"...\"" quotes the value; keep only what was expected.
    if let Some(expected) = text.split(", expected ").nth(1) {
        let expected = expected.split(" at line").next().unwrap_or(expected);
        return format!("The config has a field of the wrong type (expected {expected}). Check `subdomain`, `start_date`, `credentials` and `requests_per_minute`.");
    }
    format!(
        "The config is invalid: {}",
        text.split(" at line").next().unwrap_or(&text)
    )
}

fn validate_subdomain(input: &str) -> Result<String, Error> {
    let s = input.trim();
    if s.is_empty() {
        return Err(Error::Config(
            "`subdomain` is empty. Give your Zendesk subdomain, e.g. \"acme\" for https://acme.zendesk.com.".into(),
        ));
    }
    let lower = s.to_ascii_lowercase();
    if lower.contains("://") || lower.contains(".zendesk.com") || lower.contains('/') {
        let guess = lower
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split(['.', '/'])
            .next()
            .unwrap_or("")
            .to_owned();
        return Err(Error::Config(format!(
            "`subdomain` must be only the subdomain, not a URL or host name: use \"{guess}\" instead of \"{s}\"."
        )));
    }
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(Error::Config(format!(
            "`subdomain` \"{s}\" may only contain letters, digits and hyphens (e.g. \"acme\" for https://acme.zendesk.com)."
        )));
    }
    Ok(lower)
}

/// Accepts `YYYY-MM-DDTHH:MM:SSZ` (the spec's format), any RFC 3339 date-time (fractional seconds,
/// an offset such as `+02:00`, converted to UTC), and a bare date `YYYY-MM-DD` (midnight UTC).
pub fn parse_start_date(input: &str) -> Result<DateTime<Utc>, Error> {
    let s = input.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(dt.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(dt) = d.and_hms_opt(0, 0, 0) {
            return Ok(dt.and_utc());
        }
    }
    Err(Error::Config(format!(
        "`start_date` \"{s}\" is not a date-time: use the format YYYY-MM-DDTHH:MM:SSZ (UTC), e.g. \"2021-02-01T00:00:00Z\"; a date \"2021-02-01\" or an offset \"2021-02-01T00:00:00+02:00\" are accepted too."
    )))
}

fn parse_base_url(input: &str) -> Result<Url, Error> {
    let mut text = input.trim().to_owned();
    if !text.ends_with('/') {
        text.push('/');
    }
    let url = Url::parse(&text)
        .map_err(|e| Error::Config(format!("`base_url` \"{input}\" is not a valid URL: {e}.")))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let local = match url.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(ip)) => is_local(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => is_local(IpAddr::V6(ip)),
                None => false,
            };
            if !local {
                return Err(Error::Config(format!(
                    "`base_url` must use https:// (plain http:// is only allowed for loopback and private addresses): \"{input}\"."
                )));
            }
        }
        other => {
            return Err(Error::Config(format!(
                "`base_url` has an unsupported scheme \"{other}\"; use https://."
            )))
        }
    }
    Ok(url)
}

fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

#[cfg(test)]
mod tests;
