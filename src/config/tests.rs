//! Unit tests of config parsing and validation.
use super::*;
use serde_json::json;

fn cfg(v: Value) -> Result<ValidConfig, Error> {
    ValidConfig::from_value(v)
}

#[test]
fn certified_connector_configs_are_accepted() {
    let c = cfg(
        json!({"start_date":"2021-02-01T00:00:00Z","subdomain":"acme",
        "credentials":{"credentials":"access_token","access_token":"tok-123456"}}),
    )
    .unwrap();
    assert_eq!(c.base_url.as_str(), "https://acme.zendesk.com/api/v2/chat/");
    assert_eq!(
        c.token_url.as_str(),
        "https://acme.zendesk.com/oauth2/chat/token"
    );
    assert_eq!(c.requests_per_minute, 200);
    let o = cfg(
        json!({"start_date":"2021-02-01T00:00:00Z","subdomain":"acme",
        "credentials":{"credentials":"oauth2.0","client_id":"cid-1234","client_secret":"cs-12345",
        "access_token":"at-123456","refresh_token":"rt-123456"}}),
    )
    .unwrap();
    assert!(o.refresh.is_some());
}

#[test]
fn subdomain_given_as_url_or_host_is_explained() {
    for bad in [
        "https://acme.zendesk.com",
        "acme.zendesk.com",
        "https://acme.zendesk.com/",
    ] {
        let err = cfg(json!({"start_date":"2021-02-01T00:00:00Z","subdomain":bad,
            "credentials":{"credentials":"access_token","access_token":"tok-123456"}}))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`subdomain`") && err.contains("\"acme\""),
            "{err}"
        );
    }
}

#[test]
fn base_url_rules() {
    let base = |u: &str| {
        cfg(
            json!({"start_date":"2021-02-01T00:00:00Z","subdomain":"acme","base_url":u,
            "credentials":{"credentials":"access_token","access_token":"tok-123456"}}),
        )
    };
    let c = base("http://127.0.0.1:8080/api/v2/chat").unwrap();
    assert_eq!(c.base_url.as_str(), "http://127.0.0.1:8080/api/v2/chat/");
    assert_eq!(
        c.token_url.as_str(),
        "http://127.0.0.1:8080/oauth2/chat/token"
    );
    assert!(base("http://10.1.2.3/api/").is_ok());
    assert!(base("http://example.com/api/")
        .unwrap_err()
        .to_string()
        .contains("https://"));
    assert!(base("https://proxy.example.com/zd/").is_ok());
}

#[test]
fn bad_fields_are_named_without_echoing_secrets() {
    let err = cfg(json!({"subdomain":"acme","credentials":{"credentials":"access_token","access_token":"tok-123456"}}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`start_date`"), "{err}");
    let err = cfg(json!({"start_date":"yesterday","subdomain":"acme","credentials":{"credentials":"access_token","access_token":"x1234567"}}))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`start_date`") && err.contains("YYYY-MM-DDTHH:MM:SSZ"),
        "{err}"
    );
    let err = cfg(json!({"start_date":"2021-02-01T00:00:00Z","subdomain":"acme","credentials":{"credentials":"access_token","access_token":12345678}}))
        .unwrap_err()
        .to_string();
    assert!(!err.contains("12345678"), "{err}");
    let err = cfg(json!({"start_date":"2021-02-01T00:00:00Z","subdomain":"acme","credentials":{"credentials":"basic"}}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("oauth2.0"), "{err}");
    assert!(ValidConfig::from_json("{not json")
        .unwrap_err()
        .to_string()
        .contains("not valid JSON"));
    assert!(ValidConfig::from_json("[]").is_err());
}

#[test]
fn start_date_forms_are_documented_ones() {
    for (given, want) in [
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
        ("2024-01-01", "2024-01-01T00:00:00Z"),
        ("2024-01-01T02:00:00+02:00", "2024-01-01T00:00:00Z"),
        ("2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00.500Z"),
    ] {
        let got = parse_start_date(given).unwrap();
        assert_eq!(
            got.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            want
        );
    }
    let e = parse_start_date("01/02/2024").unwrap_err().to_string();
    assert!(
        e.contains("YYYY-MM-DDTHH:MM:SSZ") && e.contains("\"2021-02-01\""),
        "{e}"
    );
}

#[test]
fn a_future_start_date_is_returned_as_a_warning() {
    let c = cfg(
        json!({"start_date":"2999-01-01T00:00:00Z","subdomain":"acme",
        "credentials":{"credentials":"access_token","access_token":"tok-123456"}}),
    )
    .unwrap();
    assert_eq!(c.warnings.len(), 1);
    assert!(c.warnings[0].contains("in the future"), "{:?}", c.warnings);
    let c = cfg(
        json!({"start_date":"2021-01-01T00:00:00Z","subdomain":"acme",
        "credentials":{"credentials":"access_token","access_token":"tok-123456"}}),
    )
    .unwrap();
    assert!(c.warnings.is_empty());
}

#[test]
fn credentials_mistakes_are_explained_without_rust_internals() {
    let with = |creds: Value| {
        cfg(json!({"start_date":"2021-01-01T00:00:00Z","subdomain":"acme","credentials":creds}))
            .unwrap_err()
            .to_string()
    };
    let string = with(json!("tok-123456"));
    assert!(
        string.contains("`credentials` must be an object"),
        "{string}"
    );
    let untagged = with(json!({"access_token": "tok-123456"}));
    assert!(
        untagged.contains("\"credentials\": \"access_token\""),
        "{untagged}"
    );
    let wrong_tag = with(json!({"credentials": "oauth2", "access_token": "tok-123456"}));
    assert!(
        wrong_tag.contains("did you mean \"oauth2.0\"?"),
        "{wrong_tag}"
    );
    for e in [string, untagged, wrong_tag] {
        assert!(!e.contains("enum") && !e.contains("tok-123456"), "{e}");
    }
}

#[test]
fn with_tokens_replaces_only_tokens() {
    let c = cfg(json!({"start_date":"2021-02-01T00:00:00Z","subdomain":"acme","extra":1,
        "credentials":{"credentials":"oauth2.0","client_id":"cid-1234","client_secret":"cs-12345","refresh_token":"rt-123456"}}))
    .unwrap();
    let v = c.with_tokens(&Secret::new("new-at-1"), Some(&Secret::new("new-rt-1")));
    assert_eq!(v["credentials"]["access_token"], "new-at-1");
    assert_eq!(v["credentials"]["refresh_token"], "new-rt-1");
    assert_eq!(v["credentials"]["client_id"], "cid-1234");
    assert_eq!(v["extra"], 1);
}

proptest::proptest! {
    #[test]
    fn config_parsing_never_panics(text in ".{0,300}") {
        let _ = ValidConfig::from_json(&text);
    }
}
