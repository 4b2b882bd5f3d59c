//! The message record: every message a session sends or receives, written once and looked up
//! for quoting, receipts, and the message log (`GET /api/messages`, the dashboard's Messages).

use crate::{
    auth::extract::Caller,
    db::Db,
    engine::Quoted,
    error::{ApiError, ApiResult},
    json::{Json, Query},
    openapi::{BadRequest, Forbidden, InternalError, NotFound, Unauthorized},
    phone::{self, Chat},
    sessions::store,
    state::AppState,
};
use app::model::{
    ChatFilter, ChatLastMessage, ChatView, Details, ErrorCode, MediaInfo, MessageEvent,
    MessageFilter, MessageView, SessionId,
};
use axum::{
    Router,
    extract::{Path, State},
    routing::get,
};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/messages", get(list_handler))
        .route("/api/sessions/{id}/chats", get(chats_handler))
        .route("/api/messages/{id}/events", get(events_handler))
}

/// The webhook events about a message of your sessions (an admin's: any), oldest first: its
/// `message.in` or `message.out` and what followed (`message.status`, `message.edited`,
/// `message.revoked`), each body exactly as it was signed and sent to the webhooks that wanted
/// it (none when no webhook was set). For checking what an integration got; the deliveries and
/// their attempts are in `GET /api/webhooks/deliveries`.
#[utoipa::path(
    get, path = "/api/messages/{id}/events", operation_id = "listMessageEvents", tag = "messages",
    params(("id" = String, Path, description = "The message id (`messageId`)."), crate::media::MediaQuery),
    responses(
        (status = 200, description = "The events, oldest first (at most 50).", body = Vec<MessageEvent>, example = json!([
            {"id": "msg_K2b7c9d1e4fQ8xYzA1bC3w", "event": "message.in", "createdAt": 1735460000000_i64,
             "body": "{\"event\":\"message.in\",\"data\":{\"sessionId\":\"9f8e7d6c5b4a3921\",\"messageId\":\"3EB0C767D71D\",\"from\":\"6281234567890\",\"pushName\":\"Siti\",\"type\":\"text\",\"message\":\"Masih ada stok?\",\"timestamp\":1735459999990},\"timestamp\":1735460000000}"}
        ])),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn events_handler(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<crate::media::MediaQuery>,
) -> ApiResult<Json<Vec<MessageEvent>>> {
    Ok(Json(events(&s, &caller, &id, q.session.as_deref()).await?))
}

/// The session of message `id` among the caller's (of `session` when given): one, or
/// `404 MESSAGE_NOT_FOUND`, or `400 SESSION_REQUIRED` when ids collide across them.
pub async fn session_of(
    state: &AppState,
    caller: &Caller,
    id: &str,
    session: Option<&str>,
) -> ApiResult<String> {
    let session = session.map(str::trim).filter(|s| !s.is_empty());
    let visible = caller.visible();
    let (all, owner, scope) = visible.binds();
    let sessions: Vec<(String,)> = sqlx::query_as(
        "SELECT m.session_id FROM messages m JOIN sessions s ON s.id = m.session_id
         WHERE m.id = ? AND (? = 1 OR s.owner_id = ?)
           AND (? IS NULL OR m.session_id = ?) AND (? IS NULL OR m.session_id = ?)
         LIMIT 2",
    )
    .bind(id)
    .bind(all)
    .bind(owner)
    .bind(scope)
    .bind(scope)
    .bind(session)
    .bind(session)
    .fetch_all(&state.db)
    .await?;
    match sessions.as_slice() {
        [] => Err(ApiError::new(
            ErrorCode::MessageNotFound,
            "No such message in your sessions.",
        )),
        [(one,)] => Ok(one.clone()),
        _ => Err(ApiError::new(
            ErrorCode::SessionRequired,
            "Several of your sessions have a message with this id: add ?session=<id>.",
        )),
    }
}

/// A message's webhook events, through `webhook_events_message` (the message id is stored
/// beside each event that has one).
const EVENTS_OF_MESSAGE: &str = "SELECT id, event, created_at, body FROM webhook_events
     WHERE session_id = ? AND message_id = ?
     ORDER BY created_at, id LIMIT 50";

/// The webhook events about message `id` (see [`events_handler`]).
pub async fn events(
    state: &AppState,
    caller: &Caller,
    id: &str,
    session: Option<&str>,
) -> ApiResult<Vec<MessageEvent>> {
    let session = session_of(state, caller, id, session).await?;
    let rows: Vec<(String, String, i64, String)> = sqlx::query_as(EVENTS_OF_MESSAGE)
        .bind(&session)
        .bind(id)
        .fetch_all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, event, created_at, body)| MessageEvent {
            id,
            event,
            created_at,
            body,
        })
        .collect())
}

/// The message log, newest first: every message your sessions sent or received (an admin's:
/// all). A bad filter answers 400 naming it.
#[utoipa::path(
    get, path = "/api/messages", operation_id = "listMessages", tag = "messages",
    params(MessageFilter),
    responses(
        (status = 200, description = "The messages.", body = Vec<MessageView>, example = json!([{"id": "ABC123XYZ", "sessionId": "9f8e7d6c5b4a3921", "direction": "out", "chat": "6281234567890", "sender": null, "type": "text", "message": "Halo dari API!", "source": "api", "quotedMessageId": null, "status": "sent", "createdAt": 1735460000000_i64, "updatedAt": 1735460000000_i64, "body": "Halo dari API!", "quotedId": null}])),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn list_handler(
    State(s): State<AppState>,
    caller: Caller,
    Query(f): Query<MessageFilter>,
) -> ApiResult<Json<Vec<MessageView>>> {
    Ok(Json(list(&s, &caller, f).await?))
}

/// The newest messages first, of the caller's sessions (every session for an admin). Filter
/// values are checked, so a typo answers 400 rather than an empty log.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    f: MessageFilter,
) -> ApiResult<Vec<MessageView>> {
    let some = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let session = some(f.session).map(SessionId);
    if let Some(id) = &session {
        store::owned(state, caller, id).await?;
    }
    let direction = some(f.direction);
    if let Some(d) = &direction
        && d != "in"
        && d != "out"
    {
        return Err(ApiError::invalid("`direction` must be `in` or `out`."));
    }
    let chat = match some(f.chat) {
        None => None,
        Some(c) => Some(
            phone::normalize(&c, state.config.default_country_code.as_deref())
                .map_err(|_| ApiError::invalid("`chat` is not a phone number or a WhatsApp JID."))?
                .display()
                .to_string(),
        ),
    };
    let kind = some(f.kind);
    let limit = match f.limit {
        None => 100,
        Some(n @ 1..=500) => n,
        Some(_) => return Err(ApiError::invalid("`limit` must be between 1 and 500.")),
    };
    let visible = caller.visible();
    let (all, owner, scope) = visible.binds();
    let rows = sqlx::query_as::<_, MessageRow>(
        "SELECT m.id, m.session_id, m.direction, m.chat, m.sender, m.type, m.body, m.source,
                m.quoted_id, m.status, m.created_at, m.updated_at, m.media_mimetype,
                m.media_size, m.media_filename, m.media_sha256, m.details, m.edited_at,
                m.revoked_at, m.push_name
         FROM messages m JOIN sessions s ON s.id = m.session_id
         WHERE (? = 1 OR s.owner_id = ?) AND (? IS NULL OR m.session_id = ?)
           AND (? IS NULL OR m.session_id = ?)
           AND (? IS NULL OR m.direction = ?) AND (? IS NULL OR m.chat = ?)
           AND (? IS NULL OR m.type = ?) AND (? IS NULL OR m.created_at < ?)
         ORDER BY m.created_at DESC, m.rowid DESC LIMIT ?",
    )
    .bind(all)
    .bind(owner)
    .bind(scope)
    .bind(scope)
    .bind(session.as_ref().map(SessionId::as_str))
    .bind(session.as_ref().map(SessionId::as_str))
    .bind(&direction)
    .bind(&direction)
    .bind(&chat)
    .bind(&chat)
    .bind(&kind)
    .bind(&kind)
    .bind(f.before)
    .bind(f.before)
    .bind(limit)
    .fetch_all(&state.db)
    .await?;
    Ok(rows.into_iter().map(MessageRow::view).collect())
}

/// A session's chats, the one written in most recently first: each with the contact's push
/// name or the group's name and its newest message. Open one with
/// `GET /api/messages?session=…&chat=…`.
#[utoipa::path(
    get, path = "/api/sessions/{id}/chats", operation_id = "listChats", tag = "messages",
    params(("id" = String, Path, description = "The session."), ChatFilter),
    responses(
        (status = 200, description = "The chats, newest first.", body = Vec<ChatView>, example = json!([
            {"chat": "6281234567890", "isGroup": false, "pushName": "Siti", "subject": null, "unanswered": 2, "lastMessage": {"id": "3EB0C767D71D", "direction": "in", "type": "text", "message": "Masih ada stok?", "status": "received", "createdAt": 1735460000000_i64}},
            {"chat": "120363025246125486@g.us", "isGroup": true, "pushName": null, "subject": "Reseller Kopi Gayo", "unanswered": 0, "lastMessage": {"id": "ABC123XYZ", "direction": "out", "type": "image", "message": "Katalog baru", "status": "read", "createdAt": 1735459000000_i64}}
        ])),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn chats_handler(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(f): Query<ChatFilter>,
) -> ApiResult<Json<Vec<ChatView>>> {
    Ok(Json(chats(&s, &caller, &SessionId(id), f).await?))
}

/// The chats of `session` the caller may see, newest first (see [`chats_handler`]).
pub async fn chats(
    state: &AppState,
    caller: &Caller,
    session: &SessionId,
    f: ChatFilter,
) -> ApiResult<Vec<ChatView>> {
    store::owned(state, caller, session).await?;
    let limit = match f.limit {
        None => 50,
        Some(n @ 1..=200) => n,
        Some(_) => return Err(ApiError::invalid("`limit` must be between 1 and 200.")),
    };
    // Each chat's newest time from the (session, chat, time) index alone, then one probe per
    // chat shown for that message and for the newest push name.
    let rows = sqlx::query_as::<_, ChatRow>(
        "WITH latest AS (
             SELECT chat, MAX(created_at) AS at FROM messages WHERE session_id = ?
             GROUP BY chat HAVING ? IS NULL OR MAX(created_at) < ?
             ORDER BY at DESC LIMIT ?)
         SELECT l.chat, m.id, m.direction, m.type, m.body, m.status, m.created_at, m.revoked_at,
                (SELECT p.push_name FROM messages p
                  WHERE p.session_id = m.session_id AND p.chat = l.chat AND p.push_name IS NOT NULL
                  ORDER BY p.created_at DESC LIMIT 1) AS push_name,
                (SELECT COUNT(*) FROM messages u
                  WHERE u.session_id = m.session_id AND u.chat = l.chat AND u.direction = 'in'
                    AND u.type <> 'reaction'
                    AND u.created_at > COALESCE((SELECT MAX(o.created_at) FROM messages o
                        WHERE o.session_id = m.session_id AND o.chat = l.chat
                          AND o.direction = 'out'), 0)) AS unanswered
         FROM latest l JOIN messages m ON m.rowid = (
             SELECT x.rowid FROM messages x WHERE x.session_id = ? AND x.chat = l.chat
             ORDER BY x.created_at DESC, x.rowid DESC LIMIT 1)
         ORDER BY l.at DESC, l.chat",
    )
    .bind(session.as_str())
    .bind(f.before)
    .bind(f.before)
    .bind(limit)
    .bind(session.as_str())
    .fetch_all(&state.db)
    .await?;
    let mut chats: Vec<ChatView> = rows.into_iter().map(ChatRow::view).collect();
    // Groups by their names, as the session's number knows them (asked of WhatsApp, kept a
    // minute): only when the page has a group chat.
    if chats.iter().any(|c| c.is_group)
        && let Some(handle) = state.sessions.get(session)
    {
        let names = handle.group_names().await;
        for c in chats.iter_mut().filter(|c| c.is_group) {
            c.subject = names
                .iter()
                .find(|(jid, _)| *jid == c.chat)
                .map(|(_, name)| name.clone());
        }
    }
    Ok(chats)
}

#[derive(sqlx::FromRow)]
struct ChatRow {
    chat: String,
    id: String,
    direction: String,
    #[sqlx(rename = "type")]
    kind: String,
    body: String,
    status: String,
    created_at: i64,
    revoked_at: Option<i64>,
    push_name: Option<String>,
    unanswered: i64,
}

impl ChatRow {
    fn view(self) -> ChatView {
        let is_group = matches!(Chat::from_display(&self.chat), Chat::Group(_));
        ChatView {
            // A group's push names are its members'.
            push_name: self.push_name.filter(|_| !is_group),
            subject: None,
            is_group,
            unanswered: self.unanswered,
            chat: self.chat,
            last_message: ChatLastMessage {
                id: self.id,
                direction: self.direction,
                kind: self.kind,
                message: self.body,
                status: self.status,
                created_at: self.created_at,
                revoked_at: self.revoked_at,
            },
        }
    }
}

/// The reactions on each of `messages` (session id, message id) as their chats show them now:
/// each person's latest emoji (one taken back, `""`, is gone), in the order the people first
/// reacted. Messages without reactions are absent.
pub async fn reactions(
    db: &Db,
    messages: &[(String, String)],
) -> Result<HashMap<(String, String), Vec<String>>, sqlx::Error> {
    if messages.is_empty() {
        return Ok(HashMap::new());
    }
    let mut q = sqlx::QueryBuilder::new(
        "SELECT session_id, quoted_id, sender, body FROM messages
         WHERE type = 'reaction' AND (session_id, quoted_id) IN (VALUES ",
    );
    for (i, (session, id)) in messages.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" })
            .push_bind(session)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(") ORDER BY created_at, rowid");
    let rows: Vec<(String, String, Option<String>, String)> =
        q.build_query_as().fetch_all(db).await?;
    let mut on = HashMap::<(String, String), Vec<(Option<String>, String)>>::new();
    for (session, target, sender, emoji) in rows {
        let people = on.entry((session, target)).or_default();
        match people.iter_mut().find(|(who, _)| *who == sender) {
            Some((_, latest)) => *latest = emoji,
            None => people.push((sender, emoji)),
        }
    }
    Ok(on
        .into_iter()
        .filter_map(|(message, people)| {
            let emoji: Vec<String> = people
                .into_iter()
                .map(|(_, e)| e)
                .filter(|e| !e.is_empty())
                .collect();
            (!emoji.is_empty()).then_some((message, emoji))
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: String,
    session_id: String,
    direction: String,
    chat: String,
    sender: Option<String>,
    #[sqlx(rename = "type")]
    kind: String,
    body: String,
    source: Option<String>,
    quoted_id: Option<String>,
    status: String,
    created_at: i64,
    updated_at: i64,
    media_mimetype: Option<String>,
    media_size: Option<i64>,
    media_filename: Option<String>,
    media_sha256: Option<String>,
    details: Option<String>,
    edited_at: Option<i64>,
    revoked_at: Option<i64>,
    push_name: Option<String>,
}

impl MessageRow {
    fn view(self) -> MessageView {
        let media = match (self.media_mimetype, self.media_size, self.media_sha256) {
            (Some(mimetype), Some(size), Some(sha256)) => Some(
                MediaMeta {
                    mimetype,
                    size: size as u64,
                    filename: self.media_filename,
                    sha256,
                }
                .info(&self.id),
            ),
            _ => None,
        };
        let details = details_of(self.details.as_deref());
        MessageView {
            media,
            location: details.location,
            contacts: details.contacts,
            poll: details.poll,
            edited_at: self.edited_at,
            revoked_at: self.revoked_at,
            id: self.id,
            session_id: SessionId(self.session_id),
            direction: self.direction,
            chat: self.chat,
            sender: self.sender,
            push_name: self.push_name,
            kind: self.kind,
            message: self.body.clone(),
            source: self.source,
            quoted_message_id: self.quoted_id.clone(),
            status: self.status,
            body: self.body,
            quoted_id: self.quoted_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

/// Who made an outgoing message (`message.out`'s `source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Api,
    AutoReply,
    /// Typed on the linked phone.
    Device,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::AutoReply => "auto_reply",
            Source::Device => "device",
        }
    }
}

/// A media message's file as the record keeps it (the bytes: [`crate::media`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaMeta {
    pub mimetype: String,
    pub size: u64,
    pub filename: Option<String>,
    pub sha256: String,
}

impl MediaMeta {
    /// As webhooks and the message log show it, for the message `id`.
    pub fn info(&self, id: &str) -> MediaInfo {
        MediaInfo {
            mimetype: self.mimetype.clone(),
            size: self.size,
            filename: self.filename.clone(),
            sha256: self.sha256.clone(),
            url: format!("/api/messages/{id}/media"),
        }
    }
}

/// One row of the record.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub id: &'a str,
    pub session: &'a SessionId,
    pub direction: Direction,
    pub chat: &'a Chat,
    pub sender: Option<&'a str>,
    pub kind: &'a str,
    pub body: &'a str,
    pub source: Option<Source>,
    pub quoted_id: Option<&'a str>,
    pub timestamp_ms: i64,
    pub media: Option<&'a MediaMeta>,
    /// A location's, contact card's or poll's content.
    pub details: Option<&'a Details>,
    /// The contact's push name, for messages in.
    pub push_name: Option<&'a str>,
}

/// The stored `details` column back as the shape webhooks show; a value this version cannot
/// read (written by a newer one) shows as none rather than failing the log.
pub fn details_of(stored: Option<&str>) -> Details {
    stored
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

/// Records a message. A repeat of the same id (an engine redelivering) changes nothing and
/// answers `false`, so callers do not emit its events twice.
pub async fn record(
    db: impl sqlx::SqliteExecutor<'_>,
    m: NewMessage<'_>,
) -> Result<bool, sqlx::Error> {
    let status = recorded_status(m.direction);
    insert(db, m, status).await
}

/// Records an outgoing message as `pending` before the engine sends it, so that a message
/// that leaves is always in the record (and a database that refuses writes stops the send).
/// [`SETTLE`] marks it sent; [`forget_pending`] drops it when the engine refused.
pub async fn record_pending(
    db: impl sqlx::SqliteExecutor<'_>,
    m: NewMessage<'_>,
) -> Result<bool, sqlx::Error> {
    insert(db, m, "pending").await
}

/// The engine sent the pending message `planned`, as `actual` (engines that choose their own
/// id, a poll's, answer another): the record takes that id and `sent` — unless a receipt
/// already moved it further.
///
/// Sent in one statement list with the `message.out` event
/// (`crate::events::Write::settle_and_emit`).
pub(crate) const SETTLE: &str =
    "UPDATE messages SET id = ?, status = CASE status WHEN 'pending' THEN 'sent' ELSE status END,
                         updated_at = ?
     WHERE session_id = ? AND id = ? AND direction = 'out'";

/// Binds [`SETTLE`]'s values.
pub(crate) fn bind_settle<'q>(
    query: crate::db::Query<'q>,
    session: &'q SessionId,
    planned: &'q str,
    actual: &'q str,
) -> crate::db::Query<'q> {
    query
        .bind(actual)
        .bind(crate::db::now_ms())
        .bind(session.as_str())
        .bind(planned)
}

/// The engine did not send the pending message: it leaves the record.
pub async fn forget_pending(
    db: impl sqlx::SqliteExecutor<'_>,
    session: &SessionId,
    planned: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM messages WHERE session_id = ? AND id = ? AND status = 'pending'")
        .bind(session.as_str())
        .bind(planned)
        .execute(db)
        .await?;
    Ok(())
}

async fn insert(
    db: impl sqlx::SqliteExecutor<'_>,
    m: NewMessage<'_>,
    status: &str,
) -> Result<bool, sqlx::Error> {
    let done = bind_insert(sqlx::query(INSERT), m, status)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The statement that records a message: it changes one row, or none for a repeat of an id
/// already recorded. Public to the crate for a statement list that carries the message's
/// event with it (`crate::events::Write::record_and_emit`).
pub(crate) const INSERT: &str =
    "INSERT INTO messages (id, session_id, direction, chat, sender, type, body, source,
                           quoted_id, status, created_at, updated_at, media_mimetype,
                           media_size, media_filename, media_sha256, details, push_name)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (session_id, id) DO NOTHING";

/// Binds [`INSERT`]'s values: `m` with `status` (`received`, `sent` or `pending`).
pub(crate) fn bind_insert<'q>(
    query: crate::db::Query<'q>,
    m: NewMessage<'q>,
    status: &'q str,
) -> crate::db::Query<'q> {
    let direction = match m.direction {
        Direction::In => "in",
        Direction::Out => "out",
    };
    query
        .bind(m.id)
        .bind(m.session.as_str())
        .bind(direction)
        .bind(m.chat.display())
        .bind(m.sender)
        .bind(m.kind)
        .bind(m.body)
        .bind(m.source.map(Source::as_str))
        .bind(m.quoted_id)
        .bind(status)
        .bind(m.timestamp_ms)
        .bind(m.timestamp_ms)
        .bind(m.media.map(|x| x.mimetype.as_str()))
        .bind(m.media.map(|x| x.size as i64))
        .bind(m.media.and_then(|x| x.filename.as_deref()))
        .bind(m.media.map(|x| x.sha256.as_str()))
        .bind(
            m.details
                .filter(|d| !d.is_empty())
                .and_then(|d| serde_json::to_string(d).ok()),
        )
        .bind(m.push_name)
}

/// The status a message is recorded with by [`record`].
pub(crate) fn recorded_status(direction: Direction) -> &'static str {
    match direction {
        Direction::In => "received",
        Direction::Out => "sent",
    }
}

/// What a reply needs about the message `id` of this session, if it is in the record.
pub async fn quoted(
    db: &Db,
    session: &SessionId,
    id: &str,
) -> Result<Option<(Chat, Quoted)>, sqlx::Error> {
    let row: Option<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT chat, direction, sender, body FROM messages WHERE session_id = ? AND id = ?",
    )
    .bind(session.as_str())
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(chat, direction, sender, body)| {
        let sender = if direction == "in" { sender } else { None };
        (
            Chat::from_display(&chat),
            Quoted {
                id: id.to_string(),
                sender,
                text: Some(body),
            },
        )
    }))
}

/// Marks sent messages `delivered`, `read` or `played` (from WhatsApp's receipts); answers
/// each message whose status moved, with its chat. A status never goes back: a late
/// "delivered" does not undo "read".
pub async fn set_status(
    db: &mut sqlx::SqliteConnection,
    session: &SessionId,
    ids: &[String],
    status: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rank = |s: &str| match s {
        "pending" => -1,
        "sent" => 0,
        "delivered" => 1,
        "read" => 2,
        _ => 3,
    };
    let mut moved = Vec::new();
    for id in ids {
        let chat: Option<(String,)> = sqlx::query_as(
            "UPDATE messages SET status = ?, updated_at = ?
             WHERE session_id = ? AND id = ? AND direction = 'out'
               AND (CASE status WHEN 'pending' THEN -1 WHEN 'sent' THEN 0 WHEN 'delivered' THEN 1
                                WHEN 'read' THEN 2 ELSE 3 END) < ?
             RETURNING chat",
        )
        .bind(status)
        .bind(crate::db::now_ms())
        .bind(session.as_str())
        .bind(id)
        .bind(rank(status))
        .fetch_optional(&mut *db)
        .await?;
        if let Some((chat,)) = chat {
            moved.push((id.clone(), chat));
        }
    }
    Ok(moved)
}

/// Received messages the session marked read (`/mark-read`): their status becomes `read`.
pub async fn mark_read(
    db: &mut sqlx::SqliteConnection,
    session: &SessionId,
    ids: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut q = sqlx::QueryBuilder::new("UPDATE messages SET status = 'read', updated_at = ");
    q.push_bind(now)
        .push(" WHERE session_id = ")
        .push_bind(session.as_str())
        .push(" AND direction = 'in' AND id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(id);
    }
    q.push(")").build().execute(db).await?;
    Ok(())
}

/// The options of a poll the session sent with `/send-poll` to `chat`, for its votes.
pub async fn poll_of(
    db: &Db,
    session: &SessionId,
    id: &str,
    chat: &str,
) -> Result<Option<app::model::PollInfo>, sqlx::Error> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT details FROM messages
         WHERE session_id = ? AND id = ? AND chat = ? AND direction = 'out' AND type = 'poll'",
    )
    .bind(session.as_str())
    .bind(id)
    .bind(chat)
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|(d,)| details_of(d.as_deref()).poll))
}

/// Which message of the chat a change may touch: a contact's own (`author`), or — a change
/// made on the linked phone, `author` `None` — the session's own.
macro_rules! change_target {
    () => {
        "session_id = ? AND id = ? AND chat = ? AND revoked_at IS NULL
         AND ((? IS NULL AND direction = 'out') OR (direction = 'in' AND sender = ?))"
    };
}

/// A contact's (or the phone's) edit: the message takes the new text.
pub async fn apply_edit(
    db: &mut sqlx::SqliteConnection,
    session: &SessionId,
    chat: &Chat,
    author: Option<&str>,
    target: &str,
    text: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "UPDATE messages SET body = ?, edited_at = ?, updated_at = ? WHERE ",
        change_target!()
    ))
    .bind(text)
    .bind(at)
    .bind(crate::db::now_ms())
    .bind(session.as_str())
    .bind(target)
    .bind(chat.display())
    .bind(author)
    .bind(author)
    .execute(db)
    .await?;
    Ok(())
}

/// A contact's (or the phone's) delete for everyone: the message is marked, its text kept.
pub async fn apply_revoke(
    db: &mut sqlx::SqliteConnection,
    session: &SessionId,
    chat: &Chat,
    author: Option<&str>,
    target: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "UPDATE messages SET revoked_at = ?, updated_at = ? WHERE ",
        change_target!()
    ))
    .bind(at)
    .bind(crate::db::now_ms())
    .bind(session.as_str())
    .bind(target)
    .bind(chat.display())
    .bind(author)
    .bind(author)
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::EVENTS_OF_MESSAGE;

    /// A message's events are found through the index on (session, message), never by
    /// reading the session's event bodies (a busy session keeps millions of them).
    #[tokio::test]
    async fn a_messages_events_are_read_by_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("k.db").display());
        let db = crate::db::connect(&url).await.expect("open");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {EVENTS_OF_MESSAGE}"
        )))
        .bind("s")
        .bind("m")
        .fetch_all(&db)
        .await
        .expect("plan");
        let plan: Vec<String> = rows
            .iter()
            .map(|r| sqlx::Row::get::<String, _>(r, "detail"))
            .collect();
        assert!(
            plan.iter().any(|d| d.starts_with(
                "SEARCH webhook_events USING INDEX webhook_events_message (session_id=? AND message_id=?)"
            )),
            "{plan:?}"
        );
    }
}
