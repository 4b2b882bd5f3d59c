//! What each session has been doing, for the Sessions overview: its owner's name, messages in
//! and out over the last 24 hours, the last message's time, and its webhook's backlog
//! (deliveries pending and failed). One query for all the caller's sessions, each figure an index range
//! (`messages_session_time`, `webhook_deliveries_endpoint_due`), so the list can ask every few
//! seconds.

use crate::{auth::extract::Caller, db::now_ms, error::ApiResult, state::AppState};
use app::model::{SessionActivity, SessionId};
use axum::extract::State;

/// The window of the message counts.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Each of your sessions' (an admin's: everyone's) last 24 hours: messages in and out, the
/// last message's time, and its webhook's pending and failed deliveries.
#[utoipa::path(
    get, path = "/api/sessions/activity", operation_id = "sessionsActivity", tag = "sessions",
    responses(
        (status = 200, description = "One entry per session, in the order of `GET /api/sessions`.", body = Vec<SessionActivity>,
            example = json!([{"sessionId": "9f8e7d6c5b4a3921", "ownerUsername": "budi", "messagesIn24h": 42, "messagesOut24h": 17, "lastActivityAt": 1735460000000_i64, "webhooksPending": 0, "webhooksFailed": 1}])),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 500, response = crate::openapi::InternalError),
    )
)]
pub(crate) async fn activity_handler(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<crate::json::Json<Vec<SessionActivity>>> {
    Ok(crate::json::Json(activity(&s, &caller).await?))
}

#[derive(sqlx::FromRow)]
struct ActivityRow {
    id: String,
    username: String,
    messages_in: i64,
    messages_out: i64,
    last_at: Option<i64>,
    pending: i64,
    failed: i64,
}

/// The activity of every session the caller sees (a scoped key: its one session).
pub async fn activity(state: &AppState, caller: &Caller) -> ApiResult<Vec<SessionActivity>> {
    let since = now_ms() - DAY_MS;
    let visible = caller.visible();
    let (all, owner, session) = visible.binds();
    let rows = sqlx::query_as::<_, ActivityRow>(
        "SELECT s.id, u.username,
            (SELECT COUNT(*) FROM messages m
              WHERE m.session_id = s.id AND m.created_at >= ? AND m.direction = 'in') AS messages_in,
            (SELECT COUNT(*) FROM messages m
              WHERE m.session_id = s.id AND m.created_at >= ? AND m.direction = 'out') AS messages_out,
            (SELECT MAX(m.created_at) FROM messages m WHERE m.session_id = s.id) AS last_at,
            (SELECT COUNT(*) FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
              WHERE e.session_id = s.id AND d.status = 'pending') AS pending,
            (SELECT COUNT(*) FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
              WHERE e.session_id = s.id AND d.status = 'failed') AS failed
         FROM sessions s JOIN users u ON u.id = s.owner_id
         WHERE (? = 1 OR s.owner_id = ?) AND (? IS NULL OR s.id = ?)
         ORDER BY s.created_at, s.id",
    )
    .bind(since)
    .bind(since)
    .bind(all)
    .bind(owner)
    .bind(session)
    .bind(session)
    .fetch_all(&state.db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionActivity {
            session_id: SessionId(r.id),
            owner_username: r.username,
            messages_in_24h: r.messages_in,
            messages_out_24h: r.messages_out,
            last_activity_at: r.last_at,
            webhooks_pending: r.pending,
            webhooks_failed: r.failed,
        })
        .collect())
}
