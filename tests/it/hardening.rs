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

/// The answer of every API request in a check or read: what `f` writes.
fn api(f: impl Fn(&Request, &mut std::net::TcpStream) + Send + Sync + 'static) -> FakeServer {
    FakeServer::spawn(f)
}

fn status_message(run: &Run) -> String {
    run.connection_status()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn check_answers_within_30_s_against_a_server_that_never_answers() {
    let server = api(|_, s| hang(s, Duration::from_secs(120)));
    let run = run("check", &[("config", &fake_config(&server))]);
    let message = status_message(&run);
    eprintln!(
        "silent server: check answered in {:.1?}: {message}",
        run.elapsed
    );
    assert_eq!(run.connection_status()["status"], "FAILED");
    assert!(run.elapsed < Duration::from_secs(30), "{:?}", run.elapsed);
    assert!(message.contains("routing_settings/account"), "{message}");
    assert!(message.contains("no complete answer within"), "{message}");
}

#[test]
fn check_answers_within_30_s_against_a_server_that_drips_a_byte_every_20_s() {
    let server = api(|_, s| {
        use std::io::Write;
        for b in b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}" {
            if s.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(20));
        }
    });
    let run = run("check", &[("config", &fake_config(&server))]);
    let message = status_message(&run);
    eprintln!(
        "dripping server: check answered in {:.1?}: {message}",
        run.elapsed
    );
    assert_eq!(run.connection_status()["status"], "FAILED");
    assert!(run.elapsed < Duration::from_secs(30), "{:?}", run.elapsed);
    assert!(message.contains("routing_settings/account"), "{message}");
}

fn read_roles(server: &FakeServer) -> Run {
    run(
        "read",
        &[
            ("config", &fake_config(server)),
            ("catalog", &catalog(&["roles"], "full_refresh")),
        ],
    )
}

#[test]
fn a_retry_after_of_a_day_fails_at_once_saying_when_requests_are_allowed() {
    let server = api(|_, s| {
        respond(
            s,
            "429 Too Many Requests",
            &[("retry-after", "86400")],
            b"{}",
        )
    });
    let run = read_roles(&server);
    let error = error_of(&run.messages).expect("an ERROR trace");
    let message = error["message"].as_str().unwrap_or_default();
    eprintln!(
        "Retry-After 86400: failed in {:.1?}: {message}",
        run.elapsed
    );
    assert_eq!(error["failure_type"], "transient_error");
    assert!(run.elapsed < Duration::from_secs(15), "{:?}", run.elapsed);
    assert!(message.contains("86400 s") && message.contains("allows requests again at"));
    let today = chrono::Utc::now() + chrono::Duration::days(1);
    assert!(
        message.contains(&today.format("%Y-%m-%d").to_string()),
        "{message}"
    );
    assert!(message.contains(" UTC"), "{message}");
}

#[test]
fn absurd_retry_after_values_do_not_crash() {
    for value in ["99999999999999999999", "1e20"] {
        let server =
            api(move |_, s| respond(s, "429 Too Many Requests", &[("retry-after", value)], b"{}"));
        let run = read_roles(&server);
        assert!(
            !run.stderr.contains("panicked"),
            "{value}: {}",
            tail(&run.stderr, 500)
        );
        let error = error_of(&run.messages).expect("an ERROR trace");
        assert_eq!(error["failure_type"], "transient_error", "{value}");
        assert!(
            run.elapsed < Duration::from_secs(15),
            "{value}: {:?}",
            run.elapsed
        );
    }
}

/// An API that refuses the configured token and accepts the refreshed one, behind a token
/// endpoint answering `token_body`.
fn oauth_server(token_status: &'static str, token_body: String) -> FakeServer {
    api(move |req, s| {
        if req.path.starts_with("/oauth2/chat/token") {
            return respond(
                s,
                token_status,
                &[("content-type", "application/json")],
                token_body.as_bytes(),
            );
        }
        if req.head.contains("fake-access-0123456789") {
            respond(s, "401 Unauthorized", &[], b"{}")
        } else {
            json(s, "{}")
        }
    })
}

fn control_refresh_token(run: &Run) -> Option<String> {
    let controls = run.of_type("CONTROL");
    let last = controls.last()?;
    last["control"]["connectorConfig"]["config"]["credentials"]["refresh_token"]
        .as_str()
        .map(str::to_owned)
}

#[test]
fn odd_token_responses_keep_the_rotated_refresh_token() {
    for expires_in in ["18446744073709551615", "\"3600\"", "{\"seconds\":1}"] {
        let body = format!(
            r#"{{"access_token":"fresh-access-1","refresh_token":"fresh-refresh-1","expires_in":{expires_in},"token_type":["odd"]}}"#
        );
        let server = oauth_server("200 OK", body);
        let run = run("check", &[("config", &fake_oauth_config(&server))]);
        assert!(
            !run.stderr.contains("panicked"),
            "{expires_in}: {}",
            tail(&run.stderr, 500)
        );
        assert_eq!(
            run.connection_status()["status"],
            "SUCCEEDED",
            "{expires_in}: {}",
            run.stdout
        );
        assert_eq!(
            control_refresh_token(&run).as_deref(),
            Some("fresh-refresh-1"),
            "{expires_in}"
        );
    }
}

#[test]
fn a_token_response_without_access_token_still_hands_back_the_new_refresh_token() {
    let server = oauth_server("200 OK", r#"{"refresh_token":"fresh-refresh-2"}"#.into());
    let run = run("check", &[("config", &fake_oauth_config(&server))]);
    assert_eq!(run.connection_status()["status"], "FAILED");
    assert_eq!(
        control_refresh_token(&run).as_deref(),
        Some("fresh-refresh-2")
    );
}

#[test]
fn token_requests_never_follow_redirects() {
    let thief = FakeServer::spawn(|_, s| json(s, r#"{"access_token":"stolen"}"#));
    let target = thief.url("/steal?x=1");
    let server = api(move |req, s| {
        if req.path.starts_with("/oauth2/chat/token") {
            respond(
                s,
                "307 Temporary Redirect",
                &[("location", target.as_str())],
                b"",
            )
        } else {
            respond(s, "401 Unauthorized", &[], b"{}")
        }
    });
    let run = run("check", &[("config", &fake_oauth_config(&server))]);
    let message = status_message(&run);
    eprintln!("token 307: {message}");
    assert_eq!(
        thief.request_count(),
        0,
        "credentials were re-posted to the redirect target"
    );
    assert_eq!(run.connection_status()["status"], "FAILED");
    assert!(
        message.contains("redirect") && message.contains("/steal"),
        "{message}"
    );
    assert!(!message.contains("x=1"), "{message}");
}

#[test]
fn api_redirects_are_followed_only_to_accepted_hosts() {
    let elsewhere = FakeServer::spawn(|_, s| json(s, "{}"));
    let target = format!(
        "http://localhost:{}/api/v2/chat/x?token=abc",
        elsewhere.port
    );
    let server = api(move |_, s| respond(s, "302 Found", &[("location", target.as_str())], b""));
    let run = run("check", &[("config", &fake_config(&server))]);
    let message = status_message(&run);
    eprintln!("redirect to another host: {message}");
    assert_eq!(run.connection_status()["status"], "FAILED");
    assert_eq!(elsewhere.request_count(), 0);
    assert!(
        message.contains("localhost") && message.contains("base_url"),
        "{message}"
    );
    assert!(!message.contains("token=abc"), "{message}");

    let same_host = api(|req, s| {
        if req.path.contains("moved") {
            json(s, "{}")
        } else {
            respond(s, "302 Found", &[("location", "/api/v2/chat/moved")], b"")
        }
    });
    let followed = crate::util::run("check", &[("config", &fake_config(&same_host))]);
    assert_eq!(
        followed.connection_status()["status"],
        "SUCCEEDED",
        "{}",
        followed.stdout
    );
}

/// No piece of 8 characters of any of `secrets`, nor their URL-encoded forms, appears in
/// stdout outside CONTROL messages or in stderr.
fn assert_no_secret_pieces(run: &Run, secrets: &[&str]) {
    let visible: String = run
        .stdout
        .lines()
        .filter(|l| !l.starts_with(r#"{"type":"CONTROL""#))
        .chain(std::iter::once(run.stderr.as_str()))
        .collect::<Vec<_>>()
        .join("\n");
    for secret in secrets {
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for s in [secret.to_string(), form] {
            for piece in s.as_bytes().windows(8) {
                let piece = std::str::from_utf8(piece).unwrap();
                assert!(!visible.contains(piece), "{piece:?} of a secret is visible");
            }
        }
    }
}

#[test]
fn secrets_echoed_by_servers_are_redacted_whole() {
    // A token endpoint that echoes the form it received in a 400.
    let server = api(|req, s| {
        if req.path.starts_with("/oauth2/chat/token") {
            let body = json!({"error": "invalid_grant", "error_description": req.body}).to_string();
            respond(s, "400 Bad Request", &[], body.as_bytes())
        } else {
            respond(s, "401 Unauthorized", &[], b"{}")
        }
    });
    let run = run(
        "read",
        &[
            ("config", &fake_oauth_config(&server)),
            ("catalog", &catalog(&["roles"], "full_refresh")),
        ],
    );
    let error = error_of(&run.messages).expect("an ERROR trace");
    assert_eq!(error["failure_type"], "config_error");
    assert!(
        error["internal_message"].as_str().unwrap().contains("****"),
        "{error}"
    );
    let secrets = [
        "s3cret/with+plus=and&amp",
        "fake-refresh-0123456789",
        "fake-client-id-42",
    ];
    assert_no_secret_pieces(&run, &secrets);

    // An error body that puts the token at byte 290, across the 300/500-byte cuts.
    let server = api(|_, s| {
        let body = format!(
            "{}fake-token-0123456789abcdef{}",
            "x".repeat(290),
            "y".repeat(300)
        );
        respond(s, "400 Bad Request", &[], body.as_bytes())
    });
    let run = read_roles(&server);
    let error = error_of(&run.messages).expect("an ERROR trace");
    assert!(
        error["internal_message"].as_str().unwrap().contains("****"),
        "{error}"
    );
    assert_no_secret_pieces(&run, &["fake-token-0123456789abcdef"]);
}

/// A gzip body that inflates to `mib` MiB of zeros, built from repeated flushed blocks (the
/// trailer's checksum is wrong, which a reader only notices at the very end).
fn gzip_bomb(mib: usize) -> Vec<u8> {
    use flate2::write::GzEncoder;
    use std::io::Write;
    let zeros = vec![0u8; 1024 * 1024];
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&zeros).unwrap();
    enc.flush().unwrap();
    let first = enc.get_ref().len();
    enc.write_all(&zeros).unwrap();
    enc.flush().unwrap();
    let block = enc.get_ref()[first..].to_vec();
    let mut out = enc.get_ref().clone();
    for _ in 2..mib {
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&enc.finish().unwrap()[out.len().min(first + block.len())..]);
    out
}

#[test]
fn a_gzip_bomb_ends_quickly_with_bounded_memory() {
    let bomb = std::sync::Arc::new(gzip_bomb(2048));
    let size = bomb.len();
    let server = api(move |_, s| {
        respond(
            s,
            "200 OK",
            &[
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
            &bomb,
        )
    });
    let cfg = fake_config(&server);
    let cat = catalog(&["roles"], "full_refresh");
    let live = Live::start("read", &[("config", &cfg), ("catalog", &cat)], &[]);
    let pid = live.child.id();
    let mut peak_kb = 0u64;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            break;
        };
        if status.contains("State:\tZ") {
            break;
        }
        if let Some(kb) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, elapsed, messages) = live.finish(Duration::from_secs(60));
    let error = error_of(&messages).expect("an ERROR trace");
    eprintln!(
        "gzip bomb of {size} bytes (2 GiB inflated): exit {code:?} after {elapsed:.1?}, peak RSS {} MB: {}",
        peak_kb / 1024,
        error["message"]
    );
    assert_eq!(error["failure_type"], "transient_error");
    assert!(
        error["message"].as_str().unwrap().contains("64 MiB"),
        "{error}"
    );
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    assert!(peak_kb > 0 && peak_kb < 300 * 1024, "peak RSS {peak_kb} kB");
}

#[test]
fn an_html_page_with_status_200_is_retried_then_reported_as_what_it_is() {
    let server = api(|_, s| {
        respond(
            s,
            "200 OK",
            &[("content-type", "text/html")],
            b"<!DOCTYPE html>\n<html><body>Down for maintenance</body></html>",
        )
    });
    let run = read_roles(&server);
    let error = error_of(&run.messages).expect("an ERROR trace");
    let message = error["message"].as_str().unwrap_or_default();
    eprintln!(
        "HTML 200: {} requests, {:.1?}: {message}",
        server.request_count(),
        run.elapsed
    );
    assert_eq!(server.request_count(), 3);
    assert_eq!(error["failure_type"], "system_error");
    assert!(
        message.contains("answered 200 with an HTML page instead of JSON"),
        "{message}"
    );
    assert!(message.contains("/api/v2/chat/roles"), "{message}");
    assert!(message.contains("Down for maintenance"), "{message}");
}

#[test]
fn saved_state_lines_resume_the_sync() {
    let sb = sandbox();
    let cfg = config(&sb).to_string();
    let cat = catalog(&["agents", "bans"], "incremental").to_string();
    let first = run_raw("read", &[("config", cfg.clone()), ("catalog", cat.clone())]);
    first.assert_ok();
    let (agents, bans) = (first.records("agents").len(), first.records("bans").len());
    assert!(agents > 0 && bans > 0);
    let state_lines: Vec<&str> = first
        .stdout
        .lines()
        .filter(|l| l.contains(r#""type":"STATE""#))
        .collect();
    let last_line = state_lines.last().unwrap().to_string();
    let grep_output = state_lines.join("\n");
    for (what, state) in [
        ("one STATE line", last_line),
        ("grep STATE output", grep_output),
    ] {
        let again = run_raw(
            "read",
            &[
                ("config", cfg.clone()),
                ("catalog", cat.clone()),
                ("state", state),
            ],
        );
        again.assert_ok();
        let resumed = again.records("agents").len() + again.records("bans").len();
        eprintln!("{what}: first read {agents} agents + {bans} bans, resumed read {resumed}");
        assert!(
            resumed < agents + bans,
            "{what}: the state was ignored ({resumed} records again)"
        );
    }
    let bad = run_raw(
        "read",
        &[
            ("config", cfg),
            ("catalog", cat),
            ("state", r#"{"type":"STATE"}"#.into()),
        ],
    );
    let error = error_of(&bad.messages).expect("an ERROR trace");
    assert_eq!(error["failure_type"], "config_error");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Accepted forms"),
        "{error}"
    );
}

#[test]
fn debug_logs_show_each_request_without_secrets() {
    let server = api(|_, s| json(s, r#"{"ok":true}"#));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, fake_config(&server).to_string()).unwrap();
    let out = Command::new(BIN)
        .args(["check", "--config"])
        .arg(&path)
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("request") && l.contains("routing_settings/account"))
        .unwrap_or_else(|| panic!("no request log in: {}", tail(&stderr, 2000)));
    eprintln!("{line}");
    for field in [
        "method=\"GET\"",
        "path=\"/api/v2/chat/routing_settings/account\"",
        "status=200",
        "bytes=11",
        "ms=",
    ] {
        assert!(line.contains(field), "{field} missing: {line}");
    }
    assert!(!stderr.contains("fake-token-0123456789abcdef"));
}
