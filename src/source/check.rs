//! `check`: validates the config, then makes one cheap authenticated request. Every problem is a
//! CONNECTION_STATUS FAILED with a message that says what to fix; only a broken stdout fails.

use std::path::Path;
use std::sync::Arc;

use crate::client::retry::RetryPolicy;
use crate::client::Client;
use crate::error::Error;
use crate::protocol::{AirbyteMessage, ConnectionStatus, Output};

/// Runs `check` and writes its CONNECTION_STATUS.
pub async fn check(config: &Path, out: Arc<Output>) -> Result<(), Error> {
    let status = match try_check(config, out.clone()).await {
        Ok(()) => AirbyteMessage::connection_status(ConnectionStatus::Succeeded, None),
        Err(Error::Output(e)) => return Err(Error::Output(e)),
        Err(e) => {
            tracing::warn!("check failed: {e}");
            let message = match &e {
                Error::Transport { .. } => {
                    format!("{e}. Check the subdomain and that this machine can reach Zendesk.")
                }
                _ => e.to_string(),
            };
            AirbyteMessage::connection_status(ConnectionStatus::Failed, Some(message))
        }
    };
    out.emit(&status)?;
    Ok(())
}

async fn try_check(config: &Path, out: Arc<Output>) -> Result<(), Error> {
    let config = super::load_config(config, &out)?;
    let client = Client::new(&config, RetryPolicy::check(), out)?;
    // Routing settings exist on every Chat account; accounts on Zendesk messaging may lack them,
    // so a 404 there is confirmed against the agents list.
    match client.get("routing_settings/account", &[]).await {
        Ok(_) => Ok(()),
        Err(e) if e.status() == Some(404) => client
            .get("agents", &[("limit", "1".to_owned())])
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    }
}
