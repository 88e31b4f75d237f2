//! Forgot password and Account Settings → Password, through the pages and
//! the JSON API, with mail delivered over SMTP to a real capture server.

use std::time::Duration;

use axum::http::StatusCode;
use keyward_core::settings::{MailTransportKind, SmtpSecurity};
use keyward_core::testing::{CapturedMail, MONDAY_MORNING, SmtpCapture, ctx_at, demo_passwords};
use keyward_core::types::UnixTime;
use keyward_core::types::random::SeededRandom;
use serde_json::json;

use crate::helpers::*;

const OLD: &str = "DemoOldPass42";
const NEW: &str = "a brand new passphrase";

struct MailApp {
    app: TestApp,
    smtp: SmtpCapture,
}

/// The app with the demo people (password `OLD`), mail going over SMTP to a
/// capture, and the demo teacher signed in once (so it may recover).
async fn mail_app() -> MailApp {
    mail_app_with(|_| {}).await
}

/// [`mail_app`] with more settings changed.
async fn mail_app_with(more: impl FnOnce(&mut keyward_core::settings::Settings)) -> MailApp {
    let smtp = SmtpCapture::start();
    let port = smtp.port();
    let app = spawn_app_with(|s| {
        s.mail.transport = MailTransportKind::Smtp;
        s.mail.smtp.host = "127.0.0.1".into();
        s.mail.smtp.port = port;
        s.mail.smtp.security = SmtpSecurity::None;
        s.mail.smtp.timeout = Duration::from_secs(5);
        s.server.public_url = "https://accounts.school.example/".parse().unwrap();
        more(s);
    })
    .await;
    let rng = SeededRandom::new(5);
    app.kw
        .seed_demo(&ctx_at(MONDAY_MORNING, &rng), &demo_passwords(OLD))
        .await
        .unwrap();
    assert_eq!(
        app.api_sign_in("demo.teacher", OLD).await.status,
        StatusCode::OK
    );
    MailApp { app, smtp }
}

impl MailApp {
    /// Delivers what the outbox holds and returns every message received.
    async fn mail(&self) -> Vec<CapturedMail> {
        let rng = SeededRandom::new(9);
        self.app
            .kw
            .deliver_due_mail(&ctx_at(UnixTime::now(), &rng))
            .await
            .unwrap();
        self.smtp.messages()
    }

    async fn reset_mail(&self) -> CapturedMail {
        self.mail()
            .await
            .into_iter()
            .rev()
            .find(|m| m.subject.contains("Reset"))
            .expect("a reset email")
    }
}

fn link_path(mail: &CapturedMail) -> String {
    let text = mail.text.clone().unwrap_or_default();
    let start = text
        .find("https://accounts.school.example/recovery/")
        .expect("link built from public_url");
    let rest = &text[start + "https://accounts.school.example".len()..];
    rest.split_whitespace().next().unwrap().to_owned()
}

fn code(mail: &CapturedMail) -> String {
    let text = mail.text.clone().unwrap_or_default();
    text.lines()
        .map(str::trim)
        .find(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
        .expect("a code")
        .to_owned()
}

#[tokio::test]
async fn forgot_password_by_link_through_the_pages() {
    let m = mail_app().await;
    let mut browser = m.app.browser();
    let form = browser.get("/recovery?username=demo.teacher").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text().contains("value=\"demo.teacher\""));
    assert!(form.page_text().contains("Next"));
    let csrf = form.field("csrf_token").unwrap();
    let sent = browser
        .post_form(
            "/recovery",
            &[("csrf_token", &csrf), ("username", "demo.teacher")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    assert_eq!(sent.location(), Some("/recovery/sent"));
    assert!(browser.cookie(&m.app.cookie_name("kw_recovery")).is_some());
    assert!(
        browser
            .get("/recovery/sent")
            .await
            .page_text()
            .contains("Check your email")
    );

    let mail = m.reset_mail().await;
    assert_eq!(mail.to, "tom.baker@riverside.example");
    assert!(
        mail.html
            .as_deref()
            .unwrap_or_default()
            .contains("Reset Password")
    );
    let path = link_path(&mail);
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.page_text().contains("Choose a new password"));
    assert!(page.text().contains("autocomplete=\"new-password\""));
    // Without recovery.confirm_username the page names the account, and a
    // hidden username field helps password managers.
    assert!(page.page_text().contains("demo.teacher"));
    assert_eq!(page.field("username").as_deref(), Some("demo.teacher"));
    let csrf = page.field("csrf_token").unwrap();

    let mismatch = browser
        .post_form(
            &path,
            &[
                ("csrf_token", &csrf),
                ("new_password", NEW),
                ("confirm_password", "other"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.page_text().contains("don't match"));

    let done = browser
        .post_form(
            &path,
            &[
                ("csrf_token", &csrf),
                ("new_password", NEW),
                ("confirm_password", NEW),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), Some("/signin?notice=password_reset"));
    assert!(
        browser.cookie(&m.app.cookie_name("kw_session")).is_none(),
        "a reset does not sign in"
    );
    let signin = browser.get("/signin?notice=password_reset").await;
    assert!(
        signin
            .page_text()
            .contains("Your password has been changed")
    );
    assert_eq!(
        m.app.api_sign_in("demo.teacher", OLD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        m.app.api_sign_in("demo.teacher", NEW).await.status,
        StatusCode::OK
    );

    let again = browser.get(&path).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.page_text().contains("Request a new link"));
    let changed = m
        .mail()
        .await
        .into_iter()
        .find(|m| m.subject.contains("was changed"))
        .expect("notice");
    assert!(
        changed
            .text
            .unwrap_or_default()
            .contains("https://accounts.school.example/security/not-me/")
    );
}

#[tokio::test]
async fn forgot_password_by_code_through_the_pages() {
    let m = mail_app().await;
    let mut browser = m.app.browser();
    let csrf = browser.get("/recovery").await.field("csrf_token").unwrap();
    browser
        .post_form(
            "/recovery",
            &[("csrf_token", &csrf), ("username", "demo.teacher")],
        )
        .await;
    let code = code(&m.reset_mail().await);
    let page = browser.get("/recovery/sent").await;
    let csrf = page.field("csrf_token").unwrap();
    let wrong = browser
        .post_form(
            "/recovery/code",
            &[("csrf_token", &csrf), ("code", "00000000")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.page_text().contains("not right"));
    let right = browser
        .post_form("/recovery/code", &[("csrf_token", &csrf), ("code", &code)])
        .await;
    assert_eq!(right.status, StatusCode::SEE_OTHER);
    let path = right.location().unwrap().to_owned();
    let csrf = browser.get(&path).await.field("csrf_token").unwrap();
    let done = browser
        .post_form(
            &path,
            &[
                ("csrf_token", &csrf),
                ("new_password", NEW),
                ("confirm_password", NEW),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        m.app.api_sign_in("demo.teacher", NEW).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_answer_is_identical_whatever_the_account_state() {
    let m = mail_app().await;
    // demo.teacher: eligible; demo.lead: has email, never signed in;
    // demo.amy: no email; nobody.here: no account.
    let mut answers = Vec::new();
    for username in ["demo.teacher", "demo.lead", "demo.amy", "nobody.here"] {
        let reply = m
            .app
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
    for username in ["demo.teacher", "demo.lead", "demo.amy", "nobody.here"] {
        let mut browser = m.app.browser();
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
    let subjects: Vec<String> = m.mail().await.into_iter().map(|m| m.subject).collect();
    // The page request superseded the API request before delivery: one link.
    assert_eq!(
        subjects.iter().filter(|s| s.contains("Reset")).count(),
        1,
        "{subjects:?}"
    );
    assert_eq!(
        subjects
            .iter()
            .filter(|s| s.contains("About resetting"))
            .count(),
        2,
        "{subjects:?}"
    );
}

#[tokio::test]
async fn the_api_resets_by_link_and_reports_policy_violations() {
    let m = mail_app().await;
    let reply = m
        .app
        .send(json_post(
            "/api/v1/recovery",
            &json!({ "username": "demo.teacher" }),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let token = link_path(&m.reset_mail().await)
        .trim_start_matches("/recovery/")
        .to_owned();
    let check = m.app.get(&format!("/api/v1/recovery/{token}")).await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.text());
    assert_eq!(check.json()["status"], "usable");
    let weak = m
        .app
        .send(json_post(
            &format!("/api/v1/recovery/{token}"),
            &json!({ "new_password": "iloveyou", "confirm_password": "iloveyu" }),
        ))
        .await;
    assert_api_error(&weak, StatusCode::UNPROCESSABLE_ENTITY, "password_policy");
    assert_eq!(
        weak.json()["violations"],
        json!(["common_password", "mismatch"])
    );
    let ok = m
        .app
        .send(json_post(
            &format!("/api/v1/recovery/{token}"),
            &json!({ "new_password": NEW, "confirm_password": NEW }),
        ))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let used = m.app.get(&format!("/api/v1/recovery/{token}")).await;
    assert_api_error(&used, StatusCode::GONE, "link_used");
    let unknown = m.app.get("/api/v1/recovery/not-a-real-token").await;
    assert_api_error(&unknown, StatusCode::NOT_FOUND, "link_unknown");
}

#[tokio::test]
async fn the_api_trades_the_code_for_a_reset_token_with_the_request_cookie() {
    let m = mail_app().await;
    let reply = m
        .app
        .send(json_post(
            "/api/v1/recovery",
            &json!({ "username": "demo.teacher" }),
        ))
        .await;
    let handle = reply
        .cookie_value(&m.app.cookie_name("kw_recovery"))
        .expect("recovery cookie");
    let code = code(&m.reset_mail().await);
    let mut request = json_post("/api/v1/recovery/code", &json!({ "code": code }));
    let no_cookie = m
        .app
        .send(json_post("/api/v1/recovery/code", &json!({ "code": code })))
        .await;
    assert_api_error(
        &no_cookie,
        StatusCode::UNPROCESSABLE_ENTITY,
        "code_no_request",
    );
    request.headers_mut().insert(
        "cookie",
        format!("{}={handle}", m.app.cookie_name("kw_recovery"))
            .parse()
            .unwrap(),
    );
    let traded = m.app.send(request).await;
    assert_eq!(traded.status, StatusCode::OK, "{}", traded.text());
    let token = traded.json()["reset_token"].as_str().unwrap().to_owned();
    let ok = m
        .app
        .send(json_post(
            &format!("/api/v1/recovery/{token}"),
            &json!({ "new_password": NEW, "confirm_password": NEW }),
        ))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn junk_links_get_the_unknown_link_page_or_404_never_a_server_error() {
    let app = spawn_app().await;
    for junk in [
        "%FF%FE",
        "%00",
        "a%20b",
        "..%2F..%2Fetc",
        &"x".repeat(3000),
        "%E2%9C%93",
        "null",
    ] {
        let page = app.get(&format!("/recovery/{junk}")).await;
        assert_eq!(
            page.status,
            StatusCode::NOT_FOUND,
            "{junk}: {}",
            page.text()
        );
        assert!(page.page_text().contains("Request a new link"));
        let api = app.get(&format!("/api/v1/recovery/{junk}")).await;
        assert_api_error(&api, StatusCode::NOT_FOUND, "link_unknown");
    }
}

#[tokio::test]
async fn forgot_password_is_offered_on_the_first_screen_too() {
    let app = spawn_app().await;
    let page = app.get("/signin").await;
    assert!(
        page.text()
            .contains("<a href=\"/recovery\">Forgot password?</a>")
    );
}

#[tokio::test]
async fn missing_fields_get_a_clear_message() {
    let app = spawn_app().await;
    let reply = app.send(json_post("/api/v1/recovery", &json!({}))).await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "username_missing");
    let mut browser = app.browser();
    let csrf = browser.get("/recovery").await.field("csrf_token").unwrap();
    let page = browser
        .post_form("/recovery", &[("csrf_token", &csrf), ("username", "  ")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.page_text().contains("Enter your username"));
}

#[tokio::test]
async fn email_and_username_mode_asks_for_both_with_send_reset_link() {
    let app = spawn_app_with(|s| {
        s.recovery.identify_by = keyward_core::settings::IdentifyBy::EmailAndUsername
    })
    .await;
    let page = app.get("/recovery").await;
    let text = page.page_text();
    assert!(
        text.contains("Send Reset Link")
            && text.contains("Email address")
            && text.contains("Username")
    );
}

#[tokio::test]
async fn account_settings_password_changes_it_and_ends_other_sessions() {
    let m = mail_app().await;
    let other = m.app.api_session_as("demo.teacher", OLD).await;
    let mut browser = m.app.signed_in_browser("demo.teacher", OLD).await;
    let home = browser.get("/home").await;
    assert!(home.text().contains("href=\"/account\""));
    assert!(
        browser
            .get("/account")
            .await
            .page_text()
            .contains("Account Settings")
    );
    let form = browser.get("/account/password").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.page_text().contains("Update Password"));
    let csrf = form.field("csrf_token").unwrap();

    let wrong = browser
        .post_form(
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", "nope"),
                ("new_password", NEW),
                ("confirm_password", NEW),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.page_text().contains("current password is not right"));
    let weak = browser
        .post_form(
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", OLD),
                ("new_password", "abc"),
                ("confirm_password", "abd"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.page_text().contains("at least 8 characters")
            && weak.page_text().contains("don't match")
    );

    let ok = browser
        .post_form(
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", OLD),
                ("new_password", NEW),
                ("confirm_password", NEW),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert!(ok.page_text().contains("Your password has been updated"));
    assert_eq!(
        browser.get("/home").await.status,
        StatusCode::OK,
        "this session stays"
    );
    let me = m
        .app
        .send(
            get("/api/v1/me")
                .header(
                    "cookie",
                    format!("{}={}", m.app.cookie_name("kw_session"), other.0),
                )
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        me.status,
        StatusCode::UNAUTHORIZED,
        "the other session ended"
    );
    assert!(
        m.mail()
            .await
            .iter()
            .any(|mail| mail.subject.contains("was changed"))
    );
}

#[tokio::test]
async fn the_api_changes_the_password_with_clear_errors() {
    let m = mail_app().await;
    let (session, csrf) = m.app.api_session_as("demo.teacher", OLD).await;
    let call = |body: serde_json::Value| {
        let mut request = json_post("/api/v1/me/password", &body);
        request.headers_mut().insert(
            "cookie",
            format!("{}={session}", m.app.cookie_name("kw_session"))
                .parse()
                .unwrap(),
        );
        request
            .headers_mut()
            .insert("x-csrf-token", csrf.parse().unwrap());
        request
    };
    let wrong = m
        .app
        .send(call(
            json!({ "current_password": "nope", "new_password": NEW, "confirm_password": NEW }),
        ))
        .await;
    assert_api_error(
        &wrong,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_current_password",
    );
    let weak = m.app.send(call(json!({ "current_password": OLD, "new_password": "xx-demo.teacher-xx", "confirm_password": "x" }))).await;
    assert_api_error(&weak, StatusCode::UNPROCESSABLE_ENTITY, "password_policy");
    assert_eq!(
        weak.json()["violations"],
        json!(["contains_username", "mismatch"])
    );
    let ok = m
        .app
        .send(call(
            json!({ "current_password": OLD, "new_password": NEW, "confirm_password": NEW }),
        ))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(
        m.app.api_sign_in("demo.teacher", NEW).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn well_known_change_password_leads_to_the_password_page() {
    let app = spawn_app().await;
    let reply = app.get("/.well-known/change-password").await;
    assert!(reply.status.is_redirection());
    assert_eq!(reply.location(), Some("/account/password"));
    let reply = app.get("/account/password").await;
    assert_eq!(reply.location(), Some("/signin?next=%2Faccount%2Fpassword"));
}

#[tokio::test]
async fn signing_in_returns_to_the_page_that_asked_and_never_elsewhere() {
    let m = mail_app().await;
    let mut browser = m.app.browser();
    let start = browser.get("/signin?next=%2Faccount%2Fpassword").await;
    assert!(
        start
            .text()
            .contains("href=\"/signin/username?next=%2Faccount%2Fpassword\"")
    );
    let step = browser
        .get("/signin/username?next=%2Faccount%2Fpassword")
        .await;
    assert!(
        step.text()
            .contains("name=\"next\" value=\"/account/password\"")
    );
    let csrf = step.field("csrf_token").unwrap();
    let password_step = browser
        .post_form(
            "/signin/username",
            &[
                ("csrf_token", &csrf),
                ("username", "demo.teacher"),
                ("next", "/account/password"),
            ],
        )
        .await;
    let csrf = password_step.field("csrf_token").unwrap();
    let done = browser
        .post_form(
            "/signin/password",
            &[
                ("csrf_token", &csrf),
                ("username", "demo.teacher"),
                ("password", OLD),
                ("next", "/account/password"),
            ],
        )
        .await;
    assert_eq!(done.location(), Some("/account/password"));

    for evil in [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "/recovery/abc",
        "javascript:alert(1)",
    ] {
        let mut browser = m.app.browser();
        let csrf = browser.open_username_step().await;
        let step = browser
            .post_form(
                "/signin/username",
                &[
                    ("csrf_token", &csrf),
                    ("username", "demo.teacher"),
                    ("next", evil),
                ],
            )
            .await;
        assert!(
            !step.text().contains("name=\"next\""),
            "{evil} was carried on"
        );
        let csrf = step.field("csrf_token").unwrap();
        let done = browser
            .post_form(
                "/signin/password",
                &[
                    ("csrf_token", &csrf),
                    ("username", "demo.teacher"),
                    ("password", OLD),
                    ("next", evil),
                ],
            )
            .await;
        assert_eq!(done.location(), Some("/home"), "{evil}");
    }
}

#[tokio::test]
async fn this_wasnt_me_asks_first_then_ends_every_session() {
    let m = mail_app().await;
    let (session, csrf) = m.app.api_session_as("demo.teacher", OLD).await;
    let mut request = json_post(
        "/api/v1/me/password",
        &json!({ "current_password": OLD, "new_password": NEW, "confirm_password": NEW }),
    );
    request.headers_mut().insert(
        "cookie",
        format!("{}={session}", m.app.cookie_name("kw_session"))
            .parse()
            .unwrap(),
    );
    request
        .headers_mut()
        .insert("x-csrf-token", csrf.parse().unwrap());
    assert_eq!(m.app.send(request).await.status, StatusCode::OK);
    let notice = m
        .mail()
        .await
        .into_iter()
        .find(|m| m.subject.contains("was changed"))
        .unwrap();
    let text = notice.text.unwrap_or_default();
    let start = text.find("/security/not-me/").unwrap();
    let path = text[start..].split_whitespace().next().unwrap().to_owned();
    let mut browser = m.app.browser();
    let confirm = browser.get(&path).await;
    assert_eq!(confirm.status, StatusCode::OK);
    // Opening the link changed nothing: the session still works.
    let me = |s: &str| {
        get("/api/v1/me")
            .header("cookie", format!("{}={s}", m.app.cookie_name("kw_session")))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    assert_eq!(m.app.send(me(&session)).await.status, StatusCode::OK);
    let csrf = confirm.field("csrf_token").unwrap();
    let done = browser.post_form(&path, &[("csrf_token", &csrf)]).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.page_text().contains("Your account is secured"));
    assert_eq!(
        m.app.send(me(&session)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let alerts: Vec<_> = m
        .mail()
        .await
        .into_iter()
        .filter(|m| m.subject.contains("Security alert"))
        .collect();
    assert!(
        alerts
            .iter()
            .any(|a| a.to == "lena.fischer@riverside.example"),
        "the lead teacher is told"
    );
}

#[tokio::test]
async fn with_confirm_username_the_reset_page_never_carries_the_username() {
    let m = mail_app_with(|s| s.recovery.confirm_username = true).await;
    let mut browser = m.app.browser();
    let form = browser.get("/recovery").await;
    let csrf = form.field("csrf_token").unwrap();
    let sent = browser
        .post_form(
            "/recovery",
            &[("csrf_token", &csrf), ("username", "demo.teacher")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let path = link_path(&m.reset_mail().await);

    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.page_text().contains("Choose a new password"));
    // Nowhere in the HTML: no text, no hidden field, no hint attribute.
    assert!(
        !page.text().to_lowercase().contains("demo.teacher"),
        "{}",
        page.text()
    );
    assert!(page.text().contains("id=\"username\""));
    assert!(page.field("username").is_none(), "no value to fill in");
    let csrf = page.field("csrf_token").unwrap();

    // Someone else's username is refused, and the page again names nobody.
    let wrong = browser
        .post_form(
            &path,
            &[
                ("csrf_token", &csrf),
                ("username", "demo.lead"),
                ("new_password", NEW),
                ("confirm_password", NEW),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!wrong.text().to_lowercase().contains("demo.teacher"));

    // The person types their username: the reset goes through.
    let done = browser
        .post_form(
            &path,
            &[
                ("csrf_token", &csrf),
                ("username", "demo.teacher"),
                ("new_password", NEW),
                ("confirm_password", NEW),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), Some("/signin?notice=password_reset"));
    assert_eq!(
        m.app.api_sign_in("demo.teacher", NEW).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_reset_by_email_keeps_two_step_verification_and_the_next_sign_in_asks_for_a_code() {
    let m = mail_app().await;
    let rng = SeededRandom::new(12);
    let ctx = ctx_at(UnixTime::now(), &rng);
    let teacher = keyward_core::testing::account_named(&m.app.kw, "demo.teacher").await;
    let enrolment = m
        .app
        .kw
        .start_totp_enrolment(&ctx, &teacher, &OLD.into())
        .await
        .unwrap();
    let first = keyward_core::mfa::code_for(&enrolment.secret, ctx.now).unwrap();
    m.app
        .kw
        .confirm_totp_enrolment(
            &ctx,
            &teacher,
            &keyward_core::mfa::TotpCode::parse(&first).unwrap(),
        )
        .await
        .unwrap();

    let reply = m
        .app
        .send(json_post(
            "/api/v1/recovery",
            &json!({ "username": "demo.teacher" }),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let token = link_path(&m.reset_mail().await)
        .trim_start_matches("/recovery/")
        .to_owned();
    let reset = m
        .app
        .send(json_post(
            &format!("/api/v1/recovery/{token}"),
            &json!({ "new_password": NEW, "confirm_password": NEW }),
        ))
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text());

    let signed = m.app.api_sign_in("demo.teacher", NEW).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text());
    assert_eq!(signed.json()["mfa_required"], true, "{}", signed.text());
    assert!(signed.cookie_value("__Host-kw_session").is_none());
    let step = signed
        .cookie_value("__Host-kw_step")
        .expect("the step cookie");
    assert!(
        signed
            .set_cookie("__Host-kw_step")
            .unwrap()
            .contains("Secure")
    );

    // Through the pages too: the password leads to the code, not home.
    let mut browser = m.app.browser();
    let page = browser.sign_in("demo.teacher", NEW).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/signin/verify"));
    assert!(browser.cookie("__Host-kw_session").is_none());
    let verify = browser.get("/signin/verify").await;
    assert_eq!(verify.status, StatusCode::OK);
    assert!(verify.page_text().contains("6-digit code"));
    let next =
        keyward_core::mfa::code_for(&enrolment.secret, UnixTime(ctx.now.secs() + 30)).unwrap();
    let csrf = verify.field("csrf_token").unwrap();
    let done = browser
        .post_form("/signin/verify", &[("csrf_token", &csrf), ("code", &next)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    assert_eq!(done.location(), Some("/home"));
    assert!(browser.cookie("__Host-kw_session").is_some());
    let _ = step;
}
