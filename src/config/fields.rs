//! What each config field must be, checked on the raw JSON so a mistake is explained in the
//! user's terms: the field, what it must be in words, and the value given (a secret's value is
//! never shown); and the top-level keys the connector does not know, with the known key each
//! most likely meant.

use serde_json::{Map, Value};

use crate::error::Error;

/// The top-level keys of the spec (a unit test keeps this list equal to the schema's).
pub(super) const KNOWN_KEYS: [&str; 6] = [
    "start_date",
    "subdomain",
    "credentials",
    "requests_per_minute",
    "backfill_concurrency",
    "base_url",
];

/// Unknown keys that stay silent: the top-level `access_token` of the certified connector's
/// configs before its OAuth release (0.1.6). Keys starting with `_` (added by the platform or
/// tools) are silent too.
const SILENT_KEYS: [&str; 1] = ["access_token"];

/// The whole-number fields: name, lowest, highest, and a word on the range.
const NUMBERS: [(&str, u64, u64, &str); 2] = [
    (
        "requests_per_minute",
        1,
        10_000,
        " (Zendesk allows 200 per minute)",
    ),
    (
        "backfill_concurrency",
        1,
        16,
        " (the requests in flight at once; 1 sends one at a time)",
    ),
];

/// The text fields and an example of each.
const TEXTS: [(&str, &str); 3] = [
    ("start_date", "\"2021-02-01T00:00:00Z\""),
    ("subdomain", "\"acme\""),
    ("base_url", "\"https://acme.zendesk.com/api/v2/chat/\""),
];

/// The secret fields inside `credentials`.
const SECRETS: [&str; 4] = [
    "access_token",
    "refresh_token",
    "client_id",
    "client_secret",
];

/// Checks the type (and, for numbers, the range) of every known field present.
pub(super) fn check_types(config: &Map<String, Value>) -> Result<(), Error> {
    for (name, low, high, note) in NUMBERS {
        match config.get(name) {
            None => {}
            Some(v) if v.as_u64().is_some_and(|n| (low..=high).contains(&n)) => {}
            Some(v) => {
                let fix = match v.as_str().map(|s| s.trim().parse::<u64>()) {
                    Some(Ok(n)) if (low..=high).contains(&n) => {
                        format!(": write it without quotes, as \"{name}\": {n}")
                    }
                    _ => String::new(),
                };
                return Err(Error::Config(format!(
                    "`{name}` must be a whole number from {low} to {high}{note}, but the config gives {}{fix}.",
                    shown(v)
                )));
            }
        }
    }
    for (name, example) in TEXTS {
        match config.get(name) {
            Some(v) if !(v.is_string() || name == "base_url" && v.is_null()) => {
                return Err(Error::Config(format!(
                    "`{name}` must be text in quotes, such as {example}, but the config gives {}.",
                    shown(v)
                )));
            }
            _ => {}
        }
    }
    check_secret_types(config.get("credentials").and_then(Value::as_object))
}

/// Checks that the tokens and client credentials are text, without showing what they are.
fn check_secret_types(credentials: Option<&Map<String, Value>>) -> Result<(), Error> {
    let Some(credentials) = credentials else {
        return Ok(());
    };
    for name in SECRETS {
        match credentials.get(name) {
            Some(v) if !v.is_string() && !v.is_null() => {
                return Err(Error::Config(format!(
                    "`credentials.{name}` must be text in quotes (paste it as given by Zendesk), but the config gives {} (its value is not shown: it is a secret).",
                    crate::protocol::state::json_kind(v)
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A value for a message: its kind, and the value itself when short.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let cut: String = s.chars().take(60).collect();
            let more = if cut.len() < s.len() { "..." } else { "" };
            format!("the text {}{more}", Value::String(cut))
        }
        Value::Number(_) | Value::Bool(_) | Value::Null => v.to_string(),
        other => crate::protocol::state::json_kind(other).to_owned(),
    }
}

/// The top-level keys the connector does not know (and that are not silent), each with the
/// known key it most likely meant.
pub(super) fn unknown_keys(config: &Map<String, Value>) -> Vec<(&str, Option<&'static str>)> {
    config
        .keys()
        .map(String::as_str)
        .filter(|k| !KNOWN_KEYS.contains(k) && !SILENT_KEYS.contains(k) && !k.starts_with('_'))
        .map(|k| (k, nearest(k)))
        .collect()
}

/// The warning for unknown top-level keys, if any.
pub(super) fn unknown_keys_warning(config: &Map<String, Value>) -> Option<String> {
    let unknown = unknown_keys(config);
    if unknown.is_empty() {
        return None;
    }
    let listed: Vec<String> = unknown
        .iter()
        .map(|(k, near)| match near {
            Some(n) => format!("`{k}` (did you mean `{n}`?)"),
            None => format!("`{k}`"),
        })
        .collect();
    Some(format!(
        "The config has keys this connector does not know, which it ignores: {}. Known keys: {}.",
        listed.join(", "),
        KNOWN_KEYS.join(", ")
    ))
}

/// " Did you mean `subdomain` instead of `subdomian`?" when an unknown key is near `missing`.
pub(super) fn did_you_mean(missing: &str, config: &Map<String, Value>) -> String {
    unknown_keys(config)
        .into_iter()
        .find(|(_, near)| *near == Some(missing))
        .map(|(k, _)| format!(" Did you mean `{missing}` instead of `{k}`?"))
        .unwrap_or_default()
}

/// The known key nearest to `key`: a few edits away, or one it begins.
fn nearest(key: &str) -> Option<&'static str> {
    let key = key.to_lowercase().replace(['-', ' ', '.'], "_");
    KNOWN_KEYS
        .iter()
        .map(|k| (edits(&key, k), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(2) || (key.len() >= 4 && k.starts_with(&key)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Edits (insert, delete, replace, swap two neighbours) turning `a` into `b`.
fn edits(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().take(64).collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn type_error(v: Value) -> String {
        check_types(&obj(v)).unwrap_err().to_string()
    }

    #[test]
    fn known_keys_are_the_spec_properties() {
        let schema = serde_json::to_value(schemars::schema_for!(super::super::Config)).unwrap();
        let mut props: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut known = KNOWN_KEYS.to_vec();
        props.sort_unstable();
        known.sort_unstable();
        assert_eq!(props, known);
        for (name, low, high, _) in NUMBERS {
            let field = &schema["properties"][name];
            assert_eq!(
                (field["minimum"].as_u64(), field["maximum"].as_u64()),
                (Some(low), Some(high)),
                "{name}"
            );
        }
    }

    #[test]
    fn a_quoted_number_is_named_with_its_range_value_and_fix() {
        let e = type_error(json!({"requests_per_minute": "100"}));
        assert_eq!(
            e,
            "`requests_per_minute` must be a whole number from 1 to 10000 (Zendesk allows 200 per minute), but the config gives the text \"100\": write it without quotes, as \"requests_per_minute\": 100."
        );
        let e = type_error(json!({"backfill_concurrency": 0}));
        assert!(
            e.contains("`backfill_concurrency` must be a whole number from 1 to 16"),
            "{e}"
        );
        assert!(e.ends_with("but the config gives 0."), "{e}");
        for bad in [
            json!(2.5),
            json!(-3),
            json!(20_000),
            json!(null),
            json!([1]),
        ] {
            let e = type_error(json!({ "requests_per_minute": bad }));
            assert!(e.contains("from 1 to 10000"), "{e}");
        }
        assert!(check_types(&obj(json!({"requests_per_minute": 200, "base_url": null}))).is_ok());
    }

    #[test]
    fn text_fields_and_secrets_are_explained_without_showing_secrets() {
        let e = type_error(json!({"subdomain": 42}));
        assert_eq!(
            e,
            "`subdomain` must be text in quotes, such as \"acme\", but the config gives 42."
        );
        let e = type_error(
            json!({"credentials": {"credentials": "access_token", "access_token": 12345678}}),
        );
        assert!(e.contains("`credentials.access_token` must be text"), "{e}");
        assert!(e.contains("a number") && !e.contains("12345678"), "{e}");
        let long = "x".repeat(100);
        let e = type_error(json!({ "start_date": [long] }));
        assert!(e.ends_with("gives an array."), "{e}");
    }

    #[test]
    fn unknown_keys_get_the_nearest_known_one() {
        let c = obj(
            json!({"subdomian": "acme", "Start-Date": "x", "requests": 5, "colour": 1,
            "access_token": "t", "__injected_declarative_manifest": {}, "subdomain": "a"}),
        );
        assert_eq!(
            unknown_keys(&c),
            vec![
                ("Start-Date", Some("start_date")),
                ("colour", None),
                ("requests", Some("requests_per_minute")),
                ("subdomian", Some("subdomain")),
            ]
        );
        let w = unknown_keys_warning(&c).unwrap();
        assert!(w.contains("`subdomian` (did you mean `subdomain`?)"), "{w}");
        assert!(w.contains("`colour`,") || w.contains("`colour`."), "{w}");
        assert!(
            !w.contains("access_token") && !w.contains("__injected"),
            "{w}"
        );
        assert_eq!(
            did_you_mean("subdomain", &c),
            " Did you mean `subdomain` instead of `subdomian`?"
        );
        assert_eq!(did_you_mean("credentials", &c), "");
        assert!(unknown_keys_warning(&obj(json!({"subdomain": "a"}))).is_none());
    }
}
