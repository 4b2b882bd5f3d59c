//! Request extractors whose rejections speak the contract's JSON error shape. axum's own
//! answer plain text (`Failed to parse the request body as JSON…`), which clients cannot parse.

use crate::error::ApiError;
use app::model::ErrorCode;
use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request, rejection::JsonRejection},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};

/// Like `axum::Json`, with `400 INVALID_REQUEST` / `413 PAYLOAD_TOO_LARGE` rejections, and only
/// for JSON objects: every request body of the API is one, and serde would otherwise read a
/// struct from an array of its fields in order (`[null, null]` was a valid `PUT /api/settings`).
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(missing_content_type());
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| json_rejection(e.into()))?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(ApiError::invalid(
                "Invalid request body: expected a JSON object, not an array.",
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// [`Json`] for a body that may carry a file as base64 (`/send-media`, a rule answering with a
/// file): over the limit is the contract's `413 MEDIA_TOO_LARGE`, as for a multipart upload,
/// not the generic `PAYLOAD_TOO_LARGE`.
pub struct MediaJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for MediaJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(MediaJson(v)),
            Err(e) if e.body().error == ErrorCode::PayloadTooLarge => Err(ApiError::new(
                ErrorCode::MediaTooLarge,
                "The request is larger than this server takes for a file (--max-media-bytes, as base64).",
            )),
            Err(e) => Err(e),
        }
    }
}

/// `application/json` or `application/<anything>+json`, as `axum::Json` requires.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence
        .strip_prefix("application/")
        .is_some_and(|sub| sub == "json" || sub.ends_with("+json"))
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(ErrorCode::PayloadTooLarge, "The request body is too large.");
    }
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => return missing_content_type(),
        // "expiresIn: invalid value: integer `-5`, expected u64 at line 1 column 95": the path
        // to the field (serde_path_to_error, inside axum) and serde's message.
        JsonRejection::JsonDataError(e) => format!(
            "Invalid request body: {}",
            e.body_text()
                .trim_start_matches("Failed to deserialize the JSON body into the target type: ")
        ),
        JsonRejection::JsonSyntaxError(e) => format!("Malformed JSON: {}", source_text(e)),
        other => other.body_text(),
    };
    ApiError::invalid(message)
}

fn missing_content_type() -> ApiError {
    ApiError::invalid("Send the body as JSON with the header Content-Type: application/json.")
}

fn source_text(e: &dyn std::error::Error) -> String {
    let mut inner: &dyn std::error::Error = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

/// Like `axum::extract::Query`, with a `400 INVALID_REQUEST` JSON rejection.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::invalid(format!("Invalid query string: {}", source_text(&e))))
    }
}
