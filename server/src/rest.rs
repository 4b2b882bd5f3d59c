//! The original product's REST API, paths exactly as it names them (contract §4):
//! `GET /status` and `POST /send-message`.

use crate::{
    engine::{EngineError, Outgoing, Quoted},
    error::{ApiError, ApiResult},
    json::Json,
    messages::{self, Direction, NewMessage, Source},
    phone::{self, Chat},
    sessions::{SessionHandle, resolve::Target},
    state::AppState,
    webhooks,
};
use app::model::{
    ErrorCode, MessageOutData, SendMessage, SendMessageResponse, SessionId, SessionStatus,
    StatusResponse, event,
};
use axum::{
    Router,
    extract::State,
    routing::{get, post},
};
use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock};
use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

/// The longest text WhatsApp accepts in one message.
const MAX_TEXT_CHARS: usize = 65_536;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/status", get(status_handler))
        .route("/send-message", post(send_handler))
}

async fn status_handler(target: Target) -> Json<StatusResponse> {
    let s = target.session.snapshot();
    Json(StatusResponse {
        is_connected: s.status == SessionStatus::Connected,
        status: s.status,
        phone_number: s.phone_number,
        push_name: s.push_name,
        qr: s.qr,
        reason: s.reason,
    })
}

async fn send_handler(
    State(state): State<AppState>,
    target: Target,
    Json(req): Json<SendMessage>,
) -> ApiResult<Json<SendMessageResponse>> {
    Ok(Json(send_text(&state, &target.session, req).await?))
}

/// Sends a text (or a reply) from `session`, records it, and answers the original's shape.
pub async fn send_text(
    state: &AppState,
    session: &SessionHandle,
    req: SendMessage,
) -> ApiResult<SendMessageResponse> {
    if req.message.trim().is_empty() {
        return Err(ApiError::invalid("message: the text is empty."));
    }
    if req.message.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::invalid("message: at most 65536 characters."));
    }
    let to = phone::normalize(&req.to, state.config.default_country_code.as_deref())
        .map_err(|e| ApiError::new(ErrorCode::InvalidPhone, e.0))?;
    let quoted = match req
        .reply_to_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(id) => Some(quote(state, &session.id, id, &to).await?),
        None => None,
    };
    ensure_connected(session)?;
    state.send_limits.check(&session.id)?;
    state.contacts.ensure_exists(session, &to).await?;
    let message_id = deliver_text(state, session, &to, &req.message, quoted, Source::Api).await?;
    Ok(SendMessageResponse {
        success: true,
        message_id,
        to: to.display().to_string(),
        message: req.message,
    })
}

/// Sends a text through the engine, then records it and its `message.out` event in one
/// transaction. Answers the message id. Callers have checked the request; auto-replies skip
/// the contact check (the contact just wrote) but not the session's rate limit.
pub async fn deliver_text(
    state: &AppState,
    session: &SessionHandle,
    to: &Chat,
    text: &str,
    quoted: Option<Quoted>,
    source: Source,
) -> ApiResult<String> {
    if source != Source::Api {
        ensure_connected(session)?;
        state.send_limits.check(&session.id)?;
    }
    let sent = session
        .conn
        .send(Outgoing {
            to: to.clone(),
            text: text.to_string(),
            quoted: quoted.clone(),
        })
        .await
        .map_err(engine_error)?;
    let mut tx = crate::db::begin_write(&state.db).await?;
    messages::record(
        &mut *tx,
        NewMessage {
            id: &sent.id,
            session: &session.id,
            direction: Direction::Out,
            chat: to,
            sender: None,
            kind: "text",
            body: text,
            source: Some(source),
            quoted_id: quoted.as_ref().map(|q| q.id.as_str()),
            timestamp_ms: sent.timestamp_ms,
        },
    )
    .await?;
    let data = MessageOutData {
        session_id: session.id.clone(),
        message_id: sent.id.clone(),
        to: to.display().to_string(),
        kind: "text".into(),
        message: text.to_string(),
        source: source.as_str().into(),
        timestamp: sent.timestamp_ms,
    };
    webhooks::enqueue(&mut tx, Some(&session.id), event::MESSAGE_OUT, &data).await?;
    tx.commit().await?;
    state.webhooks.wake.notify_one();
    Ok(sent.id)
}

/// The quote for `reply_to_id`: from the record when known (so the phone shows the quoted
/// text), else by id alone, as WhatsApp allows.
async fn quote(state: &AppState, session: &SessionId, id: &str, to: &Chat) -> ApiResult<Quoted> {
    match messages::quoted(&state.db, session, id).await? {
        Some((chat, _)) if &chat != to => Err(ApiError::invalid(
            "reply_to_id: that message belongs to another chat.",
        )),
        Some((_, q)) => Ok(q),
        None => Ok(Quoted {
            id: id.to_string(),
            sender: None,
            text: None,
        }),
    }
}

pub fn ensure_connected(session: &SessionHandle) -> ApiResult<()> {
    if session.is_connected() {
        Ok(())
    } else {
        Err(not_connected(session))
    }
}

fn not_connected(session: &SessionHandle) -> ApiError {
    let status = session.snapshot().status;
    ApiError::new(
        ErrorCode::SessionNotConnected,
        format!(
            "The session is not connected (status: {}). Check GET /status.",
            status.as_str()
        ),
    )
}

pub fn engine_error(e: EngineError) -> ApiError {
    match e {
        EngineError::NotConnected => ApiError::new(
            ErrorCode::SessionNotConnected,
            "The session is not connected to WhatsApp.",
        ),
        EngineError::Other(e) => ApiError::Internal(e),
    }
}

/// Per-session send rate (contract §4): a burst, then a steady rate; off when the rate is 0.
/// WhatsApp bans numbers that burst, so this protects the user's number, not the server.
pub struct SendLimits(Option<DefaultKeyedRateLimiter<SessionId>>);

impl SendLimits {
    pub fn new(per_second: u32, burst: u32) -> Self {
        SendLimits(NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
            DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        }))
    }

    pub fn check(&self, session: &SessionId) -> ApiResult<()> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        limiter.check_key(session).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            let mut err = ApiError::rate_limited(wait.as_secs().max(1));
            if let ApiError::Client { message, .. } = &mut err {
                *message = "Sending too fast for this session; WhatsApp bans numbers that burst. \
                            Retry after the time in Retry-After."
                    .into();
            }
            err
        })
    }
}

/// Remembers which numbers are on WhatsApp, so only a first send to a number asks WhatsApp
/// (checking many numbers is what gets accounts banned). Only "yes" answers are cached.
#[derive(Default)]
pub struct ContactCache {
    known: Mutex<HashMap<(SessionId, String), Instant>>,
}

const CONTACT_TTL: Duration = Duration::from_secs(6 * 3600);

impl ContactCache {
    pub async fn ensure_exists(&self, session: &SessionHandle, to: &Chat) -> ApiResult<()> {
        let Chat::User(digits) = to else {
            return Ok(());
        };
        let key = (session.id.clone(), digits.clone());
        if let Ok(map) = self.known.lock()
            && map.get(&key).is_some_and(|t| t.elapsed() < CONTACT_TTL)
        {
            return Ok(());
        }
        if session
            .conn
            .is_on_whatsapp(to)
            .await
            .map_err(engine_error)?
        {
            if let Ok(mut map) = self.known.lock() {
                if map.len() > 100_000 {
                    map.retain(|_, t| t.elapsed() < CONTACT_TTL);
                }
                map.insert(key, Instant::now());
            }
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::ContactNotFound,
                format!("{digits} is not on WhatsApp."),
            ))
        }
    }
}
