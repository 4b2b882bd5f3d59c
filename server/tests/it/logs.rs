//! What the server writes at info level: with the access log on, a line per request and per
//! webhook attempt, each with an id to correlate (by default neither, so a busy server does not
//! fill a disk; failed attempts always), and never a password, API key, webhook secret, message text or phone
//! number (issue: "secrets … are never logged at info level").

use super::*;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn info_logs_correlate_and_carry_no_secrets_numbers_or_texts() {
    let logs = Captured::default();
    let writer = logs.clone();
    // Each test runs in its own process under nextest, so this global subscriber sees only this
    // test's server.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let app = TestApp::start_with(|c| c.access_log = true).await;
    let rx = Receiver::start().await;
    let (admin, me) = app.register("admin").await;
    let key = app.key_for(&admin, me["id"].as_str().expect("id")).await;
    let phone = "628987654321";
    let id = app.connected_session(&admin, "628111222333").await;
    let secret = "whsec-never-in-the-logs";
    app.set_webhook(&admin, &id, &rx.url, secret).await;
    let text = "rahasia pesan 42";
    let (s, b) = call(
        reqwest::Client::new()
            .post(app.url(&format!("/send-message?api_key={key}")))
            .json(&json!({"to": phone, "message": text})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    app.incoming(&admin, &id, "6285555000111", "balasan rahasia")
        .await;
    rx.wait_event("message.in").await;
    // The dispatcher logs after it records the attempt; give it a moment.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let out = String::from_utf8(logs.0.lock().expect("lock").clone()).expect("utf-8");
    for (what, needle) in [
        ("password", PASSWORD),
        ("API key", key.as_str()),
        ("webhook secret", secret),
        ("message text", text),
        ("inbound text", "balasan rahasia"),
        ("recipient number", phone),
        ("sender number", "6285555000111"),
        ("session's number", "628111222333"),
    ] {
        assert!(!out.contains(needle), "the {what} is in the logs:\n{out}");
    }
    // Requests carry their id (also sent back as X-Request-Id); attempts carry the delivery's.
    assert!(
        out.lines().any(|l| l.contains("request_id=")
            && l.contains("/send-message")
            && l.contains("status=200")),
        "no request line for /send-message:\n{out}"
    );
    // Health checks never log at info, even with the access log on.
    assert!(
        !out.lines()
            .any(|l| l.contains("path=/healthz") && l.contains(" INFO ")),
        "health checks in the access log:\n{out}"
    );
    assert!(
        out.lines().any(|l| l.contains("webhook attempt")
            && l.contains("delivery=")
            && l.contains("event_id=")),
        "no webhook attempt line:\n{out}"
    );
}

#[tokio::test]
async fn requests_do_not_log_a_line_each_by_default() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let rx = Receiver::start().await;
    let id = app.connected_session(&admin, "628111222334").await;
    app.set_webhook(&admin, &id, &rx.url, "s").await;
    app.incoming(&admin, &id, "6285555000112", "halo").await;
    rx.wait_event("message.in").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    for _ in 0..20 {
        let (s, _) = call(admin.get(app.url("/api/sessions"))).await;
        assert_eq!(s, 200);
    }
    let out = String::from_utf8(logs.0.lock().expect("lock").clone()).expect("utf-8");
    let per_request = out
        .lines()
        .filter(|l| l.contains("path=/api/sessions") && l.contains(" INFO "))
        .count();
    assert_eq!(per_request, 0, "a line per request at info:\n{out}");
    assert!(
        !out.lines().any(|l| l.contains("webhook attempt")),
        "a line per delivered webhook at info:\n{out}"
    );
}
