//! Column types of the record schemas: each has exactly one JSON type (plus null), the type the
//! certified connector declares for the column. The normalizers in [`super::normalize`] are
//! compiled from the schemas these produce.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

macro_rules! schema_type {
    ($(#[$doc:meta])* $name:ident, $schema:tt) => {
        $(#[$doc])*
        pub struct $name;
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
            fn inline_schema() -> bool {
                true
            }
        }
    };
}

schema_type!(
    /// An integer (ids of agents, departments, skills, ...; counts). Numeric strings and
    /// integral floats are converted.
    Int,
    {"type": ["integer", "null"]}
);
schema_type!(
    /// A string. Numbers and booleans are converted to their JSON text.
    Str,
    {"type": ["string", "null"]}
);
schema_type!(
    /// A boolean; 0/1, "0"/"1" and "true"/"false" are converted.
    Bool,
    {"type": ["boolean", "null"]}
);
schema_type!(
    /// A number (seconds, prices); numeric strings are converted.
    Num,
    {"type": ["number", "null"]}
);
schema_type!(
    /// A date-time, RFC 3339 in UTC: 2017-04-24T04:36:45Z or 2017-04-24T04:36:44.807000Z.
    /// Offsets, a stray Z after an offset, and epoch numbers are converted.
    Timestamp,
    {"type": ["string", "null"], "format": "date-time", "airbyte_type": "timestamp_with_timezone"}
);
schema_type!(
    /// Any JSON value, kept as sent.
    Json,
    {}
);
schema_type!(
    /// A JSON object whose keys are kept as sent.
    JsonObject,
    {"type": ["object", "null"], "additionalProperties": true}
);
schema_type!(
    /// A list of integers.
    IntList,
    {"type": ["array", "null"], "items": {"type": ["integer", "null"]}}
);
schema_type!(
    /// A list of strings.
    StrList,
    {"type": ["array", "null"], "items": {"type": ["string", "null"]}}
);
schema_type!(
    /// A list of any JSON values (trigger conditions and actions).
    JsonList,
    {"type": ["array", "null"], "items": {}}
);
