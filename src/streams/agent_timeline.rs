//! The agent_timeline stream: the incremental agent timeline export, paged by `start_time` in
//! epoch microseconds on the shared [`paging`](crate::paging::pager) loop. The export's `start_time` is
//! inclusive and there is no id tie-breaker, so the items at the boundary microsecond are
//! remembered (in the state too) and not emitted twice.
//!
//! The live edge: the committed `start_time` never passes the export ceiling (see
//! [`live_edge`](crate::paging::live_edge)). Items at or after it are emitted and remembered in the
//! state's `window` as `[agent_id, start_time]` pairs, so the next sync, which reads the window
//! again, emits only the items indexed late. Example state:
//! `{"start_time": "2026-12-01T21:55:00.000000Z", "agent_ids_at_start_time": [],
//!   "window": [["1001", "2026-12-01T21:58:12.120000Z"]]}`.

use schemars::JsonSchema;
use crate::records::types::{Int, Num, Str, Timestamp};
use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::paging::cursor::{micros_to_iso, value_to_micros};
use crate::records::decode;
use crate::paging::driver::{Ctx, Outcome, Selection};
use crate::records::typed::TimelineKeys;
use crate::paging::live_edge::{self, MAX_WINDOW};
use crate::paging::pager::{self as paging, Pager};
use crate::paging::saved::{self, Form};
use crate::protocol::Output;
use super::StreamInfo;
use crate::paging::Fetch;
use crate::error::Error;
use crate::schema::record_schema;
use crate::protocol::output::Writer;

/// One status period of an agent (from the agent timeline export).
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct AgentTimeline {
    /// `{agent_id}|{start_time}`, as the certified connector forms it; the primary key. A second
    /// entry of the same agent within one second uses `start_time_exact` instead.
    id: Str,
    agent_id: Int,
    /// When the status period started, to the second (as the certified connector emits it);
    /// the incremental cursor.
    start_time: Timestamp,
    /// When the status period started, to the microsecond.
    start_time_exact: Timestamp,
    /// `online`, `away`, `invisible` or `offline`.
    status: Str,
    /// Seconds spent in the status.
    duration: Num,
    /// Chats the agent served in the period.
    engagement_count: Int,
}

const PATH: &str = "incremental/agent_timeline";
const LIMIT: u32 = 1000;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    agent_timeline: Vec<&'a RawValue>,
    #[serde(default)]
    count: Option<u64>,
}

#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    agent_id: Value,
    #[serde(default)]
    start_time: Value,
}

/// One item of a page: its agent, its microsecond (when readable) and its text.
struct Item<'a> {
    agent: String,
    micros: Option<i64>,
    raw: &'a RawValue,
}

struct Page<'a> {
    items: Vec<Item<'a>>,
    count: u64,
}

/// What a saved state says.
#[derive(Default)]
struct Saved {
    micros: Option<i64>,
    /// Agents already emitted at `micros` (`None`: the certified connector's inclusive form).
    agents: Option<BTreeSet<String>>,
    window: BTreeSet<(String, i64)>,
}

/// The stream's own state form.
const FORM: Form = Form {
    key: "start_time",
    accepted: "ours, {\"start_time\": \"2024-06-15T12:00:00.000000Z\", \"agent_ids_at_start_time\": [...], \"window\": [...]}, and the certified connector's {\"start_time\": \"1718452800000000\"} (epoch microseconds)",
    date_range: true,
    order: value_to_micros,
};

fn parse_state(sel: &Selection, out: &Output) -> Result<Saved, Error> {
    let Some(state) = saved::own_form(sel, &FORM, out)? else {
        return Ok(Saved::default());
    };
    let Some(v) = state.get("start_time").filter(|v| !v.is_null()) else {
        return Ok(Saved::default());
    };
    let micros = value_to_micros(v).ok_or_else(|| {
        Error::Input(format!(
            "The saved state of stream {} has an unreadable `start_time`; expected an ISO date-time such as 2024-02-09T13:12:16.817973Z. Reset the stream or fix the state.",
            sel.name
        ))
    })?;
    let agents = state
        .get("agent_ids_at_start_time")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().map(agent_key).collect());
    let window = live_edge::pairs_from_state(state.get("window"), value_to_micros)
        .into_iter()
        .collect();
    Ok(Saved {
        micros: Some(micros),
        agents,
        window,
    })
}

fn agent_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The timeline's cursor strategy and its committed position.
struct Timeline<'s> {
    sel: &'s Selection,
    /// Items strictly before `floor` are never emitted.
    floor: i64,
    /// The committed microsecond and the agents emitted at it.
    boundary: i64,
    agents: BTreeSet<String>,
    /// Items at or after this are in the live window.
    ceiling: i64,
    /// Items emitted in the window (by this sync or the one before), by (agent, microsecond).
    window: BTreeSet<(String, i64)>,
    edge: live_edge::Edge,
    /// The certified connector's record keys.
    keys: TimelineKeys,
}

impl<'s> Timeline<'s> {
    fn new(
        ctx_start_us: i64,
        sel: &'s Selection,
        edge: live_edge::Edge,
        out: &Output,
    ) -> Result<Self, Error> {
        let saved = parse_state(sel, out)?;
        let (floor, boundary, agents) = match saved.micros {
            Some(us) if us >= ctx_start_us => (us, us, saved.agents.unwrap_or_default()),
            _ => (ctx_start_us, i64::MIN, BTreeSet::new()),
        };
        let keys = TimelineKeys::resume(boundary, agents.iter().cloned());
        Ok(Self {
            keys,
            sel,
            floor,
            boundary,
            agents,
            ceiling: edge.ceiling_secs.saturating_mul(1_000_000),
            window: saved.window,
            edge,
        })
    }

    /// Whether an item was emitted before (by this run or a committed sync).
    fn already_emitted(&self, agent: &str, us: i64) -> bool {
        us < self.floor
            || (us == self.boundary && self.agents.contains(agent))
            || self.window.contains(&(agent.to_owned(), us))
    }

    /// Notes an emitted item in the committed position or in the window.
    fn remember(&mut self, agent: &str, us: i64) {
        if us >= self.ceiling {
            self.window.insert((agent.to_owned(), us));
            return;
        }
        if us > self.boundary {
            self.boundary = us;
            self.agents.clear();
        }
        if us == self.boundary {
            self.agents.insert(agent.to_owned());
        }
    }

    /// The committed microsecond: the highest item emitted below the ceiling (never the
    /// ceiling itself when no item lies there: a backdated item still arrives next time).
    fn committed(&self) -> i64 {
        self.floor.max(self.boundary)
    }
}

impl Pager for Timeline<'_> {
    type Cursor = i64;
    type Page<'b> = Page<'b>;

    fn stream(&self) -> &'static str {
        self.sel.name
    }
    fn path(&self) -> &'static str {
        PATH
    }
    fn first(&self) -> i64 {
        self.floor.min(self.ceiling)
    }
    fn query(&self, at: &i64) -> Vec<(&'static str, String)> {
        vec![
            ("fields", "agent_timeline(*)".to_owned()),
            ("limit", LIMIT.to_string()),
            ("start_time", at.to_string()),
        ]
    }
    fn parse<'b>(&self, body: &'b [u8]) -> Result<Page<'b>, Error> {
        let env: Envelope = decode(PATH, body)?;
        let count = env.count.unwrap_or(env.agent_timeline.len() as u64);
        let mut items = Vec::with_capacity(env.agent_timeline.len());
        for raw in env.agent_timeline {
            let head: Head = decode(PATH, raw.get().as_bytes())?;
            let micros = value_to_micros(&head.start_time);
            let agent = agent_key(&head.agent_id);
            items.push(Item {
                agent,
                micros,
                raw,
            });
        }
        Ok(Page { items, count })
    }
    fn next(&self, page: &Page<'_>, _: &i64) -> Option<i64> {
        page.items.iter().filter_map(|i| i.micros).max()
    }
    fn is_last(&self, page: &Page<'_>) -> bool {
        page.count < u64::from(LIMIT) || self.window.len() >= MAX_WINDOW
    }
    fn emit(&mut self, page: Page<'_>, at: &i64, out: &mut Writer<'_>) -> Result<u64, Error> {
        let emitted_at = crate::protocol::now_millis();
        let mut fresh = 0u64;
        for item in &page.items {
            if let Some(us) = item.micros {
                if us > *at || (us == *at && !self.agents.contains(&item.agent)) {
                    fresh += 1;
                }
                // Before the request cursor: a repeat (the export starts at `at`, inclusive).
                if us < *at || self.already_emitted(&item.agent, us) {
                    continue;
                }
                if us >= self.ceiling && self.window.len() >= MAX_WINDOW {
                    continue; // read again next sync: the committed cursor stays below
                }
                self.edge
                    .check_future(self.sel.name, us.div_euclid(1_000_000), out)?;
                self.remember(&item.agent, us);
            }
            match self.keys.lead(&item.agent, item.micros) {
                Some(lead) => self
                    .sel
                    .tracker
                    .record_with(out, item.raw, &lead.fields(), emitted_at)?,
                None => self.sel.tracker.record(out, item.raw, emitted_at)?, // keyless: counted
            }
        }
        Ok(fresh)
    }
    fn commit(&mut self, out: &mut Writer<'_>, last: bool) -> Result<(), Error> {
        let _ = last;
        let cursor = self.committed();
        // The window keeps what lies at or after the committed cursor, and nothing below it.
        self.window.retain(|(_, us)| *us >= cursor);
        let mut state = json!({ "start_time": micros_to_iso(cursor) });
        if self.boundary != i64::MIN {
            state["agent_ids_at_start_time"] = json!(self.agents);
        }
        if !self.window.is_empty() {
            let pairs: Vec<Value> = self
                .window
                .iter()
                .map(|(a, us)| json!([a, micros_to_iso(*us)]))
                .collect();
            state["window"] = Value::Array(pairs);
        }
        self.sel.tracker.state(out, state)?;
        Ok(())
    }
}

/// Reads the stream.
pub async fn read<F: Fetch>(ctx: &Ctx<F>, sel: &Selection) -> Result<Outcome, Error> {
    let edge = live_edge::Edge::now();
    let mut timeline = Timeline::new(ctx.start_date.timestamp_micros(), sel, edge, &ctx.output)?;
    paging::run(ctx, &mut timeline).await
}

pub const STREAMS: &[StreamInfo] = &[StreamInfo::incremental(
    "agent_timeline",
    "start_time",
    &["id"],
    record_schema::<AgentTimeline>,
)];

super::declare::single_stream_resource!(|ctx, sel| read(&ctx, &sel).await);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::live_edge::EXPORT_MIN_AGE_SECS;
    use crate::paging::scripted::{page, param, Harness, Scripted};
    use std::sync::{Arc, Mutex};

    /// An export over `items` ((agent, µs), sorted), `limit` per page, inclusive start_time.
    fn export(items: Arc<Mutex<Vec<(u32, i64)>>>, limit: usize) -> Scripted {
        Scripted::new(move |_, q| {
            let start: i64 = param(q, "start_time")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let mut all = items.lock().unwrap().clone();
            all.sort_by_key(|(a, us)| (*us, *a));
            let rows: Vec<Value> = all
                .iter()
                .filter(|(_, us)| *us >= start)
                .take(limit)
                .map(|(a, us)| json!({"agent_id": a, "start_time": micros_to_iso(*us), "status": "online"}))
                .collect();
            let count = if rows.len() == limit {
                LIMIT as usize
            } else {
                rows.len()
            };
            page(json!({"agent_timeline": rows, "count": count, "end_time": start + 1}))
        })
    }

    async fn sync(
        items: &Arc<Mutex<Vec<(u32, i64)>>>,
        state: Option<Value>,
        now: i64,
    ) -> (Vec<Value>, Value, Harness) {
        let h = Harness::new(export(items.clone(), 3), 0, 1);
        let sel = Harness::selection("agent_timeline", state);
        let mut t = Timeline::new(0, &sel, live_edge::Edge::at(now), &h.ctx.output).unwrap();
        assert_eq!(paging::run(&h.ctx, &mut t).await.unwrap(), Outcome::Done);
        let states = h.states("agent_timeline");
        let last = states.last().cloned().unwrap_or(Value::Null);
        (h.records("agent_timeline"), last, h)
    }

    const S: i64 = 1_000_000;

    #[tokio::test]
    async fn the_live_window_is_read_again_and_late_items_arrive_once() {
        let now = 10_000;
        let ceiling = (now - EXPORT_MIN_AGE_SECS) * S;
        let items = Arc::new(Mutex::new(vec![
            (1, 100 * S),
            (2, 100 * S),
            (3, 150 * S),
            (1, 200 * S),
            (1, ceiling),
            (2, ceiling + 5 * S),
        ]));
        let (first, state, _) = sync(&items, None, now).await;
        assert_eq!(first.len(), 6);
        assert_eq!(
            state["start_time"],
            micros_to_iso(200 * S),
            "the highest item below the ceiling"
        );
        assert_eq!(state["window"].as_array().map(Vec::len), Some(2), "{state}");
        // Indexed late: one before the old ceiling's window, one inside it at the same µs.
        items.lock().unwrap().push((3, ceiling));
        items.lock().unwrap().push((4, ceiling + 9 * S));
        items.lock().unwrap().sort();
        let (second, state2, _) = sync(&items, Some(state), now + 60).await;
        let ids: Vec<&str> = second.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert!(
            ids.iter()
                .all(|i| i.starts_with("3|") || i.starts_with("4|")),
            "{ids:?}"
        );
        assert!(value_to_micros(&state2["start_time"]).unwrap() <= ceiling + 60 * S);
        let (third, _, _) = sync(&items, Some(state2), now + 60).await;
        assert_eq!(third.len(), 0);
    }

    #[tokio::test]
    async fn a_2099_item_is_emitted_once_warned_and_never_moves_the_state() {
        let now = 10_000;
        let future = 4_070_908_800 * S; // 2099-01-01
        let items = Arc::new(Mutex::new(vec![(1, 100 * S), (9, future)]));
        let (first, state, h) = sync(&items, None, now).await;
        assert_eq!(first.len(), 2);
        assert_eq!(
            h.warnings().iter().filter(|w| w.contains("future")).count(),
            1
        );
        assert_eq!(state["start_time"], micros_to_iso(100 * S));
        items.lock().unwrap().insert(1, (2, (now + 50) * S));
        let (second, state2, _) = sync(&items, Some(state), now + 100).await;
        assert_eq!(second.len(), 1, "{second:?}");
        assert_eq!(second[0]["agent_id"], 2);
        assert!(value_to_micros(&state2["start_time"]).unwrap() <= (now + 100) * S);
    }

    #[tokio::test]
    async fn records_that_repeat_while_end_time_advances_stop_the_stream() {
        let h = Harness::new(
            Scripted::new(|_, q| {
                let start: i64 = param(q, "start_time")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let rows: Vec<Value> = (0..1000)
                    .map(|a| json!({"agent_id": a, "start_time": micros_to_iso(5 * S)}))
                    .collect();
                page(json!({"agent_timeline": rows, "count": 1000, "end_time": start + S}))
            }),
            0,
            1,
        );
        let sel = Harness::selection("agent_timeline", None);
        let mut t = Timeline::new(0, &sel, live_edge::Edge::at(10_000), &h.ctx.output).unwrap();
        let err = paging::run(&h.ctx, &mut t).await.unwrap_err().to_string();
        assert!(err.contains(PATH), "{err}");
        assert_eq!(h.records("agent_timeline").len(), 1000, "each item once");
        assert!(h.ctx.fetch.requests() <= 3, "{}", h.ctx.fetch.requests());
    }
}
#[cfg(test)]
mod saved_tests;
