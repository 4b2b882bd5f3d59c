//! `/send-media` and `GET /api/messages/{id}/media` (contract §11) on the simulator: the three
//! ways a file comes in, what it is taken for, the limits, where it ends up, and who may read it.

use super::*;
use base64::Engine as _;
use reqwest::multipart::{Form, Part};

/// A 1×1 PNG (one white, opaque RGBA pixel; valid chunks and CRCs, so a decoder reads it).
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\x0bIDATx\xdac\xf8\x0f\x04\0\x09\xfb\x03\xfdh\xfa\x1c\xcc\0\0\0\0IEND\xaeB`\x82";
pub const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Files under the data dir's media store (not the temporary ones being written).
fn stored_files(app: &TestApp) -> Vec<String> {
    let dir = app.dir.path().join("media");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

async fn download(client: &reqwest::Client, url: String) -> reqwest::Response {
    client.get(url).send().await.expect("download")
}

#[tokio::test]
async fn an_uploaded_photo_is_sent_kept_and_downloadable_by_its_owner() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let (budi, _) = app.register("budi").await;
    let session = app.connected_session(&budi, "628100000201").await;
    let receiver = Receiver::start().await;
    app.set_webhook(&budi, &session, &receiver.url, "s3cret")
        .await;

    // Multipart, as a browser or `curl -F` sends it; the kind comes from the bytes.
    let form = Form::new()
        .text("to", "6281234567890")
        .text("caption", "Kopi Gayo 250 g")
        .part(
            "file",
            Part::bytes(PNG.to_vec())
                .file_name("kopi.png")
                .mime_str("image/png")
                .expect("mime"),
        );
    let (s, b) = call(budi.post(app.url("/send-media")).multipart(form)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["success"], true);
    assert_eq!(b["type"], "image");
    assert_eq!(b["to"], "6281234567890");
    let id = b["messageId"].as_str().expect("id").to_string();
    let media = json!({"mimetype": "image/png", "size": PNG.len(), "filename": "kopi.png",
                       "sha256": sha256_hex(PNG), "url": format!("/api/messages/{id}/media")});

    // The simulated phone got an image with the caption.
    let sent = app.sent(&budi, &session).await;
    assert_eq!(sent[0]["type"], "image");
    assert_eq!(sent[0]["message"], "Kopi Gayo 250 g");
    assert_eq!(sent[0]["media"], media);

    // The log and the webhook describe the file the same way.
    let (s, log) = call(budi.get(app.url("/api/messages?direction=out"))).await;
    assert_eq!(s, 200);
    assert_eq!(log[0]["type"], "image");
    assert_eq!(log[0]["message"], "Kopi Gayo 250 g");
    assert_eq!(log[0]["media"], media);
    let hit = receiver.wait_event("message.out").await;
    assert_eq!(hit.json()["data"]["media"], media);
    assert_eq!(hit.json()["data"]["type"], "image");

    // Its owner downloads the same bytes, shown inline; an admin may too.
    for client in [&budi, &admin] {
        let r = download(client, app.url(&format!("/api/messages/{id}/media"))).await;
        assert_eq!(r.status(), 200);
        let h = r.headers().clone();
        assert_eq!(h["content-type"], "image/png");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(
            h["content-disposition"]
                .to_str()
                .expect("ascii")
                .starts_with("inline; filename=\"kopi.png\"")
        );
        assert_eq!(r.bytes().await.expect("bytes").as_ref(), PNG);
    }
    // Nobody else learns that it exists.
    let (other, _) = app.register("siti").await;
    let (s, b) = call(other.get(app.url(&format!("/api/messages/{id}/media")))).await;
    assert_error(s, &b, 404, "MESSAGE_NOT_FOUND");
    let (s, b) = call(budi.get(app.url("/api/messages/3EB0NOSUCH/media"))).await;
    assert_error(s, &b, 404, "MESSAGE_NOT_FOUND");
    let (s, _) =
        call(reqwest::Client::new().get(app.url(&format!("/api/messages/{id}/media")))).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn base64_documents_keep_their_name_and_download_as_attachments() {
    let app = TestApp::start().await;
    let (budi, _) = app.register("budi").await;
    app.connected_session(&budi, "628100000202").await;

    // The name says .jpg and the declared type says JPEG: the bytes are a PDF, and win.
    let (s, b) = call(budi.post(app.url("/send-media")).json(&json!({
        "to": "6281234567890", "base64": b64(PDF), "filename": "../INV 7 — Mei.jpg",
        "mimetype": "image/jpeg", "caption": "Invoice bulan ini"
    })))
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["type"], "document");
    let id = b["messageId"].as_str().expect("id");
    let r = download(&budi, app.url(&format!("/api/messages/{id}/media"))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"INV 7 _ Mei.jpg\""),
        "{disposition}"
    );
    assert!(
        disposition.contains("filename*=UTF-8''INV%207%20%E2%80%94%20Mei.jpg"),
        "{disposition}"
    );
    assert_eq!(r.bytes().await.expect("bytes").as_ref(), PDF);

    // A data URL works too, and the same file twice is stored once.
    let (s, b) = call(budi.post(app.url("/send-media")).json(&json!({
        "to": "6281234567890", "base64": format!("data:application/pdf;base64,{}", b64(PDF))
    })))
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(stored_files(&app), vec![sha256_hex(PDF)]);
}

#[tokio::test]
async fn a_url_is_fetched_through_the_guard_and_its_failures_are_told_apart() {
    use axum::{http::StatusCode, routing::get};
    let files = axum::Router::new()
        .route(
            "/kopi.png",
            get(|| async { ([("content-type", "image/png")], PNG) }),
        )
        .route(
            "/moved",
            get(|| async { (StatusCode::FOUND, [("location", "/kopi.png")]) }),
        )
        .route("/gone", get(|| async { StatusCode::NOT_FOUND }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let host = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, files).await });

    // Private addresses are refused unless allowed, as for webhooks.
    let guarded = TestApp::start_with(|c| c.allow_private_webhooks = false).await;
    let (budi, _) = guarded.register("budi").await;
    guarded.connected_session(&budi, "628100000203").await;
    let (s, b) = call(budi.post(guarded.url("/send-media")).json(&json!({
        "to": "6281234567890", "url": format!("{host}/kopi.png")
    })))
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    assert!(
        b["message"].as_str().expect("message").contains("loopback"),
        "{b}"
    );

    let app = TestApp::start().await;
    let (budi, _) = app.register("budi").await;
    let session = app.connected_session(&budi, "628100000204").await;
    let (s, b) = call(budi.post(app.url("/send-media")).json(&json!({
        "to": "6281234567890", "url": format!("{host}/moved")
    })))
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["type"], "image");
    let sent = app.sent(&budi, &session).await;
    assert_eq!(
        sent[0]["media"]["filename"], "kopi.png",
        "named after the final address"
    );
    assert_eq!(sent[0]["media"]["sha256"], sha256_hex(PNG));

    let (s, b) = call(budi.post(app.url("/send-media")).json(&json!({
        "to": "6281234567890", "url": format!("{host}/gone")
    })))
    .await;
    assert_error(s, &b, 502, "MEDIA_FETCH_FAILED");
    assert!(
        b["message"].as_str().expect("message").contains("404"),
        "{b}"
    );
    let (s, b) = call(budi.post(app.url("/send-media")).json(&json!({
        "to": "6281234567890", "url": "http://127.0.0.1:9/nothing-listens.png"
    })))
    .await;
    assert_error(s, &b, 502, "MEDIA_FETCH_FAILED");
    let (s, b) = call(budi.post(app.url("/send-media")).json(&json!({
        "to": "6281234567890", "url": "ftp://files.example.com/a.png"
    })))
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    assert_eq!(
        app.sent(&budi, &session).await.len(),
        1,
        "nothing more was sent"
    );
}

/// Half a second of a 400-Hz tone as a 16-bit mono WAV at 8 kHz.
pub fn wav_tone() -> Vec<u8> {
    let samples: Vec<i16> = (0..4_000)
        .map(|i| ((i as f32 * 400.0 * std::f32::consts::TAU / 8_000.0).sin() * 20_000.0) as i16)
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut f = b"RIFF".to_vec();
    f.extend((36 + data_len).to_le_bytes());
    f.extend(b"WAVEfmt \x10\0\0\0\x01\0\x01\0");
    f.extend(8_000u32.to_le_bytes());
    f.extend(16_000u32.to_le_bytes());
    f.extend(b"\x02\0\x10\0data");
    f.extend(data_len.to_le_bytes());
    f.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
    f
}

#[tokio::test]
async fn audio_sent_as_a_voice_note_becomes_opus_and_what_cannot_is_refused() {
    let app = TestApp::start().await;
    let (budi, _) = app.register("budi").await;
    let session = app.connected_session(&budi, "628100000207").await;
    let wav = wav_tone();
    let form = Form::new()
        .text("to", "6281234567890")
        .text("type", "voice")
        .part("file", Part::bytes(wav.clone()).file_name("pesan.wav"));
    let (s, b) = call(budi.post(app.url("/send-media")).multipart(form)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["type"], "voice", "{b}");
    let id = b["messageId"].as_str().expect("id");
    let sent = app.sent(&budi, &session).await;
    assert_eq!(
        sent[0]["media"]["mimetype"], "audio/ogg; codecs=opus",
        "{sent:?}"
    );
    let r = download(&budi, app.url(&format!("/api/messages/{id}/media"))).await;
    assert_eq!(r.status(), 200);
    let note = r.bytes().await.expect("bytes");
    assert!(note.starts_with(b"OggS"), "an Ogg file");
    assert!(note.windows(8).any(|w| w == b"OpusHead"), "of Opus");
    // Only the voice note is kept, not the WAV it was made from.
    assert_eq!(stored_files(&app), vec![sha256_hex(&note)]);

    // Audio Kabar cannot decode (AMR), and a "song" that is only an MP3 tag: refused, nothing
    // kept, nothing sent.
    for (what, bytes) in [
        ("AMR", b"#!AMR\n\x3c\x55\x00\x88".to_vec()),
        ("an empty MP3", b"ID3\x04\0\0\0\0\0\0".to_vec()),
    ] {
        let (s, b) = call(budi.post(app.url("/send-media")).json(&json!({
            "to": "6281234567890", "type": "voice", "base64": b64(&bytes)
        })))
        .await;
        assert_error(s, &b, 400, "UNSUPPORTED_MEDIA");
        assert!(
            b["message"].as_str().unwrap_or("").contains("type voice"),
            "{what}: {b}"
        );
    }
    assert_eq!(app.sent(&budi, &session).await.len(), 1);
    assert_eq!(stored_files(&app).len(), 1);
}

#[tokio::test]
async fn bad_files_are_refused_and_leave_nothing_behind() {
    let app = TestApp::start_with(|c| c.max_media_bytes = 64 * 1024).await;
    let (budi, _) = app.register("budi").await;
    let session = app.connected_session(&budi, "628100000205").await;
    let send = |body: Value| call(budi.post(app.url("/send-media")).json(&body));

    // A PDF is not an image; text is not a recognisable image whatever it claims.
    let (s, b) = send(json!({"to": "6281234567890", "type": "image", "base64": b64(PDF)})).await;
    assert_error(s, &b, 400, "UNSUPPORTED_MEDIA");
    let (s, b) = send(
        json!({"to": "6281234567890", "type": "image", "mimetype": "image/png",
                             "base64": b64(b"not a picture")}),
    )
    .await;
    assert_error(s, &b, 400, "UNSUPPORTED_MEDIA");
    let (s, b) = send(json!({"to": "6281234567890", "type": "gif", "base64": b64(PNG)})).await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    // Exactly one source; valid base64; not empty; captions only where WhatsApp shows them.
    for body in [
        json!({"to": "6281234567890"}),
        json!({"to": "6281234567890", "base64": b64(PNG), "url": "https://example.com/a.png"}),
        json!({"to": "6281234567890", "base64": "%%%not base64"}),
        json!({"to": "6281234567890", "base64": ""}),
        json!({"to": "6281234567890", "type": "sticker", "base64": b64(PNG)}),
        json!({"to": "6281234567890", "base64": b64(PDF), "viewOnce": true}),
    ] {
        let (s, b) = send(body.clone()).await;
        assert_eq!(s, 400, "{body}: {b}");
    }
    // Over --max-media-bytes: as base64 in JSON and as an upload.
    let big = vec![0u8; 64 * 1024 + 1];
    let (s, b) =
        send(json!({"to": "6281234567890", "type": "document", "base64": b64(&big)})).await;
    assert_error(s, &b, 413, "MEDIA_TOO_LARGE");
    let form = Form::new()
        .text("to", "6281234567890")
        .part("file", Part::bytes(big).file_name("big.bin"));
    let (s, b) = call(budi.post(app.url("/send-media")).multipart(form)).await;
    assert_error(s, &b, 413, "MEDIA_TOO_LARGE");
    // A rule answering with such a file says the same, made or changed, and nothing is stored:
    // just over the file limit, and a body just over what the route reads at all (64 KiB as
    // base64 plus 1 MiB: a few bytes over, so the refusal does not leave much unread).
    let (s, text_rule) = call(
        budi.post(app.url("/api/auto-reply/rules"))
            .json(&json!({"keyword": "halo", "match": "word", "reply": "Halo juga"})),
    )
    .await;
    assert_eq!(s, 200, "{text_rule}");
    let rule_url = app.url(&format!(
        "/api/auto-reply/rules/{}",
        text_rule["id"].as_str().expect("rule id")
    ));
    for size in [64 * 1024 + 1, 852_000] {
        let rule = json!({"keyword": "katalog", "match": "word", "reply": "Katalog",
                          "media": {"base64": b64(&vec![0u8; size]), "filename": "k.pdf"}});
        let (s, b) = call(budi.post(app.url("/api/auto-reply/rules")).json(&rule)).await;
        assert_error(s, &b, 413, "MEDIA_TOO_LARGE");
        let (s, b) = call(budi.put(&rule_url).json(&rule)).await;
        assert_error(s, &b, 413, "MEDIA_TOO_LARGE");
    }
    let (s, rules) = call(budi.get(app.url("/api/auto-reply/rules"))).await;
    assert_eq!((s, rules), (200, json!([text_rule])));
    // A bad number or a stopped session: nothing is fetched or kept.
    let (s, b) = send(json!({"to": "not a number", "base64": b64(PNG)})).await;
    assert_error(s, &b, 400, "INVALID_PHONE");
    let form = Form::new()
        .text("to", "0812")
        .part("file", Part::bytes(PNG.to_vec()).file_name("kopi.png"));
    let (s, b) = call(budi.post(app.url("/send-media")).multipart(form)).await;
    assert_error(s, &b, 400, "INVALID_PHONE");

    assert!(
        app.sent(&budi, &session).await.is_empty(),
        "nothing was sent"
    );
    let (_, log) = call(budi.get(app.url("/api/messages"))).await;
    assert_eq!(
        log.as_array().expect("list").len(),
        0,
        "nothing was recorded: {log}"
    );
    assert_eq!(
        stored_files(&app),
        Vec::<String>::new(),
        "no file was left behind"
    );
}

#[tokio::test]
async fn an_upload_retried_with_its_idempotency_key_is_sent_once() {
    let app = TestApp::start().await;
    let (budi, _) = app.register("budi").await;
    let session = app.connected_session(&budi, "628100000206").await;
    let upload = || {
        Form::new()
            .text("to", "6281234567890")
            .text("type", "document")
            .part("file", Part::bytes(PDF.to_vec()).file_name("INV-7.pdf"))
    };
    let mut ids = Vec::new();
    for _ in 0..2 {
        // reqwest draws a new boundary for every form, as any client's retry would.
        let r = budi
            .post(app.url("/send-media"))
            .header("Idempotency-Key", "upload-inv-7")
            .multipart(upload())
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 200);
        ids.push(r.json::<Value>().await.expect("json")["messageId"].clone());
    }
    assert_eq!(ids[0], ids[1]);
    assert_eq!(app.sent(&budi, &session).await.len(), 1);
}

#[tokio::test]
async fn a_contact_s_photo_reaches_the_webhook_and_the_owner_can_download_it() {
    let app = TestApp::start().await;
    let (budi, _) = app.register("budi").await;
    let session = app.connected_session(&budi, "628100000207").await;
    let receiver = Receiver::start().await;
    app.set_webhook(&budi, &session, &receiver.url, "s3cret")
        .await;

    let (s, b) = call(
        budi.post(app.url(&format!("/simulator/sessions/{session}/incoming")))
            .json(
                &json!({"from": "6281234567890", "message": "Bukti transfer", "pushName": "Siti",
                          "media": {"base64": b64(PNG)}}),
            ),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let id = b["messageId"].as_str().expect("id").to_string();
    let media = json!({"mimetype": "image/png", "size": PNG.len(), "sha256": sha256_hex(PNG),
                       "url": format!("/api/messages/{id}/media")});
    let hit = receiver.wait_event("message.in").await;
    let data = &hit.json()["data"];
    assert_eq!(data["type"], "image");
    assert_eq!(data["message"], "Bukti transfer");
    assert_eq!(data["media"], media);
    let (_, log) = call(budi.get(app.url("/api/messages?direction=in"))).await;
    assert_eq!(log[0]["media"], media);
    let r = download(&budi, app.url(&format!("/api/messages/{id}/media"))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.expect("bytes").as_ref(), PNG);

    // A document keeps its name; a text without text or file is refused.
    let (s, b) = call(
        budi.post(app.url(&format!("/simulator/sessions/{session}/incoming")))
            .json(&json!({"from": "6281234567890",
                          "media": {"base64": b64(PDF), "filename": "PO-118.pdf"}})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let hit = receiver
        .wait_until("the document", |h| {
            h.iter().any(|h| h.json()["data"]["type"] == "document")
        })
        .await;
    let doc = hit
        .iter()
        .find(|h| h.json()["data"]["type"] == "document")
        .expect("document")
        .json();
    assert_eq!(doc["data"]["media"]["filename"], "PO-118.pdf");
    assert_eq!(doc["data"]["media"]["mimetype"], "application/pdf");
    let (s, b) = call(
        budi.post(app.url(&format!("/simulator/sessions/{session}/incoming")))
            .json(&json!({"from": "6281234567890"})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
}

/// An S3-compatible bucket on loopback, as much of one as Kabar uses (path-style PUT, HEAD,
/// GET, DELETE); signatures are not checked. While `failing`, it answers 503 to everything.
#[derive(Clone, Default)]
struct FakeBucket {
    objects: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>>,
    puts: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    failing: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl FakeBucket {
    async fn start(&self) -> String {
        use axum::{
            body::Bytes,
            extract::{Path, State},
            http::{HeaderMap, Method, StatusCode},
            response::IntoResponse,
        };
        use std::sync::atomic::Ordering::SeqCst;
        async fn object(
            State(b): State<FakeBucket>,
            method: Method,
            Path(key): Path<String>,
            body: Bytes,
        ) -> axum::response::Response {
            b.requests.fetch_add(1, SeqCst);
            if b.failing.load(SeqCst) {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            let mut objects = b.objects.lock().expect("lock");
            let meta = |len: usize| {
                let mut h = HeaderMap::new();
                h.insert("content-length", len.into());
                h.insert("etag", "\"fake\"".parse().expect("etag"));
                h.insert(
                    "last-modified",
                    httpdate::fmt_http_date(std::time::SystemTime::now())
                        .parse()
                        .expect("date"),
                );
                h
            };
            match method {
                Method::PUT => {
                    b.puts.fetch_add(1, SeqCst);
                    objects.insert(key, body.to_vec());
                    (StatusCode::OK, meta(0)).into_response()
                }
                Method::HEAD => match objects.get(&key) {
                    Some(o) => (StatusCode::OK, meta(o.len())).into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                },
                Method::GET => match objects.get(&key) {
                    Some(o) => (StatusCode::OK, meta(o.len()), o.clone()).into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                },
                Method::DELETE => {
                    objects.remove(&key);
                    StatusCode::NO_CONTENT.into_response()
                }
                _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
            }
        }
        let app = axum::Router::new()
            .route("/kabar/{*key}", axum::routing::any(object))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn object(&self, key: &str) -> Option<Vec<u8>> {
        self.objects.lock().expect("lock").get(key).cloned()
    }

    fn count(n: &std::sync::atomic::AtomicUsize) -> usize {
        n.load(std::sync::atomic::Ordering::SeqCst)
    }
}

async fn until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !ok() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn with_a_bucket_files_move_there_once_it_takes_them_and_are_served_from_it() {
    use std::sync::atomic::Ordering::SeqCst;
    let bucket = FakeBucket::default();
    bucket.failing.store(true, SeqCst);
    let endpoint = bucket.start().await;
    let app = TestApp::start_with(move |c| {
        c.media_s3_bucket = Some("kabar".into());
        c.media_s3_endpoint = Some(endpoint.clone());
        c.media_s3_access_key_id = Some("test".into());
        c.media_s3_secret_access_key = Some("test-secret".into());
        c.media_s3_keep_local_secs = 0;
    })
    .await;
    let (budi, _) = app.register("budi").await;
    app.connected_session(&budi, "628100000209").await;
    let send = || async {
        let (s, b) = call(budi.post(app.url("/send-media")).json(&json!({
            "to": "6281234567890", "base64": b64(PDF), "filename": "invoice.pdf"
        })))
        .await;
        assert_eq!(s, 200, "{b}");
        b["messageId"].as_str().expect("id").to_string()
    };
    let id = send().await;
    let name = sha256_hex(PDF);
    let key = format!("media/{name}");

    // The bucket is down: the file is tried, and stays on disk, and is still served.
    let tried = bucket.requests.load(SeqCst);
    until("an offload attempt", || {
        bucket.requests.load(SeqCst) > tried + 1
    })
    .await;
    assert_eq!(stored_files(&app), vec![name.clone()]);
    let r = download(&budi, app.url(&format!("/api/messages/{id}/media"))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.expect("bytes").as_ref(), PDF);

    // It recovers: the file moves, whole, and is served from the bucket.
    bucket.failing.store(false, SeqCst);
    until("the file leaves the disk", || stored_files(&app).is_empty()).await;
    assert_eq!(bucket.object(&key).as_deref(), Some(PDF));
    let r = download(&budi, app.url(&format!("/api/messages/{id}/media"))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().await.expect("bytes").as_ref(), PDF);

    // The same file sent again lands on disk for its send, then goes without a second upload.
    send().await;
    until("the second copy leaves the disk", || {
        stored_files(&app).is_empty()
    })
    .await;
    assert_eq!(FakeBucket::count(&bucket.puts), 1);

    // An auto-reply rule's file goes to the bucket too (without a second upload), and comes
    // back to the disk for each answer (the simulator, as the real engine, sends only a file
    // that is on disk, whole).
    let (s, b) = call(budi.post(app.url("/api/auto-reply/rules")).json(&json!({
        "keyword": "faktur", "match": "exact", "reply": "Faktur Anda",
        "media": {"base64": b64(PDF), "filename": "invoice.pdf"}
    })))
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(
        budi.put(app.url("/api/auto-reply"))
            .json(&json!({"enabled": true})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    until("the rule's copy leaves the disk", || {
        stored_files(&app).is_empty()
    })
    .await;
    let session = app.connected_session(&budi, "628100000210").await;
    app.incoming(&budi, &session, "6282222000210", "faktur")
        .await;
    let mut sent = Vec::new();
    for _ in 0..250 {
        sent = app.sent(&budi, &session).await;
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(sent.len(), 1, "the answer was sent: {sent:?}");
    assert_eq!(sent[0]["type"], "document", "{sent:?}");
    assert_eq!(sent[0]["media"]["sha256"], name);
    until("the answer's copy leaves the disk again", || {
        stored_files(&app).is_empty()
    })
    .await;
    assert_eq!(FakeBucket::count(&bucket.puts), 1);

    // A file the bucket lost is "no longer kept", not a server error.
    bucket.objects.lock().expect("lock").clear();
    let (s, b) = call(budi.get(app.url(&format!("/api/messages/{id}/media")))).await;
    assert_error(s, &b, 404, "MESSAGE_NOT_FOUND");
}
