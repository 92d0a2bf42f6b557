//! On-demand rendering of one chat (or offline message) straight to JSON bytes.
//!
//! A chat is a pure function of (seed, index, revision, update_timestamp): the skeleton (id, times)
//! comes from `Dataset::skeleton`, the content from a second PRNG stream of the same index.

use crate::data::{b62, Dataset, Entry, ID_LEN};
use crate::jsonw::{self as j};
use crate::pools::*;
use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;

const VISITOR: u8 = 0;
const TRIGGER: u8 = 250;

#[derive(Clone, Copy, PartialEq, Eq)]
enum K {
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
struct Ev {
    kind: K,
    actor: u8,
    t: i64,
    a: u16,
    b: u16,
}

impl Ev {
    fn new(kind: K, actor: u8) -> Ev {
        Ev {
            kind,
            actor,
            t: 0,
            a: 0,
            b: 0,
        }
    }
    fn with(kind: K, actor: u8, a: u16, b: u16) -> Ev {
        Ev {
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
fn push_transfer(body: &mut Vec<Ev>, cur: u8, dept0: Option<usize>, dept1: Option<usize>) -> u8 {
    body.push(Ev::with(
        K::Transfer,
        cur,
        dept0.unwrap_or(0) as u16,
        dept1.unwrap_or(0) as u16,
    ));
    body.push(Ev::new(K::Join, 2));
    body.push(Ev::new(K::Leave, 1));
    2
}

fn below(r: &mut ChaCha8Rng, n: usize) -> usize {
    (r.next_u32() as usize) % n.max(1)
}

fn yymmdd(b: &mut Vec<u8>, epoch_s: i64) {
    let (y, m, d, ..) = j::utc_parts(epoch_s);
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
    j::key(b, "visitor");
    j::obj(b);
    j::key(b, "id");
    j::sb(b, v.id());
    j::ks(b, "name", &v.name);
    j::ks(b, "email", &v.email);
    j::ks(b, "phone", &v.phone);
    j::ks(b, "notes", "");
    j::end_obj(b);
}

fn write_session_date(b: &mut Vec<u8>, key: &str, epoch_s: i64, q: &Quirks) {
    j::key(b, key);
    if q.session_dates_offset_z {
        j::ts_offset_z(b, epoch_s);
    } else {
        j::ts(b, epoch_s);
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
    j::key(b, "session");
    j::obj(b);
    j::key(b, "id");
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
    j::key(b, "ip");
    b.push(b'"');
    let net = [&b"192.0.2."[..], b"198.51.100.", b"203.0.113."][below(r, 3)];
    let oct = 1 + below(r, 254);
    if q.invalid_ip {
        b.extend_from_slice(b"67.32.");
        j::digits(b, 256 + oct as u64);
        b.push(b'.');
    } else {
        b.extend_from_slice(net);
    }
    j::digits(b, oct as u64);
    b.push(b'"');
    j::ks(b, "city", city);
    j::ks(b, "region", region);
    j::ks(b, "country_code", cc);
    j::ks(b, "country_name", cn);
    j::ks(b, "browser", browser);
    j::ks(b, "platform", platform);
    j::ks(b, "user_agent", ua);
    j::end_obj(b);
}

fn write_dept_id(b: &mut Vec<u8>, id: Option<u64>, as_str: bool) {
    match id {
        None => j::null(b),
        Some(id) if as_str => {
            let mut tmp = Vec::with_capacity(16);
            j::u(&mut tmp, id);
            j::sb(b, &tmp);
        }
        Some(id) => j::u(b, id),
    }
}

fn write_tags(b: &mut Vec<u8>, tags: &[&str], rev: u32) {
    j::arr(b);
    for t in tags {
        j::s(b, t);
    }
    if rev >= 1 {
        j::s(b, "updated");
    }
    if rev >= 2 {
        let mut tmp = b"update_".to_vec();
        j::digits(&mut tmp, u64::from(rev));
        j::sb(b, &tmp);
    }
    j::end_arr(b);
}

fn write_brand_new_field(b: &mut Vec<u8>, idx: u64) {
    j::key(b, "brand_new_field");
    j::obj(b);
    j::ks(b, "experiment", "sandbox-widget-v3");
    j::ks(b, "variant", if idx.is_multiple_of(2) { "A" } else { "B" });
    j::key(b, "score");
    j::f(b, 0.75);
    j::key(b, "labels");
    j::arr(b);
    j::s(b, "beta");
    j::s(b, "synthetic");
    j::end_arr(b);
    j::end_obj(b);
}

/// Writes the opening `{` and, unless the chat is one served without it, `"id"`.
fn open_chat(b: &mut Vec<u8>, id: &[u8], q: &Quirks) {
    j::obj(b);
    if !q.without_id {
        j::key(b, "id");
        j::sb(b, id);
    }
}

fn write_update_timestamp(b: &mut Vec<u8>, e: &Entry, q: &Quirks) {
    j::key(b, "update_timestamp");
    if q.numeric_update_timestamp {
        j::i(b, e.ts);
    } else {
        j::ts(b, e.ts);
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
    j::ks(b, "type", "offline_msg");
    j::key(b, "timestamp");
    j::ts(b, ts);
    write_update_timestamp(b, e, q);
    j::key(b, "unread");
    if q.unread_int {
        j::u(b, u64::from(unread));
    } else {
        j::bool(b, unread);
    }
    j::kb(b, "deleted", r.random_bool(0.01));
    j::ks(b, "message", pick(r, &OFFLINE_MSGS));
    j::key(b, "tags");
    let tags: &[&str] = if r.random_bool(0.2) {
        &["offline_followup"]
    } else {
        &[]
    };
    write_tags(b, tags, e.rev);
    j::key(b, "webpath");
    j::arr(b);
    j::end_arr(b);
    j::key(b, "department_id");
    write_dept_id(b, dept.map(|d| d.id), false);
    j::key(b, "department_name");
    match dept {
        Some(d) => j::s(b, &d.name),
        None => j::null(b),
    }
    j::key(b, "zendesk_ticket_id");
    if r.random_bool(0.5) {
        j::u(b, 100_000 + u64::from(r.next_u32() % 900_000));
    } else {
        j::null(b);
    }
    write_visitor(b, &v);
    let sess_start = ts - r.random_range(20..900);
    let sess_end = ts + r.random_range(5..600);
    write_session(b, ds, r, (sess_start, sess_end), q);
    if q.brand_new_field {
        write_brand_new_field(b, u64::from(e.idx));
    }
    j::end_obj(b);
}

/// Per-agent engagement accumulator.
#[derive(Default, Clone, Copy)]
struct Eng {
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
    let mut pre: Vec<Ev> = Vec::with_capacity(3);
    let mut body: Vec<Ev> = Vec::with_capacity(32);
    pre.push(Ev::new(K::Join, VISITOR));
    if started_by == 1 {
        pre.push(Ev::new(K::Join, 1));
    }
    let first_msg = Ev::with(K::Msg, started_by, below(r, 24) as u16, 0);
    let msg_text = |r: &mut ChaCha8Rng| below(r, 24) as u16;
    if n_ag == 0 {
        if started_by == TRIGGER {
            body.push(Ev::with(K::Msg, VISITOR, msg_text(r), 0));
        }
        let extra = 1 + below(r, 3);
        for _ in 0..extra {
            body.push(Ev::with(K::Msg, VISITOR, msg_text(r), 0));
        }
    } else {
        if started_by == TRIGGER {
            body.push(Ev::with(K::Msg, VISITOR, msg_text(r), 0));
        }
        if started_by != 1 {
            body.push(Ev::new(K::Join, 1));
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
                body.push(Ev::with(K::Msg, cur, msg_text(r), 0));
            }
            round += 1;
            if tags_done < n_tags && r.random_bool(0.5) {
                body.push(Ev::with(
                    K::Tag,
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
                body.push(Ev::new(K::Join, next_helper));
                body.push(Ev::with(K::Msg, next_helper, msg_text(r), 0));
                next_helper += 1;
            }
            if pre.len() + body.len() + reserve + 1 >= target || round > 14 {
                break;
            }
            // visitor talks
            for _ in 0..1 + below(r, 2) {
                body.push(Ev::with(K::Msg, VISITOR, msg_text(r), 0));
            }
        }
        while next_helper as usize <= n_ag {
            body.push(Ev::new(K::Join, next_helper));
            body.push(Ev::with(K::Msg, next_helper, msg_text(r), 0));
            next_helper += 1;
        }
        if transfer && !transferred {
            cur = push_transfer(&mut body, cur, dept0, dept1);
        }
        while tags_done < n_tags {
            body.push(Ev::with(
                K::Tag,
                cur,
                tags_done as u16,
                tags_done as u16 + 1,
            ));
            tags_done += 1;
        }
        if let Some(rt) = rating {
            body.push(Ev::with(K::Rating, VISITOR, rt as u16, 0));
        }
        if let Some(c) = comment {
            body.push(Ev::with(K::Comment, VISITOR, c as u16, 0));
        }
        for slot in 1..=n_ag as u8 {
            if transfer && slot == 1 {
                continue;
            }
            body.push(Ev::with(
                K::Leave,
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
    let mut hist: Vec<Ev> = Vec::with_capacity(pre.len() + body.len() + 2);
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
    let mut last = Ev::with(
        K::Leave,
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
    let mut engs = [Eng::default(); 3];
    let mut active = [false; 3];
    for ev in &hist {
        match ev.kind {
            K::Join if ev.is_agent() => {
                let s = (ev.actor - 1) as usize;
                engs[s].join = ev.t;
                engs[s].leave = end_us;
                active[s] = true;
            }
            K::Leave if ev.is_agent() => {
                let s = (ev.actor - 1) as usize;
                engs[s].leave = ev.t;
                active[s] = false;
            }
            K::Msg => {
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
    j::ks(b, "type", "chat");
    j::key(b, "timestamp");
    j::ts(b, ts);
    j::key(b, "end_timestamp");
    j::ts(b, end_s);
    write_update_timestamp(b, e, q);
    j::ks(
        b,
        "started_by",
        match started_by {
            VISITOR => "visitor",
            TRIGGER => "trigger",
            _ => "agent",
        },
    );
    j::key(b, "duration");
    j::i(b, duration);
    j::kb(b, "missed", n_ag == 0);
    j::key(b, "unread");
    if q.unread_int {
        j::u(b, 0);
    } else {
        j::bool(b, false);
    }
    j::kb(b, "deleted", r.random_bool(0.01));
    j::kb(b, "triggered", triggered);
    j::key(b, "triggered_response");
    if q.triggered_response_null {
        j::null(b);
    } else {
        j::bool(b, triggered && cnt_v > 0);
    }
    j::key(b, "rating");
    match rating {
        Some(0) => j::s(b, "good"),
        Some(_) => j::s(b, "bad"),
        None => j::null(b),
    }
    j::key(b, "comment");
    match comment {
        Some(c) => j::s(b, COMMENTS[c]),
        None => j::null(b),
    }
    j::key(b, "tags");
    write_tags(b, &tags[..n_tags], e.rev);
    j::key(b, "department_id");
    write_dept_id(b, final_dept.map(|d| ds.departments[d].id), false);
    j::key(b, "department_name");
    match final_dept {
        Some(d) => j::s(b, &ds.departments[d].name),
        None => j::null(b),
    }
    j::key(b, "agent_ids");
    j::arr(b);
    let mut tmp = Vec::with_capacity(16);
    for &a in &ag[..n_ag] {
        tmp.clear();
        j::u(&mut tmp, ds.agents[a].id);
        j::sb(b, &tmp);
    }
    j::end_arr(b);
    j::key(b, "agent_names");
    j::arr(b);
    for &a in &ag[..n_ag] {
        j::s(b, &ds.agents[a].display);
    }
    j::end_arr(b);
    j::key(b, "zendesk_ticket_id");
    if r.random_bool(0.3) {
        j::u(b, 100_000 + u64::from(r.next_u32() % 900_000));
    } else {
        j::null(b);
    }
    if r.random_bool(0.2) {
        let (eng, terms) = SEARCH_ENGINES[below(r, SEARCH_ENGINES.len())];
        j::ks(b, "referrer_search_engine", eng);
        j::ks(b, "referrer_search_terms", terms);
    } else {
        j::ks(b, "referrer_search_engine", "");
        j::ks(b, "referrer_search_terms", "");
    }
    j::key(b, "response_time");
    j::obj(b);
    write_rt(b, gaps_n, gaps_sum, gaps_max, gap_first);
    j::end_obj(b);
    j::key(b, "count");
    j::obj(b);
    j::ku(b, "total", u64::from(cnt_v + cnt_a));
    j::ku(b, "agent", u64::from(cnt_a));
    j::ku(b, "visitor", u64::from(cnt_v));
    j::end_obj(b);
    write_visitor(b, &v);
    let sess_end = end_s + below(r, 30) as i64;
    write_session(b, ds, r, (sess_start, sess_end), q);
    // webpath
    j::key(b, "webpath");
    j::arr(b);
    let mut from = referrer;
    let quirk_at = if q.webpath_array {
        below(r, n_web)
    } else {
        usize::MAX
    };
    for (k, &wt) in web_ts.iter().enumerate().take(n_web) {
        let (url, title) = PAGES[below(r, PAGES.len())];
        if k == quirk_at {
            j::arr(b);
            j::s(b, url);
            j::null(b);
            j::i(b, wt);
            j::s(b, title);
            j::end_arr(b);
        } else {
            j::obj(b);
            j::key(b, "timestamp");
            j::ts(b, wt);
            j::ks(b, "title", title);
            j::ks(b, "from", from);
            j::ks(b, "to", url);
            j::end_obj(b);
        }
        from = url;
    }
    j::end_arr(b);
    // conversions
    j::key(b, "conversions");
    j::arr(b);
    let n_conv = if n_ag > 0 && !ds.goals.is_empty() && r.random_bool(0.25) {
        1 + usize::from(r.random_bool(0.2))
    } else {
        0
    };
    for k in 0..n_conv {
        let g = &ds.goals[below(r, ds.goals.len())];
        let a = &ds.agents[ag[0]];
        j::obj(b);
        j::key(b, "id");
        b.push(b'"');
        b.extend_from_slice(ds.account_str.as_bytes());
        b.push(b'.');
        for _ in 0..16 {
            let c = b62(r);
            b.push(c);
        }
        b.push(b'"');
        j::ku(b, "goal_id", g.id);
        j::ks(b, "goal_name", &g.name);
        j::key(b, "timestamp");
        j::ts(b, end_s + 60 + (k as i64) * 600 + below(r, 600) as i64);
        j::key(b, "attribution");
        j::obj(b);
        j::ku(b, "agent_id", a.id);
        j::ks(b, "agent_name", &a.display);
        j::key(b, "chat_timestamp");
        j::ts(b, ts);
        j::key(b, "department_id");
        write_dept_id(b, final_dept.map(|d| ds.departments[d].id), false);
        j::key(b, "department_name");
        match final_dept {
            Some(d) => j::s(b, &ds.departments[d].name),
            None => j::null(b),
        }
        j::end_obj(b);
        j::end_obj(b);
    }
    j::end_arr(b);
    // engagements
    j::key(b, "engagements");
    j::arr(b);
    for (s, &a) in ag[..n_ag].iter().enumerate() {
        let en = &engs[s];
        let agent = &ds.agents[a];
        j::obj(b);
        j::key(b, "id");
        b.push(b'"');
        b.extend_from_slice(id);
        b.extend_from_slice(b".eng.");
        j::digits(b, s as u64 + 1);
        b.push(b'"');
        tmp.clear();
        j::u(&mut tmp, agent.id);
        j::key(b, "agent_id");
        j::sb(b, &tmp);
        j::ks(b, "agent_name", &agent.display);
        j::ks(b, "agent_full_name", &agent.full);
        j::key(b, "department_id");
        let ed = if s >= 1 && transfer { dept1 } else { dept0 };
        write_dept_id(b, ed.map(|d| ds.departments[d].id), false);
        j::kb(b, "assigned", true);
        j::kb(b, "accepted", s == 0 || !transfer);
        j::ks(
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
        j::key(b, "rating");
        match rating {
            Some(0) if s + 1 == n_ag => j::s(b, "good"),
            Some(_) if s + 1 == n_ag => j::s(b, "bad"),
            _ => j::null(b),
        }
        j::key(b, "comment");
        match comment {
            Some(c) if s + 1 == n_ag => j::s(b, COMMENTS[c]),
            _ => j::null(b),
        }
        j::key(b, "skills_requested");
        j::arr(b);
        j::end_arr(b);
        j::kb(b, "skills_fulfilled", true);
        j::key(b, "timestamp");
        j::ts(b, en.join.div_euclid(1_000_000));
        j::key(b, "duration");
        j::f(b, ((en.leave - en.join) / 10_000) as f64 / 100.0);
        j::key(b, "response_time");
        j::obj(b);
        write_rt(b, en.gaps_n, en.gaps_sum, en.gaps_max, en.gap_first);
        j::end_obj(b);
        j::key(b, "count");
        j::obj(b);
        j::ku(b, "total", u64::from(en.agent_msgs + en.visitor_msgs));
        j::ku(b, "agent", u64::from(en.agent_msgs));
        j::ku(b, "visitor", u64::from(en.visitor_msgs));
        j::end_obj(b);
        j::end_obj(b);
    }
    j::end_arr(b);
    // history
    j::key(b, "history");
    j::arr(b);
    let mut first_join = true;
    for ev in &hist {
        j::obj(b);
        j::ks(
            b,
            "type",
            match ev.kind {
                K::Join => "chat.memberjoin",
                K::Leave => "chat.memberleave",
                K::Msg => "chat.msg",
                K::Tag => "chat.tag",
                K::Comment => "chat.comment",
                K::Rating => "chat.rating",
                K::Transfer => "chat.departmenttransfer",
            },
        );
        j::key(b, "name");
        if ev.actor == VISITOR {
            j::s(b, &v.name);
        } else if ev.actor == TRIGGER {
            j::s(b, ds.triggers[trig].1);
        } else {
            j::s(b, &ds.agents[ag[(ev.actor - 1) as usize]].display);
        }
        j::key(b, "timestamp");
        j::ts_us(b, ev.t);
        j::key(b, "channel");
        j::sb(b, channel);
        match ev.kind {
            K::Join => {
                if first_join {
                    first_join = false;
                    j::key(b, "department_id");
                    write_dept_id(b, dept0.map(|d| ds.departments[d].id), q.dept_id_str);
                    j::key(b, "department_name");
                    match dept0 {
                        Some(d) => j::s(b, &ds.departments[d].name),
                        None => j::null(b),
                    }
                }
            }
            K::Leave => {
                if ev.a > 0 {
                    j::ks(
                        b,
                        "reason",
                        LEAVE_REASONS[(ev.a - 1) as usize % LEAVE_REASONS.len()],
                    );
                }
            }
            K::Msg => {
                if ev.actor == VISITOR {
                    let ms = ev.t / 1000 - 200 - i64::from(r.next_u32() % 700);
                    j::key(b, "msg_id");
                    if q.msg_id_int {
                        j::i(b, ms);
                    } else {
                        tmp.clear();
                        j::i(&mut tmp, ms);
                        j::sb(b, &tmp);
                    }
                    j::ks(b, "msg", VISITOR_MSGS[ev.a as usize % VISITOR_MSGS.len()]);
                    j::ks(b, "options", "");
                } else if ev.actor == TRIGGER {
                    j::ks(b, "msg", ds.triggers[trig].2);
                    j::ks(b, "options", "");
                } else {
                    let text = AGENT_MSGS[ev.a as usize % AGENT_MSGS.len()];
                    j::ks(b, "msg", text);
                    j::ks(b, "options", if ev.a % 11 == 3 { "Yes/No" } else { "" });
                }
            }
            K::Tag => {
                j::key(b, "tags");
                j::arr(b);
                for t in &tags[..ev.a as usize] {
                    j::s(b, t);
                }
                j::end_arr(b);
                j::key(b, "new_tags");
                j::arr(b);
                for t in &tags[..ev.b as usize] {
                    j::s(b, t);
                }
                j::end_arr(b);
            }
            K::Comment => {
                j::knull(b, "comment");
                j::ks(b, "new_comment", COMMENTS[ev.a as usize % COMMENTS.len()]);
            }
            K::Rating => {
                j::knull(b, "rating");
                j::ks(b, "new_rating", if ev.a == 0 { "good" } else { "bad" });
            }
            K::Transfer => {
                j::key(b, "department_id");
                let d1 = ds.departments[ev.b as usize % n_dept.max(1)].id;
                let d0 = ds.departments[ev.a as usize % n_dept.max(1)].id;
                write_dept_id(b, Some(d1), q.dept_id_str);
                j::ks(
                    b,
                    "department_name",
                    &ds.departments[ev.b as usize % n_dept.max(1)].name,
                );
                j::key(b, "prev_department_id");
                write_dept_id(b, Some(d0), q.dept_id_str);
            }
        }
        j::ks(
            b,
            "sender_type",
            if ev.actor == VISITOR {
                "Visitor"
            } else if ev.actor == TRIGGER {
                "Trigger"
            } else if ev.kind == K::Transfer {
                "System"
            } else {
                "Agent"
            },
        );
        if ev.is_agent() && ev.kind != K::Join && ev.kind != K::Leave {
            tmp.clear();
            j::u(&mut tmp, ds.agents[ag[(ev.actor - 1) as usize]].id);
            j::key(b, "agent_id");
            j::sb(b, &tmp);
        }
        if ev.actor == TRIGGER {
            j::ku(b, "trigger_id", ds.triggers[trig].0.id);
        }
        j::end_obj(b);
    }
    j::end_arr(b);
    if q.brand_new_field {
        write_brand_new_field(b, u64::from(e.idx));
    }
    j::end_obj(b);
}

fn write_rt(b: &mut Vec<u8>, n: u32, sum: f64, max: f64, first: Option<f64>) {
    j::key(b, "first");
    match first {
        Some(f) => j::u(b, f.round() as u64),
        None => j::null(b),
    }
    j::key(b, "avg");
    if n > 0 {
        j::f(b, sum / f64::from(n));
    } else {
        j::null(b);
    }
    j::key(b, "max");
    if n > 0 {
        j::u(b, max.round() as u64);
    } else {
        j::null(b);
    }
}
