//! Token scanning for the typed fast path: finds where a JSON string, number or literal ends in
//! a byte slice and checks its grammar (RFC 8259), without decoding it. Input is already known to
//! be UTF-8. Every function returns `None` on anything that is not well-formed, and the caller
//! then hands the whole body to serde_json, which reports the error precisely.

/// A cursor over JSON text.
pub struct Scan<'a> {
    pub b: &'a [u8],
    pub i: usize,
}

/// A scanned string: the index after its closing quote, and whether it holds an escape.
pub struct Str {
    pub end: usize,
    pub escaped: bool,
}

const ONES: u64 = u64::MAX / 255;
const HIGH: u64 = ONES << 7;

/// The bytes of `chunk` equal to `byte`, as their high bits.
fn equal(chunk: u64, byte: u8) -> u64 {
    let x = chunk ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGH
}

impl<'a> Scan<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Self { b, i: 0 }
    }

    /// The byte at the cursor.
    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Skips whitespace; true when there was some.
    pub fn ws(&mut self) -> bool {
        let start = self.i;
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
        self.i > start
    }

    /// Consumes `byte` if it is next.
    pub fn eat(&mut self, byte: u8) -> bool {
        let hit = self.peek() == Some(byte);
        self.i += usize::from(hit);
        hit
    }

    /// The next index at or after `from` holding `"`, `\` or a control character.
    fn special(&self, mut from: usize) -> usize {
        while let Some(chunk) = self.b.get(from..from + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let c = u64::from_le_bytes(word);
            let control = c.wrapping_sub(ONES * 0x20) & !c & HIGH;
            let hits = control | equal(c, b'"') | equal(c, b'\\');
            if hits != 0 {
                return from + hits.trailing_zeros() as usize / 8;
            }
            from += 8;
        }
        let rest = self.b.get(from..).unwrap_or_default();
        from + rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
            .unwrap_or(rest.len())
    }

    /// A string starting at the cursor (`"`); the cursor ends after it.
    pub fn string(&mut self) -> Option<Str> {
        if !self.eat(b'"') {
            return None;
        }
        let mut escaped = false;
        loop {
            self.i = self.special(self.i);
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(Str {
                        end: self.i,
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    self.escape()?;
                }
                _ => return None,
            }
        }
    }

    /// One escape sequence at the cursor (`\`).
    fn escape(&mut self) -> Option<()> {
        let next = *self.b.get(self.i + 1)?;
        let len = match next {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
            b'u' => {
                let hex = self.b.get(self.i + 2..self.i + 6)?;
                hex.iter().all(u8::is_ascii_hexdigit).then_some(6)?
            }
            _ => return None,
        };
        self.i += len;
        Some(())
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    /// A number at the cursor: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    pub fn number(&mut self) -> Option<()> {
        self.eat(b'-');
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.eat(b'.') && self.digits() == 0 {
            return None;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            let _ = self.eat(b'+') || self.eat(b'-');
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    /// The literal `word` at the cursor.
    pub fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(text: &str) -> Option<(usize, bool)> {
        let mut s = Scan::new(text.as_bytes());
        s.string().map(|t| (t.end, t.escaped))
    }

    fn number(text: &str) -> Option<usize> {
        let mut s = Scan::new(text.as_bytes());
        s.number().map(|()| s.i)
    }

    #[test]
    fn strings_end_at_their_closing_quote() {
        assert_eq!(string(r#""""#), Some((2, false)));
        assert_eq!(
            string(r#""a long string past eight bytes",1"#),
            Some((32, false))
        );
        assert_eq!(string(r#""a\"b\\c\u00e9\/" tail"#), Some((17, true)));
        assert_eq!(string("\"caf\u{e9} \u{1f44d}\""), Some((12, false)));
        for bad in [
            "\"open",
            "\"tab\there\"",
            r#""\x""#,
            r#""\u12G4""#,
            r#""\u12""#,
            "\"a\\",
            "x",
        ] {
            assert_eq!(string(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_follow_the_json_grammar() {
        for (ok, end) in [
            ("0", 1),
            ("-12,", 3),
            ("3.25]", 4),
            ("1e5", 3),
            ("-0.5E-3}", 7),
            ("12 ", 2),
        ] {
            assert_eq!(number(ok), Some(end), "{ok}");
        }
        for bad in ["-", "1.", ".5", "1e", "1e+", "+1", "-x"] {
            assert_eq!(number(bad), None, "{bad}");
        }
        // A leading zero ends the number; the caller then finds a stray digit.
        assert_eq!(number("012"), Some(1));
    }

    #[test]
    fn literals_and_whitespace() {
        let mut s = Scan::new(b" \n\t\rtrue nul");
        assert!(s.ws());
        assert_eq!(s.literal(b"true"), Some(()));
        assert!(!s.eat(b','));
        assert!(s.ws());
        assert_eq!(s.literal(b"null"), None);
    }
}
