//! The flat exports (conversions, department events): items ordered by (`timestamp` second,
//! `id`), paged with `start_time` (epoch seconds) and `start_id`, each item one record.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{Export, ItemRef, Items, Target};
use crate::error::Error;
use crate::paging::coverage::Position;
use crate::paging::cursor::iso_to_secs;
use crate::paging::driver::EXPORT_LIMIT;
use crate::protocol::output::Writer;
use crate::records::decode;

/// One flat export: its path and the key of its item array.
pub struct Flat {
    pub path: &'static str,
    pub items: &'static str,
}

/// An item with its place in the export.
struct Item<'b> {
    pos: Position,
    raw: &'b RawValue,
}

/// A decoded page.
pub struct FlatPage<'b> {
    items: Vec<Item<'b>>,
    full: bool,
    without_key: u64,
}

impl Items for FlatPage<'_> {
    fn count(&self) -> usize {
        self.items.len()
    }
    fn item(&self, i: usize) -> ItemRef<'_> {
        let item = &self.items[i];
        ItemRef {
            key: &item.pos.id,
            pos: Some(&item.pos),
            version: None,
        }
    }
    fn full(&self) -> bool {
        self.full
    }
    fn without_key(&self) -> u64 {
        self.without_key
    }
}

impl Export for &'static Flat {
    type Page<'b> = FlatPage<'b>;
    type Slice = ();

    fn path(&self) -> &'static str {
        self.path
    }
    fn unit(&self) -> i64 {
        1
    }
    fn cursor_field(&self) -> &'static str {
        "timestamp"
    }
    fn accepted(&self) -> &'static str {
        "ours, {\"timestamp\": \"2024-06-15T12:00:00Z\", \"start_id\": \"...\", \"done_ranges\": [...], \"window\": [...]}"
    }
    fn query(&self, at: &Position) -> Vec<(&'static str, String)> {
        super::time_id_query(None, at)
    }
    fn parse<'b>(&self, body: &'b [u8]) -> Result<FlatPage<'b>, Error> {
        let envelope: std::collections::HashMap<&str, &RawValue> = decode(self.path, body)?;
        let raws: Vec<&RawValue> = match envelope.get(self.items) {
            Some(list) => decode(self.path, list.get().as_bytes())?,
            None => Vec::new(),
        };
        let count = envelope
            .get("count")
            .and_then(|c| c.get().trim().parse::<u64>().ok())
            .unwrap_or(raws.len() as u64);
        let full = count >= u64::from(EXPORT_LIMIT);
        let mut page = FlatPage {
            items: Vec::with_capacity(raws.len()),
            full,
            without_key: 0,
        };
        for raw in raws {
            match place(self.path, raw)? {
                Some(pos) => page.items.push(Item { pos, raw }),
                None => page.without_key += 1,
            }
        }
        Ok(page)
    }
    fn slice(&self, _: &Position, _: Vec<String>) {}
    fn emit(
        &self,
        page: &FlatPage<'_>,
        i: usize,
        to: Target<'_>,
        _: &mut (),
        out: &mut Writer<'_>,
    ) -> Result<(), Error> {
        match page.items.get(i) {
            Some(item) => to.sel.tracker.record(out, item.raw, to.emitted_at),
            None => Ok(()),
        }
    }
}

/// An item's (second, id), if it has both.
fn place(path: &str, raw: &RawValue) -> Result<Option<Position>, Error> {
    #[derive(Deserialize)]
    struct Head<'a> {
        #[serde(default)]
        id: Value,
        #[serde(borrow, default)]
        timestamp: Option<std::borrow::Cow<'a, str>>,
    }
    let head: Head = decode(path, raw.get().as_bytes())?;
    let id = match head.id {
        Value::String(s) if !s.is_empty() => s,
        Value::Number(n) => n.to_string(),
        _ => return Ok(None),
    };
    let secs = head.timestamp.as_deref().and_then(iso_to_secs);
    Ok(secs.map(|secs| Position { secs, id }))
}
