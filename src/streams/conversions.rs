//! The `conversions` stream: goal conversions from the incremental conversions export
//! (`incremental/conversions`), incremental by `timestamp`, with the live-edge rules of
//! [`crate::paging::export`].

use schemars::JsonSchema;

use crate::records::types::{Int, Str, Timestamp};

/// A goal conversion.
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct Conversion {
    /// Conversion id; the primary key.
    id: Str,
    /// When the goal was reached; the incremental cursor.
    timestamp: Timestamp,
    goal_id: Int,
    goal_name: Str,
    /// Who and what the conversion is attributed to.
    attribution: Option<Attribution>,
}

/// What a conversion is attributed to.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct Attribution {
    agent_id: Int,
    department_id: Int,
    chat_id: Str,
    chat_timestamp: Timestamp,
}

super::declare::export_stream!("conversions", "incremental/conversions", "conversions", Conversion);
