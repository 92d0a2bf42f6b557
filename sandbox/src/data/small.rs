//! The small resources of the fake account (roles, skills, departments, agents, goals,
//! shortcuts, triggers, account, routing settings), built once from the seed in a fixed order.

use super::*;

const SKILL_DEFS: [(&str, &str); 4] = [
    ("english", "English language"),
    ("german", "German language"),
    ("billing", "Invoices and refunds"),
    ("hardware", "Device troubleshooting"),
];

const DEPT_DEFS: [(&str, &str); 5] = [
    ("Sales", "Pre-sales questions (sandbox)"),
    ("Billing", "Invoices, refunds and payments (sandbox)"),
    ("Technical Support", "Product troubleshooting (sandbox)"),
    ("Returns", "Returns and exchanges (sandbox)"),
    ("Partnerships", "Resellers and affiliates (sandbox)"),
];

/// The role of agent `k`: 0 owner, 1 administrator, 2 agent, 3 limited agent.
fn role_index(k: usize) -> usize {
    match k {
        0 => 0,
        1 | 2 => 1,
        _ if k % 5 == 4 => 3,
        _ => 2,
    }
}

/// Skill ids with their names.
fn draw_skill_ids(r: &mut ChaCha8Rng) -> Vec<(u64, String)> {
    let mut skill_ids = Vec::new();
    let mut sid = 1_300_000u64;
    for (name, _) in SKILL_DEFS.iter() {
        sid += r.random_range(10..900);
        skill_ids.push((sid, name.to_string()));
    }
    skill_ids
}

impl Dataset {
    /// Builds every small resource; the draws from the static stream happen in this order.
    pub(super) fn build_small(&mut self, cfg: &SandboxConfig) {
        let mut r = self.rng(STREAM_STATIC);
        let role_ids = self.build_roles(&mut r);
        let skill_ids = draw_skill_ids(&mut r);
        self.draw_departments(&mut r);
        let (agent_depts, agent_skills) =
            self.build_agents(&mut r, cfg.agents, &role_ids, &skill_ids);
        self.zero_login_counts();
        self.count_role_members(cfg.agents);
        self.build_department_list(&agent_depts);
        self.build_skill_list(&skill_ids, &agent_skills);
        self.build_goals(&mut r);
        self.build_shortcuts();
        self.build_triggers(&mut r);
        self.build_bans(cfg);
        self.build_timeline(cfg);
        self.build_account_and_routing();
    }

    /// Roles; returns their ids (index = `role_index`).
    fn build_roles(&mut self, r: &mut ChaCha8Rng) -> Vec<u64> {
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
        role_ids
    }

    fn draw_departments(&mut self, r: &mut ChaCha8Rng) {
        let mut did = 7_282_630_240_000u64;
        for (name, _) in DEPT_DEFS.iter() {
            did += r.random_range(1_000..5_000_000);
            self.departments.push(Named {
                id: did,
                name: name.to_string(),
            });
        }
    }

    /// Agents; returns each agent's departments and skills.
    fn build_agents(
        &mut self,
        r: &mut ChaCha8Rng,
        n_agents: usize,
        role_ids: &[u64],
        skill_ids: &[(u64, String)],
    ) -> (Vec<Vec<u64>>, Vec<Vec<u64>>) {
        let mut aid = 361_089_721_035u64;
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
            let role_idx = role_index(k);
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
        (agent_depts, agent_skills)
    }

    /// Agents that never logged in have `login_count` 0.
    fn zero_login_counts(&mut self) {
        for (_, a) in self.agents_json.iter_mut() {
            if a["last_login"].is_null() {
                a["login_count"] = json!(0);
            }
        }
    }

    fn count_role_members(&mut self, n_agents: usize) {
        for (idx, role) in self.roles_json.iter_mut().enumerate() {
            let n = (0..n_agents).filter(|&k| role_index(k) == idx).count();
            role["members_count"] = json!(n);
        }
    }

    fn build_department_list(&mut self, agent_depts: &[Vec<u64>]) {
        for (k, d) in self.departments.iter().enumerate() {
            let members: Vec<u64> = self
                .agents
                .iter()
                .zip(agent_depts.iter())
                .filter(|(_, ds)| ds.contains(&d.id))
                .map(|(a, _)| a.id)
                .collect();
            self.departments_json.push(json!({
                "id": d.id, "name": d.name, "description": DEPT_DEFS[k].1,
                "enabled": self.enabled(k != 4, k == 2),
                "members": members,
                "settings": {"chat_enabled": k != 4, "solved_ticket_reassignment_strategy": "", "support_group_id": d.id + 17}
            }));
        }
    }

    fn build_skill_list(&mut self, skill_ids: &[(u64, String)], agent_skills: &[Vec<u64>]) {
        for (k, (sid, name)) in skill_ids.iter().enumerate() {
            let members: Vec<u64> = self
                .agents
                .iter()
                .zip(agent_skills.iter())
                .filter(|(_, ss)| ss.contains(sid))
                .map(|(a, _)| a.id)
                .collect();
            self.skills_json.push(json!({
                "id": sid, "name": name, "description": SKILL_DEFS[k].1,
                "enabled": self.enabled(true, k == 1), "members": members
            }));
        }
    }

    fn build_goals(&mut self, r: &mut ChaCha8Rng) {
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
    }

    /// Shortcuts (string ids equal to the name).
    fn build_shortcuts(&mut self) {
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
    }

    fn build_triggers(&mut self, r: &mut ChaCha8Rng) {
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
    }

    fn build_account_and_routing(&mut self) {
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
}
