//! Progress for people: every 10 s, one line per running stream (records so far, where the
//! cursor has reached, the estimated share done) and the client's request counts, on stderr and
//! as a LOG message, so a `docker run` user and the platform both see a long sync move.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::client::Client;
use crate::paging::tracker::Tracker;
use crate::protocol::{AirbyteMessage, LogLevel, Output};

/// How often progress is reported.
pub const EVERY: Duration = Duration::from_secs(10);

/// The progress report of the streams still running, if any.
pub fn report(trackers: &[Tracker], client: &Client) -> Option<String> {
    let lines: Vec<String> = trackers
        .iter()
        .filter(|t| t.is_active())
        .map(Tracker::progress_line)
        .collect();
    (!lines.is_empty())
        .then(|| format!("Progress: {}; {}", lines.join("; "), client.stats.summary()))
}

/// Starts the reporter; abort the handle when the read ends.
pub fn spawn(trackers: Vec<Tracker>, client: Arc<Client>, out: Arc<Output>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.tick().await; // the first tick is immediate
        loop {
            tick.tick().await;
            if let Some(line) = report(&trackers, &client) {
                tracing::info!("{line}");
                if out
                    .emit(&AirbyteMessage::log(LogLevel::Info, line))
                    .is_err()
                {
                    return;
                }
            }
        }
    })
}
