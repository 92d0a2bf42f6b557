//! The `triggers` stream: automatic actions, one request to `triggers`.

use schemars::JsonSchema;
use crate::records::types::{Bool, Int, JsonList, Str};

/// A trigger.
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
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
#[allow(dead_code)] // read by schemars only
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

super::declare::one_request_stream!("triggers", "triggers", Trigger, &["id"], Array, false);
