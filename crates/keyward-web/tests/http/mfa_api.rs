//! Two-step verification through the JSON API (R-MFA-1): enrol with the
//! password again and a first code, sign in with `mfa_required` and finish
//! with `POST /api/v1/session/mfa` (a code or a recovery code, each once),
//! turn it off with the password and a code; bad input gets stable codes
//! and changes nothing.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use keyward_core::mfa::code_for;
use keyward_core::types::UnixTime;

use crate::helpers::{DEMO_PASSWORD, Reply, Session, TestApp, assert_api_error, call, demo_app};

const LEAD: &str = "demo.lead";

/// The code of `secret` `offset` seconds from now.
fn code(secret: &str, offset: i64) -> String {
    code_for(secret, UnixTime(UnixTime::now().secs() + offset)).unwrap()
}

/// Enrols `LEAD` through the API; returns the session, the secret and the
/// recovery codes.
async fn enrolled(app: &TestApp) -> (Session, String, Vec<String>) {
    let session = app.api_session_as(LEAD, DEMO_PASSWORD).await;
    let start = app
        .send(call(
            "POST",
            "/api/v1/me/mfa/totp",
            &session,
            Some(json!({ "password": DEMO_PASSWORD })),
        ))
        .await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.text());
    let body = start.json();
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(
        body["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    assert!(body["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let confirm = app
        .send(call(
            "POST",
            "/api/v1/me/mfa/totp/confirm",
            &session,
            Some(json!({ "code": code(&secret, 0) })),
        ))
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.text());
    let codes: Vec<String> = confirm.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (session, secret, codes)
}

/// The second step's cookie from a sign-in that answered `mfa_required`.
async fn pending_step(app: &TestApp) -> String {
    let reply = app.api_sign_in(LEAD, DEMO_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["mfa_required"], true, "{body}");
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    assert!(body.get("csrf_token").is_none() && body.get("user").is_none());
    assert!(reply.cookie_value("kw_session").is_none(), "no session yet");
    let step = reply
        .cookie_value("kw_step")
        .expect("the second step's cookie");
    assert!(reply.set_cookie("kw_step").unwrap().contains("HttpOnly"));
    step
}

async fn finish(app: &TestApp, step: Option<&str>, body: Value) -> Reply {
    let mut request =
        Request::post("/api/v1/session/mfa").header(header::CONTENT_TYPE, "application/json");
    if let Some(step) = step {
        request = request.header(header::COOKIE, format!("kw_step={step}"));
    }
    app.send(request.body(Body::from(body.to_string())).unwrap())
        .await
}

#[tokio::test]
async fn mfa_required_then_a_code_or_a_recovery_code_each_once_then_off() {
    let app = demo_app().await;
    let (session, secret, codes) = enrolled(&app).await;
    let me = app.send(call("GET", "/api/v1/me", &session, None)).await;
    assert_eq!(me.json()["mfa_enabled"], true);

    let step = pending_step(&app).await;
    // The first code was used by the enrolment: a replay is refused.
    let replay = finish(&app, Some(&step), json!({ "code": code(&secret, 0) })).await;
    assert_api_error(&replay, StatusCode::UNPROCESSABLE_ENTITY, "mfa_code_used");
    // The next step's code (one step of drift) signs in.
    let ok = finish(&app, Some(&step), json!({ "code": code(&secret, 30) })).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["mfa_required"], false);
    assert_eq!(ok.json()["user"]["username"], LEAD);
    let cookie = ok.cookie_value("kw_session").expect("session cookie");
    assert!(ok.set_cookie("kw_step").unwrap().contains("Max-Age=0"));
    let csrf = ok.json()["csrf_token"].as_str().unwrap().to_owned();
    let me = app
        .send(call("GET", "/api/v1/me", &(cookie, csrf), None))
        .await;
    assert_eq!(me.status, StatusCode::OK);
    // The step is used up.
    let again = finish(&app, Some(&step), json!({ "code": code(&secret, 30) })).await;
    assert_api_error(&again, StatusCode::UNAUTHORIZED, "sign_in_step_expired");

    // A recovery code works once.
    let step = pending_step(&app).await;
    let ok = finish(&app, Some(&step), json!({ "recovery_code": codes[0] })).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let step = pending_step(&app).await;
    let used = finish(&app, Some(&step), json!({ "recovery_code": codes[0] })).await;
    assert_api_error(&used, StatusCode::UNPROCESSABLE_ENTITY, "mfa_code_used");
    let status = app
        .send(call("GET", "/api/v1/me/mfa", &session, None))
        .await;
    assert_eq!(status.json()["recovery_codes_left"], 9);

    // New recovery codes replace the old.
    let fresh = app
        .send(call(
            "POST",
            "/api/v1/me/mfa/recovery-codes",
            &session,
            Some(json!({ "password": DEMO_PASSWORD, "code": codes[2] })),
        ))
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text());
    let old = finish(&app, Some(&step), json!({ "recovery_code": codes[1] })).await;
    assert_api_error(&old, StatusCode::UNPROCESSABLE_ENTITY, "mfa_code_wrong");

    // Off: the password and a code; then sign-in needs no second step.
    let wrong = app
        .send(call(
            "DELETE",
            "/api/v1/me/mfa",
            &session,
            Some(json!({ "password": "nope", "code": code(&secret, 60) })),
        ))
        .await;
    assert_api_error(
        &wrong,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_current_password",
    );
    let recovery = fresh.json()["recovery_codes"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let off = app
        .send(call(
            "DELETE",
            "/api/v1/me/mfa",
            &session,
            Some(json!({ "password": DEMO_PASSWORD, "code": recovery })),
        ))
        .await;
    assert_eq!(off.status, StatusCode::NO_CONTENT, "{}", off.text());
    let plain = app.api_sign_in(LEAD, DEMO_PASSWORD).await;
    assert_eq!(plain.json()["mfa_required"], false);
    assert!(plain.cookie_value("kw_session").is_some());

    let actions = app.audit_actions().await;
    for expected in [
        "mfa.enrol",
        "mfa.code",
        "mfa.recovery_code_use",
        "mfa.recovery_codes",
        "mfa.remove",
    ] {
        assert!(
            actions.iter().any(|(a, _)| a == expected),
            "{expected} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn bad_codes_and_missing_steps_get_stable_codes_and_change_nothing() {
    let app = demo_app().await;
    let session = app.api_session_as(LEAD, DEMO_PASSWORD).await;
    let post = |path: &'static str, body: Value| call("POST", path, &session, Some(body));

    let none = app
        .send(post(
            "/api/v1/me/mfa/totp/confirm",
            json!({ "code": "123456" }),
        ))
        .await;
    assert_api_error(&none, StatusCode::CONFLICT, "mfa_not_pending");
    let wrong = app
        .send(post("/api/v1/me/mfa/totp", json!({ "password": "nope" })))
        .await;
    assert_api_error(
        &wrong,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_current_password",
    );
    let off = app
        .send(post(
            "/api/v1/me/mfa/recovery-codes",
            json!({ "password": DEMO_PASSWORD, "code": "123456" }),
        ))
        .await;
    assert_api_error(&off, StatusCode::CONFLICT, "mfa_not_enabled");
    for bad in ["12345", "1234567", "12a456", "", "１２３４５６"] {
        let reply = app
            .send(post("/api/v1/me/mfa/totp/confirm", json!({ "code": bad })))
            .await;
        assert_api_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "mfa_code_malformed",
        );
    }
    let missing = app.send(post("/api/v1/me/mfa/totp", json!({}))).await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        missing.text()
    );

    // Changes need the CSRF token.
    let no_csrf = app
        .send(
            Request::post("/api/v1/me/mfa/totp")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::COOKIE, format!("kw_session={}", session.0))
                .body(Body::from(json!({ "password": DEMO_PASSWORD }).to_string()))
                .unwrap(),
        )
        .await;
    assert_api_error(&no_csrf, StatusCode::FORBIDDEN, "csrf_failed");
    let status = app
        .send(call("GET", "/api/v1/me/mfa", &session, None))
        .await
        .json();
    assert_eq!(
        status,
        json!({ "totp": false, "enrolment_pending": false, "recovery_codes_left": 0 })
    );

    // A second enrolment over a live one.
    let (session, secret, _) = enrolled(&app).await;
    let again = app
        .send(call(
            "POST",
            "/api/v1/me/mfa/totp",
            &session,
            Some(json!({ "password": DEMO_PASSWORD })),
        ))
        .await;
    assert_api_error(&again, StatusCode::CONFLICT, "mfa_already_enabled");

    // The second step: no cookie, a forged one, malformed codes, both kinds.
    let no_step = finish(&app, None, json!({ "code": code(&secret, 0) })).await;
    assert_api_error(&no_step, StatusCode::UNAUTHORIZED, "sign_in_step_expired");
    let forged = finish(
        &app,
        Some("forged-step-token"),
        json!({ "code": code(&secret, 0) }),
    )
    .await;
    assert_api_error(&forged, StatusCode::UNAUTHORIZED, "sign_in_step_expired");
    let step = pending_step(&app).await;
    let letters = finish(&app, Some(&step), json!({ "code": "abcdef" })).await;
    assert_api_error(
        &letters,
        StatusCode::UNPROCESSABLE_ENTITY,
        "mfa_code_malformed",
    );
    let short = finish(&app, Some(&step), json!({ "recovery_code": "abc" })).await;
    assert_api_error(
        &short,
        StatusCode::UNPROCESSABLE_ENTITY,
        "mfa_code_malformed",
    );
    let both = finish(
        &app,
        Some(&step),
        json!({ "code": "123456", "recovery_code": "abcde-fghjk" }),
    )
    .await;
    assert_api_error(&both, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    let neither = finish(&app, Some(&step), json!({})).await;
    assert_api_error(
        &neither,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    // None of that used the step: the right code still finishes it.
    let ok = finish(&app, Some(&step), json!({ "code": code(&secret, 30) })).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
}

#[tokio::test]
async fn a_school_that_requires_it_holds_its_teachers_at_enrolment_until_it_is_on() {
    let app = demo_app().await;
    let lead = app.api_session_as(LEAD, DEMO_PASSWORD).await;
    let school = crate::helpers::school_of(&app, &lead).await;
    let rule = format!("/api/v1/schools/{school}/mfa");

    // Only the school's own roles, by name.
    for bad in [json!(["platform_admin"]), json!(["wizard"])] {
        let reply = app
            .send(call(
                "PUT",
                &rule,
                &lead,
                Some(json!({ "required_roles": bad })),
            ))
            .await;
        assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    }
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let denied = app
        .send(call(
            "PUT",
            &rule,
            &teacher,
            Some(json!({ "required_roles": [] })),
        ))
        .await;
    assert_api_error(&denied, StatusCode::FORBIDDEN, "forbidden");
    let set = app
        .send(call(
            "PUT",
            &rule,
            &lead,
            Some(json!({ "required_roles": ["teacher", "teacher"] })),
        ))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    assert_eq!(set.json(), json!({ "required_roles": ["teacher"] }));
    let shown = app.send(call("GET", &rule, &lead, None)).await;
    assert_eq!(shown.json(), json!({ "required_roles": ["teacher"] }));

    // The teacher's session can now only enrol.
    let held = app
        .send(call("GET", "/api/v1/classes", &teacher, None))
        .await;
    assert_api_error(&held, StatusCode::FORBIDDEN, "mfa_enrolment_required");
    let me = app.send(call("GET", "/api/v1/me", &teacher, None)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["mfa_enabled"], false);
    let mut browser = app.browser();
    let signed_in = browser.sign_in("demo.teacher", DEMO_PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let home = browser.get("/home").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location(), Some("/account/mfa"));
    let held = browser.get("/account/mfa").await;
    assert_eq!(held.status, StatusCode::OK);
    assert!(
        held.page_text()
            .contains("Your account must use two-step verification")
    );
    let css = browser.get("/static/app.css").await;
    assert_eq!(css.status, StatusCode::OK, "static files stay open");
    let lead_home = app.send(call("GET", "/api/v1/classes", &lead, None)).await;
    assert_eq!(lead_home.status, StatusCode::OK, "the lead is not held");

    // Enrolled: free again, and the next sign-in asks for a code.
    let start = app
        .send(call(
            "POST",
            "/api/v1/me/mfa/totp",
            &teacher,
            Some(json!({ "password": DEMO_PASSWORD })),
        ))
        .await;
    let secret = start.json()["secret"].as_str().unwrap().to_owned();
    let confirm = app
        .send(call(
            "POST",
            "/api/v1/me/mfa/totp/confirm",
            &teacher,
            Some(json!({ "code": code(&secret, 0) })),
        ))
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.text());
    let free = app
        .send(call("GET", "/api/v1/classes", &teacher, None))
        .await;
    assert_eq!(free.status, StatusCode::OK, "{}", free.text());
    assert_eq!(
        app.api_sign_in("demo.teacher", DEMO_PASSWORD).await.json()["mfa_required"],
        true
    );
}

#[tokio::test]
async fn the_deployment_setting_requires_it_of_a_role_in_every_school() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.mfa.required_roles = vec![keyward_core::types::Role::LeadTeacher];
    })
    .await;
    keyward_core::testing::seed_demo_people(
        &app.kw,
        &keyward_core::types::random::SeededRandom::new(3),
    )
    .await;
    let lead = app.api_session_as(LEAD, DEMO_PASSWORD).await;
    let held = app.send(call("GET", "/api/v1/classes", &lead, None)).await;
    assert_api_error(&held, StatusCode::FORBIDDEN, "mfa_enrolment_required");
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let free = app
        .send(call("GET", "/api/v1/classes", &teacher, None))
        .await;
    assert_eq!(free.status, StatusCode::OK);
}

#[tokio::test]
async fn the_school_settings_page_sets_the_rule_and_refuses_unknown_roles() {
    let app = demo_app().await;
    let mut browser = app.signed_in_browser(LEAD, DEMO_PASSWORD).await;
    let page = browser.get("/school/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.page_text()
            .contains("Require two-step verification for")
    );
    let csrf = page.field("csrf_token").unwrap();
    let saved = browser
        .post_form(
            "/school/settings/mfa",
            &[
                ("csrf_token", &csrf),
                ("roles", "teacher"),
                ("roles", "parent"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    assert!(
        saved
            .text()
            .contains(r#"id="mfa-teacher" name="roles" value="teacher" checked"#)
    );
    assert!(
        saved
            .text()
            .contains(r#"id="mfa-parent" name="roles" value="parent" checked"#)
    );
    let bad = browser
        .post_form(
            "/school/settings/mfa",
            &[("csrf_token", &csrf), ("roles", "wizard")],
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    let no_csrf = browser
        .post_form("/school/settings/mfa", &[("roles", "learner")])
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let lead = app.api_session_as(LEAD, DEMO_PASSWORD).await;
    let school = crate::helpers::school_of(&app, &lead).await;
    let rule = app
        .send(call(
            "GET",
            &format!("/api/v1/schools/{school}/mfa"),
            &lead,
            None,
        ))
        .await;
    assert_eq!(
        rule.json(),
        json!({ "required_roles": ["teacher", "parent"] })
    );
}
