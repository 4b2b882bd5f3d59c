//! `Idempotency-Key` on the send endpoints (contract §4): the same key with the same request
//! within 24 h answers the first answer again and sends nothing; the same key with another
//! request, or while the first is still running, answers `409 IDEMPOTENCY_CONFLICT`.
//!
//! A key is claimed (a row, `status` NULL) before the request runs, so two racing retries
//! cannot both send. The answer is kept when a message may have left — a success, or a server
//! error that may have come after the engine sent: a retry then gets that answer, never a
//! second message. A `4xx` or a `503` means nothing was sent (bad input, not connected,
//! rate-limited, the record refused the message before sending), so the key is released and a
//! retry runs again.

use crate::{
    auth::extract::authenticate,
    db::now_ms,
    error::{ApiError, ApiResult},
    state::AppState,
};
use app::model::ErrorCode;
use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

pub const HEADER: &str = "idempotency-key";
/// How long a key is remembered.
pub const TTL_MS: i64 = 24 * 3600 * 1000;

/// The middleware (see the module doc); a request without the header passes untouched.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.config.max_body_bytes;
    match run(&state, req, next, limit).await {
        Ok(resp) | Err(resp) => resp,
    }
}

/// [`guard`] for `/send-media`, whose bodies may carry a whole file (up to
/// [`crate::media::max_request_bytes`]).
pub async fn media_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = crate::media::max_request_bytes(&state.config);
    match run(&state, req, next, limit).await {
        Ok(resp) | Err(resp) => resp,
    }
}

async fn run(
    state: &AppState,
    req: Request,
    next: Next,
    limit: usize,
) -> Result<Response, Response> {
    let Some(key) = req.headers().get(HEADER) else {
        return Ok(next.run(req).await);
    };
    let key = valid_key(key).map_err(IntoResponse::into_response)?;
    let (parts, body) = req.into_parts();
    let caller = authenticate(state, &parts)
        .await
        .map_err(IntoResponse::into_response)?;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(ErrorCode::PayloadTooLarge, "The request body is too large.").into_response()
    })?;
    let fingerprint = fingerprint(&parts, &bytes);
    let owner = caller.id.as_str();
    match claim(state, owner, &key, &fingerprint)
        .await
        .map_err(IntoResponse::into_response)?
    {
        Claim::Replay(status, body) => {
            let mut resp = Response::new(Body::from(body));
            *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert("idempotent-replayed", HeaderValue::from_static("true"));
            return Ok(resp);
        }
        Claim::Conflict(message) => {
            return Err(ApiError::new(ErrorCode::IdempotencyConflict, message).into_response());
        }
        Claim::New => {}
    }
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (head, body) = resp.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    if let Err(e) = settle(state, owner, &key, head.status.as_u16(), &body).await {
        // The key stays claimed: a retry gets a conflict, never a second message.
        tracing::error!(error = %e, "recording an idempotency key's answer");
    }
    Ok(Response::from_parts(head, Body::from(body)))
}

fn valid_key(value: &HeaderValue) -> ApiResult<String> {
    let key = value.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid(
            "Idempotency-Key: 1 to 255 visible ASCII characters (a UUID, say).",
        ));
    }
    Ok(key.to_string())
}

/// What identifies "the same request": method, path and query, the session header, the body.
fn fingerprint(parts: &axum::http::request::Parts, body: &Bytes) -> String {
    let mut h = Sha256::new();
    h.update(parts.method.as_str());
    h.update([0]);
    h.update(parts.uri.path());
    h.update([0]);
    h.update(parts.uri.query().unwrap_or_default());
    h.update([0]);
    h.update(
        parts
            .headers
            .get("x-session-id")
            .map(HeaderValue::as_bytes)
            .unwrap_or_default(),
    );
    h.update([0]);
    // A multipart body's boundary is random per request: a retry of the same upload must
    // match, so the boundary is left out of the fingerprint.
    match multipart_boundary(&parts.headers) {
        Some(boundary) => {
            let mut rest: &[u8] = body;
            while let Some(at) = find(rest, boundary.as_bytes()) {
                h.update(&rest[..at]);
                h.update([0]);
                rest = &rest[at + boundary.len()..];
            }
            h.update(rest);
        }
        None => h.update(body),
    }
    hex::encode(h.finalize())
}

fn multipart_boundary(headers: &axum::http::HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !ct.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    ct.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.eq_ignore_ascii_case("boundary") && !v.is_empty())
            .then(|| v.trim_matches('"').to_string())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

enum Claim {
    New,
    Replay(u16, Vec<u8>),
    Conflict(&'static str),
}

async fn claim(state: &AppState, owner: &str, key: &str, fingerprint: &str) -> ApiResult<Claim> {
    let now = now_ms();
    let mut tx = crate::db::begin_write(&state.db).await?;
    sqlx::query("DELETE FROM idempotency_keys WHERE owner_id = ? AND key = ? AND created_at < ?")
        .bind(owner)
        .bind(key)
        .bind(now - TTL_MS)
        .execute(&mut *tx)
        .await?;
    let row: Option<(String, Option<i64>, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT request, status, body FROM idempotency_keys WHERE owner_id = ? AND key = ?",
    )
    .bind(owner)
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?;
    let claim = match row {
        Some((request, _, _)) if request != fingerprint => Claim::Conflict(
            "This Idempotency-Key was used for a different request. Use a new key for a new message.",
        ),
        Some((_, None, _)) => Claim::Conflict(
            "A request with this Idempotency-Key is still running; retry when it has answered.",
        ),
        Some((_, Some(status), body)) => Claim::Replay(
            u16::try_from(status).unwrap_or(200),
            body.unwrap_or_default(),
        ),
        None => {
            sqlx::query(
                "INSERT INTO idempotency_keys (owner_id, key, request, created_at) VALUES (?, ?, ?, ?)",
            )
            .bind(owner)
            .bind(key)
            .bind(fingerprint)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Claim::New
        }
    };
    tx.commit().await?;
    Ok(claim)
}

/// Keeps the answer (a message may have left), or releases the key after a `4xx` or `503`.
async fn settle(
    state: &AppState,
    owner: &str,
    key: &str,
    status: u16,
    body: &[u8],
) -> Result<(), sqlx::Error> {
    if (400..500).contains(&status) || status == 503 {
        sqlx::query("DELETE FROM idempotency_keys WHERE owner_id = ? AND key = ?")
            .bind(owner)
            .bind(key)
            .execute(&state.db)
            .await?;
    } else {
        sqlx::query(
            "UPDATE idempotency_keys SET status = ?, body = ? WHERE owner_id = ? AND key = ?",
        )
        .bind(i64::from(status))
        .bind(body)
        .bind(owner)
        .bind(key)
        .execute(&state.db)
        .await?;
    }
    Ok(())
}

/// Forgets keys older than 24 h (the retention sweep calls it daily).
pub async fn sweep(db: &crate::db::Db) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
            .bind(now_ms() - TTL_MS)
            .execute(db)
            .await?
            .rows_affected(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert!(valid_key(&HeaderValue::from_static("2f1c-uuid")).is_ok());
        assert!(valid_key(&HeaderValue::from_static("")).is_err());
        assert!(valid_key(&HeaderValue::from_static("has space")).is_err());
        let long = HeaderValue::from_str(&"k".repeat(256)).expect("header");
        assert!(valid_key(&long).is_err());
    }

    #[test]
    fn the_fingerprint_covers_path_query_session_and_body() {
        let parts = |uri: &str, session: Option<&str>| {
            let mut b = axum::http::Request::builder().method("POST").uri(uri);
            if let Some(s) = session {
                b = b.header("x-session-id", s);
            }
            b.body(()).expect("request").into_parts().0
        };
        let body = Bytes::from_static(br#"{"to":"628","message":"a"}"#);
        let base = fingerprint(&parts("/send-message", None), &body);
        assert_eq!(base, fingerprint(&parts("/send-message", None), &body));
        assert_ne!(
            base,
            fingerprint(&parts("/send-message?session=x", None), &body)
        );
        assert_ne!(base, fingerprint(&parts("/send-message", Some("x")), &body));
        assert_ne!(base, fingerprint(&parts("/send-interactive", None), &body));
        assert_ne!(
            base,
            fingerprint(&parts("/send-message", None), &Bytes::from_static(b"{}"))
        );
    }
}
