//! API keys: minted by their owners or admins, shown once, hashed, usable by header or query,
//! revocable.

use super::*;

#[tokio::test]
async fn a_key_is_shown_once_and_acts_with_its_owners_rights() {
    let app = TestApp::start().await;
    let (admin, _, budi) = app.admin_and_user().await;
    let budi_id = budi["id"].as_str().expect("id");
    let (s, created) = call(
        admin
            .post(app.url("/api/keys"))
            .json(&json!({"name": "shop", "ownerId": budi_id})),
    )
    .await;
    assert_eq!(s, 200, "{created}");
    let key = created["key"].as_str().expect("key").to_string();
    assert!(key.starts_with("kbr_") && key.len() >= 4 + 32, "{key}");
    assert_eq!(created["ownerId"], budi_id);
    assert_eq!(created["name"], "shop");
    assert!(created["sessionId"].is_null());
    assert!(key.starts_with(created["prefix"].as_str().expect("prefix")));

    let (s, list) = call(admin.get(app.url("/api/keys"))).await;
    assert_eq!(s, 200);
    let text = list.to_string();
    assert!(
        !text.contains(&key),
        "the secret is never listed again: {text}"
    );
    let row = &list[0];
    for field in [
        "id",
        "name",
        "prefix",
        "ownerId",
        "sessionId",
        "createdAt",
        "lastUsedAt",
    ] {
        assert!(row.get(field).is_some(), "{field} in {row}");
    }
    assert!(row["lastUsedAt"].is_null());

    // Header and query both work, as Budi.
    let anon = reqwest::Client::new();
    let (s, me) = call(anon.get(app.url("/api/me")).header("X-API-KEY", &key)).await;
    assert_eq!((s, me["username"].as_str()), (200, Some("budi")));
    let (s, me) = call(anon.get(app.url(&format!("/api/me?api_key={key}")))).await;
    assert_eq!((s, me["username"].as_str()), (200, Some("budi")));
    // Budi is no admin, so neither is his key.
    let (s, b) = call(anon.get(app.url("/api/users")).header("X-API-KEY", &key)).await;
    assert_error(s, &b, 403, "FORBIDDEN");
    let (s, b) = call(
        anon.post(app.url("/api/keys"))
            .header("X-API-KEY", &key)
            .json(&json!({"name": "for the admin", "ownerId": admin_id(&app, &admin).await})),
    )
    .await;
    assert_error(s, &b, 403, "FORBIDDEN");

    let (_, list) = call(admin.get(app.url("/api/keys"))).await;
    assert!(list[0]["lastUsedAt"].is_i64(), "use is recorded: {list}");

    // An admin's key can do admin things.
    let admin_key = {
        let (_, me) = call(admin.get(app.url("/api/me"))).await;
        app.key_for(&admin, me["id"].as_str().expect("id")).await
    };
    let (s, _) = call(
        anon.get(app.url("/api/users"))
            .header("X-API-KEY", &admin_key),
    )
    .await;
    assert_eq!(s, 200);

    let id = created["id"].as_str().expect("id");
    let (s, _) = call(admin.delete(app.url(&format!("/api/keys/{id}")))).await;
    assert_eq!(s, 200);
    let (s, b) = call(anon.get(app.url("/api/me")).header("X-API-KEY", &key)).await;
    assert_error(s, &b, 401, "UNAUTHORIZED");
    let (s, b) = call(admin.delete(app.url(&format!("/api/keys/{id}")))).await;
    assert_error(s, &b, 404, "NOT_FOUND");
}

async fn admin_id(app: &TestApp, admin: &reqwest::Client) -> String {
    let (_, me) = call(admin.get(app.url("/api/me"))).await;
    me["id"].as_str().expect("id").to_string()
}

/// A user mints, lists and revokes their own keys (scoped to their own sessions only); they see
/// and touch nobody else's; an admin sees everyone's. A key scoped to a session manages none.
#[tokio::test]
async fn every_account_manages_its_own_keys() {
    let app = TestApp::start().await;
    let (admin, budi, budi_me) = app.admin_and_user().await;
    let budi_id = budi_me["id"].as_str().expect("id");
    let (citra, _) = app.register("citra").await;
    let shop = app.create_session(&budi, "Toko").await;
    let citras = app.create_session(&citra, "Warung").await;

    let (s, own) = call(
        budi.post(app.url("/api/keys"))
            .json(&json!({"name": "shop", "sessionId": shop})),
    )
    .await;
    assert_eq!(s, 200, "{own}");
    assert_eq!(
        (own["ownerId"].as_str(), own["sessionId"].as_str()),
        (Some(budi_id), Some(shop.as_str()))
    );
    let scoped = own["key"].as_str().expect("key").to_string();
    // Naming himself as owner is the same as naming nobody.
    let (s, b) = call(
        budi.post(app.url("/api/keys"))
            .json(&json!({"name": "all", "ownerId": budi_id})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    // Not for someone else, not scoped to someone else's session (not even revealing it).
    let (s, b) = call(
        budi.post(app.url("/api/keys"))
            .json(&json!({"name": "x", "ownerId": admin_id(&app, &admin).await})),
    )
    .await;
    assert_error(s, &b, 403, "FORBIDDEN");
    let (s, b) = call(
        budi.post(app.url("/api/keys"))
            .json(&json!({"name": "x", "sessionId": citras})),
    )
    .await;
    assert_error(s, &b, 404, "SESSION_NOT_FOUND");
    let citra_key = {
        let (s, b) = call(citra.post(app.url("/api/keys")).json(&json!({"name": "c"}))).await;
        assert_eq!(s, 200, "{b}");
        b["id"].as_str().expect("id").to_string()
    };

    // Each sees their own; the admin sees all three.
    let (s, list) = call(budi.get(app.url("/api/keys"))).await;
    assert_eq!(s, 200);
    let names: Vec<_> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|k| k["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names.len(), 2, "{list}");
    assert!(
        list.as_array()
            .expect("list")
            .iter()
            .all(|k| k["ownerId"] == budi_id),
        "{list}"
    );
    assert!(!list.to_string().contains(&citras), "{list}");
    let (_, all) = call(admin.get(app.url("/api/keys"))).await;
    assert_eq!(all.as_array().map(Vec::len), Some(3), "{all}");

    // Someone else's key is not there for him; his own goes.
    let (s, b) = call(budi.delete(app.url(&format!("/api/keys/{citra_key}")))).await;
    assert_error(s, &b, 404, "NOT_FOUND");
    let (_, still) = call(citra.get(app.url("/api/keys"))).await;
    assert_eq!(still.as_array().map(Vec::len), Some(1), "{still}");

    // The scoped key sends for its session but manages no keys (it could mint itself more).
    let anon = reqwest::Client::new();
    let (s, _) = call(
        anon.get(app.url(&format!("/status?session={shop}")))
            .header("X-API-KEY", &scoped),
    )
    .await;
    assert_eq!(s, 200);
    for req in [
        anon.get(app.url("/api/keys")),
        anon.post(app.url("/api/keys"))
            .json(&json!({"name": "more"})),
        anon.delete(app.url(&format!("/api/keys/{}", own["id"].as_str().expect("id")))),
    ] {
        let (s, b) = call(req.header("X-API-KEY", &scoped)).await;
        assert_error(s, &b, 403, "FORBIDDEN");
    }

    let id = own["id"].as_str().expect("id");
    let (s, _) = call(budi.delete(app.url(&format!("/api/keys/{id}")))).await;
    assert_eq!(s, 200);
    let (s, b) = call(
        anon.get(app.url(&format!("/status?session={shop}")))
            .header("X-API-KEY", &scoped),
    )
    .await;
    assert_error(s, &b, 401, "UNAUTHORIZED");
}

#[tokio::test]
async fn wrong_keys_are_refused_even_beside_a_valid_cookie() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    for bad in [
        "kbr_wrong",
        "nonsense",
        "kbr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let (s, b) = call(admin.get(app.url("/api/me")).header("X-API-KEY", bad)).await;
        assert_error(s, &b, 401, "UNAUTHORIZED");
        let (s, b) =
            call(reqwest::Client::new().get(app.url(&format!("/api/me?api_key={bad}")))).await;
        assert_error(s, &b, 401, "UNAUTHORIZED");
    }
}

#[tokio::test]
async fn keys_are_stored_only_as_hashes() {
    let app = TestApp::start().await;
    let (admin, me) = app.register("admin").await;
    let key = app.key_for(&admin, me["id"].as_str().expect("id")).await;
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        app.dir.path().join("kabar.db").display()
    ))
    .await
    .expect("open db");
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT prefix, key_hash FROM api_keys")
        .fetch_all(&db)
        .await
        .expect("query");
    assert_eq!(rows.len(), 1);
    assert!(
        !rows[0].1.contains(&key[4..]) && rows[0].1.len() == 64,
        "{rows:?}"
    );
    assert!(key.starts_with(&rows[0].0) && rows[0].0.len() < 16);
}

#[tokio::test]
async fn key_requests_are_validated() {
    let app = TestApp::start().await;
    let (admin, _, budi) = app.admin_and_user().await;
    let (s, b) = call(admin.post(app.url("/api/keys")).json(&json!({"name": ""}))).await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    let (s, b) = call(
        admin
            .post(app.url("/api/keys"))
            .json(&json!({"name": "x", "ownerId": "nobody"})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    let (s, b) = call(
        admin
            .post(app.url("/api/keys"))
            .json(&json!({"name": "x", "ownerId": budi["id"], "sessionId": "nope"})),
    )
    .await;
    assert_error(s, &b, 404, "SESSION_NOT_FOUND");
    let (s, b) = call(admin.post(app.url("/api/keys")).json(&json!({"name": 5}))).await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    let (_, list) = call(admin.get(app.url("/api/keys"))).await;
    assert_eq!(list, json!([]), "nothing half-saved");
}

/// Keys are remembered between requests (`keys::KeyCache`); every change to what a key may do
/// is seen by the very next request, each case right after the key was used (so remembered).
#[tokio::test]
async fn a_remembered_key_follows_every_change_at_once() {
    let app = TestApp::start().await;
    let (admin, budi) = {
        let (admin, _) = app.register("admin").await;
        let (_, budi) = app.register("budi").await;
        (admin, budi)
    };
    let budi_id = budi["id"].as_str().expect("id").to_string();
    let key = app.key_for(&admin, &budi_id).await;
    let anon = reqwest::Client::new();
    let as_key = |path: &str| anon.get(app.url(path)).header("X-API-KEY", &key);

    // A new role: the remembered "user" no longer answers.
    let (s, b) = call(as_key("/api/users")).await;
    assert_error(s, &b, 403, "FORBIDDEN");
    let patch = |body: Value| {
        admin
            .patch(app.url(&format!("/api/users/{budi_id}")))
            .json(&body)
    };
    assert_eq!(call(patch(json!({"role": "admin"}))).await.0, 200);
    let (s, b) = call(as_key("/api/users")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(call(patch(json!({"role": "user"}))).await.0, 200);

    // A disabled owner.
    assert_eq!(call(as_key("/api/me")).await.0, 200);
    assert_eq!(call(patch(json!({"disabled": true}))).await.0, 200);
    let (s, b) = call(as_key("/api/me")).await;
    assert_error(s, &b, 401, "UNAUTHORIZED");
    assert_eq!(call(patch(json!({"disabled": false}))).await.0, 200);
    assert_eq!(call(as_key("/api/me")).await.0, 200);

    // A key scoped to a session that is deleted goes with it.
    let session = app.create_session(&admin, "Toko").await;
    let (_, me) = call(admin.get(app.url("/api/me"))).await;
    let (s, scoped) = call(
        admin
            .post(app.url("/api/keys"))
            .json(&json!({"name": "toko", "ownerId": me["id"], "sessionId": session})),
    )
    .await;
    assert_eq!(s, 200, "{scoped}");
    let scoped = scoped["key"].as_str().expect("key").to_string();
    let with_scoped = || anon.get(app.url("/api/me")).header("X-API-KEY", &scoped);
    assert_eq!(call(with_scoped()).await.0, 200);
    let (s, _) = call(admin.delete(app.url(&format!("/api/sessions/{session}")))).await;
    assert_eq!(s, 200);
    let (s, b) = call(with_scoped()).await;
    assert_error(s, &b, 401, "UNAUTHORIZED");

    // A deleted owner.
    assert_eq!(call(as_key("/api/me")).await.0, 200);
    let (s, _) = call(admin.delete(app.url(&format!("/api/users/{budi_id}")))).await;
    assert_eq!(s, 200);
    let (s, b) = call(as_key("/api/me")).await;
    assert_error(s, &b, 401, "UNAUTHORIZED");
}
