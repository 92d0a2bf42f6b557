//! The live edge of the chat export: late indexing, future timestamps and data layouts.

mod common;
use common::*;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use zendesk_chat_sandbox::{Layout, SandboxConfig};

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect()
}

fn secs(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("timestamp string"))
        .expect("rfc3339")
        .timestamp()
}

/// Reads `incremental/chats` from `(start, start_id)` to the end; returns the chats.
fn export_from(sb: &zendesk_chat_sandbox::Sandbox, start: i64, start_id: &str) -> Vec<Value> {
    let first = format!(
        "/api/v2/chat/incremental/chats?fields=chats(*)&limit=100&start_time={start}&start_id={start_id}"
    );
    page_export(sb, &first, "chats", 100).0
}

#[test]
fn late_updates_are_served_only_from_their_visibility_second() {
    let sb = spawn(SandboxConfig {
        chats: 300,
        ..SandboxConfig::default()
    });
    let at = now() - 360;
    let updated: BTreeSet<String> = sb.update_chats_late(60, at, 720).into_iter().collect();
    assert_eq!(updated.len(), 60);
    // expected() shows the latest version of every chat at once, visible or not.
    let all = sb.expected("chats");
    let latest: BTreeSet<String> = all
        .iter()
        .filter(|c| secs(&c["update_timestamp"]) == at)
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(latest, updated);
    let before = now();
    let served: BTreeSet<String> = ids(&export_from(&sb, at, "")).into_iter().collect();
    let after = now();
    let visible = |t: i64| -> BTreeSet<String> {
        sb.chat_versions()
            .into_iter()
            .filter(|v| v.update_timestamp >= at && v.visible_at.is_none_or(|s| s <= t))
            .map(|v| v.id)
            .collect()
    };
    assert!(visible(before).is_subset(&served) && served.is_subset(&visible(after)));
    assert!(
        served.len() >= 10 && served.len() <= 50,
        "{} served",
        served.len()
    );
    let pending = sb.pending_chats();
    assert!(pending >= 10, "{pending} pending");
    assert_eq!(sb.index_pending(), pending);
    assert_eq!(sb.pending_chats(), 0);
    let served: BTreeSet<String> = ids(&export_from(&sb, at, "")).into_iter().collect();
    assert_eq!(served, updated);
    assert_eq!(sb.expected_chats_visible_at(now()).len(), 300);
}

#[test]
fn a_cursor_reader_loses_late_lower_ids_in_an_already_read_second() {
    let sb = spawn(SandboxConfig {
        chats: 200,
        ..SandboxConfig::default()
    });
    let at = now() - 400;
    let updated: BTreeSet<String> = sb.update_chats_late(40, at, 800).into_iter().collect();
    // Sync 1: everything visible now; the cursor is the last chat served.
    let first = export_from(&sb, 0, "");
    let last = first.last().expect("a chat");
    let cursor = (
        secs(&last["update_timestamp"]),
        last["id"].as_str().expect("id").to_string(),
    );
    assert_eq!(cursor.0, at);
    // The index catches up; sync 2 resumes from the cursor.
    assert!(sb.index_pending() > 0);
    let second = export_from(&sb, cursor.0, &cursor.1);
    let mut seen: BTreeSet<String> = ids(&first).into_iter().collect();
    let before = seen.len();
    seen.extend(ids(&second));
    assert_eq!(before + second.len(), seen.len(), "no chat served twice");
    let lost: Vec<&String> = updated.iter().filter(|id| !seen.contains(*id)).collect();
    assert!(!lost.is_empty(), "late lower ids must be behind the cursor");
    assert!(
        lost.iter().all(|id| **id < cursor.1),
        "only lower ids are lost"
    );
    // Re-reading the window from its start recovers them: the switch is fair.
    let window: BTreeSet<String> = ids(&export_from(&sb, at, "")).into_iter().collect();
    assert_eq!(window, updated);
}

#[test]
fn configured_lag_with_jitter_applies_to_update_chats() {
    let sb = spawn(SandboxConfig {
        chats: 300,
        index_lag_secs: 900,
        index_lag_jitter: true,
        ..SandboxConfig::default()
    });
    let at = now() - 450;
    let updated = sb.update_chats(80, Some(at));
    let versions: HashMap<String, Option<i64>> = sb
        .chat_versions()
        .into_iter()
        .map(|v| (v.id, v.visible_at))
        .collect();
    let lags: Vec<i64> = updated
        .iter()
        .map(|id| versions[id].expect("a visibility second") - at)
        .collect();
    assert!(lags.iter().all(|l| (0..=900).contains(l)));
    assert!(lags.iter().collect::<BTreeSet<_>>().len() > 40, "lags vary");
    // Same second, lower id later: some pair is indexed out of id order.
    let mut by_id: Vec<(&String, i64)> = updated.iter().zip(lags.iter().copied()).collect();
    by_id.sort();
    assert!(by_id.windows(2).any(|w| w[0].1 > w[1].1));
    // Without jitter the lag is exact.
    let fixed = spawn(SandboxConfig {
        chats: 50,
        index_lag_secs: 30,
        ..SandboxConfig::default()
    });
    for id in fixed.update_chats(5, Some(at)) {
        let v = fixed.chat_versions().into_iter().find(|v| v.id == id);
        assert_eq!(v.and_then(|v| v.visible_at), Some(at + 30));
    }
}

#[test]
fn future_chats_are_served_last_and_paging_rules_hold() {
    let sb = spawn(SandboxConfig {
        chats: 250,
        future_chats: 2,
        ..SandboxConfig::default()
    });
    let (items, pages) = page_export(
        &sb,
        "/api/v2/chat/incremental/chats?fields=chats(*)&limit=100&start_time=0",
        "chats",
        100,
    );
    assert_eq!(pages, 3);
    assert_eq!(items.len(), 252);
    assert_eq!(ids(&items), ids(&sb.expected("chats")));
    let tail: Vec<&str> = items[250..]
        .iter()
        .map(|c| c["update_timestamp"].as_str().expect("ts"))
        .collect();
    assert_eq!(tail, ["2099-01-01T00:00:00Z", "2099-01-01T00:00:01Z"]);
    assert!(items[..250]
        .iter()
        .all(|c| secs(&c["update_timestamp"]) < 1_800_000_000));
    // The 5-minute rule still refuses a start_time at the future chats.
    let r = get(&sb, "/api/v2/chat/incremental/chats?start_time=4070908800");
    assert_eq!(r.status, 400);
}

fn starts(layout: Layout) -> Vec<i64> {
    let sb = spawn(SandboxConfig {
        chats: 2000,
        layout,
        range_start_epoch_secs: Some(1_600_000_000),
        range_end_epoch_secs: Some(1_700_000_000),
        ..SandboxConfig::default()
    });
    let (items, _) = page_export(
        &sb,
        "/api/v2/chat/incremental/chats?fields=chats(*)&limit=1000&start_time=0",
        "chats",
        1000,
    );
    assert_eq!(items.len(), 2000, "{layout:?}");
    let unique: BTreeSet<String> = ids(&items).into_iter().collect();
    assert_eq!(unique.len(), 2000, "{layout:?}: each chat once");
    assert!(items
        .iter()
        .all(|c| secs(&c["update_timestamp"]) < 1_700_000_000));
    items.iter().map(|c| secs(&c["timestamp"])).collect()
}

/// Share of chats per tenth of the range 1.6e9..1.7e9.
fn deciles(ts: &[i64]) -> [usize; 10] {
    let mut d = [0usize; 10];
    for t in ts {
        d[((t - 1_600_000_000) / 10_000_000).clamp(0, 9) as usize] += 1;
    }
    d
}

#[test]
fn layouts_place_the_chats_where_they_say() {
    let even = deciles(&starts(Layout::Even));
    assert!(even.iter().all(|&n| (120..=280).contains(&n)), "{even:?}");
    let last5 = starts(Layout::Last5);
    let lo = 1_700_000_000 - 2 * 86_400 - (100_000_000 - 2 * 86_400) / 20;
    assert!(last5.iter().all(|&t| t >= lo - 1), "last5");
    let first5 = starts(Layout::First5);
    assert!(first5.iter().all(|&t| t < 1_605_000_000), "first5");
    let bursts = starts(Layout::Bursts);
    let mut per_burst = [0usize; 4];
    for t in &bursts {
        let pct = (t - 1_600_000_000) * 100 / 99_827_200;
        let k = [10, 40, 70, 95].iter().position(|&c| pct == c);
        per_burst[k.expect("every chat inside a burst")] += 1;
    }
    assert!(per_burst.iter().all(|&n| n > 300), "{per_burst:?}");
}

#[test]
fn control_endpoints_drive_late_updates() {
    let sb = spawn(SandboxConfig {
        chats: 100,
        ..SandboxConfig::default()
    });
    let at = now() - 400;
    let target = format!("/_sandbox/update_chats?count=20&at={at}&lag=100000");
    let r = request(sb.addr(), "POST", &target, &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().map(Vec::len), Some(20));
    let pending = get(&sb, "/_sandbox/pending_chats").json()["pending"].as_u64();
    assert!(pending.is_some_and(|n| n >= 19), "{pending:?}");
    let visible = get(
        &sb,
        &format!("/_sandbox/expected/chats?visible_at={}", now()),
    );
    let visible_n = visible.json().as_array().map(Vec::len);
    assert_eq!(visible_n, Some(100 - pending.unwrap_or(0) as usize));
    let versions = get(&sb, "/_sandbox/chat_versions").json();
    assert_eq!(versions.as_array().map(Vec::len), Some(100));
    let r = request(sb.addr(), "POST", "/_sandbox/index_pending", &[], b"");
    assert_eq!(r.json()["published"].as_u64(), pending);
    assert_eq!(get(&sb, "/_sandbox/pending_chats").json()["pending"], 0);
}
