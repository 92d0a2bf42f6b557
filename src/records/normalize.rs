//! Typed records: every record is decoded against its stream's schema (the one derived from the
//! Rust structs in `records`), each declared field normalized to its one JSON type, and the
//! result written compactly as one line. Known keys are routed to typed normalizers, unknown
//! keys pass through unchanged in value (whitespace removed), in one pass over borrowed input.
//! A value that cannot be normalized becomes null and is reported as a `meta.changes` entry.

use std::borrow::Cow;
use std::fmt;

use serde::de::{
    DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::quirks::{fix, Fixed, Leaf};
pub use super::shape::{Field, Kind, Shape};
pub use super::tap::{minify, Tap, TAPS};

/// Where a record is written while it is normalized, reused between records.
#[derive(Default)]
pub struct Sink {
    pub out: Vec<u8>,
    /// Paths of the fields set to null because their value could not be normalized.
    pub changes: Vec<Box<str>>,
    /// Records kept as their input plus patches: what replaces which stretch of the input.
    pub patches: Vec<Patch>,
}

/// A stretch of a record's input (`from..to`, from the record's first byte) replaced by a text
/// written in [`Sink::out`] (`text..text_end`) in the record's typed form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patch {
    pub from: u32,
    pub to: u32,
    pub text: u32,
    pub text_end: u32,
}

impl Sink {
    pub fn clear(&mut self) {
        self.out.clear();
        self.changes.clear();
        self.patches.clear();
    }

    /// A record's typed text, in pieces: its input `raw` with `patches` applied.
    pub fn pieces<'p>(&'p self, raw: &'p [u8], patches: &'p [Patch]) -> Pieces<'p> {
        Pieces {
            raw,
            text: &self.out,
            patches,
            at: 0,
            pending: None,
        }
    }

    pub fn nulled(&mut self, path: &Path<'_>) {
        self.out.extend_from_slice(b"null");
        let mut text = String::new();
        path.render(&mut text);
        self.changes.push(text.into());
    }
}

/// The pieces of a patched record, in order (see [`Sink::pieces`]).
pub struct Pieces<'p> {
    raw: &'p [u8],
    text: &'p [u8],
    patches: &'p [Patch],
    /// The input before this offset is written.
    at: usize,
    /// The text of the patch whose preceding input was just given.
    pending: Option<&'p [u8]>,
}

impl<'p> Iterator for Pieces<'p> {
    type Item = &'p [u8];

    fn next(&mut self) -> Option<&'p [u8]> {
        if let Some(text) = self.pending.take() {
            return Some(text);
        }
        let Some((patch, rest)) = self.patches.split_first() else {
            let tail = self.raw.get(self.at..).filter(|t| !t.is_empty());
            self.at = self.raw.len();
            return tail;
        };
        self.patches = rest;
        let (from, to) = (patch.from as usize, patch.to as usize);
        let before = self.raw.get(self.at..from).unwrap_or_default();
        self.at = to.max(self.at);
        self.pending = self.text.get(patch.text as usize..patch.text_end as usize);
        Some(before)
    }
}

/// Where a value sits in its record: a chain of keys and array indexes on the stack, rendered
/// (`session.end_date`, `webpath.1.timestamp`) only when a value is nulled.
#[derive(Clone, Copy)]
pub enum Path<'p> {
    Root,
    Key(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    fn render(&self, out: &mut String) {
        let (parent, segment) = match self {
            Path::Root => return,
            Path::Key(parent, key) => (parent, Cow::Borrowed(*key)),
            Path::Index(parent, i) => (parent, Cow::Owned(i.to_string())),
        };
        parent.render(out);
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&segment);
    }
}

/// Writes a JSON string literal.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// Writes an undeclared key and its colon, after a comma unless it is the object's first. A
/// key borrowed from the input had no escape in it (serde_json borrows only those, and refuses
/// raw control characters), so it is written as it came.
fn write_key(out: &mut Vec<u8>, key: &str, first: bool, borrowed: bool) {
    if !first {
        out.push(b',');
    }
    if borrowed {
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.push(b'"');
    } else {
        write_str(out, key);
    }
    out.push(b':');
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// Normalizes one value of `kind`; true when something other than null was written.
struct Seed<'a> {
    kind: &'a Kind,
    sink: &'a mut Sink,
    path: &'a Path<'a>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        match self.kind {
            Kind::Object(shape) => {
                let v = ObjectVisitor {
                    shape,
                    sink: self.sink,
                    lead: &[],
                    path: self.path,
                    tap: None,
                };
                Ok(d.deserialize_any(v)?.is_some())
            }
            Kind::Array(item) => d.deserialize_any(ArrayVisitor {
                item,
                sink: self.sink,
                path: self.path,
            }),
            Kind::Any => {
                let raw = <&'de RawValue>::deserialize(d)?;
                minify(raw.get(), &mut self.sink.out);
                Ok(raw.get() != "null")
            }
            Kind::Leaf(leaf) => {
                let raw = <&'de RawValue>::deserialize(d)?;
                Ok(write_leaf(*leaf, raw.get(), self.sink, self.path))
            }
        }
    }
}

/// Writes a leaf given as JSON text, normalized by the quirk rules.
pub fn write_leaf(leaf: Leaf, raw: &str, sink: &mut Sink, path: &Path<'_>) -> bool {
    match fix(leaf, raw) {
        Fixed::Json(text) => {
            sink.out.extend_from_slice(text.as_bytes());
            true
        }
        Fixed::Null => {
            sink.out.extend_from_slice(b"null");
            false
        }
        Fixed::Nulled => {
            sink.nulled(path);
            false
        }
    }
}

/// Normalizes a value already captured as raw text (a tapped field).
fn write_raw(kind: &Kind, raw: &str, sink: &mut Sink, path: &Path<'_>) -> serde_json::Result<bool> {
    match kind {
        Kind::Leaf(leaf) => Ok(write_leaf(*leaf, raw, sink, path)),
        _ => Seed { kind, sink, path }.deserialize(&mut serde_json::Deserializer::from_str(raw)),
    }
}

/// A value of the wrong JSON type where an object or array is declared: drained, then null.
macro_rules! wrong_type {
    ($($name:ident: $t:ty),*) => {
        $(fn $name<E>(self, _: $t) -> Result<Self::Value, E> {
            self.sink.nulled(self.path);
            Ok(Default::default())
        })*
    };
}

/// Normalizes a record (an object) with `lead` fields first, capturing the `tap`'s keys.
/// `None` when it was not an object.
pub struct ObjectSeed<'a, 'l, 't, 'de> {
    pub shape: &'a Shape,
    pub sink: &'a mut Sink,
    pub lead: &'l [(&'l str, &'l str)],
    pub tap: Option<&'a mut Tap<'t, 'de>>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_, '_, '_, 'de> {
    type Value = Option<u64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(ObjectVisitor {
            shape: self.shape,
            sink: self.sink,
            lead: self.lead,
            path: &Path::Root,
            tap: self.tap,
        })
    }
}

struct ObjectVisitor<'a, 'l, 't, 'de> {
    shape: &'a Shape,
    sink: &'a mut Sink,
    /// Fields written first (JSON text); the object's own keys of these names are dropped.
    lead: &'l [(&'l str, &'l str)],
    path: &'a Path<'a>,
    tap: Option<&'a mut Tap<'t, 'de>>,
}

impl<'de> Visitor<'de> for ObjectVisitor<'_, '_, '_, 'de> {
    /// Bit i set when the shape's field i (i < 64) was written and not null.
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Self {
            shape,
            sink,
            lead,
            path,
            mut tap,
        } = self;
        sink.out.push(b'{');
        let mut present = write_leads(shape, sink, path, lead);
        let mut first = lead.is_empty();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if !lead.is_empty() && lead.iter().any(|(k, _)| *k == key) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let found = shape.find(&key);
            match found {
                Some((_, field)) => sink.out.extend_from_slice(field.key_text(first)),
                None => write_key(&mut sink.out, &key, first, matches!(key, Cow::Borrowed(_))),
            }
            first = false;
            let (index, kind) = found.map_or((usize::MAX, &Kind::Any), |(i, f)| (i, &f.kind));
            let here = Path::Key(path, &key);
            let written = match tap.as_deref_mut().and_then(|t| t.slot(&key)) {
                None => map.next_value_seed(Seed {
                    kind,
                    sink: &mut *sink,
                    path: &here,
                })?,
                Some(slot) => {
                    let raw: &'de RawValue = map.next_value()?;
                    *slot = Some(raw.get());
                    write_raw(kind, raw.get(), sink, &here).map_err(A::Error::custom)?
                }
            };
            if written {
                present |= bit(index);
            }
        }
        sink.out.push(b'}');
        Ok(Some(present))
    }

    /// An element sent as an array is kept under `value` where the schema declares one.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let Some((
            index,
            Field {
                kind: Kind::Array(item),
                ..
            },
        )) = self.shape.find("value")
        else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            self.sink.nulled(self.path);
            return Ok(None);
        };
        let sink = self.sink;
        sink.out.push(b'{');
        let present = bit(index) | write_leads(self.shape, sink, self.path, self.lead);
        if !self.lead.is_empty() {
            sink.out.push(b',');
        }
        sink.out.extend_from_slice(b"\"value\":");
        let here = Path::Key(self.path, "value");
        ArrayVisitor {
            item,
            sink: &mut *sink,
            path: &here,
        }
        .visit_seq(seq)?;
        sink.out.push(b'}');
        Ok(Some(present))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        self.sink.out.extend_from_slice(b"null");
        Ok(None)
    }

    wrong_type!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);
}

/// Writes the lead fields, comma-separated; returns their presence bits.
fn write_leads(shape: &Shape, sink: &mut Sink, path: &Path<'_>, lead: &[(&str, &str)]) -> u64 {
    let mut present = 0;
    for (i, (k, v)) in lead.iter().enumerate() {
        if i > 0 {
            sink.out.push(b',');
        }
        present |= write_lead(shape, sink, path, k, v);
    }
    present
}

/// Writes a lead field (JSON text made by the connector), normalized when it is a declared leaf.
fn write_lead(shape: &Shape, sink: &mut Sink, path: &Path<'_>, key: &str, json: &str) -> u64 {
    write_str(&mut sink.out, key);
    sink.out.push(b':');
    match shape.find(key).map(|(i, f)| (i, &f.kind)) {
        Some((i, Kind::Leaf(leaf))) => {
            if write_leaf(*leaf, json, sink, &Path::Key(path, key)) {
                bit(i)
            } else {
                0
            }
        }
        found => {
            sink.out.extend_from_slice(json.as_bytes());
            found.map_or(0, |(i, _)| bit(i))
        }
    }
}

/// The presence bit of field `index` (fields past 63 have none).
pub fn bit(index: usize) -> u64 {
    if index < 64 {
        1 << index
    } else {
        0
    }
}

struct ArrayVisitor<'a> {
    item: &'a Kind,
    sink: &'a mut Sink,
    path: &'a Path<'a>,
}

impl<'de> Visitor<'de> for ArrayVisitor<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let sink = self.sink;
        sink.out.push(b'[');
        let mut i = 0usize;
        loop {
            let here = Path::Index(self.path, i);
            let more = seq.next_element_seed(Seed {
                kind: self.item,
                sink: &mut *sink,
                path: &here,
            })?;
            if more.is_none() {
                break;
            }
            sink.out.push(b',');
            i = i.saturating_add(1);
        }
        if sink.out.last() == Some(&b',') {
            sink.out.pop();
        }
        sink.out.push(b']');
        Ok(true)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.sink.nulled(self.path);
        Ok(false)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        self.sink.out.extend_from_slice(b"null");
        Ok(false)
    }

    wrong_type!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);
}
