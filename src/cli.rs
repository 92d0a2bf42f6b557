//! The command line, exactly as the Airbyte protocol invokes a source.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Airbyte source connector for Zendesk Chat.
#[derive(Debug, Parser)]
#[command(name = "source-zendesk-chat", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The Airbyte protocol commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the connector specification.
    Spec,
    /// Validate the config and test the credentials with one request.
    Check {
        #[arg(long)]
        config: PathBuf,
    },
    /// Print the catalog of streams.
    Discover {
        #[arg(long)]
        config: PathBuf,
    },
    /// Read the streams of a configured catalog, resuming from a state.
    Read {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        catalog: PathBuf,
        #[arg(long)]
        state: Option<PathBuf>,
    },
}
