//! The dashboard as HTTP sees it: pages render on the server, assets are served, and server
//! functions enforce the same rules as the REST API.

use super::*;

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
    assert!(html.contains("/pkg/kabar.js"), "hydration script: {html}");

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
    let html = admin
        .get(app.url("/keys"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("API keys") && html.contains("href=\"/users\""),
        "{html}"
    );
    let html = user
        .get(app.url("/sessions"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("href=\"/sessions\""), "{html}");
    assert!(
        !html.contains("href=\"/users\"") && !html.contains("href=\"/keys\""),
        "{html}"
    );
    // The delivery log's filter offers every event webhooks carry.
    let html = user
        .get(app.url("/webhooks"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    for event in app::model::event::ALL {
        assert!(
            html.contains(&format!("<option value=\"{event}\">")),
            "{event} missing from the delivery log's filter"
        );
    }
    // A user who types the address gets the server's refusal, not the data.
    let html = user
        .get(app.url("/users"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
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

#[tokio::test]
async fn embedded_assets_are_served() {
    let app = TestApp::start().await;
    let c = reqwest::Client::new();
    let r = c.get(app.url("/pkg/kabar.css")).send().await.expect("css");
    assert_eq!(r.status(), 200, "run scripts/build-site.sh first");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/css")
    );
    let etag = r.headers()["etag"].clone();
    let r = c
        .get(app.url("/pkg/kabar.css"))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("css");
    assert_eq!(r.status(), 304);
    let r = c
        .get(app.url("/pkg/kabar.wasm"))
        .send()
        .await
        .expect("wasm");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/wasm");
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
    assert_eq!((s, b["name"].as_str()), (200, Some("Toko")), "still there");
}
