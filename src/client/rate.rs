//! The request budget shared by every request of a sync: a moving 60-second window of at most
//! `requests_per_minute` requests (the Chat API's own accounting), plus a pause that a 429's
//! `Retry-After` imposes on every request, not just the one that got it.
//!
//! Why not `governor`: GCRA with a burst of N lets up to 2N requests through in the first minute,
//! which a moving-window server answers with 429s; with a burst of 1 it forbids the bursts the
//! API allows. A window of send times is the server's own rule and is short enough to own.

use std::collections::VecDeque;
use std::sync::Mutex as StdMutex;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Margin added to the window: requests travel for a while before the server counts them, and
/// their delays differ, so a window of exactly 60 s can let the server see N+1.
const TRANSIT_MARGIN: Duration = Duration::from_millis(1500);

/// A moving-window request budget.
pub struct RequestBudget {
    limit: usize,
    window: Duration,
    sent: Mutex<VecDeque<Instant>>,
    paused_until: StdMutex<Option<Instant>>,
}

impl RequestBudget {
    /// At most `per_minute` requests in any 60-second window.
    pub fn per_minute(per_minute: u32) -> Self {
        Self::new(
            per_minute.max(1) as usize,
            Duration::from_secs(60) + TRANSIT_MARGIN,
        )
    }

    /// At most `limit` requests in any `window`.
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            sent: Mutex::new(VecDeque::with_capacity(limit)),
            paused_until: StdMutex::new(None),
        }
    }

    /// When the next request may be sent if nothing else is waiting, for heartbeats and logs.
    pub fn paused_until(&self) -> Option<Instant> {
        *self.paused_until.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops every request until `until` (a server asked us to back off).
    pub fn pause_until(&self, until: Instant) {
        let mut p = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if p.is_none_or(|t| t < until) {
            *p = Some(until);
        }
    }

    /// Waits until a request may be sent and counts it. Returns how long it waited.
    pub async fn acquire(&self) -> Duration {
        let started = Instant::now();
        loop {
            if let Some(until) = self.paused_until() {
                if until > Instant::now() {
                    tokio::time::sleep_until(until).await;
                    continue;
                }
            }
            let mut sent = self.sent.lock().await;
            let now = Instant::now();
            while sent.front().is_some_and(|t| *t + self.window <= now) {
                sent.pop_front();
            }
            if sent.len() < self.limit {
                sent.push_back(now);
                return now - started;
            }
            // Full: the oldest request leaves the window first. Holding the lock while sleeping
            // keeps waiters in FIFO order.
            let free_at = sent.front().map(|t| *t + self.window).unwrap_or(now);
            tokio::time::sleep_until(free_at).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_limit_in_any_window() {
        let budget = RequestBudget::new(5, Duration::from_secs(60));
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..12 {
            budget.acquire().await;
            times.push(Instant::now() - start);
        }
        // The first five go at once (the API allows bursts), then one per freed slot.
        assert!(times[..5].iter().all(|t| *t < Duration::from_millis(1)));
        assert_eq!(times[5], Duration::from_secs(60));
        assert_eq!(times[10], Duration::from_secs(120));
        for (i, t) in times.iter().enumerate() {
            let in_window = times
                .iter()
                .filter(|u| **u <= *t && *t - **u < Duration::from_secs(60))
                .count();
            assert!(in_window <= 5, "request {i} saw {in_window} in its window");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request() {
        let budget = RequestBudget::per_minute(200);
        budget.pause_until(Instant::now() + Duration::from_secs(7));
        let waited = budget.acquire().await;
        assert!(waited >= Duration::from_secs(7));
    }
}
