//! Cookies on https: every cookie keyward sets carries the `__Host-` prefix
//! (with `Secure`, `Path=/` and no `Domain`), and only those names are read.
//! And CSRF once signed in: only the session's token counts.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::helpers::*;

async fn https_app() -> TestApp {
    let app = spawn_app_with(|s| {
        s.server.public_url = url::Url::parse("https://accounts.school.example").unwrap();
    })
    .await;
    app.create_admin(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    app
}

/// Asserts what `__Host-` demands of a `Set-Cookie` line.
fn assert_host_prefixed(line: &str) {
    assert!(line.starts_with("__Host-"), "{line}");
    let attributes: Vec<String> = line
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    assert!(attributes.iter().any(|a| a == "secure"), "{line}");
    assert!(attributes.iter().any(|a| a == "path=/"), "{line}");
    assert!(attributes.iter().any(|a| a == "httponly"), "{line}");
    assert!(
        !attributes.iter().any(|a| a.starts_with("domain")),
        "{line}"
    );
}

fn set_cookies(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_cookie_on_https_has_the_host_prefix_and_is_read_by_it() {
    let app = https_app().await;
    let mut browser = app.browser();
    let page = browser.get("/signin/username").await;
    let pre = page
        .set_cookie("__Host-kw_pre")
        .expect("pre-session cookie");
    assert_host_prefixed(&pre);

    let signed_in = browser.sign_in(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.text()
    );
    assert_host_prefixed(
        &signed_in
            .set_cookie("__Host-kw_session")
            .expect("session cookie"),
    );
    let home = browser.get("/home").await;
    assert_eq!(
        home.status,
        StatusCode::OK,
        "the prefixed session cookie is read"
    );

    let api = app.api_sign_in(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let token = api
        .cookie_value("__Host-kw_session")
        .expect("API session cookie");
    let me = |cookie: String| {
        Request::get("/api/v1/me")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap()
    };
    let reply = app.send(me(format!("__Host-kw_session={token}"))).await;
    assert_eq!(reply.status, StatusCode::OK);
    // The unprefixed name, which a sibling subdomain could set, is not read.
    let reply = app.send(me(format!("kw_session={token}"))).await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");

    let recovery = app
        .send(json_post(
            "/api/v1/recovery",
            &json!({ "username": ADMIN_USERNAME }),
        ))
        .await;
    assert_eq!(recovery.status, StatusCode::ACCEPTED, "{}", recovery.text());
    assert_host_prefixed(
        &recovery
            .set_cookie("__Host-kw_recovery")
            .expect("recovery cookie"),
    );

    for line in set_cookies(&page)
        .into_iter()
        .chain(set_cookies(&signed_in))
        .chain(set_cookies(&api))
        .chain(set_cookies(&recovery))
    {
        assert_host_prefixed(&line);
    }
}

#[tokio::test]
async fn cookies_on_http_keep_their_plain_names() {
    let app = spawn_app().await;
    let page = app.get("/signin/username").await;
    let pre = page.set_cookie("kw_pre").expect("pre-session cookie");
    assert!(!pre.to_ascii_lowercase().contains("secure"), "{pre}");
    assert!(page.set_cookie("__Host-kw_pre").is_none());
}

#[tokio::test]
async fn a_signed_in_visitor_must_send_the_sessions_csrf_token() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.browser();
    let pre_token = browser.open_username_step().await;
    let reply = browser.sign_in(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    // The pre-session cookie is still there, and its token still matches it,
    // but a signed-in visitor's forms need the session's token.
    assert!(browser.cookie("kw_pre").is_some());
    let refused = browser
        .post_form("/signout", &[("csrf_token", &pre_token)])
        .await;
    assert_error_page(&refused, StatusCode::FORBIDDEN);
    assert!(browser.cookie("kw_session").is_some(), "still signed in");

    let home = browser.get("/home").await;
    let session_token = home.field("csrf_token").expect("a form on /home");
    assert_ne!(session_token, pre_token);
    let signed_out = browser
        .post_form("/signout", &[("csrf_token", &session_token)])
        .await;
    assert_eq!(
        signed_out.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_out.text()
    );
    assert!(browser.cookie("kw_session").is_none());
}
