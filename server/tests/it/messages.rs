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

/// A session's chats (`GET /api/sessions/{id}/chats`, the dashboard's Chats page): one row a
/// chat, the newest first, with its newest message and the contact's latest push name; only
/// the session's owner (or an admin) sees them; `before` pages back; bad input answers 400.
#[tokio::test]
async fn chats_list_each_conversation_once_with_its_newest_message() {
    let app = TestApp::start().await;
    let (admin, user, _) = app.admin_and_user().await;
    let mine = app.connected_session(&user, "628100000011").await;
    let theirs = app.connected_session(&admin, "628100000012").await;
    let chats = |c: &reqwest::Client, session: &str, query: &str| {
        c.get(app.url(&format!("/api/sessions/{session}/chats{query}")))
    };
    let incoming = |from: &str, text: &str, push_name: Option<&str>| {
        let mut body = json!({"from": from, "message": text});
        if let Some(name) = push_name {
            body["pushName"] = json!(name);
        }
        user.post(app.url(&format!("/simulator/sessions/{mine}/incoming")))
            .json(&body)
    };

    let (s, b) = call(incoming("6281111111", "halo", Some("Budi"))).await;
    assert_eq!(s, 200, "{b}");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (s, b) = call(incoming("6282222222", "ada stok?", Some("Siti"))).await;
    assert_eq!(s, 200, "{b}");
    tokio::time::sleep(Duration::from_millis(5)).await;
    // Budi renames himself, then the shop answers him: his chat moves to the top with the
    // answer as its newest message and his new name.
    let (s, b) = call(incoming("6281111111", "jadi pesan", Some("Budi Santoso"))).await;
    assert_eq!(s, 200, "{b}");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (s, b) = call(
        user.post(app.url(&format!("/send-message?session={mine}")))
            .json(&json!({"to": "6281111111", "message": "Siap, kak"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let answer = b["messageId"].as_str().expect("id").to_string();
    app.incoming(&admin, &theirs, "6283333333", "not the user's")
        .await;

    let (s, b) = call(chats(&user, &mine, "")).await;
    assert_eq!(s, 200, "{b}");
    let list = b.as_array().expect("array");
    assert_eq!(list.len(), 2, "one row a chat, only this session's: {b}");
    assert_eq!(list[0]["chat"], "6281111111");
    assert_eq!(list[0]["isGroup"], false);
    assert_eq!(list[0]["pushName"], "Budi Santoso");
    assert_eq!(list[0]["lastMessage"]["id"], answer.as_str());
    assert_eq!(list[0]["lastMessage"]["direction"], "out");
    assert_eq!(list[0]["lastMessage"]["message"], "Siap, kak");
    assert_eq!(list[0]["lastMessage"]["status"], "sent");
    assert_eq!(list[1]["chat"], "6282222222");
    assert_eq!(list[1]["pushName"], "Siti");
    assert_eq!(list[1]["lastMessage"]["type"], "text");
    assert_eq!(list[1]["lastMessage"]["message"], "ada stok?");
    // What waits for an answer: nothing from Budi since the answer; Siti's one question.
    assert_eq!(list[0]["unanswered"], 0, "{b}");
    assert_eq!(list[1]["unanswered"], 1, "{b}");

    // The log shows who wrote, and opens one chat as its thread.
    let (_, b) = log(&user, &app, &format!("?session={mine}&chat=6281111111")).await;
    let thread = b.as_array().expect("array");
    assert_eq!(thread.len(), 3, "{b}");
    assert_eq!(thread[1]["pushName"], "Budi Santoso");
    assert_eq!(thread[2]["pushName"], "Budi");
    assert_eq!(
        thread[0].get("pushName"),
        None,
        "our own message has none: {b}"
    );

    // Paging back by the last row's time.
    let (_, first) = call(chats(&user, &mine, "?limit=1")).await;
    assert_eq!(first.as_array().map(Vec::len), Some(1), "{first}");
    let before = first[0]["lastMessage"]["createdAt"].as_i64().expect("time");
    let (_, next) = call(chats(&user, &mine, &format!("?limit=1&before={before}"))).await;
    assert_eq!(next.as_array().map(Vec::len), Some(1), "{next}");
    assert_eq!(next[0]["chat"], "6282222222");

    // Another tenant's session is not found; an admin sees any.
    let (s, b) = call(chats(&user, &theirs, "")).await;
    assert_error(s, &b, 404, "SESSION_NOT_FOUND");
    let (s, b) = call(chats(&admin, &mine, "")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b.as_array().map(Vec::len), Some(2), "{b}");
    for query in ["?limit=0", "?limit=201", "?before=soon"] {
        let (s, b) = call(chats(&user, &mine, query)).await;
        assert_error(s, &b, 400, "INVALID_REQUEST");
    }

    // Budi writes twice more: two wait for an answer.
    let (s, b) = call(incoming("6281111111", "berapa harganya?", None)).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(incoming("6281111111", "dan ongkirnya?", None)).await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = call(chats(&user, &mine, "")).await;
    assert_eq!(b[0]["chat"], "6281111111", "{b}");
    assert_eq!(b[0]["unanswered"], 2, "two since the answer: {b}");
    // A group chat goes by the group's name, as the session's number knows it.
    let group = app.sim_group(&user, &mine, &["6284444444"]).await;
    let (s, b) = call(
        user.post(app.url(&format!("/simulator/sessions/{mine}/incoming")))
            .json(&json!({"from": "6284444444", "chat": group, "message": "halo semua"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = call(chats(&user, &mine, "?limit=1")).await;
    assert_eq!(b[0]["chat"], group.as_str(), "{b}");
    assert_eq!(
        (&b[0]["isGroup"], &b[0]["subject"], &b[0]["pushName"]),
        (&json!(true), &json!("Grup"), &Value::Null),
        "{b}"
    );
    assert_eq!(list[0]["subject"], Value::Null, "people have no subject");

    // A group made a moment later goes by its name at once (the kept names are forgotten).
    let (s, made) = call(
        user.post(app.url(&format!("/api/sessions/{mine}/groups")))
            .json(&json!({"subject": "Grup Kedua", "participants": ["6284444444"]})),
    )
    .await;
    assert_eq!(s, 200, "{made}");
    let second = made["id"].as_str().expect("group id");
    let (s, b) = call(
        user.post(app.url(&format!("/simulator/sessions/{mine}/incoming")))
            .json(&json!({"from": "6284444444", "chat": second, "message": "yang kedua"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = call(chats(&user, &mine, "?limit=1")).await;
    assert_eq!(
        (&b[0]["chat"], &b[0]["subject"]),
        (&json!(second), &json!("Grup Kedua")),
        "{b}"
    );
}

/// `GET /api/messages/{id}/events`: the webhook events about one message as they were signed
/// and sent to the session's webhook (the Chats page's message details), oldest first; another
/// tenant's message is not found.
#[tokio::test]
async fn a_message_shows_the_webhook_events_sent_about_it() {
    let app = TestApp::start().await;
    let (admin, user, _) = app.admin_and_user().await;
    let mine = app.connected_session(&user, "628100000021").await;
    // Events are kept for the webhooks that want them (here one nobody answers).
    let sink = "http://127.0.0.1:9/hook";
    app.set_webhook(&user, &mine, sink, "rahasia").await;
    let (s, b) = call(
        user.post(app.url(&format!("/send-message?session={mine}")))
            .json(&json!({"to": "6281111111", "message": "Pesanan dikirim"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let sent = b["messageId"].as_str().expect("id").to_string();
    // The phone reads it: a `message.status` about the same message.
    let (s, b) = call(
        user.post(app.url(&format!("/simulator/sessions/{mine}/receipt")))
            .json(&json!({"messageIds": [sent], "status": "read"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let other = app.incoming(&user, &mine, "6282222222", "halo").await;
    let events =
        |c: &reqwest::Client, id: &str| c.get(app.url(&format!("/api/messages/{id}/events")));
    let (s, b) = call(events(&user, &sent)).await;
    assert_eq!(s, 200, "{b}");
    let names: Vec<&str> = b
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert_eq!(names, ["message.out", "message.status"], "{b}");
    let body: Value = serde_json::from_str(b[0]["body"].as_str().expect("body")).expect("JSON");
    assert_eq!(body["event"], "message.out");
    assert_eq!(body["data"]["messageId"], sent.as_str());
    assert_eq!(body["data"]["message"], "Pesanan dikirim");
    assert!(b[0]["id"].as_str().is_some_and(|id| !id.is_empty()));
    let (_, b) = call(events(&user, &other)).await;
    assert_eq!(b[0]["event"], "message.in", "{b}");
    assert_eq!(b.as_array().map(Vec::len), Some(1), "only its own: {b}");
    // An id in a pattern's clothes matches nothing else.
    let (s, b) = call(events(&user, "%")).await;
    assert_error(s, &b, 404, "MESSAGE_NOT_FOUND");
    // The admin sees it; another user does not.
    let (s, _) = call(events(&admin, &sent)).await;
    assert_eq!(s, 200);
    let (stranger, _) = app.register("stranger").await;
    let (s, b) = call(events(&stranger, &sent)).await;
    assert_error(s, &b, 404, "MESSAGE_NOT_FOUND");
}
