//! The connector's commands: `spec`, `check`, `discover` and `read`, turning files and the
//! command line into calls on the streams and client layers, and every failure into the Airbyte
//! message the platform expects.

mod check;
mod progress;
mod rate_status;
pub mod read;
mod spec;
pub mod writeback;

pub use check::check;
pub use read::read;
pub use spec::{spec, specification};

use crate::config::ValidConfig;
use crate::error::Error;
use crate::protocol::{AirbyteMessage, LogLevel, Output};

/// Reads and validates the `--config` file, and sends its warnings (unknown keys, a future
/// `start_date`) as LOG WARN messages.
pub fn load_config(path: &std::path::Path, out: &Output) -> Result<ValidConfig, Error> {
    let config = ValidConfig::from_json(&read_input(path, "config", Error::Config)?)?;
    for warning in &config.warnings {
        out.emit(&AirbyteMessage::log(LogLevel::Warn, warning.clone()))?;
    }
    Ok(config)
}

/// Reads an input file; `what` names it in the error.
fn read_input(
    path: &std::path::Path,
    what: &str,
    error: fn(String) -> Error,
) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| {
        error(format!(
            "Cannot read the {what} file {}: {e}.",
            path.display()
        ))
    })
}

/// `discover`: the catalog of every stream (needs a valid config, makes no request).
pub fn discover(config: &std::path::Path, out: &Output) -> Result<(), Error> {
    load_config(config, out)?;
    out.emit(&AirbyteMessage::Catalog {
        catalog: crate::streams::catalog(),
    })?;
    Ok(())
}
