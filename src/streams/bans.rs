//! The `bans` stream: IP address and visitor bans, paged by `since_id`; each page is
//! `{"ip_address": [...], "visitor": [...]}`, merged here into one list ordered by id.

use schemars::JsonSchema;
use crate::records::types::{Int, Str, Timestamp};
use serde_json::value::RawValue;

use crate::records::decode;
use crate::paging::driver::{id_of};
use crate::error::Error;

/// A ban of an IP address or a visitor.
#[derive(JsonSchema)]
#[allow(dead_code)] // read by schemars only
pub struct Ban {
    /// Ban id; the primary key and the incremental cursor.
    id: Int,
    /// `ip_address` or `visitor`.
    #[schemars(rename = "type")]
    kind: Str,
    ip_address: Str,
    visitor_id: Str,
    visitor_name: Str,
    reason: Str,
    /// When the ban was created; null or absent for old bans.
    created_at: Timestamp,
    /// Declared by the certified connector; Zendesk sends `created_at`.
    create_date: Timestamp,
}

const PATH: &str = "bans";

/// Both arrays of a page, merged and ordered by id (records without an integer id last).
fn items(body: &[u8]) -> Result<Vec<&RawValue>, Error> {
    #[derive(serde::Deserialize)]
    struct Bans<'a> {
        #[serde(borrow, default)]
        ip_address: Vec<&'a RawValue>,
        #[serde(borrow, default)]
        visitor: Vec<&'a RawValue>,
    }
    let bans: Bans = decode(PATH, body)?;
    let mut items = Vec::with_capacity(bans.ip_address.len() + bans.visitor.len());
    for raw in bans.ip_address.into_iter().chain(bans.visitor) {
        items.push((id_of(PATH, raw)?.unwrap_or(i64::MAX), raw));
    }
    items.sort_by_key(|(id, _)| *id);
    Ok(items.into_iter().map(|(_, raw)| raw).collect())
}

super::declare::since_id_stream!("bans", "bans", Ban, items);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ban_arrays_are_merged_by_id() {
        let body = br#"{"ip_address":[{"id":5},{"id":1}],"visitor":[{"id":3}]}"#;
        let ids: Vec<String> = items(body)
            .unwrap()
            .iter()
            .map(|r| r.get().to_owned())
            .collect();
        assert_eq!(ids, vec![r#"{"id":1}"#, r#"{"id":3}"#, r#"{"id":5}"#]);
    }
}
