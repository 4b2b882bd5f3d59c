//! Contract §11 beyond files, on the simulator: places, contact cards and polls sent and
//! received; reactions, edits and deletes both ways; presence, read receipts, delivery
//! statuses and number checks — each with what the phone got, the record, the webhook, and the
//! errors that keep bad input out.

use super::*;

/// A connected session with a webhook receiver, for one user.
async fn setup(app: &TestApp, user: &str, phone: &str) -> (reqwest::Client, String, Receiver) {
    let (client, _) = app.register(user).await;
    let session = app.connected_session(&client, phone).await;
    let receiver = Receiver::start().await;
    app.set_webhook(&client, &session, &receiver.url, "s3cret")
        .await;
    (client, session, receiver)
}

async fn post(app: &TestApp, c: &reqwest::Client, path: &str, body: Value) -> (u16, Value) {
    call(c.post(app.url(path)).json(&body)).await
}

/// The message `id` in the log.
async fn logged(app: &TestApp, c: &reqwest::Client, id: &str) -> Value {
    let (s, log) = call(c.get(app.url("/api/messages?limit=500"))).await;
    assert_eq!(s, 200, "{log}");
    log.as_array()
        .expect("log")
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} is not in the log: {log}"))
}

#[tokio::test]
async fn places_contact_cards_and_polls_reach_the_phone_the_log_and_the_webhook() {
    let app = TestApp::start().await;
    let (c, session, receiver) = setup(&app, "budi", "628100000301").await;

    // A place.
    let (s, b) = post(&app, &c, "/send-location", json!({"to": "6281234567890", "latitude": -6.1825, "longitude": 106.8284, "name": "Toko Kopi Gayo", "address": "Jl. Sabang 12"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["type"], "location");
    assert_eq!(b["to"], "6281234567890");
    let place = json!({"latitude": -6.1825, "longitude": 106.8284, "name": "Toko Kopi Gayo", "address": "Jl. Sabang 12"});
    let id = b["messageId"].as_str().expect("id").to_string();
    let sent = app.sent(&c, &session).await;
    assert_eq!(sent[0]["type"], "location");
    assert_eq!(sent[0]["messageId"], id.as_str());
    assert_eq!(sent[0]["location"], place);
    let m = logged(&app, &c, &id).await;
    assert_eq!(m["type"], "location");
    assert_eq!(m["message"], "Toko Kopi Gayo");
    assert_eq!(m["location"], place);
    let hit = receiver.wait_event("message.out").await;
    assert_eq!(hit.json()["data"]["location"], place);

    // Contact cards: the number is normalised as `to` is; the phone gets both cards.
    let (s, b) = post(
        &app,
        &c,
        "/send-contact",
        json!({"to": "6281234567890", "contacts": [
            {"name": "CS Toko", "phoneNumber": "+62 812-9876-5432"},
            {"name": "Gudang", "phoneNumber": "6281311112222"}
        ]}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["type"], "contact");
    let cards = json!([{"name": "CS Toko", "phoneNumbers": ["6281298765432"]},
                       {"name": "Gudang", "phoneNumbers": ["6281311112222"]}]);
    let sent = app.sent(&c, &session).await;
    assert_eq!(sent[1]["contacts"], cards);
    let m = logged(&app, &c, b["messageId"].as_str().expect("id")).await;
    assert_eq!(m["type"], "contact");
    assert_eq!(m["contacts"], cards);

    // A poll with several answers; a vote names the options chosen, as `poll.vote`.
    let (s, b) = post(&app, &c, "/send-poll", json!({"to": "6281234567890", "question": "Rasa favorit?", "options": ["Gayo", "Toraja", "Kintamani"], "multipleAnswers": true})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["type"], "poll");
    let poll = b["messageId"].as_str().expect("id").to_string();
    let sent = app.sent(&c, &session).await;
    assert_eq!(sent[2]["type"], "poll");
    assert_eq!(
        sent[2]["pollOptions"],
        json!(["Gayo", "Toraja", "Kintamani"])
    );
    assert_eq!(sent[2]["multipleAnswers"], true);
    assert_eq!(
        logged(&app, &c, &poll).await["poll"],
        json!({"question": "Rasa favorit?", "options": ["Gayo", "Toraja", "Kintamani"], "multipleAnswers": true})
    );
    let (s, b) = post(
        &app,
        &c,
        &format!("/simulator/sessions/{session}/poll-vote"),
        json!({"from": "6281234567890", "messageId": poll, "options": ["Toraja", "Gayo"]}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let vote = receiver.wait_event("poll.vote").await.json();
    assert_eq!(vote["data"]["messageId"], poll.as_str());
    assert_eq!(vote["data"]["from"], "6281234567890");
    // In the poll's order, whatever order the phone sent them in.
    assert_eq!(vote["data"]["options"], json!(["Gayo", "Toraja"]));
    // A vote is not an interaction: no interaction.button for a plain poll.
    assert!(
        !receiver
            .hits()
            .iter()
            .any(|h| h.json()["event"] == "interaction.button")
    );
}

#[tokio::test]
async fn a_contact_shares_a_place_cards_and_a_poll() {
    let app = TestApp::start().await;
    let (c, session, receiver) = setup(&app, "siti", "628100000302").await;
    let incoming = format!("/simulator/sessions/{session}/incoming");
    let place = json!({"latitude": -6.2297, "longitude": 106.8261, "name": "Rumah", "address": "Jl. Kuningan Barat 3"});
    let (s, b) = post(
        &app,
        &c,
        &incoming,
        json!({"from": "6281234567890", "location": place}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let hit = receiver.wait_event("message.in").await.json();
    assert_eq!(hit["data"]["type"], "location");
    assert_eq!(hit["data"]["message"], "Rumah");
    assert_eq!(hit["data"]["location"], place);
    assert_eq!(
        logged(&app, &c, b["messageId"].as_str().expect("id")).await["location"],
        place
    );

    let cards = json!([{"name": "Ani", "phoneNumbers": ["6285511112222"]}]);
    let (s, _) = post(
        &app,
        &c,
        &incoming,
        json!({"from": "6281234567890", "contacts": cards}),
    )
    .await;
    assert_eq!(s, 200);
    let hits = receiver
        .wait_until("a contact card", |h| {
            h.iter().any(|h| h.json()["data"]["type"] == "contact")
        })
        .await;
    let card = hits
        .iter()
        .find(|h| h.json()["data"]["type"] == "contact")
        .expect("card")
        .json();
    assert_eq!(card["data"]["contacts"], cards);
    assert_eq!(card["data"]["message"], "Ani");

    // One message carries one thing.
    let (s, b) = post(
        &app,
        &c,
        &incoming,
        json!({"from": "6281234567890", "location": place, "contacts": cards}),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
}

#[tokio::test]
async fn bad_places_cards_and_polls_are_refused_and_nothing_is_sent() {
    let app = TestApp::start().await;
    let (c, session, _receiver) = setup(&app, "rina", "628100000303").await;
    let to = "6281234567890";
    let cases = [
        (
            "/send-location",
            json!({"to": to, "latitude": 91.0, "longitude": 0.0}),
            "INVALID_REQUEST",
            "latitude",
        ),
        (
            "/send-location",
            json!({"to": to, "latitude": 0.0, "longitude": -180.5}),
            "INVALID_REQUEST",
            "longitude",
        ),
        (
            "/send-location",
            json!({"to": to, "latitude": "south", "longitude": 0.0}),
            "INVALID_REQUEST",
            "latitude",
        ),
        (
            "/send-location",
            json!({"to": to, "latitude": 0.0, "longitude": 0.0, "name": "a\nb"}),
            "INVALID_REQUEST",
            "name",
        ),
        (
            "/send-location",
            json!({"to": "nobody", "latitude": 0.0, "longitude": 0.0}),
            "INVALID_PHONE",
            "to",
        ),
        (
            "/send-contact",
            json!({"to": to, "contacts": []}),
            "INVALID_REQUEST",
            "contacts",
        ),
        (
            "/send-contact",
            json!({"to": to, "contacts": [{"name": "A", "phoneNumber": "abc"}]}),
            "INVALID_PHONE",
            "contacts[0].phoneNumber",
        ),
        (
            "/send-contact",
            json!({"to": to, "contacts": [{"name": " ", "phoneNumber": "6281"}]}),
            "INVALID_REQUEST",
            "contacts[0].name",
        ),
        (
            "/send-contact",
            json!({"to": to, "contacts": [{"name": "A", "phoneNumber": "6281", "email": "x"}]}),
            "INVALID_REQUEST",
            "email",
        ),
        (
            "/send-poll",
            json!({"to": to, "question": "Q?", "options": ["only"]}),
            "INVALID_REQUEST",
            "options",
        ),
        (
            "/send-poll",
            json!({"to": to, "question": "Q?", "options": (0..13).map(|i| i.to_string()).collect::<Vec<_>>()}),
            "INVALID_REQUEST",
            "options",
        ),
        (
            "/send-poll",
            json!({"to": to, "question": "Q?", "options": ["Ya", "Ya"]}),
            "INVALID_REQUEST",
            "options[1]",
        ),
        (
            "/send-poll",
            json!({"to": to, "question": "", "options": ["A", "B"]}),
            "INVALID_REQUEST",
            "question",
        ),
        (
            "/send-poll",
            json!({"to": to, "question": "Q?", "options": ["A", ""]}),
            "INVALID_REQUEST",
            "options[1]",
        ),
    ];
    for (path, body, code, field) in cases {
        let (s, b) = post(&app, &c, path, body.clone()).await;
        assert_error(s, &b, 400, code);
        assert!(
            b["message"].as_str().expect("message").contains(field),
            "{path} {body}: the message should name {field}: {b}"
        );
    }
    assert!(app.sent(&c, &session).await.is_empty());
    let (_, log) = call(c.get(app.url("/api/messages"))).await;
    assert_eq!(log, json!([]));
}

#[tokio::test]
async fn reactions_edits_and_deletes_change_messages_both_ways() {
    let app = TestApp::start().await;
    let (c, session, receiver) = setup(&app, "tono", "628100000304").await;
    let contact = "6281234567890";
    let (s, b) = post(
        &app,
        &c,
        "/send-message",
        json!({"to": contact, "message": "Besok siang"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let ours = b["messageId"].as_str().expect("id").to_string();
    let theirs = app.incoming(&c, &session, contact, "Harga kopi?").await;

    // The session reacts to the contact's message, edits and deletes its own.
    let (s, b) = post(
        &app,
        &c,
        "/send-reaction",
        json!({"messageId": theirs, "emoji": "👍"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b,
        json!({"success": true, "messageId": theirs, "to": contact, "type": "reaction", "timestamp": b["timestamp"]})
    );
    let (s, b) = post(
        &app,
        &c,
        "/edit-message",
        json!({"messageId": ours, "message": "Besok pagi"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["type"], "edit");
    let m = logged(&app, &c, &ours).await;
    assert_eq!(m["message"], "Besok pagi");
    assert!(m["editedAt"].is_i64(), "{m}");
    let sent = app.sent(&c, &session).await;
    let kinds: Vec<&str> = sent
        .iter()
        .map(|r| r["type"].as_str().expect("type"))
        .collect();
    assert_eq!(kinds, ["text", "reaction", "edit"]);
    assert_eq!(sent[1]["targetMessageIds"], json!([theirs]));
    assert_eq!(sent[1]["message"], "👍");
    assert_eq!(sent[2]["message"], "Besok pagi");

    // What cannot be edited or deleted says so, and changes nothing.
    let (s, b) = post(
        &app,
        &c,
        "/edit-message",
        json!({"messageId": theirs, "message": "x"}),
    )
    .await;
    assert_error(s, &b, 409, "NOT_EDITABLE");
    let (s, b) = post(&app, &c, "/delete-message", json!({"messageId": theirs})).await;
    assert_error(s, &b, 409, "NOT_EDITABLE");
    let (s, b) = post(
        &app,
        &c,
        "/send-reaction",
        json!({"messageId": "3EB0NOSUCHMESSAGE", "emoji": "👍"}),
    )
    .await;
    assert_error(s, &b, 404, "MESSAGE_NOT_FOUND");
    let (s, b) = post(
        &app,
        &c,
        "/edit-message",
        json!({"messageId": ours, "message": "  "}),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    let (s, b) = post(
        &app,
        &c,
        "/send-reaction",
        json!({"messageId": ours, "emoji": "a\u{7}"}),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    assert_eq!(logged(&app, &c, &theirs).await["message"], "Harga kopi?");

    let (s, b) = post(&app, &c, "/delete-message", json!({"messageId": ours})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["type"], "delete");
    let m = logged(&app, &c, &ours).await;
    assert!(m["revokedAt"].is_i64(), "{m}");
    let (s, b) = post(&app, &c, "/delete-message", json!({"messageId": ours})).await;
    assert_error(s, &b, 409, "NOT_EDITABLE");
    let (s, b) = post(
        &app,
        &c,
        "/edit-message",
        json!({"messageId": ours, "message": "y"}),
    )
    .await;
    assert_error(s, &b, 409, "NOT_EDITABLE");

    // The contact reacts, edits and deletes: one event each, the log follows.
    let sim = |what: &str| format!("/simulator/sessions/{session}/{what}");
    let (s, _) = post(
        &app,
        &c,
        &sim("reaction"),
        json!({"from": contact, "messageId": ours, "emoji": "❤️"}),
    )
    .await;
    assert_eq!(s, 200);
    let r = receiver.wait_event("message.reaction").await.json();
    assert_eq!(r["data"]["messageId"], ours.as_str());
    assert_eq!(r["data"]["emoji"], "❤️");
    assert_eq!(r["data"]["from"], contact);
    let (s, _) = post(
        &app,
        &c,
        &sim("edit"),
        json!({"from": contact, "messageId": theirs, "message": "Harga kopi Gayo?"}),
    )
    .await;
    assert_eq!(s, 200);
    let e = receiver.wait_event("message.edited").await.json();
    assert_eq!(e["data"]["messageId"], theirs.as_str());
    assert_eq!(e["data"]["message"], "Harga kopi Gayo?");
    assert_eq!(
        logged(&app, &c, &theirs).await["message"],
        "Harga kopi Gayo?"
    );
    let (s, _) = post(
        &app,
        &c,
        &sim("revoke"),
        json!({"from": contact, "messageId": theirs}),
    )
    .await;
    assert_eq!(s, 200);
    let r = receiver.wait_event("message.revoked").await.json();
    assert_eq!(r["data"]["messageId"], theirs.as_str());
    assert!(logged(&app, &c, &theirs).await["revokedAt"].is_i64());

    // A contact cannot edit the session's message: the event still reports what came, the
    // record does not change.
    let (s, b) = post(
        &app,
        &c,
        "/send-message",
        json!({"to": contact, "message": "Asli"}),
    )
    .await;
    assert_eq!(s, 200);
    let original = b["messageId"].as_str().expect("id").to_string();
    let (s, _) = post(
        &app,
        &c,
        &sim("edit"),
        json!({"from": contact, "messageId": original, "message": "Palsu"}),
    )
    .await;
    assert_eq!(s, 200);
    receiver
        .wait_until("two edits", |h| {
            h.iter()
                .filter(|h| h.json()["event"] == "message.edited")
                .count()
                == 2
        })
        .await;
    assert_eq!(logged(&app, &c, &original).await["message"], "Asli");
    // No message.in for any of the changes.
    let ins = receiver
        .hits()
        .iter()
        .filter(|h| h.json()["event"] == "message.in")
        .count();
    assert_eq!(ins, 1);
}

#[tokio::test]
async fn edits_and_deletes_keep_to_whatsapps_windows() {
    let app = TestApp::start().await;
    let (c, session, _receiver) = setup(&app, "tini", "628100000305").await;
    let contact = "6281234567891";
    let mut ids = Vec::new();
    for text in ["Pesanan dikirim", "Resi menyusul"] {
        let (s, b) = post(
            &app,
            &c,
            "/send-message",
            json!({"to": contact, "message": text}),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        ids.push(b["messageId"].as_str().expect("id").to_string());
    }
    // 16 minutes old: past WhatsApp's edit window, inside its delete window.
    let db = app.db().await;
    let minutes_ago = |m: i64| server::db::now_ms() - m * 60_000;
    sqlx::query("UPDATE messages SET created_at = ? WHERE id = ?")
        .bind(minutes_ago(16))
        .bind(&ids[0])
        .execute(&db)
        .await
        .expect("age");
    let (s, b) = post(
        &app,
        &c,
        "/edit-message",
        json!({"messageId": ids[0], "message": "x"}),
    )
    .await;
    assert_error(s, &b, 409, "NOT_EDITABLE");
    assert!(
        b["message"]
            .as_str()
            .expect("message")
            .contains("15 minutes"),
        "{b}"
    );
    assert_eq!(
        logged(&app, &c, &ids[0]).await["message"],
        "Pesanan dikirim"
    );
    let (s, b) = post(&app, &c, "/delete-message", json!({"messageId": ids[0]})).await;
    assert_eq!(s, 200, "{b}");
    // Three days old: past the delete window too.
    sqlx::query("UPDATE messages SET created_at = ? WHERE id = ?")
        .bind(minutes_ago(3 * 24 * 60))
        .bind(&ids[1])
        .execute(&db)
        .await
        .expect("age");
    let (s, b) = post(&app, &c, "/delete-message", json!({"messageId": ids[1]})).await;
    assert_error(s, &b, 409, "NOT_EDITABLE");
    assert!(logged(&app, &c, &ids[1]).await["revokedAt"].is_null());
    // A message still waiting to leave can be neither edited nor deleted.
    sqlx::query("UPDATE messages SET status = 'pending', created_at = ? WHERE id = ?")
        .bind(minutes_ago(0))
        .bind(&ids[1])
        .execute(&db)
        .await
        .expect("pending");
    let (s, b) = post(&app, &c, "/delete-message", json!({"messageId": ids[1]})).await;
    assert_error(s, &b, 409, "NOT_EDITABLE");
    let (s, b) = post(
        &app,
        &c,
        "/edit-message",
        json!({"messageId": ids[1], "message": "y"}),
    )
    .await;
    assert_error(s, &b, 409, "NOT_EDITABLE");
    let kinds: Vec<String> = app
        .sent(&c, &session)
        .await
        .iter()
        .map(|r| r["type"].as_str().expect("type").to_string())
        .collect();
    assert_eq!(kinds, ["text", "text", "revoke"]);
}

#[tokio::test]
async fn presence_read_receipts_statuses_and_number_checks() {
    let app = TestApp::start().await;
    let (c, session, receiver) = setup(&app, "ayu", "628100000305").await;
    let contact = "6281234567890";

    let (s, b) = post(
        &app,
        &c,
        "/send-presence",
        json!({"to": "0812-3456-7890", "state": "recording"}),
    )
    .await;
    // No default country code: a leading 0 is not a number.
    assert_error(s, &b, 400, "INVALID_PHONE");
    let (s, b) = post(
        &app,
        &c,
        "/send-presence",
        json!({"to": contact, "state": "recording"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b,
        json!({"success": true, "to": contact, "state": "recording"})
    );
    let (s, b) = post(
        &app,
        &c,
        "/send-presence",
        json!({"to": contact, "state": "typing"}),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");

    let first = app.incoming(&c, &session, contact, "Halo").await;
    let second = app.incoming(&c, &session, contact, "Masih buka?").await;
    let other = app.incoming(&c, &session, "6289999999999", "Hai").await;
    let (s, b) = post(
        &app,
        &c,
        "/mark-read",
        json!({"messageIds": [first, second, first]}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b,
        json!({"success": true, "chat": contact, "messageIds": [first, second]})
    );
    // The log shows them read; the other chat's message is still only received.
    assert_eq!(logged(&app, &c, &first).await["status"], "read");
    assert_eq!(logged(&app, &c, &second).await["status"], "read");
    assert_eq!(logged(&app, &c, &other).await["status"], "received");
    let (s, b) = post(
        &app,
        &c,
        "/mark-read",
        json!({"messageIds": [first, other]}),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    let (s, b) = post(&app, &c, "/mark-read", json!({"messageIds": []})).await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    let (s, b) = post(
        &app,
        &c,
        "/mark-read",
        json!({"messageIds": ["3EB0UNKNOWN"]}),
    )
    .await;
    assert_error(s, &b, 404, "MESSAGE_NOT_FOUND");
    // One unknown id among known ones: the answer names it, and nothing is marked.
    let (s, b) = post(
        &app,
        &c,
        "/mark-read",
        json!({"messageIds": [first, "3EB0UNKNOWN"]}),
    )
    .await;
    assert_error(s, &b, 404, "MESSAGE_NOT_FOUND");
    assert!(
        b["message"]
            .as_str()
            .expect("message")
            .contains("3EB0UNKNOWN"),
        "{b}"
    );
    let sent = app.sent(&c, &session).await;
    let kinds: Vec<&str> = sent
        .iter()
        .map(|r| r["type"].as_str().expect("type"))
        .collect();
    assert_eq!(kinds, ["presence", "read"]);
    assert_eq!(sent[0]["message"], "recording");
    assert_eq!(sent[1]["targetMessageIds"], json!([first, second]));

    // The contact's phone reports the session's message delivered, then read; a late
    // "delivered" is not reported again.
    let (s, b) = post(
        &app,
        &c,
        "/send-message",
        json!({"to": contact, "message": "Sudah dikirim"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let id = b["messageId"].as_str().expect("id").to_string();
    let receipt = format!("/simulator/sessions/{session}/receipt");
    for status in ["delivered", "read", "delivered"] {
        let (s, b) = post(
            &app,
            &c,
            &receipt,
            json!({"messageIds": [id], "status": status}),
        )
        .await;
        assert_eq!(s, 200, "{b}");
    }
    let (s, b) = post(
        &app,
        &c,
        &receipt,
        json!({"messageIds": [id], "status": "seen"}),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    // Deliveries go out concurrently, so the receiver may see them in either order.
    let statuses_of = |hits: &[Hit]| -> Vec<Value> {
        hits.iter()
            .filter(|h| h.json()["event"] == "message.status")
            .map(|h| h.json()["data"].clone())
            .collect()
    };
    let hits = receiver
        .wait_until("delivered and read", |h| {
            let statuses = statuses_of(h);
            ["delivered", "read"]
                .iter()
                .all(|want| statuses.iter().any(|s| s["status"] == *want))
        })
        .await;
    let statuses = statuses_of(&hits);
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    let read = statuses
        .iter()
        .find(|s| s["status"] == "read")
        .expect("read status");
    assert_eq!(read["messageId"], id.as_str());
    assert_eq!(read["to"], contact);
    assert_eq!(logged(&app, &c, &id).await["status"], "read");

    // Numbers: one answer each, in order; a non-number answers null rather than failing.
    let (s, b) = post(
        &app,
        &c,
        "/check-numbers",
        json!({"numbers": ["+62 812-3456-7890", "halo", "6281234567890"]}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b,
        json!({"success": true, "results": [
            {"input": "+62 812-3456-7890", "phoneNumber": "6281234567890", "exists": true},
            {"input": "halo", "phoneNumber": null, "exists": false},
            {"input": "6281234567890", "phoneNumber": "6281234567890", "exists": true}
        ]})
    );
    let too_many: Vec<String> = (0..51).map(|i| format!("62812000000{i:02}")).collect();
    let (s, b) = post(&app, &c, "/check-numbers", json!({"numbers": too_many})).await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
}

#[tokio::test]
async fn unregistered_numbers_answer_false_and_a_disconnected_session_refuses() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let session = app.connected_session(&admin, "628100000306").await;
    let (s, _) = call(
        admin
            .post(app.url("/simulator/unregistered"))
            .json(&json!({"numbers": ["6281200000000"]})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, b) = post(
        &app,
        &admin,
        "/check-numbers",
        json!({"numbers": ["6281200000000", "6281300000000"]}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["results"][0]["exists"], false);
    assert_eq!(b["results"][1]["exists"], true);

    let (s, _) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{session}/disconnect")))
            .json(&json!({})),
    )
    .await;
    assert_eq!(s, 200);
    for (path, body) in [
        (
            "/send-location",
            json!({"to": "6281300000000", "latitude": 1.0, "longitude": 2.0}),
        ),
        (
            "/send-presence",
            json!({"to": "6281300000000", "state": "paused"}),
        ),
        ("/check-numbers", json!({"numbers": ["6281300000000"]})),
    ] {
        let (s, b) = post(&app, &admin, path, body).await;
        assert_error(s, &b, 409, "SESSION_NOT_CONNECTED");
    }
}

#[tokio::test]
async fn an_idempotent_retry_sends_a_poll_once() {
    let app = TestApp::start().await;
    let (c, session, _receiver) = setup(&app, "dewi", "628100000307").await;
    let body =
        json!({"to": "6281234567890", "question": "Jadi pesan?", "options": ["Ya", "Tidak"]});
    let send = || {
        c.post(app.url("/send-poll"))
            .header("Idempotency-Key", "poll-1")
            .json(&body)
    };
    let (s1, b1) = call(send()).await;
    let (s2, b2) = call(send()).await;
    assert_eq!((s1, s2), (200, 200), "{b1} {b2}");
    assert_eq!(b1, b2);
    assert_eq!(app.sent(&c, &session).await.len(), 1);
}

/// The dashboard's Messages page shows each message's reactions beside it: every contact's
/// latest emoji, none once taken back, only on the message they are on and only in its session.
#[tokio::test]
async fn the_dashboard_log_shows_each_persons_latest_reaction_on_its_message() {
    use app::api::ListMessages;
    use server_fn::ServerFn;
    let app = TestApp::start().await;
    let (c, session, _receiver) = setup(&app, "rina", "628100000309").await;
    let other = app.connected_session(&c, "628100000310").await;
    let (s, b) = post(
        &app,
        &c,
        &format!("/send-message?session={session}"),
        json!({"to": "6281234567890", "message": "Kopi sudah dikirim"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let ours = b["messageId"].as_str().expect("id").to_string();
    let plain = app
        .incoming(&c, &session, "6281234567890", "Terima kasih")
        .await;
    let react = |session: String, from: &'static str, emoji: &'static str| {
        let (app, c, ours) = (&app, &c, ours.clone());
        async move {
            let path = format!("/simulator/sessions/{session}/reaction");
            let body = json!({"from": from, "messageId": ours, "emoji": emoji});
            let (s, b) = post(app, c, &path, body).await;
            assert_eq!(s, 200, "{b}");
        }
    };
    react(session.clone(), "6281234567890", "👍").await;
    react(session.clone(), "6281234567891", "😂").await;
    react(session.clone(), "6281234567892", "🙏").await;
    react(session.clone(), "6281234567891", "❤️").await; // changed
    react(session.clone(), "6281234567892", "").await; // taken back
    // The same id in another session is another message.
    react(other, "6281234567893", "😮").await;

    let (s, rows) = call(
        c.post(app.url(ListMessages::PATH))
            .header("accept", "application/json")
            .json(&json!({"filter": {"session": session}})),
    )
    .await;
    assert_eq!(s, 200, "{rows}");
    let row = |id: &str| {
        rows.as_array()
            .expect("rows")
            .iter()
            .find(|m| m["id"] == id && m["kind"] != "reaction")
            .cloned()
            .unwrap_or_else(|| panic!("{id}: {rows}"))
    };
    assert_eq!(row(&ours)["reactions"], json!(["👍", "❤️"]));
    assert!(row(&plain).get("reactions").is_none(), "{rows}");
}
