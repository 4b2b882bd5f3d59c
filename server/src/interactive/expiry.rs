//! `interaction.timeout`: for an interactive message sent with `expiresIn` that nobody answered
//! in time, one event `{messageId, to, timestamp}` — the original's best practices ask
//! consumers to handle timeouts; Kabar does it for them. Due times live in the database, so a
//! restart neither loses nor repeats one: the loop marks and enqueues in one transaction.

use crate::{db::now_ms, state::AppState};
use app::model::{InteractionTimeoutData, SessionId};
use std::time::Duration;

/// The longest sleep between looks (a new earlier deadline wakes the loop at once).
const IDLE: Duration = Duration::from_secs(60);
/// The pause after a failed pass.
const ERROR_PAUSE: Duration = Duration::from_secs(5);
/// Timeouts handled per transaction.
const BATCH: i64 = 100;

pub async fn expiry_loop(state: AppState) {
    loop {
        let wait = match fire_due(&state).await {
            Ok(n) if n as i64 == BATCH => continue,
            Ok(_) => next_due_in(&state).await.unwrap_or(IDLE).min(IDLE),
            // A lasting failure (disk full, database locked) must not spin: pause.
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "emitting interaction timeouts");
                ERROR_PAUSE
            }
        };
        tokio::select! {
            _ = state.shutdown.cancelled() => break,
            _ = state.interactive_wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Marks every due, unanswered message timed out and enqueues its event. Answers how many.
pub async fn fire_due(state: &AppState) -> anyhow::Result<usize> {
    let now = now_ms();
    crate::events::write(state, move |write| {
        Box::pin(async move {
            let due: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT session_id, message_id, chat FROM interactive_messages
                 WHERE expires_at IS NOT NULL AND answered_at IS NULL AND timed_out_at IS NULL
                       AND expires_at <= ?
                 ORDER BY expires_at LIMIT ?",
            )
            .bind(now)
            .bind(BATCH)
            .fetch_all(write.conn())
            .await?;
            for (session, message_id, chat) in &due {
                sqlx::query(
                    "UPDATE interactive_messages SET timed_out_at = ? WHERE session_id = ? AND message_id = ?",
                )
                .bind(now)
                .bind(session)
                .bind(message_id)
                .execute(write.conn())
                .await?;
                let session = SessionId(session.clone());
                let data = InteractionTimeoutData {
                    session_id: session.clone(),
                    message_id: message_id.clone(),
                    to: chat.clone(),
                    timestamp: now,
                };
                write.emit(&data).await?;
            }
            Ok(due.len())
        })
    })
    .await
    .map_err(Into::into)
}

async fn next_due_in(state: &AppState) -> Option<Duration> {
    let (next,): (Option<i64>,) = sqlx::query_as(
        "SELECT MIN(expires_at) FROM interactive_messages
         WHERE expires_at IS NOT NULL AND answered_at IS NULL AND timed_out_at IS NULL",
    )
    .fetch_one(&state.db)
    .await
    .ok()?;
    next.map(|t| Duration::from_millis((t - now_ms()).max(0) as u64))
}
