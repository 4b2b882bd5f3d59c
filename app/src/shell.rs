//! The HTML document, the router and the signed-in layout with its navigation.

use crate::api::{get_me, get_server_info, logout};
use crate::model::{Me, Role};
use crate::pages::*;
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
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
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
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
    // Tells browser tests (and anyone curious) that the page is interactive now.
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="kabar" href="/pkg/kabar.css"/>
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
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                // Always an element (hidden when not needed): an Option followed by siblings
                // renders differently on the server and in the browser.
                let simulator = info.await.ok().is_some_and(|i| i.engine == "simulator");
                let banner = view! {
                    <div class="banner warn" role="status" hidden=!simulator>
                        "Simulator engine: no real WhatsApp connection. Messages go nowhere."
                    </div>
                };
                match me.await {
                    Ok(Some(me)) => view! {
                        {banner}
                        <Nav me/>
                        <main class="page"><Outlet/></main>
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
    view! {
        <header class="topbar">
            <a class="brand" href="/sessions">"Kabar"</a>
            <nav aria-label="Main">
                <A href="/sessions">"Sessions"</A>
                <A href="/send">"Send"</A>
                <A href="/messages">"Messages"</A>
                <A href="/auto-reply">"Auto-reply"</A>
                <A href="/webhooks">"Webhooks"</A>
                <Show when=move || is_admin>
                    <A href="/keys">"API keys"</A>
                    <A href="/users">"Users"</A>
                    <A href="/settings">"Settings"</A>
                </Show>
            </nav>
            <div class="who">
                <span class="username" data-testid="username">{me.username.clone()}</span>
                <span class="role">{me.role.as_str()}</span>
                <button class="link" on:click=move |_| { do_logout.dispatch(()); }>"Sign out"</button>
            </div>
        </header>
    }
}
