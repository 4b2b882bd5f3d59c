//! What the benches that drive a server share: the `kabar` binary of this build as a process
//! of its own (its RSS, threads and disk are its own): loopback, a fresh data dir, killed when
//! dropped.
#![allow(dead_code)] // each bench uses its part

use axum::{Router, body::Bytes, http::StatusCode, routing::post};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Where requests go: the server's address, its signed-in admin and its linked sessions.
#[derive(Clone)]
pub struct Target {
    pub base: String,
    pub admin: reqwest::Client,
    pub sessions: Vec<String>,
}

/// The server under test, killed when dropped.
pub struct Server {
    pub child: Child,
    pub target: Target,
    pub key: String,
    /// The server's data dir and its log (stdout and stderr).
    pub data_dir: std::path::PathBuf,
    pub log_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for Server {
    type Target = Target;
    fn deref(&self) -> &Target {
        &self.target
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `kabar` with `args` (and the bench's own: loopback, a fresh data dir, no send
    /// limit, private webhooks allowed), signs an admin in, mints a key, creates `sessions`
    /// sessions and, on the simulator, links them.
    pub async fn start(args: &[&str], sessions: usize) -> anyhow::Result<Server> {
        let dir = tempfile::tempdir()?;
        let log_path = dir.path().join("server.log");
        let log = std::fs::File::create(&log_path)?;
        let data_dir = dir.path().join("data");
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_kabar"))
            .args(args)
            .args(["--send-rate", "0"])
            .args(["--allow-private-webhooks", "--registrations-per-hour", "0"])
            .arg("--addr")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&data_dir)
            .env("KABAR_JWT_SECRET", "bench-secret-bench-secret-bench-secret")
            .env_remove("RUST_LOG") // the default level, as operators run it
            .env_remove("DATABASE_URL")
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()?;
        let base = format!("http://127.0.0.1:{port}");
        let admin = reqwest::Client::builder().cookie_store(true).build()?;
        let mut up = false;
        for _ in 0..300 {
            if admin
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::ensure!(up, "the server did not start");
        admin
            .post(format!("{base}/api/auth/register"))
            .json(&json!({"username": "bench", "password": "bench-password"}))
            .send()
            .await?
            .error_for_status()?;
        let key: Value = admin
            .post(format!("{base}/api/keys"))
            .json(&json!({"name": "bench"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let key = key["key"].as_str().unwrap_or_default().to_string();
        let mut server = Server {
            child,
            target: Target {
                base,
                admin,
                sessions: Vec::new(),
            },
            key,
            data_dir,
            log_path,
            _dir: dir,
        };
        server.add_sessions(sessions).await?;
        // The simulator shows a QR code shortly after a session starts; then it can be scanned.
        if args.windows(2).any(|w| w == ["--engine", "simulator"]) {
            tokio::time::sleep(Duration::from_millis(300)).await;
            for (i, id) in server.sessions.iter().enumerate() {
                server
                    .admin
                    .post(format!("{}/simulator/sessions/{id}/scan", server.base))
                    .json(&json!({"phoneNumber": format!("6281234567{i:03}"), "pushName": "Bench"}))
                    .send()
                    .await?
                    .error_for_status()?;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        Ok(server)
    }

    /// The real engine pointed at a port nothing listens on: every dial is refused at once, so
    /// its sessions keep retrying, as unpaired or offline sessions do. No sessions yet.
    pub async fn start_unreachable() -> anyhow::Result<Server> {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let url = format!("ws://127.0.0.1:{closed}/ws/chat");
        let args = ["--engine", "whatsapp", "--whatsapp-url", &url];
        Server::start(
            &[&args[..], &["--whatsapp-version", "2.3000.1042742319"]].concat(),
            0,
        )
        .await
    }

    /// The server's resident memory.
    pub fn rss_mib(&self) -> f64 {
        self.status("VmRSS:").map_or(0.0, |kib| kib / 1024.0)
    }

    /// The part of the RSS that is the process's own memory (heap, stacks), not pages of the
    /// binary and libraries mapped from disk (`RssFile`, shared and reclaimable).
    pub fn rss_anon_mib(&self) -> f64 {
        self.status("RssAnon:").map_or(0.0, |kib| kib / 1024.0)
    }

    /// The server's thread count.
    pub fn threads(&self) -> u64 {
        self.status("Threads:").map_or(0, |n| n as u64)
    }

    fn status(&self, field: &str) -> Option<f64> {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with(field))
                    .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
            })
    }

    /// Deliveries waiting in the outbox, from `/metrics`.
    pub async fn pending(&self) -> u64 {
        let Ok(r) = self
            .admin
            .get(format!("{}/metrics", self.base))
            .send()
            .await
        else {
            return 0;
        };
        let text = r.text().await.unwrap_or_default();
        text.lines()
            .find(|l| l.starts_with("kabar_webhook_deliveries{") && l.contains("pending"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0, |v| v as u64)
    }

    pub async fn webhook_to(&self, url: &str) -> anyhow::Result<()> {
        for id in &self.sessions {
            self.admin
                .put(format!("{}/api/sessions/{id}/webhook", self.base))
                .json(&json!({"url": url, "secret": "bench", "events": ["message.in"]}))
                .send()
                .await?
                .error_for_status()?;
        }
        Ok(())
    }
}

impl Server {
    /// Bytes the server has logged so far.
    pub fn log_bytes(&self) -> u64 {
        std::fs::metadata(&self.log_path).map_or(0, |m| m.len())
    }

    /// Bytes on disk under the data dir.
    pub fn disk_bytes(&self) -> u64 {
        self.disk_files().iter().map(|(_, n)| n).sum()
    }

    /// Every file under the data dir (path below it, bytes), largest first.
    pub fn disk_files(&self) -> Vec<(String, u64)> {
        fn walk(root: &std::path::Path, p: &std::path::Path, out: &mut Vec<(String, u64)>) {
            for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
                match e.metadata() {
                    Ok(m) if m.is_dir() => walk(root, &e.path(), out),
                    Ok(m) => out.push((
                        e.path()
                            .strip_prefix(root)
                            .map_or_else(|_| e.path(), |r| r.to_path_buf())
                            .display()
                            .to_string(),
                        m.len(),
                    )),
                    Err(_) => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.data_dir, &self.data_dir, &mut out);
        out.sort_by_key(|f| std::cmp::Reverse(f.1));
        out
    }

    /// The largest files under the data dir, for a line of the report.
    pub fn disk_summary(&self) -> String {
        self.disk_files()
            .iter()
            .take(6)
            .map(|(name, n)| format!("{name} {:.0} KiB", *n as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Creates `n` more sessions (not linked).
    pub async fn add_sessions(&mut self, n: usize) -> anyhow::Result<()> {
        let start = self.target.sessions.len();
        for i in start..start + n {
            let id = self.target.create_session(&format!("bench {i}")).await?;
            self.target.sessions.push(id);
        }
        Ok(())
    }
}

impl Target {
    /// Creates a session (not linked) as the admin; answers its id.
    pub async fn create_session(&self, name: &str) -> anyhow::Result<String> {
        let s: Value = self
            .admin
            .post(format!("{}/api/sessions", self.base))
            .json(&json!({"name": name}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(s["id"].as_str().unwrap_or_default().to_string())
    }
}

/// A webhook receiver on loopback: notes when each `messageId` first arrived; `delay` makes it
/// a slow receiver.
#[derive(Default)]
pub struct Sink {
    pub arrived: Mutex<HashMap<String, Instant>>,
    pub requests: AtomicU64,
    pub slow: AtomicBool,
}

pub async fn start_sink(sink: Arc<Sink>) -> anyhow::Result<String> {
    let app = Router::new().route(
        "/hook",
        post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                sink.requests.fetch_add(1, Ordering::Relaxed);
                if sink.slow.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&body)
                    && let Some(id) = v["data"]["messageId"].as_str()
                {
                    sink.arrived
                        .lock()
                        .expect("lock")
                        .entry(id.to_string())
                        .or_insert_with(Instant::now);
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}
