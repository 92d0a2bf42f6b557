//! The `department_events` stream: changes of departments (e.g. a chat transferred), from the
//! incremental department events export (`incremental/department_events`), incremental by
//! `timestamp`, with the live-edge rules of [`super::export`].

use schemars::JsonSchema;

use super::driver::{Ctx, Outcome, Selection};
use super::export::{self, Export};
use super::types::{Int, Str, Timestamp};
use super::{only, Fetch, Resource, StreamInfo};
use crate::error::Error;
use crate::schema::record_schema;

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

static EXPORT: Export = Export {
    path: "incremental/department_events",
    items: "department_events",
};

pub const STREAMS: &[StreamInfo] = &[StreamInfo::incremental(
    "department_events",
    "timestamp",
    &["id"],
    record_schema::<DepartmentEvent>,
)];

async fn read<F: Fetch>(ctx: Ctx<F>, selections: Vec<Selection>) -> Result<Outcome, Error> {
    export::read(&ctx, only(selections)?, &EXPORT).await
}

pub fn resource<F: Fetch>() -> Resource<F> {
    Resource {
        streams: STREAMS,
        read: |ctx, selections| Box::pin(read(ctx, selections)),
    }
}
