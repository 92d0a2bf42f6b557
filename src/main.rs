//! Entry point: logs to stderr (secrets scrubbed), parses the command line, runs the command.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use source_zendesk_chat::{cli::Cli, protocol::Output, run, secrets::RedactingStderr};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(|| RedactingStderr)
        .with_ansi(false)
        .init();
    run(Cli::parse(), Arc::new(Output::stdout()))
}
