//! Pages of the lists: `?limit=&cursor=` with `X-Next-Cursor`, walked to the end in the list's
//! order; bad limits and cursors answer 400; without `limit` the whole list. The dashboard's
//! server functions page the same lists the same way (`page: {limit, cursor}`).

use super::*;

const SECRET: &str = "rahasia-webhook";

/// Walks a list page by page; answers the ids in the order seen and the page sizes.
async fn walk(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    limit: usize,
) -> (Vec<String>, Vec<usize>) {
    let (mut ids, mut sizes) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    let sep = if path.contains('?') { '&' } else { '?' };
    for _ in 0..100 {
        let mut url = app.url(&format!("{path}{sep}limit={limit}"));
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = client.get(url).send().await.expect("request");
        assert_eq!(r.status(), 200);
        let next = r
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().expect("ascii").to_string());
        let page: Vec<Value> = r.json().await.expect("json");
        sizes.push(page.len());
        ids.extend(
            page.iter()
                .map(|v| v["id"].as_str().expect("id").to_string()),
        );
        match next {
            Some(n) => cursor = Some(n),
            None => return (ids, sizes),
        }
    }
    panic!("{path}: more than 100 pages");
}

/// Walks a list through a dashboard server function, as the dashboard's pages do: asks for
/// `limit` items after the cursor, which is what `cursor_of` says of the last item of the page
/// before; stops at a short page.
async fn walk_fn(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    body: impl Fn(usize, Option<&str>) -> Value,
    cursor_of: impl Fn(&Value) -> String,
    limit: usize,
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let (s, page) = call(
            client
                .post(app.url(path))
                .json(&body(limit, cursor.as_deref())),
        )
        .await;
        assert_eq!(s, 200, "{path}: {page}");
        let page = page.as_array().expect("a list").clone();
        ids.extend(
            page.iter()
                .map(|v| v["id"].as_str().expect("id").to_string()),
        );
        if page.len() < limit {
            return ids;
        }
        cursor = page.last().map(&cursor_of);
    }
    panic!("{path}: more than 100 pages");
}

async fn whole(client: &reqwest::Client, app: &TestApp, path: &str) -> Vec<String> {
    let r = client.get(app.url(path)).send().await.expect("request");
    assert!(r.headers().get("x-next-cursor").is_none());
    let list: Vec<Value> = r.json().await.expect("json");
    list.iter()
        .map(|v| v["id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn every_list_pages_in_its_order_and_refuses_bad_pages() {
    let app = TestApp::start().await;
    let (admin, budi, _) = app.admin_and_user().await;
    for i in 0..5 {
        app.create_session(&budi, &format!("Toko {i}")).await;
        let (s, b) = call(
            admin
                .post(app.url("/api/keys"))
                .json(&json!({"name": format!("k{i}")})),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        let (s, b) = call(
            budi.post(app.url("/api/auto-reply/rules"))
                .json(&json!({"keyword": format!("kata{i}"), "match": "word", "reply": "ok"})),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        let (s, b) = call(
            admin
                .post(app.url("/api/users"))
                .json(&json!({"username": format!("user{i}"), "password": "a-long-password"})),
        )
        .await;
        assert_eq!(s, 200, "{b}");
    }
    for (client, path, total) in [
        (&budi, "/api/sessions", 5),
        (&admin, "/api/keys", 5),
        (&budi, "/api/auto-reply/rules", 5),
        (&admin, "/api/users", 7),
    ] {
        let all = whole(client, &app, path).await;
        assert_eq!(all.len(), total, "{path}");
        let (ids, sizes) = walk(client, &app, path, 2).await;
        assert_eq!(
            ids, all,
            "{path}: the pages walk the whole list once, in order"
        );
        let expected: Vec<usize> = (0..total).step_by(2).map(|i| (total - i).min(2)).collect();
        assert_eq!(sizes, expected, "{path}");
        for bad in ["limit=0", "limit=501", "limit=x", "limit=2&cursor=nosuchid"] {
            let (s, b) = call(client.get(app.url(&format!("{path}?{bad}")))).await;
            assert_error(s, &b, 400, "INVALID_REQUEST");
        }
    }
    use app::api::{ListKeys, ListSessions, ListUsers};
    use server_fn::ServerFn;
    let page =
        |limit: usize, cursor: Option<&str>| json!({"page": {"limit": limit, "cursor": cursor}});
    let id_of = |v: &Value| v["id"].as_str().expect("id").to_string();
    for (client, path, rest) in [
        (&budi, ListSessions::PATH, "/api/sessions"),
        (&admin, ListKeys::PATH, "/api/keys"),
        (&admin, ListUsers::PATH, "/api/users"),
    ] {
        let all = whole(client, &app, rest).await;
        let ids = walk_fn(client, &app, path, page, id_of, 2).await;
        assert_eq!(ids, all, "{path}: the dashboard's pages walk the same list");
        let (s, b) = call(client.post(app.url(path)).json(&json!({}))).await;
        assert_eq!(
            (s, b.as_array().map(Vec::len)),
            (200, Some(all.len())),
            "{path}: no page, all"
        );
        let (s, b) = call(client.post(app.url(path)).json(&page(2, Some("nosuchid")))).await;
        assert_error(s, &b, 400, "INVALID_REQUEST");
        let (s, b) = call(client.post(app.url(path)).json(&page(0, None))).await;
        assert_error(s, &b, 400, "INVALID_REQUEST");
    }
}

#[tokio::test]
async fn the_delivery_log_pages_newest_first() {
    let app = TestApp::start().await;
    let rx = Receiver::start().await;
    let (_admin, budi, _) = app.admin_and_user().await;
    let id = app.create_session(&budi, "Toko").await;
    app.set_webhook(&budi, &id, &rx.url, SECRET).await;
    for _ in 0..5 {
        let (s, b) = call(
            budi.post(app.url("/api/webhooks/test"))
                .json(&json!({"sessionId": id})),
        )
        .await;
        assert_eq!(s, 200, "{b}");
    }
    let all = whole(
        &budi,
        &app,
        "/api/webhooks/deliveries?event=webhook.test&limit=500",
    )
    .await;
    assert_eq!(all.len(), 5);
    let (ids, sizes) = walk(
        &budi,
        &app,
        "/api/webhooks/deliveries?event=webhook.test",
        2,
    )
    .await;
    assert_eq!(ids, all);
    assert_eq!(sizes, [2, 2, 1]);
    // The Webhooks page walks it through its server function with the same cursor.
    use server_fn::ServerFn;
    let filter = |limit: usize, cursor: Option<&str>| json!({"filter": {"event": "webhook.test", "limit": limit, "cursor": cursor}});
    let cursor_of = |v: &Value| format!("{}.{}", v["createdAt"], v["id"].as_str().expect("id"));
    let path = app::api::ListDeliveries::PATH;
    assert_eq!(walk_fn(&budi, &app, path, filter, cursor_of, 2).await, all);
    let (s, b) = call(budi.get(app.url("/api/webhooks/deliveries?cursor=garbage"))).await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
}
