//! Bad input (spec §12): nasty values in every field of the sign-in forms and
//! the API, nasty paths, queries, cookies and headers. The answer is always a
//! clear 2xx, 3xx or 4xx — never a 5xx — and API errors keep their format.

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use serde_json::json;

use crate::helpers::*;

/// Values people (and attackers) type into username and password fields.
fn nasty_values() -> Vec<String> {
    vec![
        String::new(),
        " ".into(),
        "\t\r\n".into(),
        "x".repeat(10_000),
        "é".repeat(5_000),
        "😀🔑👩‍👩‍👧".into(),
        "😀".repeat(64),
        "ﷺ".repeat(64),
        "../../etc/passwd".into(),
        "..\\..\\windows\\win.ini".into(),
        "' OR '1'='1".into(),
        "\"; DROP TABLE users; --".into(),
        "Robert'); DROP TABLE users;--".into(),
        "%FF%FE".into(),
        "%00".into(),
        "\u{1}\u{2}\u{8}".into(),
        "<script>alert(1)</script>".into(),
        "\u{202E}txt.exe".into(),
        "\u{FEFF}Head.Office".into(),
        "\u{FFFF}\u{FFFE}".into(),
        "\r\nSet-Cookie: kw_session=stolen".into(),
        "{{7*7}}".into(),
        "${jndi:ldap://x}".into(),
        "\u{1F}\u{7F}".into(),
    ]
}

/// Raw form bodies that no browser would send.
fn nasty_form_bodies(csrf: &str) -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = vec![
        format!("csrf_token={csrf}&username=%FF%FE&password=%FF%FE").into_bytes(),
        format!("csrf_token={csrf}&username=%C0%AF&password=%ED%A0%80").into_bytes(),
        format!("csrf_token={csrf}&username=%&password=%%").into_bytes(),
        format!("csrf_token={csrf}&username=a&username=b&password=c").into_bytes(),
        format!("csrf_token={csrf}&&&===&username").into_bytes(),
        format!("csrf_token={csrf}&username=Head.Office&password=%E2%82").into_bytes(),
        b"\xff\xfe\x00\x01".to_vec(),
        b"csrf_token=%FF&username=x&password=y".to_vec(),
        Vec::new(),
    ];
    bodies.push(format!("csrf_token={csrf}&username={}", "%FF".repeat(3_000)).into_bytes());
    bodies
}

fn assert_not_a_server_error(reply: &Reply, context: &str) {
    assert!(
        reply.status.is_success()
            || reply.status.is_redirection()
            || reply.status.is_client_error(),
        "{context}: answered {} {}",
        reply.status,
        reply.text()
    );
}

fn assert_api_answer_is_clear(reply: &Reply, context: &str) {
    assert_not_a_server_error(reply, context);
    if reply.status.is_client_error() {
        let body = reply.json();
        assert!(body["error"].is_string(), "{context}: {body}");
        assert!(body["message"].is_string(), "{context}: {body}");
        assert_eq!(
            body["request_id"].as_str(),
            reply.header("x-request-id"),
            "{context}"
        );
    }
}

/// An app where throttling stays out of the way, so that every value goes
/// all the way through the use case.
async fn app_without_throttling() -> TestApp {
    let app = spawn_app_with(|s| {
        s.throttle.address_free_failures = 100_000;
    })
    .await;
    app.create_admin(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    app
}

#[tokio::test]
async fn nasty_values_in_the_sign_in_forms_never_cause_a_server_error() {
    let app = app_without_throttling().await;
    let mut browser = app.browser();
    let csrf = browser.open_username_step().await;
    for (i, value) in nasty_values().iter().enumerate() {
        let context = format!(
            "value #{i} {:?}",
            value.chars().take(20).collect::<String>()
        );
        let reply = browser
            .post_form(
                "/signin/username",
                &[("csrf_token", &csrf), ("username", value)],
            )
            .await;
        assert_not_a_server_error(&reply, &format!("username step, {context}"));
        let reply = browser
            .post_form(
                "/signin/password",
                &[
                    ("csrf_token", &csrf),
                    ("username", value),
                    ("password", "x"),
                ],
            )
            .await;
        assert_not_a_server_error(&reply, &format!("password step username, {context}"));
        let username = format!("user{i}");
        let reply = browser
            .post_form(
                "/signin/password",
                &[
                    ("csrf_token", &csrf),
                    ("username", &username),
                    ("password", value),
                ],
            )
            .await;
        assert_not_a_server_error(&reply, &format!("password step password, {context}"));
        assert!(reply.set_cookie("kw_session").is_none(), "{context}");
    }
}

#[tokio::test]
async fn nasty_values_in_the_api_never_cause_a_server_error() {
    let app = app_without_throttling().await;
    for (i, value) in nasty_values().iter().enumerate() {
        let context = format!(
            "value #{i} {:?}",
            value.chars().take(20).collect::<String>()
        );
        let reply = app.api_sign_in(value, ADMIN_PASSWORD).await;
        assert_api_answer_is_clear(&reply, &format!("username, {context}"));
        assert_ne!(reply.status, StatusCode::OK, "{context}");
        let reply = app.api_sign_in(&format!("user{i}"), value).await;
        assert_api_answer_is_clear(&reply, &format!("password, {context}"));
        assert_ne!(reply.status, StatusCode::OK, "{context}");
    }
}

#[tokio::test]
async fn raw_form_bodies_no_browser_sends_never_cause_a_server_error() {
    let app = app_without_throttling().await;
    let mut browser = app.browser();
    let csrf = browser.open_username_step().await;
    for (i, body) in nasty_form_bodies(&csrf).into_iter().enumerate() {
        for path in ["/signin/username", "/signin/password", "/signout"] {
            let request = form_post(path, &browser.cookie_header(), body.clone());
            let reply = browser.send(request).await;
            assert_not_a_server_error(&reply, &format!("body #{i} to {path}"));
        }
    }
}

#[tokio::test]
async fn raw_json_bodies_no_client_should_send_never_cause_a_server_error() {
    let app = app_without_throttling().await;
    let bodies: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"string\"".to_vec(),
        b"{\"username\":\"\xff\xfe\",\"password\":\"x\"}".to_vec(),
        b"{\"username\":\"\\ud800\",\"password\":\"x\"}".to_vec(),
        b"{\"username\":1e999,\"password\":null}".to_vec(),
        b"{\"username\":\"a\",\"password\":\"b\",\"username\":\"c\"}".to_vec(),
        b"{\"username\":\"a\",\"password\":\"b\",\"extra\":{\"deep\":[[[[[[]]]]]]}}".to_vec(),
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
        b"\xef\xbb\xbf{\"username\":\"a\",\"password\":\"b\"}".to_vec(),
    ];
    let content_types = [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=utf-16",
        "application/vnd.api+json",
        "application/json-seq",
        "multipart/form-data; boundary=x",
    ];
    for (i, body) in bodies.iter().enumerate() {
        for content_type in content_types {
            let request = Request::post("/api/v1/session")
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body.clone()))
                .unwrap();
            let reply = app.send(request).await;
            assert_api_answer_is_clear(&reply, &format!("body #{i} as {content_type}"));
        }
    }
}

#[tokio::test]
async fn nasty_paths_and_queries_never_cause_a_server_error() {
    let app = spawn_app().await;
    let long = "a".repeat(10_000);
    let paths = vec![
        "/signin/username?username=%FF".to_owned(),
        "/signin/username?username=%FF%FE%00".to_owned(),
        "/signin/username?username=%".to_owned(),
        "/signin/username?%%%%&&==".to_owned(),
        "/signin/username?username=a&username=b".to_owned(),
        format!("/signin/username?username={long}"),
        format!("/signin/username?username={}", "%F0%9F%98%80".repeat(500)),
        format!("/{long}"),
        format!("/api/v1/{long}"),
        format!("/signin?{long}"),
        "/%2e%2e/%2e%2e/etc/passwd".to_owned(),
        "/static/../../etc/passwd".to_owned(),
        "/static/%2e%2e/Cargo.toml".to_owned(),
        "/%FF".to_owned(),
        "/%00".to_owned(),
        "/api/v1/%C0%AF".to_owned(),
        "/api/v1/me?x=%00".to_owned(),
        "/api/v1/openapi.json?%FF".to_owned(),
        "//".to_owned(),
        "/signin//username".to_owned(),
        "/home/".to_owned(),
        "/api/v1/session/".to_owned(),
        "/healthz?x=%FF".to_owned(),
        "/metrics?format=%00".to_owned(),
    ];
    for path in &paths {
        let reply = app.get(path).await;
        let context = format!("GET {}", &path[..path.len().min(60)]);
        if path.starts_with("/api/") && reply.status.is_client_error() {
            assert_api_answer_is_clear(&reply, &context);
        } else {
            assert_not_a_server_error(&reply, &context);
        }
    }
}

#[tokio::test]
async fn malformed_query_on_the_username_step_still_shows_the_form() {
    let app = spawn_app().await;
    let reply = app.get("/signin/username?username=%FF%FE").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.field("csrf_token").is_some());
    let long = format!("/signin/username?username={}", "b".repeat(10_000));
    let reply = app.get(&long).await;
    assert_eq!(reply.status, StatusCode::OK);
    let shown = reply.field("username").unwrap_or_default();
    assert!(shown.chars().count() <= 64, "shown {} chars", shown.len());
}

#[tokio::test]
async fn nasty_cookies_and_headers_never_cause_a_server_error() {
    let app = app_without_throttling().await;
    let long = "a".repeat(5_000);
    let cookies: Vec<HeaderValue> = vec![
        HeaderValue::from_static("kw_session="),
        HeaderValue::from_static("kw_session=; kw_pre="),
        HeaderValue::from_static("kw_session===; kw_pre===="),
        HeaderValue::from_static("kw_session=%FF%FE; kw_pre=%00"),
        HeaderValue::from_str(&format!("kw_session={long}; kw_pre={long}")).unwrap(),
        HeaderValue::from_bytes(b"kw_session=\xff\xfe; kw_pre=\x80").unwrap(),
        HeaderValue::from_static("kw_session=a; kw_session=b; kw_session=c"),
        HeaderValue::from_static(";;;;=;=="),
    ];
    for (i, cookie) in cookies.iter().enumerate() {
        for path in ["/", "/home", "/signin", "/signin/username", "/api/v1/me"] {
            let request = Request::get(path)
                .header(header::COOKIE, cookie.clone())
                .body(Body::empty())
                .unwrap();
            let reply = app.send(request).await;
            assert_not_a_server_error(&reply, &format!("cookie #{i} on GET {path}"));
        }
        let request = Request::delete("/api/v1/session")
            .header(header::COOKIE, cookie.clone())
            .header(
                "x-csrf-token",
                HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
            )
            .body(Body::empty())
            .unwrap();
        let reply = app.send(request).await;
        assert_api_answer_is_clear(&reply, &format!("cookie #{i} on DELETE /api/v1/session"));
        let request = form_post("/signout", "", "csrf_token=x");
        let mut request = request;
        request.headers_mut().insert(header::COOKIE, cookie.clone());
        let reply = app.send(request).await;
        assert_not_a_server_error(&reply, &format!("cookie #{i} on POST /signout"));
    }
    let origins = [
        HeaderValue::from_bytes(b"https://\xff\xfe").unwrap(),
        HeaderValue::from_static(""),
        HeaderValue::from_static("null"),
        HeaderValue::from_static("http://127.0.0.1:8080/extra/path"),
    ];
    for origin in origins {
        let mut request = json_post(
            "/api/v1/session",
            &json!({ "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD }),
        );
        request.headers_mut().insert(header::ORIGIN, origin.clone());
        request
            .headers_mut()
            .insert("sec-fetch-site", HeaderValue::from_bytes(b"\xff").unwrap());
        let reply = app.send(request).await;
        assert_api_answer_is_clear(&reply, &format!("Origin {origin:?}"));
    }
}

/// NUL bytes get their own test: PostgreSQL refuses them in text, so they
/// must be stopped before any query (SQLite stores them).
fn nul_values() -> Vec<&'static str> {
    vec!["\0", "admin\0", "Head.Office\0", "a\0b\0c", "\0\0\0\0"]
}

#[tokio::test]
async fn nul_bytes_in_sign_in_fields_never_cause_a_server_error() {
    let app = app_without_throttling().await;
    let mut browser = app.browser();
    let csrf = browser.open_username_step().await;
    for (i, value) in nul_values().into_iter().enumerate() {
        let context = format!("value #{i} {value:?}");
        let reply = app.api_sign_in(value, ADMIN_PASSWORD).await;
        assert_api_answer_is_clear(&reply, &format!("API username, {context}"));
        let reply = app.api_sign_in(&format!("user{i}"), value).await;
        assert_api_answer_is_clear(&reply, &format!("API password, {context}"));
        for (username, password) in [(value, "x"), ("Head.Office", value)] {
            let reply = browser
                .post_form(
                    "/signin/password",
                    &[
                        ("csrf_token", &csrf),
                        ("username", username),
                        ("password", password),
                    ],
                )
                .await;
            assert_not_a_server_error(&reply, &format!("password step, {context}"));
        }
        let reply = browser
            .post_form(
                "/signin/username",
                &[("csrf_token", &csrf), ("username", value)],
            )
            .await;
        assert_not_a_server_error(&reply, &format!("username step, {context}"));
    }
    let raw = format!("csrf_token={csrf}&username=%00&password=%00");
    let reply = browser
        .send(form_post("/signin/password", &browser.cookie_header(), raw))
        .await;
    assert_not_a_server_error(&reply, "raw %00 form");
    let request = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"username":"a\u0000b","password":"\u0000"}"#))
        .unwrap();
    assert_api_answer_is_clear(&app.send(request).await, "JSON \\u0000");
}
