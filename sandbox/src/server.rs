//! HTTP layer: shared state, OAuth token endpoint, fault injection, API and control endpoints.

use crate::chat;
use crate::config::{Faults, SandboxConfig};
use crate::data::{b62, Dataset, Entry};
use crate::jsonw as j;
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

fn now_s() -> i64 {
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
            _ => Vec::new(),
        }
    }
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

async fn ctl_stats(State(sh): State<Arc<Shared>>) -> Response {
    json_response(
        StatusCode::OK,
        serde_json::to_vec(&sh.stats()).unwrap_or_default(),
    )
}

async fn ctl_update(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let count = match q.get("count").map(|s| s.parse::<usize>()) {
        None => 1,
        Some(Ok(n)) => n,
        Some(Err(_)) => return bad_request("count must be an integer"),
    };
    let at = match q.get("at").map(|s| s.parse::<i64>()) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => return bad_request("at must be epoch seconds"),
    };
    let lag = match q.get("lag").map(|s| s.parse::<u64>()) {
        None => None,
        Some(Ok(l)) => Some(l),
        Some(Err(_)) => return bad_request("lag must be a number of seconds"),
    };
    let ids = match lag {
        None => sh.update_chats(count, at),
        Some(lag) => sh.update_chats_late(count, at.unwrap_or_else(|| now_s() - 60), lag),
    };
    json_response(StatusCode::OK, serde_json::to_vec(&ids).unwrap_or_default())
}

async fn ctl_index_pending(State(sh): State<Arc<Shared>>) -> Response {
    let n = sh.index_pending();
    json_response(StatusCode::OK, to_vec(&json!({ "published": n })))
}

async fn ctl_chat_versions(State(sh): State<Arc<Shared>>) -> Response {
    json_response(StatusCode::OK, to_vec(&sh.chat_versions()))
}

async fn ctl_pending_chats(State(sh): State<Arc<Shared>>) -> Response {
    let n = sh.pending_chats();
    json_response(StatusCode::OK, to_vec(&json!({ "pending": n })))
}

async fn ctl_expected(
    State(sh): State<Arc<Shared>>,
    Path(resource): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !crate::config::RESOURCES.contains(&resource.as_str()) {
        return error(StatusCode::NOT_FOUND, "Unknown resource");
    }
    let visible_at = match q.get("visible_at").map(|s| s.parse::<i64>()) {
        None => None,
        Some(Ok(t)) if resource == "chats" => Some(t),
        Some(_) => return bad_request("visible_at must be epoch seconds (chats only)"),
    };
    let sh2 = sh.clone();
    let v = tokio::task::spawn_blocking(move || match visible_at {
        Some(t) => sh2.expected_chats_visible_at(t),
        None => sh2.expected(&resource),
    })
    .await
    .unwrap_or_default();
    json_response(StatusCode::OK, serde_json::to_vec(&v).unwrap_or_default())
}

async fn ctl_set_faults(State(sh): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            sh.set_faults(f.clone());
            json_response(StatusCode::OK, serde_json::to_vec(&f).unwrap_or_default())
        }
        Err(e) => bad_request(&format!("invalid faults JSON: {e}")),
    }
}

async fn ctl_get_faults(State(sh): State<Arc<Shared>>) -> Response {
    json_response(
        StatusCode::OK,
        serde_json::to_vec(&sh.faults()).unwrap_or_default(),
    )
}

// ---------------------------------------------------------------------------------------------
// OAuth token endpoint

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description});
    json_response(status, serde_json::to_vec(&body).unwrap_or_default())
}

async fn token(
    State(sh): State<Arc<Shared>>,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let resp = token_inner(&sh, form.ok().map(|Form(f)| f));
    let mut s = lock(&sh.stats);
    s.push_log(format!(
        "POST /oauth2/chat/token -> {}",
        resp.status().as_u16()
    ));
    resp
}

fn token_inner(sh: &Shared, form: Option<HashMap<String, String>>) -> Response {
    let Some(form) = form else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "expected an application/x-www-form-urlencoded body",
        );
    };
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let grant = get("grant_type");
    if grant != "refresh_token" && grant != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            if grant.is_empty() {
                "invalid_request"
            } else {
                "unsupported_grant_type"
            },
            "grant_type must be refresh_token or client_credentials",
        );
    }
    if get("client_id") != sh.cfg.client_id || get("client_secret") != sh.cfg.client_secret {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    let mut auth = lock(&sh.auth);
    let body = if grant == "refresh_token" {
        let rt = get("refresh_token");
        if rt.is_empty() || rt != auth.current_refresh {
            let reused = auth.used_refresh.contains(rt);
            drop(auth);
            if reused {
                lock(&sh.stats).reuse_rejected += 1;
            }
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                if reused {
                    "The refresh token has already been used"
                } else {
                    "The refresh token is invalid"
                },
            );
        }
        let access = auth.new_token();
        let refresh = auth.new_token();
        let old = std::mem::replace(&mut auth.current_refresh, refresh.clone());
        auth.used_refresh.insert(old);
        auth.uses.insert(access.clone(), 0);
        auth.current_access = access.clone();
        json!({
            "access_token": access, "token_type": "Bearer", "refresh_token": refresh,
            "scope": "read write", "expires_in": sh.cfg.token_expires_in
        })
    } else {
        let access = auth.new_token();
        auth.uses.insert(access.clone(), 0);
        auth.current_access = access.clone();
        json!({
            "access_token": access, "token_type": "Bearer",
            "scope": "read", "expires_in": sh.cfg.token_expires_in
        })
    };
    drop(auth);
    lock(&sh.stats).token_refreshes += 1;
    json_response(
        StatusCode::OK,
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

// ---------------------------------------------------------------------------------------------
// API

struct InFlight(Arc<Shared>);

impl InFlight {
    fn enter(sh: &Arc<Shared>) -> InFlight {
        let n = sh.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        sh.max_in_flight.fetch_max(n, Ordering::SeqCst);
        InFlight(sh.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

fn resource_of(rest: &str) -> Option<&'static str> {
    Some(match rest.trim_end_matches('/') {
        "account" => "account",
        "agents" => "agents",
        "incremental/agent_timeline" => "agent_timeline",
        "bans" => "bans",
        "incremental/chats" => "chats",
        "departments" => "departments",
        "goals" => "goals",
        "roles" => "roles",
        "routing_settings/account" => "routing_settings",
        "shortcuts" => "shortcuts",
        "skills" => "skills",
        "triggers" => "triggers",
        _ => return None,
    })
}

async fn api(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    let _guard = InFlight::enter(&sh);
    let method = req.method().clone();
    let uri = req.uri().clone();
    let headers = req.headers().clone();
    drop(req);
    let rest = uri.path().strip_prefix(API_PREFIX).unwrap_or("");
    let resource = resource_of(rest);
    let req_no = {
        let mut s = lock(&sh.stats);
        s.requests += 1;
        *s.by_resource
            .entry(resource.unwrap_or("unknown").to_string())
            .or_insert(0) += 1;
        s.requests
    };
    let faults = sh.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let mut used_token = None;
    let resp = api_inner(
        &sh,
        &method,
        &uri,
        &headers,
        resource,
        req_no,
        &faults,
        &mut used_token,
    );
    let code = resp.status().as_u16();
    if let Some(tok) = used_token {
        if !resp.status().is_success() {
            // Only successful requests consume a token's lifetime: give the reserved use back.
            if let Some(uses) = lock(&sh.auth).uses.get_mut(&tok) {
                *uses = uses.saturating_sub(1);
            }
        }
    }
    let mut s = lock(&sh.stats);
    *s.by_status.entry(code).or_insert(0) += 1;
    match code {
        401 => s.r401 += 1,
        429 => s.r429 += 1,
        500..=599 => s.r5xx += 1,
        _ => {}
    }
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    s.push_log(format!("{method} {pq} -> {code}"));
    resp
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, tok) = v.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(tok.trim())
    } else {
        None
    }
}

#[allow(clippy::too_many_arguments)]
fn api_inner(
    sh: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    resource: Option<&'static str>,
    req_no: u64,
    faults: &Faults,
    used_token: &mut Option<String>,
) -> Response {
    // 1. Authentication (a use of the token is reserved here, refunded by the caller on non-2xx).
    let authed = match bearer(headers) {
        None => false,
        Some(tok) => {
            let mut auth = lock(&sh.auth);
            match auth.uses.get_mut(tok) {
                Some(uses) if sh.cfg.token_ttl_requests.is_none_or(|k| *uses < k) => {
                    *uses += 1;
                    *used_token = Some(tok.to_string());
                    true
                }
                _ => false,
            }
        }
    };
    if !authed {
        let mut resp = error(StatusCode::UNAUTHORIZED, UNAUTHORIZED_DESC);
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return resp;
    }
    // 2. Sliding-window rate limit.
    let mut remaining = None;
    if let Some(limit) = faults.rpm_limit {
        let now = Instant::now();
        let mut w = lock(&sh.window);
        while w
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            w.pop_front();
        }
        if w.len() >= limit as usize {
            let wait = w
                .front()
                .map(|t| Duration::from_secs(60).saturating_sub(now.duration_since(*t)))
                .unwrap_or(Duration::from_secs(1));
            let secs = (wait.as_millis().div_ceil(1000) as u64).max(1);
            let mut resp = too_many(secs);
            insert_rate_headers(&mut resp, limit, 0);
            return resp;
        }
        w.push_back(now);
        remaining = Some((limit, limit as usize - w.len()));
    }
    // 3. Deterministic 503 burst.
    if let Some((after, len)) = faults.burst_5xx {
        if req_no > after && req_no <= after.saturating_add(len) {
            return server_error(503);
        }
    }
    // 4. Random faults.
    if faults.error_rate_5xx > 0.0 || faults.rate_429 > 0.0 {
        let mut r = lock(&sh.fault_rng);
        let x: f64 = r.random();
        if x < faults.error_rate_5xx {
            let code = [500, 502, 503][r.random_range(0..3)];
            return server_error(code);
        }
        let y: f64 = r.random();
        if y < faults.rate_429 {
            return too_many(faults.retry_after_secs);
        }
    }
    // 5. Routing and per-resource faults.
    let Some(resource) = resource else {
        return error(
            StatusCode::NOT_FOUND,
            "The requested resource could not be found",
        );
    };
    if method != Method::GET {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "The sandbox only serves GET on this resource",
        );
    }
    if faults.not_found.iter().any(|r| r == resource) {
        return error(
            StatusCode::NOT_FOUND,
            "The requested resource could not be found",
        );
    }
    if faults.forbidden.iter().any(|r| r == resource) {
        return error(
            StatusCode::FORBIDDEN,
            "You do not have access to this resource",
        );
    }
    let q = match Query::<HashMap<String, String>>::try_from_uri(uri) {
        Ok(Query(q)) => q,
        Err(_) => return bad_request("Malformed query string"),
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| sh.addr.to_string());
    let result = match resource {
        "chats" => incremental_chats(sh, &q, &host, faults),
        "agent_timeline" => agent_timeline(sh, &q, &host, faults),
        "agents" => agents(sh, &q),
        "bans" => bans(sh, &q),
        "account" => Ok(to_vec(&sh.ds.account_json)),
        "routing_settings" => Ok(to_vec(&json!({"data": sh.ds.routing_json}))),
        "departments" => Ok(to_vec(&sh.ds.departments_json)),
        "goals" => Ok(to_vec(&sh.ds.goals_json)),
        "roles" => Ok(to_vec(&sh.ds.roles_json)),
        "shortcuts" => Ok(to_vec(&sh.ds.shortcuts_json)),
        "skills" => Ok(to_vec(&sh.ds.skills_json)),
        "triggers" => Ok(to_vec(&sh.ds.triggers_json)),
        _ => Err(ApiErr(
            StatusCode::NOT_FOUND,
            "Unknown resource".to_string(),
        )),
    };
    match result {
        Err(ApiErr(status, desc)) => error(status, &desc),
        Ok(_) if faults.html_body.iter().any(|r| r == resource) => html_page(),
        Ok(body) => {
            let mut body = sh.cfg.shapes.style_of(resource).apply(body);
            if faults.malformed_json.iter().any(|r| r == resource) {
                body.truncate(body.len() / 2);
            }
            let mut resp = json_response(StatusCode::OK, body);
            if let Some((limit, rem)) = remaining {
                insert_rate_headers(&mut resp, limit, rem);
            }
            resp
        }
    }
}

/// The `html_body` fault: a 200 with a sign-in page instead of JSON.
fn html_page() -> Response {
    let mut resp = Response::new(Body::from(
        "<html>\n<head><title>Zendesk Chat</title></head>\n<body><p>Please sign in to continue.</p></body>\n</html>\n",
    ));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

/// A request error produced by a resource handler (turned into a JSON error response).
struct ApiErr(StatusCode, String);

fn bad(description: &str) -> ApiErr {
    ApiErr(StatusCode::BAD_REQUEST, description.to_string())
}

fn insert_rate_headers(resp: &mut Response, limit: u32, remaining: usize) {
    if let Ok(v) = HeaderValue::from_str(&limit.to_string()) {
        resp.headers_mut().insert("x-rate-limit", v);
    }
    if let Ok(v) = HeaderValue::from_str(&remaining.to_string()) {
        resp.headers_mut().insert("x-rate-limit-remaining", v);
    }
}

fn to_vec<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

fn int_param<T: std::str::FromStr>(
    q: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, ApiErr> {
    match q.get(name) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => s
            .trim()
            .parse::<T>()
            .map(Some)
            .map_err(|_| bad(&format!("{name} must be an integer"))),
    }
}

fn limit_param(q: &HashMap<String, String>, default: u64, max: u64) -> Result<usize, ApiErr> {
    let limit = int_param::<i64>(q, "limit")?.unwrap_or(default as i64);
    if limit < 1 {
        return Err(bad("limit must be a positive integer"));
    }
    if limit as u64 > max {
        return Err(bad(&format!("limit must be less than or equal to {max}")));
    }
    Ok(limit as usize)
}

/// Percent-encodes everything except RFC 3986 unreserved characters.
fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~') {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

fn agents(sh: &Shared, q: &HashMap<String, String>) -> Result<Vec<u8>, ApiErr> {
    let since = int_param::<u64>(q, "since_id")?.unwrap_or(0);
    let max_id = int_param::<u64>(q, "max_id")?;
    let limit = limit_param(q, 100, 100)?;
    let page: Vec<&Value> = sh
        .ds
        .agents_json
        .iter()
        .filter(|(id, _)| *id >= since && max_id.is_none_or(|m| *id <= m))
        .take(limit)
        .map(|(_, v)| v)
        .collect();
    Ok(to_vec(&page))
}

fn bans(sh: &Shared, q: &HashMap<String, String>) -> Result<Vec<u8>, ApiErr> {
    let since = int_param::<u64>(q, "since_id")?.unwrap_or(0);
    let max_id = int_param::<u64>(q, "max_id")?;
    let limit = limit_param(q, 10, 1000)?;
    let mut ip = Vec::new();
    let mut visitor = Vec::new();
    for (_, v) in sh
        .bans_list()
        .iter()
        .filter(|(id, _)| *id >= since && max_id.is_none_or(|m| *id <= m))
        .take(limit)
    {
        if v["type"] == "ip_address" {
            ip.push(v);
        } else {
            visitor.push(v);
        }
    }
    Ok(to_vec(&json!({"ip_address": ip, "visitor": visitor})))
}

fn agent_timeline(
    sh: &Shared,
    q: &HashMap<String, String>,
    host: &str,
    faults: &Faults,
) -> Result<Vec<u8>, ApiErr> {
    let start = int_param::<i64>(q, "start_time")?.unwrap_or(0);
    let limit = limit_param(q, 1000, u64::from(faults.max_limit_incremental))?;
    if start > (now_s() - 300).saturating_mul(1_000_000) {
        return Err(bad("start_time must be more than five minutes in the past"));
    }
    let items = &sh.ds.timeline_json;
    let (page, end_time) = if faults.timeline_stuck {
        // The same first records every time; only the envelope moves on.
        let page = &items[..limit.min(items.len())];
        let last = page.last().map(|(t, _)| *t).unwrap_or(start);
        (page, last.max(start.saturating_add(1_000_000)))
    } else {
        let pos = items.partition_point(|(t, _)| *t < start);
        let page = &items[pos..(pos + limit).min(items.len())];
        (page, page.last().map(|(t, _)| *t).unwrap_or(start))
    };
    let mut next = format!(
        "{}://{host}/api/v2/chat/incremental/agent_timeline?",
        sh.scheme
    );
    if let Some(f) = q.get("fields") {
        next.push_str(&format!("fields={}&", pct(f)));
    }
    next.push_str(&format!("limit={limit}&start_time={end_time}"));
    let list: Vec<&Value> = page.iter().map(|(_, v)| v).collect();
    Ok(to_vec(&json!({
        "agent_timeline": list,
        "count": page.len(),
        "end_time": end_time,
        "next_page": next,
    })))
}

/// How chats are expanded according to `fields`.
enum Expand {
    Ids,
    Full,
    Some(Vec<String>),
}

fn parse_fields(fields: Option<&String>) -> Expand {
    let Some(f) = fields else { return Expand::Ids };
    let f = f.trim();
    let Some(inner) = f.strip_prefix("chats(").and_then(|s| s.strip_suffix(')')) else {
        return Expand::Ids;
    };
    if inner.trim() == "*" {
        return Expand::Full;
    }
    Expand::Some(
        inner
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

fn incremental_chats(
    sh: &Shared,
    q: &HashMap<String, String>,
    host: &str,
    faults: &Faults,
) -> Result<Vec<u8>, ApiErr> {
    let start = int_param::<i64>(q, "start_time")?.unwrap_or(0);
    let start_id = q.get("start_id").map(String::as_str).unwrap_or("");
    let limit = limit_param(q, 1000, u64::from(faults.max_limit_incremental))?;
    if start > now_s() - 300 {
        return Err(bad("start_time must be more than five minutes in the past"));
    }
    let expand = parse_fields(q.get("fields"));
    let numeric = faults.numeric_timestamps.iter().any(|r| r == "chats");
    let index = read(&sh.index);
    let pos = if start_id.is_empty() {
        index.partition_point(|e| e.ts < start)
    } else {
        index.partition_point(|e| e.key() <= (start, start_id.as_bytes()))
    };
    let now = now_s();
    let page: Vec<&Entry> = index[pos..]
        .iter()
        .filter(|e| e.visible_at <= now)
        .take(limit)
        .collect();
    let cap = match expand {
        Expand::Full => page.len() * 4096 + 512,
        _ => page.len() * 40 + 512,
    };
    let mut b = Vec::with_capacity(cap);
    let mut tmp = Vec::new();
    j::obj(&mut b);
    j::key(&mut b, "chats");
    j::arr(&mut b);
    for &e in &page {
        match &expand {
            Expand::Ids => {
                j::obj(&mut b);
                j::key(&mut b, "id");
                j::sb(&mut b, &e.id);
                j::end_obj(&mut b);
            }
            Expand::Full => {
                chat::render_with(&sh.ds, e, numeric, &mut b);
            }
            Expand::Some(keys) => {
                tmp.clear();
                chat::render_with(&sh.ds, e, numeric, &mut tmp);
                let full: serde_json::Map<String, Value> =
                    serde_json::from_slice(&tmp).unwrap_or_default();
                let sub: serde_json::Map<String, Value> = full
                    .into_iter()
                    .filter(|(k, _)| keys.iter().any(|w| w == k))
                    .collect();
                j::raw(&mut b, &to_vec(&sub));
            }
        }
    }
    j::end_arr(&mut b);
    let (end_time, end_id) = match page.last() {
        Some(e) => (e.ts, e.id_str().to_string()),
        None => (start, start_id.to_string()),
    };
    let count = page.len();
    drop(index);
    j::ku(&mut b, "count", count as u64);
    j::ks(&mut b, "end_id", &end_id);
    j::key(&mut b, "end_time");
    j::i(&mut b, end_time);
    let mut next = format!("{}://{host}/api/v2/chat/incremental/chats?", sh.scheme);
    if let Some(f) = q.get("fields") {
        next.push_str(&format!("fields={}&", pct(f)));
    }
    next.push_str(&format!("limit={limit}&start_time={end_time}"));
    if !end_id.is_empty() {
        next.push_str(&format!("&start_id={}", pct(&end_id)));
    }
    j::ks(&mut b, "next_page", &next);
    j::end_obj(&mut b);
    Ok(b)
}
