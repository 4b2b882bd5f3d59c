//! The shapes a client can observe: ids, requests, responses and the one error body.
//!
//! Field names are camelCase as in the original product description; contract §9 lists them.
//! Both the REST handlers (server) and the dashboard (server functions) use these types.

/// An enum that travels as one of its `as_str` names: `from_name` finds the variant back. In
/// the browser such enums deserialize through one `String` and `from_name` (the
/// `#[cfg_attr(…, serde(try_from = "String"))]` on each): serde's derive writes three matches
/// per enum (by index, by str, by bytes), which the dashboard's bundle paid for in every one.
/// The server keeps the derive and its error messages.
macro_rules! named_enum {
    ($t:ty: $($v:path),+ $(,)?) => {
        impl $t {
            /// The variant named `name` (its `as_str`).
            pub fn from_name(name: &str) -> Option<Self> {
                // Exhaustive: a variant missing from the list does not compile.
                let _every_variant_listed = |v: Self| match v {
                    $($v)|+ => (),
                };
                [$($v),+].into_iter().find(|v| v.as_str() == name)
            }
        }

        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(name: String) -> Result<Self, String> {
                Self::from_name(&name).ok_or(name)
            }
        }
    };
}

mod error;
mod groups;
mod ids;
pub mod interactive;
#[cfg(feature = "ssr")]
mod schema;

pub use error::{ErrorBody, ErrorCode};
pub use groups::*;
pub use ids::{ApiKeyId, SessionId, UserId};
pub use interactive::{
    Fallback, Interactive, InteractiveForm, InteractiveKind, SendInteractive,
    SendInteractiveResponse,
};

use serde::{Deserialize, Serialize};

/// What a signed-in person may do (contract §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[cfg_attr(
    all(feature = "hydrate", not(feature = "ssr")),
    serde(try_from = "String")
)]
pub enum Role {
    /// Everything: users, settings, API keys, every session and rule.
    Admin,
    /// Their own sessions and auto-reply rules.
    User,
}

named_enum!(Role: Role::Admin, Role::User);

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "user" => Some(Role::User),
            _ => None,
        }
    }
}

/// `POST /api/auth/register` and `/api/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// The signed-in account: `GET /api/me`, the answer to register and login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: UserId,
    pub username: String,
    pub role: Role,
}

/// The answer to login: the account plus the JWT that the `auth-token` cookie also carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    #[serde(flatten)]
    pub me: Me,
    pub token: String,
}

/// One account as an admin sees it (`GET /api/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    /// Whether this user's session webhooks may point at private/loopback addresses (the
    /// server-wide setting allows it for everyone).
    pub allow_private_webhooks: bool,
    /// Milliseconds since the Unix epoch, like every timestamp Kabar shows.
    pub created_at: i64,
}

/// `POST /api/users` (admin).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub role: Option<Role>,
}

/// `PATCH /api/users/{id}` (admin): every field optional, only the given ones change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub disabled: Option<bool>,
    #[serde(default)]
    pub password: Option<String>,
    /// Let this user's session webhooks reach private/loopback addresses.
    #[serde(default, rename = "allowPrivateWebhooks")]
    pub allow_private_webhooks: Option<bool>,
}

/// `POST /api/keys` (admin). The owner defaults to the caller.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewApiKey {
    pub name: String,
    #[serde(default)]
    pub owner_id: Option<UserId>,
    #[serde(default)]
    pub session_id: Option<SessionId>,
}

/// A key as listed: never the secret, only its visible prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    pub id: ApiKeyId,
    pub name: String,
    /// `kbr_` and the first characters of the secret, enough to recognise a key.
    pub prefix: String,
    pub owner_id: UserId,
    pub owner_username: String,
    pub session_id: Option<SessionId>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// The answer to `POST /api/keys`: the only time the secret `key` is ever shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub prefix: String,
    pub key: String,
    pub owner_id: UserId,
    pub session_id: Option<SessionId>,
    pub created_at: i64,
}

/// Global settings (admin, `GET|PUT /api/settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Whether anyone may create an account at `/register` (open by default, as the original).
    pub allow_registration: bool,
    /// Whether webhook URLs may point at loopback/private addresses (also `--allow-private-webhooks`).
    pub allow_private_webhooks: bool,
    /// How many sessions a user (not an admin) may have; 10 by default.
    pub max_sessions_per_user: u32,
    /// Days messages and webhook events are kept (a daily sweep); 0 = forever, the default.
    pub retention_days: u32,
    /// The global webhook: every session's events.
    pub webhook: Option<WebhookView>,
}

/// `PUT /api/settings`: any subset of the fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default)]
    pub allow_registration: Option<bool>,
    #[serde(default)]
    pub allow_private_webhooks: Option<bool>,
    /// 0 to 10000; a user over it keeps their sessions but cannot add more.
    #[serde(default)]
    pub max_sessions_per_user: Option<u32>,
    /// 0 (keep everything) to 36500.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// `{"url","secret","events"}` sets the global webhook; `null` removes it.
    #[cfg_attr(feature = "ssr", schema(value_type = Option<WebhookConfig>))]
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub webhook: Option<Option<WebhookConfig>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(Option::deserialize(d)?))
}

/// What the dashboard shows about the running server (the engine banner, registration link).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    pub version: String,
    /// `whatsapp` or `simulator`; the dashboard shows a banner for the simulator.
    pub engine: String,
    /// Whether `/register` takes a new account now: the setting, or no account exists yet.
    pub allow_registration: bool,
}

/// The plain success answer of calls that return nothing else (deletes, logout).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Done {
    pub success: bool,
}

impl Done {
    pub const OK: Done = Done { success: true };
}

/// A session's link state (contract §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    all(feature = "hydrate", not(feature = "ssr")),
    serde(try_from = "String")
)]
pub enum SessionStatus {
    /// Waiting for a scan; a QR is available.
    QrReady,
    /// Starting or reconnecting.
    Connecting,
    Connected,
    /// The link dropped; Kabar reconnects by itself.
    Disconnected,
    /// The device was removed: a new scan is needed.
    LoggedOut,
}

named_enum!(SessionStatus:
    SessionStatus::QrReady,
    SessionStatus::Connecting,
    SessionStatus::Connected,
    SessionStatus::Disconnected,
    SessionStatus::LoggedOut,
);

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::QrReady => "qr_ready",
            SessionStatus::Connecting => "connecting",
            SessionStatus::Connected => "connected",
            SessionStatus::Disconnected => "disconnected",
            SessionStatus::LoggedOut => "logged_out",
        }
    }
}

/// A session as listed (`GET /api/sessions`, `POST /api/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub id: SessionId,
    pub name: String,
    pub status: SessionStatus,
    pub phone_number: Option<String>,
    pub push_name: Option<String>,
    pub owner_id: UserId,
    /// How interactive messages from this session render for phones without buttons, unless
    /// a request says otherwise.
    pub fallback: Fallback,
    pub created_at: i64,
    /// Stopped by its owner (`POST /api/sessions/{id}/stop`): not connected until started;
    /// only present when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stopped: bool,
}

/// `GET /api/sessions/activity`: what one session has been doing (the Sessions overview).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionActivity {
    pub session_id: SessionId,
    /// The owner's username (an admin's overview names whose each session is).
    pub owner_username: String,
    /// Messages received in the last 24 hours, as the message log counts them (a reaction is one).
    #[serde(rename = "messagesIn24h")]
    pub messages_in_24h: i64,
    /// Messages sent in the last 24 hours, by the API, the dashboard and auto-reply.
    #[serde(rename = "messagesOut24h")]
    pub messages_out_24h: i64,
    /// When the session's latest message (either way) was recorded, Unix ms; none yet: null.
    pub last_activity_at: Option<i64>,
    /// Deliveries to the session's own webhook still waiting to go out (retries included).
    pub webhooks_pending: i64,
    /// Deliveries to the session's own webhook that gave up (kept until the retention ends).
    pub webhooks_failed: i64,
}

/// `POST /api/sessions`. Only an admin may name another owner.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSession {
    pub name: String,
    #[serde(default)]
    pub owner_id: Option<UserId>,
}

/// `PATCH /api/sessions/{id}`: rename, and/or set the interactive fallback. Only the given
/// fields change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
}

/// `POST /api/sessions/{id}/pair-code`: link by phone number instead of scanning — WhatsApp
/// shows a notification on that phone, where the code is typed in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PairCodeRequest {
    pub phone_number: String,
}

/// The 8-character code to type on the phone (WhatsApp → Linked devices → Link with phone
/// number instead), valid for `expiresIn` seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PairCodeResponse {
    pub code: String,
    pub phone_number: String,
    pub expires_in: u64,
}

/// A live snapshot of one session: the SSE `status` event of `GET /api/sessions/{id}/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionSnapshot {
    pub status: SessionStatus,
    /// `data:image/png;base64,…` while `status` is `qr_ready`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_name: Option<String>,
    /// Why the session is disconnected or logged out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /status` (the original's shape).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StatusResponse {
    pub is_connected: bool,
    pub status: SessionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr: Option<String>,
    /// Why the session is disconnected or logged out, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /send-message`. `reply_to_id` as the original spells it; `replyToId` accepted too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    pub to: String,
    pub message: String,
    #[serde(default, alias = "replyToId")]
    pub reply_to_id: Option<String>,
    /// In a group: numbers the text mentions (write them in the text as `@<digits>`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
}

/// The answer to `POST /send-message`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SendMessageResponse {
    pub success: bool,
    pub message_id: String,
    pub to: String,
    pub message: String,
}

/// A media message's file (contract §11), as webhooks and the message log show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MediaInfo {
    /// The file's type (`image/jpeg`, `application/pdf`, …).
    pub mimetype: String,
    /// Its size in bytes.
    pub size: u64,
    /// The file name, for documents (and when the sender gave one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Where the owner (or an admin) downloads it: `/api/messages/{id}/media`.
    pub url: String,
}

/// `POST /send-media` as JSON (contract §11): the file as `url` or `base64` (one of them), or
/// the same fields as `multipart/form-data` parts with the file in a `file` part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SendMedia {
    pub to: String,
    /// `image`, `video`, `audio`, `voice` (a voice note: Opus in OGG, or MP3, WAV, M4A/AAC or
    /// Ogg Vorbis, which Kabar converts), `document` or `sticker` (WebP); inferred from the
    /// content when absent.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// An `http(s)` address the server fetches the file from (through the webhook SSRF guard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The file itself, base64 (standard alphabet; a `data:` URL prefix is accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    /// The file's type; checked against the content, which wins when they disagree on a
    /// recognisable format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mimetype: Option<String>,
    /// The name the recipient sees (documents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// View once (images, videos and voice notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_once: Option<bool>,
    #[serde(default, alias = "replyToId", skip_serializing_if = "Option::is_none")]
    pub reply_to_id: Option<String>,
}

/// The answer to the sends of contract §11.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SendMediaResponse {
    pub success: bool,
    pub message_id: String,
    pub to: String,
    /// The kind sent: `image`, `video`, `audio`, `voice`, `document` or `sticker`.
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp: i64,
}

/// A place (contract §11): what `/send-location` sends, and `location` in messages and
/// webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// Degrees, −90 to 90.
    pub latitude: f64,
    /// Degrees, −180 to 180.
    pub longitude: f64,
    /// The place's name (a shop), shown above the map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// A contact card as messages and webhooks show it: a name and its numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContactCard {
    pub name: String,
    /// Digits, country code first.
    pub phone_numbers: Vec<String>,
}

/// A poll as messages and webhooks show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PollInfo {
    pub question: String,
    pub options: Vec<String>,
    /// Whether a voter may choose several options.
    pub multiple_answers: bool,
}

/// What a location, contact or poll message carries besides its text; one of the three.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Details {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<ContactCard>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollInfo>,
}

impl Details {
    pub fn is_empty(&self) -> bool {
        self.location.is_none() && self.contacts.is_none() && self.poll.is_none()
    }
}

/// `POST /send-location`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendLocation {
    pub to: String,
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, alias = "replyToId", skip_serializing_if = "Option::is_none")]
    pub reply_to_id: Option<String>,
}

/// One card of `POST /send-contact`; the server builds its vCard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactEntry {
    pub name: String,
    /// The contact's number, as `to` takes it (`0812…` with a default country code).
    pub phone_number: String,
}

/// `POST /send-contact`: one to ten contact cards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendContact {
    pub to: String,
    pub contacts: Vec<ContactEntry>,
    #[serde(default, alias = "replyToId", skip_serializing_if = "Option::is_none")]
    pub reply_to_id: Option<String>,
}

/// `POST /send-poll`: 2 to 12 distinct options; votes arrive as `poll.vote`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendPoll {
    pub to: String,
    pub question: String,
    pub options: Vec<String>,
    /// Let a voter choose several options (default: one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple_answers: Option<bool>,
    #[serde(default, alias = "replyToId", skip_serializing_if = "Option::is_none")]
    pub reply_to_id: Option<String>,
}

/// `POST /send-reaction`: an emoji on a message of the session's chats; `""` removes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendReaction {
    pub message_id: String,
    pub emoji: String,
}

/// `POST /edit-message`: new text for one of the session's own text messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditMessage {
    pub message_id: String,
    pub message: String,
}

/// `POST /delete-message`: revokes one of the session's own messages for everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteMessage {
    pub message_id: String,
}

/// The answer to `/send-reaction`, `/edit-message` and `/delete-message`: the message acted on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageActionResponse {
    pub success: bool,
    /// The message reacted to, edited or deleted.
    pub message_id: String,
    /// Its chat.
    pub to: String,
    /// `reaction`, `edit` or `delete`.
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp: i64,
}

/// `POST /send-presence`: what the chat sees the session doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendPresence {
    pub to: String,
    /// `composing` (typing…), `recording` (recording audio…) or `paused` (stopped).
    pub state: String,
}

/// The answer to `/send-presence`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SendPresenceResponse {
    pub success: bool,
    pub to: String,
    pub state: String,
}

/// `POST /mark-read`: received messages of one chat, shown as read (blue ticks) to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarkRead {
    pub message_ids: Vec<String>,
}

/// The answer to `/mark-read`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MarkReadResponse {
    pub success: bool,
    /// The chat the messages belong to.
    pub chat: String,
    pub message_ids: Vec<String>,
}

/// `POST /check-numbers`: up to 50 numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckNumbers {
    pub numbers: Vec<String>,
}

/// One number's answer in `/check-numbers`, in the order asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NumberCheck {
    /// The number as sent.
    pub input: String,
    /// Its digits, country code first; `null` when it is not a phone number.
    pub phone_number: Option<String>,
    /// Whether it has WhatsApp.
    pub exists: bool,
}

/// The answer to `/check-numbers`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CheckNumbersResponse {
    pub success: bool,
    pub results: Vec<NumberCheck>,
}

/// The event names webhooks carry (contract §5).
pub mod event {
    pub const MESSAGE_IN: &str = "message.in";
    pub const MESSAGE_OUT: &str = "message.out";
    pub const INTERACTION_BUTTON: &str = "interaction.button";
    pub const INTERACTION_LIST: &str = "interaction.list";
    /// No answer came to an interactive message within its `expiresIn`.
    pub const INTERACTION_TIMEOUT: &str = "interaction.timeout";
    pub const CONNECTION_UPDATE: &str = "connection.update";
    /// Sent by the "send test event" button.
    pub const WEBHOOK_TEST: &str = "webhook.test";
    /// A contact reacted to a message (or took the reaction back).
    pub const MESSAGE_REACTION: &str = "message.reaction";
    /// A contact edited one of their messages.
    pub const MESSAGE_EDITED: &str = "message.edited";
    /// A contact deleted one of their messages for everyone.
    pub const MESSAGE_REVOKED: &str = "message.revoked";
    /// A message the session sent was delivered, read or played.
    pub const MESSAGE_STATUS: &str = "message.status";
    /// A contact voted in a poll sent with `/send-poll`.
    pub const POLL_VOTE: &str = "poll.vote";
    /// Members of a group the session is in changed (contract §12).
    pub const GROUP_PARTICIPANTS: &str = "group.participants";
    /// A group's subject or description changed.
    pub const GROUP_UPDATE: &str = "group.update";
    pub const ALL: [&str; 14] = [
        MESSAGE_IN,
        MESSAGE_OUT,
        INTERACTION_BUTTON,
        INTERACTION_LIST,
        INTERACTION_TIMEOUT,
        CONNECTION_UPDATE,
        WEBHOOK_TEST,
        MESSAGE_REACTION,
        MESSAGE_EDITED,
        MESSAGE_REVOKED,
        MESSAGE_STATUS,
        POLL_VOTE,
        GROUP_PARTICIPANTS,
        GROUP_UPDATE,
    ];
}

/// `data` of `message.in`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageInData {
    pub session_id: SessionId,
    pub message_id: String,
    /// The author's number (digits); in a group, the member who wrote.
    pub from: String,
    /// The chat it happened in, and whether it is a group (contract §12).
    #[serde(flatten)]
    pub chat: ChatOf,
    pub push_name: Option<String>,
    /// `text`, `interactive`, `image`, … (contract §5).
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    pub timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted_message_id: Option<String>,
    /// In a group: the author again (the same as `from`), kept for receivers written
    /// before `chat` and `isGroup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    /// For an image, video, audio, document or sticker: the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaInfo>,
    /// For a location, contact card or poll: `location`, `contacts` or `poll`.
    #[serde(flatten)]
    pub details: Details,
}

/// `data` of `message.out`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageOutData {
    pub session_id: SessionId,
    pub message_id: String,
    pub to: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    /// `api`, `auto_reply` or `device`.
    pub source: String,
    pub timestamp: i64,
    /// For media (`image`, `video`, `audio`, `voice`, `document`, `sticker`): the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaInfo>,
    /// For a location, contact card or poll: `location`, `contacts` or `poll`.
    #[serde(flatten)]
    pub details: Details,
}

/// `data` of `message.reaction`: a contact reacted to a message of the chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageReactionData {
    pub session_id: SessionId,
    /// The message reacted to.
    pub message_id: String,
    /// The author's number (digits); in a group, the member who wrote.
    pub from: String,
    /// The chat it happened in, and whether it is a group (contract §12).
    #[serde(flatten)]
    pub chat: ChatOf,
    /// The emoji; `""` when the reaction was taken back.
    pub emoji: String,
    pub timestamp: i64,
    /// In a group: the author again (the same as `from`), kept for receivers written
    /// before `chat` and `isGroup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
}

/// `data` of `message.edited`: a contact changed the text of one of their messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageEditedData {
    pub session_id: SessionId,
    /// The message edited (its original id).
    pub message_id: String,
    /// The author's number (digits); in a group, the member who wrote.
    pub from: String,
    /// The chat it happened in, and whether it is a group (contract §12).
    #[serde(flatten)]
    pub chat: ChatOf,
    /// The new text.
    pub message: String,
    pub timestamp: i64,
    /// In a group: the author again (the same as `from`), kept for receivers written
    /// before `chat` and `isGroup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
}

/// `data` of `message.revoked`: a contact deleted one of their messages for everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageRevokedData {
    pub session_id: SessionId,
    /// The message deleted.
    pub message_id: String,
    /// The author's number (digits); in a group, the member who wrote.
    pub from: String,
    /// The chat it happened in, and whether it is a group (contract §12).
    #[serde(flatten)]
    pub chat: ChatOf,
    pub timestamp: i64,
    /// In a group: the author again (the same as `from`), kept for receivers written
    /// before `chat` and `isGroup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
}

/// `data` of `message.status`: a message the session sent reached the phone, was read, or (a
/// voice note, a video) played. Each status comes once, in that order; a late "delivered"
/// after "read" is not reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageStatusData {
    pub session_id: SessionId,
    pub message_id: String,
    /// The chat it went to.
    pub to: String,
    /// `delivered`, `read` or `played`.
    pub status: String,
    pub timestamp: i64,
}

/// `data` of `poll.vote`: a contact voted in a poll sent with `/send-poll` (each change of a
/// vote comes again, with every option then chosen; `[]`: the vote was taken back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PollVoteData {
    pub session_id: SessionId,
    /// The poll.
    pub message_id: String,
    /// The author's number (digits); in a group, the member who wrote.
    pub from: String,
    /// The chat it happened in, and whether it is a group (contract §12).
    #[serde(flatten)]
    pub chat: ChatOf,
    /// The names of the options chosen.
    pub options: Vec<String>,
    pub timestamp: i64,
    /// In a group: the author again (the same as `from`), kept for receivers written
    /// before `chat` and `isGroup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
}

/// `data` of `interaction.button`: a contact answered an interactive message with a button
/// (a tap, or through the text or poll fallback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InteractionButtonData {
    pub session_id: SessionId,
    /// The author's number (digits); in a group, the member who wrote.
    pub from: String,
    /// The chat it happened in, and whether it is a group (contract §12).
    #[serde(flatten)]
    pub chat: ChatOf,
    /// The interactive message answered.
    pub message_id: String,
    pub button_id: String,
    pub button_text: String,
    pub timestamp: i64,
    /// In a group: the author again (the same as `from`), kept for receivers written
    /// before `chat` and `isGroup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
}

/// `data` of `interaction.list`: a contact picked a row of a list message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InteractionListData {
    pub session_id: SessionId,
    /// The author's number (digits); in a group, the member who wrote.
    pub from: String,
    /// The chat it happened in, and whether it is a group (contract §12).
    #[serde(flatten)]
    pub chat: ChatOf,
    pub message_id: String,
    pub row_id: String,
    pub row_title: String,
    pub row_description: String,
    pub timestamp: i64,
    /// In a group: the author again (the same as `from`), kept for receivers written
    /// before `chat` and `isGroup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
}

/// `data` of `interaction.timeout`: nobody answered within `expiresIn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InteractionTimeoutData {
    pub session_id: SessionId,
    pub message_id: String,
    pub to: String,
    pub timestamp: i64,
}

/// `data` of `connection.update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConnectionUpdateData {
    pub session_id: SessionId,
    pub status: SessionStatus,
    pub phone_number: Option<String>,
    pub push_name: Option<String>,
    pub reason: Option<String>,
}

/// A webhook endpoint as saved (`PUT /api/sessions/{id}/webhook`, settings' `webhook`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    pub url: String,
    /// `••••••••` when a secret is set (none of it is ever shown again), empty when none is.
    pub secret: String,
    /// Event names delivered; empty = all.
    pub events: Vec<String>,
    pub enabled: bool,
    /// Why delivery stopped (e.g. the receiver answered 410 Gone).
    pub disabled_reason: Option<String>,
}

/// The body that sets a webhook endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// Absent: keep the current secret (none for a new endpoint); `""` removes it.
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub events: Vec<String>,
}

/// One delivery in the log (`GET /api/webhooks/deliveries`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub id: String,
    /// The `X-Webhook-Id` / `webhook-id`, stable across attempts.
    pub event_id: String,
    pub event: String,
    pub session_id: Option<SessionId>,
    /// `global` or `session`.
    pub endpoint: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One HTTP attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    pub at: i64,
    pub trigger: String,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

/// A delivery with its attempts (`GET /api/webhooks/deliveries/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: DeliveryView,
    pub body: String,
    pub attempts_log: Vec<AttemptView>,
}

/// Filters of the delivery log; each empty means "any". `limit` and `cursor` page it as
/// `GET /api/webhooks/deliveries` does (100 newest when both are empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryFilter {
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    /// `{createdAt}.{id}` of the last delivery of the page before.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Which page of an account list to answer (`?limit=&cursor=` of `GET /api/sessions`, users,
/// keys, rules; `page` of the dashboard's list server functions): at most `limit` items after
/// the one `cursor` names (its id), in the list's stable order. Server functions given none
/// answer the whole list (what the pickers of other pages read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct PageAt {
    /// At most this many items, 1–500. Without it (and without `cursor`) the whole list.
    #[serde(default)]
    pub limit: Option<i64>,
    /// Where the page starts: the `X-Next-Cursor` header of the page before.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// One message of the record (`GET /api/messages`): every message a session sent or received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    /// WhatsApp's message id (unique within its session).
    pub id: String,
    pub session_id: SessionId,
    /// `in` (from a contact) or `out` (sent by the session).
    pub direction: String,
    /// The chat: a person's number or a group's JID.
    pub chat: String,
    /// The author's number for messages in; `null` for the session's own.
    pub sender: Option<String>,
    /// The name the author's WhatsApp shows (`message.in`'s `pushName`), for messages in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_name: Option<String>,
    /// `text`, `interactive`, `image`, … (as in `message.in`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The text or caption, as webhooks name it.
    pub message: String,
    /// For `out`: `api`, `auto_reply` or `device`.
    pub source: Option<String>,
    /// The message this one quotes, as `message.in` names it.
    pub quoted_message_id: Option<String>,
    /// `pending` (recorded, not yet sent), `sent`, `delivered`, `read`, `played` (out); `received`,
    /// then `read` once the session marked it read with `/mark-read` (in).
    pub status: String,
    /// Deprecated alias of `message` (the name before 0.2), kept for one release.
    pub body: String,
    /// Deprecated alias of `quotedMessageId`, kept for one release.
    pub quoted_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// For media messages: the file, downloadable at its `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaInfo>,
    // A location's, contact cards' or poll's content, as three fields rather than a flattened
    // `Details`: serde's flatten buffers every field when deserializing, which the dashboard
    // (the browser bundle) does with every message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<ContactCard>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollInfo>,
    /// When the session's own text was last edited (`/edit-message`, or on the phone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    /// When the message was deleted for everyone; its text is kept here, the chat shows
    /// "This message was deleted".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
}

/// One row of the dashboard's Messages page: the fields of [`MessageView`] it shows, so the
/// browser parses only these (the page's server function answers them; the REST log answers
/// the whole view).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRow {
    pub id: String,
    pub direction: String,
    /// The chat as the page shows it: in a group, the group's JID and the member who wrote
    /// (`"<group> · <digits>"`).
    pub chat: String,
    /// The author's push name, for messages in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_name: Option<String>,
    pub kind: String,
    pub message: String,
    pub source: Option<String>,
    pub status: String,
    pub created_at: i64,
    pub media: Option<MediaInfo>,
    pub details: Details,
    pub edited_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The emoji contacts have on this message now, one per person (`messages::reactions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<String>,
}

#[cfg(feature = "ssr")]
impl From<MessageView> for MessageRow {
    fn from(m: MessageView) -> Self {
        MessageRow {
            id: m.id,
            direction: m.direction,
            chat: match m.sender.filter(|_| m.chat.ends_with("@g.us")) {
                Some(author) => format!("{} · {author}", m.chat),
                None => m.chat,
            },
            push_name: m.push_name,
            kind: m.kind,
            message: m.message,
            source: m.source,
            status: m.status,
            created_at: m.created_at,
            media: m.media,
            details: Details {
                location: m.location,
                contacts: m.contacts,
                poll: m.poll,
            },
            edited_at: m.edited_at,
            revoked_at: m.revoked_at,
            reactions: Vec::new(),
        }
    }
}

/// Filters of the message log; each empty means "any". `before` pages back in time: only
/// messages created before that millisecond timestamp.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct MessageFilter {
    #[serde(default)]
    pub session: Option<String>,
    /// `in` or `out`.
    #[serde(default)]
    pub direction: Option<String>,
    /// A chat's number or JID, as the log shows it.
    #[serde(default)]
    pub chat: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// 1–500, default 100.
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub before: Option<i64>,
}

/// One conversation of a session (`GET /api/sessions/{id}/chats`, the dashboard's Chats): who
/// it is with and its newest message. Reactions count as messages here, as on a phone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChatView {
    /// A person's digits or a group's JID: what the send endpoints' `to` and the log's `chat`
    /// filter take.
    pub chat: String,
    pub is_group: bool,
    /// The name the contact's WhatsApp showed with their newest message that carried one;
    /// `null` for groups and for people who have not written yet.
    pub push_name: Option<String>,
    /// A group's name (subject), as the session's number knows it (asked of WhatsApp at most
    /// once a minute); `null` for people, and for a group WhatsApp did not name.
    #[serde(default)]
    pub subject: Option<String>,
    /// Messages the contact (in a group: its members) sent since the session last wrote in
    /// the chat: what is waiting for an answer. Reactions do not count.
    pub unanswered: i64,
    pub last_message: ChatLastMessage,
}

/// The newest message of a chat, as the chat list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChatLastMessage {
    pub id: String,
    /// `in` or `out`.
    pub direction: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The text or caption (empty for a file without one).
    pub message: String,
    pub status: String,
    pub created_at: i64,
    /// Set when it was deleted for everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
}

/// Everything the Chats page shows on its left, in one call (two calls in one resource would
/// lose the server's request context after the first): the caller's sessions, the one shown
/// (the one asked for, else the first) and its chats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionChats {
    pub sessions: Vec<SessionView>,
    pub shown: Option<SessionId>,
    pub chats: Vec<ChatView>,
}

/// A webhook event about a message (`GET /api/messages/{id}/events`): its `message.in` or
/// `message.out`, and what followed (`message.status`, edits, deletes), as they were sent to
/// the webhooks that wanted them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageEvent {
    /// The event's id: each delivery's `webhook-id` header.
    pub id: String,
    pub event: String,
    pub created_at: i64,
    /// The body exactly as it was signed and sent (the bytes a receiver verifies).
    pub body: String,
}

/// Which chats of a session: the newest first, `limit` of them (1–200, default 50), those
/// whose newest message is older than `before` (a millisecond timestamp: the last chat's
/// `lastMessage.createdAt`, to page back).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct ChatFilter {
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub before: Option<i64>,
}

/// Everything the Webhooks page shows above the log, in one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhooksOverview {
    /// Whether the caller may see and set the global webhook.
    pub admin: bool,
    pub global: Option<WebhookView>,
    /// The caller's sessions (all of them for an admin) with their endpoints.
    pub sessions: Vec<(SessionView, Option<WebhookView>)>,
}

/// How a rule's keyword is compared with a message (case-insensitive, trimmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    all(feature = "hydrate", not(feature = "ssr")),
    serde(try_from = "String")
)]
pub enum MatchMode {
    /// The whole message equals the keyword.
    Exact,
    /// The keyword appears anywhere in the message.
    Contains,
    /// The message begins with the keyword.
    StartsWith,
    /// The keyword appears as a whole word (or words): "harga" matches "berapa harga?" but
    /// not "hargai".
    Word,
}

named_enum!(MatchMode: MatchMode::Exact, MatchMode::Contains, MatchMode::StartsWith, MatchMode::Word);

impl MatchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchMode::Exact => "exact",
            MatchMode::Contains => "contains",
            MatchMode::StartsWith => "starts_with",
            MatchMode::Word => "word",
        }
    }

    /// Whether `text` matches `keyword` under this mode. Both must already be folded
    /// ([`fold`]). Shared by the server's auto-reply and the dashboard's "try a message" box.
    pub fn matches(self, keyword: &str, text: &str) -> bool {
        if keyword.is_empty() {
            return false;
        }
        match self {
            MatchMode::Exact => text == keyword,
            MatchMode::Contains => text.contains(keyword),
            MatchMode::StartsWith => text.starts_with(keyword),
            MatchMode::Word => text.match_indices(keyword).any(|(i, _)| {
                let before = text[..i].chars().next_back();
                let after = text[i + keyword.len()..].chars().next();
                !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(char::is_alphanumeric)
            }),
        }
    }

    pub fn parse(s: &str) -> Option<MatchMode> {
        match s {
            "exact" => Some(MatchMode::Exact),
            "contains" => Some(MatchMode::Contains),
            "starts_with" => Some(MatchMode::StartsWith),
            "word" => Some(MatchMode::Word),
            _ => None,
        }
    }
}

/// Trimmed and lower-cased (Unicode-aware: "Ü" → "ü"): how keywords and messages compare.
/// In the browser, JavaScript's `toLowerCase` (the same Unicode mapping) does it, so the
/// bundle does not carry Rust's case tables.
pub fn fold(s: &str) -> String {
    #[cfg(all(feature = "hydrate", not(feature = "ssr"), target_arch = "wasm32"))]
    {
        String::from(web_sys::js_sys::JsString::from(s.trim()).to_lower_case())
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"), target_arch = "wasm32")))]
    {
        s.trim().to_lowercase()
    }
}

/// The auto-reply switch (`GET|PUT /api/auto-reply`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AutoReplySwitch {
    pub enabled: bool,
}

/// A rule as stored and listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    pub id: String,
    pub user_id: UserId,
    pub position: i64,
    pub keyword: String,
    #[serde(rename = "match")]
    pub match_mode: MatchMode,
    pub reply: String,
    pub enabled: bool,
    pub allow_groups: bool,
    /// When set, the reply is an interactive message whose text is `reply` (a keyword opens a
    /// menu); the same form as `/send-interactive`, without `to` and `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive: Option<InteractiveForm>,
    /// When set, the reply sends this file (kept by the server since the rule was saved) with
    /// `reply` as its caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<RuleMedia>,
    /// When set, the reply is this place on the map (`reply` is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The owner's username (for an admin's view of everyone's rules).
    pub username: String,
}

/// The file an auto-reply rule answers with, as the rule shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RuleMedia {
    /// `image`, `video`, `audio`, `voice`, `document` or `sticker`.
    #[serde(rename = "type")]
    pub kind: String,
    pub mimetype: String,
    /// Its size in bytes.
    pub size: u64,
    /// The name the recipient sees (documents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
}

/// The file of an auto-reply rule, as `/send-media` takes it: `url` (fetched once, when the
/// rule is saved) or `base64`, exactly one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleMediaInput {
    /// `image`, `video`, `audio`, `voice`, `document` or `sticker`; inferred from the content
    /// when absent.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mimetype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// `POST /api/auto-reply/rules`, and `PUT /api/auto-reply/rules/{id}` (where every field is
/// optional and only the given ones change; `position` moves the rule).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleInput {
    #[serde(default)]
    pub keyword: Option<String>,
    #[serde(default, rename = "match")]
    pub match_mode: Option<MatchMode>,
    #[serde(default)]
    pub reply: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Whether the rule answers in groups too (contract §6/§12 spell it `groups`).
    #[serde(default, alias = "groups")]
    pub allow_groups: Option<bool>,
    #[serde(default)]
    pub position: Option<i64>,
    /// Absent: unchanged; `null`: a plain text reply again; a form: the reply opens a menu.
    #[cfg_attr(feature = "ssr", schema(value_type = Option<InteractiveForm>))]
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub interactive: Option<Option<InteractiveForm>>,
    /// Absent: unchanged; `null`: no file any more; a file: the reply sends it, with `reply` as
    /// its caption (which may then be empty).
    #[cfg_attr(feature = "ssr", schema(value_type = Option<RuleMediaInput>))]
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub media: Option<Option<RuleMediaInput>>,
    /// Absent: unchanged; `null`: no place any more; a place: the reply is it (`reply` must
    /// then be empty: the place's `name` and `address` are what the chat shows).
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Location>))]
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub location: Option<Option<Location>>,
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
