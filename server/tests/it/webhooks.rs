//! Webhook delivery with a real HTTP receiver on port 0: every event type, both signatures
//! (checked by Node.js with the original's snippet and by npm `standardwebhooks`), retries with
//! a stable id, Retry-After, 410, the SSRF guard, isolation, crash safety and shutdown.

use super::*;
use std::time::Duration;

const SECRET: &str = "rahasia-webhook";

fn hmac_hex(secret: &str, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    m.update(body.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

fn fast_retries(c: &mut Config) {
    c.webhook_retry_schedule = "50ms,100ms,150ms".into();
}

#[tokio::test]
async fn every_event_type_arrives_signed_with_its_data() {
    let app = TestApp::start().await;
    let rx = Receiver::start().await;
    let (admin, _) = app.register("admin").await;
    let id = app.create_session(&admin, "Toko").await;
    app.wait_status(&admin, &id, "qr_ready").await;
    app.set_webhook(&admin, &id, &rx.url, SECRET).await;

    call(
        admin
            .post(app.url(&format!("/simulator/sessions/{id}/scan")))
            .json(&json!({"phoneNumber": "6281111111111", "pushName": "Toko Budi"})),
    )
    .await;
    let hit = rx.wait_event("connection.update").await;
    let body = hit.json();
    assert_eq!(
        body["data"],
        json!({"sessionId": id, "status": "connected", "phoneNumber": "6281111111111", "pushName": "Toko Budi", "reason": null})
    );
    assert!(body["timestamp"].as_i64().expect("ms") > 1_700_000_000_000);
    assert_eq!(hit.header("content-type"), "application/json");
    assert_eq!(hit.header("x-webhook-event"), "connection.update");
    assert_eq!(hit.header("x-signature"), hmac_hex(SECRET, &hit.body));
    assert!(hit.header("x-webhook-id").starts_with("msg_"));
    assert_eq!(hit.header("x-webhook-id"), hit.header("webhook-id"));
    assert!(hit.header("webhook-signature").starts_with("v1,"));
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(keys.len(), 3);
    assert!(
        hit.body
            .starts_with(r#"{"event":"connection.update","data":{"#),
        "order and compactness: {}",
        hit.body
    );

    let mid = app
        .incoming(&admin, &id, "+62 812-3456-7890", "Harga?")
        .await;
    let hit = rx.wait_event("message.in").await;
    assert_eq!(
        hit.json()["data"],
        json!({"sessionId": id, "messageId": mid, "from": "6281234567890", "chat": "6281234567890", "isGroup": false, "pushName": "Siti", "type": "text", "message": "Harga?", "timestamp": hit.json()["data"]["timestamp"]})
    );

    let (_, sent) = call(
        admin
            .post(app.url("/send-message"))
            .json(&json!({"to": "6281234567890", "message": "Rp 10.000", "reply_to_id": mid})),
    )
    .await;
    let hit = rx.wait_event("message.out").await;
    let data = &hit.json()["data"];
    assert_eq!(data["messageId"], sent["messageId"]);
    assert_eq!(
        (
            data["to"].as_str(),
            data["source"].as_str(),
            data["type"].as_str()
        ),
        (Some("6281234567890"), Some("api"), Some("text"))
    );
    assert_eq!(data["message"], "Rp 10.000");

    // A group message names the group in `chat` and its author in `from` (contract §12).
    let gid = app.sim_group(&admin, &id, &["6285555555555"]).await;
    call(
        admin
            .post(app.url(&format!("/simulator/sessions/{id}/incoming")))
            .json(&json!({"chat": gid, "from": "6285555555555", "message": "halo grup"})),
    )
    .await;
    let hits = rx
        .wait_until("group message", |h| {
            h.iter().any(|h| h.json()["data"]["message"] == "halo grup")
        })
        .await;
    let g = hits
        .iter()
        .find(|h| h.json()["data"]["message"] == "halo grup")
        .expect("hit")
        .json();
    assert_eq!(
        (
            &g["data"]["chat"],
            &g["data"]["isGroup"],
            &g["data"]["from"],
            &g["data"]["participant"]
        ),
        (
            &json!(gid),
            &json!(true),
            &json!("6285555555555"),
            &json!("6285555555555")
        )
    );

    call(
        admin
            .post(app.url(&format!("/simulator/sessions/{id}/disconnect")))
            .json(&json!({"reason": "network"})),
    )
    .await;
    rx.wait_until("disconnected", |h| {
        h.iter()
            .any(|h| h.json()["data"]["status"] == "disconnected")
    })
    .await;
    call(admin.post(app.url(&format!("/api/sessions/{id}/logout")))).await;
    let hits = rx
        .wait_until("logged_out", |h| {
            h.iter().any(|h| h.json()["data"]["status"] == "logged_out")
        })
        .await;
    let out = hits
        .iter()
        .find(|h| h.json()["data"]["status"] == "logged_out")
        .expect("hit")
        .json();
    assert!(out["data"]["reason"].is_string());
    rx.wait_until("qr_ready", |h| {
        h.iter().any(|h| h.json()["data"]["status"] == "qr_ready")
    })
    .await;
    for h in rx.hits() {
        assert_eq!(
            h.header("x-signature"),
            hmac_hex(SECRET, &h.body),
            "{}",
            h.body
        );
    }
}

#[tokio::test]
async fn signatures_verify_in_node_with_the_original_snippet_and_standardwebhooks() {
    let app = TestApp::start().await;
    let rx = Receiver::start().await;
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "6281111111111").await;
    let secret = "s3cr3t with spaces, ümlauts & \"quotes\"";
    app.set_webhook(&admin, &id, &rx.url, secret).await;
    let texts = [
        "Halo 👋🏽 emoji 🇮🇩",
        "مرحبا بالعالم RTL עברית",
        r#"quotes "double" 'single' and \backslashes\ \n literal"#,
        "line one\nline two\r\n\ttab",
        "separators \u{2028} and \u{2029}, nul-ish \u{1} \u{1f}",
        "large integers 9007199254740993 12345678901234567890 and -0 1e400",
        "</script><b>html</b> & amp; ünïcödé 中文 日本語",
    ];
    for t in texts {
        app.incoming(&admin, &id, "6281234567890", t).await;
    }
    let hits = rx.wait_until("all texts", |h| h.len() >= texts.len()).await;
    let deliveries: Vec<Value> = hits
        .iter()
        .map(|h| {
            let headers: serde_json::Map<String, Value> = [
                "x-signature",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature",
            ]
            .iter()
            .map(|k| (k.to_string(), json!(h.header(k))))
            .collect();
            json!({"body": h.body, "headers": headers, "secret": secret})
        })
        .collect();
    let file = app.dir.path().join("deliveries.json");
    std::fs::write(&file, serde_json::to_vec(&deliveries).expect("json")).expect("write");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new("node")
        .arg(root.join("end2end/webhook-verify.cjs"))
        .arg(&file)
        .output()
        .expect("node runs (scripts/test.sh installs it and end2end/node_modules)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{} passed, 0 failed", texts.len())),
        "{stdout}"
    );
}

#[tokio::test]
async fn failures_are_retried_with_the_same_id_until_delivered() {
    let app = TestApp::start_with(fast_retries).await;
    let rx = Receiver::start().await;
    rx.script([Reply::Status(500), Reply::Status(503)]);
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "6281111111111").await;
    app.set_webhook(&admin, &id, &rx.url, SECRET).await;
    app.incoming(&admin, &id, "6281234567890", "retry me").await;
    let hits = rx.wait_until("three attempts", |h| h.len() >= 3).await;
    let ids: std::collections::BTreeSet<String> =
        hits.iter().map(|h| h.header("x-webhook-id")).collect();
    assert_eq!(ids.len(), 1, "one id across retries");
    assert!(
        hits.iter().all(|h| h.body == hits[0].body),
        "same bytes each time"
    );

    let deliveries = wait_delivery_status(&app, &admin, "delivered").await;
    let d = &deliveries[0];
    assert_eq!(d["attempts"], 3);
    let (_, detail) = call(admin.get(app.url(&format!(
        "/api/webhooks/deliveries/{}",
        d["id"].as_str().expect("id")
    ))))
    .await;
    let log = detail["attemptsLog"].as_array().expect("attempts");
    assert_eq!(
        log.iter()
            .map(|a| a["statusCode"].as_i64())
            .collect::<Vec<_>>(),
        [Some(500), Some(503), Some(200)]
    );
    assert!(
        log.iter()
            .all(|a| a["latencyMs"].is_i64() && a["trigger"] == "scheduled")
    );
    assert_eq!(log[0]["responseExcerpt"], "scripted");
}

async fn wait_delivery_status(app: &TestApp, client: &reqwest::Client, status: &str) -> Vec<Value> {
    for _ in 0..1500 {
        let (_, list) =
            call(client.get(app.url(&format!("/api/webhooks/deliveries?status={status}")))).await;
        let list = list.as_array().expect("array").clone();
        if !list.is_empty() {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no delivery reached {status}");
}

#[tokio::test]
async fn retry_after_is_honoured_and_a_spent_schedule_fails_visibly() {
    let app = TestApp::start_with(fast_retries).await;
    let rx = Receiver::start().await;
    rx.script([Reply::WithHeader(429, "retry-after", "1")]);
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "6281111111111").await;
    app.set_webhook(&admin, &id, &rx.url, SECRET).await;
    app.incoming(&admin, &id, "6281234567890", "slow down")
        .await;
    let hits = rx.wait_until("two attempts", |h| h.len() >= 2).await;
    let gap = hits[1].at - hits[0].at;
    assert!(
        gap >= Duration::from_millis(900),
        "waited {gap:?}, not the 50 ms schedule"
    );

    // Four failures spend a three-retry schedule: failed, and it stays listed.
    rx.script([
        Reply::Status(500),
        Reply::Status(500),
        Reply::Status(500),
        Reply::Status(500),
    ]);
    app.incoming(&admin, &id, "6281234567890", "never arrives")
        .await;
    let failed = wait_delivery_status(&app, &admin, "failed").await;
    assert_eq!(failed[0]["attempts"], 4);
    assert_eq!(failed[0]["lastStatus"], 500);
    // The retry button sends it again now, with the same id, logged as manual.
    let did = failed[0]["id"].as_str().expect("id");
    let (s, _) = call(admin.post(app.url(&format!("/api/webhooks/deliveries/{did}/retry")))).await;
    assert_eq!(s, 200);
    let mut detail = Value::Null;
    for _ in 0..1500 {
        detail = call(admin.get(app.url(&format!("/api/webhooks/deliveries/{did}"))))
            .await
            .1;
        if detail["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(detail["status"], "delivered", "{detail}");
    assert_eq!(
        detail["attemptsLog"]
            .as_array()
            .expect("log")
            .last()
            .expect("attempt")["trigger"],
        "manual"
    );
}

#[tokio::test]
async fn gone_disables_the_endpoint_until_saved_again() {
    let app = TestApp::start_with(fast_retries).await;
    let rx = Receiver::start().await;
    rx.script([Reply::Status(410)]);
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "6281111111111").await;
    app.set_webhook(&admin, &id, &rx.url, SECRET).await;
    app.incoming(&admin, &id, "6281234567890", "first").await;
    wait_delivery_status(&app, &admin, "failed").await;
    let (_, wh) = call(admin.get(app.url(&format!("/api/sessions/{id}/webhook")))).await;
    assert_eq!(wh["enabled"], false);
    assert!(
        wh["disabledReason"]
            .as_str()
            .expect("reason")
            .contains("410")
    );
    assert_eq!(wh["secret"], "••••••••", "masked, no character shown");
    app.incoming(&admin, &id, "6281234567890", "while disabled")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.hits().len(), 1, "nothing more is sent");
    // A test event says why it cannot be sent, rather than "queued" and a failure.
    let (s, b) = call(
        admin
            .post(app.url("/api/webhooks/test"))
            .json(&json!({"sessionId": id})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    assert!(
        b["message"]
            .as_str()
            .unwrap_or_default()
            .contains("disabled"),
        "{b}"
    );

    app.set_webhook(&admin, &id, &rx.url, SECRET).await;
    app.incoming(&admin, &id, "6281234567890", "enabled again")
        .await;
    rx.wait_until("delivery after re-enabling", |h| {
        h.iter()
            .any(|h| h.json()["data"]["message"] == "enabled again")
    })
    .await;
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let app = TestApp::start_with(|c| c.allow_private_webhooks = false).await;
    let (admin, _) = app.register("admin").await;
    let id = app.create_session(&admin, "Toko").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "http://10.0.0.5/x",
    ] {
        let (s, b) = call(
            admin
                .put(app.url(&format!("/api/sessions/{id}/webhook")))
                .json(&json!({"url": url})),
        )
        .await;
        assert_error(s, &b, 400, "INVALID_REQUEST");
        assert!(
            b["message"].as_str().expect("msg").contains("private"),
            "{b}"
        );
    }
    let (s, b) = call(
        admin
            .put(app.url("/api/settings"))
            .json(&json!({"webhook": {"url": "http://127.0.0.1:9/hook"}})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    let (s, b) = call(
        admin
            .put(app.url(&format!("/api/sessions/{id}/webhook")))
            .json(&json!({"url": "ftp://example.com/"})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    let (s, b) = call(
        admin
            .put(app.url(&format!("/api/sessions/{id}/webhook")))
            .json(&json!({"url": "http://8.8.8.8/x", "events": ["message.sideways"]})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");

    let (s, _) = call(
        admin
            .put(app.url("/api/settings"))
            .json(&json!({"allowPrivateWebhooks": true})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, b) = call(
        admin
            .put(app.url(&format!("/api/sessions/{id}/webhook")))
            .json(&json!({"url": "http://127.0.0.1:9/hook"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn each_user_gets_only_their_sessions_events_and_the_global_webhook_gets_all() {
    let app = TestApp::start().await;
    let (global, budi_rx, siti_rx) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    let (admin, budi, _) = app.admin_and_user().await;
    let (siti, _) = app.register("siti").await;
    let (s, b) =
        call(admin.put(app.url("/api/settings")).json(
            &json!({"webhook": {"url": global.url, "secret": "g", "events": ["message.in"]}}),
        ))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["webhook"]["events"], json!(["message.in"]));
    let b_id = app.connected_session(&budi, "6281111111111").await;
    let s_id = app.connected_session(&siti, "6282222222222").await;
    app.set_webhook(&budi, &b_id, &budi_rx.url, "b").await;
    app.set_webhook(&siti, &s_id, &siti_rx.url, "s").await;
    let (s, b) = call(
        siti.put(app.url(&format!("/api/sessions/{b_id}/webhook")))
            .json(&json!({"url": siti_rx.url})),
    )
    .await;
    assert_error(s, &b, 404, "SESSION_NOT_FOUND");

    app.incoming(&budi, &b_id, "6289999999999", "to budi").await;
    app.incoming(&siti, &s_id, "6289999999999", "to siti").await;
    global.wait_until("both", |h| h.len() >= 2).await;
    budi_rx.wait_until("budi's", |h| !h.is_empty()).await;
    siti_rx.wait_until("siti's", |h| !h.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let texts = |rx: &Receiver| {
        rx.hits()
            .iter()
            .map(|h| {
                h.json()["data"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(texts(&budi_rx), ["to budi"]);
    assert_eq!(texts(&siti_rx), ["to siti"]);
    let mut all = texts(&global);
    all.sort();
    assert_eq!(all, ["to budi", "to siti"]);

    let (_, mine) = call(siti.get(app.url("/api/webhooks/deliveries"))).await;
    assert!(
        mine.as_array()
            .expect("array")
            .iter()
            .all(|d| d["sessionId"] == s_id && d["endpoint"] == "session"),
        "{mine}"
    );
    let budi_delivery = {
        let (_, l) = call(budi.get(app.url("/api/webhooks/deliveries"))).await;
        l[0]["id"].as_str().expect("id").to_string()
    };
    let (s, b) =
        call(siti.get(app.url(&format!("/api/webhooks/deliveries/{budi_delivery}")))).await;
    assert_error(s, &b, 404, "NOT_FOUND");
    let (s, b) =
        call(siti.post(app.url(&format!("/api/webhooks/deliveries/{budi_delivery}/retry")))).await;
    assert_error(s, &b, 404, "NOT_FOUND");
    let (_, everything) = call(admin.get(app.url("/api/webhooks/deliveries"))).await;
    assert_eq!(
        everything.as_array().expect("array").len(),
        4,
        "two session + two global deliveries"
    );
}

#[tokio::test]
async fn test_events_go_to_the_chosen_endpoint() {
    let app = TestApp::start().await;
    let rx = Receiver::start().await;
    let (admin, budi, _) = app.admin_and_user().await;
    let id = app.create_session(&budi, "Toko").await;
    let (s, b) = call(
        budi.post(app.url("/api/webhooks/test"))
            .json(&json!({"sessionId": id})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    app.set_webhook(&budi, &id, &rx.url, SECRET).await;
    let (s, b) = call(
        budi.post(app.url("/api/webhooks/test"))
            .json(&json!({"sessionId": id})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let hit = rx.wait_event("webhook.test").await;
    assert_eq!(
        hit.header("x-webhook-id"),
        b["eventId"].as_str().expect("id")
    );
    assert_eq!(hit.json()["data"]["sessionId"], id);
    let (s, b) = call(budi.post(app.url("/api/webhooks/test")).json(&json!({}))).await;
    assert_error(s, &b, 403, "FORBIDDEN");
    let _ = admin;
}

#[tokio::test]
async fn graceful_shutdown_finishes_attempts_in_flight() {
    let app = TestApp::start().await;
    let rx = Receiver::start().await;
    rx.script([Reply::Slow(Duration::from_millis(800))]);
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "6281111111111").await;
    // Only messages: the restart below also (rightly) reports the session reconnecting.
    let cfg = json!({"url": rx.url, "secret": SECRET, "events": ["message.in"]});
    let (s, b) = call(
        admin
            .put(app.url(&format!("/api/sessions/{id}/webhook")))
            .json(&cfg),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    app.incoming(&admin, &id, "6281234567890", "in flight")
        .await;
    for _ in 0..4000 {
        if rx.started() > 0 {
            break; // the attempt is now waiting on the slow receiver
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(rx.started(), 1);
    let app = app.restart().await; // stop drains, then a new server starts on the same data
    let db = app.db().await;
    let attempts: Vec<(Option<i64>,)> = sqlx::query_as("SELECT status_code FROM webhook_attempts")
        .fetch_all(&db)
        .await
        .expect("q");
    assert_eq!(
        attempts.first().and_then(|a| a.0),
        Some(200),
        "the in-flight attempt completed before exit: {attempts:?}"
    );
    assert_eq!(rx.hits().len(), 1, "and was not sent twice");
}

/// The binary as a child process, SIGKILLed while deliveries are pending and in flight.
#[tokio::test]
async fn nothing_is_lost_when_the_server_is_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rx = Receiver::start().await;
    // The receiver is slow at first, so deliveries are in flight when the kill comes.
    rx.script((0..40).map(|_| Reply::Slow(Duration::from_millis(400))));
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let spawn = || {
        // kill_on_drop: a failed assertion leaves no server behind.
        tokio::process::Command::new(env!("CARGO_BIN_EXE_kabar"))
            .kill_on_drop(true)
            .args([
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--engine",
                "simulator",
                "--allow-private-webhooks",
                "--webhook-retry-schedule",
                "100ms,200ms",
            ])
            .arg("--data-dir")
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("kabar starts")
    };
    let wait_ready = || async {
        for _ in 0..1500 {
            if reqwest::get(format!("{base}/healthz"))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("kabar did not start");
    };
    let mut child = spawn();
    wait_ready().await;
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let url = |p: &str| format!("{base}{p}");
    call(
        c.post(url("/api/auth/register"))
            .json(&json!({"username": "admin", "password": PASSWORD})),
    )
    .await;
    let (_, s) = call(c.post(url("/api/sessions")).json(&json!({"name": "Toko"}))).await;
    let id = s["id"].as_str().expect("id").to_string();
    tokio::time::sleep(Duration::from_millis(200)).await;
    call(
        c.post(url(&format!("/simulator/sessions/{id}/scan")))
            .json(&json!({"phoneNumber": "6281111111111"})),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (st, b) = call(
        c.put(url(&format!("/api/sessions/{id}/webhook")))
            .json(&json!({"url": rx.url, "secret": SECRET, "events": ["message.in"]})),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let mut sent = std::collections::BTreeSet::new();
    for i in 0..20 {
        let (st, b) = call(
            c.post(url(&format!("/simulator/sessions/{id}/incoming")))
                .json(&json!({"from": "6281234567890", "message": format!("m{i}")})),
        )
        .await;
        assert_eq!(st, 200);
        sent.insert(b["messageId"].as_str().expect("id").to_string());
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    child.kill().await.expect("SIGKILL, reaped");
    let before = rx.hits().len();
    assert!(
        before < 20,
        "the kill came mid-delivery ({before} of 20 done)"
    );

    let mut child = spawn();
    wait_ready().await;
    let hits = rx
        .wait_until("all 20 messages", |h| {
            let got: std::collections::BTreeSet<String> = h
                .iter()
                .map(|h| {
                    h.json()["data"]["messageId"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
                .collect();
            got.is_superset(&sent)
        })
        .await;
    // At least once: duplicates carry the same webhook id as their first copy.
    let mut by_message: std::collections::HashMap<String, String> = Default::default();
    for h in &hits {
        let m = h.json()["data"]["messageId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let wid = h.header("webhook-id");
        assert_eq!(by_message.entry(m).or_insert_with(|| wid.clone()), &wid);
        assert_eq!(h.header("x-signature"), hmac_hex(SECRET, &h.body));
    }
    child.kill().await.expect("killed, reaped");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let app = TestApp::start_with(fast_retries).await;
    let rx = Receiver::start().await;
    let target: &'static str = Box::leak(rx.url.clone().into_boxed_str());
    rx.script((0..4).map(|_| Reply::WithHeader(302, "location", target)));
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "6281111111111").await;
    app.set_webhook(&admin, &id, &rx.url, SECRET).await;
    app.incoming(&admin, &id, "6281234567890", "go elsewhere")
        .await;
    let failed = wait_delivery_status(&app, &admin, "failed").await;
    assert_eq!(
        (
            failed[0]["attempts"].as_i64(),
            failed[0]["lastStatus"].as_i64()
        ),
        (Some(4), Some(302))
    );
    assert_eq!(
        rx.hits().len(),
        4,
        "one request per attempt: the Location was never followed"
    );
}

/// A session without a webhook answers 404, before one is set and after it is removed, like any
/// deleted resource (the fuzz pass's use-after-free check found `200 null` after a delete).
#[tokio::test]
async fn a_missing_session_webhook_is_404() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let id = app.create_session(&admin, "shop").await;
    let url = app.url(&format!("/api/sessions/{id}/webhook"));
    let (s, b) = call(admin.get(&url)).await;
    assert_error(s, &b, 404, "NOT_FOUND");
    let (s, b) = call(
        admin
            .put(&url)
            .json(&json!({"url": "http://127.0.0.1:9/hook"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(admin.get(&url)).await;
    assert_eq!((s, &b["url"]), (200, &json!("http://127.0.0.1:9/hook")));
    let (s, _) = call(admin.delete(&url)).await;
    assert_eq!(s, 200);
    let (s, b) = call(admin.get(&url)).await;
    assert_error(s, &b, 404, "NOT_FOUND");
}
