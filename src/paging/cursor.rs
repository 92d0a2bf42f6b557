//! Cursor values: parsing the forms stored states have used (ISO strings with or without
//! microseconds, epoch seconds as number or string, epoch microseconds) and formatting ours.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Epoch seconds of an ISO-8601 date-time (fraction truncated).
pub fn iso_to_secs(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.timestamp())
}

/// Epoch microseconds of an ISO-8601 date-time.
pub fn iso_to_micros(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.timestamp_micros())
}

/// `2024-01-01T00:00:00Z`.
pub fn secs_to_iso(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| secs.to_string())
}

/// `2024-01-01T00:00:00.123456Z`.
pub fn micros_to_iso(us: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(us)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_else(|| us.to_string())
}

/// A time cursor in epoch seconds from a state value: ISO text, or epoch seconds as a number or
/// numeric text (the certified connector's `"1697795052"`).
pub fn value_to_secs(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok().or_else(|| iso_to_secs(s)),
        _ => None,
    }
}

/// A time cursor in epoch microseconds: ISO text, or a number of microseconds (values below
/// 10^14 are taken as seconds).
pub fn value_to_micros(v: &Value) -> Option<i64> {
    let from_number = |n: i64| {
        if n.abs() < 100_000_000_000_000 {
            n.checked_mul(1_000_000)
        } else {
            Some(n)
        }
    };
    match v {
        Value::Number(n) => n.as_i64().and_then(from_number),
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(n) => from_number(n),
            Err(_) => iso_to_micros(s),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_forms() {
        assert_eq!(value_to_secs(&json!("1697795052")), Some(1_697_795_052));
        assert_eq!(
            value_to_secs(&json!("2023-10-20T09:44:12Z")),
            Some(1_697_795_052)
        );
        assert_eq!(
            value_to_secs(&json!("2023-10-20T09:44:12.5Z")),
            Some(1_697_795_052)
        );
        assert_eq!(value_to_secs(&json!(1_697_795_052)), Some(1_697_795_052));
        assert_eq!(value_to_secs(&json!("banana")), None);
        assert_eq!(value_to_secs(&json!(null)), None);
        assert_eq!(
            value_to_micros(&json!("2024-02-09T13:12:16.817973Z")),
            Some(1_707_484_336_817_973)
        );
        assert_eq!(
            value_to_micros(&json!(1_609_459_200_000_000i64)),
            Some(1_609_459_200_000_000)
        );
        assert_eq!(
            value_to_micros(&json!(1_609_459_200)),
            Some(1_609_459_200_000_000)
        );
        assert_eq!(secs_to_iso(1_697_795_052), "2023-10-20T09:44:12Z");
        assert_eq!(
            micros_to_iso(1_707_484_336_817_973),
            "2024-02-09T13:12:16.817973Z"
        );
    }
}
