//! STATE messages: the per-stream checkpoints a source emits, and the `--state` file it resumes from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::messages::StreamDescriptor;

/// How a state message is scoped. This connector only emits `STREAM`; the others are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AirbyteStateType {
    Global,
    Stream,
    Legacy,
}

/// The state of one stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AirbyteStreamState {
    pub stream_descriptor: StreamDescriptor,
    #[serde(default)]
    pub stream_state: Option<Value>,
}

/// Record counts attached to a STATE message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AirbyteStateStats {
    /// Records of this stream emitted since its previous STATE (a float on the wire).
    #[serde(rename = "recordCount")]
    pub record_count: f64,
}

/// A STATE payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AirbyteStateMessage {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<AirbyteStateType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<AirbyteStreamState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(
        rename = "sourceStats",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub source_stats: Option<AirbyteStateStats>,
}

impl AirbyteStateMessage {
    /// A per-stream STATE with its record count.
    pub fn stream(name: &str, stream_state: Value, record_count: u64) -> Self {
        Self {
            kind: Some(AirbyteStateType::Stream),
            stream: Some(AirbyteStreamState {
                stream_descriptor: StreamDescriptor::new(name),
                stream_state: Some(stream_state),
            }),
            global: None,
            data: None,
            source_stats: Some(AirbyteStateStats {
                record_count: record_count as f64,
            }),
        }
    }
}

/// The forms a `--state` file may take, for error messages.
pub const ACCEPTED_FORMS: &str = "Accepted forms: the platform's array of state messages ([{\"type\":\"STREAM\",\"stream\":{...}}, ...]); one state message; a STATE line as `read` prints it ({\"type\":\"STATE\",\"state\":{...}}); several such lines, one per line (the last state of each stream wins); a whole sync's output (its STATE lines are used, the other messages skipped); or the legacy {\"<stream>\": {...}} map. An empty file, null, {} and [] mean no state.";

/// Why a `--state` file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    #[error("the state file is not valid JSON ({0}). {ACCEPTED_FORMS}")]
    NotJson(String),
    #[error("the state file has an unexpected shape: {0}. {ACCEPTED_FORMS}")]
    Shape(String),
}

/// The message types of connector output other than STATE, skipped in a saved sync's output.
const OTHER_MESSAGE_TYPES: [&str; 8] = [
    "RECORD",
    "LOG",
    "TRACE",
    "CONTROL",
    "SPEC",
    "CATALOG",
    "CONNECTION_STATUS",
    "DESTINATION_CATALOG",
];

/// The parsed `--state` file: the last known state of each stream, by stream name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputState {
    streams: BTreeMap<String, Value>,
    /// Messages other than STATE that were skipped (the file is a sync's output), by type.
    skipped: BTreeMap<String, usize>,
}

impl InputState {
    /// Parses every form Airbyte has used (see [`ACCEPTED_FORMS`]): an absent/empty file,
    /// `null`, `{}`, `[]`, an array of STREAM/GLOBAL/LEGACY state messages, a single state
    /// message, `{"type":"STATE","state":...}` lines (one or several), and the legacy
    /// `{"<stream>": {...}}` map. Anything else is an error, never "no state".
    pub fn parse(text: &str) -> Result<Self, StateFileError> {
        let mut values = Vec::new();
        for item in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
            values.push(item.map_err(|e| {
                StateFileError::NotJson(format!(
                    "line {} column {}: {}",
                    e.line(),
                    e.column(),
                    classify(&e)
                ))
            })?);
        }
        let mut state = Self::default();
        match values.len() {
            0 => {}
            1 => state.absorb_document(values.remove(0))?,
            _ => {
                for (i, v) in values.into_iter().enumerate() {
                    state
                        .absorb_line(v)
                        .map_err(|e| StateFileError::Shape(format!("value {}: {e}", i + 1)))?;
                }
            }
        }
        Ok(state)
    }

    /// True when the file held no state for any stream (`{}`, `[]`, `null`, empty): the read
    /// starts every stream from the beginning.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// The stored state of a stream, if any.
    pub fn get(&self, stream: &str) -> Option<&Value> {
        self.streams.get(stream)
    }

    /// How many streams have a state.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// The messages other than STATE the file held (it is a sync's output), by type, e.g.
    /// `[("LOG", 3), ("RECORD", 120)]`; empty for a plain state file.
    pub fn skipped(&self) -> Vec<(&str, usize)> {
        self.skipped.iter().map(|(t, n)| (t.as_str(), *n)).collect()
    }

    /// A file holding one JSON value.
    fn absorb_document(&mut self, value: Value) -> Result<(), StateFileError> {
        match value {
            Value::Null => Ok(()),
            Value::Array(items) => {
                for (i, item) in items.into_iter().enumerate() {
                    self.absorb_line(item)
                        .map_err(|e| StateFileError::Shape(format!("item {i}: {e}")))?;
                }
                Ok(())
            }
            Value::Object(map) if map.contains_key("type") => self
                .absorb_line(Value::Object(map))
                .map_err(StateFileError::Shape),
            Value::Object(map) => self
                .absorb_legacy(Value::Object(map))
                .map_err(StateFileError::Shape),
            other => Err(StateFileError::Shape(format!(
                "expected an array of state messages, found {}",
                json_kind(&other)
            ))),
        }
    }

    /// A state message, or a STATE line wrapping one; another message of a sync's output is
    /// counted and skipped.
    fn absorb_line(&mut self, item: Value) -> Result<(), String> {
        let kind = item.get("type").and_then(Value::as_str);
        if let Some(other) = kind.filter(|k| OTHER_MESSAGE_TYPES.contains(k)) {
            *self.skipped.entry(other.to_owned()).or_default() += 1;
            return Ok(());
        }
        if kind == Some("STATE") {
            let inner = item
                .get("state")
                .cloned()
                .ok_or("a STATE line has no `state`")?;
            return self.absorb_message(inner);
        }
        self.absorb_message(item)
    }

    fn absorb_message(&mut self, item: Value) -> Result<(), String> {
        let Value::Object(map) = item else {
            return Err(format!(
                "expected a state message object, found {}",
                json_kind(&item)
            ));
        };
        let kind = match map.get("type").and_then(Value::as_str) {
            Some(kind) => kind,
            None if map.contains_key("data") => "LEGACY",
            None if map.is_empty() => return Ok(()),
            None => return Err("a state message has no `type`".into()),
        };
        match kind {
            "STREAM" => {
                let stream = map.get("stream").ok_or("a STREAM state has no `stream`")?;
                self.absorb_stream_state(stream)
            }
            "GLOBAL" => {
                let states = map
                    .get("global")
                    .and_then(|g| g.get("stream_states"))
                    .and_then(Value::as_array)
                    .ok_or("a GLOBAL state has no `global.stream_states` array")?;
                for s in states {
                    self.absorb_stream_state(s)?;
                }
                Ok(())
            }
            "LEGACY" => match map.get("data") {
                Some(data) => self.absorb_legacy(data.clone()),
                None => Ok(()),
            },
            other => Err(format!("unknown state type {other:?}")),
        }
    }

    fn absorb_stream_state(&mut self, stream: &Value) -> Result<(), String> {
        let name = stream
            .get("stream_descriptor")
            .and_then(|d| d.get("name"))
            .and_then(Value::as_str)
            .ok_or("a stream state has no `stream_descriptor.name`")?;
        match stream.get("stream_state") {
            None | Some(Value::Null) => {
                self.streams.remove(name);
            }
            Some(s) => {
                self.streams.insert(name.to_owned(), s.clone());
            }
        }
        Ok(())
    }

    fn absorb_legacy(&mut self, data: Value) -> Result<(), String> {
        match data {
            Value::Object(map) => {
                if let Some((name, s)) = map.iter().find(|(_, s)| !(s.is_object() || s.is_null())) {
                    return Err(format!(
                        "in a legacy {{\"<stream>\": {{...}}}} map, the state of {name:?} must be an object, found {}",
                        json_kind(s)
                    ));
                }
                for (name, s) in map {
                    if !s.is_null() {
                        self.streams.insert(name, s);
                    }
                }
                Ok(())
            }
            Value::Null => Ok(()),
            other => Err(format!(
                "legacy state must be an object, found {}",
                json_kind(&other)
            )),
        }
    }
}

/// A short name for a JSON value's kind, for error messages (never the value itself).
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Describes a JSON syntax error without quoting the input (which may hold secrets).
pub fn classify(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Eof => "unexpected end of input",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_forms_give_no_state() {
        for text in ["", "  \n", "null", "{}", "[]"] {
            let s = InputState::parse(text).unwrap();
            assert!(s.is_empty(), "{text:?}");
            assert_eq!(s, InputState::default(), "{text:?}");
        }
    }

    #[test]
    fn stream_array_global_and_legacy_forms() {
        let text = r#"[{"type":"STREAM","stream":{"stream_descriptor":{"name":"chats"},"stream_state":{"update_timestamp":"1697795052"}}},
                      {"type":"GLOBAL","global":{"shared_state":{},"stream_states":[{"stream_descriptor":{"name":"agents"},"stream_state":{"id":5}}]}},
                      {"type":"LEGACY","data":{"bans":{"id":9}}}]"#;
        let s = InputState::parse(text).unwrap();
        assert_eq!(
            s.get("chats"),
            Some(&json!({"update_timestamp":"1697795052"}))
        );
        assert_eq!(s.get("agents"), Some(&json!({"id":5})));
        assert_eq!(s.get("bans"), Some(&json!({"id":9})));
        let legacy = InputState::parse(
            r#"{"agents":{"id":361089721035},"chats":{"update_timestamp":"2023-10-20T09:44:12Z"}}"#,
        )
        .unwrap();
        assert_eq!(legacy.get("agents"), Some(&json!({"id":361089721035u64})));
        let single = InputState::parse(r#"{"type":"STREAM","stream":{"stream_descriptor":{"name":"x"},"stream_state":{"a":1}}}"#).unwrap();
        assert_eq!(single.get("x"), Some(&json!({"a":1})));
    }

    #[test]
    fn state_lines_as_read_prints_them_are_accepted() {
        let line = |name: &str, id: u64| {
            format!(
                r#"{{"type":"STATE","state":{{"type":"STREAM","stream":{{"stream_descriptor":{{"name":"{name}"}},"stream_state":{{"id":{id}}}}},"sourceStats":{{"recordCount":3.0}}}}}}"#
            )
        };
        let one = InputState::parse(&line("agents", 5)).unwrap();
        assert_eq!(one.get("agents"), Some(&json!({"id":5})));
        assert!(!one.is_empty());
        let many = [line("agents", 5), line("bans", 7), line("agents", 9)].join("\n");
        let s = InputState::parse(&many).unwrap();
        assert_eq!(
            s.get("agents"),
            Some(&json!({"id":9})),
            "the last state wins"
        );
        assert_eq!(s.get("bans"), Some(&json!({"id":7})));
        assert_eq!(s.get("type"), None);
        let in_array = format!("[{}]", line("bans", 1));
        assert_eq!(
            InputState::parse(&in_array).unwrap().get("bans"),
            Some(&json!({"id":1}))
        );
    }

    #[test]
    fn unrecognised_shapes_are_errors_listing_the_accepted_forms() {
        for text in [
            r#"{"type":"STATE"}"#,
            r#"[{"stream":{"stream_descriptor":{"name":"a"}}}]"#,
            r#"{"agents": 5}"#,
            r#"{"agents": "x"}"#,
            "\"text\"",
            "{} 5",
            r#"{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{}}}} {"type":"BOGUS"}"#,
        ] {
            let err = InputState::parse(text).unwrap_err().to_string();
            assert!(err.contains("Accepted forms"), "{text}: {err}");
        }
        assert!(InputState::parse("{} {")
            .unwrap_err()
            .to_string()
            .contains("line 1"));
    }

    #[test]
    fn a_whole_sync_output_gives_the_last_state_of_each_stream() {
        let output = [
            r#"{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1.0,"stream_status":{"stream_descriptor":{"name":"agents"},"status":"STARTED"}}}"#,
            r#"{"type":"RECORD","record":{"stream":"agents","data":{"id":5},"emitted_at":1}}"#,
            r#"{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"agents"},"stream_state":{"id":5}},"sourceStats":{"recordCount":1.0}}}"#,
            r#"{"type":"LOG","log":{"level":"INFO","message":"x"}}"#,
            r#"{"type":"RECORD","record":{"stream":"agents","data":{"id":9},"emitted_at":1}}"#,
            r#"{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"agents"},"stream_state":{"id":9}},"sourceStats":{"recordCount":1.0}}}"#,
            r#"{"type":"CONTROL","control":{"type":"CONNECTOR_CONFIG","emitted_at":1.0,"connectorConfig":{"config":{}}}}"#,
        ]
        .join("\n");
        let s = InputState::parse(&output).unwrap();
        assert_eq!(s.get("agents"), Some(&json!({"id":9})));
        assert_eq!(s.len(), 1);
        assert_eq!(
            s.skipped(),
            vec![("CONTROL", 1), ("LOG", 1), ("RECORD", 2), ("TRACE", 1)]
        );
        let plain = InputState::parse(r#"{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{}}}}"#).unwrap();
        assert!(plain.skipped().is_empty());
    }

    #[test]
    fn null_stream_state_resets_the_stream() {
        let text = r#"[{"type":"STREAM","stream":{"stream_descriptor":{"name":"chats"},"stream_state":{"a":1}}},
                      {"type":"STREAM","stream":{"stream_descriptor":{"name":"chats"},"stream_state":null}}]"#;
        assert_eq!(InputState::parse(text).unwrap().get("chats"), None);
    }

    #[test]
    fn garbage_is_an_error_that_does_not_echo_the_input() {
        let err = InputState::parse("{secret-token-123")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not valid JSON"), "{err}");
        assert!(!err.contains("secret-token-123"));
        assert!(InputState::parse("42").is_err());
        assert!(InputState::parse("[1]").is_err());
        assert!(InputState::parse(r#"[{"type":"STREAM"}]"#).is_err());
    }

    #[test]
    fn emitted_state_has_stream_type_and_float_count() {
        let msg = AirbyteStateMessage::stream("chats", json!({"update_timestamp": "x"}), 3);
        assert_eq!(
            serde_json::to_string(&msg).unwrap(),
            r#"{"type":"STREAM","stream":{"stream_descriptor":{"name":"chats"},"stream_state":{"update_timestamp":"x"}},"sourceStats":{"recordCount":3.0}}"#
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in ".{0,200}") {
            let _ = InputState::parse(&text);
        }
    }
}
