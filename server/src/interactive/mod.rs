//! Interactive messages after they are sent: what each one offered is remembered
//! ([`remember`], in the send's transaction), answers are resolved against it ([`resolve`]) —
//! a tap on any engine, a typed "2" under a text-fallback menu, a poll vote — and become one
//! `interaction.button` / `interaction.list` event ([`record_answer`]); votes in polls of
//! `/send-poll` are [`poll_vote`]'s. Unanswered messages
//! with `expiresIn` get one `interaction.timeout` ([`expiry`]).
//!
//! Sending is [`crate::outbound::send_interactive`]; the model and its checks are
//! `app::model::interactive`.

pub mod expiry;

use crate::{
    db::{Db, now_ms},
    engine::{Answer, AnswerVia, Content, Inbound, Sent},
    error::{ApiError, ApiResult},
    messages::{self, Direction, NewMessage},
    outbound::Menu,
    phone::Chat,
    sessions::SessionHandle,
    state::AppState,
};
use app::model::{
    Fallback, InteractionButtonData, InteractionListData, Interactive, InteractiveKind, SessionId,
    interactive::pick_from_text,
};
use sha2::{Digest, Sha256};

/// How long a text-fallback menu answers a typed reply that does not quote it.
const TEXT_MENU_OPEN_MS: i64 = 24 * 3600 * 1000;

/// Until when each session's latest text-fallback menu may still be open (its send time plus
/// [`TEXT_MENU_OPEN_MS`]), so that a typed text in a session with no open menu — nearly every
/// text a gateway receives — is matched without a database read. Only an upper bound: a
/// session under it still reads its chat's menu (answered, timed out, another chat's). A
/// session is read once when first seen and again after its task starts; a bound is only ever
/// raised, never lowered, so a menu whose record is still being written is not skipped.
#[derive(Default)]
pub struct TextMenus(std::sync::Mutex<std::collections::HashMap<SessionId, Bound>>);

/// A session's bound, and whether it has been read from the database since its task started.
#[derive(Clone, Copy)]
struct Bound {
    until: i64,
    read: bool,
}

impl TextMenus {
    /// Notes a text menu sent at `at`; called before its record is written, so that a reply
    /// racing the write is looked up rather than skipped.
    pub fn sent(&self, session: &SessionId, at: i64) {
        self.raise(session, at.saturating_add(TEXT_MENU_OPEN_MS), false);
    }

    /// Has `session` read again at its next text (its task starts: another node may have sent
    /// menus meanwhile, and a deleted session's id may come back); its bound stays.
    pub fn forget(&self, session: &SessionId) {
        if let Some(b) = self.map().get_mut(session) {
            b.read = false;
        }
    }

    /// Raises the bound of `session` to `until`; `read`: what the database said.
    fn raise(&self, session: &SessionId, until: i64, read: bool) {
        let mut map = self.map();
        let b = map.entry(session.clone()).or_insert(Bound { until, read });
        b.until = b.until.max(until);
        b.read |= read;
    }

    fn bound(&self, session: &SessionId) -> Option<Bound> {
        self.map().get(session).copied()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<SessionId, Bound>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The session's default fallback (`PATCH /api/sessions/{id}` `fallback`).
pub async fn session_fallback(state: &AppState, session: &SessionId) -> ApiResult<Fallback> {
    let f: Option<(String,)> =
        sqlx::query_as("SELECT interactive_fallback FROM sessions WHERE id = ?")
            .bind(session.as_str())
            .fetch_optional(&state.db)
            .await?;
    Ok(f.and_then(|(f,)| Fallback::parse(&f)).unwrap_or_default())
}

/// Which fallback a message gets: the one it asked for, else the session's — where a session's
/// `poll` that this message cannot be (one choice, link buttons) becomes `text`, so a
/// session-wide setting never makes a valid request fail.
pub async fn choose_fallback(
    state: &AppState,
    session: &SessionId,
    asked: Option<Fallback>,
    message: &Interactive,
) -> ApiResult<Fallback> {
    if let Some(f) = asked {
        return Ok(f);
    }
    Ok(match session_fallback(state, session).await? {
        Fallback::Poll if message.poll().is_err() => Fallback::Text,
        f => f,
    })
}

/// What goes on the wire for `message` under `fallback`.
pub fn render(message: &Interactive, fallback: Fallback) -> ApiResult<Content> {
    Ok(match fallback {
        Fallback::None => Content::Interactive(message.clone()),
        Fallback::Text => Content::Text(message.text_menu()),
        Fallback::Poll => {
            let (question, options) = message.poll().map_err(ApiError::from)?;
            Content::Poll {
                question,
                options,
                multiple: false,
            }
        }
    })
}

/// Stores what a sent interactive message offered (in the transaction that records it).
pub async fn remember(
    conn: &mut sqlx::SqliteConnection,
    session: &SessionId,
    sent: &Sent,
    to: &Chat,
    menu: &Menu<'_>,
) -> Result<(), sqlx::Error> {
    let content =
        serde_json::to_string(menu.message).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let expires_at = menu
        .expires_in
        .map(|s| sent.timestamp_ms + (s as i64) * 1000);
    sqlx::query(
        "INSERT INTO interactive_messages (session_id, message_id, chat, kind, content, fallback,
                                           created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(session.as_str())
    .bind(&sent.id)
    .bind(to.display())
    .bind(menu.message.kind().as_str())
    .bind(content)
    .bind(menu.fallback.as_str())
    .bind(sent.timestamp_ms)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A stored interactive message.
struct Stored {
    message_id: String,
    message: Interactive,
    fallback: Fallback,
}

/// An answer matched to one choice of one stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub message_id: String,
    pub kind: InteractiveKind,
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

/// Which choice `m` picks, if it answers an interactive message this session sent to the same
/// chat. `None` — a plain `message.in` — for anything else: an unknown or foreign message id,
/// an id the message did not offer, a typed text that is not a choice.
pub async fn resolve(
    db: &Db,
    menus: &TextMenus,
    session: &SessionId,
    m: &Inbound,
) -> anyhow::Result<Option<Resolved>> {
    if m.from_me {
        return Ok(None);
    }
    let chat = m.chat.display();
    match &m.answer {
        Some(Answer::Selected {
            message_id,
            id,
            via,
        }) => {
            let Some(stored) = load(db, session, message_id, chat).await? else {
                return Ok(None);
            };
            let fits = match (via, stored.message.kind()) {
                (AnswerVia::NativeFlow, _) => true,
                (AnswerVia::Button, kind) => kind == InteractiveKind::Button,
                (AnswerVia::ListRow, kind) => kind == InteractiveKind::List,
            };
            Ok(fits
                .then(|| pick(&stored, |opts| opts.iter().position(|c| c.id == id)))
                .flatten())
        }
        Some(Answer::PollVote {
            poll_id,
            option_hashes,
        }) => {
            let Some(stored) = load(db, session, poll_id, chat).await? else {
                return Ok(None);
            };
            if stored.fallback != Fallback::Poll {
                return Ok(None);
            }
            Ok(pick(&stored, |opts| {
                opts.iter()
                    .position(|c| option_hashes.contains(&option_hash(c.title)))
            }))
        }
        None if m.kind == crate::engine::MessageKind::Text => {
            let stored = match &m.quoted_id {
                Some(q) => load(db, session, q, chat).await?,
                None => open_text_menu(db, menus, session, chat).await?,
            };
            Ok(stored.and_then(|s| pick(&s, |opts| pick_from_text(opts, &m.text))))
        }
        None => Ok(None),
    }
}

/// A vote in a poll sent with `/send-poll` (a menu's poll fallback is [`resolve`]'s): the
/// poll's id and the options chosen, in the poll's order. `None` for anything else, or a vote
/// in a poll this session did not send to that chat.
pub async fn poll_vote(
    db: &Db,
    session: &SessionId,
    m: &Inbound,
) -> Result<Option<(String, Vec<String>)>, sqlx::Error> {
    let Some(Answer::PollVote {
        poll_id,
        option_hashes,
    }) = &m.answer
    else {
        return Ok(None);
    };
    let Some(poll) = messages::poll_of(db, session, poll_id, m.chat.display()).await? else {
        return Ok(None);
    };
    let chosen = poll
        .options
        .into_iter()
        .filter(|o| option_hashes.contains(&option_hash(o)))
        .collect();
    Ok(Some((poll_id.clone(), chosen)))
}

/// WhatsApp identifies a poll option in a vote by the SHA-256 of its name.
pub fn option_hash(name: &str) -> [u8; 32] {
    Sha256::digest(name.as_bytes()).into()
}

fn pick(
    stored: &Stored,
    choose: impl FnOnce(&[app::model::interactive::Choice<'_>]) -> Option<usize>,
) -> Option<Resolved> {
    let options = stored.message.options();
    let c = options.get(choose(&options)?)?;
    Some(Resolved {
        message_id: stored.message_id.clone(),
        kind: stored.message.kind(),
        id: c.id.to_string(),
        title: c.title.to_string(),
        description: c.description.map(str::to_string),
    })
}

async fn load(
    db: &Db,
    session: &SessionId,
    id: &str,
    chat: &str,
) -> anyhow::Result<Option<Stored>> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT message_id, content, fallback FROM interactive_messages
         WHERE session_id = ? AND message_id = ? AND chat = ?",
    )
    .bind(session.as_str())
    .bind(id)
    .bind(chat)
    .fetch_optional(db)
    .await?;
    row.map(stored).transpose()
}

/// The chat's latest text-fallback menu, while it is open: unanswered, not timed out, and less
/// than a day old. Older menus answer only replies that quote them.
async fn open_text_menu(
    db: &Db,
    menus: &TextMenus,
    session: &SessionId,
    chat: &str,
) -> anyhow::Result<Option<Stored>> {
    let until = match menus.bound(session) {
        Some(b) if b.read => b.until,
        _ => {
            let (latest,): (Option<i64>,) = sqlx::query_as(
                "SELECT MAX(created_at) FROM interactive_messages
                 WHERE session_id = ? AND fallback = 'text'",
            )
            .bind(session.as_str())
            .fetch_one(db)
            .await?;
            let until = latest.map_or(i64::MIN, |t| t.saturating_add(TEXT_MENU_OPEN_MS));
            menus.raise(session, until, true);
            menus.bound(session).map_or(until, |b| b.until)
        }
    };
    if until <= now_ms() {
        return Ok(None);
    }
    #[derive(sqlx::FromRow)]
    struct Latest {
        message_id: String,
        content: String,
        fallback: String,
        open: bool,
    }
    let latest: Option<Latest> = sqlx::query_as(
        "SELECT message_id, content, fallback,
                answered_at IS NULL AND timed_out_at IS NULL AND created_at > ? AS open
         FROM interactive_messages
         WHERE session_id = ? AND chat = ? AND fallback = 'text'
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(now_ms() - TEXT_MENU_OPEN_MS)
    .bind(session.as_str())
    .bind(chat)
    .fetch_optional(db)
    .await?;
    match latest {
        Some(l) if l.open => stored((l.message_id, l.content, l.fallback)).map(Some),
        _ => Ok(None),
    }
}

fn stored((message_id, content, fallback): (String, String, String)) -> anyhow::Result<Stored> {
    Ok(Stored {
        message_id,
        message: serde_json::from_str(&content)?,
        fallback: Fallback::parse(&fallback).unwrap_or_default(),
    })
}

/// Records the answer `m` (as a received message) and its `interaction.*` event, and marks the
/// interactive message answered (no timeout after this), in one transaction.
pub async fn record_answer(
    state: &AppState,
    handle: &SessionHandle,
    m: &Inbound,
    r: &Resolved,
) -> anyhow::Result<()> {
    let (m2, r, session) = (m.clone(), r.clone(), handle.id.clone());
    let new = crate::events::write(state, move |write| {
        Box::pin(async move {
            let (m, r) = (&m2, &r);
            let crate::engine::Author {
                from,
                chat,
                participant,
            } = m.author();
            let body = if m.text.trim().is_empty() {
                &r.title
            } else {
                &m.text
            };
            let new = messages::record(
                write.conn(),
                NewMessage {
                    id: &m.id,
                    session: &session,
                    direction: Direction::In,
                    chat: &m.chat,
                    sender: Some(&m.sender),
                    kind: m.kind.as_str(),
                    body,
                    source: None,
                    quoted_id: Some(&r.message_id),
                    timestamp_ms: m.timestamp_ms,
                    media: None,
                    details: None,
                    push_name: None,
                },
            )
            .await?;
            if !new {
                // WhatsApp delivered the same answer again: it was already reported.
                return Ok(false);
            }
            sqlx::query(
                "UPDATE interactive_messages SET answered_at = COALESCE(answered_at, ?)
                 WHERE session_id = ? AND message_id = ?",
            )
            .bind(m.timestamp_ms)
            .bind(session.as_str())
            .bind(&r.message_id)
            .execute(write.conn())
            .await?;
            match r.kind {
                InteractiveKind::Button => {
                    let data = InteractionButtonData {
                        session_id: session.clone(),
                        from,
                        chat,
                        message_id: r.message_id.clone(),
                        button_id: r.id.clone(),
                        button_text: r.title.clone(),
                        timestamp: m.timestamp_ms,
                        participant,
                    };
                    write.emit(&data).await?;
                }
                InteractiveKind::List => {
                    let data = InteractionListData {
                        session_id: session.clone(),
                        from,
                        chat,
                        message_id: r.message_id.clone(),
                        row_id: r.id.clone(),
                        row_title: r.title.clone(),
                        row_description: r.description.clone().unwrap_or_default(),
                        timestamp: m.timestamp_ms,
                        participant,
                    };
                    write.emit(&data).await?;
                }
            }
            Ok(true)
        })
    })
    .await?;
    if new {
        state.metrics.message("in", m.kind.as_str(), None);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_option_hashes_are_sha256_of_the_name() {
        // FIPS 180-2's test vector: what WhatsApp's vote for an option named "abc" carries.
        assert_eq!(
            hex::encode(option_hash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    /// A typed text reads a chat's menu only while the session may have one open: a session
    /// read once and found without one is answered from memory until a text menu is sent
    /// (`TextMenus::sent`) or its task starts again (`forget`); a menu past its day is closed.
    #[tokio::test]
    async fn a_text_reads_the_menu_only_while_one_may_be_open() {
        let (_dir, db) = crate::db::testing::with_session().await;
        let session = SessionId("s".into());
        let menus = TextMenus::default();
        let chat = "628111";
        let menu = |id: &'static str, at: i64| {
            let db = db.clone();
            async move {
                let content = serde_json::json!({"text": "Pilih", "body": {"type": "button",
                    "buttons": [{"kind": "quick_reply", "id": "a", "text": "A"}]}})
                .to_string();
                sqlx::query(
                    "INSERT INTO messages (id, session_id, direction, chat, type, body, status, created_at, updated_at)
                     VALUES (?1, 's', 'out', ?2, 'text', '', 'sent', ?3, ?3);
                     INSERT INTO interactive_messages (session_id, message_id, chat, kind, content, fallback, created_at)
                     VALUES ('s', ?1, ?2, 'button', ?4, 'text', ?3)",
                )
                .bind(id)
                .bind(chat)
                .bind(at)
                .bind(content)
                .execute(&db)
                .await
                .expect("menu");
            }
        };
        let found = async |menus: &TextMenus| {
            open_text_menu(&db, menus, &session, chat)
                .await
                .expect("read")
                .map(|s| s.message_id)
        };

        // A day-old menu: read once, closed.
        menu("old", now_ms() - TEXT_MENU_OPEN_MS - 1000).await;
        assert_eq!(found(&menus).await, None);
        assert!(
            menus
                .bound(&session)
                .is_some_and(|b| b.read && b.until <= now_ms())
        );
        // A menu written behind the memory's back is not seen: the read is skipped.
        menu("unseen", now_ms()).await;
        assert_eq!(found(&menus).await, None);
        // Once its task starts again, the session is read again and finds it.
        menus.forget(&session);
        assert_eq!(found(&menus).await.as_deref(), Some("unseen"));
        // A sent menu raises the bound before its record lands.
        let later = TextMenus::default();
        later.raise(&session, i64::MIN, true);
        assert_eq!(found(&later).await, None);
        later.sent(&session, now_ms());
        assert_eq!(found(&later).await.as_deref(), Some("unseen"));
        // A task that starts again keeps the bound a sent menu raised (its record may not be
        // written yet) and only reads the database again.
        let far = now_ms() + 10 * TEXT_MENU_OPEN_MS;
        later.sent(&session, far);
        later.forget(&session);
        found(&later).await;
        assert!(
            later
                .bound(&session)
                .is_some_and(|b| b.read && b.until == far + TEXT_MENU_OPEN_MS)
        );
    }
}
