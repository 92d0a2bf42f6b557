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
    /// The longest single wait a `Retry-After` may impose.
    pub max_retry_after: Duration,
}

impl RetryPolicy {
    /// For syncs: persistent.
    pub fn sync() -> Self {
        Self {
            max_attempts: 7,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_throttled: 30,
            max_retry_after: Duration::from_secs(600),
        }
    }

    /// For `check`: answer quickly.
    pub fn check() -> Self {
        Self {
            max_attempts: 2,
            min_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(2),
            max_throttled: 2,
            max_retry_after: Duration::from_secs(30),
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

/// Parses `Retry-After`: delta-seconds or an HTTP date. `None` when absent or unreadable.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs));
        }
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = at.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
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
        assert_eq!(parse_retry_after("-3", now), None);
    }

    proptest::proptest! {
        #[test]
        fn retry_after_never_panics(s in ".{0,40}") {
            let _ = parse_retry_after(&s, chrono::Utc::now());
        }
    }
}
