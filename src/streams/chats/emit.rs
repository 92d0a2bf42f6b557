//! The emit step: the one place where a chat becomes records, a `chats` record or the child
//! rows (`chat_history`, `chat_webpath`, `chat_engagements`, `chat_conversions`) that carry
//! `chat_id`, `position` and `update_timestamp` in front of the API's own fields.

use serde_json::value::RawValue;

use super::page::Chat;
use super::{Member, Part, PATH};
use crate::error::Error;
use crate::protocol::output::Writer;
use crate::streams::driver::decode;

/// Emits the records of `member`'s part of `chat`.
pub fn emit(
    out: &mut Writer<'_>,
    member: &Member,
    chat: &Chat<'_>,
    emitted_at: i64,
) -> Result<(), Error> {
    let tracker = &member.sel.tracker;
    let head = &chat.head;
    let children = match member.part {
        Part::Chat => return tracker.record(out, chat.raw, emitted_at),
        Part::History => head.history,
        Part::Webpath => head.webpath,
        Part::Engagements => head.engagements,
        Part::Conversions => head.conversions,
    };
    let Some(children) = children.filter(|c| c.get().trim() != "null") else {
        return Ok(());
    };
    let items: Vec<&RawValue> = decode(PATH, children.get().as_bytes())?;
    if items.is_empty() {
        return Ok(());
    }
    let chat_id = json_string(&chat.id);
    let updated = match &head.update_timestamp {
        Some(serde_json::Value::String(t)) => json_string(t),
        Some(other) => other.to_string(), // a number: the typed layer makes it RFC 3339
        None => "null".to_owned(),
    };
    for (i, item) in items.iter().enumerate() {
        let position = i.to_string();
        let lead = [
            ("chat_id", chat_id.as_str()),
            ("position", position.as_str()),
            ("update_timestamp", updated.as_str()),
        ];
        tracker.record_with(out, item, &lead, emitted_at)?;
    }
    Ok(())
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    crate::streams::normalize::write_str(&mut out, s);
    String::from_utf8(out).unwrap_or_else(|_| "\"\"".to_owned())
}
