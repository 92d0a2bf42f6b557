//! Integration tests: the real `source-zendesk-chat` binary against the fake Zendesk Chat API.

mod util;

mod commands;
mod exports;
mod fake_server;
mod hardening;
mod live_edge;
mod messages;
mod metadata;
mod progress;
mod rate_status;
mod read;
mod resilience;
mod saved_state;
mod schemas;
