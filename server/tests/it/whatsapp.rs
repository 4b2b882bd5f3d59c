//! The real engine (whatsapp-rust, the default) against a fake WhatsApp server on loopback
//! ([`super::fake_whatsapp`]): registration and the QR code, the phone's pairing, login, a
//! contact's end-to-end encrypted message, a restart that reconnects without a new scan,
//! logout, and groups (sender keys both ways, a member added) — all through the real client's
//! protocol code (Noise handshakes, binary stanzas, ADV signatures), with no internet.

use super::fake_whatsapp::{FakeWhatsApp, REF, attr, child};
use super::*;
use base64::Engine;
use whatsapp_rust::{
    buffa::MessageField,
    waproto::whatsapp::{self as wa, message as wm},
};

async fn real_engine(fake: &FakeWhatsApp) -> TestApp {
    // RUST_LOG=whatsapp_rust=debug shows the client's side when a test fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let url = fake.url.clone();
    TestApp::start_with(move |c| {
        c.engine = server::config::EngineKind::Whatsapp;
        c.whatsapp_url = Some(url.clone());
        // Pinned, so the client does not ask web.whatsapp.com for the current version.
        c.whatsapp_version = Some("2.3000.1042742319".into());
    })
    .await
}

/// A server on the real engine with an admin and a session that shows its first QR code.
async fn waiting_for_a_scan(fake: &FakeWhatsApp) -> (TestApp, reqwest::Client, String) {
    let app = real_engine(fake).await;
    let (admin, _) = app.register("admin").await;
    let id = app.create_session(&admin, "Toko").await;
    wait_session(&app, &admin, &id, "a QR code", |b| {
        b["status"] == "qr_ready"
    })
    .await;
    (app, admin, id)
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
    // 1. A new device registers (Noise XX); WhatsApp's pair-device refs become our QR code.
    let fake = FakeWhatsApp::start().await;
    let (app, admin, id) = waiting_for_a_scan(&fake).await;
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
    let (app, admin, id) = waiting_for_a_scan(fake).await;
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
    let fake = FakeWhatsApp::start().await;
    let (app, admin, id) = paired(&fake).await;
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
