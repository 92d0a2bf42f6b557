//! The request budget shared by every request of a sync: a moving 60-second window of at most
//! `requests_per_minute` requests (the Chat API's own accounting), plus a pause that a 429's
//! `Retry-After` imposes on every request, not just the one that got it. An observer hears when
//! such a pause starts (with the wall-clock time it ends) and when requests resume.
//!
//! Why not `governor`: GCRA with a burst of N lets up to 2N requests through in the first minute,
//! which a moving-window server answers with 429s; with a burst of 1 it forbids the bursts the
//! API allows. A window of send times is the server's own rule and is short enough to own.

use std::collections::VecDeque;
use std::sync::{Mutex as StdMutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Margin added to the window: requests travel for a while before the server counts them, and
/// their delays differ, so a window of exactly 60 s can let the server see N+1.
const TRANSIT_MARGIN: Duration = Duration::from_millis(1500);

/// A longer pause is announced again only when it moves the end by more than this: the 429s of
/// concurrent requests arrive together, each asking for about the same wait.
const ANNOUNCE_STEP: Duration = Duration::from_secs(1);

/// What the budget tells its observer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseEvent {
    /// Every request waits until `until` (wall clock), as the server asked.
    Paused { until: DateTime<Utc> },
    /// The announced pause is over: requests go again.
    Resumed,
}

/// Hears every [`PauseEvent`]; called on the thread that paused or resumed, outside any lock of
/// the budget.
pub type PauseObserver = Box<dyn Fn(PauseEvent) + Send + Sync>;

/// The current pause, and the end last announced to the observer.
#[derive(Default)]
struct Pause {
    until: Option<Instant>,
    announced: Option<Instant>,
}

/// A moving-window request budget.
pub struct RequestBudget {
    limit: usize,
    window: Duration,
    sent: Mutex<VecDeque<Instant>>,
    pause: StdMutex<Pause>,
    observer: OnceLock<PauseObserver>,
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
            pause: StdMutex::new(Pause::default()),
            observer: OnceLock::new(),
        }
    }

    /// Sends every later [`PauseEvent`] to `observer` (set once).
    pub fn observe(&self, observer: PauseObserver) {
        let _ = self.observer.set(observer);
    }

    fn pause(&self) -> std::sync::MutexGuard<'_, Pause> {
        self.pause.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn notify(&self, event: PauseEvent) {
        if let Some(observer) = self.observer.get() {
            observer(event);
        }
    }

    /// When the next request may be sent if nothing else is waiting, for heartbeats and logs.
    pub fn paused_until(&self) -> Option<Instant> {
        self.pause().until
    }

    /// Stops every request until `until` (a server asked us to back off), and tells the
    /// observer when this starts a pause or moves its end noticeably later.
    pub fn pause_until(&self, until: Instant) {
        let now = Instant::now();
        let wall = chrono::TimeDelta::from_std(until.saturating_duration_since(now))
            .ok()
            .and_then(|wait| Utc::now().checked_add_signed(wait));
        let announce = {
            let mut p = self.pause();
            if p.until.is_none_or(|t| t < until) {
                p.until = Some(until);
            }
            let news = until > now
                && wall.is_some()
                && p.announced.is_none_or(|a| until > a + ANNOUNCE_STEP);
            if news {
                p.announced = Some(until);
            }
            news
        };
        if let Some(until) = wall.filter(|_| announce) {
            self.notify(PauseEvent::Paused { until });
        }
    }

    /// Ends the pause that lasted until `until`, once; tells the observer if it was announced.
    fn end_pause(&self, until: Instant) {
        let announced = {
            let mut p = self.pause();
            if p.until != Some(until) {
                return; // extended meanwhile, or already ended by another waiter
            }
            p.until = None;
            p.announced.take().is_some()
        };
        if announced {
            self.notify(PauseEvent::Resumed);
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
                self.end_pause(until);
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

    fn recorded(budget: &RequestBudget) -> std::sync::Arc<StdMutex<Vec<PauseEvent>>> {
        let events = std::sync::Arc::new(StdMutex::new(Vec::new()));
        let sink = events.clone();
        budget.observe(Box::new(move |e| sink.lock().unwrap().push(e)));
        events
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_is_announced_once_with_its_end_then_its_resumption_once() {
        let budget = RequestBudget::per_minute(200);
        let events = recorded(&budget);
        let before = Utc::now();
        budget.pause_until(Instant::now() + Duration::from_secs(30));
        // Concurrent 429s asking for about the same wait, or less, say nothing new.
        budget.pause_until(Instant::now() + Duration::from_millis(30_500));
        budget.pause_until(Instant::now() + Duration::from_secs(5));
        let (a, b) = tokio::join!(budget.acquire(), budget.acquire());
        assert!(a >= Duration::from_secs(30) && b >= Duration::from_secs(30));
        let events = events.lock().unwrap().clone();
        assert_eq!(events.len(), 2, "{events:?}");
        let PauseEvent::Paused { until } = events[0] else {
            panic!("{events:?}")
        };
        let ahead = (until - before).num_milliseconds();
        assert!((29_000..=31_000).contains(&ahead), "{ahead} ms");
        assert_eq!(events[1], PauseEvent::Resumed);
        assert_eq!(budget.paused_until(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_longer_pause_is_announced_again_and_a_zero_wait_not_at_all() {
        let budget = RequestBudget::per_minute(200);
        let events = recorded(&budget);
        budget.pause_until(Instant::now());
        budget.acquire().await;
        assert!(events.lock().unwrap().is_empty());
        budget.pause_until(Instant::now() + Duration::from_secs(2));
        budget.pause_until(Instant::now() + Duration::from_secs(10));
        budget.acquire().await;
        let events = events.lock().unwrap().clone();
        assert_eq!(events.len(), 3, "{events:?}");
        assert!(matches!(events[1], PauseEvent::Paused { .. }));
        assert_eq!(events[2], PauseEvent::Resumed);
    }
}
