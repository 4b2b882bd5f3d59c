//! API keys: minted, listed and revoked (`/api/keys`), and checked as credentials.
//!
//! Every account manages its own keys (scoped to its own sessions, or to none); an admin sees
//! and revokes everyone's and may mint a key for another user. A key scoped to one session
//! manages none: it could otherwise mint itself an unscoped one.
//!
//! A key is `kbr_` + 43 URL-safe characters (256 random bits). Only its SHA-256 is stored, so
//! a leaked database reveals no usable key; lookups go through the unique hash index and the
//! found hash is compared again in constant time.

use crate::{
    auth::extract::{Caller, Via},
    db::{new_id, now_ms},
    error::{ApiError, ApiResult},
    json::{Json, Query},
    openapi::{BadRequest, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized},
    state::AppState,
};
use app::model::{
    ApiKeyId, ApiKeyView, CreatedApiKey, Done, ErrorCode, NewApiKey, Role, SessionId, UserId,
};
use axum::{
    Router,
    extract::{Path, State},
    routing::{delete, get},
};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use subtle::ConstantTimeEq;

pub const KEY_PREFIX: &str = "kbr_";
/// How much of a key is shown in lists: the `kbr_` prefix and 8 more characters.
const VISIBLE_CHARS: usize = KEY_PREFIX.len() + 8;
/// `last_used_at` is written at most this often per key.
const USAGE_WRITE_INTERVAL_MS: i64 = 60_000;
/// How long a checked key is believed without asking the database, at most (see [`KeyCache`]).
const KEY_CACHE_TTL: Duration = Duration::from_secs(5);
/// Keys remembered at once; past it the cache starts over (a flood of distinct valid keys).
const KEY_CACHE_MAX: usize = 10_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/keys", get(list_handler).post(create_handler))
        .route("/api/keys/{id}", delete(revoke_handler))
}

/// The caller's API keys (an admin: everyone's): names, prefixes, owners and scopes, never the
/// secrets. Not for a key scoped to one session.
#[utoipa::path(
    get, path = "/api/keys", operation_id = "listKeys", tag = "keys",
    params(crate::paging::PageQuery),
    responses(
        (status = 200, description = "The keys, newest first.", body = Vec<ApiKeyView>, headers(("X-Next-Cursor" = String, description = "With `limit`: where the next page starts (absent on the last page).")), example = json!([{"id": "7c1d2e3f4a5b6c7d", "name": "shop", "prefix": "kbr_Xy12ab", "ownerId": "0b5e3c1f8a2d4e6f", "ownerUsername": "admin", "sessionId": null, "createdAt": 1735460000000_i64, "lastUsedAt": null}])),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn list_handler(
    State(s): State<AppState>,
    caller: Caller,
    Query(page): Query<crate::paging::PageQuery>,
) -> ApiResult<crate::paging::Paged<ApiKeyView>> {
    crate::paging::cut(&page, list(&s, &caller).await?, |v| v.id.as_str())
}

/// Mint an API key for `ownerId` (default: the caller; another user: admins only), optionally
/// limited to one of the owner's sessions. The secret `key` is in this answer only.
#[utoipa::path(
    post, path = "/api/keys", operation_id = "createKey", tag = "keys",
    request_body(content = NewApiKey, example = json!({"name": "shop"})),
    responses(
        (status = 200, description = "The new key, with its secret (shown once).", body = CreatedApiKey,
            example = json!({"id": "7c1d2e3f4a5b6c7d", "name": "shop", "prefix": "kbr_Xy12ab", "key": "kbr_Xy12abCdEf…", "ownerId": "0b5e3c1f8a2d4e6f", "sessionId": null, "createdAt": 1735460000000_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn create_handler(
    State(s): State<AppState>,
    caller: Caller,
    Json(new): Json<NewApiKey>,
) -> ApiResult<Json<CreatedApiKey>> {
    Ok(Json(create(&s, &caller, new).await?))
}

/// Revoke one of the caller's API keys (an admin: anyone's): it stops working at once.
/// Another user's key is a 404.
#[utoipa::path(
    delete, path = "/api/keys/{id}", operation_id = "revokeKey", tag = "keys",
    params(("id" = String, Path, description = "The key's id (not its secret).")),
    responses(
        (status = 200, description = "Revoked.", body = Done, example = json!({"success": true})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn revoke_handler(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Done>> {
    revoke(&s, &caller, &ApiKeyId(id)).await?;
    Ok(Json(Done::OK))
}

/// A new secret key and the SHA-256 (hex) that is stored for it.
pub fn generate() -> (String, String) {
    let bytes: [u8; 32] = rand::random();
    let key = format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = hash_key(&key);
    (key, hash)
}

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    name: String,
    prefix: String,
    owner_id: String,
    owner_username: String,
    session_id: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl From<KeyRow> for ApiKeyView {
    fn from(r: KeyRow) -> Self {
        ApiKeyView {
            id: ApiKeyId(r.id),
            name: r.name,
            prefix: r.prefix,
            owner_id: UserId(r.owner_id),
            owner_username: r.owner_username,
            session_id: r.session_id.map(SessionId),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

pub async fn list(state: &AppState, caller: &Caller) -> ApiResult<Vec<ApiKeyView>> {
    caller.require_account()?;
    let rows = sqlx::query_as::<_, KeyRow>(
        "SELECT k.id, k.name, k.prefix, k.owner_id, u.username AS owner_username, k.session_id,
                k.created_at, k.last_used_at
         FROM api_keys k JOIN users u ON u.id = k.owner_id
         WHERE ? OR k.owner_id = ?
         ORDER BY k.created_at DESC, k.id",
    )
    .bind(caller.is_admin())
    .bind(caller.id.as_str())
    .fetch_all(&state.db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn create(state: &AppState, caller: &Caller, new: NewApiKey) -> ApiResult<CreatedApiKey> {
    caller.require_account()?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::invalid(
            "name: give the key a name of 1 to 64 characters.",
        ));
    }
    let owner = new.owner_id.unwrap_or_else(|| caller.id.clone());
    if owner != caller.id && !caller.is_admin() {
        return Err(ApiError::forbidden(
            "ownerId: only an administrator can make a key for another user.",
        ));
    }
    let owner_exists: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE id = ?")
        .bind(owner.as_str())
        .fetch_optional(&state.db)
        .await?;
    if owner_exists.is_none() {
        return Err(ApiError::invalid("ownerId: no such user."));
    }
    if let Some(session) = &new.session_id {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT id FROM sessions WHERE id = ? AND owner_id = ?")
                .bind(session.as_str())
                .bind(owner.as_str())
                .fetch_optional(&state.db)
                .await?;
        if found.is_none() {
            return Err(ApiError::new(
                ErrorCode::SessionNotFound,
                "sessionId: the owner has no session with this id.",
            ));
        }
    }
    let (key, hash) = generate();
    let id = ApiKeyId(new_id());
    let prefix: String = key.chars().take(VISIBLE_CHARS).collect();
    let created_at = now_ms();
    sqlx::query(
        "INSERT INTO api_keys (id, name, prefix, key_hash, owner_id, session_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.as_str())
    .bind(name)
    .bind(&prefix)
    .bind(&hash)
    .bind(owner.as_str())
    .bind(new.session_id.as_ref().map(SessionId::as_str))
    .bind(created_at)
    .execute(&state.db)
    .await?;
    Ok(CreatedApiKey {
        id,
        name: name.to_string(),
        prefix,
        key,
        owner_id: owner,
        session_id: new.session_id,
        created_at,
    })
}

pub async fn revoke(state: &AppState, caller: &Caller, id: &ApiKeyId) -> ApiResult<()> {
    caller.require_account()?;
    let n = sqlx::query("DELETE FROM api_keys WHERE id = ? AND (? OR owner_id = ?)")
        .bind(id.as_str())
        .bind(caller.is_admin())
        .bind(caller.id.as_str())
        .execute(&state.db)
        .await?
        .rows_affected();
    state.key_cache.changed();
    if n == 0 {
        return Err(ApiError::not_found("No such API key."));
    }
    state.key_usage.forget(id);
    Ok(())
}

/// A key with its owner, as authentication needs them.
#[derive(sqlx::FromRow)]
struct KeyOwnerRow {
    key_id: String,
    key_hash: String,
    session_id: Option<String>,
    user_id: String,
    username: String,
    role: String,
    disabled: bool,
}

/// Authenticates a request by its API key.
pub async fn authenticate(state: &AppState, key: &str) -> ApiResult<Caller> {
    let invalid = || ApiError::unauthorized("Invalid API key.");
    if !key.starts_with(KEY_PREFIX) || key.len() > 128 {
        return Err(invalid());
    }
    let hash = hash_key(key);
    if let Some(caller) = state.key_cache.get(&hash) {
        if let Via::ApiKey { key_id, .. } = &caller.via {
            state.key_usage.touch(state, key_id);
        }
        return Ok(caller);
    }
    // Read before the query: a change committed meanwhile makes this answer stale at once.
    let generation = state.key_cache.generation();
    let row = sqlx::query_as::<_, KeyOwnerRow>(
        "SELECT k.id AS key_id, k.key_hash, k.session_id, u.id AS user_id, u.username, u.role,
                u.disabled
         FROM api_keys k JOIN users u ON u.id = k.owner_id WHERE k.key_hash = ?",
    )
    .bind(&hash)
    .fetch_optional(&state.db)
    .await?;
    let Some(KeyOwnerRow {
        key_id,
        key_hash: stored,
        session_id: session,
        user_id,
        username,
        role,
        disabled,
    }) = row
    else {
        return Err(invalid());
    };
    if !bool::from(stored.as_bytes().ct_eq(hash.as_bytes())) {
        return Err(invalid());
    }
    if disabled {
        return Err(ApiError::unauthorized(
            "The owner of this API key is disabled.",
        ));
    }
    let key_id = ApiKeyId(key_id);
    state.key_usage.touch(state, &key_id);
    let caller = Caller {
        id: UserId(user_id),
        username,
        role: Role::parse(&role).unwrap_or(Role::User),
        via: Via::ApiKey {
            key_id,
            session: session.map(SessionId),
        },
    };
    state.key_cache.put(hash, generation, caller.clone());
    Ok(caller)
}

/// Keys checked lately, by their SHA-256, and sign-ins (dashboard cookies, by login id), with
/// who they let in: a busy integration's requests skip the key-and-owner query (one database
/// round trip of a send's few), a dashboard's server calls the login query. Exact within this
/// process: every write that could change an answer — a key revoked, a sign-out, an account
/// changed, disabled or deleted, a session deleted (its scoped keys go with it) — calls
/// [`KeyCache::changed`] after it commits, which empties the cache and makes any answer read
/// before it unusable. A change this process did not make (another node, a `kabar restore`
/// under a running server) is seen within [`KEY_CACHE_TTL`]. Only successes are kept: a wrong
/// or refused key always asks the database; a sign-in only while it has longer to live than
/// the cache keeps it ([`KeyCache::put_login`]).
#[derive(Default)]
pub struct KeyCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, (u64, Instant, Caller)>>,
}

impl KeyCache {
    /// Forgets every key: call after committing a change to keys, accounts or sessions.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// A sign-in believed without a query: `login` is the login's id and account (its row's
    /// key); a key hash never contains a space.
    pub(crate) fn get_login(&self, login: &str, user: &str) -> Option<Caller> {
        self.get(&format!("login {login} {user}"))
    }

    /// Keeps a sign-in read at `generation`, unless it expires (`expires_at`, ms) before the
    /// cache would forget it.
    pub(crate) fn put_login(
        &self,
        (login, user): (&str, &str),
        expires_at: i64,
        generation: u64,
        caller: Caller,
    ) {
        if expires_at > crate::db::now_ms() + KEY_CACHE_TTL.as_millis() as i64 {
            self.put(format!("login {login} {user}"), generation, caller);
        }
    }

    fn get(&self, hash: &str) -> Option<Caller> {
        let now = self.generation();
        let entries = self.entries.lock().ok()?;
        let (generation, at, caller) = entries.get(hash)?;
        (*generation == now && at.elapsed() < KEY_CACHE_TTL).then(|| caller.clone())
    }

    /// Keeps an answer read at `generation`, unless something changed since.
    fn put(&self, hash: String, generation: u64, caller: Caller) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if generation != self.generation() {
            return;
        }
        if entries.len() >= KEY_CACHE_MAX {
            entries.clear();
        }
        entries.insert(hash, (generation, Instant::now(), caller));
    }
}

/// Remembers when each key's `last_used_at` was last written, so that a busy key costs one
/// database write a minute instead of one per request (the send path stays read-only).
#[derive(Default)]
pub struct KeyUsage {
    written: Mutex<HashMap<ApiKeyId, i64>>,
}

impl KeyUsage {
    fn touch(&self, state: &AppState, id: &ApiKeyId) {
        let now = now_ms();
        {
            let Ok(mut map) = self.written.lock() else {
                return;
            };
            match map.get(id) {
                Some(&last) if now - last < USAGE_WRITE_INTERVAL_MS => return,
                _ => map.insert(id.clone(), now),
            };
        }
        let db = state.db.clone();
        let id = id.clone();
        tokio::spawn(async move {
            let r = sqlx::query("UPDATE api_keys SET last_used_at = ? WHERE id = ?")
                .bind(now)
                .bind(id.as_str())
                .execute(&db)
                .await;
            if let Err(e) = r {
                tracing::warn!(error = %e, "could not record API key use");
            }
        });
    }

    fn forget(&self, id: &ApiKeyId) {
        if let Ok(mut map) = self.written.lock() {
            map.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_url_safe() {
        let (a, ha) = generate();
        let (b, _) = generate();
        assert_ne!(a, b);
        assert!(a.starts_with("kbr_"));
        let body = &a[KEY_PREFIX.len()..];
        assert!(body.len() >= 32, "{a}");
        assert!(
            body.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(ha, hash_key(&a));
        assert_eq!(ha.len(), 64);
    }
}
