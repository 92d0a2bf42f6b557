//! The single-request strategy of the paging driver, for streams read with one request and no
//! cursor: account, routing_settings and the plain lists (departments, goals, roles, ...).

use serde::Deserialize;
use serde_json::value::RawValue;

use super::driver::{no_cursor_state, Ctx, Outcome, Selection};
use super::pager::{self as paging, Pager};
use super::Fetch;
use crate::error::Error;
use crate::protocol::output::Writer;
use crate::records::decode;

/// How the endpoint wraps its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A bare object (`account`).
    Object,
    /// `{"data": {...}}` (`routing_settings/account`).
    Data,
    /// A JSON array of objects.
    Array,
}

/// The single-request strategy: one page, no cursor, a final `no cursor` STATE.
struct OneRequest<'s> {
    sel: &'s Selection,
    path: &'static str,
    shape: Shape,
    forbidden_is_unavailable: bool,
}

/// Reads one of these streams. `forbidden_is_unavailable`: a 403 skips the stream (`account`
/// on accounts integrated into Zendesk Support) instead of failing it.
pub async fn read<F: Fetch>(
    ctx: &Ctx<F>,
    sel: &Selection,
    path: &'static str,
    shape: Shape,
    forbidden_is_unavailable: bool,
) -> Result<Outcome, Error> {
    let mut pager = OneRequest {
        sel,
        path,
        shape,
        forbidden_is_unavailable,
    };
    paging::run(ctx, &mut pager).await
}

impl Pager for OneRequest<'_> {
    type Cursor = ();
    type Page<'b> = Vec<&'b RawValue>;

    fn stream(&self) -> &'static str {
        self.sel.name
    }
    fn path(&self) -> &'static str {
        self.path
    }
    fn forbidden_is_unavailable(&self) -> bool {
        self.forbidden_is_unavailable
    }
    fn first(&self) {}
    fn query(&self, _: &()) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    fn parse<'b>(&self, body: &'b [u8]) -> Result<Self::Page<'b>, Error> {
        let path = self.path;
        Ok(match self.shape {
            Shape::Object => vec![decode::<&RawValue>(path, body)?],
            Shape::Data => {
                #[derive(Deserialize)]
                struct Data<'a> {
                    #[serde(borrow)]
                    data: Option<&'a RawValue>,
                }
                decode::<Data>(path, body)?.data.into_iter().collect()
            }
            Shape::Array => decode::<Vec<&RawValue>>(path, body)?,
        })
    }
    fn next(&self, _: &Self::Page<'_>, _: &()) -> Option<()> {
        None
    }
    fn is_last(&self, _: &Self::Page<'_>, _: &Self::Cursor) -> bool {
        true
    }
    fn emit(&mut self, page: Self::Page<'_>, _: &(), out: &mut Writer<'_>) -> Result<u64, Error> {
        let emitted_at = crate::protocol::now_millis();
        for raw in &page {
            let text = raw.get().trim_start();
            if !text.starts_with('{') {
                return Err(Error::Decode {
                    endpoint: self.path.to_owned(),
                    line: 1,
                    column: 1,
                    detail: "expected JSON objects as records".into(),
                });
            }
            if text != "{}" {
                // the platform drops empty records
                self.sel.tracker.record(out, raw, emitted_at)?;
            }
        }
        Ok(page.len() as u64)
    }
    fn commit(&mut self, out: &mut Writer<'_>, _last: bool) -> Result<(), Error> {
        self.sel.tracker.state(out, no_cursor_state())
    }
}
