//! The emit step: the one place where a chat becomes records, a `chats` record (typed when the
//! page was read) or the child rows (`chat_history`, `chat_webpath`, `chat_engagements`,
//! `chat_conversions`) that carry `chat_id`, `position` and `update_timestamp` in front of the
//! API's own fields.

use serde_json::value::RawValue;

use super::page::Chat;
use super::{Part, PATH};
use crate::paging::driver::Selection;
use crate::error::Error;
use crate::protocol::output::Writer;
use crate::records::decode;
use crate::records::normalize::Sink;

/// Emits the records of `part` of `chat` to `sel`; `typed` holds the page's typed chats.
pub fn emit(
    out: &mut Writer<'_>,
    sel: &Selection,
    part: Part,
    chat: &Chat<'_>,
    typed: &Sink,
    emitted_at: i64,
) -> Result<(), Error> {
    let tracker = &sel.tracker;
    if part == Part::Chat {
        let Some(record) = &chat.record else {
            return Err(Error::Internal("a chat was read without its record".into()));
        };
        let patches = typed.patches.get(record.patches.clone());
        let (Some(patches), Some(changes)) = (patches, typed.changes.get(record.changes.clone()))
        else {
            return Err(Error::Internal("a chat record lies outside its page".into()));
        };
        let data = typed.pieces(record.raw.as_bytes(), patches);
        return tracker.record_typed(out, data, changes, chat.bytes, emitted_at);
    }
    let Some(children) = chat.children(part).filter(|c| c.trim() != "null") else {
        return Ok(());
    };
    let items: Vec<&RawValue> = decode(PATH, children.as_bytes())?;
    if items.is_empty() {
        return Ok(());
    }
    let chat_id = json_string(&chat.id);
    // Sent as text or as an epoch number: the typed layer makes it RFC 3339.
    let updated = chat.update_timestamp.map_or("null", str::trim);
    for (i, item) in items.iter().enumerate() {
        let position = i.to_string();
        let lead = [
            ("chat_id", chat_id.as_str()),
            ("position", position.as_str()),
            ("update_timestamp", updated),
        ];
        tracker.record_with(out, item, &lead, emitted_at)?;
    }
    Ok(())
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    crate::records::normalize::write_str(&mut out, s);
    String::from_utf8(out).unwrap_or_else(|_| "\"\"".to_owned())
}
