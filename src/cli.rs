//! The command line, exactly as the Airbyte protocol invokes a source, plus one opt-in flag for
//! command-line OAuth users on the commands that may refresh tokens (`check`, `read`).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Airbyte source connector for Zendesk Chat. stdout carries Airbyte protocol messages, one JSON
/// object per line; logs go to stderr (RUST_LOG=debug for more).
#[derive(Debug, Parser)]
#[command(name = "source-zendesk-chat", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The `--write-config-back` flag of the commands that may refresh OAuth tokens.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct WriteBack {
    /// After an OAuth refresh, write the updated config (new access and refresh tokens, as in
    /// the CONTROL message) back to the --config file: atomically, keeping its permissions. For
    /// command-line use; inside Airbyte the platform stores the CONTROL message instead.
    #[arg(long)]
    pub write_config_back: bool,
}

/// The Airbyte protocol commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the connector specification.
    Spec,
    /// Validate the config and test the credentials with one request.
    ///
    /// The result is the CONNECTION_STATUS message on stdout: "SUCCEEDED", or "FAILED" with a
    /// message saying what to fix. As Airbyte expects, the exit status is 0 in both cases (it is
    /// non-zero only if the connector itself fails: a crash, an unwritable stdout). To test the
    /// result in a script:
    ///
    ///   source-zendesk-chat check --config config.json | grep -q '"status":"SUCCEEDED"'
    Check {
        /// The config file: JSON with `subdomain`, `start_date` and `credentials` (see `spec`).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[command(flatten)]
        write_back: WriteBack,
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
        /// their `state` objects, the saved {"type":"STATE",...} lines, or that read's whole
        /// output). Omit for a full sync.
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
        #[command(flatten)]
        write_back: WriteBack,
    },
}

impl Command {
    /// The config file to write updated configs back to, when `--write-config-back` was given.
    pub fn write_back_target(&self) -> Option<&std::path::Path> {
        match self {
            Command::Check { config, write_back }
            | Command::Read {
                config, write_back, ..
            } if write_back.write_config_back => Some(config),
            _ => None,
        }
    }
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
    }

    #[test]
    fn write_config_back_is_offered_only_where_it_acts() {
        for sub in ["check", "read"] {
            assert!(help(sub).contains("--write-config-back"), "{sub}");
        }
        for sub in ["spec", "discover"] {
            assert!(!help(sub).contains("--write-config-back"), "{sub}");
        }
        let target = |args: &[&str]| {
            Cli::try_parse_from(args.iter().copied()).map(|c| {
                c.command
                    .write_back_target()
                    .map(|p| p.display().to_string())
            })
        };
        assert_eq!(target(&["x", "check", "--config", "c.json"]).unwrap(), None);
        assert_eq!(
            target(&[
                "x",
                "read",
                "--config",
                "c",
                "--catalog",
                "k",
                "--write-config-back"
            ])
            .unwrap(),
            Some("c".to_owned())
        );
        assert!(target(&["x", "discover", "--config", "c", "--write-config-back"]).is_err());
    }

    #[test]
    fn check_help_tells_the_exit_status_and_how_to_test_the_result() {
        let h = help("check");
        assert!(h.contains("exit status is 0 in both cases"), "{h}");
        assert!(h.contains(r#"grep -q '"status":"SUCCEEDED"'"#), "{h}");
    }
}
