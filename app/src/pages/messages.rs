//! Messages: the recent message log of your sessions (in and out, type, status), newest first,
//! filterable by session, direction and chat, refreshing by itself while the page is open.

use super::common::{ErrorBox, format_ms};
use crate::api::{list_messages, list_sessions};
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;

/// How often the open page asks for new messages.
#[cfg(feature = "hydrate")]
const REFRESH: std::time::Duration = std::time::Duration::from_secs(3);

#[component]
pub fn MessagesPage() -> impl IntoView {
    let sessions = Resource::new(|| (), |_| list_sessions());
    let session = RwSignal::new(String::new());
    let direction = RwSignal::new(String::new());
    let chat = RwSignal::new(String::new());
    // `None`: the newest page; `Some(t)`: messages before t (the "Older" button).
    let before = RwSignal::new(None::<i64>);
    let tick = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let handle = set_interval_with_handle(move || tick.update(|n| *n += 1), REFRESH).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    });
    let log = Resource::new(
        move || {
            (
                session.get(),
                direction.get(),
                chat.get(),
                before.get(),
                tick.get(),
            )
        },
        |(session, direction, chat, before, _)| {
            let some = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_string());
            list_messages(MessageFilter {
                session: some(session),
                direction: some(direction),
                chat: some(chat),
                kind: None,
                limit: Some(PAGE),
                before,
            })
        },
    );
    view! {
        <Title text="Messages"/>
        <h1>"Messages"</h1>
        <p class="muted">"Every message your sessions sent or received, newest first. The list refreshes by itself."</p>
        <div class="row-form filters">
            <Transition fallback=|| view! { <span class="loading">"Loading sessions…"</span> }>
                {move || Suspend::new(async move {
                    let list = sessions.await.unwrap_or_default();
                    view! {
                        <fieldset class="choices">
                            <legend>"Session"</legend>
                            <label class="check"><input type="radio" name="session" value="" prop:checked=session.get_untracked().is_empty()
                                on:change=move |_| { before.set(None); session.set(String::new()) }/>"All"</label>
                            {list.into_iter().map(|s| {
                                let id = s.id.0.clone();
                                let checked = id == session.get_untracked();
                                view! {
                                    <label class="check"><input type="radio" name="session" value=id.clone() prop:checked=checked
                                        on:change=move |_| { before.set(None); session.set(id.clone()) }/>{s.name}</label>
                                }
                            }).collect_view()}
                        </fieldset>
                    }
                })}
            </Transition>
            <label>"Direction"
                <select name="direction" on:change:target=move |ev| { before.set(None); direction.set(ev.target().value()) }>
                    <option value="">"in and out"</option>
                    <option value="in">"in"</option>
                    <option value="out">"out"</option>
                </select>
            </label>
            <label>"Chat"
                <input name="chat" placeholder="any number" on:change:target=move |ev| { before.set(None); chat.set(ev.target().value()) }/>
            </label>
            <button type="button" on:click=move |_| tick.update(|n| *n += 1)>"Refresh"</button>
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading messages…"</p> }>
            {move || Suspend::new(async move {
                match log.await {
                    Err(err) => view! { <ErrorBox err/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="card empty">{if before.get_untracked().is_some() {
                            "No older messages."
                        } else {
                            "No messages yet. They appear here as soon as a session sends or receives one."
                        }}</p>
                    }.into_any(),
                    Ok(list) => {
                        let oldest = (list.len() as i64 == PAGE).then(|| list.last().map(|m| m.created_at)).flatten();
                        view! {
                            <div class="table-wrap"><table class="list" data-testid="messages">
                                <thead><tr><th>"Time"</th><th>""</th><th>"Chat"</th><th>"Type"</th><th>"Text"</th><th>"Source"</th><th>"Status"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|m| view! { <MessageRow m/> }).collect_view()}
                                </tbody>
                            </table></div>
                            <div class="row-form">
                                <button type="button" hidden=before.get_untracked().is_none() on:click=move |_| before.set(None)>"Newest"</button>
                                <button type="button" hidden=oldest.is_none() on:click=move |_| before.set(oldest)>"Older"</button>
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// How many messages one page of the log shows.
const PAGE: i64 = 50;

#[component]
fn MessageRow(m: MessageView) -> impl IntoView {
    let arrow = if m.direction == "in" {
        "← in"
    } else {
        "→ out"
    };
    view! {
        <tr data-direction=m.direction.clone() data-id=m.id.clone()>
            <td title=m.created_at.to_string()>{format_ms(m.created_at)}</td>
            <td><span class=format!("badge {}", m.direction)>{arrow}</span></td>
            <td>{m.chat}</td>
            <td><code>{m.kind}</code></td>
            <td class="message-text">{m.body}</td>
            <td>{m.source.unwrap_or_default()}</td>
            <td><span class=format!("badge {}", m.status)>{m.status.clone()}</span></td>
        </tr>
    }
}
