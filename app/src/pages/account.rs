//! Sign in and register. Both set the `auth-token` cookie and go to the dashboard.

use super::common::ActionError;
use crate::api::{get_server_info, login, register};
use crate::model::{ErrorBody, Me};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = Action::new(|(u, p): &(String, String)| login(u.clone(), p.clone()));
    let info = Resource::new(|| (), |_| get_server_info());
    view! {
        <Title text="Sign in"/>
        <main class="page narrow">
            <h1>"Sign in to Kabar"</h1>
            <CredentialsForm action submit="Sign in" autocomplete="current-password"/>
            <Suspense>
                {move || Suspend::new(async move {
                    info.await.ok().filter(|i| i.allow_registration).map(|_| view! {
                        <p class="muted">"No account yet? " <a href="/register">"Create one"</a></p>
                    })
                })}
            </Suspense>
        </main>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = Action::new(|(u, p): &(String, String)| register(u.clone(), p.clone()));
    view! {
        <Title text="Create an account"/>
        <main class="page narrow">
            <h1>"Create an account"</h1>
            <p class="muted">"The first account on a new server becomes its administrator."</p>
            <CredentialsForm action submit="Create account" autocomplete="new-password"/>
            <p class="muted">"Already have an account? " <a href="/login">"Sign in"</a></p>
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
        <form class="card stack" on:submit=move |ev| {
            ev.prevent_default();
            action.dispatch((username.get(), password.get()));
        }>
            <label>"Username"
                <input name="username" required autocomplete="username" bind:value=username/>
            </label>
            <label>"Password"
                <input name="password" type="password" required autocomplete=autocomplete bind:value=password/>
            </label>
            <ActionError action=action/>
            <button type="submit" class="primary" disabled=move || action.pending().get()>{submit}</button>
        </form>
    }
}
