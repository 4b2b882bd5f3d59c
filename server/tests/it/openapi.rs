//! The OpenAPI document against the router it describes, and the offline `/docs` page.

use super::*;
use std::collections::BTreeSet;

/// Routes that are not part of the REST API: Swagger UI's static files.
/// Routes that are not the REST API: Swagger UI's files, and the dashboard's Sign out form
/// (server/src/forms.rs; the API's own is `POST /api/auth/logout`).
const NOT_API: &[&str] = &["/docs/{file}", "/logout"];

/// `(METHOD, path)` of every route the server's router really has, read from axum's `Debug`
/// rendering of it (axum offers no other way to list routes). The dashboard's pages and server
/// functions (`/fn/…`) are left out: they are not the REST API.
async fn router_routes() -> BTreeSet<(String, String)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = server::build_state(
        Config::for_tests(dir.path().into()),
        CancellationToken::new(),
    )
    .await
    .expect("state");
    let text = format!("{:?}", server::router(state));
    // The main path router comes first; the fallback router after it has only the fallback.
    let main = text
        .split("fallback_router")
        .next()
        .expect("the router's Debug output");
    let (routes, paths) = main
        .split_once("node: Node")
        .expect("routes, then their paths");

    let id_re = |s: &str| -> Vec<(u32, String)> {
        // `RouteId(7): <value>` pairs; the value runs to the next `RouteId(`.
        s.split("RouteId(")
            .skip(1)
            .filter_map(|chunk| {
                let (id, rest) = chunk.split_once(')')?;
                Some((id.trim().parse().ok()?, rest.to_string()))
            })
            .collect()
    };
    let path_of: std::collections::HashMap<u32, String> = id_re(paths)
        .into_iter()
        .filter_map(|(id, rest)| {
            let start = rest.find('"')? + 1;
            let end = start + rest[start..].find('"')?;
            Some((id, rest[start..end].to_string()))
        })
        .collect();
    let dashboard: BTreeSet<String> = leptos_axum::generate_route_list(app::App)
        .iter()
        .map(|r| r.path().to_string())
        .collect();

    let mut out = BTreeSet::new();
    for (id, endpoint) in id_re(routes) {
        let path = path_of.get(&id).expect("every route has a path").clone();
        if path.starts_with("/fn/") || dashboard.contains(&path) || NOT_API.contains(&path.as_str())
        {
            continue;
        }
        let mut found = false;
        for method in ["get", "delete", "patch", "post", "put"] {
            let field = format!("{method}: ");
            let value = endpoint
                .split(&field)
                .nth(1)
                .unwrap_or_else(|| panic!("no `{field}` in {endpoint}"));
            if !value.starts_with("None") {
                out.insert((method.to_uppercase(), path.clone()));
                found = true;
            }
        }
        assert!(found, "{path}: no method found in {endpoint}");
    }
    out
}

fn spec() -> Value {
    serde_json::to_value(server::openapi::document(true)).expect("spec as JSON")
}

fn spec_routes(spec: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            out.insert((method.to_uppercase(), path.clone()));
        }
    }
    out
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_exists() {
    let routes = router_routes().await;
    assert!(routes.len() > 40, "parsed too few routes: {routes:?}");
    let documented = spec_routes(&spec());
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    let phantom: Vec<_> = documented.difference(&routes).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document (add #[utoipa::path] and list the handler in \
         server/src/openapi.rs): {undocumented:?}"
    );
    assert!(phantom.is_empty(), "documented but not routed: {phantom:?}");
}

/// Cheap rules every operation must follow, so a forgotten response shows up here rather than
/// in the fuzz pass.
#[test]
fn operations_are_complete() {
    let spec = spec();
    assert_eq!(spec["openapi"], "3.1.0");
    let mut ids = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let name = format!("{} {path}", method.to_uppercase());
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                !id.is_empty() && ids.insert(id.to_string()),
                "{name}: operationId {id:?}"
            );
            assert!(
                op["summary"].is_string(),
                "{name}: no summary (doc comment)"
            );
            let responses = op["responses"].as_object().expect("responses");
            assert!(responses.contains_key("200"), "{name}: no 200");
            let public = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
            });
            if !public {
                assert!(responses.contains_key("401"), "{name}: no 401");
            }
            let json_body = op["requestBody"]["content"]["application/json"].is_object();
            if json_body {
                for status in ["400", "413"] {
                    assert!(responses.contains_key(status), "{name}: no {status}");
                }
            }
            if path.contains("{id}") {
                assert!(responses.contains_key("404"), "{name}: no 404");
            }
        }
    }
}

/// Every `$ref` points at a component that is there (a missing one makes tools skip the part
/// that uses it: the fuzz pass found `ErrorBody` missing).
#[test]
fn every_reference_resolves() {
    fn walk(v: &Value, spec: &Value, refs: &mut usize) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let pointer = r.strip_prefix('#').expect("a local reference");
                    assert!(spec.pointer(pointer).is_some(), "unresolvable {r}");
                    *refs += 1;
                }
                map.values().for_each(|v| walk(v, spec, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, spec, refs)),
            _ => {}
        }
    }
    let spec = spec();
    let mut refs = 0;
    walk(&spec, &spec, &mut refs);
    assert!(refs > 100, "only {refs} references");
}

/// Descriptions come from doc comments written for Rust readers; what integrators read must
/// speak JSON (`null`, not `None`; a list, not `Vec<…>`).
#[test]
fn descriptions_speak_json_not_rust() {
    fn walk(v: &Value, path: &str, found: &mut Vec<String>) {
        match v {
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                if let ("description" | "summary", Value::String(text)) = (k.as_str(), v) {
                    for rust in ["None", "Some(", "Option<", "Vec<", "HashMap", "::"] {
                        if text.contains(rust) {
                            found.push(format!("{path}: {rust:?} in {text:?}"));
                        }
                    }
                }
                walk(v, &format!("{path}/{k}"), found)
            }),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, v)| walk(v, &format!("{path}/{i}"), found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(&spec(), "", &mut found);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_simulator_is_documented_only_where_it_runs() {
    let real = serde_json::to_value(server::openapi::document(false)).expect("json");
    let paths = real["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/send-message"));
    assert!(!paths.keys().any(|p| p.starts_with("/simulator/")));
    assert!(spec()["paths"]["/simulator/sessions/{id}/scan"].is_object());
}

#[tokio::test]
async fn the_spec_and_the_docs_page_are_served_without_credentials() {
    let app = TestApp::start().await;
    let c = reqwest::Client::new();
    let r = c.get(app.url("/openapi.json")).send().await.expect("spec");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let served: Value = r.json().await.expect("json");
    assert_eq!(served["info"]["title"], "Kabar API");
    assert_eq!(spec_routes(&served), spec_routes(&spec()));

    let r = c.get(app.url("/docs")).send().await.expect("docs");
    assert_eq!(r.status(), 200);
    let html = r.text().await.expect("html");
    assert!(html.contains("/docs/swagger-ui-bundle.js") && html.contains("/openapi.json"));
    // Nothing on the page comes from elsewhere.
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );

    for (file, kind) in [
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui.css", "text/css"),
    ] {
        let r = c
            .get(app.url(&format!("/docs/{file}")))
            .send()
            .await
            .expect("asset");
        assert_eq!(
            r.status(),
            200,
            "{file}: run scripts/build-site.sh (it copies swagger-ui-dist)"
        );
        let ct = r.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .to_string();
        assert!(ct.contains(kind), "{file}: {ct}");
        assert!(r.bytes().await.expect("body").len() > 10_000, "{file}");
    }
    let r = c.get(app.url("/docs/nope.js")).send().await.expect("404");
    assert_eq!(r.status(), 404);
}

/// Every event Kabar delivers, as a receiver gets it, is valid against the `webhooks` schema
/// `/openapi.json` publishes for it.
#[tokio::test]
async fn real_deliveries_match_the_published_webhook_schemas() {
    let app = TestApp::start().await;
    let (admin, _) = app.register("admin").await;
    let session = app.create_session(&admin, "Toko").await;
    let rx = Receiver::start().await;
    app.set_webhook(&admin, &session, &rx.url, "s").await;
    app.wait_status(&admin, &session, "qr_ready").await;
    let (s, _) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{session}/scan")))
            .json(&json!({"phoneNumber": "628111000110", "pushName": "Toko"})),
    )
    .await;
    assert_eq!(s, 200);
    app.incoming(&admin, &session, "628222000111", "Halo").await;
    let buttons = json!({"to": "628222000111", "type": "button", "text": "Lanjut?",
        "buttons": [{"id": "yes", "text": "Ya"}, {"id": "no", "text": "Tidak"}]});
    let (s, b) = call(admin.post(app.url("/send-interactive")).json(&buttons)).await;
    assert_eq!(s, 200, "{b}");
    let (s, _) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{session}/button-reply")))
            .json(&json!({"from": "628222000111", "messageId": b["messageId"], "buttonId": "yes"})),
    )
    .await;
    assert_eq!(s, 200);
    let list = json!({"to": "628222000111", "type": "list", "text": "Pilih", "buttonText": "Menu",
        "sections": [{"title": "Bantuan", "rows": [{"id": "r1", "title": "Cek", "description": "Pesanan"}]}]});
    let (s, b) = call(admin.post(app.url("/send-interactive")).json(&list)).await;
    assert_eq!(s, 200, "{b}");
    let (s, _) = call(
        admin
            .post(app.url(&format!("/simulator/sessions/{session}/list-reply")))
            .json(&json!({"from": "628222000111", "messageId": b["messageId"], "rowId": "r1"})),
    )
    .await;
    assert_eq!(s, 200);
    // A file: `message.out` with its `media` descriptor.
    let (s, b) = call(admin.post(app.url("/send-media")).json(&json!({
        "to": "628222000111", "type": "document", "filename": "harga.csv",
        "base64": "c2t1LHByaWNlCkExLDEwMDAwCg==", "caption": "Daftar harga"
    })))
    .await;
    assert_eq!(s, 200, "{b}");
    // A place (message.out with `location`), a contact's cards (message.in with `contacts`),
    // a poll and a vote, a reaction, an edit, a delete, and receipts.
    let (s, b) = call(admin.post(app.url("/send-location")).json(
        &json!({"to": "628222000111", "latitude": -6.2, "longitude": 106.8, "name": "Toko"}),
    ))
    .await;
    assert_eq!(s, 200, "{b}");
    let place = b["messageId"].clone();
    let sim = |what: &str| app.url(&format!("/simulator/sessions/{session}/{what}"));
    let from = "628222000111";
    for (what, body) in [
        (
            "incoming",
            json!({"from": from, "contacts": [{"name": "Ani", "phoneNumbers": ["6285511112222"]}]}),
        ),
        (
            "reaction",
            json!({"from": from, "messageId": place, "emoji": "👍"}),
        ),
        ("receipt", json!({"messageIds": [place], "status": "read"})),
    ] {
        let (s, b) = call(admin.post(sim(what)).json(&body)).await;
        assert_eq!(s, 200, "{what}: {b}");
    }
    let theirs = app.incoming(&admin, &session, from, "Harga?").await;
    for (what, body) in [
        (
            "edit",
            json!({"from": from, "messageId": theirs, "message": "Harga kopi?"}),
        ),
        ("revoke", json!({"from": from, "messageId": theirs})),
    ] {
        let (s, b) = call(admin.post(sim(what)).json(&body)).await;
        assert_eq!(s, 200, "{what}: {b}");
    }
    let (s, b) = call(admin.post(app.url("/send-poll")).json(
        &json!({"to": from, "question": "Kapan?", "options": ["Pagi", "Sore"], "multipleAnswers": true}),
    ))
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(
        admin
            .post(sim("poll-vote"))
            .json(&json!({"from": from, "messageId": b["messageId"], "options": ["Sore"]})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    // Groups: a member writes in one (message.in with `chat`), members change, it is renamed.
    let gid = app.sim_group(&admin, &session, &[from]).await;
    let (s, b) = call(
        admin
            .post(sim("incoming"))
            .json(&json!({"chat": gid, "from": from, "message": "Halo grup"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(
        admin
            .post(sim(&format!("groups/{gid}/participants")))
            .json(&json!({"action": "add", "participants": ["628333000112"], "by": from})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = call(
        admin
            .patch(app.url(&format!("/api/sessions/{session}/groups/{gid}")))
            .json(&json!({"subject": "Grup Toko"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let mut timed = buttons.clone();
    timed["expiresIn"] = json!(1);
    let (s, b) = call(admin.post(app.url("/send-interactive")).json(&timed)).await;
    assert_eq!(s, 200, "{b}");
    let (s, _) = call(
        admin
            .post(app.url("/api/webhooks/test"))
            .json(&json!({"sessionId": session})),
    )
    .await;
    assert_eq!(s, 200);
    let hits = rx
        .wait_until("every kind of event", |h| {
            let seen: BTreeSet<String> = h
                .iter()
                .filter_map(|h| h.json()["event"].as_str().map(String::from))
                .collect();
            app::model::event::ALL.iter().all(|e| seen.contains(*e))
        })
        .await;

    assert!(
        hits.iter()
            .any(|h| h.json()["data"]["media"]["filename"] == "harga.csv"),
        "the file's message.out is among the deliveries"
    );
    for field in ["location", "contacts", "poll"] {
        assert!(
            hits.iter()
                .any(|h| h.json()["data"][field].is_object() || h.json()["data"][field].is_array()),
            "a delivery carries `{field}`"
        );
    }
    let (_, doc) = call(reqwest::Client::new().get(app.url("/openapi.json"))).await;
    for hit in hits {
        let body = hit.json();
        let event = body["event"].as_str().expect("event").to_string();
        let schema = &doc["webhooks"][&event]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        assert!(schema.is_object(), "no webhook schema for {event}");
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": "#/$defs/body",
            "$defs": {"body": schema},
            "components": doc["components"],
        });
        let validator = jsonschema::validator_for(&root).expect("a valid schema");
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{event}: {errors:?} in {body}");
        assert_eq!(hit.header("x-webhook-event"), event);
    }
}
