//! The write path's promises: nothing acknowledged that is not stored, nothing sent twice, and
//! a database that refuses writes for a while costs retries, not messages.

use super::*;
use std::time::Duration;

/// Makes the database refuse inserts into `table` until the returned name is dropped again.
async fn refuse_inserts(db: &sqlx::SqlitePool, table: &str) -> String {
    let trigger = format!("refuse_{table}");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TRIGGER {trigger} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
    )))
    .execute(db)
    .await
    .expect("create trigger");
    trigger
}

async fn allow_again(db: &sqlx::SqlitePool, trigger: &str) {
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {trigger}")))
        .execute(db)
        .await
        .expect("drop trigger");
}

#[tokio::test]
async fn an_idempotency_key_sends_once_and_answers_the_first_answer_again() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let session = app.connected_session(&admin, "628111000060").await;
    let send = |key: &str, text: &str| {
        admin
            .post(app.url("/send-message"))
            .header("Idempotency-Key", key)
            .json(&json!({"to": "628222000061", "message": text}))
    };
    let (s, first) = call(send("order-17", "Pesanan #17 dikirim")).await;
    assert_eq!(s, 200, "{first}");
    // Racing and later retries: the same answer, no second message.
    let again: Vec<(u16, Value)> = futures_util::future::join_all(
        (0..5).map(|_| call(send("order-17", "Pesanan #17 dikirim"))),
    )
    .await;
    for (s, b) in &again {
        assert!(
            (*s == 200 && b == &first) || (*s == 409 && b["error"] == "IDEMPOTENCY_CONFLICT"),
            "{s} {b}"
        );
    }
    let (s, b) = call(send("order-17", "Pesanan #17 dikirim")).await;
    assert_eq!((s, &b), (200, &first));
    assert_eq!(
        app.sent(&admin, &session).await.len(),
        1,
        "one message left"
    );
    // The same key for another message is a mistake, not a send.
    let (s, b) = call(send("order-17", "Pesanan #18 dikirim")).await;
    assert_error(s, &b, 409, "IDEMPOTENCY_CONFLICT");
    assert_eq!(app.sent(&admin, &session).await.len(), 1);
    // Another key is another message.
    let (s, b) = call(send("order-18", "Pesanan #18 dikirim")).await;
    assert_eq!(s, 200, "{b}");
    assert_ne!(b["messageId"], first["messageId"]);
    // A refused request (nothing sent) does not use the key up.
    let (s, b) = call(
        admin
            .post(app.url("/send-message"))
            .header("Idempotency-Key", "order-19")
            .json(&json!({"to": "not a number", "message": "x"})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_PHONE");
    let (s, b) = call(send("order-19", "Pesanan #19 dikirim")).await;
    assert_eq!(s, 200, "{b}");
    // Keys are checked.
    let (s, b) = call(send("has space", "x")).await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
}

#[tokio::test]
async fn a_message_the_database_refused_is_not_acknowledged_and_comes_through_later() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let session = app.connected_session(&admin, "628111000070").await;
    let receiver = Receiver::start().await;
    app.set_webhook(&admin, &session, &receiver.url, "s").await;
    let db = app.db().await;
    let trigger = refuse_inserts(&db, "messages").await;
    let incoming = || {
        admin
            .post(app.url(&format!("/simulator/sessions/{session}/incoming")))
            .json(&json!({"from": "628222000071", "message": "Halo, masih buka?"}))
    };
    let (s, b) = call(incoming()).await;
    assert_error(s, &b, 503, "SERVICE_UNAVAILABLE");
    // Readiness says so too; liveness does not.
    let (s, _) = call(reqwest::Client::new().get(app.url("/healthz"))).await;
    assert_eq!(s, 200);
    let trigger_settings = refuse_inserts(&db, "settings").await;
    let (s, b) = call(reqwest::Client::new().get(app.url("/healthz?deep=1"))).await;
    assert_error(s, &b, 503, "SERVICE_UNAVAILABLE");
    allow_again(&db, &trigger_settings).await;
    let (s, _) = call(reqwest::Client::new().get(app.url("/healthz?deep=1"))).await;
    assert_eq!(s, 200);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(n, 0, "nothing half-stored");

    // The phone sends again once the database is back: stored once, delivered once.
    allow_again(&db, &trigger).await;
    let (s, b) = call(incoming()).await;
    assert_eq!(s, 200, "{b}");
    receiver.wait_event("message.in").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ins: Vec<_> = receiver
        .hits()
        .into_iter()
        .filter(|h| h.json()["event"] == "message.in")
        .collect();
    assert_eq!(ins.len(), 1);
}

#[tokio::test]
async fn a_delivery_whose_attempt_cannot_be_recorded_is_held_back_not_resent_in_a_loop() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let session = app.connected_session(&admin, "628111000080").await;
    let receiver = Receiver::start().await;
    app.set_webhook(&admin, &session, &receiver.url, "s").await;
    let db = app.db().await;
    let trigger = refuse_inserts(&db, "webhook_attempts").await;
    app.incoming(&admin, &session, "628222000081", "halo").await;
    receiver.wait_event("message.in").await;
    // Over two seconds a tight loop would have re-sent it dozens of times.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = receiver.hits().len();
    assert!(
        during <= 3,
        "re-sent {during} times while its attempt could not be written"
    );
    allow_again(&db, &trigger).await;
    // Recovered on its own: the delivery ends delivered.
    let mut delivered = false;
    for _ in 0..1500 {
        let (status,): (String,) =
            sqlx::query_as("SELECT status FROM webhook_deliveries ORDER BY created_at LIMIT 1")
                .fetch_one(&db)
                .await
                .expect("delivery");
        if status == "delivered" {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        delivered,
        "the delivery went through once writes were possible again"
    );
}

/// A `kabar` process of its own (the fault tests kill it), on the simulator engine.
pub(crate) struct Kabar {
    child: tokio::process::Child,
    base: String,
}

impl Kabar {
    async fn start_with_env(dir: &std::path::Path, port: u16, env: &[(&str, &str)]) -> Self {
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kabar"))
            .envs(env.iter().copied())
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir)
            .args([
                "--engine",
                "simulator",
                "--allow-private-webhooks",
                "--send-rate",
                "0",
            ])
            .args([
                "--simulator-reconnect-ms",
                "200",
                "--registrations-per-hour",
                "0",
            ])
            .args(["--webhook-retry-schedule", "1s,1s,2s,5s,10s"])
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start kabar");
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..1200 {
            if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
                && r.status() == 200
            {
                return Kabar { child, base };
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("kabar did not start");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test]
async fn sigkill_in_an_inbound_burst_loses_no_acknowledged_message() {
    use futures_util::StreamExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    // Every message gets an auto-reply: no cooldown, no loop guard.
    let no_limits = [
        ("KABAR_AUTO_REPLY_COOLDOWN_SECS", "0"),
        ("KABAR_AUTO_REPLY_BOT_WINDOW_SECS", "0"),
        ("KABAR_AUTO_REPLY_PER_CHAT_PER_MINUTE", "0"),
    ];
    let mut kabar = Kabar::start_with_env(dir.path(), port, &no_limits).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let (s, b) = call(
        client
            .post(kabar.url("/api/auth/register"))
            .json(&json!({"username": "admin", "password": PASSWORD})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(
        client
            .post(kabar.url("/api/sessions"))
            .json(&json!({"name": "toko"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let session = b["id"].as_str().expect("id").to_string();
    let wait_status = |kabar_url: String, want: &'static str| {
        let client = client.clone();
        async move {
            for _ in 0..1000 {
                let (_, b) = call(client.get(&kabar_url)).await;
                if b["status"] == want {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("never {want}");
        }
    };
    wait_status(kabar.url(&format!("/api/sessions/{session}")), "qr_ready").await;
    let (s, b) = call(
        client
            .post(kabar.url(&format!("/simulator/sessions/{session}/scan")))
            .json(&json!({"phoneNumber": "628111000090"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    wait_status(kabar.url(&format!("/api/sessions/{session}")), "connected").await;
    let receiver = Receiver::start().await;
    let (s, b) = call(
        client
            .put(kabar.url(&format!("/api/sessions/{session}/webhook")))
            .json(&json!({"url": receiver.url, "secret": "s", "events": ["message.in"]})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(
        client
            .post(kabar.url("/api/auto-reply/rules"))
            .json(&json!({"keyword": "m", "match": "starts_with", "reply": "diterima"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(
        client
            .put(kabar.url("/api/auto-reply"))
            .json(&json!({"enabled": true})),
    )
    .await;
    assert_eq!(s, 200, "{b}");

    // The burst: up to 5,000 messages, 16 at a time; the server is killed part-way through.
    let incoming = kabar.url(&format!("/simulator/sessions/{session}/incoming"));
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let burst = {
        let (client, acked) = (client.clone(), acked.clone());
        tokio::spawn(async move {
            futures_util::stream::iter(0..5000)
                .for_each_concurrent(16, |i| {
                    let (client, acked, incoming) =
                        (client.clone(), acked.clone(), incoming.clone());
                    async move {
                        let sent = client
                            .post(&incoming)
                            .json(&json!({"from": "628222000091", "message": format!("m{i}")}))
                            .send()
                            .await;
                        if let Ok(r) = sent
                            && r.status() == 200
                            && let Ok(b) = r.json::<Value>().await
                            && let Some(id) = b["messageId"].as_str()
                        {
                            acked.lock().expect("acked").push(id.to_string());
                        }
                    }
                })
                .await;
        })
    };
    for _ in 0..2000 {
        if acked.lock().expect("acked").len() >= 1000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    kabar.child.start_kill().expect("SIGKILL");
    let _ = kabar.child.wait().await;
    burst.await.expect("burst");
    let acked: Vec<String> = acked.lock().expect("acked").clone();
    assert!(
        acked.len() >= 500,
        "only {} acknowledged before the kill",
        acked.len()
    );

    let kabar = Kabar::start_with_env(dir.path(), port, &no_limits).await;
    // Every acknowledged message reaches the webhook; a repeat only as the same event.
    let want: std::collections::HashSet<&str> = acked.iter().map(String::as_str).collect();
    let mut seen = std::collections::HashMap::<String, std::collections::HashSet<String>>::new();
    for _ in 0..3000 {
        seen.clear();
        for hit in receiver.hits() {
            let body = hit.json();
            if let Some(id) = body["data"]["messageId"].as_str() {
                seen.entry(id.to_string())
                    .or_default()
                    .insert(hit.header("x-webhook-id"));
            }
        }
        if want.iter().all(|id| seen.contains_key(*id)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let missing: Vec<&&str> = want.iter().filter(|id| !seen.contains_key(**id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged messages never reached the webhook, e.g. {:?}",
        missing.len(),
        want.len(),
        missing.iter().take(3).collect::<Vec<_>>()
    );
    let twice: Vec<_> = seen.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(twice.is_empty(), "delivered under two event ids: {twice:?}");

    // Every acknowledged message has its auto-reply, sent once: those decided before the kill
    // and not sent then go out after the restart, under the id they were given.
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("kabar.db").display()
    ))
    .await
    .expect("db");
    let mut unanswered = Vec::new();
    for _ in 0..500 {
        let replies: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT quoted_id, status, COUNT(*) OVER (PARTITION BY quoted_id) FROM messages
             WHERE direction = 'out' AND source = 'auto_reply'",
        )
        .fetch_all(&db)
        .await
        .expect("replies");
        let sent: std::collections::HashMap<String, (String, i64)> = replies
            .into_iter()
            .map(|(q, status, n)| (q, (status, n)))
            .collect();
        let twice: Vec<_> = sent.iter().filter(|(_, (_, n))| *n > 1).collect();
        assert!(twice.is_empty(), "a message answered twice: {twice:?}");
        unanswered = want
            .iter()
            .filter(|id| sent.get(**id).is_none_or(|(status, _)| status == "pending"))
            .map(|id| id.to_string())
            .collect();
        if unanswered.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        unanswered.is_empty(),
        "{} acknowledged messages never got their auto-reply, e.g. {:?}",
        unanswered.len(),
        unanswered.iter().take(3).collect::<Vec<_>>()
    );
    drop(kabar);
}

#[tokio::test]
async fn sends_stop_cleanly_while_the_database_refuses_writes_and_are_never_sent_twice() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let session = app.connected_session(&admin, "628111000100").await;
    let receiver = Receiver::start().await;
    app.set_webhook(&admin, &session, &receiver.url, "s").await;
    let db = app.db().await;
    let send = |key: &'static str, text: &'static str| {
        admin
            .post(app.url("/send-message"))
            .header("Idempotency-Key", key)
            .json(&json!({"to": "628222000101", "message": text}))
    };

    // The record refuses the message: nothing leaves, and the client is told so.
    let trigger = refuse_inserts(&db, "messages").await;
    let (s, b) = call(send("a", "Pesanan siap")).await;
    assert_error(s, &b, 503, "SERVICE_UNAVAILABLE");
    assert!(
        app.sent(&admin, &session).await.is_empty(),
        "nothing was sent"
    );
    allow_again(&db, &trigger).await;
    let (s, b) = call(send("a", "Pesanan siap")).await;
    assert_eq!(
        s, 200,
        "the same request goes through once writes work: {b}"
    );
    assert_eq!(app.sent(&admin, &session).await.len(), 1);

    // The message leaves but its completing write fails: the answer is a success, the record
    // keeps it (pending) and completes it on its own; a retry sends nothing again.
    let trigger = refuse_inserts(&db, "webhook_events").await;
    let (s, first) = call(send("b", "Terima kasih")).await;
    assert_eq!(s, 200, "{first}");
    let id = first["messageId"].as_str().expect("id").to_string();
    let status = |id: String| {
        let db = db.clone();
        async move {
            sqlx::query_as::<_, (String,)>("SELECT status FROM messages WHERE id = ?")
                .bind(id)
                .fetch_one(&db)
                .await
                .expect("recorded")
                .0
        }
    };
    assert_eq!(status(id.clone()).await, "pending");
    let (s, again) = call(send("b", "Terima kasih")).await;
    assert_eq!((s, &again), (200, &first));
    allow_again(&db, &trigger).await;
    receiver
        .wait_until("the completed message.out", |hits| {
            hits.iter().any(|h| {
                h.json()["event"] == "message.out" && h.json()["data"]["messageId"] == id.as_str()
            })
        })
        .await;
    assert_eq!(status(id.clone()).await, "sent");
    assert_eq!(
        app.sent(&admin, &session).await.len(),
        2,
        "each message left once"
    );
}

/// `HTTP(S)_PROXY` in the server's environment must not carry webhooks: a proxy resolves the
/// receiver's name itself, past the address guard.
#[tokio::test]
async fn webhooks_never_go_through_a_proxy_from_the_environment() {
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let proxy_url = format!("http://{}", proxy.local_addr().expect("addr"));
    let reached = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = reached.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = proxy.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [
        ("HTTP_PROXY", proxy_url.as_str()),
        ("http_proxy", proxy_url.as_str()),
        ("HTTPS_PROXY", proxy_url.as_str()),
        ("ALL_PROXY", proxy_url.as_str()),
    ];
    let kabar = Kabar::start_with_env(dir.path(), free_port(), &env).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .no_proxy()
        .build()
        .expect("client");
    let (s, _) = call(
        client
            .post(kabar.url("/api/auth/register"))
            .json(&json!({"username": "admin", "password": PASSWORD})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, b) = call(
        client
            .post(kabar.url("/api/sessions"))
            .json(&json!({"name": "toko"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let session = b["id"].as_str().expect("id").to_string();
    let receiver = Receiver::start().await;
    let (s, b) = call(
        client
            .put(kabar.url(&format!("/api/sessions/{session}/webhook")))
            .json(&json!({"url": receiver.url, "secret": "s"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(
        client
            .post(kabar.url("/api/webhooks/test"))
            .json(&json!({"sessionId": session})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    receiver.wait_event("webhook.test").await;
    assert_eq!(
        reached.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a webhook went to the proxy"
    );
}
