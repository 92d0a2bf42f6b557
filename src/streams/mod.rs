//! Zendesk Chat streams: one module per resource, the registry that `discover` and `read` use,
//! and the shared driver for paging and state. Nothing here talks HTTP directly: readers get
//! pages through the [`Fetch`] trait, which the client layer implements.

pub mod agent_timeline;
pub mod chat_records;
pub mod chats;
pub mod coverage;
pub mod cursor;
pub mod driver;
pub mod inject;
pub mod normalize;
pub mod quirks;
pub mod records;
pub mod simple;
pub mod typed;
pub mod types;

use std::future::Future;

use bytes::Bytes;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::Error;
use crate::protocol::{AirbyteCatalog, AirbyteStream, SyncMode};
use crate::schema::record_schema;
use driver::{read_since_id, Ctx, Outcome, Selection};
use simple::Shape;

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

/// How a stream is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// One request, one object or a list.
    Simple {
        path: &'static str,
        shape: Shape,
        forbidden_is_unavailable: bool,
    },
    /// `since_id` pages of `agents`.
    Agents,
    /// `since_id` pages of `bans` (two arrays merged by id).
    Bans,
    AgentTimeline,
    /// A member of the chats family (one export pass serves them all).
    Chats(chats::Part),
}

/// A stream's static description.
pub struct StreamInfo {
    pub name: &'static str,
    pub incremental: bool,
    pub cursor_field: Option<&'static str>,
    pub primary_key: &'static [&'static str],
    pub schema: fn() -> Value,
    pub reader: Reader,
}

const fn list(path: &'static str) -> Reader {
    Reader::Simple {
        path,
        shape: Shape::Array,
        forbidden_is_unavailable: false,
    }
}

/// Every stream, in catalog order. Names, keys and cursors match the certified Airbyte connector.
pub const STREAMS: &[StreamInfo] = &[
    StreamInfo {
        name: "accounts",
        incremental: false,
        cursor_field: None,
        primary_key: &["account_key"],
        schema: record_schema::<records::Account>,
        reader: Reader::Simple {
            path: "account",
            shape: Shape::Object,
            forbidden_is_unavailable: true,
        },
    },
    StreamInfo {
        name: "agents",
        incremental: true,
        cursor_field: Some("id"),
        primary_key: &["id"],
        schema: record_schema::<records::Agent>,
        reader: Reader::Agents,
    },
    StreamInfo {
        name: "agent_timeline",
        incremental: true,
        cursor_field: Some("start_time"),
        primary_key: &["id"],
        schema: record_schema::<records::AgentTimeline>,
        reader: Reader::AgentTimeline,
    },
    StreamInfo {
        name: "bans",
        incremental: true,
        cursor_field: Some("id"),
        primary_key: &["id"],
        schema: record_schema::<records::Ban>,
        reader: Reader::Bans,
    },
    StreamInfo {
        name: "chats",
        incremental: true,
        cursor_field: Some("update_timestamp"),
        primary_key: &["id"],
        schema: record_schema::<chat_records::Chat>,
        reader: Reader::Chats(chats::Part::Chat),
    },
    StreamInfo {
        name: "chat_history",
        incremental: true,
        cursor_field: Some("update_timestamp"),
        primary_key: &["chat_id", "position"],
        schema: record_schema::<chat_records::ChatHistory>,
        reader: Reader::Chats(chats::Part::History),
    },
    StreamInfo {
        name: "chat_webpath",
        incremental: true,
        cursor_field: Some("update_timestamp"),
        primary_key: &["chat_id", "position"],
        schema: record_schema::<chat_records::ChatWebpath>,
        reader: Reader::Chats(chats::Part::Webpath),
    },
    StreamInfo {
        name: "chat_engagements",
        incremental: true,
        cursor_field: Some("update_timestamp"),
        primary_key: &["chat_id", "position"],
        schema: record_schema::<chat_records::ChatEngagement>,
        reader: Reader::Chats(chats::Part::Engagements),
    },
    StreamInfo {
        name: "chat_conversions",
        incremental: true,
        cursor_field: Some("update_timestamp"),
        primary_key: &["chat_id", "position"],
        schema: record_schema::<chat_records::ChatConversion>,
        reader: Reader::Chats(chats::Part::Conversions),
    },
    StreamInfo {
        name: "departments",
        incremental: false,
        cursor_field: None,
        primary_key: &["id"],
        schema: record_schema::<records::Department>,
        reader: list("departments"),
    },
    StreamInfo {
        name: "goals",
        incremental: false,
        cursor_field: None,
        primary_key: &["id"],
        schema: record_schema::<records::Goal>,
        reader: list("goals"),
    },
    StreamInfo {
        name: "roles",
        incremental: false,
        cursor_field: None,
        primary_key: &["id"],
        schema: record_schema::<records::Role>,
        reader: list("roles"),
    },
    StreamInfo {
        name: "routing_settings",
        incremental: false,
        cursor_field: None,
        primary_key: &[],
        schema: record_schema::<records::RoutingSettings>,
        reader: Reader::Simple {
            path: "routing_settings/account",
            shape: Shape::Data,
            forbidden_is_unavailable: false,
        },
    },
    StreamInfo {
        name: "shortcuts",
        incremental: false,
        cursor_field: None,
        primary_key: &["id"],
        schema: record_schema::<records::Shortcut>,
        reader: list("shortcuts"),
    },
    StreamInfo {
        name: "skills",
        incremental: false,
        cursor_field: None,
        primary_key: &["id"],
        schema: record_schema::<records::Skill>,
        reader: list("skills"),
    },
    StreamInfo {
        name: "triggers",
        incremental: false,
        cursor_field: None,
        primary_key: &["id"],
        schema: record_schema::<records::Trigger>,
        reader: list("triggers"),
    },
];

/// Looks a stream up by name.
pub fn find(name: &str) -> Option<&'static StreamInfo> {
    STREAMS.iter().find(|s| s.name == name)
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
        streams: STREAMS.iter().map(StreamInfo::airbyte_stream).collect(),
    }
}

/// Bans arrive as `{"ip_address": [...], "visitor": [...]}`; merged and ordered by id.
fn ban_items(body: &[u8]) -> Result<Vec<&RawValue>, Error> {
    #[derive(serde::Deserialize)]
    struct Bans<'a> {
        #[serde(borrow, default)]
        ip_address: Vec<&'a RawValue>,
        #[serde(borrow, default)]
        visitor: Vec<&'a RawValue>,
    }
    #[derive(serde::Deserialize)]
    struct WithId {
        #[serde(default)]
        id: Value,
    }
    let bans: Bans = driver::decode("bans", body)?;
    let mut items = Vec::with_capacity(bans.ip_address.len() + bans.visitor.len());
    for raw in bans.ip_address.into_iter().chain(bans.visitor) {
        let WithId { id } = driver::decode("bans", raw.get().as_bytes())?;
        items.push((driver::id_as_i64(&id).unwrap_or(i64::MAX), raw));
    }
    items.sort_by_key(|(id, _)| *id);
    Ok(items.into_iter().map(|(_, raw)| raw).collect())
}

/// Reads one stream that is not a member of the chats family.
pub async fn read_single<F: Fetch>(
    ctx: &Ctx<F>,
    info: &StreamInfo,
    sel: &Selection,
) -> Result<Outcome, Error> {
    match info.reader {
        Reader::Simple {
            path,
            shape,
            forbidden_is_unavailable,
        } => simple::read(ctx, sel, path, shape, forbidden_is_unavailable).await,
        Reader::Agents => {
            read_since_id(ctx, sel, "agents", 100, |body| {
                driver::decode("agents", body)
            })
            .await
        }
        Reader::Bans => read_since_id(ctx, sel, "bans", 100, ban_items).await,
        Reader::AgentTimeline => agent_timeline::read(ctx, sel).await,
        Reader::Chats(part) => {
            chats::read(
                ctx,
                &[chats::Member {
                    sel: sel.clone(),
                    part,
                }],
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cursor_and_key_is_declared_in_the_schema() {
        for s in STREAMS {
            let schema = (s.schema)();
            let props = schema["properties"].as_object().expect("properties");
            for k in s.primary_key.iter().chain(s.cursor_field.iter()) {
                assert!(props.contains_key(*k), "{}: {k} not in schema", s.name);
            }
            jsonschema::draft7::meta::validate(&schema)
                .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        }
    }

    #[test]
    fn ban_arrays_are_merged_by_id() {
        let body = br#"{"ip_address":[{"id":5},{"id":1}],"visitor":[{"id":3}]}"#;
        let ids: Vec<String> = ban_items(body)
            .unwrap()
            .iter()
            .map(|r| r.get().to_owned())
            .collect();
        assert_eq!(ids, vec![r#"{"id":1}"#, r#"{"id":3}"#, r#"{"id":5}"#]);
    }
}
