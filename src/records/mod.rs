//! Records and their types: each stream's static description and JSON schema (derived from
//! Rust structs), the normalization that gives every column one type, and the fast reader that
//! types a page body as it copies it through. Nothing here pages or talks HTTP.
//!
//! - [`types`]: the column types the record structs are made of (change a column type here or
//!   in the stream's struct);
//! - [`typed`]: the per-stream typing API (normalizers, key rules, typing counters);
//! - [`normalize`], [`quirks`], [`shape`], [`tap`]: the reference (serde_json) typing path;
//! - [`transcode`]: the fast path, with its hand-written JSON scanner in a submodule.

pub mod normalize;
pub mod quirks;
pub mod shape;
pub mod tap;
pub mod transcode;
pub mod typed;
pub mod types;

use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;
use crate::protocol::{AirbyteStream, SyncMode};

/// A stream's static description (its catalog entry).
pub struct StreamInfo {
    pub name: &'static str,
    pub incremental: bool,
    pub cursor_field: Option<&'static str>,
    pub primary_key: &'static [&'static str],
    pub schema: fn() -> Value,
}

impl StreamInfo {
    /// A stream read in full on every sync.
    pub const fn full_refresh(
        name: &'static str,
        primary_key: &'static [&'static str],
        schema: fn() -> Value,
    ) -> Self {
        Self {
            name,
            incremental: false,
            cursor_field: None,
            primary_key,
            schema,
        }
    }

    /// A stream that can resume from its `cursor` field.
    pub const fn incremental(
        name: &'static str,
        cursor: &'static str,
        primary_key: &'static [&'static str],
        schema: fn() -> Value,
    ) -> Self {
        Self {
            name,
            incremental: true,
            cursor_field: Some(cursor),
            primary_key,
            schema,
        }
    }

    /// The catalog entry of this stream.
    pub fn airbyte_stream(&self) -> AirbyteStream {
        let mut modes = vec![SyncMode::FullRefresh];
        if self.incremental {
            modes.push(SyncMode::Incremental);
        }
        AirbyteStream {
            name: self.name.to_owned(),
            json_schema: (self.schema)(),
            supported_sync_modes: modes,
            source_defined_cursor: Some(self.incremental),
            default_cursor_field: self.cursor_field.map(|c| vec![c.to_owned()]),
            source_defined_primary_key: Some(
                self.primary_key
                    .iter()
                    .map(|k| vec![(*k).to_owned()])
                    .collect(),
            ),
            namespace: None,
            is_resumable: Some(self.incremental),
        }
    }
}

/// Decodes an API body, reporting where it is malformed (never panics, never quotes it).
pub fn decode<'a, T: Deserialize<'a>>(endpoint: &str, body: &'a [u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| decode_error(endpoint, &e))
}

/// A JSON error as the stream error that says where (never quoting the input).
pub fn decode_error(endpoint: &str, e: &serde_json::Error) -> Error {
    Error::Decode {
        endpoint: endpoint.to_owned(),
        line: e.line(),
        column: e.column(),
        detail: e
            .to_string()
            .split(" at line")
            .next()
            .unwrap_or("")
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_reports_position() {
        let err = decode::<Value>("agents", b"[{\"id\": 1},\n {\"id\": ").unwrap_err();
        match err {
            Error::Decode { endpoint, line, .. } => {
                assert_eq!(endpoint, "agents");
                assert_eq!(line, 2);
            }
            other => panic!("{other:?}"),
        }
    }
}
