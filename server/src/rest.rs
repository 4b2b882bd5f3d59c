//! The original product's REST API, paths exactly as it names them (contract §4):
//! `GET /status`, `POST /send-message` and `POST /send-interactive`. Handlers only: what a send
//! does is `crate::outbound`, which the dashboard and auto-reply use too.

use crate::{
    error::ApiResult,
    json::Json,
    openapi::{
        BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, RateLimited,
        Unauthorized, Unavailable,
    },
    outbound::{send_interactive, send_text},
    sessions::resolve::Target,
    state::AppState,
};
use app::model::{
    SendInteractive, SendInteractiveResponse, SendMessage, SendMessageResponse, SessionStatus,
    StatusResponse,
};
use axum::{
    Router,
    extract::State,
    routing::{get, post},
};

pub fn router(state: &AppState) -> Router<AppState> {
    let idempotent = axum::middleware::from_fn_with_state(state.clone(), crate::idempotency::guard);
    Router::new()
        .route("/status", get(status_handler))
        .route(
            "/send-message",
            post(send_handler).route_layer(idempotent.clone()),
        )
        .route(
            "/send-interactive",
            post(send_interactive_handler).route_layer(idempotent),
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
