//! The `Caller` extractor: an API key (`X-API-KEY` header or `?api_key=`) or the `auth-token`
//! cookie, checked against the database so that a revoked key, a signed-out cookie or a
//! disabled account stops working at once (both through `keys::KeyCache`, which every such
//! change empties).

use super::COOKIE_NAME;
use crate::{
    error::{ApiError, ApiResult},
    keys,
    state::AppState,
};
use app::model::{ApiKeyId, Role, SessionId, UserId};
use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, request::Parts},
};

/// An authenticated caller. Which session a REST call acts on is decided elsewhere; this only
/// says who is calling and through what.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub via: Via,
}

#[derive(Debug, Clone)]
pub enum Via {
    /// The dashboard's cookie; `login_id` is the JWT's `jti`.
    Login { login_id: String },
    /// An API key, possibly scoped to one of its owner's sessions.
    ApiKey {
        key_id: ApiKeyId,
        session: Option<SessionId>,
    },
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        authenticate(state, parts).await
    }
}

/// Authenticates a request from its head. An API key, when present, wins over the cookie and
/// is never silently ignored: a wrong key is a 401 even if a valid cookie is also sent.
pub async fn authenticate(state: &AppState, parts: &Parts) -> ApiResult<Caller> {
    if let Some(key) = header_key(&parts.headers).or_else(|| query_key(parts.uri.query())) {
        return keys::authenticate(state, &key).await;
    }
    if let Some(token) = cookie_token(&parts.headers) {
        return authenticate_token(state, token).await;
    }
    Err(ApiError::unauthorized(
        "Authentication required: send an API key in the X-API-KEY header, or sign in.",
    ))
}

async fn authenticate_token(state: &AppState, token: &str) -> ApiResult<Caller> {
    let claims = state.tokens.verify(token).map_err(|_| {
        ApiError::unauthorized("Your sign-in is invalid or has expired. Sign in again.")
    })?;
    if let Some(caller) = state.key_cache.get_login(&claims.jti, &claims.sub) {
        return Ok(caller);
    }
    // Read before the query: a change committed meanwhile makes this answer stale at once.
    let generation = state.key_cache.generation();
    let row: Option<(String, String, String, bool, i64)> = sqlx::query_as(
        "SELECT u.id, u.username, u.role, u.disabled, l.expires_at
         FROM logins l JOIN users u ON u.id = l.user_id
         WHERE l.id = ? AND l.user_id = ? AND l.expires_at > ?",
    )
    .bind(&claims.jti)
    .bind(&claims.sub)
    .bind(crate::db::now_ms())
    .fetch_optional(&state.db)
    .await?;
    let Some((id, username, role, disabled, expires_at)) = row else {
        return Err(ApiError::unauthorized(
            "You have been signed out. Sign in again.",
        ));
    };
    if disabled {
        return Err(ApiError::unauthorized("This account is disabled."));
    }
    let caller = Caller {
        id: UserId(id),
        username,
        role: Role::parse(&role).unwrap_or(Role::User),
        via: Via::Login {
            login_id: claims.jti.clone(),
        },
    };
    state.key_cache.put_login(
        (&claims.jti, &claims.sub),
        expires_at,
        generation,
        caller.clone(),
    );
    Ok(caller)
}

pub(crate) fn header_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

pub(crate) fn query_key(query: Option<&str>) -> Option<String> {
    let query = query?;
    serde_urlencoded_pairs(query)
        .into_iter()
        .find(|(k, _)| k == "api_key")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

fn serde_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(
        &format!("/?{query}").parse().unwrap_or_default(),
    )
    .map(|q| q.0)
    .unwrap_or_default()
}

pub(crate) fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn finds_the_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            "cookie",
            HeaderValue::from_static("a=1; auth-token=abc.def; b=2"),
        );
        assert_eq!(cookie_token(&h), Some("abc.def"));
        h.insert("cookie", HeaderValue::from_static("auth-token="));
        assert_eq!(cookie_token(&h), None);
    }

    #[test]
    fn reads_keys_from_header_and_query() {
        let mut h = HeaderMap::new();
        h.insert("X-API-KEY", HeaderValue::from_static(" kbr_x "));
        assert_eq!(header_key(&h).as_deref(), Some("kbr_x"));
        assert_eq!(
            query_key(Some("session=a&api_key=kbr_%2By")).as_deref(),
            Some("kbr_+y")
        );
        assert_eq!(query_key(Some("api_key=")), None);
        assert_eq!(query_key(None), None);
    }
}
