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

use crate::db::{new_id, now_ms};
use app::model::SessionId;
use serde::Serialize;
use std::time::Duration;
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

/// Writes `event` with `data` and a pending delivery for every enabled endpoint that wants it:
/// the global one and the session's own. Answers how many deliveries were created. Only
/// `crate::events::Write::emit` calls it (typed; `events::write` wakes the dispatcher after the commit).
pub(crate) async fn enqueue<T: Serialize>(
    conn: &mut sqlx::SqliteConnection,
    session: Option<&SessionId>,
    event: &str,
    data: &T,
) -> Result<usize, sqlx::Error> {
    let endpoints: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT id, session_id, events FROM webhook_endpoints
         WHERE enabled = 1 AND (session_id IS NULL OR session_id = ?)",
    )
    .bind(session.map(SessionId::as_str))
    .fetch_all(&mut *conn)
    .await?;
    let targets: Vec<_> = endpoints
        .into_iter()
        .filter(|(_, _, events)| wants(events, event))
        .collect();
    if targets.is_empty() {
        return Ok(0);
    }
    let event_id = insert_event(&mut *conn, session, event, data).await?;
    for (endpoint_id, endpoint_session, _) in &targets {
        insert_delivery(
            &mut *conn,
            &event_id,
            endpoint_id,
            endpoint_session.as_deref(),
        )
        .await?;
    }
    Ok(targets.len())
}

/// Whether an endpoint's filter (a JSON array; empty = all) lets `event` through.
fn wants(filter: &str, event: &str) -> bool {
    let list: Vec<String> = serde_json::from_str(filter).unwrap_or_default();
    list.is_empty() || list.iter().any(|e| e == event)
}

pub(crate) async fn insert_event<T: Serialize>(
    conn: &mut sqlx::SqliteConnection,
    session: Option<&SessionId>,
    event: &str,
    data: &T,
) -> Result<String, sqlx::Error> {
    let now = now_ms();
    let body = serde_json::to_string(&Envelope {
        event,
        data,
        timestamp: now,
    })
    .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let id = format!("msg_{}", new_id());
    sqlx::query("INSERT INTO webhook_events (id, session_id, event, body, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(&id)
        .bind(session.map(SessionId::as_str))
        .bind(event)
        .bind(&body)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

pub(crate) async fn insert_delivery(
    conn: &mut sqlx::SqliteConnection,
    event_id: &str,
    endpoint_id: &str,
    owner_session: Option<&str>,
) -> Result<(), sqlx::Error> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, owner_session, status, attempts,
                                         next_attempt_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
    )
    .bind(new_id())
    .bind(event_id)
    .bind(endpoint_id)
    .bind(owner_session)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_envelope_order() {
        assert!(wants("[]", "message.in"));
        assert!(wants(r#"["message.in"]"#, "message.in"));
        assert!(!wants(r#"["message.out"]"#, "message.in"));
        let body = serde_json::to_string(&Envelope {
            event: "x",
            data: &serde_json::json!({"b": 1}),
            timestamp: 5,
        })
        .expect("json");
        assert_eq!(body, r#"{"event":"x","data":{"b":1},"timestamp":5}"#);
    }
}
