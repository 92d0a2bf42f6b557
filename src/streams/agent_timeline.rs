//! The agent_timeline stream: the incremental agent timeline export, read by the export engine
//! ([`crate::paging::export`]) in epoch microseconds. The export's `start_time` is inclusive and
//! there is no id tie-breaker, so the entries at a page's last µs are read again and recognized
//! by their agent; the state's window keeps those of the committed µs. Each slice keys its
//! entries as the certified connector does ([`TimelineKeys`]). Example state:
//! `{"start_time": "2026-12-01T21:55:00.000000Z",
//!   "window": [["1001", "2026-12-01T21:55:00.000000Z"], ["1002", "2026-12-01T21:58:12.120000Z"]]}`.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::StreamInfo;
use crate::error::Error;
use crate::paging::coverage::Position;
use crate::paging::cursor::value_to_micros;
use crate::paging::driver::{Ctx, Outcome, Selection, EXPORT_LIMIT as LIMIT};
use crate::paging::export::{self, Export, ItemRef, Items, Target};
use crate::paging::Fetch;
use crate::protocol::output::Writer;
use crate::records::decode;
use crate::records::typed::TimelineKeys;
use crate::records::types::{Int, Num, Str, Timestamp};
use crate::schema::record_schema;

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

/// One entry of a page: its agent, its place (µs, agent) when its time is readable, its text.
struct Item<'a> {
    agent: String,
    pos: Option<Position>,
    raw: &'a RawValue,
}

/// A decoded page.
pub struct TimelinePage<'a> {
    items: Vec<Item<'a>>,
    full: bool,
}

impl Items for TimelinePage<'_> {
    fn count(&self) -> usize {
        self.items.len()
    }
    fn item(&self, i: usize) -> ItemRef<'_> {
        let item = &self.items[i];
        ItemRef {
            // An entry without a time is told apart by its text.
            key: item.pos.as_ref().map_or(item.raw.get(), |_| &item.agent),
            pos: item.pos.as_ref(),
            version: None,
        }
    }
    fn full(&self) -> bool {
        self.full
    }
    fn without_key(&self) -> u64 {
        0
    }
}

/// The agent timeline export.
pub struct Timeline;

impl Export for Timeline {
    type Page<'b> = TimelinePage<'b>;
    type Slice = TimelineKeys;

    fn path(&self) -> &'static str {
        PATH
    }
    fn unit(&self) -> i64 {
        1_000_000
    }
    fn cursor_field(&self) -> &'static str {
        "start_time"
    }
    fn accepted(&self) -> &'static str {
        "ours, {\"start_time\": \"2024-06-15T12:00:00.000000Z\", \"window\": [...]} (older: with \"agent_ids_at_start_time\": [...]), and the certified connector's {\"start_time\": \"1718452800000000\"} (epoch microseconds)"
    }
    fn query(&self, at: &Position) -> Vec<(&'static str, String)> {
        vec![
            ("fields", "agent_timeline(*)".to_owned()),
            ("limit", LIMIT.to_string()),
            ("start_time", at.secs.to_string()),
        ]
    }
    fn parse<'b>(&self, body: &'b [u8]) -> Result<TimelinePage<'b>, Error> {
        let env: Envelope = decode(PATH, body)?;
        let count = env.count.unwrap_or(env.agent_timeline.len() as u64);
        let mut items = Vec::with_capacity(env.agent_timeline.len());
        for raw in env.agent_timeline {
            let head: Head = decode(PATH, raw.get().as_bytes())?;
            let agent = agent_key(&head.agent_id);
            let pos = value_to_micros(&head.start_time).map(|us| Position {
                secs: us,
                id: agent.clone(),
            });
            items.push(Item { agent, pos, raw });
        }
        Ok(TimelinePage {
            items,
            full: count >= u64::from(LIMIT),
        })
    }
    fn slice(&self, start: &Position, at_start: Vec<String>) -> TimelineKeys {
        TimelineKeys::resume(start.secs, at_start)
    }
    fn emit(
        &self,
        page: &TimelinePage<'_>,
        i: usize,
        to: Target<'_>,
        keys: &mut TimelineKeys,
        out: &mut Writer<'_>,
    ) -> Result<(), Error> {
        let Some(item) = page.items.get(i) else {
            return Ok(());
        };
        let tracker = &to.sel.tracker;
        match keys.lead(&item.agent, item.pos.as_ref().map(|p| p.secs)) {
            Some(lead) => tracker.record_with(out, item.raw, &lead.fields(), to.emitted_at),
            None => tracker.record(out, item.raw, to.emitted_at), // keyless: counted
        }
    }
}

fn agent_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Reads the stream.
pub async fn read<F: Fetch>(ctx: &Ctx<F>, sel: Selection) -> Result<Outcome, Error> {
    export::read(ctx, Timeline, vec![sel]).await
}

pub const STREAMS: &[StreamInfo] = &[StreamInfo::incremental(
    "agent_timeline",
    "start_time",
    &["id"],
    record_schema::<AgentTimeline>,
)];

super::declare::single_stream_resource!(|ctx, sel| read(&ctx, sel).await);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::cursor::micros_to_iso;
    use crate::paging::live_edge::{Edge, EXPORT_MIN_AGE_SECS};
    use serde_json::json;
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
        let read = export::read_at(&h.ctx, Timeline, vec![sel], Edge::at(now)).await;
        assert_eq!(read.unwrap(), Outcome::Done);
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
        // The two past the ceiling, and agent 1's entry at the committed µs.
        assert_eq!(state["window"].as_array().map(Vec::len), Some(3), "{state}");
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
        let read = export::read_at(&h.ctx, Timeline, vec![sel], Edge::at(10_000)).await;
        let err = read.unwrap_err().to_string();
        assert!(err.contains(PATH), "{err}");
        assert_eq!(h.records("agent_timeline").len(), 1000, "each item once");
        assert!(h.ctx.fetch.requests() <= 3, "{}", h.ctx.fetch.requests());
    }
}
#[cfg(test)]
mod saved_tests;
