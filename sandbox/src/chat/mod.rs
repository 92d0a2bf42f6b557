//! On-demand rendering of one chat (or offline message) straight to JSON bytes.
//!
//! A chat is a pure function of (seed, index, revision, update_timestamp): the skeleton (id, times)
//! comes from `Dataset::skeleton`, the content from a second PRNG stream of the same index.

mod live;
mod plan;

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

impl EventKind {
    /// The history entry's `type`.
    fn history_type(self) -> &'static str {
        match self {
            EventKind::Join => "chat.memberjoin",
            EventKind::Leave => "chat.memberleave",
            EventKind::Msg => "chat.msg",
            EventKind::Tag => "chat.tag",
            EventKind::Comment => "chat.comment",
            EventKind::Rating => "chat.rating",
            EventKind::Transfer => "chat.departmenttransfer",
        }
    }
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
        live::render_live(ds, e, &sk.id, sk.start_us, sk.end_us, &q, &mut r, b);
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
