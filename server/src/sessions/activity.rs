//! What each session has been doing, for the Sessions overview: its owner's name, messages in
//! and out over the last 24 hours, the last message's time, and its webhook's backlog
//! (deliveries pending and failed). One query for all the caller's sessions, each figure an index range
//! (`messages_session_time`, `webhook_deliveries_endpoint_due`), so the list can ask every few
//! seconds; and `GET /api/sessions/events`, which says when to.

use crate::{
    auth::{extract::Caller, policy::Visible},
    db::now_ms,
    error::ApiResult,
    paging::{self, PageQuery, Paged},
    state::AppState,
};
use app::model::{SessionActivity, SessionId};
use axum::{
    extract::State,
    http::request::Parts,
    response::sse::{Event, Sse},
};
use futures_util::Stream;
use std::{convert::Infallible, time::Duration};
use tokio::sync::broadcast;

/// The window of the message counts.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Each of your sessions' (an admin's: everyone's) last 24 hours: messages in and out, the
/// last message's time, and its webhook's pending and failed deliveries.
#[utoipa::path(
    get, path = "/api/sessions/activity", operation_id = "sessionsActivity", tag = "sessions",
    params(crate::paging::PageQuery),
    responses(
        (status = 200, description = "One entry per session, in the order of `GET /api/sessions`; with `limit` \
            (and `cursor`), the sessions of that page of `GET /api/sessions` only, so a list shown a page at a time \
            costs one page of counting.", body = Vec<SessionActivity>,
            headers(("X-Next-Cursor" = String, description = "With `limit`: where the next page starts (absent on the last page).")),
            example = json!([{"sessionId": "9f8e7d6c5b4a3921", "ownerUsername": "budi", "messagesIn24h": 42, "messagesOut24h": 17, "lastActivityAt": 1735460000000_i64, "webhooksPending": 0, "webhooksFailed": 1}])),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 500, response = crate::openapi::InternalError),
    )
)]
pub(crate) async fn activity_handler(
    State(s): State<AppState>,
    caller: Caller,
    crate::json::Query(page): crate::json::Query<PageQuery>,
) -> ApiResult<Paged<SessionActivity>> {
    activity(&s, &caller, &page).await
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

/// The activity of every session the caller sees (a scoped key: its one session), or of the
/// sessions on one page of that list.
pub async fn activity(
    state: &AppState,
    caller: &Caller,
    page: &PageQuery,
) -> ApiResult<Paged<SessionActivity>> {
    // A page: the same cut as `GET /api/sessions` makes, and only its sessions are counted.
    let (only, next) = match paging::limit(page)? {
        None => (None, None),
        Some(_) => {
            let list = super::store::list(state, caller).await?;
            let Paged(shown, next) = paging::cut(page, list, |s| s.id.as_str())?;
            let ids: Vec<&str> = shown.iter().map(|s| s.id.as_str()).collect();
            (Some(serde_json::json!(ids).to_string()), next)
        }
    };
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
           AND (? IS NULL OR s.id IN (SELECT value FROM json_each(?)))
         ORDER BY s.created_at, s.id",
    )
    .bind(since)
    .bind(since)
    .bind(all)
    .bind(owner)
    .bind(session)
    .bind(session)
    .bind(only.as_deref())
    .bind(only.as_deref())
    .fetch_all(&state.db)
    .await?;
    let rows = rows
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
        .collect();
    Ok(Paged(rows, next))
}

/// `data` of a `changed` event of `GET /api/sessions/events`.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionsChanged {
    /// The sessions whose state, messages or webhook backlog changed. Empty: anything may
    /// have changed (the first event of every connection, after the stream fell behind, and
    /// once a minute), so read the whole list again.
    pub session_ids: Vec<SessionId>,
}

/// Changes within a second of the first go out as one event: a listener that reads a list
/// again for each event does so once a second at most, however busy the sessions are.
const GATHER: Duration = Duration::from_secs(1);
/// An empty `changed` this often, so figures that move without an event (the 24-hour window
/// sliding on) are read again now and then.
const EVERY: Duration = Duration::from_secs(60);

/// `text/event-stream` of `changed` events: which of your sessions (an admin's: anyone's)
/// changed — state, messages, webhook backlog — so a list can read them again instead of
/// asking every few seconds. An empty list first, then changes as they are committed.
#[utoipa::path(
    get, path = "/api/sessions/events", operation_id = "sessionsEvents", tag = "sessions",
    responses(
        (status = 200, description = "Server-sent events, each `event: changed` with a `SessionsChanged` as `data`: \
            an empty list at once (read the list now), then the sessions whose state, messages or webhook backlog changed, \
            the changes of a second in one event; an empty list again after falling behind and once a minute.",
            content_type = "text/event-stream", body = crate::openapi::SessionsChangedEvent,
            example = json!({"event": "changed", "data": "{\"sessionIds\":[\"9f8e7d6c5b4a3921\"]}"})),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 429, response = crate::openapi::RateLimited),
        (status = 500, response = crate::openapi::InternalError),
    )
)]
pub(crate) async fn changes_handler(
    State(s): State<AppState>,
    caller: Caller,
    parts: Parts,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let visible = caller.visible();
    let changes = s.sessions.follow_changes();
    let state = s.clone();
    let events = futures_util::stream::unfold(
        (changes, true, tokio::time::Instant::now() + EVERY),
        move |(mut changes, first, mut refresh)| {
            let (state, visible) = (state.clone(), visible.clone());
            async move {
                if first {
                    return Some((changed(Vec::new()), (changes, false, refresh)));
                }
                let ids = next_changes(&state, &visible, &mut changes, &mut refresh).await?;
                Some((changed(ids), (changes, false, refresh)))
            }
        },
    );
    let reach = super::store::Reach::Sees(caller.visible());
    super::store::event_stream(&s, &caller, parts, reach, events)
}

fn changed(session_ids: Vec<SessionId>) -> Result<Event, Infallible> {
    Ok(Event::default()
        .event("changed")
        .json_data(SessionsChanged { session_ids })
        .unwrap_or_default())
}

/// Waits for the next changes the caller may see and gathers those that follow within
/// [`GATHER`]; empty when the minute is up or the stream fell behind; `None` at shutdown.
async fn next_changes(
    state: &AppState,
    visible: &Visible,
    changes: &mut broadcast::Receiver<SessionId>,
    refresh: &mut tokio::time::Instant,
) -> Option<Vec<SessionId>> {
    let sees = |id: &SessionId| match visible {
        Visible::All => true,
        Visible::Owner(user) => state.sessions.owner_of(id).as_ref() == Some(user),
        Visible::Session(_, session) => id == session,
    };
    let mut ids: Vec<SessionId> = Vec::new();
    let mut gather_until = None;
    loop {
        let deadline = gather_until.unwrap_or(*refresh);
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => {
                if gather_until.is_none() {
                    *refresh = tokio::time::Instant::now() + EVERY;
                    return Some(Vec::new());
                }
                return Some(ids);
            }
            got = changes.recv() => match got {
                Ok(id) if sees(&id) => {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                    gather_until.get_or_insert_with(|| tokio::time::Instant::now() + GATHER);
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => return Some(Vec::new()),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}
