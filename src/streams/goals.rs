//! The `goals` stream: the account's goals, one request to `goals`.

use schemars::JsonSchema;
use crate::records::types::{Bool, Int, Str};

/// A goal.
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
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
#[allow(dead_code)] // read by schemars only
pub struct GoalSettings {
    conditions: Option<Vec<GoalCondition>>,
}

/// One condition of a goal.
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct GoalCondition {
    operator: Str,
    #[schemars(rename = "type")]
    kind: Str,
    value: Str,
}

super::declare::one_request_stream!("goals", "goals", Goal, &["id"], Array, false);
