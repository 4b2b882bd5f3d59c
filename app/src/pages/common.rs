//! Small pieces every page uses.

use crate::i18n::{Texts, t};
use crate::model::{ErrorBody, ErrorCode, PageAt, SessionStatus};
use leptos::prelude::*;
use leptos_meta::Title;

/// An error in the reader's words (by its code, which shows on hover), then the server's own
/// detail (the same text an API client gets).
#[component]
pub fn ErrorBox(err: ErrorBody) -> impl IntoView {
    let t = t();
    // A page for something that is not there (a stale link, a mistyped address): a way back,
    // to the start of the section the address was in (a lost session in a chat's address goes
    // back to Chats, not to Sessions).
    let lost = matches!(err.error, ErrorCode::NotFound | ErrorCode::SessionNotFound);
    let back = lost.then(|| {
        let path = leptos_router::hooks::use_location()
            .pathname
            .get_untracked();
        let (href, section) = section_start(&path, t);
        view! { " " <a href=href data-testid="way-back">"← "{section}</a> }
    });
    view! {
        <div class="error" role="alert" title=err.error.as_str() data-code=err.error.as_str()>
            <strong>{(t.error_text)(err.error)}</strong>
            " "
            // The server words its details in English: marked so, a screen reader on the
            // Indonesian pages reads them as English.
            <span class="detail" lang="en">{err.message}</span>
            {back}
        </div>
    }
}

/// The first page of the navigation section `path` belongs to, and its name (Sessions for
/// anything else).
fn section_start(path: &str, t: &'static Texts) -> (&'static str, &'static str) {
    match path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
    {
        "send" => ("/send", t.nav_send),
        "chats" => ("/chats", t.nav_chats),
        "messages" => ("/messages", t.nav_messages),
        "auto-reply" => ("/auto-reply", t.nav_auto_reply),
        "webhooks" => ("/webhooks", t.nav_webhooks),
        "keys" => ("/keys", t.nav_keys),
        "users" => ("/users", t.nav_users),
        "settings" => ("/settings", t.nav_settings),
        _ => ("/sessions", t.nav_sessions),
    }
}

/// The error a form posted before the page's script arrived came back with
/// (`?error=CODE&message=…`, see the server's `forms` module): the message, with the code on
/// hover for support. Read once from the address the page was loaded with — the same on the
/// server and in the browser — and always an element (hidden when empty), so both render the
/// same.
pub fn form_error() -> impl IntoView {
    let query = page_query();
    let message = query_param(&query, "message");
    let code = query_param(&query, "error");
    let words = code
        .as_deref()
        .and_then(ErrorCode::from_name)
        .map(t().error_text);
    let hidden = message.is_none();
    view! {
        <div class="error" role="alert" hidden=hidden title=code data-testid="form-error">
            <strong>{words}</strong>" "<span class="detail" lang="en">{message}</span>
        </div>
    }
}

/// The query string of the address the page was loaded with (without `?`).
fn page_query() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|p| p.uri.query().map(str::to_string))
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let search = window().location().search().unwrap_or_default();
        search.trim_start_matches('?').to_string()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    String::new()
}

/// One parameter of a form-encoded query (`+` and `%XX` decoded; a bad escape kept as typed).
pub fn query_param(query: &str, key: &str) -> Option<String> {
    let (_, value) = query
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .find(|(k, _)| *k == key)?;
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| bytes[i] == b'%')
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, b) => out.push(b),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Shows the last result of an action: nothing, or the error — unless it is about one of the
/// form's `fields`, which show it beside their input ([`FieldError`]).
#[component]
pub fn ActionError<I, T>(
    action: Action<I, Result<T, ErrorBody>>,
    #[prop(optional)] fields: &'static [&'static str],
) -> impl IntoView
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    move || form_wide(last_error(action), fields)
}

/// The last error of `action` when it is about the input named `name`: put right after that
/// input (inside its label), in the reader's words with the code on hover.
#[component]
pub fn FieldError<I, T>(
    action: Action<I, Result<T, ErrorBody>>,
    name: &'static str,
) -> impl IntoView
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    move || at_field(last_error(action), name)
}

/// The `aria-invalid` of the input named `name`: whether the last error of `action` is about it
/// (a string: a boolean attribute would be present and empty, which ARIA reads as "false").
pub fn invalid<I, T>(
    action: Action<I, Result<T, ErrorBody>>,
    name: &'static str,
) -> impl Fn() -> &'static str
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    move || is_about(last_error(action), name)
}

/// The last error of `action` as a signal, for a form shared by several actions (a webhook's
/// form saves the global one or a session's): it shows that error with [`FieldErrorIn`] and
/// [`invalid_in`] without being generic over each action's types.
pub fn error_of<I, T>(action: Action<I, Result<T, ErrorBody>>) -> Signal<Option<ErrorBody>>
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    Signal::derive(move || last_error(action))
}

/// [`FieldError`] for an error given as a signal ([`error_of`]).
#[component]
pub fn FieldErrorIn(err: Signal<Option<ErrorBody>>, name: &'static str) -> impl IntoView {
    move || at_field(err.get(), name)
}

/// [`invalid`] for an error given as a signal ([`error_of`]).
pub fn invalid_in(err: Signal<Option<ErrorBody>>, name: &'static str) -> impl Fn() -> &'static str {
    move || is_about(err.get(), name)
}

/// `aria-invalid`'s value: whether `err` is about the input named `name`.
fn is_about(err: Option<ErrorBody>, name: &str) -> &'static str {
    if err.is_some_and(|e| field_of(&e).as_deref() == Some(name)) {
        "true"
    } else {
        "false"
    }
}

/// The error `action` last ended with. The one step that depends on the action's types: what
/// is shown of it is shared code, not copied into every form (bundle bytes).
fn last_error<I, T>(action: Action<I, Result<T, ErrorBody>>) -> Option<ErrorBody>
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    action.value().with(|v| match v {
        Some(Err(e)) => Some(e.clone()),
        _ => None,
    })
}

/// An error under the form, when it is not about one of its `fields`.
fn form_wide(err: Option<ErrorBody>, fields: &'static [&'static str]) -> Option<impl IntoView> {
    let err = err.filter(|e| !field_of(e).is_some_and(|f| fields.contains(&f.as_str())))?;
    Some(view! { <ErrorBox err/> })
}

/// An error beside the input `name`, when it is about that input.
fn at_field(err: Option<ErrorBody>, name: &'static str) -> Option<impl IntoView> {
    let err = err.filter(|e| field_of(e).as_deref() == Some(name))?;
    let t = t();
    Some(view! {
        <span class="error field-error" role="alert" title=err.error.as_str() data-field=name>
            <strong>{(t.error_text)(err.error)}</strong> " " <span class="detail" lang="en">{err.message}</span>
        </span>
    })
}

/// The form field an error is about, when the dashboard can tell: by its code (a bad number is
/// `to`'s, a taken name `username`'s) or by the field the server's message starts with, in
/// either of its two styles (`` `to` is not a phone number``, `password: use at least 8 …`).
pub fn field_of(err: &ErrorBody) -> Option<String> {
    if err.error == ErrorCode::UsernameTaken {
        return Some("username".into());
    }
    let m = err.message.as_str();
    if let Some(rest) = m.strip_prefix('`') {
        return rest.split_once('`').map(|(f, _)| f.to_string());
    }
    let head = m
        .split_once(':')
        .map(|(h, _)| h)
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    match head {
        Some(h) => Some(h.to_string()),
        // A number refused without naming its field is the recipient's.
        None if err.error == ErrorCode::InvalidPhone => Some("to".into()),
        None => None,
    }
}

/// A "Copy" button for `text`, or for the text of the element `from` (a CSS selector) at the
/// moment of the click. The copying is public/copy.js's (plain script: it works before the
/// WebAssembly arrives and costs the bundle nothing); this only writes the three labels, in the
/// page's language, of which CSS shows the one `data-copied` asks for.
#[component]
pub fn CopyButton(
    #[prop(optional, into)] text: Option<String>,
    #[prop(optional)] from: Option<&'static str>,
) -> impl IntoView {
    let t = t();
    view! {
        <button type="button" class="copy small" data-copy=text data-copy-from=from>
            <span aria-live="polite">
                <span class="idle">{t.copy}</span>
                <span class="done">{t.copied}</span>
                <span class="by-hand">{t.copy_by_hand}</span>
            </span>
        </button>
    }
}

/// "Saved": a note, for three seconds after each time `action` succeeds, that it went through
/// (a change saved in place shows no other sign). Fixed in a corner: the page does not move.
#[component]
pub fn Saved<I, T>(action: Action<I, Result<T, ErrorBody>>) -> impl IntoView
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    let shown = RwSignal::new(None::<usize>);
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            let version = action.version().get_untracked();
            shown.set(Some(version));
            // Only the latest success hides its own note.
            set_timeout(
                move || {
                    shown.update(|s| {
                        if *s == Some(version) {
                            *s = None
                        }
                    })
                },
                std::time::Duration::from_secs(3),
            );
        }
    });
    view! {
        <p class="toast" role="status" data-testid="saved" hidden=move || shown.get().is_none()>
            {t().saved}
        </p>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    let t = crate::i18n::t();
    view! {
        <Title text=t.not_found/>
        <main class="page narrow">
            <h1>{t.not_found}</h1>
            <p><a href="/">{t.back_to_dashboard}</a></p>
        </main>
    }
}

/// Formats a millisecond timestamp for tables; the exact instant is in the title attribute.
pub fn format_ms(ms: i64) -> String {
    let ((y, m, d), (h, min, _)) = split_instant(ms);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02} UTC")
}

/// The time of day of a Unix time in ms, to the second (`14:05:37 UTC`): for what happens
/// seconds apart, like a webhook's retries.
pub fn format_clock(ms: i64) -> String {
    let (_, (h, min, s)) = split_instant(ms);
    format!("{h:02}:{min:02}:{s:02} UTC")
}

/// A Unix time in ms as its UTC date and time of day (to the second; before 1970 too).
fn split_instant(ms: i64) -> ((i64, u32, u32), (i64, i64, i64)) {
    let secs = ms.div_euclid(1000);
    let rem = secs.rem_euclid(86_400);
    (
        civil_from_days(secs.div_euclid(86_400)),
        (rem / 3600, (rem % 3600) / 60, rem % 60),
    )
}

/// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// How many items a page of a dashboard list shows (sessions, users, keys,
/// deliveries).
pub const LIST_PAGE: usize = 50;

/// The page after `cursor`, asked with one item more than it shows, so the answer itself says
/// whether a next page exists ([`split_page`]).
pub fn page_at(cursor: Option<String>) -> Option<PageAt> {
    Some(PageAt {
        limit: Some(LIST_PAGE as i64 + 1),
        cursor,
    })
}

/// The items to show of an answer to [`page_at`] and, when more follow, the cursor of the next
/// page (what `cursor` says of the last item shown).
pub fn split_page<T>(mut items: Vec<T>, cursor: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    if items.len() <= LIST_PAGE {
        return (items, None);
    }
    items.truncate(LIST_PAGE);
    let next = items.last().map(cursor);
    (items, next)
}

/// "First page" and "Next page" under a paged list; `at` holds where the shown page starts.
/// Nothing when the list fits on one page.
#[component]
pub fn Pager(at: RwSignal<Option<String>>, next: Option<String>) -> impl IntoView {
    let t = t();
    let first = at.get_untracked().is_some();
    (first || next.is_some()).then(|| {
        view! {
            <div class="row-form pager">
                <button type="button" hidden=!first on:click=move |_| at.set(None)>{t.first_page}</button>
                <button type="button" data-testid="next-page" hidden=next.is_none()
                    on:click=move |_| at.set(next.clone())>{t.next_page}</button>
            </div>
        }
    })
}

/// Asks the person to confirm an action that cannot be taken back; `question` names what it
/// undoes. Only clicks call it, so it runs in the browser; the server's build answers no.
pub(crate) fn confirmed(question: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.confirm_with_message(question).ok())
            .unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = question;
        false
    }
}

/// A coordinate as typed (`-6.1825`), read by serde_json's number parser (already in the
/// bundle, unlike core's float parser); anything else is NaN, which no range holds.
pub(crate) fn coordinate(text: &str) -> f64 {
    serde_json::from_str(text.trim()).unwrap_or(f64::NAN)
}

/// Whether a latitude and a longitude name a place (NaN names none).
pub(crate) fn on_earth(latitude: f64, longitude: f64) -> bool {
    (-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude)
}

#[cfg(feature = "hydrate")]
pub(crate) fn browser_failed() -> ErrorBody {
    ErrorBody::new(
        ErrorCode::InternalError,
        "The browser could not send the request.",
    )
}

/// POSTs `body` to a REST path as the signed-in person (the login cookie goes with a
/// same-origin fetch): a form upload, or JSON when `content_type` says so.
#[cfg(feature = "hydrate")]
pub(crate) async fn post(
    url: &str,
    body: &wasm_bindgen::JsValue,
    content_type: Option<&str>,
) -> Result<String, ErrorBody> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let broken = |_| browser_failed();
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(body);
    if let Some(ct) = content_type {
        let headers = web_sys::Headers::new().map_err(broken)?;
        headers.set("Content-Type", ct).map_err(broken)?;
        init.set_headers(&headers);
    }
    let window = web_sys::window().ok_or_else(browser_failed)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| {
            ErrorBody::new(
                ErrorCode::InternalError,
                "The server could not be reached. Check your connection and try again.",
            )
        })?
        .dyn_into()
        .map_err(broken)?;
    let text = JsFuture::from(response.text().map_err(broken)?)
        .await
        .map_err(broken)?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        Ok(serde_json::to_string_pretty(&answer).unwrap_or(text))
    } else {
        Err(serde_json::from_str(&text).unwrap_or_else(|_| {
            ErrorBody::new(
                ErrorCode::InternalError,
                format!("HTTP {}", response.status()),
            )
        }))
    }
}

/// A counter that goes up every 3 s while the page is open (in the browser): resources that
/// read it ask the server again, so the Messages and Chats pages show new messages by themselves.
pub fn refresh_tick() -> RwSignal<u32> {
    let tick = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let every = std::time::Duration::from_secs(3);
        let handle = set_interval_with_handle(move || tick.update(|n| *n += 1), every).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    });
    tick
}

/// A message's (or a webhook delivery's) status in the reader's language, with WhatsApp's ticks for sent messages
/// (one when sent, two when delivered, two blue once read or played: style/main.css).
pub(crate) fn status_label(status: &str, sent: bool) -> String {
    let t = t();
    let (ticks, name) = match status {
        "pending" => ("", t.st_pending),
        "sent" => ("✓ ", t.st_sent),
        "delivered" => ("✓✓ ", t.st_delivered),
        "read" => ("✓✓ ", t.st_read),
        "played" => ("✓✓ ", t.st_played),
        "received" => ("", t.st_received),
        "failed" => ("", t.st_failed),
        other => ("", other),
    };
    if sent {
        format!("{ticks}{name}")
    } else {
        name.to_string()
    }
}

/// A name from one of the translation tables (`Texts::kinds`, `Texts::sources`); the API's own
/// word when the table does not know it (a newer server).
pub(crate) fn named(table: &'static [(&'static str, &'static str)], key: &str) -> String {
    table
        .iter()
        .find(|(k, _)| *k == key)
        .map_or_else(|| key.to_string(), |(_, name)| name.to_string())
}

/// A value the browser fetches once the page is live, for the options of a `<select>` (filled
/// as HTML: see the Keys page). Not a resource: one read there would hold the page's
/// `<Suspense>` on the server (a `LocalResource` is never awaited there, so a page without
/// JavaScript stayed "Loading…"; a `Resource` read outside `<Suspense>` is never sent along).
pub(crate) fn fetched_in_browser<T, F, Fut>(fetch: F) -> RwSignal<Option<T>>
where
    T: Send + Sync + 'static,
    F: Fn() -> Fut + 'static,
    Fut: std::future::Future<Output = Result<T, ErrorBody>> + 'static,
{
    let value = RwSignal::new(None);
    Effect::new(move |_| {
        let fetching = fetch();
        leptos::task::spawn_local(async move {
            if let Ok(v) = fetching.await {
                value.set(Some(v));
            }
        });
    });
    value
}

/// `<option>`s for a <select> filled as HTML (see the owner select): the first, empty-valued
/// one says what choosing nothing means; then each (value, label), escaped.
pub(crate) fn options_html(
    none: &str,
    items: impl IntoIterator<Item = (String, String)>,
) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut html = format!(r#"<option value="">{}</option>"#, escape(none));
    for (value, label) in items {
        html.push_str(&format!(
            r#"<option value="{}">{}</option>"#,
            escape(&value),
            escape(&label)
        ));
    }
    html
}

/// A session's status in words, in the page's language.
pub(crate) fn session_status_text(status: SessionStatus) -> &'static str {
    let t = t();
    match status {
        SessionStatus::QrReady => t.st_qr_ready,
        SessionStatus::Connecting => t.st_connecting,
        SessionStatus::Connected => t.st_connected,
        SessionStatus::Disconnected => t.st_disconnected,
        SessionStatus::LoggedOut => t.st_logged_out,
    }
}

/// A session as a choice: its name, and its number once linked.
pub(crate) fn session_label(name: &str, phone: Option<&str>) -> String {
    match phone {
        Some(phone) => format!("{name} (+{phone})"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_names_its_field_in_either_style_or_by_its_code() {
        let err = |error, message: &str| ErrorBody {
            success: false,
            error,
            message: message.into(),
        };
        let field = |e: ErrorBody| field_of(&e);
        assert_eq!(
            field(err(ErrorCode::InvalidPhone, "`to` is not a phone number.")),
            Some("to".into())
        );
        assert_eq!(
            field(err(ErrorCode::InvalidPhone, "`phoneNumber` is too short.")),
            Some("phoneNumber".into())
        );
        assert_eq!(
            field(err(
                ErrorCode::InvalidRequest,
                "password: use at least 8 characters."
            )),
            Some("password".into())
        );
        assert_eq!(
            field(err(ErrorCode::UsernameTaken, "That username is taken.")),
            Some("username".into())
        );
        // A number refused in the `field:` style names its field; without one, the recipient.
        assert_eq!(
            field(err(
                ErrorCode::InvalidPhone,
                "phoneNumber: a phone number, not a group."
            )),
            Some("phoneNumber".into())
        );
        assert_eq!(
            field(err(ErrorCode::InvalidPhone, "Not a phone number.")),
            Some("to".into())
        );
        // Prose with a colon, or a path, names no input.
        assert_eq!(
            field(err(
                ErrorCode::InvalidRequest,
                "Invalid multipart body: boundary"
            )),
            None
        );
        assert_eq!(
            field(err(
                ErrorCode::InvalidRequest,
                "sections[0].rows[2].title: too long"
            )),
            None
        );
        assert_eq!(field(err(ErrorCode::Unauthorized, "Sign in first.")), None);
    }

    #[test]
    fn the_way_back_is_to_the_start_of_the_section() {
        let t = crate::i18n::Lang::En.texts();
        assert_eq!(section_start("/chats", t), ("/chats", t.nav_chats));
        assert_eq!(
            section_start("/sessions/ses_x", t),
            ("/sessions", t.nav_sessions)
        );
        assert_eq!(section_start("/auto-reply", t).0, "/auto-reply");
        assert_eq!(section_start("/nowhere/at/all", t).0, "/sessions");
        assert_eq!(section_start("/", t).0, "/sessions");
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_ms(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_ms(1_735_460_000_000), "2024-12-29 08:13 UTC");
        assert_eq!(format_ms(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(format_ms(-1), "1969-12-31 23:59 UTC");
    }

    #[test]
    fn clock_times_are_to_the_second() {
        assert_eq!(format_clock(0), "00:00:00 UTC");
        assert_eq!(format_clock(1_735_460_037_999), "08:13:57 UTC");
        assert_eq!(format_clock(-1), "23:59:59 UTC");
    }

    #[test]
    fn options_are_escaped() {
        let html = options_html("Me", [("a\"b".to_string(), "<script>&".to_string())]);
        assert_eq!(
            html,
            r#"<option value="">Me</option><option value="a&quot;b">&lt;script&gt;&amp;</option>"#
        );
    }

    #[test]
    fn query_params_decode_as_forms_encode_them() {
        let q = "error=INVALID_REQUEST&message=password%3A+use+at+least+8%25+%E2%9C%93&empty=&bare";
        assert_eq!(query_param(q, "error").as_deref(), Some("INVALID_REQUEST"));
        assert_eq!(
            query_param(q, "message").as_deref(),
            Some("password: use at least 8% ✓")
        );
        assert_eq!(query_param(q, "empty").as_deref(), Some(""));
        assert_eq!(query_param(q, "bare").as_deref(), Some(""));
        assert_eq!(query_param(q, "missing"), None);
        assert_eq!(
            query_param("m=100%+%zz%4", "m").as_deref(),
            Some("100% %zz%4")
        );
        assert_eq!(query_param("", "m"), None);
    }
}
