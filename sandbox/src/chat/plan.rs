//! Planning a live chat before any byte is written: who takes part (the cast), the history
//! events in order, their times, and the metrics derived from them. Every random draw happens
//! here in a fixed order, so a chat stays a pure function of its PRNG stream.

use super::{below, pick, EventKind, PlannedEvent, Quirks, TRIGGER, VISITOR};
use crate::data::Dataset;
use crate::pools::*;
use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;

/// Who and what a live chat involves (drawn first).
pub struct Cast {
    /// Department index at the start and, after a transfer, at the end.
    pub dept0: Option<usize>,
    pub dept1: Option<usize>,
    /// Number of agents taking part and their indices in `ds.agents`.
    pub n_agents: usize,
    pub agents: [usize; 3],
    /// `VISITOR`, `TRIGGER` or 1 (the first agent).
    pub started_by: u8,
    /// Index of the trigger used when `started_by == TRIGGER`.
    pub trigger: usize,
    /// Wanted number of history events.
    pub target_len: usize,
    pub n_tags: usize,
    pub tags: [&'static str; 2],
    pub transfer: bool,
    /// 0 good, 1 bad.
    pub rating: Option<usize>,
    /// Index in `COMMENTS`.
    pub comment: Option<usize>,
}

fn agent_count(r: &mut ChaCha8Rng, available: usize) -> usize {
    let roll: f64 = r.random();
    let n = if roll < 0.05 {
        0
    } else if roll < 0.8 {
        1
    } else if roll < 0.96 {
        2
    } else {
        3
    };
    n.min(available)
}

/// Draws `n` distinct indices below `len` into `out`.
fn distinct<T: Copy + PartialEq>(out: &mut [T], n: usize, mut draw: impl FnMut() -> T) {
    for k in 0..n {
        loop {
            let c = draw();
            if !out[..k].contains(&c) {
                out[k] = c;
                break;
            }
        }
    }
}

/// Draws the cast of a live chat.
pub fn choose_cast(ds: &Dataset, r: &mut ChaCha8Rng) -> Cast {
    let n_dept = ds.departments.len();
    let dept0 = if n_dept > 0 && r.random_bool(0.7) {
        Some(below(r, n_dept))
    } else {
        None
    };
    let n_agents = agent_count(r, ds.agents.len());
    let mut agents = [0usize; 3];
    distinct(&mut agents, n_agents, || below(r, ds.agents.len()));
    let n_trig = ds.triggers.len();
    let start_roll: f64 = r.random();
    let started_by = if start_roll < 0.1 && n_trig > 0 {
        TRIGGER
    } else if start_roll < 0.2 && n_agents > 0 {
        1
    } else {
        VISITOR
    };
    let trigger = if n_trig > 0 { below(r, n_trig) } else { 0 };
    let x: f64 = r.random();
    let target_len = 4 + (x * x * x * 26.0) as usize;
    let n_tags = if n_agents > 0 {
        [0, 0, 1, 1, 2][below(r, 5)]
    } else {
        0
    };
    let mut tags: [&'static str; 2] = [""; 2];
    distinct(&mut tags, n_tags, || pick(r, &TAGS));
    let transfer = n_agents >= 2 && dept0.is_some() && n_dept >= 2 && r.random_bool(0.5);
    let dept1 = match dept0 {
        Some(d0) if transfer => Some((d0 + 1 + below(r, n_dept - 1)) % n_dept),
        _ => None,
    };
    let rating = (n_agents > 0 && r.random_bool(0.3)).then(|| below(r, 2));
    let comment = (n_agents > 0 && r.random_bool(0.15)).then(|| below(r, COMMENTS.len()));
    Cast {
        dept0,
        dept1,
        n_agents,
        agents,
        started_by,
        trigger,
        target_len,
        n_tags,
        tags,
        transfer,
        rating,
        comment,
    }
}

/// A department transfer: the event, then agent 2 joins and agent 1 leaves. Returns the agent
/// now serving the chat.
fn push_transfer(body: &mut Vec<PlannedEvent>, cur: u8, c: &Cast) -> u8 {
    body.push(PlannedEvent::with(
        EventKind::Transfer,
        cur,
        c.dept0.unwrap_or(0) as u16,
        c.dept1.unwrap_or(0) as u16,
    ));
    body.push(PlannedEvent::new(EventKind::Join, 2));
    body.push(PlannedEvent::new(EventKind::Leave, 1));
    2
}

fn msg_text(r: &mut ChaCha8Rng) -> u16 {
    below(r, 24) as u16
}

/// The history in order, without times: the events before the first message, the first
/// message, and the body after it.
pub struct Plan {
    pub pre: Vec<PlannedEvent>,
    pub first_msg: PlannedEvent,
    pub body: Vec<PlannedEvent>,
}

/// Plans the history of a live chat.
pub fn plan_history(c: &Cast, r: &mut ChaCha8Rng) -> Plan {
    let mut pre: Vec<PlannedEvent> = Vec::with_capacity(3);
    let mut body: Vec<PlannedEvent> = Vec::with_capacity(32);
    pre.push(PlannedEvent::new(EventKind::Join, VISITOR));
    if c.started_by == 1 {
        pre.push(PlannedEvent::new(EventKind::Join, 1));
    }
    let first_msg = PlannedEvent::with(EventKind::Msg, c.started_by, below(r, 24) as u16, 0);
    if c.started_by == TRIGGER {
        body.push(PlannedEvent::with(EventKind::Msg, VISITOR, msg_text(r), 0));
    }
    if c.n_agents == 0 {
        for _ in 0..1 + below(r, 3) {
            body.push(PlannedEvent::with(EventKind::Msg, VISITOR, msg_text(r), 0));
        }
    } else {
        plan_served(c, pre.len(), &mut body, r);
    }
    Plan {
        pre,
        first_msg,
        body,
    }
}

/// The body of a chat that agents serve: turns of agent answers and visitor messages, helpers
/// joining, the transfer, tags, rating, comment and the agents leaving.
fn plan_served(c: &Cast, pre_len: usize, body: &mut Vec<PlannedEvent>, r: &mut ChaCha8Rng) {
    if c.started_by != 1 {
        body.push(PlannedEvent::new(EventKind::Join, 1));
    }
    let mut cur: u8 = 1;
    let mut tags_done = 0usize;
    let mut transferred = false;
    // Agents joining to help (not via a department transfer).
    let mut next_helper: u8 = if c.transfer { 3 } else { 2 };
    let reserve =
        2 + c.n_agents + usize::from(c.rating.is_some()) + usize::from(c.comment.is_some());
    let mut round = 0usize;
    loop {
        for _ in 0..1 + below(r, 2) {
            body.push(PlannedEvent::with(EventKind::Msg, cur, msg_text(r), 0));
        }
        round += 1;
        if tags_done < c.n_tags && r.random_bool(0.5) {
            body.push(tag_event(cur, tags_done));
            tags_done += 1;
        }
        if c.transfer && !transferred && round >= 2 {
            cur = push_transfer(body, cur, c);
            transferred = true;
        } else if next_helper as usize <= c.n_agents && round >= usize::from(next_helper) {
            push_helper(body, next_helper, r);
            next_helper += 1;
        }
        if pre_len + body.len() + reserve + 1 >= c.target_len || round > 14 {
            break;
        }
        for _ in 0..1 + below(r, 2) {
            body.push(PlannedEvent::with(EventKind::Msg, VISITOR, msg_text(r), 0));
        }
    }
    while next_helper as usize <= c.n_agents {
        push_helper(body, next_helper, r);
        next_helper += 1;
    }
    if c.transfer && !transferred {
        cur = push_transfer(body, cur, c);
    }
    while tags_done < c.n_tags {
        body.push(tag_event(cur, tags_done));
        tags_done += 1;
    }
    plan_closing(c, body, r);
}

fn tag_event(actor: u8, done: usize) -> PlannedEvent {
    PlannedEvent::with(EventKind::Tag, actor, done as u16, done as u16 + 1)
}

fn push_helper(body: &mut Vec<PlannedEvent>, slot: u8, r: &mut ChaCha8Rng) {
    body.push(PlannedEvent::new(EventKind::Join, slot));
    body.push(PlannedEvent::with(EventKind::Msg, slot, msg_text(r), 0));
}

/// Rating, comment, and every agent still in the chat leaving (some with a reason).
fn plan_closing(c: &Cast, body: &mut Vec<PlannedEvent>, r: &mut ChaCha8Rng) {
    if let Some(rt) = c.rating {
        body.push(PlannedEvent::with(EventKind::Rating, VISITOR, rt as u16, 0));
    }
    if let Some(cm) = c.comment {
        body.push(PlannedEvent::with(
            EventKind::Comment,
            VISITOR,
            cm as u16,
            0,
        ));
    }
    for slot in 1..=c.n_agents as u8 {
        if c.transfer && slot == 1 {
            continue;
        }
        let reason = if r.random_bool(0.3) {
            1 + below(r, 3) as u16
        } else {
            0
        };
        body.push(PlannedEvent::with(EventKind::Leave, slot, reason, 0));
    }
}

/// Gives every planned event its time (µs): the events before the first message shortly
/// before `start_us`, the body spread over the chat by random weights, the visitor leaving at
/// `end_us`.
pub fn assign_times(
    plan: &Plan,
    start_us: i64,
    end_us: i64,
    r: &mut ChaCha8Rng,
) -> Vec<PlannedEvent> {
    let mut hist: Vec<PlannedEvent> = Vec::with_capacity(plan.pre.len() + plan.body.len() + 2);
    let mut back = start_us - 1_000_000 * (1 + below(r, 15) as i64) - below(r, 1_000_000) as i64;
    for (k, ev) in plan.pre.iter().enumerate() {
        if k > 0 {
            back += below(r, 900_000) as i64 + 100;
            back = back.min(start_us - 1);
        }
        hist.push(PlannedEvent { t: back, ..*ev });
    }
    hist.push(PlannedEvent {
        t: start_us,
        ..plan.first_msg
    });
    let span = (end_us - start_us).max(2);
    let mut weights = [0u32; 64];
    let nb = plan.body.len().min(63);
    let mut total: u64 = 0;
    for w in weights.iter_mut().take(nb + 1) {
        *w = 200 + (r.next_u32() % 1000);
        total += u64::from(*w);
    }
    let mut cum: u64 = 0;
    let mut prev = start_us;
    for (k, ev) in plan.body.iter().enumerate() {
        cum += u64::from(weights[k.min(63)]);
        let t = start_us + ((span as u128 * cum as u128) / total.max(1) as u128) as i64;
        let t = t.max(prev + 1).min(end_us - 1);
        prev = t;
        hist.push(PlannedEvent { t, ..*ev });
    }
    let reason = if r.random_bool(0.2) {
        1 + below(r, 3) as u16
    } else {
        0
    };
    let mut last = PlannedEvent::with(EventKind::Leave, VISITOR, reason, 0);
    last.t = end_us;
    hist.push(last);
    hist
}

/// Response-time gaps (seconds) between a visitor message and the next agent answer.
#[derive(Default, Clone, Copy)]
pub struct Gaps {
    pub n: u32,
    pub sum: f64,
    pub max: f64,
    pub first: Option<f64>,
}

impl Gaps {
    fn add(&mut self, g: f64) {
        self.n += 1;
        self.sum += g;
        self.max = self.max.max(g);
        self.first.get_or_insert(g);
    }
}

/// Per-agent engagement accumulator.
#[derive(Default, Clone, Copy)]
pub struct Engagement {
    pub join: i64,
    pub leave: i64,
    pub agent_msgs: u32,
    pub visitor_msgs: u32,
    pub gaps: Gaps,
}

/// What the history adds up to: message counts, response times, per-agent engagements.
pub struct Metrics {
    pub visitor_msgs: u32,
    pub agent_msgs: u32,
    pub last_msg_us: i64,
    pub gaps: Gaps,
    pub engagements: [Engagement; 3],
}

/// Adds up the timed history (no random draws).
pub fn derive_metrics(hist: &[PlannedEvent], start_us: i64, end_us: i64) -> Metrics {
    let mut m = Metrics {
        visitor_msgs: 0,
        agent_msgs: 0,
        last_msg_us: start_us,
        gaps: Gaps::default(),
        engagements: [Engagement::default(); 3],
    };
    let mut pending: Option<i64> = None;
    let mut active = [false; 3];
    for ev in hist {
        let slot = usize::from(ev.actor.saturating_sub(1));
        match ev.kind {
            EventKind::Join if ev.is_agent() => {
                m.engagements[slot].join = ev.t;
                m.engagements[slot].leave = end_us;
                active[slot] = true;
            }
            EventKind::Leave if ev.is_agent() => {
                m.engagements[slot].leave = ev.t;
                active[slot] = false;
            }
            EventKind::Msg => count_message(&mut m, ev, &mut pending, &active),
            _ => {}
        }
    }
    m
}

fn count_message(
    m: &mut Metrics,
    ev: &PlannedEvent,
    pending: &mut Option<i64>,
    active: &[bool; 3],
) {
    m.last_msg_us = ev.t;
    if ev.actor == VISITOR {
        m.visitor_msgs += 1;
        pending.get_or_insert(ev.t);
        for (s, en) in m.engagements.iter_mut().enumerate() {
            if active[s] {
                en.visitor_msgs += 1;
            }
        }
        return;
    }
    m.agent_msgs += 1;
    if ev.is_agent() {
        let en = &mut m.engagements[usize::from(ev.actor - 1)];
        en.agent_msgs += 1;
        if let Some(p) = pending.take() {
            let g = (ev.t - p) as f64 / 1e6;
            m.gaps.add(g);
            en.gaps.add(g);
        }
    }
}

/// The pages the visitor saw before the chat, and when the session started.
pub struct Webpath {
    pub n: usize,
    pub times: [i64; 5],
    pub session_start: i64,
    pub referrer: &'static str,
}

/// Plans the webpath of a chat that starts at `ts` (epoch s).
pub fn plan_webpath(ts: i64, q: &Quirks, r: &mut ChaCha8Rng) -> Webpath {
    let n = if q.webpath_array {
        1 + below(r, 4)
    } else {
        below(r, 5)
    };
    let mut times = [0i64; 5];
    let mut t = ts - 5 - below(r, 60) as i64;
    for k in (0..n).rev() {
        times[k] = t;
        t -= 10 + below(r, 300) as i64;
    }
    let session_start = if n > 0 {
        times[0]
    } else {
        ts - 30 - below(r, 60) as i64
    };
    Webpath {
        n,
        times,
        session_start,
        referrer: pick(r, &REFERRERS),
    }
}
