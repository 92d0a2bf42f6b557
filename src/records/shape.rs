//! The compiled form of a stream's schema for the typed layer: per field, how its value is
//! normalized ([`Kind`]), found by key in a few integer compares, with its key already written as
//! JSON text so a record's declared keys are copied out in one piece.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

use super::quirks::Leaf;

/// How one field is normalized.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Leaf(Leaf),
    /// Free-form JSON, kept as sent (compacted).
    Any,
    Object(Shape),
    Array(Box<Kind>),
}

/// A declared field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub kind: Kind,
    /// `,"name":`: the key as written in a record, after the comma that precedes all but the
    /// first key.
    pub text: Box<[u8]>,
    /// The field that followed this one in the last record read.
    pub next: Hint,
}

/// A guess at which declared field comes next, learnt from the records read (the API writes
/// keys in a steady order). Shared between readers; a wrong guess only costs a key scan.
#[derive(Debug)]
pub struct Hint(AtomicU32);

impl Hint {
    const NONE: u32 = u32::MAX;

    pub const fn new() -> Self {
        Self(AtomicU32::new(Self::NONE))
    }

    /// The field index guessed.
    pub fn get(&self) -> Option<usize> {
        let v = self.0.load(Ordering::Relaxed);
        (v != Self::NONE).then_some(v as usize)
    }

    /// Learns the field that came (written only when it changed, so steady reads share it).
    pub fn set(&self, field: Option<usize>) {
        let v = field
            .and_then(|i| u32::try_from(i).ok())
            .unwrap_or(Self::NONE);
        if self.0.load(Ordering::Relaxed) != v {
            self.0.store(v, Ordering::Relaxed);
        }
    }
}

impl Default for Hint {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for Hint {
    fn clone(&self) -> Self {
        Self(AtomicU32::new(self.0.load(Ordering::Relaxed)))
    }
}

/// Guesses do not make two shapes different.
impl PartialEq for Hint {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Field {
    /// The key's JSON text (`"name":`), with its leading comma unless it is the object's first.
    pub fn key_text(&self, first: bool) -> &[u8] {
        self.text.get(usize::from(first)..).unwrap_or_default()
    }
}

/// The declared fields of an object, sorted by name; other keys pass through.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Shape {
    names: Vec<Box<str>>,
    fields: Vec<Field>,
    /// Per key length: (fingerprint of the key, field index). Finding a key costs a length
    /// lookup and one or two integer compares instead of a binary search of string compares.
    by_len: Vec<Vec<((u64, u64), usize)>>,
    /// The field that came first in the last record read.
    pub first: Hint,
}

/// The shape of an object with no declared fields: every key passes through.
pub static EMPTY: Shape = Shape {
    names: Vec::new(),
    fields: Vec::new(),
    by_len: Vec::new(),
    first: Hint::new(),
};

/// A key's fingerprint, which with its length tells keys of up to 16 bytes apart: its first and
/// last 8 bytes (4 below 8 bytes, single bytes below 4; the two ranges overlap in short keys).
fn fingerprint(key: &[u8]) -> (u64, u64) {
    let u32_at = |at: usize| {
        key.get(at..)
            .and_then(|rest| rest.first_chunk::<4>())
            .map_or(0, |w| u64::from(u32::from_le_bytes(*w)))
    };
    let u64_at = |at: usize| {
        key.get(at..)
            .and_then(|rest| rest.first_chunk::<8>())
            .map_or(0, |w| u64::from_le_bytes(*w))
    };
    let byte = |at: usize| key.get(at).map_or(0, |b| u64::from(*b));
    match key.len() {
        0 => (0, 0),
        n @ 1..=3 => (byte(0) | byte(n / 2) << 8 | byte(n - 1) << 16, 0),
        n @ 4..=7 => (u32_at(0), u32_at(n - 4)),
        n => (u64_at(0), u64_at(n - 8)),
    }
}

impl Shape {
    /// The index of a declared field.
    pub fn index(&self, key: &str) -> Option<usize> {
        self.find(key).map(|(i, _)| i)
    }

    /// Field `i`.
    pub fn field(&self, i: usize) -> Option<&Field> {
        self.fields.get(i)
    }

    /// The name of field `i`.
    pub fn name(&self, i: usize) -> &str {
        self.names.get(i).map_or("", |n| n)
    }

    /// A declared field and its index.
    pub fn find(&self, key: &str) -> Option<(usize, &Field)> {
        let key = key.as_bytes();
        let p = fingerprint(key);
        let i = self.by_len.get(key.len())?.iter().find_map(|&(q, i)| {
            (q == p && (key.len() <= 16 || self.names[i].as_bytes() == key)).then_some(i)
        })?;
        Some((i, &self.fields[i]))
    }

    /// Builds the shape of an object schema (`properties`).
    pub fn from_schema(schema: &Value) -> Self {
        let mut declared: Vec<(&str, Kind)> = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| {
                p.iter()
                    .map(|(k, v)| (k.as_str(), Kind::from_schema(v)))
                    .collect()
            })
            .unwrap_or_default();
        declared.sort_by(|a, b| a.0.cmp(b.0));
        let mut shape = Self::default();
        for (i, (name, kind)) in declared.into_iter().enumerate() {
            if shape.by_len.len() <= name.len() {
                shape.by_len.resize(name.len() + 1, Vec::new());
            }
            shape.by_len[name.len()].push((fingerprint(name.as_bytes()), i));
            let mut text = vec![b','];
            super::normalize::write_str(&mut text, name);
            text.push(b':');
            shape.names.push(name.into());
            shape.fields.push(Field {
                kind,
                text: text.into(),
                next: Hint::new(),
            });
        }
        shape
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_by_length_and_fingerprint() {
        let schema = serde_json::json!({"properties": {
            "id": {"type": "integer"}, "ip": {"type": "string"},
            "update_timestamp": {"type": "string", "format": "date-time"},
            "update_timestamps": {"type": "string"}, "x\"y": {}
        }});
        let shape = Shape::from_schema(&schema);
        let (_, id) = shape.find("id").unwrap();
        assert_eq!(id.kind, Kind::Leaf(Leaf::Int));
        assert_eq!(id.key_text(true), br#""id":"#);
        assert_eq!(id.key_text(false), br#","id":"#);
        assert_eq!(shape.find("ip").unwrap().1.kind, Kind::Leaf(Leaf::Str));
        assert_eq!(
            shape.find("update_timestamp").unwrap().1.kind,
            Kind::Leaf(Leaf::DateTime)
        );
        assert_eq!(
            shape.find("update_timestamps").unwrap().1.kind,
            Kind::Leaf(Leaf::Str)
        );
        assert_eq!(shape.find("x\"y").unwrap().1.key_text(true), br#""x\"y":"#);
        for missing in [
            "",
            "i",
            "di",
            "update_timestampz",
            "update-timestamps",
            "idx",
        ] {
            assert!(shape.find(missing).is_none(), "{missing}");
        }
    }
}
