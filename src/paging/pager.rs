//! The one paging loop every paged stream runs: plan the request, fetch it, parse the page,
//! decide what to emit and emit it, commit a STATE, then apply the stop rule and the "no
//! progress" guard. A [`Pager`] (the cursor strategy) says only how to form a request, how to
//! read a page's records and cursor, what to emit and what the state is.
//!
//! ```text
//!   cursor ──plan──▶ query ──fetch──▶ body ──parse──▶ Page
//!     ▲                                                │ next(), is_last()
//!     │            (prefetch of the next page starts here when the pager asks for it)
//!     │                                                ▼
//!     └──── next cursor ◀── guard ◀── commit (STATE) ◀── emit (RECORDs, under the output lock)
//! ```
//!
//! The guard measures progress from the records received, not from the envelope: a page that
//! is not the last must hold at least one record beyond the request cursor, and its last record
//! must move the cursor forward; otherwise the loop stops with [`Error::Protocol`] naming the
//! endpoint and the cursor (an `end_time` that advances while the records repeat stops here
//! too). A prefetched page is a task aborted when the loop ends, so a finished or failed run
//! never spends request budget in the background.
//!
//! A strategy plugs in by implementing [`Pager`]; for an endpoint paged by `since_id`:
//!
//! ```ignore
//! struct SinceId { last: Option<i64> }
//! impl Pager for SinceId {
//!     type Cursor = i64;
//!     type Page<'b> = Vec<(i64, &'b RawValue)>;
//!     fn stream(&self) -> &'static str { "agents" }
//!     fn path(&self) -> &'static str { "agents" }
//!     fn first(&self) -> i64 { self.last.map_or(0, |id| id + 1) }
//!     fn query(&self, since: &i64) -> Vec<(&'static str, String)> {
//!         vec![("since_id", since.to_string()), ("limit", "100".into())]
//!     }
//!     fn parse<'b>(&self, body: &'b [u8]) -> Result<Self::Page<'b>, Error> { /* decode */ }
//!     fn next(&self, page: &Self::Page<'_>, _: &i64) -> Option<i64> {
//!         page.last().and_then(|(id, _)| id.checked_add(1))
//!     }
//!     fn is_last(&self, page: &Self::Page<'_>, _: &i64) -> bool { page.is_empty() }
//!     fn emit(&mut self, page: Self::Page<'_>, since: &i64, out: &mut Writer<'_>) -> Result<u64, Error> {
//!         /* records with id >= since: push them, remember the max id, count them */
//!     }
//!     fn commit(&mut self, out: &mut Writer<'_>, last: bool) -> Result<(), Error> {
//!         /* push STATE {"id": max} */
//!     }
//! }
//! ```

use std::fmt::Debug;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::driver::{get_optional, Ctx, Outcome};
use super::Fetch;
use crate::error::Error;
use crate::protocol::output::Writer;

/// A cursor strategy: how to page one endpoint, what to emit, and what to commit.
pub trait Pager: Send {
    /// Where a request starts (a time, a (time, id) pair, an id).
    type Cursor: Clone + Ord + Debug + Send;
    /// A parsed page; it may borrow the body.
    type Page<'b>;

    /// The stream named in warnings and errors.
    fn stream(&self) -> &'static str;
    /// The endpoint's path.
    fn path(&self) -> &'static str;
    /// The cursor of the first request.
    fn first(&self) -> Self::Cursor;
    /// The query of the request that starts at `at`.
    fn query(&self, at: &Self::Cursor) -> Vec<(&'static str, String)>;
    /// Decodes a body.
    fn parse<'b>(&self, body: &'b [u8]) -> Result<Self::Page<'b>, Error>;
    /// The cursor after the page, read from its records (`None` when it has none).
    fn next(&self, page: &Self::Page<'_>, at: &Self::Cursor) -> Option<Self::Cursor>;
    /// The stop rule: true when no page follows this one (the page was requested at `at`).
    fn is_last(&self, page: &Self::Page<'_>, at: &Self::Cursor) -> bool;
    /// Decides what to emit and emits it; returns how many records lay beyond `at` (the
    /// records that count as progress, whether emitted or already committed by an earlier sync).
    fn emit(
        &mut self,
        page: Self::Page<'_>,
        at: &Self::Cursor,
        out: &mut Writer<'_>,
    ) -> Result<u64, Error>;
    /// Writes the STATE that commits what was emitted; `last` after the final page.
    fn commit(&mut self, out: &mut Writer<'_>, last: bool) -> Result<(), Error>;
    /// True when the next page should be requested before this one is emitted.
    fn prefetch(&self) -> bool {
        false
    }
    /// True when a forbidden endpoint means "not offered to this account" (skip the stream)
    /// rather than a permission error.
    fn forbidden_is_unavailable(&self) -> bool {
        false
    }
    /// Told how long each request took (e.g. to decide on parallel reading).
    fn fetched(&mut self, _took: Duration) {}
}

/// A fetched body (or why the endpoint is unavailable) and how long the request took.
type Fetched = Result<(Result<bytes::Bytes, Outcome>, Duration), Error>;

/// A request in flight; aborted when dropped.
struct InFlight(JoinHandle<Fetched>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl InFlight {
    fn start<F: Fetch, P: Pager>(ctx: &Ctx<F>, pager: &P, at: &P::Cursor) -> Self {
        let ctx = ctx.clone();
        let (stream, path, query) = (pager.stream(), pager.path(), pager.query(at));
        let forbidden_ok = pager.forbidden_is_unavailable();
        Self(tokio::spawn(async move {
            // One of the sync's in-flight slots, held for the request only (the semaphore is
            // never closed).
            let _slot = ctx.slots.clone().acquire_owned().await.ok();
            let started = Instant::now();
            let reply = get_optional(&ctx, stream, path, &query, forbidden_ok).await?;
            Ok((reply, started.elapsed()))
        }))
    }

    async fn wait(mut self) -> Fetched {
        (&mut self.0)
            .await
            .map_err(|e| Error::Internal(format!("a page request task failed: {e}")))?
    }
}

/// Runs the loop until the pager's stop rule, an unavailable endpoint, or an error.
pub async fn run<F: Fetch, P: Pager>(ctx: &Ctx<F>, pager: &mut P) -> Result<Outcome, Error> {
    let mut at = pager.first();
    let mut pending = InFlight::start(ctx, pager, &at);
    loop {
        let (reply, took) = pending.wait().await?;
        pager.fetched(took);
        let body = match reply {
            Ok(body) => body,
            Err(unavailable) => return Ok(unavailable),
        };
        let page = pager.parse(&body)?;
        let next = pager.next(&page, &at);
        let last = pager.is_last(&page, &at);
        let prefetched = match &next {
            Some(n) if !last && *n > at && pager.prefetch() => {
                Some((InFlight::start(ctx, pager, n), n.clone()))
            }
            _ => None,
        };
        let fresh = {
            let mut out = ctx.output.lock();
            let fresh = pager.emit(page, &at, &mut out)?;
            pager.commit(&mut out, last)?;
            fresh
        };
        if last {
            return Ok(Outcome::Done);
        }
        at = guard(pager, &at, next, fresh)?;
        pending = match prefetched {
            Some((request, from)) if from == at => request,
            _ => InFlight::start(ctx, pager, &at),
        };
    }
}

/// The "no progress" guard: the next cursor, when the page moved past `at`.
fn guard<P: Pager>(
    pager: &P,
    at: &P::Cursor,
    next: Option<P::Cursor>,
    fresh: u64,
) -> Result<P::Cursor, Error> {
    match next {
        Some(n) if n > *at && fresh > 0 => Ok(n),
        _ => Err(Error::Protocol(format!(
            "{} returned a full page without a record beyond the cursor {at:?} (stream {}); stopping instead of reading the same records again. This is a Zendesk paging fault: retry later, or report it to Zendesk if it persists.",
            pager.path(),
            pager.stream()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::scripted::{page, param, Harness, Scripted};
    use serde_json::{json, Value};

    /// Pages ids >= since_id, 3 per page; `last` is the highest id emitted.
    struct Ids {
        last: Option<i64>,
        emitted: Vec<i64>,
    }

    impl Pager for Ids {
        type Cursor = i64;
        type Page<'b> = Vec<i64>;
        fn stream(&self) -> &'static str {
            "agents"
        }
        fn path(&self) -> &'static str {
            "agents"
        }
        fn first(&self) -> i64 {
            0
        }
        fn query(&self, at: &i64) -> Vec<(&'static str, String)> {
            vec![("since_id", at.to_string())]
        }
        fn parse(&self, body: &[u8]) -> Result<Vec<i64>, Error> {
            crate::records::decode("agents", body)
        }
        fn next(&self, page: &Vec<i64>, _: &i64) -> Option<i64> {
            page.last().and_then(|id| id.checked_add(1))
        }
        fn is_last(&self, page: &Vec<i64>, _: &i64) -> bool {
            page.is_empty()
        }
        fn emit(&mut self, page: Vec<i64>, at: &i64, _: &mut Writer<'_>) -> Result<u64, Error> {
            let fresh: Vec<i64> = page.into_iter().filter(|id| id >= at).collect();
            self.emitted.extend(&fresh);
            self.last = fresh.last().copied().or(self.last);
            Ok(fresh.len() as u64)
        }
        fn commit(&mut self, out: &mut Writer<'_>, _: bool) -> Result<(), Error> {
            Ok(out.push_state("agents", json!({ "id": self.last }))?)
        }
        fn prefetch(&self) -> bool {
            true
        }
    }

    fn since(q: &[(&str, String)]) -> i64 {
        param(q, "since_id")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn pages_until_the_stop_rule_and_commits_after_each_page() {
        let h = Harness::new(
            Scripted::new(|_, q| {
                let s = since(q);
                page(json!((s..(s + 3).min(8)).collect::<Vec<_>>()))
            }),
            0,
            1,
        );
        let mut p = Ids {
            last: None,
            emitted: Vec::new(),
        };
        assert_eq!(run(&h.ctx, &mut p).await.unwrap(), Outcome::Done);
        assert_eq!(p.emitted, (0..8).collect::<Vec<_>>());
        let states: Vec<Value> = h.states("agents");
        assert_eq!(states.len(), 4, "{states:?}");
        assert_eq!(states[3]["id"], 7);
        // since_id 0, 3, 6, 8 (the empty last page); the prefetch never asks beyond it.
        assert_eq!(h.ctx.fetch.requests(), 4);
    }

    #[tokio::test]
    async fn a_page_of_repeated_records_is_an_error_not_a_loop() {
        // The API ignores since_id and answers the same records forever.
        let h = Harness::new(Scripted::new(|_, _| page(json!([0, 1, 2]))), 0, 1);
        let mut p = Ids {
            last: None,
            emitted: Vec::new(),
        };
        let err = run(&h.ctx, &mut p).await.unwrap_err().to_string();
        assert!(err.contains("agents") && err.contains("cursor 3"), "{err}");
        assert!(h.ctx.fetch.requests() <= 4, "{}", h.ctx.fetch.requests());
    }

    #[tokio::test]
    async fn a_cursor_that_cannot_advance_is_an_error() {
        let h = Harness::new(Scripted::new(|_, _| page(json!([i64::MAX]))), 0, 1);
        let mut p = Ids {
            last: None,
            emitted: Vec::new(),
        };
        let err = run(&h.ctx, &mut p).await.unwrap_err().to_string();
        assert!(err.contains("cursor 0"), "{err}");
        assert_eq!(p.emitted, vec![i64::MAX]);
    }

    #[tokio::test]
    async fn a_missing_endpoint_ends_the_run_as_unavailable() {
        let h = Harness::new(
            Scripted::new(|_, _| crate::paging::Reply::Missing(Error::Protocol("404".into()))),
            0,
            1,
        );
        let mut p = Ids {
            last: None,
            emitted: Vec::new(),
        };
        assert!(matches!(
            run(&h.ctx, &mut p).await.unwrap(),
            Outcome::Unavailable(_)
        ));
        assert_eq!(h.ctx.fetch.requests(), 1);
    }
}
