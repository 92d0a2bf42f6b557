//! The incremental exports derived from the chats: `incremental/conversions` (the chats'
//! conversions) and `incremental/department_events` (their department transfers), built once on
//! first use and paged with the chat export's rules.

use crate::chat;
use crate::data::{Dataset, Entry};
use crate::jsonw as jw;
use crate::server::{bad, int_param, limit_param, now_s, pct, ApiErr};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// One item of a time + id export.
pub struct Item {
    /// Sort second (the item's `timestamp`, truncated).
    pub ts: i64,
    pub id: String,
    pub value: Value,
}

/// The two derived exports, each sorted by (second, id).
pub struct Exports {
    pub conversions: Vec<Item>,
    pub department_events: Vec<Item>,
}

/// The parts of a rendered chat that the derived exports need.
#[derive(Deserialize)]
struct ChatParts {
    timestamp: String,
    #[serde(default)]
    conversions: Vec<Value>,
    #[serde(default)]
    history: Vec<Value>,
}

fn secs_of(v: &Value) -> Option<i64> {
    let s = v.as_str()?;
    crate::jsonw::parse_iso(s.get(..19).map(|p| format!("{p}Z")).as_deref()?)
}

fn dept_id(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str()?.parse().ok())
}

/// Builds both exports from the chats of `index` (their content does not depend on revisions).
pub fn build(ds: &Dataset, index: &[Entry]) -> Exports {
    let (mut conversions, mut department_events) = (Vec::new(), Vec::new());
    let mut buf = Vec::with_capacity(8192);
    for e in index {
        buf.clear();
        chat::render_with(ds, e, false, &mut buf);
        let Ok(parts) = serde_json::from_slice::<ChatParts>(&buf) else {
            continue;
        };
        conversions.extend(chat_conversions(e.id_str(), &parts));
        department_events.extend(chat_department_events(&ds.account_str, e.id_str(), &parts));
    }
    for list in [&mut conversions, &mut department_events] {
        list.sort_by(|a, b| (a.ts, &a.id).cmp(&(b.ts, &b.id)));
    }
    Exports {
        conversions,
        department_events,
    }
}

fn chat_conversions(chat_id: &str, parts: &ChatParts) -> Vec<Item> {
    let mut out = Vec::new();
    for c in &parts.conversions {
        let (Some(id), Some(ts)) = (c["id"].as_str(), secs_of(&c["timestamp"])) else {
            continue;
        };
        let a = &c["attribution"];
        let value = json!({
            "id": id,
            "timestamp": c["timestamp"],
            "goal_id": c["goal_id"],
            "goal_name": c["goal_name"],
            "attribution": {
                "agent_id": a["agent_id"],
                "department_id": a["department_id"],
                "chat_id": chat_id,
                "chat_timestamp": parts.timestamp,
            },
        });
        out.push(Item {
            ts,
            id: id.to_string(),
            value,
        });
    }
    out
}

/// One event per `chat.departmenttransfer`: the chat moved into `department_id` (`value`, the
/// new department's id as a string) from `previous_value`.
fn chat_department_events(account: &str, chat_id: &str, parts: &ChatParts) -> Vec<Item> {
    let transfers = parts
        .history
        .iter()
        .filter(|h| h["type"] == "chat.departmenttransfer");
    let mut out = Vec::new();
    for (n, h) in transfers.enumerate() {
        let (Some(to), Some(from), Some(ts)) = (
            dept_id(&h["department_id"]),
            dept_id(&h["prev_department_id"]),
            secs_of(&h["timestamp"]),
        ) else {
            continue;
        };
        let suffix = chat_id.rsplit('.').next().unwrap_or(chat_id);
        let id = format!("{account}.department:{to}.{suffix}.{n}");
        let value = json!({
            "id": id,
            "department_id": to,
            "timestamp": h["timestamp"],
            "field_name": "chat_transfer",
            "value": to.to_string(),
            "previous_value": from.to_string(),
        });
        out.push(Item { ts, id, value });
    }
    out
}

/// Serves one page of a time + id export (`name` is the list key and the path's last segment),
/// with the chat export's rules: `start_time` epoch seconds, inclusive without `start_id`,
/// `start_id` breaking ties, the five-minute rule, `next_page` always present.
pub fn serve(
    items: &[Item],
    name: &str,
    q: &HashMap<String, String>,
    base: &str,
    max_limit: u32,
) -> Result<Vec<u8>, ApiErr> {
    let start = int_param::<i64>(q, "start_time")?.unwrap_or(0);
    let start_id = q.get("start_id").map(String::as_str).unwrap_or("");
    let limit = limit_param(q, 1000, u64::from(max_limit))?;
    if start > now_s() - 300 {
        return Err(bad("start_time must be more than five minutes in the past"));
    }
    let pos = if start_id.is_empty() {
        items.partition_point(|i| i.ts < start)
    } else {
        items.partition_point(|i| (i.ts, i.id.as_str()) <= (start, start_id))
    };
    let page = &items[pos..(pos + limit).min(items.len())];
    let (end_time, end_id) = match page.last() {
        Some(i) => (i.ts, i.id.as_str()),
        None => (start, start_id),
    };
    let mut b = Vec::with_capacity(page.len() * 300 + 512);
    jw::obj(&mut b);
    jw::key(&mut b, name);
    jw::arr(&mut b);
    for i in page {
        jw::raw(&mut b, &serde_json::to_vec(&i.value).unwrap_or_default());
    }
    jw::end_arr(&mut b);
    jw::key_uint(&mut b, "count", page.len() as u64);
    jw::key_string(&mut b, "end_id", end_id);
    jw::key(&mut b, "end_time");
    jw::int(&mut b, end_time);
    let mut next = format!("{base}incremental/{name}?limit={limit}&start_time={end_time}");
    if !end_id.is_empty() {
        next.push_str(&format!("&start_id={}", pct(end_id)));
    }
    jw::key_string(&mut b, "next_page", &next);
    jw::end_obj(&mut b);
    Ok(b)
}
