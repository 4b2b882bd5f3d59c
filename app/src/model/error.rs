//! The one error shape every client sees: `{"success":false,"error":CODE,"message":TEXT}`.
//!
//! Used as the JSON body of every failed REST call and as the error type of every server
//! function, so the dashboard shows exactly what an API client would get.

use serde::{Deserialize, Serialize};
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// Machine-readable error codes (contract §1 and §4). Each variant's doc names its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(
    all(feature = "hydrate", not(feature = "ssr")),
    serde(try_from = "String")
)]
pub enum ErrorCode {
    /// 400: malformed JSON, a missing or mistyped field, an invalid value.
    InvalidRequest,
    /// 400: `to` is not a phone number or a WhatsApp JID.
    InvalidPhone,
    /// 400: more than one session could be meant; name one.
    SessionRequired,
    /// 400: more than 3 quick-reply buttons.
    ButtonLimitExceeded,
    /// 400: a `buttonParamsJson` that does not parse or lacks a field.
    InvalidButtonParams,
    /// 400: a media type or format that WhatsApp does not take (or that was not recognised).
    UnsupportedMedia,
    /// 401: no credentials, or wrong, revoked, expired or forged ones.
    Unauthorized,
    /// 403: signed in but not allowed.
    Forbidden,
    /// 403: self-registration is turned off by an admin.
    RegistrationClosed,
    /// 403: a quota (sessions per user, …) is used up; an admin can raise it.
    QuotaExceeded,
    /// 403: only a group's admins may do that (or the group refuses it).
    NotGroupAdmin,
    /// 404: no such resource (or not yours).
    NotFound,
    /// 404: the session does not exist or is not yours.
    SessionNotFound,
    /// 404: the number is not on WhatsApp.
    ContactNotFound,
    /// 404: no such message in the session (or not yours), or it has no media.
    MessageNotFound,
    /// 404: the session is not in that group (or there is no such group).
    GroupNotFound,
    /// 405: the path exists but not with this method.
    MethodNotAllowed,
    /// 409: the username is taken.
    UsernameTaken,
    /// 409: the change would leave no active admin.
    LastAdmin,
    /// 409: the session is not connected.
    SessionNotConnected,
    /// 409: an `Idempotency-Key` reused for another request, or while its first is running.
    IdempotencyConflict,
    /// 409: the message cannot be edited: not the session's own text, or older than
    /// WhatsApp's 15 minutes.
    NotEditable,
    /// 413: the body is over the configured limit.
    PayloadTooLarge,
    /// 413: a media file over `--max-media-bytes`.
    MediaTooLarge,
    /// 415: a cookie-authenticated call or server function without a JSON body.
    UnsupportedMediaType,
    /// 429: too many requests; `Retry-After` says when to try again.
    RateLimited,
    /// 500: anything else. Never carries internals.
    InternalError,
    /// 502: the media `url` could not be fetched.
    MediaFetchFailed,
    /// 503: nothing was stored (the database refused the write); try again.
    ServiceUnavailable,
}

named_enum!(ErrorCode:
    ErrorCode::InvalidRequest,
    ErrorCode::InvalidPhone,
    ErrorCode::SessionRequired,
    ErrorCode::ButtonLimitExceeded,
    ErrorCode::InvalidButtonParams,
    ErrorCode::UnsupportedMedia,
    ErrorCode::Unauthorized,
    ErrorCode::Forbidden,
    ErrorCode::RegistrationClosed,
    ErrorCode::QuotaExceeded,
    ErrorCode::NotGroupAdmin,
    ErrorCode::NotFound,
    ErrorCode::SessionNotFound,
    ErrorCode::ContactNotFound,
    ErrorCode::MessageNotFound,
    ErrorCode::GroupNotFound,
    ErrorCode::MethodNotAllowed,
    ErrorCode::UsernameTaken,
    ErrorCode::LastAdmin,
    ErrorCode::SessionNotConnected,
    ErrorCode::IdempotencyConflict,
    ErrorCode::NotEditable,
    ErrorCode::PayloadTooLarge,
    ErrorCode::MediaTooLarge,
    ErrorCode::UnsupportedMediaType,
    ErrorCode::RateLimited,
    ErrorCode::InternalError,
    ErrorCode::MediaFetchFailed,
    ErrorCode::ServiceUnavailable,
);

impl ErrorCode {
    /// The code as it appears in JSON (`RATE_LIMITED`).
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidRequest => "INVALID_REQUEST",
            InvalidPhone => "INVALID_PHONE",
            SessionRequired => "SESSION_REQUIRED",
            ButtonLimitExceeded => "BUTTON_LIMIT_EXCEEDED",
            InvalidButtonParams => "INVALID_BUTTON_PARAMS",
            UnsupportedMedia => "UNSUPPORTED_MEDIA",
            Unauthorized => "UNAUTHORIZED",
            Forbidden => "FORBIDDEN",
            RegistrationClosed => "REGISTRATION_CLOSED",
            QuotaExceeded => "QUOTA_EXCEEDED",
            NotGroupAdmin => "NOT_GROUP_ADMIN",
            NotFound => "NOT_FOUND",
            SessionNotFound => "SESSION_NOT_FOUND",
            ContactNotFound => "CONTACT_NOT_FOUND",
            MessageNotFound => "MESSAGE_NOT_FOUND",
            GroupNotFound => "GROUP_NOT_FOUND",
            MethodNotAllowed => "METHOD_NOT_ALLOWED",
            UsernameTaken => "USERNAME_TAKEN",
            LastAdmin => "LAST_ADMIN",
            SessionNotConnected => "SESSION_NOT_CONNECTED",
            IdempotencyConflict => "IDEMPOTENCY_CONFLICT",
            NotEditable => "NOT_EDITABLE",
            PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            MediaTooLarge => "MEDIA_TOO_LARGE",
            UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            RateLimited => "RATE_LIMITED",
            InternalError => "INTERNAL_ERROR",
            MediaFetchFailed => "MEDIA_FETCH_FAILED",
            ServiceUnavailable => "SERVICE_UNAVAILABLE",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidRequest | InvalidPhone | SessionRequired | ButtonLimitExceeded
            | InvalidButtonParams | UnsupportedMedia => 400,
            Unauthorized => 401,
            Forbidden | RegistrationClosed | QuotaExceeded | NotGroupAdmin => 403,
            NotFound | SessionNotFound | ContactNotFound | MessageNotFound | GroupNotFound => 404,
            MethodNotAllowed => 405,
            UsernameTaken | LastAdmin | SessionNotConnected | IdempotencyConflict | NotEditable => {
                409
            }
            PayloadTooLarge | MediaTooLarge => 413,
            UnsupportedMediaType => 415,
            RateLimited => 429,
            InternalError => 500,
            MediaFetchFailed => 502,
            ServiceUnavailable => 503,
        }
    }
}

/// The JSON error body. `success` is always `false`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[error("{message}")]
pub struct ErrorBody {
    pub success: bool,
    pub error: ErrorCode,
    pub message: String,
}

impl ErrorBody {
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            success: false,
            error,
            message: message.into(),
        }
    }
}

impl FromServerFnError for ErrorBody {
    type Encoder = server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => {
                ErrorBody::new(ErrorCode::InvalidRequest, m)
            }
            ServerFnErrorErr::Request(_) => ErrorBody::new(
                ErrorCode::InternalError,
                "The server could not be reached. Check your connection and try again.",
            ),
            _ => ErrorBody::new(
                ErrorCode::InternalError,
                "Something went wrong on the server.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_str_matches_the_json_spelling() {
        use ErrorCode::*;
        for code in [
            InvalidRequest,
            InvalidPhone,
            SessionRequired,
            ButtonLimitExceeded,
            InvalidButtonParams,
            Unauthorized,
            Forbidden,
            RegistrationClosed,
            QuotaExceeded,
            NotFound,
            SessionNotFound,
            ContactNotFound,
            MethodNotAllowed,
            UsernameTaken,
            LastAdmin,
            SessionNotConnected,
            IdempotencyConflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            RateLimited,
            InternalError,
            ServiceUnavailable,
        ] {
            let json = serde_json::to_string(&code).expect("json");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(code));
            assert!((400..=503).contains(&code.http_status()));
        }
        assert_eq!(ErrorCode::from_name("invalid_request"), None);
    }
}
