//! Server functions: the dashboard's calls. Each is a thin pass-through to the [`Backend`]
//! (crate::backend::Backend), which authenticates the request and runs the same service the
//! REST API runs. They live under `/fn/…` so that `/api/…` stays the documented REST API.
//! Functions whose arguments are structs take JSON (`input = Json`): the default form encoding
//! cannot express empty lists, nor an absent option apart from an empty one.

use crate::model::*;
use leptos::prelude::*;

#[server(prefix = "/fn", endpoint = "server_info", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn get_server_info() -> Result<ServerInfo, ErrorBody> {
    let (b, _) = crate::backend::context()?;
    crate::backend::respond(b.server_info().await)
}

#[server(prefix = "/fn", endpoint = "me", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn get_me() -> Result<Option<Me>, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.me(&req).await)
}

#[server(prefix = "/fn", endpoint = "login", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn login(username: String, password: String) -> Result<Me, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    let result = b.login(&req, Credentials { username, password }).await;
    crate::backend::respond(result.map(|(me, cookie)| {
        crate::backend::set_cookie(&cookie);
        me
    }))
}

#[server(prefix = "/fn", endpoint = "register", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn register(username: String, password: String) -> Result<Me, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    let result = b.register(&req, Credentials { username, password }).await;
    crate::backend::respond(result.map(|(me, cookie)| {
        crate::backend::set_cookie(&cookie);
        me
    }))
}

#[server(prefix = "/fn", endpoint = "logout", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn logout() -> Result<(), ErrorBody> {
    let (b, req) = crate::backend::context()?;
    let result = b.logout(&req).await;
    crate::backend::respond(result.map(|cookie| crate::backend::set_cookie(&cookie)))
}

#[server(prefix = "/fn", endpoint = "list_users", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn list_users(page: Option<PageAt>) -> Result<Vec<UserView>, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.list_users(&req, page).await)
}

#[server(prefix = "/fn", endpoint = "create_user", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn create_user(
    username: String,
    password: String,
    role: Role,
) -> Result<UserView, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    let new = NewUser {
        username,
        password,
        role: Some(role),
    };
    crate::backend::respond(b.create_user(&req, new).await)
}

#[server(prefix = "/fn", endpoint = "update_user", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn update_user(id: UserId, patch: UserPatch) -> Result<UserView, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.update_user(&req, id, patch).await)
}

#[server(prefix = "/fn", endpoint = "delete_user", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn delete_user(id: UserId) -> Result<(), ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.delete_user(&req, id).await)
}

#[server(prefix = "/fn", endpoint = "list_keys", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn list_keys(page: Option<PageAt>) -> Result<Vec<ApiKeyView>, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.list_keys(&req, page).await)
}

/// `owner_id` empty means "me"; `session_id` empty means "any of the owner's sessions".
#[server(prefix = "/fn", endpoint = "create_key", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn create_key(
    name: String,
    owner_id: String,
    session_id: String,
) -> Result<CreatedApiKey, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    let non_empty = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let new = NewApiKey {
        name,
        owner_id: non_empty(owner_id).map(UserId),
        session_id: non_empty(session_id).map(SessionId),
    };
    crate::backend::respond(b.create_key(&req, new).await)
}

#[server(prefix = "/fn", endpoint = "revoke_key", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn revoke_key(id: ApiKeyId) -> Result<(), ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.revoke_key(&req, id).await)
}

#[server(prefix = "/fn", endpoint = "settings", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn get_settings() -> Result<Settings, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.settings(&req).await)
}

#[server(prefix = "/fn", endpoint = "update_settings", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn update_settings(patch: SettingsPatch) -> Result<Settings, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.update_settings(&req, patch).await)
}

/// `page`: one page (the Sessions page); `None`: every session (the pickers of other pages).
#[server(prefix = "/fn", endpoint = "list_sessions", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn list_sessions(page: Option<PageAt>) -> Result<Vec<SessionView>, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.list_sessions(&req, page).await)
}

/// What each of the caller's sessions has been doing (`GET /api/sessions/activity`): those of
/// one page of `list_sessions`, given the same `page`.
#[server(prefix = "/fn", endpoint = "sessions_activity", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn sessions_activity(page: Option<PageAt>) -> Result<Vec<SessionActivity>, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.sessions_activity(&req, page).await)
}

#[server(prefix = "/fn", endpoint = "session", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn get_session(id: SessionId) -> Result<SessionPage, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.session_page(&req, id).await)
}

#[server(prefix = "/fn", endpoint = "create_session", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn create_session(name: String) -> Result<SessionView, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(
        b.create_session(
            &req,
            NewSession {
                name,
                owner_id: None,
            },
        )
        .await,
    )
}

/// Sends a text from `session` (the Send page), exactly as `POST /send-message` would.
#[server(prefix = "/fn", endpoint = "send_message", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn dash_send_message(
    session: SessionId,
    body: SendMessage,
) -> Result<SendMessageResponse, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.send_message(&req, session, body).await)
}

/// Sends buttons or a list from `session`, exactly as `POST /send-interactive` would.
#[server(prefix = "/fn", endpoint = "send_interactive", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn dash_send_interactive(
    session: SessionId,
    body: SendInteractive,
) -> Result<SendInteractiveResponse, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.send_interactive(&req, session, body).await)
}

/// Renames a session and/or sets its interactive fallback.
#[server(prefix = "/fn", endpoint = "update_session", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn update_session(id: SessionId, patch: SessionPatch) -> Result<SessionView, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.update_session(&req, id, patch).await)
}

/// A code to link the session by phone number instead of the QR.
#[server(prefix = "/fn", endpoint = "pair_code", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn get_pair_code(
    id: SessionId,
    phone_number: String,
) -> Result<PairCodeResponse, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.pair_code(&req, id, phone_number).await)
}

#[server(prefix = "/fn", endpoint = "stop_session", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn stop_session(id: SessionId) -> Result<SessionView, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.stop_session(&req, id).await)
}

#[server(prefix = "/fn", endpoint = "start_session", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn start_session(id: SessionId) -> Result<SessionView, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.start_session(&req, id).await)
}

#[server(prefix = "/fn", endpoint = "logout_session", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn logout_session(id: SessionId) -> Result<(), ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.logout_session(&req, id).await)
}

#[server(prefix = "/fn", endpoint = "delete_session", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn delete_session(id: SessionId) -> Result<(), ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.delete_session(&req, id).await)
}

#[server(prefix = "/fn", endpoint = "session_webhook", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn session_webhook(id: SessionId) -> Result<Option<WebhookView>, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.session_webhook(&req, id).await)
}

#[server(prefix = "/fn", endpoint = "save_session_webhook", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn save_session_webhook(
    id: SessionId,
    cfg: WebhookConfig,
) -> Result<WebhookView, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.save_session_webhook(&req, id, cfg).await)
}

#[server(prefix = "/fn", endpoint = "remove_session_webhook", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn remove_session_webhook(id: SessionId) -> Result<(), ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.remove_session_webhook(&req, id).await)
}

#[server(prefix = "/fn", endpoint = "messages", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn list_messages(filter: MessageFilter) -> Result<Vec<MessageRow>, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.messages(&req, filter).await)
}

/// The Chats page's sessions and the chats of `session` (else of the first), newest first, as
/// `GET /api/sessions/{id}/chats` lists them.
#[server(prefix = "/fn", endpoint = "chats", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn chats_overview(
    session: Option<SessionId>,
    before: Option<i64>,
) -> Result<SessionChats, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.chats(&req, session, before).await)
}

#[server(prefix = "/fn", endpoint = "deliveries", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn list_deliveries(filter: DeliveryFilter) -> Result<Vec<DeliveryView>, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.deliveries(&req, filter).await)
}

#[server(prefix = "/fn", endpoint = "delivery", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn get_delivery(id: String) -> Result<DeliveryDetail, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.delivery(&req, id).await)
}

#[server(prefix = "/fn", endpoint = "retry_delivery", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn retry_delivery(id: String) -> Result<(), ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.retry_delivery(&req, id).await)
}

/// `session` empty: the global webhook (admin).
#[server(prefix = "/fn", endpoint = "test_webhook", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn test_webhook(session: String) -> Result<String, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    let session = (!session.is_empty()).then_some(SessionId(session));
    crate::backend::respond(b.test_webhook(&req, session).await)
}

#[server(prefix = "/fn", endpoint = "webhooks_overview", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn get_webhooks_overview() -> Result<WebhooksOverview, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.webhooks_overview(&req).await)
}

#[server(prefix = "/fn", endpoint = "auto_reply", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn get_auto_reply() -> Result<AutoReplySwitch, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.auto_reply(&req).await)
}

#[server(prefix = "/fn", endpoint = "set_auto_reply", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn set_auto_reply(enabled: bool) -> Result<AutoReplySwitch, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.set_auto_reply(&req, enabled).await)
}

/// The caller's rules, or (`all`, admins only) everyone's.
#[server(prefix = "/fn", endpoint = "rules", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn list_rules(all: bool, page: Option<PageAt>) -> Result<Vec<RuleView>, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.rules(&req, all, page).await)
}

#[server(prefix = "/fn", endpoint = "create_rule", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn create_rule(input: RuleInput) -> Result<RuleView, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.create_rule(&req, input).await)
}

#[server(prefix = "/fn", endpoint = "update_rule", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn update_rule(id: String, input: RuleInput) -> Result<RuleView, ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.update_rule(&req, id, input).await)
}

#[server(prefix = "/fn", endpoint = "delete_rule", input = crate::codec::Json, output = crate::codec::Json)]
pub async fn delete_rule(id: String) -> Result<(), ErrorBody> {
    let (b, req) = crate::backend::context()?;
    crate::backend::respond(b.delete_rule(&req, id).await)
}
