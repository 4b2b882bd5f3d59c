//! The dashboard's two languages: every user-facing string, once per language, in a typed
//! table (a missing translation is a compile error). The language follows the `kabar_lang`
//! cookie (set by the switch in the top bar), else the browser's `Accept-Language`, else
//! English. The server renders `<html lang>` from it and the browser reads it back when it
//! hydrates, so both render the same words. Switching reloads the page.
//!
//! Errors show in words from `Texts::error_text`, by their API code (which shows on hover, for
//! support); the server's own message, in English, follows as the detail (which field, which
//! limit).

use crate::model::ErrorCode;
use leptos::prelude::*;

/// The cookie that keeps the chosen language (a year; not a secret, not HttpOnly).
pub const COOKIE: &str = "kabar_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Id,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Id];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Id => "id",
        }
    }

    /// The language's name in itself, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Id => "Bahasa Indonesia",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            // `in` is the old ISO code for Indonesian, still sent by some Android browsers.
            "id" | "in" => Some(Lang::Id),
            _ => None,
        }
    }

    /// The first supported language in an `Accept-Language` header, by its q-values.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut choices: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut bits = part.split(';');
                let lang = Lang::parse(bits.next()?)?;
                let q = bits
                    .find_map(|b| b.trim().strip_prefix("q="))
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, lang))
            })
            .collect();
        // Stable: equal weights keep the header's order.
        choices.sort_by(|a, b| b.0.total_cmp(&a.0));
        choices.first().map(|c| c.1)
    }

    /// The language a `Cookie` header chose, if any.
    pub fn from_cookie_header(header: &str) -> Option<Lang> {
        header
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .and_then(|(_, v)| Lang::parse(v))
    }

    /// A request's language: the `kabar_lang` cookie, else `Accept-Language`, else English.
    #[cfg(feature = "ssr")]
    pub fn of_request(headers: &http::HeaderMap) -> Lang {
        let header = |name| {
            headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(";")
        };
        Lang::from_cookie_header(&header(http::header::COOKIE))
            .or_else(|| Lang::from_accept_language(&header(http::header::ACCEPT_LANGUAGE)))
            .unwrap_or_default()
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Id => &ID,
        }
    }
}

/// The language of the page being rendered: from the request on the server, from
/// `<html lang>` (which the server wrote) in the browser.
pub fn detect() -> Lang {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|parts| Lang::of_request(&parts.headers))
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        document()
            .document_element()
            .and_then(|html| html.get_attribute("lang"))
            .and_then(|code| Lang::parse(&code))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    Lang::En
}

/// The current page's strings (provided by `App`).
pub fn t() -> &'static Texts {
    use_context::<Lang>().unwrap_or_default().texts()
}

/// Saves the choice in the cookie and reloads, so everything renders in the new language.
pub fn switch_to(lang: Lang) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Ok(doc) = document().dyn_into::<web_sys::HtmlDocument>() {
            let _ = doc.set_cookie(&format!(
                "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
                lang.code()
            ));
        }
        let _ = window().location().reload();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = lang;
}

/// English | Bahasa Indonesia, for the top bar and the sign-in pages.
#[component]
pub fn LangSwitch() -> impl IntoView {
    let current = use_context::<Lang>().unwrap_or_default();
    view! {
        <div class="lang-switch" role="group" aria-label=t().language>
            {Lang::ALL.into_iter().map(|lang| view! {
                // The code (EN, ID) keeps the top bar to one row; the name is what it says aloud.
                <button type="button" class="link" lang=lang.code() aria-pressed=(lang == current).to_string()
                    aria-label=lang.name() title=lang.name()
                    disabled=lang == current on:click=move |_| switch_to(lang)>{lang.code().to_uppercase()}</button>
            }).collect_view()}
        </div>
    }
}

/// Every user-facing string of the dashboard. Functions build the few that carry values.
pub struct Texts {
    pub language: &'static str,
    // Shell and navigation
    pub loading: &'static str,
    pub simulator_banner: &'static str,
    pub nav_main: &'static str,
    pub skip_to_content: &'static str,
    pub nav_menu: &'static str,
    pub api_docs: &'static str,
    pub saved: &'static str,
    pub nav_sessions: &'static str,
    pub nav_send: &'static str,
    pub nav_messages: &'static str,
    pub nav_auto_reply: &'static str,
    pub nav_webhooks: &'static str,
    pub nav_keys: &'static str,
    pub nav_users: &'static str,
    pub nav_settings: &'static str,
    pub sign_out: &'static str,
    /// An API error code in words (the API keeps its codes; the dashboard says what they mean).
    pub error_text: fn(ErrorCode) -> &'static str,
    pub role_admin: &'static str,
    pub role_user: &'static str,
    pub not_found: &'static str,
    pub back_to_dashboard: &'static str,
    // Accounts
    pub sign_in: &'static str,
    pub sign_in_title: &'static str,
    pub no_account: &'static str,
    pub create_one: &'static str,
    pub registration_closed: &'static str,
    pub create_account_title: &'static str,
    pub first_account_admin: &'static str,
    pub create_account: &'static str,
    pub have_account: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    // Common words
    pub name: &'static str,
    pub status: &'static str,
    pub number: &'static str,
    pub id: &'static str,
    pub time: &'static str,
    pub created: &'static str,
    pub delete: &'static str,
    pub really_delete: &'static str,
    pub refresh: &'static str,
    pub save: &'static str,
    pub close: &'static str,
    pub edit: &'static str,
    pub cancel: &'static str,
    pub remove: &'static str,
    pub rename: &'static str,
    pub any: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub loading_sessions: &'static str,
    // Sessions
    pub st_qr_ready: &'static str,
    pub st_connecting: &'static str,
    pub st_connected: &'static str,
    pub st_disconnected: &'static str,
    pub st_logged_out: &'static str,
    pub sessions_intro: &'static str,
    pub session_name_placeholder: &'static str,
    pub add_session: &'static str,
    pub no_sessions: &'static str,
    pub loading_session: &'static str,
    pub back_to_sessions: &'static str,
    pub status_label: &'static str,
    pub qr_alt: &'static str,
    pub qr_help: &'static str,
    pub linked_as: &'static str,
    pub reconnecting: &'static str,
    pub logged_out_new_qr: &'static str,
    pub waiting_for_whatsapp: &'static str,
    pub pair_with_phone: &'static str,
    pub get_code: &'static str,
    pub pair_code_help: &'static str,
    pub fallback_label: &'static str,
    pub fallback_none: &'static str,
    pub fallback_text: &'static str,
    pub fallback_poll: &'static str,
    pub session_id_is: &'static str,
    pub session_id_pass: &'static str,
    pub session_id_or: &'static str,
    pub session_id_several: &'static str,
    pub log_out: &'static str,
    pub sent_to_webhook: &'static str,
    pub link_phone: &'static str,
    pub stop_session: &'static str,
    pub start_session: &'static str,
    pub st_stopped: &'static str,
    pub confirm_unlink: &'static str,
    pub confirm_revoke: &'static str,
    pub confirm_delete_rule: &'static str,
    pub confirm_remove_webhook: &'static str,
    // Send
    pub send_title: &'static str,
    pub send_nav_title: &'static str,
    pub send_no_sessions: &'static str,
    pub from_session: &'static str,
    pub to: &'static str,
    pub kind: &'static str,
    pub kind_text: &'static str,
    pub kind_buttons: &'static str,
    pub kind_list: &'static str,
    pub kind_file: &'static str,
    pub kind_poll: &'static str,
    pub kind_place: &'static str,
    pub kind_contact: &'static str,
    pub latitude: &'static str,
    pub longitude: &'static str,
    pub place_name: &'static str,
    pub place_address: &'static str,
    pub place_check: &'static str,
    pub contacts_help: &'static str,
    pub contact_check: &'static str,
    pub question: &'static str,
    pub poll_options: &'static str,
    pub poll_multiple: &'static str,
    pub poll_check: &'static str,
    pub file: &'static str,
    pub file_caption_hint: &'static str,
    pub drop_hint: &'static str,
    pub choose_file: &'static str,
    pub open_file: &'static str,
    pub edited: &'static str,
    pub deleted: &'static str,
    pub message: &'static str,
    pub title_optional: &'static str,
    pub footer_optional: &'static str,
    pub fallback: &'static str,
    pub fallback_session: &'static str,
    pub fallback_buttons_only: &'static str,
    pub fallback_numbered: &'static str,
    pub fallback_poll_short: &'static str,
    pub button_text: fn(usize) -> String,
    pub button_id: fn(usize) -> String,
    pub list_button_text: &'static str,
    pub section_title: &'static str,
    pub rows_help: &'static str,
    pub empty_text: &'static str,
    pub preview_intro: &'static str,
    pub send: &'static str,
    pub answer: &'static str,
    pub same_with_curl: &'static str,
    pub last_24h: &'static str,
    pub last_activity: &'static str,
    pub webhook_col: &'static str,
    /// "12 in · 3 out"
    pub in_out: fn(i64, i64) -> String,
    /// How many messages of a chat wait for an answer (the badge's spoken label).
    pub unanswered: fn(i64) -> String,
    /// "2 waiting · 1 failed"
    pub backlog: fn(i64, i64) -> String,
    pub copy: &'static str,
    pub copied: &'static str,
    pub copy_by_hand: &'static str,
    pub your_api_key_hint: &'static str,
    // Messages
    pub messages_intro: &'static str,
    pub session: &'static str,
    pub all: &'static str,
    pub direction: &'static str,
    pub in_and_out: &'static str,
    pub dir_in: &'static str,
    pub dir_out: &'static str,
    pub chat: &'static str,
    pub any_number: &'static str,
    pub loading_messages: &'static str,
    pub no_messages: &'static str,
    pub no_older_messages: &'static str,
    pub col_type: &'static str,
    pub col_text: &'static str,
    pub col_source: &'static str,
    pub reactions: &'static str,
    pub nav_chats: &'static str,
    pub chats_intro: &'static str,
    pub loading_chats: &'static str,
    pub no_chats: &'static str,
    pub choose_chat: &'static str,
    pub group_chat: &'static str,
    pub you: &'static str,
    pub write_message: &'static str,
    pub message_details: &'static str,
    pub reply_sent: &'static str,
    pub st_pending: &'static str,
    pub st_sent: &'static str,
    pub st_delivered: &'static str,
    pub st_read: &'static str,
    pub st_played: &'static str,
    pub st_received: &'static str,
    pub st_failed: &'static str,
    /// A message's `type` as the API names it, and its name here (the Messages log, Chats).
    pub kinds: &'static [(&'static str, &'static str)],
    /// Who sent a message out (`api`, `auto_reply`, `device`), and its name here.
    pub sources: &'static [(&'static str, &'static str)],
    pub newest: &'static str,
    pub older: &'static str,
    pub first_page: &'static str,
    pub next_page: &'static str,
    // Auto-reply
    pub auto_reply_switch: &'static str,
    pub keyword: &'static str,
    pub match_mode: &'static str,
    pub match_contains: &'static str,
    pub match_exact: &'static str,
    pub match_starts_with: &'static str,
    pub match_word: &'static str,
    pub reply: &'static str,
    pub also_groups: &'static str,
    pub menu_optional: &'static str,
    pub answer_with: &'static str,
    pub answer_text: &'static str,
    pub rule_file_hint: &'static str,
    pub file_link: &'static str,
    pub menu_error: &'static str,
    pub add_rule: &'static str,
    pub every_users_rules: &'static str,
    pub try_message: &'static str,
    pub try_placeholder: &'static str,
    pub loading_rules: &'static str,
    pub no_rules: &'static str,
    pub rule_answers: fn(i64, &str) -> String,
    pub no_rule_answers: &'static str,
    pub user: &'static str,
    pub menu: &'static str,
    pub groups: &'static str,
    pub no_groups: &'static str,
    pub send_to_group: &'static str,
    pub invite_link: &'static str,
    pub on: &'static str,
    pub enabled: &'static str,
    pub move_up: &'static str,
    pub move_down: &'static str,
    pub n_buttons: fn(usize) -> String,
    pub list_rows: fn(usize) -> String,
    // Webhooks
    pub webhooks_intro: &'static str,
    pub webhooks_intro_end: &'static str,
    pub loading_webhooks: &'static str,
    pub webhooks_no_sessions: &'static str,
    pub url: &'static str,
    pub secret: &'static str,
    pub secret_unchanged: &'static str,
    pub secret_placeholder: &'static str,
    pub events_all: &'static str,
    pub send_test_event: &'static str,
    pub webhook_active: fn(&str) -> String,
    pub secret_none: &'static str,
    pub webhook_stopped: fn(&str) -> String,
    pub global_webhook: &'static str,
    pub global_webhook_help: &'static str,
    pub delivery_log: &'static str,
    pub event: &'static str,
    pub loading_deliveries: &'static str,
    pub no_deliveries: &'static str,
    pub col_to: &'static str,
    pub attempts: &'static str,
    pub last_answer: &'static str,
    pub retry: &'static str,
    pub next_attempt: &'static str,
    pub event_id: &'static str,
    pub trigger: &'static str,
    pub latency: &'static str,
    pub response_or_error: &'static str,
    // API keys
    pub keys_intro_1: &'static str,
    pub keys_intro_2: &'static str,
    pub keys_intro_3: &'static str,
    pub key_name_placeholder: &'static str,
    pub owner: &'static str,
    pub me: &'static str,
    pub session_optional: &'static str,
    pub any_session: &'static str,
    pub create_key: &'static str,
    pub copy_key_now: &'static str,
    pub loading_keys: &'static str,
    pub no_keys: &'static str,
    pub key: &'static str,
    pub last_used: &'static str,
    pub never: &'static str,
    pub revoke: &'static str,
    // Users and settings
    pub role: &'static str,
    pub add_user: &'static str,
    pub loading_users: &'static str,
    pub user_disabled: &'static str,
    pub user_active: &'static str,
    pub make_admin: &'static str,
    pub make_user: &'static str,
    pub enable: &'static str,
    pub disable: &'static str,
    pub loading_settings: &'static str,
    pub allow_registration: &'static str,
    pub allow_private_webhooks: &'static str,
    pub max_sessions_per_user: &'static str,
    pub allow_private_webhooks_user: &'static str,
    pub deny_private_webhooks: &'static str,
    pub retention_days: &'static str,
}

pub const EN: Texts = Texts {
    language: "Language",
    loading: "Loading…",
    simulator_banner: "Simulator engine: no real WhatsApp connection. Messages go nowhere.",
    nav_main: "Main",
    skip_to_content: "Skip to content",
    nav_menu: "Menu",
    api_docs: "API docs",
    saved: "Saved",
    nav_sessions: "Sessions",
    nav_send: "Send",
    nav_messages: "Messages",
    nav_auto_reply: "Auto-reply",
    nav_webhooks: "Webhooks",
    nav_keys: "API keys",
    nav_users: "Users",
    nav_settings: "Settings",
    sign_out: "Sign out",
    error_text: error_text_en,
    role_admin: "admin",
    role_user: "user",
    not_found: "Page not found",
    back_to_dashboard: "Back to the dashboard",
    sign_in: "Sign in",
    sign_in_title: "Sign in to Kabar",
    no_account: "No account yet? ",
    create_one: "Create one",
    registration_closed: "Registration is closed on this server. Ask its administrator for an account.",
    create_account_title: "Create an account",
    first_account_admin: "The first account on a new server becomes its administrator.",
    create_account: "Create account",
    have_account: "Already have an account? ",
    username: "Username",
    password: "Password",
    name: "Name",
    status: "Status",
    number: "Number",
    id: "Id",
    time: "Time",
    created: "Created",
    delete: "Delete",
    really_delete: "Really delete?",
    refresh: "Refresh",
    save: "Save",
    close: "Close",
    edit: "Edit",
    cancel: "Cancel",
    remove: "Remove",
    rename: "Rename",
    any: "any",
    yes: "yes",
    no: "no",
    loading_sessions: "Loading sessions…",
    st_qr_ready: "waiting for scan",
    st_connecting: "connecting",
    st_connected: "connected",
    st_disconnected: "disconnected",
    st_logged_out: "logged out",
    sessions_intro: "Each session is one WhatsApp number linked to Kabar, like WhatsApp Web.",
    session_name_placeholder: "e.g. Toko Budi",
    add_session: "Add session",
    no_sessions: "No sessions yet. Add one, then scan its QR code with WhatsApp on your phone.",
    loading_session: "Loading session…",
    back_to_sessions: "← Sessions",
    status_label: "Status: ",
    qr_alt: "QR code: scan it with WhatsApp on your phone",
    qr_help: "On your phone: WhatsApp → Linked devices → Link a device, then scan. The code renews itself.",
    linked_as: "Linked as ",
    reconnecting: "The link dropped; Kabar is reconnecting.",
    logged_out_new_qr: "Logged out. A new QR code will appear.",
    waiting_for_whatsapp: "Waiting for WhatsApp…",
    pair_with_phone: "Or link with a phone number",
    get_code: "Get a code",
    pair_code_help: "On the phone with that number: WhatsApp → Linked devices → Link a device → Link with phone number instead, then type this code within 3 minutes.",
    fallback_label: "On phones that do not show buttons, send interactive messages as",
    fallback_none: "buttons only",
    fallback_text: "a numbered text menu",
    fallback_poll: "a poll",
    session_id_is: "Session id: ",
    session_id_pass: " — pass it as ",
    session_id_or: " or ",
    session_id_several: " when you have several.",
    log_out: "Unlink phone",
    link_phone: "Link phone",
    stop_session: "Stop",
    start_session: "Start",
    st_stopped: "stopped",
    confirm_unlink: "Unlink this phone from Kabar? WhatsApp logs this session out, and linking it again needs a new QR scan on the phone.",
    confirm_revoke: "Revoke this key? Apps and scripts that use it are refused from now on. This cannot be undone.",
    confirm_delete_rule: "Delete this rule? Messages it matched get no automatic answer from it any more. This cannot be undone.",
    confirm_remove_webhook: "Remove this webhook? Events stop being sent to its URL from now on.",
    send_title: "Send a message",
    send_nav_title: "Send",
    send_no_sessions: "No sessions yet. Add one on the Sessions page and link your phone first.",
    from_session: "From session",
    to: "To",
    kind: "Kind",
    kind_text: "Text",
    kind_buttons: "Buttons",
    kind_list: "List",
    kind_file: "File",
    kind_poll: "Poll",
    kind_place: "Place",
    kind_contact: "Contact",
    latitude: "Latitude",
    longitude: "Longitude",
    place_name: "Place name (optional)",
    place_address: "Address (optional)",
    place_check: "A place needs a latitude from -90 to 90 and a longitude from -180 to 180, written with a dot (-6.1825).",
    contacts_help: "Contacts, one per line: name | number",
    contact_check: "Each line needs a name and a number (1 to 10 contacts), like: Budi | 6281234567890",
    question: "Question",
    poll_options: "Options, one per line (2 to 12, all different)",
    poll_multiple: "Voters may choose several options",
    poll_check: "A poll needs a question and 2 to 12 different options.",
    file: "File to send",
    file_caption_hint: "The message above is sent as the file's caption (images, videos and documents).",
    drop_hint: "Or drop a file on this box.",
    choose_file: "Choose a file to send.",
    open_file: "Open file",
    edited: "edited",
    deleted: "deleted for everyone",
    message: "Message",
    title_optional: "Title (optional)",
    footer_optional: "Footer (optional)",
    fallback: "Fallback",
    fallback_session: "session's setting",
    fallback_buttons_only: "buttons only",
    fallback_numbered: "numbered text",
    fallback_poll_short: "poll",
    button_text: |n| format!("Button {n} text"),
    button_id: |n| format!("Button {n} id"),
    list_button_text: "List button text",
    section_title: "Section title",
    rows_help: "Rows, one per line: id | title | description",
    empty_text: "message: the text is empty.",
    preview_intro: "Without buttons (the text fallback) it reads:",
    send: "Send",
    answer: "Answer",
    same_with_curl: "The same with curl",
    last_24h: "Last 24 h",
    last_activity: "Last message",
    webhook_col: "Webhook",
    in_out: |i, o| format!("{i} in · {o} out"),
    unanswered: |n| format!("{n} waiting for an answer"),
    backlog: |p, f| match (p, f) {
        (0, 0) => "OK".into(),
        (p, 0) => format!("{p} waiting"),
        (0, f) => format!("{f} failed"),
        (p, f) => format!("{p} waiting · {f} failed"),
    },
    copy: "Copy",
    copied: "Copied",
    copy_by_hand: "Select it and copy",
    your_api_key_hint: "one of your API keys, made on the page",
    messages_intro: "Every message your sessions sent or received, newest first. The list refreshes by itself.",
    session: "Session",
    all: "All",
    direction: "Direction",
    in_and_out: "in and out",
    dir_in: "in",
    dir_out: "out",
    chat: "Chat",
    any_number: "any number",
    loading_messages: "Loading messages…",
    no_messages: "No messages yet. They appear here as soon as a session sends or receives one.",
    no_older_messages: "No older messages.",
    col_type: "Type",
    col_text: "Text",
    col_source: "Source",
    reactions: "Reactions",
    nav_chats: "Chats",
    chats_intro: "Your conversations as your phone shows them: pick a chat to read it and answer.",
    loading_chats: "Loading chats…",
    no_chats: "No chats yet: messages sent or received by this session show up here.",
    choose_chat: "Pick a chat on the left to read it.",
    group_chat: "Group",
    you: "You",
    write_message: "Write a message",
    message_details: "Details",
    sent_to_webhook: "What the webhook was sent (JSON)",
    reply_sent: "Sent.",
    st_pending: "sending",
    st_sent: "sent",
    st_delivered: "delivered",
    st_read: "read",
    st_played: "played",
    st_received: "received",
    st_failed: "failed",
    kinds: &[
        ("text", "text"),
        ("interactive", "menu"),
        ("image", "image"),
        ("video", "video"),
        ("audio", "audio"),
        ("voice", "voice note"),
        ("document", "document"),
        ("sticker", "sticker"),
        ("location", "location"),
        ("contact", "contact card"),
        ("poll", "poll"),
        ("reaction", "reaction"),
        ("edit", "edit"),
        ("revoke", "deleted"),
        ("unknown", "other"),
    ],
    sources: &[
        ("api", "API"),
        ("auto_reply", "auto-reply"),
        ("device", "phone"),
    ],
    newest: "Newest",
    older: "Older",
    first_page: "First page",
    next_page: "Next page",
    auto_reply_switch: "Answer incoming messages with the rules below, on all my sessions",
    keyword: "Keyword",
    match_mode: "Match",
    match_contains: "contains",
    match_exact: "exact",
    match_starts_with: "starts with",
    match_word: "whole word",
    reply: "Reply",
    also_groups: "Also in groups",
    menu_optional: "Menu (optional): buttons or a list, as in /send-interactive, without to and text",
    answer_with: "Answer with",
    answer_text: "Text or menu",
    rule_file_hint: "A file from your computer, or a link the server fetches once when you save; the reply is its caption.",
    file_link: "Or a link to the file",
    menu_error: "Menu: ",
    add_rule: "Add rule",
    every_users_rules: "Show every user's rules",
    try_message: "Try a message",
    try_placeholder: "e.g. berapa harga?",
    loading_rules: "Loading rules…",
    no_rules: "No rules yet. Add one above.",
    rule_answers: |n, reply| format!("Rule {n} answers: {reply}"),
    no_rule_answers: "No rule answers this message.",
    user: "User",
    menu: "Menu",
    groups: "Groups",
    no_groups: "This number is in no group yet.",
    send_to_group: "Send to this group",
    invite_link: "Invite link",
    on: "On",
    enabled: "enabled",
    move_up: "move up",
    move_down: "move down",
    n_buttons: |n| format!("{n} buttons"),
    list_rows: |n| format!("list, {n} rows"),
    webhooks_intro: "Kabar POSTs every event as JSON, signed with your secret (",
    webhooks_intro_end: ", and Standard Webhooks headers). Failed deliveries are retried for over a day.",
    loading_webhooks: "Loading webhooks…",
    webhooks_no_sessions: "Add a session first: each session can have its own webhook.",
    url: "URL",
    secret: "Secret",
    secret_unchanged: "unchanged unless you type a new one",
    secret_placeholder: "used to sign deliveries",
    events_all: "Events (empty: all)",
    send_test_event: "Send test event",
    webhook_active: |secret| format!("Active. Secret: {secret}"),
    secret_none: "none",
    webhook_stopped: |why| format!("Stopped: {why}. Save again to resume."),
    global_webhook: "Global webhook",
    global_webhook_help: "Gets the events of every session on this server (administrators only).",
    delivery_log: "Delivery log",
    event: "Event",
    loading_deliveries: "Loading deliveries…",
    no_deliveries: "No deliveries yet.",
    col_to: "To",
    attempts: "Attempts",
    last_answer: "Last answer",
    retry: "Retry",
    next_attempt: "next try at",
    event_id: "Event id ",
    trigger: "Trigger",
    latency: "Latency",
    response_or_error: "Response / error",
    keys_intro_1: "A key acts with its owner's rights. Send it as the ",
    keys_intro_2: " header (or ",
    keys_intro_3: "). Scope it to one session to limit it.",
    key_name_placeholder: "e.g. shop backend",
    owner: "Owner",
    me: "Me",
    session_optional: "Session (optional)",
    any_session: "any session",
    create_key: "Create key",
    copy_key_now: "Copy this key now. It will not be shown again.",
    loading_keys: "Loading keys…",
    no_keys: "No API keys yet.",
    key: "Key",
    last_used: "Last used",
    never: "never",
    revoke: "Revoke",
    role: "Role",
    add_user: "Add user",
    loading_users: "Loading users…",
    user_disabled: "disabled",
    user_active: "active",
    make_admin: "Make admin",
    make_user: "Make user",
    enable: "Enable",
    disable: "Disable",
    loading_settings: "Loading settings…",
    allow_registration: "Anyone may create an account on the sign-in page",
    allow_private_webhooks: "Allow webhook URLs on this machine or a private network",
    max_sessions_per_user: "Sessions each user may add (admins: no limit)",
    allow_private_webhooks_user: "Allow local webhooks",
    deny_private_webhooks: "Stop local webhooks",
    retention_days: "Keep messages and webhook events for this many days (0: forever)",
};

pub const ID: Texts = Texts {
    language: "Bahasa",
    loading: "Memuat…",
    simulator_banner: "Mesin simulator: tidak ada koneksi WhatsApp sungguhan. Pesan tidak terkirim ke mana pun.",
    nav_main: "Utama",
    skip_to_content: "Langsung ke isi",
    nav_menu: "Menu",
    api_docs: "Dokumentasi API",
    saved: "Tersimpan",
    nav_sessions: "Sesi",
    nav_send: "Kirim",
    nav_messages: "Pesan",
    nav_auto_reply: "Balas otomatis",
    nav_webhooks: "Webhook",
    nav_keys: "Kunci API",
    nav_users: "Pengguna",
    nav_settings: "Pengaturan",
    sign_out: "Keluar",
    error_text: error_text_id,
    role_admin: "admin",
    role_user: "pengguna",
    not_found: "Halaman tidak ditemukan",
    back_to_dashboard: "Kembali ke dasbor",
    sign_in: "Masuk",
    sign_in_title: "Masuk ke Kabar",
    no_account: "Belum punya akun? ",
    create_one: "Buat akun",
    registration_closed: "Pendaftaran ditutup di server ini. Mintalah akun kepada administratornya.",
    create_account_title: "Buat akun",
    first_account_admin: "Akun pertama di server baru menjadi administratornya.",
    create_account: "Buat akun",
    have_account: "Sudah punya akun? ",
    username: "Nama pengguna",
    password: "Kata sandi",
    name: "Nama",
    status: "Status",
    number: "Nomor",
    id: "Id",
    time: "Waktu",
    created: "Dibuat",
    delete: "Hapus",
    really_delete: "Yakin hapus?",
    refresh: "Muat ulang",
    save: "Simpan",
    close: "Tutup",
    edit: "Ubah",
    cancel: "Batal",
    remove: "Hapus",
    rename: "Ganti nama",
    any: "semua",
    yes: "ya",
    no: "tidak",
    loading_sessions: "Memuat sesi…",
    st_qr_ready: "menunggu pindai",
    st_connecting: "menghubungkan",
    st_connected: "terhubung",
    st_disconnected: "terputus",
    st_logged_out: "keluar",
    sessions_intro: "Setiap sesi adalah satu nomor WhatsApp yang ditautkan ke Kabar, seperti WhatsApp Web.",
    session_name_placeholder: "mis. Toko Budi",
    add_session: "Tambah sesi",
    no_sessions: "Belum ada sesi. Tambahkan satu, lalu pindai kode QR-nya dengan WhatsApp di ponsel Anda.",
    loading_session: "Memuat sesi…",
    back_to_sessions: "← Sesi",
    status_label: "Status: ",
    qr_alt: "Kode QR: pindai dengan WhatsApp di ponsel Anda",
    qr_help: "Di ponsel: WhatsApp → Perangkat tertaut → Tautkan perangkat, lalu pindai. Kodenya diperbarui sendiri.",
    linked_as: "Tertaut sebagai ",
    reconnecting: "Tautan terputus; Kabar sedang menghubungkan ulang.",
    logged_out_new_qr: "Sudah keluar. Kode QR baru akan muncul.",
    waiting_for_whatsapp: "Menunggu WhatsApp…",
    pair_with_phone: "Atau tautkan dengan nomor telepon",
    get_code: "Minta kode",
    pair_code_help: "Di ponsel dengan nomor itu: WhatsApp → Perangkat tertaut → Tautkan perangkat → Tautkan dengan nomor telepon saja, lalu ketik kode ini dalam 3 menit.",
    fallback_label: "Di ponsel yang tidak menampilkan tombol, kirim pesan interaktif sebagai",
    fallback_none: "tombol saja",
    fallback_text: "menu teks bernomor",
    fallback_poll: "polling",
    session_id_is: "Id sesi: ",
    session_id_pass: " — kirim sebagai ",
    session_id_or: " atau ",
    session_id_several: " bila Anda punya beberapa sesi.",
    log_out: "Putuskan ponsel",
    link_phone: "Tautkan ponsel",
    stop_session: "Hentikan",
    start_session: "Jalankan",
    st_stopped: "dihentikan",
    confirm_unlink: "Putuskan ponsel ini dari Kabar? WhatsApp mengeluarkan sesi ini, dan untuk menautkannya lagi ponsel harus memindai QR baru.",
    confirm_revoke: "Cabut kunci ini? Aplikasi dan skrip yang memakainya langsung ditolak. Ini tidak bisa dibatalkan.",
    confirm_delete_rule: "Hapus aturan ini? Pesan yang cocok tidak lagi dijawab otomatis oleh aturan ini. Ini tidak bisa dibatalkan.",
    confirm_remove_webhook: "Hapus webhook ini? Event tidak lagi dikirim ke URL-nya mulai sekarang.",
    send_title: "Kirim pesan",
    send_nav_title: "Kirim",
    send_no_sessions: "Belum ada sesi. Tambahkan di halaman Sesi dan tautkan ponsel Anda dulu.",
    from_session: "Dari sesi",
    to: "Kepada",
    kind: "Jenis",
    kind_text: "Teks",
    kind_buttons: "Tombol",
    kind_list: "Daftar",
    kind_file: "Berkas",
    kind_poll: "Polling",
    kind_place: "Lokasi",
    kind_contact: "Kontak",
    latitude: "Lintang",
    longitude: "Bujur",
    place_name: "Nama tempat (opsional)",
    place_address: "Alamat (opsional)",
    place_check: "Lokasi butuh lintang -90 sampai 90 dan bujur -180 sampai 180, ditulis dengan titik (-6.1825).",
    contacts_help: "Kontak, satu per baris: nama | nomor",
    contact_check: "Setiap baris butuh nama dan nomor (1 sampai 10 kontak), misalnya: Budi | 6281234567890",
    question: "Pertanyaan",
    poll_options: "Pilihan, satu per baris (2 sampai 12, semuanya berbeda)",
    poll_multiple: "Pemilih boleh memilih lebih dari satu",
    poll_check: "Polling butuh pertanyaan dan 2 sampai 12 pilihan yang berbeda.",
    file: "Berkas yang dikirim",
    file_caption_hint: "Pesan di atas dikirim sebagai keterangan berkas (gambar, video, dan dokumen).",
    drop_hint: "Atau letakkan berkas di kotak ini.",
    choose_file: "Pilih berkas yang akan dikirim.",
    open_file: "Buka berkas",
    edited: "diedit",
    deleted: "dihapus untuk semua",
    message: "Pesan",
    title_optional: "Judul (opsional)",
    footer_optional: "Footer (opsional)",
    fallback: "Cadangan",
    fallback_session: "pengaturan sesi",
    fallback_buttons_only: "tombol saja",
    fallback_numbered: "teks bernomor",
    fallback_poll_short: "polling",
    button_text: |n| format!("Teks tombol {n}"),
    button_id: |n| format!("Id tombol {n}"),
    list_button_text: "Teks tombol daftar",
    section_title: "Judul bagian",
    rows_help: "Baris, satu per baris: id | judul | deskripsi",
    empty_text: "message: teksnya kosong.",
    preview_intro: "Tanpa tombol (cadangan teks) pesannya berbunyi:",
    send: "Kirim",
    answer: "Jawaban",
    same_with_curl: "Sama dengan curl",
    last_24h: "24 jam terakhir",
    last_activity: "Pesan terakhir",
    webhook_col: "Webhook",
    in_out: |i, o| format!("{i} masuk · {o} keluar"),
    unanswered: |n| format!("{n} menunggu jawaban"),
    backlog: |p, f| match (p, f) {
        (0, 0) => "OK".into(),
        (p, 0) => format!("{p} menunggu"),
        (0, f) => format!("{f} gagal"),
        (p, f) => format!("{p} menunggu · {f} gagal"),
    },
    copy: "Salin",
    copied: "Tersalin",
    copy_by_hand: "Pilih lalu salin",
    your_api_key_hint: "salah satu kunci API Anda, dibuat di halaman",
    messages_intro: "Semua pesan yang dikirim atau diterima sesi Anda, terbaru di atas. Daftar ini diperbarui sendiri.",
    session: "Sesi",
    all: "Semua",
    direction: "Arah",
    in_and_out: "masuk dan keluar",
    dir_in: "masuk",
    dir_out: "keluar",
    chat: "Obrolan",
    any_number: "nomor mana pun",
    loading_messages: "Memuat pesan…",
    no_messages: "Belum ada pesan. Pesan muncul di sini begitu sebuah sesi mengirim atau menerimanya.",
    no_older_messages: "Tidak ada pesan yang lebih lama.",
    col_type: "Tipe",
    col_text: "Teks",
    col_source: "Sumber",
    reactions: "Reaksi",
    nav_chats: "Obrolan",
    chats_intro: "Percakapan Anda seperti di ponsel: pilih obrolan untuk membaca dan membalasnya.",
    loading_chats: "Memuat obrolan…",
    no_chats: "Belum ada obrolan: pesan yang dikirim atau diterima sesi ini muncul di sini.",
    choose_chat: "Pilih obrolan di sebelah kiri untuk membacanya.",
    group_chat: "Grup",
    you: "Anda",
    write_message: "Tulis pesan",
    message_details: "Rincian",
    sent_to_webhook: "Yang dikirim ke webhook (JSON)",
    reply_sent: "Terkirim.",
    st_pending: "mengirim",
    st_sent: "terkirim",
    st_delivered: "sampai",
    st_read: "dibaca",
    st_played: "diputar",
    st_received: "masuk",
    st_failed: "gagal",
    kinds: &[
        ("text", "teks"),
        ("interactive", "menu"),
        ("image", "gambar"),
        ("video", "video"),
        ("audio", "audio"),
        ("voice", "pesan suara"),
        ("document", "dokumen"),
        ("sticker", "stiker"),
        ("location", "lokasi"),
        ("contact", "kartu kontak"),
        ("poll", "polling"),
        ("reaction", "reaksi"),
        ("edit", "suntingan"),
        ("revoke", "dihapus"),
        ("unknown", "lainnya"),
    ],
    sources: &[
        ("api", "API"),
        ("auto_reply", "balas otomatis"),
        ("device", "ponsel"),
    ],
    newest: "Terbaru",
    older: "Lebih lama",
    first_page: "Halaman pertama",
    next_page: "Halaman berikutnya",
    auto_reply_switch: "Jawab pesan masuk dengan aturan di bawah, di semua sesi saya",
    keyword: "Kata kunci",
    match_mode: "Cocok",
    match_contains: "mengandung",
    match_exact: "persis",
    match_starts_with: "diawali",
    match_word: "kata utuh",
    reply: "Balasan",
    also_groups: "Juga di grup",
    menu_optional: "Menu (opsional): tombol atau daftar, seperti /send-interactive, tanpa to dan text",
    answer_with: "Jawab dengan",
    answer_text: "Teks atau menu",
    rule_file_hint: "Berkas dari komputer Anda, atau tautan yang diambil server sekali saat disimpan; balasan menjadi keterangannya.",
    file_link: "Atau tautan ke berkas",
    menu_error: "Menu: ",
    add_rule: "Tambah aturan",
    every_users_rules: "Tampilkan aturan semua pengguna",
    try_message: "Coba sebuah pesan",
    try_placeholder: "mis. berapa harga?",
    loading_rules: "Memuat aturan…",
    no_rules: "Belum ada aturan. Tambahkan di atas.",
    rule_answers: |n, reply| format!("Aturan {n} menjawab: {reply}"),
    no_rule_answers: "Tidak ada aturan yang menjawab pesan ini.",
    user: "Pengguna",
    menu: "Menu",
    groups: "Grup",
    no_groups: "Nomor ini belum ada di grup mana pun.",
    send_to_group: "Kirim ke grup ini",
    invite_link: "Tautan undangan",
    on: "Aktif",
    enabled: "aktif",
    move_up: "naikkan",
    move_down: "turunkan",
    n_buttons: |n| format!("{n} tombol"),
    list_rows: |n| format!("daftar, {n} baris"),
    webhooks_intro: "Kabar mengirim (POST) setiap peristiwa sebagai JSON, ditandatangani dengan secret Anda (",
    webhooks_intro_end: ", dan header Standard Webhooks). Pengiriman yang gagal dicoba ulang selama lebih dari sehari.",
    loading_webhooks: "Memuat webhook…",
    webhooks_no_sessions: "Tambahkan sesi dulu: setiap sesi bisa punya webhook sendiri.",
    url: "URL",
    secret: "Secret",
    secret_unchanged: "tetap, kecuali Anda mengetik yang baru",
    secret_placeholder: "untuk menandatangani pengiriman",
    events_all: "Peristiwa (kosong: semua)",
    send_test_event: "Kirim peristiwa uji",
    webhook_active: |secret| format!("Aktif. Secret: {secret}"),
    secret_none: "tidak ada",
    webhook_stopped: |why| format!("Berhenti: {why}. Simpan lagi untuk melanjutkan."),
    global_webhook: "Webhook global",
    global_webhook_help: "Menerima peristiwa semua sesi di server ini (khusus administrator).",
    delivery_log: "Log pengiriman",
    event: "Peristiwa",
    loading_deliveries: "Memuat pengiriman…",
    no_deliveries: "Belum ada pengiriman.",
    col_to: "Ke",
    attempts: "Percobaan",
    last_answer: "Jawaban terakhir",
    retry: "Coba lagi",
    next_attempt: "dicoba lagi pukul",
    event_id: "Id peristiwa ",
    trigger: "Pemicu",
    latency: "Latensi",
    response_or_error: "Respons / galat",
    keys_intro_1: "Kunci bertindak dengan hak pemiliknya. Kirim sebagai header ",
    keys_intro_2: " (atau ",
    keys_intro_3: "). Batasi ke satu sesi untuk mempersempitnya.",
    key_name_placeholder: "mis. backend toko",
    owner: "Pemilik",
    me: "Saya",
    session_optional: "Sesi (opsional)",
    any_session: "sesi mana pun",
    create_key: "Buat kunci",
    copy_key_now: "Salin kunci ini sekarang. Kunci tidak akan ditampilkan lagi.",
    loading_keys: "Memuat kunci…",
    no_keys: "Belum ada kunci API.",
    key: "Kunci",
    last_used: "Terakhir dipakai",
    never: "belum pernah",
    revoke: "Cabut",
    role: "Peran",
    add_user: "Tambah pengguna",
    loading_users: "Memuat pengguna…",
    user_disabled: "nonaktif",
    user_active: "aktif",
    make_admin: "Jadikan admin",
    make_user: "Jadikan pengguna",
    enable: "Aktifkan",
    disable: "Nonaktifkan",
    loading_settings: "Memuat pengaturan…",
    allow_registration: "Siapa pun boleh membuat akun di halaman masuk",
    allow_private_webhooks: "Izinkan URL webhook di mesin ini atau jaringan privat",
    max_sessions_per_user: "Sesi yang boleh ditambah tiap pengguna (admin: tanpa batas)",
    allow_private_webhooks_user: "Izinkan webhook lokal",
    deny_private_webhooks: "Hentikan webhook lokal",
    retention_days: "Simpan pesan dan event webhook selama sekian hari (0: selamanya)",
};

/// The dashboard's words for an API error code (the code itself shows on hover).
fn error_text_en(code: ErrorCode) -> &'static str {
    use ErrorCode::*;
    match code {
        InvalidRequest => "Something you entered is not right.",
        InvalidPhone => {
            "That is not a phone number: write it with the country code, like 6281234567890."
        }
        SessionRequired => "Choose a session.",
        ButtonLimitExceeded => "WhatsApp shows at most 3 quick-reply buttons.",
        InvalidButtonParams => "A button's settings are incomplete.",
        UnsupportedMedia => "WhatsApp does not take this kind of file.",
        Unauthorized => "Not signed in, or the username or password is wrong.",
        Forbidden => "You are not allowed to do that.",
        RegistrationClosed => "Registration is closed. Ask an admin for an account.",
        QuotaExceeded => "You have reached your limit. An admin can raise it.",
        NotGroupAdmin => "Only the group's admins can do that.",
        NotFound => "Not found. It may have been deleted.",
        SessionNotFound => "This session does not exist, or it is not yours.",
        ContactNotFound => "This number is not on WhatsApp.",
        MessageNotFound => "That message was not found.",
        GroupNotFound => "That group was not found, or the session is not in it.",
        MethodNotAllowed => "That is not possible here.",
        UsernameTaken => "That username is taken. Choose another.",
        LastAdmin => "There must always be an active admin.",
        SessionNotConnected => {
            "The session is not connected: link its phone first (the QR code on the session's page)."
        }
        IdempotencyConflict => "This request is already being handled.",
        NotEditable => "This message can no longer be edited.",
        PayloadTooLarge => "That is too large.",
        MediaTooLarge => "The file is too large.",
        UnsupportedMediaType => "The request was not sent as JSON.",
        RateLimited => "Too many requests. Wait a moment and try again.",
        InternalError => "Something went wrong on the server. Try again.",
        MediaFetchFailed => "The file could not be fetched from that address.",
        ServiceUnavailable => {
            "Nothing was saved: the server cannot write right now. Try again shortly."
        }
    }
}

/// The same in Bahasa Indonesia.
fn error_text_id(code: ErrorCode) -> &'static str {
    use ErrorCode::*;
    match code {
        InvalidRequest => "Ada isian yang belum benar.",
        InvalidPhone => "Itu bukan nomor telepon: tulis dengan kode negara, seperti 6281234567890.",
        SessionRequired => "Pilih sesi.",
        ButtonLimitExceeded => "WhatsApp hanya menampilkan paling banyak 3 tombol balasan cepat.",
        InvalidButtonParams => "Pengaturan tombol belum lengkap.",
        UnsupportedMedia => "WhatsApp tidak menerima jenis file ini.",
        Unauthorized => "Belum masuk, atau nama pengguna atau kata sandi salah.",
        Forbidden => "Anda tidak diizinkan melakukan itu.",
        RegistrationClosed => "Pendaftaran ditutup. Mintalah akun kepada admin.",
        QuotaExceeded => "Batas Anda sudah tercapai. Admin dapat menaikkannya.",
        NotGroupAdmin => "Hanya admin grup yang dapat melakukan itu.",
        NotFound => "Tidak ditemukan. Mungkin sudah dihapus.",
        SessionNotFound => "Sesi ini tidak ada, atau bukan milik Anda.",
        ContactNotFound => "Nomor ini tidak terdaftar di WhatsApp.",
        MessageNotFound => "Pesan itu tidak ditemukan.",
        GroupNotFound => "Grup itu tidak ditemukan, atau sesi ini bukan anggotanya.",
        MethodNotAllowed => "Itu tidak dapat dilakukan di sini.",
        UsernameTaken => "Nama pengguna itu sudah dipakai. Pilih yang lain.",
        LastAdmin => "Harus selalu ada admin yang aktif.",
        SessionNotConnected => {
            "Sesi belum terhubung: tautkan ponselnya dulu (kode QR di halaman sesi)."
        }
        IdempotencyConflict => "Permintaan ini sedang diproses.",
        NotEditable => "Pesan ini tidak dapat disunting lagi.",
        PayloadTooLarge => "Itu terlalu besar.",
        MediaTooLarge => "File terlalu besar.",
        UnsupportedMediaType => "Permintaan tidak dikirim sebagai JSON.",
        RateLimited => "Terlalu banyak permintaan. Tunggu sebentar lalu coba lagi.",
        InternalError => "Terjadi kesalahan di server. Coba lagi.",
        MediaFetchFailed => "File tidak dapat diambil dari alamat itu.",
        ServiceUnavailable => {
            "Tidak ada yang tersimpan: server belum dapat menulis. Coba lagi sebentar lagi."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(
            Lang::from_accept_language("id-ID,id;q=0.9,en;q=0.8"),
            Some(Lang::Id)
        );
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("fr;q=1, en;q=0.3, id;q=0.7"),
            Some(Lang::Id)
        );
        assert_eq!(Lang::from_accept_language("in-ID"), Some(Lang::Id));
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(
            Lang::from_accept_language("id;q=0, en;q=0.1"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language(""), None);
    }

    #[test]
    fn the_cookie_wins_and_is_found_among_others() {
        assert_eq!(
            Lang::from_cookie_header("auth-token=abc; kabar_lang=id; x=y"),
            Some(Lang::Id)
        );
        assert_eq!(Lang::from_cookie_header("kabar_lang=en"), Some(Lang::En));
        assert_eq!(Lang::from_cookie_header("kabar_lang=xx; a=b"), None);
        assert_eq!(Lang::from_cookie_header(""), None);
    }

    #[test]
    fn both_languages_fill_the_numbered_strings() {
        for lang in Lang::ALL {
            let t = lang.texts();
            assert!((t.button_text)(2).contains('2'));
            assert!((t.rule_answers)(3, "Halo").contains("Halo"));
            assert!((t.webhook_stopped)("410 Gone").contains("410 Gone"));
        }
        assert_ne!(EN.nav_sessions, ID.nav_sessions);
    }

    /// Words written straight into a page's markup would show in English to everyone: every
    /// text node and every `aria-label`/`title`/`alt` written as a literal in a view must come
    /// from `Texts` instead. What may stay literal are the API's own names, which are the same
    /// in every language: event names (`message.in`), headers (`X-API-KEY`), query parameters
    /// (`?session=`) and the product's name. (Placeholders are example values, not words.)
    #[test]
    fn every_word_on_a_page_comes_from_the_translations() {
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut files = vec![format!("{src}/shell.rs")];
        for entry in std::fs::read_dir(format!("{src}/pages")).expect("app/src/pages") {
            files.push(entry.expect("a page file").path().display().to_string());
        }
        let api_name = |text: &str| {
            text == "Kabar"
                || text.starts_with("X-")
                || (text.starts_with('?') && text.ends_with('='))
                || (text.contains('.')
                    && text
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'))
        };
        let mut untranslated = Vec::new();
        for file in &files {
            let code = std::fs::read_to_string(file).expect("a page file");
            for (n, line) in code.lines().enumerate() {
                for literal in view_literals(line) {
                    if literal.chars().any(char::is_alphabetic) && !api_name(&literal) {
                        untranslated.push(format!("{file}:{}: {literal:?}", n + 1));
                    }
                }
            }
        }
        assert!(
            untranslated.is_empty(),
            "words not in `Texts`:\n{}",
            untranslated.join("\n")
        );
    }

    /// The string literals in a line of `view!` markup that the page shows: a text node between
    /// tags or braces (`>"Hello"<`, `}"Hello"{`), or a visible attribute's value.
    fn view_literals(line: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut i = 0;
        while let Some(start) = line[i..].find('"').map(|p| p + i) {
            let Some(end) = line[start + 1..].find('"').map(|p| p + start + 1) else {
                break;
            };
            let before = line[..start].trim_end();
            let after = line[end + 1..].trim_start();
            let text_node = (before.ends_with('>') || before.ends_with('}'))
                && (after.starts_with('<') || after.starts_with('{'));
            let attribute = ["aria-label=", "title=", "alt="]
                .iter()
                .any(|a| before.ends_with(a));
            if text_node || attribute {
                found.push(line[start + 1..end].to_string());
            }
            i = end + 1;
        }
        found
    }

    #[test]
    fn both_languages_name_the_same_message_types_and_sources() {
        fn keys(table: &[(&'static str, &'static str)]) -> Vec<&'static str> {
            table.iter().map(|(k, _)| *k).collect()
        }
        assert_eq!(keys(EN.kinds), keys(ID.kinds));
        assert_eq!(keys(EN.sources), keys(ID.sources));
        assert!(
            EN.kinds
                .iter()
                .chain(ID.kinds)
                .all(|(_, name)| !name.is_empty())
        );
    }
}
