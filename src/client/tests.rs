//! Unit tests of the request loop (401 → refresh, 429 → pause, 5xx → retry) and of the OAuth
//! refresh, against wiremock answers built for each case.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::retry::RetryPolicy;
use super::Client;
use crate::config::ValidConfig;
use crate::error::Error;
use crate::protocol::output::Captured;
use crate::protocol::FailureType;

/// A fast policy: three attempts, millisecond backoff.
fn quick() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..RetryPolicy::sync()
    }
}

fn client(server: &MockServer, oauth: bool, policy: RetryPolicy) -> (Client, Captured) {
    let credentials = if oauth {
        json!({"credentials": "oauth2.0", "client_id": "unit-client", "client_secret": "unit-secret-1",
               "access_token": "old-token", "refresh_token": "refresh-1"})
    } else {
        json!({"credentials": "access_token", "access_token": "old-token"})
    };
    let config = ValidConfig::from_json(
        &json!({
            "subdomain": "unit",
            "start_date": "2024-01-01T00:00:00Z",
            "base_url": format!("{}/api/v2/chat/", server.uri()),
            "credentials": credentials,
        })
        .to_string(),
    )
    .unwrap();
    let (out, captured) = Captured::output();
    (Client::new(&config, policy, out).unwrap(), captured)
}

fn token_answer(access: &str, refresh: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(
        json!({"access_token": access, "refresh_token": refresh, "expires_in": 3600}),
    )
}

async fn api_with_tokens(server: &MockServer) {
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer old-token"))
        .respond_with(ResponseTemplate::new(401))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer new-token"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"ok\":true}"))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_401_is_answered_by_one_refresh_and_the_rotated_tokens_are_handed_back() {
    let server = MockServer::start().await;
    api_with_tokens(&server).await;
    Mock::given(method("POST"))
        .and(path("/oauth2/chat/token"))
        .respond_with(token_answer("new-token", "refresh-2"))
        .expect(1)
        .mount(&server)
        .await;
    let (client, sink) = client(&server, true, quick());
    let body = client.get("agents", &[]).await.unwrap();
    assert_eq!(&body[..], b"{\"ok\":true}");
    let controls: Vec<Value> = sink
        .messages()
        .into_iter()
        .filter(|m| m["type"] == "CONTROL")
        .collect();
    assert_eq!(controls.len(), 1);
    let creds = &controls[0]["control"]["connectorConfig"]["config"]["credentials"];
    assert_eq!(creds["access_token"], "new-token");
    assert_eq!(creds["refresh_token"], "refresh-2");
}

#[tokio::test]
async fn concurrent_401s_share_one_refresh() {
    let server = MockServer::start().await;
    api_with_tokens(&server).await;
    Mock::given(method("POST"))
        .and(path("/oauth2/chat/token"))
        .respond_with(token_answer("new-token", "refresh-2").set_delay(Duration::from_millis(100)))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server, true, quick());
    let client = Arc::new(client);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.get("agents", &[]).await.map(|b| b.len()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 11);
    }
    // `expect(1)` is verified when the server drops.
}

#[tokio::test]
async fn a_429_pauses_for_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .mount(&server)
        .await;
    let (client, _) = client(&server, false, quick());
    let started = std::time::Instant::now();
    client.get("roles", &[]).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(client.stats.throttled.load(Ordering::Relaxed), 1);
    assert_eq!(client.stats.requests.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn persistent_5xx_is_retried_then_a_transient_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .expect(3)
        .mount(&server)
        .await;
    let (client, _) = client(&server, false, quick());
    let err = client.get("roles", &[]).await.unwrap_err();
    assert_eq!(err.failure_type(), FailureType::TransientError);
    let text = err.to_string();
    assert!(
        text.contains("HTTP 503") && text.contains("3 attempts"),
        "{text}"
    );
    assert!(text.contains("/api/v2/chat/roles"), "{text}");
    assert_eq!(client.stats.retries.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn a_refused_refresh_is_a_config_error() {
    let server = MockServer::start().await;
    api_with_tokens(&server).await;
    Mock::given(method("POST"))
        .and(path("/oauth2/chat/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "refresh_token=refresh-1&client_secret=unit-secret-1"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server, true, quick());
    let err = client.get("agents", &[]).await.unwrap_err();
    assert_eq!(err.failure_type(), FailureType::ConfigError);
    assert!(err.to_string().contains("invalid_grant"), "{err}");
    let Error::Auth { internal, .. } = &err else {
        panic!("an auth error: {err:?}")
    };
    assert!(
        !internal.contains("unit-secret-1") && !internal.contains("refresh-1&"),
        "{internal}"
    );
}

#[tokio::test]
async fn a_401_without_refresh_is_a_config_error_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server, false, quick());
    let err = client.get("agents", &[]).await.unwrap_err();
    assert_eq!(err.failure_type(), FailureType::ConfigError);
}

#[tokio::test]
async fn a_retry_after_beyond_the_maximum_fails_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "601"))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server, false, quick());
    let started = std::time::Instant::now();
    let err = client.get("roles", &[]).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(err.failure_type(), FailureType::TransientError);
    assert!(
        err.to_string().contains("allows requests again at"),
        "{err}"
    );
}
