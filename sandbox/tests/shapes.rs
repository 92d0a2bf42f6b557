//! Real-world payload shapes (issue 9) and the bad-data faults (issue 11): each is served as
//! described, `expected()` matches what is served, and paging still holds under it.

mod common;
use common::*;
use serde_json::Value;
use std::net::Ipv4Addr;
use zendesk_chat_sandbox::{BodyStyle, Faults, Sandbox, SandboxConfig, Shapes, RESOURCES};

const PATHS: [(&str, &str); 14] = [
    ("account", "account"),
    ("agents", "agents?limit=100"),
    (
        "agent_timeline",
        "incremental/agent_timeline?start_time=0&limit=1000",
    ),
    ("bans", "bans?limit=1000"),
    (
        "chats",
        "incremental/chats?fields=chats(*)&start_time=0&limit=1000",
    ),
    ("conversions", "incremental/conversions?start_time=0"),
    (
        "department_events",
        "incremental/department_events?start_time=0",
    ),
    ("departments", "departments"),
    ("goals", "goals"),
    ("roles", "roles"),
    ("routing_settings", "routing_settings/account"),
    ("shortcuts", "shortcuts"),
    ("skills", "skills"),
    ("triggers", "triggers"),
];

fn body(sb: &Sandbox, resource: &str) -> Resp {
    let path = PATHS.iter().find(|(r, _)| *r == resource).expect("known").1;
    let r = get(sb, &format!("/api/v2/chat/{path}"));
    assert_eq!(r.status, 200, "{resource}");
    r
}

/// The records of one resource as served (one page is enough for these sizes).
fn served(sb: &Sandbox, resource: &str) -> Vec<Value> {
    let v = body(sb, resource).json();
    match resource {
        "account" => vec![v],
        "routing_settings" => vec![v["data"].clone()],
        "chats" | "agent_timeline" | "conversions" | "department_events" => {
            v[resource].as_array().expect("items").clone()
        }
        "bans" => {
            let mut all = v["ip_address"].as_array().expect("ip").clone();
            all.extend(v["visitor"].as_array().expect("visitor").iter().cloned());
            all.sort_by_key(|b| b["id"].as_u64());
            all
        }
        _ => v.as_array().expect("list").clone(),
    }
}

fn all_shapes() -> Shapes {
    Shapes::real_world(BodyStyle::Compact)
}

fn small(shapes: Shapes) -> Sandbox {
    spawn(SandboxConfig {
        chats: 600,
        agent_timeline: 50,
        shapes,
        ..SandboxConfig::default()
    })
}

#[test]
fn indented_and_newline_bodies_hold_the_same_values() {
    let plain = small(Shapes::default());
    for style in [BodyStyle::Indented, BodyStyle::Newlines] {
        let sb = small(Shapes {
            body_style: style,
            ..Shapes::default()
        });
        for r in RESOURCES {
            let (a, b) = (body(&plain, r), body(&sb, r));
            let lines = b.body.iter().filter(|&&c| c == b'\n').count();
            assert!(lines >= 3, "{style:?} {r}: {lines} newlines");
            assert!(!a.body.contains(&b'\n'), "{r} compact by default");
            assert_eq!(a.json(), b.json(), "{style:?} {r}");
            assert_eq!(sb.expected(r), plain.expected(r), "{style:?} {r}");
        }
        let tabbed = body(&sb, "goals").body.windows(2).any(|w| w == b"\n\t");
        assert_eq!(tabbed, style == BodyStyle::Newlines);
        // Paging rules unchanged: every chat once, in order, two pages of 500.
        let first = "/api/v2/chat/incremental/chats?fields=chats(*)&start_time=0&limit=500";
        let (items, pages) = page_export(&sb, first, "chats", 500);
        assert_eq!((items.len(), pages), (600, 2));
        assert_eq!(items, sb.expected("chats"));
    }
}

#[test]
fn body_style_can_be_limited_to_some_resources() {
    let sb = small(Shapes {
        body_style: BodyStyle::Indented,
        body_style_resources: vec!["agents".into(), "chats".into()],
        ..Shapes::default()
    });
    for r in RESOURCES {
        let multi = body(&sb, r).body.contains(&b'\n');
        assert_eq!(multi, r == "agents" || r == "chats", "{r}");
    }
}

#[test]
fn every_shape_is_served_as_expected() {
    let sb = small(all_shapes());
    for r in RESOURCES {
        assert_eq!(served(&sb, r), sb.expected(r), "{r}");
    }
    let plain = small(Shapes::default());
    for r in [
        "agents",
        "agent_timeline",
        "departments",
        "goals",
        "roles",
        "skills",
    ] {
        assert_eq!(sb.expected(r), plain.expected(r), "{r} untouched");
    }
}

fn count(items: &[Value], f: impl Fn(&Value) -> bool) -> usize {
    items.iter().filter(|v| f(v)).count()
}

#[test]
fn offline_dates_ips_and_visitor_ids() {
    let chats = small(all_shapes()).expected("chats");
    let offset_z = |c: &Value| {
        let d = c["session"]["start_date"].as_str().expect("date");
        d.ends_with("+00:00Z")
            && c["session"]["end_date"]
                .as_str()
                .expect("e")
                .ends_with("+00:00Z")
    };
    let offline: Vec<Value> = chats
        .iter()
        .filter(|c| c["type"] == "offline_msg")
        .cloned()
        .collect();
    let live: Vec<Value> = chats
        .iter()
        .filter(|c| c["type"] == "chat")
        .cloned()
        .collect();
    let n = count(&offline, offset_z);
    assert!(
        n > offline.len() / 5 && n < offline.len() / 2,
        "{n} of {}",
        offline.len()
    );
    assert_eq!(count(&live, offset_z), 0);
    let bad_ip = |c: &Value| {
        let ip = c["session"]["ip"].as_str().expect("ip");
        ip.parse::<Ipv4Addr>().is_err()
    };
    assert_eq!(
        count(&chats, bad_ip),
        11,
        "600 chats: indices 9, 68, ..., 599"
    );
    let odd = |c: &Value| {
        let id = c["visitor"]["id"].as_str().expect("visitor id");
        let (head, tail) = id.split_once('.').expect("a dot");
        head.len() == 1 && tail.len() == 5 && tail.bytes().all(|b| b.is_ascii_digit())
    };
    assert_eq!(count(&chats, odd), 10, "indices 19, 80, ..., 568");
    let plain = small(Shapes::default()).expected("chats");
    assert_eq!(
        count(&plain, offset_z) + count(&plain, bad_ip) + count(&plain, odd),
        0
    );
}

#[test]
fn missing_keys_in_small_resources() {
    let sb = small(all_shapes());
    let shortcuts = served(&sb, "shortcuts");
    assert_eq!(count(&shortcuts, |s| s.get("id").is_none()), 2);
    assert_eq!(count(&shortcuts, |s| s.get("scope").is_none()), 1);
    assert_eq!(
        count(&served(&sb, "triggers"), |t| t.get("id").is_none()),
        1
    );
    let bans = served(&sb, "bans");
    let absent = count(&bans, |b| b.get("created_at").is_none());
    let null = count(&bans, |b| b.get("created_at").is_some_and(Value::is_null));
    assert_eq!(
        (absent, null),
        (4, 4),
        "30 bans: k % 7 == 5 absent, k % 7 == 3 null"
    );
    assert!(served(&sb, "routing_settings")[0]
        .get("auto_accept")
        .is_none());
    let billing = &served(&sb, "account")[0]["billing"];
    assert!(billing.get("cycle").is_none() && billing.get("phone").is_none());
    assert!(billing.get("company").is_some());
    let plain = small(Shapes::default());
    assert_eq!(
        count(&served(&plain, "shortcuts"), |s| s.get("id").is_none()),
        0
    );
    assert!(served(&plain, "routing_settings")[0]
        .get("auto_accept")
        .is_some());
}

#[test]
fn numeric_timestamps_fault() {
    let sb = small(Shapes::default());
    let strings = sb.expected("chats");
    sb.set_faults(Faults {
        numeric_timestamps: vec!["chats".into(), "bans".into()],
        ..Faults::default()
    });
    let chats = served(&sb, "chats");
    assert_eq!(chats, sb.expected("chats"));
    let numbers: Vec<(&Value, &Value)> = chats
        .iter()
        .zip(&strings)
        .filter(|(c, _)| c["update_timestamp"].is_i64())
        .collect();
    assert_eq!(numbers.len(), 11, "600 chats: indices 17, 70, ..., 599");
    for (n, s) in numbers {
        let secs = chrono::DateTime::parse_from_rfc3339(s["update_timestamp"].as_str().expect("s"))
            .expect("rfc3339")
            .timestamp();
        assert_eq!(n["update_timestamp"].as_i64(), Some(secs));
    }
    let bans = served(&sb, "bans");
    assert_eq!(bans, sb.expected("bans"));
    assert!(count(&bans, |b| b["created_at"].is_i64()) >= 4);
    assert!(count(&bans, |b| b["created_at"].is_string()) >= 15);
}

#[test]
fn html_body_fault_is_a_200_html_page() {
    let sb = small(Shapes::default());
    sb.set_faults(Faults {
        html_body: vec!["agents".into()],
        ..Faults::default()
    });
    let r = body(&sb, "agents");
    assert!(r.headers["content-type"].starts_with("text/html"));
    assert!(r.body.starts_with(b"<html>"));
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    assert_eq!(served(&sb, "goals").len(), 3, "other resources unaffected");
}
