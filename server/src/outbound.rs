//! The outbound service: every message the server sends, whoever asks (REST, the dashboard,
//! auto-reply), goes prepare → engine → [`deliver`] (record + choices + `message.out`, one
//! write). Limits (the session's send rate), the contact cache, and engine errors as the API
//! says them live here too; `crate::rest` only turns HTTP into these calls.

use crate::{
    engine::{Content, EngineError, Outgoing, Quoted, Sent},
    error::{ApiError, ApiResult},
    messages::{self, Direction, MediaMeta, NewMessage, Source},
    phone::{self, Chat},
    sessions::SessionHandle,
    state::AppState,
};
use app::model::{
    ContactCard, Details, ErrorCode, Fallback, Interactive, Location, MessageOutData, SendContact,
    SendInteractive, SendInteractiveResponse, SendLocation, SendMediaResponse, SendMessage,
    SendMessageResponse, SendPoll, SessionId,
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
    let mentions = mentions(state, &req.mentions)?;
    let (to, quoted) = prepare(state, session, &req.to, req.reply_to_id.as_deref()).await?;
    let sent = deliver(
        state,
        session,
        Delivery {
            to: &to,
            content: Content::Text(req.message.clone()),
            quoted,
            source: Source::Api,
            menu: None,
            mentions,
        },
    )
    .await?;
    Ok(SendMessageResponse {
        success: true,
        message_id: sent.id,
        to: to.display().to_string(),
        message: req.message,
    })
}

/// The most people one text may mention.
const MAX_MENTIONS: usize = 256;

/// A person's number as digits; `field` names it in the error (a group, or not a number).
pub fn person(state: &AppState, n: &str, field: &str) -> ApiResult<String> {
    match phone::normalize(n, state.config.default_country_code.as_deref()) {
        Ok(Chat::User(d)) => Ok(d),
        Ok(Chat::Group(_)) => Err(ApiError::new(
            ErrorCode::InvalidPhone,
            format!("{field}: a person's number, not a group."),
        )),
        Err(e) => Err(ApiError::new(ErrorCode::InvalidPhone, e.in_field(field))),
    }
}

/// People's numbers as digits, each error naming its place (`field[i]`).
pub fn people(state: &AppState, numbers: &[String], field: &str) -> ApiResult<Vec<String>> {
    numbers
        .iter()
        .enumerate()
        .map(|(i, n)| person(state, n, &format!("{field}[{i}]")))
        .collect()
}

/// A text's `mentions` as digits.
fn mentions(state: &AppState, numbers: &[String]) -> ApiResult<Vec<String>> {
    if numbers.len() > MAX_MENTIONS {
        return Err(ApiError::invalid("mentions: at most 256 numbers."));
    }
    people(state, numbers, "mentions")
}

/// The longest caption WhatsApp shows.
const MAX_CAPTION_CHARS: usize = 1024;

/// What a `/send-media` request asks besides its file (which [`crate::media`] took in).
pub struct MediaRequest {
    pub to: String,
    pub caption: Option<String>,
    pub view_once: bool,
    pub reply_to_id: Option<String>,
}

/// Sends a stored file from `session` as its kind (image, document, …), records it with the
/// file's descriptor, and answers contract §11's shape.
pub async fn send_media(
    state: &AppState,
    session: &SessionHandle,
    file: crate::media::Stored,
    req: MediaRequest,
) -> ApiResult<SendMediaResponse> {
    use crate::media::MediaKind;
    let caption = req.caption.filter(|c| !c.trim().is_empty());
    if caption
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_CAPTION_CHARS)
    {
        return Err(ApiError::invalid("caption: at most 1024 characters."));
    }
    if caption.is_some()
        && matches!(
            file.kind,
            MediaKind::Audio | MediaKind::Voice | MediaKind::Sticker
        )
    {
        return Err(ApiError::invalid(format!(
            "caption: WhatsApp shows no caption on {}; send the text as its own message.",
            file.kind.as_str()
        )));
    }
    if req.view_once
        && !matches!(
            file.kind,
            MediaKind::Image | MediaKind::Video | MediaKind::Voice
        )
    {
        return Err(ApiError::invalid(
            "viewOnce: only images, videos and voice notes can be view-once.",
        ));
    }
    let (to, quoted) = prepare(state, session, &req.to, req.reply_to_id.as_deref()).await?;
    let kind = file.kind;
    let sent = deliver(
        state,
        session,
        Delivery {
            to: &to,
            content: Content::Media(crate::engine::Media {
                file,
                caption,
                view_once: req.view_once,
            }),
            quoted,
            source: Source::Api,
            menu: None,
            mentions: Vec::new(),
        },
    )
    .await?;
    Ok(SendMediaResponse {
        success: true,
        message_id: sent.id,
        to: to.display().to_string(),
        kind: kind.as_str().to_string(),
        timestamp: sent.timestamp_ms,
    })
}

/// Sends a finished message of contract §11 (`content` checked by its caller) and answers
/// its shape: `{success, messageId, to, type, timestamp}`.
async fn send_rich(
    state: &AppState,
    session: &SessionHandle,
    to: &str,
    reply_to_id: Option<&str>,
    content: Content,
) -> ApiResult<SendMediaResponse> {
    let kind = content.kind();
    let (to, quoted) = prepare(state, session, to, reply_to_id).await?;
    let sent = deliver(
        state,
        session,
        Delivery {
            to: &to,
            content,
            quoted,
            source: Source::Api,
            menu: None,
            mentions: Vec::new(),
        },
    )
    .await?;
    Ok(SendMediaResponse {
        success: true,
        message_id: sent.id,
        to: to.display().to_string(),
        kind: kind.to_string(),
        timestamp: sent.timestamp_ms,
    })
}

/// A name, address, question or option: not blank, at most `max` characters, one line.
fn short_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::invalid(format!("{field}: empty.")));
    }
    if v.chars().count() > max {
        return Err(ApiError::invalid(format!(
            "{field}: at most {max} characters."
        )));
    }
    if v.chars().any(char::is_control) {
        return Err(ApiError::invalid(format!(
            "{field}: one line, without control characters."
        )));
    }
    Ok(v.to_string())
}

/// A place as it is sent: coordinates in range, name and address one line each (empty ones
/// dropped). Errors name the fields after `prefix` (`location.` in an auto-reply rule).
pub fn place(
    prefix: &str,
    latitude: f64,
    longitude: f64,
    name: Option<String>,
    address: Option<String>,
) -> ApiResult<Location> {
    if !(latitude.is_finite() && (-90.0..=90.0).contains(&latitude)) {
        return Err(ApiError::invalid(format!(
            "{prefix}latitude: between -90 and 90 degrees."
        )));
    }
    if !(longitude.is_finite() && (-180.0..=180.0).contains(&longitude)) {
        return Err(ApiError::invalid(format!(
            "{prefix}longitude: between -180 and 180 degrees."
        )));
    }
    let optional = |field: &str, v: Option<String>| -> ApiResult<Option<String>> {
        v.filter(|v| !v.trim().is_empty())
            .map(|v| short_text(&format!("{prefix}{field}"), &v, 256))
            .transpose()
    };
    Ok(Location {
        latitude,
        longitude,
        name: optional("name", name)?,
        address: optional("address", address)?,
    })
}

/// Sends a place on the map (`/send-location`).
pub async fn send_location(
    state: &AppState,
    session: &SessionHandle,
    req: SendLocation,
) -> ApiResult<SendMediaResponse> {
    let location = place("", req.latitude, req.longitude, req.name, req.address)?;
    send_rich(
        state,
        session,
        &req.to,
        req.reply_to_id.as_deref(),
        Content::Location(location),
    )
    .await
}

/// The most contact cards one message carries.
const MAX_CONTACTS: usize = 10;

/// Sends contact cards (`/send-contact`); the engine builds their vCards.
pub async fn send_contact(
    state: &AppState,
    session: &SessionHandle,
    req: SendContact,
) -> ApiResult<SendMediaResponse> {
    if req.contacts.is_empty() || req.contacts.len() > MAX_CONTACTS {
        return Err(ApiError::invalid(format!(
            "contacts: 1 to {MAX_CONTACTS} contacts."
        )));
    }
    let cc = state.config.default_country_code.as_deref();
    let mut cards = Vec::with_capacity(req.contacts.len());
    for (i, c) in req.contacts.iter().enumerate() {
        let name = short_text(&format!("contacts[{i}].name"), &c.name, 256)?;
        let number = match phone::normalize(&c.phone_number, cc) {
            Ok(Chat::User(digits)) => digits,
            _ => {
                return Err(ApiError::new(
                    ErrorCode::InvalidPhone,
                    format!("contacts[{i}].phoneNumber: not a phone number."),
                ));
            }
        };
        cards.push(ContactCard {
            name,
            phone_numbers: vec![number],
        });
    }
    send_rich(
        state,
        session,
        &req.to,
        req.reply_to_id.as_deref(),
        Content::Contacts(cards),
    )
    .await
}

/// WhatsApp's bounds on a poll: 2 to 12 distinct options.
const POLL_OPTIONS: std::ops::RangeInclusive<usize> = 2..=12;

/// Sends a poll (`/send-poll`); votes arrive as `poll.vote`.
pub async fn send_poll(
    state: &AppState,
    session: &SessionHandle,
    req: SendPoll,
) -> ApiResult<SendMediaResponse> {
    let question = short_text("question", &req.question, 255)?;
    if !POLL_OPTIONS.contains(&req.options.len()) {
        return Err(ApiError::invalid("options: 2 to 12 options."));
    }
    let mut options: Vec<String> = Vec::with_capacity(req.options.len());
    for (i, o) in req.options.iter().enumerate() {
        let o = short_text(&format!("options[{i}]"), o, 100)?;
        if options.contains(&o) {
            return Err(ApiError::invalid(format!(
                "options[{i}]: \"{o}\" is there twice; options must differ (votes name them)."
            )));
        }
        options.push(o);
    }
    send_rich(
        state,
        session,
        &req.to,
        req.reply_to_id.as_deref(),
        Content::Poll {
            question,
            options,
            multiple: req.multiple_answers.unwrap_or(false),
        },
    )
    .await
}

/// Sends buttons or a list (either request form) from `session`, rendered natively or as the
/// request's (else the session's) fallback, and remembers it so answers resolve.
pub async fn send_interactive(
    state: &AppState,
    session: &SessionHandle,
    req: SendInteractive,
) -> ApiResult<SendInteractiveResponse> {
    let message = req.form.parse().map_err(ApiError::from)?;
    let fallback =
        crate::interactive::choose_fallback(state, &session.id, req.form.fallback, &message)
            .await?;
    let content = crate::interactive::render(&message, fallback)?;
    let (to, quoted) = prepare(state, session, &req.to, req.reply_to_id.as_deref()).await?;
    let sent = deliver(
        state,
        session,
        Delivery {
            to: &to,
            content,
            quoted,
            source: Source::Api,
            menu: Some(Menu {
                message: &message,
                fallback,
                expires_in: req.form.expires_in,
            }),
            mentions: Vec::new(),
        },
    )
    .await?;
    Ok(SendInteractiveResponse {
        success: true,
        message_id: sent.id,
        to: to.display().to_string(),
        kind: message.kind(),
        timestamp: sent.timestamp_ms,
    })
}

/// The checks every API send makes after its body is valid, in the contract's order: the
/// number, the quoted message, the link, the rate, and whether the number has WhatsApp.
async fn prepare(
    state: &AppState,
    session: &SessionHandle,
    to: &str,
    reply_to_id: Option<&str>,
) -> ApiResult<(Chat, Option<Quoted>)> {
    let to = phone::normalize(to, state.config.default_country_code.as_deref())
        .map_err(|e| ApiError::new(ErrorCode::InvalidPhone, e.in_field("to")))?;
    let quoted = match reply_to_id.map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => Some(quote(state, &session.id, id, &to).await?),
        None => None,
    };
    ensure_connected(session)?;
    state.send_limits.check(&session.id)?;
    state.contacts.ensure_exists(session, &to).await?;
    Ok((to, quoted))
}

/// The checks of [`prepare`] that cost nothing, for a send that has work to do before it can
/// be prepared (a file to fetch): a valid number and a connected session.
pub fn check_recipient(state: &AppState, session: &SessionHandle, to: &str) -> ApiResult<()> {
    phone::normalize(to, state.config.default_country_code.as_deref())
        .map_err(|e| ApiError::new(ErrorCode::InvalidPhone, e.in_field("to")))?;
    ensure_connected(session)
}

/// One outgoing message for [`deliver`].
pub struct Delivery<'a> {
    pub to: &'a Chat,
    pub content: Content,
    pub quoted: Option<Quoted>,
    pub source: Source,
    /// For an interactive message: what to remember so that answers resolve.
    pub menu: Option<Menu<'a>>,
    /// For a text: the people it mentions (digits).
    pub mentions: Vec<String>,
}

impl Delivery<'_> {
    /// The message record's `type`.
    fn kind(&self) -> &'static str {
        if self.menu.is_some() {
            "interactive"
        } else {
            self.content.kind()
        }
    }

    /// A location's, contact card's or poll's content for the record and `message.out` (an
    /// interactive message's poll fallback is `interactive`, without them).
    fn details(&self) -> Option<Details> {
        self.menu
            .is_none()
            .then(|| self.content.details())
            .flatten()
    }
}

/// An interactive message's choices, how it was rendered, and how long to wait for an answer.
pub struct Menu<'a> {
    pub message: &'a Interactive,
    pub fallback: Fallback,
    pub expires_in: Option<u64>,
}

/// Sends one message: recorded as `pending` first (a database that refuses writes stops the
/// send with `503`, before anything leaves), then the engine sends it under that id, then one
/// write settles it (`sent`, remembered choices, `message.out`). When that last write fails the
/// message has left: the answer is still a success, and the settle is retried in the background
/// until it lands — reconciled, never sent again. API callers have checked the request
/// ([`prepare`]); auto-replies skip the contact check (the contact just wrote) but not the link
/// or the session's rate limit.
pub async fn deliver(
    state: &AppState,
    session: &SessionHandle,
    d: Delivery<'_>,
) -> ApiResult<Sent> {
    if d.source != Source::Api {
        ensure_connected(session)?;
        state.send_limits.check(&session.id)?;
    }
    let record = Pending::of(&session.id, crate::engine::new_message_id(), &d);
    let planned = record.id.clone();
    crate::events::write(state, move |write| {
        Box::pin(async move { record.insert(write.conn()).await })
    })
    .await
    .map_err(|e| {
        tracing::warn!(session = %session.id, error = %e, "a send stopped: the record refused the message");
        ApiError::new(
            ErrorCode::ServiceUnavailable,
            "The message could not be recorded, so it was not sent. Try again shortly.",
        )
    })?;
    hand_over(state, session, planned, d).await
}

/// Sends a message whose `pending` record was written earlier, in another transaction (an
/// auto-reply is decided and recorded with the message it answers): checks the link and the
/// rate as [`deliver`] does; when either refuses, the record goes.
pub async fn deliver_recorded(
    state: &AppState,
    session: &SessionHandle,
    planned: String,
    d: Delivery<'_>,
) -> ApiResult<Sent> {
    let ready = ensure_connected(session).and_then(|()| state.send_limits.check(&session.id));
    if let Err(e) = ready {
        forget(state, &session.id, &planned).await;
        return Err(e);
    }
    hand_over(state, session, planned, d).await
}

/// The `pending` record of an outgoing message, before the engine has it.
#[derive(Clone)]
pub struct Pending {
    pub id: String,
    session: SessionId,
    chat: Chat,
    kind: &'static str,
    body: String,
    source: Source,
    quoted_id: Option<String>,
    media: Option<MediaMeta>,
    details: Option<Details>,
}

impl Pending {
    pub fn of(session: &SessionId, id: String, d: &Delivery<'_>) -> Pending {
        Pending {
            id,
            session: session.clone(),
            chat: d.to.clone(),
            kind: d.kind(),
            body: d.content.text().to_string(),
            source: d.source,
            quoted_id: d.quoted.as_ref().map(|q| q.id.clone()),
            media: d.content.media().map(|m| m.file.meta.clone()),
            details: d.details(),
        }
    }

    pub async fn insert(&self, conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
        messages::record_pending(
            conn,
            NewMessage {
                id: &self.id,
                session: &self.session,
                direction: Direction::Out,
                chat: &self.chat,
                sender: None,
                kind: self.kind,
                body: &self.body,
                source: Some(self.source),
                quoted_id: self.quoted_id.as_deref(),
                timestamp_ms: crate::db::now_ms(),
                media: self.media.as_ref(),
                details: self.details.as_ref(),
                push_name: None,
            },
        )
        .await
    }
}

/// Removes the `pending` record of a message that did not leave.
pub(crate) async fn forget(state: &AppState, session: &SessionId, planned: &str) {
    let (id, planned) = (session.clone(), planned.to_string());
    let forgotten = crate::events::write(state, move |write| {
        Box::pin(async move { messages::forget_pending(write.conn(), &id, &planned).await })
    });
    if let Err(e) = forgotten.await {
        tracing::warn!(session = %session, error = %e, "a refused send stays pending in the record");
    }
}

/// The engine sends the recorded message `planned`; the record is settled or forgotten.
async fn hand_over(
    state: &AppState,
    session: &SessionHandle,
    planned: String,
    d: Delivery<'_>,
) -> ApiResult<Sent> {
    let text = d.content.text().to_string();
    let kind = d.kind();
    let media = d.content.media().map(|m| m.file.meta.clone());
    let details = d.details();
    // A reply may arrive before the menu's record is written: its session must look it up.
    if d.menu
        .as_ref()
        .is_some_and(|m| m.fallback == Fallback::Text)
    {
        state.text_menus.sent(&session.id, crate::db::now_ms());
    }
    let sent = match session
        .conn
        .send(Outgoing {
            id: planned.clone(),
            to: d.to.clone(),
            content: d.content,
            quoted: d.quoted.clone(),
            mentions: d.mentions,
        })
        .await
    {
        Ok(sent) => sent,
        Err(e) => {
            forget(state, &session.id, &planned).await;
            return Err(engine_error(e));
        }
    };
    let settle = Settle {
        session: session.id.clone(),
        planned,
        sent: sent.clone(),
        to: d.to.clone(),
        kind,
        text,
        source: d.source,
        media,
        details,
        menu: d
            .menu
            .map(|m| (m.message.clone(), m.fallback, m.expires_in)),
    };
    if let Err(e) = settle.write(state).await {
        tracing::error!(session = %session.id, message = %sent.id, error = %e, "the sent message's record will be completed in the background");
        tokio::spawn(crate::events::retry_write(state.clone(), move |state| {
            let settle = settle.clone();
            Box::pin(async move { settle.write(&state).await })
        }));
    }
    Ok(sent)
}

/// What completes the record of a message the engine sent.
#[derive(Clone)]
struct Settle {
    session: SessionId,
    planned: String,
    sent: Sent,
    to: Chat,
    kind: &'static str,
    text: String,
    source: Source,
    media: Option<MediaMeta>,
    details: Option<Details>,
    menu: Option<(Interactive, Fallback, Option<u64>)>,
}

impl Settle {
    async fn write(&self, state: &AppState) -> Result<(), sqlx::Error> {
        if let Some((_, Fallback::Text, _)) = &self.menu {
            state.text_menus.sent(&self.session, self.sent.timestamp_ms);
        }
        let this = self.clone();
        crate::events::write(state, move |write| {
            Box::pin(async move {
                // The record settled and its message.out in one round trip; the choices after
                // it (they refer to the record by the id it settled with).
                let data = MessageOutData {
                    session_id: this.session.clone(),
                    message_id: this.sent.id.clone(),
                    to: this.to.display().to_string(),
                    kind: this.kind.into(),
                    message: this.text.clone(),
                    source: this.source.as_str().into(),
                    timestamp: this.sent.timestamp_ms,
                    media: this.media.as_ref().map(|m| m.info(&this.sent.id)),
                    details: this.details.clone().unwrap_or_default(),
                };
                write
                    .settle_and_emit(&this.session, &this.planned, &this.sent.id, &data)
                    .await?;
                if let Some((message, fallback, expires_in)) = &this.menu {
                    let menu = Menu {
                        message,
                        fallback: *fallback,
                        expires_in: *expires_in,
                    };
                    crate::interactive::remember(
                        write.conn(),
                        &this.session,
                        &this.sent,
                        &this.to,
                        &menu,
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await?;
        state
            .metrics
            .message("out", self.kind, Some(self.source.as_str()));
        if self.menu.as_ref().is_some_and(|m| m.2.is_some()) {
            state.interactive_wake.notify_one();
        }
        Ok(())
    }
}

/// The quote for `reply_to_id`, from the message log: the phone shows the quoted text and
/// author only when the quote carries them, so an id Kabar never saw (a typo, another
/// session's message, one removed by retention) is refused rather than sent as an empty quote.
async fn quote(state: &AppState, session: &SessionId, id: &str, to: &Chat) -> ApiResult<Quoted> {
    match messages::quoted(&state.db, session, id).await? {
        Some((chat, _)) if &chat != to => Err(ApiError::invalid(
            "reply_to_id: that message belongs to another chat.",
        )),
        Some((_, q)) => Ok(q),
        None => Err(ApiError::invalid(
            "reply_to_id: this session has no message with that id (quote a messageId it sent or \
             received).",
        )),
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
        EngineError::NotPairing => ApiError::invalid(
            "The session is already linked to a phone; log it out first to link another.",
        ),
        EngineError::GroupNotFound => ApiError::new(
            ErrorCode::GroupNotFound,
            "This session's number is not in that group. GET /api/sessions/{id}/groups lists the groups it is in.",
        ),
        EngineError::NotGroupAdmin => ApiError::new(
            ErrorCode::NotGroupAdmin,
            "Only the group's admins can do this, and this session's number is not one.",
        ),
        EngineError::Refused(why) => ApiError::invalid(why),
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
