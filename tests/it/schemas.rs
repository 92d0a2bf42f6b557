//! Every record the fake API can produce, quirks included, validates against the schema its
//! stream declares in `discover` (draft-07, formats asserted).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::util::*;

#[test]
fn every_record_matches_its_declared_schema() {
    let sb = sandbox_with(|c| {
        c.quirks = true;
        c.chats = 3000;
    });
    let disc = run("discover", &[("config", &config(&sb))]);
    let mut validators = BTreeMap::new();
    for s in disc.of_type("CATALOG")[0]["catalog"]["streams"]
        .as_array()
        .unwrap()
    {
        let schema = &s["json_schema"];
        jsonschema::draft7::meta::validate(schema).unwrap();
        let v = jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(schema)
            .unwrap();
        validators.insert(s["name"].as_str().unwrap().to_owned(), v);
    }
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &catalog(ALL_STREAMS, "full_refresh")),
        ],
    );
    run.assert_ok();
    let mut checked = 0;
    for m in run.of_type("RECORD") {
        let stream = m["record"]["stream"].as_str().unwrap();
        let data = &m["record"]["data"];
        let errors: Vec<String> = validators[stream]
            .iter_errors(data)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{stream} record {data:.300}: {errors:?}");
        checked += 1;
    }
    eprintln!("validated {checked} records");
    assert!(checked > 10_000, "{checked}");
    for stream in ALL_STREAMS {
        assert!(
            !run.records(stream).is_empty(),
            "{stream} produced no record to validate"
        );
    }
}

/// The sandbox with every real-world shape on (issue 9), indented or newline-spaced bodies, and
/// the type quirks and numeric timestamps.
fn real_world(style: zendesk_chat_sandbox::BodyStyle) -> zendesk_chat_sandbox::Sandbox {
    sandbox_with(|c| {
        c.quirks = true;
        c.chats = 1500;
        c.shapes = zendesk_chat_sandbox::Shapes::real_world(style);
        // Numeric chat update_timestamps are the paging code's concern (chats helper); bans here.
        c.faults.numeric_timestamps = vec!["bans".into()];
    })
}

fn validators(sb: &zendesk_chat_sandbox::Sandbox) -> BTreeMap<String, jsonschema::Validator> {
    let disc = run("discover", &[("config", &config(sb))]);
    disc.of_type("CATALOG")[0]["catalog"]["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let v = jsonschema::draft7::options()
                .should_validate_formats(true)
                .build(&s["json_schema"])
                .unwrap();
            (s["name"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

#[test]
fn real_world_shapes_give_one_valid_typed_line_per_record() {
    for style in [
        zendesk_chat_sandbox::BodyStyle::Indented,
        zendesk_chat_sandbox::BodyStyle::Newlines,
    ] {
        let sb = real_world(style);
        let validators = validators(&sb);
        let run = run(
            "read",
            &[
                ("config", &config(&sb)),
                ("catalog", &catalog(ALL_STREAMS, "full_refresh")),
            ],
        );
        run.assert_ok().assert_bookkeeping(ALL_STREAMS);
        // Every stdout line is one message (parse_messages asserts it): nothing indented leaks.
        assert_eq!(run.stdout.lines().count(), run.messages.len());
        let mut changes = BTreeMap::<String, usize>::new();
        for m in run.of_type("RECORD") {
            let stream = m["record"]["stream"].as_str().unwrap();
            let data = &m["record"]["data"];
            let errors: Vec<String> = validators[stream]
                .iter_errors(data)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{stream} record {data:.300}: {errors:?}");
            for c in m["record"]["meta"]["changes"]
                .as_array()
                .into_iter()
                .flatten()
            {
                assert_eq!(c["change"], "NULLED");
                assert_eq!(c["reason"], "SOURCE_SERIALIZATION_ERROR");
                *changes
                    .entry(format!("{stream}.{}", c["field"].as_str().unwrap()))
                    .or_default() += 1;
            }
        }
        // Every quirk of the fake API is normalizable: no value is nulled.
        assert!(changes.is_empty(), "{changes:?}");
        assert!(run.of_type("LOG").iter().all(|l| !l["log"]["message"]
            .as_str()
            .unwrap()
            .contains("were skipped")));
        check_counts_and_keys(&sb, &run);
    }
}

fn check_counts_and_keys(sb: &zendesk_chat_sandbox::Sandbox, run: &Run) {
    for (stream, resource) in [
        ("agents", "agents"),
        ("bans", "bans"),
        ("departments", "departments"),
        ("shortcuts", "shortcuts"),
        ("triggers", "triggers"),
        ("chats", "chats"),
    ] {
        assert_eq!(
            run.records(stream).len(),
            sb.expected(resource).len(),
            "{stream}"
        );
    }
    let shortcuts = run.records("shortcuts");
    let hello = shortcuts.iter().find(|s| s["name"] == "hello").unwrap();
    assert_eq!(hello["id"], "hello");
    let triggers = run.records("triggers");
    let returning = triggers
        .iter()
        .find(|t| t["name"] == "Returning visitor")
        .unwrap();
    assert!(returning["id"].as_i64().unwrap() < 0, "{returning}");
    let chats = run.records("chats");
    assert!(chats.iter().all(|c| c["update_timestamp"].is_string()));
    let offline_dates: Vec<&Value> = chats
        .iter()
        .filter(|c| c["type"] == "offline_msg")
        .map(|c| &c["session"]["start_date"])
        .collect();
    assert!(!offline_dates.is_empty());
    assert!(offline_dates.iter().all(|d| d
        .as_str()
        .is_some_and(|s| !s.contains('+') && s.ends_with('Z'))));
    assert!(chats
        .iter()
        .all(|c| c["unread"].is_boolean() || c["unread"].is_null()));
    let bans = run.records("bans");
    assert!(bans.iter().any(|b| b.get("created_at").is_none()));
    assert!(bans.iter().all(|b| b["id"].is_i64()));
    // The fault sends some created_at as epoch seconds: typed as date-times.
    assert!(bans
        .iter()
        .filter_map(|b| b.get("created_at"))
        .all(|t| t.is_null() || t.as_str().is_some_and(|s| s.ends_with('Z'))));
}

/// A value that cannot be typed is nulled and reported in the record's meta.changes, and the
/// stream logs how many once; a keyless record is skipped and logged.
#[test]
fn unreadable_values_are_nulled_with_a_change_and_logged_once() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let body = "[{\"id\": 1, \"name\": \"a\", \"enabled\": \"maybe\", \"members\": [1, \"x\"]},\n \
                {\"id\": 2, \"name\": \"b\", \"enabled\": 1},\n \
                {\"name\": \"no id\", \"enabled\": true}]";
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(path("/api/v2/chat/departments"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
            .mount(&server)
            .await;
        server
    });
    let cfg = serde_json::json!({
        "subdomain": "sandbox",
        "start_date": "2024-01-01T00:00:00Z",
        "base_url": format!("{}/api/v2/chat/", server.uri()),
        "credentials": {"credentials": "access_token", "access_token": "t"}
    });
    let run = run(
        "read",
        &[
            ("config", &cfg),
            ("catalog", &catalog(&["departments"], "full_refresh")),
        ],
    );
    run.assert_ok();
    let records: Vec<&Value> = run
        .of_type("RECORD")
        .into_iter()
        .map(|m| &m["record"])
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["data"]["enabled"], Value::Null);
    assert_eq!(records[0]["data"]["members"], serde_json::json!([1, null]));
    let fields: Vec<&str> = records[0]["meta"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["enabled", "members.1"]);
    assert!(records[1].get("meta").is_none());
    assert_eq!(records[1]["data"]["enabled"], true);
    let logs: Vec<&str> = run
        .of_type("LOG")
        .iter()
        .map(|l| l["log"]["message"].as_str().unwrap())
        .filter(|m| m.starts_with("Stream departments:"))
        .collect();
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert!(logs[0].contains("2 value(s)"), "{logs:?}");
    assert!(logs[1].contains("1 record(s) were skipped"), "{logs:?}");
}
