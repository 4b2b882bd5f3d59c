//! The dashboard as HTTP sees it: pages render on the server, assets are served, and server
//! functions enforce the same rules as the REST API.

use super::*;

/// The HTML `client` gets at `url`.
async fn page(client: &reqwest::Client, url: String) -> String {
    let r = client.get(url).send().await.expect("page");
    r.text().await.expect("html")
}

#[tokio::test]
async fn pages_render_and_protected_ones_send_visitors_to_login() {
    let app = TestApp::start().await;
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = anon
        .get(app.url("/login"))
        .send()
        .await
        .expect("login page");
    assert_eq!(r.status(), 200);
    let html = r.text().await.expect("html");
    assert!(html.contains("Sign in to Kabar"), "{html}");
    let dir = bundle_dir(&app).await;
    assert!(
        html.contains(&format!("/{dir}/kabar.js")),
        "hydration script: {html}"
    );

    // A browser (Accept: text/html) gets a real 302.
    let r = anon
        .get(app.url("/users"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("users page");
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(r.headers()["location"], "/login");

    let r = anon
        .get(app.url("/no/such/page"))
        .send()
        .await
        .expect("404 page");
    assert_eq!(r.status(), 404);
    assert!(r.text().await.expect("html").contains("Page not found"));
}

#[tokio::test]
async fn admin_pages_render_for_admins_and_navigation_hides_them_from_users() {
    let app = TestApp::start().await;
    let (admin, user, _) = app.admin_and_user().await;
    let html = page(&admin, app.url("/keys")).await;
    assert!(
        html.contains("API keys") && html.contains("href=\"/users\""),
        "{html}"
    );
    let html = page(&user, app.url("/sessions")).await;
    assert!(html.contains("href=\"/sessions\""), "{html}");
    assert!(
        !html.contains("href=\"/users\"") && !html.contains("href=\"/settings\""),
        "{html}"
    );
    // Their own API keys are theirs to manage.
    assert!(html.contains("href=\"/keys\""), "{html}");
    // The delivery log's filter offers every event webhooks carry.
    let html = page(&user, app.url("/webhooks")).await;
    for event in app::model::event::ALL {
        assert!(
            html.contains(&format!("<option value=\"{event}\">")),
            "{event} missing from the delivery log's filter"
        );
    }
    // A user who types the address gets the server's refusal, not the data.
    let html = page(&user, app.url("/users")).await;
    assert!(
        html.contains("FORBIDDEN") && !html.contains("data-testid=\"users\""),
        "{html}"
    );
}

#[tokio::test]
async fn server_functions_check_auth_like_the_rest_api() {
    use app::api::{ListUsers, UpdateSettings};
    use server_fn::ServerFn;
    let app = TestApp::start().await;
    let (admin, user, _) = app.admin_and_user().await;
    // Every server function takes its arguments as JSON.
    let form = |c: &reqwest::Client, path: &str, body: Value| {
        c.post(app.url(path))
            .header("accept", "application/json")
            .json(&body)
    };
    let (s, b) = call(form(&user, ListUsers::PATH, json!({}))).await;
    assert_error(s, &b, 403, "FORBIDDEN");
    let (s, b) = call(form(&reqwest::Client::new(), ListUsers::PATH, json!({}))).await;
    assert_error(s, &b, 401, "UNAUTHORIZED");
    let (s, b) = call(form(&admin, ListUsers::PATH, json!({}))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b.as_array().expect("users").len(), 2);
    let body = json!({"patch": {"allowRegistration": false}});
    let (s, b) = call(user.post(app.url(UpdateSettings::PATH)).json(&body)).await;
    assert_error(s, &b, 403, "FORBIDDEN");
    let (_, settings) = call(admin.get(app.url("/api/settings"))).await;
    assert_eq!(settings["allowRegistration"], true, "unchanged");
}

/// The bundle's directory, `pkg/<hash of its files>`, as `pkg/build-id` names it.
async fn bundle_dir(app: &TestApp) -> String {
    let r = reqwest::get(app.url("/pkg/build-id"))
        .await
        .expect("build-id");
    assert_eq!(r.status(), 200, "run scripts/build-site.sh first");
    let id = r.text().await.expect("id").trim().to_string();
    assert!(
        id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "a content hash: {id:?}"
    );
    format!("pkg/{id}")
}

/// The WebAssembly, JS and CSS sit in a directory named by their hash: the pages link there,
/// and browsers may keep those files for good; files whose names stay (favicon, /docs' Swagger
/// UI, the build id) are revalidated on each use.
#[tokio::test]
async fn the_bundle_has_hashed_names_and_is_cached_for_good() {
    let app = TestApp::start().await;
    let dir = bundle_dir(&app).await;
    let html = reqwest::get(app.url("/login"))
        .await
        .expect("login")
        .text()
        .await
        .expect("html");
    for file in ["kabar.css", "copy.js", "kabar.js", "kabar.wasm"] {
        let url = format!("/{dir}/{file}");
        assert!(html.contains(&url), "{file} linked from the page: {html}");
        let r = reqwest::get(app.url(&url)).await.expect("asset");
        assert_eq!(r.status(), 200, "{url}");
        assert_eq!(
            r.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{url}"
        );
    }
    assert!(
        !html.contains(r#""/pkg/kabar"#),
        "no unhashed bundle path: {html}"
    );
    for (url, status) in [
        ("/favicon.svg", 200),
        ("/pkg/build-id", 200),
        ("/pkg/kabar.wasm", 404),
        ("/copy.js", 404),
    ] {
        let r = reqwest::get(app.url(url)).await.expect("asset");
        assert_eq!(r.status(), status, "{url}");
        if status == 200 {
            assert_eq!(r.headers()["cache-control"], "no-cache", "{url}");
        }
    }
}

#[tokio::test]
async fn embedded_assets_are_served() {
    let app = TestApp::start().await;
    let dir = bundle_dir(&app).await;
    let (css, wasm) = (
        app.url(&format!("/{dir}/kabar.css")),
        app.url(&format!("/{dir}/kabar.wasm")),
    );
    let c = reqwest::Client::new();
    let r = c.get(&css).send().await.expect("css");
    assert_eq!(r.status(), 200, "run scripts/build-site.sh first");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/css")
    );
    let etag = r.headers()["etag"].clone();
    let r = c
        .get(&css)
        .header("if-none-match", etag)
        .send()
        .await
        .expect("css");
    assert_eq!(r.status(), 304);
    let r = c.get(&wasm).send().await.expect("wasm");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/wasm");
    assert!(r.headers().get("content-encoding").is_none());
    let plain = r.bytes().await.expect("wasm");

    // Compressed at build time, chosen by Accept-Encoding; the type stays the file's.
    let r = c
        .get(&wasm)
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .expect("wasm");
    assert_eq!(r.headers()["content-encoding"], "br");
    assert_eq!(r.headers()["content-type"], "application/wasm");
    assert_eq!(r.headers()["vary"], "accept-encoding");
    let etag = r.headers()["etag"].clone();
    assert!(r.bytes().await.expect("br").len() < plain.len() / 2);
    let r = c
        .get(&wasm)
        .header("accept-encoding", "br")
        .header("if-none-match", etag)
        .send()
        .await
        .expect("wasm");
    assert_eq!(r.status(), 304);
    let r = c
        .get(&wasm)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("wasm");
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let gz = r.bytes().await.expect("gz");
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped)
        .expect("gunzip");
    assert!(unzipped == plain, "the gzip copy is another file");
}

/// A first visit fetches the page's WebAssembly group beside the main module: the page names
/// every file of its group (and only its group) in a preload, once, and each of them is served.
#[tokio::test]
async fn a_page_preloads_the_files_of_its_group_once() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let dir = bundle_dir(&app).await;
    let (s, groups) = call(admin.get(app.url(&format!("/{dir}/split-manifest.json")))).await;
    assert_eq!(s, 200, "run scripts/build-site.sh first");
    let group = |name: &str| -> Vec<String> {
        let (_, files) = groups
            .as_object()
            .expect("groups")
            .iter()
            .find(|(key, _)| key.starts_with(&format!("{name}_")))
            .unwrap_or_else(|| panic!("no group {name}: {groups}"));
        serde_json::from_value(files.clone()).expect("file names")
    };
    let own_file = |files: &[String]| {
        files
            .iter()
            .find(|f| f.starts_with("split_"))
            .expect("the group's own file")
            .clone()
    };
    let preloads = |html: &str, file: &str| {
        html.matches(&format!(r#"href="/{dir}/{file}.wasm""#))
            .count()
    };

    for (path, name, others) in [
        ("/sessions", "daily", ["rules", "setup", "account", "chats"]),
        (
            "/auto-reply",
            "rules",
            ["daily", "setup", "account", "chats"],
        ),
        ("/users", "setup", ["daily", "rules", "account", "chats"]),
        ("/chats", "chats", ["daily", "rules", "setup", "account"]),
    ] {
        let html = page(&admin, app.url(path)).await;
        for file in group(name) {
            assert_eq!(
                preloads(&html, &file),
                1,
                "{path} names {file} once: {html}"
            );
            let r = admin
                .get(app.url(&format!("/{dir}/{file}.wasm")))
                .send()
                .await
                .expect("wasm");
            assert_eq!(r.status(), 200, "{file}");
            assert_eq!(r.headers()["content-type"], "application/wasm");
        }
        for other in others {
            let file = own_file(&group(other));
            assert_eq!(preloads(&html, &file), 0, "{path} does not fetch {other}");
        }
        assert!(
            html.contains(&format!(r#"href="/{dir}/__wasm_split.js""#)),
            "the loader"
        );
    }
    let html = reqwest::get(app.url("/login"))
        .await
        .expect("login")
        .text()
        .await
        .expect("html");
    assert_eq!(preloads(&html, &own_file(&group("account"))), 1, "{html}");
}

#[tokio::test]
async fn server_functions_keep_sessions_apart() {
    use app::api::{DeleteSession, GetSession, ListSessions};
    use server_fn::ServerFn;
    let app = TestApp::start().await;
    let (_, budi, _) = app.admin_and_user().await;
    let (siti, _) = app.register("siti").await;
    let id = app.create_session(&budi, "Toko").await;
    let form = |c: &reqwest::Client, path: &str, body: Value| {
        c.post(app.url(path))
            .header("accept", "application/json")
            .json(&body)
    };
    let (s, mine) = call(form(&budi, ListSessions::PATH, json!({}))).await;
    assert_eq!((s, mine.as_array().map(Vec::len)), (200, Some(1)));
    let (s, theirs) = call(form(&siti, ListSessions::PATH, json!({}))).await;
    assert_eq!((s, theirs), (200, json!([])));
    let (s, b) = call(form(&siti, GetSession::PATH, json!({"id": id}))).await;
    assert_error(s, &b, 404, "SESSION_NOT_FOUND");
    let (s, b) = call(form(&siti, DeleteSession::PATH, json!({"id": id}))).await;
    assert_error(s, &b, 404, "SESSION_NOT_FOUND");
    let (s, b) = call(form(&budi, GetSession::PATH, json!({"id": id}))).await;
    assert_eq!(
        (s, b[0]["name"].as_str()),
        (200, Some("Toko")),
        "still there"
    );
}

/// The forms a person needs first work as plain HTML posts before the dashboard's script
/// arrives: each answers a redirect, errors come back to the form in the query, nothing typed
/// goes into a URL, and the same rules hold as for the server functions.
#[tokio::test]
async fn forms_work_as_plain_posts_before_the_script_arrives() {
    let app = TestApp::start().await;
    let browser = || {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    };
    let location = |r: &reqwest::Response| {
        assert_eq!(r.status(), 303, "{r:?}");
        r.headers()["location"]
            .to_str()
            .expect("location")
            .to_string()
    };
    let post = |c: &reqwest::Client, path: &str, form: &[(&str, &str)]| {
        c.post(app.url(path))
            .header("sec-fetch-site", "same-origin")
            .form(form)
            .send()
    };

    let admin = browser();
    let r = post(
        &admin,
        "/register",
        &[("username", "admin"), ("password", "short")],
    )
    .await
    .expect("post");
    let to = location(&r);
    assert!(
        to.starts_with("/register?error=INVALID_REQUEST&message="),
        "{to}"
    );
    assert!(
        !to.contains("short"),
        "the password came back in the URL: {to}"
    );
    let r = post(
        &admin,
        "/register",
        &[("username", "admin"), ("password", PASSWORD)],
    )
    .await
    .expect("post");
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .starts_with("auth-token=")
    );
    assert_eq!(location(&r), "/sessions");

    // Another site's form is refused before anything happens.
    let r = browser()
        .post(app.url("/login"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("username", "admin"), ("password", PASSWORD)])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    let r = post(
        &browser(),
        "/login",
        &[("username", "admin"), ("password", "wrong-one-123")],
    )
    .await
    .expect("post");
    let to = location(&r);
    assert!(to.starts_with("/login?error=UNAUTHORIZED"), "{to}");
    let user = browser();
    app.register_with(&user, "budi").await;

    // Adding a session leads to its page; without a sign-in, to the sign-in page.
    let r = post(&admin, "/sessions", &[("name", "Toko Form")])
        .await
        .expect("post");
    let to = location(&r);
    let id = to
        .strip_prefix("/sessions/")
        .expect("session page")
        .to_string();
    let r = post(&browser(), "/sessions", &[("name", "Nobody's")])
        .await
        .expect("post");
    assert_eq!(location(&r), "/login");
    let (_, list) = call(admin.get(app.url("/api/sessions"))).await;
    assert_eq!(list.as_array().expect("list").len(), 1, "{list}");

    // A text from the Send page: checked like /send-message, then the message log.
    let send = |c: &reqwest::Client, session: &str, to: &str| {
        let form = [
            ("session", session),
            ("to", to),
            ("kind", "text"),
            ("message", "Halo"),
        ];
        post(c, "/send", &form)
    };
    let r = send(&admin, &id, "6281234567890").await.expect("post");
    assert!(location(&r).starts_with("/send?error=SESSION_NOT_CONNECTED"));
    app.wait_status(&admin, &id, "qr_ready").await;
    let (s, _) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{id}/scan")))
            .json(&json!({"phoneNumber": "628100000901"})),
    )
    .await;
    assert_eq!(s, 200);
    let r = send(&admin, &id, "nomor").await.expect("post");
    assert!(location(&r).starts_with("/send?error=INVALID_PHONE"));
    let r = send(&user, &id, "6281234567890").await.expect("post");
    assert!(
        location(&r).starts_with("/send?error="),
        "another's session"
    );
    let r = send(&admin, &id, "6281234567890").await.expect("post");
    assert_eq!(location(&r), "/messages");
    let sent = app.sent(&admin, &id).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["message"], "Halo");

    // Forms that need the script say so on their page; the API keeps its own answers.
    let r = post(&admin, "/webhooks", &[("url", "https://example.com/k")])
        .await
        .expect("post");
    assert!(location(&r).starts_with("/webhooks?error=NEEDS_SCRIPT"));
    let r = post(&admin, &format!("/sessions/{id}"), &[("name", "x")])
        .await
        .expect("post");
    assert!(location(&r).starts_with(&format!("/sessions/{id}?error=NEEDS_SCRIPT")));
    let form = [
        ("session", id.as_str()),
        ("kind", "poll"),
        ("to", "6281234567890"),
    ];
    let r = post(&admin, "/send", &form).await.expect("post");
    assert!(location(&r).starts_with("/send?error=NEEDS_SCRIPT"));
    let (s, b) = call(
        admin
            .post(app.url("/api/settings"))
            .header("sec-fetch-site", "same-origin")
            .form(&[("x", "y")]),
    )
    .await;
    assert_error(s, &b, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(app.sent(&admin, &id).await.len(), 1);

    // Signing out: the cookie goes, the login ends, and the sign-in page follows; again
    // (already signed out) lands there too.
    let r = post(&user, "/logout", &[]).await.expect("post");
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .starts_with("auth-token=;"),
        "{r:?}"
    );
    assert_eq!(location(&r), "/login");
    let (s, b) = call(user.get(app.url("/api/me"))).await;
    assert_error(s, &b, 401, "UNAUTHORIZED");
    let r = post(&user, "/logout", &[]).await.expect("post");
    assert_eq!(location(&r), "/login");

    // When the login cannot be ended in the database, the browser forgets the cookie all the
    // same: the person asked to be signed out.
    let someone = browser();
    app.register_with(&someone, "sigit").await;
    let db = app.db().await;
    sqlx::query(
        "CREATE TRIGGER keep_logins BEFORE DELETE ON logins
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    )
    .execute(&db)
    .await
    .expect("trigger");
    let r = post(&someone, "/logout", &[]).await.expect("post");
    sqlx::query("DROP TRIGGER keep_logins")
        .execute(&db)
        .await
        .expect("drop trigger");
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .starts_with("auth-token=;"),
        "{r:?}"
    );
    assert_eq!(location(&r), "/login");
}

/// The dashboard's `/register` shows its form only while the server takes an account: with the
/// setting on, or before the first account whatever the setting says (that one becomes admin).
#[tokio::test]
async fn server_info_says_whether_register_takes_an_account_now() {
    use app::api::GetServerInfo;
    use server_fn::ServerFn;
    let app = TestApp::start().await;
    let open = |c: reqwest::Client| {
        let url = app.url(GetServerInfo::PATH);
        async move {
            let (s, b) = call(
                c.post(url)
                    .header("accept", "application/json")
                    .json(&json!({})),
            )
            .await;
            assert_eq!(s, 200, "{b}");
            b["allowRegistration"].as_bool().expect("allowRegistration")
        }
    };
    // Closed by the setting, yet no account exists: the first one may still register.
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('allow_registration', 'false')
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .execute(&app.db().await)
    .await
    .expect("close registration");
    assert!(open(app.browser()).await);
    let (admin, _) = app.register("first").await;
    assert!(!open(app.browser()).await);
    let (s, b) = call(
        app.browser()
            .post(app.url("/api/auth/register"))
            .json(&json!({"username": "second", "password": PASSWORD})),
    )
    .await;
    assert_error(s, &b, 403, "REGISTRATION_CLOSED");
    let body = json!({"allowRegistration": true});
    let (s, b) = call(admin.put(app.url("/api/settings")).json(&body)).await;
    assert_eq!(s, 200, "{b}");
    assert!(open(app.browser()).await);
}
