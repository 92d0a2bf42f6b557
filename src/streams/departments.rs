//! The `departments` stream: the account's departments, one request to `departments`.

use schemars::JsonSchema;
use crate::records::types::{Bool, Int, IntList, JsonObject, Str};

/// A department.
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct Department {
    id: Int,
    name: Str,
    description: Str,
    enabled: Bool,
    /// Agent ids.
    members: IntList,
    settings: JsonObject,
}

super::declare::one_request_stream!(
    "departments",
    "departments",
    Department,
    &["id"],
    Array,
    false
);
