//! Global settings (admin): open registration, private webhook URLs, the sessions quota and
//! retention, kept as key/value rows.

use crate::{
    auth::extract::Caller,
    error::ApiResult,
    json::Json,
    openapi::{BadRequest, Forbidden, InternalError, PayloadTooLarge, Unauthorized},
    state::AppState,
};
use app::model::{Settings, SettingsPatch};
use axum::{Router, extract::State, routing};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/settings", routing::get(get_handler).put(put_handler))
}

/// The global settings (admins only).
#[utoipa::path(
    get, path = "/api/settings", operation_id = "getSettings", tag = "settings",
    responses(
        (status = 200, description = "The settings.", body = Settings, example = json!({"allowRegistration": true, "allowPrivateWebhooks": false, "maxSessionsPerUser": 10, "retentionDays": 0, "webhook": {"url": "https://example.com/webhook", "secret": "••••••••", "events": [], "enabled": true, "disabledReason": null}})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn get_handler(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Settings>> {
    Ok(Json(get(&s, &caller).await?))
}

/// Change any of the settings (admins only): open registration, private webhook addresses, and
/// the global webhook (`null` removes it).
#[utoipa::path(
    put, path = "/api/settings", operation_id = "updateSettings", tag = "settings",
    request_body(content = SettingsPatch, example = json!({"allowRegistration": false, "webhook": {"url": "https://example.com/webhook", "secret": "s3cret", "events": ["message.in", "interaction.button"]}})),
    responses(
        (status = 200, description = "The settings after the change.", body = Settings, example = json!({"allowRegistration": true, "allowPrivateWebhooks": false, "maxSessionsPerUser": 10, "retentionDays": 0, "webhook": {"url": "https://example.com/webhook", "secret": "••••••••", "events": [], "enabled": true, "disabledReason": null}})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn put_handler(
    State(s): State<AppState>,
    caller: Caller,
    Json(patch): Json<SettingsPatch>,
) -> ApiResult<Json<Settings>> {
    Ok(Json(update(&s, &caller, patch).await?))
}

async fn read_bool(state: &AppState, key: &str, default: bool) -> ApiResult<bool> {
    let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = ?")
        .bind(key)
        .fetch_optional(&state.db)
        .await?;
    Ok(row.map(|(v,)| v == "true").unwrap_or(default))
}

async fn write(tx: &mut sqlx::SqliteConnection, key: &str, value: &str) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(tx)
    .await?;
    Ok(())
}

async fn write_bool(tx: &mut sqlx::SqliteConnection, key: &str, value: bool) -> ApiResult<()> {
    write(tx, key, if value { "true" } else { "false" }).await
}

/// The default of `maxSessionsPerUser`.
pub const DEFAULT_MAX_SESSIONS: u32 = 10;

/// Days messages and webhook events are kept; 0 = forever (the default).
pub async fn retention_days(state: &AppState) -> ApiResult<u32> {
    read_u32(state, "retention_days", 0).await
}

async fn read_u32(state: &AppState, key: &str, default: u32) -> ApiResult<u32> {
    let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = ?")
        .bind(key)
        .fetch_optional(&state.db)
        .await?;
    Ok(row.and_then(|(v,)| v.parse().ok()).unwrap_or(default))
}

/// How many sessions a user may own (admins are not limited).
pub async fn max_sessions_per_user(state: &AppState) -> ApiResult<u32> {
    read_u32(state, "max_sessions_per_user", DEFAULT_MAX_SESSIONS).await
}

/// Whether anyone may register: one query, for the registration path.
pub async fn allow_registration(state: &AppState) -> ApiResult<bool> {
    read_bool(state, "allow_registration", true).await
}

/// Whether webhook URLs may be internal addresses (the flag or the setting): one query, for the
/// dispatcher, which asks on every attempt.
pub async fn allow_private_webhooks(state: &AppState) -> ApiResult<bool> {
    Ok(state.config.allow_private_webhooks
        || read_bool(state, "allow_private_webhooks", false).await?)
}

/// The rule of [`allow_private_for`] as an SQL expression over the session id `$session` (an
/// SQL expression too), for queries that decide it for many rows at once.
macro_rules! allow_private_sql {
    ($session:literal) => {
        concat!(
            "(",
            $crate::settings::private_everywhere_sql!(),
            " OR EXISTS (SELECT 1 FROM sessions s JOIN users u ON u.id = s.owner_id
                         WHERE s.id = ",
            $session,
            " AND u.allow_private_webhooks = 1))"
        )
    };
}

/// The server-wide setting allowing internal addresses, as an SQL expression.
macro_rules! private_everywhere_sql {
    () => {
        "EXISTS (SELECT 1 FROM settings WHERE key = 'allow_private_webhooks' AND value = 'true')"
    };
}
pub(crate) use allow_private_sql;
pub(crate) use private_everywhere_sql;

/// Whether the webhook of `session` (the global one: `None`) may use internal addresses: the
/// flag, the server-wide setting, or the session owner's own permission. One query.
pub async fn allow_private_for(state: &AppState, session: Option<&str>) -> ApiResult<bool> {
    if state.config.allow_private_webhooks {
        return Ok(true);
    }
    let (allowed,): (bool,) = sqlx::query_as(concat!("SELECT ", allow_private_sql!("?")))
        .bind(session)
        .fetch_one(&state.db)
        .await?;
    Ok(allowed)
}

/// Whether files `user` has the server fetch (an auto-reply rule's `media.url`) may come from
/// internal addresses: the flag, the server-wide setting, or the user's own permission.
pub async fn allow_private_for_user(
    state: &AppState,
    user: &app::model::UserId,
) -> ApiResult<bool> {
    if state.config.allow_private_webhooks {
        return Ok(true);
    }
    let (allowed,): (bool,) = sqlx::query_as(concat!(
        "SELECT ",
        private_everywhere_sql!(),
        " OR EXISTS (SELECT 1 FROM users WHERE id = ? AND allow_private_webhooks = 1)"
    ))
    .bind(user.as_str())
    .fetch_one(&state.db)
    .await?;
    Ok(allowed)
}

/// The settings in effect. `allowPrivateWebhooks` is also on when the server was started with
/// `--allow-private-webhooks`.
pub async fn load(state: &AppState) -> ApiResult<Settings> {
    Ok(Settings {
        allow_registration: allow_registration(state).await?,
        allow_private_webhooks: allow_private_webhooks(state).await?,
        max_sessions_per_user: max_sessions_per_user(state).await?,
        retention_days: retention_days(state).await?,
        webhook: crate::webhooks::api::load_endpoint(state, None).await?,
    })
}

pub async fn get(state: &AppState, caller: &Caller) -> ApiResult<Settings> {
    caller.require_admin()?;
    load(state).await
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    patch: SettingsPatch,
) -> ApiResult<Settings> {
    caller.require_admin()?;
    if patch.max_sessions_per_user.is_some_and(|n| n > 10_000) {
        return Err(crate::error::ApiError::invalid(
            "maxSessionsPerUser: at most 10000.",
        ));
    }
    if patch.retention_days.is_some_and(|n| n > 36_500) {
        return Err(crate::error::ApiError::invalid(
            "retentionDays: at most 36500 (0 keeps everything).",
        ));
    }
    let mut tx = crate::db::begin_write(&state.db).await?;
    if let Some(n) = patch.max_sessions_per_user {
        write(&mut tx, "max_sessions_per_user", &n.to_string()).await?;
    }
    if let Some(n) = patch.retention_days {
        write(&mut tx, "retention_days", &n.to_string()).await?;
    }
    if let Some(v) = patch.allow_registration {
        write_bool(&mut tx, "allow_registration", v).await?;
    }
    if let Some(v) = patch.allow_private_webhooks {
        write_bool(&mut tx, "allow_private_webhooks", v).await?;
    }
    tx.commit().await?;
    if patch.retention_days.is_some_and(|n| n > 0) {
        // A shorter retention applies now, not at the next daily sweep.
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::retention::sweep(&state).await {
                tracing::error!(error = format!("{e:#}"), "retention sweep failed");
            }
        });
    }
    // After the flags, so a URL is judged by the private-address setting just saved.
    match patch.webhook {
        Some(Some(cfg)) => {
            crate::webhooks::api::save_endpoint(state, None, cfg).await?;
        }
        Some(None) => crate::webhooks::api::remove_endpoint(state, None).await?,
        None => {}
    }
    load(state).await
}
