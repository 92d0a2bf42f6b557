//! The engine on a flat export against a scripted export: paging, the live edge, future
//! timestamps.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::*;
use crate::paging::cursor::{micros_to_iso, secs_to_iso, value_to_secs};
use crate::paging::live_edge;
use crate::paging::scripted::{page, param, Harness, Scripted};
use crate::streams::conversions::EXPORT as CONVERSIONS;

/// An export of `items` ((second, id) pairs, any order) served by the export's rules.
fn export_of(items: Vec<(i64, &'static str)>) -> Scripted {
    let mut items = items;
    items.sort();
    Scripted::new(move |_, q| {
        let start: i64 = param(q, "start_time")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let start_id = param(q, "start_id").unwrap_or("");
        let limit: usize = param(q, "limit")
            .and_then(|s| s.parse().ok())
            .unwrap_or(1000);
        let rows: Vec<Value> = items
            .iter()
            .filter(|(s, id)| {
                *s > start || (*s == start && (start_id.is_empty() || *id > start_id))
            })
            .take(limit)
            .map(|(s, id)| json!({"id": id, "timestamp": secs_to_iso(*s), "goal_id": 1}))
            .collect();
        page(json!({"conversions": rows, "count": rows.len()}))
    })
}

fn ids(h: &Harness) -> Vec<String> {
    h.records("conversions")
        .iter()
        .map(|r| r["id"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn sync(items: Vec<(i64, &'static str)>, state: Option<Value>) -> (Harness, Value) {
    let h = Harness::new(export_of(items), 0, 1);
    let sel = Harness::selection("conversions", state);
    read(&h.ctx, &CONVERSIONS, vec![sel]).await.unwrap();
    let last = h
        .states("conversions")
        .last()
        .cloned()
        .unwrap_or(Value::Null);
    (h, last)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn ties_cross_pages_and_the_state_ends_at_the_last_item() {
    let many: Vec<(i64, &'static str)> = (0..2500)
        .map(|i| (1_000, &*Box::leak(format!("c{i:05}").into_boxed_str())))
        .collect();
    let (h, state) = sync(many, None).await;
    assert_eq!(ids(&h).len(), 2500);
    let unique: BTreeSet<String> = ids(&h).into_iter().collect();
    assert_eq!(unique.len(), 2500);
    assert_eq!(h.ctx.fetch.requests(), 3);
    assert_eq!(state["timestamp"], secs_to_iso(1_000), "{state}");
    assert_eq!(state["start_id"], "c02499", "{state}");
    assert!(state.get("window").is_none(), "{state}");
}

#[tokio::test]
async fn the_window_is_read_again_and_late_items_come_back_exactly_once() {
    let t = now() - 60; // inside the window, beyond the ceiling
    let first = vec![(100, "a"), (t, "m"), (t, "z")];
    let (h1, state1) = sync(first, None).await;
    assert_eq!(ids(&h1), vec!["a", "m", "z"]);
    assert!(value_to_secs(&state1["timestamp"]).unwrap() <= now() - live_edge::EXPORT_MIN_AGE_SECS);
    let at_t = micros_to_iso(t * 1_000_000);
    assert_eq!(state1["window"], json!([["m", at_t], ["z", at_t]]));
    // Indexed late: "b" in the already-read second, with a lower id; "z" updated later.
    let second = vec![(100, "a"), (t, "b"), (t, "m"), (t + 30, "z")];
    let (h2, state2) = sync(second.clone(), Some(state1)).await;
    assert_eq!(ids(&h2), vec!["b", "z"]);
    let (h3, _) = sync(second, Some(state2)).await;
    assert!(ids(&h3).is_empty(), "{:?}", ids(&h3));
}

#[tokio::test]
async fn a_future_timestamp_never_moves_the_state_and_is_warned_about() {
    let future = 4_070_908_800; // 2099-01-01
    let (h1, state1) = sync(vec![(100, "a"), (future, "f")], None).await;
    assert_eq!(ids(&h1), vec!["a", "f"]);
    assert!(value_to_secs(&state1["timestamp"]).unwrap() <= now() - live_edge::EXPORT_MIN_AGE_SECS);
    assert!(
        h1.warnings()
            .iter()
            .any(|w| w.contains("2099-01-01T00:00:00Z") && w.contains("in the future")),
        "{:?}",
        h1.warnings()
    );
    // Later items still arrive; the future one is not emitted twice.
    let later = now() - 60;
    let (h2, state2) = sync(vec![(100, "a"), (later, "n"), (future, "f")], Some(state1)).await;
    assert_eq!(ids(&h2), vec!["n"]);
    assert!(value_to_secs(&state2["timestamp"]).unwrap() <= now() - live_edge::EXPORT_MIN_AGE_SECS);
}

#[tokio::test]
async fn items_without_id_or_time_are_counted_wherever_they_sit() {
    let h = Harness::new(
        Scripted::new(|_, _| {
            page(json!({"conversions": [
                {"timestamp": "2024-01-01T00:00:00Z"},
                {"id": "x", "timestamp": "2024-01-01T00:00:01Z"},
                {"id": "y"}
            ]}))
        }),
        0,
        1,
    );
    read(
        &h.ctx,
        &CONVERSIONS,
        vec![Harness::selection("conversions", None)],
    )
    .await
    .unwrap();
    assert_eq!(ids(&h), vec!["x"]);
    assert!(
        h.warnings()
            .iter()
            .any(|w| w.contains("2 items without an id or timestamp")),
        "{:?}",
        h.warnings()
    );
}

#[tokio::test]
async fn an_unreadable_state_is_an_input_error_before_any_request() {
    let h = Harness::new(export_of(vec![]), 0, 1);
    let sel = Harness::selection("conversions", Some(json!({"timestamp": "yesterday"})));
    let err = read(&h.ctx, &CONVERSIONS, vec![sel]).await.unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err}");
    assert_eq!(h.ctx.fetch.requests(), 0);
}
