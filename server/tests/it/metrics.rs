//! `/metrics`: Prometheus text, for admins or the configured bearer token, and it moves when
//! messages flow.

use super::*;

/// The value of the sample `name{labels}` (labels as printed, sorted as the encoder emits them).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Every line is a comment, a sample `name{labels} value`, or the closing `# EOF`.
fn assert_parses(text: &str) {
    assert!(
        text.trim_end().ends_with("# EOF"),
        "OpenMetrics ends with # EOF"
    );
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').expect("a value");
        assert!(value.parse::<f64>().is_ok(), "value in {line}");
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            name.starts_with("kabar_")
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "name in {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "labels in {line}");
        }
    }
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_move_with_messages() {
    let app = TestApp::start_with(|c| c.metrics_token = Some("scrape-secret".into())).await;
    let (admin, user, _) = app.admin_and_user().await;
    let id = app.connected_session(&admin, "6281111111111").await;

    let (s, b) = call(reqwest::Client::new().get(app.url("/metrics"))).await;
    assert_error(s, &b, 401, "UNAUTHORIZED");
    let (s, b) = call(user.get(app.url("/metrics"))).await;
    assert_error(s, &b, 403, "FORBIDDEN");
    let (s, b) = call(
        reqwest::Client::new()
            .get(app.url("/metrics"))
            .bearer_auth("wrong"),
    )
    .await;
    assert_error(s, &b, 401, "UNAUTHORIZED");

    let scrape = || async {
        let r = reqwest::Client::new()
            .get(app.url("/metrics"))
            .bearer_auth("scrape-secret")
            .send()
            .await
            .expect("scrape");
        assert_eq!(r.status(), 200);
        r.text().await.expect("text")
    };
    let before = scrape().await;
    assert_parses(&before);
    assert_eq!(
        sample(&before, r#"kabar_sessions{status="connected"}"#),
        Some(1.0)
    );
    let out = r#"kabar_messages_total{direction="out",type="text",source="api"}"#;
    assert_eq!(sample(&before, out), None);

    for _ in 0..2 {
        let (s, b) = call(
            admin
                .post(app.url("/send-message"))
                .json(&json!({"to": "6282222222222", "message": "Halo"})),
        )
        .await;
        assert_eq!(s, 200, "{b}");
    }
    let (s, _) = call(
        admin
            .post(app.url("/send-message"))
            .json(&json!({"to": "halo", "message": "Halo"})),
    )
    .await;
    assert_eq!(s, 400);
    app.incoming(&admin, &id, "6282222222222", "Harga?").await;

    let mut after = String::new();
    for _ in 0..1000 {
        after = scrape().await;
        if sample(
            &after,
            r#"kabar_messages_total{direction="in",type="text",source=""}"#,
        ) == Some(1.0)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_parses(&after);
    assert_eq!(sample(&after, out), Some(2.0), "{after}");
    assert_eq!(
        sample(
            &after,
            r#"kabar_sends_total{endpoint="send-message",outcome="ok"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &after,
            r#"kabar_sends_total{endpoint="send-message",outcome="INVALID_PHONE"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &after,
            r#"kabar_http_request_duration_seconds_count{method="POST",route="/send-message",status="200"}"#
        ),
        Some(2.0),
        "requests are timed by route"
    );
    assert!(sample(&after, r#"kabar_webhook_deliveries{status="pending"}"#).is_some());
    assert!(sample(&after, "kabar_webhook_outbox_oldest_pending_seconds").is_some());
}
