//! What the benches that drive a server share: Kabar in-process on the simulator
//! (127.0.0.1:0, a fresh data dir) with a signed-in admin and one connected session.

use serde_json::{Value, json};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct Bench {
    pub base: String,
    /// The admin, signed in (cookie).
    pub admin: reqwest::Client,
    /// A session linked through the simulator as 6281234567890.
    pub session: String,
    shutdown: CancellationToken,
    server: JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Bench {
    /// Starts the server with the test configuration adjusted by `tweak`.
    pub async fn start(tweak: impl FnOnce(&mut server::Config)) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut config = server::Config::for_tests(dir.path().to_path_buf());
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(server::run(config, listener, shutdown.clone()));
        for _ in 0..100 {
            if reqwest::get(format!("{base}/healthz"))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let admin = reqwest::Client::builder().cookie_store(true).build()?;
        admin
            .post(format!("{base}/api/auth/register"))
            .json(&json!({"username": "bench", "password": "bench-password"}))
            .send()
            .await?
            .error_for_status()?;
        let session: Value = admin
            .post(format!("{base}/api/sessions"))
            .json(&json!({"name": "bench"}))
            .send()
            .await?
            .json()
            .await?;
        let session = session["id"].as_str().unwrap_or_default().to_string();
        // The simulator shows a QR code shortly after the session starts; then it can be scanned.
        tokio::time::sleep(Duration::from_millis(200)).await;
        admin
            .post(format!("{base}/simulator/sessions/{session}/scan"))
            .json(&json!({"phoneNumber": "6281234567890", "pushName": "Bench"}))
            .send()
            .await?
            .error_for_status()?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        Ok(Bench {
            base,
            admin,
            session,
            shutdown,
            server,
            _dir: dir,
        })
    }

    /// Stops the server the way SIGTERM does and waits for it to exit.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.server.await??;
        Ok(())
    }
}
