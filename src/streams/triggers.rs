//! The `triggers` stream: automatic actions, one request to `triggers`.

use super::records::Trigger;

super::simple::one_request_stream!("triggers", "triggers", Trigger, &["id"], Array, false);
