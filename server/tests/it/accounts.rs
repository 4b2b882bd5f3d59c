//! Registration, login, logout, roles, users administration and settings (contract §1, §2).

use super::*;

#[tokio::test]
async fn first_account_is_admin_then_users() {
    let app = TestApp::start().await;
    let (_, first) = app.register("Admin").await;
    assert_eq!(first["role"], "admin");
    assert_eq!(first["username"], "Admin");
    assert!(first["id"].is_string());
    let (_, second) = app.register("budi").await;
    assert_eq!(second["role"], "user");
    let (s, body) = call(
        app.browser()
            .post(app.url("/api/auth/register"))
            .json(&json!({"username": "admin", "password": PASSWORD})),
    )
    .await;
    assert_error(s, &body, 409, "USERNAME_TAKEN");
}

#[tokio::test]
async fn twenty_racing_registrations_yield_exactly_one_admin() {
    let app = TestApp::start().await;
    let base = app.base.clone();
    let roles = concurrently(20, move |i| {
        let url = format!("{base}/api/auth/register");
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .json(&json!({"username": format!("racer{i}"), "password": PASSWORD}))
                .send()
                .await
                .expect("register");
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.expect("json")["role"]
                .as_str()
                .expect("role")
                .to_string()
        }
    })
    .await;
    assert_eq!(
        roles.iter().filter(|r| *r == "admin").count(),
        1,
        "{roles:?}"
    );
    assert_eq!(roles.iter().filter(|r| *r == "user").count(), 19);
}

#[tokio::test]
async fn login_sets_a_safe_cookie_and_logout_ends_it() {
    let app = TestApp::start().await;
    app.register("siti").await;
    let c = app.browser();
    let r = c
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "SITI", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_string();
    for part in ["auth-token=", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP by default: {cookie}"
    );
    let body: Value = r.json().await.expect("json");
    let token = body["token"].as_str().expect("token").to_string();
    assert_eq!(body["username"], "siti");
    assert_eq!(body["role"], "admin");

    let (s, me) = call(c.get(app.url("/api/me"))).await;
    assert_eq!(s, 200);
    assert_eq!(me["username"], "siti");
    assert_eq!(me["id"], body["id"]);

    // The token works as a cookie from another client too (curl after login).
    let cookie_header = format!("auth-token={token}");
    let (s, _) = call(
        reqwest::Client::new()
            .get(app.url("/api/me"))
            .header("cookie", &cookie_header),
    )
    .await;
    assert_eq!(s, 200);

    let (s, _) = call(c.post(app.url("/api/auth/logout"))).await;
    assert_eq!(s, 200);
    let (s, body) = call(c.get(app.url("/api/me"))).await;
    assert_error(s, &body, 401, "UNAUTHORIZED");
    // The copied token is dead as well: logout deletes the login, not just the cookie.
    let (s, body) = call(
        reqwest::Client::new()
            .get(app.url("/api/me"))
            .header("cookie", &cookie_header),
    )
    .await;
    assert_error(s, &body, 401, "UNAUTHORIZED");
}

#[tokio::test]
async fn secure_cookie_when_configured() {
    let app = TestApp::start_with(|c| c.secure_cookies = true).await;
    let r = app
        .browser()
        .post(app.url("/api/auth/register"))
        .json(&json!({"username": "siti", "password": PASSWORD}))
        .send()
        .await
        .expect("register");
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .contains("; Secure")
    );
}

#[tokio::test]
async fn wrong_credentials_forged_and_missing_tokens_are_401() {
    let app = TestApp::start().await;
    app.register("siti").await;
    let anon = reqwest::Client::new();
    let (s, b) = call(
        anon.post(app.url("/api/auth/login"))
            .json(&json!({"username": "siti", "password": "wrong-password"})),
    )
    .await;
    assert_error(s, &b, 401, "UNAUTHORIZED");
    let (s, b) = call(
        anon.post(app.url("/api/auth/login"))
            .json(&json!({"username": "nobody", "password": PASSWORD})),
    )
    .await;
    assert_error(s, &b, 401, "UNAUTHORIZED");
    let (s, b) = call(anon.get(app.url("/api/me"))).await;
    assert_error(s, &b, 401, "UNAUTHORIZED");
    let forged =
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwianRpIjoieSIsImlhdCI6MCwiZXhwIjo5OTk5OTk5OTk5fQ.AAAA";
    let (s, b) = call(
        anon.get(app.url("/api/me"))
            .header("cookie", format!("auth-token={forged}")),
    )
    .await;
    assert_error(s, &b, 401, "UNAUTHORIZED");
    let (s, b) = call(
        anon.get(app.url("/api/me"))
            .header("cookie", "auth-token=garbage"),
    )
    .await;
    assert_error(s, &b, 401, "UNAUTHORIZED");
}

#[tokio::test]
async fn login_is_rate_limited_per_username() {
    let app = TestApp::start().await;
    app.register("siti").await;
    let anon = reqwest::Client::new();
    let mut statuses = vec![];
    for _ in 0..6 {
        let r = anon
            .post(app.url("/api/auth/login"))
            .json(&json!({"username": "siti", "password": "wrong-password"}))
            .send()
            .await
            .expect("login");
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            let b: Value = r.json().await.expect("json");
            assert_eq!(b["error"], "RATE_LIMITED");
        }
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    // Even the right password waits now.
    let (s, b) = call(
        anon.post(app.url("/api/auth/login"))
            .json(&json!({"username": "siti", "password": PASSWORD})),
    )
    .await;
    assert_error(s, &b, 429, "RATE_LIMITED");
}

#[tokio::test]
async fn sign_ins_survive_a_restart() {
    let app = TestApp::start().await;
    let (c, _) = app.register("siti").await;
    let app = app.restart().await;
    let (s, me) = call(c.get(app.url("/api/me"))).await;
    assert_eq!(s, 200, "the JWT secret is kept in the database: {me}");
}

#[tokio::test]
async fn admin_manages_users_and_cannot_remove_the_last_admin() {
    let app = TestApp::start().await;
    let (admin, _, budi) = app.admin_and_user().await;
    let (_, me) = call(admin.get(app.url("/api/me"))).await;
    let admin_id = me["id"].as_str().expect("id").to_string();
    let budi_id = budi["id"].as_str().expect("id").to_string();

    let (s, list) = call(admin.get(app.url("/api/users"))).await;
    assert_eq!(s, 200);
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 2);
    for field in ["id", "username", "role", "disabled", "createdAt"] {
        assert!(list[0].get(field).is_some(), "{field} in {}", list[0]);
    }
    assert!(list[0].get("passwordHash").is_none() && list[0].get("password_hash").is_none());

    for patch in [json!({"role": "user"}), json!({"disabled": true})] {
        let (s, b) = call(
            admin
                .patch(app.url(&format!("/api/users/{admin_id}")))
                .json(&patch),
        )
        .await;
        assert_error(s, &b, 409, "LAST_ADMIN");
    }
    let (s, b) = call(admin.delete(app.url(&format!("/api/users/{admin_id}")))).await;
    assert_error(s, &b, 409, "LAST_ADMIN");

    let (s, b) = call(
        admin
            .patch(app.url(&format!("/api/users/{budi_id}")))
            .json(&json!({"role": "admin"})),
    )
    .await;
    assert_eq!((s, b["role"].as_str()), (200, Some("admin")));
    let (s, b) = call(
        admin
            .patch(app.url(&format!("/api/users/{admin_id}")))
            .json(&json!({"role": "user"})),
    )
    .await;
    assert_eq!(
        (s, b["role"].as_str()),
        (200, Some("user")),
        "another admin exists now"
    );

    let (s, b) = call(
        admin
            .post(app.url("/api/users"))
            .json(&json!({"username": "dewi", "password": PASSWORD})),
    )
    .await;
    assert_eq!(s, 403, "no longer an admin: {b}");

    let (s, b) = call(
        admin
            .patch(app.url("/api/users/nope"))
            .json(&json!({"role": "user"})),
    )
    .await;
    assert_error(s, &b, 403, "FORBIDDEN");
}

#[tokio::test]
async fn admin_creates_disables_and_deletes_users() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let (s, dewi) = call(
        admin
            .post(app.url("/api/users"))
            .json(&json!({"username": "dewi", "password": PASSWORD, "role": "user"})),
    )
    .await;
    assert_eq!(s, 200, "{dewi}");
    let id = dewi["id"].as_str().expect("id").to_string();
    let (s, b) = call(
        admin
            .post(app.url("/api/users"))
            .json(&json!({"username": "DEWI", "password": PASSWORD})),
    )
    .await;
    assert_error(s, &b, 409, "USERNAME_TAKEN");
    let (s, b) = call(
        admin
            .post(app.url("/api/users"))
            .json(&json!({"username": "x", "password": PASSWORD})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    assert!(b["message"].as_str().expect("msg").contains("username"));
    let (s, b) = call(
        admin
            .post(app.url("/api/users"))
            .json(&json!({"username": "dewi2", "password": "short"})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");
    assert!(b["message"].as_str().expect("msg").contains("password"));
    let (s, b) = call(
        admin
            .patch(app.url(&format!("/api/users/{id}")))
            .json(&json!({"role": "owner"})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");

    // Password change by the admin: the old password stops working.
    let (s, _) = call(
        admin
            .patch(app.url(&format!("/api/users/{id}")))
            .json(&json!({"password": "brand-new-password"})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        app.browser()
            .post(app.url("/api/auth/login"))
            .json(&json!({"username": "dewi", "password": "brand-new-password"})),
    )
    .await;
    assert_eq!(s, 200);

    let (s, _) = call(admin.delete(app.url(&format!("/api/users/{id}")))).await;
    assert_eq!(s, 200);
    let (s, b) = call(admin.delete(app.url(&format!("/api/users/{id}")))).await;
    assert_error(s, &b, 404, "NOT_FOUND");
    let (_, list) = call(admin.get(app.url("/api/users"))).await;
    assert_eq!(list.as_array().expect("array").len(), 1);
}

#[tokio::test]
async fn a_disabled_user_is_locked_out_at_once() {
    let app = TestApp::start().await;
    let (admin, budi, b) = app.admin_and_user().await;
    let id = b["id"].as_str().expect("id").to_string();
    let key = app.key_for(&admin, &id).await;
    let (s, _) = call(
        reqwest::Client::new()
            .get(app.url("/api/me"))
            .header("x-api-key", &key),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(budi.get(app.url("/api/me"))).await;
    assert_eq!(s, 200);

    let (s, _) = call(
        admin
            .patch(app.url(&format!("/api/users/{id}")))
            .json(&json!({"disabled": true})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = call(budi.get(app.url("/api/me"))).await;
    assert_error(s, &body, 401, "UNAUTHORIZED");
    let (s, body) = call(
        reqwest::Client::new()
            .get(app.url("/api/me"))
            .header("x-api-key", &key),
    )
    .await;
    assert_error(s, &body, 401, "UNAUTHORIZED");
    let (s, body) = call(
        app.browser()
            .post(app.url("/api/auth/login"))
            .json(&json!({"username": "budi", "password": PASSWORD})),
    )
    .await;
    assert_error(s, &body, 401, "UNAUTHORIZED");

    // Enabled again: the key works again (it was never revoked), the old cookie does not.
    let (s, _) = call(
        admin
            .patch(app.url(&format!("/api/users/{id}")))
            .json(&json!({"disabled": false})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        reqwest::Client::new()
            .get(app.url("/api/me"))
            .header("x-api-key", &key),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(budi.get(app.url("/api/me"))).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn settings_are_admin_only_and_close_registration() {
    let app = TestApp::start().await;
    let (admin, user, _) = app.admin_and_user().await;
    let (s, b) = call(admin.get(app.url("/api/settings"))).await;
    assert_eq!(s, 200);
    assert_eq!(b["allowRegistration"], true);
    assert!(b.get("jwtSecret").is_none() && !b.to_string().contains("jwt"));
    let (s, b) = call(user.get(app.url("/api/settings"))).await;
    assert_error(s, &b, 403, "FORBIDDEN");
    let (s, b) = call(
        user.put(app.url("/api/settings"))
            .json(&json!({"allowRegistration": false})),
    )
    .await;
    assert_error(s, &b, 403, "FORBIDDEN");
    let (s, b) = call(
        admin
            .put(app.url("/api/settings"))
            .json(&json!({"allowRegistration": "no"})),
    )
    .await;
    assert_error(s, &b, 400, "INVALID_REQUEST");

    let (s, b) = call(
        admin
            .put(app.url("/api/settings"))
            .json(&json!({"allowRegistration": false})),
    )
    .await;
    assert_eq!((s, &b["allowRegistration"]), (200, &json!(false)));
    let (s, b) = call(
        app.browser()
            .post(app.url("/api/auth/register"))
            .json(&json!({"username": "late", "password": PASSWORD})),
    )
    .await;
    assert_error(s, &b, 403, "REGISTRATION_CLOSED");
    // The admin can still add people.
    let (s, _) = call(
        admin
            .post(app.url("/api/users"))
            .json(&json!({"username": "late", "password": PASSWORD})),
    )
    .await;
    assert_eq!(s, 200);
}
