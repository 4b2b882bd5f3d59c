//! The database: one pool for the whole server, created and migrated on first start.
//!
//! SQLite in WAL mode is the embedded default (readers never block the writer). Queries are
//! checked at runtime rather than by `sqlx::query!`, so building needs no database.

use anyhow::Context;
use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use std::{str::FromStr, time::Duration};

pub type Db = SqlitePool;

/// Opens (creating when missing) and migrates the database at `url`.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("invalid database URL {url:?}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across application crashes in WAL mode; only an OS crash can
        // lose the last transactions. The outbox relies on the former, not the latter.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let pool = SqlitePoolOptions::new()
        // An in-memory database exists once per connection: it must be exactly one.
        .max_connections(if in_memory { 1 } else { 8 })
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the database {url:?}"))?;
    sqlx::migrate!("../migrations")
        .run(&pool)
        .await
        .context("cannot migrate the database")?;
    Ok(pool)
}

/// Begins a transaction that holds SQLite's write lock from its first statement.
///
/// A plain (deferred) transaction that reads before it writes fails at its first write with
/// `SQLITE_BUSY` — at once, without waiting — whenever another connection committed in
/// between; in WAL mode the busy timeout cannot help. Every transaction that writes starts here,
/// so writers queue on the busy timeout instead, and no event is lost to that race.
pub async fn begin_write(db: &Db) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    db.begin_with("BEGIN IMMEDIATE").await
}

/// Milliseconds since the Unix epoch: the one time format Kabar stores and shows.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A new random id: 22 URL-safe characters (128 bits).
pub fn new_id() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn migrates_a_fresh_database_and_is_idempotent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("k.db").display());
        let db = connect(&url).await.expect("first open");
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&db)
            .await
            .expect("pragma");
        assert_eq!(mode, "wal");
        db.close().await;
        connect(&url)
            .await
            .expect("second open runs no migration twice");
    }

    /// The race `begin_write` exists for: a transaction reads, another connection commits, then
    /// the first writes. Deferred, that write fails; immediate, it waits its turn and succeeds.
    #[tokio::test]
    async fn write_transactions_do_not_fail_on_a_stale_snapshot() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("k.db").display());
        let db = connect(&url).await.expect("open");
        for immediate in [false, true] {
            let mut tx = if immediate {
                begin_write(&db).await
            } else {
                db.begin().await
            }
            .expect("begin");
            let _: Option<(String,)> = sqlx::query_as("SELECT key FROM settings LIMIT 1")
                .fetch_optional(&mut *tx)
                .await
                .expect("read");
            let mut other = Some({
                let db = db.clone();
                tokio::spawn(async move {
                    sqlx::query("INSERT INTO settings (key, value) VALUES (?, 'x')")
                        .bind(new_id())
                        .execute(&db)
                        .await
                })
            });
            if !immediate {
                let o = other.take().expect("handle");
                o.await
                    .expect("task")
                    .expect("the other writer commits first");
            }
            let write = sqlx::query("INSERT INTO settings (key, value) VALUES (?, 'y')")
                .bind(new_id())
                .execute(&mut *tx)
                .await;
            assert_eq!(write.is_ok(), immediate, "immediate={immediate}: {write:?}");
            if let Some(o) = other {
                tx.commit().await.expect("commit");
                o.await
                    .expect("task")
                    .expect("the other writer waited, then committed");
            }
        }
    }

    #[test]
    fn ids_are_url_safe_and_distinct() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }
}
