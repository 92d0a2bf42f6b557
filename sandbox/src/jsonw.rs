//! Tiny, allocation-free JSON writing helpers and UTC timestamp formatting used by the hot render path.
//!
//! Separators are inserted automatically: a comma is written before a key or a value unless the
//! previous byte opens a container (`{`, `[`) or ends a key (`:`).

use std::io::Write as _;

#[inline]
fn sep(b: &mut Vec<u8>) {
    match b.last() {
        None | Some(b'{') | Some(b'[') | Some(b':') => {}
        _ => b.push(b','),
    }
}

/// Opens an object (as a value).
#[inline]
pub fn obj(b: &mut Vec<u8>) {
    sep(b);
    b.push(b'{');
}

/// Closes an object.
#[inline]
pub fn end_obj(b: &mut Vec<u8>) {
    b.push(b'}');
}

/// Opens an array (as a value).
#[inline]
pub fn arr(b: &mut Vec<u8>) {
    sep(b);
    b.push(b'[');
}

/// Closes an array.
#[inline]
pub fn end_arr(b: &mut Vec<u8>) {
    b.push(b']');
}

/// Writes `"k":` (keys are trusted ASCII literals).
#[inline]
pub fn key(b: &mut Vec<u8>, k: &str) {
    sep(b);
    b.push(b'"');
    b.extend_from_slice(k.as_bytes());
    b.extend_from_slice(b"\":");
}

fn escape_into(b: &mut Vec<u8>, s: &[u8]) {
    let mut start = 0;
    for (i, &c) in s.iter().enumerate() {
        let esc: Option<&[u8]> = match c {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        b.extend_from_slice(&s[start..i]);
        match esc {
            Some(e) => b.extend_from_slice(e),
            None => {
                let _ = write!(b, "\\u{:04x}", c);
            }
        }
        start = i + 1;
    }
    b.extend_from_slice(&s[start..]);
}

/// Writes a JSON string value.
#[inline]
pub fn string(b: &mut Vec<u8>, v: &str) {
    sep(b);
    b.push(b'"');
    escape_into(b, v.as_bytes());
    b.push(b'"');
}

/// Writes a JSON string value from raw bytes (must be valid UTF-8).
#[inline]
pub fn string_bytes(b: &mut Vec<u8>, v: &[u8]) {
    sep(b);
    b.push(b'"');
    escape_into(b, v);
    b.push(b'"');
}

/// Writes `"k":"v"`.
#[inline]
pub fn key_string(b: &mut Vec<u8>, k: &str, v: &str) {
    key(b, k);
    string(b, v);
}

/// Writes an unsigned integer without any separator (for use inside a string being built).
#[inline]
pub fn digits(b: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    b.extend_from_slice(&tmp[i..]);
}

/// Writes an unsigned integer value.
#[inline]
pub fn uint(b: &mut Vec<u8>, v: u64) {
    sep(b);
    digits(b, v);
}

/// Writes a signed integer value.
#[inline]
pub fn int(b: &mut Vec<u8>, v: i64) {
    sep(b);
    if v < 0 {
        b.push(b'-');
    }
    digits(b, v.unsigned_abs());
}

/// Writes `"k":<unsigned>`.
#[inline]
pub fn key_uint(b: &mut Vec<u8>, k: &str, v: u64) {
    key(b, k);
    uint(b, v);
}

/// Writes a float value (shortest round-trip form; integral values print without a fraction).
#[inline]
pub fn float(b: &mut Vec<u8>, v: f64) {
    sep(b);
    if v.is_finite() {
        let _ = write!(b, "{v}");
    } else {
        b.extend_from_slice(b"null");
    }
}

/// Writes a number of seconds given in microseconds, with up to 6 decimals (e.g. `459.213926`).
#[inline]
pub fn secs_us(b: &mut Vec<u8>, us: i64) {
    sep(b);
    let us = us.max(0) as u64;
    digits(b, us / 1_000_000);
    let frac = us % 1_000_000;
    if frac != 0 {
        let mut digits = [0u8; 6];
        let mut x = frac;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (x % 10) as u8;
            x /= 10;
        }
        let mut n = 6;
        while digits[n - 1] == b'0' {
            n -= 1;
        }
        b.push(b'.');
        b.extend_from_slice(&digits[..n]);
    }
}

/// Writes a boolean value.
#[inline]
pub fn bool(b: &mut Vec<u8>, v: bool) {
    sep(b);
    b.extend_from_slice(if v { b"true" } else { b"false" });
}

/// Writes `"k":true|false`.
#[inline]
pub fn key_bool(b: &mut Vec<u8>, k: &str, v: bool) {
    key(b, k);
    bool(b, v);
}

/// Writes `null`.
#[inline]
pub fn null(b: &mut Vec<u8>) {
    sep(b);
    b.extend_from_slice(b"null");
}

/// Writes `"k":null`.
#[inline]
pub fn key_null(b: &mut Vec<u8>, k: &str) {
    key(b, k);
    null(b);
}

/// Writes pre-serialized JSON as a value.
#[inline]
pub fn raw(b: &mut Vec<u8>, json: &[u8]) {
    sep(b);
    b.extend_from_slice(json);
}

/// Civil date (year, month, day) from days since 1970-01-01 (proleptic Gregorian).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Broken-down UTC time from epoch seconds.
pub fn utc_parts(epoch_s: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = epoch_s.div_euclid(86_400);
    let secs = epoch_s.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    (
        y,
        mo,
        d,
        (secs / 3600) as u32,
        ((secs % 3600) / 60) as u32,
        (secs % 60) as u32,
    )
}

#[inline]
fn two(b: &mut Vec<u8>, v: u32) {
    b.push(b'0' + (v / 10 % 10) as u8);
    b.push(b'0' + (v % 10) as u8);
}

fn iso_body(b: &mut Vec<u8>, epoch_s: i64) {
    let (y, mo, d, h, mi, s) = utc_parts(epoch_s);
    let y = y.clamp(0, 9999) as u32;
    two(b, y / 100);
    two(b, y % 100);
    b.push(b'-');
    two(b, mo);
    b.push(b'-');
    two(b, d);
    b.push(b'T');
    two(b, h);
    b.push(b':');
    two(b, mi);
    b.push(b':');
    two(b, s);
}

/// Writes `"YYYY-MM-DDTHH:MM:SSZ"` as a value.
#[inline]
pub fn ts(b: &mut Vec<u8>, epoch_s: i64) {
    sep(b);
    b.push(b'"');
    iso_body(b, epoch_s);
    b.extend_from_slice(b"Z\"");
}

/// Writes `"YYYY-MM-DDTHH:MM:SS.ffffffZ"` (6-digit microseconds) as a value.
#[inline]
pub fn ts_us(b: &mut Vec<u8>, epoch_us: i64) {
    sep(b);
    b.push(b'"');
    iso_body(b, epoch_us.div_euclid(1_000_000));
    b.push(b'.');
    let frac = epoch_us.rem_euclid(1_000_000) as u32;
    two(b, frac / 10_000);
    two(b, frac / 100 % 100);
    two(b, frac % 100);
    b.extend_from_slice(b"Z\"");
}

/// ISO-8601 string (`...Z`, no fraction) for epoch seconds.
pub fn iso(epoch_s: i64) -> String {
    let mut b = Vec::with_capacity(20);
    iso_body(&mut b, epoch_s);
    b.push(b'Z');
    String::from_utf8(b).unwrap_or_default()
}

/// ISO-8601 string with 6-digit microseconds for epoch microseconds.
pub fn iso_us(epoch_us: i64) -> String {
    let mut b = Vec::with_capacity(30);
    ts_us(&mut b, epoch_us);
    String::from_utf8(b[1..b.len() - 1].to_vec()).unwrap_or_default()
}

/// Epoch seconds of a `YYYY-MM-DDTHH:MM:SSZ` string (the form `iso` writes); None otherwise.
pub fn parse_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let (y2, m2) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se)
}

/// Writes `"YYYY-MM-DDTHH:MM:SS+00:00Z"` (offset and Z: a real-world shape) as a value.
#[inline]
pub fn ts_offset_z(b: &mut Vec<u8>, epoch_s: i64) {
    sep(b);
    b.push(b'"');
    iso_body(b, epoch_s);
    b.extend_from_slice(b"+00:00Z\"");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_iso_inverts_iso() {
        for t in [0, 1_704_067_200, 1_718_452_799, 4_070_908_800, 951_782_400] {
            assert_eq!(parse_iso(&iso(t)), Some(t));
        }
        assert_eq!(parse_iso("2024-01-01T00:00:00+00:00"), None);
    }

    #[test]
    fn separators_and_escapes() {
        let mut b = Vec::new();
        obj(&mut b);
        key_string(&mut b, "a", "x\"y\\z\n\u{1}");
        key(&mut b, "arr");
        arr(&mut b);
        uint(&mut b, 0);
        int(&mut b, -12);
        float(&mut b, 1.5);
        secs_us(&mut b, 459_213_926);
        secs_us(&mut b, 3_000_000);
        obj(&mut b);
        end_obj(&mut b);
        arr(&mut b);
        end_arr(&mut b);
        null(&mut b);
        end_arr(&mut b);
        end_obj(&mut b);
        let v: serde_json::Value = serde_json::from_slice(&b).expect("valid json");
        assert_eq!(v["a"], "x\"y\\z\n\u{1}");
        assert_eq!(
            String::from_utf8(b).expect("utf8"),
            r#"{"a":"x\"y\\z\n\u0001","arr":[0,-12,1.5,459.213926,3,{},[],null]}"#
        );
    }

    #[test]
    fn timestamps_match_chrono() {
        use chrono::{DateTime, SecondsFormat};
        for &t in &[
            0i64,
            951_782_400,
            1_704_067_200,
            1_709_164_799,
            1_735_689_599,
            4_102_444_800,
        ] {
            let want = DateTime::from_timestamp(t, 0)
                .expect("ts")
                .to_rfc3339_opts(SecondsFormat::Secs, true);
            assert_eq!(iso(t), want);
            let us = t * 1_000_000 + 147_584;
            let want_us = DateTime::from_timestamp_micros(us)
                .expect("ts")
                .to_rfc3339_opts(SecondsFormat::Micros, true);
            assert_eq!(iso_us(us), want_us);
        }
    }
}
