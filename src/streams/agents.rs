//! The `agents` stream: the account's agents, paged by `since_id` (100 per page), incremental by
//! id as in the certified connector (new agents only; a full refresh picks up changes).

use serde_json::value::RawValue;

use super::driver::{decode, Ctx, Outcome, Selection};
use super::records::Agent;
use super::since_id;
use super::{only, Fetch, Resource, StreamInfo};
use crate::error::Error;
use crate::schema::record_schema;

const PATH: &str = "agents";

pub const STREAMS: &[StreamInfo] = &[StreamInfo::incremental(
    "agents",
    "id",
    &["id"],
    record_schema::<Agent>,
)];

/// A page of agents: a plain array.
fn items(body: &[u8]) -> Result<Vec<&RawValue>, Error> {
    decode(PATH, body)
}

/// Reads the stream.
pub async fn read<F: Fetch>(ctx: Ctx<F>, selections: Vec<Selection>) -> Result<Outcome, Error> {
    since_id::read(&ctx, only(selections)?, PATH, 100, items).await
}

pub fn resource<F: Fetch>() -> Resource<F> {
    Resource {
        streams: STREAMS,
        read: |ctx, selections| Box::pin(read(ctx, selections)),
    }
}
