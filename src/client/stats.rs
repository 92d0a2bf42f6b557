//! Request counters of a client, for logs and the benchmark, and their summary in words.

use std::sync::atomic::{AtomicU64, Ordering};

/// Request counters.
#[derive(Debug, Default)]
pub struct ClientStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
}

impl ClientStats {
    /// "12 requests, 1 retry, 0 rate-limit waits".
    pub fn summary(&self) -> String {
        let get = |c: &AtomicU64| usize::try_from(c.load(Ordering::Relaxed)).unwrap_or(usize::MAX);
        format!(
            "{}, {}, {}",
            plural(get(&self.requests), "request", "requests"),
            plural(get(&self.retries), "retry", "retries"),
            plural(get(&self.throttled), "rate-limit wait", "rate-limit waits"),
        )
    }
}

/// "1 attempt", "2 attempts", "0 attempts".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_uses_correct_plurals() {
        let s = ClientStats::default();
        assert_eq!(s.summary(), "0 requests, 0 retries, 0 rate-limit waits");
        s.requests.store(1, Ordering::Relaxed);
        s.retries.store(1, Ordering::Relaxed);
        s.throttled.store(2, Ordering::Relaxed);
        assert_eq!(s.summary(), "1 request, 1 retry, 2 rate-limit waits");
    }
}
