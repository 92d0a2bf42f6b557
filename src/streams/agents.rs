//! The `agents` stream: the account's agents, paged by `since_id` (100 per page), incremental by
//! id as in the certified connector (new agents only; a full refresh picks up changes).

use serde_json::value::RawValue;

use super::driver::decode;
use super::records::Agent;
use crate::error::Error;

const PATH: &str = "agents";

/// A page of agents: a plain array.
fn items(body: &[u8]) -> Result<Vec<&RawValue>, Error> {
    decode(PATH, body)
}

super::since_id::since_id_stream!("agents", "agents", Agent, items);
