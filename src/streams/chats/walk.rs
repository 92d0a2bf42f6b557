//! The fast reader of an export page: the envelope and each chat walked by the
//! [`Transcoder`], chats kept as their input plus patches. A body it does not handle goes back
//! to the reference reader in [`super::page`].

use super::page::{chat, chats_shape, head_keys, Chat, Needs, Page, Record};
use crate::records::normalize::{Sink, Tap};
use crate::records::transcode::{Bail, Transcoder};

/// The page, or the cleared sink back when the body needs the serde_json reader (which gives
/// the same records, and the precise error of a bad body). Patches hold 32-bit offsets, so a
/// body over 4 GiB (past the client's size cap anyway) is left to that reader too.
pub(super) fn fast(text: &str, needs: Needs, mut typed: Sink) -> Result<Page<'_>, Sink> {
    if u32::try_from(text.len()).is_err() {
        typed.clear();
        return Err(typed);
    }
    let mut page = Page::new(typed, needs);
    match envelope(text, needs, &mut page) {
        Ok(count) => {
            page.finish(count);
            Ok(page)
        }
        Err(Bail) => {
            let mut typed = page.typed;
            typed.clear();
            Err(typed)
        }
    }
}

/// The envelope `{"chats": [...], "count": n, ...}` walked by the fast path; returns `count`.
fn envelope<'a>(text: &'a str, needs: Needs, page: &mut Page<'a>) -> Result<Option<u64>, Bail> {
    let mut t = Transcoder::new(text, &mut page.typed);
    let mut count = None;
    t.ws();
    t.expect(b'{')?;
    if t.close(b'}') {
        t.end()?;
        return Ok(count);
    }
    loop {
        match t.key()? {
            "chats" => records(&mut t, needs, &mut page.chats, &mut page.without_id)?,
            "count" => count = t.count()?,
            _ => t.skip()?,
        }
        if t.close(b'}') {
            break;
        }
        t.expect(b',')?;
    }
    t.end()?;
    Ok(count)
}

/// The `chats` array walked by the fast path.
fn records<'a>(
    t: &mut Transcoder<'a, '_>,
    needs: Needs,
    chats: &mut Vec<Chat<'a>>,
    without_id: &mut u64,
) -> Result<(), Bail> {
    if t.null() {
        return Ok(());
    }
    t.expect(b'[')?;
    if t.close(b']') {
        return Ok(());
    }
    let shape = chats_shape(needs);
    loop {
        let mut tap = Tap::new(head_keys(needs));
        let changes = t.changes();
        let written = t.record(shape, &mut tap)?;
        let (record, bytes) = match shape {
            Some(_) => {
                let record = Record {
                    raw: written.raw,
                    patches: written.patches,
                    changes: changes..t.changes(),
                };
                (Some(record), written.typed)
            }
            None => (None, written.raw.len()),
        };
        match chat(&tap, record, bytes as u64) {
            Some(c) => chats.push(c),
            None => *without_id += 1,
        }
        if t.close(b']') {
            return Ok(());
        }
        t.expect(b',')?;
    }
}

