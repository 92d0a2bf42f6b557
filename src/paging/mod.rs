//! The export engine: how every stream pages through its endpoint, commits its position and
//! stays exact at the live edge. No HTTP here: pages come through [`Fetch`], which the client
//! layer implements, and records are typed by [`crate::records`].
//!
//! - [`pager`]: the one paging loop (plan, fetch, parse, emit, commit, stop rule, progress guard);
//! - [`simple`], [`since_id`], [`export`]: cursor strategies (one request, `since_id`, time + id);
//! - [`plan`], [`coverage`]: the parallel backfill's time slices and what they committed;
//! - [`live_edge`], [`cursor`]: the export ceiling and its window; cursor value forms;
//! - [`driver`], [`tracker`]: the read context, selections, and per-stream bookkeeping;
//! - [`saved`]: saved states in other tools' forms, brought to each reader's own form.

pub mod coverage;
pub mod cursor;
pub mod driver;
pub mod export;
pub mod live_edge;
pub mod pager;
pub mod plan;
pub mod saved;
#[cfg(test)]
pub mod scripted;
pub mod simple;
pub mod since_id;
pub mod tracker;

use std::future::Future;

use bytes::Bytes;

use crate::error::Error;

/// What the API answered for a page, in the streams layer's terms (no HTTP here).
#[derive(Debug)]
pub enum Reply {
    /// A successful answer's body.
    Page(Bytes),
    /// The resource does not exist for this account; the error says so, for streams that fail.
    Missing(Error),
    /// The token may not read the resource; the error says so, for streams that fail.
    Forbidden(Error),
}

/// GETs a path of the Chat API. `Err` is a failure that retries did not cure.
pub trait Fetch: Send + Sync + 'static {
    fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> impl Future<Output = Result<Reply, Error>> + Send;
}
