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
