//! Who is calling: accounts, passwords, login tokens, API keys as credentials, and the
//! `/api/auth/*` + `/api/me` routes.
//!
//! - [`extract`]: the [`Caller`](extract::Caller) extractor (cookie or API key) every
//!   protected handler and server function goes through.
//! - [`policy`]: the one authorization decision (role, key scope) every path asks.
//! - [`csrf`]: state-changing browser requests must come from Kabar's own pages.
//! - [`password`], [`token`], [`limits`]: argon2id, JWT, login rate limits.
//! - account management by admins is in `crate::users`; key management in `crate::keys`.

pub mod csrf;
pub mod extract;
pub mod limits;
pub mod password;
pub mod policy;
pub mod token;

use crate::{
    db::{new_id, now_ms},
    error::{ApiError, ApiResult},
    json::Json,
    openapi::{
        BadRequest, Conflict, Forbidden, InternalError, PayloadTooLarge, RateLimited, Unauthorized,
    },
    settings,
    state::AppState,
    users,
};
use app::model::{Credentials, Done, ErrorCode, LoginResponse, Me};
use axum::{
    Router,
    extract::State,
    http::{HeaderMap, HeaderValue, header::SET_COOKIE, request::Parts},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use extract::Caller;
use std::net::IpAddr;

pub const COOKIE_NAME: &str = "auth-token";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/register", post(register_handler))
        .route("/api/auth/login", post(login_handler))
        .route("/api/auth/logout", post(logout_handler))
        .route("/api/me", get(me_handler))
}

/// Create an account and sign it in (sets the `auth-token` cookie). The first account ever
/// registered becomes the admin.
#[utoipa::path(
    post, path = "/api/auth/register", operation_id = "register", tag = "accounts", security(()),
    request_body(content = Credentials, example = json!({"username": "admin", "password": "a-long-password"})),
    responses(
        (status = 200, description = "The new account, signed in.", body = Me,
            headers(("Set-Cookie" = String, description = "`auth-token=<JWT>; HttpOnly; SameSite=Lax; Path=/`")),
            example = json!({"id": "0b5e3c1f8a2d4e6f", "username": "admin", "role": "admin"})),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn register_handler(
    State(state): State<AppState>,
    parts: Parts,
    Json(creds): Json<Credentials>,
) -> ApiResult<Response> {
    let (me, cookie) = register(&state, &parts, creds).await?;
    Ok(with_cookie(Json(me), &cookie))
}

/// Sign in: answers the account and a JWT, and sets the same JWT as the `auth-token` cookie.
/// Rate-limited per username (5 attempts, then one every 12 s) and per client address.
#[utoipa::path(
    post, path = "/api/auth/login", operation_id = "login", tag = "accounts", security(()),
    request_body(content = Credentials, example = json!({"username": "admin", "password": "a-long-password"})),
    responses(
        (status = 200, description = "Signed in.", body = LoginResponse,
            headers(("Set-Cookie" = String, description = "`auth-token=<JWT>; HttpOnly; SameSite=Lax; Path=/`")),
            example = json!({"id": "0b5e3c1f8a2d4e6f", "username": "admin", "role": "admin", "token": "eyJhbGciOiJIUzI1NiJ9…"})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn login_handler(
    State(state): State<AppState>,
    parts: Parts,
    Json(creds): Json<Credentials>,
) -> ApiResult<Response> {
    let (me, token, cookie) = login(&state, &parts, creds).await?;
    Ok(with_cookie(Json(LoginResponse { me, token }), &cookie))
}

/// Sign out: ends the cookie's login (copies of the token stop working too) and clears the
/// cookie. Without a cookie it only clears it.
#[utoipa::path(
    post, path = "/api/auth/logout", operation_id = "logout", tag = "accounts", security((), ("cookie" = [])),
    responses(
        (status = 200, description = "Signed out.", body = Done,
            headers(("Set-Cookie" = String, description = "`auth-token=; …; Max-Age=0`"))),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn logout_handler(
    State(state): State<AppState>,
    parts: Parts,
) -> ApiResult<Response> {
    let cookie = logout(&state, &parts).await?;
    Ok(with_cookie(Json(Done::OK), &cookie))
}

/// The account behind the cookie or API key.
#[utoipa::path(
    get, path = "/api/me", operation_id = "getMe", tag = "accounts",
    responses(
        (status = 200, description = "The caller's account.", body = Me,
            example = json!({"id": "0b5e3c1f8a2d4e6f", "username": "admin", "role": "admin"})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn me_handler(caller: Caller) -> Json<Me> {
    Json(caller.me())
}

fn with_cookie(body: impl IntoResponse, cookie: &str) -> Response {
    let mut resp = body.into_response();
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}

/// Creates an account and signs it in. The very first account becomes admin, atomically.
/// Everything cheap is checked before the password is hashed (argon2 is the expensive part),
/// and hashes are limited per client address.
pub async fn register(
    state: &AppState,
    parts: &Parts,
    creds: Credentials,
) -> ApiResult<(Me, String)> {
    users::validate_username(&creds.username)?;
    users::validate_password(&creds.password)?;
    if !settings::allow_registration(state).await? && users::any_exist(state).await? {
        return Err(ApiError::new(
            ErrorCode::RegistrationClosed,
            "Registration is closed on this server. Ask an administrator for an account.",
        ));
    }
    users::check_username_free(state, &creds.username).await?;
    state
        .login_limits
        .check_registration(client_ip(state, parts))?;
    let hash = password::hash(creds.password).await?;
    let me = users::insert_first_admin_or_user(state, creds.username.trim(), &hash).await?;
    let (_, cookie) = start_login(state, &me).await?;
    Ok((me, cookie))
}

/// Checks a username and password; answers a JWT and the matching `Set-Cookie` value.
pub async fn login(
    state: &AppState,
    parts: &Parts,
    creds: Credentials,
) -> ApiResult<(Me, String, String)> {
    state
        .login_limits
        .check_login(&creds.username, client_ip(state, parts))?;
    let Some(user) = users::find_for_login(state, &creds.username).await? else {
        // Same work as a real check, so timing does not tell which usernames exist.
        password::verify_dummy(creds.password).await;
        return Err(bad_credentials());
    };
    if !password::verify(creds.password, user.password_hash.clone()).await {
        return Err(bad_credentials());
    }
    if user.disabled {
        return Err(ApiError::unauthorized("This account is disabled."));
    }
    let me = user.me();
    let (token, cookie) = start_login(state, &me).await?;
    Ok((me, token, cookie))
}

fn bad_credentials() -> ApiError {
    ApiError::unauthorized("Wrong username or password.")
}

async fn start_login(state: &AppState, me: &Me) -> ApiResult<(String, String)> {
    let login_id = new_id();
    let now = now_ms();
    let ttl_ms = i64::from(state.config.session_hours) * 3_600_000;
    sqlx::query("DELETE FROM logins WHERE expires_at < ?")
        .bind(now)
        .execute(&state.db)
        .await?;
    sqlx::query("INSERT INTO logins (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
        .bind(&login_id)
        .bind(me.id.as_str())
        .bind(now)
        .bind(now + ttl_ms)
        .execute(&state.db)
        .await?;
    let token = state.tokens.issue(&me.id, &login_id, now + ttl_ms)?;
    let cookie = session_cookie(state, &token, ttl_ms / 1000);
    Ok((token, cookie))
}

/// Ends the login the cookie belongs to (if any) and answers a cookie that clears it.
pub async fn logout(state: &AppState, parts: &Parts) -> ApiResult<String> {
    if let Some(token) = extract::cookie_token(&parts.headers)
        && let Ok(claims) = state.tokens.verify(token)
    {
        sqlx::query("DELETE FROM logins WHERE id = ?")
            .bind(&claims.jti)
            .execute(&state.db)
            .await?;
        state.key_cache.changed();
    }
    Ok(cleared_cookie(state))
}

/// A `Set-Cookie` value that removes the login cookie from the browser.
pub fn cleared_cookie(state: &AppState) -> String {
    session_cookie(state, "", 0)
}

fn session_cookie(state: &AppState, value: &str, max_age_secs: i64) -> String {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE_NAME}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{secure}")
}

/// The address the request came from, when the server knows it: the connection's, or the
/// client behind a `--trusted-proxies` proxy.
pub fn client_ip(state: &AppState, parts: &Parts) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())?;
    Some(limits::client_ip(
        peer,
        &parts.headers,
        &state.config.trusted_proxies,
    ))
}

/// The caller's own account as shown to them.
impl Caller {
    pub fn me(&self) -> Me {
        Me {
            id: self.id.clone(),
            username: self.username.clone(),
            role: self.role,
        }
    }
}

/// Whether the request carries any credential at all (used to tell "anonymous" from "wrong").
pub fn has_credentials(headers: &HeaderMap, query: Option<&str>) -> bool {
    extract::header_key(headers).is_some()
        || extract::query_key(query).is_some()
        || extract::cookie_token(headers).is_some()
}
