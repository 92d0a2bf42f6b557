//! Record types of every stream. They define the discovered JSON schemas (doc comments become
//! descriptions), and the normalizers that type every record are compiled from those schemas:
//! one JSON type per field, the certified connector's (1.1.1). Fields not declared here pass
//! through unchanged.

#![allow(dead_code)] // fields are read by schemars only

use schemars::JsonSchema;

use super::types::{Bool, Int, IntList, JsonList, JsonObject, Num, Str, StrList, Timestamp};

/// The Chat account.
#[derive(JsonSchema)]
pub struct Account {
    /// The account key (widget key); the primary key.
    account_key: Str,
    /// When the account was created.
    create_date: Timestamp,
    /// Account status, e.g. `active`.
    status: Str,
    /// Billing details (owner tokens only).
    billing: Option<Billing>,
    /// The subscription plan.
    plan: Option<Plan>,
}

/// Billing contact of the account.
#[derive(JsonSchema)]
pub struct Billing {
    company: Str,
    first_name: Str,
    last_name: Str,
    email: Str,
    phone: Str,
    address1: Str,
    address2: Str,
    city: Str,
    state: Str,
    postal_code: Str,
    country_code: Str,
    additional_info: Str,
    /// Billing cycle in months.
    cycle: Int,
}

/// Plan features and limits. The `max_*` limits other than `max_agents` are strings
/// (`unlimited`, or a number as text).
#[derive(JsonSchema)]
pub struct Plan {
    name: Str,
    price: Num,
    max_agents: Int,
    max_departments: Str,
    max_concurrent_chats: Str,
    max_history_search_days: Str,
    max_basic_triggers: Str,
    max_advanced_triggers: Str,
    goals: Int,
    long_desc: Str,
    short_desc: Str,
    widget_customization: Str,
    sla: Bool,
    monitoring: Bool,
    rest_api: Bool,
    email_reports: Bool,
    daily_reports: Bool,
    chat_reports: Bool,
    agent_reports: Bool,
    agent_leaderboard: Bool,
    unbranding: Bool,
    high_load: Bool,
    ip_restriction: Bool,
    support: Bool,
    operating_hours: Bool,
    file_upload: Bool,
    analytics: Bool,
    integrations: Bool,
}

/// A Chat agent.
#[derive(JsonSchema)]
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
pub struct AgentRoles {
    owner: Bool,
    administrator: Bool,
}

/// One status period of an agent (from the agent timeline export).
#[derive(JsonSchema)]
pub struct AgentTimeline {
    /// `{agent_id}|{start_time}`, as the certified connector forms it; the primary key. A second
    /// entry of the same agent within one second uses `start_time_exact` instead.
    id: Str,
    agent_id: Int,
    /// When the status period started, to the second (as the certified connector emits it);
    /// the incremental cursor.
    start_time: Timestamp,
    /// When the status period started, to the microsecond.
    start_time_exact: Timestamp,
    /// `online`, `away`, `invisible` or `offline`.
    status: Str,
    /// Seconds spent in the status.
    duration: Num,
    /// Chats the agent served in the period.
    engagement_count: Int,
}

/// A ban of an IP address or a visitor.
#[derive(JsonSchema)]
pub struct Ban {
    /// Ban id; the primary key and the incremental cursor.
    id: Int,
    /// `ip_address` or `visitor`.
    #[schemars(rename = "type")]
    kind: Str,
    ip_address: Str,
    visitor_id: Str,
    visitor_name: Str,
    reason: Str,
    /// When the ban was created; null or absent for old bans.
    created_at: Timestamp,
    /// Declared by the certified connector; Zendesk sends `created_at`.
    create_date: Timestamp,
}

/// A department.
#[derive(JsonSchema)]
pub struct Department {
    id: Int,
    name: Str,
    description: Str,
    enabled: Bool,
    /// Agent ids.
    members: IntList,
    settings: JsonObject,
}

/// A goal.
#[derive(JsonSchema)]
pub struct Goal {
    id: Int,
    name: Str,
    description: Str,
    enabled: Bool,
    /// `first_touch` or `last_touch`.
    attribution_model: Str,
    /// Days (1-30).
    attribution_period: Int,
    settings: Option<GoalSettings>,
}

/// When a goal is reached.
#[derive(JsonSchema)]
pub struct GoalSettings {
    conditions: Option<Vec<GoalCondition>>,
}

/// One condition of a goal.
#[derive(JsonSchema)]
pub struct GoalCondition {
    operator: Str,
    #[schemars(rename = "type")]
    kind: Str,
    value: Str,
}

/// A role.
#[derive(JsonSchema)]
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

/// Account routing settings.
#[derive(JsonSchema)]
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
pub struct ChatLimit {
    enabled: Bool,
    limit: Int,
    limit_type: Str,
    allow_agent_override: Bool,
}

#[derive(JsonSchema)]
pub struct SkillRouting {
    enabled: Bool,
    max_wait_time: Int,
}

#[derive(JsonSchema)]
pub struct Reassignment {
    enabled: Bool,
    timeout: Int,
}

#[derive(JsonSchema)]
pub struct AutoIdle {
    enabled: Bool,
    reassignments_before_idle: Int,
    new_status: Str,
}

/// A shortcut (canned response).
#[derive(JsonSchema)]
pub struct Shortcut {
    /// Shortcut id; equals its name, and is set to the name when Zendesk omits it.
    id: Str,
    name: Str,
    message: Str,
    /// Choices separated by `/`.
    options: Str,
    /// `all`, `agent` or `department`.
    scope: Str,
    tags: StrList,
    agents: IntList,
    departments: IntList,
}

/// A skill.
#[derive(JsonSchema)]
pub struct Skill {
    id: Int,
    name: Str,
    description: Str,
    enabled: Bool,
    members: IntList,
}

/// A trigger.
#[derive(JsonSchema)]
pub struct Trigger {
    /// Trigger id. When Zendesk omits it: minus a 52-bit hash of the name (stable, negative).
    id: Int,
    name: Str,
    description: Str,
    enabled: Bool,
    definition: Option<TriggerDefinition>,
}

/// Event, condition and actions of a trigger.
#[derive(JsonSchema)]
pub struct TriggerDefinition {
    /// `page_enter`, `chat_requested` or `chat_message`.
    event: Str,
    /// Nested list of mixed values, e.g. `["and", ["eq", "@visitor_served", false]]`.
    condition: JsonList,
    /// List of actions, e.g. `[["wait", 5], ["sendMessageToVisitor", "Bot", "Hi"]]`.
    actions: JsonList,
    version: Int,
    editor: Str,
}
