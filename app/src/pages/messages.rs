//! Messages: the recent message log of your sessions (in and out, type, status), newest first,
//! filterable by session, direction and chat, refreshing by itself while the page is open.
//! Files show as thumbnails or links, places, cards and polls in a line, contacts' reactions
//! and edits beside the message, and a sent message's ticks in its status.

use super::common::{ErrorBox, format_ms, named, refresh_tick, status_label};
use crate::api::{list_messages, list_sessions};
use crate::i18n::t;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn MessagesPage() -> impl IntoView {
    let t = t();
    let sessions = Resource::new(|| (), |_| list_sessions(None));
    let session = RwSignal::new(String::new());
    let direction = RwSignal::new(String::new());
    let chat = RwSignal::new(String::new());
    // `None`: the newest page; `Some(t)`: messages before t (the "Older" button).
    let before = RwSignal::new(None::<i64>);
    let tick = refresh_tick();
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
        <Title text=t.nav_messages/>
        <h1>{t.nav_messages}</h1>
        <p class="muted">{t.messages_intro}</p>
        <div class="row-form filters">
            <Transition fallback=move || view! { <span class="loading">{t.loading_sessions}</span> }>
                {move || Suspend::new(async move {
                    let list = sessions.await.unwrap_or_default();
                    view! {
                        <fieldset class="choices">
                            <legend>{t.session}</legend>
                            <label class="check"><input type="radio" name="session" value="" prop:checked=session.get_untracked().is_empty()
                                on:change=move |_| { before.set(None); session.set(String::new()) }/>{t.all}</label>
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
            <label>{t.direction}
                <select name="direction" on:change:target=move |ev| { before.set(None); direction.set(ev.target().value()) }>
                    <option value="">{t.in_and_out}</option>
                    <option value="in">{t.dir_in}</option>
                    <option value="out">{t.dir_out}</option>
                </select>
            </label>
            <label>{t.chat}
                <input name="chat" placeholder=t.any_number on:change:target=move |ev| { before.set(None); chat.set(ev.target().value()) }/>
            </label>
            <button type="button" on:click=move |_| tick.update(|n| *n += 1)>{t.refresh}</button>
        </div>
        <Transition fallback=move || view! { <p class="loading">{t.loading_messages}</p> }>
            {move || Suspend::new(async move {
                match log.await {
                    Err(err) => view! { <ErrorBox err/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="card empty">{if before.get_untracked().is_some() {
                            t.no_older_messages
                        } else {
                            t.no_messages
                        }}</p>
                    }.into_any(),
                    Ok(list) => {
                        let oldest = (list.len() as i64 == PAGE).then(|| list.last().map(|m| m.created_at)).flatten();
                        view! {
                            <div class="table-wrap"><table class="list" data-testid="messages">
                                <thead><tr><th>{t.time}</th><th>""</th><th>{t.chat}</th><th>{t.col_type}</th><th>{t.col_text}</th><th>{t.col_source}</th><th>{t.status}</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|m| view! { <MessageLine m/> }).collect_view()}
                                </tbody>
                            </table></div>
                            <div class="row-form">
                                <button type="button" hidden=before.get_untracked().is_none() on:click=move |_| before.set(None)>{t.newest}</button>
                                <button type="button" hidden=oldest.is_none() on:click=move |_| before.set(oldest)>{t.older}</button>
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// A message's file: pictures as a small preview, anything else as a link, both to the file.
pub(super) fn media_link(f: MediaInfo, open: &'static str) -> impl IntoView {
    let label = f.filename.clone().unwrap_or_else(|| open.to_string());
    let picture = f.mimetype.starts_with("image/");
    view! {
        <a class="media" href=f.url.clone() target="_blank" rel="noopener" data-testid="message-media">
            {picture.then(|| view! { <img class="thumb" src=f.url.clone() alt=label.clone() loading="lazy"/> })}
            {(!picture).then(|| label.clone())}
        </a>
    }
}

/// What a place, contact cards or a poll carry, in a line: a place links to the map.
pub(super) fn details_line(d: Details) -> impl IntoView {
    let place = d.location.map(|l| {
        // Written by serde_json (already in the bundle), not core's float formatting.
        let deg = |x: f64| serde_json::to_string(&x).unwrap_or_default();
        let (lat, lon) = (deg(l.latitude), deg(l.longitude));
        let href =
            format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}");
        let label = match l.address {
            Some(a) => format!("📍 {a} ({lat}, {lon})"),
            None => format!("📍 {lat}, {lon}"),
        };
        view! { <a class="details" href=href target="_blank" rel="noopener noreferrer">{label}</a> }
    });
    let text = match (d.contacts, d.poll) {
        (Some(cards), _) => cards
            .iter()
            .map(|c| format!("👤 {} +{}", c.name, c.phone_numbers.join(", +")))
            .collect::<Vec<_>>()
            .join(" · "),
        (_, Some(p)) => format!("📊 {}", p.options.join(" / ")),
        _ => String::new(),
    };
    view! { {place}{(!text.is_empty()).then(|| view! { <span class="details">{text}</span> })} }
}

/// How many messages one page of the log shows.
const PAGE: i64 = 50;

#[component]
fn MessageLine(m: MessageRow) -> impl IntoView {
    let t = t();
    let arrow = if m.direction == "in" {
        format!("← {}", t.dir_in)
    } else {
        format!("→ {}", t.dir_out)
    };
    view! {
        <tr data-direction=m.direction.clone() data-id=m.id.clone() class:revoked=m.revoked_at.is_some()>
            <td title=m.created_at.to_string() data-label=t.time>{format_ms(m.created_at)}</td>
            <td><span class=format!("badge {}", m.direction)>{arrow}</span></td>
            <td data-label=t.chat class="wrap">{m.chat}{m.push_name.map(|name| view! { <small class="push-name">{name}</small> })}</td>
            <td data-label=t.col_type title=m.kind.clone()>{named(t.kinds, &m.kind)}</td>
            <td class="message-text" data-label=t.col_text>
                {m.message}{m.media.map(|f| media_link(f, t.open_file))}{details_line(m.details)}
                {(!m.reactions.is_empty()).then(|| view! {
                    <span class="reactions" title=t.reactions data-testid="reactions">{m.reactions.join(" ")}</span>
                })}
                {m.edited_at.map(|_| view! { <small class="tag">{t.edited}</small> })}
                {m.revoked_at.map(|_| view! { <small class="tag">{t.deleted}</small> })}
            </td>
            <td data-label=t.col_source>{m.source.map(|s| named(t.sources, &s))}</td>
            <td data-label=t.status><span class=format!("badge {}", m.status)>{status_label(&m.status, m.direction == "out")}</span></td>
        </tr>
    }
}
