//! Sign in and register. Both set the `auth-token` cookie and go to the dashboard.

use super::common::{ActionError, FieldError, form_error, invalid};
use crate::api::{get_server_info, login, register};
use crate::i18n::{LangSwitch, t};
use crate::model::{ErrorBody, Me};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = Action::new(|(u, p): &(String, String)| login(u.clone(), p.clone()));
    let info = Resource::new(|| (), |_| get_server_info());
    let t = t();
    view! {
        <Title text=t.sign_in/>
        <main class="page narrow">
            <LangSwitch/>
            <h1>{t.sign_in_title}</h1>
            <CredentialsForm action submit=t.sign_in autocomplete="current-password"/>
            <Suspense>
                {move || Suspend::new(async move {
                    info.await.ok().filter(|i| i.allow_registration).map(|_| view! {
                        <p class="muted">{t.no_account} <a href="/register">{t.create_one}</a></p>
                    })
                })}
            </Suspense>
        </main>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = Action::new(|(u, p): &(String, String)| register(u.clone(), p.clone()));
    let info = Resource::new(|| (), |_| get_server_info());
    let t = t();
    view! {
        <Title text=t.create_account_title/>
        <main class="page narrow">
            <LangSwitch/>
            <h1>{t.create_account_title}</h1>
            // Closed: say so rather than offer a form the server refuses. The page is rendered
            // whole on the server (SsrMode::Async), so this works without the script too.
            <Suspense>
                {move || Suspend::new(async move {
                    if info.await.is_ok_and(|i| !i.allow_registration) {
                        view! { <p class="card" role="status" data-testid="registration-closed">{t.registration_closed}</p> }.into_any()
                    } else {
                        view! {
                            <p class="muted">{t.first_account_admin}</p>
                            <CredentialsForm action submit=t.create_account autocomplete="new-password"/>
                        }.into_any()
                    }
                })}
            </Suspense>
            <p class="muted">{t.have_account} <a href="/login">{t.sign_in}</a></p>
        </main>
    }
}

#[component]
fn CredentialsForm(
    action: Action<(String, String), Result<Me, ErrorBody>>,
    submit: &'static str,
    autocomplete: &'static str,
) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            navigate("/sessions", Default::default());
        }
    });
    view! {
        <form method="post" class="card stack" on:submit=move |ev| {
            ev.prevent_default();
            action.dispatch((username.get(), password.get()));
        }>
            <label>{t().username}
                <input name="username" required autocomplete="username" bind:value=username
                    aria-invalid=invalid(action, "username")/>
                <FieldError action name="username"/>
            </label>
            <label>{t().password}
                <input name="password" type="password" required autocomplete=autocomplete bind:value=password
                    aria-invalid=invalid(action, "password")/>
                <FieldError action name="password"/>
            </label>
            {form_error()}
            <ActionError action fields=&["username", "password"]/>
            <button type="submit" class="primary" disabled=move || action.pending().get()>{submit}</button>
        </form>
    }
}
