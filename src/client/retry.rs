//! Retry rules: which failures are retried, the backoff (from `backon`), and `Retry-After`.

use std::time::Duration;

use backon::ExponentialBuilder;

/// How persistent one request is.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts for server errors, timeouts and connection failures (first try included).
    pub max_attempts: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// How many 429 answers one request accepts before giving up.
    pub max_throttled: usize,
    /// The longest single wait a `Retry-After` may impose; a longer one fails the request.
    pub max_retry_after: Duration,
    /// The longest one request may spend in attempts and backoff (waits that Zendesk asked
    /// for, and waits for the request budget, are not counted).
    pub max_total: Duration,
    /// Attempts for a 200 whose body is not JSON (an HTML page) before it is reported.
    pub max_bad_data_attempts: usize,
}

/// The longest `Retry-After` taken literally; longer values are clamped to it.
pub const RETRY_AFTER_CLAMP: Duration = Duration::from_secs(366 * 24 * 3600);

impl RetryPolicy {
    /// For syncs: persistent.
    pub fn sync() -> Self {
        Self {
            max_attempts: 7,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_throttled: 30,
            max_retry_after: Duration::from_secs(600),
            max_total: Duration::from_secs(300),
            max_bad_data_attempts: 3,
        }
    }

    /// For `check`: answer quickly.
    pub fn check() -> Self {
        Self {
            max_attempts: 2,
            min_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(2),
            max_throttled: 2,
            max_retry_after: Duration::from_secs(10),
            max_total: Duration::from_secs(20),
            max_bad_data_attempts: 2,
        }
    }

    /// The backoff schedule for transient failures, with jitter.
    pub fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts.saturating_sub(1))
            .with_jitter()
    }
}

/// True for statuses worth retrying after a backoff (429 is handled separately).
pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 500 | 502 | 503 | 504 | 520..=524)
}

/// Parses `Retry-After`: delta-seconds or an HTTP date, clamped to [`RETRY_AFTER_CLAMP`].
/// `None` when absent or unreadable.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only: a number too large for u64 is still "very long".
        let secs = v.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(RETRY_AFTER_CLAMP));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_nan() || secs < 0.0 {
            return None;
        }
        let clamped = secs.min(RETRY_AFTER_CLAMP.as_secs_f64());
        return Some(Duration::try_from_secs_f64(clamped).unwrap_or(RETRY_AFTER_CLAMP));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = at.with_timezone(&chrono::Utc) - now;
    Some(
        delta
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(RETRY_AFTER_CLAMP),
    )
}

/// When requests are allowed again after waiting `wait` from `now`, as UTC text.
pub fn allowed_again_at(now: chrono::DateTime<chrono::Utc>, wait: Duration) -> String {
    chrono::Duration::from_std(wait)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .map_or_else(
            || "a date too far away to print".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_after_forms() {
        let now = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(parse_retry_after("93", now), Some(Duration::from_secs(93)));
        assert_eq!(
            parse_retry_after(" 1.5 ", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Mon, 01 Jan 2024 00:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 31 Dec 2023 00:00:30 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("NaN", now), None);
        for huge in ["99999999999999999999", "1e20", "inf", "86400000000"] {
            assert_eq!(
                parse_retry_after(huge, now),
                Some(RETRY_AFTER_CLAMP),
                "{huge}"
            );
        }
        assert_eq!(
            allowed_again_at(now, Duration::from_secs(86400)),
            "2024-01-02 00:00:00 UTC"
        );
        assert_eq!(parse_retry_after("-3", now), None);
    }

    proptest::proptest! {
        #[test]
        fn retry_after_never_panics(s in ".{0,40}") {
            let _ = parse_retry_after(&s, chrono::Utc::now());
        }

        #[test]
        fn numeric_retry_after_never_panics(n in proptest::num::f64::ANY, d in "[0-9]{1,40}") {
            let now = chrono::Utc::now();
            if let Some(w) = parse_retry_after(&n.to_string(), now) {
                let _ = allowed_again_at(now, w);
            }
            proptest::prop_assert!(parse_retry_after(&d, now).is_some());
        }
    }
}
