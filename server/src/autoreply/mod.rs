//! Auto-reply (contract §6): a switch and ordered keyword rules per user, applied to every
//! session the user owns.
//!
//! - [`matcher`]: pure, Unicode-aware matching (benchmarked in `benches/autoreply.rs`).
//! - here: the rules API (`/api/auto-reply…`), a per-user cache of prepared rules
//!   (invalidated on every change), and [`decide`], called by the session task for each
//!   received text message: match, cooldown, loop guard → a quoted reply with
//!   `source: auto_reply`, recorded with the received message and sent once it is committed
//!   ([`send`]; [`resume`] after a restart).

pub mod matcher;

use crate::{
    auth::extract::Caller,
    db::{begin_write, new_id, now_ms},
    engine::{Inbound, MessageKind, Quoted},
    error::{ApiError, ApiResult},
    json::{Json, MediaJson, Query},
    messages::Source,
    openapi::{
        BadGateway, BadRequest, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized,
    },
    phone::Chat,
    sessions::SessionHandle,
    state::AppState,
};
use app::model::{
    AutoReplySwitch, Done, Fallback, Interactive, InteractiveForm, Location, MatchMode, RuleInput,
    RuleMedia, RuleMediaInput, RuleView, SessionId, UserId,
};
use axum::{
    Router,
    extract::{Path, State},
    routing::{get, put},
};
use serde::Deserialize;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

const MAX_KEYWORD: usize = 200;
const MAX_REPLY: usize = 4096;

pub fn router(state: &AppState) -> Router<AppState> {
    // A rule's file may come as base64: the media limit, as `/send-media` has.
    let media_limit =
        axum::extract::DefaultBodyLimit::max(crate::media::max_request_bytes(&state.config));
    Router::new()
        .route(
            "/api/auto-reply",
            get(get_switch_handler).put(put_switch_handler),
        )
        .route(
            "/api/auto-reply/rules",
            get(list_handler)
                .post(create_handler)
                .route_layer(media_limit),
        )
        .route(
            "/api/auto-reply/rules/{id}",
            put(update_handler)
                .delete(delete_handler)
                .route_layer(media_limit),
        )
}

/// One user's switch and prepared rules.
struct UserRules {
    enabled: bool,
    rules: Vec<matcher::Rule>,
    /// The menus of rules whose reply is interactive, by rule id, checked once at load.
    menus: HashMap<String, RuleMenu>,
    /// The files and places rules answer with, by rule id.
    answers: HashMap<String, RuleAnswer>,
}

/// A reply that is a file (with the rule's reply as its caption) or a place.
enum RuleAnswer {
    Media(RuleMedia),
    Location(Location),
}

/// An interactive reply, ready to send.
struct RuleMenu {
    message: Interactive,
    fallback: Option<Fallback>,
    expires_in: Option<u64>,
}

const MINUTE: Duration = Duration::from_secs(60);

/// Prepared rules per user, when each (session, contact, rule) last answered, and the recent
/// answers per chat (the loop guard).
pub struct AutoReply {
    cache: RwLock<HashMap<UserId, Arc<UserRules>>>,
    answered: Mutex<HashMap<(SessionId, String, String), Instant>>,
    cooldown: Duration,
    chats: Mutex<HashMap<(SessionId, String), Vec<Instant>>>,
    guard: LoopGuard,
    /// Replies decided or being sent by this process (their planned ids): [`resume`] leaves
    /// them alone.
    sending: Mutex<std::collections::HashSet<String>>,
}

/// Stops two bots from answering each other forever: a message that arrives within `window`
/// of our last auto-reply in that chat is taken for another bot's answer and not answered, and
/// a chat gets at most `per_minute` auto-replies a minute. Zero turns either off.
#[derive(Clone, Copy, Debug)]
pub struct LoopGuard {
    pub window: Duration,
    pub per_minute: usize,
}

impl AutoReply {
    pub fn new(cooldown: Duration, guard: LoopGuard) -> Self {
        AutoReply {
            cache: Default::default(),
            answered: Default::default(),
            cooldown,
            chats: Default::default(),
            guard,
            sending: Default::default(),
        }
    }

    /// Marks a reply as this process's to send ([`resume`] skips it).
    fn claim(&self, planned: &str) {
        if let Ok(mut s) = self.sending.lock() {
            s.insert(planned.to_string());
        }
    }

    fn release(&self, planned: &str) {
        if let Ok(mut s) = self.sending.lock() {
            s.remove(planned);
        }
    }

    /// Undoes [`Self::take_turn`] (and, with `chat`, [`Self::chat_turn`]) for a reply that
    /// will not be sent.
    fn give_back(&self, session: &SessionId, contact: &str, rule: &str, chat: Option<&str>) {
        if let Ok(mut map) = self.answered.lock() {
            map.remove(&(session.clone(), contact.to_string(), rule.to_string()));
        }
        if let Some(chat) = chat
            && let Ok(mut map) = self.chats.lock()
            && let Some(times) = map.get_mut(&(session.clone(), chat.to_string()))
        {
            times.pop();
        }
    }

    /// Whether the loop guard lets the chat have another auto-reply now (and counts it).
    fn chat_turn(&self, session: &SessionId, chat: &str) -> bool {
        let Ok(mut map) = self.chats.lock() else {
            return false;
        };
        if map.len() > 50_000 {
            map.retain(|_, times| times.last().is_some_and(|t| t.elapsed() < MINUTE));
        }
        let times = map.entry((session.clone(), chat.to_string())).or_default();
        times.retain(|t| t.elapsed() < MINUTE);
        if let Some(last) = times.last()
            && last.elapsed() < self.guard.window
        {
            return false;
        }
        if self.guard.per_minute > 0 && times.len() >= self.guard.per_minute {
            return false;
        }
        times.push(Instant::now());
        true
    }

    fn invalidate(&self, user: &UserId) {
        if let Ok(mut c) = self.cache.write() {
            c.remove(user);
        }
    }

    /// Records an answer unless the same rule answered this contact within the cooldown.
    fn take_turn(&self, session: &SessionId, contact: &str, rule: &str) -> bool {
        let Ok(mut map) = self.answered.lock() else {
            return false;
        };
        if map.len() > 50_000 {
            let cooldown = self.cooldown;
            map.retain(|_, t| t.elapsed() < cooldown);
        }
        let key = (session.clone(), contact.to_string(), rule.to_string());
        match map.get(&key) {
            Some(t) if t.elapsed() < self.cooldown => false,
            _ => {
                map.insert(key, Instant::now());
                true
            }
        }
    }
}

async fn user_rules(state: &AppState, user: &UserId) -> ApiResult<Arc<UserRules>> {
    if let Some(r) = state
        .auto_reply
        .cache
        .read()
        .ok()
        .and_then(|c| c.get(user).cloned())
    {
        return Ok(r);
    }
    let enabled = switch(state, user).await?;
    let rows = rows(state, Some(user)).await?;
    let mut menus = HashMap::new();
    let mut answers = HashMap::new();
    for r in &rows {
        if let Some(media) = stored_json::<RuleMedia>(&r.media) {
            answers.insert(r.id.clone(), RuleAnswer::Media(media));
        } else if let Some(place) = stored_json::<Location>(&r.location) {
            answers.insert(r.id.clone(), RuleAnswer::Location(place));
        }
        if let Some(form) = stored_form(&r.interactive) {
            match menu_of(&form, &r.reply) {
                Ok(message) => {
                    let menu = RuleMenu {
                        message,
                        fallback: form.fallback,
                        expires_in: form.expires_in,
                    };
                    menus.insert(r.id.clone(), menu);
                }
                Err(e) => {
                    tracing::warn!(rule = %r.id, error = %e.message, "stored menu no longer valid")
                }
            }
        }
    }
    let rules = rows
        .into_iter()
        .map(|r| matcher::Rule {
            id: r.id,
            keyword: matcher::fold(&r.keyword),
            mode: MatchMode::parse(&r.match_mode).unwrap_or(MatchMode::Exact),
            reply: r.reply,
            enabled: r.enabled,
            allow_groups: r.allow_groups,
        })
        .collect();
    let prepared = Arc::new(UserRules {
        enabled,
        rules,
        menus,
        answers,
    });
    if let Ok(mut c) = state.auto_reply.cache.write() {
        c.insert(user.clone(), prepared.clone());
    }
    Ok(prepared)
}

/// An auto-reply decided for one received message. Its `pending` record is written in the
/// same transaction as that message, so from the moment the message is acknowledged the
/// decision survives a crash ([`resume`] sends it after a restart); [`send`] sends it.
pub struct Reply {
    record: crate::outbound::Pending,
    rule: String,
    to: Chat,
    sender: String,
    content: crate::engine::Content,
    quoted: Quoted,
    menu: Option<(Interactive, Fallback, Option<u64>)>,
}

impl Reply {
    /// The reply's `pending` message record, for the received message's transaction.
    pub fn record(&self) -> &crate::outbound::Pending {
        &self.record
    }
}

/// Decides whether a received message gets an auto-reply, and which. Never answers messages
/// typed on the linked phone (`from_me`), status broadcasts, or anything but text; group
/// messages only for rules that allow them; one answer per rule and contact per cooldown, and
/// the loop guard's limits per chat. The turn is taken now: [`refund`] gives it back when the
/// received message could not be stored.
pub async fn decide(
    state: &AppState,
    session: &SessionHandle,
    m: &Inbound,
) -> ApiResult<Option<Reply>> {
    let reply = plan(state, session, m, crate::engine::new_message_id(), true).await?;
    // Owned by this process from the decision on: a reconnect's [`resume`] must not send it
    // too while its message commits.
    if let Some(r) = &reply {
        state.auto_reply.claim(&r.record.id);
    }
    Ok(reply)
}

async fn plan(
    state: &AppState,
    session: &SessionHandle,
    m: &Inbound,
    planned: String,
    take_turns: bool,
) -> ApiResult<Option<Reply>> {
    if m.from_me || m.kind != MessageKind::Text || m.chat.display().starts_with("status@") {
        return Ok(None);
    }
    let rules = user_rules(state, &session.owner).await?;
    if !rules.enabled {
        return Ok(None);
    }
    let in_group = matches!(m.chat, Chat::Group(_));
    let Some(rule) = matcher::first_match(&rules.rules, &m.text, in_group) else {
        return Ok(None);
    };
    if take_turns {
        if !state.auto_reply.take_turn(&session.id, &m.sender, &rule.id) {
            tracing::debug!(session = %session.id, rule = %rule.id, "auto-reply cooling down");
            return Ok(None);
        }
        if !state.auto_reply.chat_turn(&session.id, m.chat.display()) {
            state
                .auto_reply
                .give_back(&session.id, &m.sender, &rule.id, None);
            tracing::info!(session = %session.id, "auto-reply held back by the loop guard");
            return Ok(None);
        }
    }
    let quoted = Quoted {
        id: m.id.clone(),
        sender: Some(m.sender.clone()),
        text: Some(m.text.clone()),
    };
    let (content, menu) = match rules.menus.get(&rule.id) {
        None => (
            answer(state, rules.answers.get(&rule.id), &rule.reply),
            None,
        ),
        Some(menu) => {
            let fallback = crate::interactive::choose_fallback(
                state,
                &session.id,
                menu.fallback,
                &menu.message,
            )
            .await?;
            let content = crate::interactive::render(&menu.message, fallback)?;
            (
                content,
                Some((menu.message.clone(), fallback, menu.expires_in)),
            )
        }
    };
    let to = m.chat.clone();
    let record = crate::outbound::Pending::of(
        &session.id,
        planned,
        &delivery(&to, &content, &quoted, &menu),
    );
    Ok(Some(Reply {
        record,
        rule: rule.id.clone(),
        to,
        sender: m.sender.clone(),
        content,
        quoted,
        menu,
    }))
}

/// A rule's answer as the engine sends it: its text, its file (held on disk for the send) with
/// the reply as caption, or its place.
fn answer(state: &AppState, answer: Option<&RuleAnswer>, reply: &str) -> crate::engine::Content {
    use crate::engine::Content;
    match answer {
        None => Content::Text(reply.to_string()),
        Some(RuleAnswer::Location(place)) => Content::Location(place.clone()),
        Some(RuleAnswer::Media(m)) => Content::Media(crate::engine::Media {
            file: crate::media::Stored {
                kind: crate::media::MediaKind::parse(&m.kind)
                    .unwrap_or(crate::media::MediaKind::Document),
                meta: crate::messages::MediaMeta {
                    mimetype: m.mimetype.clone(),
                    size: m.size,
                    filename: m.filename.clone(),
                    sha256: m.sha256.clone(),
                },
                path: crate::media::path_of(&state.config.data_dir, &m.sha256),
                hold: Some(state.media.holds().hold(&m.sha256)),
            },
            caption: (!reply.trim().is_empty()).then(|| reply.to_string()),
            view_once: false,
        }),
    }
}

/// A reply as the outbound service takes it.
fn delivery<'a>(
    to: &'a Chat,
    content: &crate::engine::Content,
    quoted: &Quoted,
    menu: &'a Option<(Interactive, Fallback, Option<u64>)>,
) -> crate::outbound::Delivery<'a> {
    crate::outbound::Delivery {
        to,
        content: content.clone(),
        quoted: Some(quoted.clone()),
        source: Source::AutoReply,
        menu: menu
            .as_ref()
            .map(|(message, fallback, expires_in)| crate::outbound::Menu {
                message,
                fallback: *fallback,
                expires_in: *expires_in,
            }),
        mentions: Vec::new(),
    }
}

/// The received message of `reply` was not stored (it will come again): its turn is given
/// back, so the message that comes again gets its answer.
pub fn refund(state: &AppState, session: &SessionId, reply: &Reply) {
    state.auto_reply.release(&reply.record.id);
    state.auto_reply.give_back(
        session,
        &reply.sender,
        &reply.rule,
        Some(reply.to.display()),
    );
}

/// Sends a decided reply whose record is committed; answers its id.
pub async fn send(state: &AppState, session: &SessionHandle, reply: Reply) -> ApiResult<String> {
    let planned = reply.record.id.clone();
    state.auto_reply.claim(&planned);
    if let crate::engine::Content::Media(m) = &reply.content
        && let Err(e) = state.media.bring_back(&m.file.meta.sha256).await
    {
        // The send fails on the missing file; its pending record is removed, as for any
        // reply that did not leave.
        tracing::warn!(rule = %reply.rule, error = format!("{e:#}"), "an auto-reply's file is not on disk");
    }
    let d = delivery(&reply.to, &reply.content, &reply.quoted, &reply.menu);
    let sent = crate::outbound::deliver_recorded(state, session, planned.clone(), d).await;
    state.auto_reply.release(&planned);
    Ok(sent?.id)
}

/// How long a decided reply may wait for its send (the server was down meanwhile) before it is
/// dropped instead: a late answer confuses more than it helps.
pub const RESUME_WITHIN: Duration = Duration::from_secs(10 * 60);

/// After a restart (or a reconnect): sends the replies that were decided and recorded but
/// never sent, under the id each was given, so a phone that did get one before a crash shows
/// it once (WhatsApp keys messages by chat and id). The reply is worked out again from the
/// rules as they are now; one that no rule gives any more, or older than [`RESUME_WITHIN`], is
/// dropped from the record. Answers how many were sent.
pub async fn resume(state: &AppState, session: &SessionHandle) -> anyhow::Result<usize> {
    /// The owed reply (id, decided at) and the message it answers (id, chat, sender, text, at).
    type OwedRow = (String, i64, String, String, Option<String>, String, i64);
    let rows: Vec<OwedRow> = sqlx::query_as(
        "SELECT r.id, r.created_at, i.id, i.chat, i.sender, i.body, i.created_at
         FROM messages r
         JOIN messages i ON i.session_id = r.session_id AND i.id = r.quoted_id AND i.direction = 'in'
         WHERE r.session_id = ? AND r.direction = 'out' AND r.status = 'pending'
           AND r.source = 'auto_reply'
         ORDER BY r.created_at",
    )
    .bind(session.id.as_str())
    .fetch_all(&state.db)
    .await?;
    let mut sent = 0;
    for (planned, decided_at, in_id, chat, sender, body, at) in rows {
        let busy = state
            .auto_reply
            .sending
            .lock()
            .map(|s| s.contains(&planned))
            .unwrap_or(true);
        if busy {
            continue; // being sent right now
        }
        let fresh = now_ms() - decided_at < RESUME_WITHIN.as_millis() as i64;
        let chat = Chat::from_display(&chat);
        let m = Inbound {
            id: in_id,
            sender: sender.unwrap_or_else(|| chat.display().to_string()),
            chat,
            push_name: None,
            from_me: false,
            kind: MessageKind::Text,
            text: body,
            quoted_id: None,
            timestamp_ms: at,
            answer: None,
            media: None,
            details: None,
            change: None,
        };
        let reply = if fresh {
            plan(state, session, &m, planned.clone(), false).await?
        } else {
            None
        };
        match reply {
            Some(reply) => match send(state, session, reply).await {
                Ok(_) => sent += 1,
                // One that fails (its file is gone, the session dropped) does not hold up the
                // others.
                Err(e) => {
                    tracing::warn!(session = %session.id, message = %planned, error = %e, "an owed auto-reply could not be sent")
                }
            },
            None => {
                tracing::warn!(session = %session.id, message = %planned, "a decided auto-reply was not sent before the server stopped; dropped");
                crate::outbound::forget(state, &session.id, &planned).await;
            }
        }
    }
    Ok(sent)
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: String,
    user_id: String,
    position: i64,
    keyword: String,
    match_mode: String,
    reply: String,
    enabled: bool,
    allow_groups: bool,
    interactive: Option<String>,
    media: Option<String>,
    location: Option<String>,
    username: String,
}

/// The stored menu form of a rule (`None` for a text reply).
fn stored_form(json: &Option<String>) -> Option<InteractiveForm> {
    stored_json(json)
}

/// A rule's stored JSON column (menu, file, place).
fn stored_json<T: serde::de::DeserializeOwned>(json: &Option<String>) -> Option<T> {
    json.as_deref().and_then(|j| serde_json::from_str(j).ok())
}

/// A rule's menu as a checked interactive message whose text is the rule's reply. Errors
/// name the field under `interactive.`.
fn menu_of(form: &InteractiveForm, reply: &str) -> Result<Interactive, app::model::ErrorBody> {
    let mut form = form.clone();
    form.text = reply.to_string();
    form.parse().map_err(|mut e| {
        e.message = match e.message.strip_prefix("text:") {
            Some(rest) => format!("reply:{rest}"),
            None => format!("interactive.{}", e.message),
        };
        e
    })
}

impl From<RuleRow> for RuleView {
    fn from(r: RuleRow) -> Self {
        RuleView {
            id: r.id,
            user_id: UserId(r.user_id),
            position: r.position,
            keyword: r.keyword,
            match_mode: MatchMode::parse(&r.match_mode).unwrap_or(MatchMode::Exact),
            interactive: stored_form(&r.interactive),
            media: stored_json(&r.media),
            location: stored_json(&r.location),
            reply: r.reply,
            enabled: r.enabled,
            allow_groups: r.allow_groups,
            username: r.username,
        }
    }
}

const SELECT_RULE: &str = "SELECT r.id, r.user_id, r.position, r.keyword, r.match_mode, r.reply,
       r.enabled, r.allow_groups, r.interactive, r.media, r.location, u.username
FROM auto_reply_rules r JOIN users u ON u.id = r.user_id";

async fn rows(state: &AppState, user: Option<&UserId>) -> ApiResult<Vec<RuleRow>> {
    Ok(sqlx::query_as::<_, RuleRow>(sqlx::AssertSqlSafe(format!(
        "{SELECT_RULE} WHERE (? IS NULL OR r.user_id = ?)
         ORDER BY u.username, r.position, r.created_at"
    )))
    .bind(user.map(UserId::as_str))
    .bind(user.map(UserId::as_str))
    .fetch_all(&state.db)
    .await?)
}

async fn switch(state: &AppState, user: &UserId) -> ApiResult<bool> {
    let row: Option<(bool,)> =
        sqlx::query_as("SELECT enabled FROM auto_reply_settings WHERE user_id = ?")
            .bind(user.as_str())
            .fetch_optional(&state.db)
            .await?;
    Ok(row.is_some_and(|r| r.0))
}

/// Your auto-reply switch (off until turned on).
#[utoipa::path(
    get, path = "/api/auto-reply", operation_id = "getAutoReply", tag = "auto-reply",
    responses(
        (status = 200, description = "The switch.", body = AutoReplySwitch, example = json!({"enabled": true})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn get_switch_handler(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<AutoReplySwitch>> {
    Ok(Json(get_switch(&s, &caller).await?))
}

pub async fn get_switch(state: &AppState, caller: &Caller) -> ApiResult<AutoReplySwitch> {
    caller.require_account()?;
    Ok(AutoReplySwitch {
        enabled: switch(state, &caller.id).await?,
    })
}

/// Turn your auto-reply on or off (for all of your sessions).
#[utoipa::path(
    put, path = "/api/auto-reply", operation_id = "setAutoReply", tag = "auto-reply",
    request_body(content = AutoReplySwitch, example = json!({"enabled": true})),
    responses(
        (status = 200, description = "The switch.", body = AutoReplySwitch, example = json!({"enabled": true})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn put_switch_handler(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<AutoReplySwitch>,
) -> ApiResult<Json<AutoReplySwitch>> {
    Ok(Json(set_switch(&s, &caller, body.enabled).await?))
}

pub async fn set_switch(
    state: &AppState,
    caller: &Caller,
    enabled: bool,
) -> ApiResult<AutoReplySwitch> {
    caller.require_account()?;
    sqlx::query(
        "INSERT INTO auto_reply_settings (user_id, enabled) VALUES (?, ?)
         ON CONFLICT (user_id) DO UPDATE SET enabled = excluded.enabled",
    )
    .bind(caller.id.as_str())
    .bind(enabled)
    .execute(&state.db)
    .await?;
    state.auto_reply.invalidate(&caller.id);
    Ok(AutoReplySwitch { enabled })
}

/// Unknown parameters are ignored: the query string may also carry `api_key`.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Admins only: every user's rules.
    #[serde(default)]
    all: bool,
}

/// Your rules in order (`?all=true`: everyone's, admins only).
#[utoipa::path(
    get, path = "/api/auto-reply/rules", operation_id = "listRules", tag = "auto-reply",
    params(ListQuery, crate::paging::PageQuery),
    responses(
        (status = 200, description = "The rules by position.", body = Vec<RuleView>, headers(("X-Next-Cursor" = String, description = "With `limit`: where the next page starts (absent on the last page).")), example = json!([{"id": "r1a2b3c4d5e6f7a8", "userId": "0b5e3c1f8a2d4e6f", "position": 1, "keyword": "harga", "match": "word", "reply": "Harga mulai Rp10.000.", "enabled": true, "allowGroups": false, "username": "admin"}, {"id": "r2b3c4d5e6f7a8b9", "userId": "0b5e3c1f8a2d4e6f", "position": 2, "keyword": "katalog", "match": "word", "reply": "Katalog Desember", "enabled": true, "allowGroups": false, "media": {"type": "document", "mimetype": "application/pdf", "size": 48213, "filename": "katalog.pdf", "sha256": "9f2c4e1a7b3d5f608192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"}, "username": "admin"}, {"id": "r3c4d5e6f7a8b9c0", "userId": "0b5e3c1f8a2d4e6f", "position": 3, "keyword": "lokasi", "match": "word", "reply": "", "enabled": true, "allowGroups": false, "location": {"latitude": -6.2, "longitude": 106.816666, "name": "Toko Kopi Gayo", "address": "Jl. Sabang No. 12, Jakarta Pusat"}, "username": "admin"}])),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn list_handler(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
    Query(page): Query<crate::paging::PageQuery>,
) -> ApiResult<crate::paging::Paged<RuleView>> {
    crate::paging::cut(&page, list(&s, &caller, q.all).await?, |v| v.id.as_str())
}

pub async fn list(state: &AppState, caller: &Caller, all: bool) -> ApiResult<Vec<RuleView>> {
    caller.require_account()?;
    if all {
        caller.require_admin()?;
    }
    let user = (!all).then_some(&caller.id);
    Ok(rows(state, user)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// A rule's menu checked against its reply, as stored (JSON), or `None` for a text reply.
fn menu_json(form: Option<InteractiveForm>, reply: &str) -> ApiResult<Option<String>> {
    let Some(mut form) = form else {
        return Ok(None);
    };
    if !form.text.is_empty() {
        return Err(ApiError::invalid(
            "interactive.text: leave it out; the rule's reply is the message's text.",
        ));
    }
    let message = menu_of(&form, reply).map_err(ApiError::from)?;
    if form.fallback == Some(Fallback::Poll) {
        message.poll().map_err(|mut e| {
            e.message = format!("interactive.{}", e.message);
            ApiError::from(e)
        })?;
    }
    form.text.clear();
    serde_json::to_string(&form)
        .map(Some)
        .map_err(|e| ApiError::Internal(e.into()))
}

fn validate(keyword: Option<&str>, reply: Option<&str>) -> ApiResult<()> {
    if let Some(k) = keyword {
        if k.trim().is_empty() {
            return Err(ApiError::invalid("keyword: must not be empty."));
        }
        if k.chars().count() > MAX_KEYWORD {
            return Err(ApiError::invalid("keyword: at most 200 characters."));
        }
    }
    if let Some(r) = reply
        && r.chars().count() > MAX_REPLY
    {
        return Err(ApiError::invalid("reply: at most 4096 characters."));
    }
    Ok(())
}

/// Whether a rule answers with one thing at most once a change is applied (`interactive`,
/// `media`, `location`: whether it has each), and `reply` fits it: the text or a menu's text
/// (required), a file's caption (optional), nothing for a place (its name and address are what
/// the chat shows).
fn check_answer(interactive: bool, media: bool, location: bool, reply: &str) -> ApiResult<()> {
    if [interactive, media, location]
        .iter()
        .filter(|&&b| b)
        .count()
        > 1
    {
        return Err(ApiError::invalid(
            "interactive, media, location: a rule answers with one of them at most; set the others to null.",
        ));
    }
    let empty = reply.trim().is_empty();
    if location && !empty {
        return Err(ApiError::invalid(
            "reply: must be empty for a place; its name and address go in location.name and location.address.",
        ));
    }
    if !media && !location && empty {
        return Err(ApiError::invalid("reply: must not be empty."));
    }
    Ok(())
}

/// A rule's place, checked as `/send-location` checks one (fields named under `location.`).
fn place_json(place: Option<Location>) -> ApiResult<Option<String>> {
    let Some(place) = place else {
        return Ok(None);
    };
    let place = crate::outbound::place(
        "location.",
        place.latitude,
        place.longitude,
        place.name,
        place.address,
    )?;
    serde_json::to_string(&place)
        .map(Some)
        .map_err(|e| ApiError::Internal(e.into()))
}

/// Takes in a rule's file (fetched from `url` with the owner's permission for private
/// addresses, or decoded from `base64`), kept in the media store: its description as stored,
/// and the file, held until the rule naming it is committed.
async fn take_media(
    state: &AppState,
    owner: &UserId,
    m: RuleMediaInput,
) -> ApiResult<(String, crate::media::Stored)> {
    let allow_private = match m.url {
        Some(_) => crate::settings::allow_private_for_user(state, owner).await?,
        None => false,
    };
    let declared = crate::media::Declared {
        kind: m.kind,
        mimetype: m.mimetype,
        filename: m.filename,
    };
    let stored = crate::media::take_in(
        state,
        m.url.as_deref(),
        m.base64.as_deref(),
        allow_private,
        declared,
    )
    .await?;
    let view = RuleMedia {
        kind: stored.kind.as_str().to_string(),
        mimetype: stored.meta.mimetype.clone(),
        size: stored.meta.size,
        filename: stored.meta.filename.clone(),
        sha256: stored.meta.sha256.clone(),
    };
    let json = serde_json::to_string(&view).map_err(|e| ApiError::Internal(e.into()))?;
    Ok((json, stored))
}

/// Add a rule: `keyword`, `match`, `reply` are required. `interactive` makes the reply a menu
/// (the `/send-interactive` form without `to` and `text`); `media` a file (`url` or `base64` as
/// `/send-media` takes them, fetched and kept when the rule is saved; `reply` is its caption
/// and may be left out); `location` a place (`reply` left out). One of the three at most.
#[utoipa::path(
    post, path = "/api/auto-reply/rules", operation_id = "createRule", tag = "auto-reply",
    request_body(content = RuleInput, examples(
        ("text" = (summary = "A text reply", value = json!({"keyword": "harga", "match": "word", "reply": "Harga mulai Rp10.000.", "enabled": true}))),
        ("menu" = (summary = "A keyword opens a menu", value = json!({"keyword": "menu", "match": "exact", "reply": "Mau pesan apa?", "interactive": {"type": "button", "buttons": [{"id": "kopi", "text": "Kopi"}, {"id": "teh", "text": "Teh"}]}}))),
        ("file" = (summary = "A keyword answers with a file (fetched once, now)", value = json!({"keyword": "katalog", "match": "word", "reply": "Katalog Desember", "media": {"url": "https://example.com/katalog.pdf", "filename": "katalog.pdf"}}))),
        ("place" = (summary = "A keyword answers with the shop's place", value = json!({"keyword": "lokasi", "match": "word", "location": {"latitude": -6.2, "longitude": 106.816666, "name": "Toko Kopi Gayo", "address": "Jl. Sabang No. 12, Jakarta Pusat"}}))),
    )),
    responses(
        (status = 200, description = "The rule with its id and position.", body = RuleView, example = json!({"id": "r1a2b3c4d5e6f7a8", "userId": "0b5e3c1f8a2d4e6f", "position": 1, "keyword": "harga", "match": "word", "reply": "Harga mulai Rp10.000.", "enabled": true, "allowGroups": false, "username": "admin"})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
        (status = 502, response = BadGateway),
    )
)]
pub(crate) async fn create_handler(
    State(s): State<AppState>,
    caller: Caller,
    MediaJson(input): MediaJson<RuleInput>,
) -> ApiResult<Json<RuleView>> {
    Ok(Json(create(&s, &caller, input).await?))
}

pub async fn create(state: &AppState, caller: &Caller, input: RuleInput) -> ApiResult<RuleView> {
    caller.require_account()?;
    let keyword = input
        .keyword
        .clone()
        .ok_or_else(|| ApiError::invalid("keyword: required."))?;
    let mode = input.match_mode.ok_or_else(|| {
        ApiError::invalid("match: required (exact, contains, starts_with or word).")
    })?;
    let media_input = input.media.clone().flatten();
    let place = input.location.clone().flatten();
    let reply = match (&input.reply, &media_input, &place) {
        (Some(r), _, _) => r.clone(),
        // A file needs no caption, a place has none.
        (None, Some(_), _) | (None, _, Some(_)) => String::new(),
        (None, None, None) => return Err(ApiError::invalid("reply: required.")),
    };
    validate(Some(&keyword), Some(&reply))?;
    check_answer(
        matches!(input.interactive, Some(Some(_))),
        media_input.is_some(),
        place.is_some(),
        &reply,
    )?;
    let interactive = menu_json(input.interactive.clone().flatten(), &reply)?;
    let location = place_json(place)?;
    // Last, once everything else is known to be right: the file is fetched and kept.
    let (media, file) = match media_input {
        Some(m) => {
            let (json, file) = take_media(state, &caller.id, m).await?;
            (Some(json), Some(file))
        }
        None => (None, None),
    };
    let saved = insert(
        state,
        caller,
        &input,
        &keyword,
        mode,
        &reply,
        [interactive, media, location],
    )
    .await;
    if saved.is_err()
        && let Some(file) = &file
    {
        crate::media::discard(state, file).await;
    }
    let id = saved?;
    state.auto_reply.invalidate(&caller.id);
    find(state, caller, &id).await
}

/// Stores a checked new rule (its menu, file and place as JSON); answers its id.
async fn insert(
    state: &AppState,
    caller: &Caller,
    input: &RuleInput,
    keyword: &str,
    mode: MatchMode,
    reply: &str,
    [interactive, media, location]: [Option<String>; 3],
) -> ApiResult<String> {
    let id = new_id();
    let now = now_ms();
    let mut tx = begin_write(&state.db).await?;
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM auto_reply_rules WHERE user_id = ?")
            .bind(caller.id.as_str())
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query(
        "INSERT INTO auto_reply_rules (id, user_id, position, keyword, match_mode, reply, enabled,
                                       allow_groups, interactive, media, location, created_at,
                                       updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(caller.id.as_str())
    .bind(count)
    .bind(keyword.trim())
    .bind(mode.as_str())
    .bind(reply)
    .bind(input.enabled.unwrap_or(true))
    .bind(input.allow_groups.unwrap_or(false))
    .bind(interactive)
    .bind(media)
    .bind(location)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if let Some(position) = input.position {
        reorder(&mut tx, &caller.id, &id, position).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Moves rule `id` to `position` (clamped) and renumbers the owner's rules 0, 1, 2, …
async fn reorder(
    tx: &mut sqlx::SqliteConnection,
    user: &UserId,
    id: &str,
    position: i64,
) -> ApiResult<()> {
    let ids: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM auto_reply_rules WHERE user_id = ? ORDER BY position, created_at",
    )
    .bind(user.as_str())
    .fetch_all(&mut *tx)
    .await?;
    let mut ids: Vec<String> = ids.into_iter().map(|(i,)| i).filter(|i| i != id).collect();
    let at = usize::try_from(position.max(0)).unwrap_or(0).min(ids.len());
    ids.insert(at, id.to_string());
    for (i, rule) in ids.iter().enumerate() {
        sqlx::query("UPDATE auto_reply_rules SET position = ? WHERE id = ?")
            .bind(i as i64)
            .bind(rule)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

async fn find(state: &AppState, caller: &Caller, id: &str) -> ApiResult<RuleView> {
    caller.require_account()?;
    let row =
        sqlx::query_as::<_, RuleRow>(sqlx::AssertSqlSafe(format!("{SELECT_RULE} WHERE r.id = ?")))
            .bind(id)
            .fetch_optional(&state.db)
            .await?
            .filter(|r| caller.is_admin() || r.user_id == caller.id.as_str())
            .ok_or_else(|| ApiError::not_found("No such rule."))?;
    Ok(row.into())
}

/// Change any of a rule's fields; `position` moves it; `"interactive": null`, `"media": null`
/// or `"location": null` makes the reply plain text again (give it a `reply` then).
#[utoipa::path(
    put, path = "/api/auto-reply/rules/{id}", operation_id = "updateRule", tag = "auto-reply",
    params(("id" = String, Path, description = "The rule's id.")),
    request_body(content = RuleInput, example = json!({"enabled": false, "position": 1})),
    responses(
        (status = 200, description = "The rule after the change.", body = RuleView, example = json!({"id": "r1a2b3c4d5e6f7a8", "userId": "0b5e3c1f8a2d4e6f", "position": 1, "keyword": "harga", "match": "word", "reply": "Harga mulai Rp10.000.", "enabled": true, "allowGroups": false, "username": "admin"})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
        (status = 502, response = BadGateway),
    )
)]
pub(crate) async fn update_handler(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    MediaJson(input): MediaJson<RuleInput>,
) -> ApiResult<Json<RuleView>> {
    Ok(Json(update(&s, &caller, &id, input).await?))
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: &str,
    input: RuleInput,
) -> ApiResult<RuleView> {
    let current = find(state, caller, id).await?;
    validate(input.keyword.as_deref(), input.reply.as_deref())?;
    // Everything is checked as the rule will be: the new values, else the current ones.
    let reply = input.reply.as_deref().unwrap_or(&current.reply);
    check_answer(
        input
            .interactive
            .as_ref()
            .map_or(current.interactive.is_some(), Option::is_some),
        input
            .media
            .as_ref()
            .map_or(current.media.is_some(), Option::is_some),
        input
            .location
            .as_ref()
            .map_or(current.location.is_some(), Option::is_some),
        reply,
    )?;
    let (set_menu, menu) = match input.interactive.clone() {
        None => (false, menu_json(current.interactive.clone(), reply)?),
        Some(form) => (true, menu_json(form, reply)?),
    };
    let (set_place, location) = match input.location.clone() {
        None => (false, None),
        Some(place) => (true, place_json(place)?),
    };
    let (set_media, media, file) = match input.media.clone() {
        None => (false, None, None),
        Some(None) => (true, None, None),
        Some(Some(m)) => {
            let (json, file) = take_media(state, &current.user_id, m).await?;
            (true, Some(json), Some(file))
        }
    };
    let saved = async {
        let mut tx = begin_write(&state.db).await?;
        sqlx::query(
            "UPDATE auto_reply_rules SET keyword = COALESCE(?, keyword), match_mode = COALESCE(?, match_mode),
                    reply = COALESCE(?, reply), enabled = COALESCE(?, enabled),
                    allow_groups = COALESCE(?, allow_groups),
                    interactive = CASE WHEN ? THEN ? ELSE interactive END,
                    media = CASE WHEN ? THEN ? ELSE media END,
                    location = CASE WHEN ? THEN ? ELSE location END, updated_at = ?
             WHERE id = ?",
        )
        .bind(input.keyword.as_deref().map(str::trim))
        .bind(input.match_mode.map(MatchMode::as_str))
        .bind(&input.reply)
        .bind(input.enabled)
        .bind(input.allow_groups)
        .bind(set_menu)
        .bind(menu)
        .bind(set_media)
        .bind(media)
        .bind(set_place)
        .bind(location)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if let Some(position) = input.position {
            reorder(&mut tx, &current.user_id, id, position).await?;
        }
        tx.commit().await?;
        ApiResult::Ok(())
    }
    .await;
    if saved.is_err()
        && let Some(file) = &file
    {
        crate::media::discard(state, file).await;
    }
    saved?;
    state.auto_reply.invalidate(&current.user_id);
    find(state, caller, id).await
}

/// Delete a rule.
#[utoipa::path(
    delete, path = "/api/auto-reply/rules/{id}", operation_id = "deleteRule", tag = "auto-reply",
    params(("id" = String, Path, description = "The rule's id.")),
    responses(
        (status = 200, description = "Deleted.", body = Done, example = json!({"success": true})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn delete_handler(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Done>> {
    delete(&s, &caller, &id).await?;
    Ok(Json(Done::OK))
}

pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> ApiResult<()> {
    let current = find(state, caller, id).await?;
    let mut tx = begin_write(&state.db).await?;
    sqlx::query("DELETE FROM auto_reply_rules WHERE id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    // Close the gap so positions stay 0, 1, 2, …
    sqlx::query(
        "UPDATE auto_reply_rules SET position = position - 1 WHERE user_id = ? AND position > ?",
    )
    .bind(current.user_id.as_str())
    .bind(current.position)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    state.auto_reply.invalidate(&current.user_id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(window_ms: u64, per_minute: usize) -> AutoReply {
        AutoReply::new(
            Duration::ZERO,
            LoopGuard {
                window: Duration::from_millis(window_ms),
                per_minute,
            },
        )
    }

    #[test]
    fn an_answer_right_after_ours_is_taken_for_a_bot() {
        let a = guard(200, 0);
        let s = SessionId("s".into());
        assert!(a.chat_turn(&s, "628111"));
        assert!(!a.chat_turn(&s, "628111"), "within the window: another bot");
        assert!(a.chat_turn(&s, "628222"), "another chat is not held back");
        std::thread::sleep(Duration::from_millis(250));
        assert!(a.chat_turn(&s, "628111"));
    }

    #[test]
    fn a_chat_gets_a_limited_number_of_answers_a_minute() {
        let a = guard(0, 3);
        let s = SessionId("s".into());
        for _ in 0..3 {
            assert!(a.chat_turn(&s, "628111"));
        }
        assert!(!a.chat_turn(&s, "628111"));
        let off = guard(0, 0);
        assert!((0..100).all(|_| off.chat_turn(&s, "628111")));
    }
}
