//! On-demand rendering of one chat (or offline message) straight to JSON bytes.
//!
//! A chat is a pure function of (seed, index, revision, update_timestamp): the skeleton (id, times)
//! comes from `Dataset::skeleton`, the content from a second PRNG stream of the same index.

use crate::data::{b62, Dataset, Entry, ID_LEN};
use crate::jsonw as jw;
use crate::pools::*;
use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;

const VISITOR: u8 = 0;
const TRIGGER: u8 = 250;

#[derive(Clone, Copy, PartialEq, Eq)]
enum EventKind {
    Join,
    Leave,
    Msg,
    Tag,
    Comment,
    Rating,
    Transfer,
}

/// One planned history event. `actor`: 0 visitor, 1..=3 agent slot + 1, `TRIGGER`.
#[derive(Clone, Copy)]
struct PlannedEvent {
    kind: EventKind,
    actor: u8,
    t: i64,
    a: u16,
    b: u16,
}

impl PlannedEvent {
    fn new(kind: EventKind, actor: u8) -> PlannedEvent {
        PlannedEvent {
            kind,
            actor,
            t: 0,
            a: 0,
            b: 0,
        }
    }
    fn with(kind: EventKind, actor: u8, a: u16, b: u16) -> PlannedEvent {
        PlannedEvent {
            kind,
            actor,
            t: 0,
            a,
            b,
        }
    }
    fn is_agent(&self) -> bool {
        self.actor != VISITOR && self.actor != TRIGGER
    }
}

/// Quirk switches for one chat (deterministic from the index).
#[derive(Clone, Copy)]
struct Quirks {
    msg_id_int: bool,
    dept_id_str: bool,
    unread_int: bool,
    webpath_array: bool,
    triggered_response_null: bool,
    brand_new_field: bool,
    /// Real-world shapes and faults (see `config::Shapes` / `Faults::numeric_timestamps`).
    session_dates_offset_z: bool,
    invalid_ip: bool,
    odd_visitor_id: bool,
    numeric_update_timestamp: bool,
    without_id: bool,
}

impl Quirks {
    fn of(ds: &Dataset, idx: u64, numeric_timestamps: bool) -> Quirks {
        let q = ds.quirks;
        let sh = &ds.shapes;
        Quirks {
            session_dates_offset_z: sh.offline_session_dates_offset_z && idx % 3 == 1,
            invalid_ip: sh.invalid_session_ips && idx % 59 == 9,
            odd_visitor_id: sh.odd_visitor_ids && idx % 61 == 19,
            numeric_update_timestamp: numeric_timestamps && idx % 53 == 17,
            without_id: ds.chats_without_id.contains(&(idx as u32)),
            msg_id_int: q && idx % 37 == 5,
            dept_id_str: q && idx % 41 == 7,
            unread_int: q && idx % 43 == 11,
            webpath_array: q && idx % 29 == 3,
            triggered_response_null: q && idx % 31 == 2,
            brand_new_field: q && idx % 47 == 13,
        }
    }
}

#[inline]
fn pick<'a>(r: &mut ChaCha8Rng, xs: &[&'a str]) -> &'a str {
    xs[(r.next_u32() as usize) % xs.len()]
}

#[inline]
/// A department transfer: the event, then agent 2 joins and agent 1 leaves. Returns the agent
/// now serving the chat.
fn push_transfer(
    body: &mut Vec<PlannedEvent>,
    cur: u8,
    dept0: Option<usize>,
    dept1: Option<usize>,
) -> u8 {
    body.push(PlannedEvent::with(
        EventKind::Transfer,
        cur,
        dept0.unwrap_or(0) as u16,
        dept1.unwrap_or(0) as u16,
    ));
    body.push(PlannedEvent::new(EventKind::Join, 2));
    body.push(PlannedEvent::new(EventKind::Leave, 1));
    2
}

fn below(r: &mut ChaCha8Rng, n: usize) -> usize {
    (r.next_u32() as usize) % n.max(1)
}

fn yymmdd(b: &mut Vec<u8>, epoch_s: i64) {
    let (y, m, d, ..) = jw::utc_parts(epoch_s);
    for v in [(y % 100) as u32, m, d] {
        b.push(b'0' + (v / 10) as u8);
        b.push(b'0' + (v % 10) as u8);
    }
}

struct Visitor {
    id_buf: [u8; 7 + 1 + 14],
    id_len: usize,
    name: String,
    email: String,
    phone: String,
}

impl Visitor {
    fn id(&self) -> &[u8] {
        &self.id_buf[..self.id_len]
    }
}

/// `{digit}.{5 digits}` from the random part of a visitor id (the `"3.45678"` shape).
fn odd_visitor_id(id: &mut [u8; 22]) -> usize {
    let mut odd = [0u8; 7];
    odd[0] = b'1' + id[8] % 9;
    odd[1] = b'.';
    for (d, s) in odd[2..].iter_mut().zip(&id[9..]) {
        *d = b'0' + s % 10;
    }
    id[..7].copy_from_slice(&odd);
    7
}

fn visitor(ds: &Dataset, r: &mut ChaCha8Rng, q: &Quirks) -> Visitor {
    let mut id = [0u8; 22];
    id[..7].copy_from_slice(ds.account_str.as_bytes());
    id[7] = b'.';
    for c in id[8..].iter_mut() {
        *c = b62(r);
    }
    let id_len = if q.odd_visitor_id {
        odd_visitor_id(&mut id)
    } else {
        id.len()
    };
    let named = r.random_bool(0.35);
    let (name, email) = if named {
        let f = pick(r, &FIRST_NAMES);
        let l = pick(r, &LAST_NAMES);
        let email = if r.random_bool(0.8) {
            format!(
                "{}.{}@mail.example",
                f.to_ascii_lowercase(),
                l.to_ascii_lowercase()
            )
        } else {
            String::new()
        };
        (format!("{f} {l}"), email)
    } else {
        (
            format!("Visitor {}", r.random_range(10_000_000u32..99_999_999)),
            String::new(),
        )
    };
    let phone = if r.random_bool(0.15) {
        format!("+1-555-01{:02}", r.random_range(0u32..100))
    } else {
        String::new()
    };
    Visitor {
        id_buf: id,
        id_len,
        name,
        email,
        phone,
    }
}

fn write_visitor(b: &mut Vec<u8>, v: &Visitor) {
    jw::key(b, "visitor");
    jw::obj(b);
    jw::key(b, "id");
    jw::string_bytes(b, v.id());
    jw::key_string(b, "name", &v.name);
    jw::key_string(b, "email", &v.email);
    jw::key_string(b, "phone", &v.phone);
    jw::key_string(b, "notes", "");
    jw::end_obj(b);
}

fn write_session_date(b: &mut Vec<u8>, key: &str, epoch_s: i64, q: &Quirks) {
    jw::key(b, key);
    if q.session_dates_offset_z {
        jw::ts_offset_z(b, epoch_s);
    } else {
        jw::ts(b, epoch_s);
    }
}

fn write_session(
    b: &mut Vec<u8>,
    ds: &Dataset,
    r: &mut ChaCha8Rng,
    (start_s, end_s): (i64, i64),
    q: &Quirks,
) {
    let (city, region, cc, cn) = CITIES[below(r, CITIES.len())];
    let (browser, platform, ua) = BROWSERS[below(r, BROWSERS.len())];
    jw::key(b, "session");
    jw::obj(b);
    jw::key(b, "id");
    b.push(b'"');
    yymmdd(b, start_s);
    b.push(b'.');
    b.extend_from_slice(ds.account_str.as_bytes());
    b.push(b'.');
    for _ in 0..17 {
        let c = b62(r);
        b.push(c);
    }
    b.push(b'"');
    write_session_date(b, "start_date", start_s, q);
    write_session_date(b, "end_date", end_s, q);
    jw::key(b, "ip");
    b.push(b'"');
    let net = [&b"192.0.2."[..], b"198.51.100.", b"203.0.113."][below(r, 3)];
    let oct = 1 + below(r, 254);
    if q.invalid_ip {
        b.extend_from_slice(b"67.32.");
        jw::digits(b, 256 + oct as u64);
        b.push(b'.');
    } else {
        b.extend_from_slice(net);
    }
    jw::digits(b, oct as u64);
    b.push(b'"');
    jw::key_string(b, "city", city);
    jw::key_string(b, "region", region);
    jw::key_string(b, "country_code", cc);
    jw::key_string(b, "country_name", cn);
    jw::key_string(b, "browser", browser);
    jw::key_string(b, "platform", platform);
    jw::key_string(b, "user_agent", ua);
    jw::end_obj(b);
}

fn write_dept_id(b: &mut Vec<u8>, id: Option<u64>, as_str: bool) {
    match id {
        None => jw::null(b),
        Some(id) if as_str => {
            let mut tmp = Vec::with_capacity(16);
            jw::uint(&mut tmp, id);
            jw::string_bytes(b, &tmp);
        }
        Some(id) => jw::uint(b, id),
    }
}

fn write_tags(b: &mut Vec<u8>, tags: &[&str], rev: u32) {
    jw::arr(b);
    for t in tags {
        jw::string(b, t);
    }
    if rev >= 1 {
        jw::string(b, "updated");
    }
    if rev >= 2 {
        let mut tmp = b"update_".to_vec();
        jw::digits(&mut tmp, u64::from(rev));
        jw::string_bytes(b, &tmp);
    }
    jw::end_arr(b);
}

fn write_brand_new_field(b: &mut Vec<u8>, idx: u64) {
    jw::key(b, "brand_new_field");
    jw::obj(b);
    jw::key_string(b, "experiment", "sandbox-widget-v3");
    jw::key_string(b, "variant", if idx.is_multiple_of(2) { "A" } else { "B" });
    jw::key(b, "score");
    jw::float(b, 0.75);
    jw::key(b, "labels");
    jw::arr(b);
    jw::string(b, "beta");
    jw::string(b, "synthetic");
    jw::end_arr(b);
    jw::end_obj(b);
}

/// Writes the opening `{` and, unless the chat is one served without it, `"id"`.
fn open_chat(b: &mut Vec<u8>, id: &[u8], q: &Quirks) {
    jw::obj(b);
    if !q.without_id {
        jw::key(b, "id");
        jw::string_bytes(b, id);
    }
}

fn write_update_timestamp(b: &mut Vec<u8>, e: &Entry, q: &Quirks) {
    jw::key(b, "update_timestamp");
    if q.numeric_update_timestamp {
        jw::int(b, e.ts);
    } else {
        jw::ts(b, e.ts);
    }
}

/// Renders the chat of an index entry as JSON into `b`.
#[cfg(test)]
pub fn render(ds: &Dataset, e: &Entry, b: &mut Vec<u8>) {
    render_with(ds, e, false, b);
}

/// Renders a chat; `numeric_timestamps`: the fault that sends some `update_timestamp`s as numbers.
pub fn render_with(ds: &Dataset, e: &Entry, numeric_timestamps: bool, b: &mut Vec<u8>) {
    let sk = ds.skeleton(e.idx);
    let mut r = ds.rng(u64::from(e.idx) * 4 + 1);
    let q = Quirks::of(ds, u64::from(e.idx), numeric_timestamps);
    if sk.offline {
        render_offline(ds, e, &sk.id, sk.start_us, &q, &mut r, b);
    } else {
        render_live(ds, e, &sk.id, sk.start_us, sk.end_us, &q, &mut r, b);
    }
}

#[allow(clippy::too_many_arguments)]
fn render_offline(
    ds: &Dataset,
    e: &Entry,
    id: &[u8; ID_LEN],
    start_us: i64,
    q: &Quirks,
    r: &mut ChaCha8Rng,
    b: &mut Vec<u8>,
) {
    let ts = start_us.div_euclid(1_000_000);
    let v = visitor(ds, r, q);
    let dept = if r.random_bool(0.4) && !ds.departments.is_empty() {
        Some(&ds.departments[below(r, ds.departments.len())])
    } else {
        None
    };
    let unread = r.random_bool(0.3);
    open_chat(b, id, q);
    jw::key_string(b, "type", "offline_msg");
    jw::key(b, "timestamp");
    jw::ts(b, ts);
    write_update_timestamp(b, e, q);
    jw::key(b, "unread");
    if q.unread_int {
        jw::uint(b, u64::from(unread));
    } else {
        jw::bool(b, unread);
    }
    jw::key_bool(b, "deleted", r.random_bool(0.01));
    jw::key_string(b, "message", pick(r, &OFFLINE_MSGS));
    jw::key(b, "tags");
    let tags: &[&str] = if r.random_bool(0.2) {
        &["offline_followup"]
    } else {
        &[]
    };
    write_tags(b, tags, e.rev);
    jw::key(b, "webpath");
    jw::arr(b);
    jw::end_arr(b);
    jw::key(b, "department_id");
    write_dept_id(b, dept.map(|d| d.id), false);
    jw::key(b, "department_name");
    match dept {
        Some(d) => jw::string(b, &d.name),
        None => jw::null(b),
    }
    jw::key(b, "zendesk_ticket_id");
    if r.random_bool(0.5) {
        jw::uint(b, 100_000 + u64::from(r.next_u32() % 900_000));
    } else {
        jw::null(b);
    }
    write_visitor(b, &v);
    let sess_start = ts - r.random_range(20..900);
    let sess_end = ts + r.random_range(5..600);
    write_session(b, ds, r, (sess_start, sess_end), q);
    if q.brand_new_field {
        write_brand_new_field(b, u64::from(e.idx));
    }
    jw::end_obj(b);
}

/// Per-agent engagement accumulator.
#[derive(Default, Clone, Copy)]
struct Engagement {
    join: i64,
    leave: i64,
    agent_msgs: u32,
    visitor_msgs: u32,
    gaps_n: u32,
    gaps_sum: f64,
    gaps_max: f64,
    gap_first: Option<f64>,
}

#[allow(clippy::too_many_arguments)]
fn render_live(
    ds: &Dataset,
    e: &Entry,
    id: &[u8; ID_LEN],
    start_us: i64,
    end_us: i64,
    q: &Quirks,
    r: &mut ChaCha8Rng,
    b: &mut Vec<u8>,
) {
    let ts = start_us.div_euclid(1_000_000);
    let end_s = end_us.div_euclid(1_000_000);
    // Only offline messages carry the "+00:00Z" session dates.
    let live_quirks = Quirks {
        session_dates_offset_z: false,
        ..*q
    };
    let q = &live_quirks;
    let v = visitor(ds, r, q);
    let n_dept = ds.departments.len();
    let dept0 = if n_dept > 0 && r.random_bool(0.7) {
        Some(below(r, n_dept))
    } else {
        None
    };
    // Agents taking part.
    let roll: f64 = r.random();
    let mut n_ag = if roll < 0.05 {
        0
    } else if roll < 0.8 {
        1
    } else if roll < 0.96 {
        2
    } else {
        3
    };
    n_ag = n_ag.min(ds.agents.len());
    let mut ag = [0usize; 3];
    for k in 0..n_ag {
        loop {
            let c = below(r, ds.agents.len());
            if !ag[..k].contains(&c) {
                ag[k] = c;
                break;
            }
        }
    }
    let n_trig = ds.triggers.len();
    let sroll: f64 = r.random();
    let started_by = if sroll < 0.1 && n_trig > 0 {
        TRIGGER
    } else if sroll < 0.2 && n_ag > 0 {
        1
    } else {
        VISITOR
    };
    let trig = if n_trig > 0 { below(r, n_trig) } else { 0 };
    let x: f64 = r.random();
    let target = 4 + (x * x * x * 26.0) as usize;
    // Tags chosen for this chat.
    let n_tags = if n_ag > 0 {
        [0, 0, 1, 1, 2][below(r, 5)]
    } else {
        0
    };
    let mut tags: [&str; 2] = [""; 2];
    for k in 0..n_tags {
        loop {
            let t = pick(r, &TAGS);
            if !tags[..k].contains(&t) {
                tags[k] = t;
                break;
            }
        }
    }
    let transfer = n_ag >= 2 && dept0.is_some() && n_dept >= 2 && r.random_bool(0.5);
    let dept1 = match dept0 {
        Some(d0) if transfer => Some((d0 + 1 + below(r, n_dept - 1)) % n_dept),
        _ => None,
    };
    let rating = if n_ag > 0 && r.random_bool(0.3) {
        Some(below(r, 2))
    } else {
        None
    };
    let comment = if n_ag > 0 && r.random_bool(0.15) {
        Some(below(r, COMMENTS.len()))
    } else {
        None
    };

    // ---- plan the history ----
    let mut pre: Vec<PlannedEvent> = Vec::with_capacity(3);
    let mut body: Vec<PlannedEvent> = Vec::with_capacity(32);
    pre.push(PlannedEvent::new(EventKind::Join, VISITOR));
    if started_by == 1 {
        pre.push(PlannedEvent::new(EventKind::Join, 1));
    }
    let first_msg = PlannedEvent::with(EventKind::Msg, started_by, below(r, 24) as u16, 0);
    let msg_text = |r: &mut ChaCha8Rng| below(r, 24) as u16;
    if n_ag == 0 {
        if started_by == TRIGGER {
            body.push(PlannedEvent::with(EventKind::Msg, VISITOR, msg_text(r), 0));
        }
        let extra = 1 + below(r, 3);
        for _ in 0..extra {
            body.push(PlannedEvent::with(EventKind::Msg, VISITOR, msg_text(r), 0));
        }
    } else {
        if started_by == TRIGGER {
            body.push(PlannedEvent::with(EventKind::Msg, VISITOR, msg_text(r), 0));
        }
        if started_by != 1 {
            body.push(PlannedEvent::new(EventKind::Join, 1));
        }
        let mut cur: u8 = 1;
        let mut tags_done = 0usize;
        let mut transferred = false;
        // Agents joining to help (not via a department transfer).
        let mut next_helper: u8 = if transfer { 3 } else { 2 };
        let reserve = 2 + n_ag + usize::from(rating.is_some()) + usize::from(comment.is_some());
        let mut round = 0usize;
        loop {
            // agent answers
            for _ in 0..1 + below(r, 2) {
                body.push(PlannedEvent::with(EventKind::Msg, cur, msg_text(r), 0));
            }
            round += 1;
            if tags_done < n_tags && r.random_bool(0.5) {
                body.push(PlannedEvent::with(
                    EventKind::Tag,
                    cur,
                    tags_done as u16,
                    tags_done as u16 + 1,
                ));
                tags_done += 1;
            }
            if transfer && !transferred && round >= 2 {
                cur = push_transfer(&mut body, cur, dept0, dept1);
                transferred = true;
            } else if next_helper as usize <= n_ag && round >= usize::from(next_helper) {
                body.push(PlannedEvent::new(EventKind::Join, next_helper));
                body.push(PlannedEvent::with(
                    EventKind::Msg,
                    next_helper,
                    msg_text(r),
                    0,
                ));
                next_helper += 1;
            }
            if pre.len() + body.len() + reserve + 1 >= target || round > 14 {
                break;
            }
            // visitor talks
            for _ in 0..1 + below(r, 2) {
                body.push(PlannedEvent::with(EventKind::Msg, VISITOR, msg_text(r), 0));
            }
        }
        while next_helper as usize <= n_ag {
            body.push(PlannedEvent::new(EventKind::Join, next_helper));
            body.push(PlannedEvent::with(
                EventKind::Msg,
                next_helper,
                msg_text(r),
                0,
            ));
            next_helper += 1;
        }
        if transfer && !transferred {
            cur = push_transfer(&mut body, cur, dept0, dept1);
        }
        while tags_done < n_tags {
            body.push(PlannedEvent::with(
                EventKind::Tag,
                cur,
                tags_done as u16,
                tags_done as u16 + 1,
            ));
            tags_done += 1;
        }
        if let Some(rt) = rating {
            body.push(PlannedEvent::with(EventKind::Rating, VISITOR, rt as u16, 0));
        }
        if let Some(c) = comment {
            body.push(PlannedEvent::with(EventKind::Comment, VISITOR, c as u16, 0));
        }
        for slot in 1..=n_ag as u8 {
            if transfer && slot == 1 {
                continue;
            }
            body.push(PlannedEvent::with(
                EventKind::Leave,
                slot,
                if r.random_bool(0.3) {
                    1 + below(r, 3) as u16
                } else {
                    0
                },
                0,
            ));
        }
    }
    // ---- assign times ----
    let mut hist: Vec<PlannedEvent> = Vec::with_capacity(pre.len() + body.len() + 2);
    let mut back = start_us - 1_000_000 * (1 + below(r, 15) as i64) - below(r, 1_000_000) as i64;
    for (k, ev) in pre.iter().enumerate() {
        let mut ev = *ev;
        if k > 0 {
            back += below(r, 900_000) as i64 + 100;
            back = back.min(start_us - 1);
        }
        ev.t = back;
        hist.push(ev);
    }
    let mut fm = first_msg;
    fm.t = start_us;
    hist.push(fm);
    let span = (end_us - start_us).max(2);
    let mut weights = [0u32; 64];
    let nb = body.len().min(63);
    let mut total: u64 = 0;
    for w in weights.iter_mut().take(nb + 1) {
        *w = 200 + (r.next_u32() % 1000);
        total += u64::from(*w);
    }
    let mut cum: u64 = 0;
    let mut prev = start_us;
    for (k, ev) in body.iter().enumerate() {
        let mut ev = *ev;
        cum += u64::from(weights[k.min(63)]);
        let t = start_us + ((span as u128 * cum as u128) / total.max(1) as u128) as i64;
        let t = t.max(prev + 1).min(end_us - 1);
        ev.t = t;
        prev = t;
        hist.push(ev);
    }
    let mut last = PlannedEvent::with(
        EventKind::Leave,
        VISITOR,
        if r.random_bool(0.2) {
            1 + below(r, 3) as u16
        } else {
            0
        },
        0,
    );
    last.t = end_us;
    hist.push(last);

    // ---- derived metrics ----
    let mut cnt_v = 0u32;
    let mut cnt_a = 0u32;
    let mut last_msg = start_us;
    let mut pending: Option<i64> = None;
    let mut gaps_n = 0u32;
    let mut gaps_sum = 0.0f64;
    let mut gaps_max = 0.0f64;
    let mut gap_first: Option<f64> = None;
    let mut engs = [Engagement::default(); 3];
    let mut active = [false; 3];
    for ev in &hist {
        match ev.kind {
            EventKind::Join if ev.is_agent() => {
                let s = (ev.actor - 1) as usize;
                engs[s].join = ev.t;
                engs[s].leave = end_us;
                active[s] = true;
            }
            EventKind::Leave if ev.is_agent() => {
                let s = (ev.actor - 1) as usize;
                engs[s].leave = ev.t;
                active[s] = false;
            }
            EventKind::Msg => {
                last_msg = ev.t;
                if ev.actor == VISITOR {
                    cnt_v += 1;
                    if pending.is_none() {
                        pending = Some(ev.t);
                    }
                    for (s, en) in engs.iter_mut().enumerate() {
                        if active[s] {
                            en.visitor_msgs += 1;
                        }
                    }
                } else {
                    cnt_a += 1;
                    if ev.is_agent() {
                        let s = (ev.actor - 1) as usize;
                        engs[s].agent_msgs += 1;
                        if let Some(p) = pending.take() {
                            let g = (ev.t - p) as f64 / 1e6;
                            gaps_n += 1;
                            gaps_sum += g;
                            gaps_max = gaps_max.max(g);
                            gap_first.get_or_insert(g);
                            let en = &mut engs[s];
                            en.gaps_n += 1;
                            en.gaps_sum += g;
                            en.gaps_max = en.gaps_max.max(g);
                            en.gap_first.get_or_insert(g);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let duration = (last_msg - ts * 1_000_000).div_euclid(1_000_000);
    let final_dept = dept1.or(dept0);
    let triggered = started_by == TRIGGER;

    // ---- webpath (before the chat) ----
    let n_web = if q.webpath_array {
        1 + below(r, 4)
    } else {
        below(r, 5)
    };
    let mut web_ts = [0i64; 5];
    let mut t = ts - 5 - below(r, 60) as i64;
    for k in (0..n_web).rev() {
        web_ts[k] = t;
        t -= 10 + below(r, 300) as i64;
    }
    let sess_start = if n_web > 0 {
        web_ts[0]
    } else {
        ts - 30 - below(r, 60) as i64
    };
    let referrer = pick(r, &REFERRERS);

    // ---- write ----
    let channel_len = 13 + v.id().len();
    let mut channel = [0u8; 13 + 22];
    channel[..13].copy_from_slice(b"#supportchat:");
    for (d, s) in channel[13..].iter_mut().zip(v.id().iter()) {
        *d = if *s == b'.' { b'-' } else { *s };
    }
    let channel = &channel[..channel_len];

    open_chat(b, id, q);
    jw::key_string(b, "type", "chat");
    jw::key(b, "timestamp");
    jw::ts(b, ts);
    jw::key(b, "end_timestamp");
    jw::ts(b, end_s);
    write_update_timestamp(b, e, q);
    jw::key_string(
        b,
        "started_by",
        match started_by {
            VISITOR => "visitor",
            TRIGGER => "trigger",
            _ => "agent",
        },
    );
    jw::key(b, "duration");
    jw::int(b, duration);
    jw::key_bool(b, "missed", n_ag == 0);
    jw::key(b, "unread");
    if q.unread_int {
        jw::uint(b, 0);
    } else {
        jw::bool(b, false);
    }
    jw::key_bool(b, "deleted", r.random_bool(0.01));
    jw::key_bool(b, "triggered", triggered);
    jw::key(b, "triggered_response");
    if q.triggered_response_null {
        jw::null(b);
    } else {
        jw::bool(b, triggered && cnt_v > 0);
    }
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
    jw::key(b, "tags");
    write_tags(b, &tags[..n_tags], e.rev);
    jw::key(b, "department_id");
    write_dept_id(b, final_dept.map(|d| ds.departments[d].id), false);
    jw::key(b, "department_name");
    match final_dept {
        Some(d) => jw::string(b, &ds.departments[d].name),
        None => jw::null(b),
    }
    jw::key(b, "agent_ids");
    jw::arr(b);
    let mut tmp = Vec::with_capacity(16);
    for &a in &ag[..n_ag] {
        tmp.clear();
        jw::uint(&mut tmp, ds.agents[a].id);
        jw::string_bytes(b, &tmp);
    }
    jw::end_arr(b);
    jw::key(b, "agent_names");
    jw::arr(b);
    for &a in &ag[..n_ag] {
        jw::string(b, &ds.agents[a].display);
    }
    jw::end_arr(b);
    jw::key(b, "zendesk_ticket_id");
    if r.random_bool(0.3) {
        jw::uint(b, 100_000 + u64::from(r.next_u32() % 900_000));
    } else {
        jw::null(b);
    }
    if r.random_bool(0.2) {
        let (eng, terms) = SEARCH_ENGINES[below(r, SEARCH_ENGINES.len())];
        jw::key_string(b, "referrer_search_engine", eng);
        jw::key_string(b, "referrer_search_terms", terms);
    } else {
        jw::key_string(b, "referrer_search_engine", "");
        jw::key_string(b, "referrer_search_terms", "");
    }
    jw::key(b, "response_time");
    jw::obj(b);
    write_rt(b, gaps_n, gaps_sum, gaps_max, gap_first);
    jw::end_obj(b);
    jw::key(b, "count");
    jw::obj(b);
    jw::key_uint(b, "total", u64::from(cnt_v + cnt_a));
    jw::key_uint(b, "agent", u64::from(cnt_a));
    jw::key_uint(b, "visitor", u64::from(cnt_v));
    jw::end_obj(b);
    write_visitor(b, &v);
    let sess_end = end_s + below(r, 30) as i64;
    write_session(b, ds, r, (sess_start, sess_end), q);
    // webpath
    jw::key(b, "webpath");
    jw::arr(b);
    let mut from = referrer;
    let quirk_at = if q.webpath_array {
        below(r, n_web)
    } else {
        usize::MAX
    };
    for (k, &wt) in web_ts.iter().enumerate().take(n_web) {
        let (url, title) = PAGES[below(r, PAGES.len())];
        if k == quirk_at {
            jw::arr(b);
            jw::string(b, url);
            jw::null(b);
            jw::int(b, wt);
            jw::string(b, title);
            jw::end_arr(b);
        } else {
            jw::obj(b);
            jw::key(b, "timestamp");
            jw::ts(b, wt);
            jw::key_string(b, "title", title);
            jw::key_string(b, "from", from);
            jw::key_string(b, "to", url);
            jw::end_obj(b);
        }
        from = url;
    }
    jw::end_arr(b);
    // conversions
    jw::key(b, "conversions");
    jw::arr(b);
    let n_conv = if n_ag > 0 && !ds.goals.is_empty() && r.random_bool(0.25) {
        1 + usize::from(r.random_bool(0.2))
    } else {
        0
    };
    for k in 0..n_conv {
        let g = &ds.goals[below(r, ds.goals.len())];
        let a = &ds.agents[ag[0]];
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
        jw::key_uint(b, "goal_id", g.id);
        jw::key_string(b, "goal_name", &g.name);
        jw::key(b, "timestamp");
        jw::ts(b, end_s + 60 + (k as i64) * 600 + below(r, 600) as i64);
        jw::key(b, "attribution");
        jw::obj(b);
        jw::key_uint(b, "agent_id", a.id);
        jw::key_string(b, "agent_name", &a.display);
        jw::key(b, "chat_timestamp");
        jw::ts(b, ts);
        jw::key(b, "department_id");
        write_dept_id(b, final_dept.map(|d| ds.departments[d].id), false);
        jw::key(b, "department_name");
        match final_dept {
            Some(d) => jw::string(b, &ds.departments[d].name),
            None => jw::null(b),
        }
        jw::end_obj(b);
        jw::end_obj(b);
    }
    jw::end_arr(b);
    // engagements
    jw::key(b, "engagements");
    jw::arr(b);
    for (s, &a) in ag[..n_ag].iter().enumerate() {
        let en = &engs[s];
        let agent = &ds.agents[a];
        jw::obj(b);
        jw::key(b, "id");
        b.push(b'"');
        b.extend_from_slice(id);
        b.extend_from_slice(b".eng.");
        jw::digits(b, s as u64 + 1);
        b.push(b'"');
        tmp.clear();
        jw::uint(&mut tmp, agent.id);
        jw::key(b, "agent_id");
        jw::string_bytes(b, &tmp);
        jw::key_string(b, "agent_name", &agent.display);
        jw::key_string(b, "agent_full_name", &agent.full);
        jw::key(b, "department_id");
        let ed = if s >= 1 && transfer { dept1 } else { dept0 };
        write_dept_id(b, ed.map(|d| ds.departments[d].id), false);
        jw::key_bool(b, "assigned", true);
        jw::key_bool(b, "accepted", s == 0 || !transfer);
        jw::key_string(
            b,
            "started_by",
            if s == 0 && started_by == 1 {
                "agent"
            } else if s == 0 && started_by == TRIGGER {
                "trigger"
            } else {
                "visitor"
            },
        );
        jw::key(b, "rating");
        match rating {
            Some(0) if s + 1 == n_ag => jw::string(b, "good"),
            Some(_) if s + 1 == n_ag => jw::string(b, "bad"),
            _ => jw::null(b),
        }
        jw::key(b, "comment");
        match comment {
            Some(c) if s + 1 == n_ag => jw::string(b, COMMENTS[c]),
            _ => jw::null(b),
        }
        jw::key(b, "skills_requested");
        jw::arr(b);
        jw::end_arr(b);
        jw::key_bool(b, "skills_fulfilled", true);
        jw::key(b, "timestamp");
        jw::ts(b, en.join.div_euclid(1_000_000));
        jw::key(b, "duration");
        jw::float(b, ((en.leave - en.join) / 10_000) as f64 / 100.0);
        jw::key(b, "response_time");
        jw::obj(b);
        write_rt(b, en.gaps_n, en.gaps_sum, en.gaps_max, en.gap_first);
        jw::end_obj(b);
        jw::key(b, "count");
        jw::obj(b);
        jw::key_uint(b, "total", u64::from(en.agent_msgs + en.visitor_msgs));
        jw::key_uint(b, "agent", u64::from(en.agent_msgs));
        jw::key_uint(b, "visitor", u64::from(en.visitor_msgs));
        jw::end_obj(b);
        jw::end_obj(b);
    }
    jw::end_arr(b);
    // history
    jw::key(b, "history");
    jw::arr(b);
    let mut first_join = true;
    for ev in &hist {
        jw::obj(b);
        jw::key_string(
            b,
            "type",
            match ev.kind {
                EventKind::Join => "chat.memberjoin",
                EventKind::Leave => "chat.memberleave",
                EventKind::Msg => "chat.msg",
                EventKind::Tag => "chat.tag",
                EventKind::Comment => "chat.comment",
                EventKind::Rating => "chat.rating",
                EventKind::Transfer => "chat.departmenttransfer",
            },
        );
        jw::key(b, "name");
        if ev.actor == VISITOR {
            jw::string(b, &v.name);
        } else if ev.actor == TRIGGER {
            jw::string(b, ds.triggers[trig].1);
        } else {
            jw::string(b, &ds.agents[ag[(ev.actor - 1) as usize]].display);
        }
        jw::key(b, "timestamp");
        jw::ts_us(b, ev.t);
        jw::key(b, "channel");
        jw::string_bytes(b, channel);
        match ev.kind {
            EventKind::Join => {
                if first_join {
                    first_join = false;
                    jw::key(b, "department_id");
                    write_dept_id(b, dept0.map(|d| ds.departments[d].id), q.dept_id_str);
                    jw::key(b, "department_name");
                    match dept0 {
                        Some(d) => jw::string(b, &ds.departments[d].name),
                        None => jw::null(b),
                    }
                }
            }
            EventKind::Leave => {
                if ev.a > 0 {
                    jw::key_string(
                        b,
                        "reason",
                        LEAVE_REASONS[(ev.a - 1) as usize % LEAVE_REASONS.len()],
                    );
                }
            }
            EventKind::Msg => {
                if ev.actor == VISITOR {
                    let ms = ev.t / 1000 - 200 - i64::from(r.next_u32() % 700);
                    jw::key(b, "msg_id");
                    if q.msg_id_int {
                        jw::int(b, ms);
                    } else {
                        tmp.clear();
                        jw::int(&mut tmp, ms);
                        jw::string_bytes(b, &tmp);
                    }
                    jw::key_string(b, "msg", VISITOR_MSGS[ev.a as usize % VISITOR_MSGS.len()]);
                    jw::key_string(b, "options", "");
                } else if ev.actor == TRIGGER {
                    jw::key_string(b, "msg", ds.triggers[trig].2);
                    jw::key_string(b, "options", "");
                } else {
                    let text = AGENT_MSGS[ev.a as usize % AGENT_MSGS.len()];
                    jw::key_string(b, "msg", text);
                    jw::key_string(b, "options", if ev.a % 11 == 3 { "Yes/No" } else { "" });
                }
            }
            EventKind::Tag => {
                jw::key(b, "tags");
                jw::arr(b);
                for t in &tags[..ev.a as usize] {
                    jw::string(b, t);
                }
                jw::end_arr(b);
                jw::key(b, "new_tags");
                jw::arr(b);
                for t in &tags[..ev.b as usize] {
                    jw::string(b, t);
                }
                jw::end_arr(b);
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
                jw::key(b, "department_id");
                let d1 = ds.departments[ev.b as usize % n_dept.max(1)].id;
                let d0 = ds.departments[ev.a as usize % n_dept.max(1)].id;
                write_dept_id(b, Some(d1), q.dept_id_str);
                jw::key_string(
                    b,
                    "department_name",
                    &ds.departments[ev.b as usize % n_dept.max(1)].name,
                );
                jw::key(b, "prev_department_id");
                write_dept_id(b, Some(d0), q.dept_id_str);
            }
        }
        jw::key_string(
            b,
            "sender_type",
            if ev.actor == VISITOR {
                "Visitor"
            } else if ev.actor == TRIGGER {
                "Trigger"
            } else if ev.kind == EventKind::Transfer {
                "System"
            } else {
                "Agent"
            },
        );
        if ev.is_agent() && ev.kind != EventKind::Join && ev.kind != EventKind::Leave {
            tmp.clear();
            jw::uint(&mut tmp, ds.agents[ag[(ev.actor - 1) as usize]].id);
            jw::key(b, "agent_id");
            jw::string_bytes(b, &tmp);
        }
        if ev.actor == TRIGGER {
            jw::key_uint(b, "trigger_id", ds.triggers[trig].0.id);
        }
        jw::end_obj(b);
    }
    jw::end_arr(b);
    if q.brand_new_field {
        write_brand_new_field(b, u64::from(e.idx));
    }
    jw::end_obj(b);
}

fn write_rt(b: &mut Vec<u8>, n: u32, sum: f64, max: f64, first: Option<f64>) {
    jw::key(b, "first");
    match first {
        Some(f) => jw::uint(b, f.round() as u64),
        None => jw::null(b),
    }
    jw::key(b, "avg");
    if n > 0 {
        jw::float(b, sum / f64::from(n));
    } else {
        jw::null(b);
    }
    jw::key(b, "max");
    if n > 0 {
        jw::uint(b, max.round() as u64);
    } else {
        jw::null(b);
    }
}
