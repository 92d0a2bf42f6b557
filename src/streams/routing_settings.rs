//! The `routing_settings` stream: the account's routing settings, one `{"data": {...}}` object
//! from `routing_settings/account`.

use schemars::JsonSchema;
use crate::records::types::{Bool, Int, JsonObject, Str};

/// Account routing settings.
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct RoutingSettings {
    /// `broadcast`, `assigned` or `hybrid`.
    routing_mode: Str,
    chat_limit: Option<ChatLimit>,
    skill_routing: Option<SkillRouting>,
    reassignment: Option<Reassignment>,
    auto_idle: Option<AutoIdle>,
    auto_accept: JsonObject,
}

#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct ChatLimit {
    enabled: Bool,
    limit: Int,
    limit_type: Str,
    allow_agent_override: Bool,
}

#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct SkillRouting {
    enabled: Bool,
    max_wait_time: Int,
}

#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct Reassignment {
    enabled: Bool,
    timeout: Int,
}

#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct AutoIdle {
    enabled: Bool,
    reassignments_before_idle: Int,
    new_status: Str,
}

super::declare::one_request_stream!(
    "routing_settings",
    "routing_settings/account",
    RoutingSettings,
    &[],
    Data,
    false
);
