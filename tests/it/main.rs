//! Integration tests: the real `source-zendesk-chat` binary against the fake Zendesk Chat API.

mod util;

mod commands;
mod live_edge;
mod read;
mod resilience;
mod schemas;
