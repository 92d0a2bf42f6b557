//! The `AirbyteMessage` envelope and every payload a source emits, with the exact wire names.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::catalog::AirbyteCatalog;
use super::state::AirbyteStateMessage;

/// One line of connector output: `{"type": "...", "<payload>": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AirbyteMessage {
    Record {
        record: AirbyteRecordMessage,
    },
    State {
        state: AirbyteStateMessage,
    },
    Log {
        log: AirbyteLogMessage,
    },
    Spec {
        spec: ConnectorSpecification,
    },
    ConnectionStatus {
        #[serde(rename = "connectionStatus")]
        connection_status: AirbyteConnectionStatus,
    },
    Catalog {
        catalog: AirbyteCatalog,
    },
    Trace {
        trace: AirbyteTraceMessage,
    },
    Control {
        control: AirbyteControlMessage,
    },
}

/// A record. `data` is kept as raw JSON so API objects pass through byte for byte.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AirbyteRecordMessage {
    pub stream: String,
    pub data: Box<RawValue>,
    pub emitted_at: i64,
    /// What the source changed in `data` (fields nulled because they did not fit their type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<AirbyteRecordMessageMeta>,
}

/// `record.meta`: Airbyte destinations copy it into `_airbyte_meta`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AirbyteRecordMessageMeta {
    pub changes: Vec<AirbyteRecordMessageMetaChange>,
}

/// One change the source made to a record's field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AirbyteRecordMessageMetaChange {
    /// The field's path, e.g. `session.start_date` or `history.3.timestamp`.
    pub field: String,
    pub change: FieldChange,
    pub reason: ChangeReason,
}

impl AirbyteRecordMessageMetaChange {
    /// A field set to null because its value could not be read as the declared type.
    pub fn nulled(field: &str) -> Self {
        Self {
            field: field.to_owned(),
            change: FieldChange::Nulled,
            reason: ChangeReason::SourceSerializationError,
        }
    }
}

/// What happened to a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FieldChange {
    Nulled,
    Truncated,
}

/// Why a field changed (the subset a source reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeReason {
    SourceRecordSizeLimitation,
    SourceFieldSizeLimitation,
    SourceSerializationError,
    SourceRetrievalError,
}

/// The borrowed twin of [`AirbyteRecordMessage`], used on the hot path.
#[derive(Serialize)]
pub struct RecordRef<'a> {
    pub stream: &'a str,
    pub data: &'a RawValue,
    pub emitted_at: i64,
}

/// Log levels of LOG messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LogLevel {
    Fatal,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// A LOG message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AirbyteLogMessage {
    pub level: LogLevel,
    pub message: String,
}

/// The `spec` output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectorSpecification {
    #[serde(rename = "documentationUrl")]
    pub documentation_url: String,
    #[serde(rename = "changelogUrl", skip_serializing_if = "Option::is_none")]
    pub changelog_url: Option<String>,
    #[serde(rename = "connectionSpecification")]
    pub connection_specification: Value,
    #[serde(rename = "supportsIncremental")]
    pub supports_incremental: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced_auth: Option<Value>,
}

/// Result of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConnectionStatus {
    Succeeded,
    Failed,
}

/// The CONNECTION_STATUS payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AirbyteConnectionStatus {
    pub status: ConnectionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Names one stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StreamDescriptor {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl StreamDescriptor {
    /// A descriptor without namespace (API sources have none).
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            namespace: None,
        }
    }
}

/// Who has to act on an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureType {
    /// The user must change the configuration (credentials, subdomain, start date, catalog).
    ConfigError,
    /// Worth retrying later (server errors, timeouts, exhausted rate limit).
    TransientError,
    /// A bug or an unexpected condition.
    SystemError,
}

/// The ERROR payload of a TRACE message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AirbyteErrorTraceMessage {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_trace: Option<String>,
    pub failure_type: FailureType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_descriptor: Option<StreamDescriptor>,
}

/// Stream lifecycle states reported in STREAM_STATUS traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AirbyteStreamStatus {
    Started,
    Running,
    Complete,
    Incomplete,
}

/// The STREAM_STATUS payload of a TRACE message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AirbyteStreamStatusTraceMessage {
    pub stream_descriptor: StreamDescriptor,
    pub status: AirbyteStreamStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<AirbyteStreamStatusReason>>,
}

/// Why a stream has its status (protocol 0.11+); the platform shows a RATE_LIMITED stream as
/// rate limited, with when its quota resets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AirbyteStreamStatusReason {
    #[serde(rename = "type")]
    pub kind: StreamStatusReasonType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limited: Option<AirbyteStreamStatusRateLimitedReason>,
}

impl AirbyteStreamStatusReason {
    /// Rate limited until `quota_reset` (epoch milliseconds).
    pub fn rate_limited(quota_reset: i64) -> Self {
        Self {
            kind: StreamStatusReasonType::RateLimited,
            rate_limited: Some(AirbyteStreamStatusRateLimitedReason {
                quota_reset: Some(quota_reset),
            }),
        }
    }
}

/// Kinds of stream status reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StreamStatusReasonType {
    RateLimited,
}

/// The details of a RATE_LIMITED reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AirbyteStreamStatusRateLimitedReason {
    /// When the quota resets, in epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_reset: Option<i64>,
}

/// The ESTIMATE payload of a TRACE message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AirbyteEstimateTraceMessage {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_estimate: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte_estimate: Option<u64>,
}

/// A TRACE message: exactly one of `error`, `stream_status`, `estimate` is set, per `type`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AirbyteTraceMessage {
    #[serde(rename = "type")]
    pub kind: TraceType,
    pub emitted_at: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<AirbyteErrorTraceMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_status: Option<AirbyteStreamStatusTraceMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<AirbyteEstimateTraceMessage>,
}

/// Kinds of TRACE message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TraceType {
    Error,
    Estimate,
    StreamStatus,
    Analytics,
}

/// A CONTROL message; the only kind is CONNECTOR_CONFIG, which hands an updated config (rotated
/// OAuth tokens) back to the platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AirbyteControlMessage {
    #[serde(rename = "type")]
    pub kind: String,
    pub emitted_at: f64,
    #[serde(rename = "connectorConfig")]
    pub connector_config: ConnectorConfig,
}

/// The payload of a CONNECTOR_CONFIG control message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectorConfig {
    pub config: Value,
}

impl AirbyteMessage {
    /// A TRACE ERROR message.
    pub fn error(error: AirbyteErrorTraceMessage) -> Self {
        AirbyteMessage::Trace {
            trace: AirbyteTraceMessage {
                kind: TraceType::Error,
                emitted_at: super::now_millis() as f64,
                error: Some(error),
                stream_status: None,
                estimate: None,
            },
        }
    }

    /// A TRACE STREAM_STATUS message.
    pub fn stream_status(
        stream: &str,
        status: AirbyteStreamStatus,
        reasons: Option<Vec<AirbyteStreamStatusReason>>,
    ) -> Self {
        AirbyteMessage::Trace {
            trace: AirbyteTraceMessage {
                kind: TraceType::StreamStatus,
                emitted_at: super::now_millis() as f64,
                error: None,
                stream_status: Some(AirbyteStreamStatusTraceMessage {
                    stream_descriptor: StreamDescriptor::new(stream),
                    status,
                    reasons,
                }),
                estimate: None,
            },
        }
    }

    /// A TRACE ESTIMATE message: how many rows (and bytes) a stream is expected to emit in all.
    pub fn estimate(stream: &str, rows: u64, bytes: u64) -> Self {
        AirbyteMessage::Trace {
            trace: AirbyteTraceMessage {
                kind: TraceType::Estimate,
                emitted_at: super::now_millis() as f64,
                error: None,
                stream_status: None,
                estimate: Some(AirbyteEstimateTraceMessage {
                    name: stream.to_owned(),
                    kind: "STREAM".to_owned(),
                    row_estimate: Some(rows),
                    byte_estimate: (bytes > 0).then_some(bytes),
                }),
            },
        }
    }

    /// A LOG message.
    pub fn log(level: LogLevel, message: impl Into<String>) -> Self {
        AirbyteMessage::Log {
            log: AirbyteLogMessage {
                level,
                message: message.into(),
            },
        }
    }

    /// A CONTROL CONNECTOR_CONFIG message carrying the whole updated config.
    pub fn connector_config(config: Value) -> Self {
        AirbyteMessage::Control {
            control: AirbyteControlMessage {
                kind: "CONNECTOR_CONFIG".to_owned(),
                emitted_at: super::now_millis() as f64,
                connector_config: ConnectorConfig { config },
            },
        }
    }

    /// The CONNECTION_STATUS message of `check`.
    pub fn connection_status(status: ConnectionStatus, message: Option<String>) -> Self {
        AirbyteMessage::ConnectionStatus {
            connection_status: AirbyteConnectionStatus { status, message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_exact() {
        let msg = AirbyteMessage::connection_status(ConnectionStatus::Succeeded, None);
        assert_eq!(
            serde_json::to_string(&msg).unwrap(),
            r#"{"type":"CONNECTION_STATUS","connectionStatus":{"status":"SUCCEEDED"}}"#
        );
        let log = AirbyteMessage::log(LogLevel::Warn, "x");
        assert_eq!(
            serde_json::to_string(&log).unwrap(),
            r#"{"type":"LOG","log":{"level":"WARN","message":"x"}}"#
        );
    }

    #[test]
    fn record_ref_matches_owned_record() {
        let data = RawValue::from_string(r#"{"id":1}"#.to_owned()).unwrap();
        let borrowed = serde_json::to_string(&RecordRef {
            stream: "s",
            data: &data,
            emitted_at: 5,
        })
        .unwrap();
        let owned = serde_json::to_string(&AirbyteMessage::Record {
            record: AirbyteRecordMessage {
                stream: "s".into(),
                data: data.clone(),
                emitted_at: 5,
                meta: None,
            },
        })
        .unwrap();
        assert_eq!(format!(r#"{{"type":"RECORD","record":{borrowed}}}"#), owned);
    }

    #[test]
    fn meta_change_wire_names() {
        let meta = AirbyteRecordMessageMeta {
            changes: vec![AirbyteRecordMessageMetaChange::nulled("session.start_date")],
        };
        assert_eq!(
            serde_json::to_string(&meta).unwrap(),
            r#"{"changes":[{"field":"session.start_date","change":"NULLED","reason":"SOURCE_SERIALIZATION_ERROR"}]}"#
        );
    }

    #[test]
    fn error_trace_has_failure_type_and_stream() {
        let msg = AirbyteMessage::error(AirbyteErrorTraceMessage {
            message: "m".into(),
            internal_message: None,
            stack_trace: None,
            failure_type: FailureType::ConfigError,
            stream_descriptor: Some(StreamDescriptor::new("chats")),
        });
        let v: Value = serde_json::to_value(&msg).unwrap();
        assert_eq!(v["type"], "TRACE");
        assert_eq!(v["trace"]["type"], "ERROR");
        assert_eq!(v["trace"]["error"]["failure_type"], "config_error");
        assert_eq!(v["trace"]["error"]["stream_descriptor"]["name"], "chats");
    }

    #[test]
    fn rate_limited_status_wire_names() {
        let msg = AirbyteMessage::stream_status(
            "chats",
            AirbyteStreamStatus::Running,
            Some(vec![AirbyteStreamStatusReason::rate_limited(
                1_700_000_000_123,
            )]),
        );
        let v: Value = serde_json::to_value(&msg).unwrap();
        assert_eq!(
            v["trace"]["stream_status"],
            serde_json::json!({"stream_descriptor": {"name": "chats"}, "status": "RUNNING",
                "reasons": [{"type": "RATE_LIMITED", "rate_limited": {"quota_reset": 1_700_000_000_123i64}}]})
        );
    }
}
