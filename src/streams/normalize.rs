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
use serde_json::Value;

use super::quirks::{fix, Fixed, Leaf};
pub use super::tap::{minify, Tap, TAPS};

/// How one field is normalized.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Leaf(Leaf),
    /// Free-form JSON, kept as sent (compacted).
    Any,
    Object(Shape),
    Array(Box<Kind>),
}

/// The declared fields of an object, sorted by name; other keys pass through.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Shape {
    fields: Vec<(Box<str>, Kind)>,
    /// Per key length: (fingerprint of the key, field index). Finding a key costs a length
    /// lookup and one or two integer compares instead of a binary search of string compares.
    by_len: Vec<Vec<((u64, u64), usize)>>,
}

/// A key's fingerprint: its first and last 8 bytes (zero-padded below 8). Keys of up to 16
/// bytes are equal when their lengths and fingerprints are.
fn fingerprint(key: &[u8]) -> (u64, u64) {
    match (key.first_chunk::<8>(), key.last_chunk::<8>()) {
        (Some(head), Some(tail)) => (u64::from_le_bytes(*head), u64::from_le_bytes(*tail)),
        _ => {
            let small = key.iter().rev().fold(0u64, |n, b| (n << 8) | u64::from(*b));
            (small, 0)
        }
    }
}

impl Shape {
    /// The index of a declared field.
    pub fn index(&self, key: &str) -> Option<usize> {
        self.find(key).map(|(i, _)| i)
    }

    /// The kind of field `i`.
    pub fn kind_at(&self, i: usize) -> &Kind {
        &self.fields[i].1
    }

    fn find(&self, key: &str) -> Option<(usize, &Kind)> {
        let key = key.as_bytes();
        let p = fingerprint(key);
        let i = self.by_len.get(key.len())?.iter().find_map(|&(q, i)| {
            (q == p && (key.len() <= 16 || self.fields[i].0.as_bytes() == key)).then_some(i)
        })?;
        Some((i, &self.fields[i].1))
    }

    /// Builds the shape of an object schema (`properties`).
    pub fn from_schema(schema: &Value) -> Self {
        let mut fields: Vec<(Box<str>, Kind)> = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| {
                p.iter()
                    .map(|(k, v)| (k.as_str().into(), Kind::from_schema(v)))
                    .collect()
            })
            .unwrap_or_default();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        let mut by_len: Vec<Vec<((u64, u64), usize)>> = Vec::new();
        for (i, (k, _)) in fields.iter().enumerate() {
            if by_len.len() <= k.len() {
                by_len.resize(k.len() + 1, Vec::new());
            }
            by_len[k.len()].push((fingerprint(k.as_bytes()), i));
        }
        Self { fields, by_len }
    }
}

impl Kind {
    /// The normalizer of a (sub)schema: its one non-null type decides.
    pub fn from_schema(schema: &Value) -> Self {
        if schema.get("properties").is_some() {
            return Kind::Object(Shape::from_schema(schema));
        }
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut non_null = types.into_iter().filter(|t| *t != "null");
        let (Some(t), None) = (non_null.next(), non_null.next()) else {
            return Kind::Any;
        };
        match t {
            "string" if schema.get("format").and_then(Value::as_str) == Some("date-time") => {
                Kind::Leaf(Leaf::DateTime)
            }
            "string" => Kind::Leaf(Leaf::Str),
            "integer" => Kind::Leaf(Leaf::Int),
            "number" => Kind::Leaf(Leaf::Num),
            "boolean" => Kind::Leaf(Leaf::Bool),
            "object" => Kind::Object(Shape::default()),
            "array" => Kind::Array(Box::new(
                schema.get("items").map_or(Kind::Any, Kind::from_schema),
            )),
            _ => Kind::Any,
        }
    }
}

/// Where a record is written while it is normalized, reused between records.
#[derive(Default)]
pub struct Sink {
    pub out: Vec<u8>,
    /// Paths of the fields set to null because their value could not be normalized.
    pub changes: Vec<Box<str>>,
}

impl Sink {
    pub fn clear(&mut self) {
        self.out.clear();
        self.changes.clear();
    }

    fn nulled(&mut self, path: &Path<'_>) {
        self.out.extend_from_slice(b"null");
        let mut text = String::new();
        path.render(&mut text);
        self.changes.push(text.into());
    }
}

/// Where a value sits in its record: a chain of keys and array indexes on the stack, rendered
/// (`session.end_date`, `webpath.1.timestamp`) only when a value is nulled.
#[derive(Clone, Copy)]
enum Path<'p> {
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

/// Writes a key. A key borrowed from the input had no escape in it (serde_json borrows only
/// those, and refuses raw control characters), so it is written as it came.
fn write_key(out: &mut Vec<u8>, key: &str, borrowed: bool) {
    if borrowed {
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.push(b'"');
    } else {
        write_str(out, key);
    }
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

fn write_leaf(leaf: Leaf, raw: &str, sink: &mut Sink, path: &Path<'_>) -> bool {
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
            if !std::mem::take(&mut first) {
                sink.out.push(b',');
            }
            write_key(&mut sink.out, &key, matches!(key, Cow::Borrowed(_)));
            sink.out.push(b':');
            let (index, kind) = shape.find(&key).unwrap_or((usize::MAX, &Kind::Any));
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
        let Some((index, Kind::Array(item))) = self.shape.find("value") else {
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
    match shape.find(key) {
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
