//! The OpenAPI 3.1 document of every REST path, generated from the code: each handler carries
//! `#[utoipa::path]` (method, path, parameters, every status it can answer) and the models
//! derive their schemas in `app::model`, so the spec cannot drift from what the server does.
//! [`ApiDoc`] lists the handlers; a test compares it with the routes the router really has.
//!
//! Served at `GET /openapi.json`, with Swagger UI at `GET /docs`: its JS and CSS come from npm's
//! `swagger-ui-dist` (copied into `target/site/docs` by `scripts/build-site.sh`) and are served
//! from the binary like the dashboard's assets, so the page works without internet.

use crate::{
    auth, autoreply, dashboard, error::ApiError, keys, messages, metrics, rest, sessions, settings,
    simulator_api, state::AppState, users, webhooks,
};
use app::model::{ErrorBody, ErrorCode};
use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use std::sync::LazyLock;
use utoipa::{
    Modify, OpenApi, ToResponse,
    openapi::{
        self, ContentBuilder, RefOr,
        example::ExampleBuilder,
        header::HeaderBuilder,
        response::{Response as OaResponse, ResponseBuilder},
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kabar API",
        description = "A self-hosted WhatsApp gateway. The original's REST API (`/status`, \
            `/send-message`, `/send-interactive`), the management API (`/api/…`) that the \
            dashboard also uses, and — on `--engine simulator` only — the simulator's control API \
            (`/simulator/…`).\n\n\
            **Authentication**: an API key in the `X-API-KEY` header or the `api_key` query \
            parameter, or the `auth-token` cookie set by `POST /api/auth/login` (signed in on the \
            dashboard, \"Try it out\" here uses it).\n\n\
            **Errors** are always `{\"success\":false,\"error\":CODE,\"message\":TEXT}`; each \
            operation lists the statuses it can answer and the codes that go with them.\n\n\
            **Which session** a REST call acts on: `?session=<id>` or `X-Session-Id`, else the \
            API key's session, else the caller's only one.",
        license(name = "MIT"),
    ),
    paths(
        rest::status_handler,
        rest::send_handler,
        rest::send_interactive_handler,
        rest::send_media_handler,
        rest::rich::send_location_handler,
        rest::rich::send_contact_handler,
        rest::rich::send_poll_handler,
        rest::rich::send_reaction_handler,
        rest::rich::edit_message_handler,
        rest::rich::delete_message_handler,
        rest::rich::send_presence_handler,
        rest::rich::mark_read_handler,
        rest::rich::check_numbers_handler,
        crate::media::media_handler,
        auth::register_handler,
        auth::login_handler,
        auth::logout_handler,
        auth::me_handler,
        users::list_handler,
        users::create_handler,
        users::update_handler,
        users::delete_handler,
        keys::list_handler,
        keys::create_handler,
        keys::revoke_handler,
        settings::get_handler,
        settings::put_handler,
        sessions::store::list_handler,
        sessions::activity::activity_handler,
        sessions::activity::changes_handler,
        sessions::store::create_handler,
        sessions::store::get_handler,
        sessions::store::update_handler,
        sessions::store::delete_handler,
        sessions::store::logout_handler,
        sessions::store::stop_handler,
        sessions::store::start_handler,
        sessions::store::pair_code_handler,
        sessions::store::events_handler,
        crate::groups::list_handler,
        crate::groups::create_handler,
        crate::groups::get_handler,
        crate::groups::update_handler,
        crate::groups::participants_handler,
        crate::groups::invite_handler,
        crate::groups::join_handler,
        crate::groups::leave_handler,
        webhooks::api::get_session_webhook,
        webhooks::api::put_session_webhook,
        webhooks::api::delete_session_webhook,
        webhooks::api::list_deliveries,
        webhooks::api::get_delivery,
        webhooks::api::retry_delivery,
        webhooks::api::test_event,
        messages::list_handler,
        messages::chats_handler,
        messages::events_handler,
        autoreply::get_switch_handler,
        autoreply::put_switch_handler,
        autoreply::list_handler,
        autoreply::create_handler,
        autoreply::update_handler,
        autoreply::delete_handler,
        simulator_api::scan,
        simulator_api::enter_code,
        simulator_api::incoming,
        simulator_api::button_reply,
        simulator_api::list_reply,
        simulator_api::poll_vote,
        simulator_api::reaction,
        simulator_api::edit,
        simulator_api::revoke,
        simulator_api::receipt,
        simulator_api::disconnect,
        simulator_api::logout,
        simulator_api::sent,
        simulator_api::unregistered,
        simulator_api::add_group,
        simulator_api::group_participants,
        crate::healthz,
        metrics::metrics_handler,
        openapi_json,
        docs_page,
    ),
    components(
        schemas(
            ErrorBody,
            app::model::MessageInData,
            app::model::MessageOutData,
            app::model::InteractionButtonData,
            app::model::InteractionListData,
            app::model::InteractionTimeoutData,
            app::model::ConnectionUpdateData,
            app::model::MessageReactionData,
            app::model::MessageEditedData,
            app::model::MessageRevokedData,
            app::model::MessageStatusData,
            app::model::PollVoteData,
            app::model::GroupParticipantsData,
            app::model::GroupUpdateData,
        ),
        responses(
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            PayloadTooLarge,
            RateLimited,
            InternalError,
            Unavailable,
            BadGateway
        )
    ),
    modifiers(&SecuritySchemes),
    security(("api_key" = []), ("api_key_query" = []), ("cookie" = [])),
    tags(
        (name = "messages", description = "The original's REST API: status and sending, and the message log."),
        (name = "accounts", description = "Register, sign in and out, the caller's account."),
        (name = "users", description = "Accounts (admins only)."),
        (name = "keys", description = "API keys: every account mints and revokes its own (admins: anyone's). The secret is shown once."),
        (name = "settings", description = "Global settings (admins only)."),
        (name = "sessions", description = "Linked WhatsApp accounts."),
        (name = "groups", description = "The groups a session's number is in: list, read, create, members, subject and description, invite links, join, leave (contract §12). Send to a group with any send endpoint, `to` its JID."),
        (name = "webhooks", description = "Webhook endpoints, the delivery log, test events."),
        (name = "auto-reply", description = "Keyword rules and the switch."),
        (name = "simulator", description = "The simulator's control API: plays the phone's side (`--engine simulator` only)."),
        (name = "server", description = "Health, metrics and this document."),
    )
)]
pub struct ApiDoc;

/// The three ways to authenticate, plus the scrapers' bearer token for `/metrics`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-KEY",
                "An API key (`kbr_…`), made by its owner or an admin: dashboard → API keys, or `POST /api/keys`.",
            ))),
        );
        c.add_security_scheme(
            "api_key_query",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "api_key",
                "The same API key as a query parameter (`?api_key=kbr_…`).",
            ))),
        );
        c.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                auth::COOKIE_NAME,
                "The JWT that `POST /api/auth/login` sets (the dashboard's sign-in).",
            ))),
        );
        c.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`--metrics-token`, for a Prometheus scraper."))
                    .build(),
            ),
        );
    }
}

/// The document this server answers: the simulator's paths only when it runs the simulator.
pub fn document(simulator: bool) -> openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    if !simulator {
        doc.paths.paths.retain(|p, _| !p.starts_with("/simulator/"));
        if let Some(tags) = &mut doc.tags {
            tags.retain(|t| t.name != "simulator");
        }
    }
    doc
}

/// One event of `GET /api/sessions/{id}/events` (an event stream's `schema` describes each event,
/// as OpenAPI 3.2 spells out): `event: status`, and a [`app::model::SessionSnapshot`] as JSON in
/// `data`.
pub struct SessionEvent;

impl utoipa::PartialSchema for SessionEvent {
    fn schema() -> RefOr<openapi::schema::Schema> {
        sse_event("status", "SessionSnapshot")
    }
}

impl utoipa::ToSchema for SessionEvent {
    fn schemas(schemas: &mut Vec<(String, RefOr<openapi::schema::Schema>)>) {
        use utoipa::PartialSchema;
        schemas.push((
            "SessionSnapshot".into(),
            app::model::SessionSnapshot::schema(),
        ));
    }
}

/// One event of `GET /api/sessions/events`: `event: changed`, and a
/// [`crate::sessions::activity::SessionsChanged`] as JSON in `data`.
pub struct SessionsChangedEvent;

impl utoipa::PartialSchema for SessionsChangedEvent {
    fn schema() -> RefOr<openapi::schema::Schema> {
        sse_event("changed", "SessionsChanged")
    }
}

impl utoipa::ToSchema for SessionsChangedEvent {
    fn schemas(schemas: &mut Vec<(String, RefOr<openapi::schema::Schema>)>) {
        use utoipa::PartialSchema;
        schemas.push((
            "SessionsChanged".into(),
            crate::sessions::activity::SessionsChanged::schema(),
        ));
    }
}

/// A server-sent event named `event` whose `data` is a `data_type` as JSON.
fn sse_event(event: &str, data_type: &str) -> RefOr<openapi::schema::Schema> {
    use openapi::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .description(Some(format!(
            "A server-sent event: `event: {event}`, `data` a `{data_type}` as JSON."
        )))
        .property(
            "event",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([event])),
        )
        .required("event")
        .property(
            "data",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .content_media_type("application/json")
                .description(Some(format!("A `{data_type}`."))),
        )
        .required("data")
        .into()
}

/// Every status's body is the one error shape; the examples show the codes it can carry.
fn error_response(description: &str, codes: &[(ErrorCode, &str)]) -> ResponseBuilder {
    let examples = codes.iter().map(|(code, message)| {
        (
            code.as_str(),
            ExampleBuilder::new()
                .value(Some(serde_json::json!(ErrorBody::new(*code, *message))))
                .build(),
        )
    });
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(RefOr::Ref(openapi::Ref::from_schema_name(
                "ErrorBody",
            ))))
            .examples_from_iter(examples)
            .build(),
    )
}

macro_rules! error_responses {
    ($($name:ident: $description:literal [$(($code:ident, $message:literal)),+ $(,)?]),+ $(,)?) => {$(
        #[doc = $description]
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<OaResponse>) {
                let builder = error_response($description, &[$((ErrorCode::$code, $message)),+]);
                (stringify!($name), extra_headers(stringify!($name), builder).build().into())
            }
        }
    )+};
}

fn extra_headers(name: &str, builder: ResponseBuilder) -> ResponseBuilder {
    if name != "RateLimited" {
        return builder;
    }
    builder.header(
        "Retry-After",
        HeaderBuilder::new()
            .schema(openapi::ObjectBuilder::new().schema_type(openapi::Type::Integer))
            .description(Some("Seconds to wait before trying again."))
            .build(),
    )
}

error_responses! {
    BadRequest: "Bad request: malformed JSON, a missing, unknown or mistyped field, an invalid value (the message names the field)." [
        (InvalidRequest, "message: the text is empty."),
        (InvalidPhone, "to: not a phone number or a WhatsApp JID."),
        (SessionRequired, "You have several sessions: name one with ?session=<id> or the X-Session-Id header."),
        (ButtonLimitExceeded, "Maximum 3 buttons allowed per message"),
        (InvalidButtonParams, "interactiveButtons[0].buttonParamsJson: missing field `id`."),
        (UnsupportedMedia, "type image: WhatsApp takes a JPEG or PNG image; this file is application/pdf. Send it with \"type\":\"document\" to send it as a file."),
    ],
    Unauthorized: "No credentials, or wrong, revoked, expired or forged ones." [
        (Unauthorized, "Authentication required: send an API key in the X-API-KEY header, or sign in."),
    ],
    Forbidden: "Signed in but not allowed (an admin's call, a key limited to another session, registration closed)." [
        (Forbidden, "Only an administrator can do this."),
        (RegistrationClosed, "Registration is closed on this server. Ask an administrator for an account."),
        (QuotaExceeded, "This account already has the most sessions allowed (10). Delete one, or ask an administrator to raise the limit."),
        (NotGroupAdmin, "Only the group's admins can do this, and this session's number is not one."),
    ],
    NotFound: "No such resource, or not yours (another user's things are never revealed)." [
        (NotFound, "No such rule."),
        (SessionNotFound, "No such session. Create one on the Sessions page or with POST /api/sessions."),
        (ContactNotFound, "6281234567890 is not on WhatsApp."),
        (MessageNotFound, "This session has no message with that id."),
        (GroupNotFound, "This session is not in the group 120363025246125486@g.us."),
    ],
    Conflict: "Conflicts with the current state." [
        (UsernameTaken, "That username is taken."),
        (LastAdmin, "This would leave no active admin."),
        (SessionNotConnected, "The session is not connected (qr_ready). Scan its QR code first."),
        (IdempotencyConflict, "This Idempotency-Key was used for a different request. Use a new key for a new message."),
        (NotEditable, "Only the session's own text messages can be edited, within 15 minutes of sending."),
    ],
    PayloadTooLarge: "The body is over the configured limit (`--max-body-bytes`, 1 MiB by default), or a file over `--max-media-bytes` (64 MiB by default)." [
        (PayloadTooLarge, "The request body is too large."),
        (MediaTooLarge, "The file is larger than this server takes (67108864 bytes, --max-media-bytes)."),
    ],
    BadGateway: "The media `url` could not be fetched (it answered an error, timed out, or is unreachable)." [
        (MediaFetchFailed, "url: the server answered 404 Not Found."),
    ],
    RateLimited: "Too many requests; `Retry-After` says when to try again." [
        (RateLimited, "Too many requests. Try again in 1 s."),
    ],
    InternalError: "Something went wrong on the server; it has been logged. Never carries details." [
        (InternalError, "Something went wrong on the server. It has been logged."),
    ],
    Unavailable: "Nothing was stored (the database refused the write, or the session stopped): send it again." [
        (ServiceUnavailable, "the message was not stored; send it again"),
    ],
}

/// `/openapi.json`, `/docs` and Swagger UI's two files.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs_page))
        .route("/docs/{file}", get(docs_asset))
}

/// The spec, rendered once per process (simulator or not).
static SPEC: LazyLock<[String; 2]> = LazyLock::new(|| {
    [false, true].map(|sim| {
        let mut doc = serde_json::to_value(document(sim)).unwrap_or_default();
        if let Some(doc) = doc.as_object_mut() {
            doc.insert("webhooks".into(), crate::webhooks::schema::section());
        }
        serde_json::to_string(&doc).unwrap_or_default()
    })
});

/// This document: the OpenAPI 3.1 description of every REST path this server answers.
#[utoipa::path(
    get, path = "/openapi.json", operation_id = "openapi", tag = "server", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object))
)]
pub(crate) async fn openapi_json(State(state): State<AppState>) -> Response {
    let spec = &SPEC[usize::from(state.simulator.is_some())];
    ([(header::CONTENT_TYPE, "application/json")], spec.clone()).into_response()
}

/// Swagger UI's files, from npm's `swagger-ui-dist` (see `scripts/build-site.sh`).
const DOCS_FILES: [&str; 2] = ["swagger-ui-bundle.js", "swagger-ui.css"];

/// What to do when the Swagger UI files were not built into this binary.
pub const MISSING: &str = "Swagger UI's files are missing from this build: scripts/build-site.sh copies \
    them from npm's swagger-ui-dist into target/site/docs; run it, then rebuild kabar.";

/// Whether the Swagger UI files are there; logged at start so a broken build is noticed.
pub fn docs_assets_present() -> bool {
    DOCS_FILES
        .iter()
        .all(|f| dashboard::asset_exists(&format!("docs/{f}")))
}

/// Interactive documentation (Swagger UI) of `/openapi.json`. Works offline: everything it loads
/// comes from this server.
#[utoipa::path(
    get, path = "/docs", operation_id = "docs", tag = "server", security(()),
    responses(
        (status = 200, description = "The Swagger UI page.", content_type = "text/html", body = String),
        (status = 500, description = "This build lacks Swagger UI's files (says how to fix it).", content_type = "text/html", body = String),
    )
)]
pub(crate) async fn docs_page() -> Response {
    if !docs_assets_present() {
        let page = format!(
            "<!doctype html><title>Kabar API docs</title><h1>Kabar API docs</h1><p>{MISSING}</p><p>The spec itself is at <a href=\"/openapi.json\">/openapi.json</a>.</p>"
        );
        return (StatusCode::INTERNAL_SERVER_ERROR, Html(page)).into_response();
    }
    Html(DOCS_PAGE).into_response()
}

/// Swagger UI's files (and its `LICENSE` and `NOTICE`). A missing one of the two the page needs
/// is a 500 that logs how to fix the build, not a blank page.
async fn docs_asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    match dashboard::asset(&format!("docs/{file}"), &headers) {
        Some(resp) => resp,
        None if DOCS_FILES.contains(&file.as_str()) => {
            ApiError::Internal(anyhow::anyhow!("{MISSING}")).into_response()
        }
        None => ApiError::not_found(format!("No such file: /docs/{file}")).into_response(),
    }
}

const DOCS_PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kabar API</title>
<link rel="icon" href="/favicon.svg">
<link rel="stylesheet" href="/docs/swagger-ui.css">
<style>body { margin: 0; } .swagger-ui .topbar { display: none; }</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // No badge from validator.swagger.io: nothing on this page leaves the server.
    validatorUrl: null,
    persistAuthorization: true,
    tryItOutEnabled: false,
  });
</script>
</body>
</html>
"##;
