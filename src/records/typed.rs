//! The stream-level typing API: each stream's normalizer (compiled once from its discovered
//! schema), the primary-key rules, per-stream counters of nulled values and keyless records, and
//! the one call that normalizes a record and writes it.
//!
//! Key rules: a shortcut or trigger without `id` is keyed by its `name` (these endpoints treat
//! the name as unique): a shortcut gets `id` = its name; a trigger, whose `id` is an integer
//! column, gets `id` = minus a 52-bit FNV-1a hash of its name (negative, so it never equals a
//! real trigger id; stable across syncs). A record whose primary key still cannot be formed is
//! not emitted, wherever it sits in a page; it is counted and reported in one WARN log.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::de::DeserializeSeed;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::normalize::{write_str, ObjectSeed, Shape, Sink};
use super::{decode_error, StreamInfo};
use crate::error::Error;
use crate::protocol::output::Writer;
use crate::protocol::{AirbyteMessage, LogLevel};

/// How a missing primary key is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyRule {
    /// The primary key fields must be present.
    AsSent,
    /// `id` missing: the `name` as a string id.
    NameAsStrId,
    /// `id` missing: a negative integer derived from the `name`.
    NameHashAsIntId,
}

/// The normalizer of one stream.
pub struct Normalizer {
    stream: &'static str,
    shape: Shape,
    /// Bits of the primary key fields in `shape`.
    key_bits: u64,
    rule: KeyRule,
}

/// Per-stream counters, shared by the stream's readers.
#[derive(Default, Debug)]
pub struct TypingStats {
    nulled: AtomicU64,
    keyless: AtomicU64,
}

impl TypingStats {
    /// Values set to null (each with a `meta.changes` entry) so far.
    pub fn nulled(&self) -> u64 {
        self.nulled.load(Ordering::Relaxed)
    }

    /// Records not emitted because their primary key could not be formed.
    pub fn keyless(&self) -> u64 {
        self.keyless.load(Ordering::Relaxed)
    }

    /// The LOG messages summing up the stream's typing (none when nothing happened).
    pub fn summary(&self, stream: &str) -> Vec<AirbyteMessage> {
        let mut logs = Vec::new();
        if self.nulled() > 0 {
            logs.push(AirbyteMessage::log(LogLevel::Warn, format!(
                "Stream {stream}: {} value(s) did not fit their column's type and were set to null; each is listed in its record's meta.changes (Airbyte's _airbyte_meta).",
                self.nulled()
            )));
        }
        if self.keyless() > 0 {
            logs.push(AirbyteMessage::log(LogLevel::Warn, format!(
                "Stream {stream}: {} record(s) were skipped because Zendesk sent them without their primary key; they cannot be deduplicated or updated in the destination.",
                self.keyless()
            )));
        }
        logs
    }
}

/// The normalizers compiled so far, one per stream of the catalog (fewer than twenty).
static COMPILED: Mutex<Vec<&'static Normalizer>> = Mutex::new(Vec::new());

impl Normalizer {
    fn new(info: &'static StreamInfo) -> Self {
        let shape = Shape::from_schema(&(info.schema)());
        let key_bits = info
            .primary_key
            .iter()
            .filter_map(|k| shape.index(k))
            .fold(0u64, |bits, i| bits | super::normalize::bit(i));
        let rule = match info.name {
            "shortcuts" => KeyRule::NameAsStrId,
            "triggers" => KeyRule::NameHashAsIntId,
            _ => KeyRule::AsSent,
        };
        Self {
            stream: info.name,
            shape,
            key_bits,
            rule,
        }
    }

    /// The compiled schema of the stream's records.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The normalizer of a stream, compiled from its schema on first use.
    pub fn of(info: &'static StreamInfo) -> &'static Normalizer {
        let mut compiled = COMPILED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = compiled.iter().find(|n| n.stream == info.name) {
            return n;
        }
        let n: &'static Normalizer = Box::leak(Box::new(Normalizer::new(info)));
        compiled.push(n);
        n
    }

    /// Normalizes one record into `sink` (cleared first), with `lead` fields (JSON text)
    /// written first. False when the record has no primary key and must not be emitted.
    pub fn normalize(
        &self,
        stream: &str,
        raw: &str,
        lead: &[(&str, &str)],
        sink: &mut Sink,
    ) -> Result<bool, Error> {
        sink.clear();
        let derived;
        let mut with_key: Vec<(&str, &str)>;
        let mut lead = lead;
        if self.rule != KeyRule::AsSent {
            match self.derived_id(stream, raw)? {
                DerivedId::Sent => {}
                DerivedId::None => return Ok(false),
                DerivedId::Id(id) => {
                    derived = id;
                    with_key = lead.to_vec();
                    with_key.push(("id", &derived));
                    lead = &with_key;
                }
            }
        }
        let mut de = serde_json::Deserializer::from_str(raw);
        let present = ObjectSeed {
            shape: &self.shape,
            sink: &mut *sink,
            lead,
            tap: None,
        }
        .deserialize(&mut de)
        .map_err(|e| decode_error(stream, &e))?;
        match present {
            None => Err(Error::Decode {
                endpoint: stream.to_owned(),
                line: 1,
                column: 1,
                detail: "expected a JSON object as a record".into(),
            }),
            Some(bits) => Ok(bits & self.key_bits == self.key_bits),
        }
    }

    fn derived_id(&self, stream: &str, raw: &str) -> Result<DerivedId, Error> {
        #[derive(Deserialize)]
        struct IdName<'a> {
            #[serde(borrow, default)]
            id: Option<&'a RawValue>,
            #[serde(borrow, default)]
            name: Option<Cow<'a, str>>,
        }
        let probe: IdName = serde_json::from_str(raw).unwrap_or(IdName {
            id: None,
            name: None,
        });
        if probe.id.is_some_and(|id| id.get().trim() != "null") {
            return Ok(DerivedId::Sent);
        }
        let Some(name) = probe.name.filter(|n| !n.is_empty()) else {
            return Ok(DerivedId::None);
        };
        let _ = stream;
        Ok(DerivedId::Id(match self.rule {
            KeyRule::NameHashAsIntId => name_hash_id(&name).to_string(),
            _ => {
                let mut out = Vec::new();
                write_str(&mut out, &name);
                String::from_utf8(out).unwrap_or_default()
            }
        }))
    }
}

enum DerivedId {
    Sent,
    None,
    Id(String),
}

/// Minus the low 52 bits of the FNV-1a hash of the name: negative and exact in a double.
pub fn name_hash_id(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let low = (h & ((1u64 << 52) - 1)) as i64;
    -(low.max(1))
}

thread_local! {
    static SINK: RefCell<Sink> = RefCell::new(Sink::default());
}

/// Normalizes a record of `stream` and writes it as one RECORD line (with `meta.changes` when
/// values were nulled). `lead` fields (JSON text made by the connector) come first and replace
/// the record's own keys of those names. Returns false when the record was skipped for lack of
/// a primary key (counted in `stats`).
pub fn emit(
    batch: &mut Writer<'_>,
    normalizer: &Normalizer,
    stats: &TypingStats,
    raw: &RawValue,
    lead: &[(&str, &str)],
    emitted_at: i64,
) -> Result<bool, Error> {
    SINK.with(|cell| {
        let mut guard = cell.try_borrow_mut();
        let mut local;
        let sink: &mut Sink = match guard.as_deref_mut() {
            Ok(s) => s,
            Err(_) => {
                local = Sink::default();
                &mut local
            }
        };
        let stream = normalizer.stream;
        let keyed = normalizer.normalize(stream, raw.get(), lead, sink)?;
        if !keyed {
            stats.keyless.fetch_add(1, Ordering::Relaxed);
            return Ok(false);
        }
        emit_typed(
            batch,
            stream,
            stats,
            [&sink.out[..]],
            &sink.changes,
            emitted_at,
        )?;
        Ok(true)
    })
}

/// Writes a record already typed (`data`, with the paths of its nulled values) as one RECORD.
pub fn emit_typed<'d>(
    batch: &mut Writer<'_>,
    stream: &str,
    stats: &TypingStats,
    data: impl IntoIterator<Item = &'d [u8]>,
    changes: &[Box<str>],
    emitted_at: i64,
) -> Result<(), Error> {
    if !changes.is_empty() {
        stats
            .nulled
            .fetch_add(changes.len() as u64, Ordering::Relaxed);
    }
    batch.push_typed_record(stream, data, changes, emitted_at)?;
    Ok(())
}

/// The integer `id` of a record (a number or a numeric string), for the id-cursor pagers.
pub fn int_id(raw: &RawValue) -> Option<i64> {
    #[derive(Deserialize)]
    struct WithId<'a> {
        #[serde(borrow, default)]
        id: Option<&'a RawValue>,
    }
    let probe: WithId = serde_json::from_str(raw.get()).ok()?;
    let text = super::quirks::int_text(probe.id?.get().trim().trim_matches('"').trim())?;
    text.parse().ok()
}

/// A record of `stream` as the connector emits it (`None`: skipped, or not an object). For
/// tests that compare output with the fake API's data.
pub fn typed_value(
    info: &'static StreamInfo,
    record: &serde_json::Value,
) -> Option<serde_json::Value> {
    let raw = serde_json::to_string(record).ok()?;
    let mut sink = Sink::default();
    let keyed = Normalizer::of(info)
        .normalize(info.name, &raw, &[], &mut sink)
        .ok()?;
    keyed
        .then(|| serde_json::from_slice(&sink.out).ok())
        .flatten()
}

/// The agent_timeline key rule. The certified connector emits `start_time` to the second and
/// `id` = `{agent_id}|{start_time}` in that form; the same strings are emitted here, with the
/// exact instant in `start_time_exact`. A second or later entry of one agent within the same
/// second gets `id` = `{agent_id}|{start_time_exact}` (6 fraction digits), so keys stay distinct.
/// The export is ordered by start time, so only the current second's agents are remembered.
#[derive(Default)]
pub struct TimelineKeys {
    second: Option<i64>,
    agents: std::collections::BTreeSet<String>,
}

/// The fields an agent_timeline entry gets in front (JSON text).
pub struct TimelineLead {
    id: String,
    start_time: String,
    start_time_exact: String,
}

impl TimelineLead {
    /// The lead fields, for [`emit`].
    pub fn fields(&self) -> [(&str, &str); 3] {
        [
            ("id", &self.id),
            ("start_time", &self.start_time),
            ("start_time_exact", &self.start_time_exact),
        ]
    }
}

impl TimelineKeys {
    /// Resumes after a saved position: `agents` already have an entry at `micros`.
    pub fn resume(micros: i64, agents: impl IntoIterator<Item = String>) -> Self {
        Self {
            second: Some(micros.div_euclid(1_000_000)),
            agents: agents.into_iter().collect(),
        }
    }

    /// The key fields of an entry of `agent` (its id as text) starting at `micros`; `None` when
    /// no key can be formed (no agent id or no start time): the entry is then skipped.
    pub fn lead(&mut self, agent: &str, micros: Option<i64>) -> Option<TimelineLead> {
        let micros = micros?;
        if agent.is_empty() || agent == "null" {
            return None;
        }
        let t = chrono::DateTime::from_timestamp_micros(micros)?;
        let second = micros.div_euclid(1_000_000);
        if self.second != Some(second) {
            self.second = Some(second);
            self.agents.clear();
        }
        let to_second = t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let exact = t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        let first_in_second = self.agents.insert(agent.to_owned());
        let id = format!(
            "{agent}|{}",
            if first_in_second { &to_second } else { &exact }
        );
        let quote = |s: &str| format!("\"{s}\"");
        let mut id_json = Vec::with_capacity(id.len() + 2);
        write_str(&mut id_json, &id);
        Some(TimelineLead {
            id: String::from_utf8(id_json).unwrap_or_default(),
            start_time: quote(&to_second),
            start_time_exact: quote(&exact),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::normalize::minify;
    use serde_json::{json, Value};

    /// The normalizer of a stream of the catalog.
    fn of(stream: &str) -> &'static Normalizer {
        Normalizer::of(crate::streams::find(stream).expect("a stream of the catalog"))
    }

    /// Normalizes `raw` as a record of `stream`: (output text, nulled paths), or None if keyless.
    fn typed(stream: &str, raw: &str, lead: &[(&str, &str)]) -> Option<(String, Vec<String>)> {
        let mut sink = Sink::default();
        let keyed = of(stream).normalize(stream, raw, lead, &mut sink).unwrap();
        keyed.then(|| {
            let text = String::from_utf8(sink.out.clone()).unwrap();
            (text, sink.changes.iter().map(|c| c.to_string()).collect())
        })
    }

    fn value(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn chat_quirks_are_normalized_and_the_line_is_compact() {
        let raw = r#"{
            "id": "c1", "type": "chat", "unread": 0, "missed": "1", "deleted": "false",
            "department_id": "12", "duration": 717.0, "zendesk_ticket_id": "",
            "update_timestamp": "2017-04-24T04:50:01Z",
            "session": {"start_date": "2017-04-24T12:43:37+00:00Z", "end_date": "soon",
                        "ip": "67.32.299.96", "extra": {"a" : [1, 2]}},
            "visitor": {"id": 3.45678, "name": "V"},
            "agent_ids": ["4120927", 55],
            "history": [{"type": "chat.msg", "msg_id": 5, "department_id": 7,
                         "timestamp": 1493037825123, "msg": "line\nbreak"}],
            "webpath": [["x", null, 3], {"to": "https://a", "timestamp": "bad"}],
            "zendesk_new_field": {"deep": [true, "a b", 123456789012345678901234567890]}
        }"#;
        let (text, changes) = typed("chats", raw, &[]).unwrap();
        assert!(!text.contains('\n'), "{text}");
        let v = value(&text);
        assert_eq!(v["unread"], false);
        assert_eq!(v["missed"], true);
        assert_eq!(v["deleted"], false);
        assert_eq!(v["department_id"], 12);
        assert_eq!(v["duration"], 717);
        assert_eq!(v["session"]["start_date"], "2017-04-24T12:43:37Z");
        assert_eq!(v["session"]["end_date"], Value::Null);
        assert_eq!(v["session"]["ip"], "67.32.299.96");
        assert_eq!(v["session"]["extra"], json!({"a": [1, 2]}));
        assert_eq!(v["visitor"]["id"], "3.45678");
        assert_eq!(v["agent_ids"], json!(["4120927", "55"]));
        assert_eq!(v["history"][0]["msg_id"], "5");
        assert_eq!(v["history"][0]["department_id"], "7");
        assert_eq!(v["history"][0]["timestamp"], "2017-04-24T12:43:45.123Z");
        assert_eq!(v["history"][0]["msg"], "line\nbreak");
        assert_eq!(v["webpath"][0], json!({"value": ["x", null, 3]}));
        assert_eq!(v["webpath"][1]["timestamp"], Value::Null);
        assert!(
            text.contains(r#"[true,"a b",123456789012345678901234567890]"#),
            "{text}"
        );
        assert_eq!(
            changes,
            [
                "zendesk_ticket_id",
                "session.end_date",
                "webpath.1.timestamp"
            ]
        );
    }

    #[test]
    fn ids_flags_and_lists_of_agents() {
        let raw = r#"{"id": "361089721035", "enabled": 1, "departments": ["1", 2, "x"],
                      "roles": {"owner": "true", "administrator": 0}, "role_id": 2.5,
                      "create_date": "2014-09-09T07:49:20Z", "unknown": null}"#;
        let (text, changes) = typed("agents", raw, &[]).unwrap();
        let v = value(&text);
        assert_eq!(v["id"], 361089721035_i64);
        assert_eq!(v["enabled"], true);
        assert_eq!(v["departments"], json!([1, 2, null]));
        assert_eq!(v["roles"], json!({"owner": true, "administrator": false}));
        assert_eq!(v["role_id"], Value::Null);
        assert_eq!(v["create_date"], "2014-09-09T07:49:20Z");
        assert_eq!(v["unknown"], Value::Null);
        assert_eq!(changes, ["departments.2", "role_id"]);
        // No integer id: not emitted, wherever it comes from.
        assert!(typed("agents", r#"{"id": "abc", "email": "a@b"}"#, &[]).is_none());
        assert!(typed("agents", r#"{"email": "a@b"}"#, &[]).is_none());
        let raw = RawValue::from_string(r#"{"id": " 42 "}"#.into()).unwrap();
        assert_eq!(int_id(&raw), Some(42));
    }

    #[test]
    fn wrong_shapes_become_null_with_a_change() {
        let raw = r#"{"id": 1, "settings": "on", "members": {"a": 1}, "name": ["n"]}"#;
        let (text, changes) = typed("departments", raw, &[]).unwrap();
        assert_eq!(
            value(&text),
            json!({"id": 1, "settings": null, "members": null, "name": null})
        );
        assert_eq!(changes, ["settings", "members", "name"]);
        let mut sink = Sink::default();
        let err = of("departments")
            .normalize("departments", "[1]", &[], &mut sink)
            .unwrap_err();
        assert!(err.to_string().contains("departments"), "{err}");
    }

    #[test]
    fn shortcuts_and_triggers_without_id_are_keyed_by_name() {
        let (text, _) = typed("shortcuts", r#"{"name": "greet", "message": "Hi"}"#, &[]).unwrap();
        assert_eq!(
            value(&text),
            json!({"id": "greet", "name": "greet", "message": "Hi"})
        );
        let (text, _) = typed("shortcuts", r#"{"id": null, "name": "a\"b"}"#, &[]).unwrap();
        assert_eq!(value(&text)["id"], "a\"b");
        assert!(typed("shortcuts", r#"{"message": "Hi"}"#, &[]).is_none());
        let (text, _) = typed("triggers", r#"{"name": "First Reply", "enabled": 1}"#, &[]).unwrap();
        let v = value(&text);
        assert_eq!(v["id"], name_hash_id("First Reply"));
        assert!(v["id"].as_i64().unwrap() < 0);
        assert!(v["id"].as_i64().unwrap() > -(1_i64 << 52));
        assert_ne!(name_hash_id("a"), name_hash_id("b"));
        let (text, _) = typed("triggers", r#"{"id": 7, "name": "x"}"#, &[]).unwrap();
        assert_eq!(value(&text)["id"], 7);
        assert!(typed("triggers", r#"{"enabled": true}"#, &[]).is_none());
    }

    #[test]
    fn child_rows_get_their_lead_fields_typed() {
        let lead = [
            ("chat_id", "\"c1\""),
            ("position", "1"),
            ("update_timestamp", "\"2017-04-24T04:50:01+00:00Z\""),
        ];
        let (text, changes) = typed("chat_webpath", r#"["a", 2]"#, &lead).unwrap();
        assert_eq!(
            value(&text),
            json!({"chat_id": "c1", "position": 1, "update_timestamp": "2017-04-24T04:50:01Z", "value": ["a", 2]})
        );
        assert!(changes.is_empty());
        let raw = r#"{"id": "e", "agent_id": 4120927, "assigned": 1, "chat_id": "other"}"#;
        let (text, _) = typed("chat_engagements", raw, &lead).unwrap();
        let v = value(&text);
        assert_eq!(v["chat_id"], "c1");
        assert_eq!(v["agent_id"], "4120927");
        assert_eq!(v["assigned"], true);
        assert_eq!(text.matches("chat_id").count(), 1);
    }

    #[test]
    fn timeline_keys_match_the_certified_form_and_stay_distinct() {
        let mut keys = TimelineKeys::default();
        let us = 1_607_918_912_817_973; // 2020-12-14T04:08:32.817973Z
        let a = keys.lead("7", Some(us)).unwrap();
        assert_eq!(a.id, r#""7|2020-12-14T04:08:32Z""#);
        assert_eq!(a.start_time, r#""2020-12-14T04:08:32Z""#);
        assert_eq!(a.start_time_exact, r#""2020-12-14T04:08:32.817973Z""#);
        let b = keys.lead("7", Some(us + 10)).unwrap();
        assert_eq!(b.id, r#""7|2020-12-14T04:08:32.817983Z""#);
        let c = keys.lead("8", Some(us + 20)).unwrap();
        assert_eq!(c.id, r#""8|2020-12-14T04:08:32Z""#);
        let d = keys.lead("7", Some(us + 1_000_000)).unwrap();
        assert_eq!(d.id, r#""7|2020-12-14T04:08:33Z""#);
        assert!(keys.lead("null", Some(us)).is_none());
        assert!(keys.lead("7", None).is_none());
        let mut resumed = TimelineKeys::resume(us, ["7".to_owned()]);
        assert_eq!(
            resumed.lead("7", Some(us + 5)).unwrap().id,
            r#""7|2020-12-14T04:08:32.817978Z""#
        );
    }

    #[test]
    fn minify_keeps_strings() {
        let mut out = Vec::new();
        minify("{ \"a b\" :\n [1, \"x\\\" y\"] }", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"a b":[1,"x\" y"]}"#);
    }
}
