//! The original product's REST API, paths exactly as it names them (contract §4):
//! `GET /status`, `POST /send-message` and `POST /send-interactive`. Handlers only: what a send
//! does is `crate::outbound`, which the dashboard and auto-reply use too.

use crate::{
    error::{ApiError, ApiResult},
    json::{Json, MediaJson},
    openapi::{
        BadGateway, BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge,
        RateLimited, Unauthorized, Unavailable,
    },
    outbound::{MediaRequest, send_interactive, send_media, send_text},
    sessions::resolve::Target,
    state::AppState,
};
pub mod rich;

use app::model::{
    SendInteractive, SendInteractiveResponse, SendMedia, SendMediaResponse, SendMessage,
    SendMessageResponse, SessionStatus, StatusResponse,
};
use axum::{
    Router,
    extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State},
    http::header,
    routing::{get, post},
};

pub fn router(state: &AppState) -> Router<AppState> {
    let idempotent = axum::middleware::from_fn_with_state(state.clone(), crate::idempotency::guard);
    Router::new()
        .merge(rich::router(state))
        .route("/status", get(status_handler))
        .route(
            "/send-message",
            post(send_handler).route_layer(idempotent.clone()),
        )
        .route(
            "/send-interactive",
            post(send_interactive_handler).route_layer(idempotent),
        )
        .route(
            "/send-media",
            post(send_media_handler)
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    crate::idempotency::media_guard,
                ))
                .route_layer(DefaultBodyLimit::max(crate::media::max_request_bytes(
                    &state.config,
                ))),
        )
}

/// The session's link state: connected with its number, or waiting for a scan with the QR
/// code as a PNG data URL (it changes as WhatsApp rotates the code).
#[utoipa::path(
    get, path = "/status", operation_id = "getStatus", tag = "messages",
    params(
        ("session" = Option<String>, Query, description = "The session to act on (else `X-Session-Id`, the API key's session, or your only one)."),
        ("X-Session-Id" = Option<String>, Header, nullable = false, description = "The session to act on, as a header."),
    ),
    responses(
        (status = 200, description = "The session's state.", body = StatusResponse, examples(
            ("connected" = (summary = "Connected", value = json!({"isConnected": true, "status": "connected", "phoneNumber": "6281234567890", "pushName": "User Name"}))),
            ("qr_ready" = (summary = "Waiting for a scan", value = json!({"isConnected": false, "status": "qr_ready", "qr": "data:image/png;base64,..."}))),
        )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn status_handler(target: Target) -> Json<StatusResponse> {
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

/// Send a text message (optionally quoting an earlier one) from the session.
#[utoipa::path(
    post, path = "/send-message", operation_id = "sendMessage", tag = "messages",
    params(
        ("session" = Option<String>, Query, description = "The session to act on (else `X-Session-Id`, the API key's session, or your only one)."),
        ("X-Session-Id" = Option<String>, Header, nullable = false, description = "The session to act on, as a header."),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Any unique string (a UUID): a retry with the same key and body within 24 h answers the first answer again and sends nothing; with another body, `409 IDEMPOTENCY_CONFLICT`."),
    ),
    request_body(content = SendMessage, example = json!({"to": "6281234567890", "message": "Halo dari API!", "reply_to_id": "optional_message_id"})),
    responses(
        (status = 200, description = "Sent.", body = SendMessageResponse,
            example = json!({"success": true, "messageId": "ABC123XYZ", "to": "6281234567890", "message": "Halo dari API!"})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn send_handler(
    State(state): State<AppState>,
    target: Target,
    Json(req): Json<SendMessage>,
) -> ApiResult<Json<SendMessageResponse>> {
    let sent = send_text(&state, &target.session, req).await;
    state.metrics.send("send-message", &sent);
    Ok(Json(sent?))
}

/// Send buttons or a list, in the original's native form (`interactiveButtons`) or its simple
/// form (`type` + `buttons` | `buttonText` + `sections`). At most 3 quick-reply buttons.
#[utoipa::path(
    post, path = "/send-interactive", operation_id = "sendInteractive", tag = "messages",
    params(
        ("session" = Option<String>, Query, description = "The session to act on (else `X-Session-Id`, the API key's session, or your only one)."),
        ("X-Session-Id" = Option<String>, Header, nullable = false, description = "The session to act on, as a header."),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Any unique string (a UUID): a retry with the same key and body within 24 h answers the first answer again and sends nothing; with another body, `409 IDEMPOTENCY_CONFLICT`."),
    ),
    request_body(content = SendInteractive, examples(
        ("buttons" = (summary = "Message buttons (native form)", value = json!({
            "to": "6281234567890",
            "text": "Pilih opsi di bawah:",
            "footer": "Silakan pilih salah satu",
            "interactiveButtons": [
                {"name": "quick_reply", "buttonParamsJson": "{\"display_text\":\"Ya\",\"id\":\"btn_1\"}"},
                {"name": "quick_reply", "buttonParamsJson": "{\"display_text\":\"Tidak\",\"id\":\"btn_2\"}"},
                {"name": "quick_reply", "buttonParamsJson": "{\"display_text\":\"Nanti\",\"id\":\"btn_3\"}"}
            ]
        }))),
        ("list" = (summary = "List message (native form)", value = json!({
            "to": "6281234567890",
            "text": "Silakan pilih menu:",
            "title": "Menu Utama",
            "footer": "Pilih dari list di bawah",
            "interactiveButtons": [
                {"name": "single_select", "buttonParamsJson": "{\"title\":\"Lihat Opsi\",\"sections\":[{\"title\":\"Layanan Kami\",\"rows\":[{\"header\":\"Produk\",\"title\":\"Produk\",\"description\":\"Lihat katalog produk kami\",\"id\":\"service_1\"},{\"header\":\"Layanan\",\"title\":\"Layanan\",\"description\":\"Layanan yang kami tawarkan\",\"id\":\"service_2\"}]}]}"}
            ]
        }))),
        ("simple_buttons" = (summary = "Order confirmation (simple form)", value = json!({
            "to": "6281234567890",
            "type": "button",
            "text": "Apakah Anda ingin melanjutkan pesanan?",
            "buttons": [
                {"id": "order_yes", "text": "Ya, Lanjut"},
                {"id": "order_no", "text": "Batalkan"},
                {"id": "order_later", "text": "Nanti Saja"}
            ]
        }))),
        ("simple_list" = (summary = "Customer service menu (simple form)", value = json!({
            "to": "6281234567890",
            "type": "list",
            "text": "Apa yang bisa kami bantu?",
            "title": "Layanan Pelanggan",
            "buttonText": "Pilih Menu",
            "sections": [{
                "title": "Bantuan",
                "rows": [
                    {"id": "help_order", "title": "Cek Pesanan", "description": "Lihat status pesanan terakhir"},
                    {"id": "help_product", "title": "Info Produk", "description": "Tanya tentang produk"},
                    {"id": "help_shipping", "title": "Info Pengiriman", "description": "Cek status pengiriman"},
                    {"id": "help_return", "title": "Pengembalian", "description": "Proses retur barang"}
                ]
            }]
        }))),
    )),
    responses(
        (status = 200, description = "Sent.", body = SendInteractiveResponse,
            example = json!({"success": true, "messageId": "ABC456DEF", "to": "6281234567890", "type": "button", "timestamp": 1735460000000_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn send_interactive_handler(
    State(state): State<AppState>,
    target: Target,
    Json(req): Json<SendInteractive>,
) -> ApiResult<Json<SendInteractiveResponse>> {
    let sent = send_interactive(&state, &target.session, req).await;
    state.metrics.send("send-interactive", &sent);
    Ok(Json(sent?))
}

/// Send a file: an image, video, audio, voice note, document or sticker, as JSON (`url` or
/// `base64`) or as a `multipart/form-data` upload with the file in a `file` part and the same
/// fields as text parts. The kind is read from the file's bytes when `type` is absent.
#[utoipa::path(
    post, path = "/send-media", operation_id = "sendMedia", tag = "messages",
    params(
        ("session" = Option<String>, Query, description = "The session to act on (else `X-Session-Id`, the API key's session, or your only one)."),
        ("X-Session-Id" = Option<String>, Header, nullable = false, description = "The session to act on, as a header."),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Any unique string (a UUID): a retry with the same key and body within 24 h answers the first answer again and sends nothing; with another body, `409 IDEMPOTENCY_CONFLICT`. A multipart body's boundary does not count."),
    ),
    request_body(
        content(
            (SendMedia = "application/json", examples(
                ("url" = (summary = "A product photo from your shop's server", value = json!({"to": "6281234567890", "url": "https://shop.example.com/images/kopi-gayo.jpg", "caption": "Kopi Gayo 250 g — Rp 85.000"}))),
                ("base64" = (summary = "An invoice PDF, as base64", value = json!({"to": "6281234567890", "type": "document", "base64": "JVBERi0xLjcKJeLjz9MK…", "filename": "INV-2026-0042.pdf", "caption": "Invoice bulan ini"}))),
            )),
            (crate::media::SendMediaUpload = "multipart/form-data"),
        ),
    ),
    responses(
        (status = 200, description = "Sent.", body = SendMediaResponse,
            example = json!({"success": true, "messageId": "3EB0C431C26A1916A5A5B4", "to": "6281234567890", "type": "image", "timestamp": 1795517748611_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        (status = 502, response = BadGateway),
        (status = 503, response = Unavailable),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn send_media_handler(
    State(state): State<AppState>,
    target: Target,
    req: Request,
) -> ApiResult<Json<SendMediaResponse>> {
    let sent = send_media_request(&state, &target, req).await;
    state.metrics.send("send-media", &sent);
    Ok(Json(sent?))
}

/// `/send-media` as JSON or multipart: the fields are checked before the file is fetched, the
/// file is stored, then sent like any message (and discarded if the send was refused).
async fn send_media_request(
    state: &AppState,
    target: &Target,
    req: Request,
) -> ApiResult<SendMediaResponse> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    let session = &target.session;
    let (file, fields) = if multipart {
        let upload = Multipart::from_request(req, state)
            .await
            .map_err(|e| ApiError::invalid(format!("Invalid multipart body: {}", e.body_text())))?;
        crate::media::from_multipart(state, upload).await?
    } else {
        let MediaJson(body) = MediaJson::<SendMedia>::from_request(req, state).await?;
        // Cheap checks first: no file is fetched for a message that cannot go.
        crate::outbound::check_recipient(state, session, &body.to)?;
        let file = crate::media::from_json(state, session.id.as_str(), &body).await?;
        let fields = crate::media::Fields {
            to: Some(body.to),
            caption: body.caption,
            view_once: body.view_once.unwrap_or(false),
            reply_to_id: body.reply_to_id,
            declared: Default::default(),
        };
        (file, fields)
    };
    let request = MediaRequest {
        to: fields.to.unwrap_or_default(),
        caption: fields.caption,
        view_once: fields.view_once,
        reply_to_id: fields.reply_to_id,
    };
    let sent = send_media(state, session, file.clone(), request).await;
    if sent.is_err() {
        crate::media::discard(state, &file).await;
    }
    sent
}
