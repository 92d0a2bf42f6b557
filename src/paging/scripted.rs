//! A scripted in-memory [`Fetch`] for unit tests: a closure answers each request, every request
//! is logged, and the output is captured as parsed Airbyte messages.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::Value;

use super::driver::{Ctx, Selection, Tracker};
use super::{Fetch, Reply};
use crate::error::Error;
use crate::protocol::output::Captured;
use crate::protocol::SyncMode;

type Answer = dyn Fn(&str, &[(&str, String)]) -> Reply + Send + Sync;

/// Answers requests with a closure and logs them as `path?k=v&...`.
pub struct Scripted {
    answer: Box<Answer>,
    pub log: Mutex<Vec<String>>,
}

impl Scripted {
    pub fn new(answer: impl Fn(&str, &[(&str, String)]) -> Reply + Send + Sync + 'static) -> Self {
        Self {
            answer: Box::new(answer),
            log: Mutex::new(Vec::new()),
        }
    }

    /// How many requests were made.
    pub fn requests(&self) -> usize {
        self.log.lock().map(|l| l.len()).unwrap_or(0)
    }
}

impl Fetch for Scripted {
    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Reply, Error> {
        let line = query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        if let Ok(mut log) = self.log.lock() {
            log.push(format!("{path}?{line}"));
        }
        Ok((self.answer)(path, query))
    }
}

/// A JSON body.
pub fn page(v: Value) -> Reply {
    Reply::Page(Bytes::from(v.to_string()))
}

/// The value of a query parameter.
pub fn param<'a>(query: &'a [(&str, String)], key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str())
}

/// A read context over a scripted fetch, and what it wrote.
pub struct Harness {
    pub ctx: Ctx<Scripted>,
    captured: Captured,
}

impl Harness {
    pub fn new(fetch: Scripted, start_secs: i64, concurrency: usize) -> Self {
        let (output, captured) = Captured::output();
        let start_date = chrono::DateTime::from_timestamp(start_secs, 0).unwrap_or_default();
        Self {
            ctx: Ctx {
                fetch: Arc::new(fetch),
                output,
                start_date,
                concurrency,
                slots: Arc::new(tokio::sync::Semaphore::new(concurrency.max(1))),
            },
            captured,
        }
    }

    /// An incremental selection of `name` resuming from `state`.
    pub fn selection(name: &'static str, state: Option<Value>) -> Selection {
        Selection {
            name,
            mode: SyncMode::Incremental,
            state,
            tracker: Tracker::new(crate::streams::find(name).expect("a stream of the catalog")),
        }
    }

    /// Every message written so far.
    pub fn messages(&self) -> Vec<Value> {
        let _ = self.ctx.output.flush();
        self.captured.messages()
    }

    /// The records' `data` of `stream`, in order.
    pub fn records(&self, stream: &str) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| m["type"] == "RECORD" && m["record"]["stream"] == stream)
            .map(|m| m["record"]["data"].clone())
            .collect()
    }

    /// The stream states of `stream`, in order.
    pub fn states(&self, stream: &str) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| {
                m["type"] == "STATE" && m["state"]["stream"]["stream_descriptor"]["name"] == stream
            })
            .map(|m| m["state"]["stream"]["stream_state"].clone())
            .collect()
    }

    /// The LOG messages at WARN.
    pub fn warnings(&self) -> Vec<String> {
        self.logs("WARN")
    }

    /// The LOG messages at `level`.
    pub fn logs(&self, level: &str) -> Vec<String> {
        self.messages()
            .into_iter()
            .filter(|m| m["type"] == "LOG" && m["log"]["level"] == level)
            .filter_map(|m| m["log"]["message"].as_str().map(str::to_owned))
            .collect()
    }
}
