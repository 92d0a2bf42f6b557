//! The API entry point: authentication, rate limit, injected faults, routing to a resource
//! and the finishing of 200 bodies (body style, HTML, truncation).

use super::*;

pub(crate) struct InFlight(Arc<Shared>);

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

pub(crate) fn resource_of(rest: &str) -> Option<&'static str> {
    let path = rest.trim_end_matches('/');
    crate::config::ENDPOINTS
        .iter()
        .find(|(_, p)| *p == path)
        .map(|(name, _)| *name)
}

pub(crate) async fn api(State(sh): State<Arc<Shared>>, req: Request) -> Response {
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

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, tok) = v.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(tok.trim())
    } else {
        None
    }
}

/// One API request after its latency: authentication, rate limit, injected faults, routing.
#[allow(clippy::too_many_arguments)]
pub(crate) fn api_inner(
    sh: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    resource: Option<&'static str>,
    req_no: u64,
    faults: &Faults,
    used_token: &mut Option<String>,
) -> Response {
    if let Some(refusal) = authenticate(sh, headers, used_token) {
        return refusal;
    }
    let remaining = match rate_limit(sh, faults) {
        Ok(remaining) => remaining,
        Err(refusal) => return *refusal,
    };
    if let Some(resp) = injected_fault(sh, faults, req_no) {
        return resp;
    }
    let Some(resource) = resource else {
        return error(
            StatusCode::NOT_FOUND,
            "The requested resource could not be found",
        );
    };
    if let Some(resp) = refused(method, resource, faults) {
        return resp;
    }
    match route(sh, uri, headers, resource, faults) {
        Err(ApiErr(status, desc)) => error(status, &desc),
        Ok(_) if faults.html_body.iter().any(|r| r == resource) => html_page(),
        Ok(body) => finish(sh, body, resource, faults, remaining),
    }
}

/// Step 1, authentication: a use of the token is reserved here (the caller refunds it on a
/// non-2xx answer). Returns the 401 when the token is missing, unknown or used up.
fn authenticate(
    sh: &Shared,
    headers: &HeaderMap,
    used_token: &mut Option<String>,
) -> Option<Response> {
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
    if authed {
        return None;
    }
    let mut resp = error(StatusCode::UNAUTHORIZED, UNAUTHORIZED_DESC);
    resp.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    Some(resp)
}

/// Step 2, the sliding-window rate limit; returns (limit, remaining) for the response headers.
fn rate_limit(sh: &Shared, faults: &Faults) -> Result<Option<(u32, usize)>, Box<Response>> {
    let Some(limit) = faults.rpm_limit else {
        return Ok(None);
    };
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
        return Err(Box::new(resp));
    }
    w.push_back(now);
    Ok(Some((limit, limit as usize - w.len())))
}

/// Steps 3 and 4: the deterministic 503 burst, then the random 5xx and 429 faults.
fn injected_fault(sh: &Shared, faults: &Faults, req_no: u64) -> Option<Response> {
    if let Some((after, len)) = faults.burst_5xx {
        if req_no > after && req_no <= after.saturating_add(len) {
            return Some(server_error(503));
        }
    }
    if faults.error_rate_5xx > 0.0 || faults.rate_429 > 0.0 {
        let mut r = lock(&sh.fault_rng);
        let x: f64 = r.random();
        if x < faults.error_rate_5xx {
            let code = [500, 502, 503][r.random_range(0..3)];
            return Some(server_error(code));
        }
        let y: f64 = r.random();
        if y < faults.rate_429 {
            return Some(too_many(faults.retry_after_secs));
        }
    }
    None
}

/// Step 5: the method and the per-resource 404/403 faults.
fn refused(method: &Method, resource: &str, faults: &Faults) -> Option<Response> {
    if method != Method::GET {
        return Some(error(
            StatusCode::METHOD_NOT_ALLOWED,
            "The sandbox only serves GET on this resource",
        ));
    }
    if faults.not_found.iter().any(|r| r == resource) {
        return Some(error(
            StatusCode::NOT_FOUND,
            "The requested resource could not be found",
        ));
    }
    if faults.forbidden.iter().any(|r| r == resource) {
        return Some(error(
            StatusCode::FORBIDDEN,
            "You do not have access to this resource",
        ));
    }
    None
}

/// Step 6: the resource's compact 200 body.
fn route(
    sh: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    resource: &str,
    faults: &Faults,
) -> Result<Vec<u8>, ApiErr> {
    let q = match Query::<HashMap<String, String>>::try_from_uri(uri) {
        Ok(Query(q)) => q,
        Err(_) => return Err(bad("Malformed query string")),
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| sh.addr.to_string());
    let ds = &sh.ds;
    match resource {
        "chats" => incremental_chats(sh, &q, &host, faults),
        "agent_timeline" => agent_timeline(sh, &q, &host, faults),
        "agents" => agents(sh, &q),
        "bans" => bans(sh, &q),
        "account" => Ok(to_vec(&ds.account_json)),
        "routing_settings" => Ok(to_vec(&json!({"data": ds.routing_json}))),
        "departments" => Ok(to_vec(&ds.departments_json)),
        "goals" => Ok(to_vec(&ds.goals_json)),
        "roles" => Ok(to_vec(&ds.roles_json)),
        "shortcuts" => Ok(to_vec(&ds.shortcuts_json)),
        "skills" => Ok(to_vec(&ds.skills_json)),
        "triggers" => Ok(to_vec(&ds.triggers_json)),
        "conversions" | "department_events" => {
            let ex = sh.exports();
            let items = match resource {
                "conversions" => &ex.conversions,
                _ => &ex.department_events,
            };
            let base = format!("{}://{host}/api/v2/chat/", sh.scheme);
            crate::exports::serve(items, resource, &q, &base, faults.max_limit_incremental)
        }
        _ => Err(ApiErr(
            StatusCode::NOT_FOUND,
            "Unknown resource".to_string(),
        )),
    }
}

/// Step 7: body style, the truncation fault and the rate-limit headers of a 200.
fn finish(
    sh: &Shared,
    body: Vec<u8>,
    resource: &str,
    faults: &Faults,
    remaining: Option<(u32, usize)>,
) -> Response {
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

/// The `html_body` fault: a 200 with a sign-in page instead of JSON.
pub(crate) fn html_page() -> Response {
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
pub(crate) struct ApiErr(StatusCode, String);

pub(crate) fn bad(description: &str) -> ApiErr {
    ApiErr(StatusCode::BAD_REQUEST, description.to_string())
}

pub(crate) fn insert_rate_headers(resp: &mut Response, limit: u32, remaining: usize) {
    if let Ok(v) = HeaderValue::from_str(&limit.to_string()) {
        resp.headers_mut().insert("x-rate-limit", v);
    }
    if let Ok(v) = HeaderValue::from_str(&remaining.to_string()) {
        resp.headers_mut().insert("x-rate-limit-remaining", v);
    }
}

pub(crate) fn to_vec<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

pub(crate) fn int_param<T: std::str::FromStr>(
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

pub(crate) fn limit_param(
    q: &HashMap<String, String>,
    default: u64,
    max: u64,
) -> Result<usize, ApiErr> {
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
pub(crate) fn pct(s: &str) -> String {
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
