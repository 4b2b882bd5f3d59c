//! Auto-reply on the simulator: match modes, case and whitespace, order, per-rule enable, the
//! switch, no answers to the phone's own messages, the cooldown, groups, isolation between
//! users, and validation (contract §6).

use super::*;
use std::time::Duration;

async fn rule(app: &TestApp, c: &reqwest::Client, body: Value) -> Value {
    let (s, b) = call(c.post(app.url("/api/auto-reply/rules")).json(&body)).await;
    assert_eq!(s, 200, "{b}");
    b
}

async fn switch_on(app: &TestApp, c: &reqwest::Client) {
    let (s, b) = call(
        c.put(app.url("/api/auto-reply"))
            .json(&json!({"enabled": true})),
    )
    .await;
    assert_eq!((s, b), (200, json!({"enabled": true})));
}

/// Sends `text` from `from` and answers the session's reply, waiting up to 5 s for one.
async fn ask(
    app: &TestApp,
    c: &reqwest::Client,
    session: &str,
    from: &str,
    text: &str,
) -> Option<Value> {
    ask_within(app, c, session, from, text, 500).await
}

/// Sends `text` and checks that no reply comes within 300 ms.
async fn ask_none(
    app: &TestApp,
    c: &reqwest::Client,
    session: &str,
    from: &str,
    text: &str,
) -> bool {
    ask_within(app, c, session, from, text, 30).await.is_none()
}

async fn ask_within(
    app: &TestApp,
    c: &reqwest::Client,
    session: &str,
    from: &str,
    text: &str,
    polls: usize,
) -> Option<Value> {
    let before = app.sent(c, session).await.len();
    let id = app.incoming(c, session, from, text).await;
    for _ in 0..polls {
        let sent = app.sent(c, session).await;
        if sent.len() > before {
            let reply = sent[before].clone();
            assert_eq!(
                reply["quotedMessageId"],
                id.as_str(),
                "replies quote the message"
            );
            return Some(reply);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

fn text(v: &Option<Value>) -> Option<&str> {
    v.as_ref().and_then(|v| v["message"].as_str())
}

#[tokio::test]
async fn match_modes_case_order_enable_and_the_switch() {
    let app = TestApp::start_with(|c| c.auto_reply_cooldown_secs = 0).await;
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "6281111111111").await;
    let exact = rule(
        &app,
        &admin,
        json!({"keyword": "HARGA", "match": "exact", "reply": "exact price"}),
    )
    .await;
    for field in [
        "id",
        "userId",
        "position",
        "keyword",
        "match",
        "reply",
        "enabled",
        "allowGroups",
    ] {
        assert!(exact.get(field).is_some(), "{field} in {exact}");
    }
    assert_eq!(exact["position"], 0);
    rule(
        &app,
        &admin,
        json!({"keyword": "harga", "match": "contains", "reply": "contains price"}),
    )
    .await;
    rule(
        &app,
        &admin,
        json!({"keyword": "menu", "match": "starts_with", "reply": "the menu"}),
    )
    .await;
    rule(
        &app,
        &admin,
        json!({"keyword": "jam buka", "match": "word", "reply": "we open at 9"}),
    )
    .await;
    rule(
        &app,
        &admin,
        json!({"keyword": "über", "match": "exact", "reply": "umlaut"}),
    )
    .await;

    assert!(
        ask_none(&app, &admin, &id, "6282222222222", "harga").await,
        "the switch is off by default"
    );
    switch_on(&app, &admin).await;
    let from = "6282222222222";
    assert_eq!(
        text(&ask(&app, &admin, &id, from, "  harga  ").await),
        Some("exact price")
    );
    assert_eq!(
        text(&ask(&app, &admin, &id, from, "Berapa HARGANYA?").await),
        Some("contains price")
    );
    assert_eq!(
        text(&ask(&app, &admin, &id, from, "MENU hari ini").await),
        Some("the menu")
    );
    assert!(ask_none(&app, &admin, &id, from, "lihat menu").await);
    assert_eq!(
        text(&ask(&app, &admin, &id, from, "Jam buka toko?").await),
        Some("we open at 9")
    );
    assert!(
        ask_none(&app, &admin, &id, from, "jam bukaan").await,
        "whole words only"
    );
    assert_eq!(
        text(&ask(&app, &admin, &id, from, "ÜBER").await),
        Some("umlaut")
    );

    // Disable the exact rule: the next one in order answers.
    let eid = exact["id"].as_str().expect("id");
    let (s, b) = call(
        admin
            .put(app.url(&format!("/api/auto-reply/rules/{eid}")))
            .json(&json!({"enabled": false})),
    )
    .await;
    assert_eq!((s, b["enabled"].as_bool()), (200, Some(false)));
    assert_eq!(
        text(&ask(&app, &admin, &id, from, "harga").await),
        Some("contains price")
    );
    // Move the contains rule below the menu rule, and the exact one back on top.
    let (_, list) = call(admin.get(app.url("/api/auto-reply/rules"))).await;
    let contains_id = list[1]["id"].as_str().expect("id").to_string();
    let (s, b) = call(
        admin
            .put(app.url(&format!("/api/auto-reply/rules/{contains_id}")))
            .json(&json!({"position": 2})),
    )
    .await;
    assert_eq!((s, b["position"].as_i64()), (200, Some(2)));
    let (_, list) = call(admin.get(app.url("/api/auto-reply/rules"))).await;
    let order: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["reply"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        order,
        [
            "exact price",
            "the menu",
            "contains price",
            "we open at 9",
            "umlaut"
        ]
    );
    assert_eq!(
        text(&ask(&app, &admin, &id, from, "menu harga").await),
        Some("the menu"),
        "order decides"
    );

    let (s, _) = call(
        admin
            .put(app.url("/api/auto-reply"))
            .json(&json!({"enabled": false})),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        ask_none(&app, &admin, &id, from, "menu").await,
        "switched off"
    );
    let (_, sw) = call(admin.get(app.url("/api/auto-reply"))).await;
    assert_eq!(sw, json!({"enabled": false}));
}

#[tokio::test]
async fn replies_are_recorded_and_sent_as_auto_reply_webhooks() {
    let app = TestApp::start().await;
    let rx = Receiver::start().await;
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "6281111111111").await;
    app.set_webhook(&admin, &id, &rx.url, "s").await;
    rule(
        &app,
        &admin,
        json!({"keyword": "halo", "match": "exact", "reply": "Halo juga!"}),
    )
    .await;
    switch_on(&app, &admin).await;
    let reply = ask(&app, &admin, &id, "6282222222222", "halo")
        .await
        .expect("a reply");
    let hit = rx.wait_event("message.out").await;
    let data = hit.json()["data"].clone();
    assert_eq!(
        (data["source"].as_str(), data["message"].as_str()),
        (Some("auto_reply"), Some("Halo juga!"))
    );
    assert_eq!(data["messageId"], reply["messageId"]);
    assert_eq!(data["to"], "6282222222222");
    let db = app.db().await;
    let (source,): (String,) = sqlx::query_as("SELECT source FROM messages WHERE id = ?")
        .bind(reply["messageId"].as_str())
        .fetch_one(&db)
        .await
        .expect("recorded");
    assert_eq!(source, "auto_reply");
}

#[tokio::test]
async fn never_answers_the_phone_itself_and_cools_down_per_contact_and_rule() {
    let app = TestApp::start_with(|c| c.auto_reply_cooldown_secs = 2).await;
    let rx = Receiver::start().await;
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "6281111111111").await;
    app.set_webhook(&admin, &id, &rx.url, "s").await;
    rule(
        &app,
        &admin,
        json!({"keyword": "promo", "match": "contains", "reply": "Promo!"}),
    )
    .await;
    rule(
        &app,
        &admin,
        json!({"keyword": "diskon", "match": "contains", "reply": "Diskon!"}),
    )
    .await;
    switch_on(&app, &admin).await;

    // Typed on the linked phone: a message.out from the device, never answered.
    let (s, _) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{id}/incoming")))
            .json(&json!({"from": "6282222222222", "message": "promo untuk kamu", "fromMe": true})),
    )
    .await;
    assert_eq!(s, 200);
    let hit = rx.wait_event("message.out").await;
    assert_eq!(hit.json()["data"]["source"], "device");
    assert_eq!(hit.json()["data"]["to"], "6282222222222");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        app.sent(&admin, &id).await.is_empty(),
        "the phone's own message is not answered"
    );

    assert!(
        ask(&app, &admin, &id, "6282222222222", "promo?")
            .await
            .is_some()
    );
    assert!(
        ask_none(&app, &admin, &id, "6282222222222", "promo??").await,
        "same rule, same contact: cooling down"
    );
    assert!(
        ask(&app, &admin, &id, "6283333333333", "promo?")
            .await
            .is_some(),
        "another contact"
    );
    assert!(
        ask(&app, &admin, &id, "6282222222222", "diskon?")
            .await
            .is_some(),
        "another rule"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(
        ask(&app, &admin, &id, "6282222222222", "promo?")
            .await
            .is_some(),
        "after the cooldown"
    );
}

#[tokio::test]
async fn groups_only_with_permission_and_rules_stay_with_their_owner() {
    let app = TestApp::start_with(|c| c.auto_reply_cooldown_secs = 0).await;
    let (admin, budi, _) = app.admin_and_user().await;
    let (siti, _) = app.register("siti").await;
    let b_session = app.connected_session(&budi, "6281111111111").await;
    let s_session = app.connected_session(&siti, "6282222222222").await;
    let r = rule(
        &app,
        &budi,
        json!({"keyword": "info", "match": "exact", "reply": "Info Budi"}),
    )
    .await;
    switch_on(&app, &budi).await;
    switch_on(&app, &siti).await;

    assert!(
        ask_none(&app, &siti, &s_session, "6289999999999", "info").await,
        "Budi's rule never fires on Siti's session"
    );
    assert!(
        ask(&app, &budi, &b_session, "6289999999999", "info")
            .await
            .is_some()
    );

    let gid = app.sim_group(&budi, &b_session, &["6289999999999"]).await;
    let group = |text: &str| json!({"chat": gid, "from": "6289999999999", "message": text});
    call(
        budi.post(app.url(&format!("/simulator/sessions/{b_session}/incoming")))
            .json(&group("info")),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        app.sent(&budi, &b_session).await.len(),
        1,
        "groups are not answered by default"
    );
    let rid = r["id"].as_str().expect("id");
    call(
        budi.put(app.url(&format!("/api/auto-reply/rules/{rid}")))
            .json(&json!({"groups": true})),
    )
    .await;
    call(
        budi.post(app.url(&format!("/simulator/sessions/{b_session}/incoming")))
            .json(&group("info")),
    )
    .await;
    for _ in 0..1000 {
        if app.sent(&budi, &b_session).await.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sent = app.sent(&budi, &b_session).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1]["to"], gid.as_str());

    // Rules are private: Siti sees none and cannot touch Budi's; the admin sees all.
    let (_, mine) = call(siti.get(app.url("/api/auto-reply/rules"))).await;
    assert_eq!(mine, json!([]));
    let (s, b) = call(
        siti.put(app.url(&format!("/api/auto-reply/rules/{rid}")))
            .json(&json!({"reply": "hijacked"})),
    )
    .await;
    assert_error(s, &b, 404, "NOT_FOUND");
    let (s, b) = call(siti.delete(app.url(&format!("/api/auto-reply/rules/{rid}")))).await;
    assert_error(s, &b, 404, "NOT_FOUND");
    let (s, b) = call(siti.get(app.url("/api/auto-reply/rules?all=true"))).await;
    assert_error(s, &b, 403, "FORBIDDEN");
    let (s, all) = call(admin.get(app.url("/api/auto-reply/rules?all=true"))).await;
    assert_eq!((s, all.as_array().map(Vec::len)), (200, Some(1)));
    let owner = all[0]["userId"].as_str().expect("owner");
    let (_, users) = call(admin.get(app.url("/api/users"))).await;
    let name = users
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["id"] == owner)
        .expect("owner listed")["username"]
        .clone();
    assert_eq!(all[0]["username"], name, "an admin sees whose rule it is");
}

#[tokio::test]
async fn bad_rules_are_refused_and_nothing_is_half_saved() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let cases = [
        (
            json!({"keyword": "  ", "match": "exact", "reply": "x"}),
            "keyword",
        ),
        (
            json!({"keyword": "x", "match": "fuzzy", "reply": "x"}),
            "fuzzy",
        ),
        (
            json!({"keyword": "x", "match": "exact", "reply": "r".repeat(5000)}),
            "reply",
        ),
        (json!({"keyword": "x", "reply": "x"}), "match"),
        (json!({"keyword": "x", "match": "exact"}), "reply"),
        (
            json!({"keyword": "k".repeat(201), "match": "exact", "reply": "x"}),
            "keyword",
        ),
        (
            json!({"keyword": "x", "match": "exact", "reply": "x", "colour": "red"}),
            "colour",
        ),
    ];
    for (body, field) in cases {
        let (s, b) = call(admin.post(app.url("/api/auto-reply/rules")).json(&body)).await;
        assert_error(s, &b, 400, "INVALID_REQUEST");
        assert!(
            b["message"].as_str().expect("msg").contains(field),
            "names {field}: {b}"
        );
    }
    let good = rule(
        &app,
        &admin,
        json!({"keyword": "x", "match": "exact", "reply": "y"}),
    )
    .await;
    let gid = good["id"].as_str().expect("id");
    let (s, b) = call(
        admin
            .put(app.url(&format!("/api/auto-reply/rules/{gid}")))
            .json(&json!({"keyword": "", "reply": "changed"})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    let (_, list) = call(admin.get(app.url("/api/auto-reply/rules"))).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["reply"], "y", "the refused update changed nothing");
    let (s, _) = call(admin.delete(app.url(&format!("/api/auto-reply/rules/{gid}")))).await;
    assert_eq!(s, 200);
    let (s, b) = call(
        admin
            .put(app.url("/api/auto-reply"))
            .json(&json!({"enabled": "yes"})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
}

#[tokio::test]
async fn a_keyword_can_open_a_menu_whose_answers_resolve() {
    let app = TestApp::start_with(|c| c.auto_reply_cooldown_secs = 0).await;
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "6281111111111").await;
    let rx = Receiver::start().await;
    app.set_webhook(&admin, &id, &rx.url, "s3cret").await;
    switch_on(&app, &admin).await;
    let menu = rule(
        &app,
        &admin,
        json!({"keyword": "menu", "match": "exact", "reply": "Mau pesan apa?",
               "interactive": {"type": "button", "footer": "Pilih satu",
                               "buttons": [{"id": "kopi", "text": "Kopi"}, {"id": "teh", "text": "Teh"}]}}),
    )
    .await;
    assert_eq!(menu["interactive"]["buttons"][1]["id"], "teh", "{menu}");
    assert!(menu["interactive"].get("text").is_none(), "{menu}");

    let from = "6282222222222";
    let sent = ask(&app, &admin, &id, from, "MENU").await.expect("a reply");
    assert_eq!(sent["type"], "interactive");
    assert_eq!(sent["message"], "Mau pesan apa?");
    assert_eq!(sent["interactive"]["footer"], "Pilih satu");
    let mid = sent["messageId"].as_str().expect("id").to_string();
    let out = rx
        .wait_until("message.out", |h| {
            h.iter()
                .any(|h| h.json()["data"]["messageId"] == mid.as_str())
        })
        .await;
    let out = out
        .iter()
        .map(|h| h.json())
        .find(|j| j["data"]["messageId"] == mid.as_str())
        .expect("out");
    assert_eq!(
        (
            out["event"].as_str(),
            out["data"]["source"].as_str(),
            out["data"]["type"].as_str()
        ),
        (Some("message.out"), Some("auto_reply"), Some("interactive"))
    );
    let (s, b) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{id}/button-reply")))
            .json(&json!({"from": from, "messageId": mid, "buttonId": "teh"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let tap = rx.wait_event("interaction.button").await.json();
    assert_eq!(
        (
            tap["data"]["messageId"].as_str(),
            tap["data"]["buttonText"].as_str()
        ),
        (Some(mid.as_str()), Some("Teh"))
    );

    // With the session on the text fallback, the menu is a numbered text and "2" answers it —
    // without waking the auto-reply (a rule on "2" stays silent).
    call(
        admin
            .patch(app.url(&format!("/api/sessions/{id}")))
            .json(&json!({"fallback": "text"})),
    )
    .await;
    rule(
        &app,
        &admin,
        json!({"keyword": "2", "match": "exact", "reply": "two"}),
    )
    .await;
    let sent = ask(&app, &admin, &id, from, "menu").await.expect("a reply");
    assert_eq!(sent["type"], "text");
    assert_eq!(
        sent["message"],
        "Mau pesan apa?\n\n1. Kopi\n2. Teh\n\n_Pilih satu_"
    );
    let mid = sent["messageId"].as_str().expect("id").to_string();
    assert!(
        ask_none(&app, &admin, &id, from, "2").await,
        "the answer is not a keyword"
    );
    rx.wait_until("the text answer", |h| {
        h.iter().any(|h| {
            let j = h.json();
            j["event"] == "interaction.button" && j["data"]["messageId"] == mid.as_str()
        })
    })
    .await;

    // Bad menus are refused with the field named; null turns a rule back into plain text.
    let rid = menu["id"].as_str().expect("id");
    for (body, field) in [
        (
            json!({"interactive": {"type": "button", "buttons": []}}),
            "interactive.buttons",
        ),
        (
            json!({"interactive": {"type": "button", "buttons": [{"id": "a", "text": "Teks yang terlalu panjang"}]}}),
            "interactive.buttons[0].text",
        ),
        (
            json!({"interactive": {"type": "button", "text": "x", "buttons": [{"id": "a", "text": "A"}]}}),
            "interactive.text",
        ),
        (json!({"reply": "x".repeat(1100)}), "reply"),
        (
            json!({"interactive": {"type": "button", "fallback": "poll", "buttons": [{"id": "a", "text": "A"}]}}),
            "interactive.fallback",
        ),
    ] {
        let (s, b) = call(
            admin
                .put(app.url(&format!("/api/auto-reply/rules/{rid}")))
                .json(&body),
        )
        .await;
        assert_error(s, &b, 400, "INVALID_REQUEST");
        assert!(
            b["message"].as_str().expect("message").starts_with(field),
            "{field}: {b}"
        );
    }
    let (s, b) = call(
        admin
            .put(app.url(&format!("/api/auto-reply/rules/{rid}")))
            .json(&json!({"interactive": null})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert!(b.get("interactive").is_none(), "{b}");
    assert_eq!(b["reply"], "Mau pesan apa?", "nothing else changed");
    let sent = ask(&app, &admin, &id, from, "menu").await.expect("a reply");
    assert_eq!(
        (sent["type"].as_str(), sent["message"].as_str()),
        (Some("text"), Some("Mau pesan apa?"))
    );
}

/// A reply decided and recorded with its message, but not sent before the server stopped,
/// goes out when the session is back, under the id it was given (a phone that had it shows it
/// once); one owed for longer than ten minutes is dropped instead.
#[tokio::test]
async fn replies_owed_from_before_a_restart_are_sent_when_the_session_is_back() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "628111000700").await;
    rule(
        &app,
        &admin,
        json!({"keyword": "harga", "match": "contains", "reply": "Rp 10.000"}),
    )
    .await;
    switch_on(&app, &admin).await;
    let db = app.db().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let owed = |inbound: &'static str, planned: &'static str, at: i64| {
        let (db, id) = (db.clone(), id.clone());
        async move {
            sqlx::query(
                "INSERT INTO messages (id, session_id, direction, chat, sender, type, body, source,
                                       quoted_id, status, created_at, updated_at)
                 VALUES (?, ?, 'in', '628222000701', '628222000701', 'text', 'harga?', NULL, NULL,
                         'received', ?, ?),
                        (?, ?, 'out', '628222000701', NULL, 'text', 'Rp 10.000', 'auto_reply', ?,
                         'pending', ?, ?)",
            )
            .bind(inbound)
            .bind(&id)
            .bind(at)
            .bind(at)
            .bind(planned)
            .bind(&id)
            .bind(inbound)
            .bind(at)
            .bind(at)
            .execute(&db)
            .await
            .expect("insert");
        }
    };
    owed("3EB0IN00000000000000001", "3EB0OWED0000000000000001", now).await;
    owed(
        "3EB0IN00000000000000002",
        "3EB0OWED0000000000000002",
        now - 11 * 60 * 1000,
    )
    .await;

    // The link drops and comes back: the session reports Connected again.
    let (s, b) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{id}/disconnect")))
            .json(&json!({})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let mut sent = Vec::new();
    for _ in 0..250 {
        sent = app.sent(&admin, &id).await;
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["messageId"], "3EB0OWED0000000000000001");
    assert_eq!(sent[0]["message"], "Rp 10.000");
    assert_eq!(sent[0]["quotedMessageId"], "3EB0IN00000000000000001");
    let mut statuses = Vec::new();
    for _ in 0..100 {
        statuses = sqlx::query_as::<_, (String, String)>(
            "SELECT id, status FROM messages WHERE source = 'auto_reply' ORDER BY id",
        )
        .fetch_all(&db)
        .await
        .expect("select");
        if statuses.len() == 1 && statuses[0].1 != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        statuses,
        vec![("3EB0OWED0000000000000001".to_string(), "sent".to_string())],
        "the stale reply is dropped from the record, the owed one settled"
    );
}

/// A rule may answer with a file (kept from when the rule was saved, the reply as its caption)
/// or a place; bad files, places and mixes are refused without changing the rule; `null` makes
/// it a text reply again.
#[tokio::test]
async fn a_rule_answers_with_a_file_or_a_place_kept_from_when_it_was_saved() {
    use super::media::{PNG, b64, sha256_hex};
    let app = TestApp::start().await;
    let rx = Receiver::start().await;
    let (admin, _) = app.register("admin").await;
    let id = app.connected_session(&admin, "6281111111111").await;
    app.set_webhook(&admin, &id, &rx.url, "s").await;

    let katalog = rule(
        &app,
        &admin,
        json!({"keyword": "katalog", "match": "exact", "reply": "Katalog kami",
               "media": {"base64": b64(PNG), "filename": "katalog.png"}}),
    )
    .await;
    assert_eq!(
        katalog["media"],
        json!({"type": "image", "mimetype": "image/png", "size": PNG.len(),
               "filename": "katalog.png", "sha256": sha256_hex(PNG)})
    );
    let place = json!({"latitude": -6.2, "longitude": 106.816666,
                       "name": "Toko Kopi Gayo", "address": "Jl. Sabang No. 12"});
    let lokasi = rule(
        &app,
        &admin,
        json!({"keyword": "lokasi", "match": "exact", "location": place}),
    )
    .await;
    assert_eq!(
        (&lokasi["reply"], &lokasi["location"]),
        (&json!(""), &place)
    );
    switch_on(&app, &admin).await;

    // The file goes out as an image with its caption, downloadable like any sent file.
    let reply = ask(&app, &admin, &id, "6282222222222", "katalog")
        .await
        .expect("a reply");
    assert_eq!(reply["type"], "image", "{reply}");
    assert_eq!(reply["message"], "Katalog kami");
    assert_eq!(reply["media"]["sha256"], sha256_hex(PNG));
    let mid = reply["messageId"].as_str().expect("id");
    let r = admin
        .get(app.url(&format!("/api/messages/{mid}/media")))
        .send()
        .await
        .expect("media");
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.expect("bytes").as_ref(), PNG);
    let hit = rx.wait_event("message.out").await;
    let data = hit.json()["data"].clone();
    assert_eq!(
        (&data["source"], &data["type"], &data["media"]["sha256"]),
        (
            &json!("auto_reply"),
            &json!("image"),
            &json!(sha256_hex(PNG))
        )
    );

    // The place goes out as a location.
    let reply = ask(&app, &admin, &id, "6283333333333", "lokasi")
        .await
        .expect("a reply");
    assert_eq!(reply["type"], "location", "{reply}");
    assert_eq!(reply["location"], place, "{reply}");

    // Refused, naming what is wrong, and nothing saved or changed.
    let png = b64(PNG);
    let refused = [
        (
            json!({"keyword": "x", "match": "exact", "reply": "x", "media": {"base64": png},
                   "interactive": {"type": "button", "buttons": [{"id": "a", "text": "A"}]}}),
            400,
            "INVALID_REQUEST",
            "interactive, media, location",
        ),
        (
            json!({"keyword": "x", "match": "exact", "reply": "di sini", "location": place}),
            400,
            "INVALID_REQUEST",
            "reply",
        ),
        (
            json!({"keyword": "x", "match": "exact", "location": {"latitude": 91, "longitude": 0}}),
            400,
            "INVALID_REQUEST",
            "location.latitude",
        ),
        (
            json!({"keyword": "x", "match": "exact", "media": {"base64": "!!not base64!!"}}),
            400,
            "INVALID_REQUEST",
            "base64",
        ),
        (
            json!({"keyword": "x", "match": "exact", "media": {"base64": b64(b"plain words"), "type": "image"}}),
            400,
            "UNSUPPORTED_MEDIA",
            "image",
        ),
        (
            json!({"keyword": "x", "match": "exact", "media": {"url": "http://127.0.0.1:9/k.png"}}),
            502,
            "MEDIA_FETCH_FAILED",
            "url",
        ),
        (
            json!({"keyword": "x", "match": "exact", "media": {"filename": "k.png"}}),
            400,
            "INVALID_REQUEST",
            "base64",
        ),
    ];
    for (body, status, code, names) in refused {
        let (s, b) = call(admin.post(app.url("/api/auto-reply/rules")).json(&body)).await;
        assert_error(s, &b, status, code);
        assert!(
            b["message"].as_str().expect("msg").contains(names),
            "names {names}: {b}"
        );
    }
    let lid = lokasi["id"].as_str().expect("id");
    let kid = katalog["id"].as_str().expect("id");
    for (rule_id, body, names) in [
        (lid, json!({"reply": "di sini"}), "reply"),
        (lid, json!({"location": null}), "reply"),
        (
            lid,
            json!({"media": {"base64": png}}),
            "interactive, media, location",
        ),
        (kid, json!({"media": null, "reply": " "}), "reply"),
    ] {
        let (s, b) = call(
            admin
                .put(app.url(&format!("/api/auto-reply/rules/{rule_id}")))
                .json(&body),
        )
        .await;
        assert_error(s, &b, 400, "INVALID_REQUEST");
        assert!(
            b["message"].as_str().expect("msg").contains(names),
            "names {names}: {b}"
        );
    }
    let (_, list) = call(admin.get(app.url("/api/auto-reply/rules"))).await;
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    assert_eq!(list[0]["media"], katalog["media"], "unchanged: {list}");
    assert_eq!(list[1]["location"], place, "unchanged: {list}");

    // `null` makes them text replies again.
    let (s, b) = call(
        admin
            .put(app.url(&format!("/api/auto-reply/rules/{lid}")))
            .json(&json!({"location": null, "reply": "Kami di Jl. Sabang No. 12"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert!(b.get("location").is_none(), "{b}");
    let (s, b) = call(
        admin
            .put(app.url(&format!("/api/auto-reply/rules/{kid}")))
            .json(&json!({"media": null})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert!(b.get("media").is_none(), "{b}");
    let reply = ask(&app, &admin, &id, "6284444444444", "katalog")
        .await
        .expect("a reply");
    assert_eq!(
        (&reply["type"], &reply["message"]),
        (&json!("text"), &json!("Katalog kami"))
    );
}
