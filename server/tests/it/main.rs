//! Kabar's integration tests: the real server on 127.0.0.1:0 with a fresh data dir, driven over
//! HTTP. Helpers live here; each file covers one feature.

mod accounts;
mod authz;
mod autoreply;
mod backup;
mod dashboard;
mod docs;
mod errors;
mod fake_whatsapp;
mod groups;
mod interactive;
mod keys;
mod logs;
mod media;
mod messages;
mod metrics;
mod openapi;
mod paging;
mod rest;
mod rich;
mod security;
mod sessions;
mod webhooks;
mod whatsapp;
mod writepath;

use serde_json::{Value, json};
use server::Config;
use std::{future::Future, path::PathBuf};
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "s3cret-password";

/// A running server. Dropping it stops the server; [`TestApp::restart`] keeps the data dir.
pub struct TestApp {
    pub base: String,
    pub dir: TempDir,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    tweak: Tweak,
}

/// A change to the test configuration, kept to apply again on restart.
type Tweak = std::sync::Arc<dyn Fn(&mut Config) + Send + Sync>;

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with a configuration adjusted by `tweak` (applied again on restart).
    pub async fn start_with(tweak: impl Fn(&mut Config) + Send + Sync + 'static) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir, std::sync::Arc::new(tweak)).await
    }

    /// Starts on an existing data dir (a restored backup).
    pub async fn start_on_dir(dir: TempDir) -> Self {
        Self::start_in(dir, std::sync::Arc::new(|_: &mut Config| {})).await
    }

    async fn start_in(dir: TempDir, tweak: Tweak) -> Self {
        let mut config = Config::for_tests(PathBuf::from(dir.path()));
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(server::run(config, listener, shutdown.clone()));
        let app = TestApp {
            base,
            dir,
            shutdown,
            handle: Some(handle),
            tweak,
        };
        app.wait_ready().await;
        app
    }

    async fn wait_ready(&self) {
        for _ in 0..800 {
            if let Ok(r) = reqwest::get(self.url("/healthz")).await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("server did not become ready");
    }

    /// Stops the server (draining requests) and starts a new one on the same data dir.
    pub async fn restart(mut self) -> Self {
        self.stop_server().await;
        let tweak = self.tweak.clone();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
        Self::start_in(dir, tweak).await
    }

    /// Stops the server, lets `change` edit its data dir, and starts it again.
    pub async fn restart_with<F: std::future::Future<Output = ()>>(
        mut self,
        change: impl FnOnce(PathBuf) -> F,
    ) -> Self {
        self.stop_server().await;
        change(self.dir.path().to_path_buf()).await;
        let tweak = self.tweak.clone();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
        Self::start_in(dir, tweak).await
    }

    async fn stop_server(&mut self) {
        self.shutdown.cancel();
        if let Some(h) = self.handle.take() {
            h.await
                .expect("server task")
                .expect("server exited cleanly");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client that keeps cookies, like a browser.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client")
    }

    /// Registers `username` in a fresh browser and returns it signed in, with the answer.
    pub async fn register(&self, username: &str) -> (reqwest::Client, Value) {
        let c = self.browser();
        let body = self.register_with(&c, username).await;
        (c, body)
    }

    /// Registers `username` in the browser `c` (which keeps the cookie); answers the account.
    pub async fn register_with(&self, c: &reqwest::Client, username: &str) -> Value {
        let r = c
            .post(self.url("/api/auth/register"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .expect("register");
        assert_eq!(r.status(), 200, "register {username}");
        r.json().await.expect("json")
    }

    /// Registers the first account (the admin) and a plain user; answers their browsers.
    pub async fn admin_and_user(&self) -> (reqwest::Client, reqwest::Client, Value) {
        let (admin, a) = self.register("admin").await;
        assert_eq!(a["role"], "admin");
        let (user, u) = self.register("budi").await;
        assert_eq!(u["role"], "user");
        (admin, user, u)
    }

    /// Mints an API key (as `admin`) for `owner_id` and answers the secret.
    pub async fn key_for(&self, admin: &reqwest::Client, owner_id: &str) -> String {
        let r = admin
            .post(self.url("/api/keys"))
            .json(&json!({"name": "test", "ownerId": owner_id}))
            .send()
            .await
            .expect("create key");
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.expect("json");
        body["key"].as_str().expect("key").to_string()
    }
}

impl TestApp {
    /// Creates a session as `client` and answers its id.
    pub async fn create_session(&self, client: &reqwest::Client, name: &str) -> String {
        let (s, b) = call(
            client
                .post(self.url("/api/sessions"))
                .json(&json!({"name": name})),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        b["id"].as_str().expect("id").to_string()
    }

    /// Waits until the session shows `status` (as its owner sees it) and answers the view.
    pub async fn wait_status(&self, client: &reqwest::Client, id: &str, status: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..1000 {
            let (_, b) = call(client.get(self.url(&format!("/api/sessions/{id}")))).await;
            if b["status"] == status {
                return b;
            }
            last = b;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("session {id} never reached {status}: {last}");
    }

    /// Creates a session and links it through the simulator as `phone`.
    pub async fn connected_session(&self, client: &reqwest::Client, phone: &str) -> String {
        let id = self.create_session(client, "shop").await;
        self.wait_status(client, &id, "qr_ready").await;
        let (s, b) = call(
            client
                .post(self.url(&format!("/simulator/sessions/{id}/scan")))
                .json(&json!({"phoneNumber": phone, "pushName": "Toko Budi"})),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        self.wait_status(client, &id, "connected").await;
        id
    }

    /// What the simulated phone has sent for `id`.
    pub async fn sent(&self, client: &reqwest::Client, id: &str) -> Vec<Value> {
        let (s, b) = call(client.get(self.url(&format!("/simulator/sessions/{id}/sent")))).await;
        assert_eq!(s, 200, "{b}");
        b.as_array().expect("array").clone()
    }

    /// A group someone else made with `members`, the session's number in it as a member
    /// (the simulator's `POST …/groups`); answers its JID.
    pub async fn sim_group(&self, client: &reqwest::Client, id: &str, members: &[&str]) -> String {
        let (s, b) = call(
            client
                .post(self.url(&format!("/simulator/sessions/{id}/groups")))
                .json(&json!({"subject": "Grup", "participants": members})),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        b["id"].as_str().expect("group id").to_string()
    }

    /// Makes the database refuse every insert into `table` (a failing disk, for fault tests)
    /// until [`TestApp::accept_inserts`].
    pub async fn refuse_inserts(&self, table: &str) {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table}
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )))
        .execute(&self.db().await)
        .await
        .expect("trigger");
    }

    pub async fn accept_inserts(&self, table: &str) {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER refuse_{table}")))
            .execute(&self.db().await)
            .await
            .expect("drop trigger");
    }

    /// Opens the SQLite database of this server (to check what was recorded).
    pub async fn db(&self) -> sqlx::SqlitePool {
        sqlx::SqlitePool::connect(&format!(
            "sqlite://{}",
            self.dir.path().join("kabar.db").display()
        ))
        .await
        .expect("open db")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Asserts the contract's error shape and code, and answers the body.
#[track_caller]
pub fn assert_error(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "status for {body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
}

pub use fake_whatsapp::decode_qr;

/// Sends a request and answers (status, JSON body); a non-JSON body fails the test.
pub async fn call(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, body)
}

/// Runs `n` copies of `f` at once and collects their results in order.
pub async fn concurrently<F, Fut, T>(n: usize, f: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(f(i))).collect();
    let mut out = Vec::with_capacity(n);
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

/// What a webhook receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub headers: axum::http::HeaderMap,
    pub body: String,
    pub at: std::time::Instant,
}

impl Hit {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("webhook body is JSON")
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

/// How the receiver answers the next request; the default is 200.
#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    WithHeader(u16, &'static str, &'static str),
    Slow(std::time::Duration),
}

/// A real HTTP webhook sink on 127.0.0.1:0 that records every request.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    hits: std::sync::Arc<std::sync::Mutex<Vec<Hit>>>,
    /// Requests that arrived (counted before a slow reply, unlike `hits`).
    arrived: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    script: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<Reply>>>,
}

impl Receiver {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    pub async fn start_on(addr: &str) -> Self {
        use axum::{body::Bytes, http::HeaderMap, response::IntoResponse, routing::post};
        let hits: std::sync::Arc<std::sync::Mutex<Vec<Hit>>> = Default::default();
        let script: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<Reply>>> =
            Default::default();
        let arrived: std::sync::Arc<std::sync::atomic::AtomicUsize> = Default::default();
        let (h, sc, ar) = (hits.clone(), script.clone(), arrived.clone());
        let app = axum::Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let (h, sc, ar) = (h.clone(), sc.clone(), ar.clone());
                async move {
                    ar.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let reply = sc.lock().expect("script").pop_front();
                    let hit = Hit {
                        headers,
                        body: String::from_utf8_lossy(&body).into_owned(),
                        at: std::time::Instant::now(),
                    };
                    if let Some(Reply::Slow(d)) = &reply {
                        tokio::time::sleep(*d).await;
                    }
                    h.lock().expect("hits").push(hit);
                    let status = |c: u16| axum::http::StatusCode::from_u16(c).expect("status");
                    match reply {
                        Some(Reply::Status(c)) => (status(c), "scripted").into_response(),
                        Some(Reply::WithHeader(c, k, v)) => {
                            (status(c), [(k, v)], "scripted").into_response()
                        }
                        _ => (status(200), "ok").into_response(),
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind receiver");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url,
            hits,
            arrived,
            script,
        }
    }

    /// Queues replies for the next requests.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().expect("script").extend(replies);
    }

    /// How many requests have arrived, answered or not.
    pub fn started(&self) -> usize {
        self.arrived.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().expect("hits").clone()
    }

    /// Waits until `pred` holds for the hits so far (30 s at most) and answers them.
    pub async fn wait_until(&self, what: &str, pred: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        for _ in 0..1500 {
            let hits = self.hits();
            if pred(&hits) {
                return hits;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let seen: Vec<String> = self.hits().iter().map(|h| h.body.clone()).collect();
        panic!("receiver never saw {what}; got {seen:#?}");
    }

    /// Waits for a hit whose event is `event` and answers its body.
    pub async fn wait_event(&self, event: &str) -> Hit {
        let hits = self
            .wait_until(event, |h| h.iter().any(|h| h.json()["event"] == event))
            .await;
        hits.into_iter()
            .rev()
            .find(|h| h.json()["event"] == event)
            .expect("hit")
    }
}

impl TestApp {
    /// Points the session's webhook at `url` with `secret`.
    pub async fn set_webhook(
        &self,
        client: &reqwest::Client,
        session: &str,
        url: &str,
        secret: &str,
    ) {
        let (s, b) = call(
            client
                .put(self.url(&format!("/api/sessions/{session}/webhook")))
                .json(&json!({"url": url, "secret": secret})),
        )
        .await;
        assert_eq!(s, 200, "{b}");
    }

    /// A contact writes `text` to the session; answers the message id.
    pub async fn incoming(
        &self,
        client: &reqwest::Client,
        session: &str,
        from: &str,
        text: &str,
    ) -> String {
        let (s, b) = call(
            client
                .post(self.url(&format!("/simulator/sessions/{session}/incoming")))
                .json(&json!({"from": from, "message": text, "pushName": "Siti"})),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        b["messageId"].as_str().expect("id").to_string()
    }
}
