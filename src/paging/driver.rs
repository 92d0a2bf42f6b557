//! The machinery every stream shares: the read context (with the sync's request slots), the
//! selected streams, how a read ended, optional endpoints, id helpers, and the export limits.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::Semaphore;

pub use super::tracker::Tracker;
use super::{Fetch, Reply};
use crate::error::Error;
use crate::protocol::{AirbyteMessage, LogLevel, Output, SyncMode};
use crate::records::decode;

/// Incremental exports reject a `start_time` less than 5 minutes old; keep a margin for clock skew.
pub const EXPORT_MIN_AGE_SECS: i64 = 330;

/// The exports' maximum (and default) page size.
pub const EXPORT_LIMIT: u32 = 1000;

/// What every reader needs.
pub struct Ctx<F> {
    pub fetch: Arc<F>,
    pub output: Arc<Output>,
    pub start_date: DateTime<Utc>,
    /// How many time slices of one export are read at once during a slow backfill.
    pub concurrency: usize,
    /// The sync's in-flight request slots, shared by every stream (first come, first served):
    /// a stream that finishes or waits leaves its slots to the others.
    pub slots: Arc<Semaphore>,
}

impl<F> Clone for Ctx<F> {
    fn clone(&self) -> Self {
        Self {
            fetch: self.fetch.clone(),
            output: self.output.clone(),
            start_date: self.start_date,
            concurrency: self.concurrency,
            slots: self.slots.clone(),
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

/// The integer `id` of a record, if it has one.
pub fn id_of(endpoint: &str, raw: &RawValue) -> Result<Option<i64>, Error> {
    #[derive(Deserialize)]
    struct WithId {
        #[serde(default)]
        id: Value,
    }
    let WithId { id } = decode(endpoint, raw.get().as_bytes())?;
    Ok(id_as_i64(&id))
}

/// The error for a saved state whose `field` this connector cannot read.
pub fn unreadable_state(stream: &str, field: &str, expected: &str) -> Error {
    Error::Input(format!(
        "The saved state of stream {stream} has an unreadable `{field}`; expected {expected}. Reset the stream's data or fix the state."
    ))
}

/// Writes a `{"__ab_no_cursor_state_message": true}` final state for streams without a cursor.
pub fn no_cursor_state() -> Value {
    serde_json::json!({"__ab_no_cursor_state_message": true})
}
