//! Throttling of failed sign-ins (R-ACC-5) as the client sees it: after the
//! free failures the next try answers 429 with `Retry-After`, as a readable
//! page or as JSON `too_many_attempts`, and the wait ends by itself. A full
//! hashing pool answers 503 `server_busy`, also with `Retry-After`.

use std::time::Duration;

use axum::http::{StatusCode, header};

use crate::helpers::*;

/// Posts the password step directly, reusing one CSRF token.
async fn try_password(
    browser: &mut Browser<'_>,
    csrf: &str,
    username: &str,
    password: &str,
) -> Reply {
    browser
        .post_form(
            "/signin/password",
            &[
                ("csrf_token", csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
}

fn retry_after_secs(reply: &Reply) -> u64 {
    reply
        .header(header::RETRY_AFTER)
        .expect("Retry-After header")
        .parse()
        .expect("Retry-After in whole seconds")
}

#[tokio::test]
async fn sign_in_page_answers_429_with_retry_after_after_the_free_failures() {
    let app = spawn_app_with_admin().await;
    let free = app.kw.settings().throttle.account_free_failures;
    let mut browser = app.browser();
    let csrf = browser.open_username_step().await;
    for attempt in 1..=free {
        let reply = try_password(&mut browser, &csrf, ADMIN_USERNAME, "wrong guess").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    // The first delay is one second: keep the next two tries in one second.
    start_of_a_fresh_second().await;
    let last_free = try_password(&mut browser, &csrf, ADMIN_USERNAME, "wrong guess").await;
    assert_eq!(last_free.status, StatusCode::UNAUTHORIZED);
    // Even the right password waits: the throttle answers before checking it.
    let reply = try_password(&mut browser, &csrf, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.text()
    );
    assert!(retry_after_secs(&reply) >= 1);
    assert!(reply.content_type().starts_with("text/html"));
    let page = reply.page_text();
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(page.contains("Too many failed sign-ins"), "{page}");
    assert!(page.contains("try again in"), "{page}");
    assert!(reply.set_cookie("kw_session").is_none());
}

#[tokio::test]
async fn throttled_account_signs_in_again_once_retry_after_has_passed() {
    let app = spawn_app_with_admin().await;
    let free = app.kw.settings().throttle.account_free_failures;
    for _ in 0..free {
        app.api_sign_in(ADMIN_USERNAME, "wrong guess").await;
    }
    start_of_a_fresh_second().await;
    app.api_sign_in(ADMIN_USERNAME, "wrong guess").await;
    let blocked = app.api_sign_in(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_api_error(&blocked, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    let wait = retry_after_secs(&blocked);
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(100)).await;
    let reply = app.api_sign_in(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

#[tokio::test]
async fn api_answers_too_many_attempts_with_retry_after_after_the_free_failures() {
    let app = spawn_app_with_admin().await;
    let free = app.kw.settings().throttle.account_free_failures;
    for attempt in 1..=free {
        let reply = app.api_sign_in(ADMIN_USERNAME, "wrong guess").await;
        assert_api_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
        assert!(
            reply.header(header::RETRY_AFTER).is_none(),
            "attempt {attempt}"
        );
    }
    start_of_a_fresh_second().await;
    let last_free = app.api_sign_in(ADMIN_USERNAME, "wrong guess").await;
    assert_api_error(&last_free, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let reply = app.api_sign_in(ADMIN_USERNAME, "wrong guess").await;
    assert_api_error(&reply, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    assert!(retry_after_secs(&reply) >= 1);
}

#[tokio::test]
async fn unknown_usernames_are_throttled_like_real_ones() {
    let app = spawn_app_with_admin().await;
    let free = app.kw.settings().throttle.account_free_failures;
    for _ in 0..free {
        app.api_sign_in("Nobody.Here", "wrong guess").await;
    }
    start_of_a_fresh_second().await;
    app.api_sign_in("Nobody.Here", "wrong guess").await;
    let reply = app.api_sign_in("Nobody.Here", "wrong guess").await;
    assert_api_error(&reply, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
}

#[tokio::test]
async fn many_usernames_from_one_address_are_throttled_by_address() {
    let app = spawn_app_with(|s| s.throttle.address_free_failures = 3).await;
    app.create_admin(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    for n in 0..3 {
        let reply = app.api_sign_in(&format!("guess.{n}"), "wrong guess").await;
        assert_api_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    start_of_a_fresh_second().await;
    app.api_sign_in("guess.3", "wrong guess").await;
    // A name this address never tried, and the right password: still refused.
    let reply = app.api_sign_in(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_api_error(&reply, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    assert!(retry_after_secs(&reply) >= 1);
}

#[tokio::test]
async fn full_hashing_pool_answers_503_with_retry_after() {
    let app = spawn_app_with(|s| s.hashing = slow_hashing(Duration::from_millis(20))).await;
    app.create_admin(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let mut browser = app.browser();
    let csrf = browser.open_username_step().await;
    let (first, (api, page)) =
        tokio::join!(app.api_sign_in(ADMIN_USERNAME, ADMIN_PASSWORD), async {
            until_hashing(&app).await;
            let api = app.api_sign_in(ADMIN_USERNAME, ADMIN_PASSWORD).await;
            let page = try_password(&mut browser, &csrf, ADMIN_USERNAME, ADMIN_PASSWORD).await;
            (api, page)
        });
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_api_error(&api, StatusCode::SERVICE_UNAVAILABLE, "server_busy");
    assert!(retry_after_secs(&api) >= 1);
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        page.text()
    );
    assert!(retry_after_secs(&page) >= 1);
    assert!(page.page_text().contains("role=\"alert\""));
    assert!(page.set_cookie("kw_session").is_none());
}
