//! The real engine (whatsapp-rust, the default) against a fake WhatsApp server on loopback
//! ([`super::fake_whatsapp`]): registration and the QR code, the phone's pairing, login, a
//! contact's end-to-end encrypted message, a restart that reconnects without a new scan,
//! logout, groups (sender keys both ways, a member added), two devices at once, files through
//! the fake's media host, and reactions, edits, deletes and poll votes both ways — all through
//! the real client's protocol code (Noise handshakes, binary stanzas, ADV signatures, media
//! encryption), with no internet.

use super::fake_whatsapp::{FakeWhatsApp, REF, attr, child};
use super::*;
use base64::Engine;
use whatsapp_rust::{
    buffa::MessageField,
    waproto::whatsapp::{self as wa, message as wm},
};

async fn real_engine(fake: &FakeWhatsApp) -> TestApp {
    real_engine_on(fake, None).await
}

/// The real engine, with its device stores in PostgreSQL at `store` when given.
async fn real_engine_on(fake: &FakeWhatsApp, store: Option<String>) -> TestApp {
    // RUST_LOG=whatsapp_rust=debug shows the client's side when a test fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let (url, media_url) = (fake.url.clone(), fake.media_url.clone());
    TestApp::start_with(move |c| {
        c.engine = server::config::EngineKind::Whatsapp;
        c.whatsapp_url = Some(url.clone());
        c.whatsapp_media_url = Some(media_url.clone());
        // Pinned, so the client does not ask web.whatsapp.com for the current version.
        c.whatsapp_version = Some("2.3000.1042742319".into());
        c.whatsapp_store_url = store.clone();
    })
    .await
}

/// A server on the real engine with an admin and a session that shows its first QR code.
async fn waiting_for_a_scan(fake: &FakeWhatsApp) -> (TestApp, reqwest::Client, String) {
    waiting_for_a_scan_on(fake, None).await
}

/// [`waiting_for_a_scan`], with the device stores in PostgreSQL at `store` when given.
async fn waiting_for_a_scan_on(
    fake: &FakeWhatsApp,
    store: Option<String>,
) -> (TestApp, reqwest::Client, String) {
    let app = real_engine_on(fake, store).await;
    let (admin, _) = app.register("admin").await;
    let id = app.create_session(&admin, "Toko").await;
    wait_session(&app, &admin, &id, "a QR code", |b| {
        b["status"] == "qr_ready"
    })
    .await;
    (app, admin, id)
}

/// Waits (up to 30 s) until session `id` shows a QR code; answers `GET /status` for it.
async fn wait_for_qr(app: &TestApp, client: &reqwest::Client, id: &str) -> (u16, Value) {
    for _ in 0..600 {
        let (s, b) = call(client.get(app.url(&format!("/status?session={id}")))).await;
        if b["qr"].is_string() {
            return (s, b);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("session {id} never showed a QR code");
}

/// Polls the session (up to 30 s) until `pred` holds; answers its view.
async fn wait_session(
    app: &TestApp,
    client: &reqwest::Client,
    id: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = Value::Null;
    for _ in 0..600 {
        let (_, b) = call(client.get(app.url(&format!("/api/sessions/{id}")))).await;
        if pred(&b) {
            return b;
        }
        last = b;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("session {id} never showed {what}: {last}");
}

/// Polls the message log until the message `id` has `status`.
async fn wait_message(app: &TestApp, client: &reqwest::Client, id: &str, status: &str) {
    let mut last = Value::Null;
    for _ in 0..200 {
        let (_, b) = call(client.get(app.url("/api/messages"))).await;
        if let Some(m) = b.as_array().and_then(|l| l.iter().find(|m| m["id"] == id)) {
            if m["status"] == status {
                return;
            }
            last = m.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("message {id} never became {status}: {last}");
}

fn text(body: &str) -> wa::Message {
    wa::Message {
        conversation: Some(body.into()),
        ..Default::default()
    }
}

/// What WhatsApp sends when a contact taps a quick-reply button of message `menu`.
fn tap(menu: &str, id: &str, label: &str) -> wa::Message {
    use wm::interactive_response_message as irm;
    wa::Message {
        interactive_response_message: MessageField::some(wm::InteractiveResponseMessage {
            body: MessageField::some(irm::Body {
                text: Some(label.into()),
                ..Default::default()
            }),
            context_info: MessageField::some(wa::ContextInfo {
                stanza_id: Some(menu.into()),
                participant: Some("6281234567890@s.whatsapp.net".into()),
                ..Default::default()
            }),
            interactive_response_message: Some(
                irm::InteractiveResponseMessage::NativeFlowResponseMessage(Box::new(
                    irm::NativeFlowResponseMessage {
                        name: Some("quick_reply".into()),
                        params_json: Some(format!(r#"{{"id":"{id}"}}"#)),
                        version: Some(1),
                    },
                )),
            ),
        }),
        ..Default::default()
    }
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

#[tokio::test]
async fn pairs_by_qr_logs_in_reconnects_and_logs_out_through_the_real_client() {
    pairs_logs_in_reconnects_and_logs_out(None).await;
}

/// The same, with the device stores in PostgreSQL (`--whatsapp-store-url`): the keys the
/// restart reconnects with come from there.
#[tokio::test]
async fn pairs_logs_in_reconnects_and_logs_out_with_the_device_store_in_postgresql() {
    if let Some(url) = server::db::test_postgres_database("protocol").await {
        pairs_logs_in_reconnects_and_logs_out(Some(url)).await;
    }
}

async fn pairs_logs_in_reconnects_and_logs_out(store: Option<String>) {
    let on_postgres = store.clone();
    // 1. A new device registers (Noise XX); WhatsApp's pair-device refs become our QR code.
    let fake = FakeWhatsApp::start().await;
    let (app, admin, id) = waiting_for_a_scan_on(&fake, store).await;
    let (s, status) = call(admin.get(app.url("/status"))).await;
    assert_eq!(
        (s, &status["status"]),
        (200, &json!("qr_ready")),
        "{status}"
    );
    let qr = decode_qr(status["qr"].as_str().expect("qr"));
    let fields: Vec<&str> = qr.split(',').collect();
    let seen = fake.seen();
    let first = &seen.handshakes[0];
    assert_eq!(first.pattern, "XX");
    let registration = first
        .payload
        .device_pairing_data
        .as_option()
        .expect("a new device sends its registration");
    assert_eq!(fields[0], REF, "the QR carries WhatsApp's first ref: {qr}");
    assert_eq!(
        b64(fields[1]),
        first.client_static,
        "the QR's Noise key is the one the client proved in the handshake"
    );
    assert_eq!(
        Some(b64(fields[2])),
        registration.e_ident,
        "the QR's identity key is the one the client registered"
    );
    assert_eq!(b64(fields[3]).len(), 32, "an ADV secret");
    fake.wait_for("the client's acknowledgement of pair-device", |s| {
        s.stanzas.iter().any(|n| {
            n.tag == "iq"
                && attr(n, "id").as_deref() == Some("pair-device-1")
                && attr(n, "type").as_deref() == Some("result")
        })
    })
    .await;

    // 2. The phone scans it: pair-success; the client checks the phone's signature and the
    //    HMAC with the QR's secret, signs the identity itself; WhatsApp restarts the stream
    //    and the client logs in as the new device.
    fake.scan(
        &qr,
        "6281234567890:7@s.whatsapp.net",
        "1234567890123:7@lid",
        "Toko Kabar",
    )
    .await;
    fake.wait_for("the client's pair-device-sign", |s| {
        s.stanzas
            .iter()
            .any(|n| child(n, "pair-device-sign").is_some())
    })
    .await;
    assert!(
        fake.device_signature_verifies(&qr),
        "the device signature verifies with the QR's identity key"
    );
    let seen = fake.wait_for("a login", |s| s.handshakes.len() >= 2).await;
    let login = &seen.handshakes[1];
    assert_eq!(
        (login.payload.username, login.payload.device),
        (Some(6281234567890), Some(7))
    );
    assert!(login.payload.device_pairing_data.is_unset());
    assert_eq!(login.client_static, first.client_static);
    let view = wait_session(&app, &admin, &id, "connected", |b| {
        b["status"] == "connected"
    })
    .await;
    assert_eq!(
        (&view["phoneNumber"], &view["pushName"]),
        (&json!("6281234567890"), &json!("Toko Kabar")),
        "{view}"
    );
    let (_, status) = call(admin.get(app.url("/status"))).await;
    assert_eq!(
        status,
        json!({"isConnected": true, "status": "connected", "phoneNumber": "6281234567890", "pushName": "Toko Kabar"})
    );

    // 3. A contact writes. Their phone opens a Signal session with the prekeys the device
    //    uploaded at login and sends an encrypted text; the client decrypts it and it arrives
    //    as `message.in`, exactly as from the simulator.
    let rx = Receiver::start().await;
    app.set_webhook(&admin, &id, &rx.url, "s3cret").await;
    fake.message_from(
        "6289876543210",
        "3EB0C0FFEE000001",
        "Budi",
        text("Halo, masih buka?"),
    )
    .await;
    let hit = rx.wait_event("message.in").await;
    assert_eq!(
        hit.json()["data"],
        json!({"sessionId": id, "messageId": "3EB0C0FFEE000001", "from": "6289876543210",
               "chat": "6289876543210", "isGroup": false, "pushName": "Budi", "type": "text", "message": "Halo, masih buka?",
               "timestamp": hit.json()["data"]["timestamp"]})
    );
    fake.wait_for("the client's delivery receipt", |s| {
        s.stanzas
            .iter()
            .any(|n| n.tag == "receipt" && attr(n, "id").as_deref() == Some("3EB0C0FFEE000001"))
    })
    .await;

    // 4. The shop answers through the API: the client asks WhatsApp whether the number has
    //    WhatsApp and which devices it has, fetches their prekeys, and sends the text
    //    end-to-end encrypted, quoting the question; the contact's phone decrypts it.
    let (s, b) = call(admin.post(app.url("/send-message")).json(&json!({
        "to": "6289876543210", "message": "Masih, kak!", "reply_to_id": "3EB0C0FFEE000001"
    })))
    .await;
    assert_eq!(s, 200, "{b}");
    let seen = fake
        .wait_for("the message at the contact's phone", |s| {
            !s.delivered.is_empty()
        })
        .await;
    let (to, message) = &seen.delivered[0];
    assert_eq!(to, "6289876543210");
    let text = message
        .extended_text_message
        .as_option()
        .expect("a reply is an extended text");
    assert_eq!(text.text.as_deref(), Some("Masih, kak!"));
    let quoted = text.context_info.as_option().expect("context");
    assert_eq!(quoted.stanza_id.as_deref(), Some("3EB0C0FFEE000001"));
    assert_eq!(
        quoted.participant.as_deref(),
        Some("6289876543210@s.whatsapp.net")
    );
    // The phone reports it delivered, then read: the message record follows.
    let sent_id = b["messageId"].as_str().expect("id").to_string();
    fake.receipt("6289876543210", &sent_id, None).await;
    wait_message(&app, &admin, &sent_id, "delivered").await;
    fake.receipt("6289876543210", &sent_id, Some("read")).await;
    wait_message(&app, &admin, &sent_id, "read").await;

    // Three buttons: an InteractiveMessage with quick-reply native-flow buttons reaches the
    // phone; the contact taps one, and the tap arrives as interaction.button.
    let (s, b) = call(admin.post(app.url("/send-interactive")).json(&json!({
        "to": "6289876543210", "type": "button", "text": "Lanjut pesan?",
        "buttons": [{"id": "yes", "text": "Ya"}, {"id": "no", "text": "Tidak"}, {"id": "later", "text": "Nanti"}]
    })))
    .await;
    assert_eq!(s, 200, "{b}");
    let menu_id = b["messageId"].as_str().expect("id").to_string();
    let seen = fake
        .wait_for("the menu at the contact's phone", |s| {
            s.delivered.len() >= 2
        })
        .await;
    let flow = seen.delivered[1]
        .1
        .interactive_message
        .as_option()
        .and_then(|m| match &m.interactive_message {
            Some(wm::interactive_message::InteractiveMessage::NativeFlowMessage(f)) => Some(f),
            _ => None,
        })
        .expect("a native-flow interactive message");
    let names: Vec<_> = flow.buttons.iter().map(|b| b.name.as_deref()).collect();
    assert_eq!(names, [Some("quick_reply"); 3]);
    fake.message_from(
        "6289876543210",
        "3EB0C0FFEE000002",
        "Budi",
        tap(&menu_id, "later", "Nanti"),
    )
    .await;
    let hit = rx.wait_event("interaction.button").await;
    assert_eq!(
        (
            &hit.json()["data"]["messageId"],
            &hit.json()["data"]["buttonId"],
            &hit.json()["data"]["buttonText"]
        ),
        (&json!(menu_id), &json!("later"), &json!("Nanti"))
    );

    // The owner answers on the phone itself: the copy WhatsApp gives the linked device is
    //    reported as message.out with source "device".
    fake.typed_on_phone(
        "6281234567890",
        "6289876543210",
        "3EB0C0FFEE000003",
        "Siap dikirim besok",
    )
    .await;
    let typed = |h: &Hit| h.json()["data"]["messageId"] == "3EB0C0FFEE000003";
    let hit = rx
        .wait_until("the phone's message.out", |h| h.iter().any(typed))
        .await
        .into_iter()
        .find(typed)
        .expect("hit");
    assert_eq!(
        (
            &hit.json()["data"]["to"],
            &hit.json()["data"]["message"],
            &hit.json()["data"]["source"]
        ),
        (
            &json!("6289876543210"),
            &json!("Siap dikirim besok"),
            &json!("device")
        )
    );

    // A number WhatsApp does not know is refused before anything is sent.
    let (s, b) = call(
        admin
            .post(app.url("/send-message"))
            .json(&json!({"to": "6200011112222", "message": "Halo?"})),
    )
    .await;
    assert_error(s, &b, 404, "CONTACT_NOT_FOUND");
    assert_eq!(fake.seen().delivered.len(), 2);

    // Writing first to someone: the client fetches the contact's prekeys and opens the
    // session itself (pkmsg).
    let (s, b) = call(
        admin
            .post(app.url("/send-message"))
            .json(&json!({"to": "6281111222333", "message": "Promo minggu ini"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let seen = fake
        .wait_for("the first message to a new contact", |s| {
            s.delivered.len() >= 3
        })
        .await;
    assert_eq!(seen.delivered[2].0, "6281111222333");
    assert_eq!(
        seen.delivered[2].1.conversation.as_deref(),
        Some("Promo minggu ini")
    );
    assert_eq!(seen.enc_types, ["msg", "msg", "pkmsg"]);
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);

    // 5. A restart reconnects without a scan: the device store kept the keys, and the client
    //    now knows the server's key (Noise IK).
    let before = fake.seen().handshakes.len();
    let app = app.restart().await;
    wait_session(&app, &admin, &id, "connected again", |b| {
        b["status"] == "connected"
    })
    .await;
    let seen = fake.seen();
    let again = seen.handshakes.last().expect("a handshake");
    assert!(seen.handshakes.len() > before, "{:#?}", seen.handshakes);
    assert!(seen.handshakes[before..].iter().all(|h| h.pattern == "IK"));
    assert_eq!(again.payload.username, Some(6281234567890));
    assert_eq!(again.client_static, first.client_static);
    if let Some(url) = &on_postgres {
        // The keys came from PostgreSQL: no device store file was made.
        let whatsapp = app.dir.path().join("whatsapp");
        assert!(!whatsapp.join("devices.db").exists());
        let rows = device_rows(url, &id).await;
        assert!(rows > 10, "the session's keys in PostgreSQL: {rows} rows");
    }

    // 6. Logout tells WhatsApp (remove-companion-device), wipes the device store and pairs
    //    again from scratch: a new registration with new keys, a new QR code.
    let (s, b) = call(admin.post(app.url(&format!("/api/sessions/{id}/logout")))).await;
    assert_eq!(s, 200, "{b}");
    fake.wait_for("remove-companion-device", |s| {
        s.stanzas
            .iter()
            .any(|n| child(n, "remove-companion-device").is_some())
    })
    .await;
    wait_session(&app, &admin, &id, "a new QR code", |b| {
        b["status"] == "qr_ready"
    })
    .await;
    let seen = fake.seen();
    let fresh = seen.handshakes.last().expect("a handshake");
    assert!(fresh.payload.device_pairing_data.is_set());
    assert_ne!(fresh.client_static, first.client_static, "new keys");
    let (_, status) = call(admin.get(app.url("/status"))).await;
    let new_qr = decode_qr(status["qr"].as_str().expect("qr"));
    assert_ne!(new_qr, qr);
    assert_eq!(
        b64(new_qr.split(',').nth(1).expect("noise")),
        fresh.client_static
    );
}

#[tokio::test]
async fn links_by_phone_number_through_the_real_client() {
    let fake = FakeWhatsApp::start().await;
    let (app, admin, id) = waiting_for_a_scan(&fake).await;

    // The client asks WhatsApp to link the number (companion_hello, carrying its Noise key
    // and its ephemeral key wrapped with the code) and answers the code it generated.
    let (s, b) = call(
        admin
            .post(app.url(&format!("/api/sessions/{id}/pair-code")))
            .json(&json!({"phoneNumber": "+62 812-3456-7890"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let code = b["code"].as_str().expect("code");
    assert!(code.len() == 9 && code.as_bytes()[4] == b'-', "{code}");
    assert_eq!(b["phoneNumber"], "6281234567890");
    let seen = fake.seen();
    let hello = seen
        .stanzas
        .iter()
        .find_map(|n| child(n, "link_code_companion_reg"))
        .expect("companion_hello");
    assert_eq!(attr(hello, "stage").as_deref(), Some("companion_hello"));
    assert_eq!(
        attr(hello, "jid").as_deref(),
        Some("6281234567890@s.whatsapp.net")
    );
    assert_eq!(
        child(hello, "companion_server_auth_key_pub").and_then(super::fake_whatsapp::bytes),
        Some(&seen.handshakes[0].client_static[..])
    );
    let wrapped = child(hello, "link_code_pairing_wrapped_companion_ephemeral_pub")
        .and_then(super::fake_whatsapp::bytes)
        .expect("wrapped ephemeral key");
    assert_eq!(wrapped.len(), 80, "salt, IV and the encrypted key");

    // A second click within the code's life answers the same code (the client itself would
    // refuse a new one while this one is outstanding).
    let (_, again) = call(
        admin
            .post(app.url(&format!("/api/sessions/{id}/pair-code")))
            .json(&json!({"phoneNumber": "6281234567890"})),
    )
    .await;
    assert_eq!(again["code"], code);

    // Another number: the outstanding code is retired and WhatsApp is asked again.
    let (s, other) = call(
        admin
            .post(app.url(&format!("/api/sessions/{id}/pair-code")))
            .json(&json!({"phoneNumber": "6285555666777"})),
    )
    .await;
    assert_eq!(
        (s, &other["phoneNumber"]),
        (200, &json!("6285555666777")),
        "{other}"
    );
    assert_ne!(other["code"], code);
    fake.wait_for("a companion_hello for the other number", |s| {
        s.stanzas.iter().any(|n| {
            child(n, "link_code_companion_reg")
                .and_then(|c| attr(c, "jid"))
                .as_deref()
                == Some("6285555666777@s.whatsapp.net")
        })
    })
    .await;
}

/// A server on the real engine whose session is paired (as 6281234567890) and connected.
async fn paired(fake: &FakeWhatsApp) -> (TestApp, reqwest::Client, String) {
    paired_on(fake, None).await
}

/// [`paired`], with the device stores in PostgreSQL at `store` when given.
async fn paired_on(
    fake: &FakeWhatsApp,
    store: Option<String>,
) -> (TestApp, reqwest::Client, String) {
    let (app, admin, id) = waiting_for_a_scan_on(fake, store).await;
    let (_, status) = call(admin.get(app.url("/status"))).await;
    let qr = decode_qr(status["qr"].as_str().expect("qr"));
    fake.wait_for("the client's acknowledgement of pair-device", |s| {
        s.stanzas.iter().any(|n| {
            n.tag == "iq"
                && attr(n, "id").as_deref() == Some("pair-device-1")
                && attr(n, "type").as_deref() == Some("result")
        })
    })
    .await;
    fake.scan(
        &qr,
        "6281234567890:7@s.whatsapp.net",
        "1234567890123:7@lid",
        "Toko Kabar",
    )
    .await;
    wait_session(&app, &admin, &id, "connected", |b| {
        b["status"] == "connected"
    })
    .await;
    (app, admin, id)
}

/// A session paired by a version that kept each device store in a file of its own
/// (`whatsapp/<id>.db`, whatsapp-rust's bundled store) is imported into the shared store on
/// start and reconnects with the same keys, without a scan.
#[tokio::test]
async fn a_session_paired_before_the_shared_device_store_reconnects_without_a_scan() {
    use server::engine::whatsapp::devices::Devices;
    let fake = FakeWhatsApp::start().await;
    let (app, admin, id) = paired(&fake).await;
    let first = fake.seen().handshakes.last().expect("a handshake").clone();
    let before = fake.seen().handshakes.len();
    let legacy = app.dir.path().join("whatsapp").join(format!("{id}.db"));
    let sid = id.clone();
    let app = app
        .restart_with(|dir| async move {
            // The data dir as the earlier version left it: the keys in the session's own
            // file, nothing in the shared store.
            let whatsapp = dir.join("whatsapp");
            let devices = Devices::open(&whatsapp).await.expect("open");
            let file = whatsapp.join(format!("{sid}.db"));
            devices.export_legacy(&sid, &file).await.expect("export");
            devices.wipe(&sid).await.expect("wipe");
            assert!(devices.sessions().await.expect("sessions").is_empty());
        })
        .await;
    wait_session(&app, &admin, &id, "connected again", |b| {
        b["status"] == "connected"
    })
    .await;
    let seen = fake.seen();
    assert!(seen.handshakes.len() > before, "{:#?}", seen.handshakes);
    assert!(
        seen.handshakes[before..]
            .iter()
            .all(|h| !h.payload.device_pairing_data.is_set()),
        "no new pairing"
    );
    let again = seen.handshakes.last().expect("a handshake");
    assert_eq!(again.client_static, first.client_static, "the same keys");
    assert_eq!(again.payload.username, Some(6281234567890));
    assert!(!legacy.exists(), "{legacy:?} imported");
    let mut kept = legacy.into_os_string();
    kept.push(".imported");
    assert!(
        std::path::Path::new(&kept).exists(),
        "kept aside as {kept:?}"
    );
    let devices = Devices::open(&app.dir.path().join("whatsapp"))
        .await
        .expect("open");
    assert_eq!(devices.sessions().await.expect("sessions"), [id.as_str()]);
    // Deleting the session removes the kept file too: it holds the session's keys.
    let (s, b) = call(admin.delete(app.url(&format!("/api/sessions/{id}")))).await;
    assert_eq!(s, 200, "{b}");
    for _ in 0..500 {
        if !std::path::Path::new(&kept).exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        !std::path::Path::new(&kept).exists(),
        "{kept:?} removed with the session"
    );
}

#[tokio::test]
async fn a_message_whose_commit_failed_is_redelivered_and_reaches_the_webhook_once() {
    redelivered_once(None).await;
}

/// The same with the device stores in PostgreSQL: the client's pending-inbound buffer (what
/// the durability hook keeps until the commit) lives there.
#[tokio::test]
async fn a_message_whose_commit_failed_is_redelivered_once_with_the_device_store_in_postgresql() {
    if let Some(url) = server::db::test_postgres_database("redelivery").await {
        redelivered_once(Some(url)).await;
    }
}

async fn redelivered_once(store: Option<String>) {
    let fake = FakeWhatsApp::start().await;
    let (app, admin, id) = paired_on(&fake, store).await;
    let rx = Receiver::start().await;
    app.set_webhook(&admin, &id, &rx.url, "s3cret").await;

    // The database refuses the message: the client decrypts it but must not acknowledge it.
    app.refuse_inserts("messages").await;
    fake.message_from(
        "6289876543210",
        "3EB0FA11ED000001",
        "Budi",
        text("Pesan penting"),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(
        !fake.acknowledged("3EB0FA11ED000001"),
        "a message that was not stored must not be acknowledged to WhatsApp"
    );
    assert!(rx.hits().is_empty());

    // Writes work again; the link drops and comes back; WhatsApp delivers it again.
    app.accept_inserts("messages").await;
    fake.reconnect_and_redeliver().await;
    let hit = rx.wait_event("message.in").await;
    assert_eq!(hit.json()["data"]["messageId"], "3EB0FA11ED000001");
    assert_eq!(hit.json()["data"]["message"], "Pesan penting");
    fake.wait_for("the acknowledgement after the commit", |_| {
        fake.acknowledged("3EB0FA11ED000001")
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let ins = rx
        .hits()
        .iter()
        .filter(|h| h.json()["event"] == "message.in")
        .count();
    assert_eq!(ins, 1, "delivered to the webhook once");
}

/// Many numbers on one server: two sessions pair at once (each scan reaches the device whose QR
/// code it read), both stay connected on the shared device store, the same contact writes to
/// each and each message arrives from its own session; a send from the second session is
/// encrypted with that device's keys and read by the contact's phone.
#[tokio::test]
async fn two_sessions_pair_at_once_and_each_reads_and_sends_as_its_own_number() {
    use super::fake_whatsapp::device_key;
    let fake = FakeWhatsApp::start().await;
    let app = real_engine(&fake).await;
    let (admin, _) = app.register("admin").await;
    let rx = Receiver::start().await;
    let mut devices = Vec::new();
    for (name, number) in [("Toko A", "6281111111111"), ("Toko B", "6282222222222")] {
        let id = app.create_session(&admin, name).await;
        let (_, status) = wait_for_qr(&app, &admin, &id).await;
        let qr = decode_qr(status["qr"].as_str().expect("qr"));
        devices.push((id, number, qr));
    }
    assert_ne!(
        device_key(&devices[0].2),
        device_key(&devices[1].2),
        "each session is a device of its own"
    );
    // Scanned in the other order than they connected: each scan must find its own device.
    for (id, number, qr) in devices.iter().rev() {
        fake.scan(
            qr,
            &format!("{number}:7@s.whatsapp.net"),
            &format!("9{number}:7@lid"),
            "Toko",
        )
        .await;
        wait_session(&app, &admin, id, "connected", |b| {
            b["status"] == "connected" && b["phoneNumber"] == *number
        })
        .await;
        app.set_webhook(&admin, id, &rx.url, "s3cret").await;
    }

    // The same contact writes to both numbers: two Signal sessions on their phone, one per
    // device, and each message arrives from its own session.
    for (n, (_, _, qr)) in devices.iter().enumerate() {
        fake.message_to(
            device_key(qr),
            "6289876543210",
            &format!("3EB0D0E{n}"),
            "Budi",
            &text(&format!("Halo toko {n}")),
        )
        .await;
    }
    let hits = rx
        .wait_until("both messages", |h| {
            h.iter()
                .filter(|h| h.json()["event"] == "message.in")
                .count()
                >= 2
        })
        .await;
    for (n, (id, _, _)) in devices.iter().enumerate() {
        let hit = hits
            .iter()
            .find(|h| h.json()["data"]["messageId"] == format!("3EB0D0E{n}"))
            .expect("the message");
        assert_eq!(
            (
                &hit.json()["data"]["sessionId"],
                &hit.json()["data"]["message"]
            ),
            (&json!(id), &json!(format!("Halo toko {n}"))),
            "{}",
            hit.json()
        );
    }

    // The second number answers; the contact's phone reads it with that device's session.
    let (s, b) = call(
        admin
            .post(app.url(&format!("/send-message?session={}", devices[1].0)))
            .json(&json!({"to": "6289876543210", "message": "Dari toko B"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let seen = fake
        .wait_for("the answer at the contact's phone", |s| {
            s.delivered.iter().any(|(to, m)| {
                to == "6289876543210" && m.conversation.as_deref() == Some("Dari toko B")
            })
        })
        .await;
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
}

/// Contract §12 over the wire: a text into a group of three contacts goes out with the
/// device's sender key (its distribution message sealed for each member's phone, the text as
/// `skmsg`) and every phone reads it; a member's message (their sender key, then `skmsg`)
/// arrives as `message.in` with the group as `chat` and the member as `from`; a member added on
/// WhatsApp's side arrives as `group.participants`.
#[tokio::test]
async fn sends_into_a_group_reads_a_members_message_and_sees_a_member_added() {
    const GROUP: &str = "120363025246125486@g.us";
    const MEMBERS: [&str; 3] = ["6282222222222", "6283333333333", "6284444444444"];
    let fake = FakeWhatsApp::start().await;
    let (app, admin, id) = paired(&fake).await;
    let rx = Receiver::start().await;
    app.set_webhook(&admin, &id, &rx.url, "s3cret").await;
    let mut members = vec!["6281234567890"];
    members.extend(MEMBERS);
    fake.add_group(GROUP, "Pesanan", &members);

    let (s, b) = call(
        admin
            .post(app.url("/send-message"))
            .json(&json!({"to": GROUP, "message": "Halo semua"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    fake.wait_for("every member's phone reading the group text", |seen| {
        MEMBERS.iter().all(|m| {
            seen.delivered.iter().any(|(to, msg)| {
                *to == format!("{GROUP}/{m}")
                    && msg.conversation.as_deref().or_else(|| {
                        msg.extended_text_message
                            .as_option()
                            .and_then(|t| t.text.as_deref())
                    }) == Some("Halo semua")
            })
        })
    })
    .await;

    fake.group_message_from(
        GROUP,
        MEMBERS[1],
        "3EB0A1B2C3D4E5F60001",
        "Andi",
        text("Siap!"),
    )
    .await;
    let hit = rx.wait_event("message.in").await;
    let d = hit.json()["data"].clone();
    assert_eq!(
        (
            &d["messageId"],
            &d["chat"],
            &d["isGroup"],
            &d["from"],
            &d["pushName"],
            &d["message"]
        ),
        (
            &json!("3EB0A1B2C3D4E5F60001"),
            &json!(GROUP),
            &json!(true),
            &json!(MEMBERS[1]),
            &json!("Andi"),
            &json!("Siap!")
        )
    );

    // WhatsApp's notification is acknowledged by the client itself, so a change the database
    // refused at first is written again in the background until it lands.
    app.refuse_inserts("webhook_events").await;
    fake.group_added(GROUP, MEMBERS[0], "6285555555555").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(
        rx.hits()
            .iter()
            .all(|h| h.json()["event"] != "group.participants"),
        "nothing delivered while the database refuses"
    );
    app.accept_inserts("webhook_events").await;
    let hit = rx.wait_event("group.participants").await;
    let d = hit.json()["data"].clone();
    assert_eq!(
        (&d["group"], &d["action"], &d["participants"], &d["by"]),
        (
            &json!(GROUP),
            &json!("add"),
            &json!(["6285555555555"]),
            &json!(MEMBERS[0])
        )
    );
    assert!(fake.seen().errors.is_empty(), "{:?}", fake.seen().errors);
}

/// Files both ways through the real client and WhatsApp's media host (contract §11): a picture
/// sent with `/send-media` is encrypted and uploaded by whatsapp-rust with the auth of the
/// `media_conn` answer, and the contact's phone fetches it by the message's `direct_path`,
/// checks its MAC and reads the same bytes (and SHA-256), with the picture's size and a
/// thumbnail; a PDF goes out as a named document the same way, and a WAV as a voice note made
/// Opus, with its waveform; a PDF a contact sends is fetched
/// and decrypted by the client before the message is recorded, so its webhook names the file
/// and `GET /api/messages/{id}/media` answers the same bytes.
#[tokio::test]
async fn sends_a_picture_the_phone_opens_and_keeps_a_file_a_contact_sent() {
    use super::fake_whatsapp::MediaType;
    let fake = FakeWhatsApp::start().await;
    let (app, admin, id) = paired(&fake).await;
    let rx = Receiver::start().await;
    app.set_webhook(&admin, &id, &rx.url, "s3cret").await;

    // A real picture (64×48), so that the client can decode it for its thumbnail.
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    }))
    .write_to(&mut png, image::ImageFormat::Png)
    .expect("png");
    let png = png.into_inner();
    let (s, b) = call(admin.post(app.url("/send-media")).json(&json!({
        "to": "6289876543210", "caption": "Kopi susu",
        "base64": base64::engine::general_purpose::STANDARD.encode(&png),
    })))
    .await;
    assert_eq!(s, 200, "{b}");
    let seen = fake
        .wait_for("the picture at the contact's phone", |s| {
            s.delivered.iter().any(|(_, m)| m.image_message.is_set())
        })
        .await;
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    let image = seen
        .delivered
        .iter()
        .find_map(|(_, m)| m.image_message.as_option())
        .expect("an image message");
    assert_eq!(image.caption.as_deref(), Some("Kopi susu"));
    assert_eq!(image.mimetype.as_deref(), Some("image/png"));
    assert_eq!((image.width, image.height), (Some(64), Some(48)));
    assert!(
        image.jpeg_thumbnail.as_ref().is_some_and(|t| !t.is_empty()),
        "a picture carries its thumbnail"
    );
    assert_eq!(image.file_length, Some(png.len() as u64));
    let opened = fake.download(
        image.direct_path.as_deref().expect("direct_path"),
        image.media_key.as_deref().expect("media key"),
        MediaType::Image,
    );
    assert_eq!(opened, png, "the phone reads the bytes that were sent");
    {
        use sha2::Digest;
        assert_eq!(
            image.file_sha256.as_deref(),
            Some(&sha2::Sha256::digest(&png)[..])
        );
    }

    // A PDF goes out as a document with its name; the phone reads the same bytes.
    let pdf = b"%PDF-1.4\n% Faktur 0042\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
    let (s, b) = call(admin.post(app.url("/send-media")).json(&json!({
        "to": "6289876543210", "filename": "faktur-0042.pdf",
        "base64": base64::engine::general_purpose::STANDARD.encode(&pdf),
    })))
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["type"], "document", "{b}");
    let seen = fake
        .wait_for("the document at the contact's phone", |s| {
            s.delivered.iter().any(|(_, m)| m.document_message.is_set())
        })
        .await;
    let document = seen
        .delivered
        .iter()
        .find_map(|(_, m)| m.document_message.as_option())
        .expect("a document message");
    assert_eq!(
        (document.mimetype.as_deref(), document.file_name.as_deref()),
        (Some("application/pdf"), Some("faktur-0042.pdf"))
    );
    let opened = fake.download(
        document.direct_path.as_deref().expect("direct_path"),
        document.media_key.as_deref().expect("media key"),
        MediaType::Document,
    );
    assert_eq!(opened, pdf);

    // A WAV sent as a voice note: converted to Opus, it reaches the phone as push-to-talk audio
    // with its length and the waveform phones draw, and the phone reads an Ogg Opus file.
    let (s, b) = call(admin.post(app.url("/send-media")).json(&json!({
        "to": "6289876543210", "type": "voice",
        "base64": base64::engine::general_purpose::STANDARD.encode(super::media::wav_tone()),
    })))
    .await;
    assert_eq!(s, 200, "{b}");
    let seen = fake
        .wait_for("the voice note at the contact's phone", |s| {
            s.delivered.iter().any(|(_, m)| m.audio_message.is_set())
        })
        .await;
    let voice = seen
        .delivered
        .iter()
        .find_map(|(_, m)| m.audio_message.as_option())
        .expect("an audio message");
    assert_eq!(
        (voice.ptt, voice.seconds, voice.mimetype.as_deref()),
        (Some(true), Some(1), Some("audio/ogg; codecs=opus"))
    );
    let bars = voice.waveform.as_deref().expect("a waveform");
    assert_eq!((bars.len(), bars.iter().max()), (64, Some(&100)));
    let heard = fake.download(
        voice.direct_path.as_deref().expect("direct_path"),
        voice.media_key.as_deref().expect("media key"),
        MediaType::Audio,
    );
    assert!(heard.starts_with(b"OggS") && heard.windows(8).any(|w| w == b"OpusHead"));

    // A contact sends the PDF back: uploaded by their phone, fetched and decrypted by the client.
    let up = fake.upload(&pdf, MediaType::Document);
    let document = wa::Message {
        document_message: MessageField::some(wm::DocumentMessage {
            url: Some(up.url.clone()),
            direct_path: Some(up.direct_path.clone()),
            media_key: Some(up.media_key.clone()),
            file_sha256: Some(up.file_sha256.clone()),
            file_enc_sha256: Some(up.file_enc_sha256.clone()),
            file_length: Some(up.file_length),
            mimetype: Some("application/pdf".into()),
            file_name: Some("faktur-0042.pdf".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    fake.message_from("6289876543210", "3EB0F11E000001", "Budi", document)
        .await;
    let hit = rx.wait_event("message.in").await;
    let data = &hit.json()["data"];
    assert_eq!(data["messageId"], "3EB0F11E000001", "{data}");
    assert_eq!(data["type"], "document", "{data}");
    assert_eq!(data["media"]["mimetype"], "application/pdf", "{data}");
    assert_eq!(data["media"]["filename"], "faktur-0042.pdf", "{data}");
    assert_eq!(data["media"]["size"], pdf.len(), "{data}");
    let url = data["media"]["url"].as_str().expect("media url");
    let r = admin
        .get(app.url(&format!("{url}?session={id}")))
        .send()
        .await
        .expect("media");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().expect("type"),
        "application/pdf"
    );
    assert_eq!(r.bytes().await.expect("bytes").as_ref(), pdf.as_slice());

    // A file whose link expired before the device fetched it (it was offline for weeks): the
    // media host answers 404, the client asks the sender's phone for it again with a
    // media-retry receipt (encrypted with the file's key), and fetches it from its new path.
    // Bytes of its own, so that only the retry can have put them in the store.
    let mut photo = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(32, 24, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 9) as u8, 200])
    }))
    .write_to(&mut photo, image::ImageFormat::Png)
    .expect("png");
    let photo = photo.into_inner();
    let up = fake.upload(&photo, MediaType::Image);
    fake.expire(&up, "3EB0F11E000002");
    let image = wa::Message {
        image_message: MessageField::some(wm::ImageMessage {
            url: Some(up.url.clone()),
            direct_path: Some(up.direct_path.clone()),
            media_key: Some(up.media_key.clone()),
            file_sha256: Some(up.file_sha256.clone()),
            file_enc_sha256: Some(up.file_enc_sha256.clone()),
            file_length: Some(up.file_length),
            mimetype: Some("image/png".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    fake.message_from("6289876543210", "3EB0F11E000002", "Budi", image)
        .await;
    let hits = rx
        .wait_until("the expired file's message", |h| {
            h.iter()
                .any(|h| h.json()["data"]["messageId"] == "3EB0F11E000002")
        })
        .await;
    let hit = hits
        .iter()
        .find(|h| h.json()["data"]["messageId"] == "3EB0F11E000002")
        .expect("hit");
    let data = &hit.json()["data"];
    assert_eq!(hit.json()["event"], "message.in", "{data}");
    // The message is recorded at once; its file follows, asked for in the background.
    let url = data["media"]["url"].as_str().expect("media url");
    let mut kept = None;
    for _ in 0..200 {
        let r = admin
            .get(app.url(&format!("{url}?session={id}")))
            .send()
            .await
            .expect("media");
        if r.status() == 200 {
            kept = Some(r.bytes().await.expect("bytes"));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        kept.as_deref(),
        Some(photo.as_slice()),
        "the file asked for again is kept"
    );
    assert!(
        fake.seen()
            .media_retries
            .iter()
            .any(|m| m == "3EB0F11E000002"),
        "{:?}",
        fake.seen().errors
    );
}

/// Contract §11's changes over the wire, both ways. Out: a reaction, an edit and a delete of a
/// sent text, and a poll, each read by the contact's phone as WhatsApp carries them (a
/// `ReactionMessage` and `ProtocolMessage`s naming the text; the poll with its secret). In:
/// the phone votes on the poll (the vote encrypted with that secret, as phones do), reacts to
/// it, and edits and deletes a text of its own: `poll.vote` names the option,
/// `message.reaction`, `message.edited` and `message.revoked` name the messages.
#[tokio::test]
async fn reacts_edits_deletes_and_polls_both_ways_over_the_wire() {
    use whatsapp_rust::wacore::poll::{compute_option_hash, encrypt_poll_vote_with_secret};
    const CONTACT: &str = "6289876543210";
    let fake = FakeWhatsApp::start().await;
    let (app, admin, id) = paired(&fake).await;
    let rx = Receiver::start().await;
    app.set_webhook(&admin, &id, &rx.url, "s3cret").await;
    let post = |path: &str, body: Value| {
        let (admin, url) = (admin.clone(), app.url(path));
        async move {
            let (s, b) = call(admin.post(url).json(&body)).await;
            assert_eq!(s, 200, "{b}");
            b
        }
    };
    // What the contact's phone has read so far, from the `n`th message on.
    let read = |n: usize, what: &'static str| {
        let fake = &fake;
        async move {
            let seen = fake.wait_for(what, |s| s.delivered.len() > n).await;
            assert!(seen.errors.is_empty(), "{:?}", seen.errors);
            seen.delivered[n].1.clone()
        }
    };

    let text_id = post(
        "/send-message",
        json!({"to": CONTACT, "message": "Kopi 15rb"}),
    )
    .await["messageId"]
        .as_str()
        .expect("id")
        .to_string();
    read(0, "the text").await;

    post(
        "/send-reaction",
        json!({"messageId": text_id, "emoji": "👍"}),
    )
    .await;
    let m = read(1, "the reaction").await;
    let reaction = m.reaction_message.as_option().expect("a reaction");
    assert_eq!(reaction.text.as_deref(), Some("👍"));
    let key = reaction.key.as_option().expect("its key");
    assert_eq!(
        (key.id.as_deref(), key.from_me),
        (Some(text_id.as_str()), Some(true))
    );

    post(
        "/edit-message",
        json!({"messageId": text_id, "message": "Kopi 18rb"}),
    )
    .await;
    let m = read(2, "the edit").await;
    let edit = m.protocol_message.as_option().expect("a protocol message");
    assert_eq!(edit.r#type, Some(wm::protocol_message::Type::MESSAGE_EDIT));
    assert_eq!(
        edit.key.as_option().and_then(|k| k.id.as_deref()),
        Some(text_id.as_str())
    );
    let edited = edit.edited_message.as_option().expect("the new text");
    let new_text = edited.conversation.clone().or_else(|| {
        edited
            .extended_text_message
            .as_option()
            .and_then(|t| t.text.clone())
    });
    assert_eq!(new_text.as_deref(), Some("Kopi 18rb"));

    post("/delete-message", json!({"messageId": text_id})).await;
    let m = read(3, "the delete").await;
    let revoke = m.protocol_message.as_option().expect("a protocol message");
    assert_eq!(revoke.r#type, Some(wm::protocol_message::Type::REVOKE));
    assert_eq!(
        revoke.key.as_option().and_then(|k| k.id.as_deref()),
        Some(text_id.as_str())
    );

    let poll_id = post(
        "/send-poll",
        json!({"to": CONTACT, "question": "Kopi apa?", "options": ["Gayo", "Toraja"]}),
    )
    .await["messageId"]
        .as_str()
        .expect("id")
        .to_string();
    let m = read(4, "the poll").await;
    let poll = m
        .poll_creation_message
        .as_option()
        .or(m.poll_creation_message_v3.as_option())
        .expect("a poll");
    assert_eq!(poll.name.as_deref(), Some("Kopi apa?"));
    let names: Vec<_> = poll
        .options
        .iter()
        .map(|o| o.option_name.as_deref())
        .collect();
    assert_eq!(names, [Some("Gayo"), Some("Toraja")]);
    let secret = m
        .message_context_info
        .as_option()
        .and_then(|c| c.message_secret.clone())
        .expect("the poll's secret");

    // The contact votes Toraja, encrypted with the poll's secret for (poll, creator, voter).
    let (enc_payload, enc_iv) = encrypt_poll_vote_with_secret(
        &[compute_option_hash("Toraja").to_vec()],
        &secret,
        &poll_id,
        "6281234567890@s.whatsapp.net",
        &format!("{CONTACT}@s.whatsapp.net"),
    )
    .expect("encrypt the vote");
    // A message of this chat as the contact's phone names it: ours, or theirs (`from_me`).
    let key = |id: &str, from_me: bool| {
        MessageField::some(wa::MessageKey {
            remote_jid: Some("6281234567890@s.whatsapp.net".into()),
            from_me: Some(from_me),
            id: Some(id.into()),
            participant: None,
        })
    };
    let our = |id: &str| key(id, false);
    let vote = wa::Message {
        poll_update_message: MessageField::some(wm::PollUpdateMessage {
            poll_creation_message_key: our(&poll_id),
            vote: MessageField::some(wm::PollEncValue {
                enc_payload: Some(enc_payload),
                enc_iv: Some(enc_iv.to_vec()),
            }),
            sender_timestamp_ms: Some(1_700_000_000_000),
            ..Default::default()
        }),
        ..Default::default()
    };
    fake.message_from(CONTACT, "3EB0B0C0000001", "Budi", vote)
        .await;
    let hit = rx.wait_event("poll.vote").await;
    let data = &hit.json()["data"];
    assert_eq!(
        (&data["messageId"], &data["from"], &data["options"]),
        (&json!(poll_id), &json!(CONTACT), &json!(["Toraja"])),
        "{data}"
    );

    // The contact reacts to the poll, then edits and deletes a text of their own.
    let react = wa::Message {
        reaction_message: MessageField::some(wm::ReactionMessage {
            key: our(&poll_id),
            text: Some("🙏".into()),
            sender_timestamp_ms: Some(1_700_000_000_000),
            ..Default::default()
        }),
        ..Default::default()
    };
    fake.message_from(CONTACT, "3EB0B0C0000002", "Budi", react)
        .await;
    let hit = rx.wait_event("message.reaction").await;
    let data = &hit.json()["data"];
    assert_eq!(
        (&data["messageId"], &data["from"], &data["emoji"]),
        (&json!(poll_id), &json!(CONTACT), &json!("🙏")),
        "{data}"
    );
    fake.message_from(CONTACT, "3EB0B0C0000003", "Budi", text("Gayo 2 ya"))
        .await;
    rx.wait_until("the contact's text", |h| {
        h.iter()
            .any(|h| h.json()["data"]["messageId"] == "3EB0B0C0000003")
    })
    .await;
    let theirs = key("3EB0B0C0000003", true);
    let edit = wa::Message {
        protocol_message: MessageField::some(wm::ProtocolMessage {
            key: theirs.clone(),
            r#type: Some(wm::protocol_message::Type::MESSAGE_EDIT),
            edited_message: MessageField::some(text("Toraja 2 ya")),
            ..Default::default()
        }),
        ..Default::default()
    };
    fake.message_from(CONTACT, "3EB0B0C0000004", "Budi", edit)
        .await;
    let hit = rx.wait_event("message.edited").await;
    let data = &hit.json()["data"];
    assert_eq!(
        (&data["messageId"], &data["from"], &data["message"]),
        (
            &json!("3EB0B0C0000003"),
            &json!(CONTACT),
            &json!("Toraja 2 ya")
        ),
        "{data}"
    );
    let revoke = wa::Message {
        protocol_message: MessageField::some(wm::ProtocolMessage {
            key: theirs,
            r#type: Some(wm::protocol_message::Type::REVOKE),
            ..Default::default()
        }),
        ..Default::default()
    };
    fake.message_from(CONTACT, "3EB0B0C0000005", "Budi", revoke)
        .await;
    let hit = rx.wait_event("message.revoked").await;
    let data = &hit.json()["data"];
    assert_eq!(
        (&data["messageId"], &data["from"]),
        (&json!("3EB0B0C0000003"), &json!(CONTACT)),
        "{data}"
    );
}

/// How many rows session `id` has in the PostgreSQL device store at `url`.
async fn device_rows(url: &str, id: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query_scalar("SELECT count(*) FROM device_store WHERE session = $1")
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .expect("count")
}
