//! The live edge of the incremental exports (every export of [`super::export`]). Zendesk refuses a
//! `start_time` less than five minutes old, which means its export is not final for the last
//! few minutes: a record updated at T may be indexed only later. So a sync fixes a ceiling,
//! now − [`EXPORT_MIN_AGE_SECS`] (5 minutes plus 30 s for clock skew between us and Zendesk),
//! and never commits a cursor past it. Records at or after the ceiling are still emitted (fresh
//! destinations) and remembered in the state's `window` as `[key, time]` pairs; the next
//! sync reads the window again and emits only what is new or changed there.
//!
//! The window is bounded: it holds only records at or after the committed cursor (those updated
//! in the last 5½ minutes before the sync, during the sync, or with a future timestamp), and at
//! most [`MAX_WINDOW`] of them. Once it is full, further records past the ceiling are left for
//! the next sync (never lost: the committed cursor is below them).

use std::sync::atomic::{AtomicBool, Ordering};

use std::collections::BTreeSet;

use serde_json::Value;

use super::coverage::{Coverage, Position};

use crate::error::Error;
use crate::protocol::output::Writer;
use crate::protocol::{AirbyteMessage, LogLevel};

pub use super::driver::EXPORT_MIN_AGE_SECS;

/// The most pairs a stream's window holds (about 45 bytes each in the state: ≤ 450 KB).
pub const MAX_WINDOW: usize = 10_000;

/// A timestamp this far past the clock is "in the future" and warned about.
const FUTURE_SLACK_SECS: i64 = 60;

/// The sync's ceiling and clock, fixed at its start.
pub struct Edge {
    pub now_secs: i64,
    pub ceiling_secs: i64,
    warned: AtomicBool,
}

impl Edge {
    pub fn at(now_secs: i64) -> Self {
        Self {
            now_secs,
            ceiling_secs: now_secs.saturating_sub(EXPORT_MIN_AGE_SECS),
            warned: AtomicBool::new(false),
        }
    }

    /// The edge of a sync starting now.
    pub fn now() -> Self {
        Self::at(chrono::Utc::now().timestamp())
    }

    /// Warns once per stream and sync about a record updated in the future (clock skew or a
    /// corrupt record): it is emitted but stays in the window until its time has passed.
    pub fn check_future(&self, stream: &str, secs: i64, out: &mut Writer<'_>) -> Result<(), Error> {
        if secs <= self.now_secs.saturating_add(FUTURE_SLACK_SECS)
            || self.warned.swap(true, Ordering::Relaxed)
        {
            return Ok(());
        }
        let msg = format!(
            "Stream {stream}: Zendesk returned a record updated at {} (in the future). It is emitted, but the stream's state stays at or before {} and the record is read again by later syncs until its time has passed.",
            super::cursor::secs_to_iso(secs),
            super::cursor::secs_to_iso(self.ceiling_secs)
        );
        tracing::warn!("{msg}");
        out.push(&AirbyteMessage::log(LogLevel::Warn, msg))?;
        Ok(())
    }
}

/// Reads a saved `window`: `[[id, time], ...]`. Malformed entries are skipped: forgetting one
/// can only emit that record once more, never lose it.
pub fn pairs_from_state(
    window: Option<&Value>,
    time: fn(&Value) -> Option<i64>,
) -> Vec<(String, i64)> {
    let Some(items) = window.and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .take(MAX_WINDOW)
        .filter_map(|pair| {
            let id = match pair.get(0)? {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some((id, time(pair.get(1)?)?))
        })
        .collect()
}

/// Records emitted in the live window, as (key, version in µs) pairs: a record comes back
/// from the export only when its version is not here.
pub type Window = BTreeSet<(String, i64)>;

/// Drops the window's records that the coverage now commits: what remains lies at or after the
/// ceiling, or in what is not read yet. A record's position is (its version in `unit`s, key).
pub fn prune(window: &mut Window, coverage: &Coverage, unit: i64) {
    let per_unit = 1_000_000 / unit.clamp(1, 1_000_000);
    window.retain(|(key, us)| {
        let pos = Position {
            secs: us.div_euclid(per_unit),
            id: key.clone(),
        };
        !coverage.contains(&pos)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn window_pairs_are_read_leniently_and_bounded() {
        let v = json!([
            ["a", "2024-01-01T00:00:00Z"],
            [7, 5],
            ["bad"],
            "x",
            [null, 1]
        ]);
        let pairs = pairs_from_state(Some(&v), crate::paging::cursor::value_to_secs);
        assert_eq!(pairs, vec![("a".into(), 1_704_067_200), ("7".into(), 5)]);
        let many = Value::Array((0..MAX_WINDOW + 5).map(|i| json!([i, i])).collect());
        assert_eq!(
            pairs_from_state(Some(&many), crate::paging::cursor::value_to_secs).len(),
            MAX_WINDOW
        );
        assert_eq!(Edge::at(1000).ceiling_secs, 1000 - EXPORT_MIN_AGE_SECS);
    }
}
