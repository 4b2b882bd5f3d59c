//! Chats: a session's conversations as a phone shows them. On the left the chats, the one
//! written in most recently first, each with the contact's push name and its newest message;
//! on the right the chosen chat as bubbles (ticks, files, places, reactions, edits) and a box
//! to answer. Which session and chat are shown is in the address (`?session=&chat=`), so the
//! chat list is plain links that work before the page's script arrives, and the answer box
//! posts to the server without it (server::forms). Both lists refresh by themselves while the
//! page is open; the answer box is outside them, so a refresh never loses what is typed.

use super::common::{ActionError, ErrorBox, format_ms, named, refresh_tick, status_label};
use super::messages::{details_line, media_link};
use crate::api::{chats_overview, dash_send_message, list_messages};
use crate::i18n::t;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// How many messages of a chat the thread shows (the Messages page pages further back).
const THREAD: i64 = 50;
/// How many chats a page of the list shows (the server's default).
const CHATS: usize = 50;

#[component]
pub fn ChatsPage() -> impl IntoView {
    let t = t();
    let query = use_query_map();
    let asked_session = Memo::new(move |_| query.read().get("session").unwrap_or_default());
    let chat = Memo::new(move |_| query.read().get("chat").unwrap_or_default());
    // Older chats are a page of their own (`?before=` the last one's time), linked like the rest.
    let before = Memo::new(move |_| {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
    });
    let tick = refresh_tick();
    let overview = Resource::new(
        move || (asked_session.get(), before.get(), tick.get()),
        |(asked, before, _)| {
            chats_overview((!asked.is_empty()).then_some(SessionId(asked)), before)
        },
    );
    let thread = Resource::new(
        move || (asked_session.get(), chat.get(), tick.get()),
        |(session, chat, _)| async move {
            if session.is_empty() || chat.is_empty() {
                return Ok(Vec::new());
            }
            list_messages(MessageFilter {
                session: Some(session),
                chat: Some(chat),
                limit: Some(THREAD),
                ..Default::default()
            })
            .await
        },
    );
    view! {
        <Title text=t.nav_chats/>
        <h1>{t.nav_chats}</h1>
        <p class="muted">{t.chats_intro}</p>
        <div class="chats" class:open=move || !chat.get().is_empty()>
            <nav class="chat-list card" aria-label=t.nav_chats>
                <Transition fallback=move || view! { <p class="loading">{t.loading_chats}</p> }>
                    {move || Suspend::new(async move {
                        match overview.await {
                            Err(err) => view! { <ErrorBox err/> }.into_any(),
                            Ok(o) if o.sessions.is_empty() => view! {
                                <p class="empty">{t.send_no_sessions}</p>
                            }.into_any(),
                            Ok(o) => {
                                let shown = o.shown.map(|s| s.0).unwrap_or_default();
                                view! {
                                    <SessionTabs sessions=o.sessions shown=shown.clone()/>
                                    <ChatList session=shown chats=o.chats open=chat.get_untracked() before=before.get_untracked()/>
                                }.into_any()
                            }
                        }
                    })}
                </Transition>
            </nav>
            <section class="thread card" aria-live="polite">
                {move || {
                    let c = chat.get();
                    if c.is_empty() || asked_session.get().is_empty() {
                        return view! { <p class="empty">{t.choose_chat}</p> }.into_any();
                    }
                    let back = format!("/chats?session={}", encode(&asked_session.get()));
                    view! {
                        <Transition fallback=move || view! { <p class="loading">{t.loading_messages}</p> }>
                            {move || {
                                let (c, back) = (c.clone(), back.clone());
                                Suspend::new(async move {
                                    let list = match thread.await {
                                        Err(err) => return view! { <ErrorBox err/> }.into_any(),
                                        Ok(list) => list,
                                    };
                                    // A person by the name their WhatsApp shows, with the number.
                                    let name = if c.ends_with("@g.us") {
                                        format!("{} {}", t.group_chat, c.trim_end_matches("@g.us"))
                                    } else {
                                        match list.iter().find_map(|m| m.push_name.clone()) {
                                            Some(name) => format!("{name} · +{c}"),
                                            None => format!("+{c}"),
                                        }
                                    };
                                    view! {
                                        <header class="thread-head">
                                            <a class="back" href=back aria-label=t.nav_chats>"←"</a>
                                            <h2>{name}</h2>
                                        </header>
                                        <Bubbles list session=asked_session.get_untracked()/>
                                    }.into_any()
                                })
                            }}
                        </Transition>
                        <Reply session=asked_session.get() chat=chat.get() sent=tick/>
                    }.into_any()
                }}
            </section>
        </div>
    }
}

/// The sessions to choose from, as links (one line; only when there is a choice).
#[component]
fn SessionTabs(sessions: Vec<SessionView>, shown: String) -> impl IntoView {
    let several = sessions.len() > 1;
    let t = t();
    view! {
        <div class="session-tabs" role="group" aria-label=t.session hidden=!several>
            {sessions.into_iter().map(|s| {
                let current = s.id.0 == shown;
                view! {
                    <a href=format!("/chats?session={}", encode(&s.id.0))
                        aria-current=current.then_some("page")>{s.name}</a>
                }
            }).collect_view()}
        </div>
    }
}

/// The session's chats: who, when, and the newest message in a line.
#[component]
fn ChatList(
    session: String,
    chats: Vec<ChatView>,
    open: String,
    before: Option<i64>,
) -> impl IntoView {
    let t = t();
    let newest = format!("/chats?session={}", encode(&session));
    // A chat opened from an older page keeps that page beside it.
    let page = before.map(|b| format!("&before={b}")).unwrap_or_default();
    let older = (chats.len() >= CHATS)
        .then(|| {
            chats
                .last()
                .map(|c| format!("{newest}&before={}", c.last_message.created_at))
        })
        .flatten();
    let pager = view! {
        <p class="row-form pager">
            <a href=newest.clone() hidden=before.is_none()>{t.first_page}</a>
            <a href=older.clone().unwrap_or_default() data-testid="older-chats" hidden=older.is_none()>{t.older}</a>
        </p>
    };
    if chats.is_empty() {
        return view! { <p class="empty">{t.no_chats}</p> {pager} }.into_any();
    }
    view! {
        <ul class="chats-of-session" data-testid="chats">
            {chats.into_iter().map(|c| {
                let href = format!("{newest}&chat={}{page}", encode(&c.chat));
                let current = c.chat == open;
                let who = match (c.push_name.as_ref().or(c.subject.as_ref()), c.is_group) {
                    (Some(name), _) => name.clone(),
                    (None, true) => format!("{} {}", t.group_chat, c.chat.trim_end_matches("@g.us")),
                    (None, false) => format!("+{}", c.chat),
                };
                let last = c.last_message;
                let waiting = c.unanswered;
                let mut line = if last.revoked_at.is_some() {
                    t.deleted.to_string()
                } else if last.message.is_empty() {
                    named(t.kinds, &last.kind)
                } else {
                    last.message.clone()
                };
                if last.direction == "out" {
                    line = format!("{}: {line}", t.you);
                }
                view! {
                    <li>
                        <a href=href aria-current=current.then_some("page") data-chat=c.chat.clone()>
                            <span class="chat-who">{who}</span>
                            // Always the element (hidden at 0): the same markup both sides.
                            <span class="count" data-testid="unanswered" hidden=waiting == 0
                                title=(t.unanswered)(waiting) aria-label=(t.unanswered)(waiting)>{waiting}</span>
                            <time title=last.created_at.to_string()>{format_ms(last.created_at)}</time>
                            <span class="last">{line}</span>
                        </a>
                    </li>
                }
            }).collect_view()}
        </ul>
        {pager}
    }
    .into_any()
}

/// A chat's messages as bubbles, the newest at the bottom (the list is newest first and the
/// box is laid out bottom-up: style/main.css, so it opens scrolled to the newest).
#[component]
fn Bubbles(list: Vec<MessageRow>, session: String) -> impl IntoView {
    let t = t();
    view! {
        <ol class="bubbles" data-testid="thread">
            // A reaction shows on the message it is on, not as a bubble of its own.
            {list.into_iter().filter(|m| m.kind != "reaction").map(|m| {
                let out = m.direction == "out";
                // In a group, who wrote it: the log's chat is "<group> · <digits>".
                let author = m.chat.split_once(" · ").map(|(_, who)| who.to_string());
                let author = author.map(|digits| m.push_name.clone().unwrap_or(digits));
                let detail = format!(
                    "{}: {}\n{}: {}\n{}: {}\n{}: {}{}",
                    t.id, m.id, t.col_type, m.kind, t.status, m.status, t.time, m.created_at,
                    m.source.as_deref().map(|s| format!("\n{}: {s}", t.col_source)).unwrap_or_default(),
                );
                // What the webhook was sent about it, each body as signed.
                let events = format!("/api/messages/{}/events?session={}", encode(&m.id), encode(&session));
                view! {
                    <li class="bubble" class:out=out class:revoked=m.revoked_at.is_some() data-id=m.id.clone()>
                        {author.map(|a| view! { <small class="author">{a}</small> })}
                        <p class="message-text">
                            {m.revoked_at.is_some().then(|| view! { <small class="tag">{t.deleted}</small> " " })}
                            {m.message}{m.media.map(|f| media_link(f, t.open_file))}{details_line(m.details)}
                        </p>
                        {(!m.reactions.is_empty()).then(|| view! {
                            <span class="reactions" title=t.reactions>{m.reactions.join(" ")}</span>
                        })}
                        <span class="meta">
                            {m.edited_at.map(|_| view! { <small class="tag">{t.edited}</small> })}
                            <time title=m.created_at.to_string()>{format_ms(m.created_at)}</time>
                            {out.then(|| view! { <span class=format!("badge {}", m.status)>{status_label(&m.status, true)}</span> })}
                        </span>
                        <details class="message-detail">
                            <summary>{t.message_details}</summary>
                            <pre>{detail}</pre>
                            // The API's own answer, raw (a plain link: it costs the page no code).
                            <a href=events target="_blank" rel="noopener" data-testid="webhook-events">{t.sent_to_webhook}</a>
                        </details>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

/// The answer box: a text to the chat from its session, sent once however often the button is
/// pressed. Posted before the script arrives, the server sends it and comes back here.
#[component]
fn Reply(session: String, chat: String, sent: RwSignal<u32>) -> impl IntoView {
    let t = t();
    let text = RwSignal::new(String::new());
    let send = Action::new(move |(session, body): &(String, SendMessage)| {
        dash_send_message(SessionId(session.clone()), body.clone())
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = send.value().get() {
            text.set(String::new());
            sent.update(|n| *n += 1);
        }
    });
    let (to, from) = (chat.clone(), session.clone());
    view! {
        <form method="post" class="reply" data-testid="reply" on:submit=move |ev| {
            ev.prevent_default();
            let message = text.get_untracked();
            if send.pending().get_untracked() || message.trim().is_empty() {
                return;
            }
            send.dispatch((from.clone(), SendMessage {
                to: to.clone(),
                message,
                reply_to_id: None,
                mentions: Vec::new(),
            }));
        }>
            <input type="hidden" name="session" value=session/>
            <input type="hidden" name="to" value=chat/>
            <label class="grow"><span class="sr-only">{t.message}</span>
                <textarea name="message" rows="2" required placeholder=t.write_message bind:value=text
                    on:keydown=move |ev| {
                        // Enter sends, Shift+Enter makes a new line, as in WhatsApp Web.
                        if ev.key() == "Enter" && !ev.shift_key() {
                            ev.prevent_default();
                            #[cfg(feature = "hydrate")]
                            submit_reply();
                        }
                    }></textarea>
            </label>
            <button type="submit" class="primary" aria-busy=move || send.pending().get().to_string()
                disabled=move || send.pending().get()>{t.send}</button>
        </form>
        <ActionError action=send/>
    }
}

/// Enter in the answer box submits its form (the browser's own submit, so the form's handler
/// runs as for a click).
#[cfg(feature = "hydrate")]
fn submit_reply() {
    use wasm_bindgen::JsCast;
    if let Some(form) = document()
        .query_selector("form.reply")
        .ok()
        .flatten()
        .and_then(|f| f.dyn_into::<web_sys::HtmlFormElement>().ok())
    {
        let _ = form.request_submit();
    }
}

/// A query value: the characters that would end or split it escaped.
fn encode(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('&', "%26")
        .replace('+', "%2B")
        .replace('#', "%23")
        .replace(' ', "%20")
}
