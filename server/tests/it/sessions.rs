//! Sessions on the simulator: pairing, QR rotation over SSE, restarts, logout, deletion and
//! isolation between users (contract §3, §8, §9).

use super::*;
use futures_util::StreamExt;

/// Reads `status` events from the session's SSE stream until `done` says stop.
async fn sse_until(
    client: &reqwest::Client,
    url: String,
    mut done: impl FnMut(&Value) -> bool,
) -> Vec<Value> {
    let mut sse = Sse::open(client, url).await;
    let mut events = vec![];
    loop {
        let v = sse.next("status").await;
        let stop = done(&v);
        events.push(v);
        if stop {
            return events;
        }
    }
}

/// An open server-sent event stream, read one event at a time.
struct Sse {
    stream: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
}

impl Sse {
    async fn open(client: &reqwest::Client, url: String) -> Sse {
        let resp = client.get(url).send().await.expect("sse");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        Sse {
            stream: resp.bytes_stream().boxed(),
            buf: String::new(),
        }
    }

    /// The `data` of the next event called `name` (others are skipped); fails after 10 s.
    async fn next(&mut self, name: &str) -> Value {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..end + 2).collect();
                if !frame.contains(&format!("event: {name}")) {
                    continue;
                }
                let data = frame
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .expect("data line");
                return serde_json::from_str(data).expect("json");
            }
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(chunk)) => self
                    .buf
                    .push_str(&String::from_utf8_lossy(&chunk.expect("chunk"))),
                _ => panic!("no {name} event within 10 s"),
            }
        }
    }

    /// The session ids of the next `changed` event (`GET /api/sessions/events`).
    async fn changed(&mut self) -> Vec<String> {
        serde_json::from_value(self.next("changed").await["sessionIds"].clone()).expect("ids")
    }
}

#[tokio::test]
async fn pairing_by_qr_then_status_shows_the_account() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let (s, created) = call(
        admin
            .post(app.url("/api/sessions"))
            .json(&json!({"name": "Toko"})),
    )
    .await;
    assert_eq!(s, 200);
    for field in ["id", "name", "status", "phoneNumber", "pushName", "ownerId"] {
        assert!(created.get(field).is_some(), "{field} in {created}");
    }
    let id = created["id"].as_str().expect("id").to_string();
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    app.wait_status(&admin, &id, "qr_ready").await;

    let (s, st) = call(admin.get(app.url("/status"))).await;
    assert_eq!(s, 200);
    assert_eq!(st["isConnected"], false);
    assert_eq!(st["status"], "qr_ready");
    let code = decode_qr(st["qr"].as_str().expect("qr"));
    assert!(
        code.starts_with("2@") && code.split(',').count() == 4,
        "WhatsApp-shaped code: {code}"
    );

    let (s, _) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{id}/scan")))
            .json(&json!({"phoneNumber": "+62 812-3456-7890", "pushName": "User Name"})),
    )
    .await;
    assert_eq!(s, 200);
    app.wait_status(&admin, &id, "connected").await;
    let (_, st) = call(admin.get(app.url("/status"))).await;
    assert_eq!(
        st,
        json!({"isConnected": true, "status": "connected", "phoneNumber": "6281234567890", "pushName": "User Name"})
    );
    // Scanning again is refused: the session is not waiting for a scan.
    let (s, b) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{id}/scan")))
            .json(&json!({"phoneNumber": "6281234567890"})),
    )
    .await;
    assert_error(s, &b, 409, "SESSION_NOT_CONNECTED");
}

#[tokio::test]
async fn the_qr_rotates_over_sse_and_disappears_once_scanned() {
    let app = TestApp::start_with(|c| {
        c.simulator_first_qr_ms = 300;
        c.simulator_next_qr_ms = 300;
    })
    .await;
    let (admin, _) = app.register("admin").await;
    let id = app.create_session(&admin, "Toko").await;
    let mut codes = std::collections::BTreeSet::new();
    let events = sse_until(
        &admin,
        app.url(&format!("/api/sessions/{id}/events")),
        |e| {
            if let Some(qr) = e["qr"].as_str() {
                codes.insert(decode_qr(qr));
            }
            codes.len() >= 3
        },
    )
    .await;
    assert!(
        events
            .iter()
            .all(|e| e["status"] == "qr_ready" || e["status"] == "connecting"),
        "{events:?}"
    );

    let (client, url) = (
        admin.clone(),
        app.url(&format!("/api/sessions/{id}/events")),
    );
    let watcher =
        tokio::spawn(async move { sse_until(&client, url, |e| e["status"] == "connected").await });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    call(
        admin
            .post(app.url(&format!("/simulator/sessions/{id}/scan")))
            .json(&json!({"phoneNumber": "6281234567890", "pushName": "Toko"})),
    )
    .await;
    let seen = watcher.await.expect("watcher");
    let last = seen.last().expect("event");
    assert_eq!(last["status"], "connected");
    assert!(
        last.get("qr").is_none(),
        "the QR is gone once scanned: {last}"
    );
    assert_eq!(last["phoneNumber"], "6281234567890");
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let paired = app.connected_session(&admin, "6281234567890").await;
    let pending = app.create_session(&admin, "waiting").await;
    app.wait_status(&admin, &pending, "qr_ready").await;
    let (_, before) = call(admin.get(app.url(&format!("/status?session={pending}")))).await;

    let app = app.restart().await;
    let view = app.wait_status(&admin, &paired, "connected").await;
    assert_eq!(view["phoneNumber"], "6281234567890", "no new scan needed");
    app.wait_status(&admin, &pending, "qr_ready").await;
    let (_, after) = call(admin.get(app.url(&format!("/status?session={pending}")))).await;
    assert_ne!(
        decode_qr(before["qr"].as_str().expect("qr")),
        decode_qr(after["qr"].as_str().expect("qr")),
        "a fresh QR"
    );
    let (s, _) = call(
        admin
            .post(app.url(&format!("/send-message?session={paired}")))
            .json(&json!({"to": "6285555555555", "message": "after restart"})),
    )
    .await;
    assert_eq!(s, 200);
}

/// `POST /api/sessions/{id}/stop` and `/start`: a stopped session is disconnected, refuses
/// sends with 409, stays stopped across a restart, and starts again without a scan; another
/// user cannot stop it.
#[tokio::test]
async fn a_stopped_session_stays_stopped_until_started_and_needs_no_scan() {
    let app = TestApp::start().await;
    let (admin, user, _) = app.admin_and_user().await;
    let id = app.connected_session(&user, "6281234567801").await;
    let act =
        |c: &reqwest::Client, what: &str| c.post(app.url(&format!("/api/sessions/{id}/{what}")));
    let (stranger, _) = app.register("stranger").await;
    let (s, b) = call(act(&stranger, "stop")).await;
    assert_error(s, &b, 404, "SESSION_NOT_FOUND");

    let (s, v) = call(act(&user, "stop")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (&v["status"], &v["stopped"]),
        (&json!("disconnected"), &json!(true)),
        "{v}"
    );
    assert_eq!(
        v["phoneNumber"], "6281234567801",
        "it keeps its number: {v}"
    );
    let send = || {
        user.post(app.url(&format!("/send-message?session={id}")))
            .json(&json!({"to": "6285555555555", "message": "saat berhenti"}))
    };
    let (s, b) = call(send()).await;
    assert_error(s, &b, 409, "SESSION_NOT_CONNECTED");
    let (_, list) = call(user.get(app.url("/api/sessions"))).await;
    assert_eq!(list[0]["stopped"], true, "{list}");
    // Unlinking needs the link: a stopped session says so (a 409, not a 500) and keeps it.
    let (s, b) = call(act(&user, "logout")).await;
    assert_error(s, &b, 409, "SESSION_NOT_CONNECTED");

    // A restart keeps it stopped.
    let app = app.restart().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, v) = call(user.get(app.url(&format!("/api/sessions/{id}")))).await;
    assert_eq!(
        (&v["status"], &v["stopped"]),
        (&json!("disconnected"), &json!(true)),
        "{v}"
    );

    // Started (by the admin, as any owner may): connected again from its store, no scan.
    let (s, v) = call(admin.post(app.url(&format!("/api/sessions/{id}/start")))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v.get("stopped"), None, "shown only when stopped: {v}");
    let v = app.wait_status(&user, &id, "connected").await;
    assert_eq!(v["phoneNumber"], "6281234567801");
    let (s, b) = call(
        user.post(app.url(&format!("/send-message?session={id}")))
            .json(&json!({"to": "6285555555555", "message": "jalan lagi"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    // Starting what runs changes nothing.
    let (s, v) = call(user.post(app.url(&format!("/api/sessions/{id}/start")))).await;
    assert_eq!((s, &v["status"]), (200, &json!("connected")), "{v}");
}

/// Stops, starts and sends at once: every send finds the session (sent, or 409 while it is
/// stopped; never a 404 in between), and the flag stored and the running session agree after.
#[tokio::test]
async fn stops_and_starts_racing_sends_never_lose_the_session() {
    let app = TestApp::start().await;
    let (user, _) = app.register("budi").await;
    let id = app.connected_session(&user, "6281234567802").await;
    let act = |what: &str| call(user.post(app.url(&format!("/api/sessions/{id}/{what}"))));
    let send = || {
        call(
            user.post(app.url(&format!("/send-message?session={id}")))
                .json(&json!({"to": "6285555555555", "message": "balapan"})),
        )
    };
    for round in 0..8 {
        let (stop, start, a, b, c, d) =
            tokio::join!(act("stop"), act("start"), send(), send(), send(), send());
        assert_eq!(
            (stop.0, start.0),
            (200, 200),
            "round {round}: {stop:?} {start:?}"
        );
        for (s, b) in [a, b, c, d] {
            assert!(
                s == 200 || (s == 409 && b["error"] == "SESSION_NOT_CONNECTED"),
                "round {round}: a send answered {s} {b}"
            );
        }
        // Whichever came last, what is stored is what runs: stopped shows disconnected,
        // started connects.
        let (_, v) = call(user.get(app.url(&format!("/api/sessions/{id}")))).await;
        if v["stopped"] == true {
            assert_eq!(v["status"], "disconnected", "round {round}: {v}");
        } else {
            app.wait_status(&user, &id, "connected").await;
        }
    }
    act("start").await;
    app.wait_status(&user, &id, "connected").await;
    let (s, b) = send().await;
    assert_eq!(s, 200, "{b}");
}

/// A stopped session's status stream says so (disconnected, "stopped", its number kept), and
/// shows it connected once started.
#[tokio::test]
async fn a_stopped_sessions_stream_shows_it_stopped_then_started() {
    let app = TestApp::start().await;
    let (user, _) = app.register("budi").await;
    let id = app.connected_session(&user, "6281234567804").await;
    let (s, _) = call(user.post(app.url(&format!("/api/sessions/{id}/stop")))).await;
    assert_eq!(s, 200);
    let url = app.url(&format!("/api/sessions/{id}/events"));
    let first = sse_until(&user, url.clone(), |_| true).await;
    let e = &first[0];
    assert_eq!(
        (&e["status"], &e["reason"], &e["phoneNumber"]),
        (
            &json!("disconnected"),
            &json!("stopped"),
            &json!("6281234567804")
        ),
        "{e}"
    );
    // Started, it runs under a new handle: a stream opened while it was stopped ends then (an
    // EventSource opens it again by itself), and the stream shows it connected.
    let (s, _) = call(user.post(app.url(&format!("/api/sessions/{id}/start")))).await;
    assert_eq!(s, 200);
    let seen = sse_until(&user, url, |e| e["status"] == "connected").await;
    assert_eq!(seen.last().expect("event")["phoneNumber"], "6281234567804");
}

/// A start that read a stopped session's row just before a delete removed it would put a
/// running session back for an id no row names (nothing could stop or delete it again). The
/// metrics count what runs: after each start racing a delete, nothing does.
#[tokio::test]
async fn a_start_racing_a_delete_leaves_nothing_running() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let running = || async {
        let r = admin.get(app.url("/metrics")).send().await.expect("scrape");
        assert_eq!(r.status(), 200);
        let text = r.text().await.expect("text");
        text.lines()
            .filter(|l| l.starts_with("kabar_sessions{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    for round in 0..12 {
        let (s, v) = call(
            admin
                .post(app.url("/api/sessions"))
                .json(&json!({"name": format!("balapan {round}")})),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let id = v["id"].as_str().expect("id").to_string();
        let (s, _) = call(admin.post(app.url(&format!("/api/sessions/{id}/stop")))).await;
        assert_eq!(s, 200);
        // The count sees a held (stopped) session.
        assert_eq!(running().await, 1.0, "round {round}");
        let (start, delete) = tokio::join!(
            call(admin.post(app.url(&format!("/api/sessions/{id}/start")))),
            call(admin.delete(app.url(&format!("/api/sessions/{id}")))),
        );
        assert!(delete.0 < 300, "round {round}: {delete:?}");
        assert!(
            start.0 == 200 || (start.0 == 404 && start.1["error"] == "SESSION_NOT_FOUND"),
            "round {round}: {start:?}"
        );
        assert_eq!(
            running().await,
            0.0,
            "round {round}: a deleted session runs"
        );
    }
}

/// A disable and an enable of one account at once: however they interleave, its session ends
/// as the account row says — running when enabled, not when disabled.
#[tokio::test]
async fn an_accounts_sessions_follow_its_last_disable_or_enable() {
    let app = TestApp::start().await;
    let (admin, user, u) = app.admin_and_user().await;
    let uid = u["id"].as_str().expect("id").to_string();
    let id = app.connected_session(&user, "6281234567803").await;
    let patch = |disabled: bool| {
        call(
            admin
                .patch(app.url(&format!("/api/users/{uid}")))
                .json(&json!({ "disabled": disabled })),
        )
    };
    let takes_messages = || async {
        call(
            admin
                .post(app.url(&format!("/simulator/sessions/{id}/incoming")))
                .json(&json!({"from": "628222000009", "message": "halo"})),
        )
        .await
        .0 == 200
    };
    for round in 0..8 {
        let (a, b) = tokio::join!(patch(round % 2 == 0), patch(round % 2 == 1));
        assert_eq!((a.0, b.0), (200, 200), "round {round}: {a:?} {b:?}");
        let (_, users) = call(admin.get(app.url("/api/users"))).await;
        let disabled = users
            .as_array()
            .expect("users")
            .iter()
            .find(|x| x["id"] == uid.as_str())
            .expect("the user")["disabled"]
            == true;
        if disabled {
            assert!(
                !takes_messages().await,
                "round {round}: disabled, yet it runs"
            );
        } else {
            app.wait_status(&admin, &id, "connected").await;
            assert!(
                takes_messages().await,
                "round {round}: enabled, yet stopped"
            );
        }
    }
}

#[tokio::test]
async fn logout_disconnect_rename_and_delete() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "6281234567890").await;

    let (s, v) = call(
        admin
            .patch(app.url(&format!("/api/sessions/{id}")))
            .json(&json!({"name": "Toko Baru"})),
    )
    .await;
    assert_eq!((s, v["name"].as_str()), (200, Some("Toko Baru")));
    let (s, b) = call(
        admin
            .patch(app.url(&format!("/api/sessions/{id}")))
            .json(&json!({"name": "  "})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");

    // The link drops and comes back by itself.
    let (s, _) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{id}/disconnect")))
            .json(&json!({"reason": "network"})),
    )
    .await;
    assert_eq!(s, 200);
    app.wait_status(&admin, &id, "connected").await;

    // Logout through Kabar: WhatsApp forgets the device and a new QR is offered.
    let (s, _) = call(admin.post(app.url(&format!("/api/sessions/{id}/logout")))).await;
    assert_eq!(s, 200);
    let v = app.wait_status(&admin, &id, "qr_ready").await;
    assert!(v["phoneNumber"].is_null(), "{v}");
    // After a logout on the phone, a restart does not reconnect: the device store is gone.
    call(
        admin
            .post(app.url(&format!("/simulator/sessions/{id}/scan")))
            .json(&json!({"phoneNumber": "6281234567890"})),
    )
    .await;
    app.wait_status(&admin, &id, "connected").await;
    call(admin.post(app.url(&format!("/simulator/sessions/{id}/logout")))).await;
    app.wait_status(&admin, &id, "qr_ready").await;
    let app = app.restart().await;
    app.wait_status(&admin, &id, "qr_ready").await;

    let (s, _) = call(admin.delete(app.url(&format!("/api/sessions/{id}")))).await;
    assert_eq!(s, 200);
    let (s, b) = call(admin.get(app.url(&format!("/api/sessions/{id}")))).await;
    assert_error(s, &b, 404, "SESSION_NOT_FOUND");
    let (_, list) = call(admin.get(app.url("/api/sessions"))).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn one_user_cannot_see_or_use_anothers_session() {
    let app = TestApp::start().await;
    let (admin, budi, _) = app.admin_and_user().await;
    let (siti, _) = app.register("siti").await;
    let id = app.connected_session(&budi, "6281234567890").await;

    let (_, list) = call(siti.get(app.url("/api/sessions"))).await;
    assert_eq!(list, json!([]));
    let (_, list) = call(admin.get(app.url("/api/sessions"))).await;
    assert_eq!(
        list.as_array().expect("array").len(),
        1,
        "the admin sees all"
    );

    let paths = [
        ("GET", format!("/api/sessions/{id}")),
        ("DELETE", format!("/api/sessions/{id}")),
        ("POST", format!("/api/sessions/{id}/logout")),
        ("GET", format!("/api/sessions/{id}/events")),
        ("GET", format!("/status?session={id}")),
        ("POST", format!("/simulator/sessions/{id}/disconnect")),
        ("POST", format!("/simulator/sessions/{id}/incoming")),
        ("GET", format!("/simulator/sessions/{id}/sent")),
    ];
    for (method, path) in &paths {
        let req = match *method {
            "GET" => siti.get(app.url(path)),
            "DELETE" => siti.delete(app.url(path)),
            _ => siti
                .post(app.url(path))
                .json(&json!({"from": "6285555555555", "message": "x"})),
        };
        let (s, b) = call(req).await;
        assert_error(s, &b, 404, "SESSION_NOT_FOUND");
    }
    let (s, b) = call(
        siti.post(app.url(&format!("/send-message?session={id}")))
            .json(&json!({"to": "6285555555555", "message": "x"})),
    )
    .await;
    assert_error(s, &b, 404, "SESSION_NOT_FOUND");
    let (s, b) = call(
        siti.post(app.url("/simulator/unregistered"))
            .json(&json!({"numbers": ["6285555555555"]})),
    )
    .await;
    assert_error(s, &b, 403, "FORBIDDEN");
    // Still Budi's, still connected, nothing sent.
    app.wait_status(&budi, &id, "connected").await;
    assert!(app.sent(&budi, &id).await.is_empty());
    // The admin may act on it.
    let (s, _) = call(
        admin
            .post(app.url(&format!("/send-message?session={id}")))
            .json(&json!({"to": "6285555555555", "message": "from admin"})),
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn linking_by_phone_number_with_a_pairing_code() {
    let app = TestApp::start().await;
    let (admin, budi, _) = app.admin_and_user().await;
    let id = app.create_session(&admin, "by code").await;
    app.wait_status(&admin, &id, "qr_ready").await;
    let url = app.url(&format!("/api/sessions/{id}/pair-code"));

    let (s, b) = call(
        admin
            .post(&url)
            .json(&json!({"phoneNumber": "+62 812-3456-7890"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let code = b["code"].as_str().expect("code").to_string();
    assert!(
        code.len() == 9
            && code.as_bytes()[4] == b'-'
            && code
                .chars()
                .filter(|c| *c != '-')
                .all(|c| c.is_ascii_alphanumeric()),
        "{code}"
    );
    assert_eq!(
        b,
        json!({"code": code, "phoneNumber": "6281234567890", "expiresIn": 180})
    );

    let (s, b) = call(admin.post(&url).json(&json!({"phoneNumber": "halo"}))).await;
    assert_error(s, &b, 400, "INVALID_PHONE");
    let (s, b) = call(admin.post(&url).json(&json!({"phone": "6281"}))).await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    let (s, b) = call(
        budi.post(&url)
            .json(&json!({"phoneNumber": "6281234567890"})),
    )
    .await;
    assert_error(s, &b, 404, "SESSION_NOT_FOUND");

    // The phone types the code: a wrong one is refused, the right one links that number.
    let enter = app.url(&format!("/simulator/sessions/{id}/enter-code"));
    let (s, b) = call(admin.post(&enter).json(&json!({"code": "AAAA-AAAA"}))).await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    let (s, b) = call(
        admin
            .post(&enter)
            .json(&json!({"code": code.to_lowercase().replace('-', ""), "pushName": "Toko Kode"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let view = app.wait_status(&admin, &id, "connected").await;
    assert_eq!(view["phoneNumber"], "6281234567890");
    assert_eq!(view["pushName"], "Toko Kode");

    // Linked: no more codes.
    let (s, b) = call(
        admin
            .post(&url)
            .json(&json!({"phoneNumber": "6281234567890"})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    assert!(
        b["message"]
            .as_str()
            .expect("message")
            .contains("already linked"),
        "{b}"
    );
}

/// The Sessions overview's figures (`GET /api/sessions/activity`): messages in and out over the
/// last 24 hours (an older one not), the latest message's time, and the session webhook's
/// pending and failed deliveries. Each caller sees their own sessions only.
#[tokio::test]
async fn activity_counts_the_last_day_of_each_session() {
    let app = TestApp::start().await;
    let (admin, budi, _) = app.admin_and_user().await;
    let id = app.connected_session(&admin, "628100000801").await;
    let quiet = app.create_session(&admin, "quiet").await;
    let theirs = app.create_session(&budi, "budi's").await;
    let day_ago = server::db::now_ms() - 25 * 3600 * 1000;
    sqlx::query(
        "INSERT INTO messages (id, session_id, direction, chat, type, body, status, created_at,
                               updated_at)
         VALUES ('3EB0OLD', ?, 'in', '6282222222203', 'text', 'lama', 'received', ?, ?)",
    )
    .bind(&id)
    .bind(day_ago)
    .bind(day_ago)
    .execute(&app.db().await)
    .await
    .expect("an old message");
    app.incoming(&admin, &id, "6282222222201", "halo").await;
    app.incoming(&admin, &id, "6282222222202", "pagi").await;
    let (s, b) = call(
        admin
            .post(app.url(&format!("/send-message?session={id}")))
            .json(&json!({"to": "6282222222201", "message": "siap"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    // A webhook nobody answers: the test event waits; an earlier delivery gave up.
    app.set_webhook(&admin, &id, "http://127.0.0.1:9/hook", "s")
        .await;
    let (s, b) = call(
        admin
            .post(app.url("/api/webhooks/test"))
            .json(&json!({"sessionId": id})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let db = app.db().await;
    let now = server::db::now_ms();
    sqlx::query(
        "INSERT INTO webhook_events (id, session_id, event, body, created_at)
         VALUES ('evt_gave_up', ?, 'webhook.test', '{}', ?)",
    )
    .bind(&id)
    .bind(now)
    .execute(&db)
    .await
    .expect("an event");
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, owner_session, status,
                                         attempts, created_at, updated_at)
         SELECT 'dl_gave_up', 'evt_gave_up', e.id, ?, 'failed', 8, ?, ?
         FROM webhook_endpoints e WHERE e.session_id = ?",
    )
    .bind(&id)
    .bind(now)
    .bind(now)
    .bind(&id)
    .execute(&db)
    .await
    .expect("a failed delivery");

    let mine = |list: &Value, session: &str| {
        list.as_array()
            .expect("a list")
            .iter()
            .find(|a| a["sessionId"] == session)
            .cloned()
    };
    let mut seen = Value::Null;
    for _ in 0..50 {
        let (s, list) = call(admin.get(app.url("/api/sessions/activity"))).await;
        assert_eq!(s, 200, "{list}");
        seen = list;
        let a = mine(&seen, &id).expect("the linked session");
        if a["messagesIn24h"] == 2 && a["messagesOut24h"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let a = mine(&seen, &id).expect("the linked session");
    assert_eq!(
        (&a["messagesIn24h"], &a["messagesOut24h"]),
        (&json!(2), &json!(1)),
        "{seen}"
    );
    assert!(
        a["lastActivityAt"].as_i64().expect("a time") > day_ago,
        "{a}"
    );
    assert_eq!(
        (&a["webhooksPending"], &a["webhooksFailed"]),
        (&json!(1), &json!(1)),
        "{a}"
    );
    let q = mine(&seen, &quiet).expect("the quiet session");
    assert_eq!(q["messagesIn24h"], 0);
    assert!(q["lastActivityAt"].is_null(), "{q}");
    // The admin sees Budi's session too; Budi sees only his.
    assert_eq!(
        mine(&seen, &theirs).expect("Budi's session")["ownerUsername"],
        "budi",
        "{seen}"
    );
    assert_eq!(a["ownerUsername"], "admin");
    let (s, list) = call(budi.get(app.url("/api/sessions/activity"))).await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["sessionId"], theirs.as_str());
}

/// The Sessions list's stream: an empty list at once (read everything), then the sessions
/// whose messages changed once committed — only those the caller may see.
#[tokio::test]
async fn the_list_stream_names_what_changed_and_only_what_you_may_see() {
    let app = TestApp::start().await;
    let (admin, budi, _) = app.admin_and_user().await;
    let mine = app.connected_session(&budi, "628100000901").await;
    let theirs = app.connected_session(&admin, "628100000902").await;
    // Let the linking's own state changes pass before listening.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let mut budis = Sse::open(&budi, app.url("/api/sessions/events")).await;
    let mut admins = Sse::open(&admin, app.url("/api/sessions/events")).await;
    assert_eq!(
        budis.changed().await,
        Vec::<String>::new(),
        "first: read it all"
    );
    assert_eq!(admins.changed().await, Vec::<String>::new());

    app.incoming(&admin, &theirs, "6282222222301", "untuk admin")
        .await;
    app.incoming(&budi, &mine, "6282222222302", "untuk budi")
        .await;
    // Budi hears of his session only; the admin hears of both.
    assert_eq!(budis.changed().await, vec![mine.clone()]);
    let mut heard = admins.changed().await;
    while heard.len() < 2 {
        let more = admins.changed().await;
        assert!(!more.is_empty(), "no empty event in between");
        heard.extend(more);
        heard.sort();
        heard.dedup();
    }
    heard.sort();
    let mut both = vec![mine.clone(), theirs.clone()];
    both.sort();
    assert_eq!(heard, both);

    // A message we send is a change too, once recorded.
    let (s, b) = call(
        budi.post(app.url(&format!("/send-message?session={mine}")))
            .json(&json!({"to": "6282222222302", "message": "siap"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(budis.changed().await, vec![mine.clone()]);
}

/// A page of the activity figures is the page of `GET /api/sessions` with the same `limit`
/// and `cursor`: only those sessions are counted, with the same next cursor.
#[tokio::test]
async fn activity_pages_like_the_session_list() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let mut made = Vec::new();
    for name in ["satu", "dua", "tiga"] {
        made.push(app.create_session(&admin, name).await);
    }
    let ids = |list: &Value| -> Vec<String> {
        list.as_array()
            .expect("a list")
            .iter()
            .map(|a| a["sessionId"].as_str().expect("id").to_string())
            .collect()
    };
    let (s, all) = call(admin.get(app.url("/api/sessions/activity"))).await;
    assert_eq!(s, 200, "{all}");
    assert_eq!(ids(&all), made);

    let r = admin
        .get(app.url("/api/sessions/activity?limit=2"))
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), 200);
    let next = r.headers()["x-next-cursor"]
        .to_str()
        .expect("cursor")
        .to_string();
    let first: Value = r.json().await.expect("json");
    assert_eq!(ids(&first), made[..2]);
    let listed = admin
        .get(app.url("/api/sessions?limit=2"))
        .send()
        .await
        .expect("list page");
    assert_eq!(
        listed.headers()["x-next-cursor"].to_str().ok(),
        Some(next.as_str())
    );

    let r = admin
        .get(app.url(&format!("/api/sessions/activity?limit=2&cursor={next}")))
        .send()
        .await
        .expect("page 2");
    assert!(r.headers().get("x-next-cursor").is_none(), "the last page");
    let second: Value = r.json().await.expect("json");
    assert_eq!(ids(&second), made[2..]);

    let (s, b) = call(admin.get(app.url("/api/sessions/activity?limit=0"))).await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    let (s, b) = call(admin.get(app.url("/api/sessions/activity?limit=2&cursor=nope"))).await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
}

/// The list stream of an admin names anyone's sessions; demoted, that admin's stream ends
/// (within the few seconds of the credential re-check) instead of going on naming them.
#[tokio::test]
async fn the_list_stream_ends_when_what_it_may_show_changes() {
    let app = TestApp::start().await;
    let (admin, budi, u) = app.admin_and_user().await;
    let budi_id = u["id"].as_str().expect("id").to_string();
    let role = |r: &str| {
        admin
            .patch(app.url(&format!("/api/users/{budi_id}")))
            .json(&json!({"role": r}))
    };
    let (s, b) = call(role("admin")).await;
    assert_eq!(s, 200, "{b}");
    let mut sse = Sse::open(&budi, app.url("/api/sessions/events")).await;
    assert_eq!(sse.changed().await, Vec::<String>::new());
    let (s, b) = call(role("user")).await;
    assert_eq!(s, 200, "{b}");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, sse.stream.next()).await {
            Ok(None) | Ok(Some(Err(_))) => break,
            Ok(Some(Ok(_))) => continue,
            Err(_) => panic!("the stream still runs 10 s after the demotion"),
        }
    }
}
