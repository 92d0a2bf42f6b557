//! The chats family: `chats` and its child streams `chat_history`, `chat_webpath`,
//! `chat_engagements` and `chat_conversions`, all read from one pass over the incremental chat
//! export (no extra requests for the children).
//!
//! The export is ordered by (`update_timestamp` second, chat id) and paged with the cursor pair
//! (`start_time`, `start_id`) taken from the highest chat of each page, so any number of chats
//! sharing one second crosses page boundaries without loss or repeats. A page with fewer than
//! `limit` chats is the last (`next_page` is always present and means nothing).
//!
//! ```text
//!  read (orchestrator) ── spawns ──▶ worker = pager::run(SlicePager for slice i)   × N
//!    │  waits on `more` (Notify) and on the JoinSet      │ plan ▶ fetch ▶ parse ▶ emit ▶ commit
//!    │  Progress::plan: probes once, then splits         │
//!    ▼                                                   ▼
//!  Progress (Mutex): slices, per-member windows ◀── parse: registers `fetched` and the page's
//!                                                   density sample, reads `end`
//!  Output   (Mutex): RECORDs + STATE of a page  ◀── emit/commit: Output lock, then Progress lock
//! ```
//!
//! Locks are taken in one order: the output lock, then the progress lock (parse and the
//! scheduler take the progress lock alone). A lone slice (`backfill_concurrency` 1) prefetches
//! its next page as soon as the current page is parsed; parallel slices overlap their requests
//! instead. A prefetched request is a task aborted when its slice ends, and the orchestrator
//! aborts every worker when the stream ends or fails, so no request outlives its stream.
//!
//! A backfill starts as one slice. When the API proves slow (a quarter second or more per
//! page), the planner ([`plan`](crate::paging::plan)) fills `backfill_concurrency` workers from the data the pages
//! showed: once, right after the first page, it probes the range that page does not reach at a
//! few equal time quantiles (each probe is a new slice whose first page is real data, or an
//! empty page that closes the range past the last chat), then, whenever a worker is free, it
//! cuts the slice expected to hold the most chats (its last page's density times the time it
//! has left) a few pages ahead of what it fetched. A member's state is its coverage (a
//! frontier plus the ranges finished beyond it) and its live window (see [`state`] and
//! [`live_edge`](crate::paging::live_edge)): nothing past the export ceiling is committed, and
//! chats emitted past it are remembered so the next sync, which reads them again, emits only
//! what is new or changed there.

mod emit;
mod page;
mod pager;
pub mod records;
pub mod state;
mod walk;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use crate::paging::coverage::Coverage;
use crate::paging::driver::{Ctx, Outcome, Selection};
use crate::paging::live_edge::Edge;
use crate::records::normalize::Sink;
use super::{Resource, StreamInfo};
use crate::paging::Fetch;
use crate::schema::record_schema;
use crate::error::Error;
use crate::protocol::{AirbyteMessage, LogLevel};
use crate::paging::plan::{Progress, Slice};

pub const PATH: &str = "incremental/chats";
/// The export's maximum (and default) page size.
pub const LIMIT: u32 = crate::paging::driver::EXPORT_LIMIT;

/// Which part of a chat a stream emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Chat,
    History,
    Webpath,
    Engagements,
    Conversions,
}

/// One selected stream of the family.
#[derive(Clone)]
pub struct Member {
    pub sel: Selection,
    pub part: Part,
}

/// What the workers of one read share.
struct Shared {
    members: Vec<Member>,
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
    /// Chats without an id, skipped.
    without_id: AtomicU64,
    /// Typed-record buffers of pages already emitted, reused (one page is several MB).
    sinks: Mutex<Vec<Sink>>,
}

impl Shared {
    /// A typed-record buffer for the next page.
    fn take_sink(&self) -> Sink {
        let mut pool = self.sinks.lock().unwrap_or_else(|p| p.into_inner());
        pool.pop().unwrap_or_default()
    }

    /// Keeps a page's buffer for a later page (at most one per slice running).
    fn return_sink(&self, sink: Sink) {
        let mut pool = self.sinks.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < self.concurrency {
            pool.push(sink);
        }
    }

    /// How many slices should run now.
    fn target_workers(&self) -> usize {
        if self.slow.load(Ordering::Relaxed) {
            self.concurrency
        } else {
            self.concurrency.min(FAST_SLICES)
        }
    }
}

/// Slices run at once while the API answers quickly: two keep both the API and the parser busy
/// with two pages in memory (measured on 2 cores: 100,000 chats in 0.95 s against 1.8 s for one
/// slice; four were no faster and held 4 MB more).
const FAST_SLICES: usize = 2;

/// A page answered slower than this lets the backfill use `backfill_concurrency` slices: the
/// API's latency, not the machine, is then the limit.
const SLOW_PAGE: Duration = Duration::from_millis(250);

fn lock(m: &Mutex<Progress>) -> MutexGuard<'_, Progress> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads the selected members of the family in one pass over the export.
pub async fn read<F: Fetch>(ctx: &Ctx<F>, members: &[Member]) -> Result<Outcome, Error> {
    read_at(ctx, members, Edge::now()).await
}

/// [`read`] with the live edge fixed by the caller (tests).
async fn read_at<F: Fetch>(ctx: &Ctx<F>, members: &[Member], edge: Edge) -> Result<Outcome, Error> {
    let start_secs = ctx.start_date.timestamp();
    let (inputs, windows): (Vec<_>, Vec<_>) = members
        .iter()
        .map(|m| state::resume(&m.sel, start_secs, &ctx.output))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .unzip();
    let Some(lowest) = inputs.iter().map(|c| c.frontier.clone()).min() else {
        return Ok(Outcome::Done);
    };
    let shared = Arc::new(Shared {
        members: members.to_vec(),
        inputs,
        progress: Mutex::new(Progress::new(vec![Slice::new(lowest, None)], windows)),
        concurrency: ctx.concurrency.max(1),
        edge,
        slow: AtomicBool::new(false),
        more: Notify::new(),
        without_id: AtomicU64::new(0),
        sinks: Mutex::new(Vec::new()),
    });
    let outcome = orchestrate(ctx, &shared).await;
    warn_without_id(ctx, &shared)?;
    outcome
}

/// Runs slice workers until every slice is done; splits when a worker may be added.
async fn orchestrate<F: Fetch>(ctx: &Ctx<F>, shared: &Arc<Shared>) -> Result<Outcome, Error> {
    let mut workers = tokio::task::JoinSet::new();
    workers.spawn(worker(ctx.clone(), shared.clone(), 0));
    loop {
        tokio::select! {
            joined = workers.join_next() => {
                let Some(joined) = joined else { return Ok(Outcome::Done) };
                match joined {
                    Err(e) => return Err(Error::Internal(format!("a chat export worker failed: {e}"))),
                    Ok(Err(e)) => return Err(e),
                    Ok(Ok(Some(unavailable))) => return Ok(unavailable),
                    Ok(Ok(None)) => {}
                }
            }
            _ = shared.more.notified() => {}
        }
        let free = shared.target_workers().saturating_sub(workers.len());
        if free > 0 {
            let new = lock(&shared.progress).plan(shared.edge.ceiling_secs, free);
            for index in new {
                workers.spawn(worker(ctx.clone(), shared.clone(), index));
            }
        }
    }
}

/// One slice: `Some(outcome)` when the endpoint is unavailable.
async fn worker<F: Fetch>(
    ctx: Ctx<F>,
    shared: Arc<Shared>,
    index: usize,
) -> Result<Option<Outcome>, Error> {
    let mut pager = pager::SlicePager::new(shared, index);
    match crate::paging::pager::run(&ctx, &mut pager).await? {
        Outcome::Done => Ok(None),
        unavailable => Ok(Some(unavailable)),
    }
}

/// The one warning about chats without an id.
fn warn_without_id<F>(ctx: &Ctx<F>, shared: &Shared) -> Result<(), Error> {
    let n = shared.without_id.load(Ordering::Relaxed);
    if n == 0 {
        return Ok(());
    }
    let msg = format!(
        "{PATH} returned {n} chat(s) without an id; they were skipped (a chat without an id cannot be keyed or resumed). Report it to Zendesk if it persists."
    );
    tracing::warn!("{msg}");
    ctx.output.emit(&AirbyteMessage::log(LogLevel::Warn, msg))?;
    Ok(())
}

/// The family's streams: `chats` and its children, all from one export pass.
pub const STREAMS: &[StreamInfo] = &[
    StreamInfo::incremental("chats", "update_timestamp", &["id"], record_schema::<records::Chat>),
    StreamInfo::incremental("chat_history", "update_timestamp", &["chat_id", "position"], record_schema::<records::ChatHistory>),
    StreamInfo::incremental("chat_webpath", "update_timestamp", &["chat_id", "position"], record_schema::<records::ChatWebpath>),
    StreamInfo::incremental("chat_engagements", "update_timestamp", &["chat_id", "position"], record_schema::<records::ChatEngagement>),
    StreamInfo::incremental("chat_conversions", "update_timestamp", &["chat_id", "position"], record_schema::<records::ChatConversion>),
];

/// The part of a chat a stream of [`STREAMS`] emits.
fn part_of(stream: &str) -> Result<Part, Error> {
    Ok(match stream {
        "chats" => Part::Chat,
        "chat_history" => Part::History,
        "chat_webpath" => Part::Webpath,
        "chat_engagements" => Part::Engagements,
        "chat_conversions" => Part::Conversions,
        other => return Err(Error::Internal(format!("{other} is not a chats stream"))),
    })
}

async fn read_family<F: Fetch>(ctx: Ctx<F>, selections: Vec<Selection>) -> Result<Outcome, Error> {
    let members = selections
        .into_iter()
        .map(|sel| Ok(Member { part: part_of(sel.name)?, sel }))
        .collect::<Result<Vec<_>, Error>>()?;
    read(&ctx, &members).await
}

pub fn resource<F: Fetch>() -> Resource<F> {
    Resource {
        streams: STREAMS,
        read: |ctx, selections| Box::pin(read_family(ctx, selections)),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod page_tests;
