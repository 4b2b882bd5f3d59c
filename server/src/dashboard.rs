//! The dashboard as served by this binary: the Leptos routes and server functions, the
//! compiled assets embedded in the executable, and [`DashboardBackend`], which implements
//! `app::backend::Backend` with the same services the REST API calls.

use crate::{
    auth::{self, extract::authenticate},
    autoreply,
    error::ApiError,
    keys, sessions, settings,
    state::AppState,
    users, webhooks,
};
use app::shell::GroupFiles;
use app::{
    backend::{Backend, SetCookie, SharedBackend},
    model::*,
};
use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;

/// The compiled dashboard (`target/site`, made by `scripts/build-site.sh`). Release builds
/// embed the files in the binary; debug builds read them from disk so a rebuilt bundle shows
/// up without recompiling the server.
#[derive(rust_embed::Embed)]
#[folder = "../target/site"]
struct Site;

pub fn router(state: &AppState) -> Router<AppState> {
    let backend: SharedBackend = Arc::new(DashboardBackend(state.clone()));
    let context = move || {
        provide_context(backend.clone());
        if let Some(groups) = page_groups() {
            provide_context(app::shell::SplitManifest::for_request(
                groups,
                pkg_dir().into(),
            ));
        }
    };
    let options = state.leptos.clone();
    let routes = generate_route_list(app::App);
    Router::new()
        .leptos_routes_with_context(state, routes, context.clone(), {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .fallback(move |state: State<AppState>, req: Request| {
            let render = leptos_axum::render_app_to_stream_with_context(context.clone(), {
                let options = options.clone();
                move || app::shell(options.clone())
            });
            asset_or_not_found(state, req, render)
        })
}

/// Where this build's bundle is, relative to the site root: `pkg/<hash>` as named by
/// `pkg/build-id` (scripts/build-site.sh puts the WebAssembly, JS and CSS in a directory named
/// by the hash of their contents, so they can be cached for good), or `pkg` without that file.
/// Read once: a rebuilt bundle is picked up by the next start.
pub fn pkg_dir() -> &'static str {
    static DIR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        Site::get("pkg/build-id")
            .and_then(|f| {
                let id = String::from_utf8_lossy(&f.data).trim().to_string();
                let plain = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric());
                plain.then(|| format!("pkg/{id}"))
            })
            .unwrap_or_else(|| "pkg".to_string())
    })
}

/// The page groups' files (`split-manifest.json` in [`pkg_dir`]), read once; `None` without
/// the file (pages still load, only without preloads). See `app::shell::SplitManifest`.
fn page_groups() -> Option<GroupFiles> {
    static GROUPS: std::sync::OnceLock<Option<GroupFiles>> = std::sync::OnceLock::new();
    GROUPS
        .get_or_init(|| {
            let file = Site::get(&format!("{}/split-manifest.json", pkg_dir()))?;
            serde_json::from_slice(&file.data)
                .map(Arc::new)
                .map_err(|e| tracing::warn!(error = %e, "split-manifest.json unreadable"))
                .ok()
        })
        .clone()
}

/// Serves an embedded file, or a JSON 404 under the API prefixes, or the dashboard's 404 page.
async fn asset_or_not_found<F, Fut>(_: State<AppState>, req: Request, render: F) -> Response
where
    F: Fn(Request<Body>) -> Fut,
    Fut: Future<Output = Response<Body>>,
{
    let path = req.uri().path().trim_start_matches('/').to_string();
    let path = path.as_str();
    if let Some(resp) = asset(path, req.headers()) {
        return resp;
    }
    let is_api = is_api_path(path);
    if !is_api && req.method() != axum::http::Method::GET {
        let (parts, _) = req.into_parts();
        if crate::forms::is_form_post(&parts) {
            return crate::forms::needs_script(&parts);
        }
        return ApiError::not_found(format!("No such endpoint: {} /{path}", parts.method))
            .into_response();
    }
    if is_api {
        return ApiError::not_found(format!("No such endpoint: {} /{path}", req.method()))
            .into_response();
    }
    render(req).await
}

/// Whether `path` (without its leading `/`) belongs to an API rather than the dashboard's pages.
pub fn is_api_path(path: &str) -> bool {
    ["api/", "fn/", "simulator/"]
        .iter()
        .any(|p| path.starts_with(p))
        || matches!(
            path,
            "api" | "status" | "send-message" | "send-interactive" | "healthz"
        )
}

/// Whether the compiled site has the file at `path` (relative to `target/site`).
pub fn asset_exists(path: &str) -> bool {
    Site::get(path).is_some()
}

/// The embedded file at `path` (relative to `target/site`) with its type and an ETag (a
/// `304` when the browser already has it), or `None` when there is no such file. When the
/// browser accepts it, the copy compressed at build time (`.br`, else `.gz`, made by
/// `scripts/precompress.mjs`) is sent instead, with `Content-Encoding`: the dashboard's
/// WebAssembly is a third of its size in brotli, which is most of a slow first load.
pub fn asset(path: &str, headers: &axum::http::HeaderMap) -> Option<Response> {
    let file = Site::get(path)?;
    let mimetype = file.metadata.mimetype().to_string();
    let compressed = compressed_copies(path)
        .into_iter()
        .filter(|(encoding, _)| accepts(headers, encoding))
        .find_map(|(encoding, name)| Site::get(&name).map(|f| (encoding, f)));
    let (file, encoding) = match compressed {
        Some((encoding, f)) => (f, Some(encoding)),
        None => (file, None),
    };
    // Each encoding is its own representation with its own tag.
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    let mut resp = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(&etag)
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(file.data.into_owned()))
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&mimetype) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Some(encoding) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    if !compressed_copies(path).is_empty() {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    h.insert(header::CACHE_CONTROL, cache_control(path));
    Some(resp)
}

/// The bundle's directory is named by the hash of its contents ([`pkg_dir`]): what is in it
/// never changes, so browsers keep it for a year without asking again. Everything else
/// (favicon, `/docs`' Swagger UI, `build-id`) keeps its name across releases and is
/// revalidated by ETag on each use.
fn cache_control(path: &str) -> HeaderValue {
    let hashed = pkg_dir() != "pkg"
        && path
            .strip_prefix(pkg_dir())
            .is_some_and(|rest| rest.starts_with('/'));
    HeaderValue::from_static(if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    })
}

/// The compressed copies `path` may have, best first (none for what is compressed already).
fn compressed_copies(path: &str) -> Vec<(&'static str, String)> {
    if path.ends_with(".br") || path.ends_with(".gz") || Site::get(&format!("{path}.gz")).is_none()
    {
        return Vec::new();
    }
    vec![("br", format!("{path}.br")), ("gzip", format!("{path}.gz"))]
}

/// Whether `Accept-Encoding` takes `encoding` (named, or `*`, with a quality above 0).
fn accepts(headers: &axum::http::HeaderMap, encoding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case(encoding) || name == "*") && !refused
        })
}

/// `app::backend::Backend` on top of the server's services. Each call authenticates the
/// request itself, exactly like the REST extractor does.
pub struct DashboardBackend(pub AppState);

impl DashboardBackend {
    async fn caller(&self, req: &Parts) -> Result<auth::extract::Caller, ErrorBody> {
        Ok(authenticate(&self.0, req).await?)
    }

    /// The running session `id`, if the signed-in person may use it.
    async fn session_for(
        &self,
        req: &Parts,
        id: &SessionId,
    ) -> Result<sessions::SessionHandle, ErrorBody> {
        let caller = self.caller(req).await?;
        sessions::store::owned(&self.0, &caller, id).await?;
        Ok(self.0.sessions.require(id)?)
    }
}

#[async_trait::async_trait]
impl Backend for DashboardBackend {
    async fn server_info(&self) -> Result<ServerInfo, ErrorBody> {
        Ok(ServerInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            engine: self.0.config.engine.as_str().to_string(),
            // Open when the setting says so, and always before the first account (the admin's).
            allow_registration: settings::allow_registration(&self.0).await?
                || !crate::users::any_exist(&self.0).await?,
        })
    }

    async fn me(&self, req: &Parts) -> Result<Option<Me>, ErrorBody> {
        match authenticate(&self.0, req).await {
            Ok(c) => Ok(Some(c.me())),
            Err(ApiError::Client {
                code: ErrorCode::Unauthorized,
                ..
            }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn login(&self, req: &Parts, creds: Credentials) -> Result<(Me, SetCookie), ErrorBody> {
        let (me, _token, cookie) = auth::login(&self.0, req, creds).await?;
        Ok((me, cookie))
    }

    async fn register(
        &self,
        req: &Parts,
        creds: Credentials,
    ) -> Result<(Me, SetCookie), ErrorBody> {
        Ok(auth::register(&self.0, req, creds).await?)
    }

    async fn logout(&self, req: &Parts) -> Result<SetCookie, ErrorBody> {
        Ok(auth::logout(&self.0, req).await?)
    }

    async fn list_users(
        &self,
        req: &Parts,
        page: Option<PageAt>,
    ) -> Result<Vec<UserView>, ErrorBody> {
        let all = users::list(&self.0, &self.caller(req).await?).await?;
        Ok(cut(page, all, |u| &u.id.0)?)
    }

    async fn create_user(&self, req: &Parts, new: NewUser) -> Result<UserView, ErrorBody> {
        Ok(users::create(&self.0, &self.caller(req).await?, new).await?)
    }

    async fn update_user(
        &self,
        req: &Parts,
        id: UserId,
        patch: UserPatch,
    ) -> Result<UserView, ErrorBody> {
        Ok(users::update(&self.0, &self.caller(req).await?, &id, patch).await?)
    }

    async fn delete_user(&self, req: &Parts, id: UserId) -> Result<(), ErrorBody> {
        Ok(users::delete(&self.0, &self.caller(req).await?, &id).await?)
    }

    async fn list_keys(
        &self,
        req: &Parts,
        page: Option<PageAt>,
    ) -> Result<Vec<ApiKeyView>, ErrorBody> {
        let all = keys::list(&self.0, &self.caller(req).await?).await?;
        Ok(cut(page, all, |k| &k.id.0)?)
    }

    async fn create_key(&self, req: &Parts, new: NewApiKey) -> Result<CreatedApiKey, ErrorBody> {
        Ok(keys::create(&self.0, &self.caller(req).await?, new).await?)
    }

    async fn revoke_key(&self, req: &Parts, id: ApiKeyId) -> Result<(), ErrorBody> {
        Ok(keys::revoke(&self.0, &self.caller(req).await?, &id).await?)
    }

    async fn list_sessions(
        &self,
        req: &Parts,
        page: Option<PageAt>,
    ) -> Result<Vec<SessionView>, ErrorBody> {
        let all = sessions::store::list(&self.0, &self.caller(req).await?).await?;
        Ok(cut(page, all, |s| &s.id.0)?)
    }

    async fn sessions_activity(
        &self,
        req: &Parts,
        page: Option<PageAt>,
    ) -> Result<Vec<SessionActivity>, ErrorBody> {
        let caller = self.caller(req).await?;
        let page = page.unwrap_or_default();
        Ok(sessions::activity::activity(&self.0, &caller, &page)
            .await?
            .0)
    }

    async fn session_page(&self, req: &Parts, id: SessionId) -> Result<SessionPage, ErrorBody> {
        let session = sessions::store::view(&self.0, &self.caller(req).await?, &id).await?;
        let mut groups = Vec::new();
        if session.status == SessionStatus::Connected
            && let Some(handle) = self.0.sessions.get(&id)
        {
            // The session page still shows when WhatsApp does not answer about groups (soon).
            let asked = crate::groups::all(&handle);
            match tokio::time::timeout(std::time::Duration::from_secs(10), asked).await {
                Ok(Ok(all)) => groups = all.into_iter().map(group_row).collect(),
                Ok(Err(e)) => {
                    tracing::warn!(session = %id, error = ?e, "listing groups for the session page")
                }
                Err(_) => tracing::warn!(session = %id, "WhatsApp did not list the groups in 10 s"),
            }
        }
        Ok((session, groups))
    }

    async fn create_session(&self, req: &Parts, new: NewSession) -> Result<SessionView, ErrorBody> {
        Ok(sessions::store::create(&self.0, &self.caller(req).await?, new).await?)
    }

    async fn send_message(
        &self,
        req: &Parts,
        session: SessionId,
        body: SendMessage,
    ) -> Result<SendMessageResponse, ErrorBody> {
        let handle = self.session_for(req, &session).await?;
        let sent = crate::outbound::send_text(&self.0, &handle, body).await;
        self.0.metrics.send("send-message", &sent);
        Ok(sent?)
    }

    async fn send_interactive(
        &self,
        req: &Parts,
        session: SessionId,
        body: SendInteractive,
    ) -> Result<SendInteractiveResponse, ErrorBody> {
        let handle = self.session_for(req, &session).await?;
        let sent = crate::outbound::send_interactive(&self.0, &handle, body).await;
        self.0.metrics.send("send-interactive", &sent);
        Ok(sent?)
    }

    async fn update_session(
        &self,
        req: &Parts,
        id: SessionId,
        patch: SessionPatch,
    ) -> Result<SessionView, ErrorBody> {
        Ok(sessions::store::update(&self.0, &self.caller(req).await?, &id, patch).await?)
    }

    async fn pair_code(
        &self,
        req: &Parts,
        id: SessionId,
        phone_number: String,
    ) -> Result<PairCodeResponse, ErrorBody> {
        let caller = self.caller(req).await?;
        Ok(
            sessions::store::pair_code(&self.0, &caller, &id, PairCodeRequest { phone_number })
                .await?,
        )
    }

    async fn logout_session(&self, req: &Parts, id: SessionId) -> Result<(), ErrorBody> {
        Ok(sessions::store::logout(&self.0, &self.caller(req).await?, &id).await?)
    }

    async fn stop_session(&self, req: &Parts, id: SessionId) -> Result<SessionView, ErrorBody> {
        Ok(sessions::store::stop(&self.0, &self.caller(req).await?, &id).await?)
    }

    async fn start_session(&self, req: &Parts, id: SessionId) -> Result<SessionView, ErrorBody> {
        Ok(sessions::store::start(&self.0, &self.caller(req).await?, &id).await?)
    }

    async fn delete_session(&self, req: &Parts, id: SessionId) -> Result<(), ErrorBody> {
        Ok(sessions::store::delete(&self.0, &self.caller(req).await?, &id).await?)
    }

    async fn auto_reply(&self, req: &Parts) -> Result<AutoReplySwitch, ErrorBody> {
        Ok(autoreply::get_switch(&self.0, &self.caller(req).await?).await?)
    }

    async fn set_auto_reply(
        &self,
        req: &Parts,
        enabled: bool,
    ) -> Result<AutoReplySwitch, ErrorBody> {
        Ok(autoreply::set_switch(&self.0, &self.caller(req).await?, enabled).await?)
    }

    async fn rules(
        &self,
        req: &Parts,
        all: bool,
        page: Option<PageAt>,
    ) -> Result<Vec<RuleView>, ErrorBody> {
        let list = autoreply::list(&self.0, &self.caller(req).await?, all).await?;
        Ok(cut(page, list, |r| &r.id)?)
    }

    async fn create_rule(&self, req: &Parts, input: RuleInput) -> Result<RuleView, ErrorBody> {
        Ok(autoreply::create(&self.0, &self.caller(req).await?, input).await?)
    }

    async fn update_rule(
        &self,
        req: &Parts,
        id: String,
        input: RuleInput,
    ) -> Result<RuleView, ErrorBody> {
        Ok(autoreply::update(&self.0, &self.caller(req).await?, &id, input).await?)
    }

    async fn delete_rule(&self, req: &Parts, id: String) -> Result<(), ErrorBody> {
        Ok(autoreply::delete(&self.0, &self.caller(req).await?, &id).await?)
    }

    async fn webhooks_overview(&self, req: &Parts) -> Result<WebhooksOverview, ErrorBody> {
        let caller = self.caller(req).await?;
        let global = if caller.is_admin() {
            webhooks::api::load_endpoint(&self.0, None).await?
        } else {
            None
        };
        let mut list = Vec::new();
        for s in sessions::store::list(&self.0, &caller).await? {
            let hook = webhooks::api::load_endpoint(&self.0, Some(&s.id)).await?;
            list.push((s, hook));
        }
        Ok(WebhooksOverview {
            admin: caller.is_admin(),
            global,
            sessions: list,
        })
    }

    async fn session_webhook(
        &self,
        req: &Parts,
        id: SessionId,
    ) -> Result<Option<WebhookView>, ErrorBody> {
        Ok(webhooks::api::session_webhook(&self.0, &self.caller(req).await?, id.0).await?)
    }

    async fn save_session_webhook(
        &self,
        req: &Parts,
        id: SessionId,
        cfg: WebhookConfig,
    ) -> Result<WebhookView, ErrorBody> {
        Ok(
            webhooks::api::save_session_webhook(&self.0, &self.caller(req).await?, id.0, cfg)
                .await?,
        )
    }

    async fn remove_session_webhook(&self, req: &Parts, id: SessionId) -> Result<(), ErrorBody> {
        Ok(webhooks::api::remove_session_webhook(&self.0, &self.caller(req).await?, id.0).await?)
    }

    async fn messages(
        &self,
        req: &Parts,
        filter: MessageFilter,
    ) -> Result<Vec<MessageRow>, ErrorBody> {
        let list = crate::messages::list(&self.0, &self.caller(req).await?, filter).await?;
        let shown: Vec<_> = list
            .iter()
            .map(|m| (m.session_id.0.clone(), m.id.clone()))
            .collect();
        let mut reactions = crate::messages::reactions(&self.0.db, &shown)
            .await
            .map_err(ApiError::from)?;
        Ok(list
            .into_iter()
            .map(|m| {
                let on = reactions.remove(&(m.session_id.0.clone(), m.id.clone()));
                MessageRow {
                    reactions: on.unwrap_or_default(),
                    ..MessageRow::from(m)
                }
            })
            .collect())
    }

    async fn chats(
        &self,
        req: &Parts,
        session: Option<SessionId>,
        before: Option<i64>,
    ) -> Result<SessionChats, ErrorBody> {
        let caller = self.caller(req).await?;
        let sessions = sessions::store::list(&self.0, &caller).await?;
        let shown = session.or_else(|| sessions.first().map(|s| s.id.clone()));
        let page = ChatFilter {
            before,
            ..ChatFilter::default()
        };
        let chats = match &shown {
            Some(id) => crate::messages::chats(&self.0, &caller, id, page).await?,
            None => Vec::new(),
        };
        Ok(SessionChats {
            sessions,
            shown,
            chats,
        })
    }

    async fn deliveries(
        &self,
        req: &Parts,
        f: DeliveryFilter,
    ) -> Result<Vec<DeliveryView>, ErrorBody> {
        let caller = self.caller(req).await?;
        let some = |s: Option<String>| s.filter(|s| !s.is_empty());
        Ok(webhooks::api::deliveries(
            &self.0,
            &caller,
            some(f.session),
            some(f.event),
            some(f.status),
            f.limit,
            some(f.cursor),
        )
        .await?
        .0)
    }

    async fn delivery(&self, req: &Parts, id: String) -> Result<DeliveryDetail, ErrorBody> {
        Ok(webhooks::api::delivery(&self.0, &self.caller(req).await?, &id).await?)
    }

    async fn retry_delivery(&self, req: &Parts, id: String) -> Result<(), ErrorBody> {
        Ok(webhooks::api::retry(&self.0, &self.caller(req).await?, &id).await?)
    }

    async fn test_webhook(
        &self,
        req: &Parts,
        session: Option<SessionId>,
    ) -> Result<String, ErrorBody> {
        Ok(webhooks::api::send_test(&self.0, &self.caller(req).await?, session).await?)
    }

    async fn settings(&self, req: &Parts) -> Result<Settings, ErrorBody> {
        Ok(settings::get(&self.0, &self.caller(req).await?).await?)
    }

    async fn update_settings(
        &self,
        req: &Parts,
        patch: SettingsPatch,
    ) -> Result<Settings, ErrorBody> {
        Ok(settings::update(&self.0, &self.caller(req).await?, patch).await?)
    }
}

/// One page of a whole account list, as the REST lists cut it ([`crate::paging`]); `None`
/// answers the whole list.
fn cut<T>(page: Option<PageAt>, all: Vec<T>, id: impl Fn(&T) -> &str) -> Result<Vec<T>, ApiError> {
    match page {
        None => Ok(all),
        Some(page) => Ok(crate::paging::cut(&page, all, id)?.0),
    }
}

#[cfg(test)]
mod tests {
    use super::accepts;
    use axum::http::{HeaderMap, HeaderValue, header};

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).expect("header"),
        );
        h
    }

    #[test]
    fn accept_encoding_is_read_as_browsers_send_it() {
        let chrome = with("gzip, deflate, br, zstd");
        assert!(accepts(&chrome, "br") && accepts(&chrome, "gzip"));
        let old = with("gzip;q=1.0, deflate");
        assert!(!accepts(&old, "br") && accepts(&old, "gzip"));
        let refused = with("br;q=0, gzip;q=0.5");
        assert!(!accepts(&refused, "br") && accepts(&refused, "gzip"));
        assert!(accepts(&with("*"), "br"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
        assert!(accepts(&with("BR"), "br"));
    }
}
