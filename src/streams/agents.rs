//! The `agents` stream: the account's agents, paged by `since_id` (100 per page), incremental by
//! id as in the certified connector (new agents only; a full refresh picks up changes).

use schemars::JsonSchema;
use crate::records::types::{Bool, Int, IntList, Str, Timestamp};
use serde_json::value::RawValue;

use crate::records::decode;
use crate::error::Error;

/// A Chat agent.
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct Agent {
    /// Agent id; the primary key and the incremental cursor.
    id: Int,
    email: Str,
    display_name: Str,
    first_name: Str,
    last_name: Str,
    /// Whether the agent is enabled.
    enabled: Bool,
    /// Id of the agent's role.
    role_id: Int,
    /// Deprecated role flags.
    roles: Option<AgentRoles>,
    /// Departments the agent belongs to.
    departments: IntList,
    /// Departments the agent is enabled in.
    enabled_departments: IntList,
    /// Skill ids.
    skills: IntList,
    create_date: Timestamp,
    last_login: Timestamp,
    login_count: Int,
    scope: Str,
}

/// Deprecated role flags of an agent.
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct AgentRoles {
    owner: Bool,
    administrator: Bool,
}

const PATH: &str = "agents";

/// A page of agents: a plain array.
fn items(body: &[u8]) -> Result<Vec<&RawValue>, Error> {
    decode(PATH, body)
}

super::declare::since_id_stream!("agents", "agents", Agent, items);
