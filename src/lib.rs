//! `source-zendesk-chat`: an Airbyte source connector for the Zendesk Chat API.
//!
//! Layers, each depending only on those before it:
//! - [`protocol`]: Airbyte messages, catalog and state, and the single owner of stdout;
//! - [`streams`]: one module per Zendesk Chat resource, the record schemas, and the shared
//!   paging/state driver (no HTTP: pages come through [`streams::Fetch`]);
//! - [`client`]: HTTP, authentication and OAuth refresh, retries, the request budget;
//! - [`source`]: the `spec`, `check`, `discover` and `read` commands.
//!
//! Cross-cutting: [`config`] (the spec's source of truth), [`error`] (typed errors mapped to
//! Airbyte failure types), [`schema`] (draft-07 generation) and [`secrets`] (redaction).

pub mod cli;
pub mod client;
pub mod config;
pub mod error;
pub mod protocol;
pub mod schema;
pub mod secrets;
pub mod source;
pub mod streams;

use std::process::ExitCode;
use std::sync::Arc;

use cli::{Cli, Command};
use error::Error;
use protocol::messages::AirbyteErrorTraceMessage;
use protocol::output::OutputError;
use protocol::{AirbyteMessage, Output};

/// Runs a command, writing protocol messages to `out`. Failures become a TRACE ERROR and exit
/// code 1; a closed stdout ends quietly.
pub fn run(cli: Cli, out: Arc<Output>) -> ExitCode {
    let result = match &cli.command {
        Command::Spec => source::spec(&out),
        Command::Discover { config } => source::discover(config, &out),
        Command::Check { config } => {
            runtime().and_then(|rt| rt.block_on(source::check(config, out.clone())))
        }
        Command::Read {
            config,
            catalog,
            state,
        } => runtime().and_then(|rt| {
            let opts = source::read::ReadOptions {
                config,
                catalog,
                state: state.as_deref(),
            };
            rt.block_on(source::read(&opts, out.clone()))
        }),
    };
    match result.and_then(|()| out.flush().map_err(Error::from)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Output(OutputError::Closed)) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            let trace = AirbyteMessage::error(AirbyteErrorTraceMessage {
                message: e.to_string(),
                internal_message: e.internal_message(),
                stack_trace: None,
                failure_type: e.failure_type(),
                stream_descriptor: None,
            });
            let _ = out.emit(&trace).and_then(|()| out.flush());
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4)))
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))
}
