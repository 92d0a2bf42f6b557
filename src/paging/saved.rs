//! Saved stream states in the forms other tools write, brought to a reader's own form in one
//! place, so that no reader starts again from `start_date` without a word.
//!
//! A reader names its own form by its cursor field ([`Form::key`]). A saved state is:
//! - `null`, `{}` or a full-refresh marker (`{"__ab_no_cursor_state_message": true}`,
//!   `{"__ab_full_refresh_sync_complete": true}`): no state (a marker is logged);
//! - an object holding the cursor field: the reader's own form, as it is;
//! - for time cursors, the Airbyte CDK's concurrent form
//!   `{"state_type": "date-range", "slices": [{"start", "end", "most_recent_cursor_value"?}],
//!   "legacy": {...}?}`: the slices sorted by start and merged while they touch or overlap, from
//!   the lowest one on; the reader resumes (inclusively) from the end of that first run, or from
//!   its `most_recent_cursor_value` when lower (what the CDK itself resumes from). Nothing
//!   before that point was left unread. Without slices, its `legacy` state is read;
//! - `{"state": {...}}`, as some tools save a stream's state: the state inside;
//! - the CDK's per-partition `{"states": [{"partition": ..., "cursor": {...}}], "state": {...}?}`:
//!   the lowest of its cursors (its global `state` included), so no partition loses records;
//! - anything else: an [`Error::Input`] naming the stream, what it found, the accepted forms
//!   and what to do.
//!
//! Every form but the reader's own is reported in an INFO log with where the reader resumes.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::cursor::{micros_to_iso, value_to_micros};
use super::driver::Selection;
use crate::error::Error;
use crate::protocol::{AirbyteMessage, LogLevel, Output};

/// A reader's own state form.
pub struct Form {
    /// The cursor field whose presence marks the reader's own form.
    pub key: &'static str,
    /// The reader's own forms, as the error message lists them.
    pub accepted: &'static str,
    /// True for time cursors, which accept the CDK's `date-range` form.
    pub date_range: bool,
    /// The cursor value as a number that orders positions (to find the lowest partition).
    pub order: fn(&Value) -> Option<i64>,
}

/// The CDK's markers of a stream read without a cursor.
const MARKERS: [&str; 2] = [
    "__ab_no_cursor_state_message",
    "__ab_full_refresh_sync_complete",
];

/// A recognised state in the reader's own form (`None`: no state), or what was found instead.
type Found<'s> = Result<Option<Cow<'s, Value>>, String>;

/// The selection's saved state in the reader's own form; `None` when there is none (or the
/// stream is read in full). A form other than the reader's own is logged; an unknown one is
/// an [`Error::Input`].
pub fn own_form<'s>(
    sel: &'s Selection,
    form: &Form,
    out: &Output,
) -> Result<Option<Cow<'s, Value>>, Error> {
    let Some(state) = sel.resume_state() else {
        return Ok(None);
    };
    let mut notes = Vec::new();
    let found =
        recognise(form, state, "", &mut notes).map_err(|found| unknown(sel.name, form, &found))?;
    for note in notes {
        let msg = format!("Stream {}: {note}", sel.name);
        tracing::info!("{msg}");
        out.emit(&AirbyteMessage::log(LogLevel::Info, msg))?;
    }
    Ok(found)
}

/// The error for a state in no known form.
fn unknown(stream: &str, form: &Form, found: &str) -> Error {
    let cdk = if form.date_range {
        ", the Airbyte CDK's concurrent {\"state_type\": \"date-range\", \"slices\": [{\"start\": ..., \"end\": ...}]}"
    } else {
        ""
    };
    Error::Input(format!(
        "The saved state of stream {stream} is in a form this connector does not know ({found}), so it cannot tell where the last sync stopped; the stream stops rather than read everything again from start_date. Accepted forms: {}{cdk}; each may be wrapped as {{\"state\": {{...}}}} or in the CDK's per-partition {{\"states\": [{{\"partition\": {{...}}, \"cursor\": {{...}}}}]}}; {{}} and null mean no state. Reset the stream (its next sync reads everything from start_date) or fix the state.",
        form.accepted
    ))
}

/// Recognises `v`, found at `at` (a path such as `states[0].cursor`; empty at the top).
fn recognise<'s>(form: &Form, v: &'s Value, at: &str, notes: &mut Vec<String>) -> Found<'s> {
    let obj = match v {
        Value::Null => return Ok(None),
        Value::Object(obj) => obj,
        other => return Err(format!("{} a JSON {}", found_is(at), kind(other))),
    };
    if obj.contains_key(form.key) {
        return Ok(Some(Cow::Borrowed(v)));
    }
    if obj.is_empty() {
        return Ok(None);
    }
    if let Some(marker) = MARKERS.iter().find(|m| obj.contains_key(**m)) {
        notes.push(format!(
            "the saved state{} holds no cursor, only the full-refresh marker `{marker}`: reading from start_date.",
            within(at)
        ));
        return Ok(None);
    }
    if form.date_range && obj.get("state_type").and_then(Value::as_str) == Some("date-range") {
        return date_range(form, obj, at, notes);
    }
    if obj.contains_key("states") {
        return partitions(form, obj, at, notes);
    }
    if let Some(inner) = obj.get("state") {
        let found = recognise(form, inner, &child(at, "state"), notes)?;
        notes.push(format!(
            "the saved state{} is wrapped as {{\"state\": {{...}}}}; {}",
            within(at),
            resuming(form, found.as_deref())
        ));
        return Ok(found);
    }
    Err(format!("{} the field(s) {}", found_at(at), names(obj)))
}

/// The CDK's concurrent form: the end of its first run of contiguous slices.
fn date_range<'s>(
    form: &Form,
    obj: &'s Map<String, Value>,
    at: &str,
    notes: &mut Vec<String>,
) -> Found<'s> {
    let slices = obj
        .get("slices")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if slices.is_empty() {
        let legacy = obj.get("legacy").unwrap_or(&Value::Null);
        let found = recognise(form, legacy, &child(at, "legacy"), notes)?;
        notes.push(format!(
            "the saved state{} is the Airbyte CDK's date-range form without slices; from its `legacy` state, {}",
            within(at),
            resuming(form, found.as_deref())
        ));
        return Ok(found);
    }
    let mut bounds = Vec::with_capacity(slices.len());
    for (i, slice) in slices.iter().enumerate() {
        bounds.push(slice_bounds(slice).ok_or_else(|| {
            format!(
                "{} no readable `start` and `end` (ISO date-times or epoch numbers)",
                found_at(&child(at, &format!("slices[{i}]")))
            )
        })?);
    }
    let resume = first_run_end(&mut bounds);
    let mut own = Map::new();
    own.insert(form.key.to_owned(), Value::String(micros_to_iso(resume)));
    notes.push(format!(
        "the saved state{} is the Airbyte CDK's date-range form ({} slice(s)); resuming from {}, up to which its slices are contiguous from the first one (nothing before it was left unread).",
        within(at),
        slices.len(),
        micros_to_iso(resume)
    ));
    Ok(Some(Cow::Owned(Value::Object(own))))
}

/// A slice's start, end and most recent cursor value, in epoch microseconds.
fn slice_bounds(slice: &Value) -> Option<(i64, i64, Option<i64>)> {
    let start = value_to_micros(slice.get("start")?)?;
    let end = value_to_micros(slice.get("end")?)?;
    let recent = match slice.get("most_recent_cursor_value") {
        None | Some(Value::Null) => None,
        Some(v) => Some(value_to_micros(v)?),
    };
    (start <= end).then_some((start, end, recent))
}

/// Sorts the slices by start and merges them while they touch or overlap, from the first one:
/// the end of that run, or its most recent cursor value when lower. Slices touch when the next
/// starts at most one unit after the end: a second when both bounds are whole seconds (epoch
/// seconds, ISO without fraction), else a microsecond.
fn first_run_end(slices: &mut [(i64, i64, Option<i64>)]) -> i64 {
    slices.sort_unstable();
    let (_, mut end, mut recent) = slices[0];
    for &(start, e, r) in &slices[1..] {
        let unit = if start % 1_000_000 == 0 && end % 1_000_000 == 0 {
            1_000_000
        } else {
            1
        };
        if start > end.saturating_add(unit) {
            break;
        }
        end = end.max(e);
        recent = recent.max(r);
    }
    recent.map_or(end, |r| r.min(end))
}

/// The CDK's per-partition form: its lowest cursor.
fn partitions<'s>(
    form: &Form,
    obj: &'s Map<String, Value>,
    at: &str,
    notes: &mut Vec<String>,
) -> Found<'s> {
    let Some(states) = obj.get("states").and_then(Value::as_array) else {
        return Err(format!("{} a `states` that is not a list", found_at(at)));
    };
    let mut cursors = Vec::with_capacity(states.len() + 1);
    if let Some(global) = obj.get("state") {
        cursors.push(recognise(form, global, &child(at, "state"), notes)?);
    }
    for (i, partition) in states.iter().enumerate() {
        let here = child(at, &format!("states[{i}]"));
        let Some(cursor) = partition.get("cursor") else {
            return Err(format!("{} no `cursor`", found_at(&here)));
        };
        cursors.push(recognise(form, cursor, &child(&here, "cursor"), notes)?);
    }
    let n = cursors.len();
    let found = lowest(form, cursors)?;
    notes.push(format!(
        "the saved state{} is the CDK's per-partition form ({n} cursor(s)); from the lowest of them, so no partition loses records, {}",
        within(at),
        resuming(form, found.as_deref())
    ));
    Ok(found)
}

/// The lowest of the cursors; `None` (start_date) when one of them holds no position.
fn lowest<'s>(form: &Form, cursors: Vec<Option<Cow<'s, Value>>>) -> Found<'s> {
    let mut best: Option<(i64, Cow<'s, Value>)> = None;
    for cursor in cursors {
        let Some(cursor) = cursor else {
            return Ok(None);
        };
        let Some(v) = cursor.get(form.key).filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let order = (form.order)(v).ok_or_else(|| {
            format!(
                "a partition's `{}` {v}, which is not a readable cursor",
                form.key
            )
        })?;
        if best.as_ref().is_none_or(|(o, _)| order < *o) {
            best = Some((order, cursor));
        }
    }
    Ok(best.map(|(_, c)| c))
}

/// Where a reader resumes from a recognised state, for the log.
fn resuming(form: &Form, found: Option<&Value>) -> String {
    match found.and_then(|s| s.get(form.key)).filter(|v| !v.is_null()) {
        Some(v) => format!("resuming from `{}` {v}.", form.key),
        None => "it holds no cursor: reading from start_date.".to_owned(),
    }
}

fn child(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

fn within(at: &str) -> String {
    if at.is_empty() {
        String::new()
    } else {
        format!("'s `{at}`")
    }
}

fn found_at(at: &str) -> String {
    if at.is_empty() {
        "found".to_owned()
    } else {
        format!("found `{at}` with")
    }
}

fn found_is(at: &str) -> String {
    if at.is_empty() {
        "found".to_owned()
    } else {
        format!("found `{at}` to be")
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) | Value::Null => "object",
    }
}

/// An object's field names, at most 8.
fn names(obj: &Map<String, Value>) -> String {
    let mut listed: Vec<String> = obj.keys().take(8).map(|k| format!("`{k}`")).collect();
    if obj.len() > 8 {
        listed.push(format!("and {} more", obj.len() - 8));
    }
    listed.join(", ")
}

#[cfg(test)]
mod tests;
