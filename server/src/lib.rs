//! Kabar's server: configuration, the HTTP surface and the services behind it.
//!
//! Start at [`run`]; the routes are assembled in [`router`]. Each feature module exports its
//! own `router()`: [`auth`] (register, login, `/api/me`), [`users`], [`keys`], [`settings`],
//! [`openapi`] (`/openapi.json`, `/docs`) and [`dashboard`] (Leptos pages, server functions, embedded assets).
#![forbid(unsafe_code)]

pub mod actions;
pub mod auth;
pub mod autoreply;
pub mod backup;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod engine;
pub mod error;
pub mod events;
pub mod forms;
pub mod groups;
pub mod idempotency;
pub mod interactive;
pub mod json;
pub mod keys;
pub mod logging;
pub mod media;
pub mod media_store;
pub mod messages;
pub mod metrics;
pub mod openapi;
pub mod outbound;
pub mod paging;
pub mod phone;
pub mod qr;
pub mod quotas;
pub mod rest;
pub mod retention;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod simulator_api;
pub mod state;
pub mod users;
pub mod webhooks;

use crate::{
    error::ApiError,
    state::{App, AppState},
};
use anyhow::Context;
use app::model::ErrorCode;
use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    http::{Request, header},
    response::IntoResponse,
    routing::get,
};
pub use config::Config;
use leptos::prelude::LeptosOptions;
use std::{net::SocketAddr, sync::Arc};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

/// Opens the database, loads secrets and builds the state every handler shares.
pub async fn build_state(config: Config, shutdown: CancellationToken) -> anyhow::Result<AppState> {
    config.validate()?;
    // 0700, and tightened if an older run left it open: it holds the database, the device
    // stores and the key of the secrets at rest.
    db::secure_dir(&config.data_dir)
        .with_context(|| format!("cannot create the data dir {}", config.data_dir.display()))?;
    let db = db::connect(&config.database_url()).await?;
    let tokens = auth::token::TokenKeys::load(&config, &db).await?;
    let login_limits = auth::limits::AuthLimits::new(config.registrations_per_hour);
    let secrets = secrets::Secrets::load(config.secret_key.as_deref(), &config.data_dir)?;
    let sealed = secrets::encrypt_stored(&db, &secrets).await?;
    if sealed > 0 {
        tracing::info!(count = sealed, "webhook secrets encrypted at rest");
    }
    let leptos = LeptosOptions::builder()
        .output_name("kabar")
        .site_pkg_dir(dashboard::pkg_dir())
        .site_root("target/site")
        .site_addr(config.addr)
        .build();
    let (engine, simulator) = engine::for_config(&config);
    let send_limits = outbound::SendLimits::new(config.send_rate, config.send_burst);
    let webhooks = webhooks::Webhooks::new(&config)?;
    Ok(AppState(Arc::new(App {
        writer: events::Writer::start(db.clone()),
        db,
        sessions: sessions::Sessions::new(engine),
        simulator,
        send_limits,
        contacts: Default::default(),
        media: media_store::MediaStore::from_config(&config)?,
        webhooks,
        interactive_wake: Default::default(),
        text_menus: Default::default(),
        metrics: Default::default(),
        auto_reply: autoreply::AutoReply::new(
            std::time::Duration::from_secs(config.auto_reply_cooldown_secs),
            autoreply::LoopGuard {
                window: std::time::Duration::from_secs(config.auto_reply_bot_window_secs),
                per_minute: config.auto_reply_per_chat_per_minute,
            },
        ),
        config,
        tokens,
        secrets,
        quotas: Default::default(),
        login_limits,
        key_usage: Default::default(),
        key_cache: Default::default(),
        leptos,
        shutdown,
    })))
}

/// Every route of the server, with the layers that apply to all of them.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    let simulator = if state.simulator.is_some() {
        simulator_api::router(&state)
    } else {
        Router::new()
    };
    Router::new()
        .route("/healthz", get(healthz))
        .merge(metrics::router())
        .merge(rest::router(&state))
        .merge(sessions::store::router())
        .merge(groups::router())
        .merge(webhooks::api::router())
        .merge(messages::router())
        .merge(media::router())
        .merge(autoreply::router(&state))
        .merge(simulator)
        .merge(auth::router())
        .merge(users::router())
        .merge(keys::router())
        .merge(settings::router())
        .merge(openapi::router())
        .merge(forms::router())
        .merge(dashboard::router(&state))
        .method_not_allowed_fallback(|parts: axum::http::request::Parts| async move {
            // A page's form posted before its script arrived goes back to the page.
            if forms::is_form_post(&parts)
                && !dashboard::is_api_path(parts.uri.path().trim_start_matches('/'))
            {
                return forms::needs_script(&parts);
            }
            ApiError::new(ErrorCode::MethodNotAllowed, "This method is not allowed on this path.")
                .into_response()
        })
        .layer(axum::middleware::from_fn(auth::csrf::guard))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access_log,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
        }))
        .layer(
            // Only the path is logged: query strings may carry `api_key`. Each request is a span
            // with its id; the line per request is the access log (`--access-log`), and at
            // debug level here.
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::DEBUG),
                ),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// One info line per request (method, path, status, latency) when `--access-log` is on; never
/// for health checks, metrics scrapes, static assets or event streams, which would bury the
/// rest (and fill a disk: a dashboard polls, a load balancer probes every few seconds).
async fn access_log(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !state.config.access_log {
        return next.run(req).await;
    }
    let path = req.uri().path();
    let quiet = matches!(path, "/healthz" | "/metrics" | "/favicon.ico")
        || path.starts_with("/pkg/")
        || path.starts_with("/docs/")
        || path.ends_with("/events")
        || dashboard::asset_exists(path.trim_start_matches('/'));
    if quiet {
        return next.run(req).await;
    }
    let (method, path) = (req.method().clone(), path.to_string());
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    tracing::info!(
        %method,
        %path,
        status = resp.status().as_u16(),
        latency_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    resp
}

/// `?deep=1`: also prove the database takes writes.
#[derive(serde::Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HealthQuery {
    /// `1` (or `true`): answer 503 unless a write to the database commits (a readiness
    /// check for load balancers); without it only a read is tried (liveness).
    #[serde(default)]
    deep: Option<String>,
}

/// 200 once the server is ready: it can read its database (`?deep=1`: and write to it).
#[utoipa::path(
    get, path = "/healthz", operation_id = "healthz", tag = "server", security(()),
    params(HealthQuery),
    responses(
        (status = 200, description = "Ready.", body = Object, example = json!({"status": "ok"})),
        (status = 400, response = openapi::BadRequest),
        (status = 500, response = openapi::InternalError),
        (status = 503, response = openapi::Unavailable),
    )
)]
pub(crate) async fn healthz(
    State(state): State<AppState>,
    json::Query(q): json::Query<HealthQuery>,
) -> impl IntoResponse {
    let deep = matches!(q.deep.as_deref(), Some("1" | "true"));
    let checked = if deep {
        write_probe(&state).await
    } else {
        sqlx::query("SELECT 1").execute(&state.db).await.map(|_| ())
    };
    match checked {
        Ok(()) => (
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(serde_json::json!({"status": "ok"})),
        )
            .into_response(),
        Err(e) if deep => {
            tracing::warn!(error = %e, "readiness: the database refuses writes");
            ApiError::new(
                ErrorCode::ServiceUnavailable,
                "The database does not take writes right now.",
            )
            .into_response()
        }
        Err(e) => ApiError::Internal(e.into()).into_response(),
    }
}

/// One small committed write through the writer task, as every record takes: a stuck or
/// refused writer fails the probe too.
async fn write_probe(state: &AppState) -> Result<(), sqlx::Error> {
    let now = db::now_ms().to_string();
    events::write(state, move |w| {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ('healthz_probe', ?)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(now)
            .execute(w.conn())
            .await
            .map(drop)
        })
    })
    .await
}

/// Runs the server on `listener` until `shutdown` is cancelled, then drains in-flight requests.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let engine = config.engine;
    let state = build_state(config, shutdown.clone()).await?;
    if engine == config::EngineKind::Simulator {
        tracing::warn!(
            "SIMULATOR ENGINE: no real WhatsApp connection; for tests and demos only (--engine simulator)"
        );
    }
    let dispatcher = tokio::spawn(webhooks::dispatch::dispatch_loop(state.clone()));
    let expiry = tokio::spawn(interactive::expiry::expiry_loop(state.clone()));
    let retention = tokio::spawn(retention::retention_loop(state.clone()));
    let offload = tokio::spawn(media_store::offload_loop(state.clone()));
    let restored = sessions::store::restore_all(&state).await?;
    if !openapi::docs_assets_present() {
        tracing::error!("/docs will not work: {}", openapi::MISSING);
    }
    let addr = listener.local_addr()?;
    tracing::info!(%addr, engine = engine.as_str(), sessions = restored, "Kabar is listening");
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await
        .context("serving HTTP")?;
    state.sessions.stop_all().await;
    // The dispatcher watches the same token; it finishes the attempts in flight.
    if let Err(e) = dispatcher.await {
        tracing::error!(error = %e, "webhook dispatcher task failed");
    }
    if let Err(e) = expiry.await {
        tracing::error!(error = %e, "interaction timeout task failed");
    }
    if let Err(e) = retention.await {
        tracing::error!(error = %e, "retention task failed");
    }
    if let Err(e) = offload.await {
        tracing::error!(error = %e, "media offload task failed");
    }
    state.writer.close().await;
    state.db.close().await;
    tracing::info!("Kabar stopped");
    Ok(())
}
