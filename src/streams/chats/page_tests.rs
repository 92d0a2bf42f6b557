//! The fast page reader against the reference (serde_json) reader: on every real-world shape of
//! the fake API, in every body style, and on thousands of corrupted bodies, whatever the fast
//! reader accepts it reads exactly as the reference does.

use proptest::prelude::*;
use zendesk_chat_sandbox::{BodyStyle, Sandbox, SandboxConfig, Shapes};

use super::page::{slow, Needs, Page};
use super::walk::fast;
use super::Part;
use crate::records::normalize::Sink;

const ALL_NEEDS: [Needs; 4] = [
    Needs { record: true, children: true },
    Needs { record: true, children: false },
    Needs { record: false, children: true },
    Needs { record: false, children: false },
];

/// Everything a reader hands on, as comparable text.
fn summary(page: &Page<'_>) -> String {
    let chats: Vec<String> = page
        .chats
        .iter()
        .map(|c| {
            let record = c.record.as_ref().map(|r| {
                let patches = &page.typed.patches[r.patches.clone()];
                let text: Vec<u8> = page.typed.pieces(r.raw.as_bytes(), patches).flatten().copied().collect();
                (
                    String::from_utf8(text).expect("UTF-8"),
                    page.typed.changes[r.changes.clone()].to_vec(),
                )
            });
            let children = [Part::History, Part::Webpath, Part::Engagements, Part::Conversions]
                .map(|p| c.children(p));
            format!(
                "{} {:?} {:?} {:?} {:?} {:?} {}",
                c.id, c.pos, c.version, c.update_timestamp, children, record, c.bytes
            )
        })
        .collect();
    format!(
        "full={} without_id={}\n{}",
        page.full,
        page.without_id,
        chats.join("\n")
    )
}

/// Both readers on one body: the fast reader's page, or `None` when it left the body to the
/// reference reader.
fn both(body: &str, needs: Needs) -> Option<String> {
    let reference = slow(body, needs, Sink::default()).map(|p| summary(&p));
    let quick = fast(body, needs, Sink::default()).ok().map(|p| summary(&p));
    if let Some(quick) = &quick {
        let reference = reference.as_ref().expect("the fast reader accepted a body serde_json refuses");
        assert_eq!(quick, reference, "{needs:?}");
    }
    quick
}

fn real_world(style: BodyStyle) -> Sandbox {
    let mut cfg = SandboxConfig {
        quirks: true,
        chats: 1200,
        ..SandboxConfig::default()
    };
    cfg.shapes = Shapes {
        max_int_ids: true,
        ..Shapes::real_world(style)
    };
    cfg.faults.numeric_timestamps = vec!["chats".into()];
    Sandbox::spawn(cfg).expect("sandbox starts")
}

/// The first two export pages of a sandbox.
async fn pages(sb: &Sandbox) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut url = format!("{}incremental/chats?start_time=0&limit=1000&fields=chats(*)", sb.base_url());
    let mut bodies = Vec::new();
    for _ in 0..2 {
        let body = client
            .get(&url)
            .bearer_auth("sandbox-token-0001")
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("the sandbox answers")
            .text()
            .await
            .expect("a body");
        let next: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        bodies.push(body);
        match next["next_page"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    bodies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fast_reader_reads_every_real_world_page_as_the_reference_does() {
    for style in [BodyStyle::Compact, BodyStyle::Indented, BodyStyle::Newlines] {
        let sb = real_world(style);
        let bodies = pages(&sb).await;
        assert_eq!(bodies.len(), 2, "{style:?}");
        for body in &bodies {
            for needs in ALL_NEEDS {
                let page = both(body, needs);
                assert!(page.is_some(), "{style:?} {needs:?}: the fast reader gave up on a sandbox page");
            }
        }
    }
}

#[test]
fn quirky_chats_are_typed_alike_by_both_readers() {
    for body in [
        r#"{"chats":[{"id":7,"unread":"1","webpath":[["https://a.example",null,1705692285,"t"]],"history":[{"department_id":12,"msg_id":3}],"session":{"end_date":"2017-04-24T12:43:37+00:00Z","start_date":[1]},"count":{"total":"4"},"x":{"nested":[1,{"a":true}]}}],"count":1}"#,
        r#"{"count":null,"next_page":null,"chats":[{"id":"a","response_time":"fast","tags":"x","visitor":null,"engagements":[{"accepted":"true"}]}]}"#,
        r#"{"chats":null}"#,
        r#"{}"#,
        "{ \"chats\" : [ { \"id\" : \"b\" , \"k\\u00e9y\" : 1 } ] }",
        r#"{"chats":[{"id":"c","webpath":["not an object"],"session":"text"}],"count":1000.0}"#,
        r#"{"chats":[{"id":"d","duration":1e400}]}"#,
        r#"{"chats":[{"id":"e","visitor":{"name":"\ud800"},"x":"\udc00\u0041"}]}"#,
        "{\"chats\":[{\"id\":\"f\",\"comment\":\"tab\there\"}]}",
    ] {
        for needs in ALL_NEEDS {
            both(body, needs);
        }
    }
}

/// A compact page with a few chats, quirks included, for the corruption property.
const SMALL_PAGE: &str = r#"{"chats":[{"id":"2401.1.a","timestamp":"2024-01-01T03:41:50Z","update_timestamp":"2024-01-01T04:08:27Z","missed":0,"unread":"false","duration":921,"tags":["a","b\"c"],"department_id":"72","visitor":{"id":"3.45678","name":"Dana"},"session":{"start_date":"2017-04-24T12:43:37+00:00Z","ip":"67.32.299.96"},"webpath":[{"timestamp":"2024-01-01T03:41:11Z","to":"https://x.example"},["https://y.example",null,1705692285,"t"]],"history":[{"type":"chat.msg","timestamp":"2024-01-01T03:41:40.132495Z","department_id":7282635078594,"msg_id":1704080567249,"msg":"hi \u00e9"}],"response_time":{"first":106,"avg":60.7,"max":106}},{"update_timestamp":1704067201,"id":"2401.1.b","count":{"total":19}},{"timestamp":"2024-01-02T00:00:00Z"}],"count":3,"end_time":1704067201}"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Whatever one corrupted byte does to a page, the fast reader either leaves the body to
    /// the reference reader or reads it exactly as the reference does.
    #[test]
    fn a_corrupted_body_is_never_read_differently(
        at in 0..SMALL_PAGE.len(),
        edit in 0u8..3,
        byte in prop::sample::select(b"\"{}[],: \n\\0123456789.eE-+tfnulax\x01".to_vec()),
    ) {
        let mut body = SMALL_PAGE.as_bytes().to_vec();
        match edit {
            0 => body[at] = byte,
            1 => body.insert(at, byte),
            _ => {
                body.remove(at);
            }
        }
        if let Ok(text) = std::str::from_utf8(&body) {
            for needs in ALL_NEEDS {
                both(text, needs);
            }
        }
    }
}
