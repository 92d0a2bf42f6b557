//! One page of the chat export, read in one pass over the body: every chat's position in the
//! export order and its version (`update_timestamp` in µs), its `chats` record typed (when
//! `chats` is selected: its input plus patches) and the raw child arrays the child streams need,
//! borrowed from the body. The fast reader ([`super::walk`]) reads nearly every body; the
//! serde_json reader here is the reference, for the rest. A chat without an `id` has one rule wherever it sits: it is not emitted, not used as a
//! cursor, and counted (the reader warns once per sync with the count).

use std::fmt;
use std::ops::Range;

use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{Part, LIMIT, PATH};
use crate::error::Error;
use crate::paging::coverage::Position;
use crate::paging::cursor::value_to_micros;
use crate::records::decode_error;
use crate::records::normalize::{ObjectSeed, Patch, Shape, Sink, Tap};
use crate::records::typed::Normalizer;

/// The top-level keys of a chat the reader captures: the cursor fields, then the child arrays
/// in the order of [`Part`]'s children.
const HEAD: [&str; 7] = [
    "id",
    "update_timestamp",
    "timestamp",
    "history",
    "webpath",
    "engagements",
    "conversions",
];
/// How many of [`HEAD`] are the cursor fields.
const CURSOR_KEYS: usize = 3;

/// What the selected members need from each chat.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    /// The `chats` record, typed.
    pub record: bool,
    /// The raw child arrays.
    pub children: bool,
}

impl Needs {
    pub fn of(parts: impl IntoIterator<Item = Part>) -> Self {
        parts.into_iter().fold(Self::default(), |n, p| Self {
            record: n.record || p == Part::Chat,
            children: n.children || p != Part::Chat,
        })
    }
}

/// A chat with an id.
pub struct Chat<'a> {
    pub id: String,
    /// Where it sorts in the export; `None` when it has no readable timestamp (emitted, never a
    /// cursor).
    pub pos: Option<Position>,
    /// Its version: `update_timestamp` in µs.
    pub version: Option<i64>,
    /// `update_timestamp` as sent (JSON text), for the child rows.
    pub update_timestamp: Option<&'a str>,
    /// The raw child arrays (`history`, `webpath`, `engagements`, `conversions`), when needed.
    children: [Option<&'a str>; 4],
    /// Its typed `chats` record.
    pub record: Option<Record<'a>>,
    /// The size of the chat as sent.
    pub bytes: u64,
}

impl<'a> Chat<'a> {
    /// The raw JSON array of a child part (`None` for [`Part::Chat`] or when absent).
    pub fn children(&self, part: Part) -> Option<&'a str> {
        let i = match part {
            Part::Chat => return None,
            Part::History => 0,
            Part::Webpath => 1,
            Part::Engagements => 2,
            Part::Conversions => 3,
        };
        self.children[i]
    }
}

/// A typed `chats` record: its input (empty when the reference reader wrote it whole) with its
/// patches, and its nulled-field paths, both ranges of [`Page::typed`].
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub raw: &'a str,
    pub patches: Range<usize>,
    pub changes: Range<usize>,
}

/// A decoded page.
pub struct Page<'a> {
    pub chats: Vec<Chat<'a>>,
    /// A full page: another may follow.
    pub full: bool,
    /// Chats that had no id (skipped).
    pub without_id: u64,
    /// The typed `chats` records of the page, one after another.
    pub typed: Sink,
}

/// Decodes a body of the export in one pass; the typed records go to `typed` (cleared first).
pub fn parse(body: &[u8], needs: Needs, mut typed: Sink) -> Result<Page<'_>, Error> {
    typed.clear();
    let text = std::str::from_utf8(body).map_err(|e| Error::Decode {
        endpoint: PATH.to_owned(),
        line: 1,
        column: e.valid_up_to().saturating_add(1),
        detail: "the body is not UTF-8".into(),
    })?;
    match super::walk::fast(text, needs, typed) {
        Ok(page) => Ok(page),
        Err(typed) => slow(text, needs, typed),
    }
}

/// The reference reader (serde_json): the same page as the fast one, for any body, and the precise
/// error of a bad one.
pub(super) fn slow(text: &str, needs: Needs, typed: Sink) -> Result<Page<'_>, Error> {
    let mut page = Page::new(typed, needs);
    if needs.record {
        page.typed.out.reserve(text.len().saturating_add(LIMIT as usize * 64));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let count = EnvelopeSeed {
        page: &mut page,
        needs,
    }
    .deserialize(&mut de)
    .and_then(|count| de.end().map(|()| count))
    .map_err(|e| decode_error(PATH, &e))?;
    page.finish(count);
    Ok(page)
}

impl Page<'_> {
    pub(super) fn new(typed: Sink, needs: Needs) -> Self {
        let mut page = Page {
            chats: Vec::with_capacity(LIMIT as usize),
            full: false,
            without_id: 0,
            typed,
        };
        if needs.record {
            page.typed.patches.reserve(LIMIT as usize * 16);
        }
        page
    }

    pub(super) fn finish(&mut self, count: Option<u64>) {
        let seen = self.chats.len() as u64 + self.without_id;
        self.full = count.unwrap_or(seen) >= u64::from(LIMIT) && seen > 0;
    }
}

/// The top-level keys captured from each chat.
pub(super) fn head_keys(needs: Needs) -> &'static [&'static str] {
    if needs.children {
        &HEAD[..]
    } else {
        &HEAD[..CURSOR_KEYS]
    }
}

/// The typed shape of a `chats` record, when the record is needed.
pub(super) fn chats_shape(needs: Needs) -> Option<&'static Shape> {
    needs
        .record
        .then(|| Normalizer::of(&super::STREAMS[0]).shape())
}

/// The envelope `{"chats": [...], "count": n, ...}`; returns `count`.
struct EnvelopeSeed<'p, 'a> {
    page: &'p mut Page<'a>,
    needs: Needs,
}

impl<'a> DeserializeSeed<'a> for EnvelopeSeed<'_, 'a> {
    type Value = Option<u64>;
    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'a> Visitor<'a> for EnvelopeSeed<'_, 'a> {
    type Value = Option<u64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with `chats`")
    }
    fn visit_map<M: MapAccess<'a>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut count = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'a, str>>()? {
            match &*key {
                "chats" => map.next_value_seed(ChatsSeed {
                    page: &mut *self.page,
                    needs: self.needs,
                })?,
                "count" => count = map.next_value::<Option<u64>>()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(count)
    }
}

/// The `chats` array: each chat is typed and captured as it is read.
struct ChatsSeed<'p, 'a> {
    page: &'p mut Page<'a>,
    needs: Needs,
}

impl<'a> DeserializeSeed<'a> for ChatsSeed<'_, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'a> Visitor<'a> for ChatsSeed<'_, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of chats")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<S: SeqAccess<'a>>(self, mut seq: S) -> Result<(), S::Error> {
        let keys = head_keys(self.needs);
        let shape = chats_shape(self.needs);
        loop {
            let mut tap = Tap::new(keys);
            let out_start = self.page.typed.out.len();
            let changes_start = self.page.typed.changes.len();
            let bytes = match shape {
                Some(shape) => match seq.next_element_seed(ObjectSeed {
                    shape,
                    sink: &mut self.page.typed,
                    lead: &[],
                    tap: Some(&mut tap),
                })? {
                    None => break,
                    Some(None) => return Err(S::Error::custom("a chat is not a JSON object")),
                    Some(Some(_)) => self.page.typed.out.len() - out_start,
                },
                None => match seq.next_element_seed(HeadSeed { tap: &mut tap })? {
                    None => break,
                    Some(bytes) => bytes,
                },
            };
            let record = shape.map(|_| whole(&mut self.page.typed, out_start, changes_start));
            match chat(&tap, record, bytes as u64) {
                Some(c) => self.page.chats.push(c),
                None => self.page.without_id += 1,
            }
        }
        Ok(())
    }
}

/// A chat read only for its head (when `chats` itself is not selected); returns its size.
struct HeadSeed<'p, 't, 'a> {
    tap: &'p mut Tap<'t, 'a>,
}

impl<'a> DeserializeSeed<'a> for HeadSeed<'_, '_, 'a> {
    type Value = usize;
    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<usize, D::Error> {
        let raw = <&'a RawValue>::deserialize(d)?;
        let fields: std::collections::HashMap<std::borrow::Cow<'a, str>, &'a RawValue> =
            serde_json::from_str(raw.get()).map_err(D::Error::custom)?;
        for (i, key) in self.tap.keys().iter().enumerate() {
            self.tap.found[i] = fields.get(*key).map(|v| v.get());
        }
        Ok(raw.get().len())
    }
}

/// The chat a tap captured; `None` when it has no id.
/// A record the reference reader wrote whole (from `out` and `changes` on): one patch that
/// inserts it all.
fn whole<'a>(typed: &mut Sink, out: usize, changes: usize) -> Record<'a> {
    let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let patches = typed.patches.len();
    typed.patches.push(Patch {
        from: 0,
        to: 0,
        text: at(out),
        text_end: at(typed.out.len()),
    });
    Record {
        raw: "",
        patches: patches..patches + 1,
        changes: changes..typed.changes.len(),
    }
}

pub(super) fn chat<'a>(
    tap: &Tap<'_, 'a>,
    record: Option<Record<'a>>,
    bytes: u64,
) -> Option<Chat<'a>> {
    let [id, updated, timestamp, h, w, e, c, ..] = tap.found;
    let id = id_text(id?)?;
    let micros = |raw: Option<&str>| micros_of(raw?);
    let version = micros(updated);
    let secs = version
        .or_else(|| micros(timestamp))
        .map(|us| us.div_euclid(1_000_000));
    Some(Chat {
        pos: secs.map(|secs| Position {
            secs,
            id: id.clone(),
        }),
        id,
        version,
        update_timestamp: updated,
        children: [h, w, e, c],
        record,
        bytes,
    })
}

/// A cursor field in µs: what states accept, or a date-time with a quirk the typed record
/// repairs (`+00:00Z`), so the cursor and the emitted value agree.
fn micros_of(raw: &str) -> Option<i64> {
    let value = serde_json::from_str::<Value>(raw).ok()?;
    value_to_micros(&value).or_else(|| {
        let repaired = crate::records::quirks::datetime(value.as_str()?.trim())?;
        crate::paging::cursor::iso_to_micros(&repaired)
    })
}

/// A chat id: a non-empty string, or a number as written.
fn id_text(raw: &str) -> Option<String> {
    let raw = raw.trim();
    match raw.as_bytes().first()? {
        b'"' => serde_json::from_str::<String>(raw)
            .ok()
            .filter(|s| !s.is_empty()),
        b'-' | b'0'..=b'9' => Some(raw.to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: Needs = Needs {
        record: true,
        children: true,
    };

    #[test]
    fn a_chat_without_id_is_counted_and_never_the_cursor() {
        let body = br#"{"chats":[{"id":"a","update_timestamp":"2024-01-01T00:00:01Z"},{"id":"b"},{"update_timestamp":"2024-01-01T00:00:09Z"}],"count":3}"#;
        for needs in [BOTH, Needs::default()] {
            let page = parse(body, needs, Sink::default()).unwrap();
            assert_eq!(page.chats.len(), 2);
            assert_eq!(page.without_id, 1);
            let max = page.chats.iter().filter_map(|c| c.pos.clone()).max();
            assert_eq!(max.unwrap().id, "a");
            assert!(page.chats[1].pos.is_none());
            assert!(!page.full);
        }
    }

    #[test]
    fn one_pass_types_the_record_and_keeps_the_children_raw() {
        let body = br#"{ "count" : 1000, "chats" : [
            {"history": [ {"msg": "a"} ], "id": 17, "unread": 1,
             "update_timestamp": "2024-01-01T00:00:01+00:00Z", "session": {"end_date": "x"}}
        ], "next_page": "ignored" }"#;
        let page = parse(body, BOTH, Sink::default()).unwrap();
        assert!(page.full);
        let chat = &page.chats[0];
        assert_eq!(chat.id, "17");
        assert_eq!(chat.version, Some(1_704_067_201_000_000));
        assert_eq!(chat.children(Part::History), Some(r#"[ {"msg": "a"} ]"#));
        assert_eq!(chat.children(Part::Webpath), None);
        let typed = chat.record.clone().unwrap();
        let patches = &page.typed.patches[typed.patches.clone()];
        let text: Vec<u8> = page.typed.pieces(typed.raw.as_bytes(), patches).flatten().copied().collect();
        let record: Value = serde_json::from_slice(&text).unwrap();
        let changes = typed.changes;
        assert_eq!(record["id"], "17");
        assert_eq!(record["unread"], true);
        assert_eq!(record["update_timestamp"], "2024-01-01T00:00:01Z");
        assert_eq!(&*page.typed.changes[changes][0], "session.end_date");
        let only_chats = parse(body, Needs { record: true, children: false }, Sink::default()).unwrap();
        assert_eq!(only_chats.chats[0].children(Part::History), None);
    }

    #[test]
    fn a_chat_that_is_not_an_object_or_a_truncated_body_fails_the_page() {
        for body in [&br#"{"chats":[1]}"#[..], br#"{"chats":[{"id":"a""#, b"\xff"] {
            assert!(parse(body, BOTH, Sink::default()).is_err());
        }
    }
}
