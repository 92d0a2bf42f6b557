//! The platform's rate-limit status: while a `Retry-After` pauses every request, each stream that
//! started and has not finished is RUNNING with a RATE_LIMITED reason giving when the quota
//! resets; a plain RUNNING follows when requests resume.

use std::sync::Arc;

use crate::client::rate::{PauseEvent, PauseObserver};
use crate::error::Error;
use crate::paging::tracker::Tracker;
use crate::protocol::messages::AirbyteStreamStatusReason;
use crate::protocol::{AirbyteMessage, AirbyteStreamStatus, Output};

/// An observer of the request budget that reports its pauses for the streams of `trackers`.
pub fn observer(trackers: Vec<Tracker>, out: Arc<Output>) -> PauseObserver {
    Box::new(move |event| {
        // A closed stdout ends the streams themselves; there is no one left to tell.
        let _ = announce(&trackers, &out, event);
    })
}

/// Writes the status of every unfinished stream. Finishing a stream marks its tracker before
/// writing COMPLETE under the output lock, so no status follows a stream's last one. A stream
/// not yet marked running is marked first, so a page that arrives during the wait cannot show
/// it plainly RUNNING before the wait ends.
fn announce(trackers: &[Tracker], out: &Output, event: PauseEvent) -> Result<(), Error> {
    let reasons = match event {
        PauseEvent::Paused { until } => {
            tracing::info!(
                "streams shown as rate limited until {}",
                until.format("%H:%M:%S UTC")
            );
            Some(vec![AirbyteStreamStatusReason::rate_limited(
                until.timestamp_millis(),
            )])
        }
        PauseEvent::Resumed => None,
    };
    let mut batch = out.lock();
    for t in trackers.iter().filter(|t| !t.is_finished()) {
        t.mark_running(&mut batch)?;
        batch.push(&AirbyteMessage::stream_status(
            t.name(),
            AirbyteStreamStatus::Running,
            reasons.clone(),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_streams_are_rate_limited_then_running() {
        let (out, captured) = crate::protocol::output::Captured::output();
        let find = |n| crate::streams::find(n).expect("a stream of the catalog");
        let (a, b) = (Tracker::new(find("chats")), Tracker::new(find("agents")));
        b.finish();
        let observe = observer(vec![a, b], out);
        let until = chrono::DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        observe(PauseEvent::Paused { until });
        observe(PauseEvent::Resumed);
        let text = captured.text();
        let statuses: Vec<serde_json::Value> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["trace"]["stream_status"]
                    .clone()
            })
            .collect();
        // RUNNING when first marked, RUNNING rate limited, RUNNING when requests resume.
        assert_eq!(statuses.len(), 3, "{text}");
        assert!(statuses
            .iter()
            .all(|s| s["stream_descriptor"]["name"] == "chats" && s["status"] == "RUNNING"));
        assert!(statuses[0].get("reasons").is_none(), "{text}");
        assert_eq!(
            statuses[1]["reasons"][0]["rate_limited"]["quota_reset"],
            1_700_000_000_123i64
        );
        assert!(statuses[2].get("reasons").is_none(), "{text}");
    }
}
