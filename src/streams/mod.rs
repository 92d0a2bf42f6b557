//! Zendesk Chat streams: one module per resource, and the registry that `discover` and `read`
//! use. Nothing here talks HTTP or pages by hand: each resource says what its records look like
//! and which strategy of the engine ([`crate::paging`]) reads its endpoint.
//!
//! Adding an endpoint: write one module that owns its record struct(s), its `STREAMS` and a
//! `resource()` (one line with a macro of `declare.rs` for the common strategies), then add its
//! name on one line of the `registry!` list.

mod declare;
#[cfg(test)]
mod position_rule;

use std::future::Future;
use std::pin::Pin;

use crate::error::Error;
use crate::paging::driver::{Ctx, Outcome, Selection};
use crate::paging::{Fetch, Reply};
use crate::protocol::AirbyteCatalog;
pub use crate::records::StreamInfo;

/// The work of reading one resource: resolves to how the read ended.
pub type ResourceFuture = Pin<Box<dyn Future<Output = Result<Outcome, Error>> + Send>>;

/// One Zendesk Chat resource: the streams it serves and how to read them. A resource with
/// several streams (a family, like chats and its children) reads all selected ones in one pass.
pub struct Resource<F> {
    pub streams: &'static [StreamInfo],
    /// Reads the selected streams of this resource (never an empty list).
    pub read: fn(Ctx<F>, Vec<Selection>) -> ResourceFuture,
}

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
