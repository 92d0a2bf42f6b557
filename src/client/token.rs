//! Reading an OAuth token response leniently: the tokens are taken from any JSON object,
//! whatever else it holds, so a rotated refresh token is never lost to an unexpected field.

use std::time::Duration;

use serde_json::Value;

/// The largest token response read.
pub const MAX_TOKEN_BODY: usize = 1024 * 1024;

/// The longest token lifetime believed; longer announcements are clamped to it.
const MAX_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

/// What a token response holds (each part optional).
#[derive(Debug, Default, PartialEq)]
pub struct Tokens {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_in: Option<Duration>,
}

/// Reads the tokens of a response body: strings under `access_token` and `refresh_token`, and
/// `expires_in` as a number or a numeric string (clamped; anything else is ignored).
pub fn parse(body: &[u8]) -> Tokens {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Tokens::default();
    };
    let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
    Tokens {
        access_token: text("access_token"),
        refresh_token: text("refresh_token"),
        expires_in: map.get("expires_in").and_then(lifetime),
    }
}

fn lifetime(v: &Value) -> Option<Duration> {
    let secs = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    let clamped = secs.min(MAX_LIFETIME.as_secs_f64());
    Some(Duration::try_from_secs_f64(clamped).unwrap_or(MAX_LIFETIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_survive_odd_shapes() {
        let t = parse(br#"{"access_token":"a1","refresh_token":"r1","expires_in":"3600","scope":["read"],"extra":{"x":1}}"#);
        assert_eq!(t.access_token.as_deref(), Some("a1"));
        assert_eq!(t.refresh_token.as_deref(), Some("r1"));
        assert_eq!(t.expires_in, Some(Duration::from_secs(3600)));
        let huge = parse(br#"{"access_token":"a","expires_in":18446744073709551615}"#);
        assert_eq!(huge.expires_in, Some(MAX_LIFETIME));
        let odd = parse(br#"{"access_token":"a","refresh_token":"r","expires_in":{"s":1}}"#);
        assert_eq!(odd.refresh_token.as_deref(), Some("r"));
        assert_eq!(odd.expires_in, None);
        assert_eq!(parse(br#"{"expires_in":-5}"#).expires_in, None);
        assert_eq!(parse(b"<html>"), Tokens::default());
    }
}
