//! Adversarial envelopes (issue 11): a timeline whose records never advance, ids of 2^63 − 1,
//! chats without `id` at the end and in the middle of a page.

mod common;
use common::*;
use serde_json::Value;
use zendesk_chat_sandbox::{Faults, SandboxConfig, Shapes};

#[test]
fn stuck_timeline_repeats_its_records_while_end_time_advances() {
    let sb = spawn(SandboxConfig {
        chats: 10,
        agent_timeline: 500,
        faults: Faults {
            timeline_stuck: true,
            ..Faults::default()
        },
        ..SandboxConfig::default()
    });
    let mut target = "/api/v2/chat/incremental/agent_timeline?start_time=0&limit=100".to_string();
    let mut first: Option<Value> = None;
    let mut end_times = Vec::new();
    for _ in 0..6 {
        let v = get(&sb, &target).json();
        assert_eq!(v["count"], 100);
        if let Some(f) = &first {
            assert_eq!(&v["agent_timeline"], f, "same records on every page");
        } else {
            first = Some(v["agent_timeline"].clone());
        }
        end_times.push(v["end_time"].as_i64().expect("end_time"));
        target = target_of(v["next_page"].as_str().expect("next_page"));
    }
    assert!(
        end_times.windows(2).all(|w| w[1] == w[0] + 1_000_000),
        "{end_times:?}"
    );
    sb.set_faults(Faults::default());
    let (all, pages) = page_export(
        &sb,
        "/api/v2/chat/incremental/agent_timeline?start_time=0&limit=100",
        "agent_timeline",
        100,
    );
    // start_time is inclusive: each page repeats the last record of the one before.
    assert_eq!(
        (all.len(), pages),
        (505, 6),
        "normal paging once the fault is off"
    );
    let unique: std::collections::BTreeSet<String> = all
        .iter()
        .map(|t| format!("{}|{}", t["agent_id"], t["start_time"]))
        .collect();
    assert_eq!(unique.len(), 500);
}

#[test]
fn max_int_ids_cannot_be_paged_past() {
    let sb = spawn(SandboxConfig {
        chats: 10,
        shapes: Shapes {
            max_int_ids: true,
            ..Shapes::default()
        },
        ..SandboxConfig::default()
    });
    let max = i64::MAX;
    for (resource, path) in [("agents", "agents"), ("bans", "bans")] {
        let expected = sb.expected(resource);
        assert_eq!(expected.last().map(|v| v["id"].as_i64()), Some(Some(max)));
        assert_eq!(
            expected
                .iter()
                .filter(|v| v["id"].as_i64() == Some(max))
                .count(),
            1
        );
        let v = get(&sb, &format!("/api/v2/chat/{path}?since_id={max}&limit=10")).json();
        let items: Vec<Value> = match resource {
            "agents" => v.as_array().expect("list").clone(),
            _ => ["ip_address", "visitor"]
                .iter()
                .flat_map(|k| v[*k].as_array().expect("kind").clone())
                .collect(),
        };
        assert_eq!(
            items.len(),
            1,
            "{resource}: inclusive since_id serves it again"
        );
        assert_eq!(items[0]["id"].as_i64(), Some(max));
    }
    assert_eq!(sb.expected("agents").len(), 26);
    assert_eq!(sb.expected("bans").len(), 31);
}

#[test]
fn chats_without_id_at_the_end_and_in_the_middle_of_a_page() {
    let sb = spawn(SandboxConfig {
        chats: 300,
        chats_without_id: vec![99, 150],
        ..SandboxConfig::default()
    });
    let versions = sb.chat_versions();
    let mut target =
        "/api/v2/chat/incremental/chats?fields=chats(*)&start_time=0&limit=100".to_string();
    let mut served = Vec::new();
    for page in 0..4 {
        let v = get(&sb, &target).json();
        let chats = v["chats"].as_array().expect("chats").clone();
        let missing: Vec<usize> = (0..chats.len())
            .filter(|&k| chats[k].get("id").is_none())
            .collect();
        match page {
            0 => assert_eq!(missing, [99], "last of a full page"),
            1 => assert_eq!(missing, [50], "middle of a page"),
            _ => assert!(missing.is_empty()),
        }
        if !chats.is_empty() {
            let end = page * 100 + chats.len() - 1;
            assert_eq!(
                v["end_id"].as_str(),
                Some(versions[end].id.as_str()),
                "real end_id"
            );
        }
        served.extend(chats);
        target = target_of(v["next_page"].as_str().expect("next_page"));
    }
    assert_eq!(served.len(), 300);
    assert_eq!(served, sb.expected("chats"));
    // The records keep every other field.
    assert!(served[99]["update_timestamp"].is_string() && served[99]["history"].is_array());
}
