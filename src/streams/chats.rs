//! The chats family: `chats` and its child streams `chat_history`, `chat_webpath`,
//! `chat_engagements` and `chat_conversions`, all read from one pass over the incremental chat
//! export (no extra requests for the children).
//!
//! The export is ordered by (`update_timestamp` second, chat id) and paged with the cursor pair
//! (`start_time`, `start_id`) taken from the last chat of each page, so any number of chats
//! sharing one second crosses page boundaries without loss or repeats. Paging stops when a page
//! has fewer than `limit` chats (`next_page` is always present and means nothing). A stream's
//! position is the pair (second, id) of the last chat it has committed: chats at or before it
//! are not emitted again, which also makes the 5-minute clamp exact.
//!
//! A backfill starts as one slice that prefetches its next page. When the API proves slow
//! (Zendesk takes a second or more per page, so one request at a time would use a fraction of
//! the request budget), slices are halved, densest first and above what they already fetched,
//! until `backfill_concurrency` of them run at once, and again whenever one finishes, so
//! unevenly spread data keeps every worker busy. A stream's state is its [`Coverage`]: a
//! contiguous frontier plus the ranges finished beyond it, so a resumed sync emits exactly what
//! is missing.

use std::borrow::Cow;
use std::collections::HashSet;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::coverage::{Coverage, Position};
use super::cursor::{iso_to_secs, value_to_secs};
use super::driver::{decode, get_optional, Ctx, Outcome, Selection};
use super::inject::json_string;
use super::Fetch;
use crate::error::Error;
use crate::protocol::output::Writer;

pub const PATH: &str = "incremental/chats";
/// The export's maximum (and default) page size.
pub const LIMIT: u32 = 1000;

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

/// What a member has already committed, from its state (ours, or the certified connector's
/// `{"update_timestamp": "1697795052"}` / ISO forms, which resume inclusively).
fn resume_coverage(sel: &Selection, start_secs: i64) -> Result<Coverage, Error> {
    let from_start = Position::start_of(start_secs);
    let Some(state) = sel.resume_state() else {
        return Ok(Coverage::up_to(from_start));
    };
    let Some(v) = state.get("update_timestamp").filter(|v| !v.is_null()) else {
        return Ok(Coverage::up_to(from_start));
    };
    let secs = value_to_secs(v).ok_or_else(|| {
        Error::Input(format!(
            "The saved state of stream {} has an unreadable `update_timestamp`; expected an ISO date-time such as 2023-10-20T09:44:12Z or epoch seconds. Reset the stream or fix the state.",
            sel.name
        ))
    })?;
    let id = match state.get("start_id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let mut coverage = Coverage::up_to(Position { secs, id }.max(from_start));
    for (a, b) in Coverage::ranges_from_state(state) {
        coverage.add(a, b);
    }
    Ok(coverage)
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow, default)]
    chats: Vec<&'a RawValue>,
    #[serde(default)]
    count: Option<u64>,
    /// The cursor of the page's last chat, per the API.
    #[serde(default)]
    end_time: Option<i64>,
    #[serde(default)]
    end_id: Option<Value>,
}

#[derive(Deserialize)]
struct ChatHead<'a> {
    #[serde(default)]
    id: Value,
    #[serde(borrow, default)]
    update_timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    history: Option<&'a RawValue>,
    #[serde(borrow, default)]
    webpath: Option<&'a RawValue>,
    #[serde(borrow, default)]
    engagements: Option<&'a RawValue>,
    #[serde(borrow, default)]
    conversions: Option<&'a RawValue>,
}

/// A time slice of the export read by one worker: chats after `start` and before second `end`
/// (`None`: to the end of the export).
struct Slice {
    start: Position,
    end: Option<i64>,
    /// The last chat of the last page fetched; a split never cuts at or below it.
    fetched: Position,
    /// Everything in (`start`, `done`] is committed.
    done: Position,
    /// Chats fetched so far, to estimate how much is left.
    chats_fetched: u64,
    finished: bool,
}

impl Slice {
    fn new(start: Position, end: Option<i64>) -> Self {
        Self {
            fetched: start.clone(),
            done: start.clone(),
            start,
            end,
            chats_fetched: 0,
            finished: false,
        }
    }

    /// Chats expected between what was fetched and the end, from the density seen so far.
    fn expected_remaining(&self, ceiling: i64) -> u64 {
        let seen_secs = (self.fetched.secs - self.start.secs).max(1) as u64;
        let left_secs = (self.end.unwrap_or(ceiling) - self.fetched.secs).max(0) as u64;
        self.chats_fetched.saturating_mul(left_secs) / seen_secs
    }
}

/// Slices and what they committed, shared by the workers; writing output under this lock keeps
/// every STATE after the records it covers.
struct Progress {
    slices: Vec<Slice>,
}

impl Progress {
    /// The committed coverage of a member: its input plus every slice's committed range.
    fn coverage(&self, input: &Coverage) -> Coverage {
        let mut c = input.clone();
        for s in &self.slices {
            c.add(s.start.clone(), s.done.clone());
        }
        c
    }

    /// Halves the unfinished slice expected to hold the most chats, when it should still fill a
    /// few pages (every split costs one partly used page). Returns the new slice's index.
    fn split(&mut self, ceiling: i64) -> Option<usize> {
        let (index, expected) = self
            .slices
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.finished && s.chats_fetched > 0)
            .map(|(i, s)| (i, s.expected_remaining(ceiling)))
            .max_by_key(|(_, r)| *r)?;
        let old = &mut self.slices[index];
        let remaining = old.end.unwrap_or(ceiling) - old.fetched.secs;
        if expected < MIN_SPLIT_CHATS || remaining < 2 * MIN_SLICE_SECS {
            return None;
        }
        let cut = old.fetched.secs + remaining / 2;
        let end = old.end.replace(cut);
        self.slices.push(Slice::new(Position::start_of(cut), end));
        Some(self.slices.len() - 1)
    }
}

/// Slices shorter than this are not split further.
const MIN_SLICE_SECS: i64 = 3600;

/// A slice is split only when it is expected to hold at least this many more chats.
const MIN_SPLIT_CHATS: u64 = 4 * LIMIT as u64;

struct Shared<F> {
    ctx: Ctx<F>,
    members: Vec<Member>,
    inputs: Vec<Coverage>,
    progress: Mutex<Progress>,
    concurrency: usize,
    /// Set once a page takes longer than [`SLOW_PAGE`]: from then on up to `concurrency` slices
    /// run at once (before, at most [`FAST_SLICES`]).
    slow: AtomicBool,
    /// Wakes the scheduler after each page: a slice may now be worth splitting.
    more: Notify,
}

impl<F> Shared<F> {
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

/// Reads the selected members of the family in one pass over the export. It starts as one
/// slice and splits it once its density is known: into two while the API answers quickly, up
/// to `ctx.concurrency` once it proves slow.
pub async fn read<F: Fetch>(ctx: &Ctx<F>, members: &[Member]) -> Result<Outcome, Error> {
    let start_secs = ctx.start_date.timestamp();
    let inputs = members
        .iter()
        .map(|m| resume_coverage(&m.sel, start_secs))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(lowest) = inputs.iter().map(|c| c.frontier.clone()).min() else {
        return Ok(Outcome::Done);
    };
    let ceiling = chrono::Utc::now().timestamp() - super::driver::EXPORT_MIN_AGE_SECS;
    let concurrency = ctx.concurrency.max(1);
    let shared = Arc::new(Shared {
        ctx: ctx.clone(),
        members: members.to_vec(),
        inputs,
        progress: Mutex::new(Progress {
            slices: vec![Slice::new(lowest, None)],
        }),
        concurrency,
        slow: AtomicBool::new(false),
        more: Notify::new(),
    });
    let mut workers = tokio::task::JoinSet::new();
    workers.spawn(read_slice(shared.clone(), 0));
    let mut outcome = Outcome::Done;
    loop {
        tokio::select! {
            joined = workers.join_next() => {
                let Some(joined) = joined else { break };
                match joined {
                    Err(e) => {
                        workers.abort_all();
                        return Err(Error::Internal(format!("a chat export worker failed: {e}")));
                    }
                    Ok(Err(e)) => {
                        workers.abort_all();
                        return Err(e);
                    }
                    Ok(Ok(Some(unavailable))) => {
                        workers.abort_all();
                        outcome = unavailable;
                        break;
                    }
                    Ok(Ok(None)) => {}
                }
            }
            _ = shared.more.notified() => {}
        }
        while workers.len() < shared.target_workers() {
            let split = lock(&shared.progress).split(ceiling);
            match split {
                Some(index) => {
                    workers.spawn(read_slice(shared.clone(), index));
                }
                None => break,
            }
        }
    }
    Ok(outcome)
}

fn lock(m: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads one slice page by page. `Some(outcome)` when the endpoint is unavailable.
async fn read_slice<F: Fetch>(
    shared: Arc<Shared<F>>,
    index: usize,
) -> Result<Option<Outcome>, Error> {
    let ctx = &shared.ctx;
    let slice_start = lock(&shared.progress).slices[index].start.clone();
    let ceiling = chrono::Utc::now().timestamp() - super::driver::EXPORT_MIN_AGE_SECS;
    // The export refuses a start_time under 5 minutes old: start earlier and skip what is before.
    let mut request = if slice_start.secs > ceiling {
        Position::start_of(ceiling)
    } else {
        slice_start.clone()
    };
    let mut seen_second = i64::MIN;
    let mut seen_ids: HashSet<String> = HashSet::new();
    let mut pending = Some(fetch_page(ctx, &request));

    while let Some(next) = pending.take() {
        let (body, took) = next.await?;
        let body = match body {
            Ok(b) => b,
            Err(outcome) => return Ok(Some(outcome)),
        };
        if took >= SLOW_PAGE && shared.concurrency > FAST_SLICES {
            if !shared.slow.swap(true, Ordering::Relaxed) {
                tracing::info!("the chat export answers in {took:.1?} per page; reading time slices in parallel");
            }
            shared.more.notify_one();
        }
        let page: Page = decode(PATH, &body)?;
        let count = page.count.unwrap_or(page.chats.len() as u64);
        // A single slice asks for the next page as soon as the envelope names its cursor, while
        // this page is still being decoded; the guess is checked against the last chat below.
        let mut early = None;
        if count >= u64::from(LIMIT) && shared.concurrency == 1 {
            if let (Some(secs), Some(Value::String(id))) = (page.end_time, &page.end_id) {
                let guess = Position {
                    secs,
                    id: id.clone(),
                };
                if guess > request {
                    early = Some((fetch_page(ctx, &guess), guess));
                }
            }
        }
        let last = match page.chats.last() {
            Some(raw) => Some(chat_head(raw, request.secs)?.0),
            None => None,
        };
        // Register how far this slice has fetched before reading its end: a split never cuts
        // at or below a fetched chat, so this page's end stays valid.
        let end = {
            let mut progress = lock(&shared.progress);
            let slice = &mut progress.slices[index];
            if let Some(l) = &last {
                if *l > slice.fetched {
                    slice.fetched = l.clone();
                }
            }
            slice.chats_fetched += page.chats.len() as u64;
            slice.end
        };
        let beyond_end = matches!((&last, end), (Some(l), Some(e)) if l.secs >= e);
        let full = count >= u64::from(LIMIT) && !page.chats.is_empty();
        let finished = !full || beyond_end;
        if !finished {
            let Some(next_from) = last.clone().filter(|l| *l > request) else {
                return Err(Error::Protocol(format!(
                    "{PATH} returned a full page that does not move past start_time={} start_id={:?}; stopping instead of looping",
                    request.secs, request.id
                )));
            };
            request = next_from;
            // A lone slice prefetches its next page; parallel slices overlap requests already.
            match early.take() {
                Some((prefetched, guess)) if guess == request => pending = Some(prefetched),
                Some((_, guess)) => {
                    tracing::warn!(
                        "the export's end_time/end_id ({}, {:?}) differ from its last chat ({}, {:?}); following the chats",
                        guess.secs, guess.id, request.secs, request.id
                    );
                    pending = Some(fetch_page(ctx, &request));
                }
                None if shared.concurrency == 1 => pending = Some(fetch_page(ctx, &request)),
                None => {}
            }
        }

        let emitted_at = crate::protocol::now_millis();
        let mut batch = ctx.output.lock();
        // Fast path for chats-only syncs: when the whole page lies in what every stream still
        // needs (after the slice start and every saved position, before the slice end, after the
        // last second seen), its chats are emitted without decoding each one.
        let chats_only = shared.members.iter().all(|m| m.part == Part::Chat);
        let whole_page = match (page.chats.first(), &last) {
            (Some(first_raw), Some(last_pos)) if chats_only && page.chats.len() >= 2 => {
                let first = chat_head(first_raw, request.secs)?.0;
                (first > slice_start
                    && first.secs > seen_second
                    && first <= *last_pos
                    && end.is_none_or(|e| last_pos.secs < e)
                    && shared.inputs.iter().all(|c| !c.overlaps(&first, last_pos)))
                .then(|| last_pos.clone())
            }
            _ => None,
        };
        if let Some(last_pos) = whole_page {
            for raw in &page.chats {
                for member in &shared.members {
                    member.sel.tracker.record(&mut batch, raw, emitted_at)?;
                }
            }
            // Remember the ids at the last second, for the repeat guard on the next page.
            seen_second = last_pos.secs;
            seen_ids.clear();
            for raw in page.chats.iter().rev() {
                let (pos, _) = chat_head(raw, request.secs)?;
                if pos.secs != seen_second {
                    break;
                }
                seen_ids.insert(pos.id);
            }
        } else {
            for raw in &page.chats {
                let (pos, head) = chat_head(raw, request.secs)?;
                if pos <= slice_start {
                    continue;
                }
                if end.is_some_and(|e| pos.secs >= e) {
                    break;
                }
                if pos.secs == seen_second && seen_ids.contains(&pos.id) {
                    continue;
                }
                if pos.secs > seen_second {
                    seen_second = pos.secs;
                    seen_ids.clear();
                }
                if pos.secs == seen_second {
                    seen_ids.insert(pos.id.clone());
                }
                for (member, input) in shared.members.iter().zip(&shared.inputs) {
                    if !input.contains(&pos) {
                        emit_part(&mut batch, member, &head, &pos, raw, emitted_at)?;
                    }
                }
            }
        }

        {
            let mut progress = lock(&shared.progress);
            let slice = &mut progress.slices[index];
            if finished {
                slice.finished = true;
                slice.done = match (slice.end, &last) {
                    (Some(e), _) => Position::start_of(e),
                    (None, Some(l)) if *l > slice.done => l.clone(),
                    (None, _) => slice.done.clone(),
                };
            } else if let Some(l) = &last {
                slice.done = l.clone();
            }
            for (member, input) in shared.members.iter().zip(&shared.inputs) {
                member
                    .sel
                    .tracker
                    .state(&mut batch, progress.coverage(input).to_state())?;
            }
        }
        shared.more.notify_one();
        if finished {
            return Ok(None);
        }
        if pending.is_none() {
            pending = Some(fetch_page(ctx, &request));
        }
    }
    Ok(None)
}

/// Decodes the fields of a chat the reader needs, and its position in the export.
fn chat_head<'a>(raw: &'a RawValue, fallback_secs: i64) -> Result<(Position, ChatHead<'a>), Error> {
    let head: ChatHead = decode(PATH, raw.get().as_bytes())?;
    let id = match &head.id {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => {
            return Err(Error::Protocol(format!(
                "{PATH} returned a chat without an id"
            )))
        }
    };
    let secs = head
        .update_timestamp
        .as_deref()
        .and_then(iso_to_secs)
        .or_else(|| head.timestamp.as_deref().and_then(iso_to_secs))
        .unwrap_or(fallback_secs);
    Ok((Position { secs, id }, head))
}

type PageResult = Result<(Result<bytes::Bytes, Outcome>, Duration), Error>;

/// Starts fetching the page after `from` in the background; the answer comes with how long the
/// request took.
fn fetch_page<F: Fetch>(
    ctx: &Ctx<F>,
    from: &Position,
) -> impl std::future::Future<Output = PageResult> {
    let ctx = ctx.clone();
    let mut query = vec![
        ("fields", "chats(*)".to_owned()),
        ("limit", LIMIT.to_string()),
        ("start_time", from.secs.to_string()),
    ];
    if !from.id.is_empty() {
        query.push(("start_id", from.id.clone()));
    }
    let handle = tokio::spawn(async move {
        let started = Instant::now();
        let body = get_optional(&ctx, "chats", PATH, &query, false).await?;
        Ok((body, started.elapsed()))
    });
    async move {
        handle
            .await
            .map_err(|e| Error::Internal(format!("page fetch task failed: {e}")))?
    }
}

fn emit_part(
    batch: &mut Writer<'_>,
    member: &Member,
    head: &ChatHead<'_>,
    pos: &Position,
    raw: &RawValue,
    emitted_at: i64,
) -> Result<(), Error> {
    let tracker = &member.sel.tracker;
    let children = match member.part {
        Part::Chat => return tracker.record(batch, raw, emitted_at),
        Part::History => head.history,
        Part::Webpath => head.webpath,
        Part::Engagements => head.engagements,
        Part::Conversions => head.conversions,
    };
    let Some(children) = children.filter(|c| c.get().trim() != "null") else {
        return Ok(());
    };
    let items: Vec<&RawValue> = decode(PATH, children.get().as_bytes())?;
    if items.is_empty() {
        return Ok(());
    }
    let chat_id = json_string(&pos.id);
    let updated = match &head.update_timestamp {
        Some(t) => json_string(t),
        None => "null".to_owned(),
    };
    for (i, item) in items.iter().enumerate() {
        let position = i.to_string();
        let lead = [
            ("chat_id", chat_id.as_str()),
            ("position", &position),
            ("update_timestamp", &updated),
        ];
        tracker.record_with(batch, item, &lead, emitted_at)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(start: i64, end: Option<i64>, fetched: i64, chats_fetched: u64) -> Slice {
        let mut s = Slice::new(Position::start_of(start), end);
        s.fetched = Position::start_of(fetched);
        s.chats_fetched = chats_fetched;
        s
    }

    #[test]
    fn split_halves_the_slice_expected_to_hold_most_above_what_it_fetched() {
        // Slice 0: 9,000 chats in 90,000 s, 10,000 s left (~1,000 expected). Slice 1: 1,000 chats
        // in its first 10,000 s, 190,000 s left (~19,000 expected).
        let mut p = Progress {
            slices: vec![
                slice(0, Some(100_000), 90_000, 9_000),
                slice(100_000, None, 110_000, 1_000),
            ],
        };
        let i = p.split(300_000).unwrap();
        assert_eq!(p.slices[1].end, Some(205_000));
        assert_eq!(p.slices[i].start, Position::start_of(205_000));
        assert_eq!(p.slices[i].end, None);
        // Too few chats expected anywhere: no split, however much time is left.
        let mut p = Progress {
            slices: vec![slice(0, None, 100_000, 10)],
        };
        assert!(p.split(10_000_000).is_none());
        // Nothing fetched yet: no estimate, no split.
        let mut p = Progress {
            slices: vec![slice(0, None, 0, 0)],
        };
        assert!(p.split(10_000_000).is_none());
    }

    #[test]
    fn coverage_joins_slices_to_the_input() {
        let mut p = Progress {
            slices: vec![slice(0, Some(100), 0, 0), slice(100, None, 100, 0)],
        };
        p.slices[1].done = Position {
            secs: 150,
            id: "x".into(),
        };
        let input = Coverage::up_to(Position::start_of(0));
        let c = p.coverage(&input);
        assert_eq!(c.frontier, Position::start_of(0));
        assert_eq!(c.ranges.len(), 1);
        p.slices[0].done = Position::start_of(100);
        assert_eq!(
            p.coverage(&input),
            Coverage::up_to(Position {
                secs: 150,
                id: "x".into()
            })
        );
    }
}
