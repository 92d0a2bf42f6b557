//! The incremental conversions and department events exports: exact reads, resumption, the live
//! edge and a missing endpoint, through the real binary.

use serde_json::{json, Value};

use crate::util::*;

const EXPORTS: [&str; 2] = ["conversions", "department_events"];

fn by_id(records: &[Value]) -> Vec<Value> {
    let mut v = records.to_vec();
    v.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    v
}

#[test]
fn both_exports_equal_the_fake_data_then_resume_with_nothing_new() {
    let sb = sandbox_with(|c| c.chats = 3_000);
    let cfg = config(&sb);
    let first = run(
        "read",
        &[
            ("config", &cfg),
            ("catalog", &catalog(&EXPORTS, "incremental")),
        ],
    );
    first.assert_ok().assert_bookkeeping(&EXPORTS);
    for name in EXPORTS {
        let expected = sb.expected(name);
        assert!(expected.len() > 100, "{name}: {}", expected.len());
        assert_eq!(by_id(&first.records(name)), by_id(&expected), "{name}");
        let state = first.last_state(name);
        assert!(
            state["timestamp"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z')),
            "{state}"
        );
    }
    let second = run(
        "read",
        &[
            ("config", &cfg),
            ("catalog", &catalog(&EXPORTS, "incremental")),
            ("state", &first.state_file()),
        ],
    );
    second.assert_ok();
    assert_eq!(second.records("conversions").len(), 0);
    assert_eq!(second.records("department_events").len(), 0);
}

#[test]
fn a_missing_export_is_skipped_and_the_rest_syncs() {
    let sb = sandbox_with(|c| c.faults.not_found = vec!["department_events".into()]);
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &catalog(&EXPORTS, "incremental")),
        ],
    );
    run.assert_ok();
    assert_eq!(run.records("department_events").len(), 0);
    assert_eq!(
        run.records("conversions").len(),
        sb.expected("conversions").len()
    );
    let warned = run.of_type("LOG").iter().any(|m| {
        m["log"]["message"]
            .as_str()
            .is_some_and(|s| s.contains("department_events skipped"))
    });
    assert!(warned);
    assert_eq!(run.last_state("department_events"), json!({}));
}

/// One scheduler for the whole sync: on a slow API, every stream together keeps exactly
/// `backfill_concurrency` requests in flight (the slots are shared, not per stream), the agent
/// timeline is read in parallel slices like the chats, and the one-request streams are served
/// among the first requests rather than after the exports.
#[test]
fn every_stream_shares_the_request_slots_and_small_streams_are_served_early() {
    let sb = sandbox_with(|c| {
        c.chats = 6_000;
        c.agent_timeline = 8_000;
        c.faults.latency_ms = 300;
    });
    let mut cfg = config(&sb);
    cfg["backfill_concurrency"] = json!(3);
    let run = run(
        "read",
        &[
            ("config", &cfg),
            ("catalog", &catalog(ALL_STREAMS, "incremental")),
        ],
    );
    run.assert_ok();
    let counts = run.record_counts();
    assert_eq!(counts.get("agent_timeline"), Some(&8_000), "{counts:?}");
    assert_eq!(counts.get("chats"), Some(&6_000), "{counts:?}");
    assert_eq!(
        canon("agent_timeline", &run.records("agent_timeline")).len(),
        8_000,
        "no entry twice"
    );
    let stats = sb.stats();
    assert_eq!(
        stats.max_in_flight, 3,
        "the slots bound every stream together, and fill"
    );
    let paths: Vec<&str> = stats
        .log
        .iter()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(|p| p.split('?').next().unwrap_or(p))
        .collect();
    for small in [
        "account",
        "departments",
        "goals",
        "roles",
        "shortcuts",
        "skills",
        "triggers",
    ] {
        let at = paths
            .iter()
            .position(|p| *p == format!("/api/v2/chat/{small}"))
            .unwrap_or_else(|| panic!("{small} never requested: {paths:?}"));
        assert!(at < 20, "{small} waited for {at} requests: {paths:?}");
    }
    let timeline = stats
        .log
        .iter()
        .filter(|l| l.contains("agent_timeline"))
        .count();
    assert!(timeline >= 9, "8 pages and the slices' ends: {timeline}");
}
