//! Which session a REST call acts on (contract §3): `?session=<id>` or `X-Session-Id`, else
//! the API key's scoped session, else the owner's only session; two or more and none named is
//! `400 SESSION_REQUIRED`; unknown, not yours, or none yet is `404 SESSION_NOT_FOUND`.

use super::{SessionHandle, not_found, store};
use crate::{
    auth::extract::{Caller, authenticate},
    error::{ApiError, ApiResult},
    state::AppState,
};
use app::model::{ErrorCode, SessionId};
use axum::{extract::FromRequestParts, http::request::Parts};

/// An authenticated caller and the session the request acts on.
pub struct Target {
    pub caller: Caller,
    pub session: SessionHandle,
}

impl FromRequestParts<AppState> for Target {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let caller = authenticate(state, parts).await?;
        let named = named_session(parts);
        let id = resolve(state, &caller, named).await?;
        let session = state.sessions.require(&id)?;
        Ok(Target { caller, session })
    }
}

fn named_session(parts: &Parts) -> Option<SessionId> {
    let from_query = parts.uri.query().and_then(|q| {
        url_pairs(q)
            .into_iter()
            .find(|(k, _)| k == "session")
            .map(|(_, v)| v)
    });
    from_query
        .or_else(|| {
            parts
                .headers
                .get("x-session-id")
                .and_then(|v| v.to_str().ok())
                .map(|s| s.trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .map(SessionId)
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    let uri = format!("/?{q}").parse().unwrap_or_default();
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

pub async fn resolve(
    state: &AppState,
    caller: &Caller,
    named: Option<SessionId>,
) -> ApiResult<SessionId> {
    let id = match (named, caller.scope().cloned()) {
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => {
            let mine: Vec<(String,)> = sqlx::query_as(
                "SELECT id FROM sessions WHERE owner_id = ? ORDER BY created_at LIMIT 2",
            )
            .bind(caller.id.as_str())
            .fetch_all(&state.db)
            .await?;
            match mine.as_slice() {
                [] => return Err(not_found()),
                [(only,)] => SessionId(only.clone()),
                _ => {
                    return Err(ApiError::new(
                        ErrorCode::SessionRequired,
                        "You have several sessions: name one with ?session=<id> or the X-Session-Id header.",
                    ));
                }
            }
        }
    };
    store::may_use(state, caller, &id).await?;
    Ok(id)
}
