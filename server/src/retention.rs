//! Retention: messages and webhook events (with their deliveries and attempts) older than the
//! admin's `retentionDays` setting are deleted by a daily sweep, so the database does not grow
//! forever. `0` (the default) keeps everything. An event with a delivery still pending is kept
//! until it is delivered or given up: nothing waiting to be sent is lost to the sweep.

use crate::{db::now_ms, settings, state::AppState};
use std::time::Duration;

/// How often the sweep runs; it also runs once shortly after start.
const EVERY: Duration = Duration::from_secs(24 * 3600);
/// Rows deleted per statement, so the sweep never holds the write lock for long.
const BATCH: i64 = 5_000;
const DAY_MS: i64 = 86_400_000;

/// What one sweep removed.
#[derive(Debug, Default, PartialEq)]
pub struct Swept {
    pub messages: u64,
    pub events: u64,
    /// Media files no message uses any more.
    pub files: u64,
}

/// Deletes what is older than the retention setting.
pub async fn sweep(state: &AppState) -> anyhow::Result<Swept> {
    crate::idempotency::sweep(&state.db).await?;
    let days = settings::retention_days(state).await?;
    let mut swept = Swept::default();
    if days == 0 {
        return Ok(swept);
    }
    let cutoff = now_ms() - i64::from(days) * DAY_MS;
    loop {
        let n = sqlx::query(
            "DELETE FROM messages WHERE rowid IN
                 (SELECT rowid FROM messages WHERE created_at < ? LIMIT ?)",
        )
        .bind(cutoff)
        .bind(BATCH)
        .execute(&state.db)
        .await?
        .rows_affected();
        swept.messages += n;
        if n < BATCH as u64 {
            break;
        }
    }
    loop {
        let n = sqlx::query(
            "DELETE FROM webhook_events WHERE id IN
                 (SELECT e.id FROM webhook_events e WHERE e.created_at < ?
                    AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                                    WHERE d.event_id = e.id AND d.status = 'pending')
                  LIMIT ?)",
        )
        .bind(cutoff)
        .bind(BATCH)
        .execute(&state.db)
        .await?
        .rows_affected();
        swept.events += n;
        if n < BATCH as u64 {
            break;
        }
    }
    swept.files = sweep_media(state).await?;
    Ok(swept)
}

/// Removes the media files whose messages are gone, on disk and in the bucket. A file stored
/// in the last hour is kept: its send may not be recorded yet.
async fn sweep_media(state: &AppState) -> anyhow::Result<u64> {
    let recent = std::time::SystemTime::now() - Duration::from_secs(3600);
    state.media.sweep_unused(&state.db, recent).await
}

/// Sweeps a minute after start, then daily, until shutdown.
pub async fn retention_loop(state: AppState) {
    let mut wait = Duration::from_secs(60);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        match sweep(&state).await {
            Ok(s) if s != Swept::default() => {
                tracing::info!(messages = s.messages, events = s.events, "retention sweep")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = format!("{e:#}"), "retention sweep failed"),
        }
        wait = EVERY;
    }
}
