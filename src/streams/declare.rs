//! One-line declarations of the streams read by a paging strategy of the engine: each macro
//! writes a resource module's `STREAMS` and `resource()`.

/// The `resource()` of a module with one stream in `STREAMS`, read by `$read` (an expression
/// awaiting a strategy, given the context `$ctx` and the stream's selection `$sel`).
macro_rules! single_stream_resource {
    (|$ctx:ident, $sel:ident| $read:expr) => {
        pub fn resource<F: $crate::paging::Fetch>() -> $crate::streams::Resource<F> {
            $crate::streams::Resource {
                streams: STREAMS,
                read: |$ctx, selections| {
                    Box::pin(async move {
                        let $sel = $crate::streams::only(selections)?;
                        $read
                    })
                },
            }
        }
    };
}
pub(crate) use single_stream_resource;

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

        $crate::streams::declare::single_stream_resource!(|ctx, sel| $crate::paging::simple::read(
            &ctx,
            &sel,
            $path,
            $crate::paging::simple::Shape::$shape,
            $forbidden_ok
        )
        .await);
    };
}
pub(crate) use one_request_stream;

/// Declares the catalog entry and the reader of a stream paged by `since_id` (100 per page),
/// incremental by `id`: `since_id_stream!(stream name, API path, record type, items fn)`.
macro_rules! since_id_stream {
    ($stream:literal, $path:literal, $record:ty, $items:path) => {
        pub const STREAMS: &[$crate::streams::StreamInfo] =
            &[$crate::streams::StreamInfo::incremental(
                $stream,
                "id",
                &["id"],
                $crate::schema::record_schema::<$record>,
            )];

        $crate::streams::declare::single_stream_resource!(|ctx, sel| {
            $crate::paging::since_id::read(&ctx, sel, $path, 100, $items).await
        });
    };
}
pub(crate) use since_id_stream;

/// Declares the catalog entry and the reader of an incremental export stream:
/// `export_stream!(stream name, API path, key of the item array, record type)`.
macro_rules! export_stream {
    ($stream:literal, $path:literal, $items:literal, $record:ty) => {
        /// The export this stream reads.
        pub static EXPORT: $crate::paging::export::flat::Flat =
            $crate::paging::export::flat::Flat {
                path: $path,
                items: $items,
            };

        pub const STREAMS: &[$crate::streams::StreamInfo] =
            &[$crate::streams::StreamInfo::incremental(
                $stream,
                "timestamp",
                &["id"],
                $crate::schema::record_schema::<$record>,
            )];

        $crate::streams::declare::single_stream_resource!(|ctx, sel| {
            $crate::paging::export::read(&ctx, &EXPORT, vec![sel]).await
        });
    };
}
pub(crate) use export_stream;
