//! Webhook settings and the delivery log over HTTP: a session's endpoint (its owner), the
//! global endpoint (admin, through `/api/settings`), the deliveries with their attempts, the
//! retry button and test events. Users see only deliveries to their sessions' endpoints.

use crate::{
    auth::extract::Caller,
    db::{new_id, now_ms},
    error::{ApiError, ApiResult},
    json::{Json, Query},
    openapi::{
        BadRequest, Forbidden, InternalError, NotFound, PayloadTooLarge, RateLimited, Unauthorized,
    },
    sessions::store,
    settings,
    state::AppState,
};
use app::model::{
    AttemptView, DeliveryDetail, DeliveryView, Done, SessionId, WebhookConfig, WebhookView, event,
};
use axum::{
    Router,
    extract::{Path, State},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/sessions/{id}/webhook",
            get(get_session_webhook)
                .put(put_session_webhook)
                .delete(delete_session_webhook),
        )
        .route("/api/webhooks/deliveries", get(list_deliveries))
        .route("/api/webhooks/deliveries/{id}", get(get_delivery))
        .route("/api/webhooks/deliveries/{id}/retry", post(retry_delivery))
        .route("/api/webhooks/test", post(test_event))
}

async fn owned_session(state: &AppState, caller: &Caller, id: String) -> ApiResult<SessionId> {
    let id = SessionId(id);
    store::owned(state, caller, &id).await?;
    Ok(id)
}

/// The session's webhook endpoint, its secret masked; 404 when none is set (also after a
/// delete, like any removed resource).
#[utoipa::path(
    get, path = "/api/sessions/{id}/webhook", operation_id = "getSessionWebhook", tag = "webhooks",
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "The endpoint.", body = WebhookView, example = json!({"url": "https://example.com/webhook", "secret": "••••••••", "events": ["message.in", "interaction.button", "interaction.list"], "enabled": true, "disabledReason": null})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn get_session_webhook(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    session_webhook(&s, &caller, id)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found(
                "This session has no webhook. Set one with PUT /api/sessions/{id}/webhook.",
            )
        })
}

/// Set the session's webhook endpoint: its events go to `url`, signed with `secret` (absent:
/// keep the current one; `""`: none); `events` filters (empty: all). Saving again re-enables
/// an endpoint that answered 410 Gone.
#[utoipa::path(
    put, path = "/api/sessions/{id}/webhook", operation_id = "setSessionWebhook", tag = "webhooks",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = WebhookConfig, example = json!({"url": "https://example.com/webhook", "secret": "s3cret", "events": ["message.in", "interaction.button", "interaction.list"]})),
    responses(
        (status = 200, description = "The saved endpoint, its secret masked.", body = WebhookView, example = json!({"url": "https://example.com/webhook", "secret": "••••••••", "events": ["message.in", "interaction.button", "interaction.list"], "enabled": true, "disabledReason": null})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn put_session_webhook(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(cfg): Json<WebhookConfig>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(save_session_webhook(&s, &caller, id, cfg).await?))
}

/// Remove the session's webhook endpoint.
#[utoipa::path(
    delete, path = "/api/sessions/{id}/webhook", operation_id = "deleteSessionWebhook", tag = "webhooks",
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "Removed (also when there was none).", body = Done, example = json!({"success": true})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn delete_session_webhook(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Done>> {
    remove_session_webhook(&s, &caller, id).await?;
    Ok(Json(Done::OK))
}

pub async fn session_webhook(
    state: &AppState,
    caller: &Caller,
    id: String,
) -> ApiResult<Option<WebhookView>> {
    let id = owned_session(state, caller, id).await?;
    load_endpoint(state, Some(&id)).await
}

pub async fn save_session_webhook(
    state: &AppState,
    caller: &Caller,
    id: String,
    cfg: WebhookConfig,
) -> ApiResult<WebhookView> {
    let id = owned_session(state, caller, id).await?;
    save_endpoint(state, Some(&id), cfg).await
}

pub async fn remove_session_webhook(
    state: &AppState,
    caller: &Caller,
    id: String,
) -> ApiResult<()> {
    let id = owned_session(state, caller, id).await?;
    remove_endpoint(state, Some(&id)).await
}

/// Says whether a secret is set without showing any of it (not even its length): it is
/// stored encrypted and never shown again after it is saved.
fn mask(stored: &str) -> String {
    if stored.is_empty() {
        String::new()
    } else {
        "••••••••".into()
    }
}

#[derive(sqlx::FromRow)]
struct EndpointRow {
    url: String,
    secret: String,
    events: String,
    enabled: bool,
    disabled_reason: Option<String>,
}

/// The endpoint of a session, or the global one (`None`).
pub async fn load_endpoint(
    state: &AppState,
    session: Option<&SessionId>,
) -> ApiResult<Option<WebhookView>> {
    let row = sqlx::query_as::<_, EndpointRow>(
        "SELECT url, secret, events, enabled, disabled_reason FROM webhook_endpoints WHERE session_id IS ?",
    )
    .bind(session.map(SessionId::as_str))
    .fetch_optional(&state.db)
    .await?;
    Ok(row.map(|r| WebhookView {
        url: r.url,
        secret: mask(&r.secret),
        events: serde_json::from_str(&r.events).unwrap_or_default(),
        enabled: r.enabled,
        disabled_reason: r.disabled_reason,
    }))
}

/// Validates and saves an endpoint; saving again re-enables one a 410 disabled. Takes effect
/// for the next attempt of every pending delivery, without a restart.
pub async fn save_endpoint(
    state: &AppState,
    session: Option<&SessionId>,
    cfg: WebhookConfig,
) -> ApiResult<WebhookView> {
    let allow_private = settings::allow_private_for(state, session.map(SessionId::as_str)).await?;
    let url = super::ssrf::check_url(&cfg.url, allow_private)
        .await
        .map_err(ApiError::invalid)?;
    if cfg.secret.as_ref().is_some_and(|s| s.chars().count() > 256) {
        return Err(ApiError::invalid("secret: at most 256 characters."));
    }
    if let Some(bad) = cfg
        .events
        .iter()
        .find(|e| !event::ALL.contains(&e.as_str()))
    {
        return Err(ApiError::invalid(format!(
            "events: unknown event {bad:?}; use {}.",
            event::ALL.join(", ")
        )));
    }
    let events = serde_json::to_string(&cfg.events).map_err(|e| ApiError::Internal(e.into()))?;
    let secret = cfg.secret.as_deref().map(|s| state.secrets.seal(s));
    let now = now_ms();
    let mut tx = crate::db::begin_write(&state.db).await?;
    let updated = sqlx::query(
        "UPDATE webhook_endpoints SET url = ?, secret = COALESCE(?, secret), events = ?, enabled = 1,
                disabled_reason = NULL, updated_at = ? WHERE session_id IS ?",
    )
    .bind(url.as_str())
    .bind(&secret)
    .bind(&events)
    .bind(now)
    .bind(session.map(SessionId::as_str))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, session_id, url, secret, events, enabled, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
        )
        .bind(new_id())
        .bind(session.map(SessionId::as_str))
        .bind(url.as_str())
        .bind(secret.as_deref().unwrap_or_default())
        .bind(&events)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    load_endpoint(state, session)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("endpoint vanished after saving")))
}

pub async fn remove_endpoint(state: &AppState, session: Option<&SessionId>) -> ApiResult<()> {
    sqlx::query("DELETE FROM webhook_endpoints WHERE session_id IS ?")
        .bind(session.map(SessionId::as_str))
        .execute(&state.db)
        .await?;
    Ok(())
}

/// Filters of the delivery log. Unknown parameters are ignored: the query string may also carry
/// `api_key`.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Filter {
    /// Only this session's events.
    session: Option<String>,
    /// Only this event (`message.in`, …).
    event: Option<String>,
    /// `pending`, `delivered` or `failed`.
    status: Option<String>,
    /// How many, newest first: 1–500 (default 100).
    limit: Option<i64>,
    /// Where the page starts: the `X-Next-Cursor` header of the page before.
    cursor: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    event_id: String,
    event: String,
    session_id: Option<String>,
    owner_session: Option<String>,
    status: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
    last_status: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
    body: String,
}

impl From<DeliveryRow> for DeliveryView {
    fn from(r: DeliveryRow) -> Self {
        DeliveryView {
            id: r.id,
            event_id: r.event_id,
            event: r.event,
            session_id: r.session_id.map(SessionId),
            endpoint: if r.owner_session.is_some() {
                "session"
            } else {
                "global"
            }
            .into(),
            status: r.status,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_status: r.last_status,
            last_error: r.last_error,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const DELIVERY_SELECT: &str = "SELECT d.id, d.event_id, e.event, e.session_id, d.owner_session, d.status,
        d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.updated_at, e.body
    FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
    LEFT JOIN sessions s ON s.id = d.owner_session";

/// Admins see every delivery; users the deliveries to their own sessions' endpoints.
/// A scoped key: those to its session's endpoint.
const VISIBLE: &str = "(? = 1 OR s.owner_id = ?) AND (? IS NULL OR d.owner_session = ?)";

/// The delivery log, newest first: deliveries to your sessions' endpoints (an admin's: all).
#[utoipa::path(
    get, path = "/api/webhooks/deliveries", operation_id = "listDeliveries", tag = "webhooks",
    params(Filter),
    responses(
        (status = 200, description = "The deliveries, newest first.", body = Vec<DeliveryView>, headers(("X-Next-Cursor" = String, description = "Where the next page starts (older deliveries): pass it as `cursor`; absent on the last page.")), example = json!([{"id": "d1e2f3a4b5c6d7e8", "eventId": "e1f2a3b4c5d6e7f8", "event": "message.in", "sessionId": "9f8e7d6c5b4a3921", "endpoint": "session", "status": "delivered", "attempts": 1, "nextAttemptAt": null, "lastStatus": 200, "lastError": null, "createdAt": 1735460000123_i64, "updatedAt": 1735460000250_i64}])),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn list_deliveries(
    State(s): State<AppState>,
    caller: Caller,
    Query(f): Query<Filter>,
) -> ApiResult<crate::paging::Paged<DeliveryView>> {
    deliveries(&s, &caller, f.session, f.event, f.status, f.limit, f.cursor).await
}

/// A page of the delivery log, newest first, and where the next (older) page starts: the
/// cursor is the last delivery's `createdAt.id`, and the next page reads from there by index.
pub async fn deliveries(
    state: &AppState,
    caller: &Caller,
    session: Option<String>,
    event: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
) -> ApiResult<crate::paging::Paged<DeliveryView>> {
    // The same checks as the message log: a typo answers 400, not a silently different list.
    let some = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let (session, event, status) = (some(session), some(event), some(status));
    let limit = match limit {
        None => 100,
        Some(n @ 1..=500) => n,
        Some(_) => return Err(ApiError::invalid("`limit` must be between 1 and 500.")),
    };
    let after = match cursor.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            c.split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_string())))
                .filter(|(_, id)| !id.is_empty())
                .ok_or_else(|| {
                    ApiError::invalid("`cursor` must be the `X-Next-Cursor` of a page before.")
                })?,
        ),
    };
    let (after_at, after_id) = after.unzip();
    if let Some(s) = &status
        && !matches!(s.as_str(), "pending" | "delivered" | "failed")
    {
        return Err(ApiError::invalid(
            "`status` must be `pending`, `delivered` or `failed`.",
        ));
    }
    if let Some(e) = &event
        && !event::ALL.contains(&e.as_str())
    {
        return Err(ApiError::invalid(format!(
            "`event` must be one of {}.",
            event::ALL.join(", ")
        )));
    }
    let visible = caller.visible();
    let (all, owner, scope) = visible.binds();
    let rows = sqlx::query_as::<_, DeliveryRow>(sqlx::AssertSqlSafe(format!(
        "{DELIVERY_SELECT} WHERE {VISIBLE} AND (? IS NULL OR e.session_id = ?) AND (? IS NULL OR e.event = ?)
         AND (? IS NULL OR d.status = ?)
         AND (? IS NULL OR d.created_at < ? OR (d.created_at = ? AND d.id > ?))
         ORDER BY d.created_at DESC, d.id LIMIT ?"
    )))
    .bind(all)
    .bind(owner)
    .bind(scope)
    .bind(scope)
    .bind(&session)
    .bind(&session)
    .bind(&event)
    .bind(&event)
    .bind(&status)
    .bind(&status)
    .bind(after_at)
    .bind(after_at)
    .bind(after_at)
    .bind(&after_id)
    .bind(limit + 1)
    .fetch_all(&state.db)
    .await?;
    let mut page: Vec<DeliveryView> = rows.into_iter().map(Into::into).collect();
    let more = page.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    page.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more
        .then(|| page.last().map(|d| format!("{}.{}", d.created_at, d.id)))
        .flatten();
    Ok(crate::paging::Paged(page, next))
}

async fn find_delivery(state: &AppState, caller: &Caller, id: &str) -> ApiResult<DeliveryRow> {
    let visible = caller.visible();
    let (all, owner, scope) = visible.binds();
    sqlx::query_as::<_, DeliveryRow>(sqlx::AssertSqlSafe(format!(
        "{DELIVERY_SELECT} WHERE {VISIBLE} AND d.id = ?"
    )))
    .bind(all)
    .bind(owner)
    .bind(scope)
    .bind(scope)
    .bind(id)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(|| ApiError::not_found("No such delivery."))
}

/// One delivery with the exact body sent and every attempt (time, trigger, status, latency,
/// response excerpt, error).
#[utoipa::path(
    get, path = "/api/webhooks/deliveries/{id}", operation_id = "getDelivery", tag = "webhooks",
    params(("id" = String, Path, description = "The delivery's id.")),
    responses(
        (status = 200, description = "The delivery.", body = DeliveryDetail, example = json!({"id": "d1e2f3a4b5c6d7e8", "eventId": "e1f2a3b4c5d6e7f8", "event": "message.in", "sessionId": "9f8e7d6c5b4a3921", "endpoint": "session", "status": "delivered", "attempts": 1, "nextAttemptAt": null, "lastStatus": 200, "lastError": null, "createdAt": 1735460000123_i64, "updatedAt": 1735460000250_i64, "body": "{\"event\":\"message.in\",\"data\":{},\"timestamp\":1735460000123}", "attemptsLog": [{"at": 1735460000250_i64, "trigger": "scheduled", "statusCode": 200, "latencyMs": 127, "responseExcerpt": "ok", "error": null}]})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn get_delivery(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeliveryDetail>> {
    Ok(Json(delivery(&s, &caller, &id).await?))
}

pub async fn delivery(s: &AppState, caller: &Caller, id: &str) -> ApiResult<DeliveryDetail> {
    let row = find_delivery(s, caller, id).await?;
    let attempts = sqlx::query_as::<
        _,
        (
            i64,
            String,
            Option<i64>,
            i64,
            Option<String>,
            Option<String>,
        ),
    >(
        "SELECT at, trigger, status_code, latency_ms, response_excerpt, error FROM webhook_attempts
         WHERE delivery_id = ? ORDER BY id",
    )
    .bind(id)
    .fetch_all(&s.db)
    .await?
    .into_iter()
    .map(
        |(at, trigger, status_code, latency_ms, response_excerpt, error)| AttemptView {
            at,
            trigger,
            status_code,
            latency_ms,
            response_excerpt,
            error,
        },
    )
    .collect();
    let body = row.body.clone();
    Ok(DeliveryDetail {
        delivery: row.into(),
        body,
        attempts_log: attempts,
    })
}

/// Sends a delivery again now (also one already delivered: "send again"), same event id.
#[utoipa::path(
    post, path = "/api/webhooks/deliveries/{id}/retry", operation_id = "retryDelivery", tag = "webhooks",
    params(("id" = String, Path, description = "The delivery's id.")),
    responses(
        (status = 200, description = "Queued; the dispatcher sends it at once.", body = Done, example = json!({"success": true})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn retry_delivery(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Done>> {
    retry(&s, &caller, &id).await?;
    Ok(Json(Done::OK))
}

pub async fn retry(s: &AppState, caller: &Caller, id: &str) -> ApiResult<()> {
    find_delivery(s, caller, id).await?;
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, manual = 1, updated_at = ?
         WHERE id = ?",
    )
    .bind(now_ms())
    .bind(now_ms())
    .bind(id)
    .execute(&s.db)
    .await?;
    s.webhooks.wake.notify_one();
    Ok(())
}

/// `POST /api/webhooks/test`: the session whose endpoint gets the event; none: the global one.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct TestRequest {
    #[serde(default)]
    session_id: Option<SessionId>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct TestData {
    session_id: Option<SessionId>,
    message: &'static str,
}

impl crate::events::Event for TestData {
    const NAME: &'static str = event::WEBHOOK_TEST;
    fn session(&self) -> Option<&SessionId> {
        self.session_id.as_ref()
    }
}

/// The queued test event.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TestAnswer {
    success: bool,
    event_id: String,
}

/// `POST /api/webhooks/test {"sessionId"?}`: a `webhook.test` event to that session's endpoint,
/// or to the global one (admin) when no session is named.
#[utoipa::path(
    post, path = "/api/webhooks/test", operation_id = "sendTestEvent", tag = "webhooks",
    request_body(content = TestRequest, example = json!({"sessionId": "9f8e7d6c5b4a3921"})),
    responses(
        (status = 200, description = "Queued.", body = TestAnswer, example = json!({"success": true, "eventId": "e1f2a3b4c5d6e7f8"})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn test_event(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<TestRequest>,
) -> ApiResult<Json<TestAnswer>> {
    let event_id = send_test(&s, &caller, req.session_id).await?;
    Ok(Json(TestAnswer {
        success: true,
        event_id,
    }))
}

/// Queues a `webhook.test` event; answers its id.
pub async fn send_test(
    s: &AppState,
    caller: &Caller,
    session: Option<SessionId>,
) -> ApiResult<String> {
    let session = match session {
        Some(id) => Some(owned_session(s, caller, id.0).await?),
        None => {
            caller.require_admin()?;
            None
        }
    };
    s.quotas.test_event(&caller.id)?;
    let endpoint: Option<(String, bool)> =
        sqlx::query_as("SELECT id, enabled FROM webhook_endpoints WHERE session_id IS ?")
            .bind(session.as_ref().map(SessionId::as_str))
            .fetch_optional(&s.db)
            .await?;
    let Some((endpoint_id, enabled)) = endpoint else {
        return Err(ApiError::invalid(
            "No webhook is configured here yet: save a URL first.",
        ));
    };
    if !enabled {
        // Queued, it would only fail at once: say why instead of answering success.
        return Err(ApiError::invalid(
            "This webhook is disabled (its receiver answered 410 Gone): save it again to re-enable it.",
        ));
    }
    let data = TestData {
        session_id: session.clone(),
        message: "This is a test event from Kabar.",
    };
    let event_id = crate::events::write(s, move |write| {
        Box::pin(async move { write.emit_to(&endpoint_id, &data).await })
    })
    .await?;
    Ok(event_id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_masked() {
        assert_eq!(super::mask(""), "");
        assert_eq!(super::mask("abc"), "••••••••");
        assert_eq!(super::mask("enc:v1:supersecretciphertext"), "••••••••");
    }
}
