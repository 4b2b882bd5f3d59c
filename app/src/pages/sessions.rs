//! Sessions: the list with live status badges, creation, and a session's page whose QR follows
//! the server's SSE stream (`/api/sessions/{id}/events`) and disappears once scanned.

use super::common::{
    ActionError, CopyButton, ErrorBox, FieldError, Pager, confirmed, format_ms, invalid, page_at,
    session_status_text, split_page,
};
use crate::api::{
    create_session, delete_session, get_pair_code, get_session, list_sessions, logout_session,
    sessions_activity, start_session, stop_session, update_session,
};
use crate::i18n::t;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{hooks::use_navigate, hooks::use_params_map};

#[component]
pub fn StatusBadge(status: SessionStatus) -> impl IntoView {
    let label = session_status_text(status);
    view! { <span class=format!("badge {}", status.as_str()) data-status=status.as_str()>{label}</span> }
}

#[component]
pub fn SessionsPage() -> impl IntoView {
    let create = Action::new(|name: &String| create_session(name.clone()));
    // Where the shown page starts (`None`: the first).
    let at = RwSignal::new(None::<String>);
    // Live: read again whenever the server says one of these sessions changed (its state,
    // messages or webhook backlog: `GET /api/sessions/events`), so a phone that drops shows
    // without a reload, and nothing is asked while nothing happens.
    // Read again only for a change to a session on this page, or when the page is the last
    // one (a new session shows there), or for an empty list ("read everything").
    let tick = RwSignal::new(0u32);
    let shown = StoredValue::new((Vec::<String>::new(), true));
    listen(
        || "/api/sessions/events".to_string(),
        "changed",
        move |ids: String| {
            let concerns = shown.with_value(|(ids_shown, last)| {
                *last
                    || ids_shown
                        .iter()
                        .any(|id| ids.contains(&format!("\"{id}\"")))
            });
            if concerns || !ids.contains("[\"") {
                tick.update(|n| *n += 1);
            }
        },
    );
    let sessions = Resource::new(
        move || (create.version().get(), at.get(), tick.get()),
        |(_, at, _)| list_sessions(page_at(at)),
    );
    // What the page's sessions have been doing (24-h counts, last message, webhook backlog),
    // with the same refresh: one page of counting, however many sessions there are.
    let activity = Resource::new(
        move || (create.version().get(), at.get(), tick.get()),
        |(_, at, _)| sessions_activity(page_at(at)),
    );
    // Linking and unlinking from the list: the QR code and the phone-number form open under
    // the session's row (one at a time: each follows its own event stream); unlinking asks
    // first. The list's own stream then shows the new status.
    let logout = Action::new(|id: &SessionId| logout_session(id.clone()));
    // Stopping keeps the link (no scan to start again): it asks nothing first.
    let stop = Action::new(|id: &SessionId| stop_session(id.clone()));
    let start = Action::new(|id: &SessionId| start_session(id.clone()));
    let linking = RwSignal::new(None::<SessionId>);
    // An admin sees everyone's sessions, so the list names each one's owner (from the
    // activity figures).
    let not_admin = !use_context::<Me>().is_some_and(|m| m.role == Role::Admin);
    let name = RwSignal::new(String::new());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(s)) = create.value().get() {
            navigate(&format!("/sessions/{}", s.id), Default::default());
        }
    });
    let t = t();
    view! {
        <Title text=t.nav_sessions/>
        <h1>{t.nav_sessions}</h1>
        <p class="muted">{t.sessions_intro}</p>
        <form method="post" class="card row-form" on:submit=move |ev| {
            ev.prevent_default();
            create.dispatch(name.get());
        }>
            <label>{t.name} <input name="name" required maxlength="64" placeholder=t.session_name_placeholder bind:value=name
                aria-invalid=invalid(create, "name")/> <FieldError action=create name="name"/></label>
            <button type="submit" class="primary" disabled=move || create.pending().get()>{t.add_session}</button>
        </form>
        <ActionError action=create fields=&["name"]/>
        <Transition fallback=move || view! { <p class="loading">{t.loading_sessions}</p> }>
            {move || Suspend::new(async move {
                match sessions.await {
                    Err(err) => view! { <ErrorBox err/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="card empty">{t.no_sessions}</p>
                        <Pager at next=None/>
                    }.into_any(),
                    Ok(list) => {
                        let (list, next) = split_page(list, |s| s.id.0.clone());
                        shown.set_value((list.iter().map(|s| s.id.0.clone()).collect(), next.is_none()));
                        // Lists, not maps: a page of sessions is short, and a HashMap's code
                        // costs the bundle kilobytes.
                        let activity = activity.await.unwrap_or_default();
                        view! {
                        <div class="table-wrap"><table class="list" data-testid="sessions">
                            <thead><tr>
                                // The number under the name, the id broken over two lines: the
                                // figures fit a laptop's width beside them.
                                <th>{t.name}</th><th>{t.status}</th>
                                <th hidden=not_admin>{t.owner}</th>
                                <th>{t.last_24h}</th><th>{t.last_activity}</th><th>{t.webhook_col}</th>
                                <th>{t.id}</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| {
                                    let a = activity.iter().find(|a| a.session_id == s.id).cloned();
                                    let figures = a.as_ref().map(|a| (t.in_out)(a.messages_in_24h, a.messages_out_24h));
                                    let last = a.as_ref().and_then(|a| a.last_activity_at).map(format_ms);
                                    let backlog = a.as_ref().map(|a| (a.webhooks_pending, a.webhooks_failed));
                                    let (id1, id2, id3, id4) = (s.id.clone(), s.id.clone(), s.id.clone(), s.id.clone());
                                    let (id5, id6, stopped) = (s.id.clone(), s.id.clone(), s.stopped);
                                    // Open while it waits for a scan: once linked, the row's badge and number say so.
                                    let can_link = s.status == SessionStatus::QrReady;
                                    let open = Memo::new(move |_| can_link && linking.with(|l| l.as_ref() == Some(&id3)));
                                    // The push name when it says more than the number.
                                    let name = s.push_name.clone().filter(|n| Some(n) != s.phone_number.as_ref());
                                    let who = [name, s.phone_number.as_ref().map(|p| format!("+{p}"))]
                                        .into_iter().flatten().collect::<Vec<_>>().join(" · ");
                                    view! {
                                    <tr>
                                        <td data-label=t.name><a href=format!("/sessions/{}", s.id)>{s.name}</a>
                                            <div class="muted small wrap" data-testid="number">{who}</div></td>
                                        // The status, what can be done about it (small buttons under the
                                        // badge: a column of their own made the table too wide for a
                                        // laptop), and the QR code while linking.
                                        <td data-label=t.status class="status-cell">{if stopped {
                                            view! { <span class="badge disconnected" data-status="stopped">{t.st_stopped}</span> }.into_any()
                                        } else {
                                            view! { <StatusBadge status=s.status/> }.into_any()
                                        }}
                                            <div class="row-actions">
                                                <button class="small" hidden=!can_link aria-expanded=move || open.get().to_string()
                                                    on:click=move |_| linking.set((linking.get().as_ref() != Some(&id1)).then(|| id1.clone()))>{t.link_phone}</button>
                                                <button class="small" hidden=s.status != SessionStatus::Connected disabled=move || logout.pending().get()
                                                    on:click=move |_| if confirmed(t.confirm_unlink) { logout.dispatch(id2.clone()); }>{t.log_out}</button>
                                                <button class="small" hidden=stopped disabled=move || stop.pending().get()
                                                    on:click=move |_| { stop.dispatch(id5.clone()); }>{t.stop_session}</button>
                                                <button class="small primary" hidden=!stopped disabled=move || start.pending().get()
                                                    on:click=move |_| { start.dispatch(id6.clone()); }>{t.start_session}</button>
                                            </div>
                                            <div class="link-box" hidden=move || !open.get()>
                                                {move || open.get().then(|| view! { <LiveLink id=id4.clone()/> })}
                                            </div>
                                        </td>
                                        // Always the cell, hidden when not an admin: the same markup both sides.
                                        <td data-label=t.owner data-testid="owner" hidden=not_admin>{a.as_ref().map(|a| a.owner_username.clone()).unwrap_or_default()}</td>
                                        <td data-label=t.last_24h data-testid="last-24h">{figures.unwrap_or_default()}</td>
                                        <td data-label=t.last_activity class="wrap">{last.unwrap_or_else(|| t.never.into())}</td>
                                        <td data-label=t.webhook_col data-testid="webhook-health"
                                            class=move || match backlog { Some((_, f)) if f > 0 => "bad", Some((p, _)) if p > 0 => "warn", _ => "" }>
                                            {backlog.map(|(p, f)| (t.backlog)(p, f)).unwrap_or_default()}
                                        </td>
                                        <td data-label=t.id class="id"><code>{s.id.0.clone()}</code> " " <CopyButton text=s.id.0.clone()/></td>
                                    </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table></div>
                        <Pager at next/>
                    }.into_any()
                    }
                }
            })}
        </Transition>
        <ActionError action=logout/>
        <ActionError action=stop/>
        <ActionError action=start/>
    }
}

/// A session's QR code and phone-number linking, live from its own event stream: opened from
/// the list.
#[component]
fn LiveLink(id: SessionId) -> impl IntoView {
    let live = RwSignal::new(None::<SessionSnapshot>);
    let follow = id.clone();
    follow_events(move || follow.clone(), live);
    let snap = Signal::derive(move || {
        live.get().unwrap_or(SessionSnapshot {
            status: SessionStatus::QrReady,
            qr: None,
            phone_number: None,
            push_name: None,
            reason: None,
        })
    });
    view! { <LinkBox id snap/> }
}

/// What linking a phone shows: the QR code while it waits for a scan (the number and name once
/// linked, why it waits otherwise), and linking with a phone number instead, whose code shows
/// until the phone is linked.
#[component]
fn LinkBox(id: SessionId, snap: Signal<SessionSnapshot>) -> impl IntoView {
    let pair =
        Action::new(|(id, phone): &(SessionId, String)| get_pair_code(id.clone(), phone.clone()));
    let pair_phone = RwSignal::new(String::new());
    let code = move || pair.value().get().and_then(Result::ok);
    let t = t();
    view! {
        <div class="qr-box">
            {move || {
                let s = snap.get();
                match (s.status, s.qr) {
                    (SessionStatus::QrReady, Some(qr)) => view! {
                        <img class="qr" src=qr width="264" height="264"
                            alt=t.qr_alt/>
                        <p class="muted">{t.qr_help}</p>
                    }.into_any(),
                    (SessionStatus::Connected, _) => view! {
                        <p class="linked" data-testid="linked">
                            {t.linked_as} <strong>{s.push_name.unwrap_or_default()}</strong>
                            " (+" {s.phone_number.unwrap_or_default()} ")"
                        </p>
                    }.into_any(),
                    (status, _) => view! {
                        <p class="muted">{match status {
                            SessionStatus::Disconnected => t.reconnecting,
                            SessionStatus::LoggedOut => t.logged_out_new_qr,
                            _ => t.waiting_for_whatsapp,
                        }} " " {s.reason.unwrap_or_default()}</p>
                    }.into_any(),
                }
            }}
        </div>
        <form method="post" class="row-form" hidden=move || snap.get().status != SessionStatus::QrReady
            on:submit=move |ev| {
                ev.prevent_default();
                pair.dispatch((id.clone(), pair_phone.get()));
            }>
            <label>{t.pair_with_phone}
                <input name="pairPhone" inputmode="tel" placeholder="6281234567890" bind:value=pair_phone
                    aria-invalid=invalid(pair, "phoneNumber")/> <FieldError action=pair name="phoneNumber"/>
            </label>
            <button type="submit" disabled=move || pair.pending().get()>{t.get_code}</button>
        </form>
        <div class="pair-code" hidden=move || code().is_none() || snap.get().status != SessionStatus::QrReady>
            <p class="code" data-testid="pair-code">{move || code().map(|c| c.code).unwrap_or_default()}</p>
            <CopyButton from="[data-testid=pair-code]"/>
            <p class="muted">{t.pair_code_help}</p>
        </div>
        <ActionError action=pair fields=&["phoneNumber"]/>
    }
}

#[component]
pub fn SessionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || SessionId(params.read().get("id").unwrap_or_default());
    let rename = Action::new(|(id, name): &(SessionId, String)| {
        update_session(
            id.clone(),
            SessionPatch {
                name: Some(name.clone()),
                fallback: None,
            },
        )
    });
    let session = Resource::new(
        move || (id(), rename.version().get()),
        |(id, _)| get_session(id),
    );
    let live = RwSignal::new(None::<SessionSnapshot>);
    follow_events(id, live);

    let logout = Action::new(|id: &SessionId| logout_session(id.clone()));
    let delete = Action::new(|id: &SessionId| delete_session(id.clone()));
    let set_fallback = Action::new(|(id, f): &(SessionId, Fallback)| {
        update_session(
            id.clone(),
            SessionPatch {
                name: None,
                fallback: Some(*f),
            },
        )
    });
    let confirm = RwSignal::new(false);
    let navigate = use_navigate();
    let t = t();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/sessions", Default::default());
        }
    });

    view! {
        <Transition fallback=move || view! { <p class="loading">{t.loading_session}</p> }>
            {move || Suspend::new(async move {
                let (s, groups) = match session.await {
                    Ok(p) => p,
                    Err(err) => return view! { <ErrorBox err/> }.into_any(),
                };
                let initial = SessionSnapshot {
                    status: s.status,
                    qr: None,
                    phone_number: s.phone_number.clone(),
                    push_name: s.push_name.clone(),
                    reason: None,
                };
                let snap = Signal::derive(move || live.get().unwrap_or_else(|| initial.clone()));
                let (id1, id2, id3, id4) = (s.id.clone(), s.id.clone(), s.id.clone(), s.id.clone());
                let id5 = s.id.clone();
                let linked = s.status == SessionStatus::Connected;
                let new_name = RwSignal::new(s.name.clone());
                let fallback = s.fallback;
                view! {
                    <Title text=s.name.clone()/>
                    <p><a href="/sessions">{t.back_to_sessions}</a></p>
                    <h1>{s.name.clone()}</h1>
                    <form method="post" class="row-form" on:submit=move |ev| {
                        ev.prevent_default();
                        rename.dispatch((id5.clone(), new_name.get()));
                    }>
                        <label>{t.name} <input name="sessionName" required maxlength="64" bind:value=new_name
                            aria-invalid=invalid(rename, "name")/> <FieldError action=rename name="name"/></label>
                        <button type="submit" disabled=move || rename.pending().get()>{t.rename}</button>
                    </form>
                    <div class="card session" data-testid="session">
                        <p>{t.status_label} {move || view! { <StatusBadge status=snap.get().status/> }}</p>
                        <LinkBox id=id3 snap/>
                        // Static options (dynamic lists inside <select> break hydration).
                        <label>{t.fallback_label}
                            <select name="fallback" on:change:target=move |ev| {
                                let f = Fallback::parse(&ev.target().value()).unwrap_or_default();
                                set_fallback.dispatch((id4.clone(), f));
                            }>
                                <option value="none" selected=fallback == Fallback::None>{t.fallback_none}</option>
                                <option value="text" selected=fallback == Fallback::Text>{t.fallback_text}</option>
                                <option value="poll" selected=fallback == Fallback::Poll>{t.fallback_poll}</option>
                            </select>
                        </label>
                        <p class="muted">{t.session_id_is} <code>{s.id.0.clone()}</code> " " <CopyButton text=s.id.0.clone()/> " "
                            {t.session_id_pass} <code>"?session="</code> {t.session_id_or} <code>"X-Session-Id"</code> {t.session_id_several}</p>
                        <div class="actions">
                            <button on:click=move |_| if confirmed(t.confirm_unlink) { logout.dispatch(id1.clone()); }
                                disabled=move || snap.get().status != SessionStatus::Connected>{t.log_out}</button>
                            {move || if confirm.get() {
                                let id = id2.clone();
                                view! { <button class="danger" on:click=move |_| { delete.dispatch(id.clone()); }>{t.really_delete}</button> }.into_any()
                            } else {
                                view! { <button class="danger" on:click=move |_| confirm.set(true)>{t.delete}</button> }.into_any()
                            }}
                        </div>
                    </div>
                    {linked.then(|| groups_card(&s.id.0, groups))}
                }.into_any()
            })}
        </Transition>
        <ActionError action=logout/>
        <ActionError action=delete/>
        <ActionError action=set_fallback/>
        <ActionError action=rename fields=&["name"]/>
    }
}

/// The groups the session's number is in (contract §12), one line each: its subject, a link
/// to the Send page addressed to it, its invite link (the API's answer; admins only), its JID
/// and its members with their roles. Listed when the page loads for a linked session. (Plain
/// markup: every new element and view shape costs bundle bytes.)
fn groups_card(page: &str, groups: Vec<Vec<String>>) -> impl IntoView {
    let t = t();
    let empty = groups.is_empty().then_some(t.no_groups);
    let list = groups
        .into_iter()
        .map(|g| {
            let (id, subject) = (g.first().cloned().unwrap_or_default(), g.get(1).cloned());
            let send = format!("/send?session={page}&to={id}");
            let invite = format!("/api/sessions/{page}/groups/{id}/invite");
            let members: Vec<String> = g.iter().skip(2).map(|m| format!("+{m}")).collect();
            let line = format!(" · {id} · {}", members.join(", "));
            view! {
                <li><a href=send title=t.send_to_group>{subject}</a> " ("
                    <a href=invite target="_blank" rel="noopener">{t.invite_link}</a> ")" {line}</li>
            }
        })
        .collect_view();
    view! {
        <section class="card" data-testid="groups">
            <h2>{t.groups}</h2>
            <p class="muted">{empty}</p>
            <ul>{list}</ul>
        </section>
    }
}

/// Follows `/api/sessions/{id}/events` in the browser. `EventSource` reconnects by itself when
/// the stream drops, and the server sends the current snapshot first on every connection.
fn follow_events(
    id: impl Fn() -> SessionId + Send + Sync + 'static,
    live: RwSignal<Option<SessionSnapshot>>,
) {
    listen(
        move || format!("/api/sessions/{}/events", id()),
        "status",
        move |text| {
            if let Ok(snap) = serde_json::from_str::<SessionSnapshot>(&text) {
                live.set(Some(snap));
            }
        },
    );
}

/// Opens an `EventSource` on `url()` in the browser (again when what `url` reads changes) and
/// hands the data of each `name` event to `on`; closed with the page.
fn listen(
    url: impl Fn() -> String + Send + Sync + 'static,
    name: &'static str,
    on: impl Fn(String) + Clone + 'static,
) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::{JsCast, closure::Closure};
        let Ok(source) = web_sys::EventSource::new(&url()) else {
            return;
        };
        let on = on.clone();
        let on_event =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                if let Some(text) = ev.data().as_string() {
                    on(text);
                }
            });
        let _ = source.add_event_listener_with_callback(name, on_event.as_ref().unchecked_ref());
        let source = send_wrapper::SendWrapper::new((source, on_event));
        on_cleanup(move || source.0.close());
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, name, on);
}
