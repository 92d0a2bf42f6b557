//! The command line, exactly as the Airbyte protocol invokes a source, plus one opt-in flag for
//! command-line OAuth users.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Airbyte source connector for Zendesk Chat. stdout carries Airbyte protocol messages, one JSON
/// object per line; logs go to stderr (RUST_LOG=debug for more).
#[derive(Debug, Parser)]
#[command(name = "source-zendesk-chat", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// After an OAuth refresh, write the updated config (new access and refresh tokens, as in the
    /// CONTROL message) back to the --config file: atomically, keeping its permissions. For
    /// command-line use; inside Airbyte the platform stores the CONTROL message instead.
    #[arg(long, global = true)]
    pub write_config_back: bool,
}

/// The Airbyte protocol commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the connector specification.
    Spec,
    /// Validate the config and test the credentials with one request.
    Check {
        /// The config file: JSON with `subdomain`, `start_date` and `credentials` (see `spec`).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Print the catalog of streams.
    Discover {
        /// The config file: JSON with `subdomain`, `start_date` and `credentials` (see `spec`).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Read the streams of a configured catalog, resuming from a state.
    Read {
        /// The config file: JSON with `subdomain`, `start_date` and `credentials` (see `spec`).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The configured catalog: {"streams": [{"stream": {"name": ...}, "sync_mode":
        /// "incremental" | "full_refresh", "destination_sync_mode": "append"}, ...]}, i.e. the
        /// streams of `discover` you want, each with a sync mode (not `discover`'s output as is).
        #[arg(long, value_name = "FILE")]
        catalog: PathBuf,
        /// A saved state to resume from: the STATE messages of an earlier read (a JSON array of
        /// their `state` objects, or the saved {"type":"STATE",...} lines). Omit for a full sync.
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn help(sub: &str) -> String {
        let mut cmd = Cli::command();
        cmd.build(); // propagates the global flag to the subcommands
        cmd.find_subcommand_mut(sub)
            .map(|c| c.render_long_help().to_string())
            .unwrap_or_default()
    }

    #[test]
    fn read_help_describes_every_file() {
        let h = help("read");
        assert!(
            h.contains("--config <FILE>") && h.contains("subdomain"),
            "{h}"
        );
        assert!(
            h.contains("--catalog <FILE>") && h.contains("sync_mode"),
            "{h}"
        );
        assert!(
            h.contains("--state <FILE>") && h.contains("STATE messages"),
            "{h}"
        );
        assert!(h.contains("--write-config-back"), "{h}");
    }

    #[test]
    fn write_config_back_is_off_unless_asked_and_accepted_after_the_command() {
        let cli = Cli::try_parse_from(["x", "check", "--config", "c.json"]).unwrap();
        assert!(!cli.write_config_back);
        let cli = Cli::try_parse_from([
            "x",
            "read",
            "--config",
            "c",
            "--catalog",
            "k",
            "--write-config-back",
        ])
        .unwrap();
        assert!(cli.write_config_back);
        let cli =
            Cli::try_parse_from(["x", "--write-config-back", "check", "--config", "c"]).unwrap();
        assert!(cli.write_config_back);
    }
}
