//! Passkeys over HTTP: `/api/v1/me/passkeys` (start and finish a
//! registration, list, rename, remove), Account Settings' **Passkeys**
//! section and its removal page, the school's switch for learners, and bad
//! input answered with stable codes (never a 500). A software authenticator
//! (`keyward_core::passkeys::soft_authenticator`) plays the browser's part.

use axum::http::StatusCode;
use serde_json::{Value, json};

use keyward_core::passkeys::soft_authenticator::SoftPasskey;
use keyward_core::testing::seed_demo_people;
use keyward_core::types::random::SeededRandom;

use crate::helpers::*;

const ORIGIN: &str = "http://localhost:8080";

/// The demo school on a server at `http://localhost:8080`.
async fn passkey_app() -> TestApp {
    let app = spawn_app_with(|s| s.server.public_url = ORIGIN.parse().unwrap()).await;
    seed_demo_people(&app.kw, &SeededRandom::new(8)).await;
    app
}

/// Registers `key` as `name` through the API; the finishing answer.
async fn add_passkey(app: &TestApp, session: &Session, name: &str, key: &mut SoftPasskey) -> Reply {
    let start = json!({ "name": name, "current_password": DEMO_PASSWORD });
    let started = app
        .send(call(
            "POST",
            "/api/v1/me/passkeys/registration",
            session,
            Some(start),
        ))
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text());
    let started = started.json();
    let answer = json!({
        "ceremony": started["ceremony"],
        "credential": key.register(&started["options"]),
    });
    app.send(call("POST", "/api/v1/me/passkeys", session, Some(answer)))
        .await
}

async fn list(app: &TestApp, session: &Session) -> Value {
    let reply = app
        .send(call("GET", "/api/v1/me/passkeys", session, None))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()
}

#[tokio::test]
async fn a_passkey_is_added_listed_renamed_and_removed_over_the_api() {
    let app = passkey_app().await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let mut key = SoftPasskey::new(1, ORIGIN);
    let added = add_passkey(&app, &teacher, "School laptop", &mut key).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    let added = added.json();
    assert_eq!(added["name"], "School laptop");
    assert_eq!(list(&app, &teacher).await, json!([added.clone()]));
    let id = added["id"].as_str().unwrap();

    let renamed = app
        .send(call(
            "PATCH",
            &format!("/api/v1/me/passkeys/{id}"),
            &teacher,
            Some(json!({ "name": "Blue key" })),
        ))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text());
    assert_eq!(renamed.json()["name"], "Blue key");

    // Another account sees none of it and cannot remove it.
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    assert_eq!(list(&app, &lead).await, json!([]));
    let remove = |session, password| {
        call(
            "DELETE",
            &format!("/api/v1/me/passkeys/{id}"),
            session,
            Some(json!({ "current_password": password })),
        )
    };
    let reply = app.send(remove(&lead, DEMO_PASSWORD)).await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
    let reply = app.send(remove(&teacher, "not it")).await;
    assert_api_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_current_password",
    );
    let reply = app.send(remove(&teacher, DEMO_PASSWORD)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert_eq!(list(&app, &teacher).await, json!([]));

    let actions = app.audit_actions().await;
    for (action, outcome) in [
        ("passkey.register", "success"),
        ("passkey.rename", "success"),
        ("passkey.remove", "failure"),
        ("passkey.remove", "success"),
    ] {
        assert!(
            actions.contains(&(action.into(), outcome.into())),
            "{action} {outcome} not in {actions:?}"
        );
    }
}

#[tokio::test]
async fn bad_passkey_input_gets_a_stable_code_and_changes_nothing() {
    let app = passkey_app().await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let start = |body: Value| {
        call(
            "POST",
            "/api/v1/me/passkeys/registration",
            &teacher,
            Some(body),
        )
    };

    let reply = app
        .send(start(
            json!({ "name": "", "current_password": DEMO_PASSWORD }),
        ))
        .await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_name");
    let reply = app
        .send(start(
            json!({ "name": "x".repeat(65), "current_password": DEMO_PASSWORD }),
        ))
        .await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_name");
    let reply = app
        .send(start(
            json!({ "name": "Key", "current_password": "not it" }),
        ))
        .await;
    assert_api_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_current_password",
    );
    let reply = app.send(start(json!({ "name": "Key" }))).await;
    assert!(
        [StatusCode::BAD_REQUEST, StatusCode::UNPROCESSABLE_ENTITY].contains(&reply.status),
        "{}",
        reply.text()
    );

    let finish = |body: Value| call("POST", "/api/v1/me/passkeys", &teacher, Some(body));
    let malformed = [
        json!("a string"),
        json!({ "id": 7 }),
        json!({ "id": "x", "rawId": "%%%", "type": "public-key", "response": {} }),
        json!({ "id": "x", "rawId": "AAAA", "type": "public-key",
                "response": { "attestationObject": "AAAA", "clientDataJSON": "AAAA" } }),
    ];
    for credential in malformed {
        let started = app
            .send(start(
                json!({ "name": "Key", "current_password": DEMO_PASSWORD }),
            ))
            .await
            .json();
        let reply = app
            .send(finish(
                json!({ "ceremony": started["ceremony"], "credential": credential }),
            ))
            .await;
        assert_api_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "passkey_response_invalid",
        );
        // Used up by the failed finish: the same ceremony never comes back.
        let again = app
            .send(finish(
                json!({ "ceremony": started["ceremony"], "credential": {} }),
            ))
            .await;
        assert_api_error(&again, StatusCode::GONE, "passkey_ceremony_expired");
    }
    for ceremony in [json!("not a ceremony"), json!(""), json!("A".repeat(4000))] {
        let reply = app
            .send(finish(json!({ "ceremony": ceremony, "credential": {} })))
            .await;
        assert_api_error(&reply, StatusCode::GONE, "passkey_ceremony_expired");
    }
    let reply = app.send(finish(json!({ "credential": {} }))).await;
    assert!(reply.status.is_client_error(), "{}", reply.text());
    let not_json = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/me/passkeys")
        .header("cookie", format!("kw_session={}", teacher.0))
        .header("x-csrf-token", &teacher.1)
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{\"ceremony\": "))
        .unwrap();
    assert_api_error(
        &app.send(not_json).await,
        StatusCode::BAD_REQUEST,
        "invalid_json",
    );

    for path in [
        "/api/v1/me/passkeys/not-an-id",
        "/api/v1/me/passkeys/0f8fad5b-d9cb-469f-a165-70867728950e",
    ] {
        let reply = app
            .send(call("PATCH", path, &teacher, Some(json!({ "name": "X" }))))
            .await;
        assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
    }
    // Without the CSRF header nothing starts.
    let mut no_csrf = start(json!({ "name": "Key", "current_password": DEMO_PASSWORD }));
    no_csrf.headers_mut().remove("x-csrf-token");
    assert_api_error(
        &app.send(no_csrf).await,
        StatusCode::FORBIDDEN,
        "csrf_failed",
    );
    assert_eq!(list(&app, &teacher).await, json!([]));
}

#[tokio::test]
async fn learners_need_the_schools_switch_which_the_settings_api_carries() {
    let app = passkey_app().await;
    let learner = app.api_session_as("demo.amy", DEMO_PASSWORD).await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let mut key = SoftPasskey::new(2, ORIGIN);
    let start = json!({ "name": "Tablet", "current_password": DEMO_PASSWORD });
    let reply = app
        .send(call(
            "POST",
            "/api/v1/me/passkeys/registration",
            &learner,
            Some(start),
        ))
        .await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "passkeys_off");

    let school = school_of(&app, &lead).await;
    let settings = format!("/api/v1/schools/{school}/settings");
    let shown = app.send(call("GET", &settings, &lead, None)).await.json();
    assert_eq!(shown["learner_passkeys"], false);
    let on = json!({ "learner_passwords_retrievable": true, "learner_passkeys": true });
    let reply = app.send(call("PUT", &settings, &lead, Some(on))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["learner_passkeys"], true);
    let added = add_passkey(&app, &learner, "Tablet", &mut key).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());

    // Leaving the field out leaves the switch as it is.
    let same = json!({ "learner_passwords_retrievable": true });
    let reply = app.send(call("PUT", &settings, &lead, Some(same))).await;
    assert_eq!(reply.json()["learner_passkeys"], true);
    let off = json!({ "learner_passwords_retrievable": true, "learner_passkeys": false });
    let reply = app.send(call("PUT", &settings, &lead, Some(off))).await;
    assert_eq!(reply.json()["learner_passkeys"], false);
    assert_eq!(list(&app, &learner).await, json!([]));
    let wrong = json!({ "learner_passwords_retrievable": true, "learner_passkeys": "yes" });
    let reply = app.send(call("PUT", &settings, &lead, Some(wrong))).await;
    assert!(reply.status.is_client_error(), "{}", reply.text());
}

#[tokio::test]
async fn passkeys_are_unavailable_when_the_public_url_is_an_ip_address() {
    let app = demo_app().await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let start = json!({ "name": "Key", "current_password": DEMO_PASSWORD });
    let reply = app
        .send(call(
            "POST",
            "/api/v1/me/passkeys/registration",
            &teacher,
            Some(start),
        ))
        .await;
    assert_api_error(&reply, StatusCode::CONFLICT, "passkeys_unavailable");
    let mut browser = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;
    let page = browser.get("/account/passkeys").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.page_text().contains("must be a domain name"),
        "{}",
        page.page_text()
    );
    assert!(!page.text().contains("data-passkey-register"));
}

#[tokio::test]
async fn account_settings_lists_passkeys_and_removes_one_with_the_password() {
    let app = passkey_app().await;
    // Signed in before the passkey exists (afterwards it is the second step).
    let mut browser = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let mut key = SoftPasskey::new(3, ORIGIN);
    let added = add_passkey(&app, &teacher, "Kitchen <tablet>", &mut key)
        .await
        .json();
    let id = added["id"].as_str().unwrap().to_owned();
    let page = browser.get("/account").await;
    assert!(page.text().contains("href=\"/account/passkeys\""));
    let page = browser.get("/account/passkeys").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(!html.contains("Kitchen <tablet>"), "names are escaped");
    assert!(page.page_text().contains("Kitchen <tablet>"));
    assert!(html.contains("data-passkey-register"));
    assert!(html.contains("needs JavaScript"));
    assert!(html.contains("src=\"/static/passkeys.js\""));
    let script = app.get("/static/passkeys.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.content_type().starts_with("text/javascript"));

    // Removing: the password again, on a page that works without JavaScript.
    let remove = format!("/account/passkeys/{id}/remove");
    let form = browser.get(&remove).await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.field("csrf_token").unwrap();
    let wrong = browser
        .post_form(
            &remove,
            &[("csrf_token", &csrf), ("current_password", "not it")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.page_text().contains("current password is not right"));
    let done = browser
        .post_form(
            &remove,
            &[("csrf_token", &csrf), ("current_password", DEMO_PASSWORD)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    assert_eq!(done.location(), Some("/account/passkeys?notice=removed"));
    let page = browser.get("/account/passkeys?notice=removed").await;
    assert!(page.page_text().contains("The passkey has been removed."));
    assert!(page.page_text().contains("You have no passkeys yet."));
    assert_eq!(browser.get(&remove).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        browser.get("/account/passkeys/junk/remove").await.status,
        StatusCode::NOT_FOUND
    );

    // Signed out, the section sends the visitor to sign in and back.
    let out = app.get("/account/passkeys").await;
    assert_eq!(out.location(), Some("/signin?next=%2Faccount%2Fpasskeys"));
}

#[tokio::test]
async fn the_school_settings_page_switches_learners_passkeys() {
    let app = passkey_app().await;
    let mut learner = app.signed_in_browser("demo.amy", DEMO_PASSWORD).await;
    let page = learner.get("/account/passkeys").await;
    assert!(page.page_text().contains("switched off for learners"));
    assert!(!page.text().contains("data-passkey-register"));

    let mut lead = app.signed_in_browser("demo.lead", DEMO_PASSWORD).await;
    let page = lead.get("/school/settings").await;
    assert!(page.text().contains("name=\"learner_passkeys\""));
    let csrf = page.field("csrf_token").unwrap();
    let saved = lead
        .post_form(
            "/school/settings/passkeys",
            &[("csrf_token", &csrf), ("learner_passkeys", "on")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    assert!(
        saved
            .page_text()
            .contains("Learners at your school can now add passkeys")
    );
    let page = learner.get("/account/passkeys").await;
    assert!(page.text().contains("data-passkey-register"));

    // A teacher sees the switch but cannot change it.
    let mut teacher = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;
    let page = teacher.get("/school/settings").await;
    assert!(
        page.page_text()
            .contains("Learners at your school can use passkeys")
    );
    let csrf = page.field("csrf_token").unwrap();
    let refused = teacher
        .post_form("/school/settings/passkeys", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

/// A POST of `body` carrying `cookie` (no CSRF header: sign-in calls).
fn post_with_cookie(
    path: &str,
    cookie: Option<String>,
    body: Value,
) -> axum::http::Request<axum::body::Body> {
    let mut request = axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request
        .body(axum::body::Body::from(body.to_string()))
        .unwrap()
}

/// Starts and finishes a passkey ceremony at `start`/`finish` with `key`.
async fn passkey_sign_in(
    app: &TestApp,
    prefix: &str,
    cookie: Option<String>,
    key: &mut SoftPasskey,
) -> Reply {
    let started = app
        .send(post_with_cookie(
            &format!("{prefix}/start"),
            cookie.clone(),
            json!({}),
        ))
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text());
    let started = started.json();
    let answer = json!({
        "ceremony": started["ceremony"],
        "credential": key.sign_in(&started["options"]).expect("offered"),
    });
    app.send(post_with_cookie(
        &format!("{prefix}/finish"),
        cookie,
        answer,
    ))
    .await
}

#[tokio::test]
async fn a_passkey_signs_in_from_the_first_screen_and_as_the_second_step() {
    let app = passkey_app().await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let mut key = SoftPasskey::new(4, ORIGIN);
    let added = add_passkey(&app, &teacher, "Key", &mut key).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());

    // From the first screen: no username, no password.
    let reply = passkey_sign_in(&app, "/api/v1/session/passkey", None, &mut key).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["user"]["username"], "demo.teacher");
    let session = reply.cookie_value("kw_session").expect("a session cookie");
    let csrf = reply.json()["csrf_token"].as_str().unwrap().to_owned();
    let me = app
        .send(call("GET", "/api/v1/me", &(session, csrf), None))
        .await;
    assert_eq!(me.status, StatusCode::OK);

    // With the password, the passkey is the second step.
    let first = app.api_sign_in("demo.teacher", DEMO_PASSWORD).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(first.json()["mfa_required"], true);
    assert_eq!(first.json()["methods"], json!(["passkey"]));
    assert!(first.cookie_value("kw_session").is_none());
    let step = format!(
        "kw_step={}",
        first.cookie_value("kw_step").expect("a step cookie")
    );
    let reply = passkey_sign_in(
        &app,
        "/api/v1/session/mfa/passkey",
        Some(step.clone()),
        &mut key,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(reply.cookie_value("kw_session").is_some());
    // The step is used up.
    let again = app
        .send(post_with_cookie(
            "/api/v1/session/mfa/passkey/start",
            Some(step),
            json!({}),
        ))
        .await;
    assert_api_error(&again, StatusCode::UNAUTHORIZED, "sign_in_step_expired");
    let none = app
        .send(post_with_cookie(
            "/api/v1/session/mfa/passkey/start",
            None,
            json!({}),
        ))
        .await;
    assert_api_error(&none, StatusCode::UNAUTHORIZED, "sign_in_step_expired");

    let actions = app.audit_actions().await;
    let sign_ins = actions
        .iter()
        .filter(|a| *a == &("sign_in".to_owned(), "success".to_owned()))
        .count();
    assert!(sign_ins >= 3, "{actions:?}");
}

#[tokio::test]
async fn bad_passkey_sign_ins_get_a_stable_code_and_open_no_session() {
    let app = passkey_app().await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let mut key = SoftPasskey::new(5, ORIGIN);
    add_passkey(&app, &teacher, "Key", &mut key).await;
    let finish = |body: Value| post_with_cookie("/api/v1/session/passkey/finish", None, body);

    for credential in [json!(null), json!([1, 2]), json!({ "rawId": "AAAA" })] {
        let started = app
            .send(post_with_cookie(
                "/api/v1/session/passkey/start",
                None,
                json!({}),
            ))
            .await
            .json();
        let reply = app
            .send(finish(
                json!({ "ceremony": started["ceremony"], "credential": credential }),
            ))
            .await;
        assert_api_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "passkey_response_invalid",
        );
        assert!(reply.cookie_value("kw_session").is_none());
    }
    let reply = app
        .send(finish(json!({ "ceremony": "made-up", "credential": {} })))
        .await;
    assert_api_error(&reply, StatusCode::GONE, "passkey_ceremony_expired");
    // A tampered signature.
    let started = app
        .send(post_with_cookie(
            "/api/v1/session/passkey/start",
            None,
            json!({}),
        ))
        .await
        .json();
    let mut credential = key.sign_in(&started["options"]).unwrap();
    credential["response"]["signature"] = json!("MEQCIA");
    let reply = app
        .send(finish(
            json!({ "ceremony": started["ceremony"], "credential": credential }),
        ))
        .await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "passkey_rejected");
    assert!(reply.cookie_value("kw_session").is_none());
    assert!(
        app.audit_actions()
            .await
            .contains(&("passkey.assertion".into(), "failure".into()))
    );
}

#[tokio::test]
async fn the_sign_in_pages_offer_passkeys_when_they_can_work() {
    let app = passkey_app().await;
    let page = app.get("/signin?next=%2Faccount").await;
    let html = page.text();
    assert!(html.contains("Sign in with a passkey"));
    assert!(html.contains("data-next=\"/account\""));
    assert!(html.contains("src=\"/static/passkeys.js\""));
    assert!(html.contains("needs JavaScript"));
    let elsewhere = demo_app().await;
    let page = elsewhere.get("/signin").await;
    assert!(!page.text().contains("Sign in with a passkey"));
    assert!(!page.text().contains("passkeys.js"));

    // An account whose only second factor is a passkey: no code form.
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let mut key = SoftPasskey::new(6, ORIGIN);
    add_passkey(&app, &teacher, "Key", &mut key).await;
    let mut browser = app.browser();
    let step = browser.sign_in("demo.teacher", DEMO_PASSWORD).await;
    assert_eq!(step.status, StatusCode::SEE_OTHER, "{}", step.text());
    assert_eq!(step.location(), Some("/signin/verify"));
    let page = browser.get("/signin/verify").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Use a passkey"));
    assert!(html.contains("data-start=\"/api/v1/session/mfa/passkey/start\""));
    assert!(!html.contains("6-digit code"));
    assert!(page.page_text().contains("needs JavaScript"));
}
