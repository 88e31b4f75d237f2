//! Account Settings → Email and `POST /api/v1/me/email` (R-MFA-1): the
//! password again, then the address; the old address is told over SMTP;
//! wrong passwords, bad addresses and odd bodies get 422 (never 500) and
//! change nothing; changes need the CSRF token; wrong passwords are throttled.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use keyward_core::settings::{MailTransportKind, SmtpSecurity};
use keyward_core::testing::{CapturedMail, SmtpCapture, ctx_at, seed_demo_people};
use keyward_core::types::UnixTime;
use keyward_core::types::random::SeededRandom;
use serde_json::{Value, json};

use crate::helpers::*;

const TEACHER: &str = "demo.teacher";
const OLD_ADDRESS: &str = "tom.baker@riverside.example";

struct MailApp {
    app: TestApp,
    smtp: SmtpCapture,
}

/// The demo app with mail going over SMTP to a capture.
async fn mail_app() -> MailApp {
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
    seed_demo_people(&app.kw, &SeededRandom::new(5)).await;
    MailApp { app, smtp }
}

impl MailApp {
    /// Sends what is due; every message captured so far.
    async fn mail(&self) -> Vec<CapturedMail> {
        let rng = SeededRandom::new(9);
        self.app
            .kw
            .deliver_due_mail(&ctx_at(UnixTime::now(), &rng))
            .await
            .unwrap();
        self.smtp.messages()
    }
}

/// The `<input …>` tag of the field with this id.
fn input_tag(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("<input id=\"{id}\""))
        .expect("the field");
    html[start..start + html[start..].find('>').unwrap()].to_owned()
}

/// The address `/api/v1/me` shows for `session`.
async fn address_of(app: &TestApp, session: &Session) -> Value {
    app.send(call("GET", "/api/v1/me", session, None))
        .await
        .json()["email"]
        .clone()
}

#[tokio::test]
async fn the_email_page_changes_the_address_after_the_password_and_tells_the_old_one() {
    let m = mail_app().await;
    let mut browser = m.app.signed_in_browser(TEACHER, DEMO_PASSWORD).await;
    let overview = browser.get("/account").await;
    assert!(overview.text().contains("href=\"/account/email\""));
    let form = browser.get("/account/email").await;
    assert_eq!(form.status, StatusCode::OK);
    let html = form.text();
    assert!(form.page_text().contains(OLD_ADDRESS), "{html}");
    for piece in [
        "<label for=\"email\">New email address</label>",
        "type=\"email\"",
        "autocomplete=\"email\"",
        "autocomplete=\"current-password\"",
        "<label for=\"current_password\">Current password</label>",
        "Update Email",
    ] {
        assert!(html.contains(piece), "{piece} missing in {html}");
    }
    let csrf = form.field("csrf_token").unwrap();

    let wrong = browser
        .post_form(
            "/account/email",
            &[
                ("csrf_token", &csrf),
                ("email", "tom@home.example"),
                ("current_password", "not it"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.page_text().contains("current password is not right"));
    assert!(
        wrong.text().contains("value=\"tom@home.example\""),
        "typed address kept"
    );
    assert!(wrong.text().contains("role=\"alert\""));
    // The refusal points at the password, not at the address.
    assert!(input_tag(&wrong.text(), "current_password").contains("aria-invalid=\"true\""));
    assert!(!input_tag(&wrong.text(), "email").contains("aria-invalid"));
    for bad in [
        "tom",
        "tom@home",
        "two words@home.example",
        &"x".repeat(5000),
    ] {
        let refused = browser
            .post_form(
                "/account/email",
                &[
                    ("csrf_token", &csrf),
                    ("email", bad),
                    ("current_password", DEMO_PASSWORD),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(refused.page_text().contains("Enter an email address like"));
        assert!(input_tag(&refused.text(), "email").contains("aria-invalid=\"true\""));
        assert!(!input_tag(&refused.text(), "current_password").contains("aria-invalid"));
    }
    let same = browser
        .post_form(
            "/account/email",
            &[
                ("csrf_token", &csrf),
                ("email", "Tom.Baker@Riverside.example"),
                ("current_password", DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(same.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(same.page_text().contains("already your email address"));
    assert!(m.mail().await.is_empty(), "nothing changed, nobody told");

    let done = browser
        .post_form(
            "/account/email",
            &[
                ("csrf_token", &csrf),
                ("email", "tom@home.example"),
                ("current_password", DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    let text = done.page_text();
    assert!(
        text.contains("Your email address has been updated"),
        "{text}"
    );
    assert!(text.contains("tom@home.example") && !text.contains(OLD_ADDRESS));
    assert!(
        browser
            .get("/account")
            .await
            .page_text()
            .contains("tom@home.example")
    );
    let mail = m.mail().await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0].envelope_to, vec![OLD_ADDRESS.to_owned()]);
    assert!(mail[0].subject.contains("email address was changed"));
    let body = mail[0].text.clone().unwrap_or_default();
    assert!(body.contains("t***@home.example"), "{body}");
}

#[tokio::test]
async fn the_email_page_needs_a_session_and_its_csrf_token() {
    let app = demo_app().await;
    let signed_out = app.get("/account/email").await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        signed_out.location(),
        Some("/signin?next=%2Faccount%2Femail")
    );
    let mut browser = app.signed_in_browser(TEACHER, DEMO_PASSWORD).await;
    let form = browser.get("/account/email").await;
    let good = form.field("csrf_token").unwrap();
    for token in [String::new(), format!("{good}x")] {
        let reply = browser
            .post_form(
                "/account/email",
                &[
                    ("csrf_token", &token),
                    ("email", "tom@home.example"),
                    ("current_password", DEMO_PASSWORD),
                ],
            )
            .await;
        assert_error_page(&reply, StatusCode::FORBIDDEN);
    }
    let session = app.api_session_as(TEACHER, DEMO_PASSWORD).await;
    assert_eq!(address_of(&app, &session).await, OLD_ADDRESS);
}

#[tokio::test]
async fn the_api_changes_the_address_with_clear_errors() {
    let m = mail_app().await;
    let app = &m.app;
    let session = app.api_session_as(TEACHER, DEMO_PASSWORD).await;
    let change = |body: Value| call("POST", "/api/v1/me/email", &session, Some(body));

    let wrong = app
        .send(change(
            json!({ "password": "not it", "email": "tom@home.example" }),
        ))
        .await;
    assert_api_error(
        &wrong,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_current_password",
    );
    let long = "x".repeat(5_000);
    for (body, code) in [
        (
            json!({ "password": DEMO_PASSWORD, "email": "tom" }),
            "email_invalid",
        ),
        (
            json!({ "password": DEMO_PASSWORD, "email": "" }),
            "email_invalid",
        ),
        (
            json!({ "password": DEMO_PASSWORD, "email": "a@b@c.example" }),
            "email_invalid",
        ),
        (
            json!({ "password": DEMO_PASSWORD, "email": format!("{long}@x.example") }),
            "email_invalid",
        ),
        (
            json!({ "password": long, "email": "tom@home.example" }),
            "wrong_current_password",
        ),
        (
            json!({ "password": DEMO_PASSWORD, "email": OLD_ADDRESS.to_uppercase() }),
            "email_unchanged",
        ),
        (json!({ "password": DEMO_PASSWORD }), "invalid_request"),
        (
            json!({ "password": DEMO_PASSWORD, "email": 42 }),
            "invalid_request",
        ),
        (
            json!({ "password": null, "email": "tom@home.example" }),
            "invalid_request",
        ),
        (json!(["tom@home.example"]), "invalid_request"),
    ] {
        let reply = app.send(change(body.clone())).await;
        assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, code);
    }
    let not_json = app
        .send(
            Request::post("/api/v1/me/email")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::COOKIE, format!("kw_session={}", session.0))
                .header("x-csrf-token", &session.1)
                .body(Body::from("{\"password\": "))
                .unwrap(),
        )
        .await;
    assert_eq!(
        not_json.status,
        StatusCode::BAD_REQUEST,
        "{}",
        not_json.text()
    );
    assert_eq!(address_of(app, &session).await, OLD_ADDRESS);

    // Without the CSRF header, or signed out, nothing happens.
    let no_csrf = app
        .send(
            Request::post("/api/v1/me/email")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::COOKIE, format!("kw_session={}", session.0))
                .body(Body::from(
                    json!({ "password": DEMO_PASSWORD, "email": "tom@home.example" }).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_api_error(&no_csrf, StatusCode::FORBIDDEN, "csrf_failed");
    let signed_out = app
        .send(json_post(
            "/api/v1/me/email",
            &json!({ "password": DEMO_PASSWORD, "email": "tom@home.example" }),
        ))
        .await;
    assert_api_error(&signed_out, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(m.mail().await.is_empty());

    let ok = app
        .send(change(
            json!({ "password": DEMO_PASSWORD, "email": " tom@home.example " }),
        ))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json(), json!({ "email": "tom@home.example" }));
    assert_eq!(address_of(app, &session).await, "tom@home.example");
    let mail = m.mail().await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].envelope_to, vec![OLD_ADDRESS.to_owned()]);
    let actions = app.audit_actions().await;
    assert!(
        actions.contains(&("email.change".to_owned(), "success".to_owned())),
        "{actions:?}"
    );
}

#[tokio::test]
async fn wrong_passwords_through_the_api_meet_a_429_with_retry_after() {
    let app = demo_app().await;
    let session = app.api_session_as(TEACHER, DEMO_PASSWORD).await;
    let free = app.kw.settings().throttle.account_free_failures;
    start_of_a_fresh_second().await;
    for _ in 0..=free {
        let reply = app
            .send(call(
                "POST",
                "/api/v1/me/email",
                &session,
                Some(json!({ "password": "guess", "email": "tom@home.example" })),
            ))
            .await;
        assert_api_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_current_password",
        );
    }
    let held = app
        .send(call(
            "POST",
            "/api/v1/me/email",
            &session,
            Some(json!({ "password": DEMO_PASSWORD, "email": "tom@home.example" })),
        ))
        .await;
    assert_api_error(&held, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    assert!(held.header("retry-after").is_some());
    assert_eq!(address_of(&app, &session).await, OLD_ADDRESS);
}
