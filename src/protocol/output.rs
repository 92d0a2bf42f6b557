//! The single owner of stdout: writes one Airbyte message per line, batches a page's records with
//! the STATE that follows them, redacts secrets from human-readable messages, and turns a closed
//! pipe into a typed error instead of a panic.

use std::io::{self, Write};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::value::RawValue;

use super::messages::{AirbyteMessage, RecordRef};
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
    inner: Mutex<io::BufWriter<Box<dyn Write + Send>>>,
}

impl Output {
    /// Wraps a writer with a 256 KiB buffer.
    pub fn new(writer: Box<dyn Write + Send>) -> Self {
        Self {
            inner: Mutex::new(io::BufWriter::with_capacity(256 * 1024, writer)),
        }
    }

    /// Output to the process's stdout.
    pub fn stdout() -> Self {
        Self::new(Box::new(io::stdout()))
    }

    /// Writes one message as one line. LOG, TRACE and CONNECTION_STATUS text is redacted;
    /// CONTROL messages are the one place the config (with its secrets) goes back to the platform.
    pub fn emit(&self, msg: &AirbyteMessage) -> Result<(), OutputError> {
        let mut batch = Batch::default();
        batch.push(msg)?;
        self.write_batch(&batch)?;
        if matches!(
            msg,
            AirbyteMessage::State { .. } | AirbyteMessage::Control { .. }
        ) {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes pre-serialized lines in one go, so a page's records and its STATE stay together
    /// even when several streams write concurrently.
    pub fn write_batch(&self, batch: &Batch) -> Result<(), OutputError> {
        let mut w = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        w.write_all(&batch.buf)?;
        if batch.has_state {
            w.flush()?;
        }
        Ok(())
    }

    /// Flushes buffered lines.
    pub fn flush(&self) -> Result<(), OutputError> {
        let mut w = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        w.flush()?;
        Ok(())
    }
}

/// Lines built off the lock (serialization is the CPU-heavy part), then written at once.
#[derive(Default)]
pub struct Batch {
    buf: Vec<u8>,
    has_state: bool,
    /// Records per stream since that stream's last STATE in this batch.
    counts: Vec<(String, u64)>,
}

impl Batch {
    /// An empty batch with room for `bytes`.
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            buf: Vec::with_capacity(bytes),
            has_state: false,
            counts: Vec::new(),
        }
    }

    /// Appends a RECORD line whose `data` is passed through as raw JSON.
    pub fn push_record(
        &mut self,
        stream: &str,
        data: &RawValue,
        emitted_at: i64,
    ) -> Result<(), OutputError> {
        self.buf.extend_from_slice(br#"{"type":"RECORD","record":"#);
        write_json(
            &mut self.buf,
            &RecordRef {
                stream,
                data,
                emitted_at,
            },
        )?;
        self.buf.extend_from_slice(b"}\n");
        match self.counts.iter_mut().find(|(s, _)| s == stream) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((stream.to_owned(), 1)),
        }
        Ok(())
    }

    /// Records of `stream` added since its previous STATE in this batch (and resets the count):
    /// the `sourceStats.recordCount` of the STATE about to be added.
    pub fn take_count(&mut self, stream: &str) -> u64 {
        self.counts
            .iter_mut()
            .find(|(s, _)| s == stream)
            .map_or(0, |(_, n)| std::mem::take(n))
    }

    /// Appends any message.
    pub fn push(&mut self, msg: &AirbyteMessage) -> Result<(), OutputError> {
        match msg {
            AirbyteMessage::Log { .. }
            | AirbyteMessage::Trace { .. }
            | AirbyteMessage::ConnectionStatus { .. } => {
                let line = serde_json::to_string(msg).map_err(io::Error::other)?;
                self.buf
                    .extend_from_slice(secrets::redact(&line).as_bytes());
            }
            AirbyteMessage::State { .. } => {
                self.has_state = true;
                write_json(&mut self.buf, msg)?;
            }
            _ => write_json(&mut self.buf, msg)?,
        }
        self.buf.push(b'\n');
        Ok(())
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.buf.len()
    }
}

fn write_json<T: Serialize>(buf: &mut Vec<u8>, value: &T) -> Result<(), OutputError> {
    serde_json::to_writer(&mut *buf, value).map_err(|e| OutputError::Io(io::Error::other(e)))
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
        let mut batch = Batch::default();
        let data = RawValue::from_string("{\"id\":\"a\",\"x\":[1,2]}".into()).unwrap();
        batch.push_record("chats", &data, 7).unwrap();
        batch
            .push(&AirbyteMessage::log(LogLevel::Info, "line\nbreak"))
            .unwrap();
        out.write_batch(&batch).unwrap();
        out.flush().unwrap();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            r#"{"type":"RECORD","record":{"stream":"chats","data":{"id":"a","x":[1,2]},"emitted_at":7}}"#
        );
        let log: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(log["log"]["message"], "line\nbreak");
    }

    #[test]
    fn broken_pipe_is_a_typed_error() {
        // Lines are buffered; the closed pipe shows on flush (and on every STATE, which flushes).
        let out = Output::new(Box::new(Closed));
        out.emit(&AirbyteMessage::log(LogLevel::Info, "x")).unwrap();
        assert!(matches!(out.flush().unwrap_err(), OutputError::Closed));
        let out = Output::new(Box::new(Closed));
        let state = AirbyteMessage::State {
            state: crate::protocol::AirbyteStateMessage::stream("s", serde_json::json!({}), 0),
        };
        assert!(matches!(out.emit(&state).unwrap_err(), OutputError::Closed));
    }
}
