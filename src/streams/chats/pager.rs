//! One slice of the backfill as a cursor strategy of the shared paging loop: plan the request
//! from (second, id), receive a page (registering how far the slice has fetched), decide what to
//! emit, emit it, and commit every member's state.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::page::{self, Chat, Needs, Page};
use crate::paging::plan::Sample;
use super::{lock, Shared, FAST_SLICES, LIMIT, PATH, SLOW_PAGE};
use crate::error::Error;
use crate::protocol::output::Writer;
use crate::paging::coverage::Position;
use crate::paging::live_edge::MAX_WINDOW;
use crate::records::normalize::Sink;
use crate::paging::pager::Pager;

/// The reader of slice `index`.
pub struct SlicePager {
    shared: Arc<Shared>,
    index: usize,
    /// Chats at or before this are another slice's or already committed.
    start: Position,
    /// The highest chat this slice has received.
    high: Position,
    /// What the selected members need from each chat.
    needs: Needs,
}

impl SlicePager {
    pub fn new(shared: Arc<Shared>, index: usize) -> Self {
        let start = lock(&shared.progress)
            .slices
            .get(index)
            .map(|s| s.start.clone())
            .unwrap_or_else(|| Position::start_of(i64::MAX));
        let needs = Needs::of(shared.members.iter().map(|m| m.part));
        Self {
            needs,
            high: start.clone(),
            shared,
            index,
            start,
        }
    }

    fn ceiling(&self) -> i64 {
        self.shared.edge.ceiling_secs
    }

    /// The one repeat guard: a chat at or before the request cursor, or at or before the slice
    /// start, or seen earlier on this page, is not this page's to emit.
    fn is_repeat(&self, pos: &Position, at: &Position, on_page: &mut HashSet<Position>) -> bool {
        *pos <= *at || *pos <= self.start || !on_page.insert(pos.clone())
    }

    /// Emits `chat` for every member that has not committed this version of it.
    fn decide_and_emit(
        &self,
        windows: &mut [crate::paging::live_edge::Window],
        chat: &Chat<'_>,
        typed: &Sink,
        out: &mut Writer<'_>,
        emitted_at: i64,
    ) -> Result<(), Error> {
        let shared = &self.shared;
        for (m, member) in shared.members.iter().enumerate() {
            let Some(window) = windows.get_mut(m) else {
                continue;
            };
            if let Some(pos) = &chat.pos {
                let version = chat.version.unwrap_or(pos.secs.saturating_mul(1_000_000));
                let committed = shared.inputs.get(m).is_some_and(|c| c.contains(pos));
                if committed || window.get(&chat.id) == Some(&version) {
                    continue;
                }
                if pos.secs >= self.ceiling() {
                    if window.len() >= MAX_WINDOW && !window.contains_key(&chat.id) {
                        continue; // read again next sync: nothing commits past the ceiling
                    }
                    shared.edge.check_future("chats", pos.secs, out)?;
                    window.insert(chat.id.clone(), version);
                }
            }
            super::emit::emit(out, member, chat, typed, emitted_at)?;
        }
        Ok(())
    }
}

impl Pager for SlicePager {
    type Cursor = Position;
    type Page<'b> = Page<'b>;

    fn stream(&self) -> &'static str {
        "chats"
    }
    fn path(&self) -> &'static str {
        PATH
    }
    fn first(&self) -> Position {
        // The export refuses a start_time under 5 minutes old: start earlier, skip what is before.
        if self.start.secs > self.ceiling() {
            Position::start_of(self.ceiling())
        } else {
            self.start.clone()
        }
    }
    fn query(&self, at: &Position) -> Vec<(&'static str, String)> {
        let mut query = vec![
            ("fields", "chats(*)".to_owned()),
            ("limit", LIMIT.to_string()),
            ("start_time", at.secs.to_string()),
        ];
        if !at.id.is_empty() {
            query.push(("start_id", at.id.clone()));
        }
        query
    }
    fn parse<'b>(&self, body: &'b [u8]) -> Result<Page<'b>, Error> {
        let mut page = page::parse(body, self.needs, self.shared.take_sink())?;
        // Register how far this slice has fetched before reading its end: a split never cuts at
        // or below a fetched chat, so the end read here stays valid for this page.
        let mut progress = lock(&self.shared.progress);
        if let Some(slice) = progress.slices.get_mut(self.index) {
            if let Some(max) = page.max.as_ref().filter(|m| **m > slice.fetched) {
                slice.fetched = max.clone();
            }
            slice.chats_fetched = slice.chats_fetched.saturating_add(page.chats.len() as u64);
            let mut secs: Vec<i64> = page
                .chats
                .iter()
                .filter_map(|c| c.pos.as_ref().map(|p| p.secs))
                .collect();
            if let Some(sample) = Sample::of(&mut secs) {
                slice.recent = Some(sample);
            }
            page.end = slice.end;
        }
        Ok(page)
    }
    fn next(&self, page: &Page<'_>, _: &Position) -> Option<Position> {
        page.max.clone()
    }
    fn is_last(&self, page: &Page<'_>) -> bool {
        let max_secs = page.max.as_ref().map(|m| m.secs);
        let beyond_end = matches!((max_secs, page.end), (Some(s), Some(e)) if s >= e);
        let window_full = max_secs.is_some_and(|s| s >= self.ceiling())
            && lock(&self.shared.progress)
                .windows
                .iter()
                .any(|w| w.len() >= MAX_WINDOW);
        !page.full || beyond_end || window_full
    }
    fn emit(&mut self, page: Page<'_>, at: &Position, out: &mut Writer<'_>) -> Result<u64, Error> {
        let shared = self.shared.clone();
        shared
            .without_id
            .fetch_add(page.without_id, Ordering::Relaxed);
        let emitted_at = crate::protocol::now_millis();
        let mut progress = lock(&shared.progress);
        let mut on_page = HashSet::with_capacity(page.chats.len());
        let mut untimed = HashSet::new();
        let mut fresh = 0u64;
        for chat in &page.chats {
            match &chat.pos {
                Some(pos) => {
                    if *pos > *at {
                        fresh += 1;
                    }
                    if self.is_repeat(pos, at, &mut on_page)
                        || page.end.is_some_and(|e| pos.secs >= e)
                    {
                        continue;
                    }
                    if *pos > self.high {
                        self.high = pos.clone();
                    }
                }
                None if !untimed.insert(chat.id.as_str()) => continue,
                None => {}
            }
            self.decide_and_emit(&mut progress.windows, chat, &page.typed, out, emitted_at)?;
        }
        drop(progress);
        shared.return_sink(page.typed);
        Ok(fresh)
    }
    fn commit(&mut self, out: &mut Writer<'_>, last: bool) -> Result<(), Error> {
        let shared = self.shared.clone();
        let cap = Position::start_of(self.ceiling());
        let mut progress = lock(&shared.progress);
        if let Some(slice) = progress.slices.get_mut(self.index) {
            // Never past the ceiling, nor past the highest chat seen: an export without chats
            // up to the ceiling commits nothing there (a backdated update still arrives).
            let reached = match (last, slice.end) {
                (true, Some(e)) => Position::start_of(e),
                _ => self.high.clone(),
            };
            let reached = reached.min(cap);
            if reached > slice.done {
                slice.done = reached;
            }
            slice.finished |= last;
        }
        for (m, member) in shared.members.iter().enumerate() {
            let Some(input) = shared.inputs.get(m) else {
                continue;
            };
            let state = progress.state_of(m, input);
            member.sel.tracker.state(out, state)?;
        }
        drop(progress);
        shared.more.notify_one();
        Ok(())
    }
    fn prefetch(&self) -> bool {
        self.shared.concurrency == 1 || !self.shared.slow.load(Ordering::Relaxed)
    }
    fn fetched(&mut self, took: Duration) {
        let shared = &self.shared;
        if took >= SLOW_PAGE && shared.concurrency > FAST_SLICES {
            if !shared.slow.swap(true, Ordering::Relaxed) {
                tracing::info!("the chat export answers in {took:.1?} per page; reading time slices in parallel");
            }
            shared.more.notify_one();
        }
    }
}
