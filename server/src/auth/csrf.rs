//! Cross-site request forgery: a browser on another site must not make a signed-in person's
//! browser (or a signed-out one: login CSRF) call Kabar.
//!
//! The cookie is `SameSite=Lax`, so it is not sent on cross-site POSTs; this layer closes what
//! that leaves open: sibling sites (`same-site`), old browsers, and `/fn/login`, which needs no
//! cookie at all — a cross-site `enctype=text/plain` form could otherwise sign a victim into
//! the attacker's account. For every state-changing request that carries no API key:
//!
//! - `Sec-Fetch-Site` (sent by every current browser) must be `same-origin` or `none`;
//! - without it, an `Origin` header must name the host the request was sent to;
//! - server functions (`/fn/…`) take only `application/json` bodies (`415` otherwise), which a
//!   cross-site form cannot send without a CORS preflight that Kabar never answers.
//!
//! Requests with an API key are exempt: a key is not ambient authority a browser adds by
//! itself. Non-browser clients send neither header and pass.

use super::extract::{header_key, query_key};
use crate::error::ApiError;
use app::model::ErrorCode;
use axum::{
    extract::Request,
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The middleware (see the module doc).
pub async fn guard(req: Request, next: Next) -> Response {
    if let Err(e) = check(req.method(), req.uri(), req.headers()) {
        return e.into_response();
    }
    next.run(req).await
}

fn check(method: &Method, uri: &axum::http::Uri, headers: &HeaderMap) -> Result<(), ApiError> {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || header_key(headers).is_some() || query_key(uri.query()).is_some() {
        return Ok(());
    }
    if !same_origin(headers) {
        return Err(ApiError::forbidden(
            "Cross-site request refused: call Kabar from its own pages, or with an API key.",
        ));
    }
    if uri.path().starts_with("/fn/") && !is_json(headers) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Send the body as JSON with the header Content-Type: application/json.",
        ));
    }
    Ok(())
}

/// Whether the browser says the request comes from Kabar's own pages (or is not a browser's).
fn same_origin(headers: &HeaderMap) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = get(header::ORIGIN.as_str()) else {
        return true;
    };
    // `Origin: null` (sandboxed frames, some redirects) is never our own page.
    let authority = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'));
    let hosts = [get(header::HOST.as_str()), get("x-forwarded-host")];
    authority.is_some_and(|a| hosts.iter().flatten().any(|h| h.eq_ignore_ascii_case(a)))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, Uri};

    fn run(method: Method, path: &str, headers: &[(&'static str, &'static str)]) -> Option<u16> {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, HeaderValue::from_static(v));
        }
        let uri: Uri = path.parse().expect("uri");
        check(&method, &uri, &h)
            .err()
            .map(|e| e.into_response().status().as_u16())
    }

    const JSON: (&str, &str) = ("content-type", "application/json");

    #[test]
    fn cross_site_posts_are_refused() {
        assert_eq!(
            run(
                Method::POST,
                "/fn/login",
                &[("sec-fetch-site", "cross-site"), JSON]
            ),
            Some(403)
        );
        assert_eq!(
            run(
                Method::POST,
                "/api/sessions",
                &[("sec-fetch-site", "same-site"), JSON]
            ),
            Some(403)
        );
        assert_eq!(
            run(
                Method::POST,
                "/fn/login",
                &[
                    ("origin", "https://evil.example"),
                    ("host", "kabar.example"),
                    JSON
                ]
            ),
            Some(403)
        );
        assert_eq!(
            run(
                Method::DELETE,
                "/api/keys/x",
                &[("origin", "null"), ("host", "kabar.example")]
            ),
            Some(403)
        );
    }

    #[test]
    fn own_pages_and_plain_clients_pass() {
        assert_eq!(
            run(
                Method::POST,
                "/fn/login",
                &[("sec-fetch-site", "same-origin"), JSON]
            ),
            None
        );
        assert_eq!(
            run(
                Method::POST,
                "/fn/login",
                &[
                    ("origin", "http://127.0.0.1:3000"),
                    ("host", "127.0.0.1:3000"),
                    JSON
                ]
            ),
            None
        );
        assert_eq!(run(Method::POST, "/api/auth/login", &[JSON]), None);
        assert_eq!(
            run(Method::GET, "/", &[("sec-fetch-site", "cross-site")]),
            None
        );
        // An API key is no ambient authority.
        assert_eq!(
            run(
                Method::POST,
                "/send-message",
                &[("sec-fetch-site", "cross-site"), ("x-api-key", "kbr_x")]
            ),
            None
        );
    }

    #[test]
    fn server_functions_take_only_json() {
        assert_eq!(
            run(Method::POST, "/fn/login", &[("content-type", "text/plain")]),
            Some(415)
        );
        assert_eq!(
            run(
                Method::POST,
                "/fn/login",
                &[("content-type", "application/x-www-form-urlencoded")]
            ),
            Some(415)
        );
        assert_eq!(run(Method::POST, "/fn/login", &[]), Some(415));
        assert_eq!(
            run(
                Method::POST,
                "/fn/login",
                &[("content-type", "application/json; charset=utf-8")]
            ),
            None
        );
    }
}
