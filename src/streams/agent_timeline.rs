//! The agent_timeline stream: the incremental agent timeline export, paged by `start_time` in
//! epoch microseconds. The export's `start_time` is inclusive and there is no id tie-breaker, so
//! the items at the boundary microsecond are remembered (in the state too) and not emitted twice.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::cursor::{iso_to_micros, micros_to_iso, value_to_micros};
use super::driver::{clamp_export_start, decode, get_optional, Ctx, Outcome, Selection};
use super::typed::TimelineKeys;
use super::Fetch;
use crate::error::Error;

const PATH: &str = "incremental/agent_timeline";
const LIMIT: u32 = 1000;

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow, default)]
    agent_timeline: Vec<&'a RawValue>,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    end_time: Option<Value>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    agent_id: Value,
    #[serde(default)]
    start_time: Value,
}

/// Where the stream resumes: items before `micros` are done, and so are the items at exactly
/// `micros` from the agents in `agents` (when known).
struct Boundary {
    micros: i64,
    agents: BTreeSet<String>,
}

/// A saved position: the microsecond, and the agents already emitted at it (when recorded).
type Resume = (i64, Option<BTreeSet<String>>);

fn parse_state(sel: &Selection) -> Result<Option<Resume>, Error> {
    let Some(state) = sel.resume_state() else {
        return Ok(None);
    };
    let Some(v) = state.get("start_time").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let micros = value_to_micros(v).ok_or_else(|| {
        Error::Input(format!(
            "The saved state of stream {} has an unreadable `start_time`; expected an ISO date-time such as 2024-02-09T13:12:16.817973Z. Reset the stream or fix the state.",
            sel.name
        ))
    })?;
    let agents = state
        .get("agent_ids_at_start_time")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect()
        });
    Ok(Some((micros, agents)))
}

fn agent_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Reads the stream.
pub async fn read<F: Fetch>(ctx: &Ctx<F>, sel: &Selection) -> Result<Outcome, Error> {
    let start_date_us = ctx.start_date.timestamp_micros();
    let resume = parse_state(sel)?;
    // Items strictly before `floor` are never emitted; items at `boundary.micros` only once.
    let (floor, mut boundary) = match resume {
        Some((us, Some(agents))) if us >= start_date_us => (us, Boundary { micros: us, agents }),
        // The certified connector's state: inclusive, may repeat the one boundary item.
        Some((us, None)) if us >= start_date_us => (
            us,
            Boundary {
                micros: us,
                agents: BTreeSet::new(),
            },
        ),
        _ => (
            start_date_us,
            Boundary {
                micros: i64::MIN,
                agents: BTreeSet::new(),
            },
        ),
    };
    let now = chrono::Utc::now().timestamp();
    let (clamped_secs, _) = clamp_export_start(floor.div_euclid(1_000_000), now);
    let mut request_us = floor.min(clamped_secs.saturating_mul(1_000_000));
    let mut keys = TimelineKeys::resume(boundary.micros, boundary.agents.iter().cloned());
    loop {
        let query = [
            ("fields", "agent_timeline(*)".to_owned()),
            ("limit", LIMIT.to_string()),
            ("start_time", request_us.to_string()),
        ];
        let body = match get_optional(ctx, sel.name, PATH, &query, false).await? {
            Ok(b) => b,
            Err(outcome) => return Ok(outcome),
        };
        let page: Page = decode(PATH, &body)?;
        let emitted_at = crate::protocol::now_millis();
        let mut batch = ctx.output.lock();
        let mut page_max = None::<i64>;
        for raw in &page.agent_timeline {
            let item: Item = decode(PATH, raw.get().as_bytes())?;
            let micros = value_to_micros(&item.start_time);
            let agent = agent_key(&item.agent_id);
            if let Some(us) = micros {
                page_max = Some(page_max.map_or(us, |m| m.max(us)));
                if us < floor || (us == boundary.micros && boundary.agents.contains(&agent)) {
                    continue;
                }
                if us > boundary.micros {
                    boundary = Boundary {
                        micros: us,
                        agents: BTreeSet::new(),
                    };
                }
                if us == boundary.micros {
                    boundary.agents.insert(agent.clone());
                }
            }
            match keys.lead(&agent, micros) {
                Some(lead) => {
                    sel.tracker
                        .record_with(&mut batch, raw, &lead.fields(), emitted_at)?
                }
                None => sel.tracker.record(&mut batch, raw, emitted_at)?, // keyless: counted
            }
        }
        let state = if boundary.micros == i64::MIN {
            json!({ "start_time": micros_to_iso(floor) })
        } else {
            json!({ "start_time": micros_to_iso(boundary.micros), "agent_ids_at_start_time": boundary.agents })
        };
        sel.tracker.state(&mut batch, state)?;

        let count = page.count.unwrap_or(page.agent_timeline.len() as u64);
        if count < u64::from(LIMIT) {
            return Ok(Outcome::Done);
        }
        let end = page
            .end_time
            .as_ref()
            .and_then(|v| match v {
                Value::String(s) => s.parse().ok().or_else(|| iso_to_micros(s)),
                other => other.as_i64(),
            })
            .or(page_max)
            .unwrap_or(request_us);
        if end <= request_us {
            return Err(Error::Protocol(format!(
                "{PATH} returned a full page without moving past start_time={request_us}; stopping instead of looping"
            )));
        }
        request_us = end;
    }
}
