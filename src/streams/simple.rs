//! Streams read with one request and no cursor: account, routing_settings and the plain lists
//! (departments, goals, roles, shortcuts, skills, triggers).

use serde::Deserialize;
use serde_json::value::RawValue;

use super::driver::{decode, get_optional, no_cursor_state, Ctx, Outcome, Selection};
use super::Fetch;
use crate::error::Error;

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

/// Reads one of these streams.
pub async fn read<F: Fetch>(
    ctx: &Ctx<F>,
    sel: &Selection,
    path: &str,
    shape: Shape,
    forbidden_is_unavailable: bool,
) -> Result<Outcome, Error> {
    let body = match get_optional(ctx, sel.name, path, &[], forbidden_is_unavailable).await? {
        Ok(b) => b,
        Err(outcome) => return Ok(outcome),
    };
    let records: Vec<&RawValue> = match shape {
        Shape::Object => vec![decode::<&RawValue>(path, &body)?],
        Shape::Data => {
            #[derive(Deserialize)]
            struct Data<'a> {
                #[serde(borrow)]
                data: Option<&'a RawValue>,
            }
            decode::<Data>(path, &body)?.data.into_iter().collect()
        }
        Shape::Array => decode::<Vec<&RawValue>>(path, &body)?,
    };
    let emitted_at = crate::protocol::now_millis();
    let mut batch = ctx.output.lock();
    for raw in records {
        let text = raw.get().trim_start();
        if !text.starts_with('{') {
            return Err(Error::Decode {
                endpoint: path.to_owned(),
                line: 1,
                column: 1,
                detail: "expected JSON objects as records".into(),
            });
        }
        if text == "{}" {
            continue; // the platform drops empty records
        }
        sel.tracker.record(&mut batch, raw, emitted_at)?;
    }
    sel.tracker.state(&mut batch, no_cursor_state())?;
    Ok(Outcome::Done)
}

/// Declares the catalog entry and the reader of a stream read with one request:
/// `one_request_stream!(stream name, API path, record type, primary key, Shape variant,
/// forbidden_is_unavailable)`.
macro_rules! one_request_stream {
    ($stream:literal, $path:literal, $record:ty, $key:expr, $shape:ident, $forbidden_ok:literal) => {
        pub const STREAMS: &[$crate::streams::StreamInfo] =
            &[$crate::streams::StreamInfo::full_refresh(
                $stream,
                $key,
                $crate::schema::record_schema::<$record>,
            )];

        pub fn resource<F: $crate::streams::Fetch>() -> $crate::streams::Resource<F> {
            $crate::streams::Resource {
                streams: STREAMS,
                read: |ctx, selections| {
                    Box::pin(async move {
                        let sel = $crate::streams::only(selections)?;
                        let shape = $crate::streams::simple::Shape::$shape;
                        $crate::streams::simple::read(&ctx, &sel, $path, shape, $forbidden_ok).await
                    })
                },
            }
        }
    };
}
pub(crate) use one_request_stream;
