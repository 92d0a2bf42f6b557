//! The machinery every stream shares: the read context, per-stream bookkeeping (statuses,
//! record counts between STATEs), JSON decoding with positions, the `since_id` pager (agents,
//! bans) and the 5-minute rule of the incremental exports.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{Fetch, Reply};
use crate::error::Error;
use crate::protocol::messages::AirbyteStreamStatus;
use crate::protocol::output::Writer;
use crate::protocol::{AirbyteMessage, LogLevel, Output, SyncMode};

/// Incremental exports reject a `start_time` less than 5 minutes old; keep a margin for clock skew.
pub const EXPORT_MIN_AGE_SECS: i64 = 330;

/// What every reader needs.
pub struct Ctx<F> {
    pub fetch: Arc<F>,
    pub output: Arc<Output>,
    pub start_date: DateTime<Utc>,
    /// How many time slices of the chat export are read at once.
    pub concurrency: usize,
}

impl<F> Clone for Ctx<F> {
    fn clone(&self) -> Self {
        Self {
            fetch: self.fetch.clone(),
            output: self.output.clone(),
            start_date: self.start_date,
            concurrency: self.concurrency,
        }
    }
}

/// One selected stream: its name, how to read it, where it left off, and its bookkeeping.
#[derive(Clone)]
pub struct Selection {
    pub name: &'static str,
    pub mode: SyncMode,
    pub state: Option<Value>,
    pub tracker: Tracker,
}

impl Selection {
    /// The input state, unless the stream is read in full.
    pub fn resume_state(&self) -> Option<&Value> {
        match self.mode {
            SyncMode::Incremental => self.state.as_ref(),
            SyncMode::FullRefresh => None,
        }
    }
}

/// How a stream ended when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The endpoint does not exist for this account (404, or 403 on `account`).
    Unavailable(String),
}

/// Per-stream bookkeeping shared between the reader and the orchestrator.
#[derive(Clone)]
pub struct Tracker(Arc<TrackerInner>);

struct TrackerInner {
    name: &'static str,
    total: AtomicU64,
    running: AtomicBool,
    has_state: AtomicBool,
    typing: super::typed::TypingStats,
}

impl Tracker {
    pub fn new(name: &'static str) -> Self {
        Self(Arc::new(TrackerInner {
            name,
            total: AtomicU64::new(0),
            running: AtomicBool::new(false),
            has_state: AtomicBool::new(false),
            typing: Default::default(),
        }))
    }

    pub fn name(&self) -> &'static str {
        self.0.name
    }

    /// Records emitted so far.
    pub fn total(&self) -> u64 {
        self.0.total.load(Ordering::Relaxed)
    }

    /// Adds RUNNING to the batch the first time the stream produces output.
    pub fn mark_running(&self, batch: &mut Writer<'_>) -> Result<(), Error> {
        if !self.0.running.swap(true, Ordering::Relaxed) {
            batch.push(&AirbyteMessage::stream_status(
                self.0.name,
                AirbyteStreamStatus::Running,
                None,
            ))?;
        }
        Ok(())
    }

    /// True once RUNNING was emitted.
    pub fn is_running(&self) -> bool {
        self.0.running.load(Ordering::Relaxed)
    }

    /// True once a STATE was emitted.
    pub fn has_state(&self) -> bool {
        self.0.has_state.load(Ordering::Relaxed)
    }

    /// Marks RUNNING as emitted (when the orchestrator writes it itself).
    pub fn set_running(&self) {
        self.0.running.store(true, Ordering::Relaxed);
    }

    /// Adds a RECORD, typed by the stream's schema (see [`super::typed`]).
    pub fn record(
        &self,
        batch: &mut Writer<'_>,
        data: &RawValue,
        emitted_at: i64,
    ) -> Result<(), Error> {
        self.record_with(batch, data, &[], emitted_at)
    }

    /// Adds a RECORD made of `lead` fields (JSON text) followed by the fields of `data`.
    pub fn record_with(
        &self,
        batch: &mut Writer<'_>,
        data: &RawValue,
        lead: &[(&str, &str)],
        emitted_at: i64,
    ) -> Result<(), Error> {
        self.mark_running(batch)?;
        let typing = &self.0.typing;
        if super::typed::emit(batch, self.0.name, typing, data, lead, emitted_at)? {
            self.0.total.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Values nulled and records skipped for lack of a key, so far.
    pub fn typing(&self) -> &super::typed::TypingStats {
        &self.0.typing
    }

    /// Writes a STATE that commits every record of this stream written before it.
    pub fn state(&self, batch: &mut Writer<'_>, stream_state: Value) -> Result<(), Error> {
        self.mark_running(batch)?;
        self.0.has_state.store(true, Ordering::Relaxed);
        batch.push_state(self.0.name, stream_state)?;
        Ok(())
    }
}

/// Decodes an API body, reporting where it is malformed (never panics, never quotes it).
pub fn decode<'a, T: Deserialize<'a>>(endpoint: &str, body: &'a [u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        endpoint: endpoint.to_owned(),
        line: e.line(),
        column: e.column(),
        detail: e
            .to_string()
            .split(" at line")
            .next()
            .unwrap_or("")
            .to_owned(),
    })
}

/// GETs an endpoint; a missing resource (and a forbidden one where `forbidden_is_unavailable`)
/// becomes `Ok(Err(Unavailable))` with a warning, so one missing feature does not fail the sync.
pub async fn get_optional<F: Fetch>(
    ctx: &Ctx<F>,
    stream: &str,
    path: &str,
    query: &[(&str, String)],
    forbidden_is_unavailable: bool,
) -> Result<Result<bytes::Bytes, Outcome>, Error> {
    let what = match ctx.fetch.get(path, query).await? {
        Reply::Page(body) => return Ok(Ok(body)),
        Reply::Missing(_) => "does not exist",
        Reply::Forbidden(_) if forbidden_is_unavailable => "is not allowed",
        Reply::Forbidden(e) => return Err(e),
    };
    let why = format!(
        "Stream {stream} skipped: {path} {what} for this Zendesk Chat account; the account does not offer it."
    );
    tracing::warn!("{why}");
    ctx.output
        .emit(&AirbyteMessage::log(LogLevel::Warn, why.clone()))?;
    Ok(Err(Outcome::Unavailable(why)))
}

/// An integer id sent as a number or a numeric string.
pub fn id_as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Writes a `{"__ab_no_cursor_state_message": true}` final state for streams without a cursor.
pub fn no_cursor_state() -> Value {
    serde_json::json!({"__ab_no_cursor_state_message": true})
}

/// The first `since_id` of an id-cursor stream: after the stored id in incremental mode.
pub fn first_since_id(sel: &Selection) -> Result<i64, Error> {
    match sel.resume_state() {
        None => Ok(0),
        Some(state) => match state.get("id") {
            None | Some(Value::Null) => Ok(0),
            Some(v) => id_as_i64(v).map(|id| id.saturating_add(1)).ok_or_else(|| {
                Error::Input(format!(
                    "The saved state of stream {} has an unreadable `id` ({}); reset the stream's data or fix the state.",
                    sel.name,
                    crate::protocol::state::json_kind(v)
                ))
            }),
        },
    }
}

/// Reads an endpoint paged by `since_id` (inclusive) and `limit`, ascending by id, until an empty
/// page. `items` extracts a page's records in id order. STATE `{"id": last}` after every page.
pub async fn read_since_id<F, X>(
    ctx: &Ctx<F>,
    sel: &Selection,
    path: &str,
    limit: u32,
    items: X,
) -> Result<Outcome, Error>
where
    F: Fetch,
    X: for<'a> Fn(&'a [u8]) -> Result<Vec<&'a RawValue>, Error>,
{
    let mut since = first_since_id(sel)?;
    let mut last_id = since.checked_sub(1).filter(|id| *id >= 0);
    loop {
        let query = [
            ("since_id", since.to_string()),
            ("limit", limit.to_string()),
        ];
        let body = match get_optional(ctx, sel.name, path, &query, false).await? {
            Ok(b) => b,
            Err(outcome) => return Ok(outcome),
        };
        let page = items(&body)?;
        let emitted_at = crate::protocol::now_millis();
        let mut batch = ctx.output.lock();
        let mut max_id = None;
        for raw in &page {
            let Some(id) = super::typed::int_id(raw) else {
                sel.tracker.record(&mut batch, raw, emitted_at)?; // no key: skipped and counted
                continue;
            };
            if id < since {
                return Err(Error::Protocol(format!(
                    "{path} ignored since_id={since} and returned id {id}; stopping to avoid a loop"
                )));
            }
            sel.tracker.record(&mut batch, raw, emitted_at)?;
            max_id = Some(max_id.map_or(id, |m: i64| m.max(id)));
        }
        if let Some(m) = max_id {
            last_id = Some(m);
        }
        let state = match last_id {
            Some(id) => serde_json::json!({ "id": id }),
            None => match sel.resume_state() {
                Some(s) => s.clone(),
                None => serde_json::json!({}),
            },
        };
        sel.tracker.state(&mut batch, state)?;
        match max_id {
            None => return Ok(Outcome::Done),
            Some(m) => since = m.saturating_add(1),
        }
    }
}

/// Seconds since the epoch that an export may start at: the wanted time, or 5½ minutes ago if
/// that is later (records before the wanted cursor are then filtered out by the caller).
pub fn clamp_export_start(wanted: i64, now: i64) -> (i64, bool) {
    let latest = now - EXPORT_MIN_AGE_SECS;
    if wanted > latest {
        (latest, true)
    } else {
        (wanted, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp() {
        assert_eq!(clamp_export_start(100, 10_000), (100, false));
        assert_eq!(
            clamp_export_start(9_900, 10_000),
            (10_000 - EXPORT_MIN_AGE_SECS, true)
        );
    }

    #[test]
    fn decode_reports_position() {
        let err = decode::<Value>("agents", b"[{\"id\": 1},\n {\"id\": ").unwrap_err();
        match err {
            Error::Decode { endpoint, line, .. } => {
                assert_eq!(endpoint, "agents");
                assert_eq!(line, 2);
            }
            other => panic!("{other:?}"),
        }
    }
}
