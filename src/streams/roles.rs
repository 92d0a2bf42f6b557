//! The `roles` stream: the account's agent roles, one request to `roles`.

use super::records::Role;

super::simple::one_request_stream!("roles", "roles", Role, &["id"], Array, false);
