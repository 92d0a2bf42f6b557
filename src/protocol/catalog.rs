//! Catalog types: what `discover` announces and what `read` is asked to sync.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a stream is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    FullRefresh,
    Incremental,
}

/// How the destination writes a stream (the source only passes it through).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationSyncMode {
    Append,
    Overwrite,
    AppendDedup,
    Update,
    SoftDelete,
}

/// One stream as announced by `discover`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AirbyteStream {
    pub name: String,
    pub json_schema: Value,
    pub supported_sync_modes: Vec<SyncMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_defined_cursor: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_cursor_field: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_defined_primary_key: Option<Vec<Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_resumable: Option<bool>,
}

/// The `discover` output.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AirbyteCatalog {
    pub streams: Vec<AirbyteStream>,
}

/// One stream the platform asks `read` to sync. Every optional field tolerates explicit `null`
/// (the Airbyte CDK writes catalogs with `dataclasses.asdict`) and unknown fields are ignored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfiguredAirbyteStream {
    pub stream: ConfiguredStreamRef,
    pub sync_mode: SyncMode,
    #[serde(default)]
    pub destination_sync_mode: Option<DestinationSyncMode>,
    #[serde(default)]
    pub cursor_field: Option<Vec<String>>,
    #[serde(default)]
    pub primary_key: Option<Vec<Vec<String>>>,
}

/// The part of a configured stream's `stream` object a source needs: its name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfiguredStreamRef {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

/// The `--catalog` file of `read`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfiguredAirbyteCatalog {
    pub streams: Vec<ConfiguredAirbyteStream>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_catalog_accepts_explicit_nulls_and_unknown_fields() {
        let text = r#"{"streams":[{"stream":{"name":"chats","json_schema":{},"supported_sync_modes":["incremental"],
            "namespace":null,"is_resumable":null},"sync_mode":"incremental","cursor_field":null,
            "destination_sync_mode":"append_dedup","primary_key":null,"generation_id":3,"sync_id":7}]}"#;
        let catalog: ConfiguredAirbyteCatalog = serde_json::from_str(text).unwrap();
        assert_eq!(catalog.streams[0].stream.name, "chats");
        assert_eq!(catalog.streams[0].sync_mode, SyncMode::Incremental);
    }

    proptest::proptest! {
        #[test]
        fn catalog_parsing_never_panics(text in ".{0,300}") {
            let _ = serde_json::from_str::<ConfiguredAirbyteCatalog>(&text);
        }

        #[test]
        fn catalog_parsing_never_panics_on_json_shaped_input(
            name in "[a-z_]{0,12}", mode in "(full_refresh|incremental|INVALID|)", extra in proptest::option::of(0i64..5)
        ) {
            let text = format!(r#"{{"streams":[{{"stream":{{"name":"{name}"}},"sync_mode":"{mode}","x":{}}}]}}"#, extra.map_or("null".to_string(), |v| v.to_string()));
            let parsed = serde_json::from_str::<ConfiguredAirbyteCatalog>(&text);
            proptest::prop_assert_eq!(parsed.is_ok(), mode == "full_refresh" || mode == "incremental");
        }
    }

    #[test]
    fn unknown_sync_mode_is_rejected() {
        let text = r#"{"streams":[{"stream":{"name":"x"},"sync_mode":"INVALID","destination_sync_mode":"append"}]}"#;
        assert!(serde_json::from_str::<ConfiguredAirbyteCatalog>(text).is_err());
    }
}
