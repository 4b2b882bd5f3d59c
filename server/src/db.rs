//! The database: one pool for the whole server (the writer task takes one connection out of
//! it for its own, `events`), created and migrated on first start.
//!
//! SQLite in WAL mode is the embedded default (readers never block the writer). Queries are
//! checked at runtime rather than by `sqlx::query!`, so building needs no database.
//!
//! The files at rest hold secrets (password hashes, API key hashes, the JWT key, webhook
//! secrets; the WhatsApp device stores hold the sessions' keys), so [`secure_dir`] and
//! [`secure_sqlite`] keep them to the owner: the data dir and `whatsapp/` 0700, every SQLite
//! file 0600. The engine's device stores use the same two functions.

use anyhow::Context;
use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use std::{io, path::Path, str::FromStr, time::Duration};

pub type Db = SqlitePool;

/// A statement being bound, for helpers that add their values to a statement list shared with
/// others (one round trip to SQLite for several statements).
pub type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

/// What a database's `-wal` file is cut back to after a checkpoint, in bytes. SQLite reuses the
/// file and never shrinks it otherwise: with a thousand sessions starting, the device store's
/// grew to 52 MB (ten times the database) and stayed there (the footprint bench's disk by file).
/// 4 MiB is about what SQLite's automatic checkpoint lets it reach (1,000 pages).
pub const WAL_SIZE_LIMIT: &str = "4194304";

/// Opens (creating when missing) and migrates the database at `url`.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("invalid database URL {url:?}"))?;
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    // A `file:` name is a URI SQLite parses itself: not a path we can create.
    let name = options.get_filename();
    let file =
        (!in_memory && !name.to_string_lossy().starts_with("file:")).then(|| name.to_path_buf());
    if let Some(file) = &file {
        secure_sqlite(file)
            .with_context(|| format!("cannot create the database file {}", file.display()))?;
    }
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across application crashes in WAL mode; only an OS crash can
        // lose the last transactions. The outbox relies on the former, not the latter.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .pragma("journal_size_limit", WAL_SIZE_LIMIT)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        // An in-memory database exists once per connection: it must be exactly one.
        .max_connections(if in_memory { 1 } else { 8 })
        // No ping before each use: a SQLite connection is a file this process holds open, it
        // cannot have been hung up on, and each ping is a round trip to the connection's own
        // thread — on two cores that hand-over, not SQLite, is most of what a short read costs
        // (sqlx still pings on release, which also rolls back what a cancelled caller left).
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the database {url:?}"))?;
    // SQLite creates `-wal` and `-shm` with the database file's mode, so they are 0600
    // already; this second look only guards against a VFS that does otherwise.
    if let Some(file) = &file {
        secure_sqlite(file)
            .with_context(|| format!("cannot secure the database file {}", file.display()))?;
    }
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

/// Creates `dir` (and any missing parent) readable by the owner only, and tightens an existing
/// one that is open to others: the data dir and the device stores' dir hold secrets.
pub fn secure_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        tighten(dir, 0o700)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Makes an SQLite database file 0600 before SQLite opens it: creates it empty when missing
/// (SQLite takes an empty file as an empty database, and gives its `-wal`, `-shm` and
/// `-journal` files the database file's mode), and tightens it and those companions when a
/// run before this guard left them open to others.
pub fn secure_sqlite(file: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(file);
        match created {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => tighten(file, 0o600)?,
            Err(e) => return Err(e),
        }
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut companion = file.as_os_str().to_owned();
            companion.push(suffix);
            match tighten(Path::new(&companion), 0o600) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(())
    }
}

/// Sets `mode` on `path` if its group or others have any access. A path this user does not
/// own (a mounted volume, say) cannot be changed: that is the operator's setup, so it is
/// logged rather than refused, and the server still starts.
#[cfg(unix)]
fn tighten(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let was = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if was & 0o077 == 0 {
        return Ok(());
    }
    let path_shown = path.display();
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
        Ok(()) => tracing::info!(
            path = %path_shown,
            from = format!("{was:o}"),
            to = format!("{mode:o}"),
            "made a file with secrets private to this user"
        ),
        Err(e) => tracing::warn!(
            path = %path_shown,
            mode = format!("{was:o}"),
            error = %e,
            "cannot make a file with secrets private to this user"
        ),
    }
    Ok(())
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

/// Tests only: a new, empty database on the PostgreSQL cluster that `scripts/test.sh` starts
/// (`KABAR_TEST_POSTGRES_URL`), answered as its URL. `None` without a cluster (a plain
/// `cargo test`), except under `CI`, where the PostgreSQL tests must run and this fails them.
#[doc(hidden)]
pub async fn test_postgres_database(prefix: &str) -> Option<String> {
    use sqlx::Connection;
    let Ok(url) = std::env::var("KABAR_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "KABAR_TEST_POSTGRES_URL is not set: CI runs the PostgreSQL tests"
        );
        eprintln!(
            "not run on PostgreSQL: KABAR_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)"
        );
        return None;
    };
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos()
    );
    let mut admin = sqlx::PgConnection::connect(&url)
        .await
        .expect("the test PostgreSQL cluster");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    let _ = admin.close().await;
    let (base, _) = url.rsplit_once('/').expect("a database in the URL");
    Some(format!("{base}/{name}"))
}

/// What unit tests beside the code share.
#[cfg(test)]
pub(crate) mod testing {
    /// A migrated database in a temporary directory (kept while the `TempDir` lives), holding
    /// account `u` and its session `s`.
    pub async fn with_session() -> (tempfile::TempDir, super::Db) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("k.db").display());
        let db = super::connect(&url).await.expect("open");
        sqlx::raw_sql(
            "INSERT INTO users (id, username, username_key, password_hash, role, disabled, created_at)
             VALUES ('u', 'u', 'u', '', 'user', 0, 0);
             INSERT INTO sessions (id, name, owner_id, status, created_at) VALUES ('s', 's', 'u', 'connected', 0);",
        )
        .execute(&db)
        .await
        .expect("session");
        (dir, db)
    }
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

    /// Events kept from before migration 0017 learn the message they are about from their
    /// body, so `GET /api/messages/{id}/events` still finds them.
    #[tokio::test]
    async fn events_stored_before_the_message_column_are_given_theirs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("k.db").display());
        let old = SqlitePoolOptions::new()
            .connect_with(
                SqliteConnectOptions::from_str(&url)
                    .expect("url")
                    .create_if_missing(true),
            )
            .await
            .expect("open");
        let mut before = sqlx::migrate!("../migrations");
        before.migrations = before
            .migrations
            .iter()
            .filter(|m| m.version < 17)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        before.run(&old).await.expect("migrations up to 0016");
        for (id, body) in [
            (
                "e1",
                r#"{"event":"message.in","data":{"sessionId":"s","messageId":"M1"},"timestamp":1}"#,
            ),
            (
                "e2",
                r#"{"event":"connection.update","data":{"sessionId":"s","status":"connected"},"timestamp":1}"#,
            ),
        ] {
            sqlx::query("INSERT INTO webhook_events (id, session_id, event, body, created_at) VALUES (?, 's', 'x', ?, 1)")
                .bind(id)
                .bind(body)
                .execute(&old)
                .await
                .expect("old event");
        }
        old.close().await;
        let db = connect(&url).await.expect("migrated");
        let rows: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT id, message_id FROM webhook_events ORDER BY id")
                .fetch_all(&db)
                .await
                .expect("events");
        assert_eq!(
            rows,
            vec![
                ("e1".to_string(), Some("M1".to_string())),
                ("e2".to_string(), None)
            ]
        );
    }

    /// A burst of writes grows the `-wal` file past the limit; once checkpointed, the next write
    /// cuts it back instead of keeping the burst's size on disk for good.
    #[tokio::test]
    async fn the_wal_file_shrinks_back_after_a_burst() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("k.db");
        let db = connect(&format!("sqlite://{}", file.display()))
            .await
            .expect("open");
        sqlx::query("CREATE TABLE burst (b BLOB)")
            .execute(&db)
            .await
            .expect("table");
        let mut tx = db.begin().await.expect("begin");
        for _ in 0..160 {
            sqlx::query("INSERT INTO burst VALUES (zeroblob(65536))")
                .execute(&mut *tx)
                .await
                .expect("insert");
        }
        tx.commit().await.expect("commit");
        let wal = || std::fs::metadata(dir.path().join("k.db-wal")).map_or(0, |m| m.len());
        let limit: u64 = WAL_SIZE_LIMIT.parse().expect("a number");
        assert!(wal() > 2 * limit, "the burst grew the WAL: {}", wal());
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&db)
            .await
            .expect("checkpoint");
        sqlx::query("INSERT INTO burst VALUES (x'00')")
            .execute(&db)
            .await
            .expect("a write after it");
        assert!(wal() <= limit, "cut back to the limit: {}", wal());
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

    /// Secrets at rest: a new data dir is 0700 and the database with its WAL files 0600, and
    /// a data dir and database left open to others by an older run are tightened.
    #[cfg(unix)]
    #[tokio::test]
    async fn the_data_dir_and_database_are_private() {
        use std::os::unix::fs::PermissionsExt;
        #[track_caller]
        fn assert_mode(path: &Path, want: u32) {
            let mode = std::fs::metadata(path)
                .expect("metadata")
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, want, "{} is {mode:o}", path.display());
        }
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data").join("nested");
        secure_dir(&data).expect("data dir");
        assert_mode(&data, 0o700);
        assert_mode(data.parent().expect("parent"), 0o700);
        let file = data.join("kabar.db");
        let url = format!("sqlite://{}", file.display());
        for round in 0..2 {
            let db = connect(&url).await.expect("open");
            sqlx::query("INSERT INTO settings (key, value) VALUES (?, 'x')")
                .bind(new_id())
                .execute(&db)
                .await
                .expect("write");
            assert_mode(&file, 0o600);
            let wal = data.join("kabar.db-wal");
            assert!(
                wal.exists(),
                "round {round}: WAL mode keeps a -wal file while open"
            );
            assert_mode(&wal, 0o600);
            let shm = data.join("kabar.db-shm");
            if shm.exists() {
                assert_mode(&shm, 0o600);
            }
            db.close().await;
            // What a run before this guard left behind: open to everyone.
            std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755))
                .expect("chmod dir");
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))
                .expect("chmod file");
            secure_dir(&data).expect("existing data dir");
            assert_mode(&data, 0o700);
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
