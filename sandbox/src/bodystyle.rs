//! Re-spacing of compact JSON bodies (the "indented bodies" shapes): the values stay byte-for-byte
//! the same, only whitespace between tokens is added.

use serde::{Deserialize, Serialize};

/// How 200 bodies are spaced.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BodyStyle {
    /// One line, no whitespace (today's bodies).
    #[default]
    Compact,
    /// Pretty-printed: one member per line, two-space indentation.
    Indented,
    /// Raw newlines and tabs between tokens, no indentation logic (still valid JSON).
    Newlines,
}

impl BodyStyle {
    /// Re-spaces a compact JSON body in this style.
    pub fn apply(self, compact: Vec<u8>) -> Vec<u8> {
        match self {
            BodyStyle::Compact => compact,
            BodyStyle::Indented => indented(&compact),
            BodyStyle::Newlines => newlines(&compact),
        }
    }
}

/// Calls `f(byte, outside_string)` for every byte of a JSON text.
fn scan(json: &[u8], mut f: impl FnMut(usize, u8, bool)) {
    let (mut in_str, mut escaped) = (false, false);
    for (i, &c) in json.iter().enumerate() {
        if in_str {
            f(i, c, false);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
        } else {
            in_str = c == b'"';
            f(i, c, !in_str);
        }
    }
}

fn newline_indent(out: &mut Vec<u8>, depth: usize) {
    out.push(b'\n');
    out.extend(std::iter::repeat_n(b' ', depth * 2));
}

fn indented(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + json.len() / 2);
    let mut depth = 0usize;
    scan(json, |i, c, structural| {
        if !structural {
            out.push(c);
            return;
        }
        let next = json.get(i + 1).copied();
        match c {
            b'{' | b'[' => {
                out.push(c);
                if !matches!(next, Some(b'}') | Some(b']')) {
                    depth += 1;
                    newline_indent(&mut out, depth);
                }
            }
            b'}' | b']' => {
                let prev = i.checked_sub(1).and_then(|p| json.get(p)).copied();
                if !matches!(prev, Some(b'{') | Some(b'[')) {
                    depth = depth.saturating_sub(1);
                    newline_indent(&mut out, depth);
                }
                out.push(c);
            }
            b',' => {
                out.push(c);
                newline_indent(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            _ => out.push(c),
        }
    });
    out.push(b'\n');
    out
}

fn newlines(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + json.len() / 2);
    scan(json, |_, c, structural| {
        if structural && matches!(c, b'}' | b']') {
            out.extend_from_slice(b"\r\n");
        }
        out.push(c);
        if structural && matches!(c, b'{' | b'[' | b',' | b':') {
            out.extend_from_slice(b"\n\t");
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"a":[1,{"b":"x,\"y\":[{"}],"c":{},"d":[],"e":"tab\tand\\"}"#;

    #[test]
    fn every_style_keeps_the_value_and_strings() {
        let v: serde_json::Value = serde_json::from_str(SAMPLE).expect("sample");
        for style in [BodyStyle::Indented, BodyStyle::Newlines] {
            let out = style.apply(SAMPLE.as_bytes().to_vec());
            let back: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
            assert_eq!(back, v, "{style:?}");
            assert!(
                out.iter().filter(|&&c| c == b'\n').count() >= 8,
                "{style:?}"
            );
            assert!(String::from_utf8_lossy(&out).contains(r#""x,\"y\":[{""#));
        }
        let pretty = String::from_utf8(BodyStyle::Indented.apply(SAMPLE.as_bytes().to_vec()));
        assert!(pretty
            .expect("utf8")
            .contains("\n  \"c\": {},\n  \"d\": [],"));
    }
}
