//! The original's REST API on the simulator: `/status` and `/send-message`, every error code of
//! contract §4, and the session resolution rule of §3.

use super::*;

#[tokio::test]
async fn send_message_answers_the_original_shape_and_records_it() {
    let app = TestApp::start().await;
    let (admin, _, budi) = app.admin_and_user().await;
    let key = app.key_for(&admin, budi["id"].as_str().expect("id")).await;
    let budi_browser = {
        let c = app.browser();
        call(
            c.post(app.url("/api/auth/login"))
                .json(&json!({"username": "budi", "password": PASSWORD})),
        )
        .await;
        c
    };
    let id = app.connected_session(&budi_browser, "6281111111111").await;

    let api = reqwest::Client::new();
    let (s, b) = call(
        api.post(app.url("/send-message"))
            .header("X-API-KEY", &key)
            .json(&json!({"to": "+62 812-3456-7890", "message": "Halo dari API! 👋"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let mid = b["messageId"].as_str().expect("messageId").to_string();
    assert!(mid.starts_with("3EB0") && mid.len() == 24, "{mid}");
    assert_eq!(
        b,
        json!({"success": true, "messageId": mid, "to": "6281234567890", "message": "Halo dari API! 👋"})
    );

    let sent = app.sent(&budi_browser, &id).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["to"], "6281234567890");
    assert_eq!(sent[0]["message"], "Halo dari API! 👋");
    assert_eq!(sent[0]["messageId"], mid);

    // A contact writes; we reply quoting it, by either spelling of the field.
    let (s, inc) = call(
        budi_browser
            .post(app.url(&format!("/simulator/sessions/{id}/incoming")))
            .json(&json!({"from": "6281234567890", "message": "Harga?", "pushName": "Siti"})),
    )
    .await;
    assert_eq!(s, 200);
    let incoming_id = inc["messageId"].as_str().expect("id").to_string();
    for field in ["reply_to_id", "replyToId"] {
        let (s, b) = call(
            api.post(app.url(&format!("/send-message?api_key={key}")))
                .json(&json!({"to": "6281234567890", "message": "Rp 10.000", field: incoming_id})),
        )
        .await;
        assert_eq!(s, 200, "{field}: {b}");
    }
    let sent = app.sent(&budi_browser, &id).await;
    assert_eq!(sent[1]["quotedMessageId"], incoming_id);
    assert_eq!(sent[2]["quotedMessageId"], incoming_id);
    // Quoting a message of another chat is refused.
    let (s, b) = call(
        api.post(app.url("/send-message"))
            .header("X-API-KEY", &key)
            .json(&json!({"to": "6289999999999", "message": "x", "reply_to_id": incoming_id})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    // So is an id this session never saw (it would reach the phone as an empty quote).
    let (s, b) = call(
        api.post(app.url("/send-message"))
            .header("X-API-KEY", &key)
            .json(&json!({"to": "6281234567890", "message": "x", "reply_to_id": "3EB0NOSUCH"})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    assert!(
        b["message"]
            .as_str()
            .expect("message")
            .starts_with("reply_to_id:"),
        "{b}"
    );
    assert_eq!(
        app.sent(&budi_browser, &id).await.len(),
        3,
        "nothing was sent"
    );

    let db = app.db().await;
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, direction, chat, body, source, status, quoted_id FROM messages WHERE session_id = ? ORDER BY created_at, direction",
    ).bind(&id).fetch_all(&db).await.expect("rows");
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.contains(&(
        mid.clone(),
        "out".into(),
        "6281234567890".into(),
        "Halo dari API! 👋".into(),
        Some("api".into()),
        "sent".into(),
        None
    )));
    assert!(
        rows.iter()
            .any(|r| r.0 == incoming_id && r.1 == "in" && r.3 == "Harga?" && r.5 == "received")
    );
}

#[tokio::test]
async fn every_send_error_code() {
    let app = TestApp::start_with(|c| c.max_body_bytes = 8 * 1024).await;
    let (admin, _) = app.register("admin").await;
    let send = |body: Value| admin.post(app.url("/send-message")).json(&body);

    // No session yet.
    let (s, b) = call(send(json!({"to": "6281234567890", "message": "x"}))).await;
    assert_error(s, &b, 404, "SESSION_NOT_FOUND");
    assert!(
        b["message"]
            .as_str()
            .expect("msg")
            .contains("POST /api/sessions")
    );

    let id = app.create_session(&admin, "one").await;
    app.wait_status(&admin, &id, "qr_ready").await;
    let (s, b) = call(send(json!({"to": "6281234567890", "message": "x"}))).await;
    assert_error(s, &b, 409, "SESSION_NOT_CONNECTED");

    call(
        admin
            .post(app.url(&format!("/simulator/sessions/{id}/scan")))
            .json(&json!({"phoneNumber": "6281111111111"})),
    )
    .await;
    app.wait_status(&admin, &id, "connected").await;

    for bad in [
        json!({"to": "6281234567890"}),
        json!({"message": "x"}),
        json!({"to": "6281234567890", "message": "   "}),
        json!({"to": 6281234567890u64, "message": "x"}),
        json!({"to": "6281234567890", "message": "x", "cc": "y"}),
    ] {
        let (s, b) = call(send(bad.clone())).await;
        assert_error(s, &b, 400, "INVALID_REQUEST");
    }
    for bad in [
        "abc",
        "123",
        "0812345678",
        "62812@example.com",
        "+62 812 345x",
    ] {
        let (s, b) = call(send(json!({"to": bad, "message": "x"}))).await;
        assert_error(s, &b, 400, "INVALID_PHONE");
    }
    let (s, b) = call(
        admin
            .post(app.url("/send-message"))
            .header("content-type", "application/json")
            .body("{oops"),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    let (s, b) = call(send(
        json!({"to": "6281234567890", "message": "x".repeat(10_000)}),
    ))
    .await;
    assert_error(s, &b, 413, "PAYLOAD_TOO_LARGE");

    let (s, _) = call(
        admin
            .post(app.url("/simulator/unregistered"))
            .json(&json!({"numbers": ["+62 899 0000 0000"]})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, b) = call(send(json!({"to": "6289900000000", "message": "x"}))).await;
    assert_error(s, &b, 404, "CONTACT_NOT_FOUND");

    let (s, b) = call(
        reqwest::Client::new()
            .post(app.url("/send-message"))
            .json(&json!({"to": "6281234567890", "message": "x"})),
    )
    .await;
    assert_error(s, &b, 401, "UNAUTHORIZED");

    // Two sessions and none named.
    app.create_session(&admin, "two").await;
    let (s, b) = call(send(json!({"to": "6281234567890", "message": "x"}))).await;
    assert_error(s, &b, 400, "SESSION_REQUIRED");
    let (s, b) = call(admin.get(app.url("/status"))).await;
    assert_error(s, &b, 400, "SESSION_REQUIRED");
    let (s, b) = call(
        admin
            .post(app.url("/send-message?session=nope"))
            .json(&json!({"to": "6281234567890", "message": "x"})),
    )
    .await;
    assert_error(s, &b, 404, "SESSION_NOT_FOUND");
    // Named by header or query, it works.
    let (s, _) = call(
        admin
            .post(app.url("/send-message"))
            .header("X-Session-Id", &id)
            .json(&json!({"to": "6281234567890", "message": "x"})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        admin
            .post(app.url(&format!("/send-message?session={id}")))
            .json(&json!({"to": "6281234567890", "message": "x"})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        app.sent(&admin, &id).await.len(),
        2,
        "no failed call sent anything"
    );
}

#[tokio::test]
async fn a_scoped_key_acts_on_its_session_only() {
    let app = TestApp::start().await;
    let (admin, me) = app.register("admin").await;
    let first = app.connected_session(&admin, "6281111111111").await;
    let second = app.connected_session(&admin, "6282222222222").await;
    let (s, k) = call(
        admin
            .post(app.url("/api/keys"))
            .json(&json!({"name": "scoped", "ownerId": me["id"], "sessionId": second})),
    )
    .await;
    assert_eq!(s, 200, "{k}");
    assert_eq!(k["sessionId"], second);
    let key = k["key"].as_str().expect("key");
    let api = reqwest::Client::new();
    let (s, st) = call(api.get(app.url("/status")).header("X-API-KEY", key)).await;
    assert_eq!(
        (s, st["phoneNumber"].as_str()),
        (200, Some("6282222222222")),
        "no SESSION_REQUIRED: the key names it"
    );
    let (s, b) = call(
        api.get(app.url(&format!("/status?session={first}")))
            .header("X-API-KEY", key),
    )
    .await;
    assert_error(s, &b, 403, "FORBIDDEN");
}

#[tokio::test]
async fn sends_are_rate_limited_per_session() {
    let app = TestApp::start_with(|c| {
        c.send_rate = 1;
        c.send_burst = 3;
    })
    .await;
    let (admin, _) = app.register("admin").await;
    let a = app.connected_session(&admin, "6281111111111").await;
    let b = app.connected_session(&admin, "6282222222222").await;
    let send = |id: &str| {
        admin
            .post(app.url(&format!("/send-message?session={id}")))
            .json(&json!({"to": "6281234567890", "message": "x"}))
    };
    for _ in 0..3 {
        assert_eq!(call(send(&a)).await.0, 200);
    }
    let r = send(&a).send().await.expect("send");
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.expect("json");
    assert_error(429, &body, 429, "RATE_LIMITED");
    assert_eq!(
        call(send(&b)).await.0,
        200,
        "another session has its own budget"
    );
    assert_eq!(app.sent(&admin, &a).await.len(), 3);
}

#[tokio::test]
async fn the_default_country_code_replaces_a_leading_zero() {
    let app = TestApp::start_with(|c| c.default_country_code = Some("62".into())).await;
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "6281111111111").await;
    let (s, b) = call(
        admin
            .post(app.url("/send-message"))
            .json(&json!({"to": "0812-3456-7890", "message": "x"})),
    )
    .await;
    assert_eq!((s, b["to"].as_str()), (200, Some("6281234567890")));
    // A group JID passes through untouched (the session must be in the group).
    let gid = app.sim_group(&admin, &id, &["6282222222222"]).await;
    let (s, b) = call(
        admin
            .post(app.url("/send-message"))
            .json(&json!({"to": gid, "message": "group"})),
    )
    .await;
    assert_eq!((s, b["to"].as_str()), (200, Some(gid.as_str())));
    assert_eq!(app.sent(&admin, &id).await.len(), 2);
}

#[tokio::test]
async fn the_real_engine_says_why_it_cannot_reach_whatsapp() {
    // The default engine, dialling a loopback port nobody listens on (no internet in tests),
    // with the version pinned so the client asks web.whatsapp.com nothing either.
    let app = TestApp::start_with(|c| {
        c.engine = server::config::EngineKind::Whatsapp;
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = closed.local_addr().expect("addr").port();
        drop(closed);
        c.whatsapp_url = Some(format!("ws://127.0.0.1:{port}/ws/chat"));
        c.whatsapp_version = Some("2.3000.1042742319".into());
    })
    .await;
    let (admin, _) = app.register("admin").await;
    let id = app.create_session(&admin, "Real").await;
    let mut st = Value::Null;
    for _ in 0..1500 {
        let (s, b) = call(admin.get(app.url("/status"))).await;
        assert_eq!(s, 200, "{b}");
        if b["reason"].is_string() {
            st = b;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        (&st["status"], &st["isConnected"]),
        (&json!("connecting"), &json!(false)),
        "{st}"
    );
    assert!(
        st["reason"]
            .as_str()
            .expect("reason")
            .contains("cannot reach WhatsApp"),
        "{st}"
    );
    let (s, b) = call(
        admin
            .post(app.url("/send-message"))
            .json(&json!({"to": "6281234567890", "message": "x"})),
    )
    .await;
    assert_error(s, &b, 409, "SESSION_NOT_CONNECTED");
    let (s, b) = call(
        admin
            .post(app.url("/simulator/unregistered"))
            .json(&json!({"numbers": []})),
    )
    .await;
    assert_error(s, &b, 404, "NOT_FOUND");
    // Its device store is rows of the shared store, removed with the session.
    let devices =
        server::engine::whatsapp::devices::Devices::open(&app.dir.path().join("whatsapp"))
            .await
            .expect("device store");
    for _ in 0..1000 {
        if !devices.sessions().await.expect("sessions").is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(devices.sessions().await.expect("sessions"), [id.as_str()]);
    let (s, b) = call(admin.delete(app.url(&format!("/api/sessions/{id}")))).await;
    assert_eq!(s, 200, "{b}");
    for _ in 0..1000 {
        if devices.sessions().await.expect("sessions").is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        devices.sessions().await.expect("sessions").is_empty(),
        "the device store goes with the session"
    );
}
