//! The single owner of stdout: writes one Airbyte message per line, batches records (flushed at
//! the latest ~1 s after they were written) while every other message reaches stdout at once,
//! redacts secrets from human-readable messages, and turns a closed pipe into a typed error.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError, Weak};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::messages::{AirbyteMessage, RecordRef};
use super::state::AirbyteStateMessage;
use crate::secrets;

/// Why output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The reader went away (for example `| head`); the process should end quietly.
    #[error("stdout was closed by the reader")]
    Closed,
    #[error("cannot write to stdout: {0}")]
    Io(io::Error),
}

impl From<io::Error> for OutputError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            OutputError::Closed
        } else {
            OutputError::Io(e)
        }
    }
}

/// Shared handle to stdout (or any writer in tests). Cheap to share behind an `Arc`.
pub struct Output {
    inner: Mutex<Inner>,
    /// Called with every config a CONTROL message hands back (opt-in write-back to the file).
    config_sink: std::sync::OnceLock<ConfigSink>,
}

/// Receives updated configs; an error is reported as a WARN log, the CONTROL message stands.
pub type ConfigSink = Box<dyn Fn(&Value) -> Result<(), String> + Send + Sync>;

struct Inner {
    out: io::BufWriter<Box<dyn Write + Send>>,
    /// Records written per stream since that stream's last STATE: the next STATE's
    /// `sourceStats.recordCount`, exact in output order whatever the concurrency.
    counts: HashMap<String, u64>,
    /// When the buffer was last flushed: records never wait longer than [`MAX_RECORD_DELAY`].
    last_flush: Instant,
}

/// The longest a written record may sit in the buffer.
pub const MAX_RECORD_DELAY: Duration = Duration::from_secs(1);

/// How often the background flusher looks for records left waiting in an idle period.
const FLUSHER_TICK: Duration = Duration::from_millis(250);

/// How long a panic report waits for the output lock before writing around it.
const PANIC_LOCK_WAIT: Duration = Duration::from_millis(200);

impl Output {
    /// Wraps a writer with a 256 KiB buffer.
    pub fn new(writer: Box<dyn Write + Send>) -> Self {
        Self {
            inner: Mutex::new(Inner {
                out: io::BufWriter::with_capacity(256 * 1024, writer),
                counts: HashMap::new(),
                last_flush: Instant::now(),
            }),
            config_sink: std::sync::OnceLock::new(),
        }
    }

    /// Starts a thread that flushes records left in the buffer for over [`MAX_RECORD_DELAY`]
    /// (a stream that wrote part of a page and then waits). It ends with the last `Arc`.
    pub fn spawn_flusher(self: &Arc<Self>) -> io::Result<()> {
        let weak: Weak<Self> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("stdout-flusher".into())
            .spawn(move || loop {
                std::thread::sleep(FLUSHER_TICK);
                let Some(out) = weak.upgrade() else { return };
                let guard = match out.inner.try_lock() {
                    Ok(g) => g,
                    Err(TryLockError::Poisoned(p)) => p.into_inner(),
                    Err(TryLockError::WouldBlock) => continue, // the writer flushes by itself
                };
                let mut w = Writer { inner: guard };
                if w.inner.last_flush.elapsed() >= MAX_RECORD_DELAY && w.flush().is_err() {
                    return; // stdout is gone; the writers report it
                }
            })
            .map(|_| ())
    }

    /// Writes `msg` (a TRACE for a panic) and everything buffered, without ever blocking on a
    /// lock held by the panicking thread: after a short wait it writes the line straight to
    /// `fallback`, after a newline that ends any partly written line.
    pub fn write_for_panic(&self, msg: &AirbyteMessage, fallback: &mut dyn Write) {
        let deadline = Instant::now() + PANIC_LOCK_WAIT;
        loop {
            match self.inner.try_lock() {
                Ok(guard) => {
                    let mut w = Writer { inner: guard };
                    let _ = w.push(msg).and_then(|()| w.flush());
                    return;
                }
                Err(TryLockError::Poisoned(p)) => {
                    let mut w = Writer {
                        inner: p.into_inner(),
                    };
                    let _ = w.push(msg).and_then(|()| w.flush());
                    return;
                }
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TryLockError::WouldBlock) => break,
            }
        }
        if let Ok(line) = serde_json::to_string(msg) {
            let text = format!("\n{}\n", secrets::redact(&line));
            let _ = fallback.write_all(text.as_bytes());
            let _ = fallback.flush();
        }
    }

    /// Output to the process's stdout.
    pub fn stdout() -> Self {
        Self::new(Box::new(io::stdout()))
    }

    /// Exclusive access for a run of lines (a page's records and the STATE after them), written
    /// straight into the stdout buffer: no page is held twice in memory.
    pub fn lock(&self) -> Writer<'_> {
        Writer {
            inner: self
                .inner
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// Writes one message as one line; every message but a RECORD is flushed at once.
    pub fn emit(&self, msg: &AirbyteMessage) -> Result<(), OutputError> {
        self.lock().push(msg)?;
        if let (AirbyteMessage::Control { control }, Some(sink)) = (msg, self.config_sink.get()) {
            if let Err(why) = sink(&control.connector_config.config) {
                tracing::warn!("{why}");
                self.lock()
                    .push(&AirbyteMessage::log(super::LogLevel::Warn, why))?;
            }
        }
        Ok(())
    }

    /// Sends every config of a later CONTROL message to `sink` too (set once).
    pub fn set_config_sink(&self, sink: ConfigSink) {
        let _ = self.config_sink.set(sink);
    }

    /// Flushes buffered lines.
    pub fn flush(&self) -> Result<(), OutputError> {
        self.lock().flush()
    }
}

/// A locked [`Output`]. Human-readable text (LOG, TRACE, CONNECTION_STATUS) is redacted; CONTROL
/// messages are the one place the config (with its secrets) goes back to the platform.
pub struct Writer<'a> {
    inner: MutexGuard<'a, Inner>,
}

impl Writer<'_> {
    /// Writes a RECORD line whose `data` is passed through as raw JSON.
    pub fn push_record(
        &mut self,
        stream: &str,
        data: &RawValue,
        emitted_at: i64,
    ) -> Result<(), OutputError> {
        let inner = &mut *self.inner;
        inner.out.write_all(br#"{"type":"RECORD","record":"#)?;
        write_json(
            &mut inner.out,
            &RecordRef {
                stream,
                data,
                emitted_at,
            },
        )?;
        inner.out.write_all(b"}\n")?;
        match inner.counts.get_mut(stream) {
            Some(n) => *n = n.saturating_add(1),
            None => {
                inner.counts.insert(stream.to_owned(), 1);
            }
        }
        self.flush_if_due()
    }

    /// Flushes when the buffer was last flushed over [`MAX_RECORD_DELAY`] ago (call after
    /// writing a record).
    pub fn flush_if_due(&mut self) -> Result<(), OutputError> {
        if self.inner.last_flush.elapsed() >= MAX_RECORD_DELAY {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes a per-stream STATE committing every record of that stream written before it, and
    /// flushes.
    pub fn push_state(&mut self, stream: &str, stream_state: Value) -> Result<(), OutputError> {
        let count = self.inner.counts.get_mut(stream).map_or(0, std::mem::take);
        let msg = AirbyteMessage::State {
            state: AirbyteStateMessage::stream(stream, stream_state, count),
        };
        self.push(&msg)
    }

    /// Writes any message; flushes unless it is a RECORD (records are batched).
    pub fn push(&mut self, msg: &AirbyteMessage) -> Result<(), OutputError> {
        self.write_line(msg)?;
        if matches!(msg, AirbyteMessage::Record { .. }) {
            self.flush_if_due()
        } else {
            self.flush()
        }
    }

    fn write_line(&mut self, msg: &AirbyteMessage) -> Result<(), OutputError> {
        let out = &mut self.inner.out;
        match msg {
            AirbyteMessage::Log { .. }
            | AirbyteMessage::Trace { .. }
            | AirbyteMessage::ConnectionStatus { .. } => {
                let line = serde_json::to_string(msg).map_err(io::Error::other)?;
                out.write_all(secrets::redact(&line).as_bytes())?;
            }
            _ => write_json(out, msg)?,
        }
        out.write_all(b"\n")?;
        Ok(())
    }

    /// Flushes buffered lines.
    pub fn flush(&mut self) -> Result<(), OutputError> {
        self.inner.last_flush = Instant::now();
        self.inner.out.flush()?;
        Ok(())
    }

    /// Writes a RECORD line whose `data` is compact JSON text made by the connector (one line,
    /// not checked again), with `meta.changes` listing the `nulled` field paths, if any.
    pub fn push_typed_record<'d>(
        &mut self,
        stream: &str,
        data: impl IntoIterator<Item = &'d [u8]>,
        nulled: &[Box<str>],
        emitted_at: i64,
    ) -> Result<(), OutputError> {
        let inner = &mut *self.inner;
        inner
            .out
            .write_all(br#"{"type":"RECORD","record":{"stream":"#)?;
        write_json(&mut inner.out, &stream)?;
        inner.out.write_all(br#","data":"#)?;
        for piece in data {
            inner.out.write_all(piece)?;
        }
        write!(inner.out, r#","emitted_at":{emitted_at}"#)?;
        if !nulled.is_empty() {
            let meta = super::messages::AirbyteRecordMessageMeta {
                changes: nulled
                    .iter()
                    .map(|f| super::messages::AirbyteRecordMessageMetaChange::nulled(f))
                    .collect(),
            };
            inner.out.write_all(br#","meta":"#)?;
            write_json(&mut inner.out, &meta)?;
        }
        inner.out.write_all(b"}}\n")?;
        match inner.counts.get_mut(stream) {
            Some(n) => *n += 1,
            None => {
                inner.counts.insert(stream.to_owned(), 1);
            }
        }
        Ok(())
    }
}

fn write_json<W: Write, T: Serialize>(out: &mut W, value: &T) -> Result<(), OutputError> {
    serde_json::to_writer(out, value).map_err(|e| match e.io_error_kind() {
        Some(io::ErrorKind::BrokenPipe) => OutputError::Closed,
        _ => OutputError::Io(io::Error::other(e)),
    })
}

/// An in-memory stdout for tests: what an [`Output`] over it wrote, shared by its clones.
#[cfg(test)]
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

#[cfg(test)]
impl Captured {
    /// An output writing here, and this capture.
    pub fn output() -> (Arc<Output>, Captured) {
        let captured = Captured::default();
        (Arc::new(Output::new(Box::new(captured.clone()))), captured)
    }

    /// What was written so far, as text.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// What was written so far, one parsed message per line.
    pub fn messages(&self) -> Vec<Value> {
        let text = self.text();
        text.lines()
            .map(|l| serde_json::from_str(l).expect("one JSON message per line"))
            .collect()
    }
}

#[cfg(test)]
impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::LogLevel;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    #[test]
    fn one_line_per_message_and_records_pass_through() {
        let sink = Shared::default();
        let out = Output::new(Box::new(sink.clone()));
        let data = RawValue::from_string("{\"id\":\"a\",\"x\":[1,2]}".into()).unwrap();
        {
            let mut w = out.lock();
            w.push_record("chats", &data, 7).unwrap();
            w.push(&AirbyteMessage::log(LogLevel::Info, "line\nbreak"))
                .unwrap();
            w.push_record("chats", &data, 7).unwrap();
            w.push_state("chats", serde_json::json!({})).unwrap();
            w.push_state("chats", serde_json::json!({})).unwrap();
        }
        out.flush().unwrap();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(
            lines[0],
            r#"{"type":"RECORD","record":{"stream":"chats","data":{"id":"a","x":[1,2]},"emitted_at":7}}"#
        );
        let log: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(log["log"]["message"], "line\nbreak");
        let count = |i: usize| {
            serde_json::from_str::<serde_json::Value>(lines[i]).unwrap()["state"]["sourceStats"]
                ["recordCount"]
                .clone()
        };
        assert_eq!(count(3), 2.0);
        assert_eq!(count(4), 0.0);
    }

    #[test]
    fn broken_pipe_is_a_typed_error() {
        // Lines are buffered; the closed pipe shows on flush (and on every STATE, which flushes).
        let out = Output::new(Box::new(Closed));
        assert!(matches!(
            out.emit(&AirbyteMessage::log(LogLevel::Info, "x"))
                .unwrap_err(),
            OutputError::Closed
        ));
        let out = Output::new(Box::new(Closed));
        assert!(matches!(
            out.lock()
                .push_state("s", serde_json::json!({}))
                .unwrap_err(),
            OutputError::Closed
        ));
    }

    fn text(sink: &Shared) -> String {
        String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()
    }

    fn record() -> Box<RawValue> {
        RawValue::from_string("{\"id\":1}".into()).unwrap()
    }

    #[test]
    fn records_are_batched_but_every_other_message_is_flushed_at_once() {
        let sink = Shared::default();
        let out = Output::new(Box::new(sink.clone()));
        let data = record();
        out.lock().push_record("chats", &data, 7).unwrap();
        out.lock().push_record("chats", &data, 7).unwrap();
        assert_eq!(text(&sink), "", "records wait in the buffer");
        out.emit(&AirbyteMessage::log(LogLevel::Info, "alive"))
            .unwrap();
        assert_eq!(text(&sink).lines().count(), 3, "a LOG flushes at once");
        out.lock().push_record("chats", &data, 7).unwrap();
        out.emit(&AirbyteMessage::stream_status(
            "chats",
            crate::protocol::messages::AirbyteStreamStatus::Running,
            None,
        ))
        .unwrap();
        assert_eq!(text(&sink).lines().count(), 5, "a STREAM_STATUS flushes");
    }

    #[test]
    fn a_record_older_than_a_second_is_flushed_by_the_next_push_or_the_flusher() {
        let sink = Shared::default();
        let out = Arc::new(Output::new(Box::new(sink.clone())));
        let data = record();
        out.lock().push_record("chats", &data, 7).unwrap();
        std::thread::sleep(MAX_RECORD_DELAY + Duration::from_millis(50));
        out.lock().push_record("chats", &data, 7).unwrap();
        assert_eq!(text(&sink).lines().count(), 2, "the late push flushed");
        out.spawn_flusher().unwrap();
        out.lock().push_record("chats", &data, 7).unwrap();
        assert_eq!(text(&sink).lines().count(), 2);
        std::thread::sleep(MAX_RECORD_DELAY + FLUSHER_TICK * 3);
        assert_eq!(text(&sink).lines().count(), 3, "the idle flusher flushed");
    }

    #[test]
    fn a_panic_report_never_waits_on_a_held_lock() {
        let sink = Shared::default();
        let out = Output::new(Box::new(sink.clone()));
        let data = record();
        let trace = AirbyteMessage::log(LogLevel::Fatal, "boom");
        let mut fallback = Vec::new();
        {
            let mut held = out.lock();
            held.push_record("chats", &data, 7).unwrap();
            let started = Instant::now();
            out.write_for_panic(&trace, &mut fallback);
            assert!(started.elapsed() < Duration::from_secs(1));
        }
        let raw = String::from_utf8(fallback).unwrap();
        assert!(raw.starts_with('\n') && raw.contains("boom"), "{raw:?}");
        let mut fallback = Vec::new();
        out.write_for_panic(&trace, &mut fallback);
        assert!(
            fallback.is_empty(),
            "with the lock free it goes through Output"
        );
        let lines = text(&sink);
        assert_eq!(
            lines.lines().count(),
            2,
            "buffered record and trace: {lines}"
        );
        assert!(lines.lines().nth(1).unwrap().contains("boom"));
    }
}
