//! Adversarial servers on loopback (silent, dripping, throttling for a day, redirecting,
//! echoing secrets, bombing with gzip, answering HTML) and a panic: the connector keeps talking,
//! ends in bounded time with a typed error, and never leaks a secret.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::fake_server::*;
use crate::util::*;

/// A config pointing at a fake server, with a static token.
fn fake_config(server: &FakeServer) -> Value {
    json!({
        "subdomain": "fake",
        "start_date": "2024-01-01T00:00:00Z",
        "base_url": server.base_url(),
        "credentials": {"credentials": "access_token", "access_token": "fake-token-0123456789abcdef"}
    })
}

/// A config with OAuth credentials pointing at a fake server.
#[allow(dead_code)]
fn fake_oauth_config(server: &FakeServer) -> Value {
    json!({
        "subdomain": "fake",
        "start_date": "2024-01-01T00:00:00Z",
        "base_url": server.base_url(),
        "credentials": {"credentials": "oauth2.0", "client_id": "fake-client-id-42",
            "client_secret": "s3cret/with+plus=and&amp", "access_token": "fake-access-0123456789",
            "refresh_token": "fake-refresh-0123456789"}
    })
}

/// A running connector whose stdout lines arrive, timestamped, on a channel.
struct Live {
    child: Child,
    lines: mpsc::Receiver<(Duration, String)>,
    started: Instant,
    _dir: tempfile::TempDir,
}

impl Live {
    fn start(command: &str, files: &[(&str, &Value)], env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(BIN);
        cmd.arg(command);
        for (flag, v) in files {
            let path = dir.path().join(format!("{flag}.json"));
            std::fs::write(&path, v.to_string()).unwrap();
            cmd.arg(format!("--{flag}")).arg(path);
        }
        cmd.envs(env.iter().copied());
        let started = Instant::now();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send((started.elapsed(), line)).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            lines,
            started,
            _dir: dir,
        }
    }

    /// The first line matching `pred` within `limit`, with when it arrived.
    fn wait_for(
        &self,
        limit: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<(Duration, Value)> {
        let deadline = self.started + limit;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let (at, line) = self.lines.recv_timeout(left).ok()?;
            let v: Value = serde_json::from_str(&line).expect("stdout line is JSON");
            if pred(&v) {
                return Some((at, v));
            }
        }
    }

    /// Waits for the exit (at most `limit`), returning the exit code and the elapsed time.
    fn finish(mut self, limit: Duration) -> (Option<i32>, Duration, Vec<Value>) {
        let deadline = self.started + limit;
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let elapsed = self.started.elapsed();
        let rest = self
            .lines
            .try_iter()
            .chain(std::iter::from_fn(|| {
                self.lines.recv_timeout(Duration::from_millis(500)).ok()
            }))
            .map(|(_, l)| serde_json::from_str(&l).expect("JSON line"))
            .collect();
        (code, elapsed, rest)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn error_of(messages: &[Value]) -> Option<Value> {
    messages
        .iter()
        .find(|m| m["type"] == "TRACE" && m["trace"]["type"] == "ERROR")
        .map(|m| m["trace"]["error"].clone())
}

#[test]
fn a_heartbeat_log_reaches_the_pipe_during_a_long_rate_limit_wait() {
    let server = FakeServer::spawn(|_, s| {
        respond(s, "429 Too Many Requests", &[("retry-after", "300")], b"{}")
    });
    let cfg = fake_config(&server);
    let live = Live::start(
        "read",
        &[
            ("config", &cfg),
            ("catalog", &catalog(&["roles"], "full_refresh")),
        ],
        &[],
    );
    let first_status = live.wait_for(Duration::from_secs(5), |m| m["type"] == "TRACE");
    assert!(
        first_status.is_some(),
        "STREAM_STATUS STARTED reaches stdout at once"
    );
    let heartbeat = live.wait_for(Duration::from_secs(30), |m| {
        m["type"] == "LOG"
            && m["log"]["message"]
                .as_str()
                .is_some_and(|t| t.contains("resuming"))
    });
    let (at, log) = heartbeat.expect("a heartbeat LOG on the pipe within 30 s");
    eprintln!("heartbeat after {at:.1?}: {}", log["log"]["message"]);
    assert!(at < Duration::from_secs(30));
}

#[test]
fn a_panic_is_a_system_error_trace() {
    let live = Live::start("spec", &[], &[("SOURCE_ZENDESK_CHAT_TEST_PANIC", "1")]);
    let (code, _, messages) = live.finish(Duration::from_secs(20));
    assert_ne!(code, Some(0));
    let error = error_of(&messages).expect("an ERROR trace");
    assert_eq!(error["failure_type"], "system_error");
    assert!(error["internal_message"]
        .as_str()
        .unwrap()
        .contains("SOURCE_ZENDESK_CHAT_TEST_PANIC"));
}
