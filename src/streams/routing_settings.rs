//! The `routing_settings` stream: the account's routing settings, one `{"data": {...}}` object
//! from `routing_settings/account`.

use super::records::RoutingSettings;

super::simple::one_request_stream!(
    "routing_settings",
    "routing_settings/account",
    RoutingSettings,
    &[],
    Data,
    false
);
