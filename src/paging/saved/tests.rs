//! The saved-state forms, recognised once for every reader.

use serde_json::{json, Value};

use super::*;
use crate::paging::driver::id_as_i64;
use crate::paging::scripted::{page, Harness, Scripted};

const TIME: Form = Form {
    key: "update_timestamp",
    accepted: "{\"update_timestamp\": \"2024-06-15T12:00:00Z\"}",
    date_range: true,
    order: value_to_micros,
};

const ID: Form = Form {
    key: "id",
    accepted: "{\"id\": 361089721035}",
    date_range: false,
    order: id_as_i64,
};

fn harness() -> Harness {
    Harness::new(Scripted::new(|_, _| page(json!([]))), 0, 1)
}

/// The own form `state` resolves to for stream `chats` and the INFO logs it gave.
fn resolve(form: &Form, state: Value) -> (Result<Option<Value>, Error>, Vec<String>) {
    let h = harness();
    let sel = Harness::selection("chats", Some(state));
    let found = own_form(&sel, form, &h.ctx.output).map(|f| f.map(Cow::into_owned));
    (found, h.logs("INFO"))
}

fn resumes_from(form: &Form, state: Value) -> Value {
    let (found, _) = resolve(form, state.clone());
    found
        .unwrap_or_else(|e| panic!("{state}: {e}"))
        .unwrap_or(Value::Null)
}

#[test]
fn the_own_form_is_read_as_it_is_and_empty_forms_mean_no_state() {
    let own = json!({"update_timestamp": "1697795052", "start_id": "c9", "window": []});
    let (found, logs) = resolve(&TIME, own.clone());
    assert_eq!(found.unwrap(), Some(own));
    assert!(logs.is_empty(), "{logs:?}");
    for empty in [json!(null), json!({})] {
        let (found, logs) = resolve(&TIME, empty);
        assert_eq!(found.unwrap(), None);
        assert!(logs.is_empty(), "{logs:?}");
    }
    let (found, logs) = resolve(&TIME, json!({"__ab_no_cursor_state_message": true}));
    assert_eq!(found.unwrap(), None);
    assert_eq!(
        logs,
        vec!["Stream chats: the saved state holds no cursor, only the full-refresh marker `__ab_no_cursor_state_message`: reading from start_date."]
    );
}

#[test]
fn a_wrapped_state_resumes_from_the_state_inside_and_says_so() {
    let (found, logs) = resolve(&TIME, json!({"state": {"update_timestamp": "1697795052"}}));
    assert_eq!(
        found.unwrap(),
        Some(json!({"update_timestamp": "1697795052"}))
    );
    assert_eq!(
        logs,
        vec!["Stream chats: the saved state is wrapped as {\"state\": {...}}; resuming from `update_timestamp` \"1697795052\"."]
    );
    assert_eq!(
        resumes_from(&ID, json!({"state": {"id": 42}})),
        json!({"id": 42})
    );
    assert_eq!(resumes_from(&ID, json!({"state": {}})), Value::Null);
}

#[test]
fn the_per_partition_form_resumes_from_its_lowest_cursor() {
    let state = json!({"states": [
        {"partition": {"p": 1}, "cursor": {"update_timestamp": "2024-06-15T12:00:00Z"}},
        {"partition": {"p": 2}, "cursor": {"update_timestamp": "1697795052"}},
        {"partition": {"p": 3}, "cursor": {"update_timestamp": "2024-06-16T00:00:00Z"}}
    ], "state": {"update_timestamp": "2024-06-17T00:00:00Z"}, "use_global_cursor": false});
    let (found, logs) = resolve(&TIME, state);
    assert_eq!(
        found.unwrap(),
        Some(json!({"update_timestamp": "1697795052"}))
    );
    assert_eq!(
        logs,
        vec!["Stream chats: the saved state is the CDK's per-partition form (4 cursor(s)); from the lowest of them, so no partition loses records, resuming from `update_timestamp` \"1697795052\"."]
    );
    let ids = json!({"states": [{"partition": {}, "cursor": {"id": 9}}, {"partition": {}, "cursor": {"id": 7}}]});
    assert_eq!(resumes_from(&ID, ids), json!({"id": 7}));
    // A partition without a position: nothing may be skipped, so from start_date.
    let one_empty = json!({"states": [{"partition": {}, "cursor": {"id": 9}}, {"partition": {}, "cursor": {}}]});
    let (found, logs) = resolve(&ID, one_empty);
    assert_eq!(found.unwrap(), None);
    assert!(
        logs[0].ends_with("it holds no cursor: reading from start_date."),
        "{logs:?}"
    );
}

#[test]
fn the_date_range_form_resumes_from_the_end_of_its_first_contiguous_run() {
    let at =
        |slices: Value| resumes_from(&TIME, json!({"state_type": "date-range", "slices": slices}));
    // Epoch-second strings (the certified connector's "%s"), out of order, touching by 1 s and
    // overlapping; a gap after 1_700_000_300 stops the run.
    let slices = json!([
        {"start": "1700000201", "end": "1700000300"},
        {"start": "0", "end": "1700000100"},
        {"start": "1700000050", "end": "1700000200"},
        {"start": "1700000400", "end": "1700000500"}
    ]);
    assert_eq!(
        at(slices),
        json!({"update_timestamp": "2023-11-14T22:18:20.000000Z"})
    );
    // ISO bounds with microseconds touch by one microsecond only.
    let iso = json!([
        {"start": "2024-01-01T00:00:00.000000Z", "end": "2024-01-01T00:10:00.000000Z"},
        {"start": "2024-01-01T00:10:00.000001Z", "end": "2024-01-01T00:20:00.000000Z"},
        {"start": "2024-01-01T00:20:00.500000Z", "end": "2024-01-01T00:30:00.000000Z"}
    ]);
    assert_eq!(
        at(iso),
        json!({"update_timestamp": "2024-01-01T00:20:00.000000Z"})
    );
    // Epoch numbers; the run's most recent cursor value is lower than its end.
    let numbers = json!([
        {"start": 1_700_000_000, "end": 1_700_000_100, "most_recent_cursor_value": 1_700_000_090},
        {"start": 1_700_000_100, "end": 1_700_000_200}
    ]);
    assert_eq!(
        at(numbers),
        json!({"update_timestamp": "2023-11-14T22:14:50.000000Z"})
    );
    let (_, logs) = resolve(
        &TIME,
        json!({"state_type": "date-range", "slices": [{"start": 0, "end": 1_700_000_000}], "legacy": {}}),
    );
    assert_eq!(
        logs,
        vec!["Stream chats: the saved state is the Airbyte CDK's date-range form (1 slice(s)); resuming from 2023-11-14T22:13:20.000000Z, up to which its slices are contiguous from the first one (nothing before it was left unread)."]
    );
    // Without slices, its legacy state.
    let legacy = json!({"state_type": "date-range", "slices": [], "legacy": {"update_timestamp": "1697795052"}});
    assert_eq!(
        resumes_from(&TIME, legacy),
        json!({"update_timestamp": "1697795052"})
    );
    // Wrapped and partitioned date ranges too.
    let wrapped = json!({"state": {"state_type": "date-range", "slices": [{"start": 0, "end": 1_700_000_000}]}});
    assert_eq!(
        resumes_from(&TIME, wrapped),
        json!({"update_timestamp": "2023-11-14T22:13:20.000000Z"})
    );
}

#[test]
fn unknown_forms_are_input_errors_naming_the_stream_the_fields_and_the_accepted_forms() {
    let cases = [
        (
            &TIME,
            json!({"cursor": "2024-01-01", "x": 1}),
            "found the field(s) `cursor`, `x`",
        ),
        (
            &TIME,
            json!({"state": {"updated_at": 5}}),
            "found `state` with the field(s) `updated_at`",
        ),
        (
            &TIME,
            json!({"states": [{"partition": {}}]}),
            "found `states[0]` with no `cursor`",
        ),
        (
            &TIME,
            json!({"state_type": "date-range", "slices": [{"start": "soon", "end": 5}]}),
            "found `slices[0]` with no readable `start` and `end`",
        ),
        (&TIME, json!("1697795052"), "found a JSON string"),
        (
            &ID,
            json!({"state_type": "date-range", "slices": [{"start": 0, "end": 5}]}),
            "found the field(s) `slices`, `state_type`",
        ),
        (
            &ID,
            json!({"states": [{"partition": {}, "cursor": {"id": "x"}}]}),
            "a partition's `id` \"x\", which is not a readable cursor",
        ),
    ];
    for (form, state, found) in cases {
        let (result, _) = resolve(form, state.clone());
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Input(_)), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with(
                "The saved state of stream chats is in a form this connector does not know ("
            ),
            "{text}"
        );
        assert!(text.contains(found), "{state}: {text}");
        assert!(text.contains(form.accepted), "{text}");
        assert_eq!(
            text.contains("\"state_type\": \"date-range\""),
            form.date_range,
            "{text}"
        );
        assert!(text.ends_with("Reset the stream (its next sync reads everything from start_date) or fix the state."), "{text}");
    }
}

#[test]
fn a_full_refresh_selection_reads_no_state() {
    let h = harness();
    let mut sel = Harness::selection("chats", Some(json!({"garbage": true})));
    sel.mode = crate::protocol::SyncMode::FullRefresh;
    assert!(own_form(&sel, &TIME, &h.ctx.output).unwrap().is_none());
}
