//! `incremental/conversions` and `incremental/department_events`: data consistent with the
//! chats, and the chat export's paging rules.

mod common;
use common::*;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use zendesk_chat_sandbox::{Faults, Sandbox, SandboxConfig};

fn secs(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("timestamp"))
        .expect("rfc3339")
        .timestamp()
}

fn sandbox() -> Sandbox {
    spawn(SandboxConfig {
        chats: 2000,
        ..SandboxConfig::default()
    })
}

/// Pages a whole export with `limit`, checking order, uniqueness and the envelope.
fn read_all(sb: &Sandbox, name: &str, limit: usize) -> Vec<Value> {
    let first = format!("/api/v2/chat/incremental/{name}?start_time=0&limit={limit}");
    let (items, pages) = page_export(sb, &first, name, limit);
    assert_eq!(
        pages,
        items.len() / limit + 1,
        "{name}: stops on count < limit"
    );
    let keys: Vec<(i64, String)> = items
        .iter()
        .map(|i| {
            (
                secs(&i["timestamp"]),
                i["id"].as_str().expect("string id").to_string(),
            )
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "{name}: sorted, no repeats"
    );
    assert_eq!(items, sb.expected(name), "{name}");
    items
}

#[test]
fn conversions_are_the_chats_conversions() {
    let sb = sandbox();
    let items = read_all(&sb, "conversions", 50);
    let chats = sb.expected("chats");
    let by_chat: HashMap<&str, &Value> = chats
        .iter()
        .map(|c| (c["id"].as_str().expect("id"), c))
        .collect();
    let in_chats: usize = chats
        .iter()
        .map(|c| c["conversions"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(items.len(), in_chats);
    assert!(items.len() > 100, "{} conversions", items.len());
    for c in &items {
        let chat = by_chat[c["attribution"]["chat_id"].as_str().expect("chat_id")];
        let same = chat["conversions"]
            .as_array()
            .expect("list")
            .iter()
            .find(|x| x["id"] == c["id"]);
        let same = same.expect("the chat holds the conversion");
        assert_eq!(same["goal_id"], c["goal_id"]);
        assert!(c["goal_id"].is_u64() && c["goal_name"].is_string());
        assert_eq!(c["attribution"]["chat_timestamp"], chat["timestamp"]);
        assert_eq!(
            c["attribution"]["agent_id"],
            same["attribution"]["agent_id"]
        );
        assert_eq!(
            c["attribution"]["department_id"],
            same["attribution"]["department_id"]
        );
    }
}

#[test]
fn department_events_are_the_chats_transfers() {
    let sb = sandbox();
    let items = read_all(&sb, "department_events", 40);
    let transfers: Vec<Value> = sb
        .expected("chats")
        .iter()
        .flat_map(|c| c["history"].as_array().cloned().unwrap_or_default())
        .filter(|h| h["type"] == "chat.departmenttransfer")
        .collect();
    assert_eq!(items.len(), transfers.len());
    assert!(items.len() > 40, "{} events", items.len());
    let departments: BTreeSet<u64> = sb
        .expected("departments")
        .iter()
        .filter_map(|d| d["id"].as_u64())
        .collect();
    for e in &items {
        let d = e["department_id"].as_u64().expect("integer department_id");
        assert!(departments.contains(&d));
        assert_eq!(e["value"], d.to_string());
        let prev: u64 = e["previous_value"]
            .as_str()
            .expect("s")
            .parse()
            .expect("id");
        assert!(departments.contains(&prev) && prev != d);
        assert_eq!(e["field_name"], "chat_transfer");
    }
    let ids: BTreeSet<&str> = items.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), items.len());
}

#[test]
fn start_time_start_id_and_the_five_minute_rule() {
    let sb = sandbox();
    for name in ["conversions", "department_events"] {
        let all = sb.expected(name);
        let k = all.len() / 2;
        let (ts, id) = (
            secs(&all[k]["timestamp"]),
            all[k]["id"].as_str().expect("id"),
        );
        let first_at = all
            .iter()
            .position(|i| secs(&i["timestamp"]) >= ts)
            .expect("some");
        let page = get(
            &sb,
            &format!("/api/v2/chat/incremental/{name}?start_time={ts}&limit=5"),
        );
        let v = page.json();
        assert_eq!(v[name][0], all[first_at], "{name}: start_time inclusive");
        assert_eq!(v["count"], 5);
        assert_eq!(v["end_id"], all[first_at + 4]["id"]);
        assert_eq!(
            v["end_time"].as_i64(),
            Some(secs(&all[first_at + 4]["timestamp"]))
        );
        let next = target_of(v["next_page"].as_str().expect("next_page"));
        assert_eq!(
            get(&sb, &next).json()[name][0],
            all[first_at + 5],
            "{name}: next_page"
        );
        let tie = format!("/api/v2/chat/incremental/{name}?start_time={ts}&start_id={id}&limit=5");
        assert_eq!(
            get(&sb, &tie).json()[name][0],
            all[k + 1],
            "{name}: start_id"
        );
        let late = format!("/api/v2/chat/incremental/{name}?start_time={}", now() - 60);
        assert_eq!(get(&sb, &late).status, 400, "{name}: five-minute rule");
        let big = format!("/api/v2/chat/incremental/{name}?start_time=0&limit=1001");
        assert_eq!(get(&sb, &big).status, 400, "{name}: limit at most 1000");
        let empty = get(
            &sb,
            &format!("/api/v2/chat/incremental/{name}?start_time={}", now() - 400),
        );
        let e = empty.json();
        assert_eq!(
            (e["count"].as_u64(), e[name].as_array().map(Vec::len)),
            (Some(0), Some(0))
        );
        assert!(
            e["next_page"].is_string(),
            "{name}: next_page on an empty page"
        );
    }
}

#[test]
fn exports_are_served_under_the_per_resource_faults() {
    let sb = sandbox();
    sb.set_faults(Faults {
        not_found: vec!["conversions".into()],
        forbidden: vec!["department_events".into()],
        ..Faults::default()
    });
    assert_eq!(
        get(&sb, "/api/v2/chat/incremental/conversions?start_time=0").status,
        404
    );
    assert_eq!(
        get(
            &sb,
            "/api/v2/chat/incremental/department_events?start_time=0"
        )
        .status,
        403
    );
    sb.set_faults(Faults {
        burst_5xx: Some((sb.stats().requests, 1)),
        ..Faults::default()
    });
    assert_eq!(
        get(&sb, "/api/v2/chat/incremental/conversions?start_time=0").status,
        503
    );
    assert_eq!(
        get(&sb, "/api/v2/chat/incremental/conversions?start_time=0").status,
        200
    );
    assert_eq!(sb.stats().by_resource.get("conversions"), Some(&3));
}
