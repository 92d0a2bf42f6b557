//! The chats family: `chats` and its child streams `chat_history`, `chat_webpath`,
//! `chat_engagements` and `chat_conversions`, all read from one pass over the incremental chat
//! export (no extra requests for the children), by the export engine
//! ([`crate::paging::export`]): this module only says how a page looks and what a chat emits.
//!
//! The export is ordered by (`update_timestamp` second, chat id) and paged with the cursor pair
//! (`start_time`, `start_id`), so any number of chats sharing one second crosses page
//! boundaries without loss or repeats. A page with fewer than `limit` chats is the last
//! (`next_page` is always present and means nothing). A chat's version is its
//! `update_timestamp` in µs: an updated chat comes back, and is emitted again.

mod emit;
mod page;
pub mod records;
mod walk;

use std::sync::Mutex;

use super::{Resource, StreamInfo};
use crate::error::Error;
use crate::paging::coverage::Position;
use crate::paging::driver::{Ctx, Outcome, Selection};
use crate::paging::export::{self, Export, ItemRef, Items, Target};
use crate::paging::Fetch;
use crate::protocol::output::Writer;
use crate::records::normalize::Sink;
use crate::schema::record_schema;
use page::{Needs, Page};

pub const PATH: &str = "incremental/chats";
/// The export's maximum (and default) page size.
pub const LIMIT: u32 = crate::paging::driver::EXPORT_LIMIT;

/// Which part of a chat a stream emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Chat,
    History,
    Webpath,
    Engagements,
    Conversions,
}

/// The chat export for the selected members: what each needs, and the typed-record buffers of
/// pages already emitted, reused (one page is several MB).
pub struct Chats {
    parts: Vec<Part>,
    needs: Needs,
    sinks: Mutex<Vec<Sink>>,
    /// The most buffers kept: one per slice that may run.
    keep: usize,
}

impl Chats {
    pub fn new(parts: Vec<Part>, keep: usize) -> Self {
        Self {
            needs: Needs::of(parts.iter().copied()),
            parts,
            sinks: Mutex::new(Vec::new()),
            keep,
        }
    }

    fn pool(&self) -> std::sync::MutexGuard<'_, Vec<Sink>> {
        self.sinks.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Items for Page<'_> {
    fn count(&self) -> usize {
        self.chats.len()
    }
    fn item(&self, i: usize) -> ItemRef<'_> {
        let chat = &self.chats[i];
        ItemRef {
            key: &chat.id,
            pos: chat.pos.as_ref(),
            version: chat.version,
        }
    }
    fn full(&self) -> bool {
        self.full
    }
    fn without_key(&self) -> u64 {
        self.without_id
    }
}

impl Export for Chats {
    type Page<'b> = Page<'b>;
    type Slice = ();

    fn path(&self) -> &'static str {
        PATH
    }
    fn unit(&self) -> i64 {
        1
    }
    fn cursor_field(&self) -> &'static str {
        "update_timestamp"
    }
    fn accepted(&self) -> &'static str {
        "ours, {\"update_timestamp\": \"2024-06-15T12:00:00Z\", \"start_id\": \"2406.123.abc\", \"done_ranges\": [...], \"window\": [...]}, and the certified connector's {\"update_timestamp\": \"1697795052\"}"
    }
    fn query(&self, at: &Position) -> Vec<(&'static str, String)> {
        export::time_id_query(Some("chats(*)"), at)
    }
    fn parse<'b>(&self, body: &'b [u8]) -> Result<Page<'b>, Error> {
        let sink = self.pool().pop().unwrap_or_default();
        page::parse(body, self.needs, sink)
    }
    fn slice(&self, _: &Position, _: Vec<String>) {}
    fn emit(
        &self,
        page: &Page<'_>,
        i: usize,
        to: Target<'_>,
        _: &mut (),
        out: &mut Writer<'_>,
    ) -> Result<(), Error> {
        let (Some(chat), Some(part)) = (page.chats.get(i), self.parts.get(to.member)) else {
            return Ok(());
        };
        emit::emit(out, to.sel, *part, chat, &page.typed, to.emitted_at)
    }
    fn recycle(&self, page: Page<'_>) {
        let mut pool = self.pool();
        if pool.len() < self.keep {
            pool.push(page.typed);
        }
    }
    fn without_key_warning(&self, _: &str, n: u64) -> String {
        format!("{PATH} returned {n} chat(s) without an id; they were skipped (a chat without an id cannot be keyed or resumed). Report it to Zendesk if it persists.")
    }
}

/// Reads the selected members of the family in one pass over the export.
pub async fn read<F: Fetch>(ctx: &Ctx<F>, members: Vec<(Selection, Part)>) -> Result<Outcome, Error> {
    let (sels, parts): (Vec<_>, Vec<_>) = members.into_iter().unzip();
    export::read(ctx, Chats::new(parts, ctx.concurrency.max(1)), sels).await
}

/// The family's streams: `chats` and its children, all from one export pass.
pub const STREAMS: &[StreamInfo] = &[
    StreamInfo::incremental("chats", "update_timestamp", &["id"], record_schema::<records::Chat>),
    StreamInfo::incremental("chat_history", "update_timestamp", &["chat_id", "position"], record_schema::<records::ChatHistory>),
    StreamInfo::incremental("chat_webpath", "update_timestamp", &["chat_id", "position"], record_schema::<records::ChatWebpath>),
    StreamInfo::incremental("chat_engagements", "update_timestamp", &["chat_id", "position"], record_schema::<records::ChatEngagement>),
    StreamInfo::incremental("chat_conversions", "update_timestamp", &["chat_id", "position"], record_schema::<records::ChatConversion>),
];

/// The part of a chat a stream of [`STREAMS`] emits.
fn part_of(stream: &str) -> Result<Part, Error> {
    Ok(match stream {
        "chats" => Part::Chat,
        "chat_history" => Part::History,
        "chat_webpath" => Part::Webpath,
        "chat_engagements" => Part::Engagements,
        "chat_conversions" => Part::Conversions,
        other => return Err(Error::Internal(format!("{other} is not a chats stream"))),
    })
}

async fn read_family<F: Fetch>(ctx: Ctx<F>, selections: Vec<Selection>) -> Result<Outcome, Error> {
    let members = selections
        .into_iter()
        .map(|sel| Ok((part_of(sel.name)?, sel)))
        .map(|r| r.map(|(part, sel)| (sel, part)))
        .collect::<Result<Vec<_>, Error>>()?;
    read(&ctx, members).await
}

pub fn resource<F: Fetch>() -> Resource<F> {
    Resource {
        streams: STREAMS,
        read: |ctx, selections| Box::pin(read_family(ctx, selections)),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod page_tests;
#[cfg(test)]
mod saved_tests;
