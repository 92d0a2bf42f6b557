//! A member's saved state and the state it commits. The state is the member's [`Coverage`] (a
//! frontier plus the ranges parallel slices finished beyond it) and its live `window`: the
//! chats emitted at or after the export ceiling, as `[id, update_timestamp]` pairs.
//!
//! ```json
//! {"update_timestamp": "2026-12-01T21:55:00Z",
//!  "done_ranges": [{"after": "...", "after_id": "", "through": "...", "through_id": "..."}],
//!  "window": [["2612.0119.Q1n9", "2026-12-01T21:57:03.120000Z"]]}
//! ```
//!
//! Older forms resume too: ours without `window` (`{"update_timestamp", "start_id",
//! "done_ranges"}`) and the certified connector's `{"update_timestamp": "1697795052"}` or ISO
//! text, which resume inclusively.

use serde_json::Value;

use crate::error::Error;
use crate::paging::coverage::{Coverage, Position};
use crate::paging::cursor::{value_to_micros, value_to_secs};
use crate::paging::driver::Selection;
use crate::paging::live_edge::{self, Window};

/// What a member has already committed.
pub fn resume(sel: &Selection, start_secs: i64) -> Result<(Coverage, Window), Error> {
    let from_start = Position::start_of(start_secs);
    let Some(state) = sel.resume_state() else {
        return Ok((Coverage::up_to(from_start), Window::new()));
    };
    let Some(v) = state.get("update_timestamp").filter(|v| !v.is_null()) else {
        return Ok((Coverage::up_to(from_start), Window::new()));
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
    let mut coverage = Coverage::up_to(Position { secs, id }.max(from_start));
    for (a, b) in Coverage::ranges_from_state(state) {
        coverage.add(a, b);
    }
    let window = live_edge::pairs_from_state(state.get("window"), value_to_micros)
        .into_iter()
        .collect();
    Ok((coverage, window))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::live_edge::{prune, to_state};
    use serde_json::json;
    use crate::paging::scripted::Harness;

    #[test]
    fn states_round_trip_and_old_forms_resume() {
        let mut c = Coverage::up_to(Position::start_of(1_700_000_000));
        c.add(
            Position::start_of(1_700_000_100),
            Position::start_of(1_700_000_200),
        );
        let mut w = Window::new();
        w.insert("x".into(), 1_700_000_500_250_000);
        w.insert("y".into(), 1_699_999_990_000_000);
        prune(&mut w, &c);
        assert_eq!(w.len(), 1, "y lies in the committed frontier");
        let state = to_state(&c, &w);
        assert_eq!(
            state["window"],
            json!([["x", "2023-11-14T22:21:40.250000Z"]])
        );
        let sel = Harness::selection("chats", Some(state));
        assert_eq!(resume(&sel, 0).unwrap(), (c, w));
        for old in [
            json!({"update_timestamp": "1697795052"}),
            json!({"update_timestamp": "2023-10-20T09:44:12Z", "start_id": "c9"}),
        ] {
            let sel = Harness::selection("chats", Some(old));
            let (c, w) = resume(&sel, 0).unwrap();
            assert_eq!(c.frontier.secs, 1_697_795_052);
            assert!(w.is_empty());
        }
        let sel = Harness::selection("chats", Some(json!({"update_timestamp": []})));
        assert!(resume(&sel, 0).unwrap_err().to_string().contains("chats"));
    }
}
