//! `read`: every stream's data against the fake API's, the exact incremental semantics of the
//! chat export (ties, page boundaries, the 5-minute rule, resumption) and missing endpoints.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::util::*;

fn chats_since(sb: &zendesk_chat_sandbox::Sandbox, secs: i64) -> Vec<Value> {
    sb.expected("chats")
        .into_iter()
        .filter(|c| iso_secs(&c["update_timestamp"]) >= secs)
        .collect()
}

fn iso_secs(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("timestamp"))
        .expect("RFC 3339")
        .timestamp()
}

const START: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z, the configs' start_date

/// A full refresh of every stream returns exactly the fake's data, in the API's order, and the
/// bookkeeping the platform checks is right.
#[test]
fn full_refresh_of_every_stream_equals_the_fake_data() {
    let sb = sandbox();
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &catalog(ALL_STREAMS, "full_refresh")),
        ],
    );
    run.assert_ok().assert_bookkeeping(ALL_STREAMS);
    for (stream, resource) in [
        ("accounts", "account"),
        ("agents", "agents"),
        ("bans", "bans"),
        ("departments", "departments"),
        ("goals", "goals"),
        ("roles", "roles"),
        ("routing_settings", "routing_settings"),
        ("shortcuts", "shortcuts"),
        ("skills", "skills"),
        ("triggers", "triggers"),
        ("conversions", "conversions"),
        ("department_events", "department_events"),
    ] {
        let expected = sb.expected(resource);
        assert!(!expected.is_empty(), "the fake has no {resource}");
        assert_eq!(
            canon(stream, &run.records(stream)),
            canon(stream, &expected),
            "{stream}"
        );
    }
    let chats = chats_since(&sb, START);
    assert_eq!(
        canon("chats", &run.records("chats")),
        canon("chats", &chats)
    );
    for (stream, field) in [
        ("chat_history", "history"),
        ("chat_webpath", "webpath"),
        ("chat_engagements", "engagements"),
        ("chat_conversions", "conversions"),
    ] {
        let expected = expected_children(&chats, field);
        assert!(!expected.is_empty(), "the fake has no {field}");
        assert_eq!(
            canon(stream, &run.records(stream)),
            canon(stream, &expected),
            "{stream}"
        );
    }
    let mut seen = std::collections::HashSet::new();
    let timeline: Vec<Value> = sb
        .expected("agent_timeline")
        .into_iter()
        .filter(|t| iso_secs(&t["start_time"]) >= START)
        .map(|mut t| {
            // The certified connector's form: start_time to the second, id = agent|start_time;
            // a second entry of one agent within a second is keyed by the exact time.
            let exact = t["start_time"].as_str().unwrap().to_owned();
            let second = format!("{}Z", &exact[..19]);
            let key = format!("{}|{second}", t["agent_id"]);
            let id = if seen.insert(key.clone()) {
                key
            } else {
                format!("{}|{exact}", t["agent_id"])
            };
            let o = t.as_object_mut().unwrap();
            o.insert("id".into(), json!(id));
            o.insert("start_time".into(), json!(second));
            o.insert("start_time_exact".into(), json!(exact));
            t
        })
        .collect();
    assert!(timeline
        .iter()
        .all(|t| t["start_time_exact"].as_str().unwrap().len() == 27));
    let unique: std::collections::HashSet<String> = ids(&timeline, "id").into_iter().collect();
    assert_eq!(
        unique.len(),
        timeline.len(),
        "agent_timeline keys are distinct"
    );
    let mut got = run.records("agent_timeline");
    // The connector puts `id` first; compare as objects.
    assert_eq!(got.len(), timeline.len());
    got.iter_mut()
        .zip(&timeline)
        .for_each(|(g, e)| assert_eq!(g, e));
    // Fields the schema does not declare pass through (no data loss when Zendesk adds one).
    assert!(
        run.stdout.contains("brand_new_field"),
        "unknown fields must pass through"
    );
}

/// 1,500 chats sharing one update_timestamp second cross page boundaries with none lost and
/// none repeated, in 4 export requests for 3,500 chats.
#[test]
fn a_1500_chat_tie_crosses_page_boundaries_exactly() {
    let sb = sandbox_with(|c| {
        c.chats = 2000;
        c.tie_chats = 1500;
    });
    let run = run(
        "read",
        &[
            ("config", &sequential(config(&sb))),
            ("catalog", &catalog(&["chats"], "incremental")),
        ],
    );
    run.assert_ok().assert_bookkeeping(&["chats"]);
    let expected = chats_since(&sb, START);
    assert_eq!(expected.len(), 3500);
    let got = run.records("chats");
    let got_ids = ids(&got, "id");
    let unique: BTreeSet<&String> = got_ids.iter().collect();
    assert_eq!(
        unique.len(),
        got_ids.len(),
        "duplicates: {}",
        got_ids.len() - unique.len()
    );
    assert_eq!(got_ids, ids(&expected, "id"), "lost or reordered chats");
    assert_eq!(sb.stats().by_resource.get("chats").copied(), Some(4));
    assert_eq!(run.states("chats").len(), 4, "one STATE per page");
    // The same with parallel slices: the tie sits in one slice, nothing lost or repeated.
    let parallel = crate::util::run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &catalog(&["chats"], "incremental")),
        ],
    );
    parallel.assert_ok().assert_bookkeeping(&["chats"]);
    assert_eq!(
        canon("chats", &parallel.records("chats")),
        canon("chats", &expected)
    );
}

/// Incremental: after 37 chats are updated, the next sync returns exactly those 37 (and their
/// child rows), and the sync after that returns nothing.
#[test]
fn incremental_returns_exactly_the_updated_chats_then_nothing() {
    let sb = sandbox();
    let family = [
        "chats",
        "chat_history",
        "chat_webpath",
        "chat_engagements",
        "chat_conversions",
        "agents",
        "bans",
        "agent_timeline",
    ];
    let cat = catalog(&family, "incremental");
    let first = run("read", &[("config", &config(&sb)), ("catalog", &cat)]);
    first.assert_ok().assert_bookkeeping(&family);
    assert_eq!(first.records("chats").len(), chats_since(&sb, START).len());

    let updated: BTreeSet<String> = sb.update_chats(37, None).into_iter().collect();
    assert_eq!(updated.len(), 37);
    let second = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &cat),
            ("state", &first.state_file()),
        ],
    );
    second.assert_ok().assert_bookkeeping(&family);
    let got: BTreeSet<String> = ids(&second.records("chats"), "id").into_iter().collect();
    assert_eq!(got, updated);
    assert_eq!(second.records("chats").len(), 37, "no chat twice");
    let now_chats: Vec<Value> = sb
        .expected("chats")
        .into_iter()
        .filter(|c| updated.contains(c["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        canon("chats", &second.records("chats")),
        canon("chats", &now_chats),
        "the updated content"
    );
    for (stream, field) in [
        ("chat_history", "history"),
        ("chat_webpath", "webpath"),
        ("chat_engagements", "engagements"),
        ("chat_conversions", "conversions"),
    ] {
        assert_eq!(
            canon(stream, &second.records(stream)),
            canon(stream, &expected_children(&now_chats, field)),
            "{stream}"
        );
    }
    for s in ["agents", "bans", "agent_timeline"] {
        assert_eq!(second.records(s).len(), 0, "{s}");
    }

    let third = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &cat),
            ("state", &second.state_file()),
        ],
    );
    third.assert_ok().assert_bookkeeping(&family);
    assert_eq!(
        third.of_type("RECORD").len(),
        0,
        "{:?}",
        third.record_counts()
    );
}

/// Chats updated less than 5 minutes ago: the export cannot start there, so the connector starts
/// earlier and drops what it already has; nothing is lost, nothing repeats, nothing fails.
#[test]
fn updates_within_the_last_five_minutes_are_neither_lost_nor_repeated() {
    let sb = sandbox();
    let cat = catalog(&["chats"], "incremental");
    let first = run("read", &[("config", &config(&sb)), ("catalog", &cat)]);
    first.assert_ok();
    let now = chrono::Utc::now().timestamp();
    let updated: BTreeSet<String> = sb.update_chats(5, Some(now - 60)).into_iter().collect();
    let second = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &cat),
            ("state", &first.state_file()),
        ],
    );
    second.assert_ok();
    assert_eq!(
        ids(&second.records("chats"), "id")
            .into_iter()
            .collect::<BTreeSet<_>>(),
        updated
    );
    assert_eq!(second.records("chats").len(), 5);
    let third = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &cat),
            ("state", &second.state_file()),
        ],
    );
    third.assert_ok();
    assert_eq!(third.records("chats").len(), 0);
    // A start_date in the future is clamped, not rejected.
    let mut cfg = config(&sb);
    cfg["start_date"] = json!("2099-01-01T00:00:00Z");
    let future = run(
        "read",
        &[
            ("config", &cfg),
            (
                "catalog",
                &catalog(&["chats", "agent_timeline"], "incremental"),
            ),
        ],
    );
    future.assert_ok();
    assert_eq!(future.of_type("RECORD").len(), 0);
}

/// The certified connector's state forms resume from their timestamp (inclusively).
#[test]
fn certified_connector_state_forms_resume_correctly() {
    let sb = sandbox();
    let all = sb.expected("chats");
    let t = iso_secs(&all[1000]["update_timestamp"]);
    let expected = chats_since(&sb, t);
    assert!(expected.len() < all.len() && expected.len() > 900);
    let iso = all[1000]["update_timestamp"].as_str().unwrap().to_owned();
    let cat = catalog(&["chats"], "incremental");
    for state in [
        json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "chats"}, "stream_state": {"update_timestamp": t.to_string()}}}]),
        json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "chats"}, "stream_state": {"update_timestamp": iso}}}]),
        json!({"chats": {"update_timestamp": iso}}),
    ] {
        let run = run(
            "read",
            &[
                ("config", &config(&sb)),
                ("catalog", &cat),
                ("state", &state),
            ],
        );
        run.assert_ok();
        assert_eq!(
            canon("chats", &run.records("chats")),
            canon("chats", &expected),
            "state {state}"
        );
    }
    // agents/bans legacy {"id": n}: only larger ids follow.
    let agents = sb.expected("agents");
    let pivot = agents[10]["id"].as_i64().unwrap();
    let state = json!({"agents": {"id": pivot}});
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &catalog(&["agents"], "incremental")),
            ("state", &state),
        ],
    );
    run.assert_ok();
    assert_eq!(
        canon("agents", &run.records("agents")),
        canon("agents", &agents[11..])
    );
}

/// A far-future state gives no records but still a STATE per stream (CAT's abnormal state).
#[test]
fn future_state_gives_no_records_but_states() {
    let sb = sandbox();
    let state = json!([
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "chats"}, "stream_state": {"update_timestamp": "2099-01-01T00:00:00Z"}}},
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "chat_history"}, "stream_state": {"update_timestamp": "2099-01-01T00:00:00Z"}}},
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "agents"}, "stream_state": {"id": 999999999999999i64}}},
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "bans"}, "stream_state": {"id": 999999999999999i64}}},
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "agent_timeline"}, "stream_state": {"start_time": "2099-01-01T00:00:00.000000Z"}}}
    ]);
    let streams = ["chats", "chat_history", "agents", "bans", "agent_timeline"];
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &catalog(&streams, "incremental")),
            ("state", &state),
        ],
    );
    run.assert_ok().assert_bookkeeping(&streams);
    assert_eq!(run.of_type("RECORD").len(), 0);
    assert_eq!(
        run.last_state("chats")["update_timestamp"],
        "2099-01-01T00:00:00Z"
    );
    assert_eq!(run.last_state("agents")["id"], 999999999999999i64);
}

/// Selecting a child stream without `chats` works and makes no extra requests.
#[test]
fn child_streams_alone_come_from_the_same_export_pages() {
    let sb = sandbox();
    let run = run(
        "read",
        &[
            ("config", &sequential(config(&sb))),
            (
                "catalog",
                &catalog(&["chat_history", "chat_webpath"], "full_refresh"),
            ),
        ],
    );
    run.assert_ok()
        .assert_bookkeeping(&["chat_history", "chat_webpath"]);
    let chats = chats_since(&sb, START);
    assert_eq!(
        canon("chat_history", &run.records("chat_history")),
        canon("chat_history", &expected_children(&chats, "history"))
    );
    assert_eq!(
        canon("chat_webpath", &run.records("chat_webpath")),
        canon("chat_webpath", &expected_children(&chats, "webpath"))
    );
    assert_eq!(run.records("chats").len(), 0);
    assert_eq!(
        sb.stats().by_resource.get("chats").copied(),
        Some((chats.len() / 1000 + 1) as u64),
        "a full last page needs one more request"
    );
}

/// 404 on agents, agent_timeline and routing_settings and 403 on account: those streams end
/// empty with a warning, the sync goes on and succeeds.
#[test]
fn missing_endpoints_are_skipped_with_a_warning() {
    let sb = sandbox_with(|c| {
        c.faults.not_found = vec![
            "agents".into(),
            "agent_timeline".into(),
            "routing_settings".into(),
        ];
        c.faults.forbidden = vec!["account".into()];
    });
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &catalog(ALL_STREAMS, "full_refresh")),
        ],
    );
    run.assert_ok().assert_bookkeeping(ALL_STREAMS);
    for s in ["agents", "agent_timeline", "routing_settings", "accounts"] {
        assert_eq!(run.records(s).len(), 0, "{s}");
    }
    let warnings: Vec<&Value> = run
        .of_type("LOG")
        .into_iter()
        .filter(|l| l["log"]["level"] == "WARN")
        .collect();
    assert_eq!(warnings.len(), 4, "{warnings:?}");
    assert_eq!(
        canon("departments", &run.records("departments")),
        canon("departments", &sb.expected("departments"))
    );
    assert_eq!(run.records("chats").len(), chats_since(&sb, START).len());
}

/// A base URL where nothing exists (every endpoint 404) fails the sync instead of reporting an
/// empty success.
#[test]
fn a_wrong_subdomain_fails_the_read() {
    let sb = sandbox();
    let mut cfg = config(&sb);
    cfg["base_url"] = json!(format!("http://{}/nowhere/api/v2/chat/", sb.addr()));
    let run = run(
        "read",
        &[
            ("config", &cfg),
            (
                "catalog",
                &catalog(&["agents", "departments"], "full_refresh"),
            ),
        ],
    );
    assert_ne!(run.code, 0);
    let last = run.errors().last().cloned().cloned().unwrap();
    assert_eq!(last["trace"]["error"]["failure_type"], "config_error");
    assert!(last["trace"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("subdomain"));
}

/// A slow API (300 ms per page) makes the backfill read up to `backfill_concurrency` slices at
/// once; the result is still exactly the fake's chats, each once.
#[test]
fn a_slow_api_is_read_in_parallel_slices_exactly() {
    let sb = sandbox_with(|c| {
        c.chats = 12_000;
        c.tie_chats = 1_200;
        c.faults.latency_ms = 300;
    });
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            (
                "catalog",
                &catalog(&["chats", "chat_webpath"], "incremental"),
            ),
        ],
    );
    run.assert_ok()
        .assert_bookkeeping(&["chats", "chat_webpath"]);
    let chats = chats_since(&sb, START);
    assert_eq!(
        canon("chats", &run.records("chats")),
        canon("chats", &chats)
    );
    assert_eq!(
        canon("chat_webpath", &run.records("chat_webpath")),
        canon("chat_webpath", &expected_children(&chats, "webpath"))
    );
    let stats = sb.stats();
    assert!(
        stats.max_in_flight >= 3,
        "slices must overlap on a slow API: {}",
        stats.max_in_flight
    );
    // The final state covers everything contiguously (no leftover done_ranges).
    assert!(
        run.last_state("chats").get("done_ranges").is_none(),
        "{}",
        run.last_state("chats")
    );
}

/// Timestamps sent as epoch numbers (seen in the wild) are read as what they are: the chats page
/// normally, and every emitted timestamp is RFC 3339 UTC.
#[test]
fn numeric_timestamps_are_read_and_normalized() {
    let sb = sandbox_with(|c| c.faults.numeric_timestamps = vec!["chats".into(), "bans".into()]);
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            (
                "catalog",
                &catalog(&["chats", "chat_history", "bans"], "incremental"),
            ),
        ],
    );
    run.assert_ok();
    let chats = run.records("chats");
    let expected = sb.expected("chats");
    let secs = |v: &Value| match v {
        Value::Number(n) => n.as_f64().map(|f| f as i64),
        Value::String(t) => chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|d| d.timestamp()),
        _ => None,
    };
    let since = expected
        .iter()
        .filter(|c| {
            secs(&c["update_timestamp"])
                .or_else(|| secs(&c["timestamp"]))
                .is_some_and(|t| t >= START)
        })
        .count();
    assert_eq!(chats.len(), since);
    let numeric = expected
        .iter()
        .filter(|c| c["update_timestamp"].is_number())
        .count();
    assert!(numeric > 0, "the fault is on");
    for c in chats.iter().chain(run.records("chat_history").iter()) {
        let t = c["update_timestamp"].as_str().unwrap_or_default();
        assert!(chrono::DateTime::parse_from_rfc3339(t).is_ok(), "{t:?}");
    }
    assert_eq!(run.records("bans").len(), sb.expected("bans").len());
}
