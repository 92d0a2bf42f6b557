//! Typed records: every record is decoded against its stream's schema (the one derived from the
//! Rust structs in `records`), each declared field normalized to its one JSON type, and the
//! result written compactly as one line. Known keys are routed to typed normalizers, unknown
//! keys pass through unchanged in value (whitespace removed), in one pass over borrowed input.
//! A value that cannot be normalized becomes null and is reported as a `meta.changes` entry.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::quirks::{fix, Fixed, Leaf};

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
        self.fields
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| (i, &self.fields[i].1))
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
        Self { fields }
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
    path: String,
}

impl Sink {
    pub fn clear(&mut self) {
        self.out.clear();
        self.changes.clear();
        self.path.clear();
    }

    fn nulled(&mut self) {
        self.out.extend_from_slice(b"null");
        self.changes.push(self.path.as_str().into());
    }

    fn enter(&mut self, segment: &str) -> usize {
        let len = self.path.len();
        if len > 0 {
            self.path.push('.');
        }
        self.path.push_str(segment);
        len
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

/// Copies valid JSON text without the whitespace between tokens.
pub fn minify(json: &str, out: &mut Vec<u8>) {
    let bytes = json.as_bytes();
    if !bytes
        .iter()
        .any(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
    {
        out.extend_from_slice(bytes);
        return;
    }
    let (mut in_str, mut escaped) = (false, false);
    for &b in bytes {
        if in_str {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            in_str = b == b'"';
            out.push(b);
        }
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
                };
                Ok(d.deserialize_any(v)?.is_some())
            }
            Kind::Array(item) => d.deserialize_any(ArrayVisitor {
                item,
                sink: self.sink,
            }),
            Kind::Any => {
                let raw = <&'de RawValue>::deserialize(d)?;
                minify(raw.get(), &mut self.sink.out);
                Ok(raw.get() != "null")
            }
            Kind::Leaf(leaf) => {
                let raw = <&'de RawValue>::deserialize(d)?;
                Ok(write_leaf(*leaf, raw.get(), self.sink))
            }
        }
    }
}

fn write_leaf(leaf: Leaf, raw: &str, sink: &mut Sink) -> bool {
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
            sink.nulled();
            false
        }
    }
}

/// A value of the wrong JSON type where an object or array is declared: drained, then null.
macro_rules! wrong_type {
    ($($name:ident: $t:ty),*) => {
        $(fn $name<E>(self, _: $t) -> Result<Self::Value, E> {
            self.sink.nulled();
            Ok(Default::default())
        })*
    };
}

/// Normalizes a record (an object) with `lead` fields first. `None` when it was not an object.
pub struct ObjectSeed<'a, 'l> {
    pub shape: &'a Shape,
    pub sink: &'a mut Sink,
    pub lead: &'l [(&'l str, &'l str)],
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_, '_> {
    type Value = Option<u64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(ObjectVisitor {
            shape: self.shape,
            sink: self.sink,
            lead: self.lead,
        })
    }
}

struct ObjectVisitor<'a, 'l> {
    shape: &'a Shape,
    sink: &'a mut Sink,
    /// Fields written first (JSON text); the object's own keys of these names are dropped.
    lead: &'l [(&'l str, &'l str)],
}

impl<'de> Visitor<'de> for ObjectVisitor<'_, '_> {
    /// Bit i set when the shape's field i (i < 64) was written and not null.
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Self { shape, sink, lead } = self;
        let mut present = 0u64;
        sink.out.push(b'{');
        for (i, (k, v)) in lead.iter().enumerate() {
            if i > 0 {
                sink.out.push(b',');
            }
            present |= write_lead(shape, sink, k, v);
        }
        let mut first = lead.is_empty();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if lead.iter().any(|(k, _)| *k == key) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if !std::mem::take(&mut first) {
                sink.out.push(b',');
            }
            write_str(&mut sink.out, &key);
            sink.out.push(b':');
            let (index, kind) = shape.find(&key).unwrap_or((usize::MAX, &Kind::Any));
            let len = sink.enter(&key);
            let written = map.next_value_seed(Seed {
                kind,
                sink: &mut *sink,
            })?;
            sink.path.truncate(len);
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
            self.sink.nulled();
            return Ok(None);
        };
        let sink = self.sink;
        sink.out.push(b'{');
        let mut present = bit(index);
        for (k, v) in self.lead {
            present |= write_lead(self.shape, sink, k, v);
            sink.out.push(b',');
        }
        sink.out.extend_from_slice(b"\"value\":");
        let len = sink.enter("value");
        ArrayVisitor {
            item,
            sink: &mut *sink,
        }
        .visit_seq(seq)?;
        sink.path.truncate(len);
        sink.out.push(b'}');
        Ok(Some(present))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        self.sink.out.extend_from_slice(b"null");
        Ok(None)
    }

    wrong_type!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);
}

/// Writes a lead field (JSON text made by the connector), normalized when it is a declared leaf.
fn write_lead(shape: &Shape, sink: &mut Sink, key: &str, json: &str) -> u64 {
    write_str(&mut sink.out, key);
    sink.out.push(b':');
    match shape.find(key) {
        Some((i, Kind::Leaf(leaf))) => {
            let len = sink.enter(key);
            let written = write_leaf(*leaf, json, sink);
            sink.path.truncate(len);
            if written {
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
            let len = sink.enter(itoa(i).as_str());
            let more = seq.next_element_seed(Seed {
                kind: self.item,
                sink: &mut *sink,
            })?;
            sink.path.truncate(len);
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
        self.sink.nulled();
        Ok(false)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        self.sink.out.extend_from_slice(b"null");
        Ok(false)
    }

    wrong_type!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);
}

fn itoa(i: usize) -> String {
    i.to_string()
}
