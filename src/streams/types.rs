//! Field types for the API's loose typing: ids that are integers or strings, flags that are
//! booleans or 0/1, timestamps, and free-form JSON. They exist for their schemas: records pass
//! through as the API sent them.

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
    /// An id sent as an integer by some endpoints and as a string by others.
    Id,
    {"type": ["integer", "string", "null"]}
);
schema_type!(
    /// A string id (chats, visitors, sessions, shortcuts).
    StrId,
    {"type": ["string", "null"]}
);
schema_type!(
    /// A flag sent as a boolean, or as 0/1 by older accounts.
    Flag,
    {"type": ["boolean", "integer", "null"]}
);
schema_type!(
    /// An ISO-8601 UTC date-time, e.g. 2017-04-24T04:36:45Z or 2017-04-24T04:36:44.807000Z.
    Timestamp,
    {"type": ["string", "null"], "format": "date-time", "airbyte_type": "timestamp_with_timezone"}
);
schema_type!(
    /// Any JSON value.
    Json,
    {}
);
schema_type!(
    /// A number of seconds or a count, integer or decimal.
    Number,
    {"type": ["number", "null"]}
);
schema_type!(
    /// An integer.
    Int,
    {"type": ["integer", "null"]}
);
schema_type!(
    /// A string.
    Text,
    {"type": ["string", "null"]}
);
schema_type!(
    /// A list of ids, integers or strings.
    IdList,
    {"type": ["array", "null"], "items": {"type": ["integer", "string", "null"]}}
);
schema_type!(
    /// A list of strings.
    TextList,
    {"type": ["array", "null"], "items": {"type": ["string", "null"]}}
);
