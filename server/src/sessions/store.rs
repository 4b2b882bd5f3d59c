//! The `sessions` table and the management API: create, list, get, rename, log out, delete,
//! and the server-sent events stream of a session's status and QR.
//! A user sees only their own sessions (another's is a 404, never revealed); an admin sees all.

use super::not_found;
use crate::{
    auth::extract::Caller,
    db::{new_id, now_ms},
    error::{ApiError, ApiResult},
    json::{Json, Query},
    openapi::{
        BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, RateLimited,
        Unauthorized,
    },
    state::AppState,
};
use app::model::{
    Done, ErrorCode, Fallback, NewSession, PairCodeRequest, PairCodeResponse, SessionId,
    SessionPatch, SessionSnapshot, SessionStatus, SessionView, UserId,
};
use axum::{
    Router,
    extract::{Path, State},
    http::request::Parts,
    response::sse::{Event, KeepAlive, Sse},
    routing::{get, post},
};
use futures_util::{Stream, StreamExt};
use std::{convert::Infallible, time::Duration};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/sessions", get(list_handler).post(create_handler))
        .route(
            "/api/sessions/activity",
            get(super::activity::activity_handler),
        )
        .route(
            "/api/sessions/events",
            get(super::activity::changes_handler),
        )
        .route(
            "/api/sessions/{id}",
            get(get_handler)
                .patch(update_handler)
                .delete(delete_handler),
        )
        .route("/api/sessions/{id}/logout", post(logout_handler))
        .route("/api/sessions/{id}/stop", post(stop_handler))
        .route("/api/sessions/{id}/start", post(start_handler))
        .route("/api/sessions/{id}/pair-code", post(pair_code_handler))
        .route("/api/sessions/{id}/events", get(events_handler))
}

/// Your sessions (an admin's: everyone's).
#[utoipa::path(
    get, path = "/api/sessions", operation_id = "listSessions", tag = "sessions",
    params(crate::paging::PageQuery),
    responses(
        (status = 200, description = "The sessions, oldest first.", body = Vec<SessionView>, headers(("X-Next-Cursor" = String, description = "With `limit`: where the next page starts (absent on the last page).")), example = json!([{"id": "9f8e7d6c5b4a3921", "name": "Toko", "status": "connected", "phoneNumber": "6281234567890", "pushName": "User Name", "ownerId": "0b5e3c1f8a2d4e6f", "fallback": "none", "createdAt": 1735460000000_i64}])),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn list_handler(
    State(s): State<AppState>,
    caller: Caller,
    Query(page): Query<crate::paging::PageQuery>,
) -> ApiResult<crate::paging::Paged<SessionView>> {
    crate::paging::cut(&page, list(&s, &caller).await?, |v| v.id.as_str())
}

/// Add a session; it starts waiting for a scan (`qr_ready`). Only an admin may name another
/// owner.
#[utoipa::path(
    post, path = "/api/sessions", operation_id = "createSession", tag = "sessions",
    request_body(content = NewSession, example = json!({"name": "Toko"})),
    responses(
        (status = 200, description = "The new session.", body = SessionView,
            example = json!({"id": "9f8e7d6c5b4a3921", "name": "Toko", "status": "qr_ready", "phoneNumber": null, "pushName": null, "ownerId": "0b5e3c1f8a2d4e6f", "fallback": "none", "createdAt": 1735460000000_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn create_handler(
    State(s): State<AppState>,
    caller: Caller,
    Json(new): Json<NewSession>,
) -> ApiResult<Json<SessionView>> {
    Ok(Json(create(&s, &caller, new).await?))
}

/// One session.
#[utoipa::path(
    get, path = "/api/sessions/{id}", operation_id = "getSession", tag = "sessions",
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "The session.", body = SessionView, example = json!({"id": "9f8e7d6c5b4a3921", "name": "Toko", "status": "connected", "phoneNumber": "6281234567890", "pushName": "User Name", "ownerId": "0b5e3c1f8a2d4e6f", "fallback": "none", "createdAt": 1735460000000_i64})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn get_handler(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionView>> {
    Ok(Json(view(&s, &caller, &SessionId(id)).await?))
}

/// Rename a session and/or set how its interactive messages fall back (`none`, `text`,
/// `poll`); only the given fields change.
#[utoipa::path(
    patch, path = "/api/sessions/{id}", operation_id = "updateSession", tag = "sessions",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = SessionPatch, example = json!({"fallback": "text"})),
    responses(
        (status = 200, description = "The session after the change.", body = SessionView, example = json!({"id": "9f8e7d6c5b4a3921", "name": "Toko", "status": "connected", "phoneNumber": "6281234567890", "pushName": "User Name", "ownerId": "0b5e3c1f8a2d4e6f", "fallback": "none", "createdAt": 1735460000000_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn update_handler(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(patch): Json<SessionPatch>,
) -> ApiResult<Json<SessionView>> {
    Ok(Json(update(&s, &caller, &SessionId(id), patch).await?))
}

/// Delete a session: it is logged out and its device keys are removed.
#[utoipa::path(
    delete, path = "/api/sessions/{id}", operation_id = "deleteSession", tag = "sessions",
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "Deleted.", body = Done, example = json!({"success": true})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn delete_handler(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Done>> {
    delete(&s, &caller, &SessionId(id)).await?;
    Ok(Json(Done::OK))
}

/// Log a session out of WhatsApp (the linked device is removed); it then offers a new QR.
/// Unlinking needs the link: a stopped session answers `409 SESSION_NOT_CONNECTED` (start it
/// first, or delete it).
#[utoipa::path(
    post, path = "/api/sessions/{id}/logout", operation_id = "logoutSession", tag = "sessions",
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "Logged out.", body = Done, example = json!({"success": true})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn logout_handler(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Done>> {
    logout(&s, &caller, &SessionId(id)).await?;
    Ok(Json(Done::OK))
}

/// Stop a session without unlinking it: it disconnects from WhatsApp and stays disconnected
/// (across restarts too) until started; sends and logout answer `409 SESSION_NOT_CONNECTED`
/// meanwhile.
/// Its device store is kept: starting needs no scan. WhatsApp holds what arrives meanwhile
/// for the linked device (for about two weeks) and delivers it on start.
#[utoipa::path(
    post, path = "/api/sessions/{id}/stop", operation_id = "stopSession", tag = "sessions",
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "Stopped.", body = SessionView, example = json!({"id": "9f8e7d6c5b4a3921", "name": "Toko Budi", "status": "disconnected", "phoneNumber": "6281234567890", "pushName": "Toko Budi", "ownerId": "3b2a1f0e9d8c7b6a", "fallback": "none", "createdAt": 1735460000000_i64, "stopped": true})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn stop_handler(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionView>> {
    Ok(Json(stop(&s, &caller, &SessionId(id)).await?))
}

/// Start a stopped session: it reconnects from its device store (no scan when it was linked).
/// Starting a session that runs changes nothing.
#[utoipa::path(
    post, path = "/api/sessions/{id}/start", operation_id = "startSession", tag = "sessions",
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "Started (it connects in the background: follow its status).", body = SessionView, example = json!({"id": "9f8e7d6c5b4a3921", "name": "Toko Budi", "status": "connecting", "phoneNumber": "6281234567890", "pushName": "Toko Budi", "ownerId": "3b2a1f0e9d8c7b6a", "fallback": "none", "createdAt": 1735460000000_i64})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn start_handler(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionView>> {
    Ok(Json(start(&s, &caller, &SessionId(id)).await?))
}

/// Link by phone number instead of a scan: an 8-character code to type on that phone
/// (WhatsApp → Linked devices → Link with phone number instead), valid for `expiresIn` seconds.
#[utoipa::path(
    post, path = "/api/sessions/{id}/pair-code", operation_id = "pairCode", tag = "sessions",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = PairCodeRequest, example = json!({"phoneNumber": "6281234567890"})),
    responses(
        (status = 200, description = "The code.", body = PairCodeResponse,
            example = json!({"code": "ABCD-EFGH", "phoneNumber": "6281234567890", "expiresIn": 180})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn pair_code_handler(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<PairCodeRequest>,
) -> ApiResult<Json<PairCodeResponse>> {
    Ok(Json(pair_code(&s, &caller, &SessionId(id), req).await?))
}

/// A pairing code for linking by phone number instead of the QR (the session must be waiting
/// to be linked). WhatsApp's codes are valid for three minutes.
pub async fn pair_code(
    state: &AppState,
    caller: &Caller,
    id: &SessionId,
    req: PairCodeRequest,
) -> ApiResult<PairCodeResponse> {
    owned(state, caller, id).await?;
    let digits = match crate::phone::normalize(
        &req.phone_number,
        state.config.default_country_code.as_deref(),
    ) {
        Ok(crate::phone::Chat::User(d)) => d,
        Ok(crate::phone::Chat::Group(_)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidPhone,
                "phoneNumber: a phone number, not a group.",
            ));
        }
        Err(e) => {
            return Err(ApiError::new(
                ErrorCode::InvalidPhone,
                e.in_field("phoneNumber"),
            ));
        }
    };
    let handle = state.sessions.require(id)?;
    state.quotas.pair_code(id, &digits)?;
    let code = handle
        .conn
        .pair_with_code(&digits)
        .await
        .map_err(crate::outbound::engine_error)?;
    Ok(PairCodeResponse {
        code,
        phone_number: digits,
        expires_in: 180,
    })
}

/// `text/event-stream` of `status` events: the current snapshot at once, then every change
/// (a rotated QR, connected, disconnected…). Ends when the session is deleted or the server
/// shuts down.
#[utoipa::path(
    get, path = "/api/sessions/{id}/events", operation_id = "sessionEvents", tag = "sessions",
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "Server-sent events, each `event: status` with a `SessionSnapshot` as `data`: \
            the current state at once, then every change (a rotated QR, connected, disconnected…).",
            content_type = "text/event-stream", body = crate::openapi::SessionEvent,
            example = json!({"event": "status", "data": "{\"status\":\"qr_ready\",\"qr\":\"data:image/png;base64,...\"}"})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn events_handler(
    State(s): State<AppState>,
    caller: Caller,
    parts: Parts,
    Path(id): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let id = SessionId(id);
    owned(&s, &caller, &id).await?;
    let handle = s.sessions.require(&id)?;
    let events = tokio_stream::wrappers::WatchStream::new(handle.state.clone()).map(|snap| {
        Ok(Event::default()
            .event("status")
            .json_data(snap)
            .unwrap_or_default())
    });
    event_stream(&s, &caller, parts, Reach::Session(id), events)
}

/// What an open stream carries, re-checked against its credential every few seconds.
pub(crate) enum Reach {
    /// One session's state: the credential must still reach it.
    Session(SessionId),
    /// Which sessions changed: the credential must still see exactly these (a demoted admin's
    /// stream ends rather than keep naming other users' sessions).
    Sees(crate::auth::policy::Visible),
}

/// `events` as a server-sent event stream that counts against the caller's open streams, ends
/// at shutdown and once the credential that opened it no longer has its [`Reach`], and keeps
/// proxies from closing it while quiet.
pub(crate) fn event_stream<S>(
    s: &AppState,
    caller: &Caller,
    parts: Parts,
    reach: Reach,
    events: S,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>> + use<S>>>
where
    S: Stream<Item = Result<Event, Infallible>> + Send + 'static,
{
    let open = s.quotas.open_stream(&caller.id)?;
    let revoked = credential_ends(s.clone(), parts, reach);
    let stream = events
        .take_until(s.shutdown.clone().cancelled_owned())
        .take_until(revoked)
        // The stream's place in the quota is freed when it ends.
        .map(move |event| {
            let _ = &open;
            event
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// How often an open stream re-checks the credential that opened it.
const RECHECK: Duration = Duration::from_secs(3);

/// Resolves once the request's credential no longer works or no longer has its `reach` (a
/// revoked key, a signed-out cookie, a disabled account, a deleted session, a changed role),
/// so a stream does not outlive the right to see what it carries.
async fn credential_ends(state: AppState, parts: Parts, reach: Reach) {
    loop {
        tokio::time::sleep(RECHECK).await;
        let check = async {
            let caller = crate::auth::extract::authenticate(&state, &parts).await?;
            match &reach {
                Reach::Session(id) => owned(&state, &caller, id).await.map(|_| ()),
                Reach::Sees(visible) if *visible == caller.visible() => Ok(()),
                Reach::Sees(_) => Err(ApiError::forbidden("what this stream may show changed")),
            }
        };
        match check.await {
            // A database hiccup is not a revocation.
            Ok(()) | Err(ApiError::Internal(_)) => {}
            Err(_) => return,
        }
    }
}

/// A stored session.
#[derive(sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub name: String,
    pub owner_id: String,
    pub status: String,
    pub phone_number: Option<String>,
    pub push_name: Option<String>,
    pub fallback: String,
    pub created_at: i64,
    pub stopped: bool,
}

const SELECT: &str = "SELECT id, name, owner_id, status, phone_number, push_name, \
                      interactive_fallback AS fallback, created_at, stopped FROM sessions";

pub async fn row(state: &AppState, id: &SessionId) -> ApiResult<SessionRow> {
    sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = ?")))
        .bind(id.as_str())
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(not_found)
}

/// [`owned`] when only the answer counts: a session the registry holds carries its owner (who
/// never changes), so a running one costs no read.
pub async fn may_use(state: &AppState, caller: &Caller, id: &SessionId) -> ApiResult<()> {
    match state.sessions.get(id) {
        Some(handle) => caller.may_use_session(id, handle.owner.as_str()),
        None => owned(state, caller, id).await.map(|_| ()),
    }
}

/// The session `id` if `caller` may use it (a 404 otherwise, also for another's session).
pub async fn owned(state: &AppState, caller: &Caller, id: &SessionId) -> ApiResult<SessionRow> {
    caller.check_scope(id)?;
    let r = row(state, id).await?;
    caller.may_use_session(id, &r.owner_id)?;
    Ok(r)
}

/// The stored row merged with the live snapshot (the row lags by at most one event).
fn to_view(state: &AppState, r: SessionRow) -> SessionView {
    let id = SessionId(r.id);
    let live = state.sessions.get(&id).map(|h| h.snapshot());
    let (status, phone_number, push_name) = match live {
        Some(s) => (s.status, s.phone_number, s.push_name),
        None => (parse_status(&r.status), r.phone_number, r.push_name),
    };
    SessionView {
        id,
        name: r.name,
        status,
        phone_number,
        push_name,
        owner_id: UserId(r.owner_id),
        fallback: Fallback::parse(&r.fallback).unwrap_or_default(),
        created_at: r.created_at,
        stopped: r.stopped,
    }
}

fn parse_status(s: &str) -> SessionStatus {
    match s {
        "qr_ready" => SessionStatus::QrReady,
        "connected" => SessionStatus::Connected,
        "logged_out" => SessionStatus::LoggedOut,
        "connecting" => SessionStatus::Connecting,
        _ => SessionStatus::Disconnected,
    }
}

fn validate_name(name: &str) -> ApiResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::invalid(
            "name: give the session a name of 1 to 64 characters.",
        ));
    }
    Ok(name)
}

pub async fn list(state: &AppState, caller: &Caller) -> ApiResult<Vec<SessionView>> {
    let visible = caller.visible();
    let (all, owner, session) = visible.binds();
    let rows = sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE (? = 1 OR owner_id = ?) AND (? IS NULL OR id = ?) ORDER BY created_at, id"
    )))
    .bind(all)
    .bind(owner)
    .bind(session)
    .bind(session)
    .fetch_all(&state.db)
    .await?;
    Ok(rows.into_iter().map(|r| to_view(state, r)).collect())
}

pub async fn create(state: &AppState, caller: &Caller, new: NewSession) -> ApiResult<SessionView> {
    caller.require_account()?;
    let name = validate_name(&new.name)?;
    let owner = match new.owner_id {
        Some(owner) if owner != caller.id => {
            caller.require_admin()?;
            let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE id = ?")
                .bind(owner.as_str())
                .fetch_optional(&state.db)
                .await?;
            exists.ok_or_else(|| ApiError::invalid("ownerId: no such user."))?;
            owner
        }
        _ => caller.id.clone(),
    };
    let id = SessionId(new_id());
    // Row and running session appear together (see `delete`).
    let one = state.sessions.one_at_a_time().await;
    // The quota is checked inside the INSERT, so racing creations cannot pass it together.
    // Sessions owned by an admin are not limited.
    let max = crate::settings::max_sessions_per_user(state).await?;
    let inserted = sqlx::query(
        "INSERT INTO sessions (id, name, owner_id, status, created_at)
         SELECT ?1, ?2, ?3, 'connecting', ?4
         WHERE (SELECT role FROM users WHERE id = ?3) = 'admin'
            OR (SELECT COUNT(*) FROM sessions WHERE owner_id = ?3) < ?5",
    )
    .bind(id.as_str())
    .bind(name)
    .bind(owner.as_str())
    .bind(now_ms())
    .bind(i64::from(max))
    .execute(&state.db)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(ApiError::new(
            ErrorCode::QuotaExceeded,
            format!(
                "This account already has the most sessions allowed ({max}). Delete one, or ask an administrator to raise the limit."
            ),
        ));
    }
    state.sessions.start(state, id.clone(), owner).await?;
    drop(one);
    view(state, caller, &id).await
}

pub async fn view(state: &AppState, caller: &Caller, id: &SessionId) -> ApiResult<SessionView> {
    Ok(to_view(state, owned(state, caller, id).await?))
}

/// Renames the session and/or sets its interactive fallback; fields not given stay.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: &SessionId,
    patch: SessionPatch,
) -> ApiResult<SessionView> {
    owned(state, caller, id).await?;
    if patch.name.is_none() && patch.fallback.is_none() {
        return Err(ApiError::invalid(
            "Nothing to change: give name and/or fallback.",
        ));
    }
    let name = patch.name.as_deref().map(validate_name).transpose()?;
    sqlx::query(
        "UPDATE sessions SET name = COALESCE(?, name),
                             interactive_fallback = COALESCE(?, interactive_fallback)
         WHERE id = ?",
    )
    .bind(name)
    .bind(patch.fallback.map(Fallback::as_str))
    .bind(id.as_str())
    .execute(&state.db)
    .await?;
    view(state, caller, id).await
}

pub async fn delete(state: &AppState, caller: &Caller, id: &SessionId) -> ApiResult<()> {
    // The row and the registry change together, under the lifecycle lock: a start that read
    // the row before it went would otherwise put a running session back for an id no row
    // names. The engine's slow part (logging out) follows once the lock is released.
    let removed = {
        let _one = state.sessions.one_at_a_time().await;
        owned(state, caller, id).await?;
        sqlx::query("DELETE FROM sessions WHERE id = ?")
            .bind(id.as_str())
            .execute(&state.db)
            .await?;
        state.sessions.take(id)
    };
    // Its scoped API keys went with it (cascade).
    state.key_cache.changed();
    removed.finish(state.sessions.engine.as_ref()).await
}

pub async fn logout(state: &AppState, caller: &Caller, id: &SessionId) -> ApiResult<()> {
    owned(state, caller, id).await?;
    let handle = state.sessions.require(id)?;
    handle
        .conn
        .logout()
        .await
        .map_err(crate::outbound::engine_error)
}

/// Starts every stored session (server start): paired ones reconnect from their device
/// store without a new scan; the others show a fresh QR. Sessions their owner stopped stay
/// stopped, and a disabled owner's stay off until the owner is enabled again.
pub async fn restore_all(state: &AppState) -> anyhow::Result<usize> {
    let rows: Vec<SessionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE owner_id IN (SELECT id FROM users WHERE disabled = 0) ORDER BY created_at"
    )))
    .fetch_all(&state.db)
    .await?;
    let n = rows.len();
    for row in rows {
        run_or_hold(state, row)
            .await
            .map_err(|e| anyhow::anyhow!("starting a session: {e}"))?;
    }
    Ok(n)
}

/// Starts a session, or holds it stopped when its owner stopped it.
async fn run_or_hold(state: &AppState, row: SessionRow) -> ApiResult<()> {
    let (id, owner) = (SessionId(row.id.clone()), UserId(row.owner_id.clone()));
    if row.stopped {
        state.sessions.hold(id, owner, stopped_snapshot(&row)).await;
        Ok(())
    } else {
        state.sessions.start(state, id, owner).await
    }
}

/// What a stopped session shows: disconnected, with the number and name it had.
fn stopped_snapshot(row: &SessionRow) -> SessionSnapshot {
    SessionSnapshot {
        status: SessionStatus::Disconnected,
        qr: None,
        phone_number: row.phone_number.clone(),
        push_name: row.push_name.clone(),
        reason: Some("stopped".into()),
    }
}

/// Stops a session without unlinking it: it disconnects from WhatsApp and stays so, across
/// restarts too, until [`start`]ed; its device store is kept. WhatsApp keeps what arrives
/// meanwhile for the linked device for a while (about two weeks) and delivers it on start.
pub async fn stop(state: &AppState, caller: &Caller, id: &SessionId) -> ApiResult<SessionView> {
    let _one = state.sessions.one_at_a_time().await;
    owned(state, caller, id).await?;
    sqlx::query("UPDATE sessions SET stopped = 1, status = 'disconnected' WHERE id = ?")
        .bind(id.as_str())
        .execute(&state.db)
        .await?;
    let row = owned(state, caller, id).await?;
    // The hold takes the running session's place first, then that one stops.
    state
        .sessions
        .hold(
            id.clone(),
            UserId(row.owner_id.clone()),
            stopped_snapshot(&row),
        )
        .await;
    Ok(to_view(state, row))
}

/// Starts a stopped session again: it reconnects from its device store (no scan when it was
/// linked). Starting a running session changes nothing.
pub async fn start(state: &AppState, caller: &Caller, id: &SessionId) -> ApiResult<SessionView> {
    let _one = state.sessions.one_at_a_time().await;
    let row = owned(state, caller, id).await?;
    if row.stopped {
        sqlx::query("UPDATE sessions SET stopped = 0 WHERE id = ?")
            .bind(id.as_str())
            .execute(&state.db)
            .await?;
        // The running session replaces the hold, which ends after.
        state
            .sessions
            .start(state, id.clone(), UserId(row.owner_id.clone()))
            .await?;
    }
    view(state, caller, id).await
}

/// The ids of every session `owner` has.
pub async fn of_owner(state: &AppState, owner: &UserId) -> ApiResult<Vec<SessionId>> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM sessions WHERE owner_id = ?")
        .bind(owner.as_str())
        .fetch_all(&state.db)
        .await?;
    Ok(rows.into_iter().map(|(id,)| SessionId(id)).collect())
}

/// An account was disabled or enabled: its sessions follow what the account row says once
/// the lifecycle lock is held (read again there, so a disable and an enable in quick
/// succession end as the last one committed, whichever call runs last). Disabled: they stop,
/// device stores kept, so nothing of theirs runs — no messages acked, no webhooks, no
/// auto-replies. Enabled: they reconnect from their device stores (those stopped by their
/// owner stay stopped).
pub async fn follow_owner(state: &AppState, owner: &UserId) -> ApiResult<()> {
    let _one = state.sessions.one_at_a_time().await;
    let disabled: Option<(bool,)> = sqlx::query_as("SELECT disabled FROM users WHERE id = ?")
        .bind(owner.as_str())
        .fetch_optional(&state.db)
        .await?;
    match disabled {
        None => Ok(()),
        Some((true,)) => {
            for id in of_owner(state, owner).await? {
                state.sessions.pause(&id).await;
                save_status(state, &id, SessionStatus::Disconnected).await?;
            }
            Ok(())
        }
        Some((false,)) => {
            let rows: Vec<SessionRow> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE owner_id = ?")))
                    .bind(owner.as_str())
                    .fetch_all(&state.db)
                    .await?;
            for row in rows {
                if state.sessions.get(&SessionId(row.id.clone())).is_none() {
                    run_or_hold(state, row).await?;
                }
            }
            Ok(())
        }
    }
}

/// An account was deleted (its session rows went with it): each of `sessions` (read before)
/// and whatever else of the owner's still runs is logged out and its device store removed.
pub async fn remove_owner(
    state: &AppState,
    owner: &UserId,
    sessions: &[SessionId],
) -> ApiResult<()> {
    let removed = {
        let _one = state.sessions.one_at_a_time().await;
        let mut removed: Vec<_> = sessions.iter().map(|id| state.sessions.take(id)).collect();
        removed.extend(state.sessions.take_owned_by(owner));
        removed
    };
    let engine = state.sessions.engine.as_ref();
    let mut result = Ok(());
    for r in removed {
        if let Err(e) = r.finish(engine).await {
            result = Err(e);
        }
    }
    result
}

pub async fn save_status(
    state: &AppState,
    id: &SessionId,
    status: SessionStatus,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE sessions SET status = ? WHERE id = ?")
        .bind(status.as_str())
        .bind(id.as_str())
        .execute(&state.db)
        .await?;
    Ok(())
}

pub async fn save_connected(
    state: &AppState,
    id: &SessionId,
    phone: &str,
    push_name: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE sessions SET status = 'connected', phone_number = ?, push_name = ? WHERE id = ?",
    )
    .bind(phone)
    .bind(push_name)
    .bind(id.as_str())
    .execute(&state.db)
    .await?;
    Ok(())
}

pub async fn save_logged_out(state: &AppState, id: &SessionId) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE sessions SET status = 'logged_out', phone_number = NULL, push_name = NULL WHERE id = ?",
    )
    .bind(id.as_str())
    .execute(&state.db)
    .await?;
    Ok(())
}

/// The snapshot a session shows before its engine reported anything.
pub fn initial_snapshot() -> SessionSnapshot {
    SessionSnapshot {
        status: SessionStatus::Connecting,
        qr: None,
        phone_number: None,
        push_name: None,
        reason: None,
    }
}
