//! Control endpoints under `/_sandbox/`: statistics, faults, expected records, chat updates
//! and the late-indexing queue.

use super::*;

pub(crate) async fn ctl_stats(State(sh): State<Arc<Shared>>) -> Response {
    json_response(
        StatusCode::OK,
        serde_json::to_vec(&sh.stats()).unwrap_or_default(),
    )
}

pub(crate) async fn ctl_update(
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

pub(crate) async fn ctl_index_pending(State(sh): State<Arc<Shared>>) -> Response {
    let n = sh.index_pending();
    json_response(StatusCode::OK, to_vec(&json!({ "published": n })))
}

pub(crate) async fn ctl_chat_versions(State(sh): State<Arc<Shared>>) -> Response {
    json_response(StatusCode::OK, to_vec(&sh.chat_versions()))
}

pub(crate) async fn ctl_pending_chats(State(sh): State<Arc<Shared>>) -> Response {
    let n = sh.pending_chats();
    json_response(StatusCode::OK, to_vec(&json!({ "pending": n })))
}

pub(crate) async fn ctl_expected(
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

pub(crate) async fn ctl_set_faults(
    State(sh): State<Arc<Shared>>,
    body: axum::body::Bytes,
) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            sh.set_faults(f.clone());
            json_response(StatusCode::OK, serde_json::to_vec(&f).unwrap_or_default())
        }
        Err(e) => bad_request(&format!("invalid faults JSON: {e}")),
    }
}

pub(crate) async fn ctl_get_faults(State(sh): State<Arc<Shared>>) -> Response {
    json_response(
        StatusCode::OK,
        serde_json::to_vec(&sh.faults()).unwrap_or_default(),
    )
}
