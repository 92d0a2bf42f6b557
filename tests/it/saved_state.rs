//! Saved states in other tools' forms, through the real binary: the wrapped `{"state": {...}}`
//! and the Airbyte CDK's date-range form resume chats at their exact position; a form the
//! connector does not know fails the stream with a config_error naming it, and no restart.

use serde_json::{json, Value};

use crate::util::*;

fn iso_secs(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("timestamp"))
        .expect("RFC 3339")
        .timestamp()
}

fn state_of(stream: &str, stream_state: Value) -> Value {
    json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": stream_state}}])
}

fn infos(run: &Run) -> Vec<String> {
    run.of_type("LOG")
        .iter()
        .filter(|m| m["log"]["level"] == "INFO")
        .filter_map(|m| m["log"]["message"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn wrapped_and_cdk_date_range_states_resume_chats_exactly() {
    let sb = sandbox();
    let all = sb.expected("chats");
    let t = iso_secs(&all[1000]["update_timestamp"]);
    let later = iso_secs(&all[1500]["update_timestamp"]);
    assert!(later > t + 1, "a gap between {t} and {later}");
    let expected: Vec<Value> = all
        .iter()
        .filter(|c| iso_secs(&c["update_timestamp"]) >= t)
        .cloned()
        .collect();
    assert!(expected.len() < all.len() && expected.len() > 900);
    let date_range = json!({"state_type": "date-range", "slices": [
        {"start": (later + 1).to_string(), "end": (later + 600).to_string()},
        {"start": "1704067200", "end": (t - 1000).to_string()},
        {"start": (t - 999).to_string(), "end": t.to_string(), "most_recent_cursor_value": t.to_string()}
    ], "legacy": {}});
    let cases = [
        (
            json!({"state": {"update_timestamp": t.to_string()}}),
            "is wrapped as {\"state\": {...}}",
        ),
        (
            date_range,
            "is the Airbyte CDK's date-range form (3 slice(s))",
        ),
    ];
    for (saved, said) in cases {
        let run = run(
            "read",
            &[
                ("config", &config(&sb)),
                ("catalog", &catalog(&["chats"], "incremental")),
                ("state", &state_of("chats", saved.clone())),
            ],
        );
        run.assert_ok().assert_bookkeeping(&["chats"]);
        let got = run.records("chats");
        assert!(
            got.iter().all(|c| iso_secs(&c["update_timestamp"]) >= t),
            "{saved}: a chat before the resumed position"
        );
        assert_eq!(got.len(), expected.len(), "{saved}: each chat once");
        assert_eq!(canon("chats", &got), canon("chats", &expected), "{saved}");
        assert!(
            infos(&run)
                .iter()
                .any(|l| l.starts_with("Stream chats: the saved state ") && l.contains(said)),
            "{saved}: {:?}",
            infos(&run)
        );
    }
}

#[test]
fn an_unknown_state_form_is_a_config_error_naming_the_stream_and_nothing_restarts() {
    let sb = sandbox();
    let agents = sb.expected("agents");
    let pivot = agents[10]["id"].as_i64().unwrap();
    let mut state = state_of(
        "chats",
        json!({"cursor": {"update_timestamp": "1697795052"}}),
    );
    state.as_array_mut().unwrap().extend(
        state_of("agents", json!({"id": pivot}))
            .as_array()
            .unwrap()
            .clone(),
    );
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &catalog(&["chats", "agents"], "incremental")),
            ("state", &state),
        ],
    );
    assert_ne!(run.code, 0);
    assert!(
        run.records("chats").is_empty(),
        "no chat read from start_date"
    );
    assert_eq!(
        canon("agents", &run.records("agents")),
        canon("agents", &agents[11..]),
        "the other streams finish"
    );
    let errors = run.errors();
    let chats = errors
        .iter()
        .find(|e| e["trace"]["error"]["stream_descriptor"]["name"] == "chats")
        .expect("an ERROR trace for chats");
    let error = &chats["trace"]["error"];
    assert_eq!(error["failure_type"], "config_error");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("The saved state of stream chats is in a form this connector does not know (found the field(s) `cursor`)"),
        "{message}"
    );
    assert!(
        message.contains("{\"update_timestamp\": \"1697795052\"}"),
        "{message}"
    );
    assert!(
        message.contains("\"state_type\": \"date-range\""),
        "{message}"
    );
    assert!(
        message.ends_with(
            "Reset the stream (its next sync reads everything from start_date) or fix the state."
        ),
        "{message}"
    );
    let statuses: Vec<&Value> = run
        .of_type("TRACE")
        .into_iter()
        .filter(|m| {
            m["trace"]["type"] == "STREAM_STATUS"
                && m["trace"]["stream_status"]["stream_descriptor"]["name"] == "chats"
        })
        .collect();
    assert_eq!(
        statuses.last().unwrap()["trace"]["stream_status"]["status"],
        "INCOMPLETE"
    );
}
