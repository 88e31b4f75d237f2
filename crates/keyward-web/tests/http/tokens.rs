//! API tokens (issue 13) over HTTP: a token with `users.view` only lists
//! users and resets nothing; a token never holds more than its owner (at
//! creation, and after the owner loses a custom role); expired, revoked,
//! unknown and malformed tokens are 401; a bearer call reads no cookie and
//! needs no CSRF token; calls on one's own account refuse tokens; a revoked
//! token is refused by every call that starts after the revoke answered,
//! even under parallel load; every action names its token in the audit
//! trail; the secret is stored nowhere but as its digest.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use keyward_core::Ctx;
use keyward_core::authz::{Permission, PermissionSet};
use keyward_core::testing::{actor_named, grant_through_custom_role, seed_demo_people};
use keyward_core::tokens::NewToken;
use keyward_core::types::random::SeededRandom;
use keyward_core::types::{Role, UnixTime};

/// A call with `Authorization: Bearer <secret>` and nothing else.
fn bearer(method: &str, path: &str, secret: &str, body: Option<Value>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {secret}"))
        .header("content-type", "application/json")
        .body(body.map(|b| Body::from(b.to_string())).unwrap_or_default())
        .expect("request")
}

/// A token of the session's owner with `permissions`: (id, secret).
async fn token_of(app: &TestApp, session: &Session, permissions: &[&str]) -> (String, String) {
    let reply = app
        .send(call(
            "POST",
            "/api/v1/tokens",
            session,
            Some(json!({ "name": "Nightly sync", "permissions": permissions })),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let body = reply.json();
    (
        body["id"].as_str().unwrap().to_owned(),
        body["token"].as_str().unwrap().to_owned(),
    )
}

async fn lead(app: &TestApp) -> Session {
    app.api_session_as("demo.lead", DEMO_PASSWORD).await
}

#[tokio::test]
async fn a_view_only_token_lists_users_and_resets_or_creates_nothing() {
    let app = demo_app().await;
    let lead = lead(&app).await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let class = demo_class_id(&app, &teacher).await;
    let amy = user_id(&app, "demo.amy", DEMO_PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let (_, secret) = token_of(&app, &lead, &["users.view"]).await;

    let listed = app
        .send(bearer("GET", "/api/v1/users", &secret, None))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    let create =
        json!({"first_name": "Tia", "last_name": "Token", "role": "parent", "school_id": school});
    let refused = [
        bearer("POST", "/api/v1/users", &secret, Some(create)),
        bearer(
            "POST",
            &format!("/api/v1/learners/{amy}/password"),
            &secret,
            Some(json!({"mode": "generate"})),
        ),
        bearer(
            "POST",
            &format!("/api/v1/classes/{class}/password-reset"),
            &secret,
            Some(json!({"mode": "individual"})),
        ),
    ];
    for request in refused {
        let path = request.uri().to_string();
        let reply = app.send(request).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            reply.text()
        );
    }
    assert!(signs_in(&app, "demo.amy", DEMO_PASSWORD).await);
}

#[tokio::test]
async fn a_bearer_call_reads_no_cookie_and_needs_no_csrf_token() {
    let app = demo_app().await;
    let lead = lead(&app).await;
    let admin = app.api_session_as("demo.admin", DEMO_PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let (_, secret) = token_of(&app, &lead, &["users.view"]).await;
    // The admin's cookie and CSRF token would allow this; the token does not.
    let mut request = call(
        "POST",
        "/api/v1/users",
        &admin,
        Some(
            json!({"first_name": "Tia", "last_name": "Token", "role": "parent", "school_id": school}),
        ),
    );
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {secret}").parse().unwrap());
    assert_api_error(&app.send(request).await, StatusCode::FORBIDDEN, "forbidden");
    // A change through a token needs no X-CSRF-Token, nor a same-site Origin.
    let (_, manager) = token_of(&app, &lead, &["users.manage"]).await;
    let mut request = bearer(
        "POST",
        "/api/v1/users",
        &manager,
        Some(
            json!({"first_name": "Tia", "last_name": "Token", "role": "parent", "school_id": school}),
        ),
    );
    request
        .headers_mut()
        .insert("origin", "https://elsewhere.example".parse().unwrap());
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
}

#[tokio::test]
async fn calls_on_ones_own_account_and_tokens_refuse_a_token() {
    let app = demo_app().await;
    let lead = lead(&app).await;
    let (_, secret) = token_of(&app, &lead, &["users.view"]).await;
    for (method, path, body) in [
        ("GET", "/api/v1/me", None),
        ("GET", "/api/v1/me/sessions", None),
        ("GET", "/api/v1/me/mfa", None),
        (
            "POST",
            "/api/v1/me/password",
            Some(
                json!({"current_password": DEMO_PASSWORD, "new_password": "x", "confirm_password": "x"}),
            ),
        ),
        ("DELETE", "/api/v1/session", None),
        ("GET", "/api/v1/tokens", None),
        (
            "POST",
            "/api/v1/tokens",
            Some(json!({"name": "more", "permissions": ["users.view"]})),
        ),
    ] {
        let reply = app.send(bearer(method, path, &secret, body)).await;
        assert_api_error(&reply, StatusCode::FORBIDDEN, "token_not_allowed");
    }
}

#[tokio::test]
async fn a_token_holds_no_more_than_its_owner_at_creation_or_later() {
    let app = demo_app().await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let asked = app
        .send(call(
            "POST",
            "/api/v1/tokens",
            &teacher,
            Some(json!({"name": "Too much", "permissions": ["users.view"]})),
        ))
        .await;
    assert_api_error(&asked, StatusCode::FORBIDDEN, "forbidden");
    let unknown = app
        .send(call(
            "POST",
            "/api/v1/tokens",
            &teacher,
            Some(json!({"name": "Odd", "permissions": ["users.everything"]})),
        ))
        .await;
    assert_api_error(
        &unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "token_permissions_invalid",
    );

    // The teacher is given users.view through a custom role, makes a token
    // with it, and loses the role: the token loses it too.
    let rng = SeededRandom::new(5);
    let ctx = Ctx::new(UnixTime::now(), &rng);
    let lead_actor = actor_named(&app.kw, "demo.lead").await;
    grant_through_custom_role(
        &app.kw,
        &ctx,
        &lead_actor,
        "demo.teacher",
        &[Permission::UsersView],
    )
    .await;
    let (_, secret) = token_of(&app, &teacher, &["users.view"]).await;
    let listed = app
        .send(bearer("GET", "/api/v1/users", &secret, None))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    sqlx::query("DELETE FROM user_custom_roles")
        .execute(app.kw.db().pool())
        .await
        .unwrap();
    let listed = app
        .send(bearer("GET", "/api/v1/users", &secret, None))
        .await;
    assert_api_error(&listed, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn expired_revoked_unknown_and_malformed_tokens_are_401() {
    let app = demo_app().await;
    let lead = lead(&app).await;
    let rng = SeededRandom::new(6);
    let two_days_ago = Ctx::new(UnixTime(UnixTime::now().secs() - 2 * 86_400), &rng);
    let lead_actor = actor_named(&app.kw, "demo.lead").await;
    let old = app
        .kw
        .create_token(
            &two_days_ago,
            &lead_actor,
            &NewToken {
                name: "Old".into(),
                permissions: PermissionSet::of(&[Permission::UsersView]),
                school_id: None,
                expires_in_days: Some(1),
            },
        )
        .await
        .unwrap();
    let expired = app
        .send(bearer("GET", "/api/v1/users", old.secret.expose(), None))
        .await;
    assert_api_error(&expired, StatusCode::UNAUTHORIZED, "token_expired");

    let (id, secret) = token_of(&app, &lead, &["users.view"]).await;
    let revoked = app
        .send(call("DELETE", &format!("/api/v1/tokens/{id}"), &lead, None))
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text());
    let again = app
        .send(call("DELETE", &format!("/api/v1/tokens/{id}"), &lead, None))
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    let reply = app
        .send(bearer("GET", "/api/v1/users", &secret, None))
        .await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "token_revoked");

    let unknown = format!("kw_{}", "A".repeat(43));
    let reply = app
        .send(bearer("GET", "/api/v1/users", &unknown, None))
        .await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "token_invalid");
    let mut basic = get("/api/v1/users").body(Body::empty()).unwrap();
    basic
        .headers_mut()
        .insert("authorization", "Basic ZGVtbzpkZW1v".parse().unwrap());
    assert_api_error(
        &app.send(basic).await,
        StatusCode::UNAUTHORIZED,
        "token_invalid",
    );

    let rows = keyward_core::audit::recent(app.kw.db(), 50).await.unwrap();
    let refused: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "token.refused")
        .collect();
    // The expired and the revoked token; malformed and unknown secrets are
    // logged only (anyone could send them).
    assert_eq!(refused.len(), 2);
    assert!(
        refused
            .iter()
            .any(|r| r.api_token_id.as_deref() == Some(id.as_str()))
    );
}

#[tokio::test]
async fn a_token_of_a_disabled_owner_is_refused() {
    let app = demo_app().await;
    let lead = lead(&app).await;
    let (_, secret) = token_of(&app, &lead, &["users.view"]).await;
    sqlx::query("UPDATE users SET status = 'disabled' WHERE username = 'demo.lead'")
        .execute(app.kw.db().pool())
        .await
        .unwrap();
    let reply = app
        .send(bearer("GET", "/api/v1/users", &secret, None))
        .await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "token_invalid");
}

#[tokio::test]
async fn a_token_of_an_owner_held_at_enrolment_is_refused() {
    let app = spawn_app_with(|s| s.mfa.required_roles = vec![Role::LeadTeacher]).await;
    seed_demo_people(&app.kw, &SeededRandom::new(8)).await;
    let rng = SeededRandom::new(9);
    let ctx = Ctx::new(UnixTime::now(), &rng);
    let lead_actor = actor_named(&app.kw, "demo.lead").await;
    let created = app
        .kw
        .create_token(
            &ctx,
            &lead_actor,
            &NewToken {
                name: "Held".into(),
                permissions: PermissionSet::of(&[Permission::UsersView]),
                school_id: None,
                expires_in_days: None,
            },
        )
        .await
        .unwrap();
    let reply = app
        .send(bearer(
            "GET",
            "/api/v1/users",
            created.secret.expose(),
            None,
        ))
        .await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "mfa_enrolment_required");
}

#[tokio::test]
async fn an_action_through_a_token_is_audited_under_it_and_the_secret_is_kept_nowhere() {
    let app = demo_app().await;
    let lead = lead(&app).await;
    let amy = user_id(&app, "demo.amy", DEMO_PASSWORD).await;
    let (id, secret) = token_of(&app, &lead, &["learners.view", "learners.reset_password"]).await;
    let reply = app
        .send(bearer(
            "POST",
            &format!("/api/v1/learners/{amy}/password"),
            &secret,
            Some(json!({"mode": "generate"})),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let rows = keyward_core::audit::recent(app.kw.db(), 20).await.unwrap();
    let reset = rows
        .iter()
        .find(|r| r.action == "learner.password_reset")
        .expect("the reset is audited");
    assert_eq!(reset.api_token_id.as_deref(), Some(id.as_str()));
    assert!(rows.iter().any(|r| r.action == "token.create"));
    // The audit log shows which token acted.
    let log = app
        .send(call(
            "GET",
            "/api/v1/audit?action=learner.password_reset",
            &lead,
            None,
        ))
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text());
    assert_eq!(log.json()["entries"][0]["api_token_id"], json!(id));
    // The secret is in no row: only its digest is.
    let body = &secret[3..];
    let stored: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, secret_hash, permissions FROM api_tokens")
            .fetch_all(app.kw.db().pool())
            .await
            .unwrap();
    assert!(
        stored
            .iter()
            .all(|(a, b, c)| !a.contains(body) && !b.contains(body) && !c.contains(body))
    );
    for row in &rows {
        assert!(!format!("{row:?}").contains(body));
    }
}

#[tokio::test]
async fn after_revoke_answers_no_call_with_the_token_succeeds() {
    let app = Arc::new(demo_app().await);
    let lead = lead(&app).await;
    let (id, secret) = token_of(&app, &lead, &["users.view"]).await;
    let revoked = Arc::new(AtomicBool::new(false));
    let callers = (0..8).map(|_| {
        let (app, secret, revoked) = (app.clone(), secret.clone(), revoked.clone());
        tokio::spawn(async move {
            let mut late_successes = 0;
            let mut late_calls = 0;
            for _ in 0..15 {
                let started_after = revoked.load(Ordering::SeqCst);
                let reply = app
                    .send(bearer("GET", "/api/v1/users", &secret, None))
                    .await;
                if started_after {
                    late_calls += 1;
                    if reply.status == StatusCode::OK {
                        late_successes += 1;
                    }
                }
            }
            (late_calls, late_successes)
        })
    });
    let callers: Vec<_> = callers.collect();
    tokio::task::yield_now().await;
    let reply = app
        .send(call("DELETE", &format!("/api/v1/tokens/{id}"), &lead, None))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    revoked.store(true, Ordering::SeqCst);
    let mut late_calls = 0;
    for caller in callers {
        let (calls, successes) = caller.await.unwrap();
        assert_eq!(successes, 0);
        late_calls += calls;
    }
    let after = app
        .send(bearer("GET", "/api/v1/users", &secret, None))
        .await;
    assert_api_error(&after, StatusCode::UNAUTHORIZED, "token_revoked");
    eprintln!("{late_calls} calls started after the revoke answered; none got in");
}

/// The value of the read-only field holding a new token's secret.
fn shown_secret(page: &str) -> Option<String> {
    let at = page.find("id=\"new-token\"")?;
    let rest = &page[at..];
    let value = rest.find("value=\"")? + 7;
    let end = rest[value..].find('"')?;
    Some(rest[value..value + end].to_owned())
}

#[tokio::test]
async fn the_page_creates_a_token_shows_it_once_and_revokes_it_after_a_confirm_step() {
    let app = demo_app().await;
    let mut browser = app.signed_in_browser("demo.lead", DEMO_PASSWORD).await;
    let page = browser.get("/account/tokens").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let csrf = page.field("csrf_token").expect("csrf_token");
    let created = browser
        .post_form(
            "/account/tokens",
            &[
                ("csrf_token", &csrf),
                ("name", "Timetable sync"),
                ("permissions", "users.view"),
                ("permissions", "learners.view"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let secret = shown_secret(&created.text()).expect("the secret is shown");
    assert!(secret.starts_with("kw_"));
    let again = browser.get("/account/tokens").await.text();
    assert!(again.contains("Timetable sync") && !again.contains(&secret));
    let listed = app
        .send(bearer("GET", "/api/v1/users", &secret, None))
        .await;
    assert_eq!(listed.status, StatusCode::OK);

    // More than the lead holds is refused on the page too.
    let refused = browser
        .post_form(
            "/account/tokens",
            &[
                ("csrf_token", &csrf),
                ("name", "All"),
                ("permissions", "schools.manage"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let id = app
        .kw
        .list_tokens(&actor_named(&app.kw, "demo.lead").await)
        .await
        .unwrap()
        .own[0]
        .id
        .to_string();
    let confirm = browser.get(&format!("/account/tokens/{id}/revoke")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.text().contains("Revoke token"));
    let done = browser
        .post_form(
            &format!("/account/tokens/{id}/revoke"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    let reply = app
        .send(bearer("GET", "/api/v1/users", &secret, None))
        .await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "token_revoked");
}

/// The OpenAPI document says which operations take a token (`bearer_token`)
/// and the server agrees: every operation that takes a session but does not
/// list `bearer_token` answers a token 403 `token_not_allowed`, and every one
/// that lists it never does. So the document cannot drift from the
/// extractors (seven operations' documents once did).
#[tokio::test]
async fn the_document_says_exactly_which_operations_take_a_token() {
    let app = demo_app().await;
    let lead = lead(&app).await;
    let (_, secret) = token_of(&app, &lead, &["users.view"]).await;
    let doc = serde_json::to_value(keyward_web::openapi_document()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let security = operation["security"].to_string();
            if !security.contains("session_cookie") {
                continue;
            }
            let takes_token = security.contains("bearer_token");
            let uri = path
                .split('/')
                .map(|part| {
                    if part.starts_with('{') {
                        "00000000-0000-4000-8000-000000000000"
                    } else {
                        part
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let body = (method != "get").then(|| json!({}));
            let reply = app
                .send(bearer(&method.to_uppercase(), &uri, &secret, body))
                .await;
            let refused =
                reply.status == StatusCode::FORBIDDEN && reply.text().contains("token_not_allowed");
            assert_eq!(
                refused,
                !takes_token,
                "{method} {uri}: {} {}",
                reply.status,
                reply.text()
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} operations checked");
}
