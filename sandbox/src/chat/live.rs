//! Writing a live chat: the plan (see `plan`) is drawn first, then the fields are written in
//! the API's order: summary, visitor and session, webpath, conversions, engagements, history.

use super::plan::{self, Cast, Gaps, Metrics, Webpath};
use super::*;

/// Everything planned for one live chat, shared by the writers.
struct Live {
    cast: Cast,
    visitor: Visitor,
    metrics: Metrics,
    hist: Vec<PlannedEvent>,
    /// Start and end, epoch seconds.
    ts: i64,
    end_s: i64,
    q: Quirks,
}

impl Live {
    fn final_dept(&self) -> Option<usize> {
        self.cast.dept1.or(self.cast.dept0)
    }

    fn agent_slots(&self) -> &[usize] {
        &self.cast.agents[..self.cast.n_agents]
    }
}

/// Renders a live chat of `e` (skeleton times `start_us..end_us`).
#[allow(clippy::too_many_arguments)]
pub(super) fn render_live(
    ds: &Dataset,
    e: &Entry,
    id: &[u8; ID_LEN],
    start_us: i64,
    end_us: i64,
    q: &Quirks,
    r: &mut ChaCha8Rng,
    b: &mut Vec<u8>,
) {
    // Only offline messages carry the "+00:00Z" session dates.
    let q = Quirks {
        session_dates_offset_z: false,
        ..*q
    };
    let visitor = visitor(ds, r, &q);
    let cast = plan::choose_cast(ds, r);
    let history = plan::plan_history(&cast, r);
    let hist = plan::assign_times(&history, start_us, end_us, r);
    let metrics = plan::derive_metrics(&hist, start_us, end_us);
    let ts = start_us.div_euclid(1_000_000);
    let webpath = plan::plan_webpath(ts, &q, r);
    let live = Live {
        cast,
        visitor,
        metrics,
        hist,
        ts,
        end_s: end_us.div_euclid(1_000_000),
        q,
    };
    open_chat(b, id, &live.q);
    write_summary(b, ds, e, &live, r);
    write_visitor(b, &live.visitor);
    let session_end = live.end_s + below(r, 30) as i64;
    write_session(b, ds, r, (webpath.session_start, session_end), &live.q);
    write_webpath(b, &webpath, &live.q, r);
    write_conversions(b, ds, &live, r);
    write_engagements(b, ds, &live, id);
    write_history(b, ds, &live, r);
    if live.q.brand_new_field {
        write_brand_new_field(b, u64::from(e.idx));
    }
    jw::end_obj(b);
}

/// `"id"` is already written: type, times, flags, rating, tags, departments, agents, counts.
fn write_summary(b: &mut Vec<u8>, ds: &Dataset, e: &Entry, live: &Live, r: &mut ChaCha8Rng) {
    let (c, q, m) = (&live.cast, &live.q, &live.metrics);
    jw::key_string(b, "type", "chat");
    jw::key(b, "timestamp");
    jw::ts(b, live.ts);
    jw::key(b, "end_timestamp");
    jw::ts(b, live.end_s);
    write_update_timestamp(b, e, q);
    let started_by = match c.started_by {
        VISITOR => "visitor",
        TRIGGER => "trigger",
        _ => "agent",
    };
    jw::key_string(b, "started_by", started_by);
    jw::key(b, "duration");
    jw::int(
        b,
        (m.last_msg_us - live.ts * 1_000_000).div_euclid(1_000_000),
    );
    jw::key_bool(b, "missed", c.n_agents == 0);
    jw::key(b, "unread");
    if q.unread_int {
        jw::uint(b, 0);
    } else {
        jw::bool(b, false);
    }
    jw::key_bool(b, "deleted", r.random_bool(0.01));
    let triggered = c.started_by == TRIGGER;
    jw::key_bool(b, "triggered", triggered);
    jw::key(b, "triggered_response");
    if q.triggered_response_null {
        jw::null(b);
    } else {
        jw::bool(b, triggered && m.visitor_msgs > 0);
    }
    write_rating_comment(b, c.rating, c.comment);
    jw::key(b, "tags");
    write_tags(b, &c.tags[..c.n_tags], e.rev);
    write_department(b, ds, live.final_dept());
    write_agent_lists(b, ds, live);
    write_ticket_and_referrer(b, r);
    jw::key(b, "response_time");
    write_response_time(b, &m.gaps);
    write_counts(b, m.agent_msgs, m.visitor_msgs);
}

fn write_rating_comment(b: &mut Vec<u8>, rating: Option<usize>, comment: Option<usize>) {
    jw::key(b, "rating");
    match rating {
        Some(0) => jw::string(b, "good"),
        Some(_) => jw::string(b, "bad"),
        None => jw::null(b),
    }
    jw::key(b, "comment");
    match comment {
        Some(c) => jw::string(b, COMMENTS[c]),
        None => jw::null(b),
    }
}

/// `department_id` (integer) and `department_name` of a department index.
fn write_department(b: &mut Vec<u8>, ds: &Dataset, dept: Option<usize>) {
    jw::key(b, "department_id");
    write_dept_id(b, dept.map(|d| ds.departments[d].id), false);
    jw::key(b, "department_name");
    match dept {
        Some(d) => jw::string(b, &ds.departments[d].name),
        None => jw::null(b),
    }
}

/// An agent id as a JSON string (how chats list agents).
fn write_agent_id_string(b: &mut Vec<u8>, id: u64) {
    let mut tmp = Vec::with_capacity(16);
    jw::uint(&mut tmp, id);
    jw::string_bytes(b, &tmp);
}

fn write_agent_lists(b: &mut Vec<u8>, ds: &Dataset, live: &Live) {
    jw::key(b, "agent_ids");
    jw::arr(b);
    for &a in live.agent_slots() {
        write_agent_id_string(b, ds.agents[a].id);
    }
    jw::end_arr(b);
    jw::key(b, "agent_names");
    jw::arr(b);
    for &a in live.agent_slots() {
        jw::string(b, &ds.agents[a].display);
    }
    jw::end_arr(b);
}

fn write_ticket_and_referrer(b: &mut Vec<u8>, r: &mut ChaCha8Rng) {
    jw::key(b, "zendesk_ticket_id");
    if r.random_bool(0.3) {
        jw::uint(b, 100_000 + u64::from(r.next_u32() % 900_000));
    } else {
        jw::null(b);
    }
    let (engine, terms) = if r.random_bool(0.2) {
        SEARCH_ENGINES[below(r, SEARCH_ENGINES.len())]
    } else {
        ("", "")
    };
    jw::key_string(b, "referrer_search_engine", engine);
    jw::key_string(b, "referrer_search_terms", terms);
}

fn write_counts(b: &mut Vec<u8>, agent: u32, visitor: u32) {
    jw::key(b, "count");
    jw::obj(b);
    jw::key_uint(b, "total", u64::from(agent + visitor));
    jw::key_uint(b, "agent", u64::from(agent));
    jw::key_uint(b, "visitor", u64::from(visitor));
    jw::end_obj(b);
}

/// `{"first":…,"avg":…,"max":…}` in seconds (null without any gap).
fn write_response_time(b: &mut Vec<u8>, g: &Gaps) {
    jw::obj(b);
    jw::key(b, "first");
    match g.first {
        Some(f) => jw::uint(b, f.round() as u64),
        None => jw::null(b),
    }
    jw::key(b, "avg");
    if g.n > 0 {
        jw::float(b, g.sum / f64::from(g.n));
    } else {
        jw::null(b);
    }
    jw::key(b, "max");
    if g.n > 0 {
        jw::uint(b, g.max.round() as u64);
    } else {
        jw::null(b);
    }
    jw::end_obj(b);
}

/// The pages before the chat; with the quirk, one of them as an array instead of an object.
fn write_webpath(b: &mut Vec<u8>, wp: &Webpath, q: &Quirks, r: &mut ChaCha8Rng) {
    jw::key(b, "webpath");
    jw::arr(b);
    let mut from = wp.referrer;
    let quirk_at = if q.webpath_array {
        below(r, wp.n)
    } else {
        usize::MAX
    };
    for (k, &t) in wp.times.iter().enumerate().take(wp.n) {
        let (url, title) = PAGES[below(r, PAGES.len())];
        if k == quirk_at {
            jw::arr(b);
            jw::string(b, url);
            jw::null(b);
            jw::int(b, t);
            jw::string(b, title);
            jw::end_arr(b);
        } else {
            jw::obj(b);
            jw::key(b, "timestamp");
            jw::ts(b, t);
            jw::key_string(b, "title", title);
            jw::key_string(b, "from", from);
            jw::key_string(b, "to", url);
            jw::end_obj(b);
        }
        from = url;
    }
    jw::end_arr(b);
}

fn write_conversions(b: &mut Vec<u8>, ds: &Dataset, live: &Live, r: &mut ChaCha8Rng) {
    jw::key(b, "conversions");
    jw::arr(b);
    let n = if live.cast.n_agents > 0 && !ds.goals.is_empty() && r.random_bool(0.25) {
        1 + usize::from(r.random_bool(0.2))
    } else {
        0
    };
    for k in 0..n {
        let goal = &ds.goals[below(r, ds.goals.len())];
        let agent = &ds.agents[live.cast.agents[0]];
        jw::obj(b);
        jw::key(b, "id");
        b.push(b'"');
        b.extend_from_slice(ds.account_str.as_bytes());
        b.push(b'.');
        for _ in 0..16 {
            let c = b62(r);
            b.push(c);
        }
        b.push(b'"');
        jw::key_uint(b, "goal_id", goal.id);
        jw::key_string(b, "goal_name", &goal.name);
        jw::key(b, "timestamp");
        jw::ts(b, live.end_s + 60 + (k as i64) * 600 + below(r, 600) as i64);
        jw::key(b, "attribution");
        jw::obj(b);
        jw::key_uint(b, "agent_id", agent.id);
        jw::key_string(b, "agent_name", &agent.display);
        jw::key(b, "chat_timestamp");
        jw::ts(b, live.ts);
        write_department(b, ds, live.final_dept());
        jw::end_obj(b);
        jw::end_obj(b);
    }
    jw::end_arr(b);
}

fn write_engagements(b: &mut Vec<u8>, ds: &Dataset, live: &Live, id: &[u8; ID_LEN]) {
    jw::key(b, "engagements");
    jw::arr(b);
    for s in 0..live.cast.n_agents {
        write_engagement(b, ds, live, id, s);
    }
    jw::end_arr(b);
}

/// The engagement of agent slot `s` (0-based).
fn write_engagement(b: &mut Vec<u8>, ds: &Dataset, live: &Live, id: &[u8; ID_LEN], s: usize) {
    let c = &live.cast;
    let en = &live.metrics.engagements[s];
    let agent = &ds.agents[c.agents[s]];
    let last = s + 1 == c.n_agents;
    jw::obj(b);
    jw::key(b, "id");
    b.push(b'"');
    b.extend_from_slice(id);
    b.extend_from_slice(b".eng.");
    jw::digits(b, s as u64 + 1);
    b.push(b'"');
    jw::key(b, "agent_id");
    write_agent_id_string(b, agent.id);
    jw::key_string(b, "agent_name", &agent.display);
    jw::key_string(b, "agent_full_name", &agent.full);
    jw::key(b, "department_id");
    let dept = if s >= 1 && c.transfer {
        c.dept1
    } else {
        c.dept0
    };
    write_dept_id(b, dept.map(|d| ds.departments[d].id), false);
    jw::key_bool(b, "assigned", true);
    jw::key_bool(b, "accepted", s == 0 || !c.transfer);
    let started_by = match (s, c.started_by) {
        (0, 1) => "agent",
        (0, TRIGGER) => "trigger",
        _ => "visitor",
    };
    jw::key_string(b, "started_by", started_by);
    write_rating_comment(b, c.rating.filter(|_| last), c.comment.filter(|_| last));
    jw::key(b, "skills_requested");
    jw::arr(b);
    jw::end_arr(b);
    jw::key_bool(b, "skills_fulfilled", true);
    jw::key(b, "timestamp");
    jw::ts(b, en.join.div_euclid(1_000_000));
    jw::key(b, "duration");
    jw::float(b, ((en.leave - en.join) / 10_000) as f64 / 100.0);
    jw::key(b, "response_time");
    write_response_time(b, &en.gaps);
    write_counts(b, en.agent_msgs, en.visitor_msgs);
    jw::end_obj(b);
}

/// `#supportchat:` + the visitor id with dots as dashes.
fn channel_of(v: &Visitor) -> ([u8; 13 + 22], usize) {
    let mut channel = [0u8; 13 + 22];
    channel[..13].copy_from_slice(b"#supportchat:");
    for (d, s) in channel[13..].iter_mut().zip(v.id().iter()) {
        *d = if *s == b'.' { b'-' } else { *s };
    }
    (channel, 13 + v.id().len())
}

fn write_history(b: &mut Vec<u8>, ds: &Dataset, live: &Live, r: &mut ChaCha8Rng) {
    let (channel, len) = channel_of(&live.visitor);
    jw::key(b, "history");
    jw::arr(b);
    let mut first_join = true;
    for ev in &live.hist {
        jw::obj(b);
        jw::key_string(b, "type", ev.kind.history_type());
        jw::key(b, "name");
        jw::string(b, actor_name(ds, live, ev));
        jw::key(b, "timestamp");
        jw::ts_us(b, ev.t);
        jw::key(b, "channel");
        jw::string_bytes(b, &channel[..len]);
        match ev.kind {
            EventKind::Join if first_join => {
                first_join = false;
                write_first_join(b, ds, live);
            }
            EventKind::Join => {}
            EventKind::Msg => write_message(b, ds, live, ev, r),
            _ => write_event_details(b, ds, live, ev),
        }
        write_sender(b, ds, live, ev);
        jw::end_obj(b);
    }
    jw::end_arr(b);
}

fn actor_name<'a>(ds: &'a Dataset, live: &'a Live, ev: &PlannedEvent) -> &'a str {
    match ev.actor {
        VISITOR => &live.visitor.name,
        TRIGGER => ds.triggers[live.cast.trigger].1,
        slot => &ds.agents[live.cast.agents[usize::from(slot - 1)]].display,
    }
}

/// The visitor's join carries the department the chat started in.
fn write_first_join(b: &mut Vec<u8>, ds: &Dataset, live: &Live) {
    let dept0 = live.cast.dept0;
    jw::key(b, "department_id");
    write_dept_id(b, dept0.map(|d| ds.departments[d].id), live.q.dept_id_str);
    jw::key(b, "department_name");
    match dept0 {
        Some(d) => jw::string(b, &ds.departments[d].name),
        None => jw::null(b),
    }
}

fn write_message(
    b: &mut Vec<u8>,
    ds: &Dataset,
    live: &Live,
    ev: &PlannedEvent,
    r: &mut ChaCha8Rng,
) {
    match ev.actor {
        VISITOR => {
            let ms = ev.t / 1000 - 200 - i64::from(r.next_u32() % 700);
            jw::key(b, "msg_id");
            if live.q.msg_id_int {
                jw::int(b, ms);
            } else {
                let mut tmp = Vec::with_capacity(16);
                jw::int(&mut tmp, ms);
                jw::string_bytes(b, &tmp);
            }
            jw::key_string(b, "msg", VISITOR_MSGS[ev.a as usize % VISITOR_MSGS.len()]);
            jw::key_string(b, "options", "");
        }
        TRIGGER => {
            jw::key_string(b, "msg", ds.triggers[live.cast.trigger].2);
            jw::key_string(b, "options", "");
        }
        _ => {
            let text = AGENT_MSGS[ev.a as usize % AGENT_MSGS.len()];
            jw::key_string(b, "msg", text);
            jw::key_string(b, "options", if ev.a % 11 == 3 { "Yes/No" } else { "" });
        }
    }
}

/// The fields of leave, tag, comment, rating and transfer events.
fn write_event_details(b: &mut Vec<u8>, ds: &Dataset, live: &Live, ev: &PlannedEvent) {
    match ev.kind {
        EventKind::Leave if ev.a > 0 => {
            let reason = LEAVE_REASONS[(ev.a - 1) as usize % LEAVE_REASONS.len()];
            jw::key_string(b, "reason", reason);
        }
        EventKind::Tag => {
            let tags = &live.cast.tags;
            write_tag_list(b, "tags", &tags[..ev.a as usize]);
            write_tag_list(b, "new_tags", &tags[..ev.b as usize]);
        }
        EventKind::Comment => {
            jw::key_null(b, "comment");
            jw::key_string(b, "new_comment", COMMENTS[ev.a as usize % COMMENTS.len()]);
        }
        EventKind::Rating => {
            jw::key_null(b, "rating");
            jw::key_string(b, "new_rating", if ev.a == 0 { "good" } else { "bad" });
        }
        EventKind::Transfer => {
            let n_dept = ds.departments.len().max(1);
            let to = &ds.departments[ev.b as usize % n_dept];
            let from = &ds.departments[ev.a as usize % n_dept];
            jw::key(b, "department_id");
            write_dept_id(b, Some(to.id), live.q.dept_id_str);
            jw::key_string(b, "department_name", &to.name);
            jw::key(b, "prev_department_id");
            write_dept_id(b, Some(from.id), live.q.dept_id_str);
        }
        _ => {}
    }
}

fn write_tag_list(b: &mut Vec<u8>, key: &str, tags: &[&str]) {
    jw::key(b, key);
    jw::arr(b);
    for t in tags {
        jw::string(b, t);
    }
    jw::end_arr(b);
}

/// `sender_type`, and the agent or trigger id behind the event.
fn write_sender(b: &mut Vec<u8>, ds: &Dataset, live: &Live, ev: &PlannedEvent) {
    let sender = match ev.actor {
        VISITOR => "Visitor",
        TRIGGER => "Trigger",
        _ if ev.kind == EventKind::Transfer => "System",
        _ => "Agent",
    };
    jw::key_string(b, "sender_type", sender);
    if ev.is_agent() && ev.kind != EventKind::Join && ev.kind != EventKind::Leave {
        let agent = &ds.agents[live.cast.agents[usize::from(ev.actor - 1)]];
        jw::key(b, "agent_id");
        write_agent_id_string(b, agent.id);
    }
    if ev.actor == TRIGGER {
        jw::key_uint(b, "trigger_id", ds.triggers[live.cast.trigger].0.id);
    }
}
