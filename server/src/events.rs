//! Typed webhook events and the one write path that commits them with the records they
//! describe.
//!
//! Every payload type names its event ([`Event::NAME`]) and its session, so
//! `write.emit(&data)` cannot pair a payload with the wrong name or session: a new event is one
//! type and one `impl`. [`write`] is the only way records and events reach the database
//! together: the caller hands the writer task a job (record, emit), the task runs it in a
//! transaction shared with every other job waiting at that moment, commits, and only then
//! answers the caller and wakes the dispatcher.
//!
//! Why one writer task (group commit): SQLite has one writer. Concurrent requests and sessions
//! that each open their own write transaction queue on its lock, and SQLite's busy handler
//! makes them sleep and retry (the p99 of a send was 117 ms, almost all of it that sleep).
//! Here they queue in a bounded channel instead, and one `BEGIN … COMMIT` carries as many jobs
//! as arrived while the last one ran. A full channel makes callers wait: intake slows down
//! rather than memory growing.
//!
//! Why jobs may run twice: every statement is a round trip to the SQLite connection's own
//! thread, and on two cores those hand-overs, not SQLite, are what a write costs. A batch first
//! runs with no savepoint between its jobs (one round trip fewer per job); only when a job in
//! it fails is it rolled back and run again with each job inside its own savepoint, so that the
//! failure undoes only that job's statements. Jobs therefore do database work only, through
//! their [`Write`], and are cloned for the second run.

use crate::{state::AppState, webhooks};
use app::model::{
    ConnectionUpdateData, GroupParticipantsData, GroupUpdateData, InteractionButtonData,
    InteractionListData, InteractionTimeoutData, MessageEditedData, MessageInData, MessageOutData,
    MessageReactionData, MessageRevokedData, MessageStatusData, PollVoteData, SessionId, event,
};
use futures_util::{FutureExt, future::BoxFuture};
use serde::Serialize;
use sqlx::{Connection, Row, SqliteConnection, pool::PoolConnection};
use std::panic::AssertUnwindSafe;
use tokio::sync::{mpsc, oneshot};

/// A webhook event's `data`.
pub trait Event: Serialize + Sync {
    /// The name receivers see in `event` and `X-Webhook-Event`.
    const NAME: &'static str;
    /// The session it happened in (`None`: server-wide, such as a global test event).
    fn session(&self) -> Option<&SessionId>;
    /// The message it is about (its data's `messageId`), stored beside it so that a message's
    /// events are found by index (`GET /api/messages/{id}/events`).
    fn message_id(&self) -> Option<&str> {
        None
    }
}

macro_rules! session_events {
    ($($ty:ty => $name:expr $(, about $field:ident)?;)+) => {$(
        impl Event for $ty {
            const NAME: &'static str = $name;
            fn session(&self) -> Option<&SessionId> {
                Some(&self.session_id)
            }
            $(fn message_id(&self) -> Option<&str> {
                Some(&self.$field)
            })?
        }
    )+};
}

session_events! {
    MessageInData => event::MESSAGE_IN, about message_id;
    MessageOutData => event::MESSAGE_OUT, about message_id;
    InteractionButtonData => event::INTERACTION_BUTTON, about message_id;
    InteractionListData => event::INTERACTION_LIST, about message_id;
    InteractionTimeoutData => event::INTERACTION_TIMEOUT, about message_id;
    ConnectionUpdateData => event::CONNECTION_UPDATE;
    MessageReactionData => event::MESSAGE_REACTION, about message_id;
    MessageEditedData => event::MESSAGE_EDITED, about message_id;
    MessageRevokedData => event::MESSAGE_REVOKED, about message_id;
    MessageStatusData => event::MESSAGE_STATUS, about message_id;
    PollVoteData => event::POLL_VOTE, about message_id;
    GroupParticipantsData => event::GROUP_PARTICIPANTS;
    GroupUpdateData => event::GROUP_UPDATE;
}

/// What a job sees: the batch's connection, and a count of the deliveries it queued.
pub struct Write {
    conn: Conn,
    deliveries: usize,
    /// The sessions the current job wrote about, announced once its commit is durable
    /// (`Sessions::changed`: the Sessions list's live figures).
    touched: Vec<SessionId>,
    /// The writer's endpoint cache, lent to the batch.
    targets: webhooks::Targets,
}

impl Write {
    /// The transaction's connection, for the records.
    pub fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.conn
    }

    /// Queues `data` for every endpoint that wants it (the global one and its session's).
    pub async fn emit<E: Event>(&mut self, data: &E) -> Result<(), sqlx::Error> {
        self.emit_after(data, None).await.map(|_| ())
    }

    /// Records the message `m` and, only if it is new, queues `data` (its event) — in one round
    /// trip to SQLite. Answers whether it was new: a redelivery (same session and id) writes
    /// neither again.
    pub async fn record_and_emit<E: Event>(
        &mut self,
        m: crate::messages::NewMessage<'_>,
        data: &E,
    ) -> Result<bool, sqlx::Error> {
        let status = crate::messages::recorded_status(m.direction);
        let ahead = webhooks::Ahead {
            sql: crate::messages::INSERT,
            bind: Box::new(move |q| crate::messages::bind_insert(q, m, status)),
            chained: true,
        };
        Ok(self.emit_after(data, Some(ahead)).await? > 0)
    }

    /// Settles the sent message `planned` of `session` as `actual` (`messages::SETTLE`)
    /// and queues `data` (its `message.out`), in one round trip to SQLite.
    pub async fn settle_and_emit<E: Event>(
        &mut self,
        session: &SessionId,
        planned: &str,
        actual: &str,
        data: &E,
    ) -> Result<(), sqlx::Error> {
        let ahead = webhooks::Ahead {
            sql: crate::messages::SETTLE,
            bind: Box::new(move |q| crate::messages::bind_settle(q, session, planned, actual)),
            chained: false,
        };
        self.emit_after(data, Some(ahead)).await.map(|_| ())
    }

    /// Queues `data` after `ahead`; answers the rows `ahead` changed.
    async fn emit_after<E: Event>(
        &mut self,
        data: &E,
        ahead: Option<webhooks::Ahead<'_>>,
    ) -> Result<u64, sqlx::Error> {
        let chained = ahead.as_ref().is_some_and(|a| a.chained);
        let written = webhooks::enqueue(
            &mut self.conn,
            &mut self.targets,
            webhooks::About {
                session: data.session(),
                message: data.message_id(),
                event: E::NAME,
            },
            data,
            ahead,
        )
        .await?;
        // A chained event whose record was a repeat wrote nothing: nobody is told of a change.
        if let Some(session) = data.session()
            && (!chained || written.ahead_changed > 0)
        {
            self.touch(session);
        }
        self.deliveries += written.deliveries;
        Ok(written.ahead_changed)
    }

    /// Queues `data` for one endpoint only (a test event); answers the event's id.
    pub async fn emit_to<E: Event>(
        &mut self,
        endpoint_id: &str,
        data: &E,
    ) -> Result<String, sqlx::Error> {
        let session = data.session();
        if let Some(s) = session {
            self.touch(s);
        }
        let endpoint = [(endpoint_id, session.map(SessionId::as_str))];
        let about = webhooks::About {
            session,
            message: data.message_id(),
            event: E::NAME,
        };
        let event_id = webhooks::insert_event(&mut self.conn, about, data, &endpoint).await?;
        self.deliveries += 1;
        Ok(event_id)
    }

    /// Says that this job changed what session `id` shows (its messages, its webhook's
    /// deliveries); told to the session's followers once the job is committed. Every
    /// [`emit`](Self::emit) of a session's event does it already.
    pub fn touch(&mut self, id: &SessionId) {
        if !self.touched.contains(id) {
            self.touched.push(id.clone());
        }
    }

    /// Says that this job changed a webhook endpoint (the writer's endpoint cache is read
    /// again for the next event).
    pub fn endpoints_changed(&mut self) {
        self.targets.clear();
    }
}

/// How many jobs may wait for the writer before callers wait to hand theirs over.
const QUEUE: usize = 4096;
/// The most jobs one transaction carries (a bound on how long the write lock is held).
const BATCH: usize = 512;

/// A job's work: runs on the batch's [`Write`] (once, or again when its batch is run with
/// savepoints); answers whether it succeeded and what to tell its caller once the batch's fate
/// is known (only the last run's is called).
type Job = Box<dyn for<'w> FnMut(&'w mut Write) -> BoxFuture<'w, (bool, Finish)> + Send>;
/// Told the commit's outcome (`Err`: nothing of the batch was stored).
type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;

/// The handle of the writer task (cheap to clone; the task ends when every handle is gone).
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    close: mpsc::Sender<oneshot::Sender<()>>,
}

impl Writer {
    /// Starts the writer task on `db`.
    pub fn start(db: crate::db::Db) -> Writer {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let (close, close_rx) = mpsc::channel(1);
        tokio::spawn(writer_loop(db, rx, close_rx));
        Writer { jobs, close }
    }

    /// Closes the writer's own connection, at shutdown after the last write: the pool's
    /// `close` does not reach it. A job sent later opens one again.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.close.send(done).await.is_ok() {
            let _ = closed.await;
        }
    }
}

/// Runs `job` in the next group commit and answers its result once that commit is durable;
/// wakes the dispatcher when the job queued deliveries. An error means nothing of the job was
/// stored (a failed statement, or a failed commit).
pub async fn write<T, F>(state: &AppState, job: F) -> Result<T, sqlx::Error>
where
    T: Send + 'static,
    F: for<'w> FnOnce(&'w mut Write) -> BoxFuture<'w, Result<T, sqlx::Error>>
        + Clone
        + Send
        + 'static,
{
    submit(state, job).await?.committed().await
}

/// Writes something that already happened outside Kabar (a message WhatsApp took, an edit it
/// applied) and so must reach the record: tries `attempt` again after 1 s, doubling to a
/// minute, until it lands or the server stops. Spawn it after a first attempt failed.
pub async fn retry_write<F>(state: AppState, attempt: F)
where
    F: Fn(AppState) -> BoxFuture<'static, Result<(), sqlx::Error>>,
{
    let mut wait = std::time::Duration::from_secs(1);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        match attempt(state.clone()).await {
            Ok(()) => return,
            Err(e) => tracing::warn!(error = %e, "completing a record that WhatsApp is ahead of"),
        }
        wait = (wait * 2).min(std::time::Duration::from_secs(60));
    }
}

/// Hands `job` to the writer and answers at once (once the queue has room): jobs run in the
/// order they were submitted, so a caller may submit the next before this one has committed —
/// the session task does, so one session's messages share commits too.
pub async fn submit<T, F>(state: &AppState, job: F) -> Result<Submitted<T>, sqlx::Error>
where
    T: Send + 'static,
    F: for<'w> FnOnce(&'w mut Write) -> BoxFuture<'w, Result<T, sqlx::Error>>
        + Clone
        + Send
        + 'static,
{
    let (run, answer) = make_job(job);
    state
        .writer
        .jobs
        .send(run)
        .await
        .map_err(|_| not_written())?;
    Ok(Submitted {
        answer,
        state: state.clone(),
    })
}

/// A submitted job, until its commit settles.
pub struct Submitted<T> {
    answer: Answer<T>,
    state: AppState,
}

impl<T> Submitted<T> {
    /// The job's result once its batch's commit settled; wakes the dispatcher when the job
    /// queued deliveries. An error means nothing of the job was stored.
    pub async fn committed(self) -> Result<T, sqlx::Error> {
        let (value, queued, touched) = self.answer.await.map_err(|_| not_written())??;
        if queued > 0 {
            self.state.webhooks.wake.notify_one();
        }
        for id in &touched {
            self.state.sessions.changed(id);
        }
        Ok(value)
    }
}

/// What a caller hears when its job was dropped unrun or its batch could not begin.
fn not_written() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(
        "the write was not carried out: the database refused it (see the log)",
    ))
}

/// The job's value, the deliveries it queued and the sessions it touched.
type Answer<T> = oneshot::Receiver<Result<(T, usize, Vec<SessionId>), sqlx::Error>>;

/// Wraps `job` for the writer task; its answer (the value and the deliveries it queued)
/// arrives once the batch's commit has settled.
fn make_job<T, F>(job: F) -> (Job, Answer<T>)
where
    T: Send + 'static,
    F: for<'w> FnOnce(&'w mut Write) -> BoxFuture<'w, Result<T, sqlx::Error>>
        + Clone
        + Send
        + 'static,
{
    let (answer, answered) = oneshot::channel();
    // Taken by the finish of the run that counts.
    let answer = std::sync::Arc::new(std::sync::Mutex::new(Some(answer)));
    let run: Job = Box::new(move |w: &mut Write| {
        let (job, answer) = (job.clone(), answer.clone());
        Box::pin(async move {
            let before = w.deliveries;
            let result = job(w).await;
            let queued = w.deliveries - before;
            let touched = std::mem::take(&mut w.touched);
            let ok = result.is_ok();
            let finish: Finish = Box::new(move |committed| {
                let outcome = match (result, committed) {
                    (Err(e), _) => Err(e),
                    (Ok(_), Err(e)) => Err(sqlx::Error::Io(std::io::Error::other(e))),
                    (Ok(v), Ok(())) => Ok((v, queued, touched)),
                };
                let taken = answer
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                if let Some(answer) = taken {
                    let _ = answer.send(outcome);
                }
            });
            (ok, finish)
        })
    });
    (run, answered)
}

async fn writer_loop(
    db: crate::db::Db,
    mut rx: mpsc::Receiver<Job>,
    mut close: mpsc::Receiver<oneshot::Sender<()>>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(BATCH);
    let mut kept = Kept::default();
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, BATCH) => {
                if n == 0 {
                    kept.close().await;
                    return; // every handle is gone
                }
                run_batch(&db, std::mem::take(&mut batch), &mut kept).await;
            }
            Some(done) = close.recv() => {
                kept.close().await;
                let _ = done.send(());
            }
        }
    }
}

/// The writer's connection: its own, out of the pool, so that every batch begins on the
/// connection the endpoint cache was read on (`data_version` counts per connection); or, with
/// a pool of one (an in-memory database), the pool's, borrowed per batch, and no cache kept.
enum Conn {
    Own(SqliteConnection),
    Pooled(PoolConnection<sqlx::Sqlite>),
}

impl std::ops::Deref for Conn {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        match self {
            Conn::Own(c) => c,
            Conn::Pooled(c) => c,
        }
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match self {
            Conn::Own(c) => c,
            Conn::Pooled(c) => c,
        }
    }
}

/// What the writer keeps from one batch to the next.
#[derive(Default)]
struct Kept {
    conn: Option<SqliteConnection>,
    targets: webhooks::Targets,
}

impl Kept {
    async fn conn(&mut self, db: &crate::db::Db) -> Result<Conn, sqlx::Error> {
        if let Some(conn) = self.conn.take() {
            return Ok(Conn::Own(conn));
        }
        // A new connection has seen nothing yet.
        self.targets.clear();
        let pooled = db.acquire().await?;
        Ok(if db.options().get_max_connections() > 1 {
            Conn::Own(pooled.detach())
        } else {
            Conn::Pooled(pooled)
        })
    }

    /// Takes the connection back after a batch. After a refused or failed batch the writer's
    /// own connection is closed and the next batch opens another: a connection can stay in an
    /// error state (the file moved, an I/O error) that sqlx's ping, which only reaches the
    /// connection's thread, would not show.
    async fn keep(&mut self, conn: Conn, healthy: bool) {
        match conn {
            Conn::Own(c) if healthy => self.conn = Some(c),
            Conn::Own(c) => {
                let _ = c.close().await;
                self.targets.clear();
            }
            Conn::Pooled(mut c) => {
                if !healthy {
                    c.close_on_drop();
                }
                self.targets.clear();
            }
        }
    }

    /// Closes the writer's own connection (at shutdown, so that SQLite's last checkpoint runs).
    async fn close(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = conn.close().await;
        }
        self.targets.clear();
    }
}

/// One transaction for `jobs`, one commit, then every caller is told: first with no savepoint
/// between the jobs; when one fails, rolled back and run again with a savepoint per job.
async fn run_batch(db: &crate::db::Db, mut jobs: Vec<Job>, kept: &mut Kept) {
    let conn = match kept.conn(db).await {
        Ok(c) => c,
        Err(e) => return refuse(jobs, &e),
    };
    if let Some(conn) = all_or_nothing(conn, &mut jobs, kept).await {
        with_savepoints(conn, jobs, kept).await;
    }
}

/// Begins the batch's transaction (`then` opens the first job's savepoint when given); on
/// failure the jobs are refused and the connection handed back.
async fn begin(mut conn: Conn, then: &str, jobs: &mut Vec<Job>, kept: &mut Kept) -> Option<Conn> {
    // `data_version` changes when another connection has committed since this one last
    // looked: read while the write lock is held, it says whether the endpoint cache still
    // holds.
    let sql = format!("BEGIN IMMEDIATE; PRAGMA data_version{then}");
    match sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await
    {
        Ok(rows) => {
            kept.targets
                .begin(rows.first().and_then(|r| r.try_get(0).ok()));
            Some(conn)
        }
        Err(e) => {
            let rolled_back = sqlx::query("ROLLBACK").execute(&mut *conn).await.is_ok();
            kept.keep(conn, rolled_back).await;
            refuse(std::mem::take(jobs), &e);
            None
        }
    }
}

/// Runs every job in one transaction with no savepoint between them and commits when all
/// succeeded (answering `None`: done). When one fails (or panics) the transaction is rolled
/// back and the connection answered, for [`with_savepoints`] to run the batch again.
async fn all_or_nothing(conn: Conn, jobs: &mut Vec<Job>, kept: &mut Kept) -> Option<Conn> {
    let conn = begin(conn, "", jobs, kept).await?;
    let mut w = Write {
        conn,
        deliveries: 0,
        touched: Vec::new(),
        targets: std::mem::take(&mut kept.targets),
    };
    let mut finished: Vec<Finish> = Vec::with_capacity(jobs.len());
    for job in jobs.iter_mut() {
        match AssertUnwindSafe(job(&mut w)).catch_unwind().await {
            Ok((true, finish)) => finished.push(finish),
            _ => {
                // Undone whole: the jobs run again, each in its own savepoint.
                drop(finished);
                let rolled_back = sqlx::query("ROLLBACK").execute(w.conn()).await.is_ok();
                if !rolled_back {
                    kept.keep(w.conn, false).await;
                    let dropped = std::mem::take(jobs);
                    tracing::error!(
                        jobs = dropped.len(),
                        "a write batch could not be rolled back"
                    );
                    return None;
                }
                return Some(w.conn);
            }
        }
    }
    let committed = sqlx::query("COMMIT")
        .execute(w.conn())
        .await
        .map(drop)
        .map_err(|e| e.to_string());
    let jobs = finished.len();
    settle(w, kept, committed, finished, jobs).await;
    None
}

/// Ends a batch: after a failed commit, rolls back (a connection that cannot is closed) and
/// forgets the endpoint cache; hands the connection and cache back; tells every finished job
/// the outcome. `jobs` counts those the batch held, for the log.
async fn settle(
    mut w: Write,
    kept: &mut Kept,
    committed: Result<(), String>,
    finished: Vec<Finish>,
    jobs: usize,
) {
    let mut healthy = true;
    if let Err(e) = &committed {
        tracing::error!(error = %e, jobs, "a write batch was not stored");
        healthy = sqlx::query("ROLLBACK").execute(w.conn()).await.is_ok();
        w.targets.clear();
    }
    kept.targets = w.targets;
    kept.keep(w.conn, healthy).await;
    for finish in finished {
        finish(committed.clone());
    }
}

/// Runs the jobs again in one transaction, each in its own savepoint, so that a failing job
/// undoes only itself, and commits the others.
async fn with_savepoints(conn: Conn, mut jobs: Vec<Job>, kept: &mut Kept) {
    // What the rolled-back run read into the cache may be undone.
    kept.targets.clear();
    let Some(conn) = begin(conn, "; SAVEPOINT job", &mut jobs, kept).await else {
        return;
    };
    let mut w = Write {
        conn,
        deliveries: 0,
        touched: Vec::new(),
        targets: std::mem::take(&mut kept.targets),
    };
    let total = jobs.len();
    let mut finished: Vec<Finish> = Vec::with_capacity(total);
    let mut jobs = jobs.into_iter().enumerate();
    let mut committed = Err("the batch ended early".to_string());
    for (i, mut job) in jobs.by_ref() {
        // A panicking job is a failed job, not a dead writer.
        let (ok, finish) = match AssertUnwindSafe(job(&mut w)).catch_unwind().await {
            Ok((ok, finish)) => (ok, Some(finish)),
            Err(_) => {
                w.touched.clear();
                (false, None)
            }
        };
        finished.extend(finish);
        if !ok {
            // Its savepoint is rolled back: whatever it read into the cache may be undone.
            w.targets.clear();
        }
        let last = i + 1 == total;
        let end = match (ok, last) {
            (true, false) => "RELEASE job; SAVEPOINT job",
            (false, false) => "ROLLBACK TO job; RELEASE job; SAVEPOINT job",
            (true, true) => "RELEASE job; COMMIT",
            (false, true) => "ROLLBACK TO job; RELEASE job; COMMIT",
        };
        match sqlx::raw_sql(end).execute(w.conn()).await {
            Ok(_) if last => committed = Ok(()),
            Ok(_) => {}
            Err(e) => {
                // The commit failed, or SQLite rolled the whole transaction back (a full disk,
                // an I/O error): nothing of this batch is stored.
                committed = Err(e.to_string());
                break;
            }
        }
    }
    // Jobs after a broken one never ran, rather than running outside a transaction: dropping
    // them tells their callers nothing was written.
    let unrun = jobs.len();
    drop(jobs);
    let held = finished.len() + unrun;
    settle(w, kept, committed, finished, held).await;
}

/// Drops every job of a batch that could not begin (their callers hear that nothing was
/// written), saying why in the log.
fn refuse(jobs: Vec<Job>, e: &sqlx::Error) {
    tracing::error!(error = %e, jobs = jobs.len(), "the database refused a write batch");
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db() -> (tempfile::TempDir, crate::db::Db) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("k.db").display());
        let db = crate::db::connect(&url).await.expect("open");
        sqlx::query("CREATE TABLE t (x INTEGER PRIMARY KEY)")
            .execute(&db)
            .await
            .expect("table");
        (dir, db)
    }

    fn insert(
        x: i64,
    ) -> impl for<'w> FnOnce(&'w mut Write) -> BoxFuture<'w, Result<i64, sqlx::Error>> + Clone {
        move |w| {
            Box::pin(async move {
                sqlx::query("INSERT INTO t (x) VALUES (?)")
                    .bind(x)
                    .execute(w.conn())
                    .await?;
                Ok(x)
            })
        }
    }

    async fn stored(db: &crate::db::Db) -> Vec<i64> {
        sqlx::query_scalar("SELECT x FROM t ORDER BY x")
            .fetch_all(db)
            .await
            .expect("select")
    }

    /// One transaction, one savepoint per job: a failing job (its first statement already
    /// ran) undoes only itself, a panicking one too, and the others commit and hear so.
    #[tokio::test]
    async fn a_failed_job_undoes_only_itself_in_a_shared_commit() {
        let (_dir, db) = db().await;
        let (a, a_rx) = make_job(insert(1));
        let (b, b_rx) = make_job(|w: &mut Write| -> BoxFuture<'_, Result<i64, sqlx::Error>> {
            Box::pin(async move {
                sqlx::query("INSERT INTO t (x) VALUES (2)")
                    .execute(w.conn())
                    .await?;
                // 1 is taken: this job fails after its first row went in.
                sqlx::query("INSERT INTO t (x) VALUES (1)")
                    .execute(w.conn())
                    .await?;
                Ok(2)
            })
        });
        let (c, c_rx) = make_job(|_: &mut Write| -> BoxFuture<'_, Result<i64, sqlx::Error>> {
            Box::pin(async move { panic!("a bug in a job") })
        });
        let (d, d_rx) = make_job(insert(4));
        run_batch(&db, vec![a, b, c, d], &mut Kept::default()).await;
        assert_eq!(a_rx.await.expect("answer").expect("a").0, 1);
        assert!(b_rx.await.expect("answer").is_err());
        assert!(
            c_rx.await.is_err(),
            "a panicked job's caller hears it was not written"
        );
        assert_eq!(d_rx.await.expect("answer").expect("d").0, 4);
        assert_eq!(stored(&db).await, vec![1, 4]);
    }

    /// A job that counts its runs, inserting `x`; `fail` makes it fail after its insert.
    fn counted(
        x: i64,
        fail: bool,
        runs: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) -> impl for<'w> FnOnce(&'w mut Write) -> BoxFuture<'w, Result<i64, sqlx::Error>> + Clone {
        move |w| {
            Box::pin(async move {
                runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                insert(x)(w).await?;
                if fail {
                    return Err(sqlx::Error::Protocol("refused".into()));
                }
                Ok(x)
            })
        }
    }

    /// A batch whose jobs all succeed runs each once, with no savepoint; one that fails sends
    /// the batch round again with savepoints: the others run twice and are stored once.
    #[tokio::test]
    async fn jobs_run_once_unless_a_sibling_fails_and_are_stored_once_either_way() {
        use std::sync::{Arc, atomic::AtomicUsize, atomic::Ordering::SeqCst};
        let (_dir, db) = db().await;
        let mut kept = Kept::default();
        let runs: Vec<Arc<AtomicUsize>> = (0..5).map(|_| Arc::default()).collect();
        let (a, a_rx) = make_job(counted(1, false, runs[0].clone()));
        let (b, b_rx) = make_job(counted(2, false, runs[1].clone()));
        run_batch(&db, vec![a, b], &mut kept).await;
        assert_eq!(a_rx.await.expect("answer").expect("a").0, 1);
        assert_eq!(b_rx.await.expect("answer").expect("b").0, 2);
        let (c, c_rx) = make_job(counted(3, false, runs[2].clone()));
        let (d, d_rx) = make_job(counted(4, true, runs[3].clone()));
        let (e, e_rx) = make_job(counted(5, false, runs[4].clone()));
        run_batch(&db, vec![c, d, e], &mut kept).await;
        assert_eq!(c_rx.await.expect("answer").expect("c").0, 3);
        assert!(d_rx.await.expect("answer").is_err());
        assert_eq!(e_rx.await.expect("answer").expect("e").0, 5);
        let counts: Vec<usize> = runs.iter().map(|r| r.load(SeqCst)).collect();
        // e never ran in the first round: d's failure ended it.
        assert_eq!(counts, [1, 1, 2, 2, 1]);
        assert_eq!(stored(&db).await, vec![1, 2, 3, 5]);
    }

    /// Jobs sent while a batch runs share the next commit; every caller gets its own answer.
    #[tokio::test]
    async fn the_writer_task_commits_what_its_callers_sent() {
        let (_dir, db) = db().await;
        let writer = Writer::start(db.clone());
        let mut answers = Vec::new();
        for x in 0..200 {
            let (job, rx) = make_job(insert(x));
            writer.jobs.send(job).await.expect("send");
            answers.push(rx);
        }
        for (x, rx) in answers.into_iter().enumerate() {
            assert_eq!(rx.await.expect("answer").expect("stored").0, x as i64);
        }
        assert_eq!(stored(&db).await, (0..200).collect::<Vec<_>>());
    }

    /// Closing the writer's connection (at shutdown) loses nothing: a job sent later is
    /// written on a new one.
    #[tokio::test]
    async fn a_job_after_close_is_still_written() {
        let (_dir, db) = db().await;
        let writer = Writer::start(db.clone());
        for x in [1, 2] {
            let (job, rx) = make_job(insert(x));
            writer.jobs.send(job).await.expect("send");
            assert_eq!(rx.await.expect("answer").expect("stored").0, x);
            writer.close().await;
        }
        assert_eq!(stored(&db).await, vec![1, 2]);
    }

    /// A job that panics costs its own caller an error, not the writer: the next job commits.
    #[tokio::test]
    async fn the_writer_outlives_a_panicking_job() {
        let (_dir, db) = db().await;
        let writer = Writer::start(db.clone());
        let (job, rx) = make_job(|_: &mut Write| -> BoxFuture<'_, Result<i64, sqlx::Error>> {
            Box::pin(async move { panic!("a bug in a job") })
        });
        writer.jobs.send(job).await.expect("send");
        assert!(rx.await.is_err());
        let (job, rx) = make_job(insert(8));
        writer
            .jobs
            .send(job)
            .await
            .expect("the writer still takes jobs");
        assert_eq!(rx.await.expect("answer").expect("stored").0, 8);
        assert_eq!(stored(&db).await, vec![8]);
    }

    fn emit_any()
    -> impl for<'w> FnOnce(&'w mut Write) -> BoxFuture<'w, Result<i64, sqlx::Error>> + Clone {
        |w| {
            Box::pin(async move {
                let data = serde_json::json!({});
                let about = webhooks::About {
                    session: None,
                    message: None,
                    event: "message.in",
                };
                let n = webhooks::enqueue(&mut w.conn, &mut w.targets, about, &data, None)
                    .await?
                    .deliveries;
                Ok(n as i64)
            })
        }
    }

    /// The writer's endpoint cache never answers from a stale list: an endpoint another
    /// connection added is seen by the next batch, one a job of the same batch disabled is
    /// seen by the next job.
    #[tokio::test]
    async fn the_endpoint_cache_follows_every_change() {
        let (_dir, db) = db().await;
        let mut kept = Kept::default();
        let (job, none) = make_job(emit_any());
        run_batch(&db, vec![job], &mut kept).await;
        assert_eq!(none.await.expect("answer").expect("stored").0, 0);
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, session_id, url, secret, events, enabled, created_at, updated_at)
             VALUES ('g', NULL, 'http://127.0.0.1:9/', '', '[]', 1, 0, 0)",
        )
        .execute(&db)
        .await
        .expect("endpoint");
        let (first, one) = make_job(emit_any());
        let (disable, _) = make_job(|w: &mut Write| -> BoxFuture<'_, Result<i64, sqlx::Error>> {
            Box::pin(async move {
                sqlx::query("UPDATE webhook_endpoints SET enabled = 0")
                    .execute(w.conn())
                    .await?;
                w.endpoints_changed();
                Ok(0)
            })
        });
        let (after, zero) = make_job(emit_any());
        run_batch(&db, vec![first, disable, after], &mut kept).await;
        assert_eq!(
            one.await.expect("answer").expect("stored").0,
            1,
            "the endpoint added elsewhere is seen"
        );
        assert_eq!(
            zero.await.expect("answer").expect("stored").0,
            0,
            "the endpoint disabled in the batch is not used"
        );
        let deliveries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries")
            .fetch_one(&db)
            .await
            .expect("count");
        assert_eq!(deliveries, 1);
    }

    fn out_data(session: &SessionId, id: &str) -> MessageOutData {
        MessageOutData {
            session_id: session.clone(),
            message_id: id.into(),
            to: "6281234567890".into(),
            kind: "text".into(),
            message: "halo".into(),
            source: "api".into(),
            timestamp: 1,
            media: None,
            details: Default::default(),
        }
    }

    /// A message and its event in one statement list: stored once with one delivery per
    /// endpoint that wants it (none, the global one, and the session's own too); the same message
    /// again writes neither and says so; a settle and its event both land.
    #[tokio::test]
    async fn a_message_and_its_event_are_written_together_and_once() {
        let (_dir, db) = crate::db::testing::with_session().await;
        let session = SessionId("s".into());
        let count = |sql: &'static str| {
            let db = db.clone();
            async move {
                sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(&db)
                    .await
                    .expect("count")
            }
        };
        let mut kept = Kept::default();
        // A session's event goes to the global endpoint and the session's own, at most.
        for endpoints in 0..=2i64 {
            if endpoints > 0 {
                sqlx::query(
                    "INSERT INTO webhook_endpoints (id, session_id, url, secret, events, enabled, created_at, updated_at)
                     VALUES (?, ?, 'http://127.0.0.1:9/', '', '[]', 1, 0, 0)",
                )
                .bind(format!("e{endpoints}"))
                .bind((endpoints == 2).then_some("s"))
                .execute(&db)
                .await
                .expect("endpoint");
            }
            let id = format!("m{endpoints}");
            for attempt in 0..2 {
                let (id, session) = (id.clone(), session.clone());
                let (job, answer) = make_job(
                    move |w: &mut Write| -> BoxFuture<'_, Result<bool, sqlx::Error>> {
                        Box::pin(async move {
                            let chat = crate::phone::Chat::from_display("6281234567890");
                            let m = crate::messages::NewMessage {
                                id: &id,
                                session: &session,
                                direction: crate::messages::Direction::In,
                                chat: &chat,
                                sender: Some("6281234567890"),
                                kind: "text",
                                body: "halo",
                                source: None,
                                quoted_id: None,
                                timestamp_ms: 1,
                                media: None,
                                details: None,
                                push_name: None,
                            };
                            let data = out_data(&session, &id);
                            w.record_and_emit(m, &data).await
                        })
                    },
                );
                run_batch(&db, vec![job], &mut kept).await;
                let (new, _, touched) = answer.await.expect("answer").expect("stored");
                assert_eq!(
                    touched,
                    if new {
                        vec![SessionId("s".into())]
                    } else {
                        vec![]
                    },
                    "only a new message tells the session's followers"
                );
                assert_eq!(
                    new,
                    attempt == 0,
                    "{endpoints} endpoints, attempt {attempt}"
                );
            }
            assert_eq!(count("SELECT COUNT(*) FROM messages").await, endpoints + 1);
            assert_eq!(
                count("SELECT COUNT(*) FROM webhook_events").await,
                endpoints,
                "{endpoints} endpoints: an event only when someone wants it"
            );
        }
        // Events for 1 and 2 endpoints; deliveries 1 + 2, each event's to every endpoint.
        assert_eq!(count("SELECT COUNT(*) FROM webhook_events").await, 2);
        assert_eq!(count("SELECT COUNT(*) FROM webhook_deliveries").await, 3);
        assert_eq!(
            count(
                "SELECT COUNT(*) FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
                 WHERE e.message_id = 'm2'"
            )
            .await,
            2
        );
        sqlx::query("UPDATE messages SET direction = 'out', status = 'pending' WHERE id = 'm2'")
            .execute(&db)
            .await
            .expect("pending");
        let (job, answer) = make_job({
            let session = session.clone();
            move |w: &mut Write| -> BoxFuture<'_, Result<(), sqlx::Error>> {
                Box::pin(async move {
                    let data = out_data(&session, "m2-sent");
                    w.settle_and_emit(&session, "m2", "m2-sent", &data).await
                })
            }
        });
        run_batch(&db, vec![job], &mut kept).await;
        answer.await.expect("answer").expect("stored");
        assert_eq!(
            count("SELECT COUNT(*) FROM messages WHERE id = 'm2-sent' AND status = 'sent'").await,
            1
        );
        assert_eq!(count("SELECT COUNT(*) FROM webhook_events").await, 3);
        assert_eq!(count("SELECT COUNT(*) FROM webhook_deliveries").await, 5);
    }
}
