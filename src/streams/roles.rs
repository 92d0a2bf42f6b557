//! The `roles` stream: the account's agent roles, one request to `roles`.

use schemars::JsonSchema;
use crate::records::types::{Bool, Int, Str};

/// A role.
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct Role {
    id: Int,
    name: Str,
    description: Str,
    enabled: Bool,
    members_count: Int,
    permissions: Option<RolePermissions>,
}

/// Permissions of a role: levels (`all`, `none`, ...) or flags.
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct RolePermissions {
    visitors_seen: Str,
    proactive_chatting: Str,
    edit_visitor_information: Bool,
    edit_visitor_notes: Bool,
    view_past_chats: Str,
    edit_chat_tags: Bool,
    manage_bans: Str,
    access_analytics: Str,
    view_monitor: Str,
    edit_department_agents: Str,
    set_agent_chat_limit: Str,
    manage_shortcuts: Str,
}

super::declare::one_request_stream!("roles", "roles", Role, &["id"], Array, false);
