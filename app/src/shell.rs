//! The HTML document, the router and the signed-in layout with its navigation.

use crate::api::{get_me, get_server_info, logout};
use crate::i18n::{self, LangSwitch, t};
use crate::model::{Me, Role};
use crate::pages::*;
use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{A, Outlet, ParentRoute, Redirect, Route, Router, Routes},
    hooks::use_navigate,
    path,
};

/// The whole HTML document, rendered by the server for every dashboard route.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang=i18n::detect().code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // Here, not as leptos_meta's <Stylesheet> in App: that one fails to hydrate
                // with erased components (leptos#3946), and the shell is never hydrated.
                <link rel="stylesheet" id="kabar" href="/pkg/kabar.css"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(i18n::detect());
    // Tells browser tests (and anyone curious) that the page is interactive now.
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title formatter=|t: String| if t.is_empty() { "Kabar".to_string() } else { format!("{t} · Kabar") }/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/register") view=RegisterPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=SignedIn ssr=SsrMode::Async>
                    <Route path=path!("") view=|| view! { <Redirect path="/sessions"/> } ssr=SsrMode::Async/>
                    <Route path=path!("sessions") view=SessionsPage ssr=SsrMode::Async/>
                    <Route path=path!("sessions/:id") view=SessionPage ssr=SsrMode::Async/>
                    <Route path=path!("send") view=SendPage ssr=SsrMode::Async/>
                    <Route path=path!("messages") view=MessagesPage ssr=SsrMode::Async/>
                    <Route path=path!("auto-reply") view=AutoReplyPage ssr=SsrMode::Async/>
                    <Route path=path!("webhooks") view=WebhooksPage ssr=SsrMode::Async/>
                    <Route path=path!("keys") view=KeysPage ssr=SsrMode::Async/>
                    <Route path=path!("users") view=UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("settings") view=SettingsPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The layout every signed-in page shares. Sends visitors without a valid cookie to /login.
#[component]
fn SignedIn() -> impl IntoView {
    let me = Resource::new(|| (), |_| get_me());
    let info = Resource::new(|| (), |_| get_server_info());
    view! {
        <Suspense fallback=|| view! { <p class="loading">{t().loading}</p> }>
            {move || Suspend::new(async move {
                // Always an element (hidden when not needed): an Option followed by siblings
                // renders differently on the server and in the browser.
                let simulator = info.await.ok().is_some_and(|i| i.engine == "simulator");
                let banner = view! {
                    <div class="banner warn" role="status" hidden=!simulator>
                        {t().simulator_banner}
                    </div>
                };
                match me.await {
                    Ok(Some(me)) => view! {
                        {banner}
                        <Nav me/>
                        <main class="page">{form_error()}<Outlet/></main>
                    }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <main class="page"><ErrorBox err=e/></main> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Nav(me: Me) -> impl IntoView {
    let is_admin = me.role == Role::Admin;
    let do_logout = Action::new(|_: &()| logout());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = do_logout.value().get() {
            navigate("/login", Default::default());
        }
    });
    let t = t();
    let role = if is_admin { t.role_admin } else { t.role_user };
    view! {
        <header class="topbar">
            <a class="brand" href="/sessions">"Kabar"</a>
            <nav aria-label=t.nav_main>
                <A href="/sessions">{t.nav_sessions}</A>
                <A href="/send">{t.nav_send}</A>
                <A href="/messages">{t.nav_messages}</A>
                <A href="/auto-reply">{t.nav_auto_reply}</A>
                <A href="/webhooks">{t.nav_webhooks}</A>
                <Show when=move || is_admin>
                    <A href="/keys">{t.nav_keys}</A>
                    <A href="/users">{t.nav_users}</A>
                    <A href="/settings">{t.nav_settings}</A>
                </Show>
            </nav>
            <div class="who">
                <LangSwitch/>
                <span class="username" data-testid="username">{me.username.clone()}</span>
                <span class="role" data-role=me.role.as_str()>{role}</span>
                <button class="link" on:click=move |_| { do_logout.dispatch(()); }>{t.sign_out}</button>
            </div>
        </header>
    }
}
