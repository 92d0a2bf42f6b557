//! The platform's rate-limit status: a long `Retry-After` shows every running stream as rate
//! limited with when its quota resets, then running again when requests resume.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use zendesk_chat_sandbox::Faults;

use crate::util::*;

const RETRY_AFTER_SECS: i64 = 4;
const STREAMS: &[&str] = &["agents", "chats", "chat_history", "departments", "roles"];

/// One stdout line with the wall-clock time (epoch ms) it was read.
struct Line {
    at_ms: i64,
    message: Value,
}

/// A STREAM_STATUS message's stream, status and RATE_LIMITED `quota_reset`, if any.
fn status_of(m: &Value) -> Option<(String, String, Option<i64>)> {
    let s = m.get("trace").filter(|t| t["type"] == "STREAM_STATUS")?;
    let s = &s["stream_status"];
    let reset = s["reasons"].as_array().map(|reasons| {
        assert_eq!(reasons.len(), 1, "{s}");
        assert_eq!(reasons[0]["type"], "RATE_LIMITED", "{s}");
        reasons[0]["rate_limited"]["quota_reset"]
            .as_i64()
            .expect("quota_reset in epoch ms")
    });
    Some((
        s["stream_descriptor"]["name"].as_str()?.to_owned(),
        s["status"].as_str()?.to_owned(),
        reset,
    ))
}

/// Runs `read` against a sandbox that answers 429 to every request until shortly after the
/// first RATE_LIMITED status appears on stdout, then serves normally.
fn read_through_a_rate_limit() -> (Run, Vec<Line>) {
    let sb = sandbox_with(|c| {
        c.chats = 60;
        c.faults.rate_429 = 1.0;
        c.faults.retry_after_secs = RETRY_AFTER_SECS as u64;
    });
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.arg("read");
    for (flag, v) in [
        ("config", config(&sb)),
        ("catalog", catalog(STREAMS, "full_refresh")),
    ] {
        let path = dir.path().join(format!("{flag}.json"));
        std::fs::write(&path, v.to_string()).unwrap();
        cmd.arg(format!("--{flag}")).arg(path);
    }
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let at_ms = chrono::Utc::now().timestamp_millis();
            if tx.send((at_ms, line)).is_err() {
                return;
            }
        }
    });
    let mut lines = Vec::new();
    let mut text = String::new();
    // The 429s stop 1.5 s into the wait, once the requests in flight when it began have had
    // their 429 too (the next ones go when the wait ends), or after 10 s without a
    // RATE_LIMITED status, so the test then fails quickly.
    let mut stop_limiting_at = Some(started + Duration::from_secs(10));
    loop {
        if stop_limiting_at.is_some_and(|t| Instant::now() >= t) {
            sb.set_faults(Faults::default());
            stop_limiting_at = None;
        }
        let (at_ms, line) = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(got) => got,
            Err(mpsc::RecvTimeoutError::Timeout) if started.elapsed() < Duration::from_secs(90) => {
                continue
            }
            Err(_) => break,
        };
        let message: Value = serde_json::from_str(&line).expect("stdout line is JSON");
        if status_of(&message).is_some_and(|(_, _, reset)| reset.is_some()) {
            let soon = Instant::now() + Duration::from_millis(1500);
            stop_limiting_at = stop_limiting_at.map(|t| t.min(soon));
        }
        text.push_str(&line);
        text.push('\n');
        lines.push(Line { at_ms, message });
    }
    let out = child.wait_with_output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        messages: parse_messages(&text),
        stdout: text,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    (run, lines)
}

#[test]
fn a_long_retry_after_shows_every_running_stream_rate_limited_then_running() {
    let (run, lines) = read_through_a_rate_limit();
    run.assert_ok().assert_bookkeeping(STREAMS);
    let first = lines
        .iter()
        .position(|l| status_of(&l.message).is_some_and(|(_, _, r)| r.is_some()))
        .expect("a RATE_LIMITED status");
    // Every stream started and not finished when the wait began is shown as rate limited.
    let mut running = BTreeSet::new();
    for l in &lines[..first] {
        match status_of(&l.message) {
            Some((name, s, _)) if s == "STARTED" => running.insert(name),
            Some((name, s, _)) if s == "COMPLETE" || s == "INCOMPLETE" => running.remove(&name),
            _ => false,
        };
    }
    assert_eq!(
        running.len(),
        STREAMS.len(),
        "every stream waits on its first request"
    );
    // The statuses written when the wait began (one batch, one quota_reset).
    let reset_at = status_of(&lines[first].message).and_then(|s| s.2).unwrap();
    let mut limited = BTreeSet::new();
    for l in &lines[first..] {
        let Some((name, _, Some(reset))) = status_of(&l.message) else {
            continue;
        };
        if reset != reset_at {
            continue;
        }
        // The reset is Retry-After from when the connector said so (emitted_at), and so from when
        // the line was read here, less the time it took to arrive.
        let told = l.message["trace"]["emitted_at"].as_f64().unwrap() as i64;
        let wait = RETRY_AFTER_SECS * 1000;
        eprintln!(
            "{name}: quota_reset {reset}, told at {told}, read at {}",
            l.at_ms
        );
        assert!(
            (reset - told - wait).abs() <= 500,
            "{name}: quota_reset {reset}, told at {told}"
        );
        assert!(
            (l.at_ms + wait - 2000..=l.at_ms + wait + 100).contains(&reset),
            "{name}: quota_reset {reset}, read at {}",
            l.at_ms
        );
        limited.insert(name);
    }
    assert_eq!(limited, running);
    // From its RATE_LIMITED status on, each stream stays rate limited until the wait is over,
    // then runs again (a plain RUNNING) before it completes.
    for name in STREAMS {
        let statuses: Vec<(i64, String, Option<i64>)> = lines
            .iter()
            .filter_map(|l| status_of(&l.message).map(|s| (l.at_ms, s.0, s.1, s.2)))
            .filter(|(_, n, _, _)| n == name)
            .map(|(at, _, s, r)| (at, s, r))
            .collect();
        let from = statuses.iter().position(|s| s.2.is_some()).unwrap();
        let after = &statuses[from..];
        let resumed = after
            .iter()
            .position(|(_, s, r)| s == "RUNNING" && r.is_none())
            .unwrap_or_else(|| panic!("{name}: no plain RUNNING after the wait: {statuses:?}"));
        assert!(
            after[..resumed].iter().all(|(_, _, r)| r.is_some()),
            "{name}: {statuses:?}"
        );
        assert!(
            after[resumed].0 >= reset_at - 300,
            "{name} resumed before the quota reset: {statuses:?}"
        );
        assert_eq!(
            after.last().map(|a| a.1.as_str()),
            Some("COMPLETE"),
            "{name}: {statuses:?}"
        );
    }
    assert!(!run.records("chats").is_empty() && !run.records("departments").is_empty());
}
