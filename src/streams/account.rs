//! The `accounts` stream: the Chat account itself, one object from `account`. A 403 there means
//! an account integrated into Zendesk Support, which does not expose it: the stream is skipped.

use schemars::JsonSchema;
use crate::records::types::{Bool, Int, Num, Str, Timestamp};

/// The Chat account.
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
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
#[allow(dead_code)] // read by schemars only
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
#[allow(dead_code)] // read by schemars only
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

super::declare::one_request_stream!(
    "accounts",
    "account",
    Account,
    &["account_key"],
    Object,
    true
);
