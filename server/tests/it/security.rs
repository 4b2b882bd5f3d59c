//! The holes an attacker would try, each closed: cross-site requests, registration floods,
//! quotas, accounts that are disabled or deleted, streams that outlive their credential,
//! unbounded metric labels, and one user's dead webhook receiver stalling everyone's.

use super::*;
use std::time::{Duration, Instant};

#[tokio::test]
async fn cross_site_requests_and_form_posts_are_refused() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let http = reqwest::Client::new();
    // Login CSRF: a cross-site `enctype=text/plain` form to the login server function.
    let r = http
        .post(app.url("/fn/login"))
        .header("content-type", "text/plain")
        .body(r#"{"username":"admin","password":"x"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 415);
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let (s, b) = call(
            http.post(app.url("/fn/login"))
                .header(name, value)
                .json(&json!({"username": "admin", "password": PASSWORD})),
        )
        .await;
        assert_error(s, &b, 403, "FORBIDDEN");
        // A cookie-authenticated REST call from another site, too.
        let (s, b) = call(
            admin
                .post(app.url("/api/sessions"))
                .header(name, value)
                .json(&json!({"name": "csrf"})),
        )
        .await;
        assert_error(s, &b, 403, "FORBIDDEN");
    }
    let (s, _) = call(admin.get(app.url("/api/sessions"))).await;
    assert_eq!(s, 200);
    let (s, list) = call(admin.get(app.url("/api/sessions"))).await;
    assert_eq!(
        (s, list.as_array().map(Vec::len)),
        (200, Some(0)),
        "no session was made"
    );
    // The dashboard's own same-origin calls pass.
    let (s, _) = call(
        http.post(app.url("/fn/login"))
            .header("sec-fetch-site", "same-origin")
            .json(&json!({"username": "admin", "password": PASSWORD})),
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn registrations_are_limited_per_address_and_names_checked_before_hashing() {
    let app = TestApp::start_with(|c| c.registrations_per_hour = 2).await;
    app.register("first").await;
    app.register("second").await;
    let (s, b) = call(
        reqwest::Client::new()
            .post(app.url("/api/auth/register"))
            .json(&json!({"username": "third", "password": PASSWORD})),
    )
    .await;
    assert_error(s, &b, 429, "RATE_LIMITED");
    // A taken name is answered without spending a hash (or the address's allowance).
    let (s, b) = call(
        reqwest::Client::new()
            .post(app.url("/api/auth/register"))
            .json(&json!({"username": "First", "password": PASSWORD})),
    )
    .await;
    assert_error(s, &b, 409, "USERNAME_TAKEN");
}

#[tokio::test]
async fn sessions_per_user_are_capped_by_the_admin_setting() {
    let app = TestApp::start().await;
    let (admin, user, _) = app.admin_and_user().await;
    let (s, b) = call(admin.get(app.url("/api/settings"))).await;
    assert_eq!((s, b["maxSessionsPerUser"].as_u64()), (200, Some(10)));
    let (s, _) = call(
        admin
            .put(app.url("/api/settings"))
            .json(&json!({"maxSessionsPerUser": 2})),
    )
    .await;
    assert_eq!(s, 200);
    app.create_session(&user, "one").await;
    app.create_session(&user, "two").await;
    let (s, b) = call(
        user.post(app.url("/api/sessions"))
            .json(&json!({"name": "three"})),
    )
    .await;
    assert_error(s, &b, 403, "QUOTA_EXCEEDED");
    // Admins are not limited.
    for i in 0..3 {
        app.create_session(&admin, &format!("admin{i}")).await;
    }
    let (s, b) = call(
        admin
            .put(app.url("/api/settings"))
            .json(&json!({"maxSessionsPerUser": 20000})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
}

#[tokio::test]
async fn a_disabled_account_pauses_its_sessions_and_a_deleted_one_removes_them() {
    let app = TestApp::start().await;
    let (admin, user, u) = app.admin_and_user().await;
    let uid = u["id"].as_str().expect("id").to_string();
    let session = app.connected_session(&user, "628111000001").await;
    // One the owner stopped before: enabling the account again leaves it stopped.
    let stopped = app.connected_session(&user, "628111000003").await;
    let (s, _) = call(user.post(app.url(&format!("/api/sessions/{stopped}/stop")))).await;
    assert_eq!(s, 200);
    let receiver = Receiver::start().await;
    app.set_webhook(&user, &session, &receiver.url, "s").await;

    let (s, _) = call(
        admin
            .patch(app.url(&format!("/api/users/{uid}")))
            .json(&json!({"disabled": true})),
    )
    .await;
    assert_eq!(s, 200);
    // Nothing of theirs runs: the phone's message is not taken (the engine is stopped).
    let (s, _) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{session}/incoming")))
            .json(&json!({"from": "628222000002", "message": "halo"})),
    )
    .await;
    assert_ne!(s, 200, "a disabled user's session must not take messages");
    app.wait_status(&admin, &session, "disconnected").await;

    let (s, _) = call(
        admin
            .patch(app.url(&format!("/api/users/{uid}")))
            .json(&json!({"disabled": false})),
    )
    .await;
    assert_eq!(s, 200);
    // Back without a new scan.
    app.wait_status(&admin, &session, "connected").await;
    app.incoming(&admin, &session, "628222000002", "halo lagi")
        .await;
    receiver.wait_event("message.in").await;
    let (s, v) = call(admin.get(app.url(&format!("/api/sessions/{stopped}")))).await;
    assert_eq!(
        (s, &v["stopped"], &v["status"]),
        (200, &json!(true), &json!("disconnected")),
        "{v}"
    );
    let (s, _) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{stopped}/incoming")))
            .json(&json!({"from": "628222000002", "message": "buka?"})),
    )
    .await;
    assert_ne!(
        s, 200,
        "a stopped session stays stopped when its owner is enabled"
    );

    let device = app
        .dir
        .path()
        .join("simulator")
        .join(format!("{session}.json"));
    assert!(
        device.exists(),
        "the simulator keeps a device store per linked session"
    );
    let (s, _) = call(admin.delete(app.url(&format!("/api/users/{uid}")))).await;
    assert_eq!(s, 200);
    let (s, b) = call(admin.get(app.url(&format!("/api/sessions/{session}")))).await;
    assert_error(s, &b, 404, "SESSION_NOT_FOUND");
    let (s, _) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{session}/incoming")))
            .json(&json!({"from": "628222000002", "message": "masih?"})),
    )
    .await;
    assert_eq!(s, 404);
    assert!(
        !device.exists(),
        "the device store of a deleted user's session is removed"
    );
}

#[tokio::test]
async fn an_event_stream_ends_when_its_key_is_revoked() {
    let app = TestApp::start().await;
    let (admin, user, u) = app.admin_and_user().await;
    let session = app.create_session(&user, "shop").await;
    let (s, b) = call(
        admin
            .post(app.url("/api/keys"))
            .json(&json!({"name": "sse", "ownerId": u["id"], "sessionId": session})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (key, key_id) = (
        b["key"].as_str().expect("key"),
        b["id"].as_str().expect("id"),
    );
    let mut stream = reqwest::Client::new()
        .get(app.url(&format!("/api/sessions/{session}/events")))
        .header("x-api-key", key)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    let first = stream.chunk().await.expect("chunk").expect("a first event");
    assert!(String::from_utf8_lossy(&first).contains("event: status"));
    let (s, _) = call(admin.delete(app.url(&format!("/api/keys/{key_id}")))).await;
    assert_eq!(s, 200);
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived its revoked key");
}

#[tokio::test]
async fn metric_labels_stay_bounded_whatever_method_is_sent() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let http = reqwest::Client::new();
    for i in 0..5 {
        let method = reqwest::Method::from_bytes(format!("BOGUS{i}").as_bytes()).expect("method");
        let _ = http.request(method, app.url("/healthz")).send().await;
    }
    let text = admin
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(!text.contains("BOGUS"), "raw methods became labels");
    assert!(text.contains("method=\"other\""), "{text}");
}

/// A receiver that accepts connections and never answers: every attempt runs to the timeout.
async fn blackhole() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, task)
}

#[tokio::test]
async fn a_dead_receiver_delays_only_its_own_deliveries() {
    let app = TestApp::start_with(|c| c.webhook_timeout_secs = 30).await;
    let (admin, user, _) = app.admin_and_user().await;
    let slow = app.connected_session(&admin, "628111000010").await;
    let fast = app.connected_session(&user, "628111000011").await;
    let (hole, _task) = blackhole().await;
    app.set_webhook(&admin, &slow, &hole, "s").await;
    let receiver = Receiver::start().await;
    app.set_webhook(&user, &fast, &receiver.url, "s").await;
    // 200 deliveries pile up on the dead endpoint (more than every global slot).
    let db = app.db().await;
    let burst: Vec<_> = (0..200)
        .map(|i| {
            let (app, admin, slow) = (&app, &admin, &slow);
            async move {
                app.incoming(admin, slow, "628333000003", &format!("m{i}"))
                    .await;
            }
        })
        .collect();
    futures_util::future::join_all(burst).await;
    // The simulator answers before the session task has recorded the message: wait for the
    // outbox to hold them.
    let mut pending = 0;
    for _ in 0..1000 {
        (pending,) = sqlx::query_as(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE owner_session = ? AND status = 'pending'",
        )
        .bind(&slow)
        .fetch_one(&db)
        .await
        .expect("count");
        if pending >= 190 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(pending >= 190, "{pending} pending on the dead endpoint");
    // Another user's event is delivered at once, not after the dead one's 30-s timeouts.
    let started = Instant::now();
    app.incoming(&user, &fast, "628333000004", "halo").await;
    receiver.wait_event("message.in").await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "another endpoint's delivery waited {took:?} behind a dead receiver"
    );
}

#[tokio::test]
async fn webhook_secrets_are_encrypted_at_rest_and_files_are_private() {
    let app = TestApp::start().await;
    let (user, _) = app.register("admin").await;
    let session = app.connected_session(&user, "628111000020").await;
    let receiver = Receiver::start().await;
    app.set_webhook(&user, &session, &receiver.url, "whsec-plain-text-secret")
        .await;
    let (s, wh) = call(user.get(app.url(&format!("/api/sessions/{session}/webhook")))).await;
    assert_eq!((s, wh["secret"].as_str()), (200, Some("••••••••")));
    let (stored,): (String,) =
        sqlx::query_as("SELECT secret FROM webhook_endpoints WHERE session_id = ?")
            .bind(&session)
            .fetch_one(&app.db().await)
            .await
            .expect("row");
    assert!(stored.starts_with("enc:v1:"), "{stored}");
    assert!(!stored.contains("whsec"));
    // Deliveries are still signed with the real secret.
    app.incoming(&user, &session, "628222000021", "halo").await;
    let hit = receiver.wait_event("message.in").await;
    let expected = {
        use hmac::{Hmac, Mac};
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(b"whsec-plain-text-secret").expect("key");
        mac.update(hit.body.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    };
    assert_eq!(hit.header("x-signature"), expected);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| {
            std::fs::metadata(p).expect("exists").permissions().mode() & 0o777
        };
        assert_eq!(mode(app.dir.path()), 0o700, "data dir");
        for file in ["kabar.db", "secret.key"] {
            assert_eq!(mode(&app.dir.path().join(file)), 0o600, "{file}");
        }
    }
}

#[tokio::test]
async fn two_bots_do_not_answer_each_other_forever() {
    let app = TestApp::start_with(|c| {
        c.auto_reply_cooldown_secs = 0;
        c.auto_reply_bot_window_secs = 2;
        c.auto_reply_per_chat_per_minute = 3;
    })
    .await;
    let (admin, _) = app.register("admin").await;
    let session = app.connected_session(&admin, "628111000030").await;
    let (s, _) = call(
        admin
            .put(app.url("/api/auto-reply"))
            .json(&json!({"enabled": true})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        admin
            .post(app.url("/api/auto-reply/rules"))
            .json(&json!({"keyword": "halo", "match": "contains", "reply": "Halo juga!"})),
    )
    .await;
    assert_eq!(s, 200);
    // The other bot answers our "Halo juga!" with its own "halo" at once, again and again.
    for _ in 0..5 {
        app.incoming(&admin, &session, "628999000031", "halo").await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.sent(&admin, &session).await.len(),
        1,
        "only the first, not the bot's instant answers"
    );
    // A person writing again later is answered, up to the per-chat cap of the minute.
    for expected in [2, 3] {
        tokio::time::sleep(Duration::from_millis(2100)).await;
        app.incoming(&admin, &session, "628999000031", "halo lagi")
            .await;
        let mut n = 0;
        for _ in 0..100 {
            n = app.sent(&admin, &session).await.len();
            if n == expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(n, expected);
    }
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.incoming(&admin, &session, "628999000031", "halo sekali lagi")
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.sent(&admin, &session).await.len(),
        3,
        "the fourth in a minute is held back"
    );
}

#[tokio::test]
async fn old_messages_and_webhook_events_are_swept_by_the_retention_setting() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let session = app.connected_session(&admin, "628111000040").await;
    let receiver = Receiver::start().await;
    app.set_webhook(&admin, &session, &receiver.url, "s").await;
    let old = app.incoming(&admin, &session, "628222000041", "lama").await;
    let new = app.incoming(&admin, &session, "628222000041", "baru").await;
    receiver
        .wait_until("two deliveries", |h| h.len() >= 2)
        .await;
    let db = app.db().await;
    for _ in 0..500 {
        let (pending,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
                .fetch_one(&db)
                .await
                .expect("count");
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Make the first message and its events 40 days old; leave one old event pending.
    let forty_days = 40 * 86_400_000_i64;
    sqlx::query("UPDATE messages SET created_at = created_at - ? WHERE id = ?")
        .bind(forty_days)
        .bind(&old)
        .execute(&db)
        .await
        .expect("age message");
    sqlx::query("UPDATE webhook_events SET created_at = created_at - ? WHERE body LIKE ?")
        .bind(forty_days)
        .bind(format!("%{old}%"))
        .execute(&db)
        .await
        .expect("age events");
    // Two files: the old one's message goes, and the file with it; the new one stays.
    let mut files = Vec::new();
    for text in ["old file", "new file"] {
        let (s, b) = call(admin.post(app.url("/send-media")).json(&json!({
            "to": "628222000041", "type": "document", "filename": "f.txt",
            "base64": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text)
        })))
        .await;
        assert_eq!(s, 200, "{b}");
        let id = b["messageId"].as_str().expect("id").to_string();
        let (sha,): (String,) = sqlx::query_as("SELECT media_sha256 FROM messages WHERE id = ?")
            .bind(&id)
            .fetch_one(&db)
            .await
            .expect("sha");
        files.push((id, app.dir.path().join("media").join(sha)));
    }
    sqlx::query("UPDATE messages SET created_at = created_at - ? WHERE id = ?")
        .bind(forty_days)
        .bind(&files[0].0)
        .execute(&db)
        .await
        .expect("age the old file's message");
    std::fs::File::options()
        .write(true)
        .open(&files[0].1)
        .expect("old file")
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(40 * 86_400))
        .expect("age the old file");
    // A file an auto-reply rule answers with is in use however old it is.
    let (s, b) = call(admin.post(app.url("/api/auto-reply/rules")).json(&json!({
        "keyword": "faktur", "match": "exact",
        "media": {"base64": super::media::b64(super::media::PDF), "filename": "faktur.pdf"}
    })))
    .await;
    assert_eq!(s, 200, "{b}");
    let rule_file = app
        .dir
        .path()
        .join("media")
        .join(b["media"]["sha256"].as_str().expect("sha"));
    std::fs::File::options()
        .write(true)
        .open(&rule_file)
        .expect("the rule's file")
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(40 * 86_400))
        .expect("age the rule's file");
    let pending_id: (String,) = sqlx::query_as(
        "INSERT INTO webhook_events (id, session_id, event, body, created_at)
         VALUES ('old-pending', ?, 'message.in', '{}', 1) RETURNING id",
    )
    .bind(&session)
    .fetch_one(&db)
    .await
    .expect("old pending event");
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, event_id, owner_session, status, next_attempt_at, created_at, updated_at)
         VALUES ('old-pending-d', ?, ?, 'pending', 9999999999999, 1, 1)",
    )
    .bind(&pending_id.0)
    .bind(&session)
    .execute(&db)
    .await
    .expect("old pending delivery");

    let (s, b) = call(
        admin
            .put(app.url("/api/settings"))
            .json(&json!({"retentionDays": 30})),
    )
    .await;
    assert_eq!((s, b["retentionDays"].as_u64()), (200, Some(30)), "{b}");
    let count = |sql: &'static str, id: String| {
        let db = db.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(sql)
                .bind(id)
                .fetch_one(&db)
                .await
                .expect("count");
            n
        }
    };
    let mut gone = false;
    for _ in 0..500 {
        if count("SELECT COUNT(*) FROM messages WHERE id = ?", old.clone()).await == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the 40-day-old message is swept");
    for _ in 0..500 {
        if !files[0].1.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !files[0].1.exists(),
        "the old message's file is removed with it"
    );
    assert!(files[1].1.exists(), "a file still in use stays");
    assert!(rule_file.exists(), "an auto-reply rule's file stays");
    assert_eq!(
        count("SELECT COUNT(*) FROM messages WHERE id = ?", new.clone()).await,
        1
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM webhook_events WHERE body LIKE ?",
            format!("%{old}%")
        )
        .await,
        0,
        "its delivered events too"
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM webhook_events WHERE body LIKE ?",
            format!("%{new}%")
        )
        .await,
        1
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM webhook_events WHERE id = ?",
            "old-pending".into()
        )
        .await,
        1,
        "an event still waiting to be delivered is kept"
    );
}

#[tokio::test]
async fn private_webhook_addresses_can_be_allowed_for_one_user() {
    let app = TestApp::start_with(|c| c.allow_private_webhooks = false).await;
    let (admin, user, u) = app.admin_and_user().await;
    let (other, _) = app.register("citra").await;
    let mine = app.create_session(&user, "mine").await;
    let theirs = app.create_session(&other, "theirs").await;
    let receiver = Receiver::start().await;
    let put = |c: &reqwest::Client, session: &str| {
        c.put(app.url(&format!("/api/sessions/{session}/webhook")))
            .json(&json!({"url": receiver.url, "secret": "s"}))
    };
    let (s, b) = call(put(&user, &mine)).await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    let (s, b) = call(
        admin
            .patch(app.url(&format!("/api/users/{}", u["id"].as_str().expect("id"))))
            .json(&json!({"allowPrivateWebhooks": true})),
    )
    .await;
    assert_eq!(
        (s, b["allowPrivateWebhooks"].as_bool()),
        (200, Some(true)),
        "{b}"
    );
    let (s, b) = call(put(&user, &mine)).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(put(&other, &theirs)).await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
}

#[tokio::test]
async fn pairing_codes_and_test_events_have_quotas() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let session = app.create_session(&admin, "shop").await;
    app.wait_status(&admin, &session, "qr_ready").await;
    let ask = || {
        admin
            .post(app.url(&format!("/api/sessions/{session}/pair-code")))
            .json(&json!({"phoneNumber": "6281234500001"}))
    };
    for _ in 0..5 {
        let (s, b) = call(ask()).await;
        assert_eq!(s, 200, "{b}");
    }
    let (s, b) = call(ask()).await;
    assert_error(s, &b, 429, "RATE_LIMITED");

    let receiver = Receiver::start().await;
    app.set_webhook(&admin, &session, &receiver.url, "s").await;
    let test = || {
        admin
            .post(app.url("/api/webhooks/test"))
            .json(&json!({"sessionId": session}))
    };
    for _ in 0..5 {
        let (s, b) = call(test()).await;
        assert_eq!(s, 200, "{b}");
    }
    let (s, b) = call(test()).await;
    assert_error(s, &b, 429, "RATE_LIMITED");
}

#[tokio::test]
async fn list_filters_are_checked_not_clamped() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    for query in [
        "limit=0",
        "limit=-1",
        "limit=501",
        "status=bogus",
        "event=message.nope",
    ] {
        let (s, b) = call(admin.get(app.url(&format!("/api/webhooks/deliveries?{query}")))).await;
        assert_error(s, &b, 400, "INVALID_REQUEST");
    }
    let (s, _) = call(admin.get(app.url("/api/webhooks/deliveries?status=&limit=500"))).await;
    assert_eq!(s, 200);
    // The field a pairing-code error names is the one the client sent.
    let session = app.create_session(&admin, "shop").await;
    let (s, b) = call(
        admin
            .post(app.url(&format!("/api/sessions/{session}/pair-code")))
            .json(&json!({"phoneNumber": "62-812-abc"})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_PHONE");
    let message = b["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("`phoneNumber`"), "{message}");
    assert!(message.contains("dots and parentheses"), "{message}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    let app = TestApp::start_with(|c| {
        c.registrations_per_hour = 1;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    })
    .await;
    let register = |name: &str, forwarded: &str| {
        reqwest::Client::new()
            .post(app.url("/api/auth/register"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"username": name, "password": PASSWORD}))
    };
    let (s, _) = call(register("first", "203.0.113.1")).await;
    assert_eq!(s, 200);
    let (s, b) = call(register("second", "203.0.113.1")).await;
    assert_error(s, &b, 429, "RATE_LIMITED");
    // Another client behind the same proxy is not held back by the first.
    let (s, _) = call(register("third", "203.0.113.2")).await;
    assert_eq!(s, 200);

    // Without trusting the proxy, the header is ignored: one address, one allowance.
    let direct = TestApp::start_with(|c| c.registrations_per_hour = 1).await;
    let send = |name: &str, forwarded: &str| {
        reqwest::Client::new()
            .post(direct.url("/api/auth/register"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"username": name, "password": PASSWORD}))
    };
    let (s, _) = call(send("first", "203.0.113.1")).await;
    assert_eq!(s, 200);
    let (s, b) = call(send("second", "203.0.113.9")).await;
    assert_error(s, &b, 429, "RATE_LIMITED");
}
