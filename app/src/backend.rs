//! What the dashboard needs from the server, declared here and implemented by `server`
//! (`server::dashboard::DashboardBackend`) with the same services the REST API uses.
//!
//! Every method receives the request's parts and authenticates them itself, so a server
//! function — a public HTTP endpoint like any other — can never skip the auth check.

use crate::model::*;
use http::request::Parts;
use std::sync::Arc;

/// A `Set-Cookie` header value the server function must attach to its response.
pub type SetCookie = String;

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn server_info(&self) -> Result<ServerInfo, ErrorBody>;
    /// `None` when the request carries no valid credentials (not an error for the UI).
    async fn me(&self, req: &Parts) -> Result<Option<Me>, ErrorBody>;
    async fn login(&self, req: &Parts, creds: Credentials) -> Result<(Me, SetCookie), ErrorBody>;
    async fn register(&self, req: &Parts, creds: Credentials)
    -> Result<(Me, SetCookie), ErrorBody>;
    async fn logout(&self, req: &Parts) -> Result<SetCookie, ErrorBody>;

    /// `page`: `None` for the whole list; see [`PageAt`].
    async fn list_users(
        &self,
        req: &Parts,
        page: Option<PageAt>,
    ) -> Result<Vec<UserView>, ErrorBody>;
    async fn create_user(&self, req: &Parts, new: NewUser) -> Result<UserView, ErrorBody>;
    async fn update_user(
        &self,
        req: &Parts,
        id: UserId,
        patch: UserPatch,
    ) -> Result<UserView, ErrorBody>;
    async fn delete_user(&self, req: &Parts, id: UserId) -> Result<(), ErrorBody>;

    async fn list_keys(
        &self,
        req: &Parts,
        page: Option<PageAt>,
    ) -> Result<Vec<ApiKeyView>, ErrorBody>;
    async fn create_key(&self, req: &Parts, new: NewApiKey) -> Result<CreatedApiKey, ErrorBody>;
    async fn revoke_key(&self, req: &Parts, id: ApiKeyId) -> Result<(), ErrorBody>;

    async fn list_sessions(
        &self,
        req: &Parts,
        page: Option<PageAt>,
    ) -> Result<Vec<SessionView>, ErrorBody>;
    /// Each visible session's last 24 hours (the Sessions overview).
    async fn sessions_activity(
        &self,
        req: &Parts,
        page: Option<PageAt>,
    ) -> Result<Vec<SessionActivity>, ErrorBody>;
    async fn create_session(&self, req: &Parts, new: NewSession) -> Result<SessionView, ErrorBody>;
    async fn logout_session(&self, req: &Parts, id: SessionId) -> Result<(), ErrorBody>;
    /// Stops a session without unlinking it, until it is started again.
    async fn stop_session(&self, req: &Parts, id: SessionId) -> Result<SessionView, ErrorBody>;
    async fn start_session(&self, req: &Parts, id: SessionId) -> Result<SessionView, ErrorBody>;
    /// The session and, once it is linked, the groups its number is in.
    async fn session_page(&self, req: &Parts, id: SessionId) -> Result<SessionPage, ErrorBody>;
    async fn send_message(
        &self,
        req: &Parts,
        session: SessionId,
        body: SendMessage,
    ) -> Result<SendMessageResponse, ErrorBody>;
    async fn send_interactive(
        &self,
        req: &Parts,
        session: SessionId,
        body: SendInteractive,
    ) -> Result<SendInteractiveResponse, ErrorBody>;
    async fn update_session(
        &self,
        req: &Parts,
        id: SessionId,
        patch: SessionPatch,
    ) -> Result<SessionView, ErrorBody>;
    async fn pair_code(
        &self,
        req: &Parts,
        id: SessionId,
        phone_number: String,
    ) -> Result<PairCodeResponse, ErrorBody>;
    async fn delete_session(&self, req: &Parts, id: SessionId) -> Result<(), ErrorBody>;

    async fn auto_reply(&self, req: &Parts) -> Result<AutoReplySwitch, ErrorBody>;
    async fn set_auto_reply(
        &self,
        req: &Parts,
        enabled: bool,
    ) -> Result<AutoReplySwitch, ErrorBody>;
    async fn rules(
        &self,
        req: &Parts,
        all: bool,
        page: Option<PageAt>,
    ) -> Result<Vec<RuleView>, ErrorBody>;
    async fn create_rule(&self, req: &Parts, input: RuleInput) -> Result<RuleView, ErrorBody>;
    async fn update_rule(
        &self,
        req: &Parts,
        id: String,
        input: RuleInput,
    ) -> Result<RuleView, ErrorBody>;
    async fn delete_rule(&self, req: &Parts, id: String) -> Result<(), ErrorBody>;

    async fn messages(
        &self,
        req: &Parts,
        filter: MessageFilter,
    ) -> Result<Vec<MessageRow>, ErrorBody>;
    /// The caller's sessions and one page of the shown session's chats: those whose newest
    /// message is older than `before` (ms), or the newest.
    async fn chats(
        &self,
        req: &Parts,
        session: Option<SessionId>,
        before: Option<i64>,
    ) -> Result<SessionChats, ErrorBody>;

    async fn webhooks_overview(&self, req: &Parts) -> Result<WebhooksOverview, ErrorBody>;
    async fn session_webhook(
        &self,
        req: &Parts,
        id: SessionId,
    ) -> Result<Option<WebhookView>, ErrorBody>;
    async fn save_session_webhook(
        &self,
        req: &Parts,
        id: SessionId,
        cfg: WebhookConfig,
    ) -> Result<WebhookView, ErrorBody>;
    async fn remove_session_webhook(&self, req: &Parts, id: SessionId) -> Result<(), ErrorBody>;
    async fn deliveries(
        &self,
        req: &Parts,
        filter: DeliveryFilter,
    ) -> Result<Vec<DeliveryView>, ErrorBody>;
    async fn delivery(&self, req: &Parts, id: String) -> Result<DeliveryDetail, ErrorBody>;
    async fn retry_delivery(&self, req: &Parts, id: String) -> Result<(), ErrorBody>;
    async fn test_webhook(
        &self,
        req: &Parts,
        session: Option<SessionId>,
    ) -> Result<String, ErrorBody>;

    async fn settings(&self, req: &Parts) -> Result<Settings, ErrorBody>;
    async fn update_settings(
        &self,
        req: &Parts,
        patch: SettingsPatch,
    ) -> Result<Settings, ErrorBody>;
}

/// The handle placed in Leptos context by the server.
pub type SharedBackend = Arc<dyn Backend>;

/// The backend and the current request, as every server function needs them.
pub fn context() -> Result<(SharedBackend, Parts), ErrorBody> {
    let backend = leptos::prelude::use_context::<SharedBackend>().ok_or_else(|| {
        ErrorBody::new(
            ErrorCode::InternalError,
            "The dashboard backend is not configured.",
        )
    })?;
    let parts = leptos::prelude::use_context::<Parts>()
        .ok_or_else(|| ErrorBody::new(ErrorCode::InternalError, "No request in context."))?;
    Ok((backend, parts))
}

/// Gives a server function's error response the status its code names (403, 409, …) instead
/// of a blanket 500, so the dashboard's calls answer like the REST API's.
pub fn respond<T>(result: Result<T, ErrorBody>) -> Result<T, ErrorBody> {
    if let (Err(e), Some(opts)) = (
        &result,
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(status) = http::StatusCode::from_u16(e.error.http_status())
    {
        opts.set_status(status);
    }
    result
}

/// Attaches a `Set-Cookie` header to the server function's response.
pub fn set_cookie(value: &str) {
    if let (Some(opts), Ok(v)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        opts.append_header(http::header::SET_COOKIE, v);
    }
}
