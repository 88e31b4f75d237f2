//! Sessions opened through a school's provider (an outside review of issue
//! 14): the provider's removal ends them, and signs nobody in whose
//! callback was under way; an expired temporary keyward password refuses
//! the password, not a sign-in through the provider.

use std::sync::Arc;

use axum::http::StatusCode;

use keyward_core::Keyward;
use keyward_core::sso::{HttpRequest, SsoHttp, SsoHttpFuture};
use keyward_core::testing::{
    MONDAY_MORNING, account_named, actor_named, ctx_at, expire_temporary_password,
};
use keyward_core::types::random::SeededRandom;
use keyward_web::ReqwestSsoHttp;

use crate::helpers::*;
use crate::oidc::OidcProvider;
use crate::sso::{assert_refused, count, setup_in};

/// Removes every provider of the demo school, as its lead teacher would.
async fn remove_providers(kw: &Keyward) {
    let rng = SeededRandom::new(71);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    // The lead teacher's own second factor is what connecting and removing
    // need; the operator stands in for it here.
    let operator = Keyward::operator_actor();
    for provider in kw.school_sso_providers(&ctx, &lead, &school).await.unwrap() {
        kw.remove_sso_provider(&ctx, &operator, &school, &provider.id)
            .await
            .expect("remove the provider");
    }
}

/// What `/api/v1/me` answers to the browser's session.
async fn me(browser: &mut Browser<'_>) -> StatusCode {
    browser.get("/api/v1/me").await.status
}

#[tokio::test]
async fn removing_a_provider_ends_the_sessions_it_opened() {
    let app = demo_app().await;
    let op = OidcProvider::start(&app.kw.sso_redirect_uri());
    let s = setup_in(app, op, "kw", |_, _| {}).await;
    let mut through_provider = s.app.browser();
    let done = s.sign_in(&mut through_provider, "alice", false).await;
    assert_eq!(done.location(), Some("/home"), "{}", done.text());
    let mut with_password = s.app.browser();
    with_password.sign_in("demo.teacher", DEMO_PASSWORD).await;
    assert_eq!(me(&mut through_provider).await, StatusCode::OK);
    assert_eq!(me(&mut with_password).await, StatusCode::OK);

    remove_providers(&s.app.kw).await;
    assert_eq!(me(&mut through_provider).await, StatusCode::UNAUTHORIZED);
    // The same person's password session was not the provider's.
    assert_eq!(me(&mut with_password).await, StatusCode::OK);
    assert_eq!(
        count(
            &s.app,
            "SELECT COUNT(*) FROM sessions WHERE sso_provider_id IS NOT NULL"
        )
        .await,
        0
    );
}

/// A transport that removes the school's providers just before the token
/// request goes out: the provider goes while its callback is under way.
struct RemovedMidway {
    kw: Arc<Keyward>,
    inner: ReqwestSsoHttp,
}

impl SsoHttp for RemovedMidway {
    fn send(&self, request: HttpRequest) -> SsoHttpFuture<'_> {
        Box::pin(async move {
            if request.uri().path().ends_with("/token") {
                remove_providers(&self.kw).await;
            }
            self.inner.send(request).await
        })
    }
}

#[tokio::test]
async fn a_provider_removed_during_its_callback_signs_nobody_in() {
    let app = demo_app().await;
    let sso = &app.kw.settings().sso;
    let inner = ReqwestSsoHttp::new(sso.http_timeout, sso.allow_private_addresses);
    let kw = app.kw.clone();
    let app = app.with_sso_http(Arc::new(RemovedMidway { kw, inner }));
    let op = OidcProvider::start(&app.kw.sso_redirect_uri());
    let s = setup_in(app, op, "kw", |_, _| {}).await;
    let refused = s.sign_in(&mut s.app.browser(), "alice", false).await;
    assert_refused(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sso_state_invalid",
        "Start the sign-in again",
    );
    assert_eq!(count(&s.app, "SELECT COUNT(*) FROM sso_providers").await, 0);
    assert_eq!(count(&s.app, "SELECT COUNT(*) FROM sso_links").await, 0);
    assert_eq!(count(&s.app, "SELECT COUNT(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn an_expired_temporary_password_does_not_stop_a_sign_in_through_the_provider() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    enrol_totp(&app, &lead, DEMO_PASSWORD).await;
    let teacher = account_named(&app.kw, "demo.teacher").await.id;
    let reset = format!("/api/v1/users/{teacher}/temporary-password");
    let reply = app.send(call("POST", &reset, &lead, None)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let temporary = reply.json()["password"].as_str().unwrap().to_owned();
    let op = OidcProvider::start(&app.kw.sso_redirect_uri());
    let s = setup_in(app, op, "kw", |_, _| {}).await;

    let mut browser = s.app.browser();
    let done = s.sign_in(&mut browser, "alice", false).await;
    assert_eq!(done.location(), Some("/home"), "{}", done.text());
    // Not held at the change of a password it did not use.
    let home = browser.get("/home").await;
    assert_eq!(home.status, StatusCode::OK, "{:?}", home.location());
    expire_temporary_password(&s.app.kw, "demo.teacher").await;
    let home = browser.get("/home").await;
    assert_eq!(home.status, StatusCode::OK, "{:?}", home.location());
    assert_eq!(me(&mut browser).await, StatusCode::OK);
    // A new sign-in through the provider works too; the password does not.
    let mut again = s.app.browser();
    let done = s.sign_in(&mut again, "alice", false).await;
    assert_eq!(done.location(), Some("/home"), "{}", done.text());
    assert_eq!(me(&mut again).await, StatusCode::OK);
    let late = s.app.api_sign_in("demo.teacher", &temporary).await;
    assert_api_error(
        &late,
        StatusCode::UNAUTHORIZED,
        "temporary_password_expired",
    );
}
