//! The integrator docs' webhook receivers (`docs/examples/receiver.js` and `receiver.py`) run
//! against real deliveries: they accept what Kabar signs and refuse a forgery.

use super::*;
use std::{process::Stdio, time::Duration};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const SECRET: &str = "whsec-docs-ünïcode";

struct Receiver {
    _child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    port: u16,
}

impl Receiver {
    async fn start(program: &str, script: &str) -> Self {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs/examples")
            .join(script);
        let mut child = Command::new(program)
            .arg(&path)
            .env("KABAR_WEBHOOK_SECRET", SECRET)
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{program} {}: {e}", path.display()));
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = Self::next_line(&mut lines).await;
        let port = first
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{script} said {first:?}"));
        Receiver {
            _child: child,
            lines,
            port,
        }
    }

    async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
        tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("the receiver printed nothing within 10 s")
            .expect("read")
            .expect("the receiver exited")
    }

    async fn next(&mut self) -> Value {
        serde_json::from_str(&Self::next_line(&mut self.lines).await).expect("a JSON line")
    }
}

#[tokio::test]
async fn the_docs_receivers_verify_real_deliveries() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let session = app.connected_session(&admin, "628100000009").await;
    for (program, script) in [("node", "receiver.js"), ("python3", "receiver.py")] {
        let mut receiver = Receiver::start(program, script).await;
        let url = format!("http://127.0.0.1:{}/kabar", receiver.port);
        app.set_webhook(&admin, &session, &url, SECRET).await;
        app.incoming(
            &admin,
            &session,
            "6281234567890",
            "Halo \"kak\" 👋\n\\ </script>",
        )
        .await;
        let line = receiver.next().await;
        assert_eq!(line["verified"], true, "{script}: {line}");
        assert_eq!(line["event"], "message.in", "{script}: {line}");
        let (_, log) = call(admin.get(app.url(&format!(
            "/api/webhooks/deliveries?session={session}&event=message.in"
        ))))
        .await;
        assert_eq!(line["id"], log[0]["eventId"], "{script}: {log}");

        // A body that Kabar did not sign is refused.
        let forged = reqwest::Client::new()
            .post(&url)
            .header("X-Signature", "0".repeat(64))
            .body(r#"{"event":"message.in","data":{},"timestamp":1}"#)
            .send()
            .await
            .expect("post");
        assert_eq!(forged.status(), 401, "{script}");
        assert_eq!(
            receiver.next().await,
            json!({"verified": false}),
            "{script}"
        );
    }
}
