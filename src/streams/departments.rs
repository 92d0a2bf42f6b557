//! The `departments` stream: the account's departments, one request to `departments`.

use super::records::Department;

super::simple::one_request_stream!(
    "departments",
    "departments",
    Department,
    &["id"],
    Array,
    false
);
