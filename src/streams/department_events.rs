//! The `department_events` stream: changes of departments (e.g. a chat transferred), from the
//! incremental department events export (`incremental/department_events`), incremental by
//! `timestamp`, with the live-edge rules of [`crate::paging::export`].

use schemars::JsonSchema;

use crate::records::types::{Int, Str, Timestamp};

/// One change of a department.
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct DepartmentEvent {
    /// Event id; the primary key.
    id: Str,
    department_id: Int,
    /// When it happened; the incremental cursor.
    timestamp: Timestamp,
    /// What changed.
    field_name: Str,
    /// The new value (ids as text).
    value: Str,
    /// The value before.
    previous_value: Str,
}

super::declare::export_stream!("department_events", "incremental/department_events", "department_events", DepartmentEvent);
