//! `POST /send-interactive` on the simulator (contract §4, §5): both request forms for buttons
//! and lists, every validation error, taps resolved to their texts, the text and poll
//! fallbacks, `expiresIn` timeouts, and answers that must stay plain `message.in`s.

use super::*;
use std::time::Duration;

const CONTACT: &str = "6282222222222";

/// An admin with a connected session whose webhook goes to a fresh receiver.
async fn setup(app: &TestApp) -> (reqwest::Client, String, Receiver) {
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "6281111111111").await;
    let rx = Receiver::start().await;
    app.set_webhook(&admin, &id, &rx.url, "s3cret").await;
    (admin, id, rx)
}

async fn send(app: &TestApp, c: &reqwest::Client, body: Value) -> (u16, Value) {
    call(c.post(app.url("/send-interactive")).json(&body)).await
}

async fn send_ok(app: &TestApp, c: &reqwest::Client, body: Value) -> String {
    let (s, b) = send(app, c, body).await;
    assert_eq!(s, 200, "{b}");
    b["messageId"].as_str().expect("messageId").to_string()
}

/// A contact taps (`kind` = `button-reply` | `list-reply` | `poll-vote`); answers the new
/// message's id.
async fn answer(
    app: &TestApp,
    c: &reqwest::Client,
    session: &str,
    kind: &str,
    body: Value,
) -> String {
    let (s, b) = call(
        c.post(app.url(&format!("/simulator/sessions/{session}/{kind}")))
            .json(&body),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    b["messageId"].as_str().expect("messageId").to_string()
}

/// The `data` of the first `event` delivery that satisfies `pred`.
async fn event_where(rx: &Receiver, event: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let hits = rx
        .wait_until(event, |h| {
            h.iter()
                .any(|h| h.json()["event"] == event && pred(&h.json()["data"]))
        })
        .await;
    hits.iter()
        .map(|h| h.json())
        .find(|j| j["event"] == event && pred(&j["data"]))
        .expect("hit")["data"]
        .clone()
}

/// Every event delivered about the received message `id` (after a sentinel message shows the
/// session task has moved past it).
async fn events_about(
    app: &TestApp,
    c: &reqwest::Client,
    session: &str,
    rx: &Receiver,
    id: &str,
) -> Vec<String> {
    let sentinel = app.incoming(c, session, CONTACT, "sentinel").await;
    event_where(rx, "message.in", |d| d["messageId"] == sentinel.as_str()).await;
    rx.hits()
        .iter()
        .map(|h| h.json())
        .filter(|j| j["data"]["messageId"] == id)
        .map(|j| j["event"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn native_buttons() -> Value {
    json!({
        "to": CONTACT,
        "text": "Pilih opsi di bawah:",
        "footer": "Silakan pilih salah satu",
        "interactiveButtons": [
            {"name": "quick_reply", "buttonParamsJson": "{\"display_text\":\"Ya\",\"id\":\"btn_1\"}"},
            {"name": "quick_reply", "buttonParamsJson": "{\"display_text\":\"Tidak\",\"id\":\"btn_2\"}"},
            {"name": "quick_reply", "buttonParamsJson": "{\"display_text\":\"Nanti\",\"id\":\"btn_3\"}"}
        ]
    })
}

fn native_list() -> Value {
    json!({
        "to": CONTACT,
        "text": "Silakan pilih menu:",
        "title": "Menu Utama",
        "footer": "Pilih dari list di bawah",
        "interactiveButtons": [{"name": "single_select", "buttonParamsJson":
            "{\"title\":\"Lihat Opsi\",\"sections\":[{\"title\":\"Layanan Kami\",\"rows\":[{\"header\":\"Produk\",\"title\":\"Produk\",\"description\":\"Lihat katalog produk kami\",\"id\":\"service_1\"},{\"header\":\"Layanan\",\"title\":\"Layanan\",\"description\":\"Layanan yang kami tawarkan\",\"id\":\"service_2\"}]}]}"}]
    })
}

fn simple_buttons() -> Value {
    json!({
        "to": CONTACT, "type": "button",
        "text": "Apakah Anda ingin melanjutkan pesanan?",
        "buttons": [
            {"id": "order_yes", "text": "Ya, Lanjut"},
            {"id": "order_no", "text": "Batalkan"},
            {"id": "order_later", "text": "Nanti Saja"}
        ]
    })
}

fn simple_list() -> Value {
    json!({
        "to": CONTACT, "type": "list",
        "text": "Apa yang bisa kami bantu?", "title": "Layanan Pelanggan", "buttonText": "Pilih Menu",
        "sections": [{"title": "Bantuan", "rows": [
            {"id": "help_order", "title": "Cek Pesanan", "description": "Lihat status pesanan terakhir"},
            {"id": "help_product", "title": "Info Produk", "description": "Tanya tentang produk"},
            {"id": "help_shipping", "title": "Info Pengiriman", "description": "Cek status pengiriman"}
        ]}]
    })
}

#[tokio::test]
async fn both_forms_send_and_taps_resolve_to_their_texts() {
    let app = TestApp::start().await;
    let (admin, id, rx) = setup(&app).await;

    // The original's native buttons: the response is exactly its shape.
    let (s, b) = send(&app, &admin, native_buttons()).await;
    assert_eq!(s, 200, "{b}");
    let mid = b["messageId"].as_str().expect("id").to_string();
    let ts = b["timestamp"].as_i64().expect("timestamp");
    assert_eq!(
        b,
        json!({"success": true, "messageId": mid, "to": CONTACT, "type": "button", "timestamp": ts})
    );
    let sent = app.sent(&admin, &id).await;
    assert_eq!(sent[0]["type"], "interactive");
    assert_eq!(sent[0]["message"], "Pilih opsi di bawah:");
    assert_eq!(sent[0]["interactive"]["body"]["buttons"][1]["id"], "btn_2");
    let out = event_where(&rx, "message.out", |d| d["messageId"] == mid.as_str()).await;
    assert_eq!(
        (out["type"].as_str(), out["source"].as_str()),
        (Some("interactive"), Some("api"))
    );

    let tap = answer(
        &app,
        &admin,
        &id,
        "button-reply",
        json!({"from": CONTACT, "messageId": mid, "buttonId": "btn_2"}),
    )
    .await;
    let data = event_where(&rx, "interaction.button", |d| {
        d["messageId"] == mid.as_str()
    })
    .await;
    let ts = data["timestamp"].as_i64().expect("timestamp");
    assert_eq!(
        data,
        json!({"sessionId": id, "from": CONTACT, "chat": CONTACT, "isGroup": false, "messageId": mid, "buttonId": "btn_2", "buttonText": "Tidak", "timestamp": ts})
    );
    assert_eq!(
        events_about(&app, &admin, &id, &rx, &tap).await,
        Vec::<String>::new(),
        "a resolved tap is an interaction event, not also a message.in"
    );

    // The simple form's buttons.
    let mid = send_ok(&app, &admin, simple_buttons()).await;
    answer(
        &app,
        &admin,
        &id,
        "button-reply",
        json!({"from": CONTACT, "messageId": mid, "buttonId": "order_later"}),
    )
    .await;
    let data = event_where(&rx, "interaction.button", |d| {
        d["messageId"] == mid.as_str()
    })
    .await;
    assert_eq!(
        (data["buttonId"].as_str(), data["buttonText"].as_str()),
        (Some("order_later"), Some("Nanti Saja"))
    );

    // The native list.
    let (s, b) = send(&app, &admin, native_list()).await;
    assert_eq!((s, b["type"].as_str()), (200, Some("list")), "{b}");
    let mid = b["messageId"].as_str().expect("id").to_string();
    answer(
        &app,
        &admin,
        &id,
        "list-reply",
        json!({"from": CONTACT, "messageId": mid, "rowId": "service_1"}),
    )
    .await;
    let data = event_where(&rx, "interaction.list", |d| d["messageId"] == mid.as_str()).await;
    let ts = data["timestamp"].as_i64().expect("timestamp");
    assert_eq!(
        data,
        json!({"sessionId": id, "from": CONTACT, "chat": CONTACT, "isGroup": false, "messageId": mid, "rowId": "service_1",
               "rowTitle": "Produk", "rowDescription": "Lihat katalog produk kami", "timestamp": ts})
    );

    // The simple list.
    let mid = send_ok(&app, &admin, simple_list()).await;
    answer(
        &app,
        &admin,
        &id,
        "list-reply",
        json!({"from": CONTACT, "messageId": mid, "rowId": "help_shipping"}),
    )
    .await;
    let data = event_where(&rx, "interaction.list", |d| d["messageId"] == mid.as_str()).await;
    assert_eq!(
        (data["rowTitle"].as_str(), data["rowDescription"].as_str()),
        (Some("Info Pengiriman"), Some("Cek status pengiriman"))
    );

    // Stored with its rows, recorded as an interactive message.
    let db = app.db().await;
    let (kind, content): (String, String) =
        sqlx::query_as("SELECT kind, content FROM interactive_messages WHERE message_id = ?")
            .bind(&mid)
            .fetch_one(&db)
            .await
            .expect("stored");
    assert_eq!(kind, "list");
    assert!(content.contains("help_shipping") && content.contains("Cek status pengiriman"));
    let (t,): (String,) = sqlx::query_as("SELECT type FROM messages WHERE id = ?")
        .bind(&mid)
        .fetch_one(&db)
        .await
        .expect("recorded");
    assert_eq!(t, "interactive");
}

#[tokio::test]
async fn every_validation_error_has_its_code_and_names_the_field() {
    let app = TestApp::start().await;
    let (admin, id, _rx) = setup(&app).await;
    let with = |patch: Value| {
        let mut b = simple_list();
        for (k, v) in patch.as_object().expect("object") {
            b[k] = v.clone();
        }
        b
    };

    let mut four = native_buttons();
    four["interactiveButtons"]
        .as_array_mut()
        .expect("array")
        .push(json!({"name": "quick_reply", "buttonParamsJson": "{\"display_text\":\"Lain\",\"id\":\"btn_4\"}"}));
    let (s, b) = send(&app, &admin, four).await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"success": false, "error": "BUTTON_LIMIT_EXCEEDED", "message": "Maximum 3 buttons allowed per message"})
        )
    );
    let mut four = simple_buttons();
    four["buttons"]
        .as_array_mut()
        .expect("array")
        .push(json!({"id": "x", "text": "X"}));
    let (s, b) = send(&app, &admin, four).await;
    assert_error(s, &b, 400, "BUTTON_LIMIT_EXCEEDED");

    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"to": CONTACT, "text": "x", "interactiveButtons": [{"name": "quick_reply", "buttonParamsJson": "{\"display_text\":"}]}),
            "INVALID_BUTTON_PARAMS",
            "interactiveButtons[0].buttonParamsJson",
        ),
        (
            json!({"to": CONTACT, "text": "x", "interactiveButtons": [{"name": "quick_reply", "buttonParamsJson": "{\"display_text\":\"Ya\"}"}]}),
            "INVALID_BUTTON_PARAMS",
            "\"id\"",
        ),
        (
            json!({"to": CONTACT, "text": "x", "interactiveButtons": [{"name": "single_select", "buttonParamsJson": "{\"sections\":[]}"}]}),
            "INVALID_BUTTON_PARAMS",
            "\"title\"",
        ),
        (
            json!({"to": CONTACT, "type": "button", "text": "x", "buttons": [{"id": "a", "text": "A"}, {"id": "a", "text": "B"}]}),
            "INVALID_REQUEST",
            "buttons[1].id",
        ),
        (
            json!({"to": CONTACT, "type": "button", "text": "x", "buttons": [{"id": "a", "text": "Teks yang terlalu panjang"}]}),
            "INVALID_REQUEST",
            "buttons[0].text",
        ),
        (with(json!({"sections": []})), "INVALID_REQUEST", "sections"),
        (
            with(json!({"sections": [{"title": "A", "rows": []}]})),
            "INVALID_REQUEST",
            "sections[0].rows",
        ),
        (
            with(
                json!({"sections": [{"title": "A", "rows": (0..11).map(|i| json!({"id": format!("r{i}"), "title": "t"})).collect::<Vec<_>>()}]}),
            ),
            "INVALID_REQUEST",
            "10 rows",
        ),
        (
            with(
                json!({"sections": [{"title": "A", "rows": [{"id": "r", "title": "a"}]}, {"title": "B", "rows": [{"id": "r", "title": "b"}]}]}),
            ),
            "INVALID_REQUEST",
            "sections[1].rows[0].id",
        ),
        (
            with(
                json!({"sections": [{"title": "Judul bagian yang kepanjangan", "rows": [{"id": "r", "title": "a"}]}]}),
            ),
            "INVALID_REQUEST",
            "sections[0].title",
        ),
        (
            with(json!({"buttonText": ""})),
            "INVALID_REQUEST",
            "buttonText",
        ),
        (with(json!({"text": "  "})), "INVALID_REQUEST", "text"),
        (with(json!({"type": "carousel"})), "INVALID_REQUEST", "type"),
        (with(json!({"colour": "red"})), "INVALID_REQUEST", "colour"),
        (
            with(json!({"expiresIn": -5})),
            "INVALID_REQUEST",
            "expiresIn",
        ),
        (
            with(json!({"fallback": "sms"})),
            "INVALID_REQUEST",
            "fallback",
        ),
        (with(json!({"to": "halo"})), "INVALID_PHONE", ""),
    ];
    for (body, code, field) in cases {
        let (s, b) = send(&app, &admin, body.clone()).await;
        assert_error(s, &b, 400, code);
        assert!(
            b["message"].as_str().expect("message").contains(field),
            "{field} named for {body}: {b}"
        );
    }
    let (s, b) = call(
        admin
            .post(app.url("/send-interactive"))
            .header("content-type", "application/json")
            .body("{\"to\": "),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");

    // Nothing was sent or stored by any refused request.
    assert!(app.sent(&admin, &id).await.is_empty());
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM interactive_messages")
        .fetch_one(&app.db().await)
        .await
        .expect("count");
    assert_eq!(n, 0);

    // The errors shared by the send endpoints.
    let (s, b) = call(
        admin
            .post(app.url("/simulator/unregistered"))
            .json(&json!({"numbers": ["6289999999999"]})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = send(&app, &admin, with(json!({"to": "6289999999999"}))).await;
    assert_error(s, &b, 404, "CONTACT_NOT_FOUND");
    call(admin.post(app.url(&format!("/simulator/sessions/{id}/disconnect")))).await;
    let (s, b) = send(&app, &admin, simple_list()).await;
    assert_error(s, &b, 409, "SESSION_NOT_CONNECTED");
}

#[tokio::test]
async fn answers_that_do_not_resolve_are_plain_messages() {
    let app = TestApp::start().await;
    let (admin, id, rx) = setup(&app).await;
    let list = send_ok(&app, &admin, simple_list()).await;
    let mid = send_ok(&app, &admin, json!({"to": CONTACT, "type": "button", "text": "Pilih", "buttons": [{"id": "a", "text": "A"}]}))
        .await;
    // With a second session, sends would have to name theirs: send first.
    let other = app.connected_session(&admin, "6281333333333").await;
    app.set_webhook(&admin, &other, &rx.url, "s3cret").await;
    let cases = [
        // An id this server never sent.
        (
            "button-reply",
            json!({"from": CONTACT, "messageId": "3EB0DEADBEEF", "buttonId": "a"}),
            &id,
        ),
        // A button the message did not offer.
        (
            "button-reply",
            json!({"from": CONTACT, "messageId": mid, "buttonId": "zzz"}),
            &id,
        ),
        // A row "picked" in a button message.
        (
            "list-reply",
            json!({"from": CONTACT, "messageId": mid, "rowId": "a"}),
            &id,
        ),
        // Another contact answering a message sent to CONTACT.
        (
            "button-reply",
            json!({"from": "6287777777777", "messageId": mid, "buttonId": "a"}),
            &id,
        ),
        // The message of another session.
        (
            "list-reply",
            json!({"from": CONTACT, "messageId": list, "rowId": "help_order"}),
            &other,
        ),
    ];
    for (kind, body, session) in cases {
        let tap = answer(&app, &admin, session, kind, body.clone()).await;
        let data = event_where(&rx, "message.in", |d| d["messageId"] == tap.as_str()).await;
        assert_eq!(data["type"], "interactive", "{body}");
    }
    // None of them made an interaction event.
    assert!(
        rx.hits().iter().all(|h| !h.json()["event"]
            .as_str()
            .unwrap_or_default()
            .starts_with("interaction.")),
        "no interaction events"
    );
}

#[tokio::test]
async fn text_fallback_resolves_a_number_or_the_options_text() {
    let app = TestApp::start().await;
    let (admin, id, rx) = setup(&app).await;
    // The session's default fallback.
    let (s, b) = call(
        admin
            .patch(app.url(&format!("/api/sessions/{id}")))
            .json(&json!({"fallback": "text"})),
    )
    .await;
    assert_eq!(
        (s, b["fallback"].as_str(), b["name"].as_str()),
        (200, Some("text"), Some("shop")),
        "{b}"
    );

    let mid = send_ok(&app, &admin, native_buttons()).await;
    let sent = app.sent(&admin, &id).await;
    assert_eq!(sent[0]["type"], "text");
    assert_eq!(
        sent[0]["message"],
        "Pilih opsi di bawah:\n\n1. Ya\n2. Tidak\n3. Nanti\n\n_Silakan pilih salah satu_"
    );
    let reply = app.incoming(&admin, &id, CONTACT, " 2 ").await;
    let data = event_where(&rx, "interaction.button", |d| {
        d["messageId"] == mid.as_str()
    })
    .await;
    assert_eq!(
        (data["buttonId"].as_str(), data["buttonText"].as_str()),
        (Some("btn_2"), Some("Tidak"))
    );
    assert_eq!(
        events_about(&app, &admin, &id, &rx, &reply).await,
        Vec::<String>::new()
    );
    // Answered: a later "1" is a plain message again…
    let later = app.incoming(&admin, &id, CONTACT, "1").await;
    assert_eq!(
        events_about(&app, &admin, &id, &rx, &later).await,
        ["message.in"]
    );
    // …unless it quotes the menu.
    let (s, b) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{id}/incoming")))
            .json(&json!({"from": CONTACT, "message": "1", "quotedMessageId": mid})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    event_where(&rx, "interaction.button", |d| {
        d["messageId"] == mid.as_str() && d["buttonId"] == "btn_1"
    })
    .await;

    // A request's fallback wins over the session's; a list answered by its row's title.
    let mut list = simple_list();
    list["fallback"] = json!("text");
    let mid = send_ok(&app, &admin, list).await;
    let menu = app.sent(&admin, &id).await.last().expect("sent")["message"].clone();
    assert!(
        menu.as_str()
            .expect("text")
            .contains("2. Info Produk — Tanya tentang produk"),
        "{menu}"
    );
    app.incoming(&admin, &id, CONTACT, "info produk").await;
    let data = event_where(&rx, "interaction.list", |d| d["messageId"] == mid.as_str()).await;
    assert_eq!(
        (data["rowId"].as_str(), data["rowTitle"].as_str()),
        (Some("help_product"), Some("Info Produk"))
    );

    // fallback "none" on the request sends native buttons even on a text-fallback session.
    let mut native = simple_buttons();
    native["fallback"] = json!("none");
    send_ok(&app, &admin, native).await;
    assert_eq!(
        app.sent(&admin, &id).await.last().expect("sent")["type"],
        "interactive"
    );
    // A text that is not a choice stays a message (and the auto-reply sees it).
    let plain = app.incoming(&admin, &id, CONTACT, "halo").await;
    assert_eq!(
        events_about(&app, &admin, &id, &rx, &plain).await,
        ["message.in"]
    );
}

#[tokio::test]
async fn poll_fallback_votes_resolve_like_taps() {
    let app = TestApp::start().await;
    let (admin, id, rx) = setup(&app).await;
    let mut body = simple_buttons();
    body["fallback"] = json!("poll");
    let mid = send_ok(&app, &admin, body).await;
    let sent = app.sent(&admin, &id).await;
    assert_eq!(sent[0]["type"], "poll");
    assert_eq!(sent[0]["message"], "Apakah Anda ingin melanjutkan pesanan?");
    assert_eq!(
        sent[0]["pollOptions"],
        json!(["Ya, Lanjut", "Batalkan", "Nanti Saja"])
    );

    answer(
        &app,
        &admin,
        &id,
        "poll-vote",
        json!({"from": CONTACT, "messageId": mid, "option": "Batalkan"}),
    )
    .await;
    let data = event_where(&rx, "interaction.button", |d| {
        d["messageId"] == mid.as_str()
    })
    .await;
    assert_eq!(
        (data["buttonId"].as_str(), data["buttonText"].as_str()),
        (Some("order_no"), Some("Batalkan"))
    );

    let mut list = simple_list();
    list["fallback"] = json!("poll");
    let lid = send_ok(&app, &admin, list).await;
    answer(
        &app,
        &admin,
        &id,
        "poll-vote",
        json!({"from": CONTACT, "messageId": lid, "option": "Cek Pesanan"}),
    )
    .await;
    let data = event_where(&rx, "interaction.list", |d| d["messageId"] == lid.as_str()).await;
    assert_eq!(data["rowDescription"], "Lihat status pesanan terakhir");

    // A vote for an option the poll does not have is a plain (poll) message.
    let odd = answer(
        &app,
        &admin,
        &id,
        "poll-vote",
        json!({"from": CONTACT, "messageId": mid, "option": "Mungkin"}),
    )
    .await;
    let data = event_where(&rx, "message.in", |d| d["messageId"] == odd.as_str()).await;
    assert_eq!(data["type"], "poll");

    // Link buttons cannot be poll options.
    let (s, b) = send(&app, &admin, json!({"to": CONTACT, "text": "x", "fallback": "poll", "interactiveButtons": [
        {"name": "cta_url", "buttonParamsJson": "{\"display_text\":\"Buka\",\"url\":\"https://example.com\"}"}]})).await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    assert!(
        b["message"]
            .as_str()
            .expect("message")
            .starts_with("fallback"),
        "{b}"
    );

    // A session-wide poll never makes a valid message fail: one that cannot be a poll (one
    // choice) goes out as the text menu instead.
    let (s, b) = call(
        admin
            .patch(app.url(&format!("/api/sessions/{id}")))
            .json(&json!({"fallback": "poll"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let one = send_ok(&app, &admin, json!({"to": CONTACT, "type": "button", "text": "Lanjut?", "buttons": [{"id": "ok", "text": "OK"}]})).await;
    let last = app.sent(&admin, &id).await.last().expect("sent").clone();
    assert_eq!(
        (last["messageId"].as_str(), last["type"].as_str()),
        (Some(one.as_str()), Some("text"))
    );
    send_ok(&app, &admin, simple_buttons()).await;
    assert_eq!(
        app.sent(&admin, &id).await.last().expect("sent")["type"],
        "poll"
    );
}

#[tokio::test]
async fn expires_in_emits_one_timeout_and_survives_a_restart() {
    let app = TestApp::start().await;
    let (admin, id, rx) = setup(&app).await;
    let with_expiry = |secs: u64| {
        let mut b = simple_buttons();
        b["expiresIn"] = json!(secs);
        b
    };
    let answered = send_ok(&app, &admin, with_expiry(1)).await;
    answer(
        &app,
        &admin,
        &id,
        "button-reply",
        json!({"from": CONTACT, "messageId": answered, "buttonId": "order_yes"}),
    )
    .await;
    event_where(&rx, "interaction.button", |d| {
        d["messageId"] == answered.as_str()
    })
    .await;
    let silent = send_ok(&app, &admin, with_expiry(1)).await;
    let data = event_where(&rx, "interaction.timeout", |d| {
        d["messageId"] == silent.as_str()
    })
    .await;
    let ts = data["timestamp"].as_i64().expect("timestamp");
    assert_eq!(
        data,
        json!({"sessionId": id, "messageId": silent, "to": CONTACT, "timestamp": ts})
    );

    // Due while the server is down: emitted after the restart, once.
    let across = send_ok(&app, &admin, with_expiry(1)).await;
    let app = app.restart().await;
    event_where(&rx, "interaction.timeout", |d| {
        d["messageId"] == across.as_str()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let timeouts: Vec<String> = rx
        .hits()
        .iter()
        .map(|h| h.json())
        .filter(|j| j["event"] == "interaction.timeout")
        .map(|j| {
            j["data"]["messageId"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(
        timeouts,
        [silent, across],
        "once each, none for the answered one"
    );
    drop(app);
}
