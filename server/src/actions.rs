//! What a session does besides sending a message of its own (contract §11): react to a
//! message, edit or delete one of its own, show typing, mark received messages read, and ask
//! which numbers have WhatsApp. Each names messages by the `messageId` a send answered or a
//! webhook carried, looked up in the session's record, so a typo answers
//! `404 MESSAGE_NOT_FOUND` instead of reaching WhatsApp as a reaction to nothing.

use crate::{
    engine::{Action, MessageRef, Presence},
    error::{ApiError, ApiResult},
    messages,
    outbound::{engine_error, ensure_connected},
    phone::{self, Chat},
    sessions::SessionHandle,
    state::AppState,
};
use app::model::{
    CheckNumbers, CheckNumbersResponse, DeleteMessage, EditMessage, ErrorCode, MarkRead,
    MarkReadResponse, MessageActionResponse, NumberCheck, SendPresence, SendPresenceResponse,
    SendReaction, SessionId,
};

/// How long after sending WhatsApp lets a message be edited.
pub const EDIT_WINDOW_MS: i64 = 15 * 60 * 1000;
/// How long after sending WhatsApp lets a message be deleted for everyone (about two days).
pub const REVOKE_WINDOW_MS: i64 = 60 * 3600 * 1000;
/// The most numbers one `/check-numbers` asks about: WhatsApp bans accounts that probe many.
pub const MAX_CHECK_NUMBERS: usize = 50;
/// The most messages one `/mark-read` names.
pub const MAX_MARK_READ: usize = 256;

/// A message of the session's record, as an action needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Known {
    id: String,
    chat: String,
    direction: String,
    sender: Option<String>,
    #[sqlx(rename = "type")]
    kind: String,
    status: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl Known {
    fn chat(&self) -> Chat {
        Chat::from_display(&self.chat)
    }

    fn ours(&self) -> bool {
        self.direction == "out"
    }
}

const KNOWN: &str = "SELECT id, chat, direction, sender, type, status, created_at, revoked_at
     FROM messages WHERE session_id = ";

async fn find(state: &AppState, session: &SessionId, id: &str) -> ApiResult<Known> {
    Ok(find_all(state, session, &[id.to_string()]).await?.remove(0))
}

/// The named messages, in the order named (duplicates once), in one query; the first id the
/// session has no message for answers `404 MESSAGE_NOT_FOUND`.
async fn find_all(state: &AppState, session: &SessionId, ids: &[String]) -> ApiResult<Vec<Known>> {
    let mut wanted: Vec<&str> = Vec::with_capacity(ids.len());
    for id in ids {
        let id = id.trim();
        if id.is_empty() {
            return Err(ApiError::invalid("messageId: empty."));
        }
        if !wanted.contains(&id) {
            wanted.push(id);
        }
    }
    let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(KNOWN);
    query.push_bind(session.as_str()).push(" AND id IN (");
    let mut list = query.separated(", ");
    for id in &wanted {
        list.push_bind(*id);
    }
    query.push(")");
    let mut rows: Vec<Known> = query.build_query_as().fetch_all(&state.db).await?;
    let mut found = Vec::with_capacity(wanted.len());
    for id in wanted {
        let Some(at) = rows.iter().position(|m| m.id == id) else {
            return Err(ApiError::new(
                ErrorCode::MessageNotFound,
                format!(
                    "This session has no message {id}. Use a messageId it sent or received \
                     (send answers and webhooks carry them)."
                ),
            ));
        };
        found.push(rows.swap_remove(at));
    }
    Ok(found)
}

fn answer(m: &Known, kind: &str) -> MessageActionResponse {
    MessageActionResponse {
        success: true,
        message_id: m.id.clone(),
        to: m.chat.clone(),
        kind: kind.to_string(),
        timestamp: crate::db::now_ms(),
    }
}

/// Reacts to a message of the session's chats (`""` takes the reaction back).
pub async fn react(
    state: &AppState,
    session: &SessionHandle,
    req: SendReaction,
) -> ApiResult<MessageActionResponse> {
    let emoji = req.emoji.trim();
    // One emoji is a few code points (flags, skin tones, families join several).
    if emoji.chars().count() > 16 || emoji.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "emoji: one emoji (or \"\" to remove the reaction).",
        ));
    }
    let m = find(state, &session.id, &req.message_id).await?;
    if m.revoked_at.is_some() {
        return Err(not_editable(
            "The message was deleted; it takes no reactions.",
        ));
    }
    ensure_connected(session)?;
    state.send_limits.check(&session.id)?;
    let target = MessageRef {
        id: m.id.clone(),
        from_me: m.ours(),
        sender: m.sender.clone(),
    };
    session
        .conn
        .act(Action::React {
            chat: m.chat(),
            target,
            emoji: emoji.to_string(),
        })
        .await
        .map_err(engine_error)?;
    Ok(answer(&m, "reaction"))
}

fn not_editable(message: &'static str) -> ApiError {
    ApiError::new(ErrorCode::NotEditable, message)
}

/// Replaces the text of one of the session's own text messages, within WhatsApp's 15 minutes;
/// the record keeps the new text and when it changed.
pub async fn edit(
    state: &AppState,
    session: &SessionHandle,
    req: EditMessage,
) -> ApiResult<MessageActionResponse> {
    if req.message.trim().is_empty() {
        return Err(ApiError::invalid("message: the new text is empty."));
    }
    if req.message.chars().count() > 65_536 {
        return Err(ApiError::invalid("message: at most 65536 characters."));
    }
    let m = find(state, &session.id, &req.message_id).await?;
    if !m.ours() || m.kind != "text" {
        return Err(not_editable(
            "Only the session's own text messages can be edited.",
        ));
    }
    if m.revoked_at.is_some() || m.status == "pending" {
        return Err(not_editable(
            "The message was deleted or has not left yet; it cannot be edited.",
        ));
    }
    if crate::db::now_ms() - m.created_at > EDIT_WINDOW_MS {
        return Err(not_editable(
            "WhatsApp lets a message be edited for 15 minutes after it was sent.",
        ));
    }
    ensure_connected(session)?;
    state.send_limits.check(&session.id)?;
    session
        .conn
        .act(Action::Edit {
            chat: m.chat(),
            id: m.id.clone(),
            text: req.message.clone(),
        })
        .await
        .map_err(engine_error)?;
    let edited = Change::Edited {
        id: m.id.clone(),
        text: req.message,
    };
    record(state, &session.id, m.chat(), edited).await;
    Ok(answer(&m, "edit"))
}

/// Deletes one of the session's own messages for everyone (WhatsApp allows about two days);
/// the record keeps it, marked with when it was deleted.
pub async fn delete(
    state: &AppState,
    session: &SessionHandle,
    req: DeleteMessage,
) -> ApiResult<MessageActionResponse> {
    let m = find(state, &session.id, &req.message_id).await?;
    if !m.ours() {
        return Err(not_editable(
            "Only the session's own messages can be deleted for everyone.",
        ));
    }
    if m.revoked_at.is_some() {
        return Err(not_editable("The message was deleted already."));
    }
    if m.status == "pending" {
        return Err(not_editable("The message has not left yet."));
    }
    if crate::db::now_ms() - m.created_at > REVOKE_WINDOW_MS {
        return Err(not_editable(
            "WhatsApp lets a message be deleted for everyone for about two days after it was sent.",
        ));
    }
    ensure_connected(session)?;
    state.send_limits.check(&session.id)?;
    session
        .conn
        .act(Action::Revoke {
            chat: m.chat(),
            id: m.id.clone(),
        })
        .await
        .map_err(engine_error)?;
    let revoked = Change::Revoked { id: m.id.clone() };
    record(state, &session.id, m.chat(), revoked).await;
    Ok(answer(&m, "delete"))
}

/// What an action changed in the record: an edit, a delete for everyone, or received
/// messages read.
#[derive(Clone)]
enum Change {
    Edited { id: String, text: String },
    Revoked { id: String },
    Read { ids: Vec<String> },
}

#[derive(Clone)]
struct ChangeRecord {
    session: SessionId,
    chat: Chat,
    change: Change,
}

impl ChangeRecord {
    async fn write(&self, state: &AppState) -> Result<(), sqlx::Error> {
        let this = self.clone();
        crate::events::write(state, move |write| {
            Box::pin(async move {
                let (conn, now) = (write.conn(), crate::db::now_ms());
                let (session, chat) = (&this.session, &this.chat);
                match &this.change {
                    Change::Edited { id, text } => {
                        messages::apply_edit(conn, session, chat, None, id, text, now).await
                    }
                    Change::Revoked { id } => {
                        messages::apply_revoke(conn, session, chat, None, id, now).await
                    }
                    Change::Read { ids } => messages::mark_read(conn, session, ids, now).await,
                }
            })
        })
        .await
    }
}

/// Records what an action changed. The action has reached WhatsApp, so a failed write is not
/// answered as a failure (which a client would retry, acting twice): it is retried in the
/// background until it lands, like a sent message's record.
async fn record(state: &AppState, session: &SessionId, chat: Chat, change: Change) {
    let change = ChangeRecord {
        session: session.clone(),
        chat,
        change,
    };
    if let Err(e) = change.write(state).await {
        tracing::error!(session = %change.session, error = %e, "an action reached WhatsApp; its record will be completed in the background");
        tokio::spawn(crate::events::retry_write(state.clone(), move |state| {
            let change = change.clone();
            Box::pin(async move { change.write(&state).await })
        }));
    }
}

/// Shows the chat that the session is typing, recording audio, or has stopped.
pub async fn presence(
    state: &AppState,
    session: &SessionHandle,
    req: SendPresence,
) -> ApiResult<SendPresenceResponse> {
    let Some(presence) = Presence::parse(req.state.trim()) else {
        return Err(ApiError::invalid(
            "state: `composing`, `recording` or `paused`.",
        ));
    };
    let to = phone::normalize(&req.to, state.config.default_country_code.as_deref())
        .map_err(|e| ApiError::new(ErrorCode::InvalidPhone, e.in_field("to")))?;
    ensure_connected(session)?;
    session
        .conn
        .act(Action::Presence {
            chat: to.clone(),
            state: presence,
        })
        .await
        .map_err(engine_error)?;
    Ok(SendPresenceResponse {
        success: true,
        to: to.display().to_string(),
        state: presence.as_str().to_string(),
    })
}

/// Sends read receipts (blue ticks) for received messages of one chat.
pub async fn mark_read(
    state: &AppState,
    session: &SessionHandle,
    req: MarkRead,
) -> ApiResult<MarkReadResponse> {
    if req.message_ids.is_empty() || req.message_ids.len() > MAX_MARK_READ {
        return Err(ApiError::invalid(format!(
            "messageIds: 1 to {MAX_MARK_READ} ids."
        )));
    }
    let found = find_all(state, &session.id, &req.message_ids).await?;
    for m in &found {
        if m.ours() {
            return Err(ApiError::invalid(format!(
                "messageIds: {} is the session's own message; only received ones are marked read.",
                m.id
            )));
        }
        if found[0].chat != m.chat {
            return Err(ApiError::invalid(
                "messageIds: the messages belong to different chats; mark one chat at a time.",
            ));
        }
    }
    ensure_connected(session)?;
    let chat = found[0].chat();
    // In a group each author's messages get their own receipt.
    let mut authors: Vec<Option<String>> = Vec::new();
    for m in &found {
        let author = matches!(chat, Chat::Group(_))
            .then(|| m.sender.clone())
            .flatten();
        if !authors.contains(&author) {
            authors.push(author);
        }
    }
    for author in authors {
        let ids = found
            .iter()
            .filter(|m| !matches!(chat, Chat::Group(_)) || m.sender == author)
            .map(|m| m.id.clone())
            .collect();
        session
            .conn
            .act(Action::MarkRead {
                chat: chat.clone(),
                sender: author,
                ids,
            })
            .await
            .map_err(engine_error)?;
    }
    let ids: Vec<String> = found.into_iter().map(|m| m.id).collect();
    let read = Change::Read { ids: ids.clone() };
    record(state, &session.id, chat.clone(), read).await;
    Ok(MarkReadResponse {
        success: true,
        chat: chat.display().to_string(),
        message_ids: ids,
    })
}

/// Which numbers have WhatsApp, in one question to WhatsApp; a number that is not one answers
/// `phoneNumber: null, exists: false` rather than failing the others. Counts once against the
/// session's send rate.
pub async fn check_numbers(
    state: &AppState,
    session: &SessionHandle,
    req: CheckNumbers,
) -> ApiResult<CheckNumbersResponse> {
    if req.numbers.is_empty() || req.numbers.len() > MAX_CHECK_NUMBERS {
        return Err(ApiError::invalid(format!(
            "numbers: 1 to {MAX_CHECK_NUMBERS} numbers (WhatsApp bans accounts that check many)."
        )));
    }
    let cc = state.config.default_country_code.as_deref();
    let parsed: Vec<Option<String>> = req
        .numbers
        .iter()
        .map(|n| match phone::normalize(n, cc) {
            Ok(Chat::User(digits)) => Some(digits),
            _ => None,
        })
        .collect();
    let mut asked: Vec<String> = parsed.iter().flatten().cloned().collect();
    asked.sort();
    asked.dedup();
    ensure_connected(session)?;
    state.send_limits.check(&session.id)?;
    let exists = if asked.is_empty() {
        Vec::new()
    } else {
        session
            .conn
            .check_numbers(&asked)
            .await
            .map_err(engine_error)?
    };
    let results = req
        .numbers
        .into_iter()
        .zip(parsed)
        .map(|(input, digits)| {
            let exists = digits
                .as_ref()
                .and_then(|d| asked.iter().position(|a| a == d))
                .and_then(|i| exists.get(i).copied())
                .unwrap_or(false);
            NumberCheck {
                input,
                phone_number: digits,
                exists,
            }
        })
        .collect();
    Ok(CheckNumbersResponse {
        success: true,
        results,
    })
}
