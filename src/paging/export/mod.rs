//! The export engine: every time-ordered incremental export (the chats family, agent_timeline,
//! conversions, department_events) is read by the same planner, slice reader, coverage state
//! and position rule. A stream only says what its pages look like and what they emit
//! ([`Export`]).
//!
//! ```text
//!  read (orchestrator) ── spawns ──▶ worker = pager::run(SlicePager for slice i)   × N
//!    │  waits on `more` (Notify) and on the JoinSet      │ plan ▶ fetch ▶ parse ▶ emit ▶ commit
//!    │  Progress::plan: probes once, then splits         │
//!    ▼                                                   ▼
//!  Progress (Mutex): slices, per-member windows ◀── parse: registers how far the slice
//!                                                   fetched and the page's density
//!  Output   (Mutex): RECORDs + STATE of a page  ◀── emit/commit: Output lock, then Progress lock
//! ```
//!
//! Locks are taken in one order: the output lock, then the progress lock. A lone slice
//! prefetches its next page; parallel slices overlap their requests instead. Every request
//! takes one of the sync's in-flight slots (see [`super::driver::Ctx::slots`]), so all streams
//! share them. The orchestrator aborts every worker when the stream ends or fails, so no
//! request outlives its stream.
//!
//! A backfill starts as one slice. When the API proves slow (a quarter second or more per
//! page), the planner ([`super::plan`]) fills `backfill_concurrency` workers from the data the
//! pages showed: it probes the range the first page does not reach at a few time quantiles,
//! then cuts the slice expected to hold the most items a few pages ahead of what it fetched.
//!
//! **The position rule** (the same for every export). The ceiling is *now − 5½ minutes* at the
//! sync's start: Zendesk refuses a `start_time` after it, and may still index items before it.
//! - The next request continues from the greatest position read that is not beyond the ceiling.
//! - An item beyond the ceiling (live, or dated in the future by clock skew or a corrupt record)
//!   is emitted and remembered in the member's window; it never becomes a request cursor or the
//!   committed cursor, whichever slice reads it.
//! - The committed cursor never passes a position that was not read in order: a slice commits
//!   the highest item it read below the ceiling, or its end once it read past it.
//! - A full page holding nothing below the ceiling beyond the request cursor cannot be paged
//!   past: the slice ends with a WARN naming the item, and its state stays where it was read.

pub mod flat;
#[cfg(test)]
mod saved_tests;
mod slice;
mod state;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use super::coverage::{Coverage, Position};
use super::driver::{Ctx, Outcome, Selection};
use super::live_edge::Edge;
use super::plan::{Progress, Slice};
use super::Fetch;
use crate::error::Error;
use crate::protocol::output::Writer;
use crate::protocol::{AirbyteMessage, LogLevel};
pub use state::resume;

/// Where an item is emitted: the `member`-th selection of the read.
pub struct Target<'a> {
    pub member: usize,
    pub sel: &'a Selection,
    /// The time the page's records are stamped with (ms).
    pub emitted_at: i64,
}

/// One item of a page as the engine sees it.
pub struct ItemRef<'p> {
    /// What the window remembers it by (an id, or the agent of a timeline entry).
    pub key: &'p str,
    /// Where it sorts in the export (`None`: no readable time; emitted, never a cursor).
    pub pos: Option<&'p Position>,
    /// Its version in µs (a chat's `update_timestamp`); `None`: its position's time.
    pub version: Option<i64>,
}

/// A parsed page of an export.
pub trait Items {
    /// Items with a key, in page order.
    fn count(&self) -> usize;
    /// The item at `i < len()`.
    fn item(&self, i: usize) -> ItemRef<'_>;
    /// A full page: another may follow.
    fn full(&self) -> bool;
    /// Items without a key (skipped, counted).
    fn without_key(&self) -> u64;
}

/// A time-ordered incremental export: what its requests and pages look like.
pub trait Export: Send + Sync + 'static {
    /// A parsed page; it may borrow the body.
    type Page<'b>: Items + Send;
    /// What one slice carries from page to page while emitting (e.g. record keys).
    type Slice: Send;
    /// The endpoint's path.
    fn path(&self) -> &'static str;
    /// Cursor units per second: 1 for (second, id) exports paged with `start_id`; 1,000,000
    /// for µs exports with an inclusive `start_time` and no id (the items at a page's last
    /// µs are read again and recognized by their key).
    fn unit(&self) -> i64;
    /// The state's cursor field (`update_timestamp`, `start_time`, `timestamp`).
    fn cursor_field(&self) -> &'static str;
    /// The state forms the export resumes from, as an error about an unknown form lists them.
    fn accepted(&self) -> &'static str;
    /// The query of the request that starts at `at`.
    fn query(&self, at: &Position) -> Vec<(&'static str, String)>;
    /// Decodes a body.
    fn parse<'b>(&self, body: &'b [u8]) -> Result<Self::Page<'b>, Error>;
    /// The emit state of a slice starting at `start`, where `at_start` were already emitted.
    fn slice(&self, start: &Position, at_start: Vec<String>) -> Self::Slice;
    /// Emits item `i` of `page` for one member.
    fn emit(
        &self,
        page: &Self::Page<'_>,
        i: usize,
        to: Target<'_>,
        slice: &mut Self::Slice,
        out: &mut Writer<'_>,
    ) -> Result<(), Error>;
    /// Takes back a page once emitted (to reuse its buffers).
    fn recycle(&self, _page: Self::Page<'_>) {}
    /// The warning for `n` items of `stream` skipped without a key.
    fn without_key_warning(&self, stream: &str, n: u64) -> String {
        let n = super::tracker::count(n, "item", "items");
        format!("Stream {stream}: {n} without an id or timestamp were not emitted (they cannot be keyed or placed on the cursor).")
    }
}

/// The query of a (second, id) export's request at `at`: `limit`, `start_time` in epoch seconds
/// and, within a second, `start_id`; `fields` first when the export takes it.
pub fn time_id_query(fields: Option<&str>, at: &Position) -> Vec<(&'static str, String)> {
    let mut query = Vec::with_capacity(4);
    if let Some(fields) = fields {
        query.push(("fields", fields.to_owned()));
    }
    query.push(("limit", super::driver::EXPORT_LIMIT.to_string()));
    query.push(("start_time", at.secs.to_string()));
    if !at.id.is_empty() {
        query.push(("start_id", at.id.clone()));
    }
    query
}

/// What the workers of one read share.
struct Shared<K> {
    kind: K,
    members: Vec<Selection>,
    /// Per member: what it committed before this sync.
    inputs: Vec<Coverage>,
    progress: Mutex<Progress>,
    concurrency: usize,
    edge: Edge,
    /// Set once a page takes longer than [`SLOW_PAGE`]: from then on up to `concurrency` slices
    /// run at once (before, at most [`FAST_SLICES`]).
    slow: AtomicBool,
    /// Wakes the scheduler after each page: a slice may now be worth splitting.
    more: Notify,
    without_key: AtomicU64,
}

impl<K: Export> Shared<K> {
    fn ceiling(&self) -> i64 {
        self.edge.ceiling_secs.saturating_mul(self.kind.unit())
    }

    fn target_workers(&self) -> usize {
        if self.slow.load(Ordering::Relaxed) {
            self.concurrency
        } else {
            self.concurrency.min(FAST_SLICES)
        }
    }

    fn progress(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Slices run at once while the API answers quickly: two keep both the API and the parser busy
/// with two pages in memory (measured on 2 cores: 100,000 chats in 0.95 s against 1.8 s for one
/// slice; four were no faster and held 4 MB more).
const FAST_SLICES: usize = 2;

/// A page answered slower than this lets the backfill use `backfill_concurrency` slices: the
/// API's latency, not the machine, is then the limit.
pub(crate) const SLOW_PAGE: Duration = Duration::from_millis(250);

/// Reads the selected `members` of one export in one pass.
pub async fn read<F: Fetch, K: Export>(
    ctx: &Ctx<F>,
    kind: K,
    members: Vec<Selection>,
) -> Result<Outcome, Error> {
    read_at(ctx, kind, members, Edge::now()).await
}

/// [`read`] with the live edge fixed by the caller (tests).
pub(crate) async fn read_at<F: Fetch, K: Export>(
    ctx: &Ctx<F>,
    kind: K,
    members: Vec<Selection>,
    edge: Edge,
) -> Result<Outcome, Error> {
    let unit = kind.unit();
    let start = ctx.start_date.timestamp().saturating_mul(unit);
    let (inputs, windows): (Vec<_>, Vec<_>) = members
        .iter()
        .map(|sel| resume(sel, start, &kind, &ctx.output))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .unzip();
    let Some(lowest) = inputs.iter().map(|c| c.frontier.clone()).min() else {
        return Ok(Outcome::Done);
    };
    let shared = Arc::new(Shared {
        kind,
        members,
        inputs,
        progress: Mutex::new(Progress::new(vec![Slice::new(lowest, None)], windows, unit)),
        concurrency: ctx.concurrency.max(1),
        edge,
        slow: AtomicBool::new(false),
        more: Notify::new(),
        without_key: AtomicU64::new(0),
    });
    let outcome = orchestrate(ctx, &shared).await;
    warn_without_key(ctx, &shared)?;
    outcome
}

/// Runs slice workers until every slice is done; splits when a worker may be added.
async fn orchestrate<F: Fetch, K: Export>(
    ctx: &Ctx<F>,
    shared: &Arc<Shared<K>>,
) -> Result<Outcome, Error> {
    let mut workers = tokio::task::JoinSet::new();
    workers.spawn(worker(ctx.clone(), shared.clone(), 0));
    loop {
        tokio::select! {
            joined = workers.join_next() => {
                let Some(joined) = joined else { return Ok(Outcome::Done) };
                match joined {
                    Err(e) => return Err(Error::Internal(format!("an export worker failed: {e}"))),
                    Ok(Err(e)) => return Err(e),
                    Ok(Ok(Some(unavailable))) => return Ok(unavailable),
                    Ok(Ok(None)) => {}
                }
            }
            _ = shared.more.notified() => {}
        }
        let free = shared.target_workers().saturating_sub(workers.len());
        if free > 0 {
            let new = shared.progress().plan(shared.ceiling(), free);
            for index in new {
                workers.spawn(worker(ctx.clone(), shared.clone(), index));
            }
        }
    }
}

/// One slice: `Some(outcome)` when the endpoint is unavailable.
async fn worker<F: Fetch, K: Export>(
    ctx: Ctx<F>,
    shared: Arc<Shared<K>>,
    index: usize,
) -> Result<Option<Outcome>, Error> {
    let mut pager = slice::SlicePager::new(shared, index);
    match super::pager::run(&ctx, &mut pager).await? {
        Outcome::Done => Ok(None),
        unavailable => Ok(Some(unavailable)),
    }
}

/// The one warning about items without a key.
fn warn_without_key<F, K: Export>(ctx: &Ctx<F>, shared: &Shared<K>) -> Result<(), Error> {
    let n = shared.without_key.load(Ordering::Relaxed);
    if n == 0 {
        return Ok(());
    }
    let stream = shared.members.first().map_or("", |s| s.name);
    let msg = shared.kind.without_key_warning(stream, n);
    tracing::warn!("{msg}");
    ctx.output.emit(&AirbyteMessage::log(LogLevel::Warn, msg))?;
    Ok(())
}
