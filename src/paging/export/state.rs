//! An export member's state: its [`Coverage`] (a frontier plus the ranges parallel slices
//! finished beyond it) and its live `window` (records emitted at or after the export ceiling,
//! and for a µs export the records at its frontier's µs, as `[key, time]` pairs).
//!
//! ```json
//! {"update_timestamp": "2026-12-01T21:55:00Z", "start_id": "2612.0119.Q1n9",
//!  "done_ranges": [{"after": "...", "after_id": "", "through": "...", "through_id": "..."}],
//!  "window": [["2612.0119.Q1n9", "2026-12-01T21:57:03.120000Z"]]}
//! ```
//!
//! The cursor field is the export's (`update_timestamp`, `start_time`, `timestamp`); times are
//! seconds (`...Z`) for (second, id) exports and µs (`....123456Z`) for the timeline. Older
//! forms resume too: ours without `window` or `done_ranges`, the timeline's
//! `agent_ids_at_start_time`, windows with epoch-second times, and the certified connector's
//! `{"update_timestamp": "1697795052"}`, ISO text, or `{"start_time": ...}`, which resume
//! inclusively.

use serde_json::{json, Value};

use super::Export;
use crate::error::Error;
use crate::paging::coverage::{Coverage, Position};
use crate::paging::cursor::{micros_to_iso, secs_to_iso, value_to_micros};
use crate::paging::driver::{unreadable_state, Selection};
use crate::paging::live_edge::{self, Window};
use crate::paging::saved::{own_form, Form};
use crate::protocol::Output;

/// What a member has already committed, in the export's cursor units; `start` is the config's
/// `start_date` in those units. A saved state in another tool's form is brought to ours first
/// ([`own_form`]).
pub fn resume<K: Export>(
    sel: &Selection,
    start: i64,
    kind: &K,
    out: &Output,
) -> Result<(Coverage, Window), Error> {
    let (field, unit) = (kind.cursor_field(), kind.unit());
    let from_start = Position::start_of(start);
    let form = Form {
        key: field,
        accepted: kind.accepted(),
        date_range: true,
        order: value_to_micros,
    };
    let Some(state) = own_form(sel, &form, out)? else {
        return Ok((Coverage::up_to(from_start), Window::new()));
    };
    let state = state.as_ref();
    let Some(v) = state.get(field).filter(|v| !v.is_null()) else {
        return Ok((Coverage::up_to(from_start), Window::new()));
    };
    let at = to_units(v, unit).ok_or_else(|| {
        unreadable_state(
            sel.name,
            field,
            "an ISO date-time such as 2024-06-15T12:00:00Z, or epoch seconds",
        )
    })?;
    let frontier = Position {
        secs: at,
        id: id_text(state.get("start_id")),
    };
    let mut coverage = Coverage::up_to(frontier.max(from_start));
    for (a, b) in ranges(state, unit) {
        coverage.add(a, b);
    }
    let mut window: Window = live_edge::pairs_from_state(state.get("window"), value_to_micros)
        .into_iter()
        .collect();
    let per_unit = 1_000_000 / unit.clamp(1, 1_000_000);
    if let Some(keys) = state
        .get("agent_ids_at_start_time")
        .and_then(Value::as_array)
    {
        let version = at.saturating_mul(per_unit);
        window.extend(keys.iter().map(|k| (id_text(Some(k)), version)));
    }
    Ok((coverage, window))
}

/// The state a member commits, after dropping from its window what the coverage commits.
pub fn to_state<K: Export>(coverage: &Coverage, window: &mut Window, kind: &K, unit: i64) -> Value {
    live_edge::prune(window, coverage, unit);
    let time = |units: i64| match unit {
        1 => secs_to_iso(units),
        _ => micros_to_iso(units.saturating_mul(1_000_000 / unit.clamp(1, 1_000_000))),
    };
    let frontier = &coverage.frontier;
    let mut state = json!({ kind.cursor_field(): time(frontier.secs) });
    if !frontier.id.is_empty() {
        state["start_id"] = json!(frontier.id);
    }
    if !coverage.ranges.is_empty() {
        let ranges = coverage.ranges.iter().map(|(a, b)| {
            json!({"after": time(a.secs), "after_id": a.id, "through": time(b.secs), "through_id": b.id})
        });
        state["done_ranges"] = Value::Array(ranges.collect());
    }
    if !window.is_empty() {
        let pairs = window
            .iter()
            .map(|(id, us)| json!([id, micros_to_iso(*us)]));
        state["window"] = Value::Array(pairs.collect());
    }
    state
}

/// A saved time in cursor units.
fn to_units(v: &Value, unit: i64) -> Option<i64> {
    let us = value_to_micros(v)?;
    Some(us.div_euclid(1_000_000 / unit.clamp(1, 1_000_000)))
}

/// An id saved as text or as a number.
fn id_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The `done_ranges` of a saved state (malformed entries are ignored: they only cost a re-read,
/// never data).
fn ranges(state: &Value, unit: i64) -> Vec<(Position, Position)> {
    let Some(items) = state.get("done_ranges").and_then(Value::as_array) else {
        return Vec::new();
    };
    let pos = |r: &Value, t: &str, i: &str| {
        Some(Position {
            secs: to_units(r.get(t)?, unit)?,
            id: id_text(r.get(i)),
        })
    };
    items
        .iter()
        .filter_map(|r| {
            Some((
                pos(r, "after", "after_id")?,
                pos(r, "through", "through_id")?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::scripted::Harness;
    use crate::streams::agent_timeline::Timeline;
    use crate::streams::chats::{Chats, Part};
    use crate::streams::conversions::EXPORT as CONVERSIONS;

    /// Resumes `stream` (read as `kind`) from `state`.
    fn resumed<K: Export>(stream: &'static str, state: Value, kind: &K) -> (Coverage, Window) {
        let h = Harness::new(
            crate::paging::scripted::Scripted::new(|_, _| unreachable!()),
            0,
            1,
        );
        resume(
            &Harness::selection(stream, Some(state)),
            0,
            kind,
            &h.ctx.output,
        )
        .unwrap()
    }

    fn chats() -> Chats {
        Chats::new(vec![Part::Chat], 1)
    }

    #[test]
    fn states_round_trip_and_old_forms_resume() {
        let mut c = Coverage::up_to(Position::start_of(1_700_000_000));
        c.add(
            Position::start_of(1_700_000_100),
            Position::start_of(1_700_000_200),
        );
        let mut w = Window::new();
        w.insert(("x".into(), 1_700_000_500_250_000));
        w.insert(("y".into(), 1_699_999_990_000_000));
        let state = to_state(&c, &mut w, &&CONVERSIONS, 1);
        assert_eq!(w.len(), 1, "y lies in the committed frontier");
        assert_eq!(
            state["window"],
            json!([["x", "2023-11-14T22:21:40.250000Z"]])
        );
        assert_eq!(resumed("conversions", state, &&CONVERSIONS), (c, w));
        for old in [
            json!({"update_timestamp": "1697795052"}),
            json!({"update_timestamp": "2023-10-20T09:44:12Z", "start_id": "c9"}),
        ] {
            let (c, w) = resumed("chats", old, &chats());
            assert_eq!(c.frontier.secs, 1_697_795_052);
            assert!(w.is_empty());
        }
        let sel = Harness::selection("chats", Some(json!({"update_timestamp": []})));
        let h = Harness::new(
            crate::paging::scripted::Scripted::new(|_, _| unreachable!()),
            0,
            1,
        );
        let err = resume(&sel, 0, &chats(), &h.ctx.output).unwrap_err();
        assert!(err.to_string().contains("chats"), "{err}");
    }

    #[test]
    fn the_timelines_old_state_resumes_with_its_boundary_agents_in_the_window() {
        let old = json!({
            "start_time": "2024-02-09T13:12:16.817973Z",
            "agent_ids_at_start_time": ["7", 9],
            "window": [["3", "2024-02-09T13:20:00.000001Z"]]
        });
        let (c, w) = resumed("agent_timeline", old, &Timeline);
        let us = 1_707_484_336_817_973;
        assert_eq!(c, Coverage::up_to(Position::start_of(us)));
        let expected: Window = [("7", us), ("9", us), ("3", 1_707_484_800_000_001)]
            .into_iter()
            .map(|(a, t)| (a.to_owned(), t))
            .collect();
        assert_eq!(w, expected);
        // An old export window with epoch seconds reads as the same instants.
        let (_, w) = resumed(
            "conversions",
            json!({"timestamp": "2024-01-01T00:00:00Z", "window": [["m", 1_704_067_260]]}),
            &&CONVERSIONS,
        );
        assert!(w.contains(&("m".to_owned(), 1_704_067_260_000_000)));
    }
}
