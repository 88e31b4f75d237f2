//! Security headers (R-ACC-7) on every kind of answer: pages, API answers,
//! error pages and JSON errors.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::helpers::*;

fn assert_security_headers(reply: &Reply, what: &str) {
    let csp = reply
        .header(header::CONTENT_SECURITY_POLICY)
        .unwrap_or_else(|| panic!("no Content-Security-Policy on {what}"));
    let directive = |name: &str| {
        csp.split(';')
            .map(str::trim)
            .find(|d| d.split_whitespace().next() == Some(name))
            .map(str::to_owned)
    };
    let scripts = directive("script-src")
        .or_else(|| directive("default-src"))
        .unwrap_or_else(|| panic!("no script policy in {csp:?} on {what}"));
    assert!(!scripts.contains("'unsafe-inline'"), "{what}: {csp}");
    assert!(!scripts.contains("'unsafe-eval'"), "{what}: {csp}");
    assert!(!scripts.contains('*'), "{what}: {csp}");
    assert!(
        directive("frame-ancestors").is_some_and(|d| d.contains("'none'")),
        "{what}: {csp}"
    );
    assert_eq!(
        reply.header(header::X_FRAME_OPTIONS),
        Some("DENY"),
        "{what}"
    );
    assert_eq!(
        reply.header(header::REFERRER_POLICY),
        Some("no-referrer"),
        "{what}"
    );
    assert_eq!(
        reply.header(header::X_CONTENT_TYPE_OPTIONS),
        Some("nosniff"),
        "{what}"
    );
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let app = spawn_app_with_admin().await;
    for path in ["/signin", "/signin/username", "/", "/home", "/no/such/page"] {
        let reply = app.get(path).await;
        assert_security_headers(&reply, path);
    }
    let mut browser = app.signed_in_browser(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let home = browser.get("/home").await;
    assert_eq!(home.status, StatusCode::OK);
    assert_security_headers(&home, "signed-in /home");
    let refused = browser.post_form("/signout", &[]).await;
    assert_security_headers(&refused, "CSRF refusal page");
}

#[tokio::test]
async fn api_answers_carry_the_security_headers() {
    let app = spawn_app_with_admin().await;
    let ok = app.api_sign_in(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_security_headers(&ok, "POST /api/v1/session");
    let refused = app.api_sign_in(ADMIN_USERNAME, "wrong").await;
    assert_security_headers(&refused, "401 from the API");
    for path in [
        "/api/v1/me",
        "/api/v1/nope",
        "/api/v1/openapi.json",
        "/healthz",
    ] {
        assert_security_headers(&app.get(path).await, path);
    }
}

#[tokio::test]
async fn pages_with_tokens_are_not_cached() {
    let app = spawn_app().await;
    let reply = app.get("/signin/username").await;
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
}

#[tokio::test]
async fn no_hsts_over_plain_http() {
    let app = spawn_app().await;
    let reply = app.get("/signin").await;
    assert!(reply.header(header::STRICT_TRANSPORT_SECURITY).is_none());
}

#[tokio::test]
async fn hsts_on_every_answer_when_the_public_url_is_https() {
    let app = spawn_app_with(|s| {
        s.server.public_url = "https://keyward.example.org".parse().unwrap();
    })
    .await;
    for path in ["/signin", "/api/v1/me", "/healthz"] {
        let reply = app.get(path).await;
        let hsts = reply
            .header(header::STRICT_TRANSPORT_SECURITY)
            .unwrap_or_else(|| panic!("no HSTS on {path}"));
        assert!(hsts.contains("max-age="), "{hsts}");
    }
}

#[tokio::test]
async fn pages_have_no_inline_script() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.browser();
    let mut pages = vec![
        browser.get("/signin").await,
        browser.get("/signin/username").await,
    ];
    pages.push(browser.sign_in(ADMIN_USERNAME, "wrong password").await);
    pages.push(app.get("/no/such/page").await);
    for page in pages {
        let html = page.text();
        for (at, _) in html.match_indices("<script") {
            let tag_end = html[at..].find('>').map_or(html.len(), |end| at + end);
            assert!(
                html[at..tag_end].contains(" src="),
                "inline script in {html}"
            );
        }
        assert!(!html.contains(" onclick="), "inline handler in {html}");
    }
}

#[tokio::test]
async fn static_assets_are_served_with_their_types() {
    let app = spawn_app().await;
    let css = app.get("/static/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.content_type().starts_with("text/css"));
    let js = app
        .send(Request::get("/static/app.js").body(Body::empty()).unwrap())
        .await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.content_type().starts_with("text/javascript"));
    assert_eq!(js.header(header::X_CONTENT_TYPE_OPTIONS), Some("nosniff"));
}

#[tokio::test]
async fn a_request_id_sent_by_the_client_is_replaced_by_keywards_own() {
    let app = spawn_app().await;
    for path in ["/healthz", "/api/v1/me", "/no/such/page"] {
        let request = Request::get(path)
            .header("x-request-id", "forged-id")
            .body(Body::empty())
            .unwrap();
        let reply = app.send(request).await;
        let id = reply.header("x-request-id").expect("a request id");
        assert_ne!(id, "forged-id", "{path}");
        assert!(uuid_like(id), "{path}: {id}");
        assert!(!reply.text().contains("forged-id"), "{path}");
    }
    // Not even a well-formed UUID is taken over.
    let uuid = "0b5a3c8e-4c2f-4d8e-9a7b-3f2e1d0c9b8a";
    let request = Request::get("/healthz")
        .header("x-request-id", uuid)
        .body(Body::empty())
        .unwrap();
    let reply = app.send(request).await;
    assert_ne!(reply.header("x-request-id"), Some(uuid));
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}
