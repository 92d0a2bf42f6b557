//! Deterministic synthetic account data: small resources (agents, bans, departments, ...) built up
//! front as JSON values, plus the compact chat index (chats are rendered on demand, see `chat`).

use crate::config::{Layout, SandboxConfig, Shapes};
use crate::jsonw;
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

    fn build_small(&mut self, cfg: &SandboxConfig) {
        let mut r = self.rng(STREAM_STATIC);
        // Roles.
        let role_defs = [
            ("Owner", "Full access to the account", true),
            ("Administrator", "Manages settings and agents", true),
            ("Agent", "Serves chats", true),
            (
                "Agent (limited)",
                "Can serve social messaging conversations only",
                false,
            ),
        ];
        let mut role_ids = Vec::new();
        let mut rid = 7_282_769_200_000u64;
        for (k, (name, desc, view_all)) in role_defs.iter().enumerate() {
            rid += r.random_range(1_000..900_000);
            role_ids.push(rid);
            let scope = if *view_all { "account" } else { "own" };
            self.roles_json.push(json!({
                "id": rid, "name": name, "description": desc, "enabled": true,
                "members_count": 0,
                "permissions": {
                    "visitors_seen": scope, "proactive_chatting": if k < 3 { "listen-join" } else { "listen" },
                    "edit_visitor_information": true, "edit_visitor_notes": k < 3,
                    "view_past_chats": scope, "edit_chat_tags": k < 2, "manage_bans": if k < 2 { "account" } else { "none" },
                    "access_analytics": if k < 2 { "account" } else { "none" }, "view_monitor": scope,
                    "edit_department_agents": if k < 2 { "account" } else { "none" },
                    "set_agent_chat_limit": if k < 2 { "account" } else { "none" },
                    "manage_shortcuts": if k < 3 { "account" } else { "none" }
                }
            }));
        }
        // Skills.
        let skill_defs = [
            ("english", "English language"),
            ("german", "German language"),
            ("billing", "Invoices and refunds"),
            ("hardware", "Device troubleshooting"),
        ];
        let mut skill_ids = Vec::new();
        let mut sid = 1_300_000u64;
        for (name, _) in skill_defs.iter() {
            sid += r.random_range(10..900);
            skill_ids.push((sid, name.to_string()));
        }
        // Departments.
        let dept_defs = [
            ("Sales", "Pre-sales questions (sandbox)"),
            ("Billing", "Invoices, refunds and payments (sandbox)"),
            ("Technical Support", "Product troubleshooting (sandbox)"),
            ("Returns", "Returns and exchanges (sandbox)"),
            ("Partnerships", "Resellers and affiliates (sandbox)"),
        ];
        let mut did = 7_282_630_240_000u64;
        for (name, _) in dept_defs.iter() {
            did += r.random_range(1_000..5_000_000);
            self.departments.push(Named {
                id: did,
                name: name.to_string(),
            });
        }
        // Agents.
        let mut aid = 361_089_721_035u64;
        let n_agents = cfg.agents;
        let mut agent_depts: Vec<Vec<u64>> = Vec::new();
        let mut agent_skills: Vec<Vec<u64>> = Vec::new();
        for k in 0..n_agents {
            if k > 0 {
                aid += r.random_range(1..4_000_000);
            }
            let first = FIRST_NAMES[k % FIRST_NAMES.len()];
            let last = LAST_NAMES[(k / FIRST_NAMES.len() + k * 7) % LAST_NAMES.len()];
            let display = format!("{first} {}. (sandbox {})", &last[..1], k + 1);
            let full = format!("{first} {last}");
            let depts: Vec<u64> = self
                .departments
                .iter()
                .filter(|_| r.random_bool(0.4))
                .map(|d| d.id)
                .collect();
            let enabled_depts: Vec<u64> = depts
                .iter()
                .copied()
                .filter(|_| r.random_bool(0.7))
                .collect();
            let skills: Vec<u64> = skill_ids
                .iter()
                .filter(|_| r.random_bool(0.35))
                .map(|s| s.0)
                .collect();
            let create = RANGE_START - 3 * 365 * 86_400 + r.random_range(0..2 * 365 * 86_400);
            let last_login = if r.random_bool(0.15) {
                Value::Null
            } else {
                json!(jsonw::iso(RANGE_START + r.random_range(0..360 * 86_400)))
            };
            let role_idx = match k {
                0 => 0,
                1 | 2 => 1,
                _ if k % 5 == 4 => 3,
                _ => 2,
            };
            let is_enabled = k % 11 != 10;
            self.agents_json.push((
                aid,
                json!({
                    "id": aid,
                    "email": format!("agent.{}@sandbox-chat.example", k + 1),
                    "display_name": display,
                    "first_name": first,
                    "last_name": if k % 9 == 8 { "" } else { last },
                    "enabled": self.enabled(is_enabled, k % 6 == 4),
                    "role_id": role_ids[role_idx],
                    "roles": {"administrator": role_idx <= 1, "owner": role_idx == 0},
                    "departments": depts,
                    "enabled_departments": enabled_depts,
                    "skills": skills,
                    "create_date": jsonw::iso(create),
                    "last_login": last_login,
                    "login_count": r.random_range(1..900),
                }),
            ));
            agent_depts.push(depts);
            agent_skills.push(skills);
            self.agents.push(AgentRef {
                id: aid,
                display,
                full,
            });
        }
        // Fix up login_count for agents that never logged in.
        for (_, a) in self.agents_json.iter_mut() {
            if a["last_login"].is_null() {
                a["login_count"] = json!(0);
            }
        }
        // Role member counts.
        for (idx, role) in self.roles_json.iter_mut().enumerate() {
            let n = (0..n_agents)
                .filter(|k| {
                    let ri = match k {
                        0 => 0,
                        1 | 2 => 1,
                        _ if k % 5 == 4 => 3,
                        _ => 2,
                    };
                    ri == idx
                })
                .count();
            role["members_count"] = json!(n);
        }
        for (k, d) in self.departments.iter().enumerate() {
            let members: Vec<u64> = self
                .agents
                .iter()
                .zip(agent_depts.iter())
                .filter(|(_, ds)| ds.contains(&d.id))
                .map(|(a, _)| a.id)
                .collect();
            self.departments_json.push(json!({
                "id": d.id, "name": d.name, "description": dept_defs[k].1,
                "enabled": self.enabled(k != 4, k == 2),
                "members": members,
                "settings": {"chat_enabled": k != 4, "solved_ticket_reassignment_strategy": "", "support_group_id": d.id + 17}
            }));
        }
        for (k, (sid, name)) in skill_ids.iter().enumerate() {
            let members: Vec<u64> = self
                .agents
                .iter()
                .zip(agent_skills.iter())
                .filter(|(_, ss)| ss.contains(sid))
                .map(|(a, _)| a.id)
                .collect();
            self.skills_json.push(json!({
                "id": sid, "name": name, "description": skill_defs[k].1,
                "enabled": self.enabled(true, k == 1), "members": members
            }));
        }
        // Goals.
        let goal_defs = [
            (
                "Checkout completed",
                "Visitor reached the order confirmation page",
                "first_touch",
                15,
                "https://www.sandbox-shop.example/checkout/done",
            ),
            (
                "Newsletter signup",
                "Visitor subscribed to the newsletter",
                "last_touch",
                7,
                "https://www.sandbox-shop.example/newsletter/thanks",
            ),
            (
                "Demo booked",
                "Visitor booked a product demo",
                "first_touch",
                30,
                "https://www.sandbox-shop.example/demo/booked",
            ),
        ];
        let mut gid = 513_400u64;
        for (k, (name, desc, model, period, url)) in goal_defs.iter().enumerate() {
            gid += r.random_range(1..300);
            self.goals.push(Named {
                id: gid,
                name: name.to_string(),
            });
            self.goals_json.push(json!({
                "id": gid, "name": name, "description": desc,
                "enabled": self.enabled(k != 2, k == 1),
                "attribution_model": model, "attribution_period": period,
                "settings": {"conditions": [{"operator": "equals", "type": "url", "value": url}]}
            }));
        }
        // Shortcuts (string ids equal to the name).
        let shortcut_defs: [(&str, &str, &str, &str, &[&str]); 6] = [
            (
                "goodbye",
                "Thanks for chatting with us. Have we resolved your question(s)?",
                "Yes/No",
                "all",
                &["goodbye_survey"],
            ),
            (
                "hello",
                "Hi there! How can I help you today?",
                "",
                "all",
                &[],
            ),
            (
                "refund",
                "I have started your refund, it takes 5-7 business days.",
                "",
                "department",
                &["refund", "billing"],
            ),
            (
                "order_number",
                "Could you share your order number (SBX-xxxxxx)?",
                "",
                "all",
                &[],
            ),
            (
                "escalate",
                "I am escalating this to our specialists.",
                "",
                "agent",
                &["escalated"],
            ),
            (
                "rate_us",
                "Would you rate this chat?",
                "Good/Bad/Skip",
                "all",
                &["survey"],
            ),
        ];
        for (name, msg, opts, scope, tags) in shortcut_defs.iter() {
            let agents: Vec<u64> = if *scope == "agent" {
                self.agents.first().map(|a| vec![a.id]).unwrap_or_default()
            } else {
                vec![]
            };
            let depts: Vec<u64> = if *scope == "department" {
                vec![self.departments[1].id]
            } else {
                vec![]
            };
            self.shortcuts_json.push(json!({
                "id": name, "name": name, "message": msg, "options": opts, "scope": scope,
                "tags": tags, "agents": agents, "departments": depts
            }));
        }
        // Triggers.
        let trig_defs: [(&str, &str, &str, &str, Value, Value); 5] = [
            (
                "First Reply", "Customer Service",
                "Thanks for your message, please wait a moment while our agents attend to you.",
                "chat_requested",
                json!(["and", ["eq", "@visitor_requesting_chat", true], ["eq", "@visitor_served", false], ["not", ["firedBefore"]]]),
                json!([["wait", 5], ["sendMessageToVisitor", "Customer Service", "Thanks for your message, please wait a moment while our agents attend to you."]]),
            ),
            (
                "Pricing page greeting", "Sandbox Bot",
                "Looking at our prices? Ask us anything!",
                "page_enter",
                json!(["and", ["icontains", "@visitor_page_url", "pricing"], ["gte", "@visitor_time_on_page", 30]]),
                json!([["sendMessageToVisitor", "Sandbox Bot", "Looking at our prices? Ask us anything!"], ["addTag", "pricing_interest"]]),
            ),
            (
                "Returning visitor", "Sandbox Bot",
                "Welcome back! Need help with a previous order?",
                "page_enter",
                json!(["and", ["gt", "@visitor_previous_visits", 2], ["eq", "@account_status", "online"]]),
                json!([["wait", 10], ["sendMessageToVisitor", "Sandbox Bot", "Welcome back! Need help with a previous order?"]]),
            ),
            (
                "Route billing", "Customer Service",
                "Routing you to our billing team.",
                "chat_message",
                json!(["or", ["icontains", "@visitor_message", "invoice"], ["icontains", "@visitor_message", "refund"]]),
                json!([["setDepartment", 0], ["sendMessageToVisitor", "Customer Service", "Routing you to our billing team."]]),
            ),
            (
                "Offline notice", "Sandbox Bot",
                "We are offline right now, leave us a message.",
                "chat_requested",
                json!(["eq", "@account_status", "offline"]),
                json!([["sendMessageToVisitor", "Sandbox Bot", "We are offline right now, leave us a message."], ["wait", 1.5], ["setTriggered", null]]),
            ),
        ];
        let mut tid = 66_052_000u64;
        for (k, (name, sender, text, event, cond, actions)) in trig_defs.into_iter().enumerate() {
            tid += r.random_range(1..5_000);
            let mut actions = actions;
            if k == 3 {
                actions[0][1] = json!(self.departments[1].id);
            }
            self.triggers.push((
                Named {
                    id: tid,
                    name: name.to_string(),
                },
                sender,
                text,
            ));
            self.triggers_json.push(json!({
                "id": tid, "name": name,
                "description": format!("Sandbox trigger: {name}"),
                "enabled": self.enabled(k != 4, k == 2),
                "definition": {"event": event, "condition": cond, "actions": actions, "version": 1, "editor": if k == 1 { "simple" } else { "advanced" }}
            }));
        }
        self.build_bans(cfg);
        self.build_timeline(cfg);
        // Account.
        let mut rk = self.rng(STREAM_STATIC + 3);
        self.account_json = json!({
            "account_key": b62_string(&mut rk, 32),
            "create_date": "2020-12-11T18:33:40Z",
            "status": "active",
            "billing": {
                "company": "Sandbox Shop Ltd (synthetic)", "first_name": "Avery", "last_name": "Sampleton",
                "email": "billing@sandbox-shop.example", "phone": "", "address1": "1 Example Street",
                "address2": "", "city": "Springfield", "state": "IL", "postal_code": "00000",
                "country_code": "US", "additional_info": "", "cycle": 1
            },
            "plan": {
                "name": "enterprise", "price": 70.0, "max_agents": 5, "goals": 5,
                "long_desc": "Best for Organizations to manage Large Support Teams",
                "short_desc": "Ideal for Large Support Teams",
                "widget_customization": "full",
                "max_basic_triggers": "unlimited", "max_advanced_triggers": "unlimited",
                "max_departments": "unlimited", "max_concurrent_chats": "unlimited",
                "max_history_search_days": "unlimited",
                "sla": true, "monitoring": true, "rest_api": true, "email_reports": true, "daily_reports": true,
                "chat_reports": true, "agent_reports": true, "agent_leaderboard": true, "unbranding": true,
                "high_load": true, "ip_restriction": true, "support": true, "operating_hours": true,
                "file_upload": true, "analytics": true, "integrations": true
            }
        });
        self.routing_json = json!({
            "routing_mode": "assigned",
            "chat_limit": {"enabled": false, "limit": 3, "limit_type": "account", "allow_agent_override": false},
            "skill_routing": {"enabled": true, "max_wait_time": 30},
            "reassignment": {"enabled": true, "timeout": 30},
            "auto_idle": {"enabled": false, "reassignments_before_idle": 3, "new_status": "away"},
            "auto_accept": {"enabled": false}
        });
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
