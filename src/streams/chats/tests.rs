//! Scripted-export unit tests of the chat reader's paging edge cases and live edge.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::*;
use crate::paging::cursor::{micros_to_iso, value_to_secs};
use crate::paging::live_edge::EXPORT_MIN_AGE_SECS;
use crate::paging::export::SLOW_PAGE;
use crate::paging::live_edge::Edge;
use crate::paging::scripted::{page, param, Harness, Scripted};

/// Reads the family's `members` with the live edge at `edge`.
async fn read_at(
    ctx: &Ctx<Scripted>,
    members: Vec<(Selection, Part)>,
    edge: Edge,
) -> Result<Outcome, Error> {
    let (sels, parts): (Vec<_>, Vec<_>) = members.into_iter().unzip();
    export::read_at(ctx, Chats::new(parts, 1), sels, edge).await
}

const NOW: i64 = 1_000_000;
const CEILING: i64 = NOW - EXPORT_MIN_AGE_SECS;

#[derive(Clone, Default)]
struct Faults {
    ignore_start_id: bool,
    reverse: bool,
    overlap: bool,
}

/// Chats as (second, id, µs fraction); sorted on every answer.
type Rows = Arc<Mutex<Vec<(i64, String, i64)>>>;

fn rows(list: &[(i64, &str)]) -> Rows {
    Arc::new(Mutex::new(
        list.iter()
            .map(|(s, id)| (*s, (*id).to_owned(), 0))
            .collect(),
    ))
}

fn chat_json(secs: i64, id: &str, frac: i64) -> Value {
    let ts = micros_to_iso(secs * 1_000_000 + frac);
    json!({"id": id, "update_timestamp": ts, "history": [{"msg": id}]})
}

/// The export over `rows`, `size` chats per page (a full page says count 1000).
fn export(rows: Rows, size: usize, faults: Faults) -> Scripted {
    Scripted::new(answer(rows, size, faults))
}

/// [`export`]'s answers.
fn answer(
    rows: Rows,
    size: usize,
    faults: Faults,
) -> impl Fn(&str, &[(&str, String)]) -> crate::paging::Reply + Send + Sync + 'static {
    move |_, q| {
        let start: i64 = param(q, "start_time")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let start_id = param(q, "start_id").filter(|_| !faults.ignore_start_id);
        let mut all = rows.lock().map(|r| r.clone()).unwrap_or_default();
        all.sort();
        let after = |r: &(i64, String, i64)| match start_id {
            Some(sid) => (r.0, r.1.as_str()) > (start, sid),
            None => r.0 >= start,
        };
        let mut from = all.iter().position(after).unwrap_or(all.len());
        if faults.overlap && from > 0 && start_id.is_some() {
            from -= 1;
        }
        let mut chats: Vec<Value> = all[from..]
            .iter()
            .take(size)
            .map(|(s, id, f)| chat_json(*s, id, *f))
            .collect();
        if faults.reverse {
            chats.reverse();
        }
        let count = if chats.len() == size {
            1000
        } else {
            chats.len()
        };
        page(json!({"chats": chats, "count": count, "end_time": start}))
    }
}

struct Synced {
    h: Harness,
    result: Result<Outcome, Error>,
}

impl Synced {
    fn ids(&self) -> Vec<String> {
        self.h
            .records("chats")
            .iter()
            .filter_map(|r| r["id"].as_str().map(str::to_owned))
            .collect()
    }
    fn state(&self) -> Value {
        self.h
            .states("chats")
            .last()
            .cloned()
            .unwrap_or(Value::Null)
    }
}

async fn sync_with(fetch: Scripted, state: Option<Value>, now: i64, parts: &[Part]) -> Synced {
    let h = Harness::new(fetch, 0, 1);
    let members: Vec<(Selection, Part)> = parts
        .iter()
        .map(|p| {
            let name = if *p == Part::Chat {
                "chats"
            } else {
                "chat_history"
            };
            (Harness::selection(name, state.clone()), *p)
        })
        .collect();
    let result = read_at(&h.ctx, members, Edge::at(now)).await;
    Synced { h, result }
}

async fn sync(rows: &Rows, size: usize, state: Option<Value>, now: i64) -> Synced {
    sync_with(
        export(rows.clone(), size, Faults::default()),
        state,
        now,
        &[Part::Chat],
    )
    .await
}

fn no_duplicates(ids: &[String]) {
    let set: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(set.len(), ids.len(), "duplicates in {ids:?}");
}

fn frontier_secs(state: &Value) -> i64 {
    value_to_secs(&state["update_timestamp"]).unwrap_or(i64::MAX)
}

#[tokio::test]
async fn ties_across_pages_and_empty_exports() {
    let list: Vec<(i64, String)> = (0..10).map(|i| (500, format!("c{i:02}"))).collect();
    let r = rows(
        &list
            .iter()
            .map(|(s, i)| (*s, i.as_str()))
            .collect::<Vec<_>>(),
    );
    let s = sync(&r, 3, None, NOW).await;
    assert!(s.result.is_ok(), "{:?}", s.result);
    assert_eq!(s.ids().len(), 10);
    no_duplicates(&s.ids());
    // 4 pages of 3 and the short one.
    assert_eq!(s.h.ctx.fetch.requests(), 4);
    let empty = sync(&rows(&[]), 3, None, NOW).await;
    assert!(empty.result.is_ok());
    assert!(empty.ids().is_empty());
    assert_eq!(
        frontier_secs(&empty.state()),
        0,
        "nothing committed without chats"
    );
}

#[tokio::test]
async fn a_page_that_never_advances_is_an_error_after_two_requests() {
    let r = rows(&[(5, "a"), (5, "b"), (5, "c"), (6, "d")]);
    let faults = Faults {
        ignore_start_id: true,
        ..Faults::default()
    };
    let s = sync_with(export(r, 3, faults), None, NOW, &[Part::Chat]).await;
    let err = s.result.as_ref().map(|_| ()).unwrap_err().to_string();
    assert!(err.contains(PATH) && err.contains("secs: 5"), "{err}");
    assert_eq!(s.ids(), vec!["a", "b", "c"]);
    assert_eq!(s.h.ctx.fetch.requests(), 2);
}

#[tokio::test]
async fn reordered_and_overlapping_pages_emit_each_chat_once() {
    let list: Vec<(i64, &str)> = vec![
        (1, "a"),
        (2, "b"),
        (2, "c"),
        (3, "d"),
        (4, "e"),
        (4, "f"),
        (9, "g"),
    ];
    for faults in [
        Faults {
            reverse: true,
            ..Faults::default()
        },
        Faults {
            overlap: true,
            ..Faults::default()
        },
        Faults {
            overlap: true,
            reverse: true,
            ..Faults::default()
        },
    ] {
        let s = sync_with(export(rows(&list), 2, faults), None, NOW, &[Part::Chat]).await;
        assert!(s.result.is_ok(), "{:?}", s.result);
        let mut ids = s.ids();
        no_duplicates(&ids);
        ids.sort();
        assert_eq!(ids, vec!["a", "b", "c", "d", "e", "f", "g"]);
    }
}

#[tokio::test]
async fn a_chat_without_id_at_the_end_of_a_page_is_skipped_with_one_warning() {
    let fetch = Scripted::new(|_, q| {
        let start = param(q, "start_time").unwrap_or("0").to_owned();
        let (chats, count) = match (start.as_str(), param(q, "start_id")) {
            (_, None) => (
                vec![
                    chat_json(1, "a", 0),
                    json!({"update_timestamp": micros_to_iso(2_000_000)}),
                ],
                1000,
            ),
            ("1", Some("a")) => (vec![chat_json(3, "b", 0), json!({"note": "no id"})], 1000),
            _ => (vec![chat_json(4, "c", 0)], 1),
        };
        page(json!({"chats": chats, "count": count}))
    });
    let s = sync_with(fetch, None, NOW, &[Part::Chat]).await;
    assert!(s.result.is_ok(), "{:?}", s.result);
    assert_eq!(s.ids(), vec!["a", "b", "c"]);
    let warnings = s.h.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("2 chat(s) without an id"),
        "{warnings:?}"
    );
}

#[tokio::test]
async fn the_ceiling_holds_the_state_and_late_chats_come_back_once() {
    // A page boundary exactly at the ceiling second.
    let r = rows(&[
        (CEILING - 1, "m"),
        (CEILING, "p"),
        (CEILING, "r"),
        (CEILING + 30, "x"),
    ]);
    let first = sync(&r, 3, None, NOW).await;
    assert!(first.result.is_ok(), "{:?}", first.result);
    assert_eq!(first.ids(), vec!["m", "p", "r", "x"]);
    let state = first.state();
    assert_eq!(
        (frontier_secs(&state), &state["start_id"]),
        (CEILING - 1, &json!("m")),
        "the highest chat read below the ceiling: chats past it never commit"
    );
    assert_eq!(state["window"].as_array().map(Vec::len), Some(3), "{state}");
    // Indexed late: a lower id in an already-read second, and one before an emitted chat.
    // "x" is updated again; "r" is unchanged.
    {
        let mut rows = r.lock().unwrap();
        rows.push((CEILING, "a".into(), 0));
        rows.push((CEILING + 10, "k".into(), 0));
        rows.retain(|row| row.1 != "x");
        rows.push((CEILING + 90, "x".into(), 0));
    }
    let second = sync(&r, 3, Some(state), NOW + 120).await;
    assert!(second.result.is_ok(), "{:?}", second.result);
    assert_eq!(second.ids(), vec!["a", "k", "x"]);
    let state2 = second.state();
    assert_eq!(
        state2["update_timestamp"],
        crate::paging::cursor::secs_to_iso(CEILING + 90)
    );
    assert_eq!(state2["start_id"], "x");
    assert!(
        state2["window"].is_null(),
        "all before the new ceiling: {state2}"
    );
    let third = sync(&r, 3, Some(state2), NOW + 600).await;
    assert!(third.ids().is_empty(), "{:?}", third.ids());
}

#[tokio::test]
async fn a_2099_chat_is_emitted_once_and_never_moves_the_state() {
    let y2099 = 4_070_908_800;
    let r = rows(&[(100, "a"), (y2099, "z")]);
    let first = sync(&r, 2, None, NOW).await;
    assert_eq!(first.ids(), vec!["a", "z"]);
    assert_eq!(
        first
            .h
            .warnings()
            .iter()
            .filter(|w| w.contains("future"))
            .count(),
        1
    );
    assert_eq!(
        (frontier_secs(&first.state()), &first.state()["start_id"]),
        (100, &json!("a")),
        "the 2099 chat never moves the state"
    );
    r.lock().unwrap().push((NOW + 50, "b".into(), 0));
    let second = sync(&r, 2, Some(first.state()), NOW + 100).await;
    assert_eq!(
        second.ids(),
        vec!["b"],
        "later chats arrive, the 2099 one is not repeated"
    );
    assert!(frontier_secs(&second.state()) <= NOW + 100 - EXPORT_MIN_AGE_SECS);
    assert_eq!(second.state()["window"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn a_kill_between_any_two_pages_resumes_exactly() {
    let list: Vec<(i64, String)> = (0..23).map(|i| (100 + i / 3, format!("c{i:02}"))).collect();
    let r = rows(
        &list
            .iter()
            .map(|(s, i)| (*s, i.as_str()))
            .collect::<Vec<_>>(),
    );
    let expected: BTreeSet<String> = list.iter().map(|(_, i)| i.clone()).collect();
    let full = sync_with(
        export(r.clone(), 4, Faults::default()),
        None,
        NOW,
        &[Part::Chat, Part::History],
    )
    .await;
    assert!(full.result.is_ok());
    let messages = full.h.messages();
    let mut before: Vec<String> = Vec::new();
    let mut kills = 0;
    for m in &messages {
        if m["type"] == "RECORD" && m["record"]["stream"] == "chats" {
            before.push(m["record"]["data"]["id"].as_str().unwrap_or("").to_owned());
        }
        if m["type"] != "STATE" || m["state"]["stream"]["stream_descriptor"]["name"] != "chats" {
            continue;
        }
        kills += 1;
        let state = m["state"]["stream"]["stream_state"].clone();
        let resumed = sync(&r, 4, Some(state), NOW).await;
        let after = resumed.ids();
        no_duplicates(&after);
        let union: BTreeSet<String> = before.iter().chain(&after).cloned().collect();
        assert_eq!(union, expected, "kill after state {kills}");
        assert!(
            after.iter().all(|id| !before.contains(id)),
            "kill after state {kills}: committed chats repeated"
        );
    }
    assert_eq!(kills, 6);
    assert_eq!(full.h.records("chat_history").len(), 23);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bursts_are_probed_and_read_in_parallel_exactly_once() {
    // Four bursts of 5 pages with empty gaps, all in the first 56% of the range.
    let mut list = Vec::new();
    for (k, centre) in [100_000, 300_000, 450_000, 550_000].iter().enumerate() {
        list.extend((0..5_000).map(|i| (centre + i * 2, format!("b{k}{i:05}"))));
    }
    let last = list.iter().map(|(s, _)| *s).max().unwrap_or(0);
    let in_gap = |t: i64| !list.iter().any(|(s, _)| (t..t + 5_000).contains(s));
    let r = rows(&list.iter().map(|(s, i)| (*s, i.as_str())).collect::<Vec<_>>());
    // Every request takes a little while, the first long enough to count as slow: the API's
    // latency, not the machine, is the limit.
    let slow_first = AtomicBool::new(true);
    let inner = answer(r, 1000, Faults::default());
    let fetch = Scripted::new(move |p, q| {
        let slow = slow_first.swap(false, Ordering::Relaxed);
        std::thread::sleep(if slow { SLOW_PAGE * 2 } else { Duration::from_millis(5) });
        inner(p, q)
    });
    let h = Harness::new(fetch, 0, 4);
    let members = vec![(Harness::selection("chats", None), Part::Chat)];
    let result = read_at(&h.ctx, members, Edge::at(NOW)).await;
    assert!(result.is_ok(), "{result:?}");
    let s = Synced { h, result };
    let ids = s.ids();
    no_duplicates(&ids);
    assert_eq!(ids.len(), 20_000);
    // Committed up to the last chat, or to the start of the empty slice past it.
    let frontier = frontier_secs(&s.state());
    assert!((last..=CEILING).contains(&frontier), "{frontier}");
    let log = s.h.ctx.fetch.log.lock().map(|l| l.clone()).unwrap_or_default();
    // New slices' first requests (no start_id) far beyond the first burst: the probes.
    let probes: Vec<(usize, i64)> = log
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, line)| !line.contains("start_id"))
        .filter_map(|(i, line)| {
            let t = line.split("start_time=").nth(1)?.split('&').next()?.parse().ok()?;
            Some((i, t))
        })
        .filter(|(_, t)| *t > 200_000)
        .take(2)
        .collect();
    assert_eq!(probes.len(), 2, "{log:?}");
    assert!(probes.iter().all(|(i, _)| *i <= 4), "right after the first page: {probes:?}");
    assert!(probes.iter().all(|(_, t)| in_gap(*t)), "{probes:?}");
    assert!(probes.iter().any(|(_, t)| *t > last), "one past the last chat: {probes:?}");
    // 20 pages of data; each probe and split costs at most about one page more.
    assert!(log.len() <= 36, "{} requests: {log:?}", log.len());
}
