//! The OAuth token endpoint: refresh-token rotation with reuse detection, client credentials.

use super::*;

pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description});
    json_response(status, serde_json::to_vec(&body).unwrap_or_default())
}

pub(crate) async fn token(
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

pub(crate) fn token_inner(sh: &Shared, form: Option<HashMap<String, String>>) -> Response {
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
