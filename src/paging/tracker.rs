//! Per-stream bookkeeping shared by a stream's reader and the `read` command: the RUNNING status
//! on first output, record and byte counts, where the cursor has reached, and the row estimate
//! that ESTIMATE traces and progress lines report.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use serde_json::Value;

use super::cursor::{secs_to_iso, value_to_micros, value_to_secs};
use crate::error::Error;
use crate::protocol::messages::AirbyteStreamStatus;
use crate::protocol::output::Writer;
use crate::protocol::AirbyteMessage;
use crate::records::typed::{self, Normalizer, TypingStats};
use crate::records::StreamInfo;

/// ESTIMATE traces of one stream are at least this far apart, unless the estimate moved a lot.
const ESTIMATE_EVERY: Duration = Duration::from_secs(10);

/// Handle on one stream's bookkeeping; clones share it.
#[derive(Clone)]
pub struct Tracker(Arc<Inner>);

struct Inner {
    name: &'static str,
    total: AtomicU64,
    bytes: AtomicU64,
    running: AtomicBool,
    has_state: AtomicBool,
    finished: AtomicBool,
    /// Records the reader expects beyond those emitted (e.g. a full page means more follow).
    pending: AtomicU64,
    /// The time span a time cursor crosses during this sync, in epoch seconds.
    span: Option<(i64, i64)>,
    progress: Mutex<Progress>,
    typing: TypingStats,
    normalizer: &'static Normalizer,
}

#[derive(Default)]
struct Progress {
    /// Where the cursor has reached, for people.
    position: Option<String>,
    /// Share of the time span already covered (0 to 1), for time cursors.
    covered: Option<f64>,
    last_estimate: Option<(Instant, u64)>,
}

impl Tracker {
    /// Bookkeeping of a stream whose cursor, if any, is not a time.
    pub fn new(info: &'static StreamInfo) -> Self {
        Self::build(info, None)
    }

    /// Bookkeeping of a stream whose time cursor goes from `from` to about `to` (epoch seconds).
    pub fn with_time_span(info: &'static StreamInfo, from: i64, to: i64) -> Self {
        Self::build(info, (to > from).then_some((from, to)))
    }

    fn build(info: &'static StreamInfo, span: Option<(i64, i64)>) -> Self {
        Self(Arc::new(Inner {
            name: info.name,
            normalizer: Normalizer::of(info),
            total: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            running: AtomicBool::new(false),
            has_state: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            pending: AtomicU64::new(0),
            span,
            progress: Mutex::new(Progress::default()),
            typing: Default::default(),
        }))
    }

    pub fn name(&self) -> &'static str {
        self.0.name
    }

    /// Records emitted so far.
    pub fn total(&self) -> u64 {
        self.0.total.load(Ordering::Relaxed)
    }

    /// True once RUNNING was emitted and before the stream ended.
    pub fn is_active(&self) -> bool {
        self.0.running.load(Ordering::Relaxed) && !self.0.finished.load(Ordering::Relaxed)
    }

    /// True once the stream ended.
    pub fn is_finished(&self) -> bool {
        self.0.finished.load(Ordering::Relaxed)
    }

    /// Marks the stream ended (no more progress lines).
    pub fn finish(&self) {
        self.0.finished.store(true, Ordering::Relaxed);
    }

    /// Tells how many more records the reader expects beyond those emitted (id-paged lists: a
    /// full page means at least another page).
    pub fn expect_more(&self, records: u64) {
        self.0.pending.store(records, Ordering::Relaxed);
    }

    /// Adds RUNNING to the batch the first time the stream produces output.
    pub fn mark_running(&self, batch: &mut Writer<'_>) -> Result<(), Error> {
        if !self.0.running.swap(true, Ordering::Relaxed) {
            batch.push(&AirbyteMessage::stream_status(
                self.0.name,
                AirbyteStreamStatus::Running,
                None,
            ))?;
        }
        Ok(())
    }

    /// True once a STATE was emitted.
    pub fn has_state(&self) -> bool {
        self.0.has_state.load(Ordering::Relaxed)
    }

    /// Adds a RECORD, typed by the stream's schema (see [`crate::records::typed`]).
    pub fn record(
        &self,
        batch: &mut Writer<'_>,
        data: &RawValue,
        emitted_at: i64,
    ) -> Result<(), Error> {
        self.record_with(batch, data, &[], emitted_at)
    }

    /// Adds a RECORD made of `lead` fields (JSON text) followed by the fields of `data`. A
    /// record whose primary key cannot be formed is not emitted; [`Tracker::typing`] counts it.
    pub fn record_with(
        &self,
        batch: &mut Writer<'_>,
        data: &RawValue,
        lead: &[(&str, &str)],
        emitted_at: i64,
    ) -> Result<(), Error> {
        self.mark_running(batch)?;
        if typed::emit(
            batch,
            self.0.normalizer,
            &self.0.typing,
            data,
            lead,
            emitted_at,
        )? {
            self.0.total.fetch_add(1, Ordering::Relaxed);
            self.0
                .bytes
                .fetch_add(data.get().len() as u64, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Adds a RECORD already typed by the stream's normalizer: `data` with the paths of its
    /// nulled values; `sent` is the record's size as the API sent it.
    pub fn record_typed<'d>(
        &self,
        batch: &mut Writer<'_>,
        data: impl IntoIterator<Item = &'d [u8]>,
        changes: &[Box<str>],
        sent: u64,
        emitted_at: i64,
    ) -> Result<(), Error> {
        self.mark_running(batch)?;
        let stats = &self.0.typing;
        typed::emit_typed(batch, self.0.name, stats, data, changes, emitted_at)?;
        self.0.total.fetch_add(1, Ordering::Relaxed);
        self.0.bytes.fetch_add(sent, Ordering::Relaxed);
        Ok(())
    }

    /// Values nulled and records skipped for lack of a key, so far.
    pub fn typing(&self) -> &TypingStats {
        &self.0.typing
    }

    /// Writes a STATE that commits every record of this stream written before it, notes where
    /// the cursor has reached, and adds an ESTIMATE trace when the estimate is due.
    pub fn state(&self, batch: &mut Writer<'_>, stream_state: Value) -> Result<(), Error> {
        self.mark_running(batch)?;
        self.0.has_state.store(true, Ordering::Relaxed);
        self.note_position(&stream_state);
        batch.push_state(self.0.name, stream_state)?;
        if let Some((rows, bytes)) = self.estimate_due() {
            batch.push(&AirbyteMessage::estimate(self.0.name, rows, bytes))?;
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.0.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn note_position(&self, state: &Value) {
        let time = ["update_timestamp", "start_time"]
            .iter()
            .find_map(|k| state.get(*k))
            .and_then(|v| value_to_micros(v).map(|us| us.div_euclid(1_000_000)));
        let mut p = self.lock();
        if let Some(secs) = time {
            p.position = Some(secs_to_iso(secs));
            p.covered = self.0.span.map(|span| covered_share(span, secs, state));
        } else if let Some(id) = state.get("id").filter(|v| !v.is_null()) {
            p.position = Some(format!("id {id}"));
        }
    }

    /// (rows, bytes) emitted in all, for the last estimate of a completed stream.
    pub fn final_counts(&self) -> (u64, u64) {
        (self.total(), self.0.bytes.load(Ordering::Relaxed))
    }

    /// (rows, bytes) expected in all, from what was emitted and how far the cursor went.
    pub fn estimate(&self) -> Option<(u64, u64)> {
        let total = self.total();
        let bytes = self.0.bytes.load(Ordering::Relaxed);
        let covered = self.lock().covered;
        match covered {
            Some(share) if share >= 0.001 => Some((
                ((total as f64 / share) as u64).max(total),
                ((bytes as f64 / share) as u64).max(bytes),
            )),
            Some(_) => None,
            None => {
                let more = self.0.pending.load(Ordering::Relaxed);
                let per_record = bytes.checked_div(total).unwrap_or(0);
                let rows = total.saturating_add(more);
                Some((rows, bytes.saturating_add(more.saturating_mul(per_record))))
            }
        }
    }

    /// The estimate, when the last one sent is old or off by more than 10%.
    fn estimate_due(&self) -> Option<(u64, u64)> {
        let (rows, bytes) = self.estimate()?;
        let mut p = self.lock();
        let due = p.last_estimate.is_none_or(|(at, sent)| {
            at.elapsed() >= ESTIMATE_EVERY || rows.abs_diff(sent) > sent / 10
        });
        if due {
            p.last_estimate = Some((Instant::now(), rows));
        }
        due.then_some((rows, bytes))
    }

    /// One line for people: records so far, where the cursor is, the estimated share done.
    pub fn progress_line(&self) -> String {
        let total = self.total();
        let mut line = format!("{}: {}", self.0.name, count(total, "record", "records"));
        let position = self.lock().position.clone();
        if let Some(pos) = position {
            line.push_str(&format!(", cursor at {pos}"));
        }
        if let Some((rows, _)) = self.estimate().filter(|(rows, _)| *rows > 0) {
            let share = (total as f64 / rows as f64 * 100.0).min(100.0);
            line.push_str(&format!(", about {share:.0}% of ~{rows} expected"));
        }
        line
    }
}

/// Share of `span` covered up to `secs`, plus the ranges a parallel backfill finished beyond it.
fn covered_share((from, to): (i64, i64), secs: i64, state: &Value) -> f64 {
    let width = (to - from) as f64;
    let mut covered = (secs.clamp(from, to) - from) as f64;
    let ranges = state.get("done_ranges").and_then(Value::as_array);
    for r in ranges.into_iter().flatten() {
        let end = |k: &str| r.get(k).and_then(value_to_secs);
        if let (Some(a), Some(b)) = (end("after"), end("through")) {
            covered += (b.clamp(from, to) - a.clamp(from, to)).max(0) as f64;
        }
    }
    (covered / width).clamp(0.0, 1.0)
}

/// "1 record", "2 records".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn time_cursors_estimate_from_the_share_of_the_span_covered() {
        let t = Tracker::with_time_span(crate::streams::find("chats").unwrap(), 0, 1000);
        t.0.total.store(250, Ordering::Relaxed);
        t.note_position(&json!({"update_timestamp": "1970-01-01T00:04:10Z"}));
        assert_eq!(t.estimate().map(|e| e.0), Some(1000));
        assert!(t.progress_line().contains("cursor at 1970-01-01T00:04:10Z"));
        assert!(
            t.progress_line().contains("about 25%"),
            "{}",
            t.progress_line()
        );
        // A finished parallel slice beyond the frontier counts too.
        t.note_position(&json!({"update_timestamp": "1970-01-01T00:04:10Z",
            "done_ranges": [{"after": "1970-01-01T00:08:20Z", "through": "1970-01-01T00:12:30Z"}]}));
        assert_eq!(t.estimate().map(|e| e.0), Some(500));
    }

    #[test]
    fn id_cursors_estimate_from_what_paging_shows() {
        let t = Tracker::new(crate::streams::find("agents").unwrap());
        t.0.total.store(100, Ordering::Relaxed);
        t.expect_more(100);
        assert_eq!(t.estimate().map(|e| e.0), Some(200));
        t.note_position(&json!({"id": 7}));
        assert_eq!(
            t.progress_line(),
            "agents: 100 records, cursor at id 7, about 50% of ~200 expected"
        );
        assert_eq!(count(1, "record", "records"), "1 record");
    }
}
