//! Setup pages: API keys (everyone's own; an admin's shows everyone's and picks owners), and
//! for admins users and global settings. The server decides who may do what whatever the UI
//! shows; the navigation merely hides what a user cannot use.

use super::common::{
    ActionError, CopyButton, ErrorBox, FieldError, FieldErrorIn, Pager, Saved, confirmed, error_of,
    fetched_in_browser, format_ms, invalid, invalid_in, options_html, page_at, session_label,
    split_page,
};
use crate::api::*;
use crate::i18n::t;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn KeysPage() -> impl IntoView {
    let create = Action::new(|(n, o, s): &(String, String, String)| {
        create_key(n.clone(), o.clone(), s.clone())
    });
    let revoke = Action::new(|id: &ApiKeyId| revoke_key(id.clone()));
    let at = RwSignal::new(None::<String>);
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get(), at.get()),
        |(_, _, at)| list_keys(page_at(at)),
    );
    // The choices of the form's selects, fetched by the browser. The key's session is chosen
    // among its owner's sessions, not typed.
    // Only an admin may list the users (anyone else would get a 403 in the console).
    let me = use_context::<Me>();
    let admin = me.as_ref().is_some_and(|m| m.role == Role::Admin);
    let users = fetched_in_browser(move || async move {
        if admin {
            list_users(None).await
        } else {
            Ok(Vec::new())
        }
    });
    let sessions = fetched_in_browser(|| list_sessions(None));
    let my_id = me.map(|m| m.id.0);
    let name = RwSignal::new(String::new());
    let err = error_of(create);
    let owner = RwSignal::new(String::new());
    let session = RwSignal::new(String::new());
    let t = t();
    // A key made: the form empties (the new key shows once below it).
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            name.set(String::new());
            session.set(String::new());
        }
    });

    view! {
        <Title text=t.nav_keys/>
        <h1>{t.nav_keys}</h1>
        <p class="muted">
            {t.keys_intro_1} <code>"X-API-KEY"</code>
            {t.keys_intro_2} <code>"?api_key="</code> {t.keys_intro_3}
        </p>
        <form method="post" class="card row-form" on:submit=move |ev| {
            ev.prevent_default();
            create.dispatch((name.get(), owner.get(), session.get()));
        }>
            <label>{t.name} <input name="name" required maxlength="64" placeholder=t.key_name_placeholder bind:value=name
                aria-invalid=invalid_in(err, "name")/> <FieldErrorIn err name="name"/></label>
            <label hidden=!admin>{t.owner}
                // The options go in as HTML: markers for a dynamic list inside <select> are
                // dropped or moved by Chromium's parser, which breaks hydration.
                <select name="owner" on:change:target=move |ev| {
                    owner.set(ev.target().value());
                    session.set(String::new());
                } inner_html=move || {
                    let users = users.get().unwrap_or_default();
                    options_html(t.me, users.into_iter().map(|u| (u.id.0, u.username)))
                }>
                </select>
            </label>
            <label>{t.session_optional}
                <select name="session" prop:value=move || session.get()
                    on:change:target=move |ev| session.set(ev.target().value())
                    inner_html=move || {
                        // "Me" is the signed-in admin.
                        let whose = Some(owner.get()).filter(|o| !o.is_empty())
                            .or_else(|| my_id.clone());
                        let list = sessions.get().unwrap_or_default();
                        options_html(t.any_session, list.into_iter()
                            .filter(|s| Some(&s.owner_id.0) == whose.as_ref())
                            .map(|s| (s.id.0, session_label(&s.name, s.phone_number.as_deref()))))
                    }>
                </select>
            </label>
            <button type="submit" class="primary" disabled=move || create.pending().get()>{t.create_key}</button>
        </form>
        <ActionError action=create fields=&["name"]/>
        {move || create.value().get().and_then(Result::ok).map(|k| view! {
            <div class="card secret" role="status">
                <p><strong>{t.copy_key_now}</strong></p>
                <code class="key" data-testid="new-key">{k.key.clone()}</code>
                " " <CopyButton text=k.key/>
            </div>
        })}
        <ActionError action=revoke/>
        <Transition fallback=move || view! { <p class="loading">{t.loading_keys}</p> }>
            {move || Suspend::new(async move {
                match keys.await {
                    Err(err) => view! { <ErrorBox err/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="card empty">{t.no_keys}</p>
                        <Pager at next=None/>
                    }.into_any(),
                    Ok(list) => {
                        let (list, next) = split_page(list, |k| k.id.0.clone());
                        view! {
                        <div class="table-wrap"><table class="list" data-testid="keys">
                            <thead><tr>
                                <th>{t.name}</th><th>{t.key}</th><th>{t.owner}</th><th>{t.session}</th>
                                <th>{t.created}</th><th>{t.last_used}</th><th></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|k| {
                                    let id = k.id.clone();
                                    view! {
                                        <tr>
                                            <td data-label=t.name>{k.name}</td>
                                            <td data-label=t.key><code>{k.prefix}"…"</code></td>
                                            <td data-label=t.owner>{k.owner_username}</td>
                                            // The session by name once the browser has the list (its id until then).
                                            <td data-label=t.session class="wrap">{move || match &k.session_id {
                                                None => t.any.to_string(),
                                                Some(id) => sessions.get().unwrap_or_default().into_iter()
                                                    .find(|s| &s.id == id)
                                                    .map_or_else(|| id.0.clone(), |s| session_label(&s.name, s.phone_number.as_deref())),
                                            }}</td>
                                            <td data-label=t.created class="wrap">{format_ms(k.created_at)}</td>
                                            <td data-label=t.last_used class="wrap">{k.last_used_at.map(format_ms).unwrap_or_else(|| t.never.into())}</td>
                                            <td class="actions"><button class="danger small" on:click=move |_| {
                                                if confirmed(t.confirm_revoke) {
                                                    revoke.dispatch(id.clone());
                                                }
                                            }>{t.revoke}</button></td>
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
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let create =
        Action::new(|(u, p, r): &(String, String, Role)| create_user(u.clone(), p.clone(), *r));
    let update =
        Action::new(|(id, patch): &(UserId, UserPatch)| update_user(id.clone(), patch.clone()));
    let delete = Action::new(|id: &UserId| delete_user(id.clone()));
    let at = RwSignal::new(None::<String>);
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                delete.version().get(),
                at.get(),
            )
        },
        |(_, _, _, at)| list_users(page_at(at)),
    );
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::User);
    let confirm = RwSignal::new(None::<UserId>);
    let t = t();
    // A user made: the form empties, so a second click does not try the same name again.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            username.set(String::new());
            password.set(String::new());
        }
    });

    view! {
        <Title text=t.nav_users/>
        <h1>{t.nav_users}</h1>
        <form method="post" class="card row-form" on:submit=move |ev| {
            ev.prevent_default();
            create.dispatch((username.get(), password.get(), role.get()));
        }>
            <label>{t.username} <input name="username" required bind:value=username aria-invalid=invalid(create, "username")/>
                <FieldError action=create name="username"/></label>
            <label>{t.password} <input name="password" type="password" required autocomplete="new-password" bind:value=password
                aria-invalid=invalid(create, "password")/> <FieldError action=create name="password"/></label>
            <label>{t.role}
                <select name="role" on:change:target=move |ev| {
                    role.set(Role::parse(&ev.target().value()).unwrap_or(Role::User))
                }>
                    <option value="user">{t.role_user}</option>
                    <option value="admin">{t.role_admin}</option>
                </select>
            </label>
            <button type="submit" class="primary" disabled=move || create.pending().get()>{t.add_user}</button>
        </form>
        <ActionError action=create fields=&["username", "password"]/>
        <ActionError action=update/>
        <Saved action=update/>
        <ActionError action=delete/>
        <Transition fallback=move || view! { <p class="loading">{t.loading_users}</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(err) => view! { <ErrorBox err/> }.into_any(),
                    Ok(list) => {
                        let (list, next) = split_page(list, |u| u.id.0.clone());
                        view! {
                        <div class="table-wrap"><table class="list" data-testid="users">
                            <thead><tr><th>{t.username}</th><th>{t.role}</th><th>{t.status}</th><th>{t.created}</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|u| {
                                    let (id1, id2, id3, id4) = (u.id.clone(), u.id.clone(), u.id.clone(), u.id.clone());
                                    let (id5, private) = (u.id.clone(), u.allow_private_webhooks);
                                    let other_role = if u.role == Role::Admin { Role::User } else { Role::Admin };
                                    let disabled = u.disabled;
                                    view! {
                                        <tr class:disabled=disabled>
                                            <td data-label=t.username>{u.username}</td>
                                            <td data-label=t.role>{if u.role == Role::Admin { t.role_admin } else { t.role_user }}</td>
                                            <td data-label=t.status>{if disabled { t.user_disabled } else { t.user_active }}</td>
                                            <td data-label=t.created>{format_ms(u.created_at)}</td>
                                            <td class="actions">
                                                <button class="small" on:click=move |_| {
                                                    update.dispatch((id1.clone(), UserPatch { role: Some(other_role), ..Default::default() }));
                                                }>{if other_role == Role::Admin { t.make_admin } else { t.make_user }}</button>
                                                <button class="small" on:click=move |_| {
                                                    update.dispatch((id2.clone(), UserPatch { disabled: Some(!disabled), ..Default::default() }));
                                                }>{if disabled { t.enable } else { t.disable }}</button>
                                                <button class="small" aria-pressed=private.to_string() on:click=move |_| {
                                                    update.dispatch((id5.clone(), UserPatch { allow_private_webhooks: Some(!private), ..Default::default() }));
                                                }>{if private { t.deny_private_webhooks } else { t.allow_private_webhooks_user }}</button>
                                                {move || if confirm.get().as_ref() == Some(&id3) {
                                                    let id = id3.clone();
                                                    view! { <button class="danger small" on:click=move |_| {
                                                        confirm.set(None);
                                                        delete.dispatch(id.clone());
                                                    }>{t.really_delete}</button> }.into_any()
                                                } else {
                                                    let id = id4.clone();
                                                    view! { <button class="small" on:click=move |_| confirm.set(Some(id.clone()))>{t.delete}</button> }.into_any()
                                                }}
                                            </td>
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
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = Action::new(|patch: &SettingsPatch| update_settings(patch.clone()));
    let settings = Resource::new(move || save.version().get(), |_| get_settings());
    let t = t();
    view! {
        <Title text=t.nav_settings/>
        <h1>{t.nav_settings}</h1>
        <ActionError action=save/>
        <Saved action=save/>
        <Transition fallback=move || view! { <p class="loading">{t.loading_settings}</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Err(err) => view! { <ErrorBox err/> }.into_any(),
                    Ok(s) => view! {
                        <div class="card stack">
                            <label class="check">
                                <input type="checkbox" name="allowRegistration" prop:checked=s.allow_registration
                                    on:change:target=move |ev| { save.dispatch(SettingsPatch {
                                        allow_registration: Some(ev.target().checked()), ..Default::default()
                                    }); }/>
                                {t.allow_registration}
                            </label>
                            <label class="check">
                                <input type="checkbox" name="allowPrivateWebhooks" prop:checked=s.allow_private_webhooks
                                    on:change:target=move |ev| { save.dispatch(SettingsPatch {
                                        allow_private_webhooks: Some(ev.target().checked()), ..Default::default()
                                    }); }/>
                                {t.allow_private_webhooks}
                            </label>
                            <label>
                                {t.max_sessions_per_user}
                                <input type="number" name="maxSessionsPerUser" min="0" max="10000"
                                    prop:value=s.max_sessions_per_user.to_string()
                                    on:change:target=move |ev| {
                                        if let Ok(n) = ev.target().value().parse::<u32>() {
                                            save.dispatch(SettingsPatch {
                                                max_sessions_per_user: Some(n), ..Default::default()
                                            });
                                        }
                                    }/>
                            </label>
                            <label>
                                {t.retention_days}
                                <input type="number" name="retentionDays" min="0" max="36500"
                                    prop:value=s.retention_days.to_string()
                                    on:change:target=move |ev| {
                                        if let Ok(n) = ev.target().value().parse::<u32>() {
                                            save.dispatch(SettingsPatch {
                                                retention_days: Some(n), ..Default::default()
                                            });
                                        }
                                    }/>
                            </label>
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
