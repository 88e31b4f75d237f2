//! Single sign-on against providers that misbehave or are made to (a
//! security review of issue 14): keyward calls no internal address unless
//! `sso.allow_private_addresses` is on; a discovery document cannot send
//! keyward's requests or the browser anywhere but `https` (or loopback when
//! allowed); a failed discovery is not asked again for half a minute;
//! anonymous starts are limited per client address; a key set listing one
//! kid twice fetches the keys again; a just-in-time account takes no
//! look-alike name and nobody else's email. ID token claims (`azp`, `iat`,
//! `nbf`, `sub`) are in `sso.rs`'s tampered tokens.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::StatusCode;
use futures_util::future::join_all;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use keyward_core::settings::parse_network;
use keyward_core::sso::{NewSsoProvider, SsoProviderId};
use keyward_core::testing::{account_named, seed_demo_people};
use keyward_core::types::Role;
use keyward_core::types::random::SeededRandom;

use crate::helpers::*;
use crate::oidc::{CLIENT_SECRET, HostileProvider, OidcProvider};
use crate::sso::{add_provider, assert_refused, count, setup_in, sso_audit};

fn provider_body(issuer: &str) -> Value {
    json!({
        "name": "School provider",
        "issuer": issuer,
        "client_id": "kw",
        "client_secret": CLIENT_SECRET,
    })
}

fn new_provider(issuer: String) -> NewSsoProvider {
    NewSsoProvider {
        name: "School provider".into(),
        issuer,
        client_id: "kw".into(),
        client_secret: Zeroizing::new(CLIENT_SECRET.into()),
        scopes: None,
        claim: None,
        roles: None,
        jit_roles: None,
        trust_mfa: false,
    }
}

async fn start(app: &TestApp, provider: &SsoProviderId) -> Reply {
    app.browser().get(&format!("/sso/{provider}/start")).await
}

/// The demo app with `sso.allow_private_addresses` as the server's default:
/// off.
async fn strict_demo_app() -> TestApp {
    let app = spawn_app_with(|s| s.sso.allow_private_addresses = false).await;
    seed_demo_people(&app.kw, &SeededRandom::new(8)).await;
    app
}

#[tokio::test]
async fn without_private_addresses_no_issuer_inside_is_accepted_or_called() {
    let app = strict_demo_app().await;
    let hostile = HostileProvider::start(vec![("good", json!({}))]).await;
    let port = hostile.port;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    // Connecting a provider needs one's own second factor.
    let lead_id = account_named(&app.kw, "demo.lead").await.id;
    keyward_core::testing::give_second_factor(&app.kw, &lead_id).await;
    let school = school_of(&app, &lead).await;
    let path = format!("/api/v1/schools/{school}/sso-providers");
    for issuer in [
        hostile.issuer("good"),
        format!("http://2130706433:{port}/good"),
        format!("https://127.1:{port}/good"),
        format!("https://localhost:{port}/good"),
        format!("https://[::ffff:127.0.0.1]:{port}/good"),
        "https://169.254.169.254/latest".to_owned(),
        "https://10.1.2.3/realms/school".to_owned(),
        "https://100.64.0.1".to_owned(),
        "https://[fd00::1]".to_owned(),
    ] {
        let reply = app
            .send(call("POST", &path, &lead, Some(provider_body(&issuer))))
            .await;
        assert_api_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "sso_provider_invalid",
        );
        assert_eq!(reply.json()["field"], "issuer", "{issuer}");
    }
    // Providers stored before the setting was turned off are not called
    // either: the start is refused before any request.
    for issuer in [
        hostile.issuer("good"),
        format!("https://127.0.0.1:{port}/good"),
        format!("https://localhost:{port}/good"),
    ] {
        let reply = app
            .send(call(
                "POST",
                &path,
                &lead,
                Some(provider_body("https://accounts.google.com")),
            ))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        let id = reply.json()["id"].as_str().unwrap().to_owned();
        sqlx::query("UPDATE sso_providers SET issuer = $1 WHERE id = $2")
            .bind(&issuer)
            .bind(&id)
            .execute(app.kw.db().pool())
            .await
            .unwrap();
        let refused = app.browser().get(&format!("/sso/{id}/start")).await;
        assert_refused(
            &refused,
            StatusCode::SERVICE_UNAVAILABLE,
            "sso_provider_unavailable",
            "does not match its settings",
        );
    }
    assert_eq!(hostile.asked(), Vec::<String>::new());
}

#[tokio::test]
async fn a_discovery_document_cannot_send_keyward_or_the_browser_elsewhere() {
    let app = demo_app().await;
    let hostile = HostileProvider::start(vec![
        (
            "script",
            json!({"authorization_endpoint": "javascript:alert(1)"}),
        ),
        (
            "plain",
            json!({"authorization_endpoint": "http://idp.example.org/auth"}),
        ),
        // 192.0.2.1 answers nothing: a call would wait for the connect timeout.
        ("keys", json!({"jwks_uri": "http://192.0.2.1/jwks"})),
        ("token", json!({"token_endpoint": "http://192.0.2.1/token"})),
        ("good", json!({})),
    ])
    .await;
    for name in ["script", "plain", "keys", "token"] {
        let provider = add_provider(&app, new_provider(hostile.issuer(name))).await;
        let began = Instant::now();
        let refused = start(&app, &provider).await;
        assert!(began.elapsed() < Duration::from_secs(1), "{name}");
        assert_refused(
            &refused,
            StatusCode::SERVICE_UNAVAILABLE,
            "sso_provider_unavailable",
            "does not match its settings",
        );
        assert_eq!(refused.location(), None, "{name}");
    }
    let provider = add_provider(&app, new_provider(hostile.issuer("good"))).await;
    let started = start(&app, &provider).await;
    assert_eq!(started.status, StatusCode::FOUND, "{}", started.text());
    let to = started.location().unwrap();
    assert!(
        to.starts_with(&format!("{}/auth?", hostile.issuer("good"))),
        "{to}"
    );
    assert!(
        !hostile.asked().iter().any(|p| p.contains("192.0.2.1")),
        "{:?}",
        hostile.asked()
    );
}

#[tokio::test]
async fn a_failed_discovery_is_told_again_for_half_a_minute_without_asking() {
    let app = demo_app().await;
    let hostile = HostileProvider::start(vec![]).await;
    let provider = add_provider(&app, new_provider(hostile.issuer("broken"))).await;
    for _ in 0..5 {
        let refused = start(&app, &provider).await;
        assert_refused(
            &refused,
            StatusCode::SERVICE_UNAVAILABLE,
            "sso_provider_unavailable",
            "did not answer",
        );
        assert!(refused.header("retry-after").is_some());
    }
    assert_eq!(
        hostile.asked(),
        ["/broken/.well-known/openid-configuration"]
    );
}

#[tokio::test]
async fn parallel_starts_from_one_address_stop_at_the_limit_and_others_go_on() {
    let app = spawn_app_with(|s| {
        s.server.trusted_proxies = vec![parse_network(&CLIENT_ADDR.ip().to_string()).unwrap()];
        s.sso.starts_per_address_per_minute = 30;
    })
    .await;
    seed_demo_people(&app.kw, &SeededRandom::new(8)).await;
    let op = OidcProvider::start(&app.kw.sso_redirect_uri());
    let s = setup_in(app, op, "kw", |_, _| {}).await;
    let path = format!("/sso/{}/start", s.provider);
    let from = |address: &str| {
        get(&path)
            .header("x-forwarded-for", address)
            .body(Body::empty())
            .unwrap()
    };
    let replies = join_all((0..45).map(|_| s.app.send(from("203.0.113.7")))).await;
    let started = replies
        .iter()
        .filter(|r| r.status == StatusCode::FOUND)
        .count();
    let limited: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(started, 30);
    assert_eq!(limited.len(), 15);
    assert_eq!(count(&s.app, "SELECT COUNT(*) FROM sso_flows").await, 30);
    let page = limited[0].page_text();
    assert!(page.contains("Too many sign-ins"), "{page}");
    assert!(page.contains("too_many_requests"), "{page}");
    assert_eq!(limited[0].header("retry-after"), Some("60"));
    assert!(limited[0].set_cookie("kw_sso").is_none());

    let other = s.app.send(from("203.0.113.8")).await;
    assert_eq!(other.status, StatusCode::FOUND, "{}", other.text());
    assert_eq!(count(&s.app, "SELECT COUNT(*) FROM sso_flows").await, 31);
}

#[tokio::test]
async fn a_key_set_listing_a_kid_twice_is_fetched_again() {
    let app = demo_app().await;
    let op = OidcProvider::start_with(
        &app.kw.sso_redirect_uri(),
        &[("OP_DUPLICATE_KID_ONCE", "1")],
    );
    let s = setup_in(app, op, "kw", |_, _| {}).await;
    let done = s.sign_in(&mut s.app.browser(), "alice", false).await;
    assert_eq!(done.location(), Some("/home"), "{}", done.text());
    let audit = sso_audit(&s.app).await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].0, "success", "{audit:?}");
}

/// eve at the provider calls herself "dеmo.admin" (a Cyrillic е) and
/// asserts the platform admin's address as her verified email.
#[tokio::test]
async fn a_new_account_takes_no_look_alike_name_and_nobody_else_s_email() {
    let app = demo_app().await;
    let op = OidcProvider::start(&app.kw.sso_redirect_uri());
    let s = setup_in(app, op, "kw", |new, _| {
        new.jit_roles = Some(vec![Role::Learner])
    })
    .await;
    sqlx::query(
        "UPDATE users SET email = 'admin@platform.example', email_key = 'admin@platform.example' \
         WHERE username_key = 'demo.admin'",
    )
    .execute(s.app.kw.db().pool())
    .await
    .unwrap();
    let done = s.sign_in(&mut s.app.browser(), "eve", false).await;
    assert_eq!(done.location(), Some("/home"), "{}", done.text());
    let eve = account_named(&s.app.kw, "demo.admin2").await;
    assert_eq!(eve.username.as_str(), "demo.admin2");
    assert_eq!(eve.role, Role::Learner);
    assert_eq!(eve.email, None);
    let admin = account_named(&s.app.kw, "demo.admin").await;
    assert_eq!(
        admin.email.as_ref().map(|e| e.as_str()),
        Some("admin@platform.example")
    );
    assert_eq!(
        count(
            &s.app,
            "SELECT COUNT(*) FROM users WHERE email_key = 'admin@platform.example'"
        )
        .await,
        1
    );
    // An address nobody outside the school uses is kept.
    let done = s.sign_in(&mut s.app.browser(), "zed", false).await;
    assert_eq!(done.location(), Some("/home"), "{}", done.text());
    let zed = account_named(&s.app.kw, "zed").await;
    assert_eq!(
        zed.email.as_ref().map(|e| e.as_str()),
        Some("zed@elsewhere.example")
    );
}
