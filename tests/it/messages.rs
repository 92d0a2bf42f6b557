//! Messages a user can act on: each names the field or file, the value, and what to do.

use serde_json::{json, Value};

use crate::util::*;

/// LOG messages of one level, in order.
fn logs(run: &Run, level: &str) -> Vec<String> {
    run.of_type("LOG")
        .into_iter()
        .filter(|m| m["log"]["level"] == level)
        .map(|m| m["log"]["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A whole sync's output, saved as is, is a valid `--state`: the last STATE of each stream
/// is used (one INFO line says so) and the other messages are skipped.
#[test]
fn a_whole_sync_output_is_accepted_as_state() {
    let sb = sandbox();
    let cfg = config(&sb);
    let cat = catalog(&["agents", "bans", "departments"], "incremental");
    let first = run("read", &[("config", &cfg), ("catalog", &cat)]);
    first.assert_ok();
    let agents = first.records("agents").len();
    assert!(agents > 0);
    let again = run_raw(
        "read",
        &[
            ("config", cfg.to_string()),
            ("catalog", cat.to_string()),
            ("state", first.stdout.clone()),
        ],
    );
    again
        .assert_ok()
        .assert_bookkeeping(&["agents", "bans", "departments"]);
    assert_eq!(
        again.records("agents").len(),
        0,
        "agents resumed from the last STATE"
    );
    assert_eq!(again.last_state("agents"), first.last_state("agents"));
    let notes: Vec<String> = logs(&again, "INFO")
        .into_iter()
        .filter(|m| m.contains("is a sync's output"))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    let note = &notes[0];
    eprintln!("{note}");
    assert!(note.contains("state.json"), "{note}");
    assert!(
        note.contains("using the last STATE of each stream (3 streams)"),
        "{note}"
    );
    assert!(
        note.contains(&format!("{} RECORD", first.of_type("RECORD").len())),
        "{note}"
    );
    assert!(note.contains(" TRACE"), "{note}");
}

/// Other state files keep their errors: a file that is not a state nor a sync's output.
#[test]
fn a_state_file_of_another_kind_is_still_an_error() {
    let sb = sandbox();
    let bad = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &catalog(&["agents"], "incremental")),
            ("state", &json!([{"type": "BOGUS"}])),
        ],
    );
    let e: &Value = &bad.errors()[0]["trace"]["error"];
    assert_eq!(e["failure_type"], "config_error");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("unknown state type \"BOGUS\"") && msg.contains("a whole sync's output"),
        "{msg}"
    );
}

/// `--help` of each command, as the binary prints it.
fn help(command: &str) -> String {
    let out = std::process::Command::new(BIN)
        .args([command, "--help"])
        .output()
        .expect("connector runs");
    assert!(out.status.success(), "{command} --help");
    String::from_utf8(out.stdout).expect("UTF-8 help")
}

/// `--write-config-back` is offered only by the commands where it acts, and `check --help`
/// says that a FAILED check exits 0 and how a script tests the status.
#[test]
fn help_shows_write_back_where_it_acts_and_checks_exit_status() {
    for command in ["check", "read"] {
        assert!(help(command).contains("--write-config-back"), "{command}");
    }
    for command in ["spec", "discover"] {
        assert!(!help(command).contains("--write-config-back"), "{command}");
    }
    let check = help("check");
    assert!(
        check.contains("the exit status is 0 in both cases"),
        "{check}"
    );
    assert!(
        check.contains(r#"check --config config.json | grep -q '"status":"SUCCEEDED"'"#),
        "{check}"
    );
}

/// The FAILED message of `check` with this config.
fn check_failure(cfg: &Value) -> String {
    let run = run("check", &[("config", cfg)]);
    assert_eq!(run.code, 0);
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED", "{cfg}");
    status["message"].as_str().unwrap_or_default().to_owned()
}

/// A number given as text names the field, what it must be, the value, and the fix.
#[test]
fn a_wrongly_typed_field_is_named_with_its_value_and_what_it_must_be() {
    let sb = sandbox();
    let mut cfg = config(&sb);
    cfg["requests_per_minute"] = json!("100");
    let msg = check_failure(&cfg);
    assert_eq!(
        msg,
        "`requests_per_minute` must be a whole number from 1 to 10000 (Zendesk allows 200 per minute), but the config gives the text \"100\": write it without quotes, as \"requests_per_minute\": 100."
    );
    let mut cfg = config(&sb);
    cfg["credentials"]["access_token"] = json!(987654321);
    let msg = check_failure(&cfg);
    assert!(
        msg.starts_with("`credentials.access_token` must be text in quotes"),
        "{msg}"
    );
    assert!(
        msg.contains("its value is not shown") && !msg.contains("987654321"),
        "{msg}"
    );
}

/// A mistyped required key: the missing-field error names the key that was probably meant.
#[test]
fn a_misspelt_required_key_is_pointed_out() {
    let sb = sandbox();
    let mut cfg = config(&sb);
    let subdomain = cfg.as_object_mut().unwrap().remove("subdomain").unwrap();
    cfg["subdomian"] = subdomain;
    let msg = check_failure(&cfg);
    assert!(
        msg.starts_with("The config is missing the required field `subdomain`."),
        "{msg}"
    );
    assert!(
        msg.ends_with("Did you mean `subdomain` instead of `subdomian`?"),
        "{msg}"
    );
}

/// Unknown keys give one WARN naming each with the nearest known key, in check, discover and
/// read; the platform's and the certified connector's keys stay silent.
#[test]
fn unknown_keys_are_warned_about_once_per_command() {
    let sb = sandbox();
    let mut cfg = config(&sb);
    cfg["requests_per_minut"] = json!(100);
    cfg["colour"] = json!("blue");
    cfg["__injected_declarative_manifest"] = json!({});
    cfg["access_token"] = json!("legacy-token-0001");
    let cat = catalog(&["departments"], "full_refresh");
    for (command, files) in [
        ("check", vec![("config", &cfg)]),
        ("discover", vec![("config", &cfg)]),
        ("read", vec![("config", &cfg), ("catalog", &cat)]),
    ] {
        let run = run(command, &files);
        assert_eq!(run.code, 0, "{command}: {}", run.stdout);
        let warns = logs(&run, "WARN");
        assert_eq!(warns.len(), 1, "{command}: {warns:?}");
        let w = &warns[0];
        assert!(
            w.contains("`requests_per_minut` (did you mean `requests_per_minute`?)"),
            "{w}"
        );
        assert!(
            w.contains("`colour`") && w.contains("which it ignores"),
            "{w}"
        );
        assert!(
            !w.contains("__injected") && !w.contains("access_token"),
            "{w}"
        );
    }
    let quiet = run("discover", &[("config", &config(&sb))]);
    assert!(logs(&quiet, "WARN").is_empty(), "{}", quiet.stdout);
}

/// A `base_url` without /api/v2/chat/: check and read point at `base_url`, show the form it
/// must have, and give the URL tried.
#[test]
fn a_wrong_base_url_is_named_with_its_form_and_the_url_tried() {
    let sb = sandbox();
    let mut cfg = config(&sb);
    let root = format!("http://{}/", sb.addr());
    cfg["base_url"] = json!(root);
    let msg = check_failure(&cfg);
    eprintln!("check: {msg}");
    assert!(
        msg.starts_with(&format!(
            "Zendesk Chat answered 404 Not Found for {root}agents, the URL tried."
        )),
        "{msg}"
    );
    let form = format!(
        "Check `base_url` \"{root}\": it does not end in /api/v2/chat/. It must be https://{{subdomain}}.zendesk.com/api/v2/chat/ (leave `base_url` out to use https://sandbox.zendesk.com/api/v2/chat/), or a proxy URL ending in /api/v2/chat/."
    );
    assert!(msg.ends_with(&form), "{msg}");
    let read = run(
        "read",
        &[
            ("config", &cfg),
            (
                "catalog",
                &catalog(&["departments", "roles"], "full_refresh"),
            ),
        ],
    );
    assert_ne!(read.code, 0);
    let e = &read.errors().last().expect("an ERROR trace")["trace"]["error"];
    assert_eq!(e["failure_type"], "config_error");
    let msg = e["message"].as_str().unwrap();
    eprintln!("read: {msg}");
    assert!(
        msg.contains(&format!("the URLs tried start with {root}.")),
        "{msg}"
    );
    assert!(msg.ends_with(&form), "{msg}");
}
