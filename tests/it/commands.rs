//! spec, check and discover, as the platform calls them.

use serde_json::{json, Value};

use crate::util::*;

/// `spec` prints exactly one SPEC, identical to the committed spec.json, in under 20 ms.
#[test]
fn spec_matches_committed_spec_json() {
    let run = run("spec", &[]);
    assert_eq!(run.code, 0);
    assert_eq!(run.messages.len(), 1, "{}", run.stdout);
    let committed: Value = serde_json::from_str(include_str!("../../spec.json")).unwrap();
    assert_eq!(run.messages[0]["spec"], committed);
    assert!(
        run.stderr.is_empty() || !run.stderr.contains("ERROR"),
        "{}",
        run.stderr
    );
}

/// A valid token gives SUCCEEDED.
#[test]
fn check_succeeds_with_a_valid_token() {
    let sb = sandbox();
    let run = run("check", &[("config", &config(&sb))]);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.connection_status()["status"],
        "SUCCEEDED",
        "{}",
        run.stderr
    );
}

/// A wrong token gives FAILED with a message about the token, exit 0, and no token echoed.
#[test]
fn check_fails_clearly_with_a_wrong_token() {
    let sb = sandbox();
    let mut cfg = config(&sb);
    cfg["credentials"]["access_token"] = json!("wrong-token-98765");
    let run = run("check", &[("config", &cfg)]);
    assert_eq!(run.code, 0);
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED");
    let msg = status["message"].as_str().unwrap();
    assert!(msg.contains("401") && msg.contains("access token"), "{msg}");
    assert!(!run.stdout.contains("wrong-token-98765") && !run.stderr.contains("wrong-token-98765"));
}

/// A subdomain that does not exist (every endpoint 404) gives FAILED naming the subdomain.
#[test]
fn check_fails_clearly_with_a_wrong_subdomain() {
    let sb = sandbox();
    let mut cfg = config(&sb);
    cfg["base_url"] = json!(format!("http://{}/no-such-account/api/v2/chat/", sb.addr()));
    let run = run("check", &[("config", &cfg)]);
    assert_eq!(run.code, 0);
    let msg = run.connection_status()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(run.connection_status()["status"], "FAILED");
    assert!(msg.contains("404") && msg.contains("subdomain"), "{msg}");
}

/// An unreachable host gives FAILED quickly, saying it could not connect.
#[test]
fn check_fails_clearly_when_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }; // closed again: nothing listens there
    let cfg = json!({"subdomain": "sandbox", "start_date": "2024-01-01T00:00:00Z",
        "base_url": format!("http://127.0.0.1:{port}/api/v2/chat/"),
        "credentials": {"credentials": "access_token", "access_token": "sandbox-token-0001"}});
    let run = run("check", &[("config", &cfg)]);
    assert_eq!(run.code, 0);
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED");
    let msg = status["message"].as_str().unwrap();
    assert!(
        msg.contains("could not reach") && msg.contains("connect"),
        "{msg}"
    );
    assert!(run.elapsed.as_secs() < 10, "took {:?}", run.elapsed);
}

/// Invalid configs give FAILED with a message naming the field and the fix.
#[test]
fn check_explains_invalid_configs() {
    let cases = [
        (
            json!({"start_date": "2024-01-01T00:00:00Z", "subdomain": "https://acme.zendesk.com",
                "credentials": {"credentials": "access_token", "access_token": "tok-0001"}}),
            "`subdomain`",
        ),
        (
            json!({"start_date": "2024-01-01T00:00:00Z", "subdomain": "acme.zendesk.com",
                "credentials": {"credentials": "access_token", "access_token": "tok-0001"}}),
            "\"acme\"",
        ),
        (
            json!({"start_date": "01/02/2024", "subdomain": "acme",
                "credentials": {"credentials": "access_token", "access_token": "tok-0001"}}),
            "`start_date`",
        ),
        (
            json!({"start_date": "2024-01-01T00:00:00Z", "subdomain": "acme"}),
            "`credentials`",
        ),
        (
            json!({"start_date": "2024-01-01T00:00:00Z", "subdomain": "acme",
                "credentials": {"credentials": "access_token", "access_token": ""}}),
            "access_token",
        ),
        (
            json!({"start_date": "2024-01-01T00:00:00Z", "subdomain": "acme", "base_url": "http://example.com/api/",
                "credentials": {"credentials": "access_token", "access_token": "tok-0001"}}),
            "https://",
        ),
    ];
    for (cfg, needle) in cases {
        let run = run("check", &[("config", &cfg)]);
        assert_eq!(run.code, 0);
        let status = run.connection_status();
        assert_eq!(status["status"], "FAILED", "{cfg}");
        let msg = status["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{cfg}: {msg}");
    }
    let run = run_raw("check", &[("config", "{not json".to_owned())]);
    assert_eq!(run.connection_status()["status"], "FAILED");
}

/// discover lists every stream with the certified connector's keys and cursors.
#[test]
fn discover_lists_every_stream() {
    let sb = sandbox();
    let run = run("discover", &[("config", &config(&sb))]);
    assert_eq!(run.code, 0);
    let catalogs = run.of_type("CATALOG");
    assert_eq!(catalogs.len(), 1);
    let streams = catalogs[0]["catalog"]["streams"].as_array().unwrap();
    let names: Vec<&str> = streams
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ALL_STREAMS);
    let by_name = |n: &str| streams.iter().find(|s| s["name"] == n).unwrap();
    assert_eq!(
        by_name("chats")["default_cursor_field"],
        json!(["update_timestamp"])
    );
    assert_eq!(
        by_name("chats")["source_defined_primary_key"],
        json!([["id"]])
    );
    assert_eq!(
        by_name("agent_timeline")["default_cursor_field"],
        json!(["start_time"])
    );
    assert_eq!(
        by_name("accounts")["source_defined_primary_key"],
        json!([["account_key"]])
    );
    assert_eq!(
        by_name("chat_history")["source_defined_primary_key"],
        json!([["chat_id"], ["position"]])
    );
    assert_eq!(
        by_name("routing_settings")["source_defined_primary_key"],
        json!([])
    );
    assert_eq!(
        by_name("departments")["supported_sync_modes"],
        json!(["full_refresh"])
    );
    assert_eq!(
        by_name("agents")["supported_sync_modes"],
        json!(["full_refresh", "incremental"])
    );
    for s in streams {
        assert_eq!(
            s["json_schema"]["additionalProperties"], true,
            "{}",
            s["name"]
        );
        assert_eq!(s["is_resumable"], s["source_defined_cursor"]);
    }
    // No request is needed to discover.
    assert_eq!(sb.stats().requests, 0);
}

/// discover with a broken config is a config_error TRACE and a non-zero exit.
#[test]
fn discover_with_invalid_config_is_a_config_error() {
    let run = run_raw("discover", &[("config", "[]".to_owned())]);
    assert_ne!(run.code, 0);
    let errors = run.errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["trace"]["error"]["failure_type"], "config_error");
}
