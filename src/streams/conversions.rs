//! The `conversions` stream: goal conversions from the incremental conversions export
//! (`incremental/conversions`), incremental by `timestamp`, with the live-edge rules of
//! [`super::export`].

use schemars::JsonSchema;

use super::driver::{Ctx, Outcome, Selection};
use super::export::{self, Export};
use super::types::{Int, Str, Timestamp};
use super::{only, Fetch, Resource, StreamInfo};
use crate::error::Error;
use crate::schema::record_schema;

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

static EXPORT: Export = Export {
    path: "incremental/conversions",
    items: "conversions",
};

pub const STREAMS: &[StreamInfo] = &[StreamInfo::incremental(
    "conversions",
    "timestamp",
    &["id"],
    record_schema::<Conversion>,
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
