//! Single sign-on end to end against a real OpenID provider (npm
//! oidc-provider on loopback, `oidc.rs`): the person signs in at the
//! provider's own login page, keyward's callback finishes in process. Every
//! refusal is a page with its code that signs nobody in.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use futures_util::future::join_all;
use zeroize::Zeroizing;

use keyward_core::sso::{NewSsoProvider, SsoProviderId};
use keyward_core::testing::{MONDAY_MORNING, account_named, actor_named, ctx_at};
use keyward_core::types::Role;
use keyward_core::types::random::SeededRandom;

use crate::helpers::{Browser, DEMO_PASSWORD, Reply, TestApp, call, demo_app, enrol_totp};
use crate::oidc::{CLIENT_SECRET, OidcProvider, person, sign_in_at_provider};

/// The demo school with a provider; alice's verified email is demo.teacher's,
/// bob's (unverified at the provider) demo.lead's.
pub(crate) struct Setup {
    pub app: TestApp,
    pub op: OidcProvider,
    pub provider: SsoProviderId,
}

async fn setup(client_id: &str, adjust: impl FnOnce(&mut NewSsoProvider, &OidcProvider)) -> Setup {
    let app = demo_app().await;
    let op = OidcProvider::start(&app.kw.sso_redirect_uri());
    setup_in(app, op, client_id, adjust).await
}

/// [`setup`] in a demo `app` of the test's own, with a provider already
/// running.
pub(crate) async fn setup_in(
    app: TestApp,
    op: OidcProvider,
    client_id: &str,
    adjust: impl FnOnce(&mut NewSsoProvider, &OidcProvider),
) -> Setup {
    let mut new = NewSsoProvider {
        name: "Test provider".into(),
        issuer: op.issuer(),
        client_id: client_id.into(),
        client_secret: Zeroizing::new(CLIENT_SECRET.into()),
        scopes: None,
        claim: None,
        roles: None,
        jit_roles: None,
        trust_mfa: false,
    };
    adjust(&mut new, &op);
    let provider = add_provider(&app, new).await;
    for (username, email) in [
        ("demo.teacher", "alice@school.example"),
        ("demo.lead", "bob@school.example"),
    ] {
        sqlx::query("UPDATE users SET email = $1, email_key = $1 WHERE username_key = $2")
            .bind(email)
            .bind(username)
            .execute(app.kw.db().pool())
            .await
            .unwrap();
    }
    Setup { app, op, provider }
}

pub(crate) async fn add_provider(app: &TestApp, new: NewSsoProvider) -> SsoProviderId {
    static SEED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(31);
    let rng = SeededRandom::new(SEED.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let lead = actor_named(&app.kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    // As the operator: the tests sign in as the lead teacher without a
    // second factor of their own.
    let operator = keyward_core::Keyward::operator_actor();
    app.kw
        .add_sso_provider(&ctx_at(MONDAY_MORNING, &rng), &operator, &school, new)
        .await
        .expect("add the provider")
        .id
}

impl Setup {
    /// Start at keyward, sign in at the provider as `username`, and send the
    /// browser back: the callback's answer.
    pub async fn sign_in(&self, browser: &mut Browser<'_>, username: &str, mfa: bool) -> Reply {
        let back = self.to_callback(browser, username, mfa).await;
        browser.get(&back).await
    }

    /// The API session (cookie and CSRF token) of a browser signed in through
    /// the provider.
    async fn api_session_of(&self, browser: &Browser<'_>) -> (String, String) {
        let cookie = browser.cookie("kw_session").expect("signed in").to_owned();
        let no_csrf = (cookie.clone(), String::new());
        let me = self
            .app
            .send(call("GET", "/api/v1/me", &no_csrf, None))
            .await;
        let csrf = me.json()["csrf_token"].as_str().unwrap().to_owned();
        (cookie, csrf)
    }

    /// As far as the provider's redirect back: the callback's path and query.
    async fn to_callback(&self, browser: &mut Browser<'_>, username: &str, mfa: bool) -> String {
        let start = browser.get(&format!("/sso/{}/start", self.provider)).await;
        assert_eq!(start.status, StatusCode::FOUND, "{}", start.text());
        assert!(browser.cookie("kw_sso").is_some(), "no kw_sso cookie");
        let redirect_uri = self.app.kw.sso_redirect_uri();
        let authorize = start.location().expect("a Location").to_owned();
        assert!(authorize.starts_with(&self.op.issuer()), "{authorize}");
        for part in [
            "state=",
            "nonce=",
            "code_challenge=",
            "code_challenge_method=S256",
        ] {
            assert!(authorize.contains(part), "{part} missing from {authorize}");
        }
        let back = sign_in_at_provider(&person(), &authorize, &redirect_uri, username, mfa).await;
        let origin = redirect_uri.trim_end_matches("/sso/callback");
        back.strip_prefix(origin)
            .expect("back at keyward")
            .to_owned()
    }
}

pub(crate) fn assert_refused(reply: &Reply, status: StatusCode, code: &str, says: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    let text = reply.page_text();
    assert!(text.contains(code), "no code {code} in {text}");
    assert!(text.contains(says), "{says:?} not in {text}");
    assert!(
        reply.set_cookie("kw_session").is_none(),
        "a session was opened"
    );
}

pub(crate) async fn sso_audit(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as::<_, (String, String)>(
        "SELECT outcome, COALESCE(detail, '') FROM audit_log WHERE action = 'sso.sign_in' ORDER BY id",
    )
    .fetch_all(app.kw.db().pool())
    .await
    .unwrap()
}

pub(crate) async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(app.kw.db().pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn alice_signs_in_by_her_verified_email_then_by_her_link() {
    let s = setup("kw", |_, _| {}).await;
    let mut browser = s.app.browser();
    let done = s.sign_in(&mut browser, "alice", false).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    assert_eq!(done.location(), Some("/home"));
    assert!(
        browser.cookie("kw_sso").is_none(),
        "the flow cookie is forgotten"
    );
    let home = browser.get("/home").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.page_text().contains("demo.teacher"),
        "{}",
        home.page_text()
    );
    assert_eq!(count(&s.app, "SELECT COUNT(*) FROM sso_links").await, 1);
    assert_eq!(count(&s.app, "SELECT COUNT(*) FROM sso_flows").await, 0);
    let teacher = account_named(&s.app.kw, "demo.teacher").await;
    assert!(teacher.last_sign_in_at.is_some());

    let mut again = s.app.browser();
    let done = s.sign_in(&mut again, "alice", false).await;
    assert_eq!(done.location(), Some("/home"), "{}", done.text());
    let audit = sso_audit(&s.app).await;
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(audit[0].1.contains("found_by=email"), "{audit:?}");
    assert!(audit[1].1.contains("found_by=link"), "{audit:?}");
    assert_eq!(count(&s.app, "SELECT COUNT(*) FROM sso_links").await, 1);
}

#[tokio::test]
async fn an_unverified_email_an_unknown_person_and_a_wrong_role_are_refused() {
    let s = setup("kw", |new, _| {
        new.roles = Some(vec![Role::Teacher, Role::Learner])
    })
    .await;
    let refused = s.sign_in(&mut s.app.browser(), "bob", false).await;
    assert_refused(
        &refused,
        StatusCode::UNAUTHORIZED,
        "sso_unknown_person",
        "has not confirmed your email",
    );
    let refused = s.sign_in(&mut s.app.browser(), "zed", false).await;
    assert_refused(
        &refused,
        StatusCode::UNAUTHORIZED,
        "sso_unknown_person",
        "no keyward account of your school",
    );
    // demo.lead (lead teacher) may not use a provider for teachers and learners.
    sqlx::query("UPDATE users SET email = 'alice@school.example', email_key = 'alice@school.example' WHERE username_key = 'demo.lead'")
        .execute(s.app.kw.db().pool()).await.unwrap();
    sqlx::query(
        "UPDATE users SET email = NULL, email_key = NULL WHERE username_key = 'demo.teacher'",
    )
    .execute(s.app.kw.db().pool())
    .await
    .unwrap();
    let refused = s.sign_in(&mut s.app.browser(), "alice", false).await;
    assert_refused(
        &refused,
        StatusCode::FORBIDDEN,
        "sso_role_not_allowed",
        "may not sign in",
    );
    assert_eq!(count(&s.app, "SELECT COUNT(*) FROM sso_links").await, 0);
    let audit = sso_audit(&s.app).await;
    assert_eq!(audit.len(), 3, "{audit:?}");
    assert!(
        audit.iter().all(|(outcome, _)| outcome == "failure"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn an_unknown_person_gets_an_account_when_the_school_allows_it() {
    let s = setup("kw", |new, _| new.jit_roles = Some(vec![Role::Learner])).await;
    let done = s.sign_in(&mut s.app.browser(), "zed", false).await;
    assert_eq!(done.location(), Some("/home"), "{}", done.text());
    let zed = account_named(&s.app.kw, "zed").await;
    assert_eq!(zed.role, Role::Learner);
    let lead = account_named(&s.app.kw, "demo.lead").await;
    assert_eq!(zed.school_id, lead.school_id);
    // The second time, the link finds the same account.
    let done = s.sign_in(&mut s.app.browser(), "zed", false).await;
    assert_eq!(done.location(), Some("/home"), "{}", done.text());
    assert_eq!(
        count(
            &s.app,
            "SELECT COUNT(*) FROM users WHERE username_key LIKE 'zed%'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_wrong_state_a_replayed_state_and_another_browser_are_refused() {
    let s = setup("kw", |_, _| {}).await;
    let refused = s
        .app
        .browser()
        .get("/sso/callback?state=made-up&code=abc")
        .await;
    assert_refused(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sso_state_invalid",
        "Start the sign-in again",
    );

    let mut browser = s.app.browser();
    let back = s.to_callback(&mut browser, "alice", false).await;
    let sso_cookie = browser.cookie("kw_sso").unwrap().to_owned();
    let done = browser.get(&back).await;
    assert_eq!(done.location(), Some("/home"), "{}", done.text());
    // The same callback again (its cookie put back): used.
    let mut replay = s.app.browser();
    replay.set_cookie("kw_sso", &sso_cookie);
    let refused = replay.get(&back).await;
    assert_refused(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sso_state_invalid",
        "already used",
    );

    // Started in one browser, finished in another (no cookie, or its own).
    let back = s.to_callback(&mut s.app.browser(), "alice", false).await;
    let refused = s.app.browser().get(&back).await;
    assert_refused(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sso_state_invalid",
        "another browser",
    );
    let mut other = s.app.browser();
    let _ = s.to_callback(&mut other, "alice", false).await;
    let back = s.to_callback(&mut s.app.browser(), "alice", false).await;
    let refused = other.get(&back).await;
    assert_refused(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sso_state_invalid",
        "another browser",
    );
}

#[tokio::test]
async fn tampered_id_tokens_are_refused() {
    for (client, why) in [
        ("kw-bad-sig", "signature"),
        ("kw-expired", "expired"),
        ("kw-wrong-aud", "another audience"),
        ("kw-wrong-iss", "another issuer"),
        ("kw-wrong-azp", "another party (azp)"),
        ("kw-future-iat", "issued in the future (iat)"),
        ("kw-future-nbf", "not valid yet (nbf)"),
        ("kw-long-sub", "sub empty, too long"),
        ("kw-control-sub", "sub empty, too long or not printable"),
    ] {
        let s = setup(client, |_, _| {}).await;
        let refused = s.sign_in(&mut s.app.browser(), "alice", false).await;
        assert_refused(
            &refused,
            StatusCode::UNAUTHORIZED,
            "sso_token_invalid",
            "did not pass keyward's checks",
        );
        let audit = sso_audit(&s.app).await;
        assert!(audit[0].1.contains(why), "{client}: {audit:?}");
        assert_eq!(
            count(&s.app, "SELECT COUNT(*) FROM sessions").await,
            0,
            "{client}"
        );
    }
}

#[tokio::test]
async fn the_provider_s_own_refusal_is_told() {
    let s = setup("kw", |_, _| {}).await;
    // The provider knows no "mallory": it sends back access_denied.
    let refused = s.sign_in(&mut s.app.browser(), "mallory", false).await;
    assert_refused(
        &refused,
        StatusCode::UNAUTHORIZED,
        "sso_provider_error",
        "access_denied",
    );
    let audit = sso_audit(&s.app).await;
    assert!(
        audit[0].1.contains("unknown user at the provider"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn an_issuer_that_differs_from_the_provider_s_own_is_refused() {
    let s = setup("kw", |new, op| {
        new.issuer = format!("http://localhost:{}", op.port)
    })
    .await;
    let refused = s
        .app
        .browser()
        .get(&format!("/sso/{}/start", s.provider))
        .await;
    assert_refused(
        &refused,
        StatusCode::SERVICE_UNAVAILABLE,
        "sso_provider_unavailable",
        "does not match",
    );
}

#[tokio::test]
async fn a_provider_that_is_down_or_slow_gets_a_clear_page_in_time() {
    let s = setup("kw", |_, _| {}).await;
    let blackhole = add_provider(
        &s.app,
        NewSsoProvider {
            name: "Down".into(),
            issuer: format!("http://127.0.0.1:{}", s.op.blackhole_port),
            client_id: "kw".into(),
            client_secret: Zeroizing::new(CLIENT_SECRET.into()),
            scopes: None,
            claim: None,
            roles: None,
            jit_roles: None,
            trust_mfa: false,
        },
    )
    .await;
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = add_provider(
        &s.app,
        NewSsoProvider {
            name: "Closed".into(),
            issuer: format!("http://127.0.0.1:{closed_port}"),
            client_id: "kw".into(),
            client_secret: Zeroizing::new(CLIENT_SECRET.into()),
            scopes: None,
            claim: None,
            roles: None,
            jit_roles: None,
            trust_mfa: false,
        },
    )
    .await;
    for (id, within) in [(&blackhole, 7), (&closed, 3)] {
        let began = Instant::now();
        let refused = s.app.browser().get(&format!("/sso/{id}/start")).await;
        assert!(
            began.elapsed() < Duration::from_secs(within),
            "{:?}",
            began.elapsed()
        );
        assert_refused(
            &refused,
            StatusCode::SERVICE_UNAVAILABLE,
            "sso_provider_unavailable",
            "did not answer in time",
        );
        assert!(refused.header("retry-after").is_some());
    }
    let slow = setup("kw-slow", |_, _| {}).await;
    let mut browser = slow.app.browser();
    let back = slow.to_callback(&mut browser, "alice", false).await;
    let began = Instant::now();
    let refused = browser.get(&back).await;
    assert!(
        began.elapsed() < Duration::from_secs(7),
        "{:?}",
        began.elapsed()
    );
    assert_refused(
        &refused,
        StatusCode::SERVICE_UNAVAILABLE,
        "sso_provider_unavailable",
        "did not answer in time",
    );
}

#[tokio::test]
async fn an_unknown_provider_is_a_404() {
    let s = setup("kw", |_, _| {}).await;
    let reply = s
        .app
        .browser()
        .get("/sso/6f1f1c8e-8d1b-4b7a-9c59-1b1d0f3e2a11/start")
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = s.app.browser().get("/sso/not-an-id/start").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

/// demo.teacher with an authenticator app, linked: keyward asks its own code
/// unless the provider's second factor counts (the school trusts it and
/// `amr` says `mfa`).
#[tokio::test]
async fn a_second_factor_at_a_trusted_provider_replaces_keyward_s_own() {
    for (trust, mfa, asked) in [
        (false, true, true),
        (true, false, true),
        (true, true, false),
    ] {
        let s = setup("kw", |new, _| new.trust_mfa = trust).await;
        // Linked first (the first link asks for keyward's own step anyway).
        let first = s.sign_in(&mut s.app.browser(), "alice", false).await;
        assert_eq!(first.location(), Some("/home"), "{}", first.text());
        let session = s.app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
        enrol_totp(&s.app, &session, DEMO_PASSWORD).await;
        let mut browser = s.app.browser();
        let done = s.sign_in(&mut browser, "alice", mfa).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
        let to = if asked { "/signin/verify" } else { "/home" };
        assert_eq!(done.location(), Some(to), "trust {trust}, mfa {mfa}");
        assert_eq!(browser.cookie("kw_session").is_some(), !asked);
    }
}

/// The administrators' "MFA on yourself": a lead teacher with no second
/// factor in keyward may reset others after signing in with one at a
/// trusted provider, and not after signing in without one.
#[tokio::test]
async fn the_admin_mfa_rule_accepts_a_second_factor_at_the_provider() {
    let s = setup("kw", |new, _| new.trust_mfa = true).await;
    sqlx::query("UPDATE users SET email = 'alice@school.example', email_key = 'alice@school.example' WHERE username_key = 'demo.lead'")
        .execute(s.app.kw.db().pool()).await.unwrap();
    sqlx::query(
        "UPDATE users SET email = NULL, email_key = NULL WHERE username_key = 'demo.teacher'",
    )
    .execute(s.app.kw.db().pool())
    .await
    .unwrap();
    let amy = account_named(&s.app.kw, "demo.amy").await.id;
    for (mfa, status) in [(false, StatusCode::FORBIDDEN), (true, StatusCode::OK)] {
        let mut browser = s.app.browser();
        let done = s.sign_in(&mut browser, "alice", mfa).await;
        assert_eq!(done.location(), Some("/home"), "{}", done.text());
        let (cookie, csrf) = s.api_session_of(&browser).await;
        let reset = s
            .app
            .send(call(
                "POST",
                &format!("/api/v1/users/{amy}/temporary-password"),
                &(cookie, csrf),
                None,
            ))
            .await;
        assert_eq!(reset.status, status, "mfa {mfa}: {}", reset.text());
    }
}

/// Half of them through a second instance on the same database, as behind a
/// load balancer: the flow's row is claimed once, whoever asks.
#[tokio::test]
async fn twenty_parallel_callbacks_with_one_state_open_one_session() {
    let s = setup("kw", |_, _| {}).await;
    let other = s.app.second_instance().await;
    let mut browser = s.app.browser();
    let back = s.to_callback(&mut browser, "alice", false).await;
    let cookies = browser.cookie_header();
    let replies = join_all((0..20).map(|i| {
        let request = axum::http::Request::builder()
            .uri(&back)
            .header("cookie", &cookies)
            .body(axum::body::Body::empty())
            .unwrap();
        let (app, other) = (&s.app, &other);
        async move {
            if i % 2 == 0 {
                app.send(request).await
            } else {
                crate::helpers::send_to(other, request).await
            }
        }
    }))
    .await;
    let signed_in = replies
        .iter()
        .filter(|r| r.location() == Some("/home"))
        .count();
    assert_eq!(signed_in, 1);
    assert!(
        replies
            .iter()
            .filter(|r| r.location() != Some("/home"))
            .all(|r| r.status == StatusCode::UNPROCESSABLE_ENTITY)
    );
    assert_eq!(count(&s.app, "SELECT COUNT(*) FROM sessions").await, 1);
}

#[tokio::test]
async fn the_audit_trail_keeps_no_code_state_or_token() {
    let s = setup("kw", |_, _| {}).await;
    let mut browser = s.app.browser();
    let back = s.to_callback(&mut browser, "alice", false).await;
    let binding = browser.cookie("kw_sso").unwrap().to_owned();
    let _ = browser.get(&back).await;
    let _ = s.app.browser().get(&back).await; // a refused replay is audited too
    let query = back.split_once('?').unwrap().1;
    let secrets: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "code" || k == "state")
        .map(|(_, v)| v.into_owned())
        .chain([binding, CLIENT_SECRET.to_owned()])
        .collect();
    let rows: Vec<String> = sqlx::query_scalar("SELECT COALESCE(detail, '') FROM audit_log")
        .fetch_all(s.app.kw.db().pool())
        .await
        .unwrap();
    assert!(rows.len() >= 2);
    for row in &rows {
        for secret in &secrets {
            assert!(!row.contains(secret.as_str()), "{row}");
        }
        assert!(!row.contains("eyJ"), "a JWT in {row}");
    }
    let flows: Vec<String> = sqlx::query_scalar("SELECT state_hash || binding_hash FROM sso_flows")
        .fetch_all(s.app.kw.db().pool())
        .await
        .unwrap();
    assert!(
        flows
            .iter()
            .all(|f| secrets.iter().all(|s| !f.contains(s.as_str())))
    );
}

/// An account with an authenticator app, found by the provider's claim, is
/// asked for keyward's own code even when the provider's second factor would
/// count, and is not linked by such a sign-in: a step abandoned halfway
/// leaves no link behind, so the next sign-in asks again.
#[tokio::test]
async fn the_first_link_of_an_account_with_a_second_factor_asks_keyward_s_own() {
    let s = setup("kw", |new, _| new.trust_mfa = true).await;
    let session = s.app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let secret = enrol_totp(&s.app, &session, DEMO_PASSWORD).await;
    let mut browser = s.app.browser();
    let done = s.sign_in(&mut browser, "alice", true).await;
    assert_eq!(done.location(), Some("/signin/verify"), "{}", done.text());
    assert!(browser.cookie("kw_session").is_none());
    let page = browser.get("/signin/verify").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let csrf = page.field("csrf_token").expect("csrf_token");
    // A later time step than the one enrolment used.
    let at = keyward_core::types::UnixTime(keyward_core::types::UnixTime::now().secs() + 30);
    let code = keyward_core::mfa::code_for(&secret, at).unwrap();
    let verified = browser
        .post_form("/signin/verify", &[("csrf_token", &csrf), ("code", &code)])
        .await;
    assert_eq!(verified.location(), Some("/home"), "{}", verified.text());
    assert_eq!(count(&s.app, "SELECT COUNT(*) FROM sso_links").await, 0);
    let mut again = s.app.browser();
    let done = s.sign_in(&mut again, "alice", true).await;
    assert_eq!(done.location(), Some("/signin/verify"), "{}", done.text());
    assert!(again.cookie("kw_session").is_none());
}

/// A lead teacher who signed in with a second factor at a trusted provider
/// still may not connect or remove providers: that needs one on their own
/// keyward account (a provider they connected could say one was used).
#[tokio::test]
async fn a_second_factor_at_the_provider_does_not_let_one_connect_providers() {
    let s = setup("kw", |new, _| new.trust_mfa = true).await;
    sqlx::query("UPDATE users SET email = 'alice@school.example', email_key = 'alice@school.example' WHERE username_key = 'demo.lead'")
        .execute(s.app.kw.db().pool()).await.unwrap();
    sqlx::query(
        "UPDATE users SET email = NULL, email_key = NULL WHERE username_key = 'demo.teacher'",
    )
    .execute(s.app.kw.db().pool())
    .await
    .unwrap();
    let mut browser = s.app.browser();
    let done = s.sign_in(&mut browser, "alice", true).await;
    assert_eq!(done.location(), Some("/home"), "{}", done.text());
    let (cookie, csrf) = s.api_session_of(&browser).await;
    let school = actor_named(&s.app.kw, "demo.lead").await.school_id.unwrap();
    let body = serde_json::json!({
        "name": "Mine",
        "issuer": s.op.issuer(),
        "client_id": "kw",
        "client_secret": CLIENT_SECRET,
        "trust_mfa": true,
    });
    let path = format!("/api/v1/schools/{school}/sso-providers");
    let session = (cookie, csrf);
    let added = s.app.send(call("POST", &path, &session, Some(body))).await;
    crate::helpers::assert_api_error(&added, StatusCode::FORBIDDEN, "mfa_required");
    let removed = s
        .app
        .send(call(
            "DELETE",
            &format!("{path}/{}", s.provider),
            &session,
            None,
        ))
        .await;
    crate::helpers::assert_api_error(&removed, StatusCode::FORBIDDEN, "mfa_required");
    assert_eq!(count(&s.app, "SELECT COUNT(*) FROM sso_providers").await, 1);
}

/// A teacher of a school that requires two-step verification of teachers,
/// who signs in only with the provider, has no password to turn keyward's
/// on with: without a second factor that counts at the provider they are
/// refused with what to do, instead of being held at enrolment for ever.
/// With one, straight in. With a keyward password, today's hold.
#[tokio::test]
async fn an_sso_only_person_who_must_use_two_step_verification_uses_the_provider_s() {
    for trust in [false, true] {
        let s = setup("kw", |new, _| new.trust_mfa = trust).await;
        let pool = s.app.kw.db().pool();
        sqlx::query("UPDATE schools SET mfa_required_roles = 'teacher'")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("UPDATE users SET password_hash = NULL WHERE username_key = 'demo.teacher'")
            .execute(pool)
            .await
            .unwrap();
        let mut browser = s.app.browser();
        let refused = s.sign_in(&mut browser, "alice", false).await;
        assert_refused(
            &refused,
            StatusCode::FORBIDDEN,
            "sso_mfa_required",
            "use two-step verification when you sign in at Test provider",
        );
        let mut browser = s.app.browser();
        let done = s.sign_in(&mut browser, "alice", true).await;
        if trust {
            assert_eq!(done.location(), Some("/home"), "{}", done.text());
            let home = browser.get("/home").await;
            assert_eq!(home.status, StatusCode::OK, "held: {}", home.text());
        } else {
            assert_refused(
                &done,
                StatusCode::FORBIDDEN,
                "sso_mfa_required",
                "your school must first tell keyward to trust",
            );
        }
        let audit = sso_audit(&s.app).await;
        assert!(
            audit.iter().any(|(outcome, detail)| outcome == "failure"
                && detail.contains("reason=sso_mfa_required")),
            "{audit:?}"
        );
    }
    // With a keyward password: signed in, held at enrolment as before.
    let s = setup("kw", |new, _| new.trust_mfa = true).await;
    sqlx::query("UPDATE schools SET mfa_required_roles = 'teacher'")
        .execute(s.app.kw.db().pool())
        .await
        .unwrap();
    let mut browser = s.app.browser();
    let done = s.sign_in(&mut browser, "alice", false).await;
    assert_eq!(done.location(), Some("/home"), "{}", done.text());
    let home = browser.get("/home").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER, "{}", home.text());
}
