//! People who sign in only with their school's provider (issue 14.3),
//! through the pages and the API: teachers see "Signs in with …" and their
//! password calls answer 409 `signs_in_with_sso`; the class reset skips them;
//! the credentials CSV says `sso`; **Forgot password?** answers exactly as
//! for anyone and only their email differs; an old reset link sends them to
//! the provider; an administrator's **Reset Password** is refused with what
//! to do instead; **Unlink** after a confirm page, and of parallel unlinks
//! exactly one.

use std::time::Duration;

use axum::http::StatusCode;
use futures_util::future::join_all;
use serde_json::{Value, json};

use keyward_core::settings::{MailTransportKind, SmtpSecurity};
use keyward_core::testing::{
    CapturedMail, MONDAY_MORNING, SmtpCapture, account_named, ctx_at, demo_passwords,
    demo_sso_provider, link_sso, make_sso_only,
};
use keyward_core::types::random::SeededRandom;
use keyward_core::types::{SsoProviderId, UnixTime};

use crate::helpers::{
    DEMO_PASSWORD, TestApp, assert_api_error, call, demo_app, demo_class_id, enrol_totp, json_post,
    parse_csv, spawn_app_with,
};

/// The demo app with Amy signing in only with "Google".
async fn amy_with_google() -> (TestApp, SsoProviderId, String) {
    let app = demo_app().await;
    let google = demo_sso_provider(&app.kw, "Google").await;
    let amy = make_sso_only(&app.kw, &google, "demo.amy").await;
    (app, google, amy.id.to_string())
}

#[tokio::test]
async fn teachers_see_signs_in_with_and_their_password_calls_are_refused() {
    let (app, google, amy) = amy_with_google().await;
    let mut teacher = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;

    let classes = teacher.get("/classes").await;
    assert_eq!(classes.status, StatusCode::OK);
    assert!(classes.page_text().contains("Signs in with Google"));
    assert!(
        !classes
            .text()
            .contains(&format!("/learners/{amy}/password"))
    );
    let ben = account_named(&app.kw, "demo.ben").await.id;
    assert!(
        classes
            .text()
            .contains(&format!("/learners/{ben}/password"))
    );

    let page = teacher.get(&format!("/learners/{amy}/password")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.page_text().contains("Signs in with Google"));
    assert!(!page.page_text().contains("Generate new password"));
    assert!(!page.page_text().contains("Set this password"));
    let csrf = page.field("csrf_token").unwrap();
    for step in ["generate", "show"] {
        let refused = teacher
            .post_form(
                &format!("/learners/{amy}/password/{step}"),
                &[("csrf_token", &csrf)],
            )
            .await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{step}");
        assert!(
            refused.page_text().contains("signs in with Google"),
            "{step}"
        );
    }

    let session = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    for body in [
        json!({ "mode": "generate" }),
        json!({ "mode": "set", "password": "Sunny-Meadow-42" }),
    ] {
        let reply = app
            .send(call(
                "POST",
                &format!("/api/v1/learners/{amy}/password"),
                &session,
                Some(body),
            ))
            .await;
        assert_api_error(&reply, StatusCode::CONFLICT, "signs_in_with_sso");
        assert_eq!(reply.json()["provider"], "Google");
        assert_eq!(reply.json()["provider_id"], google.as_str());
    }
    let reveal = app
        .send(call(
            "GET",
            &format!("/api/v1/learners/{amy}/password"),
            &session,
            None,
        ))
        .await;
    assert_api_error(&reveal, StatusCode::CONFLICT, "signs_in_with_sso");

    let class = demo_class_id(&app, &session).await;
    let learners = app
        .send(call(
            "GET",
            &format!("/api/v1/classes/{class}/learners"),
            &session,
            None,
        ))
        .await
        .json();
    let amy_body = learners
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == amy.as_str())
        .unwrap()
        .clone();
    assert_eq!(amy_body["sso_only"], true);
    assert_eq!(amy_body["sso_provider"], "Google");
}

#[tokio::test]
async fn the_class_reset_gives_the_rest_new_passwords_and_lists_sso_learners_apart() {
    let (app, _google, amy) = amy_with_google().await;
    let session = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let class = demo_class_id(&app, &session).await;
    let reply = app
        .send(call(
            "POST",
            &format!("/api/v1/classes/{class}/password-reset"),
            &session,
            Some(json!({ "mode": "individual" })),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let answer = reply.json();
    let reset: Vec<&str> = answer["learners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["username"].as_str().unwrap())
        .collect();
    assert_eq!(reset, ["demo.ben", "demo.cara"]);
    assert_eq!(answer["skipped_pending"], json!([]));
    assert_eq!(
        answer["skipped_sso"],
        json!([{ "user_id": amy, "first_name": "Amy", "last_name": "Adams", "signs_in_with": "Google" }])
    );
    for learner in answer["learners"].as_array().unwrap() {
        let (username, password) = (
            learner["username"].as_str().unwrap(),
            learner["password"].as_str().unwrap(),
        );
        assert_eq!(
            app.api_sign_in(username, password).await.status,
            StatusCode::OK
        );
    }

    // The page says the same.
    let mut teacher = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;
    let form = teacher
        .get(&format!("/classes/{class}/password-reset"))
        .await;
    assert!(
        form.page_text()
            .contains("1 learner signs in with their school account")
    );
    let csrf = form.field("csrf_token").unwrap();
    let done = teacher
        .post_form(
            &format!("/classes/{class}/password-reset"),
            &[("csrf_token", &csrf), ("mode", "same")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert!(done.page_text().contains("Amy Adams: signs in with Google"));
}

#[tokio::test]
async fn the_credentials_csv_and_show_access_codes_say_sso() {
    let (app, _google, _amy) = amy_with_google().await;
    let session = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let class = demo_class_id(&app, &session).await;
    let reply = app
        .send(call(
            "GET",
            &format!("/api/v1/classes/{class}/credentials.csv"),
            &session,
            None,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let (header, rows) = parse_csv(&reply.body);
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let amy = rows
        .iter()
        .find(|r| r[at("username")] == "demo.amy")
        .unwrap();
    assert_eq!(amy[at("password_status")], "sso");
    assert_eq!(amy[at("password")], "");

    let mut teacher = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;
    let codes = teacher
        .get(&format!("/classes/{class}/accounts/codes"))
        .await;
    assert_eq!(codes.status, StatusCode::OK);
    assert!(codes.page_text().contains("Signs in with Google"));
    let accounts = teacher.get(&format!("/classes/{class}/accounts")).await;
    assert!(accounts.page_text().contains("Signs in with Google"));
}

/// The demo app with mail going over SMTP to a capture (links under the
/// default `server.public_url`), and the demo lead teacher signed in once
/// (so a reset link may go to them).
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
    assert_eq!(
        app.api_sign_in("demo.lead", DEMO_PASSWORD).await.status,
        StatusCode::OK
    );
    (app, smtp)
}

async fn delivered(app: &TestApp, smtp: &SmtpCapture) -> Vec<CapturedMail> {
    app.kw
        .deliver_due_mail(&ctx_at(UnixTime::now(), &SeededRandom::new(9)))
        .await
        .unwrap();
    smtp.messages()
}

fn text_of(mail: &CapturedMail) -> String {
    mail.text.clone().unwrap_or_default()
}

#[tokio::test]
async fn forgot_password_answers_alike_and_only_the_sso_only_persons_email_differs() {
    let (app, smtp) = mail_app().await;
    let google = demo_sso_provider(&app.kw, "Google").await;
    make_sso_only(&app.kw, &google, "demo.teacher").await;

    // demo.teacher: SSO-only; demo.lead: a password; nobody.here: no account.
    let names = ["demo.teacher", "demo.lead", "nobody.here"];
    let mut answers = Vec::new();
    for username in names {
        let reply = app
            .send(json_post(
                "/api/v1/recovery",
                &json!({ "username": username }),
            ))
            .await;
        answers.push((reply.status, reply.body.clone()));
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, StatusCode::ACCEPTED);
    let mut pages = Vec::new();
    for username in names {
        let mut browser = app.browser();
        let csrf = browser.get("/recovery").await.field("csrf_token").unwrap();
        let reply = browser
            .post_form(
                "/recovery",
                &[("csrf_token", &csrf), ("username", username)],
            )
            .await;
        pages.push((
            reply.status,
            reply.location().map(str::to_owned),
            reply.body.clone(),
        ));
    }
    assert!(pages.iter().all(|p| p == &pages[0]), "{pages:?}");

    let mail = delivered(&app, &smtp).await;
    let to_teacher: Vec<&CapturedMail> = mail
        .iter()
        .filter(|m| m.to == "tom.baker@riverside.example")
        .collect();
    let to_lead: Vec<&CapturedMail> = mail
        .iter()
        .filter(|m| m.to == "lena.fischer@riverside.example")
        .collect();
    // Each request mails the SSO-only person; the lead's second request
    // superseded the first before it was composed, as for anyone.
    assert_eq!((to_teacher.len(), to_lead.len(), mail.len()), (2, 1, 3));
    let start = format!("http://127.0.0.1:8080/sso/{google}/start");
    for m in &to_teacher {
        assert_eq!(m.subject, "Sign in to keyward with Google");
        let text = text_of(m);
        assert!(text.contains(&start), "{text}");
        assert!(!text.contains("/recovery/"), "{text}");
        assert!(
            m.html
                .as_deref()
                .unwrap_or_default()
                .contains("Sign in with Google")
        );
    }
    for m in &to_lead {
        assert_eq!(m.subject, "Reset your keyward password");
        assert!(text_of(m).contains("http://127.0.0.1:8080/recovery/"));
        assert!(!text_of(m).contains("/sso/"));
    }
}

#[tokio::test]
async fn an_old_reset_link_of_someone_now_sso_only_sends_them_to_the_provider() {
    let (app, smtp) = mail_app().await;
    let asked = app
        .send(json_post(
            "/api/v1/recovery",
            &json!({ "username": "demo.lead" }),
        ))
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED);
    let mail = delivered(&app, &smtp).await;
    let text = text_of(&mail[0]);
    let prefix = "http://127.0.0.1:8080/recovery/";
    let token = text[text.find(prefix).unwrap() + prefix.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();

    let google = demo_sso_provider(&app.kw, "Google").await;
    make_sso_only(&app.kw, &google, "demo.lead").await;

    let mut browser = app.browser();
    let page = browser.get(&format!("/recovery/{token}")).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.page_text().contains("You sign in with Google"));
    assert!(
        page.text()
            .contains(&format!("href=\"/sso/{google}/start\""))
    );
    assert!(!page.text().contains("new_password"));
    let check = app.get(&format!("/api/v1/recovery/{token}")).await;
    assert_api_error(&check, StatusCode::CONFLICT, "signs_in_with_sso");
    assert_eq!(check.json()["provider"], "Google");
    let new = "a brand new passphrase";
    let reset = app
        .send(json_post(
            &format!("/api/v1/recovery/{token}"),
            &json!({ "new_password": new, "confirm_password": new }),
        ))
        .await;
    assert_api_error(&reset, StatusCode::CONFLICT, "signs_in_with_sso");
    assert_ne!(
        app.api_sign_in("demo.lead", new).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn reset_password_is_refused_with_unlink_and_a_temporary_password_offered() {
    let (app, smtp) = mail_app().await;
    // Signed in on the pages before two-step verification is on, so the
    // browser needs no code; the session stays when it is turned on.
    let mut browser = app.signed_in_browser("demo.lead", DEMO_PASSWORD).await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    enrol_totp(&app, &lead, DEMO_PASSWORD).await;
    let google = demo_sso_provider(&app.kw, "Google").await;
    let teacher = make_sso_only(&app.kw, &google, "demo.teacher").await.id;

    let reply = app
        .send(call(
            "POST",
            &format!("/api/v1/users/{teacher}/password-reset"),
            &lead,
            None,
        ))
        .await;
    assert_api_error(&reply, StatusCode::CONFLICT, "signs_in_with_sso");
    assert_eq!(reply.json()["provider"], "Google");
    assert!(delivered(&app, &smtp).await.is_empty());

    let page = browser
        .get(&format!("/users/{teacher}/password-reset"))
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.text());
    let words = page.page_text();
    assert!(words.contains("signs in with Google"), "{words}");
    assert!(words.contains("Unlink Google"), "{words}");
    assert!(words.contains("Set a temporary password"), "{words}");

    let temporary = app
        .send(call(
            "POST",
            &format!("/api/v1/users/{teacher}/temporary-password"),
            &lead,
            None,
        ))
        .await;
    assert_eq!(temporary.status, StatusCode::OK, "{}", temporary.text());
}

#[tokio::test]
async fn the_user_shows_its_links_and_of_parallel_unlinks_exactly_one_answers_204() {
    let (app, google, amy) = amy_with_google().await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;

    let user = app
        .send(call("GET", &format!("/api/v1/users/{amy}"), &lead, None))
        .await;
    assert_eq!(user.status, StatusCode::OK);
    let body = user.json();
    assert_eq!(body["sso_only"], true);
    assert_eq!(
        body["sso_links"],
        json!([{
            "provider_id": google.as_str(),
            "provider_name": "Google",
            "linked_at": MONDAY_MORNING.secs(),
            "last_used_at": Value::Null,
        }])
    );
    let list = app
        .send(call("GET", "/api/v1/users?q=amy", &lead, None))
        .await
        .json();
    assert_eq!(list["users"][0]["sso_provider"], "Google");

    // A teacher may not unlink.
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let path = format!("/api/v1/users/{amy}/sso-links/{google}");
    let refused = app.send(call("DELETE", &path, &teacher, None)).await;
    assert_api_error(&refused, StatusCode::FORBIDDEN, "forbidden");

    let replies = join_all((0..10).map(|_| app.send(call("DELETE", &path, &lead, None)))).await;
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::NO_CONTENT)
            .count(),
        1,
        "{statuses:?}"
    );
    for reply in replies
        .iter()
        .filter(|r| r.status != StatusCode::NO_CONTENT)
    {
        assert_api_error(reply, StatusCode::NOT_FOUND, "sso_link_not_found");
    }
    let unlinks = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(action, _)| action == "sso.unlink")
        .count();
    assert_eq!(unlinks, 1);
    let user = app
        .send(call("GET", &format!("/api/v1/users/{amy}"), &lead, None))
        .await
        .json();
    assert_eq!(user["sso_links"], json!([]));
    assert_eq!(user["sso_only"], false);

    // A malformed provider id is no link either.
    let junk = app
        .send(call(
            "DELETE",
            &format!("/api/v1/users/{amy}/sso-links/junk"),
            &lead,
            None,
        ))
        .await;
    assert_api_error(&junk, StatusCode::NOT_FOUND, "sso_link_not_found");
}

#[tokio::test]
async fn the_lead_teacher_unlinks_on_the_persons_page_after_confirming() {
    let (app, google, amy) = amy_with_google().await;
    let ben = account_named(&app.kw, "demo.ben").await.id;
    link_sso(&app.kw, &google, "ben", &ben).await;
    let mut lead = app.signed_in_browser("demo.lead", DEMO_PASSWORD).await;

    let users = lead.get("/users").await;
    assert!(
        users
            .text()
            .contains("<span class=\"badge\">SSO</span> Google"),
        "{}",
        users.page_text()
    );

    let page = lead.get(&format!("/users/{amy}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.page_text().contains("Single sign-on"));
    assert!(page.page_text().contains("no keyward password"));
    let confirm_path = format!("/users/{amy}/sso-links/{google}/unlink");
    assert!(page.text().contains(&confirm_path));

    let confirm = lead.get(&confirm_path).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm
            .page_text()
            .contains("Amy Adams will have no way to sign in")
    );
    let csrf = confirm.field("csrf_token").unwrap();
    let done = lead
        .post_form(&confirm_path, &[("csrf_token", &csrf)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        done.location(),
        Some(format!("/users/{amy}?no_way_in=1").as_str())
    );
    let after = lead.get(&format!("/users/{amy}?no_way_in=1")).await;
    let words = after.page_text();
    assert!(words.contains("no other way to sign in now"), "{words}");
    assert!(!after.text().contains("id=\"sso-title\""), "{words}");
    // The existing ways in are offered: Reset password for a learner.
    assert!(after.text().contains(&format!("/learners/{amy}/password")));

    // Ben keeps his password: unlinking him leaves him a way in.
    let ben_confirm = lead
        .get(&format!("/users/{ben}/sso-links/{google}/unlink"))
        .await;
    assert!(!ben_confirm.page_text().contains("no way to sign in"));
    let csrf = ben_confirm.field("csrf_token").unwrap();
    let done = lead
        .post_form(
            &format!("/users/{ben}/sso-links/{google}/unlink"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(
        done.location(),
        Some(format!("/users/{ben}?unlinked=1").as_str())
    );
    // The link is gone: confirming again finds nothing.
    let gone = lead
        .get(&format!("/users/{ben}/sso-links/{google}/unlink"))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

/// Account Settings of someone who signs in only through their provider
/// (signed in before their password went, as a provider's session would
/// be): it says so, shows no password form, and the API's password change
/// answers 409 `signs_in_with_sso` without counting a wrong password.
#[tokio::test]
async fn account_settings_say_the_provider_keeps_an_sso_only_persons_password() {
    let app = demo_app().await;
    let mut browser = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;
    let session = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let google = demo_sso_provider(&app.kw, "Google").await;
    make_sso_only(&app.kw, &google, "demo.teacher").await;

    let overview = browser.get("/account").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(overview.page_text().contains("You sign in with <a"));
    assert!(overview.text().contains(&format!("/sso/{google}/start")));
    let page = browser.get("/account/password").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.page_text()
            .contains("keyward has no password of yours")
    );
    assert!(!page.text().contains("name=\"current_password\""));

    let body = json!({
        "current_password": "anything",
        "new_password": "Sunny-Meadow-42",
        "confirm_password": "Sunny-Meadow-42",
    });
    let reply = app
        .send(call("POST", "/api/v1/me/password", &session, Some(body)))
        .await;
    assert_api_error(&reply, StatusCode::CONFLICT, "signs_in_with_sso");
    assert_eq!(reply.json()["provider"], "Google");
    let hash: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'demo.teacher'")
            .fetch_one(app.kw.db().pool())
            .await
            .unwrap();
    assert!(hash.is_none());
}
