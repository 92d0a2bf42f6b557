//! What a user sees while a sync runs and when the inputs are off: progress lines on stderr,
//! ESTIMATE traces, streams completing as they finish, and clear input errors.

use serde_json::{json, Value};

use crate::util::*;

/// Seconds of the day of a tracing line's leading timestamp (`2026-12-01T22:10:05.123456Z ...`).
fn log_secs(line: &str) -> Option<f64> {
    let time = line.split_whitespace().next()?.split('T').nth(1)?;
    let mut parts = time.trim_end_matches('Z').split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

#[test]
fn a_long_backfill_shows_estimates_progress_and_early_completions() {
    let sb = sandbox_with(|c| {
        c.chats = 100_000;
        c.faults.latency_ms = 300; // 100 pages one after another: at least 30 s
    });
    let mut cfg = config(&sb);
    cfg["backfill_concurrency"] = json!(1);
    let streams = ["chats", "departments", "agents"];
    let run = run(
        "read",
        &[
            ("config", &cfg),
            ("catalog", &catalog(&streams, "incremental")),
        ],
    );
    run.assert_ok().assert_bookkeeping(&streams);
    assert_eq!(run.records("chats").len(), 100_000);
    assert!(
        run.elapsed.as_secs() >= 25,
        "the backfill must take a while: {:?}",
        run.elapsed
    );

    // A progress line at least every 10 s (plus scheduling slack), naming the chat cursor.
    let times: Vec<f64> = run
        .stderr
        .lines()
        .filter(|l| l.contains("Progress: chats: "))
        .filter_map(log_secs)
        .collect();
    let expected = run.elapsed.as_secs() / 10 - 1;
    assert!(
        times.len() as u64 >= expected,
        "{} progress lines in {:?}",
        times.len(),
        run.elapsed
    );
    assert!(
        times.windows(2).all(|w| w[1] - w[0] < 11.5),
        "{times:?} in {:?}",
        run.elapsed
    );
    assert!(
        run.stderr.contains("cursor at 20"),
        "{}",
        tail(&run.stderr, 2000)
    );
    let logged = run
        .of_type("LOG")
        .iter()
        .filter(|m| {
            m["log"]["message"]
                .as_str()
                .is_some_and(|s| s.starts_with("Progress: "))
        })
        .count();
    assert!(
        logged >= times.len(),
        "progress also goes to the platform as LOG"
    );

    // ESTIMATE traces for chats, improving towards the real total.
    let estimates: Vec<u64> = run
        .of_type("TRACE")
        .iter()
        .filter(|m| m["trace"]["type"] == "ESTIMATE" && m["trace"]["estimate"]["name"] == "chats")
        .filter_map(|m| m["trace"]["estimate"]["row_estimate"].as_u64())
        .collect();
    assert!(estimates.len() >= 3, "{estimates:?}");
    // The first ones extrapolate from the time covered; the last one, at COMPLETE, is exact.
    assert!(
        estimates.iter().all(|e| (10_000..=1_000_000).contains(e)),
        "{estimates:?}"
    );
    assert_eq!(estimates.last(), Some(&100_000), "{estimates:?}");

    // Short streams report COMPLETE long before the backfill ends.
    let position = |pred: &dyn Fn(&Value) -> bool| run.messages.iter().position(pred);
    let departments_done = position(&|m| {
        m["trace"]["stream_status"]["stream_descriptor"]["name"] == "departments"
            && m["trace"]["stream_status"]["status"] == "COMPLETE"
    });
    let last_chat = run
        .messages
        .iter()
        .rposition(|m| m["record"]["stream"] == "chats");
    assert!(
        departments_done < last_chat,
        "{departments_done:?} vs {last_chat:?}"
    );
}

#[test]
fn inputs_that_are_off_get_plain_answers() {
    let sb = sandbox();
    let cfg = config(&sb);
    // One stream selected twice.
    let twice = json!({"streams": [catalog(&["goals"], "full_refresh")["streams"][0],
        catalog(&["goals"], "full_refresh")["streams"][0]]});
    let run_twice = run("read", &[("config", &cfg), ("catalog", &twice)]);
    assert_eq!(run_twice.code, 1);
    let err = &run_twice.errors()[0]["trace"]["error"];
    assert_eq!(err["failure_type"], "config_error");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("selects stream goals more than once"));

    // discover's output passed as the configured catalog.
    let discovered = run("discover", &[("config", &cfg)]);
    let catalog_msg = discovered.of_type("CATALOG")[0]["catalog"].clone();
    let wrong = run("read", &[("config", &cfg), ("catalog", &catalog_msg)]);
    let msg = wrong.errors()[0]["trace"]["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        msg.contains("output of `discover`") && msg.contains("configured catalog"),
        "{msg}"
    );

    // Incremental asked of full-refresh-only streams: one INFO line, no warnings.
    let entries: Vec<Value> = ["goals", "roles", "chats"]
        .iter()
        .map(|s| json!({"stream": {"name": s, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                        "sync_mode": "incremental", "destination_sync_mode": "append"}))
        .collect();
    let empty_state = String::new();
    let ok = run_raw(
        "read",
        &[
            ("config", cfg.to_string()),
            ("catalog", json!({"streams": entries}).to_string()),
            ("state", empty_state),
        ],
    );
    ok.assert_ok();
    let logs: Vec<(String, String)> = ok
        .of_type("LOG")
        .iter()
        .map(|m| {
            (
                m["log"]["level"].as_str().unwrap_or("").to_owned(),
                m["log"]["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let about_mode: Vec<&(String, String)> = logs
        .iter()
        .filter(|(_, m)| m.contains("no cursor"))
        .collect();
    assert_eq!(about_mode.len(), 1, "{logs:?}");
    assert_eq!(about_mode[0].0, "INFO");
    assert!(about_mode[0].1.contains("goals, roles"), "{logs:?}");
    assert!(logs.iter().all(|(level, _)| level != "WARN"), "{logs:?}");
    assert!(
        logs.iter()
            .any(|(_, m)| m.contains("holds no stream state")),
        "{logs:?}"
    );
}

#[test]
fn write_config_back_keeps_the_rotated_refresh_token_in_the_config_file() {
    let sb = sandbox_with(|c| c.token_ttl_requests = Some(2));
    let dir = tempfile::tempdir().expect("temp dir");
    let config_path = dir.path().join("config.json");
    let catalog_path = dir.path().join("catalog.json");
    std::fs::write(&config_path, oauth_config(&sb).to_string()).expect("config");
    std::fs::write(
        &catalog_path,
        catalog(&["agents", "departments", "goals"], "full_refresh").to_string(),
    )
    .expect("catalog");
    let out = std::process::Command::new(BIN)
        .args(["read", "--write-config-back", "--config"])
        .arg(&config_path)
        .arg("--catalog")
        .arg(&catalog_path)
        .output()
        .expect("connector runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).expect("read back"))
            .expect("still JSON");
    assert_eq!(
        saved["credentials"]["refresh_token"],
        json!(sb.current_refresh_token())
    );
    assert_ne!(
        saved["credentials"]["refresh_token"],
        json!("sandbox-refresh-0001")
    );
    assert_eq!(saved["subdomain"], "sandbox");
    // The next run with the saved file works (the spent refresh token would be refused).
    let again = std::process::Command::new(BIN)
        .args(["check", "--config"])
        .arg(&config_path)
        .output()
        .expect("connector runs");
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.contains("SUCCEEDED"), "{text}");
}
