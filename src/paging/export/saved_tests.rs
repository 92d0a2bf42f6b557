//! The plain exports resume from every saved form at their exact position.

use serde_json::{json, Value};

use super::flat::Flat;
use super::*;
use crate::paging::cursor::secs_to_iso;
use crate::paging::scripted::{page, param, Harness, Scripted};
use crate::streams::conversions::EXPORT as CONVERSIONS;
use crate::streams::department_events::EXPORT as DEPARTMENT_EVENTS;

/// Ten items `e0`..`e9`, one per 100 s from T0.
const T0: i64 = 1_700_000_000;

fn export(items: &'static str) -> Scripted {
    Scripted::new(move |_, q| {
        let start: i64 = param(q, "start_time")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let start_id = param(q, "start_id").unwrap_or("");
        let rows: Vec<Value> = (0..10)
            .map(|i| (T0 + 100 * i, format!("e{i}")))
            .filter(|(s, id)| *s > start || (*s == start && id.as_str() > start_id))
            .map(|(s, id)| json!({"id": id, "timestamp": secs_to_iso(s)}))
            .collect();
        page(json!({ items: rows, "count": rows.len() }))
    })
}

/// The first request's query, the ids emitted, and the harness.
async fn sync(
    stream: &'static str,
    export_of: &'static Flat,
    state: Value,
) -> Result<(String, Vec<String>, Harness), Error> {
    let h = Harness::new(export(export_of.items), 0, 1);
    read(
        &h.ctx,
        export_of,
        vec![Harness::selection(stream, Some(state))],
    )
    .await?;
    let first = h.ctx.fetch.log.lock().unwrap()[0].clone();
    let ids = h
        .records(stream)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    Ok((first, ids, h))
}

fn from(i: usize) -> Vec<String> {
    (i..10).map(|i| format!("e{i}")).collect()
}

#[tokio::test]
async fn every_saved_form_resumes_at_its_exact_position() {
    let s = |i: i64| T0 + 100 * i;
    let cases = [
        (
            json!({"timestamp": secs_to_iso(s(1)), "start_id": "e1"}),
            "start_time=1700000100&start_id=e1",
            2,
        ),
        (
            json!({"state": {"timestamp": secs_to_iso(s(3))}}),
            "start_time=1700000300",
            3,
        ),
        (
            json!({"states": [
                {"partition": {"d": 1}, "cursor": {"timestamp": secs_to_iso(s(8))}},
                {"partition": {"d": 2}, "cursor": {"timestamp": secs_to_iso(s(4))}}
            ]}),
            "start_time=1700000400",
            4,
        ),
        (
            json!({"state_type": "date-range", "slices": [
                {"start": s(6), "end": s(9)},
                {"start": 0, "end": s(2)},
                {"start": s(2) + 1, "end": s(5)}
            ]}),
            "start_time=1700000500",
            5,
        ),
    ];
    for (state, query, first) in cases {
        let (request, ids, _) = sync("conversions", &CONVERSIONS, state.clone())
            .await
            .unwrap();
        assert_eq!(
            request,
            format!("incremental/conversions?limit=1000&{query}"),
            "{state}"
        );
        assert_eq!(ids, from(first), "{state}");
    }
    let range = json!({"state_type": "date-range", "slices": [{"start": "2023-11-14T22:13:20Z", "end": "2023-11-14T22:20:00Z", "most_recent_cursor_value": "2023-11-14T22:18:20Z"}]});
    let (request, ids, h) = sync("department_events", &DEPARTMENT_EVENTS, range)
        .await
        .unwrap();
    assert_eq!(
        request,
        "incremental/department_events?limit=1000&start_time=1700000300"
    );
    assert_eq!(ids, from(3));
    let infos = h.logs("INFO");
    assert_eq!(infos.len(), 1, "{infos:?}");
}

#[tokio::test]
async fn an_unknown_form_is_an_input_error_before_any_request() {
    for (stream, export_of) in [
        ("conversions", &CONVERSIONS),
        ("department_events", &DEPARTMENT_EVENTS),
    ] {
        let err = sync(stream, export_of, json!({"updated_at": 1_700_000_000}))
            .await
            .err()
            .expect("an unknown form must not resume");
        assert!(matches!(err, Error::Input(_)), "{err}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("stream {stream} is in a form this connector does not know (found the field(s) `updated_at`)")),
            "{text}"
        );
        assert!(text.contains((&CONVERSIONS).accepted()), "{text}");
    }
}
