//! Webhooks: the global endpoint (admins), each session's endpoint, a test event button, and
//! the delivery log (live) with filters, attempts under their row and a retry button.

use super::common::{
    ActionError, CopyButton, ErrorBox, FieldErrorIn, LIST_PAGE, Pager, confirmed, error_of,
    fetched_in_browser, format_clock, format_ms, invalid_in, options_html, refresh_tick,
    session_label, split_page, status_label,
};
use crate::api::*;
use crate::i18n::t;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    // Every resource lives here, at the top: resources created inside a Suspend's children do
    // not hydrate. The forms below only hold actions and bump `changed` to refetch.
    let changed = RwSignal::new(0u32);
    let overview = Resource::new(move || changed.get(), |_| get_webhooks_overview());
    let t = t();
    view! {
        <Title text=t.nav_webhooks/>
        <h1>{t.nav_webhooks}</h1>
        <p class="muted">
            {t.webhooks_intro} <code>"X-Signature"</code> {t.webhooks_intro_end}
        </p>
        <Transition fallback=move || view! { <p class="loading">{t.loading_webhooks}</p> }>
            {move || Suspend::new(async move {
                // Always one element (never an Option), so server and browser agree on markers.
                let o = match overview.await {
                    Ok(o) => o,
                    Err(err) => return view! { <div><ErrorBox err/></div> }.into_any(),
                };
                let global = if o.admin {
                    view! { <GlobalWebhook current=o.global changed/> }.into_any()
                } else {
                    view! { <span hidden></span> }.into_any()
                };
                let sessions = if o.sessions.is_empty() {
                    view! { <p class="card empty">{t.webhooks_no_sessions}</p> }.into_any()
                } else {
                    o.sessions
                        .into_iter()
                        .map(|(session, current)| view! { <SessionWebhook session current changed/> })
                        .collect_view()
                        .into_any()
                };
                view! { <div>{global}{sessions}</div> }.into_any()
            })}
        </Transition>
        <DeliveryLog changed/>
    }
}

/// The inputs of [`EndpointForm`] that show their own errors.
const ENDPOINT_FIELDS: &[&str] = &["url", "secret", "events"];

/// A URL/secret/events form shared by the global and the per-session endpoints.
#[component]
fn EndpointForm(
    current: Option<WebhookView>,
    #[prop(into)] on_save: Callback<WebhookConfig>,
    #[prop(into)] on_test: Callback<()>,
    #[prop(into)] on_remove: Callback<()>,
    testid: String,
    /// The last save's error: one about the URL, the secret or the events shows at its input.
    err: Signal<Option<ErrorBody>>,
) -> impl IntoView {
    let t = t();
    let url = RwSignal::new(current.as_ref().map(|c| c.url.clone()).unwrap_or_default());
    let secret = RwSignal::new(String::new());
    let events = RwSignal::new(
        current
            .as_ref()
            .map(|c| c.events.join(", "))
            .unwrap_or_default(),
    );
    let status = current.as_ref().map(|c| {
        if c.enabled {
            (t.webhook_active)(if c.secret.is_empty() {
                t.secret_none
            } else {
                &c.secret
            })
        } else {
            (t.webhook_stopped)(c.disabled_reason.as_deref().unwrap_or_default())
        }
    });
    let has_secret = current.as_ref().is_some_and(|c| !c.secret.is_empty());
    let exists = current.is_some();
    view! {
        <form method="post" class="row-form" data-testid=testid on:submit=move |ev| {
            ev.prevent_default();
            let list = events.get().split(',').map(|e| e.trim().to_string()).filter(|e| !e.is_empty()).collect();
            let typed = secret.get();
            let secret = (!typed.is_empty() || !has_secret).then_some(typed);
            on_save.run(WebhookConfig { url: url.get(), secret, events: list });
        }>
            <label>{t.url} <input name="url" type="url" required placeholder="https://example.com/kabar" bind:value=url
                aria-invalid=invalid_in(err, "url")/> <FieldErrorIn err name="url"/></label>
            <label>{t.secret}
                <input name="secret" placeholder=if has_secret { t.secret_unchanged } else { t.secret_placeholder } bind:value=secret
                    aria-invalid=invalid_in(err, "secret")/> <FieldErrorIn err name="secret"/>
            </label>
            <label>{t.events_all} <input name="events" placeholder="message.in, message.out" bind:value=events
                aria-invalid=invalid_in(err, "events")/> <FieldErrorIn err name="events"/></label>
            <button type="submit" class="primary">{t.save}</button>
            <button type="button" on:click=move |_| on_test.run(())>{t.send_test_event}</button>
            <button type="button" class="danger" hidden=!exists on:click=move |_| if confirmed(t.confirm_remove_webhook) { on_remove.run(()) }>{t.remove}</button>
        </form>
        <p class="muted">{status.unwrap_or_default()}</p>
    }
}

#[component]
fn GlobalWebhook(current: Option<WebhookView>, changed: RwSignal<u32>) -> impl IntoView {
    let save = Action::new(|cfg: &WebhookConfig| {
        update_settings(SettingsPatch {
            webhook: Some(Some(cfg.clone())),
            ..Default::default()
        })
    });
    let test = Action::new(|_: &()| test_webhook(String::new()));
    let remove = Action::new(|_: &()| {
        update_settings(SettingsPatch {
            webhook: Some(None),
            ..Default::default()
        })
    });
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_)))
            || matches!(test.value().get(), Some(Ok(_)))
            || matches!(remove.value().get(), Some(Ok(_)))
        {
            changed.update(|n| *n += 1);
        }
    });
    view! {
        <section class="card">
            <h2>{t().global_webhook}</h2>
            <p class="muted">{t().global_webhook_help}</p>
            <EndpointForm current testid="global-webhook".to_string() err=error_of(save)
                on_save=move |c| { save.dispatch(c); } on_test=move |_| { test.dispatch(()); }
                on_remove=move |_| { remove.dispatch(()); }/>
            <ActionError action=save fields=ENDPOINT_FIELDS/>
            <ActionError action=test/>
            <ActionError action=remove/>
        </section>
    }
}

#[component]
fn SessionWebhook(
    session: SessionView,
    current: Option<WebhookView>,
    changed: RwSignal<u32>,
) -> impl IntoView {
    let save = Action::new(|(id, cfg): &(SessionId, WebhookConfig)| {
        save_session_webhook(id.clone(), cfg.clone())
    });
    let test = Action::new(|id: &SessionId| test_webhook(id.0.clone()));
    let remove = Action::new(|id: &SessionId| remove_session_webhook(id.clone()));
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_)))
            || matches!(test.value().get(), Some(Ok(_)))
            || matches!(remove.value().get(), Some(Ok(_)))
        {
            changed.update(|n| *n += 1);
        }
    });
    let (id1, id2, id3) = (session.id.clone(), session.id.clone(), session.id.clone());
    view! {
        <section class="card">
            <h2>{session.name.clone()} " " <span class="muted small">{session.phone_number.clone().unwrap_or_default()}</span></h2>
            <EndpointForm current testid=format!("webhook-{}", session.id) err=error_of(save)
                on_save=move |c| { save.dispatch((id1.clone(), c)); }
                on_test=move |_| { test.dispatch(id2.clone()); }
                on_remove=move |_| { remove.dispatch(id3.clone()); }/>
            <ActionError action=save fields=ENDPOINT_FIELDS/>
            <ActionError action=test/>
            <ActionError action=remove/>
        </section>
    }
}

#[component]
fn DeliveryLog(changed: RwSignal<u32>) -> impl IntoView {
    let event = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let session = RwSignal::new(String::new());
    let retry = Action::new(|id: &String| retry_delivery(id.clone()));
    let refresh = RwSignal::new(0u32);
    // Live: the log (and the attempts shown) are fetched again every few seconds, so a retry's
    // outcome shows up without a click.
    let tick = refresh_tick();
    // Where the shown page starts (`None`: the newest); a new filter starts over.
    let at = RwSignal::new(None::<String>);
    // The delivery whose attempts show under its row. Fetched with the log, so a refresh
    // redraws both at once instead of reloading the panel.
    let open = RwSignal::new(None::<String>);
    // The session filter is a choice among the sessions this person sees.
    let sessions = fetched_in_browser(|| list_sessions(None));
    let log = Resource::new(
        move || {
            (
                (event.get(), status.get(), session.get(), at.get()),
                (
                    changed.get(),
                    retry.version().get(),
                    refresh.get(),
                    tick.get(),
                ),
                open.get(),
            )
        },
        |((event, status, session, cursor), _, open)| async move {
            let some = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_string());
            let list = list_deliveries(DeliveryFilter {
                session: some(session),
                event: some(event),
                status: some(status),
                limit: Some(LIST_PAGE as i64 + 1),
                cursor,
            })
            .await?;
            // A delivery that went away meanwhile (retention) closes its panel; the log stays.
            // Any other failure (signed out, the server) shows as the log's error.
            let detail = match open {
                Some(id) => match get_delivery(id).await {
                    Ok(d) => Some(d),
                    Err(e) if e.error == ErrorCode::NotFound => None,
                    Err(e) => return Err(e),
                },
                None => None,
            };
            Ok::<_, ErrorBody>((list, detail))
        },
    );
    let t = t();
    view! {
        <section>
            <h2>{t.delivery_log}</h2>
            <div class="row-form filters">
                <label>{t.event}
                    <select on:change:target=move |ev| { at.set(None); event.set(ev.target().value()) }>
                        <option value="">{t.any}</option>
                        <option value="message.in">"message.in"</option>
                        <option value="message.out">"message.out"</option>
                        <option value="message.reaction">"message.reaction"</option>
                        <option value="message.edited">"message.edited"</option>
                        <option value="message.revoked">"message.revoked"</option>
                        <option value="message.status">"message.status"</option>
                        <option value="poll.vote">"poll.vote"</option>
                        <option value="group.participants">"group.participants"</option>
                        <option value="group.update">"group.update"</option>
                        <option value="interaction.button">"interaction.button"</option>
                        <option value="interaction.list">"interaction.list"</option>
                        <option value="interaction.timeout">"interaction.timeout"</option>
                        <option value="connection.update">"connection.update"</option>
                        <option value="webhook.test">"webhook.test"</option>
                    </select>
                </label>
                <label>{t.status}
                    <select on:change:target=move |ev| { at.set(None); status.set(ev.target().value()) }>
                        <option value="">{t.any}</option>
                        <option value="pending">{t.st_pending}</option>
                        <option value="delivered">{t.st_delivered}</option>
                        <option value="failed">{t.st_failed}</option>
                    </select>
                </label>
                <label>{t.session}
                    <select name="session" on:change:target=move |ev| { at.set(None); session.set(ev.target().value()) }
                        inner_html=move || {
                            let list = sessions.get().unwrap_or_default();
                            options_html(t.any, list.into_iter().map(|s| (s.id.0, session_label(&s.name, s.phone_number.as_deref()))))
                        }>
                    </select>
                </label>
                <button type="button" on:click=move |_| refresh.update(|n| *n += 1)>{t.refresh}</button>
            </div>
            <ActionError action=retry/>
            <Transition fallback=move || view! { <p class="loading">{t.loading_deliveries}</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Err(err) => view! { <ErrorBox err/> }.into_any(),
                        Ok((list, _)) if list.is_empty() => view! { <p class="card empty">{t.no_deliveries}</p><Pager at next=None/> }.into_any(),
                        Ok((list, detail)) => {
                            let (list, next) = split_page(list, |d| format!("{}.{}", d.created_at, d.id));
                            view! {
                            <div class="table-wrap"><table class="list" data-testid="deliveries">
                                <thead><tr><th>{t.time}</th><th>{t.event}</th><th>{t.col_to}</th><th>{t.status}</th><th>{t.attempts}</th><th>{t.last_answer}</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|d| {
                                        let (id1, id2) = (d.id.clone(), d.id.clone());
                                        let answer = d.last_status.map(|s| format!("HTTP {s}")).or(d.last_error.clone()).unwrap_or_default();
                                        let shown = detail.clone().filter(|x| x.delivery.id == d.id);
                                        let is_open = shown.is_some();
                                        // A delivery still to be tried says when, to the second.
                                        let next = d.next_attempt_at.filter(|_| d.status == "pending").map(|at| view! {
                                            <small class="next-attempt">{t.next_attempt}" "{format_clock(at)}</small>
                                        });
                                        view! {
                                            <tr data-status=d.status.clone()>
                                                <td data-label=t.time title=format_clock(d.created_at)>{format_ms(d.created_at)}</td>
                                                <td data-label=t.event><code>{d.event.clone()}</code></td>
                                                <td data-label=t.col_to class="wrap">{d.endpoint.clone()}</td>
                                                <td data-label=t.status><span class=format!("badge {}", d.status)>{status_label(&d.status, false)}</span>{next}</td>
                                                <td data-label=t.attempts>{d.attempts}</td>
                                                <td data-label=t.last_answer class="wrap">{answer}</td>
                                                <td class="actions">
                                                    <button class="small" aria-expanded=is_open.to_string() on:click=move |_| {
                                                        open.update(|o| *o = if o.as_deref() == Some(id1.as_str()) { None } else { Some(id1.clone()) });
                                                    }>{t.attempts}</button>
                                                    <button class="small" on:click=move |_| { retry.dispatch(id2.clone()); }>{t.retry}</button>
                                                </td>
                                            </tr>
                                            {shown.map(|d| view! {
                                                <tr class="attempts-row"><td colspan="7">
                                                    <Attempts d on_close=move || open.set(None)/>
                                                </td></tr>
                                            })}
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
        </section>
    }
}

/// One delivery's attempts, its event id and the body every attempt sent.
#[component]
fn Attempts(d: DeliveryDetail, on_close: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    let t = t();
    view! {
        <div class="attempts" data-testid="attempts">
            <button class="link" on:click=move |_| on_close()>{t.close}</button>
            <p>{t.event_id} <code>{d.delivery.event_id.clone()}</code> " "
                <CopyButton text=d.delivery.event_id.clone()/></p>
            <div class="table-wrap"><table class="list">
                <thead><tr><th>{t.time}</th><th>{t.trigger}</th><th>{t.answer}</th><th>{t.latency}</th><th>{t.response_or_error}</th></tr></thead>
                <tbody>
                    {d.attempts_log.into_iter().map(|a| view! {
                        <tr>
                            <td data-label=t.time title=format_ms(a.at)>{format_clock(a.at)}</td>
                            <td data-label=t.trigger>{a.trigger}</td>
                            <td data-label=t.answer>{a.status_code.map(|s| s.to_string()).unwrap_or_else(|| "—".into())}</td>
                            <td data-label=t.latency>{format!("{} ms", a.latency_ms)}</td>
                            <td data-label=t.response_or_error class="wrap"><code>{a.error.or(a.response_excerpt).unwrap_or_default()}</code></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></div>
            <pre class="body">{d.body}</pre>
        </div>
    }
}
