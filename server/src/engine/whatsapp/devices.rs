//! The WhatsApp device stores of every session in one database: `data/whatsapp/devices.db`,
//! one table keyed by session.
//!
//! whatsapp-rust keeps a linked device's state (its keys, the Signal sessions with every contact,
//! app-state sync keys, LID mappings, the pending-inbound buffer its durability hook relies on…)
//! behind the storage traits of wacore's `store/traits.rs`. Its bundled SQLite store opens one
//! file per session, each with its own connection, page cache and WAL: about half a megabyte of
//! memory and most of a megabyte of disk for every session, paired or not. This store implements
//! the same traits over one sqlx pool (a fixed handful of connections whatever the number of
//! sessions), so a session costs the rows it has.
//!
//! The traits are key-value at heart: each row is one value of one `kind` under up to three key
//! parts, with `n`/`ts` holding the numbers some kinds are queried or expired by. Binary keys are
//! stored as hex. The semantics follow wacore's in-memory reference backend (`in_memory.rs`);
//! the read-modify-write cases the traits ask to be atomic (trusted-contact tokens, message
//! secrets) are single upserts.
//!
//! It is a file of its own rather than tables in `kabar.db`: SQLite has one writer per file, and
//! Signal's ratchet writes for every message should not queue behind the message log's group
//! commits. Sessions paired by an earlier version (`whatsapp/<session>.db`) are imported when
//! they start ([`Devices::import_legacy`]).
//!
//! With `--whatsapp-store-url` the same table lives in PostgreSQL instead
//! ([`Devices::connect_postgres`]): the same query text runs on either pool (`$N` placeholders,
//! which sqlx's SQLite driver reads as numbered parameters too), and an existing `devices.db`
//! is moved there once ([`Devices::import_sqlite`]).

use std::{path::Path, sync::Arc, time::Duration};

use bytes::Bytes;
use serde::{Serialize, de::DeserializeOwned};
use sqlx::{
    ConnectOptions, Connection, PgPool, SqlitePool,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions,
        SqliteSynchronous,
    },
};
use whatsapp_rust::{
    store::SqliteStore,
    wacore::{
        appstate::{hash::HashState, processor::AppStateMutationMAC},
        store::{
            Device,
            error::{Result, StoreError},
            traits::*,
        },
        time::now_secs,
    },
};

/// The file, in the engine's `whatsapp/` directory.
pub const FILE: &str = "devices.db";

/// What a row holds.
mod kind {
    pub const DEVICE: &str = "device";
    pub const IDENTITY: &str = "identity";
    pub const SESSION: &str = "session";
    pub const PREKEY: &str = "prekey";
    pub const SIGNED_PREKEY: &str = "signed_prekey";
    pub const SENDER_KEY: &str = "sender_key";
    pub const SYNC_KEY: &str = "sync_key";
    pub const VERSION: &str = "version";
    pub const MAC: &str = "mutation_mac";
    pub const SENDER_KEY_DEVICE: &str = "sender_key_device";
    /// k1 = LID, k2 = phone number (a phone's LID is looked up by k2).
    pub const LID: &str = "lid";
    pub const BASE_KEY: &str = "base_key";
    pub const DEVICE_LIST: &str = "device_list";
    pub const GROUP: &str = "group";
    /// value = token, n = token time, ts = sender time (NULL when none).
    pub const TC_TOKEN: &str = "tc_token";
    /// ts = when stored.
    pub const SENT: &str = "sent";
    /// ts = when stored.
    pub const PENDING: &str = "pending_inbound";
    /// n = message time, ts = expiry (0: never).
    pub const SECRET: &str = "msg_secret";
}

/// Where the device stores live: a SQLite file of their own (the default), or PostgreSQL, where
/// several nodes share them (a session moves to another node without a new scan).
#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to whichever pool it is: the same query text serves both
/// (`$N` placeholders, which sqlx's SQLite driver reads as numbered parameters too).
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            Pool::Sqlite($p) => $body,
            Pool::Postgres($p) => $body,
        }
    };
}

/// The upsert of one row, bound as [`bind_row!`] does.
const PUT: &str = "INSERT INTO device_store (session, kind, k1, k2, k3, value, n, ts) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (session, kind, k1, k2, k3) \
     DO UPDATE SET value = excluded.value, n = excluded.n, ts = excluded.ts";
/// The removal of one row, bound with its session and key.
const DELETE: &str = "DELETE FROM device_store \
     WHERE session = $1 AND kind = $2 AND k1 = $3 AND k2 = $4 AND k3 = $5";

/// Binds a session and a [`Key`] (`$1`–`$5`), then what follows.
macro_rules! bind_key {
    ($q:expr, $session:expr, $k:expr) => {
        $q.bind($session)
            .bind($k.kind)
            .bind($k.k1)
            .bind($k.k2)
            .bind($k.k3)
    };
}

/// The shared database; [`Devices::of`] gives one session's view of it.
#[derive(Clone)]
pub struct Devices {
    pool: Pool,
}

impl Devices {
    /// Opens (creating and migrating) `dir/devices.db`.
    pub async fn open(dir: &Path) -> anyhow::Result<Devices> {
        let file = dir.join(FILE);
        // 0600 before SQLite creates it: it holds every session's keys.
        crate::db::secure_sqlite(&file)?;
        let options = SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .pragma("journal_size_limit", crate::db::WAL_SIZE_LIMIT)
            .busy_timeout(Duration::from_secs(30));
        // A fixed handful, whatever the number of sessions: WAL lets the readers run beside
        // the one writer.
        // A store call waits for a connection rather than fail: a failed write of ratchet
        // state or of the pending-inbound buffer costs more than a slow one.
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(120))
            .connect_with(options)
            .await?;
        sqlx::migrate!("../migrations/devices").run(&pool).await?;
        Ok(Devices {
            pool: Pool::Sqlite(pool),
        })
    }

    /// Connects to PostgreSQL at `url` and creates or migrates the device store's table there
    /// (`device_store`, with a migrations table of its own, `_sqlx_migrations_devices`, so that
    /// Kabar's other tables can share the database when they move there too).
    pub async fn connect_postgres(url: &str) -> anyhow::Result<Devices> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(120))
            .connect_with(options.application_name("kabar-devices"))
            .await?;
        let mut migrator = sqlx::migrate!("../migrations/devices-postgres");
        migrator.dangerous_set_table_name("_sqlx_migrations_devices");
        migrator.run(&pool).await?;
        Ok(Devices {
            pool: Pool::Postgres(pool),
        })
    }

    /// One session's device store.
    pub fn of(&self, session: &str) -> Arc<SessionStore> {
        Arc::new(SessionStore {
            pool: self.pool.clone(),
            session: Arc::from(session),
            closed: Default::default(),
            lids: Default::default(),
        })
    }

    /// Forgets everything a session's device knew (logged out or deleted).
    pub async fn wipe(&self, session: &str) -> std::result::Result<(), sqlx::Error> {
        self.of(session).wipe().await
    }

    /// The sessions with a device in the store.
    pub async fn sessions(&self) -> std::result::Result<Vec<String>, sqlx::Error> {
        on_pool!(&self.pool, p => {
            sqlx::query_scalar("SELECT session FROM device_store WHERE kind = $1 ORDER BY session")
                .bind(kind::DEVICE)
                .fetch_all(p)
                .await
        })
    }

    /// Imports a session's device store from the file of its own that versions before the shared
    /// store kept (`whatsapp/<session>.db`, whatsapp-rust's bundled store), then renames that
    /// file to `<session>.db.imported` (kept, not deleted: the operator removes it once the
    /// session is seen connected). Answers whether there was a file.
    pub async fn import_legacy(&self, session: &str, file: &Path) -> anyhow::Result<bool> {
        if !file.exists() {
            return Ok(false);
        }
        // Done again in full when a start was cut short (the file is renamed only once
        // everything is in), and over whatever the shared store held for the session: the file
        // is the session's store now (e.g. restored from an older backup).
        self.wipe(session).await?;
        let target = self.of(session);
        let source = SqliteStore::new(&file.to_string_lossy()).await?;
        if source.exists().await? {
            let mut conn = SqliteConnectOptions::new()
                .filename(file)
                .read_only(true)
                .connect()
                .await?;
            let listing = Listing::legacy(&mut conn).await;
            conn.close().await?;
            copy(&listing?, &source, &*target, true).await?;
            anyhow::ensure!(
                target.exists().await?,
                "the device store {} was not copied",
                file.display()
            );
        }
        // A file without a device (a start that failed before pairing) has nothing to import.
        drop(source);
        set_aside(file)?;
        Ok(true)
    }

    /// Copies into this (PostgreSQL) store the sessions that the SQLite store in `dir`
    /// (`devices.db`) holds, then renames that file (and its `-wal`, `-shm`) to
    /// `devices.db.imported`: a server moved to `--whatsapp-store-url` keeps its paired
    /// sessions without a new scan. A session that already has a device here is left as it is
    /// (its keys here are the live ones: another node may run it; the file's are older), with a
    /// warning. A copy cut short has no device row yet (written last) and is done again; the
    /// file is renamed only once every session is in. Answers how many sessions were copied.
    pub async fn import_sqlite(&self, dir: &Path) -> anyhow::Result<usize> {
        let file = dir.join(FILE);
        if !file.exists() {
            return Ok(0);
        }
        let from = Devices::open(dir).await?;
        let (mut copied, mut failed) = (0, 0);
        for session in from.sessions().await? {
            let target = self.of(&session);
            if target.exists().await? {
                tracing::warn!(session = %session, "devices.db holds a session PostgreSQL already has: PostgreSQL's keys are kept");
                continue;
            }
            let moved = async {
                // What an import cut short left, before its device row.
                self.wipe(&session).await?;
                let listing = Listing::shared(&from.pool, &session).await?;
                copy(&listing, &*from.of(&session), &*target, false).await?;
                anyhow::Ok(())
            };
            match moved.await {
                Ok(()) => copied += 1,
                Err(e) => {
                    failed += 1;
                    tracing::error!(session = %session, error = %format!("{e:#}"), "a session's keys could not be moved into PostgreSQL; tried again at the next start");
                }
            }
        }
        if let Pool::Sqlite(pool) = &from.pool {
            pool.close().await;
        }
        if failed == 0 {
            set_aside(&file)?;
        }
        Ok(copied)
    }

    /// Writes a session's device store as a file of its own in the format of versions before
    /// the shared store (the reverse of [`Devices::import_legacy`]; the upgrade test builds an
    /// old data dir with it).
    pub async fn export_legacy(&self, session: &str, file: &Path) -> anyhow::Result<()> {
        let source = self.of(session);
        let target = SqliteStore::new(&file.to_string_lossy()).await?;
        let listing = Listing::shared(&self.pool, session).await?;
        copy(&listing, &*source, &target, true).await?;
        Ok(())
    }
}

fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(Box::new(e))
}

fn ser(e: serde_json::Error) -> StoreError {
    StoreError::Serialization(Box::new(e))
}

/// Renames a store file that was imported (with its `-wal` and `-shm`) to `….imported`.
fn set_aside(file: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut from = file.as_os_str().to_owned();
        from.push(suffix);
        let mut to = file.as_os_str().to_owned();
        to.push(".imported");
        to.push(suffix);
        match std::fs::rename(&from, &to) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}

/// A row's key within a session (ordered: batches take PostgreSQL's row locks in key order, so
/// two of them cannot deadlock).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key<'a> {
    kind: &'static str,
    k1: &'a str,
    k2: &'a str,
    k3: &'a str,
}

fn key<'a>(kind: &'static str, k1: &'a str) -> Key<'a> {
    Key {
        kind,
        k1,
        k2: "",
        k3: "",
    }
}

fn key2<'a>(kind: &'static str, k1: &'a str, k2: &'a str) -> Key<'a> {
    Key {
        kind,
        k1,
        k2,
        k3: "",
    }
}

fn key3<'a>(kind: &'static str, k1: &'a str, k2: &'a str, k3: &'a str) -> Key<'a> {
    Key { kind, k1, k2, k3 }
}

/// One session's device store: what whatsapp-rust's client is given as its backend.
pub struct SessionStore {
    pool: Pool,
    session: Arc<str>,
    /// Set before the session's rows are wiped: a client still shutting down (its last device
    /// flush, a detached sweep) must not write rows back after the wipe.
    closed: std::sync::atomic::AtomicBool,
    /// Held while a LID mapping is replaced (a delete, then an insert).
    lids: tokio::sync::Mutex<()>,
}

impl SessionStore {
    /// Refuses every write from now on (reads still answer): the client that holds this store
    /// is being replaced or its session removed.
    pub fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn writable(&self) -> Result<()> {
        if self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Validation(
                "the session's device store is closed (logged out or removed)".into(),
            ));
        }
        Ok(())
    }

    /// Forgets everything this session's device knew (logged out or deleted).
    pub async fn wipe(&self) -> std::result::Result<(), sqlx::Error> {
        on_pool!(&self.pool, p => {
            sqlx::query("DELETE FROM device_store WHERE session = $1")
                .bind(&*self.session)
                .execute(p)
                .await.map(|d| d.rows_affected())
        })?;
        Ok(())
    }

    async fn get(&self, k: Key<'_>) -> Result<Option<Vec<u8>>> {
        on_pool!(&self.pool, p => {
            bind_key!(
                sqlx::query_scalar(
                    "SELECT value FROM device_store \
                     WHERE session = $1 AND kind = $2 AND k1 = $3 AND k2 = $4 AND k3 = $5",
                ),
                &*self.session,
                k
            )
            .fetch_optional(p)
            .await
        })
        .map_err(db)
    }

    async fn put(&self, k: Key<'_>, value: &[u8], n: i64, ts: Option<i64>) -> Result<()> {
        self.put_many(vec![(k, value, n, ts)]).await
    }

    async fn delete(&self, k: Key<'_>) -> Result<()> {
        self.delete_many(vec![k]).await
    }

    /// Deletes every row of a kind, or of a kind and first key part.
    async fn delete_all(&self, kind: &'static str, k1: Option<&str>) -> Result<u64> {
        self.writable()?;
        let done = on_pool!(&self.pool, p => {
            sqlx::query(
                "DELETE FROM device_store WHERE session = $1 AND kind = $2 AND ($3 IS NULL OR k1 = $4)",
            )
            .bind(&*self.session)
            .bind(kind)
            .bind(k1)
            .bind(k1)
            .execute(p)
            .await
            .map(|d| d.rows_affected())
        });
        done.map_err(db)
    }

    /// Deletes the rows of a kind stored before `cutoff` (`ts`).
    async fn delete_older(&self, kind: &'static str, cutoff: i64) -> Result<u32> {
        self.writable()?;
        let done = on_pool!(&self.pool, p => {
            sqlx::query("DELETE FROM device_store WHERE session = $1 AND kind = $2 AND ts < $3")
                .bind(&*self.session)
                .bind(kind)
                .bind(cutoff)
                .execute(p)
                .await
                .map(|d| d.rows_affected())
        });
        Ok(u32::try_from(done.map_err(db)?).unwrap_or(u32::MAX))
    }

    async fn get_json<T: DeserializeOwned>(&self, k: Key<'_>) -> Result<Option<T>> {
        match self.get(k).await? {
            Some(v) => serde_json::from_slice(&v).map(Some).map_err(ser),
            None => Ok(None),
        }
    }

    async fn put_json<T: Serialize>(&self, k: Key<'_>, v: &T) -> Result<()> {
        let bytes = serde_json::to_vec(v).map_err(ser)?;
        self.put(k, &bytes, 0, None).await
    }

    /// Puts rows in one transaction (one statement when there is one row).
    async fn put_many(&self, mut rows: Vec<(Key<'_>, &[u8], i64, Option<i64>)>) -> Result<()> {
        self.writable()?;
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let session = &*self.session;
        on_pool!(&self.pool, p => {
            if let [(k, value, n, ts)] = rows.as_slice() {
                bind_key!(sqlx::query(PUT), session, k)
                    .bind(*value)
                    .bind(*n)
                    .bind(*ts)
                    .execute(p)
                    .await
                    .map_err(db)?;
                return Ok(());
            }
            let mut tx = p.begin().await.map_err(db)?;
            for (k, value, n, ts) in rows {
                bind_key!(sqlx::query(PUT), session, k)
                    .bind(value)
                    .bind(n)
                    .bind(ts)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
            tx.commit().await.map_err(db)
        })
    }

    /// Deletes rows in one transaction (one statement when there is one).
    async fn delete_many(&self, mut keys: Vec<Key<'_>>) -> Result<()> {
        self.writable()?;
        keys.sort();
        let session = &*self.session;
        on_pool!(&self.pool, p => {
            if let [k] = keys.as_slice() {
                bind_key!(sqlx::query(DELETE), session, k)
                    .execute(p)
                    .await
                    .map_err(db)?;
                return Ok(());
            }
            let mut tx = p.begin().await.map_err(db)?;
            for k in keys {
                bind_key!(sqlx::query(DELETE), session, k)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
            tx.commit().await.map_err(db)
        })
    }

    /// The values of every row of a kind (with `k1` when given), with their numbers.
    async fn rows(
        &self,
        kind: &'static str,
        k1: Option<&str>,
    ) -> Result<Vec<(String, String, Vec<u8>, i64)>> {
        on_pool!(&self.pool, p => {
            sqlx::query_as(
                "SELECT k1, k2, value, n FROM device_store \
                 WHERE session = $1 AND kind = $2 AND ($3 IS NULL OR k1 = $4) ORDER BY k1, k2, k3",
            )
            .bind(&*self.session)
            .bind(kind)
            .bind(k1)
            .bind(k1)
            .fetch_all(p)
            .await
        })
        .map_err(db)
    }
}

#[async_trait::async_trait]
impl SignalStore for SessionStore {
    async fn put_identity(&self, address: &str, key_bytes: [u8; 32]) -> Result<()> {
        self.put(key(kind::IDENTITY, address), &key_bytes, 0, None)
            .await
    }

    async fn put_identities_batch(&self, identities: &[(Arc<str>, [u8; 32])]) -> Result<()> {
        self.put_many(
            (identities
                .iter()
                .map(|(a, k)| (key(kind::IDENTITY, a), &k[..], 0, None)))
            .collect(),
        )
        .await
    }

    async fn load_identity(&self, address: &str) -> Result<Option<[u8; 32]>> {
        match self.get(key(kind::IDENTITY, address)).await? {
            Some(v) => v.try_into().map(Some).map_err(|v: Vec<u8>| {
                StoreError::Validation(format!(
                    "identity key for '{address}' has length {} (expected 32)",
                    v.len()
                ))
            }),
            None => Ok(None),
        }
    }

    async fn delete_identity(&self, address: &str) -> Result<()> {
        self.delete(key(kind::IDENTITY, address)).await
    }

    async fn get_session(&self, address: &str) -> Result<Option<Bytes>> {
        Ok(self
            .get(key(kind::SESSION, address))
            .await?
            .map(Bytes::from))
    }

    async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
        self.put(key(kind::SESSION, address), session, 0, None)
            .await
    }

    async fn put_sessions_batch(&self, sessions: &[(Arc<str>, Bytes)]) -> Result<()> {
        self.put_many(
            (sessions
                .iter()
                .map(|(a, s)| (key(kind::SESSION, a), &s[..], 0, None)))
            .collect(),
        )
        .await
    }

    async fn delete_session(&self, address: &str) -> Result<()> {
        self.delete(key(kind::SESSION, address)).await
    }

    async fn has_session(&self, address: &str) -> Result<bool> {
        Ok(self.get(key(kind::SESSION, address)).await?.is_some())
    }

    async fn has_signal_state_for_user(&self, user: &str) -> Result<bool> {
        // Addresses of the user start with "user:" (a device) or "user@": two key ranges.
        on_pool!(&self.pool, p => {
sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM device_store WHERE session = $1 AND kind IN ($2, $3) \
             AND ((k1 >= $4 AND k1 < $5) OR (k1 >= $6 AND k1 < $7)))",
        )
        .bind(&*self.session)
        .bind(kind::SESSION)
        .bind(kind::IDENTITY)
        .bind(format!("{user}:"))
        .bind(format!("{user};"))
        .bind(format!("{user}@"))
        .bind(format!("{user}A"))
        .fetch_one(p)
        .await
})
        .map_err(db)
    }

    async fn store_prekey(&self, id: u32, record: &[u8], uploaded: bool) -> Result<()> {
        let k1 = id.to_string();
        self.put(
            key(kind::PREKEY, &k1),
            record,
            i64::from(id),
            Some(i64::from(uploaded)),
        )
        .await
    }

    async fn store_prekeys_batch(&self, keys: &[(u32, Bytes)], uploaded: bool) -> Result<()> {
        let ids: Vec<String> = keys.iter().map(|(id, _)| id.to_string()).collect();
        self.put_many(
            (keys.iter().zip(&ids).map(|((id, record), k1)| {
                (
                    key(kind::PREKEY, k1),
                    &record[..],
                    i64::from(*id),
                    Some(i64::from(uploaded)),
                )
            }))
            .collect(),
        )
        .await
    }

    async fn load_prekey(&self, id: u32) -> Result<Option<Bytes>> {
        Ok(self
            .get(key(kind::PREKEY, &id.to_string()))
            .await?
            .map(Bytes::from))
    }

    async fn load_prekeys_batch(&self, ids: &[u32]) -> Result<Vec<(u32, Bytes)>> {
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            if let Some(record) = self.load_prekey(id).await? {
                out.push((id, record));
            }
        }
        Ok(out)
    }

    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        self.writable()?;
        on_pool!(&self.pool, p => {
        let mut tx = p.begin().await.map_err(db)?;
                for id in ids {
                    sqlx::query(
                        "UPDATE device_store SET ts = 1 WHERE session = $1 AND kind = $2 AND k1 = $3 \
                         AND k2 = '' AND k3 = ''",
                    )
                    .bind(&*self.session)
                    .bind(kind::PREKEY)
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                }
                tx.commit().await.map_err(db)
        })
    }

    async fn remove_prekey(&self, id: u32) -> Result<()> {
        self.delete(key(kind::PREKEY, &id.to_string())).await
    }

    async fn get_max_prekey_id(&self) -> Result<u32> {
        let max: i64 = on_pool!(&self.pool, p => {
        sqlx::query_scalar(
                    "SELECT COALESCE(MAX(n), 0) FROM device_store WHERE session = $1 AND kind = $2",
                )
                .bind(&*self.session)
                .bind(kind::PREKEY)
                .fetch_one(p)
                .await
        })
        .map_err(db)?;
        Ok(u32::try_from(max).unwrap_or(0))
    }

    async fn store_signed_prekey(&self, id: u32, record: &[u8]) -> Result<()> {
        self.put(
            key(kind::SIGNED_PREKEY, &id.to_string()),
            record,
            i64::from(id),
            None,
        )
        .await
    }

    async fn load_signed_prekey(&self, id: u32) -> Result<Option<Vec<u8>>> {
        self.get(key(kind::SIGNED_PREKEY, &id.to_string())).await
    }

    async fn load_all_signed_prekeys(&self) -> Result<Vec<(u32, Vec<u8>)>> {
        Ok(self
            .rows(kind::SIGNED_PREKEY, None)
            .await?
            .into_iter()
            .filter_map(|(_, _, v, n)| Some((u32::try_from(n).ok()?, v)))
            .collect())
    }

    async fn remove_signed_prekey(&self, id: u32) -> Result<()> {
        self.delete(key(kind::SIGNED_PREKEY, &id.to_string())).await
    }

    async fn put_sender_key(&self, address: &str, record: &[u8]) -> Result<()> {
        self.put(key(kind::SENDER_KEY, address), record, 0, None)
            .await
    }

    async fn put_sender_keys_batch(&self, sender_keys: &[(Arc<str>, Bytes)]) -> Result<()> {
        self.put_many(
            (sender_keys
                .iter()
                .map(|(a, r)| (key(kind::SENDER_KEY, a), &r[..], 0, None)))
            .collect(),
        )
        .await
    }

    async fn get_sender_key(&self, address: &str) -> Result<Option<Vec<u8>>> {
        self.get(key(kind::SENDER_KEY, address)).await
    }

    async fn delete_sender_key(&self, address: &str) -> Result<()> {
        self.delete(key(kind::SENDER_KEY, address)).await
    }
}

#[async_trait::async_trait]
impl AppSyncStore for SessionStore {
    async fn get_sync_key(&self, key_id: &[u8]) -> Result<Option<AppStateSyncKey>> {
        self.get_json(key(kind::SYNC_KEY, &hex::encode(key_id)))
            .await
    }

    async fn set_sync_key(&self, key_id: &[u8], sync_key: AppStateSyncKey) -> Result<()> {
        self.put_json(key(kind::SYNC_KEY, &hex::encode(key_id)), &sync_key)
            .await
    }

    async fn get_version(&self, name: &str) -> Result<HashState> {
        Ok(self
            .get_json(key(kind::VERSION, name))
            .await?
            .unwrap_or_default())
    }

    async fn set_version(&self, name: &str, state: HashState) -> Result<()> {
        self.put_json(key(kind::VERSION, name), &state).await
    }

    async fn put_mutation_macs(
        &self,
        name: &str,
        version: u64,
        mutations: &[AppStateMutationMAC],
    ) -> Result<()> {
        let index: Vec<String> = mutations
            .iter()
            .map(|m| hex::encode(&m.index_mac))
            .collect();
        let version = i64::try_from(version).unwrap_or(i64::MAX);
        self.put_many(
            (mutations
                .iter()
                .zip(&index)
                .map(|(m, k2)| (key2(kind::MAC, name, k2), &m.value_mac[..], version, None)))
            .collect(),
        )
        .await
    }

    async fn get_mutation_mac(&self, name: &str, index_mac: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get(key2(kind::MAC, name, &hex::encode(index_mac)))
            .await
    }

    async fn delete_mutation_macs(&self, name: &str, index_macs: &[Vec<u8>]) -> Result<()> {
        let index: Vec<String> = index_macs.iter().map(hex::encode).collect();
        self.delete_many((index.iter().map(|k2| key2(kind::MAC, name, k2))).collect())
            .await
    }

    async fn clear_mutation_macs(&self, name: &str) -> Result<()> {
        self.delete_all(kind::MAC, Some(name)).await.map(|_| ())
    }

    async fn get_latest_sync_key_id(&self) -> Result<Option<Vec<u8>>> {
        // The highest key id, as whatsapp-rust's bundled store answers (WhatsApp's key ids
        // grow); hex keeps the byte order.
        let latest: Option<String> = on_pool!(&self.pool, p => {
sqlx::query_scalar(
            "SELECT k1 FROM device_store WHERE session = $1 AND kind = $2 ORDER BY k1 DESC LIMIT 1",
        )
        .bind(&*self.session)
        .bind(kind::SYNC_KEY)
        .fetch_optional(p)
        .await
})
        .map_err(db)?;
        latest
            .map(|k| hex::decode(k).map_err(|e| StoreError::Serialization(Box::new(e))))
            .transpose()
    }
}

#[async_trait::async_trait]
impl ProtocolStore for SessionStore {
    async fn get_sender_key_devices(&self, group_jid: &str) -> Result<Vec<(String, bool)>> {
        Ok(self
            .rows(kind::SENDER_KEY_DEVICE, Some(group_jid))
            .await?
            .into_iter()
            .map(|(_, device, _, has_key)| (device, has_key != 0))
            .collect())
    }

    async fn set_sender_key_status(&self, group_jid: &str, entries: &[(&str, bool)]) -> Result<()> {
        let now = now_secs();
        self.put_many(
            (entries.iter().map(|(device, has_key)| {
                (
                    key2(kind::SENDER_KEY_DEVICE, group_jid, device),
                    &[][..],
                    i64::from(*has_key),
                    Some(now),
                )
            }))
            .collect(),
        )
        .await
    }

    async fn clear_sender_key_devices(&self, group_jid: &str) -> Result<()> {
        self.delete_all(kind::SENDER_KEY_DEVICE, Some(group_jid))
            .await
            .map(|_| ())
    }

    async fn delete_sender_key_device_rows(&self, device_jids: &[&str]) -> Result<()> {
        self.writable()?;
        let mut device_jids = device_jids.to_vec();
        device_jids.sort_unstable();
        on_pool!(&self.pool, p => {
        let mut tx = p.begin().await.map_err(db)?;
                for device in &device_jids {
                    sqlx::query("DELETE FROM device_store WHERE session = $1 AND kind = $2 AND k2 = $3")
                        .bind(&*self.session)
                        .bind(kind::SENDER_KEY_DEVICE)
                        .bind(*device)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                }
                tx.commit().await.map_err(db)
        })
    }

    async fn clear_all_sender_key_devices(&self) -> Result<()> {
        self.delete_all(kind::SENDER_KEY_DEVICE, None)
            .await
            .map(|_| ())
    }

    async fn get_lid_mapping(&self, lid: &str) -> Result<Option<LidPnMappingEntry>> {
        match self.rows(kind::LID, Some(lid)).await?.into_iter().next() {
            Some((_, _, v, _)) => serde_json::from_slice(&v).map(Some).map_err(ser),
            None => Ok(None),
        }
    }

    async fn get_pn_mapping(&self, phone: &str) -> Result<Option<LidPnMappingEntry>> {
        // The LID a phone number was mapped to last.
        let v: Option<Vec<u8>> = on_pool!(&self.pool, p => {
        sqlx::query_scalar(
                    "SELECT value FROM device_store WHERE session = $1 AND kind = $2 AND k2 = $3 \
                     ORDER BY ts DESC NULLS LAST LIMIT 1",
                )
                .bind(&*self.session)
                .bind(kind::LID)
                .bind(phone)
                .fetch_optional(p)
                .await
        })
        .map_err(db)?;
        v.map(|v| serde_json::from_slice(&v).map_err(ser))
            .transpose()
    }

    async fn put_lid_mapping(&self, entry: &LidPnMappingEntry) -> Result<()> {
        self.writable()?;
        // The phone number is part of the key: an entry whose number changed is replaced, and
        // keeps when it was first learnt (as the bundled store does). One at a time: on
        // PostgreSQL two at once could each delete nothing the other wrote and leave two rows.
        let _one = self.lids.lock().await;
        on_pool!(&self.pool, p => {
        let mut tx = p.begin().await.map_err(db)?;
                let old: Option<Vec<u8>> = sqlx::query_scalar(
                    "DELETE FROM device_store WHERE session = $1 AND kind = $2 AND k1 = $3 RETURNING value",
                )
                .bind(&*self.session)
                .bind(kind::LID)
                .bind(&entry.lid)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
                let mut entry = entry.clone();
                if let Some(old) = old.and_then(|v| serde_json::from_slice::<LidPnMappingEntry>(&v).ok()) {
                    entry.created_at = old.created_at;
                }
                let value = serde_json::to_vec(&entry).map_err(ser)?;
                let k = key2(kind::LID, &entry.lid, &entry.phone_number);
                bind_key!(sqlx::query(PUT), &*self.session, k)
                    .bind(&value[..])
                    .bind(0i64)
                    .bind(Some(entry.updated_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                tx.commit().await.map_err(db)
        })
    }

    async fn get_all_lid_mappings(&self) -> Result<Vec<LidPnMappingEntry>> {
        self.rows(kind::LID, None)
            .await?
            .into_iter()
            .map(|(_, _, v, _)| serde_json::from_slice(&v).map_err(ser))
            .collect()
    }

    async fn save_base_key(&self, address: &str, message_id: &str, base_key: &[u8]) -> Result<()> {
        self.put(
            key2(kind::BASE_KEY, address, message_id),
            base_key,
            0,
            Some(now_secs()),
        )
        .await
    }

    async fn has_same_base_key(
        &self,
        address: &str,
        message_id: &str,
        current_base_key: &[u8],
    ) -> Result<bool> {
        Ok(self
            .get(key2(kind::BASE_KEY, address, message_id))
            .await?
            .is_some_and(|stored| stored == current_base_key))
    }

    async fn delete_base_key(&self, address: &str, message_id: &str) -> Result<()> {
        self.delete(key2(kind::BASE_KEY, address, message_id)).await
    }

    async fn update_device_list(&self, record: DeviceListRecord) -> Result<()> {
        self.put_json(key(kind::DEVICE_LIST, &record.user), &record)
            .await
    }

    async fn get_devices(&self, user: &str) -> Result<Option<DeviceListRecord>> {
        self.get_json(key(kind::DEVICE_LIST, user)).await
    }

    async fn delete_devices(&self, user: &str) -> Result<()> {
        self.delete(key(kind::DEVICE_LIST, user)).await
    }

    async fn get_group_metadata(&self, group_jid: &str) -> Result<Option<Vec<u8>>> {
        self.get(key(kind::GROUP, group_jid)).await
    }

    async fn put_group_metadata(&self, group_jid: &str, blob: &[u8]) -> Result<()> {
        self.put(key(kind::GROUP, group_jid), blob, 0, Some(now_secs()))
            .await
    }

    async fn delete_group_metadata(&self, group_jid: &str) -> Result<()> {
        self.delete(key(kind::GROUP, group_jid)).await
    }

    async fn get_tc_token(&self, jid: &str) -> Result<Option<TcTokenEntry>> {
        let row: Option<(Vec<u8>, i64, Option<i64>)> = on_pool!(&self.pool, p => {
        sqlx::query_as(
                    "SELECT value, n, ts FROM device_store \
                     WHERE session = $1 AND kind = $2 AND k1 = $3 AND k2 = '' AND k3 = ''",
                )
                .bind(&*self.session)
                .bind(kind::TC_TOKEN)
                .bind(jid)
                .fetch_optional(p)
                .await
        })
        .map_err(db)?;
        Ok(
            row.map(|(token, token_timestamp, sender_timestamp)| TcTokenEntry {
                token,
                token_timestamp,
                sender_timestamp,
            }),
        )
    }

    async fn put_tc_token(&self, jid: &str, entry: &TcTokenEntry) -> Result<()> {
        self.put(
            key(kind::TC_TOKEN, jid),
            &entry.token,
            entry.token_timestamp,
            entry.sender_timestamp,
        )
        .await
    }

    async fn delete_tc_token(&self, jid: &str) -> Result<()> {
        self.delete(key(kind::TC_TOKEN, jid)).await
    }

    async fn get_all_tc_token_jids(&self) -> Result<Vec<String>> {
        Ok(self
            .rows(kind::TC_TOKEN, None)
            .await?
            .into_iter()
            .map(|(jid, ..)| jid)
            .collect())
    }

    async fn delete_expired_tc_tokens(&self, token_cutoff: i64, sender_cutoff: i64) -> Result<u32> {
        // Kept while either the received token or the sender bucket is live.
        let done = on_pool!(&self.pool, p => {
        sqlx::query(
                    "DELETE FROM device_store WHERE session = $1 AND kind = $2 \
                     AND NOT ((length(value) > 0 AND n >= $3) OR (ts IS NOT NULL AND ts >= $4))",
                )
                .bind(&*self.session)
                .bind(kind::TC_TOKEN)
                .bind(token_cutoff)
                .bind(sender_cutoff)
                .execute(p)
                .await.map(|d| d.rows_affected())
        })
        .map_err(db)?;
        Ok(u32::try_from(done).unwrap_or(u32::MAX))
    }

    async fn touch_tc_token_sender_timestamp(
        &self,
        jid: &str,
        sender_timestamp: i64,
    ) -> Result<()> {
        self.writable()?;
        // One upsert: the sender time only moves forward, a token already there stays.
        on_pool!(&self.pool, p => {
sqlx::query(
            "INSERT INTO device_store (session, kind, k1, value, n, ts) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (session, kind, k1, k2, k3) DO UPDATE SET ts = CASE \
             WHEN device_store.ts IS NULL OR device_store.ts < excluded.ts THEN excluded.ts \
             ELSE device_store.ts END",
        )
        .bind(&*self.session)
        .bind(kind::TC_TOKEN)
        .bind(jid)
        .bind(&b""[..])
        .bind(sender_timestamp)
        .bind(sender_timestamp)
        .execute(p)
        .await.map(|d| d.rows_affected())
})
        .map_err(db)?;
        Ok(())
    }

    async fn store_received_tc_token(
        &self,
        jid: &str,
        token: &[u8],
        token_timestamp: i64,
    ) -> Result<()> {
        self.writable()?;
        // Newer wins (or any real token over a placeholder); the sender time is kept.
        on_pool!(&self.pool, p => {
sqlx::query(
            "INSERT INTO device_store (session, kind, k1, value, n, ts) VALUES ($1, $2, $3, $4, $5, NULL) \
             ON CONFLICT (session, kind, k1, k2, k3) DO UPDATE \
             SET value = excluded.value, n = excluded.n \
             WHERE length(device_store.value) = 0 OR excluded.n >= device_store.n",
        )
        .bind(&*self.session)
        .bind(kind::TC_TOKEN)
        .bind(jid)
        .bind(token)
        .bind(token_timestamp)
        .execute(p)
        .await.map(|d| d.rows_affected())
})
        .map_err(db)?;
        Ok(())
    }

    async fn store_sent_message(
        &self,
        chat_jid: &str,
        message_id: &str,
        payload: &[u8],
    ) -> Result<()> {
        self.put(
            key2(kind::SENT, chat_jid, message_id),
            payload,
            0,
            Some(now_secs()),
        )
        .await
    }

    async fn take_sent_message(&self, chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        self.writable()?;
        on_pool!(&self.pool, p => {
sqlx::query_scalar(
            "DELETE FROM device_store \
             WHERE session = $1 AND kind = $2 AND k1 = $3 AND k2 = $4 AND k3 = '' RETURNING value",
        )
        .bind(&*self.session)
        .bind(kind::SENT)
        .bind(chat_jid)
        .bind(message_id)
        .fetch_optional(p)
        .await
})
        .map_err(db)
    }

    async fn delete_expired_sent_messages(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.delete_older(kind::SENT, cutoff_timestamp).await
    }

    async fn store_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
        message: &[u8],
    ) -> Result<()> {
        self.put(
            key3(kind::PENDING, chat, sender, id),
            message,
            0,
            Some(now_secs()),
        )
        .await
    }

    async fn get_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
    ) -> Result<Option<Vec<u8>>> {
        self.get(key3(kind::PENDING, chat, sender, id)).await
    }

    async fn delete_pending_inbound(&self, chat: &str, sender: &str, id: &str) -> Result<()> {
        self.delete(key3(kind::PENDING, chat, sender, id)).await
    }

    async fn delete_expired_pending_inbound(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.delete_older(kind::PENDING, cutoff_timestamp).await
    }

    async fn store_pending_inbound_batch(&self, rows: &[PendingInboundRow<'_>]) -> Result<()> {
        let now = now_secs();
        self.put_many(
            (rows.iter().map(|r| {
                (
                    key3(kind::PENDING, r.chat, r.sender, r.id),
                    r.message,
                    0,
                    Some(now),
                )
            }))
            .collect(),
        )
        .await
    }

    async fn delete_pending_inbound_batch(&self, keys: &[PendingInboundKey<'_>]) -> Result<()> {
        self.delete_many(
            (keys
                .iter()
                .map(|k| key3(kind::PENDING, k.chat, k.sender, k.id)))
            .collect(),
        )
        .await
    }
}

#[async_trait::async_trait]
impl MsgSecretStore for SessionStore {
    async fn put_msg_secrets(&self, entries: Vec<MsgSecretEntry>) -> Result<usize> {
        self.writable()?;
        on_pool!(&self.pool, p => {
        let mut tx = p.begin().await.map_err(db)?;
                for e in &entries {
                    // Merged as wacore's merge_msg_secret_expiry/_message_ts do: 0 (never) wins, else
                    // the later expiry; the later message time.
                    sqlx::query(
                        "INSERT INTO device_store (session, kind, k1, k2, k3, value, n, ts) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (session, kind, k1, k2, k3) DO UPDATE SET value = excluded.value, \
                         ts = CASE WHEN device_store.ts = 0 OR excluded.ts = 0 THEN 0 \
                              WHEN excluded.ts > device_store.ts THEN excluded.ts ELSE device_store.ts END, \
                         n = CASE WHEN excluded.n > device_store.n THEN excluded.n ELSE device_store.n END",
                    )
                    .bind(&*self.session)
                    .bind(kind::SECRET)
                    .bind(&*e.chat)
                    .bind(&*e.sender)
                    .bind(&*e.msg_id)
                    .bind(&e.secret[..])
                    .bind(e.message_ts)
                    .bind(e.expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                }
                tx.commit().await.map_err(db)
        })?;
        Ok(entries.len())
    }

    async fn get_msg_secret(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<Vec<u8>>> {
        self.get(key3(kind::SECRET, chat, sender, msg_id)).await
    }

    async fn get_msg_secret_with_ts(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<(Vec<u8>, i64)>> {
        on_pool!(&self.pool, p => {
        sqlx::query_as(
                    "SELECT value, n FROM device_store \
                     WHERE session = $1 AND kind = $2 AND k1 = $3 AND k2 = $4 AND k3 = $5",
                )
                .bind(&*self.session)
                .bind(kind::SECRET)
                .bind(chat)
                .bind(sender)
                .bind(msg_id)
                .fetch_optional(p)
                .await
        })
        .map_err(db)
    }

    async fn delete_expired_msg_secrets(&self, cutoff_timestamp: i64) -> Result<u32> {
        let done = on_pool!(&self.pool, p => {
sqlx::query(
            "DELETE FROM device_store WHERE session = $1 AND kind = $2 AND ts <> 0 AND ts <= $3",
        )
        .bind(&*self.session)
        .bind(kind::SECRET)
        .bind(cutoff_timestamp)
        .execute(p)
        .await.map(|d| d.rows_affected())
})
        .map_err(db)?;
        Ok(u32::try_from(done).unwrap_or(u32::MAX))
    }
}

#[async_trait::async_trait]
impl DeviceStore for SessionStore {
    async fn save(&self, device: &Device) -> Result<()> {
        self.put_json(key(kind::DEVICE, ""), device).await
    }

    async fn load(&self) -> Result<Option<Device>> {
        // Not serialized (runtime fields): set as whatsapp-rust's bundled store sets them on
        // load, or pairing would announce an empty device (no OS, version, platform).
        let device: Option<Device> = self.get_json(key(kind::DEVICE, "")).await?;
        Ok(device.map(|mut d| {
            d.device_props = Arc::new(whatsapp_rust::wacore::store::device::DEVICE_PROPS.clone());
            d.client_profile = whatsapp_rust::wacore::client_profile::ClientProfile::web();
            d
        }))
    }

    async fn exists(&self) -> Result<bool> {
        Ok(self.get(key(kind::DEVICE, "")).await?.is_some())
    }

    async fn create(&self) -> Result<i32> {
        // One device per session: its id within the session is always 1.
        if !self.exists().await? {
            self.save(&Device::new()).await?;
        }
        Ok(1)
    }
}

/// The keys (and, for kinds the traits cannot list or read whole, the values) of one device
/// store, to copy it through the traits into another.
#[derive(Default)]
struct Listing {
    identities: Vec<String>,
    sessions: Vec<String>,
    prekeys: Vec<(u32, bool)>,
    sender_keys: Vec<String>,
    sync_keys: Vec<Vec<u8>>,
    versions: Vec<String>,
    device_lists: Vec<String>,
    /// (collection, version, index MAC, value MAC)
    macs: Vec<(String, i64, Vec<u8>, Vec<u8>)>,
    /// (group, device, has key)
    sender_key_devices: Vec<(String, String, bool)>,
    /// (address, message id, base key)
    base_keys: Vec<(String, String, Vec<u8>)>,
    groups: Vec<(String, Vec<u8>)>,
    /// (chat, message id, payload)
    sent: Vec<(String, String, Vec<u8>)>,
    /// (chat, sender, id, message)
    pending: Vec<(String, String, String, Vec<u8>)>,
    secrets: Vec<MsgSecretEntry>,
}

type SecretRow = (String, String, String, Vec<u8>, i64, i64);
/// kind, k1, k2, k3, value, n, ts
type StoredRow = (String, String, String, String, Vec<u8>, i64, Option<i64>);

impl Listing {
    /// From a file of whatsapp-rust's bundled store (device 1, the one `SqliteStore::new` uses).
    async fn legacy(conn: &mut SqliteConnection) -> std::result::Result<Listing, sqlx::Error> {
        async fn texts(
            conn: &mut SqliteConnection,
            sql: &'static str,
        ) -> std::result::Result<Vec<String>, sqlx::Error> {
            sqlx::query_scalar(sql).fetch_all(conn).await
        }
        let prekeys: Vec<(i64, bool)> =
            sqlx::query_as("SELECT id, uploaded FROM prekeys WHERE device_id = 1")
                .fetch_all(&mut *conn)
                .await?;
        let secrets: Vec<SecretRow> = sqlx::query_as(
            "SELECT chat, sender, msg_id, secret, expires_at, message_ts FROM msg_secrets \
             WHERE device_id = 1",
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(Listing {
            identities: texts(conn, "SELECT address FROM identities WHERE device_id = 1").await?,
            sessions: texts(conn, "SELECT address FROM sessions WHERE device_id = 1").await?,
            prekeys: prekeys
                .into_iter()
                .filter_map(|(id, up)| Some((u32::try_from(id).ok()?, up)))
                .collect(),
            sender_keys: texts(conn, "SELECT address FROM sender_keys WHERE device_id = 1").await?,
            sync_keys: sqlx::query_scalar("SELECT key_id FROM app_state_keys WHERE device_id = 1")
                .fetch_all(&mut *conn)
                .await?,
            versions: texts(
                conn,
                "SELECT name FROM app_state_versions WHERE device_id = 1",
            )
            .await?,
            device_lists: texts(
                conn,
                "SELECT user_id FROM device_registry WHERE device_id = 1",
            )
            .await?,
            macs: sqlx::query_as(
                "SELECT name, version, index_mac, value_mac FROM app_state_mutation_macs \
                 WHERE device_id = 1",
            )
            .fetch_all(&mut *conn)
            .await?,
            sender_key_devices: sqlx::query_as::<_, (String, String, i64)>(
                "SELECT group_jid, device_jid, has_key FROM sender_key_devices \
                 WHERE device_id = 1",
            )
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(g, d, has)| (g, d, has != 0))
            .collect(),
            base_keys: sqlx::query_as(
                "SELECT address, message_id, base_key FROM base_keys WHERE device_id = 1",
            )
            .fetch_all(&mut *conn)
            .await?,
            groups: sqlx::query_as(
                "SELECT group_jid, info FROM group_metadata WHERE device_id = 1",
            )
            .fetch_all(&mut *conn)
            .await?,
            sent: sqlx::query_as(
                "SELECT chat_jid, message_id, payload FROM sent_messages WHERE device_id = 1",
            )
            .fetch_all(&mut *conn)
            .await?,
            pending: sqlx::query_as(
                "SELECT chat, sender, id, message FROM pending_inbound_messages \
                 WHERE device_id = 1",
            )
            .fetch_all(&mut *conn)
            .await?,
            secrets: secrets.into_iter().filter_map(secret).collect(),
        })
    }

    /// From the shared store.
    async fn shared(pool: &Pool, session: &str) -> std::result::Result<Listing, sqlx::Error> {
        let rows: Vec<StoredRow> = on_pool!(pool, p => {
        sqlx::query_as(
            "SELECT kind, k1, k2, k3, value, n, ts FROM device_store WHERE session = $1 \
                 ORDER BY kind, k1, k2, k3",
        )
        .bind(session)
        .fetch_all(p)
        .await
        })?;
        let mut l = Listing::default();
        for (kind, k1, k2, k3, value, n, ts) in rows {
            match kind.as_str() {
                kind::IDENTITY => l.identities.push(k1),
                kind::SESSION => l.sessions.push(k1),
                kind::PREKEY => l
                    .prekeys
                    .extend(k1.parse().ok().map(|id| (id, ts == Some(1)))),
                kind::SENDER_KEY => l.sender_keys.push(k1),
                kind::SYNC_KEY => l.sync_keys.extend(hex::decode(&k1).ok()),
                kind::VERSION => l.versions.push(k1),
                kind::DEVICE_LIST => l.device_lists.push(k1),
                kind::MAC => {
                    if let Ok(index) = hex::decode(&k2) {
                        l.macs.push((k1, n, index, value));
                    }
                }
                kind::SENDER_KEY_DEVICE => l.sender_key_devices.push((k1, k2, n != 0)),
                kind::BASE_KEY => l.base_keys.push((k1, k2, value)),
                kind::GROUP => l.groups.push((k1, value)),
                kind::SENT => l.sent.push((k1, k2, value)),
                kind::PENDING => l.pending.push((k1, k2, k3, value)),
                kind::SECRET => l
                    .secrets
                    .extend(secret((k1, k2, k3, value, ts.unwrap_or(0), n))),
                // Read whole through the traits: the device, signed prekeys, LID mappings and
                // tokens.
                _ => {}
            }
        }
        Ok(l)
    }
}

fn secret(
    (chat, sender, msg_id, secret, expires_at, message_ts): SecretRow,
) -> Option<MsgSecretEntry> {
    Some(MsgSecretEntry {
        chat: chat.into(),
        sender: sender.into(),
        msg_id: msg_id.into(),
        secret: secret.try_into().ok()?,
        expires_at,
        message_ts,
    })
}

/// Copies a device store through the storage traits.
/// Copies one device store into another through the traits; the device row itself is written
/// last, so a copy cut short leaves a store without a device (`exists` false) — unless
/// `device_first`: whatsapp-rust's bundled store keys its rows to an existing device row.
async fn copy(l: &Listing, from: &dyn Backend, to: &dyn Backend, device_first: bool) -> Result<()> {
    let device = from.load().await?;
    if device_first && device.is_some() && !to.exists().await? {
        to.create().await?;
    }
    for a in &l.identities {
        if let Some(k) = from.load_identity(a).await? {
            to.put_identity(a, k).await?;
        }
    }
    for a in &l.sessions {
        if let Some(s) = from.get_session(a).await? {
            to.put_session(a, &s).await?;
        }
    }
    for &(id, uploaded) in &l.prekeys {
        if let Some(r) = from.load_prekey(id).await? {
            to.store_prekey(id, &r, uploaded).await?;
        }
    }
    for (id, r) in from.load_all_signed_prekeys().await? {
        to.store_signed_prekey(id, &r).await?;
    }
    for a in &l.sender_keys {
        if let Some(r) = from.get_sender_key(a).await? {
            to.put_sender_key(a, &r).await?;
        }
    }
    for id in &l.sync_keys {
        if let Some(k) = from.get_sync_key(id).await? {
            to.set_sync_key(id, k).await?;
        }
    }
    for name in &l.versions {
        to.set_version(name, from.get_version(name).await?).await?;
    }
    for (name, version, index_mac, value_mac) in &l.macs {
        let m = AppStateMutationMAC {
            index_mac: index_mac.clone(),
            value_mac: value_mac.clone(),
        };
        to.put_mutation_macs(name, u64::try_from(*version).unwrap_or(0), &[m])
            .await?;
    }
    for (group, device, has_key) in &l.sender_key_devices {
        to.set_sender_key_status(group, &[(device, *has_key)])
            .await?;
    }
    for m in from.get_all_lid_mappings().await? {
        to.put_lid_mapping(&m).await?;
    }
    for (address, id, base_key) in &l.base_keys {
        to.save_base_key(address, id, base_key).await?;
    }
    for user in &l.device_lists {
        if let Some(r) = from.get_devices(user).await? {
            to.update_device_list(r).await?;
        }
    }
    for (group, info) in &l.groups {
        to.put_group_metadata(group, info).await?;
    }
    for jid in from.get_all_tc_token_jids().await? {
        if let Some(t) = from.get_tc_token(&jid).await? {
            to.put_tc_token(&jid, &t).await?;
        }
    }
    for (chat, id, payload) in &l.sent {
        to.store_sent_message(chat, id, payload).await?;
    }
    for (chat, sender, id, message) in &l.pending {
        to.store_pending_inbound(chat, sender, id, message).await?;
    }
    to.put_msg_secrets(l.secrets.clone()).await?;
    if let Some(device) = device {
        to.save(&device).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use whatsapp_rust::wacore::store::InMemoryBackend;

    async fn open() -> (tempfile::TempDir, Devices) {
        let dir = tempfile::tempdir().expect("tempdir");
        let devices = Devices::open(dir.path()).await.expect("open");
        (dir, devices)
    }

    /// A database of its own on the test cluster, when there is one.
    async fn open_postgres() -> Option<Devices> {
        let url = crate::db::test_postgres_database("devices").await?;
        Some(Devices::connect_postgres(&url).await.expect("connect"))
    }

    /// Each store test, once on SQLite and once on PostgreSQL.
    macro_rules! on_both_stores {
        ($($name:ident),+ $(,)?) => {
            mod sqlite {
                $(#[tokio::test]
                async fn $name() -> anyhow::Result<()> {
                    let (_dir, devices) = super::open().await;
                    super::$name(&devices).await
                })+
            }
            mod postgres {
                $(#[tokio::test]
                async fn $name() -> anyhow::Result<()> {
                    match super::open_postgres().await {
                        Some(devices) => super::$name(&devices).await,
                        None => Ok(()),
                    }
                })+
            }
        };
    }

    on_both_stores!(
        answers_like_wacores_reference_backend,
        sessions_do_not_see_each_other_and_a_wipe_takes_one,
        a_loaded_device_announces_itself_and_a_closed_store_takes_no_writes,
    );

    #[tokio::test]
    async fn a_sqlite_store_moves_into_postgresql_whole_and_once() -> anyhow::Result<()> {
        let Some(url) = crate::db::test_postgres_database("devices_import").await else {
            return Ok(());
        };
        let (dir, sqlite) = open().await;
        script(&*sqlite.of("s1")).await?;
        sqlite.of("s2").create().await?;
        sqlite.of("s3").create().await?;
        let before = sqlite.of("s1");
        let device = before.load().await?.ok_or(StoreError::DeviceNotFound(1))?;
        let identity = before.load_identity("62811:3@s.whatsapp.net").await?;
        let listing = Listing::shared(&sqlite.pool, "s1").await?;
        assert!(
            identity.is_some() && !listing.sessions.is_empty(),
            "the script wrote"
        );
        if let Pool::Sqlite(pool) = &sqlite.pool {
            pool.close().await;
        }
        let pg = Devices::connect_postgres(&url).await?;
        // s2 runs from PostgreSQL already: its keys there are the live ones. s3 was cut short
        // by an earlier import (rows, no device yet): it is copied again, whole.
        pg.of("s2").create().await?;
        pg.of("s2")
            .put_identity("live@s.whatsapp.net", [3; 32])
            .await?;
        pg.of("s3")
            .put_identity("half@s.whatsapp.net", [4; 32])
            .await?;
        assert_eq!(pg.import_sqlite(dir.path()).await?, 2);
        assert!(!dir.path().join(FILE).exists());
        assert!(dir.path().join("devices.db.imported").exists());
        assert_eq!(pg.sessions().await?, ["s1", "s2", "s3"]);
        let after = pg.of("s1");
        let moved = after.load().await?.ok_or(StoreError::DeviceNotFound(1))?;
        assert_eq!(moved.noise_key.public_key, device.noise_key.public_key);
        assert_eq!(
            after.load_identity("62811:3@s.whatsapp.net").await?,
            identity
        );
        assert_eq!(
            Listing::shared(&pg.pool, "s1").await?.sessions,
            listing.sessions
        );
        assert!(
            pg.of("s2")
                .load_identity("live@s.whatsapp.net")
                .await?
                .is_some()
        );
        assert_eq!(
            pg.of("s3").load_identity("half@s.whatsapp.net").await?,
            None
        );
        assert!(pg.of("s3").exists().await?);
        assert_eq!(pg.import_sqlite(dir.path()).await?, 0, "once");
        Ok(())
    }

    fn lid(lid: &str, phone: &str, at: i64) -> LidPnMappingEntry {
        LidPnMappingEntry {
            lid: lid.into(),
            phone_number: phone.into(),
            created_at: at,
            updated_at: at,
            learning_source: "usync".into(),
        }
    }

    fn secret_entry(id: &str, secret: u8, expires_at: i64, message_ts: i64) -> MsgSecretEntry {
        MsgSecretEntry {
            chat: "1@g.us".into(),
            sender: "2@s.whatsapp.net".into(),
            msg_id: id.into(),
            secret: [secret; 32],
            expires_at,
            message_ts,
        }
    }

    /// Runs one sequence of writes and reads, answering what every read saw.
    async fn script(b: &dyn Backend) -> Result<Vec<String>> {
        let mut seen = Vec::new();
        let mut saw = |label: &str, v: String| seen.push(format!("{label}: {v}"));
        // The device first: whatsapp-rust's bundled store keys every row to it.
        b.create().await?;
        // Signal
        b.put_identity("62811:3@s.whatsapp.net", [7; 32]).await?;
        b.put_identities_batch(&[("62812@s.whatsapp.net".into(), [8; 32])])
            .await?;
        saw(
            "identity",
            format!("{:?}", b.load_identity("62811:3@s.whatsapp.net").await?),
        );
        b.put_session("62811:3@s.whatsapp.net", b"s1").await?;
        b.put_sessions_batch(&[
            ("62813.0:1@lid".into(), Bytes::from_static(b"s2")),
            ("62811:3@s.whatsapp.net".into(), Bytes::from_static(b"s1b")),
        ])
        .await?;
        saw(
            "session",
            format!("{:?}", b.get_session("62811:3@s.whatsapp.net").await?),
        );
        saw(
            "has",
            format!("{:?}", b.has_session("62813.0:1@lid").await?),
        );
        for user in ["62811", "62812", "6281", "62813.0", "62814"] {
            saw(
                user,
                format!("{:?}", b.has_signal_state_for_user(user).await?),
            );
        }
        b.delete_session("62813.0:1@lid").await?;
        saw(
            "deleted",
            format!("{:?}", b.has_session("62813.0:1@lid").await?),
        );
        b.store_prekey(5, b"p5", false).await?;
        b.store_prekeys_batch(
            &[
                (9, Bytes::from_static(b"p9")),
                (7, Bytes::from_static(b"p7")),
            ],
            true,
        )
        .await?;
        b.mark_prekeys_uploaded(&[5]).await?;
        saw("max", format!("{:?}", b.get_max_prekey_id().await?));
        b.remove_prekey(9).await?;
        saw("max", format!("{:?}", b.get_max_prekey_id().await?));
        saw(
            "prekeys",
            format!("{:?}", b.load_prekeys_batch(&[5, 7, 9]).await?),
        );
        b.store_signed_prekey(2, b"sp2").await?;
        b.store_signed_prekey(1, b"sp1").await?;
        b.remove_signed_prekey(2).await?;
        saw(
            "signed",
            format!("{:?}", b.load_all_signed_prekeys().await?),
        );
        b.put_sender_key("g@g.us::1", b"k").await?;
        b.put_sender_keys_batch(&[("g@g.us::2".into(), Bytes::from_static(b"k2"))])
            .await?;
        b.delete_sender_key("g@g.us::1").await?;
        saw("sk", format!("{:?}", b.get_sender_key("g@g.us::2").await?));
        saw(
            "sk gone",
            format!("{:?}", b.get_sender_key("g@g.us::1").await?),
        );
        // App state
        let sync = AppStateSyncKey {
            key_data: vec![1; 32],
            fingerprint: vec![3],
            timestamp: 9,
        };
        b.set_sync_key(&[0, 2], sync.clone()).await?;
        b.set_sync_key(&[1, 1], sync).await?;
        saw("latest", format!("{:?}", b.get_latest_sync_key_id().await?));
        saw("sync", format!("{:?}", b.get_sync_key(&[1, 1]).await?));
        saw("version", format!("{:?}", b.get_version("regular").await?));
        let state = HashState {
            version: 4,
            ..Default::default()
        };
        b.set_version("regular", state).await?;
        saw("version", format!("{:?}", b.get_version("regular").await?));
        let mac = |i: u8, v: u8| AppStateMutationMAC {
            index_mac: vec![i; 32],
            value_mac: vec![v],
        };
        b.put_mutation_macs("regular", 4, &[mac(1, 10), mac(2, 20)])
            .await?;
        b.put_mutation_macs("other", 1, &[mac(1, 30)]).await?;
        b.delete_mutation_macs("regular", &[vec![2; 32]]).await?;
        let macs = b.get_mutation_macs("regular", &[[1; 32], [2; 32]]).await?;
        saw("macs", format!("{:?}", macs.get(&[1; 32])));
        saw("macs", format!("{:?}", macs.len()));
        b.clear_mutation_macs("regular").await?;
        saw(
            "cleared",
            format!("{:?}", b.get_mutation_mac("regular", &[1; 32]).await?),
        );
        saw(
            "other",
            format!("{:?}", b.get_mutation_mac("other", &[1; 32]).await?),
        );
        // Protocol
        b.set_sender_key_status("g@g.us", &[("a:1@lid", true), ("b:2@lid", false)])
            .await?;
        b.set_sender_key_status("h@g.us", &[("a:1@lid", true)])
            .await?;
        b.delete_sender_key_device_rows(&["a:1@lid"]).await?;
        let mut devices = b.get_sender_key_devices("g@g.us").await?;
        devices.sort();
        saw("skd", format!("{devices:?}"));
        saw(
            "skd h",
            format!("{:?}", b.get_sender_key_devices("h@g.us").await?),
        );
        b.clear_all_sender_key_devices().await?;
        saw(
            "skd all",
            format!("{:?}", b.get_sender_key_devices("g@g.us").await?),
        );
        b.put_lid_mapping(&lid("100", "62811", 1)).await?;
        b.put_lid_mapping(&lid("100", "62899", 2)).await?;
        saw(
            "pn old",
            format!("{:?}", b.get_pn_mapping("62811").await?.map(|e| e.lid)),
        );
        saw(
            "pn new",
            format!("{:?}", b.get_pn_mapping("62899").await?.map(|e| e.lid)),
        );
        saw(
            "lid",
            format!(
                "{:?}",
                b.get_lid_mapping("100").await?.map(|e| e.phone_number)
            ),
        );
        saw(
            "all",
            format!("{:?}", b.get_all_lid_mappings().await?.len()),
        );
        b.save_base_key("a", "m1", b"bk").await?;
        saw(
            "same",
            format!("{:?}", b.has_same_base_key("a", "m1", b"bk").await?),
        );
        saw(
            "other",
            format!("{:?}", b.has_same_base_key("a", "m1", b"xx").await?),
        );
        b.delete_base_key("a", "m1").await?;
        saw(
            "gone",
            format!("{:?}", b.has_same_base_key("a", "m1", b"bk").await?),
        );
        b.update_device_list(DeviceListRecord {
            user: "62811".into(),
            devices: vec![DeviceInfo::new(0, None), DeviceInfo::new(3, Some(2))],
            timestamp: 5,
            phash: Some("h".into()),
            raw_id: None,
        })
        .await?;
        saw(
            "devices",
            format!(
                "{:?}",
                b.get_devices("62811").await?.map(|d| d.devices.len())
            ),
        );
        b.delete_devices("62811").await?;
        saw(
            "devices",
            format!("{:?}", b.get_devices("62811").await?.is_some()),
        );
        b.put_group_metadata("g@g.us", b"meta").await?;
        saw(
            "group",
            format!("{:?}", b.get_group_metadata("g@g.us").await?),
        );
        b.delete_group_metadata("g@g.us").await?;
        saw(
            "group",
            format!("{:?}", b.get_group_metadata("g@g.us").await?),
        );
        // Trusted-contact tokens: newer wins, the sender time only moves forward.
        b.touch_tc_token_sender_timestamp("a", 50).await?;
        b.store_received_tc_token("a", b"t1", 10).await?;
        b.store_received_tc_token("a", b"t0", 5).await?;
        b.touch_tc_token_sender_timestamp("a", 40).await?;
        saw("tc", format!("{:?}", b.get_tc_token("a").await?));
        b.put_tc_token(
            "b",
            &TcTokenEntry {
                token: b"tb".to_vec(),
                token_timestamp: 1,
                sender_timestamp: None,
            },
        )
        .await?;
        b.put_tc_token(
            "c",
            &TcTokenEntry {
                token: vec![],
                token_timestamp: 1,
                sender_timestamp: Some(100),
            },
        )
        .await?;
        saw(
            "tc expired",
            format!("{:?}", b.delete_expired_tc_tokens(8, 60).await?),
        );
        let mut jids = b.get_all_tc_token_jids().await?;
        jids.sort();
        saw("tc left", format!("{jids:?}"));
        // Sent messages, the pending-inbound buffer, message secrets.
        b.store_sent_message("c@s.whatsapp.net", "m1", b"payload")
            .await?;
        saw(
            "take",
            format!("{:?}", b.take_sent_message("c@s.whatsapp.net", "m1").await?),
        );
        saw(
            "take again",
            format!("{:?}", b.take_sent_message("c@s.whatsapp.net", "m1").await?),
        );
        b.store_sent_message("c@s.whatsapp.net", "m2", b"p2")
            .await?;
        saw(
            "sent kept",
            format!(
                "{:?}",
                b.delete_expired_sent_messages(now_secs() - 60).await?
            ),
        );
        saw(
            "sent swept",
            format!(
                "{:?}",
                b.delete_expired_sent_messages(now_secs() + 60).await?
            ),
        );
        b.store_pending_inbound("c", "s", "i1", b"m1").await?;
        b.store_pending_inbound_batch(&[PendingInboundRow {
            chat: "c",
            sender: "s",
            id: "i2",
            message: b"m2",
        }])
        .await?;
        b.delete_pending_inbound_batch(&[PendingInboundKey {
            chat: "c",
            sender: "s",
            id: "i1",
        }])
        .await?;
        saw(
            "pending",
            format!("{:?}", b.get_pending_inbound("c", "s", "i1").await?),
        );
        saw(
            "pending",
            format!("{:?}", b.get_pending_inbound("c", "s", "i2").await?),
        );
        saw(
            "pending kept",
            format!(
                "{:?}",
                b.delete_expired_pending_inbound(now_secs() - 60).await?
            ),
        );
        b.delete_pending_inbound("c", "s", "i2").await?;
        saw(
            "pending",
            format!("{:?}", b.get_pending_inbound("c", "s", "i2").await?),
        );
        b.put_msg_secrets(vec![
            secret_entry("a", 1, 100, 5),
            secret_entry("b", 2, 0, 5),
            secret_entry("c", 3, 50, 5),
        ])
        .await?;
        // "a" later: a sooner expiry and an older time do not move it back; "c" never expires now.
        b.put_msg_secrets(vec![
            secret_entry("a", 4, 80, 1),
            secret_entry("c", 3, 0, 9),
        ])
        .await?;
        saw(
            "secret",
            format!(
                "{:?}",
                b.get_msg_secret_with_ts("1@g.us", "2@s.whatsapp.net", "a")
                    .await?
            ),
        );
        saw(
            "expired",
            format!("{:?}", b.delete_expired_msg_secrets(100).await?),
        );
        for id in ["a", "b", "c"] {
            saw(
                id,
                format!(
                    "{:?}",
                    b.get_msg_secret("1@g.us", "2@s.whatsapp.net", id)
                        .await?
                        .is_some()
                ),
            );
        }
        // The device
        saw("exists", format!("{:?}", b.exists().await?));
        let mut device = b.load().await?.ok_or(StoreError::DeviceNotFound(1))?;
        device.push_name = "Toko".into();
        device.login_counter = 3;
        b.save(&device).await?;
        let device = b.load().await?.ok_or(StoreError::DeviceNotFound(1))?;
        saw(
            "device",
            format!("{} {}", device.push_name, device.login_counter),
        );
        Ok(seen)
    }

    async fn answers_like_wacores_reference_backend(devices: &Devices) -> anyhow::Result<()> {
        let ours = script(&*devices.of("s1")).await?;
        let reference = script(&InMemoryBackend::new()).await?;
        assert_eq!(ours, reference);
        // Checked to see something: the script reads what it wrote.
        assert!(ours.contains(&"tc: Some(TcTokenEntry { token: [116, 49], token_timestamp: 10, sender_timestamp: Some(50) })".to_string()), "{ours:#?}");
        Ok(())
    }

    async fn sessions_do_not_see_each_other_and_a_wipe_takes_one(
        devices: &Devices,
    ) -> anyhow::Result<()> {
        let (a, b) = (devices.of("a"), devices.of("b"));
        a.create().await?;
        a.put_identity("x@s.whatsapp.net", [1; 32]).await?;
        b.create().await?;
        assert_eq!(b.load_identity("x@s.whatsapp.net").await?, None);
        assert_eq!(devices.sessions().await?, ["a", "b"]);
        devices.wipe("a").await?;
        assert!(!a.exists().await?);
        assert_eq!(a.load_identity("x@s.whatsapp.net").await?, None);
        assert!(b.exists().await?);
        Ok(())
    }

    async fn a_loaded_device_announces_itself_and_a_closed_store_takes_no_writes(
        devices: &Devices,
    ) -> anyhow::Result<()> {
        let store = devices.of("s1");
        store.create().await?;
        let device = store.load().await?.ok_or(StoreError::DeviceNotFound(1))?;
        let defaults = &*whatsapp_rust::wacore::store::device::DEVICE_PROPS;
        assert_eq!(device.device_props.os, defaults.os);
        assert!(device.device_props.os.is_some(), "pairing names the OS");
        assert_eq!(device.device_props.platform_type, defaults.platform_type);
        // A LID learnt again keeps when it was first learnt.
        store.put_lid_mapping(&lid("100", "62811", 5)).await?;
        store.put_lid_mapping(&lid("100", "62899", 9)).await?;
        let entry = store
            .get_lid_mapping("100")
            .await?
            .ok_or(StoreError::DeviceNotFound(1))?;
        assert_eq!((entry.created_at, entry.updated_at), (5, 9));
        store.close();
        assert!(
            store
                .put_identity("x@s.whatsapp.net", [1; 32])
                .await
                .is_err()
        );
        assert!(store.save(&device).await.is_err());
        assert!(store.exists().await?, "reads still answer");
        devices.wipe("s1").await?;
        assert!(!store.exists().await?);
        assert!(!devices.of("s1").exists().await?);
        devices.of("s1").create().await?;
        assert!(
            store.load().await?.is_some(),
            "a new store of the session writes again"
        );
        Ok(())
    }

    #[tokio::test]
    async fn an_import_replaces_what_the_shared_store_held_and_an_empty_file_is_set_aside()
    -> anyhow::Result<()> {
        let (dir, devices) = open().await;
        // A file a failed start left without a device: nothing to import, set aside.
        let empty = dir.path().join("s0.db");
        drop(SqliteStore::new(&empty.to_string_lossy()).await?);
        assert!(devices.import_legacy("s0", &empty).await?);
        assert!(!empty.exists());
        assert!(devices.sessions().await?.is_empty());
        // Rows the shared store held for the session do not survive an import.
        let stale = devices.of("s1");
        stale.create().await?;
        stale.put_identity("stale@s.whatsapp.net", [3; 32]).await?;
        let file = dir.path().join("s1.db");
        let old = SqliteStore::new(&file.to_string_lossy()).await?;
        old.create().await?;
        old.put_identity("kept@s.whatsapp.net", [4; 32]).await?;
        drop(old);
        assert!(devices.import_legacy("s1", &file).await?);
        let new = devices.of("s1");
        assert_eq!(new.load_identity("stale@s.whatsapp.net").await?, None);
        assert_eq!(
            new.load_identity("kept@s.whatsapp.net").await?,
            Some([4; 32])
        );
        Ok(())
    }

    #[tokio::test]
    async fn imports_a_store_of_an_earlier_version_and_keeps_the_file_aside() -> anyhow::Result<()>
    {
        let (dir, devices) = open().await;
        let file = dir.path().join("s1.db");
        // An earlier version's store, written by whatsapp-rust's bundled SQLite store.
        let old = SqliteStore::new(&file.to_string_lossy()).await?;
        let old_seen = script(&old).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        old.put_identity("keep@s.whatsapp.net", [9; 32]).await?;
        old.put_mutation_macs(
            "regular",
            7,
            &[AppStateMutationMAC {
                index_mac: vec![5; 32],
                value_mac: vec![6],
            }],
        )
        .await?;
        old.set_sender_key_status("g@g.us", &[("d:1@lid", true)])
            .await?;
        old.put_msg_secrets(vec![secret_entry("z", 7, 0, 3)])
            .await?;
        old.store_pending_inbound("c", "s", "p", b"waiting").await?;
        drop(old);
        assert!(devices.import_legacy("s1", &file).await?);
        assert!(!file.exists(), "renamed once imported");
        assert!(dir.path().join("s1.db.imported").exists());
        assert!(
            !devices.import_legacy("s1", &file).await?,
            "nothing left to import"
        );
        let new = devices.of("s1");
        assert_eq!(
            new.load_identity("keep@s.whatsapp.net").await?,
            Some([9; 32])
        );
        assert_eq!(
            new.get_mutation_mac("regular", &[5; 32]).await?,
            Some(vec![6])
        );
        assert_eq!(
            new.get_sender_key_devices("g@g.us").await?,
            [("d:1@lid".to_string(), true)]
        );
        assert_eq!(
            new.get_msg_secret_with_ts("1@g.us", "2@s.whatsapp.net", "z")
                .await?,
            Some((vec![7; 32], 3))
        );
        assert_eq!(
            new.get_pending_inbound("c", "s", "p").await?,
            Some(b"waiting".to_vec())
        );
        assert_eq!(new.get_latest_sync_key_id().await?, Some(vec![1, 1]));
        assert_eq!(new.get_version("regular").await?.version, 4);
        assert_eq!(
            new.get_pn_mapping("62899").await?.map(|e| e.lid),
            Some("100".into())
        );
        assert_eq!(new.load_all_signed_prekeys().await?, [(1, b"sp1".to_vec())]);
        assert_eq!(new.get_max_prekey_id().await?, 7);
        let device = new.load().await?.ok_or(StoreError::DeviceNotFound(1))?;
        assert_eq!(
            (device.push_name.as_str(), device.login_counter),
            ("Toko", 3)
        );
        // And back: an export read by the bundled store sees what the script wrote.
        let back = dir.path().join("back.db");
        devices.export_legacy("s1", &back).await?;
        let old = SqliteStore::new(&back.to_string_lossy()).await?;
        assert_eq!(
            old.load_identity("keep@s.whatsapp.net").await?,
            Some([9; 32])
        );
        let device = old.load().await?.ok_or(StoreError::DeviceNotFound(1))?;
        assert_eq!(device.push_name, "Toko");
        assert!(
            old_seen.iter().any(|l| l == "device: Toko 3"),
            "{old_seen:#?}"
        );
        Ok(())
    }
}
