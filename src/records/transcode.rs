//! The typed layer's fast path: walks a body's JSON against a record's [`Shape`] and keeps the
//! typed record as its input plus patches. Only what differs is written (whitespace between
//! tokens is cut, leaves that need the quirk rules are replaced), so a record is copied once,
//! when it is emitted. The rules are those of [`super::normalize`], which stays the reference:
//! whatever this walk does not handle (a malformed body, an escaped key, deep nesting) is a
//! [`Bail`], and the caller then reads the whole body with serde_json.

mod scan;

use std::ops::Range;

use super::normalize::{write_leaf, Field, Kind, Patch, Path, Shape, Sink, Tap};
use super::quirks::{is_canonical, is_plain_int, Leaf};
use super::shape::{Hint, EMPTY};
use scan::Scan;

/// The body is left to the serde_json reader.
#[derive(Debug, PartialEq, Eq)]
pub struct Bail;

type Walk = Result<(), Bail>;

/// The deepest nesting walked here (serde_json's own limit is 128).
const MAX_DEPTH: u32 = 100;

/// A record read by [`Transcoder::record`].
pub struct Written<'a> {
    /// Its input.
    pub raw: &'a str,
    /// Its patches in the sink.
    pub patches: Range<usize>,
    /// The size of its typed text.
    pub typed: usize,
}

/// Reads typed records from JSON text, their patches kept in a [`Sink`].
pub struct Transcoder<'a, 's> {
    text: &'a str,
    scan: Scan<'a>,
    sink: &'s mut Sink,
    /// Where the current record starts (patches count from there).
    base: usize,
    /// Whether patches are kept (false between records).
    keep: bool,
    depth: u32,
}

impl<'a, 's> Transcoder<'a, 's> {
    pub fn new(text: &'a str, sink: &'s mut Sink) -> Self {
        Self {
            text,
            scan: Scan::new(text.as_bytes()),
            sink,
            base: 0,
            keep: false,
            depth: 0,
        }
    }

    /// How many nulled-field paths the sink holds.
    pub fn changes(&self) -> usize {
        self.sink.changes.len()
    }

    /// Replaces the input `from..to` by what was written to the sink since `text`.
    fn patch(&mut self, from: usize, to: usize, text: usize) -> Walk {
        if !self.keep {
            self.sink.out.truncate(text);
            return Ok(());
        }
        let offset = |at: usize| u32::try_from(at).map_err(|_| Bail);
        let relative = |at: usize| at.checked_sub(self.base).ok_or(Bail);
        let patch = Patch {
            from: offset(relative(from)?)?,
            to: offset(relative(to)?)?,
            text: offset(text)?,
            text_end: offset(self.sink.out.len())?,
        };
        self.sink.patches.push(patch);
        Ok(())
    }

    /// Skips whitespace, which is never written out. (A patch fails only on offsets past 4 GiB,
    /// and the reader hands over smaller bodies only.)
    pub fn ws(&mut self) {
        let start = self.scan.i;
        if self.scan.ws() && self.keep {
            let text = self.sink.out.len();
            let _ = self.patch(start, self.scan.i, text);
        }
    }

    /// The token `byte` (then whitespace), or a bail.
    pub fn expect(&mut self, byte: u8) -> Walk {
        if !self.scan.eat(byte) {
            return Err(Bail);
        }
        self.ws();
        Ok(())
    }

    /// Consumes `byte` (then whitespace) if it is next.
    pub fn close(&mut self, byte: u8) -> bool {
        let hit = self.scan.eat(byte);
        if hit {
            self.ws();
        }
        hit
    }

    /// Consumes `null` (then whitespace) if it is next.
    pub fn null(&mut self) -> bool {
        let hit = self.scan.peek() == Some(b'n') && self.scan.literal(b"null").is_some();
        if hit {
            self.ws();
        }
        hit
    }

    /// A key without escapes and its colon.
    pub fn key(&mut self) -> Result<&'a str, Bail> {
        let start = self.scan.i;
        let s = self.scan.string().ok_or(Bail)?;
        if s.escaped {
            return Err(Bail);
        }
        let key = self.text.get(start + 1..s.end - 1).ok_or(Bail)?;
        self.ws();
        self.expect(b':')?;
        Ok(key)
    }

    /// A value that is not output.
    pub fn skip(&mut self) -> Walk {
        self.any()?;
        self.ws();
        Ok(())
    }

    /// A count: null or a non-negative integer.
    pub fn count(&mut self) -> Result<Option<u64>, Bail> {
        if self.null() {
            return Ok(None);
        }
        let start = self.scan.i;
        self.scan.number().ok_or(Bail)?;
        let n = self.text.get(start..self.scan.i).ok_or(Bail)?;
        let n = n.parse().map_err(|_| Bail)?;
        self.ws();
        Ok(Some(n))
    }

    /// Nothing but whitespace is left.
    pub fn end(&mut self) -> Walk {
        self.ws();
        (self.scan.i == self.scan.b.len()).then_some(()).ok_or(Bail)
    }

    /// An object record at the cursor, typed by `shape` (or only walked, when `None`), with the
    /// tap's top-level values captured as sent.
    pub fn record(
        &mut self,
        shape: Option<&Shape>,
        tap: &mut Tap<'_, 'a>,
    ) -> Result<Written<'a>, Bail> {
        if self.scan.peek() != Some(b'{') {
            return Err(Bail);
        }
        let start = self.scan.i;
        self.base = start;
        self.keep = shape.is_some();
        let first = self.sink.patches.len();
        self.object(shape.unwrap_or(&EMPTY), &Path::Root, Some(tap))?;
        self.keep = false;
        let raw = self.text.get(start..self.scan.i).ok_or(Bail)?;
        let patches = first..self.sink.patches.len();
        let written = self.sink.patches.get(patches.clone()).unwrap_or_default();
        let typed = written.iter().fold(raw.len(), |n, p| {
            let (added, cut) = (
                p.text_end.saturating_sub(p.text),
                p.to.saturating_sub(p.from),
            );
            n.saturating_add(added as usize)
                .saturating_sub(cut as usize)
        });
        self.ws();
        Ok(Written {
            raw,
            patches,
            typed,
        })
    }

    fn value(&mut self, kind: &Kind, path: &Path<'_>) -> Walk {
        match kind {
            Kind::Leaf(leaf) => self.leaf(*leaf, path),
            Kind::Any => self.any(),
            Kind::Object(shape) => match self.scan.peek() {
                Some(b'{') => self.object(shape, path, None),
                Some(b'[') => self.wrapped(shape, path),
                _ => self.mismatch(path),
            },
            Kind::Array(item) => match self.scan.peek() {
                Some(b'[') => self.array(item, path),
                _ => self.mismatch(path),
            },
        }
    }

    /// An element sent as an array where an object is declared: kept as the object's `value`
    /// where the schema declares one (webpath entries come both ways), null otherwise.
    fn wrapped(&mut self, shape: &Shape, path: &Path<'_>) -> Walk {
        let Some((
            _,
            Field {
                kind: Kind::Array(item),
                ..
            },
        )) = shape.find("value")
        else {
            return self.mismatch(path);
        };
        self.insert(br#"{"value":"#)?;
        self.array(item, &Path::Key(path, "value"))?;
        self.insert(b"}")
    }

    /// Inserts `text` at the cursor.
    fn insert(&mut self, text: &[u8]) -> Walk {
        let mark = self.sink.out.len();
        self.sink.out.extend_from_slice(text);
        self.patch(self.scan.i, self.scan.i, mark)
    }

    /// Any JSON value, checked and copied.
    fn any(&mut self) -> Walk {
        let done = match self.scan.peek().ok_or(Bail)? {
            b'{' => return self.object(&EMPTY, &Path::Root, None),
            b'[' => return self.array(&Kind::Any, &Path::Root),
            b'"' => self.scan.string().map(drop),
            b't' => self.scan.literal(b"true"),
            b'f' => self.scan.literal(b"false"),
            b'n' => self.scan.literal(b"null"),
            _ => self.scan.number(),
        };
        done.ok_or(Bail)
    }

    /// A value of the wrong JSON type for an object, array or leaf: null, reported as a change
    /// (a null stays null, unreported).
    fn mismatch(&mut self, path: &Path<'_>) -> Walk {
        if self.scan.peek() == Some(b'n') {
            return self.scan.literal(b"null").ok_or(Bail);
        }
        let (start, patches, mark) = (self.scan.i, self.sink.patches.len(), self.sink.out.len());
        self.any()?;
        self.sink.patches.truncate(patches);
        self.sink.out.truncate(mark);
        self.sink.nulled(path);
        self.patch(start, self.scan.i, mark)
    }

    fn leaf(&mut self, leaf: Leaf, path: &Path<'_>) -> Walk {
        let start = self.scan.i;
        let fits = match self.scan.peek().ok_or(Bail)? {
            b'"' => {
                let s = self.scan.string().ok_or(Bail)?;
                match leaf {
                    Leaf::Str => true,
                    Leaf::DateTime => {
                        !s.escaped && is_canonical(self.text.get(start + 1..s.end - 1).ok_or(Bail)?)
                    }
                    _ => false,
                }
            }
            b'{' | b'[' => return self.mismatch(path),
            b'n' => self.scan.literal(b"null").ok_or(Bail).map(|()| true)?,
            b't' => self
                .scan
                .literal(b"true")
                .ok_or(Bail)
                .map(|()| leaf == Leaf::Bool)?,
            b'f' => self
                .scan
                .literal(b"false")
                .ok_or(Bail)
                .map(|()| leaf == Leaf::Bool)?,
            _ => {
                self.scan.number().ok_or(Bail)?;
                let raw = self.text.get(start..self.scan.i).ok_or(Bail)?;
                leaf == Leaf::Num || (leaf == Leaf::Int && is_plain_int(raw))
            }
        };
        if fits {
            return Ok(());
        }
        let raw = self.text.get(start..self.scan.i).ok_or(Bail)?;
        let mark = self.sink.out.len();
        write_leaf(leaf, raw, self.sink, path);
        self.patch(start, self.scan.i, mark)
    }

    fn enter(&mut self) -> Walk {
        self.depth += 1;
        self.scan.i += 1;
        self.ws();
        (self.depth <= MAX_DEPTH).then_some(()).ok_or(Bail)
    }

    fn object(
        &mut self,
        shape: &Shape,
        path: &Path<'_>,
        mut tap: Option<&mut Tap<'_, 'a>>,
    ) -> Walk {
        self.enter()?;
        if !self.scan.eat(b'}') {
            let mut hint = Some(&shape.first);
            loop {
                let (key, field) = self.member_key(shape, hint)?;
                hint = field.map(|f| &f.next);
                let kind = field.map_or(&Kind::Any, |f| &f.kind);
                let start = self.scan.i;
                self.value(kind, &Path::Key(path, key))?;
                if let Some(slot) = tap.as_deref_mut().and_then(|t| t.slot(key)) {
                    *slot = Some(self.text.get(start..self.scan.i).ok_or(Bail)?);
                }
                if self.next(b'}')? {
                    break;
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// A member's key and colon, and its declared field. The key the hint guesses is matched
    /// as a whole (`"name":`) without a scan; otherwise the key is scanned, looked up, and the
    /// hint learns it.
    fn member_key<'x>(
        &mut self,
        shape: &'x Shape,
        hint: Option<&Hint>,
    ) -> Result<(&'x str, Option<&'x Field>), Bail>
    where
        'a: 'x,
    {
        let guess = hint.and_then(Hint::get);
        if let Some((i, field)) = guess.and_then(|i| Some((i, shape.field(i)?))) {
            let text = field.key_text(true);
            if self
                .scan
                .b
                .get(self.scan.i..)
                .is_some_and(|rest| rest.starts_with(text))
            {
                self.scan.i += text.len();
                self.ws();
                return Ok((shape.name(i), Some(field)));
            }
        }
        let key = self.key()?;
        let found = shape.find(key);
        if let Some(hint) = hint {
            hint.set(found.map(|(i, _)| i));
        }
        Ok((key, found.map(|(_, f)| f)))
    }

    fn array(&mut self, item: &Kind, path: &Path<'_>) -> Walk {
        self.enter()?;
        if !self.scan.eat(b']') {
            let mut index = 0usize;
            loop {
                self.value(item, &Path::Index(path, index))?;
                index = index.saturating_add(1);
                if self.next(b']')? {
                    break;
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// After a member: true at the closing `byte`, false after a comma.
    fn next(&mut self, byte: u8) -> Result<bool, Bail> {
        loop {
            match self.scan.peek() {
                Some(b',') => {
                    self.scan.i += 1;
                    self.ws();
                    return Ok(false);
                }
                Some(b) if b == byte => {
                    self.scan.i += 1;
                    return Ok(true);
                }
                Some(b' ' | b'\n' | b'\r' | b'\t') => self.ws(),
                _ => return Err(Bail),
            }
        }
    }
}
