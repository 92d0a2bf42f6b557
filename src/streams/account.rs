//! The `accounts` stream: the Chat account itself, one object from `account`. A 403 there means
//! an account integrated into Zendesk Support, which does not expose it: the stream is skipped.

use super::records::Account;

super::simple::one_request_stream!(
    "accounts",
    "account",
    Account,
    &["account_key"],
    Object,
    true
);
