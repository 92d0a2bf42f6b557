//! HTTP layer: shared state, OAuth token endpoint, fault injection, API and control endpoints.

mod api;
mod control;
mod oauth;
mod resources;

pub(crate) use api::*;
use control::*;
use oauth::*;
use resources::*;

use crate::chat;
use crate::config::{Faults, SandboxConfig};
use crate::data::{b62, Dataset, Entry};
use crate::jsonw as jw;
use axum::body::Body;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const API_PREFIX: &str = "/api/v2/chat/";
const LOG_CAP: usize = 10_000;
const UNAUTHORIZED_DESC: &str =
    "The server could not verify that you are authorized to access the requested resource";

/// Request statistics (API requests are those under `/api/v2/chat/`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub requests: u64,
    pub by_status: BTreeMap<u16, u64>,
    pub by_resource: BTreeMap<String, u64>,
    pub responses_429: u64,
    pub responses_5xx: u64,
    pub responses_401: u64,
    pub token_refreshes: u64,
    pub refresh_token_reuse_rejected: u64,
    pub max_in_flight: u64,
    /// `"GET /api/v2/chat/... -> 200"` lines (token endpoint calls too), last 10,000.
    pub log: Vec<String>,
}

/// One chat's current version in the index (see `Sandbox::chat_versions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatVersion {
    pub id: String,
    /// `update_timestamp`, epoch seconds.
    pub update_timestamp: i64,
    /// 0 for the original chat, +1 per update.
    pub revision: u32,
    /// Epoch second from which the export serves this version (None: always).
    pub visible_at: Option<i64>,
}

#[derive(Default)]
struct StatsInner {
    requests: u64,
    by_status: BTreeMap<u16, u64>,
    by_resource: BTreeMap<String, u64>,
    r429: u64,
    r5xx: u64,
    r401: u64,
    token_refreshes: u64,
    reuse_rejected: u64,
    log: VecDeque<String>,
}

impl StatsInner {
    fn push_log(&mut self, line: String) {
        if self.log.len() >= LOG_CAP {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }
}

struct Auth {
    /// token -> authenticated requests made with it.
    uses: HashMap<String, u32>,
    current_access: String,
    current_refresh: String,
    used_refresh: HashSet<String>,
    rng: ChaCha8Rng,
}

impl Auth {
    fn new_token(&mut self) -> String {
        (0..64).map(|_| b62(&mut self.rng) as char).collect()
    }
}

/// State shared by all connections and by the `Sandbox` handle.
pub struct Shared {
    pub(crate) ds: Dataset,
    cfg: SandboxConfig,
    index: RwLock<Vec<Entry>>,
    faults: RwLock<Faults>,
    auth: Mutex<Auth>,
    stats: Mutex<StatsInner>,
    fault_rng: Mutex<ChaCha8Rng>,
    window: Mutex<VecDeque<Instant>>,
    exports: std::sync::OnceLock<crate::exports::Exports>,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    update_calls: AtomicU64,
    scheme: &'static str,
    addr: SocketAddr,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|e| e.into_inner())
}
fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Shared {
    /// Builds the data set and the initial state.
    pub fn new(cfg: SandboxConfig, scheme: &'static str, addr: SocketAddr) -> Shared {
        let mut ds = Dataset::new(&cfg);
        let index = ds.build_index();
        ds.chats_without_id = cfg
            .chats_without_id
            .iter()
            .filter_map(|&pos| index.get(pos).map(|e| e.idx))
            .collect();
        let mut uses = HashMap::new();
        uses.insert(cfg.access_token.clone(), 0);
        let auth = Auth {
            uses,
            current_access: cfg.access_token.clone(),
            current_refresh: cfg.refresh_token.clone(),
            used_refresh: HashSet::new(),
            rng: ds.rng((1 << 62) + 100),
        };
        let fault_rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5eed_fa17);
        Shared {
            index: RwLock::new(index),
            faults: RwLock::new(cfg.faults.clone()),
            auth: Mutex::new(auth),
            stats: Mutex::new(StatsInner::default()),
            fault_rng: Mutex::new(fault_rng),
            window: Mutex::new(VecDeque::new()),
            exports: std::sync::OnceLock::new(),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            update_calls: AtomicU64::new(0),
            scheme,
            addr,
            ds,
            cfg,
        }
    }

    pub fn set_faults(&self, f: Faults) {
        *write(&self.faults) = f;
    }

    pub fn faults(&self) -> Faults {
        read(&self.faults).clone()
    }

    pub fn stats(&self) -> Stats {
        let s = lock(&self.stats);
        Stats {
            requests: s.requests,
            by_status: s.by_status.clone(),
            by_resource: s.by_resource.clone(),
            responses_429: s.r429,
            responses_5xx: s.r5xx,
            responses_401: s.r401,
            token_refreshes: s.token_refreshes,
            refresh_token_reuse_rejected: s.reuse_rejected,
            max_in_flight: self.max_in_flight.load(Ordering::Relaxed),
            log: s.log.iter().cloned().collect(),
        }
    }

    pub fn current_refresh_token(&self) -> String {
        lock(&self.auth).current_refresh.clone()
    }

    pub fn current_access_token(&self) -> String {
        lock(&self.auth).current_access.clone()
    }

    /// Bumps `n` deterministically chosen chats to `at` (default now − 600 s); returns their ids.
    /// Their visibility follows `index_lag_secs` / `index_lag_jitter` of the configuration.
    pub fn update_chats(&self, n: usize, at: Option<i64>) -> Vec<String> {
        let at = at.unwrap_or_else(|| now_s() - 600);
        let lag = self.cfg.index_lag_secs;
        if lag == 0 {
            return self.update_chats_with(n, at, |_| i64::MIN);
        }
        let jitter = self.cfg.index_lag_jitter;
        self.update_chats_with(n, at, |r| {
            let lag = if jitter { r.random_range(0..=lag) } else { lag };
            at.saturating_add(i64::try_from(lag).unwrap_or(i64::MAX))
        })
    }

    /// Like `update_chats`, but each updated version becomes visible in the export only at
    /// `at + lag`, with `lag` drawn uniformly in `0..=max_lag_secs` per chat.
    pub fn update_chats_late(&self, n: usize, at: i64, max_lag_secs: u64) -> Vec<String> {
        self.update_chats_with(n, at, |r| {
            let lag = r.random_range(0..=max_lag_secs);
            at.saturating_add(i64::try_from(lag).unwrap_or(i64::MAX))
        })
    }

    /// Moves `n` chats to `at` (new revision) with a visibility second from `visible_at`.
    fn update_chats_with(
        &self,
        n: usize,
        at: i64,
        mut visible_at: impl FnMut(&mut ChaCha8Rng) -> i64,
    ) -> Vec<String> {
        let call = self.update_calls.fetch_add(1, Ordering::Relaxed);
        let mut r = self.ds.rng((1 << 63) + call);
        let mut lag_rng = self.ds.rng((1 << 63) + (1 << 40) + call);
        let mut index = write(&self.index);
        let total = index.len();
        let n = n.min(total);
        let chosen = rand::seq::index::sample(&mut r, total, n).into_vec();
        let set: HashSet<u32> = chosen.iter().map(|&i| i as u32).collect();
        let mut ids: HashMap<u32, String> = HashMap::with_capacity(n);
        for e in index.iter_mut() {
            if set.contains(&e.idx) {
                e.ts = at;
                e.rev += 1;
                e.visible_at = visible_at(&mut lag_rng);
                ids.insert(e.idx, e.id_str().to_string());
            }
        }
        index.sort_unstable_by(|a, b| a.key().cmp(&b.key()));
        chosen
            .iter()
            .filter_map(|&i| ids.remove(&(i as u32)))
            .collect()
    }

    /// The current version of every chat in export order, with when the export serves it.
    pub fn chat_versions(&self) -> Vec<ChatVersion> {
        read(&self.index)
            .iter()
            .map(|e| ChatVersion {
                id: e.id_str().to_string(),
                update_timestamp: e.ts,
                revision: e.rev,
                visible_at: (e.visible_at != i64::MIN).then_some(e.visible_at),
            })
            .collect()
    }

    /// Makes every chat version that is not yet visible visible now; returns how many.
    pub fn index_pending(&self) -> usize {
        let now = now_s();
        let mut index = write(&self.index);
        let mut n = 0;
        for e in index.iter_mut().filter(|e| e.visible_at > now) {
            e.visible_at = now;
            n += 1;
        }
        n
    }

    /// How many chat versions the export does not serve yet (late indexing).
    pub fn pending_chats(&self) -> usize {
        let now = now_s();
        read(&self.index)
            .iter()
            .filter(|e| e.visible_at > now)
            .count()
    }

    /// The chats (latest version each) that the export serves at epoch second `t`, in export
    /// order. Versions not visible at `t` are left out (their previous version is gone too).
    pub fn expected_chats_visible_at(&self, t: i64) -> Vec<Value> {
        self.render_chats(|e| e.visible_at <= t)
    }

    /// Whether the `numeric_timestamps` fault is on for a resource.
    fn numeric_timestamps(&self, resource: &str) -> bool {
        read(&self.faults)
            .numeric_timestamps
            .iter()
            .any(|r| r == resource)
    }

    fn render_chats(&self, keep: impl Fn(&Entry) -> bool) -> Vec<Value> {
        let numeric = self.numeric_timestamps("chats");
        let index = read(&self.index);
        let mut buf = Vec::with_capacity(8192);
        index
            .iter()
            .filter(|e| keep(e))
            .map(|e| {
                buf.clear();
                chat::render_with(&self.ds, e, numeric, &mut buf);
                serde_json::from_slice(&buf).unwrap_or(Value::Null)
            })
            .collect()
    }

    /// The bans as served now (with or without the numeric timestamps fault).
    fn bans_list(&self) -> &[(u64, Value)] {
        if self.numeric_timestamps("bans") {
            &self.ds.bans_numeric_json
        } else {
            &self.ds.bans_json
        }
    }

    /// The derived exports (conversions, department events), built on first use.
    fn exports(&self) -> &crate::exports::Exports {
        self.exports
            .get_or_init(|| crate::exports::build(&self.ds, &read(&self.index)))
    }

    /// Every record of a resource as served now.
    pub fn expected(&self, resource: &str) -> Vec<Value> {
        let ds = &self.ds;
        match resource {
            "chats" => self.render_chats(|_| true),
            "agents" => ds.agents_json.iter().map(|(_, v)| v.clone()).collect(),
            "bans" => self.bans_list().iter().map(|(_, v)| v.clone()).collect(),
            "agent_timeline" => ds.timeline_json.iter().map(|(_, v)| v.clone()).collect(),
            "account" => vec![ds.account_json.clone()],
            "routing_settings" => vec![ds.routing_json.clone()],
            "departments" => ds.departments_json.clone(),
            "goals" => ds.goals_json.clone(),
            "roles" => ds.roles_json.clone(),
            "shortcuts" => ds.shortcuts_json.clone(),
            "skills" => ds.skills_json.clone(),
            "triggers" => ds.triggers_json.clone(),
            "conversions" => values(&self.exports().conversions),
            "department_events" => values(&self.exports().department_events),
            _ => Vec::new(),
        }
    }
}

fn values(items: &[crate::exports::Item]) -> Vec<Value> {
    items.iter().map(|i| i.value.clone()).collect()
}

// ---------------------------------------------------------------------------------------------
// Responses

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn error(status: StatusCode, description: &str) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let body = json!({"error": reason, "description": description});
    json_response(status, serde_json::to_vec(&body).unwrap_or_default())
}

fn bad_request(description: &str) -> Response {
    error(StatusCode::BAD_REQUEST, description)
}

fn too_many(retry_after: u64) -> Response {
    let mut resp = error(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("Rate limit exceeded, retry after {retry_after} seconds"),
    );
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

fn server_error(code: u16) -> Response {
    match code {
        502 => {
            let mut resp = Response::new(Body::from(
                "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><p>sandbox upstream hiccup</p></body></html>",
            ));
            *resp.status_mut() = StatusCode::BAD_GATEWAY;
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            resp
        }
        503 => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "The service is temporarily unavailable, please retry",
        ),
        _ => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An unexpected error occurred (sandbox fault injection)",
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Router

/// Builds the axum router for a shared state.
pub fn router(sh: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v2/chat/{*rest}", any(api))
        .route("/oauth2/chat/token", post(token))
        .route("/_sandbox/stats", get(ctl_stats))
        .route("/_sandbox/update_chats", post(ctl_update))
        .route("/_sandbox/index_pending", post(ctl_index_pending))
        .route("/_sandbox/pending_chats", get(ctl_pending_chats))
        .route("/_sandbox/chat_versions", get(ctl_chat_versions))
        .route("/_sandbox/expected/{resource}", get(ctl_expected))
        .route("/_sandbox/faults", post(ctl_set_faults).get(ctl_get_faults))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "No such endpoint") })
        .with_state(sh)
}
