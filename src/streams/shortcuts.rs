//! The `shortcuts` stream: canned responses, one request to `shortcuts`.

use super::records::Shortcut;

super::simple::one_request_stream!("shortcuts", "shortcuts", Shortcut, &["id"], Array, false);
