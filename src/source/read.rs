//! `read`: validates config, catalog and state, plans one job per Zendesk resource, runs the jobs
//! concurrently under one shared client (one request budget), and reports each stream's status
//! as soon as its job ends.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::task::JoinSet;

use super::{progress, rate_status};
use crate::client::retry::RetryPolicy;
use crate::client::Client;
use crate::config::ValidConfig;
use crate::error::Error;
use crate::paging::cursor;
use crate::paging::driver::{no_cursor_state, Ctx, Outcome, Selection, Tracker};
use crate::protocol::messages::{AirbyteErrorTraceMessage, AirbyteStreamStatus, StreamDescriptor};
use crate::protocol::output::OutputError;
use crate::protocol::{
    AirbyteMessage, ConfiguredAirbyteCatalog, InputState, LogLevel, Output, SyncMode,
};
use crate::streams::{self, Resource, ResourceFuture, StreamInfo};

/// The `read` command's inputs.
pub struct ReadOptions<'a> {
    pub config: &'a Path,
    pub catalog: &'a Path,
    pub state: Option<&'a Path>,
}

/// One unit of concurrent work: the selected streams of one resource, read in one pass.
struct Job {
    read: fn(Ctx<Client>, Vec<Selection>) -> ResourceFuture,
    selections: Vec<Selection>,
}

/// How the jobs ended, for the final verdict.
#[derive(Default)]
struct Summary {
    failed: Vec<(&'static str, Error)>,
    unavailable: usize,
    streams: usize,
}

fn load_catalog(path: &Path) -> Result<ConfiguredAirbyteCatalog, Error> {
    let text = super::read_input(path, "catalog", Error::Input)?;
    serde_json::from_str(&text).map_err(|e| {
        let hint = if text.contains("\"json_schema\"") && !text.contains("\"sync_mode\"") {
            " This looks like the output of `discover` (a catalog): `read` needs a configured catalog, which selects streams and says how to sync each."
        } else {
            ""
        };
        Error::Input(format!(
            "The configured catalog is invalid: {} (line {}, column {}).{hint} Expected {{\"streams\": [{{\"stream\": {{\"name\": \"chats\", \"json_schema\": {{}}, \"supported_sync_modes\": [\"full_refresh\", \"incremental\"]}}, \"sync_mode\": \"incremental\", \"destination_sync_mode\": \"append\"}}]}}; the README shows how to build one from discover's output.",
            e.to_string().split(" at line").next().unwrap_or(""),
            e.line(),
            e.column()
        ))
    })
}

fn load_state(path: Option<&Path>, out: &Output) -> Result<InputState, Error> {
    let Some(path) = path else {
        return Ok(InputState::default());
    };
    let text = super::read_input(path, "state", Error::Input)?;
    let state = InputState::parse(&text).map_err(|e| Error::Input(e.to_string()))?;
    let note = state_note(path, &state);
    if let Some(note) = note {
        tracing::info!("{note}");
        out.emit(&AirbyteMessage::log(LogLevel::Info, note))?;
    }
    Ok(state)
}

/// What the log says about a state file that is a sync's output, or holds no state.
fn state_note(path: &Path, state: &InputState) -> Option<String> {
    let file = path.display();
    let skipped = state.skipped();
    if skipped.is_empty() {
        return state.is_empty().then(|| {
            format!("The state file {file} holds no stream state; every stream starts from the beginning.")
        });
    }
    let others: Vec<String> = skipped.iter().map(|(t, n)| format!("{n} {t}")).collect();
    let using = if state.is_empty() {
        "it has no STATE message, so every stream starts from the beginning".to_owned()
    } else {
        let n = state.len() as u64;
        format!(
            "using the last STATE of each stream ({})",
            crate::paging::tracker::count(n, "stream", "streams")
        )
    };
    Some(format!(
        "The state file {file} is a sync's output: {using}; its other messages are skipped ({}).",
        others.join(", ")
    ))
}

/// Checks the catalog's stream names: all known, none twice, at least one.
fn check_names(catalog: &ConfiguredAirbyteCatalog) -> Result<(), Error> {
    let names: Vec<&str> = catalog
        .streams
        .iter()
        .map(|s| s.stream.name.as_str())
        .collect();
    let unknown: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| streams::find(n).is_none())
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = streams::all_streams().map(|s| s.name).collect();
        return Err(Error::Input(format!(
            "The catalog names streams this connector does not have: {}. Known streams: {}. Run discover again and reselect the streams.",
            unknown.join(", "),
            known.join(", ")
        )));
    }
    if let Some(twice) = names
        .iter()
        .enumerate()
        .find(|(i, n)| names[..*i].contains(n))
    {
        return Err(Error::Input(format!(
            "The configured catalog selects stream {} more than once; list each stream once.",
            twice.1
        )));
    }
    if names.is_empty() {
        return Err(Error::Input(
            "The configured catalog selects no streams.".into(),
        ));
    }
    Ok(())
}

/// The tracker of a stream: time cursors report progress across the time they will cross.
fn tracker(info: &'static StreamInfo, state: Option<&Value>, config: &ValidConfig) -> Tracker {
    let field = info.cursor_field.filter(|c| *c != "id");
    let Some(field) = field else {
        return Tracker::new(info);
    };
    let from = state
        .and_then(|s| s.get(field))
        .and_then(cursor::value_to_micros)
        .map_or(config.start_date.timestamp(), |us| us.div_euclid(1_000_000));
    Tracker::with_time_span(info, from, chrono::Utc::now().timestamp())
}

/// One job per resource with selected streams, in registry order.
fn plan(
    catalog: &ConfiguredAirbyteCatalog,
    state: &InputState,
    config: &ValidConfig,
    out: &Output,
) -> Result<Vec<Job>, Error> {
    check_names(catalog)?;
    let modes: HashMap<&str, SyncMode> = catalog
        .streams
        .iter()
        .map(|s| (s.stream.name.as_str(), s.sync_mode))
        .collect();
    let mut jobs = Vec::new();
    let mut full_refresh_only = Vec::new();
    for resource in streams::registry::<Client>() {
        let Resource { streams, read } = resource;
        let mut selections = Vec::new();
        for info in streams {
            let Some(&wanted) = modes.get(info.name) else {
                continue;
            };
            let mode = if wanted == SyncMode::Incremental && !info.incremental {
                full_refresh_only.push(info.name);
                SyncMode::FullRefresh
            } else {
                wanted
            };
            let saved = state.get(info.name).cloned();
            let resumed = (mode == SyncMode::Incremental)
                .then_some(saved.as_ref())
                .flatten();
            selections.push(Selection {
                name: info.name,
                mode,
                tracker: tracker(info, resumed, config),
                state: saved,
            });
        }
        if !selections.is_empty() {
            jobs.push(Job { read, selections });
        }
    }
    if !full_refresh_only.is_empty() {
        let why = format!(
            "Read in full refresh, as they have no cursor (the catalog asked for incremental): {}.",
            full_refresh_only.join(", ")
        );
        tracing::info!("{why}");
        out.emit(&AirbyteMessage::log(LogLevel::Info, why))?;
    }
    Ok(jobs)
}

/// Runs `read`.
pub async fn read(opts: &ReadOptions<'_>, out: Arc<Output>) -> Result<(), Error> {
    let config = super::load_config(opts.config, &out)?;
    let catalog = load_catalog(opts.catalog)?;
    let state = load_state(opts.state, &out)?;
    let jobs = plan(&catalog, &state, &config, &out)?;
    let client = Arc::new(Client::new(&config, RetryPolicy::sync(), out.clone())?);
    let ctx = Ctx {
        fetch: client.clone(),
        output: out.clone(),
        start_date: config.start_date,
        concurrency: config.backfill_concurrency as usize,
        slots: Arc::new(tokio::sync::Semaphore::new(
            config.backfill_concurrency.max(1) as usize,
        )),
    };
    let started = std::time::Instant::now();
    let trackers: Vec<Tracker> = jobs
        .iter()
        .flat_map(|j| j.selections.iter().map(|s| s.tracker.clone()))
        .collect();
    for t in &trackers {
        out.emit(&AirbyteMessage::stream_status(
            t.name(),
            AirbyteStreamStatus::Started,
            None,
        ))?;
    }
    client.observe_pauses(rate_status::observer(trackers.clone(), out.clone()));
    let reporter = progress::spawn(trackers, client.clone(), out.clone());
    let summary = run_jobs(&ctx, jobs, &out).await;
    reporter.abort();
    let summary = summary?;
    out.flush()?;
    tracing::info!(
        "read finished in {:.1?}: {}",
        started.elapsed(),
        client.stats.summary()
    );
    verdict(summary, &config)
}

/// Spawns every job and ends each stream as soon as its job ends.
async fn run_jobs(ctx: &Ctx<Client>, jobs: Vec<Job>, out: &Output) -> Result<Summary, Error> {
    let mut set = JoinSet::new();
    let mut running = HashMap::new();
    for job in jobs {
        let handle = set.spawn((job.read)(ctx.clone(), job.selections.clone()));
        running.insert(handle.id(), job.selections);
    }
    let mut summary = Summary::default();
    while let Some(joined) = set.join_next_with_id().await {
        let (id, result) = match joined {
            Ok((id, result)) => (id, result),
            Err(e) => (
                e.id(),
                Err(Error::Internal(format!("a stream task failed: {e}"))),
            ),
        };
        let selections = running.remove(&id).unwrap_or_default();
        if let Err(Error::Output(OutputError::Closed)) = result {
            set.abort_all();
            return Err(Error::Output(OutputError::Closed));
        }
        end_job(out, &selections, result, &mut summary)?;
    }
    Ok(summary)
}

/// Reports how a job ended, for each of its streams.
fn end_job(
    out: &Output,
    selections: &[Selection],
    result: Result<Outcome, Error>,
    summary: &mut Summary,
) -> Result<(), Error> {
    for sel in selections {
        summary.streams += 1;
        sel.tracker.finish();
        match &result {
            Ok(outcome) => {
                if matches!(outcome, Outcome::Unavailable(_)) {
                    summary.unavailable += 1;
                }
                finish(out, sel, AirbyteStreamStatus::Complete)?;
                let n = sel.tracker.total();
                tracing::info!(
                    "stream {}: {}",
                    sel.name,
                    crate::paging::tracker::count(n, "record", "records")
                );
            }
            Err(e) => {
                tracing::error!("stream {} failed: {e}", sel.name);
                finish(out, sel, AirbyteStreamStatus::Incomplete)?;
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
    if let (Err(e), Some(sel)) = (result, selections.first()) {
        summary.failed.push((sel.name, e));
    }
    Ok(())
}

/// The command's result: the first failure, or every stream missing (a wrong subdomain).
fn verdict(summary: Summary, config: &ValidConfig) -> Result<(), Error> {
    if let Some((_, first)) = summary.failed.first() {
        let names: Vec<&str> = summary.failed.iter().map(|(n, _)| *n).collect();
        return Err(Error::Sync {
            message: format!(
                "During the sync, these streams did not sync successfully: {}. First error: {first}",
                names.join(", ")
            ),
            failure_type: first.failure_type(),
        });
    }
    if summary.streams > 0 && summary.unavailable == summary.streams {
        let base = &config.base_url;
        return Err(Error::Config(match &config.not_found_advice {
            Some(advice) => format!(
                "Every selected stream answered 404 Not Found; the URLs tried start with {base}. {advice}"
            ),
            None => format!(
                "Every selected stream answered 404 Not Found at {base}: check the subdomain (and that the account has Zendesk Chat)."
            ),
        }));
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
    if status == AirbyteStreamStatus::Complete {
        let (rows, bytes) = sel.tracker.final_counts();
        batch.push(&AirbyteMessage::estimate(sel.name, rows, bytes))?;
    }
    for log in sel.tracker.typing().summary(sel.name) {
        batch.push(&log)?;
    }
    batch.push(&AirbyteMessage::stream_status(sel.name, status, None))?;
    Ok(())
}
