//! Every failure speaks the contract's JSON: malformed bodies, limits, unknown paths, 500s.

use super::*;

#[tokio::test]
async fn malformed_bodies_are_json_400s() {
    let app = TestApp::start().await;
    let c = reqwest::Client::new();
    let url = app.url("/api/auth/register");
    let cases = [
        ("{not json", "application/json"),
        ("{\"username\": \"x\"}", "application/json"),
        (
            "{\"username\": 5, \"password\": \"12345678\"}",
            "application/json",
        ),
        ("[]", "application/json"),
        ("", "application/json"),
        (
            "{\"username\":\"abc\",\"password\":\"12345678\",\"extra\":1}",
            "application/json",
        ),
        ("username=abc", "application/x-www-form-urlencoded"),
    ];
    for (body, ctype) in cases {
        let (s, b) = call(c.post(&url).header("content-type", ctype).body(body)).await;
        assert_error(s, &b, 400, "INVALID_REQUEST");
    }
    let (s, b) = call(
        c.post(&url)
            .header("content-type", "application/json")
            .body("{\"username\": \"abc\"}"),
    )
    .await;
    assert!(
        b["message"].as_str().expect("msg").contains("password"),
        "names the field: {b}"
    );
    assert_eq!(s, 400);
    // Nothing was stored by any of them.
    let (_, me) = app.register("first").await;
    assert_eq!(me["role"], "admin");
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = TestApp::start_with(|c| c.max_body_bytes = 4096).await;
    let big = json!({"username": "x".repeat(5000), "password": PASSWORD});
    let (s, b) = call(
        reqwest::Client::new()
            .post(app.url("/api/auth/register"))
            .json(&big),
    )
    .await;
    assert_error(s, &b, 413, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let app = TestApp::start().await;
    let c = reqwest::Client::new();
    let (s, b) = call(c.get(app.url("/api/nothing-here"))).await;
    assert_error(s, &b, 404, "NOT_FOUND");
    let (s, b) = call(c.post(app.url("/api/unknown")).json(&json!({}))).await;
    assert_error(s, &b, 404, "NOT_FOUND");
    let (s, b) = call(c.delete(app.url("/api/me"))).await;
    assert_error(s, &b, 405, "METHOD_NOT_ALLOWED");
    let (s, b) = call(c.get(app.url("/api/auth/login"))).await;
    assert_error(s, &b, 405, "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn healthz_answers_ok() {
    let app = TestApp::start().await;
    let (s, b) = call(reqwest::Client::new().get(app.url("/healthz"))).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("ok")));
}

#[tokio::test]
async fn database_failures_are_500s_without_internals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config::for_tests(dir.path().to_path_buf());
    let state = server::build_state(config, CancellationToken::new())
        .await
        .expect("state");
    let router = server::router(state.clone());
    state.db.close().await;
    use tower::ServiceExt;
    let req = axum::http::Request::post("/api/auth/login")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"username": "abc", "password": PASSWORD}).to_string(),
        ))
        .expect("request");
    let resp = router.oneshot(req).await.expect("response");
    assert_eq!(resp.status(), 500);
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
        .await
        .expect("body");
    let b: Value = serde_json::from_slice(&bytes).expect("json");
    assert_error(500, &b, 500, "INTERNAL_ERROR");
    let text = b.to_string().to_lowercase();
    assert!(
        !text.contains("pool") && !text.contains("sqlx") && !text.contains("closed"),
        "{text}"
    );
}

/// SIGTERM (and Ctrl-C) stop the binary cleanly: requests in flight finish, the process exits 0.
/// Started with `RUST_BACKTRACE=1` (in the environment, then in `.env`), it runs (under the same
/// process id, so the signal reaches it) with library backtraces off (`RUST_LIB_BACKTRACE=0`,
/// see `main.rs`).
#[tokio::test]
async fn sigterm_drains_and_exits_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    for signal in ["-TERM", "-INT"] {
        let mut kabar = tokio::process::Command::new(env!("CARGO_BIN_EXE_kabar"));
        // A failed assertion leaves no server behind.
        kabar.kill_on_drop(true);
        if signal == "-TERM" {
            kabar.env("RUST_BACKTRACE", "1");
        } else {
            std::fs::write(dir.path().join(".env"), "RUST_BACKTRACE=1\n").expect(".env");
            kabar.env_remove("RUST_BACKTRACE").current_dir(dir.path());
        }
        let mut child = kabar
            .args([
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--engine",
                "simulator",
            ])
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("RUST_LIB_BACKTRACE")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("kabar starts");
        let base = format!("http://127.0.0.1:{port}");
        let mut up = false;
        for _ in 0..1500 {
            if reqwest::get(format!("{base}/healthz"))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                up = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(up, "kabar did not start");
        let pid = child.id().expect("running");
        let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("environ");
        assert!(
            environ
                .split(|b| *b == 0)
                .any(|v| v == b"RUST_LIB_BACKTRACE=0"),
            "library backtraces stay off when RUST_BACKTRACE is set ({signal})"
        );
        // A slow request (argon2 hashing) is in flight when the signal comes.
        let register = tokio::spawn(
            reqwest::Client::new()
                .post(format!("{base}/api/auth/register"))
                .json(&json!({"username": format!("u{}", &signal[1..]), "password": PASSWORD}))
                .send(),
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let status = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = child.wait().await.expect("wait");
        assert!(exit.success(), "{signal}: exit {exit:?}");
        if let Ok(Ok(resp)) = register.await {
            assert_eq!(
                resp.status(),
                200,
                "the request in flight was answered, not cut"
            );
        }
    }
}

/// serde reads a struct from an array of its fields in order; bodies are objects only. Found
/// by the fuzz pass: `[null, null]` was a valid `PUT /api/settings` (every field optional).
#[tokio::test]
async fn arrays_are_not_bodies() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    for (method, path) in [
        (reqwest::Method::PUT, "/api/settings"),
        (reqwest::Method::PUT, "/api/auto-reply"),
        (reqwest::Method::POST, "/api/auto-reply/rules"),
    ] {
        for body in ["[null, null]", " [true]", "[]"] {
            let (s, b) = call(
                admin
                    .request(method.clone(), app.url(path))
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await;
            assert_error(s, &b, 400, "INVALID_REQUEST");
        }
    }
    // `application/*+json` is JSON too.
    let (s, b) = call(
        admin
            .put(app.url("/api/auto-reply"))
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"enabled": true}"#),
    )
    .await;
    assert_eq!((s, &b["enabled"]), (200, &json!(true)), "{b}");
}

/// `?api_key=` is a credential on every path, also where the query string carries filters.
#[tokio::test]
async fn the_query_key_works_beside_filters() {
    let app = TestApp::start().await;
    let (admin, me) = app.register("admin").await;
    let key = app.key_for(&admin, me["id"].as_str().expect("id")).await;
    let c = reqwest::Client::new();
    for path in [
        format!("/api/webhooks/deliveries?api_key={key}&status=pending"),
        format!("/api/auto-reply/rules?all=true&api_key={key}"),
        format!("/api/messages?api_key={key}&limit=5"),
    ] {
        let (s, b) = call(c.get(app.url(&path))).await;
        assert_eq!(s, 200, "{path}: {b}");
    }
}
