//! One page of the chat export, decoded once: every chat's position in the export order, its
//! version (`update_timestamp` in µs) and the parts the child streams need, borrowed from the
//! body. A chat without an `id` has one rule wherever it sits: it is not emitted, not used as a
//! cursor, and counted (the reader warns once per sync with the count).

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{LIMIT, PATH};
use crate::error::Error;
use crate::streams::coverage::Position;
use crate::streams::cursor::value_to_micros;
use crate::streams::driver::decode;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    chats: Vec<&'a RawValue>,
    #[serde(default)]
    count: Option<u64>,
}

/// The fields of a chat the reader needs.
#[derive(Deserialize)]
pub struct ChatHead<'a> {
    #[serde(default)]
    id: Value,
    /// ISO text, or epoch seconds as a number (seen in the wild; normalized on output).
    #[serde(default)]
    pub update_timestamp: Option<Value>,
    #[serde(default)]
    timestamp: Option<Value>,
    #[serde(borrow, default)]
    pub history: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub webpath: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub engagements: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub conversions: Option<&'a RawValue>,
}

/// A chat with an id.
pub struct Chat<'a> {
    pub id: String,
    /// Where it sorts in the export; `None` when it has no readable timestamp (emitted, never a
    /// cursor).
    pub pos: Option<Position>,
    /// Its version: `update_timestamp` in µs.
    pub version: Option<i64>,
    pub head: ChatHead<'a>,
    pub raw: &'a RawValue,
}

/// A decoded page.
pub struct Page<'a> {
    pub chats: Vec<Chat<'a>>,
    /// A full page: another may follow.
    pub full: bool,
    /// Chats that had no id (skipped).
    pub without_id: u64,
    /// The highest position on the page: the next request's cursor.
    pub max: Option<Position>,
    /// The slice's end when the page arrived (filled by the slice reader).
    pub end: Option<i64>,
}

/// Decodes a body of the export.
pub fn parse(body: &[u8]) -> Result<Page<'_>, Error> {
    let env: Envelope = decode(PATH, body)?;
    let count = env.count.unwrap_or(env.chats.len() as u64);
    let full = count >= u64::from(LIMIT) && !env.chats.is_empty();
    let mut chats = Vec::with_capacity(env.chats.len());
    let mut without_id = 0u64;
    for raw in env.chats {
        match chat(raw)? {
            Some(c) => chats.push(c),
            None => without_id += 1,
        }
    }
    let max = chats.iter().filter_map(|c| c.pos.clone()).max();
    Ok(Page {
        chats,
        full,
        without_id,
        max,
        end: None,
    })
}

fn chat(raw: &RawValue) -> Result<Option<Chat<'_>>, Error> {
    let head: ChatHead = decode(PATH, raw.get().as_bytes())?;
    let id = match &head.id {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Ok(None),
    };
    let micros = |v: &Option<Value>| v.as_ref().and_then(value_to_micros);
    let version = micros(&head.update_timestamp);
    let secs = version
        .or_else(|| micros(&head.timestamp))
        .map(|us| us.div_euclid(1_000_000));
    Ok(Some(Chat {
        pos: secs.map(|secs| Position {
            secs,
            id: id.clone(),
        }),
        id,
        version,
        head,
        raw,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chat_without_id_is_counted_and_never_the_cursor() {
        let body = br#"{"chats":[{"id":"a","update_timestamp":"2024-01-01T00:00:01Z"},{"id":"b"},{"update_timestamp":"2024-01-01T00:00:09Z"}],"count":3}"#;
        let page = parse(body).unwrap();
        assert_eq!(page.chats.len(), 2);
        assert_eq!(page.without_id, 1);
        assert_eq!(page.max.unwrap().id, "a");
        assert!(page.chats[1].pos.is_none());
        assert!(!page.full);
    }
}
