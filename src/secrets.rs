//! Secret handling: a `Secret` string type that never prints itself, and a process-wide registry
//! of secret values that every human-readable output (logs, traces, connection status) is
//! scrubbed against.

use std::borrow::Cow;
use std::fmt;
use std::sync::RwLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

static REGISTRY: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds a value to scrub from all human-readable output, with the forms it takes on the wire:
/// URL-encoded (a form body echoed back) and base64 (standard and URL-safe, unpadded, which
/// also covers the padded forms). Values shorter than 4 characters are ignored (they would
/// mangle ordinary text).
pub fn register(value: &str) {
    if value.len() < 4 {
        return;
    }
    let mut reg = REGISTRY.write().unwrap_or_else(|p| p.into_inner());
    for form in encoded_forms(value) {
        if !reg.contains(&form) {
            reg.push(form);
        }
    }
    // Longest first, so a secret that contains another is replaced whole.
    reg.sort_by_key(|v| std::cmp::Reverse(v.len()));
}

fn encoded_forms(value: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine;
    let mut forms = vec![
        value.to_owned(),
        url::form_urlencoded::byte_serialize(value.as_bytes()).collect(),
        STANDARD_NO_PAD.encode(value),
        URL_SAFE_NO_PAD.encode(value),
    ];
    forms.sort();
    forms.dedup();
    forms
}

/// Replaces every registered secret in `text` with `****`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let reg = REGISTRY.read().unwrap_or_else(|p| p.into_inner());
    if !reg.iter().any(|s| text.contains(s.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_owned();
    for s in reg.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "****");
        }
    }
    Cow::Owned(out)
}

/// A credential string. `Debug` and `Display` print `****`; serialization writes the value (only
/// used for the CONTROL message that hands rotated tokens back to the platform).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value and registers it for redaction.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        register(&value);
        Self(value)
    }

    /// The value, for the one place that needs it (an HTTP header or form field).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the value is empty or only whitespace.
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl JsonSchema for Secret {
    fn schema_name() -> Cow<'static, str> {
        "Secret".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "airbyte_secret": true})
    }

    fn inline_schema() -> bool {
        true
    }
}

/// A stderr writer for `tracing` that scrubs secrets from every log line.
pub struct RedactingStderr;

impl std::io::Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_itself() {
        let s = Secret::new("zc-test-token-0042");
        assert_eq!(format!("{s:?} {s}"), "Secret(****) ****");
        assert_eq!(redact("Bearer zc-test-token-0042 sent"), "Bearer **** sent");
        assert_eq!(redact("nothing here"), Cow::Borrowed("nothing here"));
    }

    #[test]
    fn encoded_forms_are_redacted_too() {
        let raw = "s3cr3t/with+plus=and&more?";
        let _s = Secret::new(raw);
        let form: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
        assert_ne!(form, raw);
        let echoed = format!("grant_type=refresh_token&client_secret={form}&x=1");
        assert_eq!(
            redact(&echoed),
            "grant_type=refresh_token&client_secret=****&x=1"
        );
        use base64::Engine;
        for engine in [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::URL_SAFE,
        ] {
            let b64 = engine.encode(raw);
            let text = format!("Basic {b64}");
            assert!(!redact(&text).contains(b64.trim_end_matches('=')), "{b64}");
        }
    }
}
