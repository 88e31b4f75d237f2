//! The JSON API's session calls (R-API-1, R-ACC-4, R-ACC-6) and its error
//! format: every error is `{"error", "message", "request_id"}` with a stable
//! code, and the request id matches the `x-request-id` header.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use crate::helpers::*;

fn me(cookie: &str) -> Request<Body> {
    Request::get("/api/v1/me")
        .header(header::COOKIE, format!("kw_session={cookie}"))
        .body(Body::empty())
        .unwrap()
}

fn sign_out(cookie: &str, csrf: Option<&str>) -> Request<Body> {
    let mut request =
        Request::delete("/api/v1/session").header(header::COOKIE, format!("kw_session={cookie}"));
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    request.body(Body::empty()).unwrap()
}

fn raw_post(path: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap()
}

#[tokio::test]
async fn api_sign_in_answers_the_user_and_csrf_token_and_sets_the_cookie() {
    let app = spawn_app_with_admin().await;
    let reply = app.api_sign_in(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(reply.content_type().starts_with("application/json"));
    let body = reply.json();
    assert_eq!(body["mfa_required"], false);
    let csrf = body["csrf_token"].as_str().expect("csrf_token");
    assert!(csrf.len() >= 20);
    assert_eq!(body["user"]["username"], ADMIN_USERNAME);
    assert_eq!(body["user"]["role"], "platform_admin");
    assert_eq!(body["user"]["csrf_token"], csrf);
    assert!(body["user"]["last_sign_in_at"].is_i64(), "{body}");
    let cookie = reply
        .set_cookie("kw_session")
        .expect("Set-Cookie kw_session");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(
        !body
            .to_string()
            .contains(&reply.cookie_value("kw_session").unwrap()),
        "the session token must only travel in the cookie"
    );
}

#[tokio::test]
async fn api_sign_in_accepts_the_username_in_any_case() {
    let app = spawn_app_with_admin().await;
    let reply = app.api_sign_in("HEAD.office", ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["user"]["username"], ADMIN_USERNAME);
}

#[tokio::test]
async fn api_sign_in_with_a_wrong_password_is_invalid_credentials() {
    let app = spawn_app_with_admin().await;
    let reply = app.api_sign_in(ADMIN_USERNAME, "not the password").await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert!(reply.set_cookie("kw_session").is_none());
    let unknown = app.api_sign_in("Nobody.Here", "not the password").await;
    assert_api_error(&unknown, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(reply.json()["message"], unknown.json()["message"]);
}

#[tokio::test]
async fn me_with_the_session_cookie_answers_the_signed_in_user() {
    let app = spawn_app_with_admin().await;
    let (cookie, csrf) = app.api_session().await;
    let reply = app.send(me(&cookie)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["username"], ADMIN_USERNAME);
    assert_eq!(body["role"], "platform_admin");
    assert_eq!(body["csrf_token"], csrf.as_str());
    assert!(body["school_id"].is_null());
    for secret in ["password", "password_hash", "hash"] {
        assert!(body.get(secret).is_none(), "{secret} leaked: {body}");
    }
}

#[tokio::test]
async fn me_without_a_session_is_unauthenticated() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/me").await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
    let bogus = app.send(me("not-a-real-session")).await;
    assert_api_error(&bogus, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn me_works_for_a_session_opened_by_the_sign_in_pages() {
    let app = spawn_app_with_admin().await;
    let browser = app.signed_in_browser(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let cookie = browser.cookie("kw_session").unwrap().to_owned();
    let reply = app.send(me(&cookie)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["username"], ADMIN_USERNAME);
}

#[tokio::test]
async fn api_sign_out_without_csrf_header_is_refused_and_keeps_the_session() {
    let app = spawn_app_with_admin().await;
    let (cookie, _csrf) = app.api_session().await;
    let reply = app.send(sign_out(&cookie, None)).await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "csrf_failed");
    let wrong = app.send(sign_out(&cookie, Some("wrong-token"))).await;
    assert_api_error(&wrong, StatusCode::FORBIDDEN, "csrf_failed");
    let still = app.send(me(&cookie)).await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "the session ended without CSRF"
    );
}

#[tokio::test]
async fn api_sign_out_with_csrf_header_ends_the_session() {
    let app = spawn_app_with_admin().await;
    let (cookie, csrf) = app.api_session().await;
    let reply = app.send(sign_out(&cookie, Some(&csrf))).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert!(reply.body.is_empty());
    let removal = reply.set_cookie("kw_session").expect("cookie cleared");
    assert!(removal.contains("Max-Age=0"), "{removal}");
    let after = app.send(me(&cookie)).await;
    assert_api_error(&after, StatusCode::UNAUTHORIZED, "unauthenticated");
    // Signing out again with the dead cookie is simply unauthenticated.
    let again = app.send(sign_out(&cookie, Some(&csrf))).await;
    assert_api_error(&again, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn api_sign_out_ends_only_the_session_it_was_sent_with() {
    let app = spawn_app_with_admin().await;
    let (first, first_csrf) = app.api_session().await;
    let (second, _) = app.api_session().await;
    assert_ne!(first, second);
    let reply = app.send(sign_out(&first, Some(&first_csrf))).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(app.send(me(&second)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_json_is_invalid_json() {
    let app = spawn_app().await;
    let reply = app
        .send(raw_post(
            "/api/v1/session",
            "application/json",
            "{\"username\": \"a\",",
        ))
        .await;
    assert_api_error(&reply, StatusCode::BAD_REQUEST, "invalid_json");
}

#[tokio::test]
async fn wrong_content_type_is_unsupported_media_type() {
    let app = spawn_app().await;
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let reply = app
            .send(raw_post(
                "/api/v1/session",
                content_type,
                json!({"username": "a", "password": "b"}).to_string(),
            ))
            .await;
        assert_api_error(
            &reply,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
    }
    let none = app
        .send(
            Request::post("/api/v1/session")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_api_error(
        &none,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
}

#[tokio::test]
async fn body_over_the_limit_is_payload_too_large() {
    let app = spawn_app_with_admin().await;
    let limit = app.kw.settings().server.max_body_bytes;
    assert_eq!(limit, 64 * 1024, "the default limit changed");
    let body = json!({ "username": ADMIN_USERNAME, "password": "x".repeat(limit) }).to_string();
    let before = app.hashes_computed();
    let reply = app
        .send(raw_post("/api/v1/session", "application/json", body))
        .await;
    assert_api_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(app.hashes_computed(), before);
}

#[tokio::test]
async fn body_limit_follows_the_setting() {
    let app = spawn_app_with(|s| s.server.max_body_bytes = 2048).await;
    let body = json!({ "username": "someone", "password": "x".repeat(3000) }).to_string();
    let reply = app
        .send(raw_post("/api/v1/session", "application/json", body))
        .await;
    assert_api_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let small = json!({ "username": "someone", "password": "x".repeat(100) }).to_string();
    let reply = app
        .send(raw_post("/api/v1/session", "application/json", small))
        .await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
}

#[tokio::test]
async fn page_form_over_the_limit_is_payload_too_large() {
    let app = spawn_app().await;
    let body = form_body(&[("username", &"a".repeat(70 * 1024))]);
    let reply = app.send(form_post("/signin/username", "", body)).await;
    assert_error_page(&reply, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn missing_field_is_invalid_request_naming_the_field() {
    let app = spawn_app().await;
    let reply = app
        .send(json_post(
            "/api/v1/session",
            &json!({ "username": "someone" }),
        ))
        .await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("password"),
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn wrong_field_type_is_invalid_request_without_echoing_values() {
    let app = spawn_app().await;
    let reply = app
        .send(json_post(
            "/api/v1/session",
            &json!({ "username": "someone", "password": ["hunter2-secret"] }),
        ))
        .await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(!reply.text().contains("hunter2-secret"));
}

#[tokio::test]
async fn unknown_api_route_is_json_not_found() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/nope").await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn unknown_page_route_is_a_not_found_page() {
    let app = spawn_app().await;
    let reply = app.get("/no/such/page").await;
    assert_error_page(&reply, StatusCode::NOT_FOUND);
    assert!(
        reply
            .page_text()
            .contains("There is nothing at this address.")
    );
}

#[tokio::test]
async fn wrong_method_is_json_method_not_allowed() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/api/v1/session"),
        (Method::PUT, "/api/v1/session"),
        (Method::POST, "/api/v1/me"),
    ] {
        let reply = app
            .send(
                Request::builder()
                    .method(method.clone())
                    .uri(path)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_api_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    }
}

#[tokio::test]
async fn every_request_gets_its_own_request_id() {
    let app = spawn_app().await;
    let first = app.get("/api/v1/nope").await;
    let second = app.get("/api/v1/nope").await;
    let first_id = first.header("x-request-id").expect("x-request-id");
    let second_id = second.header("x-request-id").expect("x-request-id");
    assert_ne!(first_id, second_id);
    let page = app.get("/signin").await;
    assert!(page.header("x-request-id").is_some());
}

#[tokio::test]
async fn error_pages_show_the_request_id_of_the_header() {
    let app = spawn_app().await;
    let reply = app.get("/no/such/page").await;
    let id = reply
        .header("x-request-id")
        .expect("x-request-id")
        .to_owned();
    assert!(reply.text().contains(&id), "{}", reply.text());
}

#[tokio::test]
async fn over_long_username_is_input_too_long_before_any_hashing() {
    let app = spawn_app_with_admin().await;
    let before = app.hashes_computed();
    let started = Instant::now();
    let reply = app.api_sign_in(&"a".repeat(65), ADMIN_PASSWORD).await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "input_too_long");
    assert_eq!(
        app.hashes_computed(),
        before,
        "hashed an over-long username"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    // 64 characters is still a normal (failed) sign-in.
    let reply = app.api_sign_in(&"a".repeat(64), ADMIN_PASSWORD).await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
}

#[tokio::test]
async fn over_long_password_is_input_too_long_before_any_hashing() {
    let app = spawn_app_with_admin().await;
    let before = app.hashes_computed();
    let started = Instant::now();
    let reply = app.api_sign_in(ADMIN_USERNAME, &"p".repeat(10_000)).await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "input_too_long");
    assert_eq!(
        app.hashes_computed(),
        before,
        "hashed an over-long password"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn over_long_password_on_the_page_is_refused_before_any_hashing() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.browser();
    let before = app.hashes_computed();
    let reply = browser.sign_in(ADMIN_USERNAME, &"p".repeat(10_000)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.page_text().contains("role=\"alert\""));
    assert_eq!(app.hashes_computed(), before);
}

#[tokio::test]
async fn foreign_origin_is_refused() {
    let app = spawn_app_with_admin().await;
    let body = json!({ "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD }).to_string();
    let request = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::from(body))
        .unwrap();
    let reply = app.send(request).await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "foreign_origin");
    assert!(reply.set_cookie("kw_session").is_none());
    assert!(
        app.audit_actions()
            .await
            .iter()
            .all(|(a, _)| a != "sign_in")
    );
}

#[tokio::test]
async fn foreign_origin_on_a_page_form_is_a_refusal_page() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.browser();
    let csrf = browser.open_username_step().await;
    let mut request = form_post(
        "/signin/password",
        &browser.cookie_header(),
        form_body(&[
            ("csrf_token", &csrf),
            ("username", ADMIN_USERNAME),
            ("password", ADMIN_PASSWORD),
        ]),
    );
    request
        .headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let reply = browser.send(request).await;
    assert_error_page(&reply, StatusCode::FORBIDDEN);
    assert!(reply.set_cookie("kw_session").is_none());
}

#[tokio::test]
async fn own_origin_is_accepted() {
    let app = spawn_app_with_admin().await;
    let origin = app.state.public_origin.clone();
    let body = json!({ "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD }).to_string();
    let request = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, origin)
        .body(Body::from(body))
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

fn null_origin_sign_in(fetch_site: &str) -> Request<Body> {
    let body = json!({ "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD }).to_string();
    Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, "null")
        .header("sec-fetch-site", fetch_site)
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn null_origin_from_the_same_site_is_accepted() {
    let app = spawn_app_with_admin().await;
    let reply = app.send(null_origin_sign_in("same-origin")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

#[tokio::test]
async fn null_origin_from_another_site_is_refused() {
    let app = spawn_app_with_admin().await;
    for fetch_site in ["cross-site", "same-site"] {
        let reply = app.send(null_origin_sign_in(fetch_site)).await;
        assert_api_error(&reply, StatusCode::FORBIDDEN, "foreign_origin");
    }
}

#[tokio::test]
async fn cross_site_fetch_without_origin_is_refused() {
    let app = spawn_app_with_admin().await;
    let body = json!({ "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD }).to_string();
    let request = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(body))
        .unwrap();
    let reply = app.send(request).await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "foreign_origin");
}

#[tokio::test]
async fn foreign_origin_on_a_safe_method_is_answered() {
    let app = spawn_app().await;
    let request = Request::get("/signin")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::OK);
}

#[tokio::test]
async fn sign_in_is_audited_with_the_client_address() {
    let app = spawn_app_with_admin().await;
    app.api_sign_in(ADMIN_USERNAME, "not the password").await;
    app.api_sign_in(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let rows = keyward_core::audit::recent(app.kw.db(), 2).await.unwrap();
    let expected = CLIENT_ADDR.ip().to_string();
    for row in rows {
        assert_eq!(row.action, "sign_in");
        assert_eq!(row.client_addr.as_deref(), Some(expected.as_str()));
    }
}
