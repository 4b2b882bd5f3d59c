//! The REST boundary's error: every failure becomes `{"success":false,"error","message"}` with
//! the status its [`ErrorCode`] names. Internal errors are logged and answered with a generic
//! 500, never with their details.

use app::model::{ErrorBody, ErrorCode};
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use std::borrow::Cow;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A 4xx the client can act on; the status comes from the code.
    #[error("{message}")]
    Client {
        code: ErrorCode,
        message: Cow<'static, str>,
        /// Seconds, sent as `Retry-After` (with 429).
        retry_after: Option<u64>,
    },
    /// 500 `INTERNAL_ERROR`: a bug or an outage (database, I/O). Logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError::Client {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        ApiError::Client {
            code: ErrorCode::RateLimited,
            message: format!("Too many requests. Try again in {retry_after_secs} s.").into(),
            retry_after: Some(retry_after_secs.max(1)),
        }
    }

    /// The body a client sees, also used for server-function errors.
    pub fn body(&self) -> ErrorBody {
        match self {
            ApiError::Client { code, message, .. } => ErrorBody::new(*code, message.clone()),
            ApiError::Internal(_) => ErrorBody::new(
                ErrorCode::InternalError,
                "Something went wrong on the server. It has been logged.",
            ),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(e.into())
    }
}

/// A client error found by a shared model's checks (`app::model`), e.g. an interactive form.
impl From<ErrorBody> for ApiError {
    fn from(e: ErrorBody) -> Self {
        ApiError::new(e.error, e.message)
    }
}

impl From<ApiError> for ErrorBody {
    fn from(e: ApiError) -> Self {
        e.log();
        e.body()
    }
}

impl ApiError {
    fn log(&self) {
        if let ApiError::Internal(e) = self {
            tracing::error!(error = format!("{e:#}"), "internal error");
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let body = self.body();
        let status = StatusCode::from_u16(body.error.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, Json(body)).into_response();
        if let ApiError::Client {
            retry_after: Some(secs),
            ..
        } = self
        {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let resp = ApiError::Internal(anyhow::anyhow!("disk /secret/path is full")).into_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("\"INTERNAL_ERROR\""), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }

    #[tokio::test]
    async fn rate_limits_carry_retry_after() {
        let resp = ApiError::rate_limited(7).into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "7");
    }
}
