//! `kabar backup` of a running server while messages flow, and `kabar restore` into a new data
//! dir: the restored server has the accounts, the messages recorded before the backup, and the
//! webhook secret (its key travels in the archive).

use super::*;
use std::process::Command;

fn kabar(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kabar"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run kabar");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_into_a_working_server() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let session = app.connected_session(&admin, "628111000050").await;
    let receiver = Receiver::start().await;
    app.set_webhook(&admin, &session, &receiver.url, "whsec-backup")
        .await;
    for i in 0..20 {
        app.incoming(&admin, &session, "628222000051", &format!("before {i}"))
            .await;
    }
    // A file sent before the backup comes back with it.
    let price_list = b"produk,harga\nKopi,85000\n";
    let (s, b) = call(admin.post(app.url("/send-media")).json(&json!({
        "to": "628222000051", "filename": "harga.csv",
        "base64": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, price_list)
    })))
    .await;
    assert_eq!(s, 200, "{b}");
    let file_id = b["messageId"].as_str().expect("id").to_string();
    // Messages keep arriving while the backup runs.
    let stop = CancellationToken::new();
    let load = {
        let (stop, url, admin) = (
            stop.clone(),
            app.url(&format!("/simulator/sessions/{session}/incoming")),
            admin.clone(),
        );
        tokio::spawn(async move {
            let mut sent = 0;
            while !stop.is_cancelled() {
                let r = admin
                    .post(&url)
                    .json(&json!({"from": "628222000052", "message": format!("during {sent}")}))
                    .send()
                    .await
                    .expect("send");
                assert_eq!(r.status(), 200);
                sent += 1;
            }
            sent
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let out = tempfile::tempdir().expect("tempdir");
    let archive = out.path().join("kabar-backup.tar.gz");
    let data = app.dir.path().to_string_lossy().into_owned();
    let archive_arg = archive.to_string_lossy().into_owned();
    let (ok, text) =
        tokio::task::spawn_blocking(move || kabar(&["--data-dir", &data, "backup", &archive_arg]))
            .await
            .expect("join");
    assert!(ok, "kabar backup: {text}");
    stop.cancel();
    let during = load.await.expect("load");
    assert!(during > 0, "messages flowed during the backup");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&archive)
            .expect("archive")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the archive holds secrets");
    }

    // Into a fresh data dir: refused over an existing database without --force.
    let restored = tempfile::tempdir().expect("tempdir");
    let dir = restored.path().to_string_lossy().into_owned();
    let archive_arg = archive.to_string_lossy().into_owned();
    let (ok, text) = kabar(&["--data-dir", &dir, "restore", &archive_arg]);
    assert!(ok, "kabar restore: {text}");
    let (ok, text) = kabar(&["--data-dir", &dir, "restore", &archive_arg]);
    assert!(!ok && text.contains("--force"), "{text}");
    let (ok, text) = kabar(&["--data-dir", &dir, "restore", "--force", &archive_arg]);
    assert!(ok, "{text}");
    drop(app);

    let back = TestApp::start_on_dir(restored).await;
    let (admin, _) = {
        let c = back.browser();
        let (s, b) = call(
            c.post(back.url("/api/auth/login"))
                .json(&json!({"username": "admin", "password": PASSWORD})),
        )
        .await;
        assert_eq!(s, 200, "the accounts came back");
        (c, b)
    };
    let (s, log) = call(admin.get(back.url("/api/messages?limit=500"))).await;
    assert_eq!(s, 200);
    let texts: Vec<&str> = log
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|m| m["message"].as_str().or(m["body"].as_str()))
        .collect();
    for i in 0..20 {
        assert!(
            texts.contains(&format!("before {i}").as_str()),
            "before {i} in {texts:?}"
        );
    }
    let r = admin
        .get(back.url(&format!("/api/messages/{file_id}/media")))
        .send()
        .await
        .expect("download");
    assert_eq!(r.status(), 200, "the file came back");
    assert_eq!(r.bytes().await.expect("bytes").as_ref(), price_list);
    // The session reconnects from its restored device store, and the restored webhook secret
    // still signs (its key came with the archive).
    back.wait_status(&admin, &session, "connected").await;
    let receiver = Receiver::start().await;
    let (s, _) = call(
        admin
            .put(back.url(&format!("/api/sessions/{session}/webhook")))
            .json(&json!({"url": receiver.url})),
    )
    .await;
    assert_eq!(s, 200);
    back.incoming(&admin, &session, "628222000053", "after")
        .await;
    let hit = receiver.wait_event("message.in").await;
    let expected = {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"whsec-backup").expect("key");
        mac.update(hit.body.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    };
    assert_eq!(hit.header("x-signature"), expected);
}
