//! The message log (`GET /api/messages`): newest first, each caller sees only their sessions'
//! messages (an admin sees all), filters are checked, and `before` pages back.

use super::*;
use std::time::Duration;

async fn log(c: &reqwest::Client, app: &TestApp, query: &str) -> (u16, Value) {
    call(c.get(app.url(&format!("/api/messages{query}")))).await
}

#[tokio::test]
async fn lists_filters_pages_and_isolates_messages() {
    let app = TestApp::start().await;
    let (admin, user, _) = app.admin_and_user().await;
    let mine = app.connected_session(&user, "628100000001").await;
    let theirs = app.connected_session(&admin, "628100000002").await;

    let in_id = app.incoming(&user, &mine, "6281111111", "halo kak").await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (s, b) = call(
        user.post(app.url(&format!("/send-message?session={mine}")))
            .json(&json!({"to": "6282222222", "message": "Terima kasih"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let out_id = b["messageId"].as_str().expect("id").to_string();
    app.incoming(&admin, &theirs, "6283333333", "admin's chat")
        .await;

    // Newest first, with every field of the record.
    let (s, b) = log(&user, &app, "").await;
    assert_eq!(s, 200, "{b}");
    let list = b.as_array().expect("array");
    assert_eq!(list.len(), 2, "only the user's own session: {b}");
    assert_eq!(list[0]["id"], out_id.as_str());
    assert_eq!(list[0]["direction"], "out");
    assert_eq!(list[0]["chat"], "6282222222");
    assert_eq!(list[0]["type"], "text");
    assert_eq!(list[0]["message"], "Terima kasih");
    assert_eq!(
        list[0]["body"], "Terima kasih",
        "the old name, for one release"
    );
    assert_eq!(list[0]["source"], "api");
    assert_eq!(list[0]["status"], "sent");
    assert_eq!(list[0]["sessionId"], mine.as_str());
    assert_eq!(list[1]["id"], in_id.as_str());
    assert_eq!(list[1]["direction"], "in");
    assert_eq!(list[1]["sender"], "6281111111");
    assert_eq!(list[1]["status"], "received");
    assert_eq!(list[1]["source"], Value::Null);

    // Filters: direction, chat (normalised like `to`), session.
    let (_, b) = log(&user, &app, "?direction=in").await;
    assert_eq!(b.as_array().map(Vec::len), Some(1), "{b}");
    assert_eq!(b[0]["id"], in_id.as_str());
    let (_, b) = log(&user, &app, "?chat=%2B62%20822-2222-2").await;
    assert_eq!(b.as_array().map(Vec::len), Some(1), "{b}");
    assert_eq!(b[0]["id"], out_id.as_str());
    let (_, b) = log(&user, &app, &format!("?session={mine}&type=text")).await;
    assert_eq!(b.as_array().map(Vec::len), Some(2), "{b}");

    // Paging back: one at a time.
    let (_, first) = log(&user, &app, "?limit=1").await;
    assert_eq!(first[0]["id"], out_id.as_str());
    let before = first[0]["createdAt"].as_i64().expect("createdAt");
    let (_, next) = log(&user, &app, &format!("?limit=1&before={before}")).await;
    assert_eq!(next[0]["id"], in_id.as_str(), "{next}");

    // Others' sessions are not revealed; an admin sees everything.
    let (s, b) = log(&user, &app, &format!("?session={theirs}")).await;
    assert_error(s, &b, 404, "SESSION_NOT_FOUND");
    let (_, b) = log(&admin, &app, "").await;
    assert_eq!(b.as_array().map(Vec::len), Some(3), "{b}");

    // Bad filters are refused with the field's name, not answered with an empty list.
    for (query, field) in [
        ("?direction=sideways", "direction"),
        ("?limit=0", "limit"),
        ("?limit=many", "limit"),
        ("?chat=abc", "chat"),
        ("?before=yesterday", "before"),
    ] {
        let (s, b) = log(&user, &app, query).await;
        assert_error(s, &b, 400, "INVALID_REQUEST");
        assert!(
            b["message"].as_str().unwrap_or_default().contains(field),
            "{query}: {b}"
        );
    }
    let (s, b) = call(reqwest::Client::new().get(app.url("/api/messages"))).await;
    assert_error(s, &b, 401, "UNAUTHORIZED");
}
