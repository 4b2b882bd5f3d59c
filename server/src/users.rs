//! Accounts: the rules for usernames and passwords, the first-admin rule, and the admin's
//! `/api/users` routes (create, list, promote/demote, disable, delete). The last active admin
//! can never be demoted, disabled or deleted: each guard is part of the one SQL statement that
//! makes the change, so two admins demoting each other at once cannot both succeed.

use crate::{
    auth::{extract::Caller, password},
    db::{new_id, now_ms},
    error::{ApiError, ApiResult},
    json::{Json, Query},
    openapi::{
        BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized,
    },
    state::AppState,
};
use app::model::{Done, ErrorCode, Me, NewUser, Role, UserId, UserPatch, UserView};
use axum::{
    Router,
    extract::{Path, State},
    routing::{get, patch},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users", get(list_handler).post(create_handler))
        .route(
            "/api/users/{id}",
            patch(update_handler).delete(delete_handler),
        )
}

/// Every account (admins only).
#[utoipa::path(
    get, path = "/api/users", operation_id = "listUsers", tag = "users",
    params(crate::paging::PageQuery),
    responses(
        (status = 200, description = "The accounts, oldest first.", body = Vec<UserView>, headers(("X-Next-Cursor" = String, description = "With `limit`: where the next page starts (absent on the last page).")), example = json!([{"id": "0b5e3c1f8a2d4e6f", "username": "budi", "role": "user", "disabled": false, "createdAt": 1735460000000_i64}])),
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
) -> ApiResult<crate::paging::Paged<UserView>> {
    crate::paging::cut(&page, list(&s, &caller).await?, |v| v.id.as_str())
}

/// Create an account (admins only); `role` defaults to `user`.
#[utoipa::path(
    post, path = "/api/users", operation_id = "createUser", tag = "users",
    request_body(content = NewUser, example = json!({"username": "budi", "password": "a-long-password", "role": "user"})),
    responses(
        (status = 200, description = "The new account.", body = UserView, example = json!({"id": "0b5e3c1f8a2d4e6f", "username": "budi", "role": "user", "disabled": false, "createdAt": 1735460000000_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn create_handler(
    State(s): State<AppState>,
    caller: Caller,
    Json(new): Json<NewUser>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(create(&s, &caller, new).await?))
}

/// Promote/demote, disable/enable or set a new password (admins only); only the given fields
/// change. The last active admin can never be demoted or disabled (`409 LAST_ADMIN`).
#[utoipa::path(
    patch, path = "/api/users/{id}", operation_id = "updateUser", tag = "users",
    params(("id" = String, Path, description = "The account's id.")),
    request_body(content = UserPatch, example = json!({"role": "admin"})),
    responses(
        (status = 200, description = "The account after the change.", body = UserView, example = json!({"id": "0b5e3c1f8a2d4e6f", "username": "budi", "role": "user", "disabled": false, "createdAt": 1735460000000_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn update_handler(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(p): Json<UserPatch>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(update(&s, &caller, &UserId(id), p).await?))
}

/// Delete an account and everything it owns (admins only); never the last admin.
#[utoipa::path(
    delete, path = "/api/users/{id}", operation_id = "deleteUser", tag = "users",
    params(("id" = String, Path, description = "The account's id.")),
    responses(
        (status = 200, description = "Deleted.", body = Done, example = json!({"success": true})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn delete_handler(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Done>> {
    delete(&s, &caller, &UserId(id)).await?;
    Ok(Json(Done::OK))
}

/// A user as stored.
#[derive(sqlx::FromRow)]
pub struct UserRecord {
    pub id: String,
    pub username: String,
    #[sqlx(try_from = "String")]
    pub password_hash: password::PasswordHashString,
    pub role: String,
    pub disabled: bool,
    pub allow_private_webhooks: bool,
    pub created_at: i64,
}

impl From<String> for password::PasswordHashString {
    fn from(s: String) -> Self {
        password::PasswordHashString(s)
    }
}

impl UserRecord {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::User)
    }

    pub fn me(&self) -> Me {
        Me {
            id: UserId(self.id.clone()),
            username: self.username.clone(),
            role: self.role(),
        }
    }

    pub fn view(&self) -> UserView {
        UserView {
            id: UserId(self.id.clone()),
            username: self.username.clone(),
            role: self.role(),
            disabled: self.disabled,
            allow_private_webhooks: self.allow_private_webhooks,
            created_at: self.created_at,
        }
    }
}

const SELECT_USER: &str = "SELECT id, username, password_hash, role, disabled, allow_private_webhooks, created_at FROM users";

/// 3–32 characters: letters, digits, `.`, `_`, `-`.
pub fn validate_username(name: &str) -> ApiResult<()> {
    let name = name.trim();
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !(3..=32).contains(&name.chars().count()) || !ok_chars {
        return Err(ApiError::invalid(
            "username: use 3 to 32 characters: letters, digits, '.', '_' or '-'.",
        ));
    }
    Ok(())
}

/// At least 8 characters; at most 1024 (argon2 input stays bounded).
pub fn validate_password(pw: &str) -> ApiResult<()> {
    let n = pw.chars().count();
    if n < 8 {
        return Err(ApiError::invalid("password: use at least 8 characters."));
    }
    if pw.len() > 1024 {
        return Err(ApiError::invalid("password: at most 1024 bytes."));
    }
    Ok(())
}

/// 409 `USERNAME_TAKEN` before any hashing (the INSERT's unique index still decides a race).
pub async fn check_username_free(state: &AppState, username: &str) -> ApiResult<()> {
    let taken: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM users WHERE username_key = ?")
        .bind(username.trim().to_lowercase())
        .fetch_optional(&state.db)
        .await?;
    match taken {
        Some(_) => Err(taken_error()),
        None => Ok(()),
    }
}

pub async fn any_exist(state: &AppState) -> ApiResult<bool> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1)")
        .fetch_one(&state.db)
        .await?;
    Ok(n > 0)
}

/// Inserts an account whose role is decided inside the INSERT: `admin` when the table is
/// empty, else `user`. SQLite runs one writer at a time and an INSERT holds the write lock
/// from before its SELECT, so racing registrations yield exactly one admin.
pub async fn insert_first_admin_or_user(
    state: &AppState,
    username: &str,
    hash: &password::PasswordHashString,
) -> ApiResult<Me> {
    let id = new_id();
    let result = sqlx::query(
        "INSERT INTO users (id, username, username_key, password_hash, role, disabled, created_at)
         SELECT ?, ?, ?, ?, CASE WHEN EXISTS (SELECT 1 FROM users) THEN 'user' ELSE 'admin' END, 0, ?",
    )
    .bind(&id)
    .bind(username)
    .bind(username.to_lowercase())
    .bind(&hash.0)
    .bind(now_ms())
    .execute(&state.db)
    .await;
    map_unique(result)?;
    Ok(fetch(state, &UserId(id)).await?.me())
}

fn map_unique(
    result: Result<sqlx::sqlite::SqliteQueryResult, sqlx::Error>,
) -> ApiResult<sqlx::sqlite::SqliteQueryResult> {
    match result {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(taken_error()),
        other => Ok(other?),
    }
}

fn taken_error() -> ApiError {
    ApiError::new(
        ErrorCode::UsernameTaken,
        "This username is taken. Choose another.",
    )
}

pub async fn find_for_login(state: &AppState, username: &str) -> ApiResult<Option<UserRecord>> {
    Ok(sqlx::query_as::<_, UserRecord>(sqlx::AssertSqlSafe(format!(
        "{SELECT_USER} WHERE username_key = ?"
    )))
    .bind(username.trim().to_lowercase())
    .fetch_optional(&state.db)
    .await?)
}

async fn fetch(state: &AppState, id: &UserId) -> ApiResult<UserRecord> {
    sqlx::query_as::<_, UserRecord>(sqlx::AssertSqlSafe(format!("{SELECT_USER} WHERE id = ?")))
        .bind(id.as_str())
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("No such user."))
}

pub async fn list(state: &AppState, caller: &Caller) -> ApiResult<Vec<UserView>> {
    caller.require_admin()?;
    let rows = sqlx::query_as::<_, UserRecord>(sqlx::AssertSqlSafe(format!(
        "{SELECT_USER} ORDER BY created_at, id"
    )))
    .fetch_all(&state.db)
    .await?;
    Ok(rows.iter().map(UserRecord::view).collect())
}

pub async fn create(state: &AppState, caller: &Caller, new: NewUser) -> ApiResult<UserView> {
    caller.require_admin()?;
    validate_username(&new.username)?;
    validate_password(&new.password)?;
    let hash = password::hash(new.password).await?;
    let id = new_id();
    let username = new.username.trim();
    let result = sqlx::query(
        "INSERT INTO users (id, username, username_key, password_hash, role, disabled, created_at)
         VALUES (?, ?, ?, ?, ?, 0, ?)",
    )
    .bind(&id)
    .bind(username)
    .bind(username.to_lowercase())
    .bind(&hash.0)
    .bind(new.role.unwrap_or(Role::User).as_str())
    .bind(now_ms())
    .execute(&state.db)
    .await;
    map_unique(result)?;
    Ok(fetch(state, &UserId(id)).await?.view())
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: &UserId,
    patch: UserPatch,
) -> ApiResult<UserView> {
    caller.require_admin()?;
    if let Some(pw) = &patch.password {
        validate_password(pw)?;
    }
    let new_hash = match patch.password {
        Some(pw) => Some(password::hash(pw).await?),
        None => None,
    };
    let mut tx = crate::db::begin_write(&state.db).await?;
    let changed = sqlx::query(
        "UPDATE users SET role = COALESCE(?1, role), disabled = COALESCE(?2, disabled)
         WHERE id = ?3 AND (
             (COALESCE(?1, role) = 'admin' AND COALESCE(?2, disabled) = 0)
             OR NOT (role = 'admin' AND disabled = 0)
             OR EXISTS (SELECT 1 FROM users o WHERE o.role = 'admin' AND o.disabled = 0 AND o.id <> ?3))",
    )
    .bind(patch.role.map(Role::as_str))
    .bind(patch.disabled)
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        drop(tx);
        fetch(state, id).await?; // 404 when missing
        return Err(last_admin());
    }
    if let Some(allow) = patch.allow_private_webhooks {
        sqlx::query("UPDATE users SET allow_private_webhooks = ? WHERE id = ?")
            .bind(allow)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    if let Some(hash) = &new_hash {
        sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(&hash.0)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    if new_hash.is_some() || patch.disabled == Some(true) {
        // A new password or a disabled account ends every login of that account.
        sqlx::query("DELETE FROM logins WHERE user_id = ?")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    state.key_cache.changed();
    if patch.disabled.is_some() {
        crate::sessions::store::follow_owner(state, id).await?;
    }
    Ok(fetch(state, id).await?.view())
}

/// Deletes an account and everything it owns; its WhatsApp sessions are logged out and their
/// device stores removed (the rows go with the account, by cascade).
pub async fn delete(state: &AppState, caller: &Caller, id: &UserId) -> ApiResult<()> {
    caller.require_admin()?;
    let sessions = crate::sessions::store::of_owner(state, id).await?;
    let deleted = sqlx::query(
        "DELETE FROM users WHERE id = ?1 AND (
             NOT (role = 'admin' AND disabled = 0)
             OR EXISTS (SELECT 1 FROM users o WHERE o.role = 'admin' AND o.disabled = 0 AND o.id <> ?1))",
    )
    .bind(id.as_str())
    .execute(&state.db)
    .await?
    .rows_affected();
    state.key_cache.changed();
    if deleted == 0 {
        fetch(state, id).await?;
        return Err(last_admin());
    }
    crate::sessions::store::remove_owner(state, id, &sessions).await
}

fn last_admin() -> ApiError {
    ApiError::new(
        ErrorCode::LastAdmin,
        "This is the last active administrator. Make another user admin first.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords_are_checked() {
        validate_username("budi.s_1-x").expect("ok");
        for bad in ["ab", "", "has space", "emoji😀x", &"x".repeat(33)] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
        validate_password("12345678").expect("ok");
        assert!(validate_password("1234567").is_err());
        assert!(validate_password(&"x".repeat(1025)).is_err());
    }
}
