//! Zendesk Chat streams: one module per resource, the registry that `discover` and `read` use,
//! and the shared driver for paging and state. Nothing here talks HTTP: readers get pages through
//! the [`Fetch`] trait, which the client layer implements.
//!
//! Adding an endpoint: write one module that owns its record struct(s), its [`StreamInfo`](s) and
//! a `resource()` that reads them, then add its name on one line of the `registry!` list.

pub mod chat_records;
pub mod coverage;
pub mod cursor;
pub mod driver;
pub mod export;
pub mod live_edge;
pub mod normalize;
pub mod paging;
pub mod quirks;
pub mod records;
pub mod scan;
#[cfg(test)]
pub mod scripted;
pub mod shape;
pub mod simple;
pub mod since_id;
pub mod tap;
pub mod tracker;
pub mod transcode;
pub mod typed;
pub mod types;

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use serde_json::Value;

use crate::error::Error;
use crate::protocol::{AirbyteCatalog, AirbyteStream, SyncMode};
use driver::{Ctx, Outcome, Selection};

/// What the API answered for a page, in the streams layer's terms (no HTTP here).
#[derive(Debug)]
pub enum Reply {
    /// A successful answer's body.
    Page(Bytes),
    /// The resource does not exist for this account; the error says so, for streams that fail.
    Missing(Error),
    /// The token may not read the resource; the error says so, for streams that fail.
    Forbidden(Error),
}

/// GETs a path of the Chat API. `Err` is a failure that retries did not cure.
pub trait Fetch: Send + Sync + 'static {
    fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> impl Future<Output = Result<Reply, Error>> + Send;
}

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
}

/// The work of reading one resource: resolves to how the read ended.
pub type ResourceFuture = Pin<Box<dyn Future<Output = Result<Outcome, Error>> + Send>>;

/// One Zendesk Chat resource: the streams it serves and how to read them. A resource with
/// several streams (a family, like chats and its children) reads all selected ones in one pass.
pub struct Resource<F> {
    pub streams: &'static [StreamInfo],
    /// Reads the selected streams of this resource (never an empty list).
    pub read: fn(Ctx<F>, Vec<Selection>) -> ResourceFuture,
}

/// The `resource()` of a module with one stream in `STREAMS`, read by `$read` (an expression
/// awaiting a strategy, given the context `$ctx` and the stream's selection `$sel`).
macro_rules! single_stream_resource {
    (|$ctx:ident, $sel:ident| $read:expr) => {
        pub fn resource<F: $crate::streams::Fetch>() -> $crate::streams::Resource<F> {
            $crate::streams::Resource {
                streams: STREAMS,
                read: |$ctx, selections| {
                    Box::pin(async move {
                        let $sel = $crate::streams::only(selections)?;
                        $read
                    })
                },
            }
        }
    };
}
pub(crate) use single_stream_resource;

/// Declares the resource modules and [`registry`], in catalog order.
macro_rules! registry {
    ($($resource:ident),* $(,)?) => {
        $(pub mod $resource;)*

        /// Every resource, in catalog order. Stream names, keys and cursors match the certified
        /// Airbyte connector; the chat child streams and the two exports after `triggers` are
        /// additions.
        pub fn registry<F: Fetch>() -> Vec<Resource<F>> {
            vec![$($resource::resource()),*]
        }
    };
}

// One line per resource: its module, which owns its records, streams and reader.
registry! {
    account,
    agents,
    agent_timeline,
    bans,
    chats,
    departments,
    goals,
    roles,
    routing_settings,
    shortcuts,
    skills,
    triggers,
    conversions,
    department_events,
}

/// The one selection of a single-stream resource.
pub fn only(selections: Vec<Selection>) -> Result<Selection, Error> {
    selections
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal("a resource was read with no stream selected".into()))
}

/// A `Fetch` that cannot exist: names the registry's type when only its metadata is wanted.
pub enum NoFetch {}

impl Fetch for NoFetch {
    async fn get(&self, _: &str, _: &[(&str, String)]) -> Result<Reply, Error> {
        match *self {}
    }
}

/// Every stream, in catalog order.
pub fn all_streams() -> impl Iterator<Item = &'static StreamInfo> {
    registry::<NoFetch>()
        .into_iter()
        .flat_map(|r| r.streams.iter())
}

/// Looks a stream up by name.
pub fn find(name: &str) -> Option<&'static StreamInfo> {
    all_streams().find(|s| s.name == name)
}

impl StreamInfo {
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

/// The `discover` catalog.
pub fn catalog() -> AirbyteCatalog {
    AirbyteCatalog {
        streams: all_streams().map(StreamInfo::airbyte_stream).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cursor_and_key_is_declared_in_the_schema() {
        for s in all_streams() {
            let schema = (s.schema)();
            let props = schema["properties"].as_object().expect("properties");
            for k in s.primary_key.iter().chain(s.cursor_field.iter()) {
                assert!(props.contains_key(*k), "{}: {k} not in schema", s.name);
            }
            jsonschema::draft7::meta::validate(&schema)
                .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        }
    }
}
