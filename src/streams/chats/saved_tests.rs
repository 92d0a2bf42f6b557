//! The chats family resumes from every saved form at its exact position, and an unknown form
//! fails it before any request.

use serde_json::json;

use super::*;
use crate::paging::live_edge::Edge;
use crate::paging::scripted::{page, param, Harness, Scripted};

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
    let sel = Harness::selection("chats", Some(state));
    let chats = Chats::new(vec![Part::Chat], 1);
    let outcome = export::read_at(&h.ctx, chats, vec![sel], Edge::at(T0 + 100_000)).await?;
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
        let logs = h.logs("INFO");
        assert_eq!(logs.len(), 1, "{state}: {logs:?}");
    }
}

#[tokio::test]
async fn an_unknown_form_fails_the_family_before_any_request() {
    let h = Harness::new(export(), 0, 1);
    let state = json!({"cursor": {"update_timestamp": "1697795052"}});
    let sel = Harness::selection("chat_history", Some(state));
    let chats = Chats::new(vec![Part::History], 1);
    let err = export::read_at(&h.ctx, chats, vec![sel], Edge::at(T0 + 100_000)).await.unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err}");
    let text = err.to_string();
    assert!(text.contains("stream chat_history is in a form this connector does not know (found the field(s) `cursor`)"), "{text}");
    assert!(text.contains(Chats::new(vec![], 1).accepted()), "{text}");
    assert_eq!(h.ctx.fetch.requests(), 0);
}
