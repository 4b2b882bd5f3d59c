//! Prometheus metrics at `GET /metrics` (an admin's cookie or key, or `--metrics-token` as a
//! bearer token), in the text exposition format, through the `prometheus-client` crate.
//!
//! Counters and histograms are counted where things happen (messages recorded, sends answered,
//! webhook attempts, HTTP requests); gauges that the database already knows (sessions by
//! status, deliveries by status, the outbox's depth and oldest pending age) are read at scrape
//! time, so they are right after a restart too.

use crate::{
    auth::extract::Caller,
    db::now_ms,
    error::{ApiError, ApiResult},
    openapi::{Forbidden, InternalError, Unauthorized},
    state::AppState,
};
use app::model::{ErrorCode, SessionStatus};
use axum::{
    Router,
    extract::{FromRequestParts, MatchedPath, Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus_client::{
    encoding::text::encode,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use std::{sync::atomic::AtomicU64, time::Instant};

type Labels = Vec<(&'static str, String)>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

fn latency_buckets() -> Histogram {
    // 1 ms … ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    messages: Family<Labels, Counter>,
    sends: Family<Labels, Counter>,
    webhook_attempts: Family<Labels, Counter>,
    webhook_latency: Histogram,
    http: Histograms,
    sessions: Family<Labels, Gauge>,
    deliveries: Family<Labels, Gauge>,
    outbox_oldest: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kabar");
        let messages = Family::<Labels, Counter>::default();
        registry.register(
            "messages",
            "Messages recorded, by direction (in, out), type and source (api, auto_reply, device)",
            messages.clone(),
        );
        let sends = Family::<Labels, Counter>::default();
        registry.register(
            "sends",
            "Send requests (send-message, send-interactive) by outcome (ok or the error code)",
            sends.clone(),
        );
        let webhook_attempts = Family::<Labels, Counter>::default();
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts by outcome (delivered, retry, gone)",
            webhook_attempts.clone(),
        );
        let webhook_latency = latency_buckets();
        registry.register(
            "webhook_attempt_duration_seconds",
            "How long receivers took to answer a delivery",
            webhook_latency.clone(),
        );
        let http = Histograms::new_with_constructor(latency_buckets);
        registry.register(
            "http_request_duration_seconds",
            "HTTP requests by method, route and status",
            http.clone(),
        );
        let sessions = Family::<Labels, Gauge>::default();
        registry.register("sessions", "Sessions by status", sessions.clone());
        let deliveries = Family::<Labels, Gauge>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries by status (pending is the outbox's depth)",
            deliveries.clone(),
        );
        let outbox_oldest = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "webhook_outbox_oldest_pending_seconds",
            "Age of the oldest pending delivery (0 when none)",
            outbox_oldest.clone(),
        );
        Metrics {
            registry,
            messages,
            sends,
            webhook_attempts,
            webhook_latency,
            http,
            sessions,
            deliveries,
            outbox_oldest,
        }
    }
}

impl Metrics {
    pub fn message(&self, direction: &'static str, kind: &str, source: Option<&str>) {
        self.messages
            .get_or_create(&vec![
                ("direction", direction.to_string()),
                ("type", kind.to_string()),
                ("source", source.unwrap_or("").to_string()),
            ])
            .inc();
    }

    /// Counts a send request's outcome: `ok` or the error code it was answered with.
    pub fn send<T>(&self, endpoint: &'static str, result: &ApiResult<T>) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(e) => e.body().error.as_str(),
        };
        self.sends
            .get_or_create(&vec![
                ("endpoint", endpoint.to_string()),
                ("outcome", outcome.to_string()),
            ])
            .inc();
    }

    pub fn webhook_attempt(&self, outcome: &'static str, seconds: f64) {
        self.webhook_attempts
            .get_or_create(&vec![("outcome", outcome.to_string())])
            .inc();
        self.webhook_latency.observe(seconds);
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics_handler))
}

/// Times every request by its route pattern (`/api/sessions/{id}`, never the raw path, so ids
/// do not explode the label set).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = method_label(req.method()).to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    state
        .metrics
        .http
        .get_or_create(&vec![
            ("method", method),
            ("route", route),
            ("status", response.status().as_u16().to_string()),
        ])
        .observe(started.elapsed().as_secs_f64());
    response
}

/// The standard methods by name, anything else as `other`: a method is any token a client
/// chooses, and each distinct label value would be a new series kept forever.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Prometheus metrics (OpenMetrics text) for an admin's cookie or key, or for
/// `Authorization: Bearer <--metrics-token>`.
#[utoipa::path(
    get, path = "/metrics", operation_id = "metrics", tag = "server",
    security(("api_key" = []), ("api_key_query" = []), ("cookie" = []), ("metrics_token" = [])),
    responses(
        (status = 200, description = "The metrics.", content_type = "application/openmetrics-text", body = String,
            example = json!("# TYPE kabar_sessions gauge\nkabar_sessions{status=\"connected\"} 1\n# EOF\n")),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn metrics_handler(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
) -> ApiResult<Response> {
    authorize(&state, &headers, req).await?;
    refresh_gauges(&state).await?;
    let mut text = String::new();
    encode(&mut text, &state.metrics.registry)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding metrics: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// The configured bearer token, else an admin's cookie or key.
async fn authorize(state: &AppState, headers: &HeaderMap, req: Request) -> ApiResult<()> {
    if let Some(token) = &state.config.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(given) = given {
            use subtle::ConstantTimeEq;
            if bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
                return Ok(());
            }
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "Wrong metrics token.",
            ));
        }
    }
    let (mut parts, _) = req.into_parts();
    let caller = Caller::from_request_parts(&mut parts, state).await?;
    caller.require_admin()
}

async fn refresh_gauges(state: &AppState) -> ApiResult<()> {
    let m = &state.metrics;
    m.sessions.clear();
    for status in [
        SessionStatus::QrReady,
        SessionStatus::Connecting,
        SessionStatus::Connected,
        SessionStatus::Disconnected,
        SessionStatus::LoggedOut,
    ] {
        m.sessions
            .get_or_create(&vec![("status", status.as_str().to_string())])
            .set(0);
    }
    for s in state.sessions.snapshots() {
        m.sessions
            .get_or_create(&vec![("status", s.as_str().to_string())])
            .inc();
    }
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM webhook_deliveries GROUP BY status")
            .fetch_all(&state.db)
            .await?;
    m.deliveries.clear();
    for status in ["pending", "delivered", "failed"] {
        let n = rows
            .iter()
            .find(|(s, _)| s == status)
            .map(|r| r.1)
            .unwrap_or(0);
        m.deliveries
            .get_or_create(&vec![("status", status.to_string())])
            .set(n);
    }
    let (oldest,): (Option<i64>,) =
        sqlx::query_as("SELECT MIN(created_at) FROM webhook_deliveries WHERE status = 'pending'")
            .fetch_one(&state.db)
            .await?;
    m.outbox_oldest
        .set(oldest.map_or(0.0, |t| ((now_ms() - t).max(0) as f64) / 1000.0));
    Ok(())
}
