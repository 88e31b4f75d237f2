//! The client's address behind trusted reverse proxies
//! (`server.trusted_proxies`): what throttling and the audit trail see. Every
//! in-process request comes from `CLIENT_ADDR` (192.0.2.10), the proxy here.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use keyward_core::settings::parse_network;

use crate::helpers::*;

/// `POST /api/v1/session` with a wrong password, through a proxy that sends
/// `header: value`.
fn wrong_sign_in(username: &str, header_name: &str, value: &str) -> Request<Body> {
    let body = json!({ "username": username, "password": "wrong guess" });
    Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header_name, value)
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// The client address of the newest audit row.
async fn last_audited_addr(app: &TestApp) -> Option<String> {
    keyward_core::audit::recent(app.kw.db(), 1).await.unwrap()[0]
        .client_addr
        .clone()
}

/// Sends a wrong sign-in with each (header, value) and checks the client
/// address the audit trail recorded for it.
async fn assert_audited_clients(app: &TestApp, cases: &[(&str, &str, &str)]) {
    for (name, value, expected) in cases {
        app.send(wrong_sign_in("someone", name, value)).await;
        assert_eq!(
            last_audited_addr(app).await.as_deref(),
            Some(*expected),
            "{name}: {value}"
        );
    }
}

async fn behind_proxy(entries: &[&str]) -> TestApp {
    let nets: Vec<_> = entries.iter().map(|e| parse_network(e).unwrap()).collect();
    spawn_app_with(move |s| {
        s.server.trusted_proxies = nets;
        s.throttle.address_free_failures = 3;
    })
    .await
}

#[tokio::test]
async fn two_clients_behind_one_trusted_proxy_get_their_own_address_limits() {
    let app = behind_proxy(&["192.0.2.10"]).await;
    app.create_admin(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let xff = "x-forwarded-for";
    for n in 0..3 {
        let reply = app
            .send(wrong_sign_in(&format!("guess.{n}"), xff, "203.0.113.7"))
            .await;
        assert_api_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    assert_eq!(
        last_audited_addr(&app).await.as_deref(),
        Some("203.0.113.7")
    );
    start_of_a_fresh_second().await;
    app.send(wrong_sign_in("guess.3", xff, "203.0.113.7")).await;
    let blocked = app.send(wrong_sign_in("guess.4", xff, "203.0.113.7")).await;
    assert_api_error(&blocked, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    // Another client behind the same proxy is not held back by the first.
    let other = app.send(wrong_sign_in("guess.5", xff, "203.0.113.8")).await;
    assert_api_error(&other, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(
        last_audited_addr(&app).await.as_deref(),
        Some("203.0.113.8")
    );
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    let app = behind_proxy(&["10.0.0.0/8"]).await;
    for (name, value) in [
        ("x-forwarded-for", "203.0.113.7"),
        ("forwarded", "for=203.0.113.7"),
    ] {
        app.send(wrong_sign_in("someone", name, value)).await;
        assert_eq!(
            last_audited_addr(&app).await.as_deref(),
            Some("192.0.2.10"),
            "{name}"
        );
    }
    // Nor without any trusted proxy (the default).
    let app = spawn_app().await;
    app.send(wrong_sign_in("someone", "x-forwarded-for", "203.0.113.7"))
        .await;
    assert_eq!(last_audited_addr(&app).await.as_deref(), Some("192.0.2.10"));
}

#[tokio::test]
async fn hops_a_client_prepends_are_passed_over_for_the_right_most_untrusted_one() {
    let app = behind_proxy(&["192.0.2.0/24"]).await;
    let cases = [
        (
            "x-forwarded-for",
            "6.6.6.6, 7.7.7.7, 203.0.113.7",
            "203.0.113.7",
        ),
        // A second trusted proxy in the chain is passed over too.
        (
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.7, 192.0.2.99",
            "203.0.113.7",
        ),
        (
            "forwarded",
            "for=6.6.6.6, for=203.0.113.7;proto=https",
            "203.0.113.7",
        ),
        // A hop that cannot be read stops at the last trusted one.
        ("x-forwarded-for", "203.0.113.7, unknown", "192.0.2.10"),
        ("forwarded", "for=\"_hidden\"", "192.0.2.10"),
        (
            "x-forwarded-for",
            "6.6.6.6, garbage, 192.0.2.99",
            "192.0.2.99",
        ),
    ];
    assert_audited_clients(&app, &cases).await;
}

#[tokio::test]
async fn ipv6_clients_behind_a_proxy_are_named_in_full() {
    let app = behind_proxy(&["192.0.2.10", "2001:db8:ffff::/48"]).await;
    let cases = [
        (
            "forwarded",
            "for=\"[2001:db8:1:2::17]:4711\"",
            "2001:db8:1:2::17",
        ),
        ("x-forwarded-for", "2001:db8:1:2::18", "2001:db8:1:2::18"),
        (
            "x-forwarded-for",
            "2001:db8:1:2::19, 2001:db8:ffff::1",
            "2001:db8:1:2::19",
        ),
        ("x-forwarded-for", "::ffff:203.0.113.7", "203.0.113.7"),
    ];
    assert_audited_clients(&app, &cases).await;
}
