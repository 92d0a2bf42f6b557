//! agent_timeline resumes from every saved form at its exact position.

use serde_json::json;

use super::*;
use crate::paging::cursor::micros_to_iso;
use crate::paging::live_edge::Edge;
use crate::paging::scripted::{page, param, Harness, Scripted};

/// Ten items, agent `i` at T0 + 100·i seconds.
const T0: i64 = 1_700_000_000;
const S: i64 = 1_000_000;

fn export() -> Scripted {
    Scripted::new(|_, q| {
        let start: i64 = param(q, "start_time")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let rows: Vec<Value> = (0..10)
            .map(|i| (i, (T0 + 100 * i) * S))
            .filter(|(_, us)| *us >= start)
            .map(|(a, us)| json!({"agent_id": a, "start_time": micros_to_iso(us), "status": "online"}))
            .collect();
        page(json!({"agent_timeline": rows, "count": rows.len(), "end_time": start}))
    })
}

/// The first request's start_time, the agents emitted, and the harness.
async fn sync(state: Value) -> Result<(i64, Vec<i64>, Harness), Error> {
    let h = Harness::new(export(), 0, 1);
    let sel = Harness::selection("agent_timeline", Some(state));
    let read = export::read_at(&h.ctx, Timeline, vec![sel], Edge::at(T0 + 100_000)).await?;
    assert_eq!(read, Outcome::Done);
    let first = h.ctx.fetch.log.lock().unwrap()[0].clone();
    let start = first.rsplit("start_time=").next().unwrap().parse().unwrap();
    let agents = h
        .records("agent_timeline")
        .iter()
        .map(|r| r["agent_id"].as_i64().unwrap())
        .collect();
    Ok((start, agents, h))
}

#[tokio::test]
async fn every_saved_form_resumes_at_its_exact_microsecond() {
    let us = |i: i64| (T0 + 100 * i) * S;
    let cases = [
        (json!({"start_time": us(2).to_string()}), us(2), 2, 0),
        (json!({"state": {"start_time": micros_to_iso(us(3))}}), us(3), 3, 1),
        (
            json!({"states": [
                {"partition": {}, "cursor": {"start_time": micros_to_iso(us(6))}},
                {"partition": {}, "cursor": {"start_time": us(1).to_string()}}
            ]}),
            us(1),
            1,
            1,
        ),
        (
            json!({"state_type": "date-range", "slices": [
                {"start": us(5).to_string(), "end": us(8).to_string()},
                {"start": "1443657600000000", "end": (us(4) + 1).to_string()},
                {"start": (us(4) + 2).to_string(), "end": (us(4) + 50).to_string()}
            ]}),
            us(4) + 50,
            5,
            1,
        ),
        (
            json!({"state_type": "date-range", "slices": [{"start": micros_to_iso(0), "end": micros_to_iso(us(9)), "most_recent_cursor_value": micros_to_iso(us(7))}]}),
            us(7),
            7,
            1,
        ),
    ];
    for (state, start, first, logs) in cases {
        let (requested, agents, h) = sync(state.clone()).await.unwrap();
        assert_eq!(requested, start, "{state}");
        assert_eq!(agents, (first..10).collect::<Vec<_>>(), "{state}");
        assert_eq!(h.logs("INFO").len(), logs, "{state}: {:?}", h.logs("INFO"));
    }
}

#[tokio::test]
async fn an_unknown_form_is_an_input_error_before_any_request() {
    let h = Harness::new(export(), 0, 1);
    let sel = Harness::selection("agent_timeline", Some(json!({"startTime": "2024-01-01"})));
    let err = match export::read_at(&h.ctx, Timeline, vec![sel], Edge::at(T0)).await {
        Err(e) => e,
        Ok(_) => panic!("an unknown form must not resume"),
    };
    assert!(matches!(err, Error::Input(_)), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("stream agent_timeline is in a form this connector does not know (found the field(s) `startTime`)"),
        "{text}"
    );
    assert!(text.contains(Timeline.accepted()), "{text}");
    assert_eq!(h.ctx.fetch.requests(), 0);
}
