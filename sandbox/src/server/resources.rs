//! Resource handlers: agents and bans (since_id), agent timeline (µs start_time) and the
//! chat export (start_time + start_id).

use super::*;

pub(crate) fn agents(sh: &Shared, q: &HashMap<String, String>) -> Result<Vec<u8>, ApiErr> {
    let since = int_param::<u64>(q, "since_id")?.unwrap_or(0);
    let max_id = int_param::<u64>(q, "max_id")?;
    let limit = limit_param(q, 100, 100)?;
    let page: Vec<&Value> = sh
        .ds
        .agents_json
        .iter()
        .filter(|(id, _)| *id >= since && max_id.is_none_or(|m| *id <= m))
        .take(limit)
        .map(|(_, v)| v)
        .collect();
    Ok(to_vec(&page))
}

pub(crate) fn bans(sh: &Shared, q: &HashMap<String, String>) -> Result<Vec<u8>, ApiErr> {
    let since = int_param::<u64>(q, "since_id")?.unwrap_or(0);
    let max_id = int_param::<u64>(q, "max_id")?;
    let limit = limit_param(q, 10, 1000)?;
    let mut ip = Vec::new();
    let mut visitor = Vec::new();
    for (_, v) in sh
        .bans_list()
        .iter()
        .filter(|(id, _)| *id >= since && max_id.is_none_or(|m| *id <= m))
        .take(limit)
    {
        if v["type"] == "ip_address" {
            ip.push(v);
        } else {
            visitor.push(v);
        }
    }
    Ok(to_vec(&json!({"ip_address": ip, "visitor": visitor})))
}

pub(crate) fn agent_timeline(
    sh: &Shared,
    q: &HashMap<String, String>,
    host: &str,
    faults: &Faults,
) -> Result<Vec<u8>, ApiErr> {
    let start = int_param::<i64>(q, "start_time")?.unwrap_or(0);
    let limit = limit_param(q, 1000, u64::from(faults.max_limit_incremental))?;
    if start > (now_s() - 300).saturating_mul(1_000_000) {
        return Err(bad("start_time must be more than five minutes in the past"));
    }
    let items = &sh.ds.timeline_json;
    let (page, end_time) = if faults.timeline_stuck {
        // The same first records every time; only the envelope moves on.
        let page = &items[..limit.min(items.len())];
        let last = page.last().map(|(t, _)| *t).unwrap_or(start);
        (page, last.max(start.saturating_add(1_000_000)))
    } else {
        let pos = items.partition_point(|(t, _)| *t < start);
        let page = &items[pos..(pos + limit).min(items.len())];
        (page, page.last().map(|(t, _)| *t).unwrap_or(start))
    };
    let mut next = format!(
        "{}://{host}/api/v2/chat/incremental/agent_timeline?",
        sh.scheme
    );
    if let Some(f) = q.get("fields") {
        next.push_str(&format!("fields={}&", pct(f)));
    }
    next.push_str(&format!("limit={limit}&start_time={end_time}"));
    let list: Vec<&Value> = page.iter().map(|(_, v)| v).collect();
    Ok(to_vec(&json!({
        "agent_timeline": list,
        "count": page.len(),
        "end_time": end_time,
        "next_page": next,
    })))
}

/// How chats are expanded according to `fields`.
pub(crate) enum Expand {
    Ids,
    Full,
    Some(Vec<String>),
}

pub(crate) fn parse_fields(fields: Option<&String>) -> Expand {
    let Some(f) = fields else { return Expand::Ids };
    let f = f.trim();
    let Some(inner) = f.strip_prefix("chats(").and_then(|s| s.strip_suffix(')')) else {
        return Expand::Ids;
    };
    if inner.trim() == "*" {
        return Expand::Full;
    }
    Expand::Some(
        inner
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

/// The page's chats as `fields` asks: ids only, whole chats, or a subset of their keys.
fn write_chat_items(sh: &Shared, page: &[&Entry], expand: &Expand, numeric: bool, b: &mut Vec<u8>) {
    let mut tmp = Vec::new();
    for &e in page {
        match expand {
            Expand::Ids => {
                jw::obj(b);
                jw::key(b, "id");
                jw::string_bytes(b, &e.id);
                jw::end_obj(b);
            }
            Expand::Full => chat::render_with(&sh.ds, e, numeric, b),
            Expand::Some(keys) => {
                tmp.clear();
                chat::render_with(&sh.ds, e, numeric, &mut tmp);
                let full: serde_json::Map<String, Value> =
                    serde_json::from_slice(&tmp).unwrap_or_default();
                let sub: serde_json::Map<String, Value> = full
                    .into_iter()
                    .filter(|(k, _)| keys.iter().any(|w| w == k))
                    .collect();
                jw::raw(b, &to_vec(&sub));
            }
        }
    }
}

pub(crate) fn incremental_chats(
    sh: &Shared,
    q: &HashMap<String, String>,
    host: &str,
    faults: &Faults,
) -> Result<Vec<u8>, ApiErr> {
    let start = int_param::<i64>(q, "start_time")?.unwrap_or(0);
    let start_id = q.get("start_id").map(String::as_str).unwrap_or("");
    let limit = limit_param(q, 1000, u64::from(faults.max_limit_incremental))?;
    if start > now_s() - 300 {
        return Err(bad("start_time must be more than five minutes in the past"));
    }
    let expand = parse_fields(q.get("fields"));
    let numeric = faults.numeric_timestamps.iter().any(|r| r == "chats");
    let index = read(&sh.index);
    let pos = if start_id.is_empty() {
        index.partition_point(|e| e.ts < start)
    } else {
        index.partition_point(|e| e.key() <= (start, start_id.as_bytes()))
    };
    let now = now_s();
    let page: Vec<&Entry> = index[pos..]
        .iter()
        .filter(|e| e.visible_at <= now)
        .take(limit)
        .collect();
    let cap = match expand {
        Expand::Full => page.len() * 4096 + 512,
        _ => page.len() * 40 + 512,
    };
    let mut b = Vec::with_capacity(cap);
    jw::obj(&mut b);
    jw::key(&mut b, "chats");
    jw::arr(&mut b);
    write_chat_items(sh, &page, &expand, numeric, &mut b);
    jw::end_arr(&mut b);
    let (end_time, end_id) = match page.last() {
        Some(e) => (e.ts, e.id_str().to_string()),
        None => (start, start_id.to_string()),
    };
    let count = page.len();
    drop(index);
    jw::key_uint(&mut b, "count", count as u64);
    jw::key_string(&mut b, "end_id", &end_id);
    jw::key(&mut b, "end_time");
    jw::int(&mut b, end_time);
    let mut next = format!("{}://{host}/api/v2/chat/incremental/chats?", sh.scheme);
    if let Some(f) = q.get("fields") {
        next.push_str(&format!("fields={}&", pct(f)));
    }
    next.push_str(&format!("limit={limit}&start_time={end_time}"));
    if !end_id.is_empty() {
        next.push_str(&format!("&start_id={}", pct(&end_id)));
    }
    jw::key_string(&mut b, "next_page", &next);
    jw::end_obj(&mut b);
    Ok(b)
}
