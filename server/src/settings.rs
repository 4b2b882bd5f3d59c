//! Global settings (admin): open registration and private webhook URLs, kept as key/value rows.

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
        (status = 200, description = "The settings.", body = Settings, example = json!({"allowRegistration": true, "allowPrivateWebhooks": false, "webhook": {"url": "https://example.com/webhook", "secret": "ab••••yz", "events": [], "enabled": true, "disabledReason": null}})),
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
        (status = 200, description = "The settings after the change.", body = Settings, example = json!({"allowRegistration": true, "allowPrivateWebhooks": false, "webhook": {"url": "https://example.com/webhook", "secret": "ab••••yz", "events": [], "enabled": true, "disabledReason": null}})),
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

async fn write_bool(tx: &mut sqlx::SqliteConnection, key: &str, value: bool) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(if value { "true" } else { "false" })
    .execute(tx)
    .await?;
    Ok(())
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

/// The settings in effect. `allowPrivateWebhooks` is also on when the server was started with
/// `--allow-private-webhooks`.
pub async fn load(state: &AppState) -> ApiResult<Settings> {
    Ok(Settings {
        allow_registration: allow_registration(state).await?,
        allow_private_webhooks: allow_private_webhooks(state).await?,
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
    let mut tx = crate::db::begin_write(&state.db).await?;
    if let Some(v) = patch.allow_registration {
        write_bool(&mut tx, "allow_registration", v).await?;
    }
    if let Some(v) = patch.allow_private_webhooks {
        write_bool(&mut tx, "allow_private_webhooks", v).await?;
    }
    tx.commit().await?;
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
