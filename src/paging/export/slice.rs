//! One slice of an export as a cursor strategy of the paging loop: plan the request from the
//! slice's cursor, receive a page (registering how far the slice fetched), decide what to emit
//! under the position rule, emit it, and commit every member's state.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::{state as saved, Export, Items, Shared, Target, FAST_SLICES, SLOW_PAGE};
use crate::error::Error;
use crate::paging::coverage::Position;
use crate::paging::cursor::secs_to_iso;
use crate::paging::live_edge::{Window, MAX_WINDOW};
use crate::paging::pager::Pager;
use crate::paging::plan::Sample;
use crate::protocol::output::Writer;
use crate::protocol::{AirbyteMessage, LogLevel};

/// A page and what the slice read from it when it arrived.
pub struct Paged<'b, K: Export> {
    page: K::Page<'b>,
    /// The highest position on the page not beyond the ceiling: the next request's cursor.
    max: Option<Position>,
    /// The first item beyond the ceiling, if any (named in warnings).
    beyond: Option<usize>,
    /// The slice's end when the page arrived.
    end: Option<i64>,
}

/// The reader of slice `index`.
pub struct SlicePager<K: Export> {
    shared: Arc<Shared<K>>,
    index: usize,
    /// Items at or before this are another slice's or already committed.
    start: Position,
    /// The highest item this slice read below the ceiling.
    high: Position,
    /// What the export carries from page to page while emitting.
    state: K::Slice,
    /// Set when a full page held nothing below the ceiling beyond the cursor.
    stuck: bool,
}

impl<K: Export> SlicePager<K> {
    pub fn new(shared: Arc<Shared<K>>, index: usize) -> Self {
        let start = shared
            .progress()
            .slices
            .get(index)
            .map(|s| s.start.clone())
            .unwrap_or_else(|| Position::start_of(i64::MAX));
        let at_start = shared
            .progress()
            .windows
            .iter()
            .flatten()
            .filter(|(_, v)| shared.kind.unit() > 1 && *v == start.secs)
            .map(|(key, _)| key.clone())
            .collect();
        let state = shared.kind.slice(&start, at_start);
        Self {
            high: start.clone(),
            shared,
            index,
            start,
            state,
            stuck: false,
        }
    }

    fn ceiling(&self) -> i64 {
        self.shared.ceiling()
    }

    fn inclusive(&self) -> bool {
        self.shared.kind.unit() > 1
    }

    /// What the slice may commit of what it read: its highest item below the ceiling (the
    /// start of its µs for an inclusive export, whose items there are in the window).
    fn reached(&self) -> Position {
        if self.inclusive() {
            Position::start_of(self.high.secs)
        } else {
            self.high.clone()
        }
    }

    /// Emits item `i` for every member that has not committed this version of it.
    fn decide_and_emit(
        &mut self,
        windows: &mut [Window],
        page: &K::Page<'_>,
        i: usize,
        out: &mut Writer<'_>,
        emitted_at: i64,
    ) -> Result<(), Error> {
        let shared = self.shared.clone();
        let item = page.item(i);
        let (ceiling, unit) = (self.ceiling(), shared.kind.unit());
        for (m, sel) in shared.members.iter().enumerate() {
            let Some(window) = windows.get_mut(m) else {
                continue;
            };
            if let Some(pos) = item.pos {
                let per_unit = 1_000_000 / unit.clamp(1, 1_000_000);
                let version = item.version.unwrap_or(pos.secs.saturating_mul(per_unit));
                let committed = shared.inputs.get(m).is_some_and(|c| c.contains(pos));
                // The window is empty for most of a backfill: no key is copied to look it up.
                let pair = || (item.key.to_owned(), version);
                if committed || (!window.is_empty() && window.contains(&pair())) {
                    continue;
                }
                if pos.secs >= ceiling {
                    if window.len() >= MAX_WINDOW {
                        continue; // read again next sync: nothing commits past the ceiling
                    }
                    shared.edge.check_future(sel.name, pos.secs / unit, out)?;
                    window.insert(pair());
                } else if self.inclusive() {
                    window.insert(pair()); // read again at the next page's first µs
                }
            }
            let to = Target {
                member: m,
                sel,
                emitted_at,
            };
            shared.kind.emit(page, i, to, &mut self.state, out)?;
        }
        Ok(())
    }

    /// Registers how far the slice fetched and the page's density; returns the slice's end.
    fn register(&self, max: &Option<Position>, secs: &mut [i64]) -> Option<i64> {
        let mut progress = self.shared.progress();
        let slice = progress.slices.get_mut(self.index)?;
        if let Some(max) = max.as_ref().filter(|m| **m > slice.fetched) {
            slice.fetched = max.clone();
        }
        slice.chats_fetched = slice.chats_fetched.saturating_add(secs.len() as u64);
        if let Some(sample) = Sample::of(secs) {
            slice.recent = Some(sample);
        }
        slice.end
    }

    /// True when a full page moved the cursor nowhere below the ceiling but held items beyond
    /// it: the export cannot be paged past them.
    fn is_stuck(&self, page: &Paged<'_, K>, at: &Position) -> bool {
        page.page.full() && page.beyond.is_some() && self.next(page, at).is_none_or(|n| n <= *at)
    }

    /// Warns that a full page held only items beyond the ceiling: the export cannot be paged
    /// past them, so the slice ends where it read in order.
    fn warn_stuck(&self, page: &Paged<'_, K>, out: &mut Writer<'_>) -> Result<(), Error> {
        let Some(item) = page.beyond.map(|i| page.page.item(i)) else {
            return Ok(());
        };
        let unit = self.shared.kind.unit();
        let when = item
            .pos
            .map_or(String::new(), |p| secs_to_iso(p.secs / unit));
        let msg = format!(
            "Stream {}: {} returned a full page whose items all lie after the export ceiling ({}), starting with {} dated {when}. Zendesk does not accept a start_time that late, so the export cannot be read past them in this sync: what follows them is read by a later sync (the state stays at {}). If this persists, report the item to Zendesk.",
            self.shared.members.first().map_or("", |s| s.name),
            self.shared.kind.path(),
            secs_to_iso(self.shared.edge.ceiling_secs),
            item.key,
            secs_to_iso(self.reached().secs / unit),
        );
        tracing::warn!("{msg}");
        out.push(&AirbyteMessage::log(LogLevel::Warn, msg))?;
        Ok(())
    }
}

impl<K: Export> Pager for SlicePager<K> {
    type Cursor = Position;
    type Page<'b> = Paged<'b, K>;

    fn stream(&self) -> &'static str {
        self.shared.members.first().map_or("", |s| s.name)
    }
    fn path(&self) -> &'static str {
        self.shared.kind.path()
    }
    fn first(&self) -> Position {
        // The export refuses a start_time under 5 minutes old: start earlier, skip what is before.
        if self.start.secs > self.ceiling() {
            Position::start_of(self.ceiling())
        } else if self.inclusive() {
            Position::start_of(self.start.secs)
        } else {
            self.start.clone()
        }
    }
    fn query(&self, at: &Position) -> Vec<(&'static str, String)> {
        self.shared.kind.query(at)
    }
    fn parse<'b>(&self, body: &'b [u8]) -> Result<Paged<'b, K>, Error> {
        let page = self.shared.kind.parse(body)?;
        let ceiling = self.ceiling();
        let (mut max, mut beyond, mut secs) = (None::<&Position>, None, Vec::new());
        for i in 0..page.count() {
            match page.item(i).pos {
                Some(p) if p.secs < ceiling => {
                    secs.push(p.secs);
                    max = max.max(Some(p));
                }
                Some(_) => beyond = beyond.or(Some(i)),
                None => {}
            }
        }
        let max = max.cloned();
        let end = self.register(&max, &mut secs);
        Ok(Paged {
            page,
            max,
            beyond,
            end,
        })
    }
    fn next(&self, page: &Paged<'_, K>, _: &Position) -> Option<Position> {
        let max = page.max.clone()?;
        Some(match self.inclusive() {
            true => Position::start_of(max.secs),
            false => max,
        })
    }
    fn is_last(&self, page: &Paged<'_, K>, at: &Position) -> bool {
        let beyond_end = matches!((&page.max, page.end), (Some(m), Some(e)) if m.secs >= e);
        let window_full = page.beyond.is_some()
            && self
                .shared
                .progress()
                .windows
                .iter()
                .any(|w| w.len() >= MAX_WINDOW);
        !page.page.full() || beyond_end || window_full || self.is_stuck(page, at)
    }
    fn emit(
        &mut self,
        page: Paged<'_, K>,
        at: &Position,
        out: &mut Writer<'_>,
    ) -> Result<u64, Error> {
        let shared = self.shared.clone();
        let without_key = page.page.without_key();
        shared.without_key.fetch_add(without_key, Ordering::Relaxed);
        let (ceiling, emitted_at) = (self.ceiling(), crate::protocol::now_millis());
        let mut progress = shared.progress();
        let mut on_page = HashSet::with_capacity(page.page.count());
        let mut untimed = HashSet::new();
        let mut fresh = 0u64;
        for i in 0..page.page.count() {
            let item = page.page.item(i);
            match item.pos {
                Some(pos) if pos.secs < ceiling => {
                    fresh += u64::from(*pos > *at);
                    let repeat = *pos <= *at || *pos <= self.start || !on_page.insert(pos.clone());
                    if repeat || page.end.is_some_and(|e| pos.secs >= e) {
                        continue;
                    }
                    if *pos > self.high {
                        self.high = pos.clone();
                    }
                }
                Some(pos) if !on_page.insert(pos.clone()) => continue,
                Some(_) => {}
                None if !untimed.insert(item.key.to_owned()) => continue,
                None => {}
            }
            self.decide_and_emit(&mut progress.windows, &page.page, i, out, emitted_at)?;
        }
        drop(progress);
        self.stuck = self.is_stuck(&page, at);
        if self.stuck {
            self.warn_stuck(&page, out)?;
        }
        shared.kind.recycle(page.page);
        Ok(fresh)
    }
    fn commit(&mut self, out: &mut Writer<'_>, last: bool) -> Result<(), Error> {
        let shared = self.shared.clone();
        let cap = Position::start_of(self.ceiling());
        let reached = self.reached();
        let mut progress = shared.progress();
        let unit = progress.unit;
        if let Some(slice) = progress.slices.get_mut(self.index) {
            // Never past the ceiling, nor past what was read in order: a slice that read its
            // whole range commits its end; otherwise its highest item read.
            let reached = match (last && !self.stuck, slice.end) {
                (true, Some(e)) => Position::start_of(e),
                _ => reached,
            };
            let reached = reached.min(cap);
            if reached > slice.done {
                slice.done = reached;
            }
            slice.finished |= last;
        }
        for (m, sel) in shared.members.iter().enumerate() {
            let Some(input) = shared.inputs.get(m) else {
                continue;
            };
            let coverage = progress.coverage(input);
            let state = match progress.windows.get_mut(m) {
                Some(w) => saved::to_state(&coverage, w, &shared.kind, unit),
                None => saved::to_state(&coverage, &mut Window::new(), &shared.kind, unit),
            };
            sel.tracker.state(out, state)?;
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
                tracing::info!(
                    "{} answers in {took:.1?} per page; reading time slices in parallel",
                    shared.kind.path()
                );
            }
            shared.more.notify_one();
        }
    }
}
