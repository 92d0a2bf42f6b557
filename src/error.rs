//! Typed errors of every layer, each mapped to an Airbyte failure type and rendered without
//! secrets. `message` is for the user; `internal_message` for whoever debugs.

use crate::protocol::output::OutputError;
use crate::protocol::FailureType;

/// Everything that can stop a command or a stream.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is unusable; the message names the field and the fix.
    #[error("{0}")]
    Config(String),

    /// The `--catalog` or `--state` file is unusable.
    #[error("{0}")]
    Input(String),

    /// Zendesk refused the credentials (401 without a way to refresh, or a failed refresh).
    #[error("{message}")]
    Auth { message: String, internal: String },

    /// Zendesk answered with an HTTP status that is not retried (or retries ran out).
    #[error("{message}")]
    Http {
        endpoint: String,
        status: u16,
        message: String,
        body: String,
    },

    /// The request never got an answer (connection refused, DNS, TLS, timeout) after retries.
    #[error("could not reach Zendesk Chat at {endpoint}: {detail}")]
    Transport { endpoint: String, detail: String },

    /// Zendesk answered 200 with a body that is not the JSON we expect.
    #[error("Zendesk Chat returned malformed JSON from {endpoint} at line {line} column {column}: {detail}")]
    Decode {
        endpoint: String,
        line: usize,
        column: usize,
        detail: String,
    },

    /// A decoded answer exceeded the size cap.
    #[error("Zendesk Chat sent more than {limit_mib} MiB for one answer of {endpoint} (a real page is a few MB); the connector stopped reading it. Try again later; if it persists, contact Zendesk support.")]
    TooLarge { endpoint: String, limit_mib: usize },

    /// Zendesk answered 200, repeatedly, with a body that is not JSON (an HTML page).
    #[error("{message}")]
    BadAnswer { endpoint: String, message: String },

    /// An API request was redirected where the connector does not follow.
    #[error("{message}")]
    Redirect { endpoint: String, message: String },

    /// The API broke one of its own paging rules in a way that would loop or lose data.
    #[error("{0}")]
    Protocol(String),

    /// Some streams failed; the message lists them.
    #[error("{message}")]
    Sync {
        message: String,
        failure_type: FailureType,
    },

    /// Writing to stdout failed.
    #[error(transparent)]
    Output(#[from] OutputError),

    /// Anything else that should not happen.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The Airbyte failure type of this error.
    pub fn failure_type(&self) -> FailureType {
        match self {
            Error::Config(_) | Error::Input(_) | Error::Auth { .. } => FailureType::ConfigError,
            Error::Http { status, .. } => match *status {
                401 | 403 | 404 => FailureType::ConfigError,
                408 | 429 | 500..=599 => FailureType::TransientError,
                _ => FailureType::SystemError,
            },
            Error::Transport { .. } | Error::Decode { .. } | Error::TooLarge { .. } => {
                FailureType::TransientError
            }
            Error::Redirect { .. } => FailureType::ConfigError,
            Error::BadAnswer { .. } => FailureType::SystemError,
            Error::Sync { failure_type, .. } => *failure_type,
            Error::Protocol(_) | Error::Output(_) | Error::Internal(_) => FailureType::SystemError,
        }
    }

    /// Details for engineers (never secrets: bodies come from the API, URLs carry no tokens).
    pub fn internal_message(&self) -> Option<String> {
        match self {
            Error::Auth { internal, .. } => Some(internal.clone()),
            Error::Http {
                endpoint,
                status,
                body,
                ..
            } => Some(format!(
                "GET {endpoint} -> {status}: {}",
                truncate(body, 500)
            )),
            _ => None,
        }
    }

    /// The HTTP status, when the error is an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Cuts text to at most `max` bytes on a character boundary.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_types() {
        let http = |status| Error::Http {
            endpoint: "e".into(),
            status,
            message: "m".into(),
            body: String::new(),
        };
        assert_eq!(http(503).failure_type(), FailureType::TransientError);
        assert_eq!(http(429).failure_type(), FailureType::TransientError);
        assert_eq!(http(403).failure_type(), FailureType::ConfigError);
        assert_eq!(http(400).failure_type(), FailureType::SystemError);
        assert_eq!(
            Error::Config("x".into()).failure_type(),
            FailureType::ConfigError
        );
        assert_eq!(truncate("héllo", 2), "h");
    }
}
