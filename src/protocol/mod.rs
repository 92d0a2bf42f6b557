//! Airbyte protocol: the messages a source writes to stdout and the files it reads (catalog, state).
//!
//! Names follow the Airbyte protocol (v0.5.x, `airbyte_protocol.yaml`). This module does no network
//! I/O; [`output::Output`] is the single owner of stdout.

pub mod catalog;
pub mod messages;
pub mod output;
pub mod state;

pub use catalog::{
    AirbyteCatalog, AirbyteStream, ConfiguredAirbyteCatalog, ConfiguredAirbyteStream,
    DestinationSyncMode, SyncMode,
};
pub use messages::{
    AirbyteConnectionStatus, AirbyteControlMessage, AirbyteErrorTraceMessage, AirbyteLogMessage,
    AirbyteMessage, AirbyteStreamStatus, AirbyteTraceMessage, ConnectionStatus,
    ConnectorSpecification, FailureType, LogLevel, StreamDescriptor,
};
pub use output::Output;
pub use state::{AirbyteStateMessage, InputState};

/// Milliseconds since the Unix epoch, the unit of `emitted_at`.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
