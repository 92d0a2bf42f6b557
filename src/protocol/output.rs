//! The single owner of stdout: writes one Airbyte message per line, batches a page's records with
//! the STATE that follows them, redacts secrets from human-readable messages, and turns a closed
//! pipe into a typed error instead of a panic.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::{Mutex, MutexGuard};

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
}

struct Inner {
    out: io::BufWriter<Box<dyn Write + Send>>,
    /// Records written per stream since that stream's last STATE: the next STATE's
    /// `sourceStats.recordCount`, exact in output order whatever the concurrency.
    counts: HashMap<String, u64>,
}

impl Output {
    /// Wraps a writer with a 256 KiB buffer.
    pub fn new(writer: Box<dyn Write + Send>) -> Self {
        Self {
            inner: Mutex::new(Inner {
                out: io::BufWriter::with_capacity(256 * 1024, writer),
                counts: HashMap::new(),
            }),
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

    /// Writes one message as one line (STATE and CONTROL are flushed at once).
    pub fn emit(&self, msg: &AirbyteMessage) -> Result<(), OutputError> {
        let mut w = self.lock();
        w.push(msg)?;
        if matches!(msg, AirbyteMessage::Control { .. }) {
            w.flush()?;
        }
        Ok(())
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
            Some(n) => *n += 1,
            None => {
                inner.counts.insert(stream.to_owned(), 1);
            }
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
        self.push(&msg)?;
        self.flush()
    }

    /// Writes any message.
    pub fn push(&mut self, msg: &AirbyteMessage) -> Result<(), OutputError> {
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
        self.inner.out.flush()?;
        Ok(())
    }

    /// Writes a RECORD line whose `data` is compact JSON text made by the connector (one line,
    /// not checked again), with `meta.changes` listing the `nulled` field paths, if any.
    pub fn push_typed_record(
        &mut self,
        stream: &str,
        data: &[u8],
        nulled: &[Box<str>],
        emitted_at: i64,
    ) -> Result<(), OutputError> {
        let inner = &mut *self.inner;
        inner
            .out
            .write_all(br#"{"type":"RECORD","record":{"stream":"#)?;
        write_json(&mut inner.out, &stream)?;
        inner.out.write_all(br#","data":"#)?;
        inner.out.write_all(data)?;
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
        out.emit(&AirbyteMessage::log(LogLevel::Info, "x")).unwrap();
        assert!(matches!(out.flush().unwrap_err(), OutputError::Closed));
        let out = Output::new(Box::new(Closed));
        assert!(matches!(
            out.lock()
                .push_state("s", serde_json::json!({}))
                .unwrap_err(),
            OutputError::Closed
        ));
    }
}
