//! The dashboard's forms before its WebAssembly arrives — a slow first load, or a browser
//! without JavaScript. Every form is `method="post"` to its own page, so nothing typed into it
//! (a password least of all) ever lands in a URL, the browser history or a proxy's log. The
//! forms a person needs first post here as plain `application/x-www-form-urlencoded` and run
//! the very service their server function runs ([`DashboardBackend`]): sign in, register, add
//! a session, send a text, answer in a chat, sign out. Each answers `303 See Other`: on success to where the person goes
//! next, on failure back to the form's page with `?error=CODE&message=…`, which the page shows
//! (`app::pages::common::form_error`). Any other form posted before the script arrived goes
//! back to its page with a note to wait for it ([`needs_script`]).
//!
//! Once the page is hydrated the forms submit through their server functions and never reach
//! this module. Cross-site posts are refused by `auth::csrf` like every other write.

use crate::{dashboard::DashboardBackend, state::AppState};
use app::{
    backend::Backend,
    i18n::Lang,
    model::{Credentials, ErrorBody, ErrorCode, NewSession, SendMessage, SessionId},
};
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{header, request::Parts},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(login))
        .route("/register", post(register))
        .route("/sessions", post(add_session))
        .route("/send", post(send))
        .route("/chats", post(reply))
        .route("/logout", post(sign_out))
}

#[derive(Deserialize)]
struct CredentialsForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
struct SessionForm {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct SendForm {
    #[serde(default)]
    session: String,
    #[serde(default)]
    to: String,
    #[serde(default = "text_kind")]
    kind: String,
    #[serde(default)]
    message: String,
}

fn text_kind() -> String {
    "text".into()
}

async fn login(State(state): State<AppState>, parts: Parts, body: Bytes) -> Response {
    sign_in(state, parts, body, false).await
}

async fn register(State(state): State<AppState>, parts: Parts, body: Bytes) -> Response {
    sign_in(state, parts, body, true).await
}

/// Signs in, or registers (which signs in too), as the server functions do.
async fn sign_in(state: AppState, parts: Parts, body: Bytes, new_account: bool) -> Response {
    let form: CredentialsForm = match parse(&parts, &body) {
        Ok(f) => f,
        Err(e) => return back(&parts, e),
    };
    let creds = Credentials {
        username: form.username,
        password: form.password,
    };
    let backend = DashboardBackend(state);
    let done = if new_account {
        backend.register(&parts, creds).await
    } else {
        backend.login(&parts, creds).await
    };
    match done {
        Ok((_, cookie)) => signed_in(cookie),
        Err(e) => back(&parts, e),
    }
}

/// A new session, then its page (the QR code to scan).
async fn add_session(State(state): State<AppState>, parts: Parts, body: Bytes) -> Response {
    let form: SessionForm = match parse(&parts, &body) {
        Ok(f) => f,
        Err(e) => return back(&parts, e),
    };
    let new = NewSession {
        name: form.name,
        owner_id: None,
    };
    match DashboardBackend(state).create_session(&parts, new).await {
        Ok(s) => Redirect::to(&format!("/sessions/{}", s.id)).into_response(),
        Err(e) => back(&parts, e),
    }
}

/// A text from the Send page, then the message log that shows it. Menus, files and polls
/// are built by the page's script; posted without it, they get [`needs_script`]'s note.
async fn send(State(state): State<AppState>, parts: Parts, body: Bytes) -> Response {
    let form: SendForm = match parse(&parts, &body) {
        Ok(f) => f,
        Err(e) => return back(&parts, e),
    };
    if form.kind != "text" {
        return needs_script(&parts);
    }
    let body = SendMessage {
        to: form.to,
        message: form.message,
        reply_to_id: None,
        mentions: Vec::new(),
    };
    let backend = DashboardBackend(state);
    match backend
        .send_message(&parts, SessionId(form.session), body)
        .await
    {
        Ok(_) => Redirect::to("/messages").into_response(),
        Err(e) => back(&parts, e),
    }
}

/// An answer from the Chats page, then the chat again, which shows it.
async fn reply(State(state): State<AppState>, parts: Parts, body: Bytes) -> Response {
    let form: SendForm = match parse(&parts, &body) {
        Ok(f) => f,
        Err(e) => return back(&parts, e),
    };
    let chat = serde_urlencoded::to_string([("session", &form.session), ("chat", &form.to)])
        .unwrap_or_default();
    let body = SendMessage {
        to: form.to,
        message: form.message,
        reply_to_id: None,
        mentions: Vec::new(),
    };
    match DashboardBackend(state)
        .send_message(&parts, SessionId(form.session), body)
        .await
    {
        Ok(_) => Redirect::to(&format!("/chats?{chat}")).into_response(),
        Err(e) => back(&parts, e),
    }
}

/// The top bar's Sign out: ends the login (as `POST /api/auth/logout` does), then the sign-in
/// page. Signing out twice, or with an expired login, still lands there.
async fn sign_out(State(state): State<AppState>, parts: Parts) -> Response {
    let cookie = match DashboardBackend(state.clone()).logout(&parts).await {
        Ok(cookie) => cookie,
        Err(e) => {
            // The login could not be ended in the database; the browser still forgets it, so
            // the person lands on the sign-in page signed out, as they asked.
            tracing::warn!(error = %e.message, "signing out from the form");
            crate::auth::cleared_cookie(&state)
        }
    };
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

/// The form's fields; a body that is not a form of this shape is the caller's error.
fn parse<T: serde::de::DeserializeOwned>(parts: &Parts, body: &[u8]) -> Result<T, ErrorBody> {
    if !content_type_is(parts, "application/x-www-form-urlencoded") {
        return Err(crate::error::ApiError::invalid(
            "Post this form as application/x-www-form-urlencoded, or use the JSON API.",
        )
        .into());
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|e| crate::error::ApiError::invalid(format!("The form is malformed: {e}")).into())
}

/// Signed in: the cookie, then the dashboard.
fn signed_in(cookie: String) -> Response {
    ([(header::SET_COOKIE, cookie)], Redirect::to("/sessions")).into_response()
}

/// Back to the form's page with the error, which the page shows above its content; a visitor
/// who is not signed in (or whose sign-in expired) to the sign-in page.
fn back(parts: &Parts, err: ErrorBody) -> Response {
    let signing_in = matches!(parts.uri.path(), "/login" | "/register");
    if err.error == ErrorCode::Unauthorized && !signing_in {
        return Redirect::to("/login").into_response();
    }
    back_with(parts, err.error.as_str(), &err.message)
}

/// A form of a dashboard page posted before the page's script arrived, that only works with
/// it: back to the page, saying so in the person's language.
pub fn needs_script(parts: &Parts) -> Response {
    // Only the server says this, so it is not in the dashboard's string table (which the
    // browser downloads).
    let message = match Lang::of_request(&parts.headers) {
        Lang::Id => {
            "Formulir ini perlu halaman selesai dimuat (JavaScript). Tunggu sebentar lalu coba lagi."
        }
        Lang::En => {
            "This form needs the page to finish loading (JavaScript). Wait a moment and try again."
        }
    };
    back_with(parts, "NEEDS_SCRIPT", message)
}

/// `303` (a reload does not post again) to the form's page with `?error=&message=`.
/// The page's own query (`/chats?session=&chat=`: which chat was open) is kept, an earlier
/// error in it replaced.
fn back_with(parts: &Parts, code: &str, message: &str) -> Response {
    let mut pairs: Vec<(String, String)> = parts
        .uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    pairs.retain(|(k, _)| k != "error" && k != "message");
    pairs.push(("error".into(), code.into()));
    pairs.push(("message".into(), message.into()));
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    Redirect::to(&format!("{}?{query}", parts.uri.path())).into_response()
}

/// Whether a request is a browser's plain form post (what [`needs_script`] answers).
pub fn is_form_post(parts: &Parts) -> bool {
    parts.method == axum::http::Method::POST
        && (content_type_is(parts, "application/x-www-form-urlencoded")
            || content_type_is(parts, "multipart/form-data"))
}

/// Whether the request's `Content-Type` is `mime` (parameters such as `charset` aside).
fn content_type_is(parts: &Parts, mime: &str) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(mime))
}
