//! Every record the fake API can produce, quirks included, validates against the schema its
//! stream declares in `discover` (draft-07, formats asserted).

use std::collections::BTreeMap;

use crate::util::*;

#[test]
fn every_record_matches_its_declared_schema() {
    let sb = sandbox_with(|c| {
        c.quirks = true;
        c.chats = 3000;
    });
    let disc = run("discover", &[("config", &config(&sb))]);
    let mut validators = BTreeMap::new();
    for s in disc.of_type("CATALOG")[0]["catalog"]["streams"]
        .as_array()
        .unwrap()
    {
        let schema = &s["json_schema"];
        jsonschema::draft7::meta::validate(schema).unwrap();
        let v = jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(schema)
            .unwrap();
        validators.insert(s["name"].as_str().unwrap().to_owned(), v);
    }
    let run = run(
        "read",
        &[
            ("config", &config(&sb)),
            ("catalog", &catalog(ALL_STREAMS, "full_refresh")),
        ],
    );
    run.assert_ok();
    let mut checked = 0;
    for m in run.of_type("RECORD") {
        let stream = m["record"]["stream"].as_str().unwrap();
        let data = &m["record"]["data"];
        let errors: Vec<String> = validators[stream]
            .iter_errors(data)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{stream} record {data:.300}: {errors:?}");
        checked += 1;
    }
    eprintln!("validated {checked} records");
    assert!(checked > 10_000, "{checked}");
    for stream in ALL_STREAMS {
        assert!(
            !run.records(stream).is_empty(),
            "{stream} produced no record to validate"
        );
    }
}
