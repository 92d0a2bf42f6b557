//! HTTP-level tests of the sandbox: incremental paging, auth/token rotation, rate limits, faults.

mod common;
use common::*;
use serde_json::Value;
use std::collections::HashSet;
use std::net::SocketAddr;
use zendesk_chat_sandbox::{Faults, SandboxConfig};

#[test]
fn tie_of_1500_is_paged_exactly_once_by_end_time_and_end_id() {
    let sb = spawn(SandboxConfig {
        chats: 300,
        tie_chats: 1500,
        ..Default::default()
    });
    let expected: Vec<String> = sb
        .expected("chats")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(expected.len(), 1800);
    // Follow end_time / end_id manually.
    let (mut st, mut sid) = (0i64, String::new());
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let mut t = format!("/api/v2/chat/incremental/chats?limit=1000&start_time={st}");
        if !sid.is_empty() {
            t.push_str(&format!("&start_id={sid}"));
        }
        let r = get(&sb, &t);
        assert_eq!(r.status, 200);
        let v = r.json();
        let items = v["chats"].as_array().expect("chats");
        assert_eq!(v["count"].as_u64(), Some(items.len() as u64));
        assert!(v["next_page"].is_string(), "next_page always present");
        for c in items {
            assert_eq!(
                c.as_object().expect("obj").len(),
                1,
                "ids only without fields"
            );
            seen.push(c["id"].as_str().expect("id").to_string());
        }
        pages += 1;
        if items.len() < 1000 {
            break;
        }
        st = v["end_time"].as_i64().expect("end_time");
        sid = v["end_id"].as_str().expect("end_id").to_string();
        assert!(pages < 10, "paging does not terminate");
    }
    assert_eq!(pages, 2);
    assert_eq!(
        seen, expected,
        "every chat exactly once, in (update_timestamp, id) order"
    );
    let uniq: HashSet<&String> = seen.iter().collect();
    assert_eq!(uniq.len(), 1800);

    // Following next_page verbatim (with fields=chats(*)) gives the same sequence and full objects.
    let mut target =
        "/api/v2/chat/incremental/chats?fields=chats%28%2A%29&limit=1000&start_time=0".to_string();
    let mut seen2 = Vec::new();
    loop {
        let v = get(&sb, &target).json();
        let items = v["chats"].as_array().expect("chats");
        for c in items {
            assert!(c["update_timestamp"].is_string() && c["type"].is_string());
            seen2.push(c["id"].as_str().expect("id").to_string());
        }
        let next = v["next_page"].as_str().expect("next_page");
        assert!(next.starts_with("http://chat-sandbox.test/api/v2/chat/incremental/chats?fields=chats%28%2A%29&limit=1000&start_time="));
        if items.len() < 1000 {
            break;
        }
        target = target_of(next);
    }
    assert_eq!(seen2, expected);
}

#[test]
fn start_time_is_inclusive_without_start_id_and_tie_break_with_it() {
    let sb = spawn(SandboxConfig {
        chats: 400,
        tie_chats: 5,
        ..Default::default()
    });
    let all = sb.expected("chats");
    let tie = 1_718_452_800i64;
    let tied: Vec<&str> = all
        .iter()
        .filter(|c| c["update_timestamp"] == "2024-06-15T12:00:00Z")
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert!(tied.len() >= 5);
    let v = get(
        &sb,
        &format!("/api/v2/chat/incremental/chats?start_time={tie}&limit=3"),
    )
    .json();
    let ids: Vec<&str> = v["chats"]
        .as_array()
        .expect("chats")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        tied[..3].to_vec(),
        "inclusive start_time returns the boundary second first"
    );
    assert_eq!(v["end_time"], tie);
    assert_eq!(v["end_id"], tied[2]);
    let next = v["next_page"].as_str().expect("next");
    assert!(
        next.ends_with(&format!("limit=3&start_time={tie}&start_id={}", tied[2])),
        "{next}"
    );
    let v2 = get(&sb, &target_of(next)).json();
    assert_eq!(
        v2["chats"][0]["id"], tied[3],
        "start_id excludes ids <= start_id in that second"
    );
    // start_id on an earlier second does not hide later seconds.
    let v3 = get(
        &sb,
        &format!(
            "/api/v2/chat/incremental/chats?start_time={}&start_id=zzzz&limit=1",
            tie - 1
        ),
    )
    .json();
    assert_eq!(v3["chats"][0]["id"], tied[0]);
}

#[test]
fn start_time_must_be_five_minutes_old_and_empty_page_envelope() {
    let sb = spawn(SandboxConfig {
        chats: 50,
        ..Default::default()
    });
    let r = get(
        &sb,
        &format!("/api/v2/chat/incremental/chats?start_time={}", now() - 60),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        serde_json::json!({"error": "Bad Request", "description": "start_time must be more than five minutes in the past"})
    );
    let st = now() - 400;
    let r = get(
        &sb,
        &format!("/api/v2/chat/incremental/chats?start_time={st}&fields=chats(*)"),
    );
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["count"], 0);
    assert_eq!(v["chats"], serde_json::json!([]));
    assert_eq!(v["end_time"], st);
    assert_eq!(v["end_id"], "");
    assert_eq!(
        v["next_page"],
        format!("http://chat-sandbox.test/api/v2/chat/incremental/chats?fields=chats%28%2A%29&limit=1000&start_time={st}")
    );
    // Limit above the maximum, and garbage parameters.
    assert_eq!(
        get(&sb, "/api/v2/chat/incremental/chats?limit=1001").status,
        400
    );
    assert_eq!(
        get(&sb, "/api/v2/chat/incremental/chats?start_time=abc").status,
        400
    );
    let r = get(
        &sb,
        "/api/v2/chat/incremental/agent_timeline?start_time=99999999999999999",
    );
    assert_eq!(r.status, 400);
}

#[test]
fn last_page_has_next_page_and_fields_subselection() {
    let sb = spawn(SandboxConfig {
        chats: 30,
        ..Default::default()
    });
    let v = get(
        &sb,
        "/api/v2/chat/incremental/chats?start_time=0&fields=chats(id,update_timestamp,type)",
    )
    .json();
    assert_eq!(v["count"], 30);
    assert!(v["next_page"]
        .as_str()
        .expect("next")
        .contains("fields=chats%28id%2Cupdate_timestamp%2Ctype%29"));
    for c in v["chats"].as_array().expect("chats") {
        let keys: HashSet<&str> = c
            .as_object()
            .expect("obj")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, HashSet::from(["id", "update_timestamp", "type"]));
    }
    let last = v["end_id"].as_str().expect("end_id");
    assert_eq!(v["chats"][29]["id"], last);
}

#[test]
fn agents_since_id_is_inclusive_and_limit_is_capped() {
    let sb = spawn(SandboxConfig {
        agents: 130,
        ..Default::default()
    });
    let all = sb.expected("agents");
    let ids: Vec<u64> = all.iter().map(|a| a["id"].as_u64().expect("id")).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert!(ids.iter().all(|&i| i > (1u64 << 31)));
    assert_eq!(get(&sb, "/api/v2/chat/agents?limit=400").status, 400);
    assert_eq!(get(&sb, "/api/v2/chat/agents?limit=101").status, 400);
    let first = get(&sb, "/api/v2/chat/agents").json();
    assert_eq!(
        first.as_array().expect("arr").len(),
        100,
        "default limit 100"
    );
    let v = get(
        &sb,
        &format!("/api/v2/chat/agents?since_id={}&limit=5", ids[7]),
    )
    .json();
    let got: Vec<u64> = v
        .as_array()
        .expect("arr")
        .iter()
        .map(|a| a["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(got, ids[7..12].to_vec(), "since_id inclusive");
    // Page through with last+1 like the peers do.
    let mut since = 0u64;
    let mut seen = Vec::new();
    loop {
        let v = get(
            &sb,
            &format!("/api/v2/chat/agents?since_id={since}&limit=100"),
        )
        .json();
        let page = v.as_array().expect("arr");
        if page.is_empty() {
            break;
        }
        for a in page {
            seen.push(a["id"].as_u64().expect("id"));
        }
        since = seen.last().copied().expect("last") + 1;
    }
    assert_eq!(seen, ids);
    assert_eq!(
        get(
            &sb,
            &format!("/api/v2/chat/agents?since_id={}", ids[129] + 1)
        )
        .json(),
        serde_json::json!([])
    );
}

#[test]
fn bans_page_over_the_union_and_split_by_kind() {
    let sb = spawn(SandboxConfig {
        bans: 45,
        ..Default::default()
    });
    let all = sb.expected("bans");
    let ids: Vec<u64> = all.iter().map(|b| b["id"].as_u64().expect("id")).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert!(all.iter().any(|b| b["created_at"].is_null()));
    let v = get(&sb, "/api/v2/chat/bans").json();
    let ip = v["ip_address"].as_array().expect("ip");
    let vis = v["visitor"].as_array().expect("visitor");
    assert_eq!(ip.len() + vis.len(), 10, "default limit 10 over the union");
    assert!(ip
        .iter()
        .all(|b| b["type"] == "ip_address" && b.get("visitor_id").is_none()));
    assert!(vis
        .iter()
        .all(|b| b["type"] == "visitor" && b.get("ip_address").is_none()));
    let mut got: Vec<u64> = ip
        .iter()
        .chain(vis.iter())
        .map(|b| b["id"].as_u64().expect("id"))
        .collect();
    got.sort();
    assert_eq!(got, ids[..10].to_vec());
    let mut since = 0;
    let mut seen = Vec::new();
    loop {
        let v = get(&sb, &format!("/api/v2/chat/bans?since_id={since}&limit=7")).json();
        let mut page: Vec<u64> = ["ip_address", "visitor"]
            .iter()
            .flat_map(|k| {
                v[k].as_array()
                    .expect("arr")
                    .iter()
                    .map(|b| b["id"].as_u64().expect("id"))
            })
            .collect();
        if page.is_empty() {
            break;
        }
        page.sort();
        since = page.last().copied().expect("last") + 1;
        seen.extend(page);
    }
    assert_eq!(seen, ids);
    assert_eq!(get(&sb, "/api/v2/chat/bans?limit=1001").status, 400);
}

#[test]
fn token_expiry_rotation_and_reuse_rejection() {
    let sb = spawn(SandboxConfig {
        token_ttl_requests: Some(3),
        chats: 10,
        ..Default::default()
    });
    assert_eq!(get_tok(&sb, "/api/v2/chat/account", "nope").status, 401);
    let r = request(sb.addr(), "GET", "/api/v2/chat/account", &[], b"");
    assert_eq!(r.status, 401);
    // Non-2xx answers do not consume the token's lifetime.
    assert_eq!(get(&sb, "/api/v2/chat/agents?limit=500").status, 400);
    for _ in 0..3 {
        assert_eq!(get(&sb, "/api/v2/chat/account").status, 200);
    }
    let r = get(&sb, "/api/v2/chat/account");
    assert_eq!(r.status, 401, "static token expires after 3 requests");
    assert_eq!(
        r.json(),
        serde_json::json!({"error": "Unauthorized", "description": "The server could not verify that you are authorized to access the requested resource"})
    );
    // Wrong secret.
    let r = post_form(&sb, "grant_type=refresh_token&refresh_token=sandbox-refresh-0001&client_id=sandbox-client-1&client_secret=bad");
    assert_eq!(r.status, 401);
    let form = |rt: &str| {
        format!("grant_type=refresh_token&refresh_token={rt}&client_id=sandbox-client-1&client_secret=sandbox-secret-0001")
    };
    let r = post_form(&sb, &form("sandbox-refresh-0001"));
    assert_eq!(r.status, 200);
    let v = r.json();
    let access = v["access_token"].as_str().expect("access").to_string();
    let refresh = v["refresh_token"].as_str().expect("refresh").to_string();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    for t in [&access, &refresh] {
        assert_eq!(t.len(), 64);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric()));
    }
    assert_eq!(sb.current_access_token(), access);
    assert_eq!(sb.current_refresh_token(), refresh);
    for _ in 0..3 {
        assert_eq!(get_tok(&sb, "/api/v2/chat/agents", &access).status, 200);
    }
    assert_eq!(get_tok(&sb, "/api/v2/chat/agents", &access).status, 401);
    // The old refresh token is single use.
    let r = post_form(&sb, &form("sandbox-refresh-0001"));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");
    // The rotated one works once.
    let r = post_form(&sb, &form(&refresh));
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_ne!(v["refresh_token"], refresh.as_str());
    assert_ne!(v["access_token"], access.as_str());
    assert_eq!(post_form(&sb, &form(&refresh)).status, 400);
    // client_credentials: a new access token, no refresh token.
    let r = post_form(&sb, "grant_type=client_credentials&client_id=sandbox-client-1&client_secret=sandbox-secret-0001");
    assert_eq!(r.status, 200);
    let v = r.json();
    assert!(v.get("refresh_token").is_none());
    assert_eq!(
        get_tok(
            &sb,
            "/api/v2/chat/skills",
            v["access_token"].as_str().expect("tok")
        )
        .status,
        200
    );
    let st = sb.stats();
    assert_eq!(st.token_refreshes, 3);
    assert_eq!(st.refresh_token_reuse_rejected, 2);
    assert_eq!(st.responses_401, 4);
    assert_eq!(st.requests, 5 + 1 + 4 + 1 + 1);
}

#[test]
fn rpm_limit_answers_429_with_retry_after() {
    let sb = spawn(SandboxConfig {
        chats: 10,
        faults: Faults {
            rpm_limit: Some(5),
            ..Default::default()
        },
        ..Default::default()
    });
    for _ in 0..5 {
        let r = get(&sb, "/api/v2/chat/departments");
        assert_eq!(r.status, 200);
        assert_eq!(r.headers.get("x-rate-limit").map(String::as_str), Some("5"));
    }
    let r = get(&sb, "/api/v2/chat/departments");
    assert_eq!(r.status, 429);
    let ra: u64 = r
        .headers
        .get("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("int");
    assert!((55..=60).contains(&ra), "retry-after {ra}");
    assert_eq!(r.json()["error"], "Too Many Requests");
    let st = sb.stats();
    assert_eq!(st.responses_429, 1);
    assert_eq!(st.by_status.get(&200), Some(&5));
    // Lifting the limit at run time.
    sb.set_faults(Faults::default());
    assert_eq!(get(&sb, "/api/v2/chat/departments").status, 200);
}

#[test]
fn same_seed_same_bytes() {
    let cfg = SandboxConfig {
        chats: 200,
        ..Default::default()
    };
    let a = spawn(cfg.clone());
    let b = spawn(cfg.clone());
    let c = spawn(SandboxConfig { seed: 43, ..cfg });
    for path in [
        "/api/v2/chat/incremental/chats?fields=chats(*)&start_time=0&limit=150",
        "/api/v2/chat/agents",
        "/api/v2/chat/bans?limit=1000",
        "/api/v2/chat/incremental/agent_timeline?limit=50",
        "/api/v2/chat/triggers",
        "/api/v2/chat/account",
    ] {
        assert_eq!(get(&a, path).body, get(&b, path).body, "{path}");
    }
    let p = "/api/v2/chat/incremental/chats?fields=chats(*)&start_time=0&limit=150";
    assert_ne!(get(&a, p).body, get(&c, p).body);
}

#[test]
fn update_chats_moves_chats_to_the_end_with_new_content() {
    let sb = spawn(SandboxConfig {
        chats: 100,
        ..Default::default()
    });
    let before = sb.expected("chats");
    let at = now() - 3600;
    let ids = sb.update_chats(5, Some(at));
    assert_eq!(ids.len(), 5);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 5);
    let v = get(
        &sb,
        &format!(
            "/api/v2/chat/incremental/chats?fields=chats(*)&start_time={}",
            at - 10
        ),
    )
    .json();
    let got: HashSet<String> = v["chats"]
        .as_array()
        .expect("arr")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(got, ids.iter().cloned().collect::<HashSet<_>>());
    for c in v["chats"].as_array().expect("arr") {
        assert!(c["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .any(|t| t == "updated"));
        let old = before.iter().find(|o| o["id"] == c["id"]).expect("old");
        assert_ne!(old["update_timestamp"], c["update_timestamp"]);
    }
    assert_eq!(v["end_time"], at);
    let after = sb.expected("chats");
    assert_eq!(after.len(), 100);
    // Control endpoint does the same.
    let r = request(
        sb.addr(),
        "POST",
        &format!("/_sandbox/update_chats?count=2&at={at}"),
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().expect("ids").len(), 2);
}

#[test]
fn faults_not_found_forbidden_malformed_and_burst() {
    let sb = spawn(SandboxConfig {
        chats: 20,
        faults: Faults {
            not_found: vec!["agent_timeline".into(), "routing_settings".into()],
            forbidden: vec!["account".into()],
            malformed_json: vec!["skills".into()],
            burst_5xx: Some((6, 2)),
            ..Default::default()
        },
        ..Default::default()
    });
    assert_eq!(
        get(&sb, "/api/v2/chat/incremental/agent_timeline").status,
        404
    );
    assert_eq!(
        get(&sb, "/api/v2/chat/routing_settings/account").status,
        404
    );
    let r = get(&sb, "/api/v2/chat/account");
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "Forbidden");
    let r = get(&sb, "/api/v2/chat/skills");
    assert_eq!(r.status, 200);
    assert!(
        serde_json::from_slice::<Value>(&r.body).is_err(),
        "truncated body"
    );
    assert_eq!(get(&sb, "/api/v2/chat/nope").status, 404);
    assert_eq!(get(&sb, "/api/v2/chat/goals").status, 200); // request 6
    assert_eq!(get(&sb, "/api/v2/chat/goals").status, 503); // 7
    assert_eq!(get(&sb, "/api/v2/chat/goals").status, 503); // 8
    assert_eq!(get(&sb, "/api/v2/chat/goals").status, 200); // 9
    let st = sb.stats();
    assert_eq!(st.requests, 9);
    assert_eq!(st.responses_5xx, 2);
    assert_eq!(st.by_resource.get("goals"), Some(&4));
    assert_eq!(st.by_resource.get("unknown"), Some(&1));
    assert!(st
        .log
        .last()
        .expect("log")
        .starts_with("GET /api/v2/chat/goals -> 200"));
    // Random faults: all requests fail at probability 1.
    sb.set_faults(Faults {
        error_rate_5xx: 1.0,
        ..Default::default()
    });
    let r = get(&sb, "/api/v2/chat/goals");
    assert!([500, 502, 503].contains(&r.status));
    sb.set_faults(Faults {
        rate_429: 1.0,
        retry_after_secs: 7,
        ..Default::default()
    });
    let r = get(&sb, "/api/v2/chat/goals");
    assert_eq!(r.status, 429);
    assert_eq!(r.headers.get("retry-after").map(String::as_str), Some("7"));
    // Faults through the control endpoint (partial JSON).
    let r = request(
        sb.addr(),
        "POST",
        "/_sandbox/faults",
        &[("Content-Type", "application/json")],
        br#"{"forbidden":["goals"]}"#,
    );
    assert_eq!(r.status, 200);
    assert_eq!(get(&sb, "/api/v2/chat/goals").status, 403);
    let r = request(sb.addr(), "GET", "/_sandbox/stats", &[], b"");
    assert_eq!(r.json()["requests"], 12);
}

#[test]
fn small_resources_and_agent_timeline_paging() {
    let sb = spawn(SandboxConfig {
        chats: 10,
        agent_timeline: 2500,
        ..Default::default()
    });
    for (path, n) in [
        ("departments", 5),
        ("goals", 3),
        ("roles", 4),
        ("shortcuts", 6),
        ("skills", 4),
        ("triggers", 5),
    ] {
        let v = get(&sb, &format!("/api/v2/chat/{path}")).json();
        assert_eq!(v.as_array().expect("array").len(), n, "{path}");
        assert_eq!(sb.expected(path).len(), n);
    }
    let v = get(&sb, "/api/v2/chat/routing_settings/account").json();
    assert_eq!(v["data"], sb.expected("routing_settings")[0]);
    let v = get(&sb, "/api/v2/chat/account").json();
    assert_eq!(v, sb.expected("account")[0]);
    // Timeline: start_time inclusive, so the boundary item repeats on the next page.
    let mut st = 0i64;
    let mut seen: Vec<Value> = Vec::new();
    loop {
        let v = get(&sb, &format!("/api/v2/chat/incremental/agent_timeline?fields=agent_timeline(*)&limit=1000&start_time={st}")).json();
        let items = v["agent_timeline"].as_array().expect("items").clone();
        assert_eq!(v["count"], items.len());
        assert!(v["next_page"]
            .as_str()
            .expect("next")
            .contains("fields=agent_timeline%28%2A%29&limit=1000&start_time="));
        let new_end = v["end_time"].as_i64().expect("end");
        for it in &items {
            if !seen.contains(it) {
                seen.push(it.clone());
            }
        }
        if items.len() < 1000 {
            break;
        }
        assert!(new_end > st);
        st = new_end;
    }
    assert_eq!(seen, sb.expected("agent_timeline"));
}

#[test]
fn unknown_paths_get_json_404() {
    let sb = spawn(SandboxConfig {
        chats: 5,
        ..Default::default()
    });
    let r = request(sb.addr(), "GET", "/whatever", &[], b"");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "Not Found");
    assert_eq!(sb.base_url(), format!("http://{}/api/v2/chat/", sb.addr()));
}

#[test]
fn concurrent_requests_are_tracked() {
    let sb = spawn(SandboxConfig {
        chats: 10,
        faults: Faults {
            latency_ms: 200,
            ..Default::default()
        },
        ..Default::default()
    });
    let addr = sb.addr();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let r = request(
                    addr,
                    "GET",
                    "/api/v2/chat/roles",
                    &[("Authorization", "Bearer sandbox-token-0001")],
                    b"",
                );
                r.status
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("thread"), 200);
    }
    let st = sb.stats();
    assert_eq!(st.requests, 4);
    assert!(st.max_in_flight >= 2, "max_in_flight {}", st.max_in_flight);
}

#[test]
fn binary_prints_one_listening_line_and_serves() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_zendesk-chat-sandbox"))
        .args([
            "--chats",
            "20",
            "--max-lifetime-secs",
            "30",
            "--not-found",
            "agents,skills",
            "--forbidden",
            "account",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read line");
    let url = line
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .map(str::to_string);
    let port: u16 = url.expect("listening line").parse().expect("port");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let auth = [("Authorization", "Bearer sandbox-token-0001")];
    let st = |p: &str| request(addr, "GET", p, &auth, b"").status;
    assert_eq!(st("/api/v2/chat/agents"), 404);
    assert_eq!(st("/api/v2/chat/skills"), 404);
    assert_eq!(st("/api/v2/chat/account"), 403);
    assert_eq!(st("/api/v2/chat/incremental/chats"), 200);
    let _ = child.kill();
    let _ = child.wait();
}
