//! The `since_id` strategy of the paging driver (agents, bans): requests `since_id` (inclusive)
//! and `limit`, ascending by id, until an empty page; STATE `{"id": <last id>}` after every page.
//! A record without an integer id cannot be placed on the cursor: it is not emitted, and one
//! warning per stream says how many there were, wherever in a page they sat.
//!
//! A record with an id below the request's `since_id` is a repeat only when this sync emitted
//! it already. Otherwise nothing proves that a destination has it (the saved `id` is only the
//! highest id an earlier sync emitted, and the API may send records below `since_id`): it is
//! emitted (a destination deduplicating on `id` keeps one copy), never dropped, and one warning
//! per stream counts them. It does not move the cursor.

use std::collections::HashSet;

use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::driver::{id_as_i64, id_of, unreadable_state, Ctx, Outcome, Selection};
use super::pager::{self as paging, Pager};
use super::saved::{self, Form};
use super::Fetch;
use crate::error::Error;
use crate::protocol::output::Writer;
use crate::protocol::{AirbyteMessage, LogLevel, Output};

/// The own state form of agents and bans.
const FORM: Form = Form {
    key: "id",
    accepted: "{\"id\": 361089721035} (ours and the certified connector's)",
    date_range: false,
    order: id_as_i64,
};

/// Extracts a page's records from a body.
pub type Items = for<'a> fn(&'a [u8]) -> Result<Vec<&'a RawValue>, Error>;

/// Pages one endpoint by id.
pub struct SinceId {
    sel: Selection,
    path: &'static str,
    limit: u32,
    items: Items,
    /// The highest id emitted (or resumed from).
    last_id: Option<i64>,
    /// The saved state in its own form, committed again while no record moves it.
    saved: Option<Value>,
    /// Every id this sync emitted: a record below `since_id` is a repeat only if it is here.
    emitted: HashSet<i64>,
    /// Records skipped for want of an integer id.
    without_id: u64,
    /// Records below `since_id` that this sync had not emitted, emitted.
    below_since: u64,
}

impl SinceId {
    pub fn new(
        sel: Selection,
        path: &'static str,
        limit: u32,
        items: Items,
        out: &Output,
    ) -> Result<Self, Error> {
        let saved = saved::own_form(&sel, &FORM, out)?.map(std::borrow::Cow::into_owned);
        let last_id =
            match saved.as_ref().and_then(|s| s.get("id")) {
                None | Some(Value::Null) => None,
                Some(v) => Some(id_as_i64(v).filter(|id| *id >= 0).ok_or_else(|| {
                    unreadable_state(sel.name, "id", "a non-negative integer id")
                })?),
            };
        Ok(Self {
            sel,
            path,
            limit,
            items,
            last_id,
            saved,
            emitted: HashSet::new(),
            without_id: 0,
            below_since: 0,
        })
    }

    /// The stream's warnings: records without an id, records below `since_id`.
    fn warnings(&self) -> Vec<String> {
        let name = self.sel.name;
        let mut warnings = Vec::new();
        if self.without_id > 0 {
            warnings.push(format!(
                "Stream {name}: {} without an integer id were not emitted (the id is the stream's cursor and key).",
                super::tracker::count(self.without_id, "record", "records")
            ));
        }
        if self.below_since > 0 {
            warnings.push(format!(
                "Stream {name}: {} returned {} with an id below the requested since_id that this sync had not emitted; they were emitted, as nothing proves an earlier sync did (a destination deduplicating on id keeps one copy).",
                self.path,
                super::tracker::count(self.below_since, "record", "records")
            ));
        }
        warnings
    }
}

/// Reads an id-paged stream to its end.
pub async fn read<F: Fetch>(
    ctx: &Ctx<F>,
    sel: Selection,
    path: &'static str,
    limit: u32,
    items: Items,
) -> Result<Outcome, Error> {
    let mut pager = SinceId::new(sel, path, limit, items, &ctx.output)?;
    let outcome = paging::run(ctx, &mut pager).await;
    for why in pager.warnings() {
        tracing::warn!("{why}");
        ctx.output.emit(&AirbyteMessage::log(LogLevel::Warn, why))?;
    }
    outcome
}

impl Pager for SinceId {
    type Cursor = i64;
    type Page<'b> = Vec<(Option<i64>, &'b RawValue)>;

    fn stream(&self) -> &'static str {
        self.sel.name
    }
    fn path(&self) -> &'static str {
        self.path
    }
    fn first(&self) -> i64 {
        self.last_id.map_or(0, |id| id.saturating_add(1))
    }
    fn query(&self, since: &i64) -> Vec<(&'static str, String)> {
        vec![
            ("since_id", since.to_string()),
            ("limit", self.limit.to_string()),
        ]
    }
    fn parse<'b>(&self, body: &'b [u8]) -> Result<Self::Page<'b>, Error> {
        (self.items)(body)?
            .into_iter()
            .map(|raw| Ok((id_of(self.path, raw)?, raw)))
            .collect()
    }
    fn next(&self, page: &Self::Page<'_>, _: &i64) -> Option<i64> {
        page.iter().filter_map(|(id, _)| *id).max()?.checked_add(1)
    }
    fn is_last(&self, page: &Self::Page<'_>, _: &Self::Cursor) -> bool {
        page.is_empty()
    }
    fn emit(
        &mut self,
        page: Self::Page<'_>,
        since: &i64,
        out: &mut Writer<'_>,
    ) -> Result<u64, Error> {
        let full = page.len() >= self.limit as usize;
        self.sel
            .tracker
            .expect_more(if full { u64::from(self.limit) } else { 0 });
        let emitted_at = crate::protocol::now_millis();
        let mut fresh = 0;
        for (id, raw) in page {
            let Some(id) = id else {
                self.without_id += 1;
                continue;
            };
            if id >= *since {
                fresh += 1;
            } else if self.emitted.contains(&id) {
                continue; // a repeat of a record this sync emitted
            } else {
                self.below_since += 1;
            }
            self.sel.tracker.record(out, raw, emitted_at)?;
            self.emitted.insert(id);
            self.last_id = Some(self.last_id.map_or(id, |m| m.max(id)));
        }
        Ok(fresh)
    }
    fn commit(&mut self, out: &mut Writer<'_>, _last: bool) -> Result<(), Error> {
        let state = match (self.last_id, &self.saved) {
            (Some(id), _) => json!({ "id": id }),
            (None, Some(saved)) => saved.clone(),
            (None, None) => json!({}),
        };
        self.sel.tracker.state(out, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::scripted::{page, param, Harness, Scripted};

    fn items(body: &[u8]) -> Result<Vec<&RawValue>, Error> {
        crate::records::decode("agents", body)
    }

    /// Agents paged 2 at a time; a record without id is served where the id before it was.
    fn agents_from(ids: Vec<Value>) -> Scripted {
        Scripted::new(move |_, q| {
            let since: i64 = param(q, "since_id")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let mut place = 0;
            let rest: Vec<Value> = ids
                .iter()
                .filter(|v| {
                    place = v["id"].as_i64().unwrap_or(place);
                    place >= since
                })
                .take(2)
                .cloned()
                .collect();
            page(Value::Array(rest))
        })
    }

    #[tokio::test]
    async fn resumes_after_the_saved_id_and_skips_records_without_one() {
        let data = vec![
            json!({"id": 1}),
            json!({"id": 4}),
            json!({"name": "no id"}),
            json!({"id": 9}),
        ];
        let h = Harness::new(agents_from(data), 0, 1);
        let sel = Harness::selection("agents", Some(json!({"id": 1})));
        let outcome = read(&h.ctx, sel, "agents", 2, items).await.unwrap();
        assert_eq!(outcome, Outcome::Done);
        let ids: Vec<Value> = h
            .records("agents")
            .iter()
            .map(|r| r["id"].clone())
            .collect();
        assert_eq!(ids, vec![json!(4), json!(9)]);
        assert_eq!(h.states("agents").last().unwrap(), &json!({"id": 9}));
        assert!(
            h.warnings()
                .iter()
                .any(|w| w.contains("1 record without an integer id")),
            "{:?}",
            h.warnings()
        );
    }

    #[tokio::test]
    async fn the_largest_id_stops_paging_with_an_error_after_emitting_it() {
        let h = Harness::new(
            agents_from(vec![json!({"id": 5}), json!({"id": i64::MAX})]),
            0,
            1,
        );
        let err = read(
            &h.ctx,
            Harness::selection("agents", None),
            "agents",
            2,
            items,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err}");
        assert_eq!(h.records("agents").len(), 2);
        assert_eq!(h.states("agents").last().unwrap(), &json!({"id": i64::MAX}));
        assert!(h.ctx.fetch.requests() <= 2);
    }

    #[tokio::test]
    async fn an_unreadable_saved_id_is_an_input_error() {
        let h = Harness::new(agents_from(vec![]), 0, 1);
        let sel = Harness::selection("agents", Some(json!({"id": "banana"})));
        let err = read(&h.ctx, sel, "agents", 2, items).await.unwrap_err();
        assert!(matches!(err, Error::Input(_)), "{err}");
        assert_eq!(h.ctx.fetch.requests(), 0);
    }

    /// Agents 1..=10, 5 per page; the ids a request returns start `below` under its since_id
    /// (on the first request only when `first_only`), and never a page of nothing new.
    fn below_since(below: i64, first_only: bool) -> Scripted {
        let first = std::sync::atomic::AtomicBool::new(true);
        Scripted::new(move |_, q| {
            let since: i64 = param(q, "since_id")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let shift = if first.swap(false, std::sync::atomic::Ordering::Relaxed) || !first_only {
                below
            } else {
                0
            };
            let ids: Vec<i64> = if (since..=10).is_empty() {
                Vec::new()
            } else {
                ((since - shift).max(1)..=10).take(5).collect()
            };
            page(json!(ids
                .iter()
                .map(|id| json!({"id": id}))
                .collect::<Vec<_>>()))
        })
    }

    fn ids(h: &Harness, stream: &str) -> Vec<i64> {
        h.records(stream)
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn records_below_since_id_never_emitted_are_emitted_and_warned_about_once() {
        let h = Harness::new(below_since(3, true), 0, 1);
        let sel = Harness::selection("agents", Some(json!({"id": 5})));
        read(&h.ctx, sel, "agents", 5, items).await.unwrap();
        assert_eq!(ids(&h, "agents"), vec![3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(h.states("agents").last().unwrap(), &json!({"id": 10}));
        assert_eq!(
            h.warnings(),
            vec!["Stream agents: agents returned 3 records with an id below the requested since_id that this sync had not emitted; they were emitted, as nothing proves an earlier sync did (a destination deduplicating on id keeps one copy)."]
        );
    }

    #[tokio::test]
    async fn repeats_of_records_this_sync_emitted_are_not_emitted_again() {
        // Every page repeats the 2 ids before since_id: emitted on the page before.
        let h = Harness::new(below_since(2, false), 0, 1);
        read(&h.ctx, Harness::selection("bans", None), "bans", 5, items)
            .await
            .unwrap();
        assert_eq!(ids(&h, "bans"), (1..=10).collect::<Vec<_>>());
        assert!(h.warnings().is_empty(), "{:?}", h.warnings());
    }

    #[tokio::test]
    async fn saved_forms_resume_after_their_id_and_others_are_input_errors() {
        for (state, since) in [
            (json!({"state": {"id": 6}}), 7),
            (
                json!({"states": [{"partition": {}, "cursor": {"id": 9}}, {"partition": {}, "cursor": {"id": 4}}]}),
                5,
            ),
        ] {
            let h = Harness::new(below_since(0, false), 0, 1);
            let sel = Harness::selection("agents", Some(state.clone()));
            read(&h.ctx, sel, "agents", 5, items).await.unwrap();
            let first = h.ctx.fetch.log.lock().unwrap()[0].clone();
            assert_eq!(first, format!("agents?since_id={since}&limit=5"), "{state}");
            assert_eq!(
                ids(&h, "agents"),
                (since..=10).collect::<Vec<_>>(),
                "{state}"
            );
        }
        // Nothing new: the state committed again is the own form, not the wrapper.
        let h = Harness::new(below_since(0, false), 0, 1);
        let sel = Harness::selection("bans", Some(json!({"state": {"id": 10}})));
        read(&h.ctx, sel, "bans", 5, items).await.unwrap();
        assert_eq!(h.states("bans"), vec![json!({"id": 10})]);
        let h = Harness::new(below_since(0, false), 0, 1);
        let range = json!({"state_type": "date-range", "slices": [{"start": 0, "end": 5}]});
        let err = read(
            &h.ctx,
            Harness::selection("bans", Some(range)),
            "bans",
            5,
            items,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Input(_)), "{err}");
        let text = err.to_string();
        assert!(text.contains("stream bans is in a form this connector does not know (found the field(s) `slices`, `state_type`)"), "{text}");
        assert!(text.contains(FORM.accepted), "{text}");
        assert_eq!(h.ctx.fetch.requests(), 0);
    }
}
