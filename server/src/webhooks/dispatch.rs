//! The dispatcher: a background loop that sends due deliveries with bounded concurrency, woken
//! by [`super::Webhooks::wake`] and polling as a fallback. Deliveries live in the database, so
//! a crash loses nothing: on start every `pending` one is simply due. An attempt that was in
//! flight when the process died is sent again with the same `webhook-id` (at least once).

use super::retry::{self, Outcome};
use crate::{db::now_ms, settings, state::AppState};
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::{sync::Semaphore, task::JoinSet};

/// How long the loop sleeps at most between looks at the table.
const POLL: Duration = Duration::from_secs(1);
/// How much of a receiver's answer the log keeps.
const EXCERPT: usize = 512;

pub async fn dispatch_loop(state: AppState) {
    let permits = Arc::new(Semaphore::new(state.webhooks.concurrency));
    let in_flight: Arc<Mutex<HashSet<String>>> = Default::default();
    let mut tasks = JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        match due(&state, &in_flight, permits.available_permits()).await {
            Ok(ids) => {
                for id in ids {
                    let Ok(permit) = permits.clone().acquire_owned().await else {
                        break;
                    };
                    if let Ok(mut set) = in_flight.lock() {
                        set.insert(id.clone());
                    }
                    let (state, in_flight) = (state.clone(), in_flight.clone());
                    tasks.spawn(async move {
                        if let Err(e) = attempt(&state, &id).await {
                            tracing::error!(delivery = %id, error = format!("{e:#}"), "webhook attempt failed to run");
                        }
                        if let Ok(mut set) = in_flight.lock() {
                            set.remove(&id);
                        }
                        drop(permit);
                    });
                }
            }
            Err(e) => tracing::error!(error = %e, "reading due webhook deliveries"),
        }
        let wait = next_due_in(&state).await.unwrap_or(POLL).min(POLL);
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

async fn due(
    state: &AppState,
    in_flight: &Mutex<HashSet<String>>,
    room: usize,
) -> Result<Vec<String>, sqlx::Error> {
    if room == 0 {
        return Ok(vec![]);
    }
    let busy = in_flight.lock().map(|s| s.clone()).unwrap_or_default();
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?
         ORDER BY next_attempt_at LIMIT ?",
    )
    .bind(now_ms())
    .bind((room + busy.len()) as i64)
    .fetch_all(&state.db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id,)| id)
        .filter(|id| !busy.contains(id))
        .take(room)
        .collect())
}

async fn next_due_in(state: &AppState) -> Option<Duration> {
    let (next,): (Option<i64>,) = sqlx::query_as(
        "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending'",
    )
    .fetch_one(&state.db)
    .await
    .ok()?;
    let ms = next? - now_ms();
    Some(Duration::from_millis(ms.max(10) as u64))
}

#[derive(sqlx::FromRow)]
struct Due {
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
pub async fn attempt(state: &AppState, delivery_id: &str) -> anyhow::Result<()> {
    let Some(d) = sqlx::query_as::<_, Due>(
        "SELECT d.attempts, d.manual, e.id AS event_id, e.event, e.body, d.endpoint_id, p.url, p.secret,
                p.enabled, p.disabled_reason
         FROM webhook_deliveries d
         JOIN webhook_events e ON e.id = d.event_id
         LEFT JOIN webhook_endpoints p ON p.id = d.endpoint_id
         WHERE d.id = ? AND d.status = 'pending'",
    )
    .bind(delivery_id)
    .fetch_optional(&state.db)
    .await?
    else {
        return Ok(()); // delivered or failed meanwhile
    };
    let (Some(url), Some(true)) = (d.url.clone(), d.enabled) else {
        let why = match (&d.endpoint_id, d.disabled_reason) {
            (None, _) => "the webhook endpoint was removed".to_string(),
            (_, Some(reason)) => format!("the webhook endpoint is disabled: {reason}"),
            _ => "the webhook endpoint is disabled".to_string(),
        };
        record(
            state,
            delivery_id,
            "failed",
            d.attempts,
            None,
            None,
            Some(&why),
        )
        .await?;
        return Ok(());
    };
    let allow_private = settings::allow_private_webhooks(state)
        .await
        .unwrap_or(false);
    let answer = send(state, &d, &url, allow_private).await;
    let trigger = if d.manual { "manual" } else { "scheduled" };
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, at, trigger, status_code, latency_ms, response_excerpt, error)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(delivery_id)
    .bind(now_ms())
    .bind(trigger)
    .bind(answer.status.map(i64::from))
    .bind(answer.latency.as_millis() as i64)
    .bind(&answer.excerpt)
    .bind(&answer.error)
    .execute(&state.db)
    .await?;
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
    match outcome {
        Outcome::Delivered => {
            record(
                state,
                delivery_id,
                "delivered",
                attempts,
                None,
                status,
                None,
            )
            .await?;
        }
        Outcome::Gone => {
            let reason = "the receiver answered 410 Gone";
            sqlx::query("UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?")
                .bind(reason)
                .bind(now_ms())
                .bind(&d.endpoint_id)
                .execute(&state.db)
                .await?;
            record(
                state,
                delivery_id,
                "failed",
                attempts,
                None,
                status,
                Some(reason),
            )
            .await?;
            tracing::warn!(endpoint = ?d.endpoint_id, "webhook endpoint disabled after 410 Gone");
        }
        Outcome::Retry => {
            let delay = state.webhooks.schedule.next_delay(attempts as usize);
            let error = answer
                .error
                .clone()
                .or_else(|| answer.status.map(|s| format!("HTTP {s}")));
            match delay {
                Some(delay) => {
                    let delay = retry::wait(delay, answer.retry_after);
                    let next = now_ms() + delay.as_millis() as i64;
                    record(
                        state,
                        delivery_id,
                        "pending",
                        attempts,
                        Some(next),
                        status,
                        error.as_deref(),
                    )
                    .await?;
                }
                None => {
                    record(
                        state,
                        delivery_id,
                        "failed",
                        attempts,
                        None,
                        status,
                        error.as_deref(),
                    )
                    .await?
                }
            }
        }
    }
    tracing::info!(
        delivery = %delivery_id, event = %d.event, event_id = %d.event_id, status = ?answer.status,
        latency_ms = answer.latency.as_millis() as u64, "webhook attempt"
    );
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
    if let Some(secret) = d.secret.as_deref().filter(|s| !s.is_empty()) {
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
            let text = resp.text().await.unwrap_or_default();
            let excerpt: String = text.chars().take(EXCERPT).collect();
            Answer {
                status: Some(status),
                latency: started.elapsed(),
                excerpt: (!excerpt.is_empty()).then_some(excerpt),
                error: None,
                retry_after,
            }
        }
    }
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

async fn record(
    state: &AppState,
    id: &str,
    status: &str,
    attempts: i64,
    next: Option<i64>,
    last_status: Option<i64>,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_status = ?,
                last_error = ?, manual = 0, updated_at = ? WHERE id = ?",
    )
    .bind(status)
    .bind(attempts)
    .bind(next)
    .bind(last_status)
    .bind(error)
    .bind(now_ms())
    .bind(id)
    .execute(&state.db)
    .await?;
    Ok(())
}
