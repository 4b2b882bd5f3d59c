//! The message record: every message a session sends or receives, written once and looked up
//! for quoting (and later for webhooks, interactive replies and the dashboard's log).

use crate::{db::Db, engine::Quoted, phone::Chat};
use app::model::SessionId;

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
}

/// Records a message. A repeat of the same id (an engine redelivering) changes nothing and
/// answers `false`, so callers do not emit its events twice.
pub async fn record(
    db: impl sqlx::SqliteExecutor<'_>,
    m: NewMessage<'_>,
) -> Result<bool, sqlx::Error> {
    let (direction, status) = match m.direction {
        Direction::In => ("in", "received"),
        Direction::Out => ("out", "sent"),
    };
    let done = sqlx::query(
        "INSERT INTO messages (id, session_id, direction, chat, sender, type, body, source,
                               quoted_id, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (session_id, id) DO NOTHING",
    )
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
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
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

/// Marks sent messages `delivered` or `read` (from WhatsApp's receipts). A status never goes
/// back: a late "delivered" does not undo "read".
pub async fn set_status(
    db: &Db,
    session: &SessionId,
    ids: &[String],
    status: &str,
) -> Result<(), sqlx::Error> {
    let rank = |s: &str| match s {
        "sent" => 0,
        "delivered" => 1,
        _ => 2,
    };
    for id in ids {
        sqlx::query(
            "UPDATE messages SET status = ?, updated_at = ?
             WHERE session_id = ? AND id = ? AND direction = 'out'
               AND (CASE status WHEN 'sent' THEN 0 WHEN 'delivered' THEN 1 ELSE 2 END) < ?",
        )
        .bind(status)
        .bind(crate::db::now_ms())
        .bind(session.as_str())
        .bind(id)
        .bind(rank(status))
        .execute(db)
        .await?;
    }
    Ok(())
}
