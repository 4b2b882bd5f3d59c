//! Contract §12 on the simulator: the group API (list, read, create, members, subject and
//! description, invite links, join, leave), sends and mentions into a group, group messages
//! and member changes from the phones' side as webhooks, and the errors that keep bad input
//! out without touching what is stored.

use super::*;
use server_fn::ServerFn;

const ME: &str = "628100000401";

/// A connected session with a webhook receiver.
async fn setup(app: &TestApp, user: &str, phone: &str) -> (reqwest::Client, String, Receiver) {
    let (client, _) = app.register(user).await;
    let session = app.connected_session(&client, phone).await;
    let receiver = Receiver::start().await;
    app.set_webhook(&client, &session, &receiver.url, "s3cret")
        .await;
    (client, session, receiver)
}

async fn post(app: &TestApp, c: &reqwest::Client, path: &str, body: Value) -> (u16, Value) {
    call(c.post(app.url(path)).json(&body)).await
}

async fn get(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, Value) {
    call(c.get(app.url(path))).await
}

/// The `data` of the first `event` hit that satisfies `pred`.
async fn event_where(r: &Receiver, event: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let matches = |h: &Hit| {
        let j = h.json();
        j["event"] == event && pred(&j["data"])
    };
    let hits = r.wait_until(event, |hs| hs.iter().any(matches)).await;
    hits.iter().find(|h| matches(h)).expect("hit").json()["data"].clone()
}

fn roles(group: &Value) -> Vec<(String, String)> {
    group["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .map(|p| {
            (
                p["phoneNumber"].as_str().unwrap_or_default().to_string(),
                p["role"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_session_creates_manages_sends_to_leaves_and_rejoins_a_group() {
    let app = TestApp::start().await;
    let (c, s, hook) = setup(&app, "budi", ME).await;
    // budi registered first, so he is the admin who may mark numbers as not on WhatsApp; those
    // are left out of a new group.
    post(
        &app,
        &c,
        "/simulator/unregistered",
        json!({"numbers": ["6289999999999"]}),
    )
    .await;

    let groups = format!("/api/sessions/{s}/groups");
    let (st, g) = post(&app, &c, &groups, json!({"subject": "  Pesanan  ", "participants": ["6282222222222", "+62 833-3333-3333", "6289999999999"]})).await;
    assert_eq!(st, 200, "{g}");
    let gid = g["id"].as_str().expect("id").to_string();
    assert!(gid.ends_with("@g.us"), "{gid}");
    assert_eq!(g["subject"], "Pesanan");
    assert_eq!(g["owner"], ME);
    let r = |p: &str, role: &str| (p.to_string(), role.to_string());
    assert_eq!(
        roles(&g),
        [
            r(ME, "superadmin"),
            r("6282222222222", "member"),
            r("6283333333333", "member")
        ]
    );

    let (st, list) = get(&app, &c, &groups).await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(
        list,
        json!([{"id": gid, "subject": "Pesanan", "size": 3, "isAdmin": true}])
    );
    let one = format!("{groups}/{gid}");
    let (st, read) = get(&app, &c, &one).await;
    assert_eq!((st, &read), (200, &g));
    // The dashboard's session page gets them too: JID, subject, then each member and role.
    let (st, page) = call(
        c.post(app.url(app::api::GetSession::PATH))
            .header("accept", "application/json")
            .json(&json!({"id": s})),
    )
    .await;
    assert_eq!(st, 200, "{page}");
    assert_eq!(
        page[1],
        json!([[
            gid,
            "Pesanan",
            format!("{ME} superadmin"),
            "6282222222222 member",
            "6283333333333 member"
        ]])
    );

    // Members: one result per number as given, in order; a refusal does not stop the rest.
    let (st, b) = post(&app, &c, &format!("{one}/participants"), json!({"action": "add", "participants": ["6284444444444", "+62 822-2222-2222", "6289999999999"]})).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(
        b,
        json!({"success": true, "results": [
            {"input": "6284444444444", "phoneNumber": "6284444444444", "success": true},
            {"input": "+62 822-2222-2222", "phoneNumber": "6282222222222", "success": false, "error": "already"},
            {"input": "6289999999999", "phoneNumber": "6289999999999", "success": false, "error": "not_found"},
        ]})
    );
    let added = event_where(&hook, "group.participants", |d| d["action"] == "add").await;
    assert_eq!(
        (
            &added["group"],
            &added["participants"],
            &added["by"],
            &added["sessionId"]
        ),
        (
            &json!(gid),
            &json!(["6284444444444"]),
            &json!(ME),
            &json!(s)
        )
    );
    let (st, b) = post(
        &app,
        &c,
        &format!("{one}/participants"),
        json!({"action": "promote", "participants": ["6284444444444"]}),
    )
    .await;
    assert_eq!(
        (st, &b["results"][0]["success"]),
        (200, &json!(true)),
        "{b}"
    );
    let (st, b) = post(
        &app,
        &c,
        &format!("{one}/participants"),
        json!({"action": "remove", "participants": ["6283333333333"]}),
    )
    .await;
    assert_eq!(
        (st, &b["results"][0]["success"]),
        (200, &json!(true)),
        "{b}"
    );
    let (_, read) = get(&app, &c, &one).await;
    assert_eq!(
        roles(&read),
        [
            r(ME, "superadmin"),
            r("6282222222222", "member"),
            r("6284444444444", "admin")
        ]
    );

    // Subject and description; the answer is the group after the change.
    let (st, b) = call(
        c.patch(app.url(&one))
            .json(&json!({"subject": "Pesanan Desember", "description": "Sebelum jam 3"})),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(
        (&b["subject"], &b["description"]),
        (&json!("Pesanan Desember"), &json!("Sebelum jam 3"))
    );
    let upd = event_where(&hook, "group.update", |_| true).await;
    assert_eq!(
        (&upd["subject"], &upd["description"], &upd["by"]),
        (
            &json!("Pesanan Desember"),
            &json!("Sebelum jam 3"),
            &json!(ME)
        )
    );
    let (_, b) = call(c.patch(app.url(&one)).json(&json!({"description": ""}))).await;
    assert_eq!(
        b["description"],
        Value::Null,
        "\"\" removes the description"
    );

    // A text into the group, mentioning a member: the phone gets both.
    let (st, b) = post(
        &app,
        &c,
        "/send-message",
        json!({"to": gid, "message": "Halo @6282222222222", "mentions": ["+62 822-2222-2222"]}),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["to"], gid.as_str());
    let sent = app.sent(&c, &s).await;
    let last = sent.last().expect("sent");
    assert_eq!(
        (&last["to"], &last["mentions"]),
        (&json!(gid), &json!(["6282222222222"]))
    );
    let out = event_where(&hook, "message.out", |d| d["to"] == gid.as_str()).await;
    assert_eq!(out["message"], "Halo @6282222222222");

    // The invite link, then leaving: the group is gone from the list and refuses sends.
    let (st, b) = get(&app, &c, &format!("{one}/invite")).await;
    assert_eq!(st, 200, "{b}");
    let link = b["link"].as_str().expect("link").to_string();
    assert!(link.starts_with("https://chat.whatsapp.com/"), "{link}");
    let (st, b) = post(&app, &c, &format!("{one}/leave"), json!({})).await;
    assert_eq!(st, 200, "{b}");
    let left = event_where(&hook, "group.participants", |d| d["action"] == "leave").await;
    assert_eq!(left["participants"], json!([ME]));
    assert_eq!(get(&app, &c, &groups).await.1, json!([]));
    let (st, b) = get(&app, &c, &one).await;
    assert_eq!((st, b["error"].as_str()), (404, Some("GROUP_NOT_FOUND")));
    let (st, b) = post(
        &app,
        &c,
        "/send-message",
        json!({"to": gid, "message": "masih di sini?"}),
    )
    .await;
    assert_eq!(
        (st, b["error"].as_str()),
        (404, Some("GROUP_NOT_FOUND")),
        "{b}"
    );

    // Joining back by the link, as a member now.
    let (st, b) = post(&app, &c, &format!("{groups}/join"), json!({"link": link})).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(
        b,
        json!({"success": true, "id": gid, "pendingApproval": false})
    );
    event_where(&hook, "group.participants", |d| d["action"] == "join").await;
    let (_, list) = get(&app, &c, &groups).await;
    assert_eq!(list[0]["isAdmin"], false);

    // Groups are WhatsApp's, not the process's: they are still there after a restart.
    let app = app.restart().await;
    app.wait_status(&c, &s, "connected").await;
    let (st, list) = get(&app, &c, &groups).await;
    assert_eq!(
        (st, list[0]["id"].as_str()),
        (200, Some(gid.as_str())),
        "{list}"
    );
}

#[tokio::test]
async fn group_messages_answers_and_member_changes_arrive_with_the_group_and_the_author() {
    let app = TestApp::start().await;
    let (c, s, hook) = setup(&app, "siti", ME).await;
    // Someone else's group; the session is a plain member.
    let gid = app
        .sim_group(&c, &s, &["6281111111111", "6282222222222"])
        .await;
    let (_, list) = get(&app, &c, &format!("/api/sessions/{s}/groups")).await;
    assert_eq!(
        list,
        json!([{"id": gid, "subject": "Grup", "size": 3, "isAdmin": false}])
    );

    // A member writes in the group: `chat` is the group, `from` the member.
    let (st, b) = post(
        &app,
        &c,
        &format!("/simulator/sessions/{s}/incoming"),
        json!({"chat": gid, "from": "6282222222222", "message": "Siap kirim", "pushName": "Andi"}),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let mid = b["messageId"].as_str().expect("id").to_string();
    let m = event_where(&hook, "message.in", |d| d["messageId"] == mid.as_str()).await;
    assert_eq!(
        (&m["chat"], &m["isGroup"], &m["from"], &m["pushName"]),
        (
            &json!(gid),
            &json!(true),
            &json!("6282222222222"),
            &json!("Andi")
        )
    );
    // One-to-one: `chat` equals `from`, not a group.
    let one = app.incoming(&c, &s, "6283333333333", "halo").await;
    let m = event_where(&hook, "message.in", |d| d["messageId"] == one.as_str()).await;
    assert_eq!(
        (&m["chat"], &m["isGroup"], &m["from"]),
        (
            &json!("6283333333333"),
            &json!(false),
            &json!("6283333333333")
        )
    );
    assert!(m.get("participant").is_none(), "{m}");

    // A reaction in the group names both too.
    let (st, b) = post(
        &app,
        &c,
        &format!("/simulator/sessions/{s}/reaction"),
        json!({"chat": gid, "from": "6281111111111", "messageId": mid, "emoji": "👍"}),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let r = event_where(&hook, "message.reaction", |_| true).await;
    assert_eq!(
        (&r["chat"], &r["isGroup"], &r["from"], &r["messageId"]),
        (
            &json!(gid),
            &json!(true),
            &json!("6281111111111"),
            &json!(mid)
        )
    );

    // A menu sent to the group: a member's tap resolves against it and names them.
    let (st, b) = post(&app, &c, "/send-interactive", json!({"to": gid, "type": "button", "text": "Kirim hari ini?", "buttons": [{"id": "ya", "text": "Ya"}, {"id": "tidak", "text": "Tidak"}]})).await;
    assert_eq!(st, 200, "{b}");
    let menu = b["messageId"].as_str().expect("id").to_string();
    let (st, b) = post(
        &app,
        &c,
        &format!("/simulator/sessions/{s}/button-reply"),
        json!({"chat": gid, "from": "6281111111111", "messageId": menu, "buttonId": "ya"}),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let tap = event_where(&hook, "interaction.button", |d| {
        d["messageId"] == menu.as_str()
    })
    .await;
    assert_eq!(
        (
            &tap["chat"],
            &tap["isGroup"],
            &tap["from"],
            &tap["buttonText"]
        ),
        (
            &json!(gid),
            &json!(true),
            &json!("6281111111111"),
            &json!("Ya")
        )
    );

    // The log keeps the group as the chat and the member as the sender.
    let (_, log) = get(&app, &c, &format!("/api/messages?session={s}")).await;
    let row = log
        .as_array()
        .expect("log")
        .iter()
        .find(|r| r["id"] == mid.as_str())
        .expect("logged")
        .clone();
    assert_eq!(
        (&row["chat"], &row["sender"]),
        (&json!(gid), &json!("6282222222222"))
    );

    // The dashboard's Messages page shows the member beside the group.
    let (st, rows) = call(
        c.post(app.url(app::api::ListMessages::PATH))
            .header("accept", "application/json")
            .json(&json!({"filter": {}})),
    )
    .await;
    assert_eq!(st, 200, "{rows}");
    let row = rows
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["id"] == mid.as_str())
        .expect("the group message")
        .clone();
    assert_eq!(row["chat"], format!("{gid} · 6282222222222"));
    let solo = rows
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["id"] == one.as_str())
        .expect("the one-to-one message")
        .clone();
    assert_eq!(
        solo["chat"], "6283333333333",
        "no author beside a person's chat"
    );

    // Members change on the phones' side: stored and reported before the call answers.
    let path = format!("/simulator/sessions/{s}/groups/{gid}/participants");
    let (st, b) = post(
        &app,
        &c,
        &path,
        json!({"action": "add", "participants": ["6284444444444"], "by": "6281111111111"}),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let d = event_where(&hook, "group.participants", |d| d["action"] == "add").await;
    assert_eq!(
        (&d["participants"], &d["by"]),
        (&json!(["6284444444444"]), &json!("6281111111111"))
    );
    let (st, b) = post(
        &app,
        &c,
        &path,
        json!({"action": "leave", "participants": ["6282222222222"]}),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let d = event_where(&hook, "group.participants", |d| d["action"] == "leave").await;
    assert_eq!(d["by"], "6282222222222", "who leaves made the change");
    let (_, g) = get(&app, &c, &format!("/api/sessions/{s}/groups/{gid}")).await;
    let members: Vec<String> = roles(&g).into_iter().map(|(p, _)| p).collect();
    assert_eq!(members, ["6281111111111", ME, "6284444444444"]);

    // A change the server could not store is not made: the phone side sends it again.
    app.refuse_inserts("webhook_events").await;
    let promote =
        json!({"action": "promote", "participants": ["6284444444444"], "by": "6281111111111"});
    let (st, b) = post(&app, &c, &path, promote.clone()).await;
    assert_eq!(
        (st, b["error"].as_str()),
        (503, Some("SERVICE_UNAVAILABLE")),
        "{b}"
    );
    let (_, g) = get(&app, &c, &format!("/api/sessions/{s}/groups/{gid}")).await;
    assert!(
        roles(&g).contains(&("6284444444444".into(), "member".into())),
        "{g}"
    );
    app.accept_inserts("webhook_events").await;
    let (st, b) = post(&app, &c, &path, promote).await;
    assert_eq!(st, 200, "{b}");
    let d = event_where(&hook, "group.participants", |d| d["action"] == "promote").await;
    assert_eq!(
        d["participants"],
        json!(["6284444444444"]),
        "the retry carries the change"
    );

    // A plain member cannot manage members or get the invite link.
    let (st, b) = post(
        &app,
        &c,
        &format!("/api/sessions/{s}/groups/{gid}/participants"),
        json!({"action": "remove", "participants": ["6284444444444"]}),
    )
    .await;
    assert_eq!(
        (st, b["error"].as_str()),
        (403, Some("NOT_GROUP_ADMIN")),
        "{b}"
    );
    let (st, b) = get(&app, &c, &format!("/api/sessions/{s}/groups/{gid}/invite")).await;
    assert_eq!(
        (st, b["error"].as_str()),
        (403, Some("NOT_GROUP_ADMIN")),
        "{b}"
    );

    // Removed on the phones' side: the session is out, and messages there are refused.
    let (st, b) = post(
        &app,
        &c,
        &path,
        json!({"action": "remove", "participants": [ME], "by": "6281111111111"}),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(
        get(&app, &c, &format!("/api/sessions/{s}/groups")).await.1,
        json!([])
    );
    let (st, b) = post(
        &app,
        &c,
        &format!("/simulator/sessions/{s}/incoming"),
        json!({"chat": gid, "from": "6282222222222", "message": "halo?"}),
    )
    .await;
    assert_eq!(
        (st, b["error"].as_str()),
        (404, Some("GROUP_NOT_FOUND")),
        "{b}"
    );
}

#[tokio::test]
async fn bad_group_input_gets_the_contract_codes_and_changes_nothing() {
    let app = TestApp::start().await;
    let (c, s, _hook) = setup(&app, "dewi", ME).await;
    let groups = format!("/api/sessions/{s}/groups");
    let (_, g) = post(
        &app,
        &c,
        &groups,
        json!({"subject": "Toko", "participants": ["6282222222222"]}),
    )
    .await;
    let gid = g["id"].as_str().expect("id").to_string();
    let one = format!("{groups}/{gid}");
    let before = get(&app, &c, &one).await.1;

    let cases: Vec<(&str, String, Value, u16, &str)> = vec![
        (
            "POST",
            groups.clone(),
            json!({"subject": "   "}),
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            groups.clone(),
            json!({"subject": "x".repeat(101)}),
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            groups.clone(),
            json!({"subject": "G", "participants": [gid]}),
            400,
            "INVALID_PHONE",
        ),
        (
            "POST",
            groups.clone(),
            json!({"subject": "G", "participants": ["12ab"]}),
            400,
            "INVALID_PHONE",
        ),
        (
            "POST",
            groups.clone(),
            json!({"subject": "G", "members": []}),
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            format!("{one}/participants"),
            json!({"action": "kick", "participants": ["6283333333333"]}),
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            format!("{one}/participants"),
            json!({"action": "add", "participants": []}),
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            format!("{one}/participants"),
            json!({"action": "add", "participants": ["6283333333333", "nope"]}),
            400,
            "INVALID_PHONE",
        ),
        ("PATCH", one.clone(), json!({}), 400, "INVALID_REQUEST"),
        (
            "PATCH",
            one.clone(),
            json!({"subject": ""}),
            400,
            "INVALID_REQUEST",
        ),
        (
            "PATCH",
            one.clone(),
            json!({"description": "d".repeat(2049)}),
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            format!("{groups}/join"),
            json!({"link": "https://example.com/x"}),
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            format!("{groups}/join"),
            json!({"link": "https://chat.whatsapp.com/AAAAAAAAAAAAAAAAAAAAAA"}),
            404,
            "GROUP_NOT_FOUND",
        ),
        (
            "GET",
            format!("{groups}/not-a-group"),
            Value::Null,
            400,
            "INVALID_REQUEST",
        ),
        (
            "GET",
            format!("{groups}/120363000000000000@g.us"),
            Value::Null,
            404,
            "GROUP_NOT_FOUND",
        ),
        (
            "POST",
            "/send-message".into(),
            json!({"to": gid, "message": "x", "mentions": [gid]}),
            400,
            "INVALID_PHONE",
        ),
        (
            "POST",
            "/send-message".into(),
            json!({"to": "120363000000000000@g.us", "message": "x"}),
            404,
            "GROUP_NOT_FOUND",
        ),
        (
            "POST",
            format!("/simulator/sessions/{s}/incoming"),
            json!({"chat": "6282222222222", "from": "6283333333333", "message": "x"}),
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            format!("/simulator/sessions/{s}/incoming"),
            json!({"chat": gid, "from": gid, "message": "x"}),
            400,
            "INVALID_PHONE",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let mut req = c.request(method.parse().expect("method"), app.url(&path));
        if !body.is_null() {
            req = req.json(&body);
        }
        let (st, b) = call(req).await;
        assert_eq!(
            (st, b["error"].as_str()),
            (status, Some(code)),
            "{method} {path} {body}: {b}"
        );
        assert_eq!(b["success"], false);
    }
    assert_eq!(get(&app, &c, &one).await.1, before, "nothing changed");
    assert_eq!(
        get(&app, &c, &groups).await.1.as_array().map(Vec::len),
        Some(1)
    );
    assert!(app.sent(&c, &s).await.is_empty(), "nothing reached a phone");

    // Another user's session is not found, and a key scoped to another session cannot reach it.
    let (other, _) = app.register("eko").await;
    let (st, b) = get(&app, &other, &groups).await;
    assert_eq!((st, b["error"].as_str()), (404, Some("SESSION_NOT_FOUND")));
}
