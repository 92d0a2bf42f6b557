//! Test harness: runs the real connector binary against the fake Zendesk Chat API and parses
//! its output, checking the protocol invariants every line must hold.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use zendesk_chat_sandbox::{Sandbox, SandboxConfig};

pub const BIN: &str = env!("CARGO_BIN_EXE_source-zendesk-chat");

/// Every stream of the connector.
pub const ALL_STREAMS: &[&str] = &[
    "accounts",
    "agents",
    "agent_timeline",
    "bans",
    "chats",
    "chat_history",
    "chat_webpath",
    "chat_engagements",
    "chat_conversions",
    "departments",
    "goals",
    "roles",
    "routing_settings",
    "shortcuts",
    "skills",
    "triggers",
    "conversions",
    "department_events",
];
pub const INCREMENTAL: &[&str] = &[
    "agents",
    "agent_timeline",
    "bans",
    "chats",
    "chat_history",
    "chat_webpath",
    "chat_engagements",
    "chat_conversions",
    "conversions",
    "department_events",
];

/// A sandbox with the default data set.
pub fn sandbox() -> Sandbox {
    Sandbox::spawn(SandboxConfig::default()).expect("sandbox starts")
}

pub fn sandbox_with(f: impl FnOnce(&mut SandboxConfig)) -> Sandbox {
    let mut cfg = SandboxConfig::default();
    f(&mut cfg);
    Sandbox::spawn(cfg).expect("sandbox starts")
}

/// A config with the static access token.
pub fn config(sb: &Sandbox) -> Value {
    json!({
        "subdomain": "sandbox",
        "start_date": "2024-01-01T00:00:00Z",
        "base_url": sb.base_url(),
        "credentials": {"credentials": "access_token", "access_token": "sandbox-token-0001"}
    })
}

/// A config with OAuth credentials.
pub fn oauth_config(sb: &Sandbox) -> Value {
    json!({
        "subdomain": "sandbox",
        "start_date": "2024-01-01T00:00:00Z",
        "base_url": sb.base_url(),
        "credentials": {"credentials": "oauth2.0", "client_id": "sandbox-client-1",
            "client_secret": "sandbox-secret-0001", "access_token": "sandbox-token-0001",
            "refresh_token": "sandbox-refresh-0001"}
    })
}

/// A configured catalog; `mode` is "full_refresh" or "incremental" (full refresh for streams
/// without a cursor).
pub fn catalog(streams: &[&str], mode: &str) -> Value {
    let entries: Vec<Value> = streams
        .iter()
        .map(|s| {
            let m = if INCREMENTAL.contains(s) { mode } else { "full_refresh" };
            json!({"stream": {"name": s, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                   "sync_mode": m, "destination_sync_mode": "append"})
        })
        .collect();
    json!({ "streams": entries })
}

/// The output of one connector run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub messages: Vec<Value>,
    pub elapsed: Duration,
}

fn tmpdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Runs the connector with JSON files written for `files` (`("config", value)` becomes
/// `--config <file>`).
pub fn run(command: &str, files: &[(&str, &Value)]) -> Run {
    run_raw(
        command,
        &files
            .iter()
            .map(|(k, v)| (*k, v.to_string()))
            .collect::<Vec<_>>(),
    )
}

/// Like [`run`] with file contents given as text (for malformed inputs).
pub fn run_raw(command: &str, files: &[(&str, String)]) -> Run {
    let dir = tmpdir();
    let mut cmd = Command::new(BIN);
    cmd.arg(command);
    for (flag, text) in files {
        let path: PathBuf = dir.path().join(format!("{flag}.json"));
        std::fs::write(&path, text).expect("write input");
        cmd.arg(format!("--{flag}")).arg(&path);
    }
    let started = Instant::now();
    let out = cmd.stdin(Stdio::null()).output().expect("connector runs");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let messages = parse_messages(&stdout);
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout,
        stderr,
        messages,
        elapsed,
    }
}

/// Parses stdout line by line, asserting the protocol's per-line rules: one JSON object per
/// line, a known `type`, and exactly the payload field of that type.
pub fn parse_messages(stdout: &str) -> Vec<Value> {
    let payload = |t: &str| match t {
        "RECORD" => "record",
        "STATE" => "state",
        "LOG" => "log",
        "SPEC" => "spec",
        "CONNECTION_STATUS" => "connectionStatus",
        "CATALOG" => "catalog",
        "TRACE" => "trace",
        "CONTROL" => "control",
        other => panic!("unknown message type {other}"),
    };
    let known = [
        "record",
        "state",
        "log",
        "spec",
        "connectionStatus",
        "catalog",
        "trace",
        "control",
    ];
    stdout
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("stdout line {} is not JSON ({e}): {line:.200}", i + 1));
            let t = v["type"]
                .as_str()
                .unwrap_or_else(|| panic!("line {} has no type", i + 1));
            let present: Vec<&str> = known
                .iter()
                .copied()
                .filter(|k| v.get(*k).is_some_and(|p| !p.is_null()))
                .collect();
            assert_eq!(
                present,
                vec![payload(t)],
                "line {} payload fields do not match type {t}",
                i + 1
            );
            if t == "RECORD" {
                let r = &v["record"];
                assert!(
                    r["data"].as_object().is_some_and(|d| !d.is_empty()),
                    "record data must be a non-empty object"
                );
                assert!(
                    r["emitted_at"]
                        .as_i64()
                        .is_some_and(|t| t > 1_000_000_000_000),
                    "emitted_at must be ms"
                );
            }
            v
        })
        .collect()
}

impl Run {
    pub fn of_type(&self, t: &str) -> Vec<&Value> {
        self.messages.iter().filter(|m| m["type"] == t).collect()
    }

    /// Record data of one stream, in output order.
    pub fn records(&self, stream: &str) -> Vec<Value> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["record"]["stream"] == stream)
            .map(|m| m["record"]["data"].clone())
            .collect()
    }

    pub fn record_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for m in self.of_type("RECORD") {
            *counts
                .entry(m["record"]["stream"].as_str().unwrap_or("").to_owned())
                .or_default() += 1;
        }
        counts
    }

    /// STATE messages of one stream.
    pub fn states(&self, stream: &str) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| {
                m["type"] == "STATE" && m["state"]["stream"]["stream_descriptor"]["name"] == stream
            })
            .collect()
    }

    pub fn last_state(&self, stream: &str) -> Value {
        self.states(stream)
            .last()
            .map(|m| m["state"]["stream"]["stream_state"].clone())
            .unwrap_or(Value::Null)
    }

    /// The `--state` file the platform would pass next: the last STATE of each stream.
    pub fn state_file(&self) -> Value {
        let mut last: BTreeMap<String, Value> = BTreeMap::new();
        for m in self.of_type("STATE") {
            let name = m["state"]["stream"]["stream_descriptor"]["name"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            let mut s = m["state"].clone();
            if let Some(o) = s.as_object_mut() {
                o.remove("sourceStats");
            }
            last.insert(name, s);
        }
        Value::Array(last.into_values().collect())
    }

    pub fn errors(&self) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "TRACE" && m["trace"]["type"] == "ERROR")
            .collect()
    }

    pub fn connection_status(&self) -> &Value {
        let s = self.of_type("CONNECTION_STATUS");
        assert_eq!(
            s.len(),
            1,
            "exactly one CONNECTION_STATUS; stdout: {}",
            self.stdout
        );
        &s[0]["connectionStatus"]
    }

    /// Asserts the sync succeeded: exit 0, no ERROR trace.
    pub fn assert_ok(&self) -> &Self {
        assert!(
            self.code == 0 && self.errors().is_empty(),
            "sync failed (exit {}): errors {:?}\nstderr tail: {}",
            self.code,
            self.errors(),
            tail(&self.stderr, 3000)
        );
        self
    }

    /// Asserts the per-stream bookkeeping the platform checks: statuses STARTED, RUNNING...,
    /// COMPLETE; every record before its stream's last STATE; recordCount equal to the records
    /// since the previous STATE of that stream.
    pub fn assert_bookkeeping(&self, streams: &[&str]) -> &Self {
        let mut since: BTreeMap<String, u64> = BTreeMap::new();
        let mut statuses: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for m in &self.messages {
            match m["type"].as_str() {
                Some("RECORD") => {
                    *since
                        .entry(m["record"]["stream"].as_str().unwrap().to_owned())
                        .or_default() += 1
                }
                Some("STATE") => {
                    assert_eq!(m["state"]["type"], "STREAM");
                    let name = m["state"]["stream"]["stream_descriptor"]["name"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                    let count = m["state"]["sourceStats"]["recordCount"]
                        .as_f64()
                        .expect("recordCount");
                    assert_eq!(
                        count as u64,
                        since.remove(&name).unwrap_or(0),
                        "recordCount of {name}"
                    );
                }
                Some("TRACE") if m["trace"]["type"] == "STREAM_STATUS" => {
                    let s = &m["trace"]["stream_status"];
                    statuses
                        .entry(s["stream_descriptor"]["name"].as_str().unwrap().to_owned())
                        .or_default()
                        .push(s["status"].as_str().unwrap().to_owned());
                }
                _ => {}
            }
        }
        assert!(
            since.values().all(|n| *n == 0),
            "records after the last STATE: {since:?}"
        );
        for s in streams {
            let st = statuses
                .get(*s)
                .unwrap_or_else(|| panic!("no statuses for {s}"));
            assert!(st.len() >= 3, "{s}: {st:?}");
            assert_eq!(
                st.first().map(String::as_str),
                Some("STARTED"),
                "{s}: {st:?}"
            );
            assert_eq!(
                st.last().map(String::as_str),
                Some("COMPLETE"),
                "{s}: {st:?}"
            );
            assert!(
                st[1..st.len() - 1].iter().all(|x| x == "RUNNING"),
                "{s}: {st:?}"
            );
            assert!(!self.states(s).is_empty(), "{s} has no STATE");
        }
        self
    }
}

pub fn tail(s: &str, n: usize) -> &str {
    let start = s.len().saturating_sub(n);
    let mut i = start;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

/// The child rows the connector should derive from the fake's chats for a child stream.
pub fn expected_children(chats: &[Value], field: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    for chat in chats {
        let Some(items) = chat.get(field).and_then(Value::as_array) else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let mut row = serde_json::Map::new();
            row.insert("chat_id".into(), chat["id"].clone());
            row.insert("position".into(), json!(i));
            row.insert("update_timestamp".into(), chat["update_timestamp"].clone());
            match item {
                Value::Object(o) => row.extend(o.clone()),
                other => {
                    row.insert("value".into(), other.clone());
                }
            }
            rows.push(Value::Object(row));
        }
    }
    rows
}

/// Ids of records, as strings.
pub fn ids(records: &[Value], key: &str) -> Vec<String> {
    records
        .iter()
        .map(|r| match &r[key] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        })
        .collect()
}

/// Records sorted by the given keys (parallel slices emit chats in slice order, not export
/// order), after asserting no key appears twice.
pub fn sorted_unique(records: &[Value], keys: &[&str]) -> Vec<Value> {
    let key = |r: &Value| keys.iter().map(|k| r[*k].to_string()).collect::<Vec<_>>();
    let mut out = records.to_vec();
    out.sort_by_key(key);
    for w in out.windows(2) {
        assert_ne!(key(&w[0]), key(&w[1]), "duplicate record {:?}", key(&w[0]));
    }
    out
}

/// Records as the connector types them (the fake sends 0/1 flags, integer history ids, ...),
/// chats sorted by id, child rows by (chat_id, position).
pub fn canon(stream: &str, records: &[Value]) -> Vec<Value> {
    let info = source_zendesk_chat::streams::find(stream).expect("a stream of the catalog");
    let typed: Vec<Value> = records
        .iter()
        .map(|r| {
            source_zendesk_chat::records::typed::typed_value(info, r)
                .unwrap_or_else(|| panic!("{stream}: record cannot be typed: {r:.300}"))
        })
        .collect();
    let records = &typed;
    match stream {
        "chats" => sorted_unique(records, &["id"]),
        s if s.starts_with("chat_") => sorted_unique(records, &["chat_id", "position"]),
        _ => records.to_vec(),
    }
}

/// The same config, read sequentially (one export slice).
pub fn sequential(mut cfg: Value) -> Value {
    cfg["backfill_concurrency"] = json!(1);
    cfg
}
