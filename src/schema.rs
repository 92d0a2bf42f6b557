//! JSON Schema generation: one place that turns Rust types into the draft-07 schemas Airbyte
//! expects (inlined, no `$ref`, integer formats stripped, records open to new fields).

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema};
use serde_json::Value;

const DRAFT_07: &str = "http://json-schema.org/draft-07/schema#";

fn strip_integer_formats(schema: &mut Schema) {
    let is_int_format = schema
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| f.starts_with("int") || f.starts_with("uint"));
    if is_int_format {
        let unsigned = schema
            .get("format")
            .and_then(Value::as_str)
            .is_some_and(|f| f.starts_with("uint"));
        schema.remove("format");
        if unsigned && schema.get("minimum").and_then(Value::as_u64) == Some(0) {
            schema.remove("minimum");
        }
    }
}

/// Doc comments wrap lines; descriptions are shown as one paragraph.
fn join_description_lines(schema: &mut Schema) {
    if let Some(Value::String(d)) = schema.get_mut("description") {
        if d.contains('\n') {
            *d = d.split_whitespace().collect::<Vec<_>>().join(" ");
        }
    }
}

/// In a spec an optional field is simply not required; `["string", "null"]` becomes `"string"`.
fn drop_null_from_type(schema: &mut Schema) {
    if let Some(Value::Array(types)) = schema.get("type") {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        if kept.len() == 1 {
            let only = kept.into_iter().next().unwrap_or(Value::Null);
            schema.insert("type".into(), only);
        }
    }
}

fn generate<T: JsonSchema>(record: bool) -> Value {
    let settings = SchemaSettings::draft07()
        .with(|s| s.inline_subschemas = true)
        .with_transform(RecursiveTransform(move |schema: &mut Schema| {
            strip_integer_formats(schema);
            join_description_lines(schema);
            if !record {
                drop_null_from_type(schema);
            }
            if record {
                schema.remove("required");
                let is_object = match schema.get("type") {
                    Some(Value::String(t)) => t == "object",
                    Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
                    _ => false,
                };
                if is_object && schema.get("additionalProperties").is_none() {
                    schema.insert("additionalProperties".into(), Value::Bool(true));
                }
            }
        }));
    let mut value = settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    if let Value::Object(map) = &mut value {
        map.insert("$schema".into(), Value::String(DRAFT_07.into()));
        map.remove("definitions");
    }
    value
}

/// The schema of a configuration type (the `connectionSpecification`).
pub fn spec_schema<T: JsonSchema>() -> Value {
    generate::<T>(false)
}

/// The schema of a record type: nothing required and every object open to fields Zendesk adds
/// later, so a new API field is passed through instead of breaking the sync.
pub fn record_schema<T: JsonSchema>() -> Value {
    generate::<T>(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Inner {
        n: u64,
    }

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Rec {
        /// The id.
        id: i64,
        inner: Option<Inner>,
        list: Vec<Inner>,
    }

    #[test]
    fn record_schema_is_inlined_draft07_and_open() {
        let s = record_schema::<Rec>();
        assert_eq!(s["$schema"], DRAFT_07);
        assert_eq!(s["additionalProperties"], true);
        assert_eq!(
            s["properties"]["id"],
            serde_json::json!({"type": "integer", "description": "The id."})
        );
        assert_eq!(s["properties"]["inner"]["additionalProperties"], true);
        assert!(s.get("required").is_none());
        assert!(!s.to_string().contains("$ref"));
        assert!(!s.to_string().contains("int64"));
    }
}
