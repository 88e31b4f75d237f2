//! Administrators acting on other people (seed 001, R-ADM-2 to R-ADM-4)
//! through the API and the pages: **Reset Password** by emailed link, read
//! back from the SMTP capture and used; every refusal with its stable code;
//! parallel resets within the hourly limit with one usable link; the
//! temporary password's hold; the MFA reset.

use std::time::Duration;

use axum::http::StatusCode;
use futures_util::future::join_all;
use serde_json::{Value, json};

use keyward_core::settings::{MailTransportKind, SmtpSecurity};
use keyward_core::testing::{CapturedMail, MONDAY_MORNING, SmtpCapture, ctx_at, demo_passwords};
use keyward_core::types::UnixTime;
use keyward_core::types::random::SeededRandom;

use crate::helpers::{
    DEMO_PASSWORD, Session, TestApp, assert_api_error, call, demo_app, enrol_totp, school_of,
    spawn_app_with, user_id,
};

const NEW: &str = "a brand new passphrase";

fn reset(id: &str, what: &str, session: &Session) -> axum::http::Request<axum::body::Body> {
    call("POST", &format!("/api/v1/users/{id}/{what}"), session, None)
}

/// The demo app with mail going over SMTP to a capture.
async fn mail_app() -> (TestApp, SmtpCapture) {
    let smtp = SmtpCapture::start();
    let port = smtp.port();
    let app = spawn_app_with(|s| {
        s.mail.transport = MailTransportKind::Smtp;
        s.mail.smtp.host = "127.0.0.1".into();
        s.mail.smtp.port = port;
        s.mail.smtp.security = SmtpSecurity::None;
        s.mail.smtp.timeout = Duration::from_secs(5);
    })
    .await;
    app.kw
        .seed_demo(
            &ctx_at(MONDAY_MORNING, &SeededRandom::new(5)),
            &demo_passwords(DEMO_PASSWORD),
        )
        .await
        .unwrap();
    (app, smtp)
}

async fn delivered(app: &TestApp, smtp: &SmtpCapture) -> Vec<CapturedMail> {
    app.kw
        .deliver_due_mail(&ctx_at(UnixTime::now(), &SeededRandom::new(9)))
        .await
        .unwrap();
    smtp.messages()
}

fn link_token(mail: &CapturedMail) -> String {
    let text = mail.text.clone().unwrap_or_default();
    let start = text
        .find("http://127.0.0.1:8080/recovery/")
        .expect("a link built from public_url");
    text[start + "http://127.0.0.1:8080/recovery/".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_administrator_with_two_step_verification_sends_a_link_the_teacher_uses() {
    let (app, smtp) = mail_app().await;
    let teacher = user_id(&app, "demo.teacher", DEMO_PASSWORD).await; // signs in once
    let admin = app.api_session_as("demo.admin", DEMO_PASSWORD).await;

    let refused = app.send(reset(&teacher, "password-reset", &admin)).await;
    assert_api_error(&refused, StatusCode::FORBIDDEN, "mfa_required");
    assert_eq!(refused.json()["enable_at"], "/account/mfa");

    enrol_totp(&app, &admin, DEMO_PASSWORD).await;
    let sent = app.send(reset(&teacher, "password-reset", &admin)).await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.text());
    assert_eq!(
        sent.json(),
        json!({ "sent_to": "t***@riverside.example", "expires_in": 3600 })
    );

    let mails = delivered(&app, &smtp).await;
    let mail = mails
        .iter()
        .find(|m| m.subject.contains("Reset"))
        .expect("the reset email");
    assert!(
        mail.to.contains("tom.baker@riverside.example"),
        "{:?}",
        mail.to
    );
    let text = mail.text.clone().unwrap_or_default();
    assert!(text.contains("your administrator"), "{text}");
    assert!(text.contains("works for 1 hour"), "{text}");
    let token = link_token(mail);
    let ok = app
        .send(crate::helpers::json_post(
            &format!("/api/v1/recovery/{token}"),
            &json!({ "new_password": NEW, "confirm_password": NEW }),
        ))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert!(crate::helpers::signs_in(&app, "demo.teacher", NEW).await);
    let audited = app.audit_actions().await;
    assert!(
        audited.contains(&("admin.password_reset".into(), "success".into())),
        "{audited:?}"
    );
    assert!(
        audited.contains(&("admin.password_reset".into(), "refused".into())),
        "{audited:?}"
    );
}

#[tokio::test]
async fn twenty_parallel_resets_mail_at_most_the_hourly_limit_and_one_link_works() {
    let (app, smtp) = mail_app().await;
    let teacher = user_id(&app, "demo.teacher", DEMO_PASSWORD).await;
    let admin = app.api_session_as("demo.admin", DEMO_PASSWORD).await;
    enrol_totp(&app, &admin, DEMO_PASSWORD).await;
    let replies =
        join_all((0..20).map(|_| app.send(reset(&teacher, "password-reset", &admin)))).await;
    let sent = replies
        .iter()
        .filter(|r| r.status == StatusCode::ACCEPTED)
        .count();
    for reply in replies.iter().filter(|r| r.status != StatusCode::ACCEPTED) {
        assert_api_error(reply, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
        assert!(reply.header("retry-after").is_some());
    }
    let limit = app.kw.settings().recovery.max_links_per_account_per_hour as usize;
    assert!((1..=limit).contains(&sent), "{sent} sent");
    let mails = delivered(&app, &smtp).await;
    let resets: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.contains("Reset"))
        .collect();
    assert!(
        !resets.is_empty() && resets.len() <= limit,
        "{}",
        resets.len()
    );
    // Composed at send time, superseded requests are skipped: every email
    // that went out carries the one open link.
    let mut usable = 0;
    for mail in &resets {
        let check = app
            .get(&format!("/api/v1/recovery/{}", link_token(mail)))
            .await;
        if check.status == StatusCode::OK {
            usable += 1;
        }
    }
    assert_eq!(usable, 1);
}

/// A custom role with `permissions` in the demo school, given to `username`.
async fn grant(app: &TestApp, lead: &Session, username: &str, name: &str, permissions: Value) {
    let school = school_of(app, lead).await;
    let role = app
        .send(call(
            "POST",
            &format!("/api/v1/schools/{school}/roles"),
            lead,
            Some(json!({ "name": name, "permissions": permissions })),
        ))
        .await;
    assert_eq!(role.status, StatusCode::CREATED, "{}", role.text());
    let id = user_id(app, username, DEMO_PASSWORD).await;
    let granted = app
        .send(call(
            "POST",
            &format!("/api/v1/users/{id}/roles"),
            lead,
            Some(json!({ "role_id": role.json()["id"] })),
        ))
        .await;
    assert!(granted.status.is_success(), "{}", granted.text());
}

#[tokio::test]
async fn every_refusal_has_its_stable_code() {
    let app = demo_app().await;
    let lead_id = user_id(&app, "demo.lead", DEMO_PASSWORD).await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    enrol_totp(&app, &lead, DEMO_PASSWORD).await;
    let teacher = user_id(&app, "demo.teacher", DEMO_PASSWORD).await;
    let admin = user_id(&app, "demo.admin", DEMO_PASSWORD).await;
    // demo.teacher has now signed in; a new colleague has not.
    let school = school_of(&app, &lead).await;
    let pending = crate::helpers::create_user(
        &app,
        &lead,
        json!({ "first_name": "Ola", "last_name": "Nowak", "role": "teacher",
                "school_id": school, "email": "ola@riverside.example" }),
    )
    .await;
    let pending = pending["id"].as_str().unwrap();
    let never = app.send(reset(pending, "password-reset", &lead)).await;
    assert_api_error(&never, StatusCode::CONFLICT, "never_signed_in");
    assert_eq!(never.json()["offer"], "access_code");

    for (id, status, code) in [
        (lead_id.as_str(), StatusCode::FORBIDDEN, "forbidden"),
        (admin.as_str(), StatusCode::NOT_FOUND, "not_found"),
        (
            "00000000-0000-4000-8000-000000000000",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ] {
        for what in ["password-reset", "temporary-password", "mfa-reset"] {
            let reply = app.send(reset(id, what, &lead)).await;
            assert_api_error(&reply, status, code);
        }
    }
    // Another school's person is not there at all.
    let platform = app.api_session_as("demo.admin", DEMO_PASSWORD).await;
    let other = crate::helpers::create_school(&app, &platform, "Hill Top Academy").await;
    let outsider = crate::helpers::create_user(
        &app,
        &platform,
        json!({ "first_name": "Ida", "last_name": "Out", "role": "teacher", "school_id": other }),
    )
    .await;
    let reply = app
        .send(reset(
            outsider["id"].as_str().unwrap(),
            "password-reset",
            &lead,
        ))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");

    // View Users alone, and Reset Passwords alone, are not enough.
    grant(&app, &lead, "demo.parent", "Viewers", json!(["users.view"])).await;
    let parent = app.api_session_as("demo.parent", DEMO_PASSWORD).await;
    let reply = app.send(reset(&teacher, "password-reset", &parent)).await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    grant(
        &app,
        &lead,
        "demo.teacher",
        "Resetters",
        json!(["users.reset_password"]),
    )
    .await;
    let resetter = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let amy = crate::helpers::create_user(
        &app,
        &lead,
        json!({ "first_name": "Kim", "last_name": "Lee", "role": "learner", "school_id": school }),
    )
    .await;
    for what in ["password-reset", "temporary-password"] {
        let reply = app
            .send(reset(amy["id"].as_str().unwrap(), what, &resetter))
            .await;
        assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    }
}

#[tokio::test]
async fn a_temporary_password_holds_every_call_until_it_is_replaced() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    enrol_totp(&app, &lead, DEMO_PASSWORD).await;
    let teacher = user_id(&app, "demo.teacher", DEMO_PASSWORD).await;
    let old = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    // An API token the teacher made before: held too, until the change.
    let made = app
        .send(call(
            "POST",
            "/api/v1/tokens",
            &old,
            Some(json!({ "name": "Class sync", "permissions": ["learners.view"] })),
        ))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let secret = made.json()["token"].as_str().unwrap().to_owned();
    let with_token = |secret: &str| {
        axum::http::Request::builder()
            .uri("/api/v1/classes")
            .header("authorization", format!("Bearer {secret}"))
            .body(axum::body::Body::empty())
            .unwrap()
    };

    let reply = app.send(reset(&teacher, "temporary-password", &lead)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let temporary = reply.json()["password"].as_str().unwrap().to_owned();
    let expires_at = reply.json()["expires_at"].as_i64().unwrap();
    assert!(expires_at > UnixTime::now().secs() + 86_000);
    let ended = app.send(call("GET", "/api/v1/me", &old, None)).await;
    assert_api_error(&ended, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(!crate::helpers::signs_in(&app, "demo.teacher", DEMO_PASSWORD).await);

    let held = app.api_session_as("demo.teacher", &temporary).await;
    let me = app.send(call("GET", "/api/v1/me", &held, None)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["password_change_required"], true);
    let blocked = app
        .send(call("GET", "/api/v1/me/sessions", &held, None))
        .await;
    assert_api_error(&blocked, StatusCode::FORBIDDEN, "password_change_required");
    let mut browser = app.browser();
    browser.set_cookie("kw_session", &held.0);
    let home = browser.get("/home").await;
    assert_eq!(home.location(), Some("/account/password"));
    // An `Authorization` header opens no page to the held session (found by
    // an outside review), and the token is held with its owner.
    let sneaking = axum::http::Request::builder()
        .uri("/home")
        .header("cookie", format!("kw_session={}", held.0))
        .header("authorization", "x")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(
        app.send(sneaking).await.location(),
        Some("/account/password")
    );
    assert_api_error(
        &app.send(with_token(&secret)).await,
        StatusCode::FORBIDDEN,
        "password_change_required",
    );
    // The temporary password itself is no new password.
    let kept = app
        .send(call(
            "POST",
            "/api/v1/me/password",
            &held,
            Some(
                json!({ "current_password": temporary, "new_password": temporary,
                         "confirm_password": temporary }),
            ),
        ))
        .await;
    assert_api_error(&kept, StatusCode::UNPROCESSABLE_ENTITY, "password_policy");
    assert!(
        kept.json()["violations"]
            .as_array()
            .unwrap()
            .contains(&json!("same_as_temporary")),
        "{}",
        kept.text()
    );
    let page = browser.get("/account/password").await;
    assert!(
        page.page_text().contains("temporary password"),
        "{}",
        page.page_text()
    );

    let changed = app
        .send(call(
            "POST",
            "/api/v1/me/password",
            &held,
            Some(json!({ "current_password": temporary, "new_password": NEW,
                         "confirm_password": NEW })),
        ))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    let open = app
        .send(call("GET", "/api/v1/me/sessions", &held, None))
        .await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.text());
    assert_eq!(browser.get("/home").await.status, StatusCode::OK);
    let me = app.send(call("GET", "/api/v1/me", &held, None)).await;
    assert_eq!(me.json()["password_change_required"], false);
    assert_eq!(app.send(with_token(&secret)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_expired_temporary_password_no_longer_signs_in() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    enrol_totp(&app, &lead, DEMO_PASSWORD).await;
    let teacher = user_id(&app, "demo.teacher", DEMO_PASSWORD).await;
    let reply = app.send(reset(&teacher, "temporary-password", &lead)).await;
    let temporary = reply.json()["password"].as_str().unwrap().to_owned();
    let held = app.api_session_as("demo.teacher", &temporary).await;
    // Time passes: the expiry is moved into the past.
    keyward_core::testing::expire_temporary_password(&app.kw, "demo.teacher").await;
    // The session it opened ends with it (found by an outside review).
    let ended = app.send(call("GET", "/api/v1/me", &held, None)).await;
    assert_api_error(&ended, StatusCode::UNAUTHORIZED, "unauthenticated");
    let late = app.api_sign_in("demo.teacher", &temporary).await;
    assert_api_error(
        &late,
        StatusCode::UNAUTHORIZED,
        "temporary_password_expired",
    );
    let wrong = app.api_sign_in("demo.teacher", "not the password").await;
    assert_api_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_credentials");
}

#[tokio::test]
async fn an_mfa_reset_removes_the_factors_and_ends_every_session() {
    let (app, smtp) = mail_app().await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    enrol_totp(&app, &lead, DEMO_PASSWORD).await;
    let teacher_session = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let teacher = app
        .send(call("GET", "/api/v1/me", &teacher_session, None))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    enrol_totp(&app, &teacher_session, DEMO_PASSWORD).await;
    assert_eq!(
        app.api_sign_in("demo.teacher", DEMO_PASSWORD).await.json()["mfa_required"],
        true
    );

    let reply = app.send(reset(&teacher, "mfa-reset", &lead)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({ "authenticator_app": true, "recovery_codes": 10, "passkeys": 0 })
    );
    let ended = app
        .send(call("GET", "/api/v1/me", &teacher_session, None))
        .await;
    assert_api_error(&ended, StatusCode::UNAUTHORIZED, "unauthenticated");
    let again = app.api_sign_in("demo.teacher", DEMO_PASSWORD).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["mfa_required"], false);
    let mails = delivered(&app, &smtp).await;
    let told = mails
        .iter()
        .find(|m| m.subject.contains("Two-step verification was removed"))
        .expect("the MFA reset email");
    assert!(
        told.text
            .clone()
            .unwrap_or_default()
            .contains("Lena Fischer")
    );
    let nothing = app.send(reset(&teacher, "mfa-reset", &lead)).await;
    assert_api_error(&nothing, StatusCode::CONFLICT, "mfa_not_enabled");
}

#[tokio::test]
async fn the_pages_confirm_then_send_and_say_how_to_turn_on_two_step_verification() {
    let app = demo_app().await;
    let teacher = user_id(&app, "demo.teacher", DEMO_PASSWORD).await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let mut browser = app.browser();
    browser.set_cookie("kw_session", &lead.0);

    let person = browser.get(&format!("/users/{teacher}")).await;
    assert!(
        person
            .text()
            .contains(&format!("/users/{teacher}/password-reset"))
    );
    let without = browser
        .get(&format!("/users/{teacher}/password-reset"))
        .await;
    assert_eq!(without.status, StatusCode::FORBIDDEN);
    assert!(
        without
            .page_text()
            .contains("Turn on two-step verification")
    );
    assert!(without.text().contains("href=\"/account/mfa\""));

    enrol_totp(&app, &lead, DEMO_PASSWORD).await;
    let confirm = browser
        .get(&format!("/users/{teacher}/password-reset"))
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.text());
    assert!(
        confirm
            .page_text()
            .contains("Send a password reset link to t***@riverside.example? It works for 1 hour."),
        "{}",
        confirm.page_text()
    );
    let csrf = confirm.field("csrf_token").unwrap();
    let sent = browser
        .post_form(
            &format!("/users/{teacher}/password-reset"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text());
    assert!(
        sent.page_text()
            .contains("is on its way to t***@riverside.example")
    );

    let confirm = browser
        .get(&format!("/users/{teacher}/temporary-password"))
        .await;
    let csrf = confirm.field("csrf_token").unwrap();
    let done = browser
        .post_form(
            &format!("/users/{teacher}/temporary-password"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert!(done.text().contains("id=\"temporary-password\""));

    let forged = browser
        .post_form(
            &format!("/users/{teacher}/mfa-reset"),
            &[("csrf_token", "forged")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_reset_by_emailed_link_also_ends_the_hold_of_a_temporary_password() {
    let (app, smtp) = mail_app().await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    enrol_totp(&app, &lead, DEMO_PASSWORD).await;
    let teacher = user_id(&app, "demo.teacher", DEMO_PASSWORD).await;
    let reply = app.send(reset(&teacher, "temporary-password", &lead)).await;
    let temporary = reply.json()["password"].as_str().unwrap().to_owned();
    let held = app.api_session_as("demo.teacher", &temporary).await;
    let me = app.send(call("GET", "/api/v1/me", &held, None)).await;
    assert_eq!(me.json()["password_change_required"], true);

    let asked = app
        .send(crate::helpers::json_post(
            "/api/v1/recovery",
            &json!({ "username": "demo.teacher" }),
        ))
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED);
    let mails = delivered(&app, &smtp).await;
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.subject.contains("Reset"))
        .expect("the reset email");
    let token = link_token(mail);
    let ok = app
        .send(crate::helpers::json_post(
            &format!("/api/v1/recovery/{token}"),
            &json!({ "new_password": NEW, "confirm_password": NEW }),
        ))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let own = app.api_session_as("demo.teacher", NEW).await;
    let me = app.send(call("GET", "/api/v1/me", &own, None)).await;
    assert_eq!(me.json()["password_change_required"], false);
    let open = app
        .send(call("GET", "/api/v1/me/sessions", &own, None))
        .await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.text());
}

#[tokio::test]
async fn a_custom_roles_holder_finds_users_and_the_audit_log_from_home() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let mut browser = app.browser();
    browser.set_cookie("kw_session", &teacher.0);
    let before = browser.get("/home").await.page_text();
    assert!(!before.contains("Audit log"), "{before}");
    grant(
        &app,
        &lead,
        "demo.teacher",
        "Office",
        json!(["users.view", "audit.view"]),
    )
    .await;
    let home = browser.get("/home").await;
    assert_eq!(home.status, StatusCode::OK);
    let html = home.text();
    assert!(html.contains("href=\"/users\""), "{html}");
    assert!(html.contains("href=\"/audit\""), "{html}");
}
