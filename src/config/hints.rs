//! Config checks that explain a mistake in the user's terms before serde sees the config: the
//! shape of `credentials` (with the nearest valid tag), a `start_date` in the future, and what
//! to check in a `base_url` that the API answers with 404.

use chrono::{DateTime, Utc};
use serde_json::Value;
use url::Url;

use crate::error::Error;

/// The accepted values of `credentials.credentials`.
const TAGS: [&str; 2] = ["oauth2.0", "access_token"];

const SHAPES: &str = "{\"credentials\": \"access_token\", \"access_token\": \"...\"} or \
{\"credentials\": \"oauth2.0\", \"client_id\": \"...\", \"client_secret\": \"...\", \
\"access_token\": \"...\", \"refresh_token\": \"...\"}";

/// Checks that `credentials` is an object with a known `credentials` tag; other problems inside
/// it (missing tokens, wrong types) are left to the typed parser. Never echoes a value except a
/// tag, which is not a secret.
pub(super) fn check_credentials_shape(creds: Option<&Value>) -> Result<(), Error> {
    let Some(creds) = creds else {
        return Ok(()); // reported as a missing field by the typed parser
    };
    let Some(obj) = creds.as_object() else {
        return Err(Error::Config(format!(
            "`credentials` must be an object, not {}: use {SHAPES}.",
            crate::protocol::state::json_kind(creds)
        )));
    };
    match obj.get("credentials") {
        None => {
            let tag = tag_from_keys(obj);
            Err(Error::Config(format!(
                "`credentials` lacks its `credentials` key, which names the method: add \
                 \"credentials\": \"{tag}\" to it. Accepted shapes: {SHAPES}."
            )))
        }
        Some(Value::String(tag)) if TAGS.contains(&tag.as_str()) => Ok(()),
        Some(Value::String(tag)) => Err(Error::Config(format!(
            "`credentials.credentials` is \"{}\", which is not a method: did you mean \"{}\"? \
             It must be \"oauth2.0\" or \"access_token\".",
            tag.chars().take(40).collect::<String>(),
            nearest_tag(tag, obj)
        ))),
        Some(other) => Err(Error::Config(format!(
            "`credentials.credentials` must be the string \"oauth2.0\" or \"access_token\", not {}.",
            crate::protocol::state::json_kind(other)
        ))),
    }
}

/// The accepted tag a mistyped one most likely meant: "oauth2" and "OAuth" mean "oauth2.0",
/// "access-token" and "token" mean "access_token"; without such a clue, the keys beside it decide.
fn nearest_tag(given: &str, obj: &serde_json::Map<String, Value>) -> &'static str {
    let given: String = given.chars().take(64).collect::<String>().to_lowercase();
    if given.contains("oauth") || given.contains("refresh") {
        "oauth2.0"
    } else if given.contains("access") || given.contains("token") {
        "access_token"
    } else {
        tag_from_keys(obj)
    }
}

fn tag_from_keys(obj: &serde_json::Map<String, Value>) -> &'static str {
    if obj.contains_key("refresh_token") || obj.contains_key("client_id") {
        "oauth2.0"
    } else {
        "access_token"
    }
}

/// A warning when `start_date` lies in the future: the sync then reads no chats or timeline
/// entries until that time comes.
pub(super) fn future_start_date_warning(
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<String> {
    (start > now).then(|| {
        format!(
            "`start_date` {} is in the future: chats and agent timeline entries are read only from \
             then on, so until that date those streams stay empty. Set it to the date your history \
             should start from.",
            start.format("%Y-%m-%dT%H:%M:%SZ")
        )
    })
}

/// What a 404 under a given `base_url` means: the form the URL must have, and whether this one
/// lacks its path. `default` is the URL the subdomain gives.
pub(super) fn base_url_advice(base: &Url, default: &Url) -> String {
    let why = if base.path().ends_with("/api/v2/chat/") {
        "the server there does not serve the Zendesk Chat API"
    } else {
        "it does not end in /api/v2/chat/"
    };
    format!(
        "Check `base_url` \"{base}\": {why}. It must be https://{{subdomain}}.zendesk.com/api/v2/chat/ \
         (leave `base_url` out to use {default}), or a proxy URL ending in /api/v2/chat/."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> String {
        check_credentials_shape(Some(&v)).unwrap_err().to_string()
    }

    #[test]
    fn a_string_instead_of_an_object_names_the_field_and_the_shapes() {
        let e = err(json!("tok-secret-123"));
        assert!(
            e.contains("`credentials` must be an object, not a string"),
            "{e}"
        );
        assert!(
            e.contains("\"credentials\": \"access_token\", \"access_token\""),
            "{e}"
        );
        assert!(!e.contains("tok-secret-123"), "{e}");
        assert!(!e.contains("internally tagged"), "{e}");
    }

    #[test]
    fn a_missing_tag_suggests_the_method_from_the_keys_present() {
        let e = err(json!({"access_token": "tok-secret-123"}));
        assert!(e.contains("add \"credentials\": \"access_token\""), "{e}");
        assert!(!e.contains("tok-secret-123"), "{e}");
        let e = err(json!({"client_id": "c", "client_secret": "s", "refresh_token": "r"}));
        assert!(e.contains("add \"credentials\": \"oauth2.0\""), "{e}");
    }

    #[test]
    fn a_wrong_tag_gets_the_nearest_valid_one() {
        for (given, want) in [
            ("oauth2", "oauth2.0"),
            ("OAuth2.0", "oauth2.0"),
            ("oauth", "oauth2.0"),
            ("access-token", "access_token"),
            ("token", "access_token"),
            ("basic", "access_token"),
        ] {
            let e = err(json!({"credentials": given}));
            assert!(
                e.contains(&format!("did you mean \"{want}\"?")),
                "{given}: {e}"
            );
            assert!(e.contains("`credentials.credentials`"), "{e}");
        }
        let e = err(json!({"credentials": "basic", "refresh_token": "r"}));
        assert!(e.contains("did you mean \"oauth2.0\"?"), "{e}");
        let e = err(json!({"credentials": 2}));
        assert!(e.contains("must be the string"), "{e}");
    }

    #[test]
    fn valid_shapes_pass() {
        for tag in TAGS {
            assert!(check_credentials_shape(Some(&json!({"credentials": tag}))).is_ok());
        }
        assert!(check_credentials_shape(None).is_ok());
    }

    #[test]
    fn base_url_advice_shows_the_form_and_what_is_wrong() {
        let default = Url::parse("https://acme.zendesk.com/api/v2/chat/").unwrap();
        let a = base_url_advice(&Url::parse("http://127.0.0.1:18080/").unwrap(), &default);
        assert_eq!(
            a,
            "Check `base_url` \"http://127.0.0.1:18080/\": it does not end in /api/v2/chat/. It must be https://{subdomain}.zendesk.com/api/v2/chat/ (leave `base_url` out to use https://acme.zendesk.com/api/v2/chat/), or a proxy URL ending in /api/v2/chat/."
        );
        let proxy = Url::parse("https://proxy.example.com/zd/api/v2/chat/").unwrap();
        assert!(base_url_advice(&proxy, &default).contains("does not serve the Zendesk Chat API"));
    }

    #[test]
    fn only_a_future_start_date_warns() {
        let now = DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let later = now + chrono::Duration::days(3);
        let w = future_start_date_warning(later, now).unwrap();
        assert!(
            w.contains("`start_date` 2025-06-04T00:00:00Z is in the future"),
            "{w}"
        );
        assert!(future_start_date_warning(now, now).is_none());
        assert!(future_start_date_warning(now - chrono::Duration::days(1), now).is_none());
    }
}
