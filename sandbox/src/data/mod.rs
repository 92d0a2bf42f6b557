//! Deterministic synthetic account data: small resources (agents, bans, departments, ...) built up
//! front as JSON values, plus the compact chat index (chats are rendered on demand, see `chat`).

use crate::config::{Layout, SandboxConfig, Shapes};
use crate::jsonw;

mod small;
use crate::pools::*;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

/// 2024-01-01T00:00:00Z.
pub const RANGE_START: i64 = 1_704_067_200;
/// 2024-12-31T00:00:00Z.
pub const RANGE_END: i64 = 1_735_603_200;
/// The second shared by all `tie_chats`: 2024-06-15T12:00:00Z.
pub const TIE_TS: i64 = 1_718_452_800;
/// 2099-01-01T00:00:00Z: the first `future_chats` update second.
pub const FUTURE_TS: i64 = 4_070_908_800;
/// Weekly "bulk update" instants (Mondays 03:00:00Z) that make a few chats share a second.
const BULK0: i64 = 1_704_078_000;
const WEEK: i64 = 604_800;

/// Length of a chat id: `YYMM.AAAAAAA.` + 13 base62 characters.
pub const ID_LEN: usize = 26;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Random base62 character.
#[inline]
pub fn b62(r: &mut ChaCha8Rng) -> u8 {
    BASE62[(r.next_u32() % 62) as usize]
}

/// Random base62 string of length `n`.
pub fn b62_string(r: &mut ChaCha8Rng, n: usize) -> String {
    (0..n).map(|_| b62(r) as char).collect()
}

/// Appends a copy of the last record with id 2^63 − 1 (the `max_int_ids` shape).
fn append_max_id(list: &mut Vec<(u64, Value)>) {
    if let Some((_, last)) = list.last() {
        let mut v = last.clone();
        v["id"] = json!(i64::MAX);
        if let Some(name) = v.get("visitor_name").and_then(Value::as_str) {
            v["visitor_name"] = json!(format!("{name} (max id)"));
        }
        list.push((i64::MAX as u64, v));
    }
}

/// A named agent as referenced inside chats.
#[derive(Clone, Debug)]
pub struct AgentRef {
    pub id: u64,
    pub display: String,
    pub full: String,
}

/// A (id, name) pair: departments, goals, triggers, skills.
#[derive(Clone, Debug)]
pub struct Named {
    pub id: u64,
    pub name: String,
}

/// Skeleton of a chat: what the index needs (cheap to compute).
#[derive(Clone, Copy, Debug)]
pub struct Skel {
    pub offline: bool,
    /// First chat message (or offline message time), epoch µs.
    pub start_us: i64,
    /// Last event (visitor leaves), epoch µs; equal to `start_us` for offline messages.
    pub end_us: i64,
    /// Original `update_timestamp` (revision 0), epoch s.
    pub update_s: i64,
    pub id: [u8; ID_LEN],
}

/// One chat in the incremental index.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub ts: i64,
    pub id: [u8; ID_LEN],
    pub idx: u32,
    pub rev: u32,
    /// Epoch second from which the export serves this version (`i64::MIN`: always).
    pub visible_at: i64,
}

impl Entry {
    /// Sort key: (update second, id bytes).
    #[inline]
    pub fn key(&self) -> (i64, &[u8]) {
        (self.ts, &self.id[..])
    }

    /// The id as text (always ASCII).
    pub fn id_str(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or("")
    }
}

/// Everything derived from the configuration that does not change while serving.
pub struct Dataset {
    pub seed_bytes: [u8; 32],
    pub quirks: bool,
    pub chats: usize,
    pub tie_chats: usize,
    pub future_chats: usize,
    pub layout: Layout,
    pub range_start: i64,
    pub range_end: i64,
    /// Latest allowed `update_timestamp` of a regular chat (only set with an explicit range end).
    pub update_cap: i64,
    pub shapes: Shapes,
    /// Indices of the chats served without `id` (from `SandboxConfig::chats_without_id`).
    pub chats_without_id: Vec<u32>,
    pub account_str: String,
    pub agents: Vec<AgentRef>,
    pub departments: Vec<Named>,
    pub goals: Vec<Named>,
    pub triggers: Vec<(Named, &'static str, &'static str)>,
    pub agents_json: Vec<(u64, Value)>,
    pub bans_json: Vec<(u64, Value)>,
    /// `bans_json` with the `numeric_timestamps` fault applied.
    pub bans_numeric_json: Vec<(u64, Value)>,
    pub timeline_json: Vec<(i64, Value)>,
    pub departments_json: Vec<Value>,
    pub goals_json: Vec<Value>,
    pub roles_json: Vec<Value>,
    pub shortcuts_json: Vec<Value>,
    pub skills_json: Vec<Value>,
    pub triggers_json: Vec<Value>,
    pub account_json: Value,
    pub routing_json: Value,
}

const STREAM_STATIC: u64 = 1 << 62;

impl Dataset {
    /// A PRNG for one purpose (`stream`), derived from the seed.
    #[inline]
    pub fn rng(&self, stream: u64) -> ChaCha8Rng {
        let mut r = ChaCha8Rng::from_seed(self.seed_bytes);
        r.set_stream(stream);
        r
    }

    /// Builds the data set for a configuration.
    pub fn new(cfg: &SandboxConfig) -> Dataset {
        let mut seeder = ChaCha8Rng::seed_from_u64(cfg.seed);
        let mut seed_bytes = [0u8; 32];
        seeder.fill_bytes(&mut seed_bytes);
        let account_id = seeder.random_range(1_000_000u32..10_000_000);
        let mut ds = Dataset {
            seed_bytes,
            quirks: cfg.quirks,
            chats: cfg.chats,
            tie_chats: cfg.tie_chats,
            future_chats: cfg.future_chats,
            layout: cfg.layout,
            range_start: cfg.range_start_epoch_secs.unwrap_or(RANGE_START),
            range_end: cfg.range_end_epoch_secs.unwrap_or(RANGE_END),
            update_cap: cfg.range_end_epoch_secs.map_or(i64::MAX, |e| e - 1),
            shapes: cfg.shapes.clone(),
            chats_without_id: Vec::new(),
            account_str: account_id.to_string(),
            agents: Vec::new(),
            departments: Vec::new(),
            goals: Vec::new(),
            triggers: Vec::new(),
            agents_json: Vec::new(),
            bans_json: Vec::new(),
            bans_numeric_json: Vec::new(),
            timeline_json: Vec::new(),
            departments_json: Vec::new(),
            goals_json: Vec::new(),
            roles_json: Vec::new(),
            shortcuts_json: Vec::new(),
            skills_json: Vec::new(),
            triggers_json: Vec::new(),
            account_json: Value::Null,
            routing_json: Value::Null,
        };
        ds.build_small(cfg);
        ds.apply_small_shapes();
        ds
    }

    /// Removes the keys that the real-world shapes leave out of the small resources.
    fn apply_small_shapes(&mut self) {
        let sh = self.shapes.clone();
        let drop_key = |v: &mut Value, key: &str| {
            if let Some(m) = v.as_object_mut() {
                m.remove(key);
            }
        };
        if sh.missing_primary_keys {
            for (k, shortcut) in self.shortcuts_json.iter_mut().enumerate() {
                match k {
                    1 | 4 => drop_key(shortcut, "id"),
                    3 => drop_key(shortcut, "scope"),
                    _ => {}
                }
            }
            if let Some(trigger) = self.triggers_json.get_mut(2) {
                drop_key(trigger, "id");
            }
        }
        if sh.routing_without_auto_accept {
            drop_key(&mut self.routing_json, "auto_accept");
        }
        if sh.billing_without_cycle_and_phone {
            drop_key(&mut self.account_json["billing"], "cycle");
            drop_key(&mut self.account_json["billing"], "phone");
        }
        for (k, (_, ban)) in self.bans_json.iter_mut().enumerate() {
            if sh.bans_without_created_at && k % 7 == 5 {
                drop_key(ban, "created_at");
            }
            if sh.odd_visitor_ids && k % 9 == 2 && ban["type"] == "visitor" {
                ban["visitor_id"] = json!(format!("{}.{}", k % 7 + 1, 40_000 + k * 37));
            }
        }
        if sh.max_int_ids {
            append_max_id(&mut self.agents_json);
            append_max_id(&mut self.bans_json);
        }
        self.bans_numeric_json = self.bans_json.clone();
        for (k, (_, ban)) in self.bans_numeric_json.iter_mut().enumerate() {
            let secs = ban["created_at"].as_str().and_then(jsonw::parse_iso);
            if let (true, Some(secs)) = (k % 5 == 1, secs) {
                ban["created_at"] = json!(secs);
            }
        }
    }

    fn enabled(&self, v: bool, quirk: bool) -> Value {
        if self.quirks && quirk {
            json!(i32::from(v))
        } else {
            json!(v)
        }
    }

    fn build_bans(&mut self, cfg: &SandboxConfig) {
        let mut r = self.rng(STREAM_STATIC + 1);
        let mut id = 70_519_000u64;
        for k in 0..cfg.bans {
            id += r.random_range(1..500_000);
            let created = if self.quirks && k % 7 == 3 {
                Value::Null
            } else {
                json!(jsonw::iso(
                    RANGE_START - 400 * 86_400 + r.random_range(0..700 * 86_400)
                ))
            };
            let reason = BAN_REASONS[r.random_range(0..BAN_REASONS.len())];
            let v = if r.random_bool(0.5) {
                json!({
                    "id": id, "type": "ip_address",
                    "ip_address": format!("{}.{}", ["192.0.2", "198.51.100", "203.0.113"][k % 3], r.random_range(1..255)),
                    "reason": reason, "created_at": created
                })
            } else {
                json!({
                    "id": id, "type": "visitor",
                    "visitor_id": format!("{}.{}", self.account_str, b62_string(&mut r, 14)),
                    "visitor_name": format!("Visitor {}", r.random_range(10_000_000..99_999_999)),
                    "reason": reason, "created_at": created
                })
            };
            self.bans_json.push((id, v));
        }
    }

    fn build_timeline(&mut self, cfg: &SandboxConfig) {
        let mut r = self.rng(STREAM_STATIC + 2);
        let n = cfg.agent_timeline;
        if self.agents.is_empty() {
            return;
        }
        let span_us = (RANGE_END - RANGE_START) * 1_000_000;
        let avg_gap = (span_us / (n.max(1) as i64)).max(2);
        let mut t = RANGE_START * 1_000_000 + r.random_range(0..avg_gap);
        let statuses = ["online", "invisible", "away", "offline"];
        for _ in 0..n {
            t += r.random_range(1..2 * avg_gap);
            let a = &self.agents[r.random_range(0..self.agents.len())];
            let status = statuses[r.random_range(0..statuses.len())];
            let dur_us: i64 = r.random_range(1_000_000..4 * 3600 * 1_000_000);
            let mut dur = Vec::new();
            jsonw::secs_us(&mut dur, dur_us);
            let dur: Value = serde_json::from_slice(&dur).unwrap_or(Value::Null);
            self.timeline_json.push((
                t,
                json!({
                    "agent_id": a.id,
                    "start_time": jsonw::iso_us(t),
                    "status": status,
                    "duration": dur,
                    "engagement_count": if status == "online" { r.random_range(0..12) } else { 0 },
                }),
            ));
        }
    }

    /// Total number of chats (regular + tie + future).
    pub fn total_chats(&self) -> usize {
        self.chats + self.tie_chats + self.future_chats
    }

    /// The start second of a regular chat: one uniform draw, placed by the layout.
    fn regular_start_s(&self, r: &mut ChaCha8Rng) -> i64 {
        let lo = self.range_start;
        let hi = (self.range_end - 2 * 86_400).max(lo + 1);
        let drawn = r.random_range(lo..hi);
        self.layout.place(lo, hi, drawn)
    }

    /// The skeleton of chat `idx` (stable across revisions).
    pub fn skeleton(&self, idx: u32) -> Skel {
        let mut r = self.rng(u64::from(idx) * 4);
        let tie = (self.chats..self.chats + self.tie_chats).contains(&(idx as usize));
        let future = idx as usize >= self.chats + self.tie_chats;
        let offline = r.random_bool(0.2);
        let start_s = if tie {
            TIE_TS - r.random_range(2 * 3600..3 * 86_400)
        } else {
            self.regular_start_s(&mut r)
        };
        let start_us = start_s * 1_000_000 + r.random_range(0..1_000_000);
        let (end_us, update_s) = if offline {
            (start_us, start_s + r.random_range(0..2 * 86_400))
        } else {
            let x: f64 = r.random();
            let span_us = ((60.0 + x * x * 3000.0) * 1e6) as i64 + r.random_range(0..1_000_000);
            let end_us = start_us + span_us;
            let end_s = end_us.div_euclid(1_000_000);
            let upd = if r.random_bool(0.05) {
                BULK0 + ((end_s + 1 - BULK0).div_euclid(WEEK) + 1) * WEEK
            } else {
                end_s + r.random_range(1..600)
            };
            (end_us, upd)
        };
        let update_s = if tie {
            TIE_TS
        } else if future {
            FUTURE_TS + (idx as usize - self.chats - self.tie_chats) as i64
        } else {
            update_s.min(self.update_cap)
        };
        let mut id = [0u8; ID_LEN];
        let (y, m, ..) = jsonw::utc_parts(start_s);
        let yy = (y % 100) as u8;
        id[0] = b'0' + yy / 10;
        id[1] = b'0' + yy % 10;
        id[2] = b'0' + (m / 10) as u8;
        id[3] = b'0' + (m % 10) as u8;
        id[4] = b'.';
        id[5..12].copy_from_slice(self.account_str.as_bytes());
        id[12] = b'.';
        for c in id[13..].iter_mut() {
            *c = b62(&mut r);
        }
        Skel {
            offline,
            start_us,
            end_us,
            update_s,
            id,
        }
    }

    /// Builds the sorted incremental index of all chats at revision 0.
    pub fn build_index(&self) -> Vec<Entry> {
        let mut v: Vec<Entry> = (0..self.total_chats() as u32)
            .map(|idx| {
                let s = self.skeleton(idx);
                Entry {
                    ts: s.update_s,
                    id: s.id,
                    idx,
                    rev: 0,
                    visible_at: i64::MIN,
                }
            })
            .collect();
        v.sort_unstable_by(|a, b| a.key().cmp(&b.key()));
        v
    }
}
