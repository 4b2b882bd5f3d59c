//! The authorization matrix: every operation of `/openapi.json` and every server function,
//! tried by every kind of caller against the resources of three owners, with the expected
//! answer derived from the table below. An operation without a row fails the test, so a new
//! endpoint cannot ship without saying who may call it.
//!
//! Callers: anonymous, user A, user B, the admin (cookies), A's key scoped to A1, A's key
//! scoped to A2, the admin's key scoped to the admin's session, a revoked key, a signed-out
//! cookie, a disabled user's key. Owners: A (sessions A1, A2), B (B1), the admin (M1).
//! Besides the status, every successful answer is searched for the ids of sessions the caller
//! may not reach: a list that leaks another tenant's session fails too.

use super::*;
use reqwest::Method;
use std::collections::{BTreeSet, HashMap};

/// Who may call an operation.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Access {
    /// Anyone; only a 5xx fails.
    Public,
    /// Anyone, and not checked at all: `/docs` answers 500 when the build left out Swagger UI's
    /// files (tests/it/openapi.rs covers it).
    Static,
    /// Any live credential, a scoped key included (lists narrow themselves).
    Caller,
    /// A live credential for a whole account: not a scoped key.
    Account,
    /// An administrator (cookie or unscoped key).
    Admin,
    /// An administrator, on a user or key `{id}` of the owner.
    AdminOn(Kind),
    /// The session `{S}` of the owner: its owner (a key scoped to it or unscoped), or an admin.
    Session,
    /// The owner's rule or key `{R}`: the owner's account (no scoped key), or an admin.
    Owned(Kind),
    /// A delivery `{R}` to the owner's session endpoint: like `Session`.
    Delivery,
    /// A media message `{R}` of the owner's session: like `Session`.
    Message,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    User,
    Key,
    Rule,
}

use Access::*;

/// `(operation, access, destructive)`. A destructive operation runs its allowed cases on a
/// fresh resource of the same owner, so it cannot take the shared ones away from later rows.
const REST: &[(&str, Access, bool)] = &[
    ("POST /api/auth/register", Public, false),
    ("POST /api/auth/login", Public, false),
    ("POST /api/auth/logout", Public, true),
    ("GET /healthz", Public, false),
    ("GET /openapi.json", Public, false),
    ("GET /docs", Static, false),
    ("GET /api/me", Caller, false),
    ("GET /api/sessions", Caller, false),
    ("GET /api/sessions/activity", Caller, false),
    ("GET /api/sessions/events", Caller, false),
    ("GET /api/messages", Caller, false),
    ("GET /api/webhooks/deliveries", Caller, false),
    ("POST /api/sessions", Account, false),
    ("GET /api/auto-reply", Account, false),
    ("PUT /api/auto-reply", Account, false),
    ("GET /api/auto-reply/rules", Account, false),
    ("POST /api/auto-reply/rules", Account, false),
    ("GET /api/keys", Account, false),
    ("POST /api/keys", Account, false),
    ("GET /api/users", Admin, false),
    ("POST /api/users", Admin, false),
    ("GET /api/settings", Admin, false),
    ("PUT /api/settings", Admin, false),
    ("GET /metrics", Admin, false),
    ("POST /simulator/unregistered", Admin, false),
    ("DELETE /api/keys/{id}", Owned(Kind::Key), true),
    ("PATCH /api/users/{id}", AdminOn(Kind::User), true),
    ("DELETE /api/users/{id}", AdminOn(Kind::User), true),
    ("GET /api/sessions/{id}", Session, false),
    ("PATCH /api/sessions/{id}", Session, false),
    ("DELETE /api/sessions/{id}", Session, true),
    ("POST /api/sessions/{id}/logout", Session, true),
    ("POST /api/sessions/{id}/stop", Session, true),
    ("POST /api/sessions/{id}/start", Session, false),
    ("POST /api/sessions/{id}/pair-code", Session, false),
    ("GET /api/sessions/{id}/events", Session, false),
    ("GET /api/sessions/{id}/chats", Session, false),
    ("GET /api/sessions/{id}/groups", Session, false),
    ("POST /api/sessions/{id}/groups", Session, false),
    ("POST /api/sessions/{id}/groups/join", Session, false),
    ("GET /api/sessions/{id}/groups/{gid}", Session, false),
    ("PATCH /api/sessions/{id}/groups/{gid}", Session, false),
    (
        "POST /api/sessions/{id}/groups/{gid}/participants",
        Session,
        false,
    ),
    ("GET /api/sessions/{id}/groups/{gid}/invite", Session, false),
    ("POST /api/sessions/{id}/groups/{gid}/leave", Session, false),
    ("GET /api/sessions/{id}/webhook", Session, false),
    ("PUT /api/sessions/{id}/webhook", Session, false),
    ("DELETE /api/sessions/{id}/webhook", Session, true),
    ("GET /status", Session, false),
    ("POST /send-message", Session, false),
    ("POST /send-interactive", Session, false),
    ("POST /send-media", Session, false),
    ("POST /send-location", Session, false),
    ("POST /send-contact", Session, false),
    ("POST /send-poll", Session, false),
    ("POST /send-reaction", Session, false),
    ("POST /edit-message", Session, false),
    ("POST /delete-message", Session, false),
    ("POST /send-presence", Session, false),
    ("POST /mark-read", Session, false),
    ("POST /check-numbers", Session, false),
    ("GET /api/messages/{id}/media", Message, false),
    ("GET /api/messages/{id}/events", Message, false),
    ("POST /api/webhooks/test", Session, false),
    ("POST /simulator/sessions/{id}/scan", Session, false),
    ("POST /simulator/sessions/{id}/enter-code", Session, false),
    ("POST /simulator/sessions/{id}/incoming", Session, false),
    ("POST /simulator/sessions/{id}/button-reply", Session, false),
    ("POST /simulator/sessions/{id}/list-reply", Session, false),
    ("POST /simulator/sessions/{id}/poll-vote", Session, false),
    ("POST /simulator/sessions/{id}/reaction", Session, false),
    ("POST /simulator/sessions/{id}/edit", Session, false),
    ("POST /simulator/sessions/{id}/revoke", Session, false),
    ("POST /simulator/sessions/{id}/receipt", Session, false),
    ("GET /simulator/sessions/{id}/sent", Session, false),
    ("POST /simulator/sessions/{id}/groups", Session, false),
    (
        "POST /simulator/sessions/{id}/groups/{gid}/participants",
        Session,
        false,
    ),
    ("POST /simulator/sessions/{id}/disconnect", Session, true),
    ("POST /simulator/sessions/{id}/logout", Session, true),
    ("PUT /api/auto-reply/rules/{id}", Owned(Kind::Rule), false),
    ("DELETE /api/auto-reply/rules/{id}", Owned(Kind::Rule), true),
    ("GET /api/webhooks/deliveries/{id}", Delivery, false),
    ("POST /api/webhooks/deliveries/{id}/retry", Delivery, false),
];

/// Server functions: `(endpoint, access, destructive, JSON arguments)`; `{S}` is the target
/// session, `{R}` the target resource (user, key, rule or delivery).
const FNS: &[(&str, Access, bool, &str)] = &[
    ("server_info", Public, false, "{}"),
    ("me", Public, false, "{}"),
    (
        "login",
        Public,
        false,
        r#"{"username":"nobody","password":"wrong-password"}"#,
    ),
    (
        "register",
        Public,
        false,
        r#"{"username":"x","password":"short"}"#,
    ),
    ("logout", Public, true, "{}"),
    ("list_users", Admin, false, "{}"),
    (
        "create_user",
        Admin,
        false,
        r#"{"username":"fnmade","password":"a-long-password","role":"user"}"#,
    ),
    (
        "update_user",
        AdminOn(Kind::User),
        true,
        r#"{"id":"{R}","patch":{"disabled":true}}"#,
    ),
    ("delete_user", AdminOn(Kind::User), true, r#"{"id":"{R}"}"#),
    ("list_keys", Account, false, "{}"),
    (
        "create_key",
        Account,
        false,
        r#"{"name":"k","owner_id":"","session_id":""}"#,
    ),
    ("revoke_key", Owned(Kind::Key), true, r#"{"id":"{R}"}"#),
    ("settings", Admin, false, "{}"),
    (
        "update_settings",
        Admin,
        false,
        r#"{"patch":{"allowRegistration":true}}"#,
    ),
    ("list_sessions", Caller, false, "{}"),
    ("sessions_activity", Caller, false, "{}"),
    ("webhooks_overview", Caller, false, "{}"),
    ("messages", Caller, false, r#"{"filter":{}}"#),
    ("deliveries", Caller, false, r#"{"filter":{}}"#),
    ("create_session", Account, false, r#"{"name":"by fn"}"#),
    ("auto_reply", Account, false, "{}"),
    ("set_auto_reply", Account, false, r#"{"enabled":true}"#),
    ("rules", Account, false, r#"{"all":false}"#),
    (
        "create_rule",
        Account,
        false,
        r#"{"input":{"keyword":"fn","match":"exact","reply":"r"}}"#,
    ),
    ("session", Session, false, r#"{"id":"{S}"}"#),
    ("chats", Session, false, r#"{"session":"{S}"}"#),
    ("stop_session", Session, true, r#"{"id":"{S}"}"#),
    ("start_session", Session, false, r#"{"id":"{S}"}"#),
    (
        "send_message",
        Session,
        false,
        r#"{"session":"{S}","body":{"to":"6281234567890","message":"hi"}}"#,
    ),
    (
        "send_interactive",
        Session,
        false,
        r#"{"session":"{S}","body":{"to":"6281234567890","text":"t","type":"button","buttons":[{"id":"a","text":"A"}]}}"#,
    ),
    (
        "update_session",
        Session,
        false,
        r#"{"id":"{S}","patch":{"name":"renamed"}}"#,
    ),
    (
        "pair_code",
        Session,
        false,
        r#"{"id":"{S}","phone_number":"6281234567890"}"#,
    ),
    ("logout_session", Session, true, r#"{"id":"{S}"}"#),
    ("delete_session", Session, true, r#"{"id":"{S}"}"#),
    ("session_webhook", Session, false, r#"{"id":"{S}"}"#),
    (
        "save_session_webhook",
        Session,
        false,
        r#"{"id":"{S}","cfg":{"url":"http://127.0.0.1:9/h","secret":"s"}}"#,
    ),
    ("remove_session_webhook", Session, true, r#"{"id":"{S}"}"#),
    ("test_webhook", Session, false, r#"{"session":"{S}"}"#),
    (
        "update_rule",
        Owned(Kind::Rule),
        false,
        r#"{"id":"{R}","input":{"enabled":true}}"#,
    ),
    ("delete_rule", Owned(Kind::Rule), true, r#"{"id":"{R}"}"#),
    ("delivery", Delivery, false, r#"{"id":"{R}"}"#),
    ("retry_delivery", Delivery, false, r#"{"id":"{R}"}"#),
];

/// The example ids the OpenAPI document uses, replaced by real ones.
const EXAMPLE_SESSION: &str = "9f8e7d6c5b4a3921";
/// The message ids the examples of `/edit-message`, `/delete-message` and `/mark-read` use.
const EXAMPLE_MESSAGES: &[&str] = &[
    "3EB0C431C26A1916A5A5B4",
    "3EB0A1B2C3D4E5F6A7B8C9",
    "3EB0D4E5F6A7B8C9A1B2C3",
];

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Owner {
    A,
    B,
    M,
}

const OWNERS: [Owner; 3] = [Owner::A, Owner::B, Owner::M];

#[derive(Clone)]
enum Cred {
    None,
    Cookie(String),
    Key(String),
}

#[derive(Clone)]
struct Actor {
    name: &'static str,
    cred: Cred,
    live: bool,
    user: Option<Owner>,
    admin: bool,
    scope: Option<String>,
}

/// One owner's things.
struct Things {
    user_id: String,
    cookie: String,
    session: String,
    rule: String,
    key: String,
    delivery: String,
    media: String,
}

struct World {
    app: TestApp,
    http: reqwest::Client,
    admin: reqwest::Client,
    things: HashMap<Owner, Things>,
    /// Every shared session id with its owner (A2 included), for the leak check.
    sessions: Vec<(String, Owner)>,
    actors: Vec<Actor>,
    made: std::sync::atomic::AtomicUsize,
}

#[derive(Debug, PartialEq)]
enum Expect {
    Allowed,
    Unauthorized,
    Denied,
}

fn expect(access: Access, actor: &Actor, owner: Option<Owner>, session: Option<&str>) -> Expect {
    if matches!(access, Public | Static) {
        return Expect::Allowed;
    }
    if !actor.live {
        return Expect::Unauthorized;
    }
    let mine = actor.user.is_some() && actor.user == owner;
    let in_scope = match (&actor.scope, session) {
        (None, _) => true,
        (Some(scope), Some(s)) => scope == s,
        (Some(_), None) => false,
    };
    let ok = match access {
        Public | Static | Caller => true,
        Account => actor.scope.is_none(),
        Admin | AdminOn(_) => actor.admin && actor.scope.is_none(),
        Session | Delivery | Message => {
            (actor.admin && actor.scope.is_none()) || (mine && in_scope)
        }
        Owned(_) => actor.scope.is_none() && (actor.admin || mine),
    };
    if ok { Expect::Allowed } else { Expect::Denied }
}

impl World {
    async fn new() -> Self {
        let app = TestApp::start().await;
        let http = reqwest::Client::new();
        let (admin, _) = app.register("admin").await;
        let (a, _) = app.register("alice").await;
        let (b, _) = app.register("bob").await;
        let (_, dora) = app.register("dora").await;
        let (s, _) = call(
            admin
                .put(app.url("/api/settings"))
                .json(&json!({"maxSessionsPerUser": 1000})),
        )
        .await;
        assert_eq!(s, 200);
        let mut w = World {
            app,
            http,
            admin,
            things: HashMap::new(),
            sessions: Vec::new(),
            actors: Vec::new(),
            made: Default::default(),
        };
        for (owner, name, client) in [
            (Owner::A, "alice", &a),
            (Owner::B, "bob", &b),
            (Owner::M, "admin", &w.admin.clone()),
        ] {
            let cookie = w.login(name).await;
            let (_, me) = call(client.get(w.app.url("/api/me"))).await;
            let user_id = me["id"].as_str().expect("id").to_string();
            let session = w.app.create_session(client, name).await;
            let (s, b) = call(
                client
                    .put(w.app.url(&format!("/api/sessions/{session}/webhook")))
                    .json(&json!({"url": "http://127.0.0.1:9/hook", "secret": "s"})),
            )
            .await;
            assert_eq!(s, 200, "{b}");
            let (s, b) = call(
                client
                    .post(w.app.url("/api/webhooks/test"))
                    .json(&json!({"sessionId": session})),
            )
            .await;
            assert_eq!(s, 200, "{b}");
            let (_, list) = call(
                client.get(
                    w.app
                        .url(&format!("/api/webhooks/deliveries?session={session}")),
                ),
            )
            .await;
            let delivery = list[0]["id"].as_str().expect("a delivery").to_string();
            let rule = w.rule_of(&cookie).await;
            let media = w.media_message_of(&session).await;
            let key = w.key_of(&user_id, None).await.1;
            w.sessions.push((session.clone(), owner));
            w.things.insert(
                owner,
                Things {
                    user_id,
                    cookie,
                    session,
                    rule,
                    key,
                    delivery,
                    media,
                },
            );
        }
        let a2 = w.app.create_session(&a, "second").await;
        w.sessions.push((a2.clone(), Owner::A));
        let t = |o: Owner| &w.things[&o];
        let (a_id, m_id) = (t(Owner::A).user_id.clone(), t(Owner::M).user_id.clone());
        let (a1, m1) = (t(Owner::A).session.clone(), t(Owner::M).session.clone());
        let key_a1 = w.key_of(&a_id, Some(&a1)).await.0;
        let key_a2 = w.key_of(&a_id, Some(&a2)).await.0;
        let key_m1 = w.key_of(&m_id, Some(&m1)).await.0;
        let (revoked, revoked_id) = w.key_of(&a_id, None).await;
        let (s, _) = call(
            w.admin
                .delete(w.app.url(&format!("/api/keys/{revoked_id}"))),
        )
        .await;
        assert_eq!(s, 200);
        let signed_out = w.login("alice").await;
        let (s, _) = call(
            w.http
                .post(w.app.url("/api/auth/logout"))
                .header("cookie", format!("auth-token={signed_out}")),
        )
        .await;
        assert_eq!(s, 200);
        let dora_id = dora["id"].as_str().expect("id").to_string();
        let dora_key = w.key_of(&dora_id, None).await.0;
        let (s, _) = call(
            w.admin
                .patch(w.app.url(&format!("/api/users/{dora_id}")))
                .json(&json!({"disabled": true})),
        )
        .await;
        assert_eq!(s, 200);
        let cookie = |o: Owner| Cred::Cookie(w.things[&o].cookie.clone());
        let actor = |name, cred, live, user, admin, scope: Option<&String>| Actor {
            name,
            cred,
            live,
            user,
            admin,
            scope: scope.cloned(),
        };
        w.actors = vec![
            actor("anonymous", Cred::None, false, None, false, None),
            actor(
                "user A",
                cookie(Owner::A),
                true,
                Some(Owner::A),
                false,
                None,
            ),
            actor(
                "user B",
                cookie(Owner::B),
                true,
                Some(Owner::B),
                false,
                None,
            ),
            actor("admin", cookie(Owner::M), true, Some(Owner::M), true, None),
            actor(
                "A's key for A1",
                Cred::Key(key_a1),
                true,
                Some(Owner::A),
                false,
                Some(&a1),
            ),
            actor(
                "A's key for A2",
                Cred::Key(key_a2),
                true,
                Some(Owner::A),
                false,
                Some(&a2),
            ),
            actor(
                "admin's scoped key",
                Cred::Key(key_m1),
                true,
                Some(Owner::M),
                true,
                Some(&m1),
            ),
            actor("revoked key", Cred::Key(revoked), false, None, false, None),
            actor(
                "signed-out cookie",
                Cred::Cookie(signed_out),
                false,
                None,
                false,
                None,
            ),
            actor(
                "disabled user's key",
                Cred::Key(dora_key),
                false,
                None,
                false,
                None,
            ),
        ];
        w
    }

    async fn login(&self, username: &str) -> String {
        let (s, b) = call(
            self.http
                .post(self.app.url("/api/auth/login"))
                .json(&json!({"username": username, "password": PASSWORD})),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        b["token"].as_str().expect("token").to_string()
    }

    /// Mints a key for `owner` (optionally scoped) as the admin: `(secret, id)`.
    async fn key_of(&self, owner: &str, session: Option<&str>) -> (String, String) {
        let (s, b) = call(
            self.admin
                .post(self.app.url("/api/keys"))
                .json(&json!({"name": "matrix", "ownerId": owner, "sessionId": session})),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        (
            b["key"].as_str().expect("key").into(),
            b["id"].as_str().expect("id").into(),
        )
    }

    async fn rule_of(&self, cookie: &str) -> String {
        let (s, b) = call(
            self.http
                .post(self.app.url("/api/auto-reply/rules"))
                .header("cookie", format!("auth-token={cookie}"))
                .json(&json!({"keyword": "harga", "match": "exact", "reply": "Rp10.000"})),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        b["id"].as_str().expect("id").into()
    }

    fn unique(&self) -> usize {
        self.made.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// A throwaway resource of `owner` for a destructive operation's allowed case: `(session,
    /// resource, actor)`, the actor re-scoped to the new session when it is a scoped key.
    async fn fresh(&self, access: Access, owner: Owner, actor: &Actor) -> (String, String, Actor) {
        let t = &self.things[&owner];
        let mut actor = actor.clone();
        match access {
            AdminOn(Kind::User) => {
                let (s, b) = call(self.admin.post(self.app.url("/api/users")).json(
                    &json!({"username": format!("victim{}", self.unique()), "password": PASSWORD}),
                ))
                .await;
                assert_eq!(s, 200, "{b}");
                (
                    t.session.clone(),
                    b["id"].as_str().expect("id").into(),
                    actor,
                )
            }
            Owned(Kind::Key) => {
                let (_, id) = self.key_of(&t.user_id, None).await;
                (t.session.clone(), id, actor)
            }
            Owned(_) => (t.session.clone(), self.rule_of(&t.cookie).await, actor),
            _ => {
                let (s, b) = call(
                    self.http
                        .post(self.app.url("/api/sessions"))
                        .header("cookie", format!("auth-token={}", t.cookie))
                        .json(&json!({"name": format!("fresh{}", self.unique())})),
                )
                .await;
                assert_eq!(s, 200, "{b}");
                let session = b["id"].as_str().expect("id").to_string();
                if actor.scope.is_some() {
                    actor.cred = Cred::Key(self.key_of(&t.user_id, Some(&session)).await.0);
                    actor.scope = Some(session.clone());
                }
                (session, String::new(), actor)
            }
        }
    }

    /// The sessions `actor` may not see (the leak check).
    fn hidden_from(&self, actor: &Actor) -> Vec<&str> {
        self.sessions
            .iter()
            .filter(|(id, owner)| {
                let visible = (actor.admin && actor.scope.is_none())
                    || (actor.user == Some(*owner) && actor.scope.as_ref().is_none_or(|s| s == id));
                !visible
            })
            .map(|(id, _)| id.as_str())
            .collect()
    }

    /// A media message of `session`, written straight into the record with its file (the
    /// matrix's sessions are not linked, so nothing can be sent from them).
    async fn media_message_of(&self, session: &str) -> String {
        let id = format!("3EB0MEDIA{}", &session[..8]);
        let sha = "ab".repeat(32);
        let dir = self.app.dir.path().join("media");
        std::fs::create_dir_all(&dir).expect("media dir");
        std::fs::write(dir.join(&sha), b"%PDF-1.7\n").expect("media file");
        sqlx::query(
            "INSERT INTO messages (id, session_id, direction, chat, type, body, source, status,
                                   created_at, updated_at, media_mimetype, media_size,
                                   media_sha256)
             VALUES (?, ?, 'out', '6281234567890', 'document', '', 'api', 'sent', 1, 1,
                     'application/pdf', 9, ?)",
        )
        .bind(&id)
        .bind(session)
        .bind(&sha)
        .execute(&self.app.db().await)
        .await
        .expect("a media message");
        id
    }

    async fn send(
        &self,
        method: &Method,
        url: &str,
        body: Option<&str>,
        actor: &Actor,
    ) -> (u16, String, String) {
        let mut req = self
            .http
            .request(method.clone(), self.app.url(url))
            .timeout(std::time::Duration::from_secs(20));
        match &actor.cred {
            Cred::None => {}
            Cred::Cookie(c) => req = req.header("cookie", format!("auth-token={c}")),
            Cred::Key(k) => req = req.header("x-api-key", k),
        }
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let streaming = resp.headers().get("content-type").is_some_and(|v| {
            v.to_str()
                .unwrap_or_default()
                .starts_with("text/event-stream")
        });
        if streaming {
            return (status, String::new(), String::new());
        }
        let text = resp.text().await.unwrap_or_default();
        let code = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(String::from))
            .unwrap_or_default();
        (status, code, text)
    }
}

/// One call to make: an operation with its access row, filled in for a target.
struct Case {
    label: String,
    method: Method,
    path: String,
    body: Option<String>,
    access: Access,
    destructive: bool,
}

/// Runs every case of `ops` for every actor and owner; answers the failures.
async fn run(w: &World, ops: &[Case]) -> Vec<String> {
    let mut failures = Vec::new();
    for op in ops {
        let owners: Vec<Option<Owner>> = match op.access {
            Public | Static | Caller | Account | Admin => vec![None],
            _ => OWNERS.iter().copied().map(Some).collect(),
        };
        for owner in owners {
            for actor in &w.actors {
                let shared_session = owner.map(|o| w.things[&o].session.clone());
                let want = expect(op.access, actor, owner, shared_session.as_deref());
                let (session, resource, actor) = match owner {
                    Some(o) if op.destructive && want == Expect::Allowed => {
                        w.fresh(op.access, o, actor).await
                    }
                    Some(o) => {
                        let t = &w.things[&o];
                        let resource = match op.access {
                            AdminOn(Kind::User) => t.user_id.clone(),
                            Owned(Kind::Key) => t.key.clone(),
                            Owned(_) => t.rule.clone(),
                            Delivery => t.delivery.clone(),
                            Message => t.media.clone(),
                            _ => String::new(),
                        };
                        (t.session.clone(), resource, actor.clone())
                    }
                    None => (String::new(), String::new(), actor.clone()),
                };
                // Message ids in examples name a message of the owner's session.
                let message = owner
                    .map(|o| w.things[&o].media.clone())
                    .unwrap_or_default();
                let fill = |s: &str| {
                    let s = EXAMPLE_MESSAGES
                        .iter()
                        .fold(s.to_string(), |s, m| s.replace(m, &message));
                    let id = if matches!(op.access, Session) {
                        &session
                    } else {
                        &resource
                    };
                    s.replace("{id}", id)
                        .replace("{S}", &session)
                        .replace("{R}", &resource)
                        .replace(EXAMPLE_SESSION, &session)
                };
                let mut path = fill(&op.path);
                if op.access == Session
                    && !op.path.contains("{")
                    && op.path != "/api/webhooks/test"
                    && !op.path.starts_with("/fn/")
                {
                    path = format!("{path}?session={session}");
                }
                let body = op.body.as_deref().map(fill);
                let (status, code, text) = w.send(&op.method, &path, body.as_deref(), &actor).await;
                let who = format!("{} as {} on {owner:?}'s", op.label, actor.name);
                let bad = match want {
                    _ if status >= 500 => true,
                    Expect::Unauthorized => status != 401,
                    Expect::Denied => !matches!(status, 403 | 404),
                    Expect::Allowed => {
                        matches!(status, 401 | 403)
                            || (status == 404 && code == "SESSION_NOT_FOUND")
                            || (status == 404 && code == "MESSAGE_NOT_FOUND")
                            || (status == 404
                                && code == "NOT_FOUND"
                                && matches!(op.access, Owned(_) | Delivery | AdminOn(_)))
                    }
                };
                if op.access == Static {
                    continue;
                }
                if bad && op.access != Public {
                    failures.push(format!("{who}: want {want:?}, got {status} {code}"));
                } else if status >= 500 {
                    failures.push(format!("{who}: {status} {text}"));
                }
                if (200..300).contains(&status) {
                    for hidden in w.hidden_from(&actor) {
                        if text.contains(hidden) {
                            failures.push(format!("{who}: the answer shows session {hidden}"));
                        }
                    }
                }
            }
        }
    }
    failures
}

/// Logging out ends the caller's login: those rows run last.
fn order(cases: &mut [Case]) {
    cases.sort_by_key(|c| c.path.ends_with("logout") && c.access == Public);
}

#[tokio::test]
async fn every_operation_answers_every_caller_as_the_table_says() {
    let w = World::new().await;
    let (_, doc) = call(w.http.get(w.app.url("/openapi.json"))).await;
    let table: HashMap<&str, (Access, bool)> =
        REST.iter().map(|(op, a, d)| (*op, (*a, *d))).collect();
    let mut missing = Vec::new();
    let mut cases = Vec::new();
    let mut seen = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            let label = format!("{} {path}", method.to_uppercase());
            let Some((access, destructive)) = table.get(label.as_str()).copied() else {
                missing.push(label);
                continue;
            };
            seen.insert(label.clone());
            let body = op["requestBody"]["content"]["application/json"]["example"].clone();
            let body = (!op["requestBody"].is_null()).then(|| {
                if body.is_null() {
                    "{}".to_string()
                } else {
                    body.to_string()
                }
            });
            cases.push(Case {
                label: label.clone(),
                method: method.to_uppercase().parse().expect("method"),
                path: path.clone(),
                body,
                access,
                destructive,
            });
        }
    }
    assert!(
        missing.is_empty(),
        "operations without a row in the matrix: {missing:?}"
    );
    let stale: Vec<_> = REST
        .iter()
        .map(|r| r.0)
        .filter(|op| !seen.contains(*op))
        .collect();
    assert!(
        stale.is_empty(),
        "rows for operations that no longer exist: {stale:?}"
    );

    let registered: BTreeSet<String> = server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/fn/").to_string())
        .collect();
    let listed: BTreeSet<String> = FNS.iter().map(|f| f.0.to_string()).collect();
    assert_eq!(
        registered, listed,
        "every server function needs a row in FNS"
    );
    for (name, access, destructive, args) in FNS {
        cases.push(Case {
            label: format!("fn {name}"),
            method: Method::POST,
            path: format!("/fn/{name}"),
            body: Some(args.to_string()),
            access: *access,
            destructive: *destructive,
        });
    }
    order(&mut cases);
    let failures = run(&w, &cases).await;
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Nothing a refused caller tried took a shared session away.
    for (id, owner) in &w.sessions {
        let (s, _) = call(w.admin.get(w.app.url(&format!("/api/sessions/{id}")))).await;
        assert_eq!(s, 200, "session {id} of {owner:?} is still there");
    }
}
