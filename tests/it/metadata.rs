//! metadata.yaml against the connector: every stream Airbyte is told to preselect
//! (`data.suggestedStreams.streams`) is in discover's catalog.

use crate::util::*;

/// The `- name` items of `data.suggestedStreams.streams` (metadata.yaml's block layout).
fn suggested_streams(yaml: &str) -> Vec<String> {
    let mut lines = yaml
        .lines()
        .skip_while(|l| l.trim_end() != "  suggestedStreams:");
    assert!(
        lines.next().is_some(),
        "metadata.yaml has no data.suggestedStreams"
    );
    assert_eq!(lines.next().map(str::trim_end), Some("    streams:"));
    lines
        .map_while(|l| l.strip_prefix("      - "))
        .map(|s| s.trim().trim_matches(['"', '\'']).to_owned())
        .collect()
}

#[test]
fn every_suggested_stream_is_in_the_catalog() {
    let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/metadata.yaml"))
        .expect("metadata.yaml");
    let suggested = suggested_streams(&yaml);
    let sb = sandbox();
    let run = run("discover", &[("config", &config(&sb))]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let catalog: Vec<&str> = run.of_type("CATALOG")[0]["catalog"]["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for name in &suggested {
        assert!(
            catalog.contains(&name.as_str()),
            "suggested stream {name} is not in the catalog"
        );
    }
    for wanted in [
        "chats",
        "agents",
        "agent_timeline",
        "departments",
        "chat_history",
    ] {
        assert!(
            suggested.iter().any(|s| s == wanted),
            "{wanted} is not suggested: {suggested:?}"
        );
    }
    let other = suggested_streams(
        "data:\n  suggestedStreams:\n    streams:\n      - chats\n      - \"nope\"\n  x: 1\n",
    );
    assert_eq!(other, ["chats", "nope"]);
}
