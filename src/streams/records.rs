//! Record types of every stream. They define the discovered JSON schemas (doc comments become
//! descriptions); the connector itself passes the API's JSON through unchanged, so fields not
//! declared here still reach the destination.

#![allow(dead_code)] // fields are read by schemars only

use schemars::JsonSchema;

use super::types::{Flag, Id, IdList, Int, Json, Number, StrId, Text, TextList, Timestamp};

/// The Chat account.
#[derive(JsonSchema)]
pub struct Account {
    /// The account key (widget key); the primary key.
    account_key: Text,
    /// When the account was created.
    create_date: Timestamp,
    /// Account status, e.g. `active`.
    status: Text,
    /// Billing details (owner tokens only).
    billing: Option<Billing>,
    /// The subscription plan; limits are numbers or strings such as `unlimited`.
    plan: Option<Plan>,
}

/// Billing contact of the account.
#[derive(JsonSchema)]
pub struct Billing {
    company: Text,
    first_name: Text,
    last_name: Text,
    email: Text,
    phone: Text,
    address1: Text,
    address2: Text,
    city: Text,
    state: Text,
    postal_code: Text,
    country_code: Text,
    additional_info: Text,
    /// Billing cycle in months.
    cycle: Int,
}

/// Plan features and limits.
#[derive(JsonSchema)]
pub struct Plan {
    name: Text,
    price: Number,
    max_agents: Json,
    max_departments: Json,
    max_concurrent_chats: Json,
    max_history_search_days: Json,
    max_basic_triggers: Json,
    max_advanced_triggers: Json,
    goals: Json,
    long_desc: Text,
    short_desc: Text,
    widget_customization: Text,
    sla: Flag,
    monitoring: Flag,
    rest_api: Flag,
    email_reports: Flag,
    daily_reports: Flag,
    chat_reports: Flag,
    agent_reports: Flag,
    agent_leaderboard: Flag,
    unbranding: Flag,
    high_load: Flag,
    ip_restriction: Flag,
    support: Flag,
    operating_hours: Flag,
    file_upload: Flag,
    analytics: Flag,
    integrations: Flag,
}

/// A Chat agent.
#[derive(JsonSchema)]
pub struct Agent {
    /// Agent id; the primary key and the incremental cursor.
    id: Id,
    email: Text,
    display_name: Text,
    first_name: Text,
    last_name: Text,
    /// Whether the agent is enabled (boolean, or 0/1).
    enabled: Flag,
    /// Id of the agent's role.
    role_id: Id,
    /// Deprecated role flags.
    roles: Option<AgentRoles>,
    /// Departments the agent belongs to.
    departments: IdList,
    /// Departments the agent is enabled in.
    enabled_departments: IdList,
    /// Skill ids.
    skills: IdList,
    create_date: Timestamp,
    last_login: Timestamp,
    login_count: Int,
    scope: Text,
}

/// Deprecated role flags of an agent.
#[derive(JsonSchema)]
pub struct AgentRoles {
    owner: Flag,
    administrator: Flag,
}

/// One status period of an agent (from the agent timeline export).
#[derive(JsonSchema)]
pub struct AgentTimeline {
    /// `{agent_id}|{start_time}` with the microseconds the API sent; the primary key.
    id: Text,
    agent_id: Id,
    /// When the status period started (microsecond precision); the incremental cursor.
    start_time: Timestamp,
    /// `online`, `away`, `invisible` or `offline`.
    status: Text,
    /// Seconds spent in the status.
    duration: Number,
    /// Chats the agent served in the period.
    engagement_count: Int,
}

/// A ban of an IP address or a visitor.
#[derive(JsonSchema)]
pub struct Ban {
    /// Ban id; the primary key and the incremental cursor.
    id: Id,
    /// `ip_address` or `visitor`.
    #[schemars(rename = "type")]
    kind: Text,
    ip_address: Text,
    visitor_id: Text,
    visitor_name: Text,
    reason: Text,
    /// When the ban was created; null for old bans.
    created_at: Timestamp,
}

/// A department.
#[derive(JsonSchema)]
pub struct Department {
    id: Id,
    name: Text,
    description: Text,
    enabled: Flag,
    /// Agent ids.
    members: IdList,
    settings: Option<Json>,
}

/// A goal.
#[derive(JsonSchema)]
pub struct Goal {
    id: Id,
    name: Text,
    description: Text,
    enabled: Flag,
    /// `first_touch` or `last_touch`.
    attribution_model: Text,
    /// Days (1-30).
    attribution_period: Int,
    settings: Option<Json>,
}

/// A role.
#[derive(JsonSchema)]
pub struct Role {
    id: Id,
    name: Text,
    description: Text,
    enabled: Flag,
    members_count: Int,
    permissions: Option<Json>,
}

/// Account routing settings.
#[derive(JsonSchema)]
pub struct RoutingSettings {
    /// `broadcast`, `assigned` or `hybrid`.
    routing_mode: Text,
    chat_limit: Option<Json>,
    skill_routing: Option<Json>,
    reassignment: Option<Json>,
    auto_idle: Option<Json>,
    auto_accept: Option<Json>,
}

/// A shortcut (canned response).
#[derive(JsonSchema)]
pub struct Shortcut {
    /// Shortcut id (equals its name).
    id: StrId,
    name: Text,
    message: Text,
    /// Choices separated by `/`.
    options: Text,
    /// `all`, `agent` or `department`.
    scope: Text,
    tags: TextList,
    agents: IdList,
    departments: IdList,
}

/// A skill.
#[derive(JsonSchema)]
pub struct Skill {
    id: Id,
    name: Text,
    description: Text,
    enabled: Flag,
    members: IdList,
}

/// A trigger.
#[derive(JsonSchema)]
pub struct Trigger {
    id: Id,
    name: Text,
    description: Text,
    enabled: Flag,
    /// Event, condition and actions; condition and actions are nested lists of mixed types.
    definition: Option<Json>,
}

/// A chat or offline message, from the incremental chat export.
#[derive(JsonSchema)]
pub struct Chat {
    /// Chat id; the primary key.
    id: StrId,
    /// `chat` or `offline_msg`.
    #[schemars(rename = "type")]
    kind: Text,
    /// When the chat was last changed; the incremental cursor.
    update_timestamp: Timestamp,
    /// When the chat started (first visitor message).
    timestamp: Timestamp,
    /// When the chat ended.
    end_timestamp: Timestamp,
    /// `visitor`, `agent` or `trigger`.
    started_by: Text,
    /// Seconds from the first to the last message.
    duration: Number,
    missed: Flag,
    /// Whether the chat is unread (boolean, or 0/1).
    unread: Flag,
    /// Whether the chat was deleted.
    deleted: Flag,
    triggered: Flag,
    triggered_response: Flag,
    /// `good`, `bad` or null.
    rating: Text,
    comment: Text,
    tags: TextList,
    department_id: Id,
    department_name: Text,
    /// Agent ids (strings).
    agent_ids: IdList,
    agent_names: TextList,
    zendesk_ticket_id: Id,
    referrer_search_engine: Text,
    referrer_search_terms: Text,
    /// The offline message text.
    message: Text,
    response_time: Option<ResponseTime>,
    count: Option<MessageCount>,
    visitor: Option<Visitor>,
    session: Option<Session>,
    /// Pages the visitor viewed (also the chat_webpath stream).
    webpath: Option<Vec<Json>>,
    /// Events of the chat (also the chat_history stream).
    history: Option<Vec<Json>>,
    /// Agent engagements (also the chat_engagements stream).
    engagements: Option<Vec<Json>>,
    /// Goal conversions, the last 20 (also the chat_conversions stream).
    conversions: Option<Vec<Json>>,
}

/// Agent response times in seconds.
#[derive(JsonSchema)]
pub struct ResponseTime {
    first: Number,
    avg: Number,
    max: Number,
}

/// Message counts.
#[derive(JsonSchema)]
pub struct MessageCount {
    total: Int,
    agent: Int,
    visitor: Int,
}

/// The visitor of a chat.
#[derive(JsonSchema)]
pub struct Visitor {
    id: StrId,
    name: Text,
    email: Text,
    phone: Text,
    notes: Text,
}

/// The visitor's browsing session.
#[derive(JsonSchema)]
pub struct Session {
    id: StrId,
    start_date: Timestamp,
    end_date: Timestamp,
    ip: Text,
    city: Text,
    region: Text,
    country_code: Text,
    country_name: Text,
    browser: Text,
    platform: Text,
    user_agent: Text,
}

/// One event of a chat's history.
#[derive(JsonSchema)]
pub struct ChatHistory {
    /// The chat the event belongs to.
    chat_id: StrId,
    /// Index of the event in the chat's history (0-based); with chat_id, the primary key.
    position: Int,
    /// The chat's update_timestamp when this row was read; the incremental cursor.
    update_timestamp: Timestamp,
    /// Event type: chat.msg, chat.memberjoin, chat.memberleave, chat.tag, chat.comment, chat.rating, ...
    #[schemars(rename = "type")]
    kind: Text,
    /// Display name of the sender.
    name: Text,
    /// Sender nick, e.g. `visitor` or `agent:{id}`.
    nick: Text,
    /// `Visitor`, `Agent`, `Trigger` or `System`.
    sender_type: Text,
    /// Id of the sending agent.
    agent_id: Id,
    /// Id of the sending trigger.
    trigger_id: Id,
    /// Why a member left or a transfer happened.
    reason: Text,
    /// When the event happened (microseconds).
    timestamp: Timestamp,
    channel: Text,
    /// Message text.
    msg: Text,
    /// Client-side message id (string or integer).
    msg_id: Id,
    /// Shortcut choices separated by `/`.
    options: Text,
    department_id: Id,
    department_name: Text,
    prev_department_id: Id,
    tags: TextList,
    new_tags: TextList,
    rating: Text,
    new_rating: Text,
    comment: Text,
    new_comment: Text,
    skills_name: TextList,
    conversion: Option<Json>,
}

/// One page view of a chat's visitor.
#[derive(JsonSchema)]
pub struct ChatWebpath {
    /// The chat the page view belongs to.
    chat_id: StrId,
    /// Index in the chat's webpath (0-based); with chat_id, the primary key.
    position: Int,
    /// The chat's update_timestamp when this row was read; the incremental cursor.
    update_timestamp: Timestamp,
    /// Referrer of the page view.
    from: Text,
    /// URL of the page.
    to: Text,
    title: Text,
    timestamp: Timestamp,
    /// The raw element when the API sent it as an array instead of an object.
    value: Option<Vec<Json>>,
}

/// One agent engagement of a chat.
#[derive(JsonSchema)]
pub struct ChatEngagement {
    /// The chat the engagement belongs to.
    chat_id: StrId,
    /// Index in the chat's engagements (0-based); with chat_id, the primary key.
    position: Int,
    /// The chat's update_timestamp when this row was read; the incremental cursor.
    update_timestamp: Timestamp,
    id: StrId,
    agent_id: Id,
    agent_name: Text,
    agent_full_name: Text,
    department_id: Id,
    assigned: Flag,
    accepted: Flag,
    started_by: Text,
    rating: Text,
    comment: Text,
    skills_requested: IdList,
    skills_fulfilled: Flag,
    timestamp: Timestamp,
    /// Seconds.
    duration: Number,
    response_time: Option<ResponseTime>,
    count: Option<MessageCount>,
}

/// One goal conversion of a chat.
#[derive(JsonSchema)]
pub struct ChatConversion {
    /// The chat the conversion belongs to.
    chat_id: StrId,
    /// Index in the chat's conversions (0-based); with chat_id, the primary key.
    position: Int,
    /// The chat's update_timestamp when this row was read; the incremental cursor.
    update_timestamp: Timestamp,
    id: StrId,
    goal_id: Id,
    goal_name: Text,
    timestamp: Timestamp,
    attribution: Option<Json>,
}
