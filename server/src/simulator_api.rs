//! The simulator's control API (contract §8): tests and demos play the phone's side. Mounted
//! only when the server runs `--engine simulator`. A session's calls take its owner's cookie or
//! key, or an admin's; `/simulator/unregistered` applies to every session and is admin-only.

use crate::{
    auth::extract::Caller,
    engine::{
        AnswerVia, EngineError,
        simulator::{SentRecord, SimError, SimMessage, Simulator},
    },
    error::{ApiError, ApiResult},
    json::Json,
    openapi::{
        BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized,
        Unavailable,
    },
    phone::{self, Chat},
    sessions::store,
    state::AppState,
};
use app::model::{Done, ErrorCode, SessionId};
use axum::{
    Router,
    extract::{Path, State},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/simulator/sessions/{id}/scan", post(scan))
        .route("/simulator/sessions/{id}/enter-code", post(enter_code))
        .route(
            "/simulator/sessions/{id}/incoming",
            // A file comes as base64: up to --max-media-bytes of it.
            post(incoming).route_layer(axum::extract::DefaultBodyLimit::max(
                crate::media::max_request_bytes(&state.config),
            )),
        )
        .route("/simulator/sessions/{id}/button-reply", post(button_reply))
        .route("/simulator/sessions/{id}/list-reply", post(list_reply))
        .route("/simulator/sessions/{id}/poll-vote", post(poll_vote))
        .route("/simulator/sessions/{id}/reaction", post(reaction))
        .route("/simulator/sessions/{id}/edit", post(edit))
        .route("/simulator/sessions/{id}/revoke", post(revoke))
        .route("/simulator/sessions/{id}/receipt", post(receipt))
        .route("/simulator/sessions/{id}/disconnect", post(disconnect))
        .route("/simulator/sessions/{id}/logout", post(logout))
        .route("/simulator/sessions/{id}/sent", get(sent))
        .route("/simulator/unregistered", post(unregistered))
        .route("/simulator/sessions/{id}/groups", post(add_group))
        .route(
            "/simulator/sessions/{id}/groups/{gid}/participants",
            post(group_participants),
        )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Scan {
    phone_number: String,
    #[serde(default)]
    push_name: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Incoming {
    /// The author: a contact's number (or, with `participant`, a group's JID).
    from: String,
    /// A group the session is in: the message is written there by `from` (contract §12).
    #[serde(default)]
    chat: Option<String>,
    /// The text, or a file's caption (may be empty with `media`).
    #[serde(default)]
    message: String,
    #[serde(default)]
    push_name: Option<String>,
    #[serde(default)]
    quoted_message_id: Option<String>,
    /// For a group `from`: who wrote it.
    #[serde(default)]
    participant: Option<String>,
    /// Typed on the linked phone itself (to `from`): reported as `message.out`, source `device`.
    #[serde(default)]
    from_me: bool,
    /// A file the contact sends (an image, a document, …); `message` is its caption.
    #[serde(default)]
    media: Option<IncomingMedia>,
    /// A place the contact shares.
    #[serde(default)]
    location: Option<app::model::Location>,
    /// Contact cards the contact shares.
    #[serde(default)]
    contacts: Option<Vec<app::model::ContactCard>>,
    /// A poll the contact creates.
    #[serde(default)]
    poll: Option<app::model::PollInfo>,
}

/// A file in a simulated message: its bytes as base64, and what the phone says about it. For
/// example a 1×1 PNG: `{"base64": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4//8/AwAI/AL+p5qgoAAAAABJRU5ErkJggg=="}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct IncomingMedia {
    /// The file, base64 (standard alphabet; a `data:` URL works too).
    base64: String,
    /// `image`, `video`, `audio`, `document` or `sticker`; read from the bytes when absent.
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    mimetype: Option<String>,
    #[serde(default)]
    filename: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ButtonReply {
    from: String,
    /// In a group: its JID (`from` is then the member who answers).
    #[serde(default)]
    chat: Option<String>,
    message_id: String,
    button_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ListReply {
    from: String,
    /// In a group: its JID (`from` is then the member who answers).
    #[serde(default)]
    chat: Option<String>,
    message_id: String,
    row_id: String,
}

/// A vote in a poll (the interactive `poll` fallback): the chosen option's name, or several.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PollVote {
    from: String,
    /// In a group: its JID (`from` is then the member who answers).
    #[serde(default)]
    chat: Option<String>,
    message_id: String,
    #[serde(default)]
    option: Option<String>,
    #[serde(default)]
    options: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Created {
    message_id: String,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reason {
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Numbers {
    numbers: Vec<String>,
}

/// The simulator and the session `id`, after checking the caller may play its phone.
async fn target(
    state: &AppState,
    caller: &Caller,
    id: String,
) -> ApiResult<(Simulator, SessionId)> {
    let sim = state
        .simulator
        .clone()
        .ok_or_else(|| ApiError::not_found("The simulator is not running."))?;
    let id = SessionId(id);
    store::may_use(state, caller, &id).await?;
    Ok((sim, id))
}

fn sim_error(e: SimError) -> ApiError {
    match e {
        SimError::NoSession => crate::sessions::not_found(),
        SimError::NotPairing | SimError::NotConnected => {
            ApiError::new(ErrorCode::SessionNotConnected, e.to_string())
        }
        SimError::WrongCode => ApiError::invalid(e.to_string()),
        SimError::GroupNotFound => crate::outbound::engine_error(EngineError::GroupNotFound),
        SimError::NotStored => ApiError::new(ErrorCode::ServiceUnavailable, e.to_string()),
        SimError::Other(e) => ApiError::Internal(e),
    }
}

fn number(state: &AppState, s: &str, field: &'static str) -> ApiResult<Chat> {
    phone::normalize(s, state.config.default_country_code.as_deref())
        .map_err(|e| ApiError::new(ErrorCode::InvalidPhone, e.in_field(field)))
}

/// The phone scans the session's QR code: the session links as `phoneNumber` and turns
/// `connected`.
#[utoipa::path(
    post, path = "/simulator/sessions/{id}/scan", operation_id = "simulatorScan", tag = "simulator",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = Scan, example = json!({"phoneNumber": "6281234567890", "pushName": "User Name"})),
    responses(
        (status = 200, description = "Done.", body = Done, example = json!({"success": true})),
        (status = 409, response = Conflict),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn scan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Scan>,
) -> ApiResult<Json<Done>> {
    let (sim, id) = target(&state, &caller, id).await?;
    let Chat::User(phone) = number(&state, &body.phone_number, "phoneNumber")? else {
        return Err(ApiError::new(
            ErrorCode::InvalidPhone,
            "phoneNumber: a person's number, not a group.",
        ));
    };
    let push = body.push_name.unwrap_or_else(|| phone.clone());
    sim.scan(&id, &phone, &push).map_err(sim_error)?;
    Ok(Json(Done::OK))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct EnterCode {
    code: String,
    #[serde(default)]
    push_name: Option<String>,
}

/// The phone types the pairing code from `POST /api/sessions/{id}/pair-code`: the session
/// links as that number (a wrong code: 400).
#[utoipa::path(
    post, path = "/simulator/sessions/{id}/enter-code", operation_id = "simulatorEnterCode", tag = "simulator",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = EnterCode, example = json!({"code": "ABCD-EFGH", "pushName": "User Name"})),
    responses(
        (status = 200, description = "Done.", body = Done, example = json!({"success": true})),
        (status = 409, response = Conflict),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn enter_code(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<EnterCode>,
) -> ApiResult<Json<Done>> {
    let (sim, id) = target(&state, &caller, id).await?;
    sim.enter_code(&id, &body.code, body.push_name.as_deref())
        .map_err(sim_error)?;
    Ok(Json(Done::OK))
}

/// A contact writes to the session (`participant` for a group `from`; `fromMe`: typed on the
/// linked phone itself, reported as `message.out` with source `device`).
#[utoipa::path(
    post, path = "/simulator/sessions/{id}/incoming", operation_id = "simulatorIncoming", tag = "simulator",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = Incoming, example = json!({"from": "6281234567890", "message": "Harga?", "pushName": "Siti"})),
    responses(
        (status = 200, description = "Done.", body = Created, example = json!({"messageId": "3EB0C0FFEE1234567890"})),
        (status = 409, response = Conflict),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn incoming(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Incoming>,
) -> ApiResult<Json<Created>> {
    let (sim, id) = target(&state, &caller, id).await?;
    let (from, sender) = author(
        &state,
        &body.from,
        body.chat.as_deref(),
        body.participant.as_deref(),
    )?;
    let details = app::model::Details {
        location: body.location,
        contacts: body.contacts,
        poll: body.poll,
    };
    let parts = [
        body.media.is_some(),
        details.location.is_some(),
        details.contacts.is_some(),
        details.poll.is_some(),
    ];
    if parts.iter().filter(|p| **p).count() > 1 {
        return Err(ApiError::invalid(
            "One message carries one of `media`, `location`, `contacts` or `poll`.",
        ));
    }
    if !parts.contains(&true) && body.message.trim().is_empty() {
        return Err(ApiError::invalid(
            "message: the text is empty (or send `media`, `location`, `contacts` or `poll`).",
        ));
    }
    let media = match body.media {
        None => None,
        Some(m) => {
            let declared = crate::media::Declared {
                kind: m.kind,
                mimetype: m.mimetype,
                filename: m.filename,
            };
            let stored = crate::media::from_base64(&state, &m.base64, declared).await?;
            Some((crate::media::received_kind(stored.kind), stored.meta))
        }
    };
    // What the phone shows as the message's text, as WhatsApp's own messages carry it.
    let text = match (&details.location, &details.contacts, &details.poll) {
        (Some(l), ..) => l.name.clone().unwrap_or_default(),
        (_, Some(c), _) => c.first().map(|c| c.name.clone()).unwrap_or_default(),
        (.., Some(p)) => p.question.clone(),
        _ => body.message,
    };
    let msg = SimMessage {
        push_name: body.push_name,
        quoted_id: body.quoted_message_id,
        from_me: body.from_me,
        media,
        details: (!details.is_empty()).then_some(details),
        ..SimMessage::text(from, sender, text)
    };
    let message_id = sim
        .incoming(&id, msg)
        .await
        .map_err(sim_error)?
        .stored()
        .await
        .map_err(sim_error)?;
    Ok(Json(Created { message_id }))
}

/// A contact taps a button of an interactive message the session sent.
#[utoipa::path(
    post, path = "/simulator/sessions/{id}/button-reply", operation_id = "simulatorButtonReply", tag = "simulator",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = ButtonReply, example = json!({"from": "6281234567890", "messageId": "ABC456DEF", "buttonId": "btn_1"})),
    responses(
        (status = 200, description = "Done.", body = Created, example = json!({"messageId": "3EB0C0FFEE1234567890"})),
        (status = 409, response = Conflict),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn button_reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ButtonReply>,
) -> ApiResult<Json<Created>> {
    let (sim, id) = target(&state, &caller, id).await?;
    let (chat, from) = author(&state, &body.from, body.chat.as_deref(), None)?;
    let message_id = sim
        .answer(
            &id,
            chat,
            &from,
            &body.message_id,
            &body.button_id,
            AnswerVia::Button,
        )
        .await
        .map_err(sim_error)?
        .stored()
        .await
        .map_err(sim_error)?;
    Ok(Json(Created { message_id }))
}

/// A contact picks a row of a list message the session sent.
#[utoipa::path(
    post, path = "/simulator/sessions/{id}/list-reply", operation_id = "simulatorListReply", tag = "simulator",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = ListReply, example = json!({"from": "6281234567890", "messageId": "ABC456DEF", "rowId": "service_1"})),
    responses(
        (status = 200, description = "Done.", body = Created, example = json!({"messageId": "3EB0C0FFEE1234567890"})),
        (status = 409, response = Conflict),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn list_reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ListReply>,
) -> ApiResult<Json<Created>> {
    let (sim, id) = target(&state, &caller, id).await?;
    let (chat, from) = author(&state, &body.from, body.chat.as_deref(), None)?;
    let message_id = sim
        .answer(
            &id,
            chat,
            &from,
            &body.message_id,
            &body.row_id,
            AnswerVia::ListRow,
        )
        .await
        .map_err(sim_error)?
        .stored()
        .await
        .map_err(sim_error)?;
    Ok(Json(Created { message_id }))
}

/// A contact votes in a poll (the `poll` fallback): `option`, or several in `options`. The
/// vote carries SHA-256 hashes of the option names, as WhatsApp's do.
#[utoipa::path(
    post, path = "/simulator/sessions/{id}/poll-vote", operation_id = "simulatorPollVote", tag = "simulator",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = PollVote, example = json!({"from": "6281234567890", "messageId": "ABC456DEF", "option": "Ya"})),
    responses(
        (status = 200, description = "Done.", body = Created, example = json!({"messageId": "3EB0C0FFEE1234567890"})),
        (status = 409, response = Conflict),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn poll_vote(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<PollVote>,
) -> ApiResult<Json<Created>> {
    let (sim, id) = target(&state, &caller, id).await?;
    let (chat, from) = author(&state, &body.from, body.chat.as_deref(), None)?;
    let options: Vec<String> = body.option.into_iter().chain(body.options).collect();
    let message_id = sim
        .poll_vote(&id, chat, &from, &body.message_id, &options)
        .await
        .map_err(sim_error)?
        .stored()
        .await
        .map_err(sim_error)?;
    Ok(Json(Created { message_id }))
}

/// The link drops (optionally with a `reason`); it comes back after
/// `--simulator-reconnect-ms`. The body may be empty.
#[utoipa::path(
    post, path = "/simulator/sessions/{id}/disconnect", operation_id = "simulatorDisconnect", tag = "simulator",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = Option<Reason>, example = json!({"reason": "connection lost"})),
    responses(
        (status = 200, description = "Disconnected.", body = Done, example = json!({"success": true})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
    )
)]
pub(crate) async fn disconnect(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Done>> {
    let (sim, id) = target(&state, &caller, id).await?;
    // The body is optional here: `{}`, `{"reason": …}`, `null` or nothing at all.
    let body: Reason = if body.iter().all(u8::is_ascii_whitespace) {
        Reason::default()
    } else {
        serde_json::from_slice::<Option<Reason>>(&body)
            .map_err(|e| ApiError::invalid(format!("Invalid request body: {e}")))?
            .unwrap_or_default()
    };
    let reason = body.reason.unwrap_or_else(|| "connection lost".into());
    sim.disconnect(&id, reason).map_err(sim_error)?;
    Ok(Json(Done::OK))
}

/// The device is removed on the phone: the session is logged out and offers a new QR.
#[utoipa::path(
    post, path = "/simulator/sessions/{id}/logout", operation_id = "simulatorLogout", tag = "simulator",
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "Logged out.", body = Done, example = json!({"success": true})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Done>> {
    let (sim, id) = target(&state, &caller, id).await?;
    sim.logout(&id).map_err(sim_error)?;
    Ok(Json(Done::OK))
}

/// What the session has sent, oldest first: what the phones received.
#[utoipa::path(
    get, path = "/simulator/sessions/{id}/sent", operation_id = "simulatorSent", tag = "simulator",
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "The sent messages.", body = Vec<SentRecord>,
            example = json!([{"messageId": "ABC123XYZ", "to": "6281234567890", "type": "text", "message": "Halo dari API!", "quotedMessageId": null, "timestamp": 1735460000000_i64}])),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn sent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<SentRecord>>> {
    let (sim, id) = target(&state, &caller, id).await?;
    Ok(Json(sim.sent(&id).map_err(sim_error)?))
}

/// Mark numbers as not on WhatsApp, for every session: sends to them answer
/// `404 CONTACT_NOT_FOUND` (admins only).
#[utoipa::path(
    post, path = "/simulator/unregistered", operation_id = "simulatorUnregistered", tag = "simulator",
    request_body(content = Numbers, example = json!({"numbers": ["6289999999999"]})),
    responses(
        (status = 200, description = "Done.", body = Done, example = json!({"success": true})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn unregistered(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Numbers>,
) -> ApiResult<Json<Done>> {
    caller.require_admin()?;
    let sim = state
        .simulator
        .clone()
        .ok_or_else(|| ApiError::not_found("The simulator is not running."))?;
    let mut digits = Vec::with_capacity(body.numbers.len());
    for n in &body.numbers {
        match number(&state, n, "numbers")? {
            Chat::User(d) => digits.push(d),
            Chat::Group(_) => {
                return Err(ApiError::invalid("numbers: people's numbers, not groups."));
            }
        }
    }
    sim.set_unregistered(digits);
    Ok(Json(Done::OK))
}

/// A contact's reaction to a message of the chat (`emoji` `""`: taken back).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Reaction {
    from: String,
    /// In a group: its JID (`from` is then the member).
    #[serde(default)]
    chat: Option<String>,
    message_id: String,
    emoji: String,
    /// For a group `from`: who reacted.
    #[serde(default)]
    participant: Option<String>,
}

/// A contact edits one of their own messages.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Edit {
    from: String,
    /// In a group: its JID (`from` is then the member).
    #[serde(default)]
    chat: Option<String>,
    message_id: String,
    message: String,
    #[serde(default)]
    participant: Option<String>,
}

/// A contact deletes one of their own messages for everyone.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Revoke {
    from: String,
    /// In a group: its JID (`from` is then the member).
    #[serde(default)]
    chat: Option<String>,
    message_id: String,
    #[serde(default)]
    participant: Option<String>,
}

/// The contact's phone reports messages the session sent as delivered, read or played.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Receipt {
    message_ids: Vec<String>,
    /// `delivered`, `read` or `played`.
    status: String,
}

/// The chat and the author of a contact's message: `from` a person, in `chat` when it is a
/// group (contract §12); or, as before `chat`, `from` a group and `participant` its author.
fn author(
    state: &AppState,
    from: &str,
    chat: Option<&str>,
    participant: Option<&str>,
) -> ApiResult<(Chat, String)> {
    let person = |s: &str, field: &str| crate::outbound::person(state, s, field);
    if let Some(c) = chat {
        return match number(state, c, "chat")? {
            Chat::Group(g) => Ok((Chat::Group(g), person(from, "from")?)),
            Chat::User(d) => {
                let sender = person(from, "from")?;
                if d != sender {
                    return Err(ApiError::invalid(
                        "chat: a group's JID (…@g.us); in a one-to-one chat leave it out.",
                    ));
                }
                Ok((Chat::User(d), sender))
            }
        };
    }
    let chat = number(state, from, "from")?;
    let sender = match (&chat, participant) {
        (Chat::User(d), _) => d.clone(),
        (Chat::Group(_), Some(p)) => person(p, "participant")?,
        (Chat::Group(_), None) => {
            return Err(ApiError::invalid(
                "chat: a group message names the group in `chat` and its author in `from`.",
            ));
        }
    };
    Ok((chat, sender))
}

async fn change(
    state: &AppState,
    caller: &Caller,
    id: String,
    (from, chat, participant): (&str, Option<&str>, Option<&str>),
    change: crate::engine::Change,
) -> ApiResult<Json<Created>> {
    let (sim, id) = target(state, caller, id).await?;
    let (chat, sender) = author(state, from, chat, participant)?;
    if change.target().trim().is_empty() {
        return Err(ApiError::invalid("messageId: empty."));
    }
    let text = match &change {
        crate::engine::Change::Reaction { emoji, .. } => emoji.clone(),
        crate::engine::Change::Edited { text, .. } => text.clone(),
        crate::engine::Change::Revoked { .. } => String::new(),
    };
    let msg = SimMessage {
        quoted_id: Some(change.target().to_string()),
        change: Some(change),
        ..SimMessage::text(chat, sender, text)
    };
    let message_id = sim
        .incoming(&id, msg)
        .await
        .map_err(sim_error)?
        .stored()
        .await
        .map_err(sim_error)?;
    Ok(Json(Created { message_id }))
}

/// A contact reacts to a message of the chat: `message.reaction`.
#[utoipa::path(
    post, path = "/simulator/sessions/{id}/reaction", operation_id = "simulatorReaction", tag = "simulator",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = Reaction, example = json!({"from": "6281234567890", "messageId": "3EB0ABCDEF0123456789", "emoji": "👍"})),
    responses(
        (status = 200, description = "Stored.", body = Created, example = json!({"messageId": "3EB0C0FFEE1234567890"})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn reaction(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<Reaction>,
) -> ApiResult<Json<Created>> {
    let c = crate::engine::Change::Reaction {
        target: b.message_id,
        emoji: b.emoji,
    };
    change(
        &state,
        &caller,
        id,
        (&b.from, b.chat.as_deref(), b.participant.as_deref()),
        c,
    )
    .await
}

/// A contact edits one of their messages: `message.edited`.
#[utoipa::path(
    post, path = "/simulator/sessions/{id}/edit", operation_id = "simulatorEdit", tag = "simulator",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = Edit, example = json!({"from": "6281234567890", "messageId": "3EB0C0FFEE000001", "message": "Halo, besok masih buka?"})),
    responses(
        (status = 200, description = "Stored.", body = Created, example = json!({"messageId": "3EB0C0FFEE1234567890"})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<Edit>,
) -> ApiResult<Json<Created>> {
    if b.message.trim().is_empty() {
        return Err(ApiError::invalid("message: the new text is empty."));
    }
    let c = crate::engine::Change::Edited {
        target: b.message_id,
        text: b.message,
    };
    change(
        &state,
        &caller,
        id,
        (&b.from, b.chat.as_deref(), b.participant.as_deref()),
        c,
    )
    .await
}

/// A contact deletes one of their messages for everyone: `message.revoked`.
#[utoipa::path(
    post, path = "/simulator/sessions/{id}/revoke", operation_id = "simulatorRevoke", tag = "simulator",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = Revoke, example = json!({"from": "6281234567890", "messageId": "3EB0C0FFEE000001"})),
    responses(
        (status = 200, description = "Stored.", body = Created, example = json!({"messageId": "3EB0C0FFEE1234567890"})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<Revoke>,
) -> ApiResult<Json<Created>> {
    let c = crate::engine::Change::Revoked {
        target: b.message_id,
    };
    change(
        &state,
        &caller,
        id,
        (&b.from, b.chat.as_deref(), b.participant.as_deref()),
        c,
    )
    .await
}

/// The recipient's phone reports messages the session sent as `delivered`, `read` or `played`:
/// the record's status moves on, and `message.status` goes out for each that changed.
#[utoipa::path(
    post, path = "/simulator/sessions/{id}/receipt", operation_id = "simulatorReceipt", tag = "simulator",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = Receipt, example = json!({"messageIds": ["3EB0ABCDEF0123456789"], "status": "read"})),
    responses(
        (status = 200, description = "Reported.", body = Done, example = json!({"success": true})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn receipt(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<Receipt>,
) -> ApiResult<Json<Done>> {
    let (sim, id) = target(&state, &caller, id).await?;
    let status = match b.status.as_str() {
        "delivered" => "delivered",
        "read" => "read",
        "played" => "played",
        _ => {
            return Err(ApiError::invalid(
                "status: `delivered`, `read` or `played`.",
            ));
        }
    };
    if b.message_ids.is_empty() || b.message_ids.iter().any(|m| m.trim().is_empty()) {
        return Err(ApiError::invalid("messageIds: one or more ids."));
    }
    sim.receipt(&id, b.message_ids, status).map_err(sim_error)?;
    Ok(Json(Done::OK))
}

/// A group someone else made, with the session's number in it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SimGroupRequest {
    subject: String,
    /// Its members besides the session (the first is its creator); may be empty.
    #[serde(default)]
    participants: Vec<String>,
    /// Whether the session's number is one of its admins (default: a plain member).
    #[serde(default)]
    admin: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct GroupCreated {
    /// The group's JID.
    id: String,
}

/// The session's number is in a group someone else made (the first participant is its
/// creator): it appears in `GET /api/sessions/{id}/groups`, and its members can write there.
#[utoipa::path(
    post, path = "/simulator/sessions/{id}/groups", operation_id = "simulatorAddGroup", tag = "simulator",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = SimGroupRequest, example = json!({"subject": "Pesanan", "participants": ["6281111111111", "6282222222222"]})),
    responses(
        (status = 200, description = "The group's JID.", body = GroupCreated, example = json!({"id": "120363025246125486@g.us"})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn add_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<SimGroupRequest>,
) -> ApiResult<Json<GroupCreated>> {
    let (sim, id) = target(&state, &caller, id).await?;
    let subject = crate::groups::subject(&body.subject)?;
    let participants = crate::outbound::people(&state, &body.participants, "participants")?;
    let gid = sim
        .add_group(&id, &subject, &participants, body.admin)
        .map_err(sim_error)?;
    Ok(Json(GroupCreated { id: gid }))
}

/// Members change on the phones' side.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SimParticipants {
    /// `add`, `remove`, `promote`, `demote`, `leave` or `join`.
    action: String,
    participants: Vec<String>,
    /// Who made the change (for `leave` and `join`: the participants themselves).
    #[serde(default)]
    by: Option<String>,
}

/// Members of a group the session is in change on the phones' side: reported as
/// `group.participants` (stored before the answer, like a message). Removing the session's own
/// number takes it out of the group.
#[utoipa::path(
    post, path = "/simulator/sessions/{id}/groups/{gid}/participants", operation_id = "simulatorGroupParticipants", tag = "simulator",
    params(
        ("id" = String, Path, description = "The session's id."),
        ("gid" = String, Path, description = "The group's JID."),
    ),
    request_body(content = SimParticipants, example = json!({"action": "add", "participants": ["6283333333333"], "by": "6281111111111"})),
    responses(
        (status = 200, description = "Stored.", body = Done, example = json!({"success": true})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn group_participants(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, gid)): Path<(String, String)>,
    Json(body): Json<SimParticipants>,
) -> ApiResult<Json<Done>> {
    let (sim, id) = target(&state, &caller, id).await?;
    let action = match body.action.as_str() {
        "add" => "add",
        "remove" => "remove",
        "promote" => "promote",
        "demote" => "demote",
        "leave" => "leave",
        "join" => "join",
        _ => {
            return Err(ApiError::invalid(
                "action: one of add, remove, promote, demote, leave, join.",
            ));
        }
    };
    if body.participants.is_empty() {
        return Err(ApiError::invalid("participants: at least one number."));
    }
    let participants = crate::outbound::people(&state, &body.participants, "participants")?;
    let by = match &body.by {
        Some(b) => Some(crate::outbound::person(&state, b, "by")?),
        None if matches!(action, "leave" | "join") => participants.first().cloned(),
        None => None,
    };
    sim.change_participants(&id, &gid, action, &participants, by)
        .await
        .map_err(sim_error)?;
    Ok(Json(Done::OK))
}
