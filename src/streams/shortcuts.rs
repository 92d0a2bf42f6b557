//! The `shortcuts` stream: canned responses, one request to `shortcuts`.

use schemars::JsonSchema;
use crate::records::types::{IntList, Str, StrList};

/// A shortcut (canned response).
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
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

super::declare::one_request_stream!("shortcuts", "shortcuts", Shortcut, &["id"], Array, false);
