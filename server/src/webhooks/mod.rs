//! Webhook delivery that never loses an event (contract §5).
//!
//! - `enqueue`: an event and one delivery per matching endpoint, written in the caller's
//!   transaction (the same one as the message record): the outbox. Written through
//!   `crate::events::write`, the one write path.
//! - [`dispatch`]: the background loop that sends due deliveries, retries on the [`retry`]
//!   schedule and logs every attempt; it resumes whatever was pending after a crash.
//! - [`sign`]: `X-Signature` and the Standard Webhooks signature. [`ssrf`]: address guard.
//! - [`api`]: endpoint settings, the delivery log, retry and test events.
//! - [`schema`]: the OpenAPI `webhooks` section (every event's payload schema).

pub mod api;
pub mod dispatch;
pub mod retry;
pub mod schema;
pub mod sign;
pub mod ssrf;

use crate::db::{Query, new_id, now_ms};
use app::model::SessionId;
use serde::Serialize;
use std::{collections::HashMap, time::Duration};
use tokio::sync::Notify;

/// The dispatcher's shared parts.
pub struct Webhooks {
    /// Woken after a transaction added deliveries, so they go out at once.
    pub wake: Notify,
    /// Clients with redirects and proxies off, and the address guard on (`guarded`) or off
    /// (`open`).
    pub guarded: reqwest::Client,
    pub open: reqwest::Client,
    pub schedule: retry::Schedule,
    pub concurrency: usize,
}

impl Webhooks {
    pub fn new(config: &crate::Config) -> anyhow::Result<Self> {
        let build = |allow_private: bool| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(config.webhook_timeout_secs))
                .connect_timeout(Duration::from_secs(config.webhook_timeout_secs.min(10)))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("Kabar/", env!("CARGO_PKG_VERSION"), " (webhooks)"))
                .pool_max_idle_per_host(8)
                // HTTP(S)_PROXY would send every delivery to a proxy that resolves the
                // receiver's name itself, past the guarded resolver below: an internal
                // address would then be reached with no check at all.
                .no_proxy()
                .dns_resolver(std::sync::Arc::new(ssrf::GuardedResolver { allow_private }))
                .build()
        };
        Ok(Webhooks {
            wake: Notify::new(),
            guarded: build(false)?,
            open: build(true)?,
            schedule: retry::Schedule::parse(&config.webhook_retry_schedule)
                .map_err(anyhow::Error::msg)?,
            concurrency: config.webhook_concurrency,
        })
    }
}

/// The body every delivery sends: `{"event","data","timestamp"}` in that order, compact, so
/// that `JSON.stringify(JSON.parse(body))` in a Node.js receiver gives back the same bytes.
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    event: &'a str,
    data: &'a T,
    timestamp: i64,
}

/// An enabled endpoint as [`enqueue`] needs it: where its deliveries belong and which events
/// it wants (an empty filter: all).
#[derive(Clone)]
struct Target {
    id: String,
    session: Option<String>,
    events: Vec<String>,
}

impl Target {
    fn wants(&self, event: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|e| e == event)
    }
}

/// The enabled endpoints per session, kept by the writer task between its transactions so
/// that an event costs no endpoint query. Exact, not a best guess: it is dropped when another
/// connection has committed anything since it was read (`PRAGMA data_version`, checked as each
/// transaction begins, while no one else can write), when a job of the writer changes an
/// endpoint itself ([`crate::events::Write::endpoints_changed`]), and when a transaction
/// fails.
#[derive(Default)]
pub(crate) struct Targets {
    /// The `data_version` the entries were read at.
    version: Option<i64>,
    /// Session (`None`: events without a session) → the endpoints its events go to.
    by_session: HashMap<Option<String>, Vec<Target>>,
}

impl Targets {
    /// Keeps the entries only if nothing else was committed since they were read.
    pub(crate) fn begin(&mut self, version: Option<i64>) {
        if version.is_none() || version != self.version {
            self.by_session.clear();
        }
        self.version = version;
    }

    pub(crate) fn clear(&mut self) {
        self.by_session.clear();
        self.version = None;
    }

    async fn for_session(
        &mut self,
        conn: &mut sqlx::SqliteConnection,
        session: Option<&SessionId>,
    ) -> Result<&[Target], sqlx::Error> {
        let key = session.map(|s| s.as_str().to_string());
        if !self.by_session.contains_key(&key) {
            let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
                "SELECT id, session_id, events FROM webhook_endpoints
                 WHERE enabled = 1 AND (session_id IS NULL OR session_id = ?)",
            )
            .bind(key.as_deref())
            .fetch_all(&mut *conn)
            .await?;
            let targets = rows
                .into_iter()
                .map(|(id, session, events)| Target {
                    id,
                    session,
                    events: serde_json::from_str(&events).unwrap_or_default(),
                })
                .collect();
            self.by_session.insert(key.clone(), targets);
        }
        Ok(self.by_session.get(&key).map_or(&[], Vec::as_slice))
    }
}

/// Writes `event` with `data` and a pending delivery for every enabled endpoint that wants it:
/// the global one and the session's own, after `ahead` (in the same round trip) when given.
/// Answers the rows the statements changed (`ahead`'s included). Only `crate::events::Write`
/// calls it (typed; `events::write` wakes the dispatcher after the commit).
pub(crate) async fn enqueue<'q, T: Serialize>(
    conn: &mut sqlx::SqliteConnection,
    targets: &mut Targets,
    about: About<'_>,
    data: &T,
    ahead: Option<Ahead<'q>>,
) -> Result<Written, sqlx::Error> {
    let wanted: Vec<Target> = targets
        .for_session(&mut *conn, about.session)
        .await?
        .iter()
        .filter(|t| t.wants(about.event))
        .cloned()
        .collect();
    let endpoints: Vec<(&str, Option<&str>)> = wanted
        .iter()
        .map(|t| (t.id.as_str(), t.session.as_deref()))
        .collect();
    write_event(conn, about, data, &endpoints, ahead).await
}

/// What an event is, beside its data: its name, and the session and message it is about.
#[derive(Clone, Copy)]
pub(crate) struct About<'a> {
    pub session: Option<&'a SessionId>,
    pub message: Option<&'a str>,
    pub event: &'a str,
}

/// A statement sent ahead of an event in the same round trip: the record the event is about
/// (every statement is a hand-over to SQLite's connection thread, and those hand-overs are
/// what a write costs).
pub(crate) struct Ahead<'q> {
    /// Its text, with plain `?` only (see [`event_sql`]).
    pub sql: &'static str,
    /// Binds its values onto the statement list, ahead of the event's.
    pub bind: Box<dyn FnOnce(Query<'q>) -> Query<'q> + Send + 'q>,
    /// The event is written only when this statement changed a row: a message recorded for the
    /// first time (a redelivery writes neither the message nor its event again).
    pub chained: bool,
}

/// What [`enqueue`] wrote.
pub(crate) struct Written {
    /// The event's id (made even when no endpoint wanted it, and then not stored).
    pub event_id: String,
    /// The deliveries created.
    pub deliveries: usize,
    /// The rows the statement ahead changed: `0` for a message already recorded.
    pub ahead_changed: u64,
}

/// The event and one delivery per endpoint in one round trip to SQLite (a session's event goes
/// to at most two endpoints: the global one and its own). Plain `?` only: sqlx numbers them
/// across the statements, and SQLite would give a `?` after a `?NNN` a number of its own.
macro_rules! insert_event {
    ($($rows:expr),+) => {
        concat!(
            "INSERT INTO webhook_events (id, session_id, event, body, created_at, message_id) ",
            $($rows),+
        )
    };
}
macro_rules! insert_delivery {
    ($($rows:expr),+) => {
        concat!(
            "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, owner_session, status,
                                             attempts, next_attempt_at, created_at, updated_at) ",
            $($rows),+
        )
    };
}
macro_rules! event_row {
    () => {
        "?, ?, ?, ?, ?, ?"
    };
}
macro_rules! delivery_row {
    () => {
        "?, ?, ?, ?, 'pending', 0, ?, ?, ?"
    };
}
/// Written only when the statement before changed a row. `changes()` is the count of the last
/// statement that has completed, so each link sees the one before it: the message (new or
/// not), then the event (written or not).
macro_rules! if_changed {
    () => {
        " WHERE changes() = 1"
    };
}
const DELIVERY: &str = insert_delivery!("VALUES (", delivery_row!(), ")");
/// The event with its deliveries, for one endpoint and for two.
const EVENT_WITH: [&str; 2] = [
    concat!(
        insert_event!("VALUES (", event_row!(), ")"),
        ";\n",
        insert_delivery!("VALUES (", delivery_row!(), ")")
    ),
    concat!(
        insert_event!("VALUES (", event_row!(), ")"),
        ";\n",
        insert_delivery!("VALUES (", delivery_row!(), "), (", delivery_row!(), ")")
    ),
];
/// The same, chained on the statement ahead.
const EVENT_IF_WITH: [&str; 2] = [
    concat!(
        insert_event!("SELECT ", event_row!(), if_changed!()),
        ";\n",
        insert_delivery!("SELECT ", delivery_row!(), if_changed!())
    ),
    concat!(
        insert_event!("SELECT ", event_row!(), if_changed!()),
        ";\n",
        insert_delivery!(
            "SELECT ",
            delivery_row!(),
            if_changed!(),
            " UNION ALL SELECT ",
            delivery_row!(),
            if_changed!()
        )
    ),
];

/// Binds one delivery's values, in [`DELIVERY`]'s order.
fn bind_delivery<'q>(
    query: Query<'q>,
    event_id: &str,
    endpoint: &str,
    owner: Option<&str>,
    now: i64,
) -> Query<'q> {
    query
        .bind(new_id())
        .bind(event_id.to_string())
        .bind(endpoint.to_string())
        .bind(owner.map(str::to_string))
        .bind(now)
        .bind(now)
        .bind(now)
}

/// Writes the event with a pending delivery to each of `endpoints` (id, its session); answers
/// the event's id. Nothing is written when no endpoint wants it.
pub(crate) async fn insert_event<T: Serialize>(
    conn: &mut sqlx::SqliteConnection,
    about: About<'_>,
    data: &T,
    endpoints: &[(&str, Option<&str>)],
) -> Result<String, sqlx::Error> {
    Ok(write_event(conn, about, data, endpoints, None)
        .await?
        .event_id)
}

/// [`insert_event`] after `ahead`, in one statement list.
async fn write_event<'q, T: Serialize>(
    conn: &mut sqlx::SqliteConnection,
    about: About<'_>,
    data: &T,
    endpoints: &[(&str, Option<&str>)],
    ahead: Option<Ahead<'q>>,
) -> Result<Written, sqlx::Error> {
    let About {
        session,
        message,
        event,
    } = about;
    let event_id = format!("msg_{}", new_id());
    let mut written = Written {
        event_id,
        deliveries: 0,
        ahead_changed: 0,
    };
    let id = written.event_id.as_str();
    if endpoints.is_empty() {
        if let Some(ahead) = ahead {
            let query = (ahead.bind)(sqlx::query(ahead.sql));
            written.ahead_changed = query.execute(&mut *conn).await?.rows_affected();
        }
        return Ok(written);
    }
    let now = now_ms();
    let body = serde_json::to_string(&Envelope {
        event,
        data,
        timestamp: now,
    })
    .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    // One or two endpoints (never none here) in the event's own statement list.
    let together = endpoints.len().min(2);
    let (query, chained) = match ahead {
        None => (sqlx::query(EVENT_WITH[together - 1]), false),
        Some(ahead) => {
            let list = if ahead.chained {
                EVENT_IF_WITH[together - 1]
            } else {
                EVENT_WITH[together - 1]
            };
            let sql = sqlx::AssertSqlSafe(format!("{};\n{list}", ahead.sql));
            ((ahead.bind)(sqlx::query(sql)), ahead.chained)
        }
    };
    let mut query = query
        .bind(id.to_string())
        .bind(session.map(|s| s.as_str().to_string()))
        .bind(event.to_string())
        .bind(body)
        .bind(now)
        .bind(message.map(str::to_string));
    let (together, apart) = endpoints.split_at(together);
    for (endpoint, owner) in together {
        query = bind_delivery(query, id, endpoint, *owner, now);
    }
    let changed = query.execute(&mut *conn).await?.rows_affected();
    // The rows of the event and its deliveries, when they were written: a chained list that
    // changed nothing (a message already recorded) wrote none.
    let ours = 1 + together.len() as u64;
    written.ahead_changed = changed.saturating_sub(ours);
    if chained && changed < ours {
        return Ok(written);
    }
    for (endpoint, owner) in apart {
        bind_delivery(sqlx::query(DELIVERY), id, endpoint, *owner, now)
            .execute(&mut *conn)
            .await?;
    }
    written.deliveries = endpoints.len();
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_envelope_order() {
        let wants = |events: &[&str], event| {
            Target {
                id: "e".into(),
                session: None,
                events: events.iter().map(|e| e.to_string()).collect(),
            }
            .wants(event)
        };
        assert!(wants(&[], "message.in"));
        assert!(wants(&["message.in"], "message.in"));
        assert!(!wants(&["message.out"], "message.in"));
        let body = serde_json::to_string(&Envelope {
            event: "x",
            data: &serde_json::json!({"b": 1}),
            timestamp: 5,
        })
        .expect("json");
        assert_eq!(body, r#"{"event":"x","data":{"b":1},"timestamp":5}"#);
    }
}
