//! The time + id strategy of the paging driver for the plain incremental exports (conversions,
//! department events): items ordered by (`timestamp` second, `id`), paged with `start_time`
//! (epoch seconds) and `start_id` from the last item of each page, until a page holds fewer than
//! `limit` items.
//!
//! The live edge: the export may still gain items for its last minutes (it refuses a
//! `start_time` under 5 minutes old for that reason), so the committed cursor never passes the
//! ceiling of [`live_edge`]. Items beyond the ceiling are emitted at once, and remembered in the
//! state's `window` (their (id, second) pairs, at most [`MAX_WINDOW`]; past it, items beyond the
//! ceiling wait for the next sync) so that the next sync, which reads that window again, emits
//! an item again only when it is new or changed. An item with a future timestamp stays beyond
//! the ceiling until its time has passed: emitted once, warned about once per sync, never
//! moving the state.
//!
//! State: `{"timestamp": "2024-06-15T12:00:00Z", "start_id": "...", "window": [["id", 1718452800]]}`;
//! the wrapped, per-partition and CDK date-range forms resume too (see [`saved`]).

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::coverage::Position;
use super::cursor::{iso_to_secs, secs_to_iso, value_to_micros, value_to_secs};
use super::driver::{unreadable_state, Ctx, Outcome, Selection};
use super::live_edge::{self, Edge, MAX_WINDOW};
use super::pager::{self as paging, Pager};
use super::saved::{self, Form};
use super::tracker::count;
use super::Fetch;
use crate::error::Error;
use crate::protocol::output::Writer;
use crate::protocol::{AirbyteMessage, LogLevel, Output};
use crate::records::decode;

/// The export's maximum page size.
const LIMIT: usize = 1000;

/// One incremental export: its path and the key of its item array.
pub struct Export {
    pub path: &'static str,
    pub items: &'static str,
}

/// Reads one export stream.
pub async fn read<F: Fetch>(
    ctx: &Ctx<F>,
    sel: Selection,
    export: &'static Export,
) -> Result<Outcome, Error> {
    let start = ctx.start_date.timestamp();
    let mut pager = TimeId::new(sel, export, start, Edge::now(), &ctx.output)?;
    let outcome = paging::run(ctx, &mut pager).await;
    pager.report(ctx)?;
    outcome
}

/// The pager's memory: where it resumes, what it emitted beyond the ceiling.
struct TimeId {
    sel: Selection,
    export: &'static Export,
    /// Items at or before this position were committed by an earlier page or sync.
    committed: Position,
    /// Items from this second on are not final yet.
    edge: Edge,
    /// (id, second) pairs emitted beyond the ceiling: by earlier syncs, then by this one.
    seen_before: BTreeSet<(String, i64)>,
    seen_now: BTreeSet<(String, i64)>,
    without_key: u64,
}

/// An item's place in the export.
struct Item<'a> {
    pos: Option<Position>,
    raw: &'a RawValue,
}

impl TimeId {
    fn new(
        sel: Selection,
        export: &'static Export,
        start: i64,
        edge: Edge,
        out: &Output,
    ) -> Result<Self, Error> {
        let (committed, seen_before) = resume(&sel, start, out)?;
        Ok(Self {
            sel,
            export,
            committed: committed.min(Position::start_of(edge.ceiling_secs)),
            edge,
            seen_before,
            seen_now: BTreeSet::new(),
            without_key: 0,
        })
    }

    /// Warns once about items without a place.
    fn report<F>(&self, ctx: &Ctx<F>) -> Result<(), Error> {
        let name = self.sel.name;
        let mut warnings = Vec::new();
        if self.without_key > 0 {
            let n = count(self.without_key, "item", "items");
            warnings.push(format!("Stream {name}: {n} without an id or timestamp were not emitted (they cannot be keyed or placed on the cursor)."));
        }
        for why in warnings {
            tracing::warn!("{why}");
            ctx.output.emit(&AirbyteMessage::log(LogLevel::Warn, why))?;
        }
        Ok(())
    }

    /// True when an item must not be emitted again.
    fn already_emitted(&self, pos: &Position) -> bool {
        let key = (pos.id.clone(), pos.secs);
        *pos <= self.committed || self.seen_before.contains(&key) || self.seen_now.contains(&key)
    }

    /// True when an item beyond the ceiling must wait for the next sync (the window is full).
    fn window_full(&self, pos: &Position) -> bool {
        pos.secs >= self.edge.ceiling_secs
            && self.seen_before.len() + self.seen_now.len() >= MAX_WINDOW
    }

    fn state(&self) -> Value {
        let mut state = json!({ "timestamp": secs_to_iso(self.committed.secs) });
        if !self.committed.id.is_empty() {
            state["start_id"] = json!(self.committed.id);
        }
        let seen: Vec<&(String, i64)> = self
            .seen_before
            .iter()
            .chain(&self.seen_now)
            .filter(|(_, secs)| *secs >= self.committed.secs)
            .collect();
        if !seen.is_empty() {
            state["window"] = json!(seen);
        }
        state
    }
}

/// The exports' own state form.
const FORM: Form = Form {
    key: "timestamp",
    accepted:
        "ours, {\"timestamp\": \"2024-06-15T12:00:00Z\", \"start_id\": \"...\", \"window\": [...]}",
    date_range: true,
    order: value_to_micros,
};

/// Where a saved state resumes, and the pairs it saw beyond its ceiling.
fn resume(
    sel: &Selection,
    start: i64,
    out: &Output,
) -> Result<(Position, BTreeSet<(String, i64)>), Error> {
    let from_start = Position::start_of(start);
    let Some(state) = saved::own_form(sel, &FORM, out)? else {
        return Ok((from_start, BTreeSet::new()));
    };
    let secs = match state.get("timestamp") {
        None | Some(Value::Null) => return Ok((from_start, BTreeSet::new())),
        Some(v) => value_to_secs(v).ok_or_else(|| {
            unreadable_state(
                sel.name,
                "timestamp",
                "an ISO date-time such as 2024-06-15T12:00:00Z",
            )
        })?,
    };
    let id = state.get("start_id").and_then(Value::as_str).unwrap_or("");
    let seen = live_edge::pairs_from_state(state.get("window"), value_to_secs)
        .into_iter()
        .collect();
    let pos = Position {
        secs,
        id: id.to_owned(),
    };
    Ok((pos.max(from_start), seen))
}

impl Pager for TimeId {
    type Cursor = Position;
    type Page<'b> = Vec<Item<'b>>;

    fn stream(&self) -> &'static str {
        self.sel.name
    }
    fn path(&self) -> &'static str {
        self.export.path
    }
    fn first(&self) -> Position {
        self.committed.clone()
    }
    fn query(&self, at: &Position) -> Vec<(&'static str, String)> {
        // The export refuses a start under 5 minutes old: start at the ceiling instead.
        let ceiling = self.edge.ceiling_secs;
        let clamped = at.secs > ceiling;
        let mut query = vec![
            ("limit", LIMIT.to_string()),
            ("start_time", at.secs.min(ceiling).to_string()),
        ];
        if !clamped && !at.id.is_empty() {
            query.push(("start_id", at.id.clone()));
        }
        query
    }
    fn parse<'b>(&self, body: &'b [u8]) -> Result<Self::Page<'b>, Error> {
        let path = self.export.path;
        let envelope: std::collections::HashMap<&str, &RawValue> = decode(path, body)?;
        let Some(list) = envelope.get(self.export.items) else {
            return Ok(Vec::new());
        };
        let raws: Vec<&RawValue> = decode(path, list.get().as_bytes())?;
        raws.into_iter()
            .map(|raw| {
                Ok(Item {
                    pos: place(path, raw)?,
                    raw,
                })
            })
            .collect()
    }
    fn next(&self, page: &Self::Page<'_>, _: &Position) -> Option<Position> {
        page.iter().filter_map(|i| i.pos.clone()).max()
    }
    fn is_last(&self, page: &Self::Page<'_>) -> bool {
        page.len() < LIMIT
    }
    fn emit(
        &mut self,
        page: Self::Page<'_>,
        at: &Position,
        out: &mut Writer<'_>,
    ) -> Result<u64, Error> {
        let emitted_at = crate::protocol::now_millis();
        let mut fresh = 0;
        for item in page {
            let Some(pos) = item.pos else {
                self.without_key += 1;
                continue;
            };
            if pos > *at {
                fresh += 1;
            }
            let ceiling = self.edge.ceiling_secs;
            if !self.already_emitted(&pos) && !self.window_full(&pos) {
                self.sel.tracker.record(out, item.raw, emitted_at)?;
                if pos.secs >= ceiling {
                    self.edge.check_future(self.sel.name, pos.secs, out)?;
                    self.seen_now.insert((pos.id.clone(), pos.secs));
                }
            }
            // Items come in order: everything up to a final one is now emitted.
            if pos.secs < ceiling && pos > self.committed {
                self.committed = pos;
            }
        }
        Ok(fresh)
    }
    fn commit(&mut self, out: &mut Writer<'_>, last: bool) -> Result<(), Error> {
        let ceiling = self.edge.ceiling_secs;
        if last && self.committed.secs < ceiling {
            // The whole export up to the ceiling has been read.
            self.committed = Position::start_of(ceiling);
        }
        let state = self.state();
        self.sel.tracker.state(out, state)
    }
}

/// An item's (second, id), if it has both.
fn place(path: &str, raw: &RawValue) -> Result<Option<Position>, Error> {
    #[derive(Deserialize)]
    struct Head<'a> {
        #[serde(default)]
        id: Value,
        #[serde(borrow, default)]
        timestamp: Option<std::borrow::Cow<'a, str>>,
    }
    let head: Head = decode(path, raw.get().as_bytes())?;
    let id = match head.id {
        Value::String(s) if !s.is_empty() => s,
        Value::Number(n) => n.to_string(),
        _ => return Ok(None),
    };
    let secs = head.timestamp.as_deref().and_then(iso_to_secs);
    Ok(secs.map(|secs| Position { secs, id }))
}

#[cfg(test)]
mod saved_tests;
#[cfg(test)]
mod tests;
