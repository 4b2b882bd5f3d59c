//! The dispatcher: a background loop that sends due deliveries with bounded concurrency, woken
//! by [`super::Webhooks::wake`] and polling as a fallback. Deliveries live in the database, so
//! a crash loses nothing: on start every `pending` one is simply due. An attempt that was in
//! flight when the process died is sent again with the same `webhook-id` (at least once).

use super::retry::{self, Outcome};
use crate::{db::now_ms, state::AppState};
use app::model::SessionId;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::{sync::Semaphore, task::JoinSet};

/// How long the loop sleeps at most between looks at the table.
const POLL: Duration = Duration::from_secs(1);
/// How much of a receiver's answer the log keeps, in characters.
const EXCERPT: usize = 512;
/// How many bytes of a receiver's answer are read at most: a receiver that answers with an
/// endless or huge body must not cost memory or time. Four bytes per character at most, so
/// the cap always holds a whole excerpt and a character it cuts in two lies past the excerpt.
const EXCERPT_BYTES: usize = 4 * 1024;
const _: () = assert!(EXCERPT_BYTES >= 4 * EXCERPT);

/// The columns [`Due`] is read from (followed by the caller's `WHERE`).
macro_rules! due_sql {
    () => {
        concat!(
            "SELECT d.id, d.attempts, d.manual, e.id AS event_id, e.event, e.body, d.endpoint_id,
                    p.url, p.secret, p.enabled, p.disabled_reason, p.session_id, ",
            crate::settings::allow_private_sql!("p.session_id"),
            " AS allow_private
         FROM webhook_deliveries d
         JOIN webhook_events e ON e.id = d.event_id
         LEFT JOIN webhook_endpoints p ON p.id = d.endpoint_id"
        )
    };
}

/// A delivery held back after its attempt could not be recorded.
struct Hold {
    until: Instant,
    wait: Duration,
}

/// The first hold after a failed write, doubled each time up to [`HOLD_MAX`].
const HOLD_FIRST: Duration = Duration::from_secs(2);
const HOLD_MAX: Duration = Duration::from_secs(60);

/// Delivery id → its endpoint while its request is out, `None` once answered.
type InFlight = Arc<Mutex<HashMap<String, Option<String>>>>;

/// At most this many requests are out at once to one endpoint, so a slow or dead receiver
/// holds only its own share of the global `--webhook-concurrency` and delays only itself.
/// (Attempts whose answer is being written down no longer count here; all attempts together
/// are bounded by [`RUNNING`] times `--webhook-concurrency`.)
pub const PER_ENDPOINT: usize = 4;

/// All attempts at once, requests out and outcomes being written down, per request slot. An
/// outcome waits for a group commit, behind whatever the writer has queued (under a flood of
/// inbound messages, tens of milliseconds): with only twice the request slots, attempts waiting
/// for their commit held every slot and the deliveries ran at a third of the intake while the
/// receivers sat idle. An attempt waiting to be written down holds only its outcome.
const RUNNING: usize = 8;

pub async fn dispatch_loop(state: AppState) {
    // Attempts whose request is out (`--webhook-concurrency`), and attempts at all: an attempt
    // gives its request slot back as soon as the receiver has answered, and writing its outcome
    // down (which waits for a group commit) takes only the second kind, bounded too.
    let permits = Arc::new(Semaphore::new(state.webhooks.concurrency));
    let running = Arc::new(Semaphore::new(RUNNING * state.webhooks.concurrency));
    // Delivery id → its endpoint while its request is out (`None`: answered, being written
    // down), for every attempt running.
    let in_flight: InFlight = Default::default();
    // Deliveries whose attempt could not be written down: held back, longer each time, so
    // a database that refuses writes is not answered by re-sending in a tight loop.
    let held: Arc<Mutex<HashMap<String, Hold>>> = Default::default();
    let mut tasks = JoinSet::new();
    // Where attempts hand their outcomes to be written together.
    let (mut outcomes, mut outcome_writer) = start_outcome_writer(&state);
    // Whether the last look filled every free slot: more is due than can go out.
    let mut backlog = false;
    // Under a backlog every answer wakes the loop, and a look per freed slot costs three
    // statements per delivery; the loop then looks once this many slots are free, or once
    // [`LOOK_GAP`] has passed since the last look (slow receivers may hold most slots for as
    // long as their timeout, and the others' deliveries must not wait for them).
    let batch = (state.webhooks.concurrency / 4).max(1);
    let mut last_look = Instant::now();
    let window_max = PER_ENDPOINT + RUNNING * state.webhooks.concurrency;
    loop {
        while tasks.try_join_next().is_some() {}
        if outcome_writer.is_finished() {
            // It ends only with its channel, which this loop holds; a panic must not leave
            // every later attempt unrecorded.
            tracing::error!("the webhook outcome writer stopped; starting it again");
            (outcomes, outcome_writer) = start_outcome_writer(&state);
        }
        let mut picked = 0;
        let room = permits.available_permits().min(running.available_permits());
        let gap_left = LOOK_GAP.saturating_sub(last_look.elapsed());
        let wanted = if backlog && !gap_left.is_zero() {
            batch
        } else {
            1
        };
        // One connection for the whole look (picking, loading, the next due time): every use of
        // the pool costs hand-overs to SQLite's connection thread.
        let looked = match room {
            // Too few request slots free: nothing picked, no connection taken.
            room if room < wanted => Ok((vec![], None)),
            _ => match state.db.acquire().await {
                Ok(mut conn) => due(&mut conn, &in_flight, &held, room, window_max)
                    .await
                    .map(|due| (due, Some(conn))),
                Err(e) => Err(e),
            },
        };
        let (due, mut conn) = looked.unwrap_or_else(|e| {
            tracing::error!(error = %e, "reading due webhook deliveries");
            (vec![], None)
        });
        for (id, endpoint, delivery) in due {
            let (Ok(permit), Ok(run)) = (
                permits.clone().acquire_owned().await,
                running.clone().acquire_owned().await,
            ) else {
                break;
            };
            picked += 1;
            if let Ok(mut map) = in_flight.lock() {
                map.insert(id.clone(), Some(endpoint));
            }
            let (state, in_flight, held, outcomes) = (
                state.clone(),
                in_flight.clone(),
                held.clone(),
                outcomes.clone(),
            );
            tasks.spawn(async move {
                let answered = {
                    let (id, in_flight, state) = (id.clone(), in_flight.clone(), state.clone());
                    move || {
                        if let Ok(mut map) = in_flight.lock() {
                            map.insert(id, None);
                        }
                        drop(permit);
                        state.webhooks.wake.notify_one();
                    }
                };
                let result = attempt(&state, delivery, answered, &outcomes).await;
                if let Ok(mut held) = held.lock() {
                    match &result {
                        Ok(()) => {
                            held.remove(&id);
                        }
                        Err(_) => {
                            let next = held.get(&id).map_or(HOLD_FIRST, |h| {
                                (h.wait * 2).min(HOLD_MAX)
                            });
                            held.insert(
                                id.clone(),
                                Hold {
                                    until: Instant::now() + next,
                                    wait: next,
                                },
                            );
                        }
                    }
                }
                if let Err(e) = result {
                    tracing::error!(delivery = %id, error = format!("{e:#}"), "webhook attempt failed to run; held back");
                }
                if let Ok(mut map) = in_flight.lock() {
                    map.remove(&id);
                }
                drop(run);
            });
        }
        if conn.is_some() {
            backlog = picked == room;
            last_look = Instant::now();
        }
        // Every free slot filled: an answer wakes the loop. Nothing startable although
        // deliveries may be due (their endpoints are at their cap): wait for an attempt to end
        // rather than look again at once. Too few slots free to look: at most until the gap
        // has passed.
        let wait = match conn.as_deref_mut() {
            Some(conn) if picked > 0 && !backlog => {
                next_due_in(conn).await.unwrap_or(POLL).min(POLL)
            }
            None if room > 0 && room < wanted => gap_left.max(Duration::from_millis(1)),
            _ => POLL,
        };
        drop(conn);
        tokio::select! {
            _ = state.shutdown.cancelled() => break,
            _ = state.webhooks.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    // Graceful shutdown: finish the attempts in flight (and write their outcomes); the rest
    // stays pending in the table.
    while tasks.join_next().await.is_some() {}
    drop(outcomes);
    let _ = outcome_writer.await;
    tracing::info!("webhook dispatcher stopped");
}

/// Up to `room` due deliveries, oldest first, none already in flight, at most
/// [`PER_ENDPOINT`] per endpoint counting those in flight. Picking a few per endpoint keeps a
/// backlog on one endpoint from filling the batch, so another endpoint's delivery is found at
/// once. Deliveries to the endpoints of a disabled account wait until it is enabled again.
async fn due(
    conn: &mut sqlx::SqliteConnection,
    in_flight: &Mutex<HashMap<String, Option<String>>>,
    held: &Mutex<HashMap<String, Hold>>,
    room: usize,
    window_max: usize,
) -> Result<Vec<(String, String, Due)>, sqlx::Error> {
    let busy = in_flight.lock().map(|m| m.clone()).unwrap_or_default();
    let now = Instant::now();
    let held: std::collections::HashSet<String> = held
        .lock()
        .map(|m| {
            m.iter()
                .filter(|(_, h)| h.until > now)
                .map(|(id, _)| id.clone())
                .collect()
        })
        .unwrap_or_default();
    // Per endpoint, its oldest due deliveries by index (a correlated LIMIT), then the
    // deliveries whose endpoint was removed: each pick costs a few index ranges, not a sort of
    // the whole backlog.
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT d.id, d.endpoint_id, d.next_attempt_at
         FROM webhook_endpoints p JOIN webhook_deliveries d ON d.id IN (
             SELECT x.id FROM webhook_deliveries x
             WHERE x.endpoint_id = p.id AND x.status = 'pending' AND x.next_attempt_at <= ?1
             ORDER BY x.next_attempt_at, x.id LIMIT ?2)
         WHERE NOT EXISTS (SELECT 1 FROM sessions s JOIN users u ON u.id = s.owner_id
                           WHERE s.id = p.session_id AND u.disabled = 1)
         UNION ALL
         SELECT id, '', next_attempt_at FROM (
             SELECT id, next_attempt_at FROM webhook_deliveries
             WHERE endpoint_id IS NULL AND status = 'pending' AND next_attempt_at <= ?1
             ORDER BY next_attempt_at, id LIMIT ?2)
         ORDER BY 3, 1 LIMIT ?3",
    )
    .bind(now_ms())
    .bind(window(busy.len() + held.len(), window_max) as i64)
    .bind((room + busy.len() + held.len()) as i64)
    .fetch_all(&mut *conn)
    .await?;
    let rows = rows
        .into_iter()
        .filter(|(id, _, _)| !held.contains(id))
        .map(|(id, endpoint, _)| (id, endpoint))
        .collect();
    let picked = pick(rows, &busy, room);
    if picked.is_empty() {
        return Ok(vec![]);
    }
    // Everything their attempts need, for all of them in one query rather than one each. A
    // delivery settled meanwhile (by a manual retry) is simply not found.
    let ids = serde_json::to_string(&picked.iter().map(|(id, _)| id).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut loaded: HashMap<String, Due> = sqlx::query_as::<_, Due>(DUE_BY_ID)
        .bind(ids)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|d| (d.id.clone(), d))
        .collect();
    Ok(picked
        .into_iter()
        .filter_map(|(id, endpoint)| {
            let d = loaded.remove(&id)?;
            Some((id, endpoint, d))
        })
        .collect())
}

/// How many of each endpoint's oldest due deliveries to read: its share, plus room past
/// those that are running or held back (they are among the oldest and are skipped), at most
/// `max` (every attempt that may be running, and a share). With a fixed window, deliveries
/// answered but not yet written down filled it and nothing was started although request slots
/// were free.
fn window(skipped: usize, max: usize) -> usize {
    (PER_ENDPOINT + skipped).min(max)
}

/// The rows to start now: not in flight, and no endpoint past [`PER_ENDPOINT`].
fn pick(
    rows: Vec<(String, String)>,
    busy: &HashMap<String, Option<String>>,
    room: usize,
) -> Vec<(String, String)> {
    let mut per_endpoint: HashMap<String, usize> = HashMap::new();
    for endpoint in busy.values().flatten() {
        *per_endpoint.entry(endpoint.clone()).or_default() += 1;
    }
    rows.into_iter()
        .filter(|(id, endpoint)| {
            if busy.contains_key(id) {
                return false;
            }
            let n = per_endpoint.entry(endpoint.clone()).or_default();
            *n += 1;
            *n <= PER_ENDPOINT
        })
        .take(room)
        .collect()
}

async fn next_due_in(conn: &mut sqlx::SqliteConnection) -> Option<Duration> {
    let (next,): (Option<i64>,) = sqlx::query_as(
        "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending'",
    )
    .fetch_one(conn)
    .await
    .ok()?;
    let ms = next? - now_ms();
    Some(Duration::from_millis(ms.max(10) as u64))
}

/// The deliveries named in a JSON array, still pending. `+d.status` keeps SQLite from
/// reading them through the status index, which would walk the whole backlog.
const DUE_BY_ID: &str = concat!(
    due_sql!(),
    " WHERE d.id IN (SELECT value FROM json_each(?)) AND +d.status = 'pending'"
);

/// A due delivery with everything its attempt needs.
#[derive(sqlx::FromRow)]
struct Due {
    id: String,
    attempts: i64,
    manual: bool,
    event_id: String,
    event: String,
    body: String,
    endpoint_id: Option<String>,
    url: Option<String>,
    secret: Option<String>,
    enabled: Option<bool>,
    disabled_reason: Option<String>,
    /// The session whose webhook this is (`None`: the global one), told of the outcome.
    session_id: Option<String>,
    /// Whether the endpoint may use internal addresses (`settings::allow_private_for`'s rule
    /// without the flag, decided in the same query).
    allow_private: bool,
}

/// What one HTTP attempt produced.
struct Answer {
    status: Option<u16>,
    latency: Duration,
    excerpt: Option<String>,
    error: Option<String>,
    retry_after: Option<Duration>,
}

/// Sends one delivery once and records the attempt and what comes next.
/// `answered` runs once the receiver has answered (or could not be reached): the request's
/// slot is free again while the outcome is written down.
async fn attempt(
    state: &AppState,
    d: Due,
    answered: impl FnOnce(),
    outcomes: &Outcomes,
) -> anyhow::Result<()> {
    let delivery_id = d.id.as_str();
    let (Some(url), Some(true)) = (d.url.clone(), d.enabled) else {
        let why = match (&d.endpoint_id, d.disabled_reason) {
            (None, _) => "the webhook endpoint was removed".to_string(),
            (_, Some(reason)) => format!("the webhook endpoint is disabled: {reason}"),
            _ => "the webhook endpoint is disabled".to_string(),
        };
        let settle = Settled {
            delivery_id: delivery_id.to_string(),
            status: "failed",
            attempts: d.attempts,
            next: None,
            last_status: None,
            error: Some(why),
        };
        let session = d.session_id.clone().map(SessionId);
        crate::events::write(state, move |w| {
            Box::pin(async move {
                if let Some(s) = &session {
                    w.touch(s);
                }
                settle.write(w.conn()).await
            })
        })
        .await?;
        return Ok(());
    };
    let allow_private = state.config.allow_private_webhooks || d.allow_private;
    let answer = send(state, &d, &url, allow_private).await;
    answered();
    let trigger = if d.manual { "manual" } else { "scheduled" };
    let attempts = d.attempts + 1;
    let status = answer.status.map(i64::from);
    let outcome = retry::outcome(answer.status);
    let label = match outcome {
        Outcome::Delivered => "delivered",
        Outcome::Retry => "retry",
        Outcome::Gone => "gone",
    };
    state
        .metrics
        .webhook_attempt(label, answer.latency.as_secs_f64());
    let settle = |status_now: &'static str, next: Option<i64>, error: Option<String>| Settled {
        delivery_id: delivery_id.to_string(),
        status: status_now,
        attempts,
        next,
        last_status: status,
        error,
    };
    const GONE: &str = "the receiver answered 410 Gone";
    let (settle, disable) = match outcome {
        Outcome::Delivered => (settle("delivered", None, None), None),
        Outcome::Gone => (
            settle("failed", None, Some(GONE.into())),
            d.endpoint_id.clone(),
        ),
        Outcome::Retry => {
            let error = answer
                .error
                .clone()
                .or_else(|| answer.status.map(|s| format!("HTTP {s}")));
            match state.webhooks.schedule.next_delay(attempts as usize) {
                Some(delay) => {
                    let delay = retry::wait(delay, answer.retry_after);
                    let next = now_ms() + delay.as_millis() as i64;
                    (settle("pending", Some(next), error), None)
                }
                None => (settle("failed", None, error), None),
            }
        }
    };
    // The attempt, the delivery's new state and (after a 410) the endpoint's, in one write: a
    // crash cannot keep an attempt without its outcome.
    let tried = Attempt {
        at: now_ms(),
        trigger,
        status_code: status,
        latency_ms: answer.latency.as_millis() as i64,
        excerpt: answer.excerpt.clone(),
        error: answer.error.clone(),
    };
    let disabled = disable.is_some();
    let delivered = matches!(outcome, Outcome::Delivered);
    // The session's figures (its webhook's backlog) change with the outcome.
    let session = d.session_id.clone().map(SessionId);
    match disable {
        None => note(outcomes, settle, tried, session).await?,
        Some(endpoint) => {
            crate::events::write(state, move |w| {
                Box::pin(async move {
                    if let Some(s) = &session {
                        w.touch(s);
                    }
                    sqlx::query(
                        "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?",
                    )
                    .bind(GONE)
                    .bind(tried.at)
                    .bind(&endpoint)
                    .execute(w.conn())
                    .await?;
                    w.endpoints_changed();
                    settle.write_with_attempt(w.conn(), tried).await
                })
            })
            .await?
        }
    }
    if disabled {
        tracing::warn!(endpoint = ?d.endpoint_id, "webhook endpoint disabled after 410 Gone");
    }
    // A delivered attempt logs at info only with the access log on (`--access-log`); else at
    // debug, so a busy webhook costs no log line per event (the delivery log has every
    // attempt). A failed attempt always shows.
    if delivered && !state.config.access_log {
        tracing::debug!(
            delivery = %delivery_id, event = %d.event, event_id = %d.event_id, status = ?answer.status,
            latency_ms = answer.latency.as_millis() as u64, "webhook attempt"
        );
    } else {
        tracing::info!(
            delivery = %delivery_id, event = %d.event, event_id = %d.event_id, status = ?answer.status,
            latency_ms = answer.latency.as_millis() as u64, error = ?answer.error, "webhook attempt"
        );
    }
    Ok(())
}

async fn send(state: &AppState, d: &Due, url: &str, allow_private: bool) -> Answer {
    let started = Instant::now();
    let fail = |error: String| Answer {
        status: None,
        latency: started.elapsed(),
        excerpt: None,
        error: Some(error),
        retry_after: None,
    };
    // Literal IP addresses never reach the resolver, so they are checked here.
    if !allow_private
        && let Ok(parsed) = reqwest::Url::parse(url)
        && let Some(ip) = parsed
            .host_str()
            .and_then(|h| h.trim_matches(|c| c == '[' || c == ']').parse().ok())
        && super::ssrf::is_internal(ip)
    {
        return fail(format!("refused: {ip} is an internal address"));
    }
    let client = if allow_private {
        &state.webhooks.open
    } else {
        &state.webhooks.guarded
    };
    let ts = now_ms() / 1000;
    let body = d.body.as_bytes();
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-webhook-event", &d.event)
        .header("x-webhook-id", &d.event_id)
        .header("webhook-id", &d.event_id)
        .header("webhook-timestamp", ts.to_string());
    let secret = match d
        .secret
        .as_deref()
        .map(|s| state.secrets.open(s))
        .transpose()
    {
        Ok(secret) => secret,
        Err(e) => return fail(format!("{e:#}")),
    };
    if let Some(secret) = secret.as_deref().filter(|s| !s.is_empty()) {
        req = req
            .header("x-signature", super::sign::hex_signature(secret, body))
            .header(
                "webhook-signature",
                super::sign::standard_signature(secret.as_bytes(), &d.event_id, ts, body),
            );
    }
    match req.body(d.body.clone()).send().await {
        Err(e) => fail(describe(&e)),
        Ok(resp) => {
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry::retry_after(v, std::time::SystemTime::now()));
            let head = read_head(resp, EXCERPT_BYTES).await;
            Answer {
                status: Some(status),
                latency: started.elapsed(),
                excerpt: excerpt(&head),
                error: None,
                retry_after,
            }
        }
    }
}

/// The first `cap` bytes of the body, read chunk by chunk so that no more than that (and the
/// one chunk that crosses it) is ever held. Dropping the response with the rest unread closes
/// the connection instead of returning it to the pool, which is the point with such a body.
/// A body that breaks off keeps what arrived.
async fn read_head(mut resp: reqwest::Response, cap: usize) -> Vec<u8> {
    let mut head = Vec::new();
    while head.len() < cap {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = cap - head.len();
                head.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    head
}

/// What the log keeps of an answer: at most [`EXCERPT`] characters; bytes that are not UTF-8
/// show as U+FFFD rather than losing the whole excerpt.
fn excerpt(head: &[u8]) -> Option<String> {
    let text: String = String::from_utf8_lossy(head)
        .chars()
        .take(EXCERPT)
        .collect();
    (!text.is_empty()).then_some(text)
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut inner: &dyn std::error::Error = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    format!("{kind}: {inner}")
}

/// A delivery's state after an attempt (or after finding its endpoint gone).
#[derive(Clone)]
struct Settled {
    delivery_id: String,
    status: &'static str,
    attempts: i64,
    next: Option<i64>,
    last_status: Option<i64>,
    error: Option<String>,
}

/// One attempt's row in the delivery log.
#[derive(Clone)]
struct Attempt {
    at: i64,
    trigger: &'static str,
    status_code: Option<i64>,
    latency_ms: i64,
    excerpt: Option<String>,
    error: Option<String>,
}

macro_rules! settle_sql {
    () => {
        "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_status = ?,
                last_error = ?, manual = 0, updated_at = ? WHERE id = ?"
    };
}

impl Settled {
    async fn write(&self, conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
        self.bind(sqlx::query(settle_sql!())).execute(conn).await?;
        Ok(())
    }

    /// The attempt and the delivery's new state, in one round trip to SQLite.
    async fn write_with_attempt(
        &self,
        conn: &mut sqlx::SqliteConnection,
        a: Attempt,
    ) -> Result<(), sqlx::Error> {
        let query = sqlx::query(concat!(
            "INSERT INTO webhook_attempts (delivery_id, at, trigger, status_code, latency_ms,
                                           response_excerpt, error)
             VALUES (?, ?, ?, ?, ?, ?, ?);\n",
            settle_sql!()
        ))
        .bind(self.delivery_id.clone())
        .bind(a.at)
        .bind(a.trigger)
        .bind(a.status_code)
        .bind(a.latency_ms)
        .bind(a.excerpt)
        .bind(a.error);
        self.bind(query).execute(conn).await?;
        Ok(())
    }

    /// Binds the values of `settle_sql!`, in its order.
    fn bind<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
        query
            .bind(self.status)
            .bind(self.attempts)
            .bind(self.next)
            .bind(self.last_status)
            .bind(self.error.clone())
            .bind(now_ms())
            .bind(self.delivery_id.clone())
    }
}

/// Under a backlog, how long the loop may leave free slots unused while it waits for more to
/// free up (see `batch` in [`dispatch_loop`]).
const LOOK_GAP: Duration = Duration::from_millis(5);

fn start_outcome_writer(state: &AppState) -> (Outcomes, tokio::task::JoinHandle<()>) {
    let (outcomes, written) = tokio::sync::mpsc::channel(RUNNING * state.webhooks.concurrency);
    (
        outcomes,
        tokio::spawn(write_outcomes(state.clone(), written)),
    )
}

/// An attempt's outcome on its way to the outcome writer, and who waits for it.
struct Noted {
    settle: Settled,
    attempt: Attempt,
    session: Option<SessionId>,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// Where attempts hand their outcomes ([`write_outcomes`]).
type Outcomes = tokio::sync::mpsc::Sender<Noted>;

/// Writes `settle` and `attempt` with every other outcome that arrived meanwhile; answers once
/// they are committed.
async fn note(
    outcomes: &Outcomes,
    settle: Settled,
    attempt: Attempt,
    session: Option<SessionId>,
) -> anyhow::Result<()> {
    let (done, written) = tokio::sync::oneshot::channel();
    let noted = Noted {
        settle,
        attempt,
        session,
        done,
    };
    let not_written = || anyhow::anyhow!("the outcome writer stopped");
    outcomes.send(noted).await.map_err(|_| not_written())?;
    written
        .await
        .map_err(|_| not_written())?
        .map_err(anyhow::Error::msg)
}

/// The most outcomes in one statement list (each a row of two `VALUES` lists, 14 values).
const OUTCOMES_MAX: usize = 64;

/// The outcome writer: every outcome that arrived while the last write ran, in one writer job
/// and a few statements — one per power of two in their count, so that SQLite prepares at most
/// seven shapes. One job per delivery cost a turn of the writer (a round trip to SQLite's
/// thread) per delivered event, which at full speed is what bounds the deliveries. A failed
/// write fails every outcome in it: each delivery is held back and sent again (at least once).
async fn write_outcomes(state: AppState, mut rx: tokio::sync::mpsc::Receiver<Noted>) {
    let mut batch = Vec::with_capacity(OUTCOMES_MAX);
    while rx.recv_many(&mut batch, 8 * OUTCOMES_MAX).await > 0 {
        let noted = std::mem::take(&mut batch);
        let rows: std::sync::Arc<Vec<(Settled, Attempt)>> = std::sync::Arc::new(
            noted
                .iter()
                .map(|n| (n.settle.clone(), n.attempt.clone()))
                .collect(),
        );
        let mut sessions: Vec<SessionId> = Vec::new();
        for s in noted.iter().filter_map(|n| n.session.as_ref()) {
            if !sessions.contains(s) {
                sessions.push(s.clone());
            }
        }
        let result = crate::events::write(&state, move |w| {
            Box::pin(async move {
                for s in &sessions {
                    w.touch(s);
                }
                let mut rest = rows.as_slice();
                while !rest.is_empty() {
                    let n = chunk(rest.len());
                    let (now, later) = rest.split_at(n);
                    outcomes_query(now).execute(w.conn()).await?;
                    rest = later;
                }
                Ok(())
            })
        })
        .await
        .map_err(|e| e.to_string());
        for n in noted {
            let _ = n.done.send(result.clone());
        }
    }
}

/// How many of `left` outcomes the next statement list carries: the largest power of two not
/// above it, at most [`OUTCOMES_MAX`].
fn chunk(left: usize) -> usize {
    let n = left.min(OUTCOMES_MAX);
    1 << (usize::BITS - 1 - n.leading_zeros())
}

/// The attempts of `rows` and their deliveries' new states: two statements whatever the count.
/// An attempt whose delivery is gone (its endpoint deleted meanwhile) is not written.
fn outcomes_query(rows: &[(Settled, Attempt)]) -> crate::db::Query<'static> {
    let values = |row: &str| vec![row; rows.len()].join(", ");
    let sql = format!(
        "WITH v (delivery_id, at, trigger, status_code, latency_ms, response_excerpt, error)
             AS (VALUES {})
         INSERT INTO webhook_attempts (delivery_id, at, trigger, status_code, latency_ms,
                                       response_excerpt, error)
         SELECT * FROM v WHERE EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = v.delivery_id);
         WITH v (id, status, attempts, next_attempt_at, last_status, last_error, updated_at)
             AS (VALUES {})
         UPDATE webhook_deliveries SET status = v.status, attempts = v.attempts,
                next_attempt_at = v.next_attempt_at, last_status = v.last_status,
                last_error = v.last_error, manual = 0, updated_at = v.updated_at
         FROM v WHERE webhook_deliveries.id = v.id",
        values("(?, ?, ?, ?, ?, ?, ?)"),
        values("(?, ?, ?, ?, ?, ?, ?)"),
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (settle, a) in rows {
        query = query
            .bind(settle.delivery_id.clone())
            .bind(a.at)
            .bind(a.trigger)
            .bind(a.status_code)
            .bind(a.latency_ms)
            .bind(a.excerpt.clone())
            .bind(a.error.clone());
    }
    let now = now_ms();
    for (settle, _) in rows {
        query = query
            .bind(settle.delivery_id.clone())
            .bind(settle.status)
            .bind(settle.attempts)
            .bind(settle.next)
            .bind(settle.last_status)
            .bind(settle.error.clone())
            .bind(now);
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The batch read finds the picked deliveries by id: with a backlog of thousands, reading
    /// them through the status index made every batch walk the backlog.
    #[tokio::test]
    async fn picked_deliveries_are_read_by_id_not_by_status() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("k.db").display());
        let db = crate::db::connect(&url).await.expect("open");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {DUE_BY_ID}"
        )))
        .bind("[]")
        .fetch_all(&db)
        .await
        .expect("plan");
        let plan: Vec<String> = rows
            .iter()
            .map(|r| sqlx::Row::get::<String, _>(r, "detail"))
            .collect();
        assert!(
            plan.iter().any(|d| d
                .starts_with("SEARCH d USING INDEX sqlite_autoindex_webhook_deliveries_1 (id=?)")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|d| d.contains("webhook_deliveries_due")),
            "{plan:?}"
        );
    }

    /// Outcomes written together land as each would alone: one attempt row each, in order,
    /// and each delivery's own new state; a delivery removed meanwhile gets no attempt and
    /// fails nothing. Chunks are powers of two up to the cap.
    #[tokio::test]
    async fn outcomes_written_together_each_land_on_their_own_delivery() {
        assert_eq!(
            [1, 2, 3, 5, 63, 64, 65, 1000].map(chunk),
            [1, 2, 2, 4, 32, 64, 64, 64]
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("k.db").display());
        let db = crate::db::connect(&url).await.expect("open");
        sqlx::raw_sql(
            "INSERT INTO webhook_endpoints (id, session_id, url, secret, events, enabled, created_at, updated_at)
             VALUES ('e', NULL, 'http://127.0.0.1:9/', '', '[]', 1, 0, 0);
             INSERT INTO webhook_events (id, session_id, event, body, created_at) VALUES ('ev', NULL, 'x', '{}', 0);
             INSERT INTO webhook_deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, updated_at)
             VALUES ('d1', 'ev', 'e', 'pending', 0, 0, 0, 0), ('d2', 'ev', 'e', 'pending', 2, 0, 0, 0),
                    ('d3', 'ev', 'e', 'pending', 0, 0, 0, 0);",
        )
        .execute(&db)
        .await
        .expect("deliveries");
        let outcome = |id: &str, status: &'static str, attempts: i64, code: Option<i64>| {
            let settle = Settled {
                delivery_id: id.into(),
                status,
                attempts,
                next: (status == "pending").then_some(5_000),
                last_status: code,
                error: code.filter(|c| *c >= 500).map(|c| format!("HTTP {c}")),
            };
            let attempt = Attempt {
                at: 7,
                trigger: "scheduled",
                status_code: code,
                latency_ms: 3,
                excerpt: None,
                error: None,
            };
            (settle, attempt)
        };
        // d3 went with its endpoint while its request was out.
        sqlx::query("DELETE FROM webhook_deliveries WHERE id = 'd3'")
            .execute(&db)
            .await
            .expect("delete");
        let rows = [
            outcome("d1", "delivered", 1, Some(200)),
            outcome("d2", "pending", 3, Some(503)),
            outcome("d3", "delivered", 1, Some(200)),
        ];
        outcomes_query(&rows).execute(&db).await.expect("written");
        let attempts: Vec<(String, Option<i64>)> =
            sqlx::query_as("SELECT delivery_id, status_code FROM webhook_attempts ORDER BY id")
                .fetch_all(&db)
                .await
                .expect("attempts");
        assert_eq!(
            attempts,
            [("d1".to_string(), Some(200)), ("d2".to_string(), Some(503))]
        );
        type Row = (String, String, i64, Option<i64>, Option<String>);
        let deliveries: Vec<Row> = sqlx::query_as(
            "SELECT id, status, attempts, next_attempt_at, last_error FROM webhook_deliveries ORDER BY id",
        )
        .fetch_all(&db)
        .await
        .expect("deliveries");
        assert_eq!(
            deliveries,
            [
                ("d1".to_string(), "delivered".to_string(), 1, None, None),
                (
                    "d2".to_string(),
                    "pending".to_string(),
                    3,
                    Some(5_000),
                    Some("HTTP 503".to_string())
                ),
            ]
        );
    }

    #[test]
    fn a_busy_endpoint_does_not_take_every_slot() {
        let row = |id: &str, ep: &str| (id.to_string(), ep.to_string());
        let mut busy: HashMap<String, Option<String>> = (0..3)
            .map(|i| (format!("b{i}"), Some("slow".to_string())))
            .collect();
        // Answered, its outcome being written: no longer a request out, still not re-sent.
        busy.insert("w0".into(), None);
        let rows = vec![
            row("b0", "slow"),
            row("w0", "slow"),
            row("s1", "slow"),
            row("s2", "slow"),
            row("s3", "slow"),
            row("f1", "fast"),
        ];
        // 3 requests out + 1 more = the cap for "slow"; "fast" still gets its turn.
        let picked: Vec<String> = pick(rows, &busy, 10)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(picked, vec!["s1", "f1"]);
    }

    #[test]
    fn excerpts_keep_at_most_512_characters() {
        assert_eq!(excerpt(b""), None);
        assert_eq!(excerpt(b"ok").as_deref(), Some("ok"));
        let long = excerpt(&[b'a'; EXCERPT_BYTES]).expect("excerpt");
        assert_eq!(long.chars().count(), EXCERPT);
        // Two-byte characters: still characters, not bytes, are counted.
        let accented = "é".repeat(EXCERPT_BYTES / 2);
        assert_eq!(
            excerpt(accented.as_bytes()).expect("excerpt"),
            "é".repeat(EXCERPT)
        );
    }

    #[test]
    fn a_character_cut_by_the_byte_cap_never_reaches_the_excerpt() {
        // "€" is three bytes; the cap cuts the last one in two.
        let euros = "€".repeat(EXCERPT_BYTES / 3 + 1);
        let head = &euros.as_bytes()[..EXCERPT_BYTES];
        assert_eq!(excerpt(head).expect("excerpt"), "€".repeat(EXCERPT));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_replaced_not_dropped() {
        assert_eq!(
            excerpt(b"bad \xff byte").as_deref(),
            Some("bad \u{fffd} byte")
        );
    }

    /// An endless body: reading stops at the cap, having pulled no chunk past it.
    #[tokio::test]
    async fn reading_an_answer_stops_at_the_byte_cap() {
        const CHUNK: &[u8] = &[b'x'; 1000];
        let pulled = Arc::new(AtomicUsize::new(0));
        let counter = pulled.clone();
        let endless = futures_util::stream::repeat_with(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>(CHUNK)
        });
        let resp = reqwest::Response::from(
            http::Response::builder()
                .status(500)
                .body(reqwest::Body::wrap_stream(endless))
                .expect("response"),
        );
        let head = tokio::time::timeout(Duration::from_secs(5), read_head(resp, EXCERPT_BYTES))
            .await
            .expect("reading stops at the cap");
        assert_eq!(head.len(), EXCERPT_BYTES);
        assert_eq!(
            pulled.load(Ordering::SeqCst),
            EXCERPT_BYTES.div_ceil(CHUNK.len())
        );
        assert_eq!(excerpt(&head).expect("excerpt"), "x".repeat(EXCERPT));
    }
}
