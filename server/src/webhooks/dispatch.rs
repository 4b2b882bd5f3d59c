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
/// are bounded by twice `--webhook-concurrency`.)
pub const PER_ENDPOINT: usize = 4;

pub async fn dispatch_loop(state: AppState) {
    // Attempts whose request is out (`--webhook-concurrency`), and attempts at all: an attempt
    // gives its request slot back as soon as the receiver has answered, and writing its outcome
    // down (which waits for a group commit) takes only the second kind, bounded too.
    let permits = Arc::new(Semaphore::new(state.webhooks.concurrency));
    let running = Arc::new(Semaphore::new(2 * state.webhooks.concurrency));
    // Delivery id → its endpoint while its request is out (`None`: answered, being written
    // down), for every attempt running.
    let in_flight: InFlight = Default::default();
    // Deliveries whose attempt could not be written down: held back, longer each time, so
    // a database that refuses writes is not answered by re-sending in a tight loop.
    let held: Arc<Mutex<HashMap<String, Hold>>> = Default::default();
    let mut tasks = JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        let mut picked = 0;
        let room = permits.available_permits().min(running.available_permits());
        // One connection for the whole look (picking, loading, the next due time): every use of
        // the pool costs hand-overs to SQLite's connection thread.
        let looked = match room {
            // Every request slot busy: nothing to pick, no connection taken.
            0 => Ok((vec![], None)),
            _ => match state.db.acquire().await {
                Ok(mut conn) => due(&mut conn, &in_flight, &held, room)
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
            let (state, in_flight, held) = (state.clone(), in_flight.clone(), held.clone());
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
                let result = attempt(&state, delivery, answered).await;
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
        // Nothing startable although deliveries may be due (their endpoints are at their cap):
        // wait for an attempt to end rather than look again at once.
        let wait = match conn.as_deref_mut() {
            Some(conn) if picked > 0 => next_due_in(conn).await.unwrap_or(POLL).min(POLL),
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
    // Graceful shutdown: finish the attempts in flight; the rest stays pending in the table.
    while tasks.join_next().await.is_some() {}
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
) -> Result<Vec<(String, String, Due)>, sqlx::Error> {
    if room == 0 {
        return Ok(vec![]);
    }
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
    .bind(window(busy.len() + held.len()) as i64)
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
/// [`WINDOW_MAX`]. With a fixed window, deliveries answered but not yet written down filled it
/// and nothing was started although request slots were free.
fn window(skipped: usize) -> usize {
    (PER_ENDPOINT + skipped).min(WINDOW_MAX)
}
const WINDOW_MAX: usize = 64;

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
async fn attempt(state: &AppState, d: Due, answered: impl FnOnce()) -> anyhow::Result<()> {
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
    let at = now_ms();
    let latency_ms = answer.latency.as_millis() as i64;
    let (excerpt, error) = (answer.excerpt.clone(), answer.error.clone());
    let disabled = disable.is_some();
    let delivered = matches!(outcome, Outcome::Delivered);
    // The session's figures (its webhook's backlog) change with the outcome.
    let session = d.session_id.clone().map(SessionId);
    crate::events::write(state, move |w| {
        Box::pin(async move {
            if let Some(s) = &session {
                w.touch(s);
            }
            if let Some(endpoint) = &disable {
                sqlx::query(
                    "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?",
                )
                .bind(GONE)
                .bind(at)
                .bind(endpoint)
                .execute(w.conn())
                .await?;
                w.endpoints_changed();
            }
            settle
                .write_with_attempt(
                    w.conn(),
                    Attempt {
                        at,
                        trigger,
                        status_code: status,
                        latency_ms,
                        excerpt,
                        error,
                    },
                )
                .await
        })
    })
    .await?;
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
