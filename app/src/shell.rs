//! The HTML document, the router and the signed-in layout with its navigation.

use crate::api::{get_me, get_server_info, logout};
use crate::i18n::{self, LangSwitch, t};
use crate::model::{Me, Role};
use crate::pages::*;
use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, LazyRoute, SsrMode,
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
                // `site_pkg_dir` is this build's directory, named by its contents' hash.
                <link rel="stylesheet" id="kabar" href=format!("/{}/kabar.css", options.site_pkg_dir)/>
                // The Copy buttons' few lines (common::CopyButton): apart from the WASM.
                <script src=format!("/{}/copy.js", options.site_pkg_dir) defer></script>
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
    view! {
        <Title formatter=|t: String| if t.is_empty() { "Kabar".to_string() } else { format!("{t} · Kabar") }/>
        <Router set_is_routing=routing_marker()>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/register") view={Lazy::<RegisterRoute>::new()} ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=SignedIn ssr=SsrMode::Async>
                    <Route path=path!("") view=|| view! { <Redirect path="/sessions"/> } ssr=SsrMode::Async/>
                    <Route path=path!("sessions") view={Lazy::<SessionsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("sessions/:id") view={Lazy::<SessionRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("send") view={Lazy::<SendRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("chats") view={Lazy::<ChatsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("messages") view={Lazy::<MessagesRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("auto-reply") view={Lazy::<AutoReplyRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("webhooks") view={Lazy::<WebhooksRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("keys") view={Lazy::<KeysRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("users") view={Lazy::<UsersRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("settings") view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// While the router loads the next page (its chunk, then its data), `<body aria-busy="true">`:
/// the address has already changed but the old page is still on screen, so style/main.css
/// shows a progress bar and browser tests wait for it to go (end2end/tests/helpers.ts). Set
/// synchronously as the router starts and ends a navigation, not from an effect a tick later.
fn routing_marker() -> SignalSetter<bool> {
    SignalSetter::map(|_busy: bool| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = if _busy {
                body.set_attribute("aria-busy", "true")
            } else {
                body.remove_attribute("aria-busy")
            };
        }
    })
}

/// The pages in five WebAssembly groups, each fetched when one of its pages is first shown:
/// the first load carries the shell and one group instead of every page. Groups, not a chunk
/// per page: wasm-split gives every set of pages that share code a chunk of its own, and a
/// chunk per page made 146 files, up to 84 requests for one page (2 s each on slow 3G); five
/// groups make 15 to 18 files per first visit. `account` is signing in, `daily` what a shop
/// uses every day (the sessions list, where phones are linked, and sending), `chats` what it
/// reads (the chats, the log, and a session's own page with its groups), `rules` what answers
/// for it, `setup` what is set up once (webhooks, keys, users, settings). A session's page left
/// `daily` when the list learnt to link, stop and start phones: the two together were 13 KB
/// over; in `rules` it cost that group 40 KB of code it shares with `chats`, and a sixth group
/// of its own put `daily` 9 KB over through more shared chunks. Chats
/// beside the daily pages made that group's first visit 12 KB brotli over the budget, and a
/// fifth group pushed the old `rules` (auto-reply and webhooks) 7 KB over; webhooks among the
/// set-once pages left every first visit at most 340 KiB brotli. The largest first visit is
/// what scripts/build-site.sh holds to the bundle budget.
/// On the server these are plain calls. The chunks are cut out by scripts/build-site.sh.
macro_rules! page_groups {
    ($($group:ident, $preload:ident: $kind:ident { $($route:ident => $page:ident),* $(,)? })*) => {$(
        // Variants named after the page components they render (`LoginPage`).
        #[allow(clippy::enum_variant_names)]
        #[derive(Clone, Copy)]
        enum $kind { $($page),* }

        #[leptos::lazy]
        fn $group(page: $kind) -> AnyView {
            match page { $($kind::$page => view! { <$page/> }.into_any()),* }
        }

        $(
            struct $route;
            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }
                async fn view(_this: Self) -> AnyView {
                    #[cfg(feature = "ssr")]
                    preload_group(stringify!($group));
                    $group($kind::$page).await
                }
                async fn preload() {
                    // `#[lazy]` makes `__preload_<group>` in the browser build only.
                    #[cfg(feature = "hydrate")]
                    $preload().await;
                }
            }
        )*
    )*};
}

page_groups! {
    account, __preload_account: Account {
        LoginRoute => LoginPage,
        RegisterRoute => RegisterPage,
    }
    daily, __preload_daily: Daily {
        SessionsRoute => SessionsPage,
        SendRoute => SendPage,
    }
    chats, __preload_chats: Chats {
        ChatsRoute => ChatsPage,
        MessagesRoute => MessagesPage,
        SessionRoute => SessionPage,
    }
    rules, __preload_rules: Rules {
        AutoReplyRoute => AutoReplyPage,
    }
    setup, __preload_setup: Setup {
        WebhooksRoute => WebhooksPage,
        KeysRoute => KeysPage,
        UsersRoute => UsersPage,
        SettingsRoute => SettingsPage,
    }
}

/// Group key → the WebAssembly files of that group (`split-manifest.json` in the bundle's directory, without `.wasm`).
#[cfg(feature = "ssr")]
pub type GroupFiles = std::sync::Arc<std::collections::HashMap<String, Vec<String>>>;

/// Which WebAssembly files each page group needs beyond the main module, by group key: the
/// group's name and a hash of where `#[lazy]` expanded. The server reads the groups once from
/// `pkg/<hash>/split-manifest.json` (written by scripts/split-manifest.mjs) and gives each request
/// its own `SplitManifest`, which remembers the groups already named in that page.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct SplitManifest {
    groups: GroupFiles,
    /// The bundle's directory (`pkg/<hash>`), as in `LeptosOptions::site_pkg_dir`.
    dir: std::sync::Arc<str>,
    named: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

#[cfg(feature = "ssr")]
impl SplitManifest {
    pub fn for_request(groups: GroupFiles, dir: std::sync::Arc<str>) -> Self {
        Self {
            groups,
            dir,
            named: Default::default(),
        }
    }
}

/// Names a page group's WebAssembly files in `<link rel="preload">` as the server renders one of
/// its pages, so a first visit fetches them beside the main module instead of after it has
/// started (each a 2-second round trip on slow 3G). Leptos' own preloads
/// (leptos_integration_utils 0.8) look at the lazy functions called before the routes' async
/// views have run, so they never name a lazy route's group.
#[cfg(feature = "ssr")]
fn preload_group(group: &str) {
    use leptos_meta::Link;
    let Some(manifest) = use_context::<SplitManifest>() else {
        return;
    };
    // A page's view can render more than once on the server (Suspense); name its files once.
    let mut named = manifest.named.lock().unwrap_or_else(|e| e.into_inner());
    if named.iter().any(|g| g == group) {
        return;
    }
    named.push(group.to_string());
    let prefix = format!("{group}_");
    let Some(files) = manifest
        .groups
        .iter()
        .find_map(|(key, files)| key.starts_with(&prefix).then_some(files))
    else {
        return;
    };
    // `to_html` on a leptos_meta tag registers it for <head>. `crossorigin=""` is the
    // anonymous CORS mode of the loader's fetch(), so the browser uses the preloaded file.
    let dir = &manifest.dir;
    _ = view! { <Link rel="modulepreload" href=format!("/{dir}/__wasm_split.js") crossorigin=""/> }
        .to_html();
    for file in files {
        _ = view! {
            <Link rel="preload" href=format!("/{dir}/{file}.wasm") as_="fetch" type_="application/wasm" crossorigin=""/>
        }
        .to_html();
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
                    Ok(Some(me)) => {
                        // Who is signed in, for the pages (an admin sees owners and picks them):
                        // from this one resource, so no page has to ask the server again.
                        provide_context(me.clone());
                        view! {
                        {banner}
                        <Nav me/>
                        <main class="page" id="main" tabindex="-1">{form_error()}<Outlet/></main>
                    }.into_any()
                    }
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
    // On a phone the links and the account fold behind "Menu": a checkbox and its label, so
    // it opens before the WASM has arrived too.
    // A link followed closes both ("Menu" and the account's <details>: the browser's own
    // state, which nothing else reads).
    let close_menus = move |_| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let doc = document();
            if let Some(toggle) = doc
                .get_element_by_id("menu-toggle")
                .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                toggle.set_checked(false);
            }
            if let Ok(Some(account)) = doc.query_selector("details.account[open]") {
                _ = account.remove_attribute("open");
            }
        }
    };
    // The router would take "#main" for a navigation and keep the focus where it was; the
    // browser's own jump (before the WASM, too) focuses the page, so do what it does.
    let skip_to_main = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(main) = document()
                .get_element_by_id("main")
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                ev.prevent_default();
                _ = main.focus();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <a class="skip" href="#main" on:click=skip_to_main>{t.skip_to_content}</a>
        <header class="topbar">
            <a class="brand" href="/sessions">"Kabar"</a>
            <input type="checkbox" id="menu-toggle" class="menu-toggle" aria-controls="menu"/>
            <label for="menu-toggle" class="menu-button">{t.nav_menu}</label>
            <div class="menu" id="menu">
            <nav aria-label=t.nav_main on:click=close_menus>
                <A href="/sessions">{t.nav_sessions}</A>
                <A href="/send">{t.nav_send}</A>
                <A href="/chats">{t.nav_chats}</A>
                <A href="/messages">{t.nav_messages}</A>
                <A href="/auto-reply">{t.nav_auto_reply}</A>
                <A href="/webhooks">{t.nav_webhooks}</A>
                <A href="/keys">{t.nav_keys}</A>
                <Show when=move || is_admin>
                    <A href="/users">{t.nav_users}</A>
                    <A href="/settings">{t.nav_settings}</A>
                </Show>
            </nav>
            <div class="who">
                <LangSwitch/>
                // Who is signed in; what concerns the account opens under the name (a native
                // <details>: it opens before the WASM has arrived too).
                <details class="account">
                    <summary>
                        <span class="username" data-testid="username">{me.username.clone()}</span>
                        " "
                        <span class="role" data-role=me.role.as_str()>{role}</span>
                    </summary>
                    <div class="account-menu">
                        // The API reference (Swagger UI), served by the server beside the dashboard.
                        <a href="/docs" rel="external">{t.api_docs}</a>
                        // A form, so it signs out before the WASM has arrived too (server's forms.rs).
                        <form method="post" action="/logout" on:submit=move |ev| {
                            ev.prevent_default();
                            do_logout.dispatch(());
                        }>
                            <button type="submit" class="link">{t.sign_out}</button>
                        </form>
                    </div>
                </details>
            </div>
            </div>
        </header>
    }
}
