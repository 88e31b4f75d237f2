//! The sign-in pages of seed 000 (R-ACC-2, R-ACC-4, R-ACC-6, R-UI-1): the
//! first screen, the username and password steps, the session cookie, CSRF
//! on forms, and sign out.

use axum::body::Body;
use axum::http::{StatusCode, header};

use crate::helpers::*;

#[tokio::test]
async fn root_redirects_to_signin_when_signed_out() {
    let app = spawn_app().await;
    let reply = app.get("/").await;
    assert!(reply.status.is_redirection(), "{}", reply.status);
    assert_eq!(reply.location(), Some("/signin"));
}

#[tokio::test]
async fn root_redirects_home_when_signed_in() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.signed_in_browser(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let reply = browser.get("/").await;
    assert!(reply.status.is_redirection(), "{}", reply.status);
    assert_eq!(reply.location(), Some("/home"));
}

#[tokio::test]
async fn first_screen_offers_sign_in_and_use_a_code() {
    let app = spawn_app().await;
    let reply = app.get("/signin").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.content_type().starts_with("text/html"));
    let page = reply.page_text();
    assert!(
        page.contains("href=\"/signin/username\">Sign in</a>"),
        "{page}"
    );
    assert!(page.contains(">Use a code</a>"), "{page}");
}

#[tokio::test]
async fn username_step_sets_a_pre_session_cookie_and_a_csrf_field() {
    let app = spawn_app().await;
    let reply = app.get("/signin/username").await;
    assert_eq!(reply.status, StatusCode::OK);
    let cookie = reply.set_cookie("kw_pre").expect("kw_pre cookie set");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let csrf = reply.field("csrf_token").expect("csrf_token hidden field");
    assert!(csrf.len() >= 20, "token too short: {csrf}");
    let page = reply.text();
    assert!(
        page.contains("type=\"hidden\" name=\"csrf_token\""),
        "{page}"
    );
    assert!(page.contains(">Next</button>"), "{page}");
    assert!(page.contains("autocomplete=\"username\""), "{page}");
}

#[tokio::test]
async fn username_step_keeps_the_pre_session_cookie_it_was_given() {
    let app = spawn_app().await;
    let mut browser = app.browser();
    let first = browser.open_username_step().await;
    let reply = browser.get("/signin/username").await;
    assert!(
        reply.set_cookie("kw_pre").is_none(),
        "a second visit must not replace the cookie"
    );
    assert_eq!(reply.field("csrf_token"), Some(first));
}

#[tokio::test]
async fn username_step_leads_to_the_password_step_with_forgot_password() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.browser();
    let csrf = browser.open_username_step().await;
    let reply = browser
        .post_form(
            "/signin/username",
            &[("csrf_token", &csrf), ("username", ADMIN_USERNAME)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let page = reply.page_text();
    assert!(page.contains(ADMIN_USERNAME), "{page}");
    assert!(page.contains(">Forgot password?</a>"), "{page}");
    assert!(page.contains("autocomplete=\"current-password\""), "{page}");
    assert_eq!(reply.field("username").as_deref(), Some(ADMIN_USERNAME));
}

#[tokio::test]
async fn password_step_is_the_same_for_an_unknown_username() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.browser();
    let csrf = browser.open_username_step().await;
    // Same length and characters, so only the name itself differs.
    let (known, unknown) = ("Head.Office", "Nobody.Here");
    let mut pages = Vec::new();
    for username in [known, unknown] {
        let reply = browser
            .post_form(
                "/signin/username",
                &[("csrf_token", &csrf), ("username", username)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        pages.push((reply.text().replace(username, "USERNAME"), reply.headers));
    }
    assert_eq!(
        pages[0].0, pages[1].0,
        "the pages reveal which account exists"
    );
    let cookie_count =
        |headers: &axum::http::HeaderMap| headers.get_all(header::SET_COOKIE).iter().count();
    assert_eq!(cookie_count(&pages[0].1), cookie_count(&pages[1].1));
}

#[tokio::test]
async fn username_step_refuses_a_malformed_username_with_an_alert() {
    let app = spawn_app().await;
    let mut browser = app.browser();
    let csrf = browser.open_username_step().await;
    let reply = browser
        .post_form(
            "/signin/username",
            &[("csrf_token", &csrf), ("username", "no spaces allowed")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = reply.page_text();
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
}

#[tokio::test]
async fn sign_in_page_sets_a_session_cookie_and_lands_home() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.browser();
    let reply = browser.sign_in(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    assert_eq!(reply.location(), Some("/home"));
    let cookie = reply.set_cookie("kw_session").expect("session cookie");
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert!(attributes.contains(&"HttpOnly"), "{cookie}");
    assert!(attributes.contains(&"SameSite=Lax"), "{cookie}");
    assert!(attributes.contains(&"Path=/"), "{cookie}");
    assert!(
        !attributes.iter().any(|a| a.eq_ignore_ascii_case("Secure")),
        "Secure on plain http would lose the cookie: {cookie}"
    );
    assert!(reply.header(header::STRICT_TRANSPORT_SECURITY).is_none());

    let home = browser.get("/home").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text());
    assert!(home.page_text().contains("Signed in as Head.Office"));
}

#[tokio::test]
async fn sign_in_records_last_sign_in_in_the_audit_log() {
    let app = spawn_app_with_admin().await;
    app.signed_in_browser(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let audit = app.audit_actions().await;
    assert_eq!(audit[0], ("sign_in".to_owned(), "success".to_owned()));
}

#[tokio::test]
async fn https_public_url_makes_the_cookie_secure_and_sends_hsts() {
    let app = spawn_app_with(|s| {
        s.server.public_url = "https://keyward.example.org".parse().unwrap();
    })
    .await;
    app.create_admin(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let mut browser = app.browser();
    let step = browser.get("/signin/username").await;
    let pre = step.set_cookie("__Host-kw_pre").expect("__Host-kw_pre");
    assert!(pre.split(';').any(|a| a.trim() == "Secure"), "{pre}");
    assert!(
        step.header(header::STRICT_TRANSPORT_SECURITY)
            .is_some_and(|v| v.contains("max-age=")),
        "no HSTS on an https deployment"
    );
    let reply = browser.sign_in(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    let cookie = reply
        .set_cookie("__Host-kw_session")
        .expect("session cookie");
    assert!(cookie.split(';').any(|a| a.trim() == "Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(reply.header(header::STRICT_TRANSPORT_SECURITY).is_some());
}

#[tokio::test]
async fn wrong_password_shows_the_password_step_again_with_an_alert() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.browser();
    let reply = browser.sign_in(ADMIN_USERNAME, "not the password").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.content_type().starts_with("text/html"));
    let page = reply.page_text();
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(page.contains("don't match"), "{page}");
    assert!(page.contains(">Forgot password?</a>"), "{page}");
    assert!(reply.set_cookie("kw_session").is_none());
    assert!(browser.cookie("kw_session").is_none());
}

#[tokio::test]
async fn unknown_user_gets_the_same_refusal_as_a_wrong_password() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.browser();
    let wrong = browser.sign_in("Head.Office", "not the password").await;
    let unknown = browser.sign_in("Nobody.Here", "not the password").await;
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(
        wrong.text().replace("Head.Office", "USERNAME"),
        unknown.text().replace("Nobody.Here", "USERNAME")
    );
}

#[tokio::test]
async fn empty_password_is_refused_without_hashing() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.browser();
    let before = app.hashes_computed();
    let reply = browser.sign_in(ADMIN_USERNAME, "").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.page_text().contains("Enter your password."));
    assert_eq!(app.hashes_computed(), before);
}

#[tokio::test]
async fn password_form_without_csrf_token_is_refused_and_signs_no_one_in() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.browser();
    browser.open_username_step().await;
    let reply = browser
        .post_form(
            "/signin/password",
            &[("username", ADMIN_USERNAME), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_error_page(&reply, StatusCode::FORBIDDEN);
    assert!(reply.set_cookie("kw_session").is_none());
    assert!(
        !app.audit_actions()
            .await
            .iter()
            .any(|(action, _)| action == "sign_in"),
        "the sign-in was attempted despite the missing token"
    );
}

#[tokio::test]
async fn password_form_with_a_wrong_csrf_token_is_refused_and_signs_no_one_in() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.browser();
    let good = browser.open_username_step().await;
    let forged = format!("{good}x");
    let reply = browser
        .post_form(
            "/signin/password",
            &[
                ("csrf_token", &forged),
                ("username", ADMIN_USERNAME),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_error_page(&reply, StatusCode::FORBIDDEN);
    assert!(reply.set_cookie("kw_session").is_none());
    assert!(
        app.audit_actions()
            .await
            .iter()
            .all(|(a, _)| a != "sign_in")
    );
}

#[tokio::test]
async fn csrf_token_of_another_browser_is_refused() {
    let app = spawn_app_with_admin().await;
    let mut attacker = app.browser();
    let attacker_token = attacker.open_username_step().await;
    let mut victim = app.browser();
    victim.open_username_step().await;
    let reply = victim
        .post_form(
            "/signin/password",
            &[
                ("csrf_token", &attacker_token),
                ("username", ADMIN_USERNAME),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_error_page(&reply, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn csrf_token_without_its_cookie_is_refused() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.browser();
    let csrf = browser.open_username_step().await;
    let reply = app
        .send(form_post(
            "/signin/password",
            "",
            form_body(&[
                ("csrf_token", &csrf),
                ("username", ADMIN_USERNAME),
                ("password", ADMIN_PASSWORD),
            ]),
        ))
        .await;
    assert_error_page(&reply, StatusCode::FORBIDDEN);
    assert!(reply.set_cookie("kw_session").is_none());
}

#[tokio::test]
async fn sign_in_form_sent_as_json_is_refused_as_unsupported() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.browser();
    let csrf = browser.open_username_step().await;
    let body = serde_json::json!({
        "csrf_token": csrf,
        "username": ADMIN_USERNAME,
        "password": ADMIN_PASSWORD,
    });
    let request = axum::http::Request::post("/signin/password")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, browser.cookie_header())
        .body(Body::from(body.to_string()))
        .unwrap();
    let reply = browser.send(request).await;
    assert_error_page(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(reply.set_cookie("kw_session").is_none());
}

#[tokio::test]
async fn home_without_a_session_redirects_to_signin() {
    let app = spawn_app().await;
    let reply = app.get("/home").await;
    assert!(reply.status.is_redirection(), "{}", reply.status);
    assert_eq!(reply.location(), Some("/signin"));
}

#[tokio::test]
async fn home_with_a_made_up_session_cookie_redirects_to_signin() {
    let app = spawn_app().await;
    let mut browser = app.browser();
    browser.set_cookie("kw_session", "made-up-value-that-matches-nothing");
    let reply = browser.get("/home").await;
    assert!(reply.status.is_redirection(), "{}", reply.status);
    assert_eq!(reply.location(), Some("/signin"));
}

#[tokio::test]
async fn sign_out_ends_the_session_and_removes_the_cookie() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.signed_in_browser(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let session = browser.cookie("kw_session").unwrap().to_owned();
    let home = browser.get("/home").await;
    assert_eq!(home.status, StatusCode::OK);
    let csrf = home.field("csrf_token").expect("sign-out form token");

    let reply = browser
        .post_form("/signout", &[("csrf_token", &csrf)])
        .await;
    assert!(reply.status.is_redirection(), "{}", reply.text());
    assert_eq!(reply.location(), Some("/signin"));
    let removal = reply.set_cookie("kw_session").expect("removal cookie");
    assert!(
        removal.starts_with("kw_session=;") && removal.contains("Max-Age=0"),
        "{removal}"
    );
    assert!(browser.cookie("kw_session").is_none());

    // The old cookie no longer opens anything, even if the browser kept it.
    browser.set_cookie("kw_session", &session);
    let reply = browser.get("/home").await;
    assert!(reply.status.is_redirection());
    assert_eq!(reply.location(), Some("/signin"));
}

#[tokio::test]
async fn sign_out_without_csrf_token_keeps_the_session() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.signed_in_browser(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let reply = browser.post_form("/signout", &[]).await;
    assert_error_page(&reply, StatusCode::FORBIDDEN);
    let home = browser.get("/home").await;
    assert_eq!(home.status, StatusCode::OK);
}

#[tokio::test]
async fn an_error_page_keeps_the_menu_of_a_signed_in_visitor() {
    let app = demo_app().await;
    let mut browser = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;
    let refused = browser.get("/school/students").await;
    assert_error_page(&refused, StatusCode::FORBIDDEN);
    let text = refused.text();
    assert!(text.contains("href=\"/classes\""), "no menu: {text}");
    assert!(text.contains("Sign out"), "no sign-out: {text}");
    let missing = browser.get("/no/such/page").await;
    assert_error_page(&missing, StatusCode::NOT_FOUND);
    assert!(missing.text().contains("href=\"/classes\""));

    // Signed out, an error page has no menu.
    let anonymous = app.browser().get("/no/such/page").await;
    assert!(!anonymous.text().contains("Sign out"));
}
