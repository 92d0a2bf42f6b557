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
//! text, which resume inclusively; so do the wrapped, per-partition and CDK date-range forms
//! (see [`saved`]). Any other form is an error, never a silent restart.

use serde_json::Value;

use crate::error::Error;
use crate::paging::coverage::{Coverage, Position};
use crate::paging::cursor::{value_to_micros, value_to_secs};
use crate::paging::driver::Selection;
use crate::paging::live_edge::{self, Window};
use crate::paging::saved::{self, Form};
use crate::protocol::Output;

/// The family's own state form.
const FORM: Form = Form {
    key: "update_timestamp",
    accepted: "ours, {\"update_timestamp\": \"2024-06-15T12:00:00Z\", \"start_id\": \"2406.123.abc\", \"done_ranges\": [...], \"window\": [...]}, and the certified connector's {\"update_timestamp\": \"1697795052\"}",
    date_range: true,
    order: value_to_micros,
};

/// What a member has already committed.
pub fn resume(sel: &Selection, start_secs: i64, out: &Output) -> Result<(Coverage, Window), Error> {
    let from_start = Position::start_of(start_secs);
    let Some(state) = saved::own_form(sel, &FORM, out)? else {
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
    for (a, b) in Coverage::ranges_from_state(&state) {
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
    use crate::paging::driver::Outcome;
    use crate::paging::live_edge::{prune, to_state, Edge};
    use crate::paging::scripted::{page, param, Harness, Scripted};
    use crate::streams::chats::{read_at, Member, Part};
    use serde_json::json;

    fn output() -> std::sync::Arc<Output> {
        Harness::new(Scripted::new(|_, _| page(json!({}))), 0, 1).ctx.output
    }

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
        assert_eq!(resume(&sel, 0, &output()).unwrap(), (c, w));
        for old in [
            json!({"update_timestamp": "1697795052"}),
            json!({"update_timestamp": "2023-10-20T09:44:12Z", "start_id": "c9"}),
        ] {
            let sel = Harness::selection("chats", Some(old));
            let (c, w) = resume(&sel, 0, &output()).unwrap();
            assert_eq!(c.frontier.secs, 1_697_795_052);
            assert!(w.is_empty());
        }
        let sel = Harness::selection("chats", Some(json!({"update_timestamp": []})));
        let err = resume(&sel, 0, &output()).unwrap_err();
        assert!(err.to_string().contains("chats"));
    }

    /// Chats one per 100 s from 1_700_000_000, ids `c00`..; a single page.
    const T0: i64 = 1_700_000_000;

    fn export() -> Scripted {
        Scripted::new(|_, q| {
            let start: i64 = param(q, "start_time").and_then(|s| s.parse().ok()).unwrap_or(0);
            let start_id = param(q, "start_id");
            let chats: Vec<serde_json::Value> = (0..10)
                .map(|i| (T0 + 100 * i, format!("c{i:02}")))
                .filter(|(s, id)| match start_id {
                    Some(sid) => (*s, id.as_str()) > (start, sid),
                    None => *s >= start,
                })
                .map(|(s, id)| json!({"id": id, "update_timestamp": crate::paging::cursor::secs_to_iso(s)}))
                .collect();
            page(json!({"chats": chats, "count": chats.len(), "end_time": start}))
        })
    }

    /// Syncs `chats` from `state`: the first request's start_time and the ids emitted.
    async fn sync(state: serde_json::Value) -> Result<(String, Vec<String>, Harness), Error> {
        let h = Harness::new(export(), 0, 1);
        let members = vec![Member {
            sel: Harness::selection("chats", Some(state)),
            part: Part::Chat,
        }];
        let outcome = read_at(&h.ctx, &members, Edge::at(T0 + 100_000)).await?;
        assert_eq!(outcome, Outcome::Done);
        let first = h.ctx.fetch.log.lock().unwrap()[0].clone();
        let ids = h
            .records("chats")
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        Ok((first, ids, h))
    }

    fn from(i: usize) -> Vec<String> {
        (i..10).map(|i| format!("c{i:02}")).collect()
    }

    #[tokio::test]
    async fn every_saved_form_resumes_the_family_at_its_exact_position() {
        let at = |s: i64| format!("incremental/chats?fields=chats(*)&limit=1000&start_time={s}");
        let cases = [
            (json!({"state": {"update_timestamp": (T0 + 300).to_string()}}), T0 + 300, 3),
            (json!({"states": [
                {"partition": {"a": 1}, "cursor": {"update_timestamp": (T0 + 500).to_string()}},
                {"partition": {"a": 2}, "cursor": {"update_timestamp": (T0 + 200).to_string()}}
            ]}), T0 + 200, 2),
            (json!({"state_type": "date-range", "slices": [
                {"start": "0", "end": (T0 + 250).to_string()},
                {"start": (T0 + 251).to_string(), "end": (T0 + 400).to_string()},
                {"start": (T0 + 700).to_string(), "end": (T0 + 900).to_string()}
            ], "legacy": {}}), T0 + 400, 4),
            (json!({"state_type": "date-range", "slices": [
                {"start": "2023-11-14T22:13:20Z", "end": "2023-11-14T22:25:00Z", "most_recent_cursor_value": "2023-11-14T22:21:40Z"}
            ]}), T0 + 500, 5),
        ];
        for (state, secs, first) in cases {
            let (request, ids, h) = sync(state.clone()).await.unwrap();
            assert!(request.starts_with(&at(secs)), "{state}: {request}");
            assert_eq!(ids, from(first), "{state}");
            let logs: Vec<serde_json::Value> = h
                .messages()
                .into_iter()
                .filter(|m| m["type"] == "LOG" && m["log"]["level"] == "INFO")
                .collect();
            assert_eq!(logs.len(), 1, "{state}: {logs:?}");
        }
    }

    #[tokio::test]
    async fn an_unknown_form_fails_the_family_before_any_request() {
        let h = Harness::new(export(), 0, 1);
        let members = vec![Member {
            sel: Harness::selection("chat_history", Some(json!({"cursor": {"update_timestamp": "1697795052"}}))),
            part: Part::History,
        }];
        let err = read_at(&h.ctx, &members, Edge::at(T0 + 100_000)).await.unwrap_err();
        assert!(matches!(err, Error::Input(_)), "{err}");
        let text = err.to_string();
        assert!(text.contains("stream chat_history is in a form this connector does not know (found the field(s) `cursor`)"), "{text}");
        assert!(text.contains(FORM.accepted), "{text}");
        assert_eq!(h.ctx.fetch.requests(), 0);
    }
}
