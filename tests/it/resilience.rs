//! Faults of the real API (server errors, rate limits, expiring tokens, broken bodies), process
//! kills, bad input and secret hygiene.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use zendesk_chat_sandbox::Sandbox;

use crate::util::*;

const SECRETS: &[&str] = &[
    "sandbox-token-0001",
    "sandbox-secret-0001",
    "sandbox-refresh-0001",
    "sandbox-client-1",
];

/// No configured secret, nor any token the fake issued, appears in stdout outside CONTROL
/// messages, or in stderr.
fn assert_no_secrets(run: &Run, sb: &Sandbox) {
    let mut secrets: Vec<String> = SECRETS.iter().map(|s| s.to_string()).collect();
    secrets.push(sb.current_access_token());
    secrets.push(sb.current_refresh_token());
    for line in run
        .stdout
        .lines()
        .filter(|l| !l.starts_with(r#"{"type":"CONTROL""#))
    {
        for s in &secrets {
            assert!(!line.contains(s.as_str()), "secret in stdout: {line:.200}");
        }
    }
    for s in &secrets {
        assert!(!run.stderr.contains(s.as_str()), "secret in stderr");
    }
}

fn assert_no_panic(run: &Run) {
    assert!(
        !run.stderr.contains("panicked"),
        "panic: {}",
        tail(&run.stderr, 2000)
    );
}

fn big_sandbox(f: impl FnOnce(&mut zendesk_chat_sandbox::SandboxConfig)) -> Sandbox {
    sandbox_with(|c| {
        c.chats = 5000;
        c.agents = 450;
        c.bans = 1500;
        c.agent_timeline = 2500;
        f(c);
    })
}

fn assert_equals_fake(run: &Run, sb: &Sandbox) {
    assert_eq!(
        canon("chats", &run.records("chats")),
        canon("chats", &sb.expected("chats"))
    );
    assert_eq!(
        canon("agents", &run.records("agents")),
        canon("agents", &sb.expected("agents"))
    );
    assert_eq!(
        canon("bans", &run.records("bans")),
        canon("bans", &sb.expected("bans"))
    );
    assert_eq!(
        run.records("agent_timeline").len(),
        sb.expected("agent_timeline").len()
    );
    assert_eq!(
        canon("departments", &run.records("departments")),
        canon("departments", &sb.expected("departments"))
    );
}

/// With 5% server errors and 2% 429s the sync completes and equals the fake's data.
#[test]
fn a_sync_survives_5xx_and_429() {
    let sb = big_sandbox(|c| {
        c.faults.error_rate_5xx = 0.05;
        c.faults.rate_429 = 0.02;
        c.faults.retry_after_secs = 1;
        c.faults.burst_5xx = Some((10, 3));
    });
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &catalog(ALL_STREAMS, "full_refresh")),
        ],
    );
    run.assert_ok().assert_bookkeeping(ALL_STREAMS);
    let stats = sb.stats();
    eprintln!(
        "requests {} 5xx {} 429 {}",
        stats.requests, stats.responses_5xx, stats.responses_429
    );
    assert!(
        stats.responses_5xx >= 4,
        "the fault injection must have fired: {stats:?}"
    );
    assert!(stats.responses_429 >= 1, "{stats:?}");
    assert_equals_fake(&run, &sb);
    assert_no_secrets(&run, &sb);
}

/// Persistent server errors end the stream with a transient_error naming the endpoint and
/// status, and a non-zero exit.
#[test]
fn persistent_server_errors_are_a_transient_error() {
    let sb = sandbox_with(|c| c.faults.burst_5xx = Some((0, 1_000)));
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &catalog(&["departments"], "full_refresh")),
        ],
    );
    assert_ne!(run.code, 0);
    let e = &run.errors()[0]["trace"]["error"];
    assert_eq!(e["failure_type"], "transient_error");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("departments") && msg.contains("HTTP 503"),
        "{msg}"
    );
    assert_no_panic(&run);
}

fn rate_limited_sandbox() -> Sandbox {
    // ~60 requests: more than one minute's budget of 40.
    sandbox_with(|c| {
        c.chats = 3000;
        c.agents = 900;
        c.bans = 2500;
        c.faults.rpm_limit = Some(40);
    })
}

/// Against a server allowing 40 requests/minute, `requests_per_minute: 40` never gets a 429.
#[test]
fn the_request_budget_avoids_429_entirely() {
    let sb = rate_limited_sandbox();
    let mut cfg = config(&sb);
    cfg["requests_per_minute"] = json!(40);
    let run = run(
        "read",
        &[
            ("config", &cfg),
            ("catalog", &catalog(ALL_STREAMS, "full_refresh")),
        ],
    );
    run.assert_ok();
    let stats = sb.stats();
    eprintln!("requests {} in {:?}", stats.requests, run.elapsed);
    assert!(
        stats.requests > 45,
        "the test must exceed one minute's budget: {}",
        stats.requests
    );
    assert_eq!(stats.responses_429, 0, "{stats:?}");
    assert_equals_fake(&run, &sb);
}

/// With the default 200/minute against the same server, the sync completes by honouring
/// Retry-After.
#[test]
fn retry_after_is_honoured() {
    let sb = rate_limited_sandbox();
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &catalog(ALL_STREAMS, "full_refresh")),
        ],
    );
    run.assert_ok();
    let stats = sb.stats();
    eprintln!(
        "requests {} 429s {} in {:?}",
        stats.requests, stats.responses_429, run.elapsed
    );
    assert!(stats.responses_429 >= 1, "{stats:?}");
    if run.elapsed.as_secs() > 40 {
        // Long waits keep the platform informed (it flags sources silent for 60 s).
        let heartbeats = run
            .of_type("LOG")
            .into_iter()
            .filter(|l| {
                l["log"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("slow down") || m.contains("budget"))
            })
            .count();
        assert!(
            heartbeats >= 1,
            "no heartbeat during a {:?} sync",
            run.elapsed
        );
    }
    assert!(
        stats.responses_429 <= 10,
        "a 429 must pause every request, not only its own: {stats:?}"
    );
    assert_equals_fake(&run, &sb);
}

/// An access token that expires every 3 requests is refreshed with rotating refresh tokens; each
/// refresh hands the new tokens to the platform in a CONTROL message; no spent refresh token is
/// ever reused.
#[test]
fn expiring_tokens_are_refreshed_and_rotated() {
    let sb = big_sandbox(|c| c.token_ttl_requests = Some(3));
    let cfg = oauth_config(&sb);
    let run = run(
        "read",
        &[
            ("config", &cfg),
            ("catalog", &catalog(ALL_STREAMS, "full_refresh")),
        ],
    );
    run.assert_ok().assert_bookkeeping(ALL_STREAMS);
    let stats = sb.stats();
    let controls = run.of_type("CONTROL");
    eprintln!(
        "requests {} refreshes {} controls {}",
        stats.requests,
        stats.token_refreshes,
        controls.len()
    );
    assert!(stats.token_refreshes >= 5, "{stats:?}");
    assert_eq!(stats.refresh_token_reuse_rejected, 0);
    assert_eq!(controls.len() as u64, stats.token_refreshes);
    let last = &controls.last().unwrap()["control"];
    assert_eq!(last["type"], "CONNECTOR_CONFIG");
    let new_cfg = &last["connectorConfig"]["config"];
    assert_eq!(
        new_cfg["credentials"]["refresh_token"],
        sb.current_refresh_token()
    );
    assert_eq!(
        new_cfg["credentials"]["access_token"],
        sb.current_access_token()
    );
    assert_eq!(
        new_cfg["credentials"]["client_secret"],
        cfg["credentials"]["client_secret"]
    );
    assert_eq!(new_cfg["start_date"], cfg["start_date"]);
    assert_equals_fake(&run, &sb);
    assert_no_secrets(&run, &sb);
}

/// Credentials whose fresh tokens never work (every token dies at once) end in a config_error
/// after a few refreshes, instead of refreshing forever.
#[test]
fn tokens_that_never_work_end_in_a_config_error() {
    let sb = sandbox_with(|c| c.token_ttl_requests = Some(0));
    let run = run(
        "read",
        &[
            ("config", &oauth_config(&sb)),
            ("catalog", &catalog(&["departments"], "full_refresh")),
        ],
    );
    assert_ne!(run.code, 0);
    let e = &run.errors().last().unwrap()["trace"]["error"];
    assert_eq!(e["failure_type"], "config_error");
    let refreshes = sb.stats().token_refreshes;
    assert!(
        (1..=6).contains(&refreshes),
        "bounded refreshes: {refreshes}"
    );
    assert_no_secrets(&run, &sb);
}

/// Without a refresh token, an expired token is a config_error that says what to do.
#[test]
fn an_expired_token_without_refresh_is_a_config_error() {
    let sb = sandbox_with(|c| c.token_ttl_requests = Some(2));
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            (
                "catalog",
                &catalog(&["agents", "departments", "goals", "roles"], "full_refresh"),
            ),
        ],
    );
    assert_ne!(run.code, 0);
    let e = &run.errors().last().unwrap()["trace"]["error"];
    assert_eq!(e["failure_type"], "config_error");
    assert!(
        e["message"].as_str().unwrap().contains("invalid, expired"),
        "{e}"
    );
    assert_no_secrets(&run, &sb);
}

/// A spent refresh token (the platform lost the rotated one) is a config_error asking to
/// re-authenticate.
#[test]
fn a_spent_refresh_token_is_a_config_error() {
    let sb = sandbox_with(|c| c.token_ttl_requests = Some(1));
    let cfg = oauth_config(&sb);
    let first = run(
        "read",
        &[
            ("config", &cfg),
            (
                "catalog",
                &catalog(&["departments", "goals"], "full_refresh"),
            ),
        ],
    );
    first.assert_ok();
    assert!(sb.stats().token_refreshes >= 1);
    // That sync rotated sandbox-refresh-0001 away; a config still holding it must fail cleanly.
    let run = run(
        "read",
        &[
            ("config", &cfg),
            (
                "catalog",
                &catalog(&["departments", "goals"], "full_refresh"),
            ),
        ],
    );
    assert_ne!(run.code, 0);
    let e = &run.errors().last().unwrap()["trace"]["error"];
    assert_eq!(e["failure_type"], "config_error");
    assert!(
        e["message"].as_str().unwrap().contains("Re-authenticate"),
        "{e}"
    );
    assert!(sb.stats().refresh_token_reuse_rejected >= 1);
    assert_no_secrets(&run, &sb);
}

/// kill -9 after the third STATE, then resume from the STATEs received: the committed records
/// plus the resumed ones equal the fake's data, with nothing twice.
#[test]
fn kill_9_then_resume_loses_nothing() {
    let sb = big_sandbox(|c| c.faults.latency_ms = 20);
    let streams = ["chats", "chat_history", "agents", "bans", "agent_timeline"];
    let cat = catalog(&streams, "incremental");
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("config.json");
    let cat_path = dir.path().join("catalog.json");
    std::fs::write(&cfg_path, config(&sb).to_string()).unwrap();
    std::fs::write(&cat_path, cat.to_string()).unwrap();
    let mut child = Command::new(BIN)
        .args(["read", "--config"])
        .arg(&cfg_path)
        .arg("--catalog")
        .arg(&cat_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut states = 0;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let is_state = line.starts_with(r#"{"type":"STATE""#);
        lines.push(line);
        if is_state {
            states += 1;
            if states == 3 {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
    }
    let _ = child.wait();
    let partial = parse_messages(&(lines.join("\n") + "\n"));
    // Records count as delivered only when a later STATE of their stream committed them.
    let mut committed: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut uncommitted: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut state_file = BTreeMap::new();
    for m in &partial {
        match m["type"].as_str() {
            Some("RECORD") => uncommitted
                .entry(m["record"]["stream"].as_str().unwrap().to_owned())
                .or_default()
                .push(m["record"]["data"].clone()),
            Some("STATE") => {
                let name = m["state"]["stream"]["stream_descriptor"]["name"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let pending = uncommitted.remove(&name).unwrap_or_default();
                committed.entry(name.clone()).or_default().extend(pending);
                state_file.insert(
                    name,
                    json!({"type": "STREAM", "stream": m["state"]["stream"].clone()}),
                );
            }
            _ => {}
        }
    }
    let state = Value::Array(state_file.into_values().collect());
    let resumed = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &cat),
            ("state", &state),
        ],
    );
    resumed.assert_ok();
    let chats = sb.expected("chats");
    for (stream, expected) in [
        ("chats", chats.clone()),
        ("agents", sb.expected("agents")),
        ("bans", sb.expected("bans")),
    ] {
        let mut all = committed.get(stream).cloned().unwrap_or_default();
        all.extend(resumed.records(stream));
        assert_eq!(
            sorted_unique(&canon(stream, &all), &["id"]),
            sorted_unique(&canon(stream, &expected), &["id"]),
            "{stream}: committed {} + resumed {}",
            committed.get(stream).map_or(0, Vec::len),
            resumed.records(stream).len()
        );
    }
    let mut history = committed.get("chat_history").cloned().unwrap_or_default();
    history.extend(resumed.records("chat_history"));
    assert_eq!(
        canon("chat_history", &history),
        canon("chat_history", &expected_children(&chats, "history"))
    );
    let mut timeline = ids(
        committed
            .get("agent_timeline")
            .map(Vec::as_slice)
            .unwrap_or(&[]),
        "id",
    );
    timeline.extend(ids(&resumed.records("agent_timeline"), "id"));
    assert_eq!(timeline.len(), sb.expected("agent_timeline").len());
    assert_eq!(
        timeline.iter().collect::<BTreeSet<_>>().len(),
        timeline.len(),
        "agent_timeline repeats"
    );
}

/// Malformed JSON from the API fails that stream with an error naming the endpoint and the
/// position; other streams still sync; no panic.
#[test]
fn malformed_api_json_is_a_clear_stream_error() {
    let sb = sandbox_with(|c| c.faults.malformed_json = vec!["agents".into()]);
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            (
                "catalog",
                &catalog(&["agents", "departments"], "full_refresh"),
            ),
        ],
    );
    assert_ne!(run.code, 0);
    assert_no_panic(&run);
    let errors = run.errors();
    let agents = errors
        .iter()
        .find(|e| e["trace"]["error"]["stream_descriptor"]["name"] == "agents")
        .expect("agents error");
    let msg = agents["trace"]["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("agents") && msg.contains("line") && msg.contains("column"),
        "{msg}"
    );
    assert_eq!(
        canon("departments", &run.records("departments")),
        canon("departments", &sb.expected("departments"))
    );
}

/// Unusable config, catalog or state files: a config_error TRACE, a non-zero exit, no panic.
#[test]
fn bad_input_files_get_clear_errors() {
    let sb = sandbox();
    let cfg = config(&sb).to_string();
    let good_cat = catalog(&["chats"], "incremental").to_string();
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a str);
    let cases: Vec<Case> = vec![
        ("config not JSON", vec![("config", "{{".into()), ("catalog", good_cat.clone())], "not valid JSON"),
        ("config missing field", vec![("config", r#"{"subdomain":"a"}"#.into()), ("catalog", good_cat.clone())], "start_date"),
        ("catalog not JSON", vec![("config", cfg.clone()), ("catalog", "nope".into())], "catalog"),
        ("catalog wrong shape", vec![("config", cfg.clone()), ("catalog", r#"{"streams": 3}"#.into())], "catalog"),
        ("unknown stream", vec![("config", cfg.clone()), ("catalog", catalog(&["__AIRBYTE__stream_that_does_not_exist"], "full_refresh").to_string())], "__AIRBYTE__stream_that_does_not_exist"),
        ("invalid sync mode", vec![("config", cfg.clone()), ("catalog", r#"{"streams":[{"stream":{"name":"chats"},"sync_mode":"INVALID","destination_sync_mode":"append"}]}"#.into())], "catalog"),
        ("state not JSON", vec![("config", cfg.clone()), ("catalog", good_cat.clone()), ("state", "[{".into())], "state"),
        ("state wrong shape", vec![("config", cfg.clone()), ("catalog", good_cat.clone()), ("state", "[7]".into())], "state"),
        ("garbage cursor", vec![("config", cfg.clone()), ("catalog", good_cat.clone()), ("state", r#"{"chats":{"update_timestamp":"banana"}}"#.into())], "update_timestamp"),
        ("garbage id cursor", vec![("config", cfg.clone()), ("catalog", catalog(&["agents"], "incremental").to_string()), ("state", r#"{"agents":{"id":"x"}}"#.into())], "`id`"),
    ];
    for (name, files, needle) in cases {
        let run = run_raw("read", &files);
        assert_ne!(run.code, 0, "{name}");
        assert_no_panic(&run);
        let errors = run.errors();
        assert!(!errors.is_empty(), "{name}: no error trace");
        let e = &errors.last().unwrap()["trace"]["error"];
        assert_eq!(e["failure_type"], "config_error", "{name}: {e}");
        assert!(
            e["message"].as_str().unwrap().contains(needle),
            "{name}: {e}"
        );
    }
    assert_eq!(
        sb.stats().requests,
        0,
        "bad input must fail before any request"
    );
    // A missing argument is a usage error from the command line parser.
    let out = Command::new(BIN)
        .args(["read", "--config", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A reader that goes away (`| head -1`) ends the connector quietly.
#[test]
fn a_closed_stdout_ends_quietly() {
    let sb = big_sandbox(|_| {});
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.json"), config(&sb).to_string()).unwrap();
    std::fs::write(
        dir.path().join("k.json"),
        catalog(&["chats"], "full_refresh").to_string(),
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .args(["read", "--config", "c.json", "--catalog", "k.json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(0));
}
