//! Record types of the chats family: `chats` and its child streams, whose rows are the
//! elements of a chat's arrays with the chat's key in front. Types follow the certified
//! connector's `chats` schema.

#![allow(dead_code)] // fields are read by schemars only

use schemars::JsonSchema;

use crate::records::types::{Bool, Int, IntList, Json, Num, Str, StrList, Timestamp};

/// A chat or offline message, from the incremental chat export.
#[derive(JsonSchema)]
pub struct Chat {
    /// Chat id; the primary key.
    id: Str,
    /// `chat` or `offline_msg`.
    #[schemars(rename = "type")]
    kind: Str,
    /// When the chat was last changed; the incremental cursor.
    update_timestamp: Timestamp,
    /// When the chat started (first visitor message).
    timestamp: Timestamp,
    /// When the chat ended.
    end_timestamp: Timestamp,
    /// `visitor`, `agent` or `trigger`.
    started_by: Str,
    /// Seconds from the first to the last message.
    duration: Int,
    missed: Bool,
    unread: Bool,
    /// Whether the chat was deleted.
    deleted: Bool,
    triggered: Bool,
    triggered_response: Bool,
    /// `good`, `bad` or null.
    rating: Str,
    comment: Str,
    tags: StrList,
    department_id: Int,
    department_name: Str,
    /// Agent ids (strings).
    agent_ids: StrList,
    agent_names: StrList,
    zendesk_ticket_id: Int,
    referrer_search_engine: Str,
    referrer_search_terms: Str,
    /// The offline message text.
    message: Str,
    response_time: Option<ResponseTime>,
    count: Option<MessageCount>,
    visitor: Option<Visitor>,
    session: Option<Session>,
    /// Pages the visitor viewed (also the chat_webpath stream).
    webpath: Option<Vec<WebpathItem>>,
    /// Events of the chat (also the chat_history stream).
    history: Option<Vec<HistoryItem>>,
    /// Agent engagements (also the chat_engagements stream).
    engagements: Option<Vec<Engagement>>,
    /// Goal conversions, the last 20 (also the chat_conversions stream).
    conversions: Option<Vec<Conversion>>,
}

/// Agent response times in seconds.
#[derive(JsonSchema)]
pub struct ResponseTime {
    first: Int,
    avg: Num,
    max: Int,
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
    id: Str,
    name: Str,
    email: Str,
    phone: Str,
    notes: Str,
}

/// The visitor's browsing session.
#[derive(JsonSchema)]
pub struct Session {
    id: Str,
    start_date: Timestamp,
    end_date: Timestamp,
    /// As sent; not always a valid address.
    ip: Str,
    city: Str,
    region: Str,
    country_code: Str,
    country_name: Str,
    browser: Str,
    platform: Str,
    user_agent: Str,
}

/// One page view.
#[derive(JsonSchema)]
pub struct WebpathItem {
    /// Referrer of the page view.
    from: Str,
    /// URL of the page.
    to: Str,
    title: Str,
    timestamp: Timestamp,
    /// The element when the API sent it as an array instead of an object.
    value: Option<Vec<Json>>,
}

/// One event of a chat's history.
#[derive(JsonSchema)]
pub struct HistoryItem {
    /// Event type: chat.msg, chat.memberjoin, chat.memberleave, chat.tag, chat.comment, chat.rating, ...
    #[schemars(rename = "type")]
    kind: Str,
    /// Display name of the sender.
    name: Str,
    /// Sender nick, e.g. `visitor` or `agent:{id}`.
    nick: Str,
    /// `Visitor`, `Agent`, `Trigger` or `System`.
    sender_type: Str,
    /// Id of the sending agent (a string, as in `agent_ids`).
    agent_id: Str,
    /// Id of the sending trigger.
    trigger_id: Int,
    /// Why a member left or a transfer happened.
    reason: Str,
    /// When the event happened (microseconds).
    timestamp: Timestamp,
    channel: Str,
    /// Message text.
    msg: Str,
    /// Client-side message id; sent as a string or an integer, so a string.
    msg_id: Str,
    /// Shortcut choices separated by `/`.
    options: Str,
    /// Sent as an integer or a string, so a string.
    department_id: Str,
    department_name: Str,
    /// Sent as an integer or a string, so a string.
    prev_department_id: Str,
    tags: StrList,
    new_tags: StrList,
    rating: Str,
    new_rating: Str,
    comment: Str,
    new_comment: Str,
    skills_name: StrList,
    conversion: Option<Conversion>,
}

/// One goal conversion.
#[derive(JsonSchema)]
pub struct Conversion {
    id: Str,
    goal_id: Int,
    goal_name: Str,
    timestamp: Timestamp,
    attribution: Option<Attribution>,
}

/// What a conversion is attributed to.
#[derive(JsonSchema)]
pub struct Attribution {
    agent_id: Int,
    agent_name: Str,
    chat_timestamp: Timestamp,
    department_id: Int,
    department_name: Str,
}

/// One agent engagement.
#[derive(JsonSchema)]
pub struct Engagement {
    id: Str,
    /// The agent's id as a string, as in `agent_ids`.
    agent_id: Str,
    agent_name: Str,
    agent_full_name: Str,
    department_id: Int,
    assigned: Bool,
    accepted: Bool,
    started_by: Str,
    rating: Str,
    comment: Str,
    skills_requested: IntList,
    skills_fulfilled: Bool,
    timestamp: Timestamp,
    /// Seconds.
    duration: Num,
    response_time: Option<ResponseTime>,
    count: Option<MessageCount>,
}

/// The key of a child row: the chat, the element's index, and the chat's update time.
#[derive(JsonSchema)]
pub struct ChildKey {
    /// The chat the row belongs to.
    chat_id: Str,
    /// Index of the element in the chat's array (0-based); with chat_id, the primary key.
    position: Int,
    /// The chat's update_timestamp when this row was read; the incremental cursor.
    update_timestamp: Timestamp,
}

/// One event of a chat's history.
#[derive(JsonSchema)]
pub struct ChatHistory {
    #[schemars(flatten)]
    key: ChildKey,
    #[schemars(flatten)]
    item: HistoryItem,
}

/// One page view of a chat's visitor.
#[derive(JsonSchema)]
pub struct ChatWebpath {
    #[schemars(flatten)]
    key: ChildKey,
    #[schemars(flatten)]
    item: WebpathItem,
}

/// One agent engagement of a chat.
#[derive(JsonSchema)]
pub struct ChatEngagement {
    #[schemars(flatten)]
    key: ChildKey,
    #[schemars(flatten)]
    item: Engagement,
}

/// One goal conversion of a chat.
#[derive(JsonSchema)]
pub struct ChatConversion {
    #[schemars(flatten)]
    key: ChildKey,
    #[schemars(flatten)]
    item: Conversion,
}
