//! `source-zendesk-chat`: an Airbyte source connector for the Zendesk Chat API.
//!
//! Layers, each depending only on those before it:
//! - [`protocol`]: Airbyte messages, catalog and state, and the single owner of stdout;
//! - [`records`]: stream descriptions, schemas from Rust structs, one type per column, the
//!   fast page reader;
//! - [`paging`]: the export engine: paging strategies, the parallel planner, coverage and the
//!   live edge (no HTTP: pages come through [`paging::Fetch`]);
//! - [`streams`]: one module per Zendesk Chat resource, and the registry;
//! - [`client`]: HTTP, authentication and OAuth refresh, retries, the request budget;
//! - [`source`]: the `spec`, `check`, `discover` and `read` commands.
//!
//! Cross-cutting: [`config`] (the spec's source of truth), [`error`] (typed errors mapped to
//! Airbyte failure types), [`schema`] (draft-07 generation) and [`secrets`] (redaction).

pub mod cli;
pub mod client;
pub mod config;
pub mod error;
pub mod paging;
pub mod protocol;
pub mod records;
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
    if let Some(config) = cli.command.write_back_target() {
        let target = source::writeback::ConfigWriteBack::new(config);
        out.set_config_sink(Box::new(move |c| {
            target.write(c).map_err(|e| e.to_string())?;
            tracing::info!("updated config written back to {}", target.path().display());
            Ok(())
        }));
    }
    let result = match &cli.command {
        Command::Spec => source::spec(&out),
        Command::Discover { config } => source::discover(config, &out),
        Command::Check { config, .. } => {
            runtime().and_then(|rt| rt.block_on(source::check(config, out.clone())))
        }
        Command::Read {
            config,
            catalog,
            state,
            ..
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

/// Installs a panic hook that reports any panic as a `system_error` TRACE and flushes what is
/// buffered, before the default hook prints the panic to stderr (release builds abort right
/// after). It never blocks on an output lock the panicking thread may hold.
pub fn install_panic_hook(out: Arc<Output>) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report_panic(&out, &panic_text(info), &mut std::io::stdout());
        previous(info);
    }));
}

/// What a panic says and where.
fn panic_text(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".to_owned());
    match info.location() {
        Some(l) => format!("{what} at {}:{}", l.file(), l.line()),
        None => what,
    }
}

/// Writes the TRACE of a panic described by `text` through `out` (or `fallback`).
pub fn report_panic(out: &Output, text: &str, fallback: &mut dyn std::io::Write) {
    let trace = AirbyteMessage::error(AirbyteErrorTraceMessage {
        message:
            "The connector stopped on an internal error (a bug); please report it with the log."
                .into(),
        internal_message: Some(format!("panic: {text}")),
        stack_trace: None,
        failure_type: protocol::FailureType::SystemError,
        stream_descriptor: None,
    });
    out.write_for_panic(&trace, fallback);
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4)))
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_system_error_trace_after_the_buffered_lines() {
        let (out, captured) = protocol::output::Captured::output();
        let data = serde_json::value::RawValue::from_string("{\"id\":1}".into()).unwrap();
        out.lock().push_record("chats", &data, 7).unwrap();
        let mut fallback = Vec::new();
        report_panic(&out, "index out of bounds at src/x.rs:3", &mut fallback);
        assert!(fallback.is_empty());
        let lines = captured.messages();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0]["type"], "RECORD");
        assert_eq!(lines[1]["trace"]["error"]["failure_type"], "system_error");
        assert!(lines[1]["trace"]["error"]["internal_message"]
            .as_str()
            .unwrap()
            .contains("index out of bounds"));
    }
}
