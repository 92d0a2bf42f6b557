//! The position rule on every export (chats, conversions, department_events, agent_timeline)
//! through the scripted `Fetch`: an item dated 2099 sits at the start, middle or end of a full
//! page, or alone on a page (its place in Zendesk's index is ordinary, only its time is wrong),
//! or a whole page is made of such items. A sync and a resume together lose nothing, emit nothing twice, and never
//! send or commit a cursor past the export ceiling.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::error::Error;
use crate::paging::cursor::{micros_to_iso, value_to_micros};
use crate::paging::driver::Outcome;
use crate::paging::export::read_at;
use crate::paging::live_edge::{Edge, EXPORT_MIN_AGE_SECS};
use crate::paging::scripted::{page, param, Harness, Scripted};
use crate::streams::agent_timeline::Timeline;
use crate::streams::chats::{Chats, Part};
use crate::streams::conversions::EXPORT as CONVERSIONS;
use crate::streams::department_events::EXPORT as DEPARTMENT_EVENTS;

const NOW: i64 = 10_000_000;
const CEILING: i64 = NOW - EXPORT_MIN_AGE_SECS;
const Y2099: i64 = 4_070_908_800;
/// Items per page of the scripted export (a full page says `count` 1000).
const SIZE: usize = 10;

/// The four exports, by stream name.
const EXPORTS: [&str; 4] = [
    "chats",
    "conversions",
    "department_events",
    "agent_timeline",
];

/// An item in Zendesk's index order: its place (`index` seconds, `id`) and the time it shows.
#[derive(Clone)]
struct Row {
    index: i64,
    id: String,
    shown: i64,
}

/// 26 items one per 10 s in index order; those at `corrupt` places show 2099.
fn rows(corrupt: &[usize]) -> Vec<Row> {
    rows_of(26, corrupt)
}

/// `n` items one per 10 s in index order; those at `corrupt` places show 2099.
fn rows_of(n: usize, corrupt: &[usize]) -> Vec<Row> {
    (0..n)
        .map(|i| Row {
            index: 1_000 + 10 * i as i64,
            id: format!("{}", 100 + i),
            shown: if corrupt.contains(&i) {
                Y2099
            } else {
                1_000 + 10 * i as i64
            },
        })
        .collect()
}

/// The item of `row` as `stream`'s export sends it.
fn item(stream: &str, row: &Row) -> Value {
    match stream {
        "chats" => json!({"id": row.id, "update_timestamp": micros_to_iso(row.shown * 1_000_000)}),
        "agent_timeline" => json!({
            "agent_id": row.id.parse::<i64>().unwrap_or(0),
            "start_time": micros_to_iso(row.shown * 1_000_000),
            "status": "online"
        }),
        _ => json!({"id": row.id, "timestamp": micros_to_iso(row.shown * 1_000_000)}),
    }
}

/// The export of `rows` by their index: `start_time` (and `start_id`) against the index place.
fn server(stream: &'static str, rows: Vec<Row>) -> Scripted {
    Scripted::new(move |_, q| {
        let start: i64 = param(q, "start_time")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let start_id = param(q, "start_id");
        let micros = stream == "agent_timeline";
        let after = |r: &&Row| match (micros, start_id) {
            (true, _) => r.index * 1_000_000 >= start,
            (false, Some(id)) => (r.index, r.id.as_str()) > (start, id),
            (false, None) => r.index >= start,
        };
        let items: Vec<Value> = rows
            .iter()
            .filter(after)
            .take(SIZE)
            .map(|r| item(stream, r))
            .collect();
        let count = if items.len() == SIZE {
            1000
        } else {
            items.len()
        };
        let key = if stream == "chats" { "chats" } else { stream };
        page(json!({ key: items, "count": count }))
    })
}

/// One sync of `stream` over `rows` from `state`: the harness and how it ended.
async fn sync(stream: &'static str, rows: &[Row], state: Option<Value>) -> (Harness, Outcome) {
    let h = Harness::new(server(stream, rows.to_vec()), 0, 1);
    let sel = vec![Harness::selection(stream, state)];
    let edge = Edge::at(NOW);
    let read: Result<Outcome, Error> = match stream {
        "chats" => read_at(&h.ctx, Chats::new(vec![Part::Chat], 1), sel, edge).await,
        "conversions" => read_at(&h.ctx, &CONVERSIONS, sel, edge).await,
        "department_events" => read_at(&h.ctx, &DEPARTMENT_EVENTS, sel, edge).await,
        _ => read_at(&h.ctx, Timeline, sel, edge).await,
    };
    (h, read.unwrap_or_else(|e| panic!("{stream}: {e}")))
}

/// The items a sync emitted, by id (the timeline's by agent), with no repeats.
fn emitted(stream: &str, h: &Harness) -> BTreeSet<String> {
    let field = if stream == "agent_timeline" {
        "agent_id"
    } else {
        "id"
    };
    let ids: Vec<String> = h
        .records(stream)
        .iter()
        .map(|r| r[field].to_string().trim_matches('"').to_owned())
        .collect();
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(
        set.len(),
        ids.len(),
        "{stream}: emitted twice in one sync: {ids:?}"
    );
    set
}

/// Checks that no request and no state went past the ceiling; returns the last state's cursor
/// in µs.
fn cursor_within_ceiling(stream: &str, h: &Harness) -> i64 {
    let unit = if stream == "agent_timeline" {
        1_000_000
    } else {
        1
    };
    for line in h
        .ctx
        .fetch
        .log
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default()
    {
        let start = line
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("start_time="))
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        assert!(start <= CEILING * unit, "{stream}: asked {line}");
    }
    let field = match stream {
        "chats" => "update_timestamp",
        "agent_timeline" => "start_time",
        _ => "timestamp",
    };
    let states = h.states(stream);
    let last = states
        .last()
        .unwrap_or_else(|| panic!("{stream}: no state"));
    let us = value_to_micros(&last[field]).unwrap_or(i64::MAX);
    assert!(us <= CEILING * 1_000_000, "{stream}: state {last}");
    us
}

#[tokio::test]
async fn a_2099_item_anywhere_on_a_full_page_loses_nothing_across_a_sync_and_a_resume() {
    // Page 2 holds places 10..=19: its start, middle and end.
    for place in [10, 15, 19] {
        let rows = rows(&[place]);
        let all: BTreeSet<String> = rows.iter().map(|r| r.id.clone()).collect();
        for stream in EXPORTS {
            let (first, outcome) = sync(stream, &rows, None).await;
            assert_eq!(outcome, Outcome::Done);
            let got = emitted(stream, &first);
            assert_eq!(
                got, all,
                "{stream}, 2099 at place {place}: every item in one sync"
            );
            cursor_within_ceiling(stream, &first);
            let state = first.states(stream).last().cloned();
            let (second, _) = sync(stream, &rows, state).await;
            assert!(
                emitted(stream, &second).is_empty(),
                "{stream}, place {place}: the resume repeats nothing"
            );
            cursor_within_ceiling(stream, &second);
        }
    }
}

#[tokio::test]
async fn a_2099_item_alone_on_a_page_or_in_the_export_loses_nothing() {
    // Alone on the last page (after two full pages), and the whole export.
    for (n, place) in [(21, 20), (1, 0)] {
        let rows = rows_of(n, &[place]);
        let all: BTreeSet<String> = rows.iter().map(|r| r.id.clone()).collect();
        for stream in EXPORTS {
            let (first, outcome) = sync(stream, &rows, None).await;
            assert_eq!(outcome, Outcome::Done);
            assert_eq!(emitted(stream, &first), all, "{stream}, {n} items");
            cursor_within_ceiling(stream, &first);
            let state = first.states(stream).last().cloned();
            let (second, _) = sync(stream, &rows, state).await;
            assert!(emitted(stream, &second).is_empty(), "{stream}, {n} items");
            cursor_within_ceiling(stream, &second);
        }
    }
}

#[tokio::test]
async fn a_page_of_2099_items_ends_the_sync_with_a_warning_and_commits_nothing_behind_it() {
    let wall: Vec<usize> = (10..20).collect();
    let rows = rows(&wall);
    let before_wall = 1_000 + 10 * 9;
    for stream in EXPORTS {
        let (first, outcome) = sync(stream, &rows, None).await;
        assert_eq!(outcome, Outcome::Done);
        let warned = first.warnings();
        assert!(
            warned
                .iter()
                .any(|w| w.contains("110") && w.contains("2099-01-01") && w.contains(stream)),
            "{stream}: the warning names the first item: {warned:?}"
        );
        // The timeline's inclusive start reads the last item before the wall again on the
        // wall's page, which then ends one item earlier.
        let through = if stream == "agent_timeline" { 19 } else { 20 };
        let expected: BTreeSet<String> = rows[..through].iter().map(|r| r.id.clone()).collect();
        assert_eq!(
            emitted(stream, &first),
            expected,
            "{stream}: up to and through the wall"
        );
        let committed = cursor_within_ceiling(stream, &first);
        assert!(
            committed <= before_wall * 1_000_000,
            "{stream}: nothing behind the wall is committed ({committed})"
        );
        // The resume starts before the wall again: nothing repeated, nothing marked done.
        let state = first.states(stream).last().cloned();
        let (second, _) = sync(stream, &rows, state).await;
        assert!(emitted(stream, &second).is_empty(), "{stream}");
        assert!(cursor_within_ceiling(stream, &second) <= before_wall * 1_000_000);
    }
}
