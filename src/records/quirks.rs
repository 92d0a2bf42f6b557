//! Value normalizers for the API's quirks: each turns one JSON value (its raw text) into the
//! column's declared type, or says it cannot without loss. No I/O, no panics.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// The declared JSON type of a leaf column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    Str,
    Int,
    Num,
    Bool,
    DateTime,
}

/// What a leaf value becomes: JSON text to write, or null because it cannot be normalized.
#[derive(Debug, PartialEq, Eq)]
pub enum Fixed<'a> {
    Json(Cow<'a, str>),
    /// The value was null (no change to report).
    Null,
    /// The value could not be normalized: null, reported as a change.
    Nulled,
}

/// Normalizes the raw JSON text of one value to `leaf`.
pub fn fix(leaf: Leaf, raw: &str) -> Fixed<'_> {
    let t = raw.trim_ascii();
    let Some(first) = t.bytes().next() else {
        return Fixed::Nulled;
    };
    match (first, leaf) {
        (b'n', _) => Fixed::Null,
        (b'{' | b'[', _) => Fixed::Nulled,
        (b'"', Leaf::Str) => Fixed::Json(Cow::Borrowed(t)),
        (b'"', Leaf::DateTime) if t.len() >= 2 && is_canonical(&t[1..t.len() - 1]) => {
            Fixed::Json(Cow::Borrowed(t))
        }
        (b'"', _) => match serde_json::from_str::<Cow<str>>(t) {
            Ok(s) => owned(from_text(leaf, s.trim())),
            Err(_) => Fixed::Nulled,
        },
        (b't' | b'f', Leaf::Bool) => Fixed::Json(Cow::Borrowed(t)),
        (b't' | b'f', Leaf::Str) => Fixed::Json(Cow::Owned(format!("\"{t}\""))),
        (b't' | b'f', _) => Fixed::Nulled,
        (_, Leaf::Str) => Fixed::Json(Cow::Owned(format!("\"{t}\""))),
        (_, Leaf::Num) => Fixed::Json(Cow::Borrowed(t)),
        (_, Leaf::Int) if is_plain_int(t) => Fixed::Json(Cow::Borrowed(t)),
        (_, Leaf::Int) => match int_text(t) {
            Some(i) if i == t => Fixed::Json(Cow::Borrowed(t)),
            other => owned(other),
        },
        (_, Leaf::Bool) => owned(flag(t).map(str::to_owned)),
        (_, Leaf::DateTime) => owned(t.parse::<f64>().ok().and_then(epoch_to_iso)),
    }
}

fn owned<'a>(v: Option<String>) -> Fixed<'a> {
    match v {
        Some(s) => Fixed::Json(Cow::Owned(s)),
        None => Fixed::Nulled,
    }
}

/// A string's content converted to a non-string leaf, as JSON text.
fn from_text(leaf: Leaf, s: &str) -> Option<String> {
    match leaf {
        Leaf::Str => Some(serde_json::to_string(s).unwrap_or_default()),
        Leaf::Int => int_text(s),
        Leaf::Num => s
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .and_then(|f| serde_json::to_string(&f).ok()),
        Leaf::Bool => flag(s).map(str::to_owned),
        Leaf::DateTime => datetime(s).map(|d| serde_json::to_string(&d).unwrap_or_default()),
    }
}

/// An integer: `12`, `"12"`, `12.0` (an integral float within 2^53). Not `12.5`, not `"12abc"`.
pub fn int_text(s: &str) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(i.to_string());
    }
    if let Ok(u) = s.parse::<u64>() {
        return Some(u.to_string());
    }
    let f = s.parse::<f64>().ok()?;
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    (f.is_finite() && f.fract() == 0.0 && f.abs() <= EXACT).then(|| format!("{}", f as i64))
}

/// An integer already written the canonical way (`0`, `-12`, `361089721035`): digits only, no
/// leading zero, at most 18 of them (so it fits an i64).
pub fn is_plain_int(t: &str) -> bool {
    let digits = t.strip_prefix('-').unwrap_or(t).as_bytes();
    matches!(digits.len(), 1..=18)
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || digits.len() == 1)
        && t != "-0"
}

/// A flag: `0`/`1`, `"0"`/`"1"`, `"true"`/`"false"` (any case) as `false`/`true`.
fn flag(s: &str) -> Option<&'static str> {
    if s.eq_ignore_ascii_case("true") || s == "1" {
        Some("true")
    } else if s.eq_ignore_ascii_case("false") || s == "0" {
        Some("false")
    } else {
        match s.parse::<f64>().ok()? {
            1.0 => Some("true"),
            0.0 => Some("false"),
            _ => None,
        }
    }
}

/// A date-time as RFC 3339 in UTC (`Z`), keeping the fraction the API sent. Accepts RFC 3339
/// with any offset, an offset followed by a stray `Z` (`2017-04-24T12:43:37+00:00Z`), offsets
/// without a colon (`+0000`), a space for `T`, and epoch numbers (seconds, milliseconds or
/// microseconds, told apart by magnitude). A date-time without any zone is not an instant and
/// is refused.
pub fn datetime(s: &str) -> Option<Cow<'_, str>> {
    if is_canonical(s) {
        return Some(Cow::Borrowed(s));
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return s.parse::<f64>().ok().and_then(epoch_text).map(Cow::Owned);
    }
    let s = s.replacen(' ', "T", 1);
    let s = match s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        Some(rest) if has_offset(rest) => rest.to_owned(),
        _ => s,
    };
    let parsed = DateTime::parse_from_rfc3339(&s)
        .or_else(|_| DateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()?;
    Some(Cow::Owned(iso(parsed.with_timezone(&Utc))))
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `YYYY-MM-DDTHH:MM:SS[.f]Z` (1 to 9 fraction digits), a valid instant as it stands. The hot
/// path of every date-time column: checked field by field, the calendar by chrono. Anything
/// else (leap seconds included) goes through the full parser in [`datetime`].
pub fn is_canonical(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(head) = b.first_chunk::<19>() else {
        return false;
    };
    let fraction_ok = match &b[19..] {
        [b'Z'] => true,
        [b'.', digits @ .., b'Z'] => {
            (1..=9).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    };
    let digits_ok = head.iter().zip(SHAPE).all(|(c, want)| match want {
        b'9' => c.is_ascii_digit(),
        sep => c == sep,
    });
    if !(fraction_ok && digits_ok) {
        return false;
    }
    let num = |at: usize, len: usize| {
        head[at..at + len]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    let (year, month, day) = (num(0, 4), num(5, 2), num(8, 2));
    num(11, 2) < 24
        && num(14, 2) < 60
        && num(17, 2) < 60
        && (1..=days_in_month(year, month)).contains(&day)
}

/// The days of `month` (1 to 12) in `year`, or 0 for a month that does not exist.
fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    }
}

/// The layout of `YYYY-MM-DDTHH:MM:SS`: `9` is a digit, anything else itself.
const SHAPE: &[u8; 19] = b"9999-99-99T99:99:99";

/// True when the text ends with `+hh:mm`, `-hh:mm`, `+hhmm` or `-hhmm` after the time.
fn has_offset(s: &str) -> bool {
    let tail = |n: usize| s.len() > 19 && s.len() >= n && s.is_char_boundary(s.len() - n);
    [6, 5].into_iter().any(|n| {
        tail(n)
            && s[s.len() - n..].starts_with(['+', '-'])
            && s[s.len() - n + 1..]
                .bytes()
                .all(|c| c.is_ascii_digit() || c == b':')
    })
}

/// An epoch number: seconds below 10^11, milliseconds below 10^14, microseconds below 10^17.
fn epoch_text(f: f64) -> Option<String> {
    if !f.is_finite() || f < 0.0 {
        return None;
    }
    let micros = if f < 1e11 {
        f * 1e6
    } else if f < 1e14 {
        f * 1e3
    } else if f < 1e17 {
        f
    } else {
        return None;
    };
    Utc.timestamp_micros(micros.round() as i64)
        .single()
        .map(iso)
}

/// An epoch number as a JSON string literal.
fn epoch_to_iso(f: f64) -> Option<String> {
    epoch_text(f).map(|s| format!("\"{s}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(leaf: Leaf, raw: &str) -> Option<String> {
        match fix(leaf, raw) {
            Fixed::Json(s) => Some(s.into_owned()),
            Fixed::Null => Some("null".into()),
            Fixed::Nulled => None,
        }
    }

    #[test]
    fn flags() {
        for (raw, want) in [
            ("true", "true"),
            ("false", "false"),
            ("1", "true"),
            ("0", "false"),
            ("1.0", "true"),
            (r#""1""#, "true"),
            (r#""0""#, "false"),
            (r#""true""#, "true"),
            (r#"" FALSE ""#, "false"),
            ("null", "null"),
        ] {
            assert_eq!(json(Leaf::Bool, raw).as_deref(), Some(want), "{raw}");
        }
        for raw in ["2", r#""yes""#, r#""""#, "[1]", "{}", "-1"] {
            assert_eq!(json(Leaf::Bool, raw), None, "{raw}");
        }
    }

    #[test]
    fn integers() {
        for (raw, want) in [
            ("361089721035", "361089721035"),
            (r#""361089721035""#, "361089721035"),
            (r#"" 42 ""#, "42"),
            ("7.0", "7"),
            ("-3", "-3"),
            ("18446744073709551615", "18446744073709551615"),
        ] {
            assert_eq!(json(Leaf::Int, raw).as_deref(), Some(want), "{raw}");
        }
        for raw in [
            "7.5",
            r#""12abc""#,
            r#""""#,
            "true",
            "1e300",
            r#""unlimited""#,
        ] {
            assert_eq!(json(Leaf::Int, raw), None, "{raw}");
        }
    }

    #[test]
    fn numbers_and_strings() {
        assert_eq!(json(Leaf::Num, "136.0357").as_deref(), Some("136.0357"));
        assert_eq!(json(Leaf::Num, r#""70.5""#).as_deref(), Some("70.5"));
        assert_eq!(json(Leaf::Num, r#""n/a""#), None);
        assert_eq!(json(Leaf::Num, "false"), None);
        assert_eq!(json(Leaf::Str, r#""a\nb""#).as_deref(), Some(r#""a\nb""#));
        assert_eq!(json(Leaf::Str, "4120927").as_deref(), Some(r#""4120927""#));
        assert_eq!(json(Leaf::Str, "true").as_deref(), Some(r#""true""#));
        assert_eq!(json(Leaf::Str, r#"["x"]"#), None);
        assert_eq!(json(Leaf::Str, r#"{"a":1}"#), None);
    }

    #[test]
    fn the_canonical_check_agrees_with_chrono() {
        for s in [
            "2024-02-29T23:59:59Z",
            "2023-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-00-10T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00.123456789Z",
            "2024-01-01T00:00:00.1234567890Z",
            "2024-01-01T00:00:00.12a4Z",
            "2024-01-01t00:00:00Z",
            "2024-01-01T00:00:00+00:00",
            "0000-01-01T00:00:00Z",
            "2024-1-01T00:00:00Z",
            "2024-01-01T00:00:00Zx",
        ] {
            let chrono_ok = DateTime::parse_from_rfc3339(s).is_ok()
                && s.ends_with('Z')
                && s.as_bytes()[10] == b'T'
                && !s.contains(".Z")
                && s.len() <= 30;
            assert_eq!(is_canonical(s), chrono_ok, "{s}");
        }
    }

    #[test]
    fn datetimes() {
        for (raw, want) in [
            (r#""2017-04-24T04:36:45Z""#, "2017-04-24T04:36:45Z"),
            (
                r#""2017-04-24T04:36:44.807000Z""#,
                "2017-04-24T04:36:44.807000Z",
            ),
            (r#""2017-04-24T12:43:37+00:00Z""#, "2017-04-24T12:43:37Z"),
            (r#""2017-04-24T14:43:37+02:00""#, "2017-04-24T12:43:37Z"),
            (
                r#""2017-04-24T07:43:37.5-0500""#,
                "2017-04-24T12:43:37.500Z",
            ),
            (r#""2017-04-24 12:43:37Z""#, "2017-04-24T12:43:37Z"),
            ("1493037825", "2017-04-24T12:43:45Z"),
            ("1493037825123", "2017-04-24T12:43:45.123Z"),
            ("1493037825123456", "2017-04-24T12:43:45.123456Z"),
            (r#""1493037825""#, "2017-04-24T12:43:45Z"),
        ] {
            assert_eq!(
                json(Leaf::DateTime, raw).as_deref(),
                Some(format!("\"{want}\"").as_str()),
                "{raw}"
            );
        }
        for raw in [
            r#""2017-04-24T12:43:37""#,
            r#""yesterday""#,
            r#""""#,
            r#""2017-13-45T00:00:00Z""#,
            "true",
            "-5",
        ] {
            assert_eq!(json(Leaf::DateTime, raw), None, "{raw}");
        }
    }
}
