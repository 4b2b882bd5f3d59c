//! The sends and actions of contract §11 beyond files (`/send-media` is beside the original's
//! sends in `super`): locations, contact cards, polls, reactions, edits, deletes, presence,
//! read receipts and number checks. Handlers only: the work is `crate::outbound` (messages)
//! and `crate::actions` (everything else).

use crate::{
    actions,
    error::ApiResult,
    json::Json,
    openapi::{
        BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, RateLimited,
        Unauthorized, Unavailable,
    },
    outbound::{send_contact, send_location, send_poll},
    sessions::resolve::Target,
    state::AppState,
};
use app::model::{
    CheckNumbers, CheckNumbersResponse, DeleteMessage, EditMessage, MarkRead, MarkReadResponse,
    MessageActionResponse, SendContact, SendLocation, SendMediaResponse, SendPoll, SendPresence,
    SendPresenceResponse, SendReaction,
};
use axum::{Router, extract::State, routing::post};

pub fn router(state: &AppState) -> Router<AppState> {
    let idempotent = axum::middleware::from_fn_with_state(state.clone(), crate::idempotency::guard);
    Router::new()
        .route(
            "/send-location",
            post(send_location_handler).route_layer(idempotent.clone()),
        )
        .route(
            "/send-contact",
            post(send_contact_handler).route_layer(idempotent.clone()),
        )
        .route(
            "/send-poll",
            post(send_poll_handler).route_layer(idempotent.clone()),
        )
        .route(
            "/send-reaction",
            post(send_reaction_handler).route_layer(idempotent.clone()),
        )
        .route(
            "/edit-message",
            post(edit_message_handler).route_layer(idempotent.clone()),
        )
        .route(
            "/delete-message",
            post(delete_message_handler).route_layer(idempotent),
        )
        .route("/send-presence", post(send_presence_handler))
        .route("/mark-read", post(mark_read_handler))
        .route("/check-numbers", post(check_numbers_handler))
}

/// Send a place on the map, with an optional name and address shown under it.
#[utoipa::path(
    post, path = "/send-location", operation_id = "sendLocation", tag = "messages",
    params(
        ("session" = Option<String>, Query, description = "The session to act on (else `X-Session-Id`, the API key's session, or your only one)."),
        ("X-Session-Id" = Option<String>, Header, nullable = false, description = "The session to act on, as a header."),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Any unique string (a UUID): a retry with the same key and body within 24 h answers the first answer again and does nothing; with another body, `409 IDEMPOTENCY_CONFLICT`."),
    ),
    request_body(content = SendLocation, examples(
        ("shop" = (summary = "Where the shop is", value = json!({"to": "6281234567890", "latitude": -6.2, "longitude": 106.816666, "name": "Toko Kopi Gayo", "address": "Jl. Sabang No. 12, Jakarta Pusat"}))),
    )),
    responses(
        (status = 200, description = "Done.", body = SendMediaResponse,
            example = json!({"success": true, "messageId": "3EB0C431C26A1916A5A5B4", "to": "6281234567890", "type": "location", "timestamp": 1795517748611_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn send_location_handler(
    State(state): State<AppState>,
    target: Target,
    Json(req): Json<SendLocation>,
) -> ApiResult<Json<SendMediaResponse>> {
    let done = send_location(&state, &target.session, req).await;
    state.metrics.send("send-location", &done);
    Ok(Json(done?))
}
/// Send one or more contact cards (up to 10); the server builds the vCards.
#[utoipa::path(
    post, path = "/send-contact", operation_id = "sendContact", tag = "messages",
    params(
        ("session" = Option<String>, Query, description = "The session to act on (else `X-Session-Id`, the API key's session, or your only one)."),
        ("X-Session-Id" = Option<String>, Header, nullable = false, description = "The session to act on, as a header."),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Any unique string (a UUID): a retry with the same key and body within 24 h answers the first answer again and does nothing; with another body, `409 IDEMPOTENCY_CONFLICT`."),
    ),
    request_body(content = SendContact, examples(
        ("cs" = (summary = "The customer service number", value = json!({"to": "6281234567890", "contacts": [{"name": "CS Toko Kopi", "phoneNumber": "6281298765432"}]}))),
    )),
    responses(
        (status = 200, description = "Done.", body = SendMediaResponse,
            example = json!({"success": true, "messageId": "3EB0C431C26A1916A5A5B5", "to": "6281234567890", "type": "contact", "timestamp": 1795517748611_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn send_contact_handler(
    State(state): State<AppState>,
    target: Target,
    Json(req): Json<SendContact>,
) -> ApiResult<Json<SendMediaResponse>> {
    let done = send_contact(&state, &target.session, req).await;
    state.metrics.send("send-contact", &done);
    Ok(Json(done?))
}
/// Send a poll of 2 to 12 distinct options (one choice, or several with `multipleAnswers`);
/// votes arrive as `poll.vote` webhooks.
#[utoipa::path(
    post, path = "/send-poll", operation_id = "sendPoll", tag = "messages",
    params(
        ("session" = Option<String>, Query, description = "The session to act on (else `X-Session-Id`, the API key's session, or your only one)."),
        ("X-Session-Id" = Option<String>, Header, nullable = false, description = "The session to act on, as a header."),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Any unique string (a UUID): a retry with the same key and body within 24 h answers the first answer again and does nothing; with another body, `409 IDEMPOTENCY_CONFLICT`."),
    ),
    request_body(content = SendPoll, examples(
        ("delivery" = (summary = "When to deliver", value = json!({"to": "6281234567890", "question": "Kapan pesanan diantar?", "options": ["Pagi", "Siang", "Sore"]}))),
        ("multiple" = (summary = "Several answers", value = json!({"to": "6281234567890", "question": "Rasa favorit?", "options": ["Gayo", "Toraja", "Kintamani"], "multipleAnswers": true}))),
    )),
    responses(
        (status = 200, description = "Done.", body = SendMediaResponse,
            example = json!({"success": true, "messageId": "3EB0C431C26A1916A5A5B6", "to": "6281234567890", "type": "poll", "timestamp": 1795517748611_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn send_poll_handler(
    State(state): State<AppState>,
    target: Target,
    Json(req): Json<SendPoll>,
) -> ApiResult<Json<SendMediaResponse>> {
    let done = send_poll(&state, &target.session, req).await;
    state.metrics.send("send-poll", &done);
    Ok(Json(done?))
}
/// React with an emoji to a message of the session's chats (sent or received); `""` takes
/// the reaction back.
#[utoipa::path(
    post, path = "/send-reaction", operation_id = "sendReaction", tag = "messages",
    params(
        ("session" = Option<String>, Query, description = "The session to act on (else `X-Session-Id`, the API key's session, or your only one)."),
        ("X-Session-Id" = Option<String>, Header, nullable = false, description = "The session to act on, as a header."),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Any unique string (a UUID): a retry with the same key and body within 24 h answers the first answer again and does nothing; with another body, `409 IDEMPOTENCY_CONFLICT`."),
    ),
    request_body(content = SendReaction, examples(
        ("thumbs_up" = (summary = "A thumbs up", value = json!({"messageId": "3EB0C431C26A1916A5A5B4", "emoji": "👍"}))),
        ("remove" = (summary = "Take it back", value = json!({"messageId": "3EB0C431C26A1916A5A5B4", "emoji": ""}))),
    )),
    responses(
        (status = 200, description = "Done.", body = MessageActionResponse,
            example = json!({"success": true, "messageId": "3EB0C431C26A1916A5A5B4", "to": "6281234567890", "type": "reaction", "timestamp": 1795517748611_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn send_reaction_handler(
    State(state): State<AppState>,
    target: Target,
    Json(req): Json<SendReaction>,
) -> ApiResult<Json<MessageActionResponse>> {
    let done = actions::react(&state, &target.session, req).await;
    state.metrics.send("send-reaction", &done);
    Ok(Json(done?))
}
/// Replace the text of one of the session's own text messages, within WhatsApp's 15 minutes;
/// later, `409 NOT_EDITABLE`.
#[utoipa::path(
    post, path = "/edit-message", operation_id = "editMessage", tag = "messages",
    params(
        ("session" = Option<String>, Query, description = "The session to act on (else `X-Session-Id`, the API key's session, or your only one)."),
        ("X-Session-Id" = Option<String>, Header, nullable = false, description = "The session to act on, as a header."),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Any unique string (a UUID): a retry with the same key and body within 24 h answers the first answer again and does nothing; with another body, `409 IDEMPOTENCY_CONFLICT`."),
    ),
    request_body(content = EditMessage, example = json!({"messageId": "3EB0C431C26A1916A5A5B4", "message": "Pesanan Anda dikirim besok pagi."})),
    responses(
        (status = 200, description = "Done.", body = MessageActionResponse,
            example = json!({"success": true, "messageId": "3EB0C431C26A1916A5A5B4", "to": "6281234567890", "type": "edit", "timestamp": 1795517748611_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn edit_message_handler(
    State(state): State<AppState>,
    target: Target,
    Json(req): Json<EditMessage>,
) -> ApiResult<Json<MessageActionResponse>> {
    let done = actions::edit(&state, &target.session, req).await;
    state.metrics.send("edit-message", &done);
    Ok(Json(done?))
}
/// Delete one of the session's own messages for everyone (WhatsApp allows about two days).
/// The chat shows "This message was deleted"; the record keeps it with `revokedAt`.
#[utoipa::path(
    post, path = "/delete-message", operation_id = "deleteMessage", tag = "messages",
    params(
        ("session" = Option<String>, Query, description = "The session to act on (else `X-Session-Id`, the API key's session, or your only one)."),
        ("X-Session-Id" = Option<String>, Header, nullable = false, description = "The session to act on, as a header."),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Any unique string (a UUID): a retry with the same key and body within 24 h answers the first answer again and does nothing; with another body, `409 IDEMPOTENCY_CONFLICT`."),
    ),
    request_body(content = DeleteMessage, example = json!({"messageId": "3EB0C431C26A1916A5A5B4"})),
    responses(
        (status = 200, description = "Done.", body = MessageActionResponse,
            example = json!({"success": true, "messageId": "3EB0C431C26A1916A5A5B4", "to": "6281234567890", "type": "delete", "timestamp": 1795517748611_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn delete_message_handler(
    State(state): State<AppState>,
    target: Target,
    Json(req): Json<DeleteMessage>,
) -> ApiResult<Json<MessageActionResponse>> {
    let done = actions::delete(&state, &target.session, req).await;
    state.metrics.send("delete-message", &done);
    Ok(Json(done?))
}
/// Show the chat that the session is typing (`composing`), recording audio (`recording`), or
/// has stopped (`paused`). WhatsApp clears it after a while, or when a message arrives.
#[utoipa::path(
    post, path = "/send-presence", operation_id = "sendPresence", tag = "messages",
    params(
        ("session" = Option<String>, Query, description = "The session to act on (else `X-Session-Id`, the API key's session, or your only one)."),
        ("X-Session-Id" = Option<String>, Header, nullable = false, description = "The session to act on, as a header."),
    ),
    request_body(content = SendPresence, example = json!({"to": "6281234567890", "state": "composing"})),
    responses(
        (status = 200, description = "Done.", body = SendPresenceResponse,
            example = json!({"success": true, "to": "6281234567890", "state": "composing"})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn send_presence_handler(
    State(state): State<AppState>,
    target: Target,
    Json(req): Json<SendPresence>,
) -> ApiResult<Json<SendPresenceResponse>> {
    let done = actions::presence(&state, &target.session, req).await;
    state.metrics.send("send-presence", &done);
    Ok(Json(done?))
}
/// Mark received messages of one chat as read: the contact sees blue ticks.
#[utoipa::path(
    post, path = "/mark-read", operation_id = "markRead", tag = "messages",
    params(
        ("session" = Option<String>, Query, description = "The session to act on (else `X-Session-Id`, the API key's session, or your only one)."),
        ("X-Session-Id" = Option<String>, Header, nullable = false, description = "The session to act on, as a header."),
    ),
    request_body(content = MarkRead, example = json!({"messageIds": ["3EB0A1B2C3D4E5F6A7B8C9", "3EB0D4E5F6A7B8C9A1B2C3"]})),
    responses(
        (status = 200, description = "Done.", body = MarkReadResponse,
            example = json!({"success": true, "chat": "6281234567890", "messageIds": ["3EB0A1B2C3D4E5F6A7B8C9", "3EB0D4E5F6A7B8C9A1B2C3"]})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn mark_read_handler(
    State(state): State<AppState>,
    target: Target,
    Json(req): Json<MarkRead>,
) -> ApiResult<Json<MarkReadResponse>> {
    let done = actions::mark_read(&state, &target.session, req).await;
    state.metrics.send("mark-read", &done);
    Ok(Json(done?))
}
/// Which numbers have WhatsApp, up to 50 at a time, in the order asked. A number that is not
/// one answers `phoneNumber: null`. Counts once against the session's send rate: WhatsApp bans
/// accounts that check many numbers.
#[utoipa::path(
    post, path = "/check-numbers", operation_id = "checkNumbers", tag = "messages",
    params(
        ("session" = Option<String>, Query, description = "The session to act on (else `X-Session-Id`, the API key's session, or your only one)."),
        ("X-Session-Id" = Option<String>, Header, nullable = false, description = "The session to act on, as a header."),
    ),
    request_body(content = CheckNumbers, example = json!({"numbers": ["081234567890", "+62 812-9876-5432"]})),
    responses(
        (status = 200, description = "Done.", body = CheckNumbersResponse,
            example = json!({"success": true, "results": [{"input": "081234567890", "phoneNumber": "6281234567890", "exists": true}, {"input": "+62 812-9876-5432", "phoneNumber": "6281298765432", "exists": false}]})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn check_numbers_handler(
    State(state): State<AppState>,
    target: Target,
    Json(req): Json<CheckNumbers>,
) -> ApiResult<Json<CheckNumbersResponse>> {
    let done = actions::check_numbers(&state, &target.session, req).await;
    state.metrics.send("check-numbers", &done);
    Ok(Json(done?))
}
