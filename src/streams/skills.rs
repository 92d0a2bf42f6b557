//! The `skills` stream: routing skills, one request to `skills`.

use schemars::JsonSchema;
use crate::records::types::{Bool, Int, IntList, Str};

/// A skill.
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct Skill {
    id: Int,
    name: Str,
    description: Str,
    enabled: Bool,
    members: IntList,
}

super::declare::one_request_stream!("skills", "skills", Skill, &["id"], Array, false);
