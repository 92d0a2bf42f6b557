//! The `goals` stream: the account's goals, one request to `goals`.

use super::records::Goal;

super::simple::one_request_stream!("goals", "goals", Goal, &["id"], Array, false);
