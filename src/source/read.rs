//! `read`: validates config, catalog and state, then reads the selected streams concurrently
//! under one shared client (one request budget), reporting each stream's status and failures.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::client::retry::RetryPolicy;
use crate::client::Client;
use crate::error::Error;
use crate::protocol::messages::{AirbyteErrorTraceMessage, AirbyteStreamStatus, StreamDescriptor};
use crate::protocol::output::OutputError;
use crate::protocol::{
    AirbyteMessage, ConfiguredAirbyteCatalog, InputState, LogLevel, Output, SyncMode,
};
use crate::streams::driver::{no_cursor_state, Ctx, Outcome, Selection, Tracker};
use crate::streams::{self, chats, Reader, StreamInfo};

/// The `read` command's inputs.
pub struct ReadOptions<'a> {
    pub config: &'a Path,
    pub catalog: &'a Path,
    pub state: Option<&'a Path>,
}

/// One unit of concurrent work: a single stream, or the chats family sharing one export pass.
enum Job {
    Single(&'static StreamInfo, Selection),
    Chats(Vec<chats::Member>),
}

impl Job {
    fn selections(&self) -> Vec<Selection> {
        match self {
            Job::Single(_, s) => vec![s.clone()],
            Job::Chats(members) => members.iter().map(|m| m.sel.clone()).collect(),
        }
    }
}

fn load_catalog(path: &Path) -> Result<ConfiguredAirbyteCatalog, Error> {
    let text = super::read_input(path, "catalog", Error::Input)?;
    serde_json::from_str(&text).map_err(|e| {
        Error::Input(format!(
            "The configured catalog is invalid: {} (line {}, column {}). Expected {{\"streams\": [{{\"stream\": {{\"name\": ...}}, \"sync_mode\": \"full_refresh\"|\"incremental\", ...}}]}}.",
            e.to_string().split(" at line").next().unwrap_or(""),
            e.line(),
            e.column()
        ))
    })
}

fn load_state(path: Option<&Path>) -> Result<InputState, Error> {
    let Some(path) = path else {
        return Ok(InputState::default());
    };
    let text = super::read_input(path, "state", Error::Input)?;
    InputState::parse(&text).map_err(|e| {
        Error::Input(format!(
            "{e}. Pass a state saved by this connector, or none."
        ))
    })
}

/// Turns the configured catalog into jobs; unknown streams are a config error.
fn plan(
    catalog: &ConfiguredAirbyteCatalog,
    state: &InputState,
    out: &Output,
) -> Result<Vec<Job>, Error> {
    let unknown: Vec<&str> = catalog
        .streams
        .iter()
        .map(|s| s.stream.name.as_str())
        .filter(|n| streams::find(n).is_none())
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = streams::STREAMS.iter().map(|s| s.name).collect();
        return Err(Error::Input(format!(
            "The catalog names streams this connector does not have: {}. Known streams: {}. Run discover again and reselect the streams.",
            unknown.join(", "),
            known.join(", ")
        )));
    }
    if catalog.streams.is_empty() {
        return Err(Error::Input(
            "The configured catalog selects no streams.".into(),
        ));
    }
    let mut jobs = Vec::new();
    let mut family = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for configured in &catalog.streams {
        let Some(info) = streams::find(&configured.stream.name) else {
            continue;
        };
        if !seen.insert(info.name) {
            continue;
        }
        let mode = if configured.sync_mode == SyncMode::Incremental && !info.incremental {
            out.emit(&AirbyteMessage::log(
                LogLevel::Warn,
                format!(
                    "Stream {} has no cursor; reading it in full refresh mode.",
                    info.name
                ),
            ))?;
            SyncMode::FullRefresh
        } else {
            configured.sync_mode
        };
        let sel = Selection {
            name: info.name,
            mode,
            state: state.get(info.name).cloned(),
            tracker: Tracker::new(info.name),
        };
        match info.reader {
            Reader::Chats(part) => family.push(chats::Member { sel, part }),
            _ => jobs.push(Job::Single(info, sel)),
        }
    }
    if !family.is_empty() {
        jobs.insert(0, Job::Chats(family));
    }
    Ok(jobs)
}

/// Runs `read`.
pub async fn read(opts: &ReadOptions<'_>, out: Arc<Output>) -> Result<(), Error> {
    let config = super::load_config(opts.config)?;
    let catalog = load_catalog(opts.catalog)?;
    let state = load_state(opts.state)?;
    let jobs = plan(&catalog, &state, &out)?;
    let client = Arc::new(Client::new(&config, RetryPolicy::sync(), out.clone())?);
    let ctx = Ctx {
        fetch: client.clone(),
        output: out.clone(),
        start_date: config.start_date,
        concurrency: config.backfill_concurrency as usize,
    };
    let started = std::time::Instant::now();

    for job in &jobs {
        for sel in job.selections() {
            out.emit(&AirbyteMessage::stream_status(
                sel.name,
                AirbyteStreamStatus::Started,
                None,
            ))?;
        }
    }

    let mut handles = Vec::new();
    for job in jobs {
        let ctx = ctx.clone();
        let selections = job.selections();
        let handle = tokio::spawn(async move {
            match &job {
                Job::Single(info, sel) => streams::read_single(&ctx, info, sel).await,
                Job::Chats(members) => chats::read(&ctx, members).await,
            }
        });
        handles.push((selections, handle));
    }

    let mut failed: Vec<(String, Error)> = Vec::new();
    let mut unavailable = 0usize;
    let mut total_streams = 0usize;
    for (selections, handle) in handles {
        let result = handle
            .await
            .unwrap_or_else(|e| Err(Error::Internal(format!("stream task failed: {e}"))));
        for sel in &selections {
            total_streams += 1;
            match &result {
                Ok(outcome) => {
                    if matches!(outcome, Outcome::Unavailable(_)) {
                        unavailable += 1;
                    }
                    finish(&out, sel, AirbyteStreamStatus::Complete)?;
                    tracing::info!("stream {}: {} records", sel.name, sel.tracker.total());
                }
                Err(Error::Output(OutputError::Closed)) => {
                    return Err(Error::Output(OutputError::Closed))
                }
                Err(e) => {
                    tracing::error!("stream {} failed: {e}", sel.name);
                    finish(&out, sel, AirbyteStreamStatus::Incomplete)?;
                    out.emit(&AirbyteMessage::error(AirbyteErrorTraceMessage {
                        message: e.to_string(),
                        internal_message: e.internal_message(),
                        stack_trace: None,
                        failure_type: e.failure_type(),
                        stream_descriptor: Some(StreamDescriptor::new(sel.name)),
                    }))?;
                }
            }
        }
        if let Err(e) = result {
            if let Some(sel) = selections.first() {
                failed.push((sel.name.to_owned(), e));
            }
        }
    }
    out.flush()?;
    tracing::info!(
        "read finished in {:.1?}: {} requests, {} retries, {} rate-limit waits",
        started.elapsed(),
        client
            .stats
            .requests
            .load(std::sync::atomic::Ordering::Relaxed),
        client
            .stats
            .retries
            .load(std::sync::atomic::Ordering::Relaxed),
        client
            .stats
            .throttled
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    if let Some((_, first)) = failed.first() {
        let names: Vec<&str> = failed.iter().map(|(n, _)| n.as_str()).collect();
        return Err(Error::Sync {
            message: format!("During the sync, these streams did not sync successfully: {}. First error: {first}", names.join(", ")),
            failure_type: first.failure_type(),
        });
    }
    if total_streams > 0 && unavailable == total_streams {
        return Err(Error::Config(format!(
            "Every selected stream answered 404 Not Found at {}: check the subdomain (and that the account has Zendesk Chat).",
            config.base_url
        )));
    }
    Ok(())
}

/// Ends a stream: RUNNING if it never produced output, a STATE if it never checkpointed, then
/// its final status.
fn finish(out: &Output, sel: &Selection, status: AirbyteStreamStatus) -> Result<(), Error> {
    let mut batch = out.lock();
    sel.tracker.mark_running(&mut batch)?;
    if !sel.tracker.has_state() && status == AirbyteStreamStatus::Complete {
        let state: Value = match sel.resume_state() {
            Some(s) => s.clone(),
            None if streams::find(sel.name).is_some_and(|i| i.incremental) => json!({}),
            None => no_cursor_state(),
        };
        sel.tracker.state(&mut batch, state)?;
    }
    for log in sel.tracker.typing().summary(sel.name) {
        batch.push(&log)?;
    }
    batch.push(&AirbyteMessage::stream_status(sel.name, status, None))?;
    Ok(())
}
