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

use std::borrow::Cow;
use std::collections::HashSet;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::cursor::{iso_to_secs, secs_to_iso, value_to_secs};
use super::driver::{clamp_export_start, decode, get_optional, Ctx, Outcome, Selection};
use super::inject::{json_string, with_leading_fields};
use super::Fetch;
use crate::error::Error;
use crate::protocol::output::Batch;

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

/// A position in the export: everything at or before (`secs`, `id`) is done. An empty `id`
/// means "everything before `secs`" (ids sort after the empty string).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub secs: i64,
    pub id: String,
}

impl Position {
    fn to_state(&self) -> Value {
        if self.id.is_empty() {
            json!({ "update_timestamp": secs_to_iso(self.secs) })
        } else {
            json!({ "update_timestamp": secs_to_iso(self.secs), "start_id": self.id })
        }
    }
}

/// One selected stream of the family.
pub struct Member {
    pub sel: Selection,
    pub part: Part,
}

/// Where a member resumes, from its state (ours, or the certified connector's
/// `{"update_timestamp": "1697795052"}` / ISO forms, which resume inclusively).
fn resume_position(sel: &Selection, start_secs: i64) -> Result<Position, Error> {
    let from_start = Position {
        secs: start_secs,
        id: String::new(),
    };
    let Some(state) = sel.resume_state() else {
        return Ok(from_start);
    };
    let Some(v) = state.get("update_timestamp").filter(|v| !v.is_null()) else {
        return Ok(from_start);
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
    Ok(Position { secs, id }.max(from_start))
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow, default)]
    chats: Vec<&'a RawValue>,
    #[serde(default)]
    count: Option<u64>,
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

/// Reads the selected members of the family in one pass.
pub async fn read<F: Fetch>(ctx: &Ctx<F>, members: &[Member]) -> Result<Outcome, Error> {
    let start_secs = ctx.start_date.timestamp();
    let mut positions = members
        .iter()
        .map(|m| resume_position(&m.sel, start_secs))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(lowest) = positions.iter().min().cloned() else {
        return Ok(Outcome::Done);
    };
    let now = chrono::Utc::now().timestamp();
    let (request_secs, clamped) = clamp_export_start(lowest.secs, now);
    let mut request = if clamped {
        Position {
            secs: request_secs,
            id: String::new(),
        }
    } else {
        lowest
    };
    let want_children = members.iter().any(|m| m.part != Part::Chat);
    // Ids already emitted at the latest second seen, to drop repeats if the API re-sends them.
    let mut seen_second = i64::MIN;
    let mut seen_ids: HashSet<String> = HashSet::new();
    let mut pending = Some(fetch_page(ctx, &request));

    while let Some(next) = pending.take() {
        let body = match next.await? {
            Ok(b) => b,
            Err(outcome) => return Ok(outcome),
        };
        let page: Page = decode(PATH, &body)?;
        let count = page.count.unwrap_or(page.chats.len() as u64);
        let full = count >= u64::from(LIMIT) && !page.chats.is_empty();
        let mut heads = Vec::with_capacity(page.chats.len());
        for raw in &page.chats {
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
                .unwrap_or(request.secs);
            heads.push((Position { secs, id }, head));
        }
        // Start the next request before writing this page.
        let page_end = heads.last().map(|(p, _)| p.clone());
        if full {
            let Some(end) = page_end.clone().filter(|end| *end > request) else {
                return Err(Error::Protocol(format!(
                    "{PATH} returned a full page that does not move past start_time={} start_id={:?}; stopping instead of looping",
                    request.secs, request.id
                )));
            };
            request = end;
            pending = Some(fetch_page(ctx, &request));
        }

        let emitted_at = crate::protocol::now_millis();
        let mut batch = Batch::with_capacity(body.len() * if want_children { 2 } else { 1 } + 4096);
        for ((pos, head), raw) in heads.iter().zip(&page.chats) {
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
            for (member, from) in members.iter().zip(&positions) {
                if *pos <= *from {
                    continue;
                }
                emit_part(&mut batch, member, head, pos, raw, emitted_at)?;
            }
        }
        if let Some(end) = page_end {
            for p in positions.iter_mut() {
                if end > *p {
                    *p = end.clone();
                }
            }
        }
        for (member, p) in members.iter().zip(&positions) {
            member.sel.tracker.state(&mut batch, p.to_state())?;
        }
        ctx.output.write_batch(&batch)?;
    }
    Ok(Outcome::Done)
}

type PageFuture = tokio::task::JoinHandle<Result<Result<bytes::Bytes, Outcome>, Error>>;

/// Starts fetching the page after `from` in the background.
fn fetch_page<F: Fetch>(
    ctx: &Ctx<F>,
    from: &Position,
) -> impl std::future::Future<Output = Result<Result<bytes::Bytes, Outcome>, Error>> {
    let ctx = ctx.clone();
    let mut query = vec![
        ("fields", "chats(*)".to_owned()),
        ("limit", LIMIT.to_string()),
        ("start_time", from.secs.to_string()),
    ];
    if !from.id.is_empty() {
        query.push(("start_id", from.id.clone()));
    }
    let handle: PageFuture =
        tokio::spawn(async move { get_optional(&ctx, "chats", PATH, &query, false).await });
    async move {
        handle
            .await
            .map_err(|e| Error::Internal(format!("page fetch task failed: {e}")))?
    }
}

fn emit_part(
    batch: &mut Batch,
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
        let row = with_leading_fields(
            item,
            &[
                ("chat_id", &chat_id),
                ("position", &position),
                ("update_timestamp", &updated),
            ],
        )?;
        tracker.record(batch, &row, emitted_at)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_order_by_second_then_id() {
        let p = |secs, id: &str| Position {
            secs,
            id: id.to_owned(),
        };
        assert!(p(5, "") < p(5, "a"));
        assert!(p(5, "zz") < p(6, ""));
        assert!(p(5, "2401.1.A") < p(5, "2401.1.B"));
        assert_eq!(
            p(5, "").to_state(),
            json!({"update_timestamp": "1970-01-01T00:00:05Z"})
        );
        assert_eq!(
            p(5, "x").to_state(),
            json!({"update_timestamp": "1970-01-01T00:00:05Z", "start_id": "x"})
        );
    }
}
