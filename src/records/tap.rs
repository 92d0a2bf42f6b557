//! Raw JSON text helpers of the typed layer: the tap that captures top-level values while a
//! record is normalized, and whitespace removal for pass-through values.

/// Top-level values of a record captured as raw JSON text while it is normalized, so the
/// caller reads its cursor fields (and child arrays) from the same pass.
pub struct Tap<'t, 'de> {
    keys: &'t [&'t str],
    /// The raw text of `keys[i]`, when the record had it.
    pub found: [Option<&'de str>; TAPS],
}

/// The most keys a [`Tap`] captures.
pub const TAPS: usize = 8;

impl<'t, 'de> Tap<'t, 'de> {
    /// Captures `keys` (at most [`TAPS`]; later ones are ignored).
    pub fn new(keys: &'t [&'t str]) -> Self {
        Self {
            keys: &keys[..keys.len().min(TAPS)],
            found: [None; TAPS],
        }
    }

    /// The keys captured.
    pub fn keys(&self) -> &'t [&'t str] {
        self.keys
    }

    pub(super) fn slot(&mut self, key: &str) -> Option<&mut Option<&'de str>> {
        let i = self.keys.iter().position(|k| *k == key)?;
        self.found.get_mut(i)
    }
}

/// Copies valid JSON text without the whitespace between tokens.
pub fn minify(json: &str, out: &mut Vec<u8>) {
    let bytes = json.as_bytes();
    if !bytes
        .iter()
        .any(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
    {
        out.extend_from_slice(bytes);
        return;
    }
    let (mut in_str, mut escaped) = (false, false);
    for &b in bytes {
        if in_str {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            in_str = b == b'"';
            out.push(b);
        }
    }
}
