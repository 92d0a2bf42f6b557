//! Crate-internal tests: chat rendering invariants, determinism and render speed.

use crate::chat;
use crate::config::SandboxConfig;
use crate::data::Dataset;
use serde_json::Value;
use std::collections::HashSet;

fn render_all(cfg: &SandboxConfig) -> (Dataset, Vec<(crate::data::Entry, Vec<u8>)>) {
    let ds = Dataset::new(cfg);
    let idx = ds.build_index();
    let out = idx
        .iter()
        .map(|e| {
            let mut b = Vec::new();
            chat::render(&ds, e, &mut b);
            (*e, b)
        })
        .collect();
    (ds, out)
}

fn secs(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .timestamp()
}

fn micros(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .timestamp_micros()
}

#[test]
fn every_chat_is_valid_json_and_reconciles() {
    let cfg = SandboxConfig {
        chats: 3000,
        tie_chats: 200,
        ..SandboxConfig::default()
    };
    let (ds, chats) = render_all(&cfg);
    let agent_ids: HashSet<String> = ds.agents.iter().map(|a| a.id.to_string()).collect();
    let mut ids = HashSet::new();
    let (mut offline, mut deleted, mut total_bytes) = (0usize, 0usize, 0usize);
    let mut quirk_seen = [false; 6];
    let mut prev_key: Option<(i64, String)> = None;
    for (e, bytes) in &chats {
        total_bytes += bytes.len();
        let v: Value = serde_json::from_slice(bytes).unwrap_or_else(|err| {
            panic!(
                "invalid JSON for {}: {err}\n{}",
                e.id_str(),
                String::from_utf8_lossy(bytes)
            )
        });
        let id = v["id"].as_str().expect("id");
        assert_eq!(id, e.id_str());
        assert!(ids.insert(id.to_string()), "duplicate id {id}");
        let parts: Vec<&str> = id.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1], ds.account_str);
        assert_eq!(parts[2].len(), 13);
        let ts = secs(v["timestamp"].as_str().expect("timestamp"));
        let upd = secs(v["update_timestamp"].as_str().expect("update_timestamp"));
        assert_eq!(upd, e.ts);
        assert_eq!(
            &parts[0][..2],
            &chrono::DateTime::from_timestamp(ts, 0)
                .expect("ts")
                .format("%y")
                .to_string()
        );
        let key = (upd, id.to_string());
        if let Some(p) = &prev_key {
            assert!(p < &key, "index not sorted");
        }
        prev_key = Some(key);
        if v["deleted"] == true {
            deleted += 1;
        }
        if v.get("brand_new_field").is_some() {
            quirk_seen[0] = true;
        }
        if v["unread"].is_number() {
            quirk_seen[1] = true;
        }
        if v["type"] == "offline_msg" {
            offline += 1;
            assert!(v.get("history").is_none());
            assert_eq!(v["webpath"], serde_json::json!([]));
            assert!(v["message"].is_string());
            continue;
        }
        assert_eq!(v["type"], "chat");
        let hist = v["history"].as_array().expect("history");
        assert!((4..=40).contains(&hist.len()), "history len {}", hist.len());
        let mut last_t = i64::MIN;
        let (mut nv, mut na, mut last_msg) = (0u64, 0u64, 0i64);
        for h in hist {
            let t = micros(h["timestamp"].as_str().expect("event ts"));
            assert!(t > last_t, "history not chronological in {id}");
            last_t = t;
            assert!(
                h["timestamp"].as_str().expect("ts").len() == 27,
                "µs timestamp"
            );
            if h["type"] == "chat.msg" {
                last_msg = t;
                if h["sender_type"] == "Visitor" {
                    nv += 1;
                    assert!(h.get("msg_id").is_some());
                    if h["msg_id"].is_number() {
                        quirk_seen[2] = true;
                    }
                } else {
                    na += 1;
                    assert!(h.get("msg_id").is_none());
                    if h["sender_type"] == "Agent" {
                        assert!(agent_ids.contains(h["agent_id"].as_str().expect("agent_id")));
                    } else {
                        assert_eq!(h["sender_type"], "Trigger");
                        assert!(h["trigger_id"].is_u64());
                    }
                }
            }
            if h["department_id"].is_string() {
                quirk_seen[3] = true;
            }
        }
        let count = &v["count"];
        assert_eq!(count["visitor"], nv, "{id}");
        assert_eq!(count["agent"], na, "{id}");
        assert_eq!(count["total"], nv + na, "{id}");
        let first = &hist[0];
        assert_eq!(first["type"], "chat.memberjoin");
        assert!(first.get("department_id").is_some());
        let lastev = hist.last().expect("last");
        assert_eq!(lastev["type"], "chat.memberleave");
        assert_eq!(
            secs(v["end_timestamp"].as_str().expect("end")),
            micros(lastev["timestamp"].as_str().expect("t")).div_euclid(1_000_000)
        );
        assert_eq!(
            v["duration"],
            (last_msg - ts * 1_000_000).div_euclid(1_000_000)
        );
        assert!(
            upd >= secs(v["end_timestamp"].as_str().expect("end")) || e.idx as usize >= cfg.chats
        );
        let agents = v["agent_ids"].as_array().expect("agent_ids");
        assert_eq!(
            agents.len(),
            v["agent_names"].as_array().expect("names").len()
        );
        assert_eq!(
            agents.len(),
            v["engagements"].as_array().expect("eng").len()
        );
        assert_eq!(v["missed"], agents.is_empty());
        for a in agents {
            assert!(agent_ids.contains(a.as_str().expect("string agent id")));
        }
        for eng in v["engagements"].as_array().expect("eng") {
            assert!(secs(eng["timestamp"].as_str().expect("eng ts")) >= ts - 60);
            assert!(eng["duration"].as_f64().expect("dur") >= 0.0);
        }
        let rt = &v["response_time"];
        if na > 0 && !agents.is_empty() && rt["first"].is_number() {
            assert!(rt["max"].as_u64() >= rt["first"].as_u64());
        }
        assert!(v["webpath"].as_array().expect("webpath").len() <= 5);
        for w in v["webpath"].as_array().expect("webpath") {
            if w.is_array() {
                quirk_seen[4] = true;
            }
        }
        if v["triggered_response"].is_null() {
            quirk_seen[5] = true;
        }
    }
    let n = chats.len();
    assert_eq!(n, 3200);
    let off = offline as f64 / n as f64;
    assert!((0.15..0.25).contains(&off), "offline share {off}");
    assert!(deleted > 0 && deleted < n / 20);
    assert!(quirk_seen.iter().all(|x| *x), "quirks seen {quirk_seen:?}");
    let avg = total_bytes / n;
    eprintln!("average chat size {avg} bytes over {n} chats");
    assert!((1500..5000).contains(&avg), "average chat size {avg}");
}

#[test]
fn no_quirks_means_clean_types() {
    let cfg = SandboxConfig {
        chats: 1500,
        quirks: false,
        ..SandboxConfig::default()
    };
    let (ds, chats) = render_all(&cfg);
    for (_, b) in &chats {
        let v: Value = serde_json::from_slice(b).expect("json");
        assert!(v["unread"].is_boolean());
        assert!(v.get("brand_new_field").is_none());
        if v["type"] == "chat" {
            assert!(v["triggered_response"].is_boolean());
        }
        for w in v["webpath"].as_array().expect("webpath") {
            assert!(w.is_object());
        }
        for h in v["history"].as_array().into_iter().flatten() {
            if let Some(m) = h.get("msg_id") {
                assert!(m.is_string());
            }
            if let Some(d) = h.get("department_id") {
                assert!(d.is_null() || d.is_u64());
            }
        }
    }
    for (_, a) in &ds.agents_json {
        assert!(a["enabled"].is_boolean());
    }
    for (_, b) in &ds.bans_json {
        assert!(b["created_at"].is_string());
    }
}

#[test]
fn tie_chats_share_one_second() {
    let cfg = SandboxConfig {
        chats: 100,
        tie_chats: 1200,
        ..SandboxConfig::default()
    };
    let ds = Dataset::new(&cfg);
    let idx = ds.build_index();
    let tied = idx.iter().filter(|e| e.ts == crate::data::TIE_TS).count();
    assert!(tied >= 1200);
}

#[test]
fn rendering_is_deterministic_and_seed_dependent() {
    let cfg = SandboxConfig {
        chats: 300,
        ..SandboxConfig::default()
    };
    let (_, a) = render_all(&cfg);
    let (_, b) = render_all(&cfg);
    assert!(a.iter().zip(b.iter()).all(|(x, y)| x.1 == y.1));
    let (_, c) = render_all(&SandboxConfig { seed: 7, ..cfg });
    assert_ne!(a[0].1, c[0].1);
}

/// `cargo test --release -p zendesk-chat-sandbox render_speed -- --ignored --nocapture`
#[test]
#[ignore]
fn render_speed() {
    let cfg = SandboxConfig {
        chats: 100_000,
        ..SandboxConfig::default()
    };
    let t0 = std::time::Instant::now();
    let ds = Dataset::new(&cfg);
    let idx = ds.build_index();
    let build = t0.elapsed();
    let t1 = std::time::Instant::now();
    let mut b = Vec::with_capacity(4 << 20);
    let mut bytes = 0usize;
    for chunk in idx.chunks(1000) {
        b.clear();
        for e in chunk {
            chat::render(&ds, e, &mut b);
        }
        bytes += b.len();
    }
    let el = t1.elapsed();
    println!(
        "index build {:?}; rendered {} chats in {:?}: {:.0} chats/s, {:.1} MB/s, avg {} bytes",
        build,
        idx.len(),
        el,
        idx.len() as f64 / el.as_secs_f64(),
        bytes as f64 / el.as_secs_f64() / 1e6,
        bytes / idx.len()
    );
}

/// FNV-1a over every byte the default data set serves (all chats rendered in index order, then
/// every small resource), separated by a marker so that moved bytes change the hash.
fn default_dataset_hash() -> u64 {
    let (ds, chats) = render_all(&SandboxConfig::default());
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &c in bytes.iter().chain(b"\x00|") {
            h ^= u64::from(c);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for (_, body) in &chats {
        feed(body);
    }
    let pairs = [&ds.agents_json, &ds.bans_json];
    for list in pairs {
        for (_, v) in list.iter() {
            feed(&serde_json::to_vec(v).expect("json"));
        }
    }
    for (_, v) in &ds.timeline_json {
        feed(&serde_json::to_vec(v).expect("json"));
    }
    let lists = [
        &ds.departments_json,
        &ds.goals_json,
        &ds.roles_json,
        &ds.shortcuts_json,
        &ds.skills_json,
        &ds.triggers_json,
    ];
    for list in lists {
        feed(&serde_json::to_vec(list).expect("json"));
    }
    feed(&serde_json::to_vec(&ds.account_json).expect("json"));
    feed(&serde_json::to_vec(&ds.routing_json).expect("json"));
    h
}

/// Computed on commit 1aef120 (before the switches and the refactor): the default data set must
/// stay byte-identical.
const DEFAULT_DATASET_HASH: u64 = 16_947_173_547_321_145_106;

#[test]
fn default_dataset_bytes_are_unchanged() {
    assert_eq!(
        default_dataset_hash(),
        DEFAULT_DATASET_HASH,
        "the default data set's bytes changed"
    );
}
