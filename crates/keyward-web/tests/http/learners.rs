//! A learner's password in staff hands (R-TCH-1, R-TCH-2, R-TCH-4) through
//! the JSON API and the **Reset password** page: generate, set, show again,
//! the school switch, and everyone out of scope.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const PASSWORD: &str = DEMO_PASSWORD;

#[tokio::test]
async fn a_teacher_generates_a_password_the_learner_signs_in_with_and_shows_it_again() {
    let app = demo_app().await;
    let amy = user_id(&app, "demo.amy", PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;

    let reply = app
        .send(call(
            "POST",
            &format!("/api/v1/learners/{amy}/password"),
            &teacher,
            Some(json!({ "mode": "generate" })),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    let password = body["password"].as_str().unwrap().to_owned();
    assert_eq!(body["username"], "demo.amy");
    assert_eq!(body["kept"], true);
    assert!(password.len() >= 12, "{password}");

    assert_eq!(
        app.api_sign_in("demo.amy", &password).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.api_sign_in("demo.amy", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );

    let shown = app
        .send(call(
            "GET",
            &format!("/api/v1/learners/{amy}/password"),
            &teacher,
            None,
        ))
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
    assert_eq!(shown.json()["password"], password.as_str());
    let actions = app.audit_actions().await;
    assert!(
        actions.iter().any(|(a, _)| a == "learner.password_reset"),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|(a, _)| a == "learner.password_reveal"),
        "{actions:?}"
    );

    assert!(
        !contains_bytes(&sqlite_bytes(&app), &password),
        "the password is in the database file"
    );
}

#[tokio::test]
async fn the_lead_teacher_sets_a_chosen_password_checked_against_the_learner_policy() {
    let app = demo_app().await;
    let ben = user_id(&app, "demo.ben", PASSWORD).await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let path = format!("/api/v1/learners/{ben}/password");

    let bad = app
        .send(call(
            "POST",
            &path,
            &lead,
            Some(json!({ "mode": "set", "password": "abc" })),
        ))
        .await;
    assert_api_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "password_policy");
    let violations = bad.json()["violations"].clone();
    assert!(
        violations.as_array().unwrap().contains(&json!("too_short")),
        "{violations}"
    );
    assert_eq!(
        app.api_sign_in("demo.ben", PASSWORD).await.status,
        StatusCode::OK
    );

    for (body, code) in [
        (json!({ "mode": "shuffle" }), "invalid_mode"),
        (json!({ "mode": "set" }), "password_missing"),
    ] {
        let reply = app.send(call("POST", &path, &lead, Some(body))).await;
        assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, code);
    }
    let reply = app.send(call("POST", &path, &lead, Some(json!({})))).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text()
    );

    let good = app
        .send(call(
            "POST",
            &path,
            &lead,
            Some(json!({ "mode": "set", "password": "Rocket77" })),
        ))
        .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.text());
    assert_eq!(good.json()["password"], "Rocket77");
    assert_eq!(
        app.api_sign_in("demo.ben", "Rocket77").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn after_the_learner_chooses_a_password_it_is_private() {
    let app = demo_app().await;
    let amy = user_id(&app, "demo.amy", PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let reveal = format!("/api/v1/learners/{amy}/password");
    assert_eq!(
        app.send(call("GET", &reveal, &teacher, None)).await.status,
        StatusCode::OK
    );

    let learner = app.api_session_as("demo.amy", PASSWORD).await;
    let changed = app
        .send(call(
            "POST",
            "/api/v1/me/password",
            &learner,
            Some(json!({
                "current_password": PASSWORD,
                "new_password": "MySecret88",
                "confirm_password": "MySecret88",
            })),
        ))
        .await;
    assert!(changed.status.is_success(), "{}", changed.text());

    let reply = app.send(call("GET", &reveal, &teacher, None)).await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_retrievable");
    assert_eq!(reply.json()["password_status"], "private");
    // The demo learner who chose her own password from the start.
    let cara = user_id(&app, "demo.cara", PASSWORD).await;
    let reply = app
        .send(call(
            "GET",
            &format!("/api/v1/learners/{cara}/password"),
            &teacher,
            None,
        ))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_retrievable");
}

#[tokio::test]
async fn a_school_that_switches_copies_off_has_nothing_to_show() {
    let app = demo_app().await;
    let ben = user_id(&app, "demo.ben", PASSWORD).await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let settings = format!("/api/v1/schools/{school}/settings");

    let reply = app.send(call("GET", &settings, &teacher, None)).await;
    assert_eq!(
        reply.json(),
        json!({ "learner_passwords_retrievable": true, "learner_passkeys": false })
    );
    let reply = app
        .send(call(
            "PUT",
            &settings,
            &teacher,
            Some(json!({ "learner_passwords_retrievable": false })),
        ))
        .await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    let reply = app
        .send(call(
            "PUT",
            &settings,
            &lead,
            Some(json!({ "learner_passwords_retrievable": "no" })),
        ))
        .await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    let reply = app
        .send(call(
            "PUT",
            &settings,
            &lead,
            Some(json!({ "learner_passwords_retrievable": false })),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    let reveal = format!("/api/v1/learners/{ben}/password");
    let reply = app.send(call("GET", &reveal, &teacher, None)).await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_retrievable");
    assert_eq!(reply.json()["password_status"], "not_kept");
    let reply = app
        .send(call(
            "POST",
            &reveal,
            &teacher,
            Some(json!({ "mode": "generate" })),
        ))
        .await;
    assert_eq!(reply.json()["kept"], false);
    let reply = app.send(call("GET", &reveal, &teacher, None)).await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_retrievable");
}

#[tokio::test]
async fn nobody_out_of_scope_reaches_a_learner_password() {
    let app = demo_app().await;
    let amy = user_id(&app, "demo.amy", PASSWORD).await;
    let lead_id = user_id(&app, "demo.lead", PASSWORD).await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;

    // A second teacher of the school, without Class 4B.
    let other_teacher = create_active_user(
        &app,
        &lead,
        json!({ "first_name": "Ola", "last_name": "Nowak", "role": "teacher", "school_id": school }),
        ("ola.nowak", "Nowak-Teacher-9"),
        Some("ola.nowak@riverside.example"),
    )
    .await;

    let path = format!("/api/v1/learners/{amy}/password");
    let generate = json!({ "mode": "generate" });
    let reply = app
        .send(call("POST", &path, &other_teacher, Some(generate.clone())))
        .await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    let reply = app.send(call("GET", &path, &other_teacher, None)).await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");

    for who in ["demo.ben", "demo.parent"] {
        let session = app.api_session_as(who, PASSWORD).await;
        let reply = app
            .send(call("POST", &path, &session, Some(generate.clone())))
            .await;
        assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    }
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    for id in [
        lead_id.as_str(),
        "7c1e0b56-2d7e-4a43-9d5f-3f1f5b0c9a11",
        "not-a-uuid",
    ] {
        let reply = app
            .send(call(
                "POST",
                &format!("/api/v1/learners/{id}/password"),
                &teacher,
                Some(generate.clone()),
            ))
            .await;
        assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
    }
    let anonymous = app
        .send(json_post(&path, &json!({ "mode": "generate" })))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.api_sign_in("demo.amy", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_lead_teacher_of_another_school_finds_neither_the_learner_nor_the_class() {
    let app = demo_app().await;
    let amy = user_id(&app, "demo.amy", PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let class_4b = demo_class_id(&app, &teacher).await;
    let admin = app.api_session_as("demo.admin", PASSWORD).await;
    let hill_top = create_school(&app, &admin, "Hill Top Academy").await;
    let foreign_lead = create_active_user(
        &app,
        &admin,
        json!({ "first_name": "Hana", "last_name": "Hill", "role": "lead_teacher", "school_id": hill_top }),
        ("hana.hill", "Hill-Top-Lead-7"),
        Some("hana.hill@hilltop.example"),
    )
    .await;
    assert_eq!(school_of(&app, &foreign_lead).await, hill_top);

    let password = format!("/api/v1/learners/{amy}/password");
    for (method, path, body) in [
        (
            "POST",
            password.clone(),
            Some(json!({ "mode": "generate" })),
        ),
        ("GET", password, None),
        (
            "GET",
            format!("/api/v1/classes/{class_4b}/credentials.csv"),
            None,
        ),
        (
            "POST",
            format!("/api/v1/classes/{class_4b}/password-reset"),
            Some(json!({ "mode": "individual" })),
        ),
    ] {
        let reply = app.send(call(method, &path, &foreign_lead, body)).await;
        assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
        assert!(!reply.text().contains(PASSWORD), "{method} {path}");
    }
    assert!(signs_in(&app, "demo.amy", PASSWORD).await);
}

#[tokio::test]
async fn the_reset_password_page_generates_then_resets() {
    let app = demo_app().await;
    let amy = user_id(&app, "demo.amy", PASSWORD).await;
    let mut browser = app.signed_in_browser("demo.teacher", PASSWORD).await;

    let database = browser.get("/classes").await;
    assert!(
        database
            .text()
            .contains(&format!("/learners/{amy}/password")),
        "no Reset password link"
    );
    let page = browser.get(&format!("/learners/{amy}/password")).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.page_text();
    assert!(
        text.contains("Reset password") && text.contains("Generate new password"),
        "{text}"
    );
    let csrf = page.field("csrf_token").unwrap();

    let shown = browser
        .post_form(
            &format!("/learners/{amy}/password/show"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert!(
        shown.page_text().contains(PASSWORD),
        "{}",
        shown.page_text()
    );

    let proposed = browser
        .post_form(
            &format!("/learners/{amy}/password/generate"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(proposed.status, StatusCode::OK);
    let proposal = proposed.field("password").expect("the proposal");
    let proof = proposed.field("proof").expect("the proposal's proof");
    // Nothing changes before Reset.
    assert_eq!(
        app.api_sign_in("demo.amy", PASSWORD).await.status,
        StatusCode::OK
    );

    let done = browser
        .post_form(
            &format!("/learners/{amy}/password"),
            &[
                ("csrf_token", &csrf),
                ("origin", "generated"),
                ("proof", &proof),
                ("password", &proposal),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.page_text().contains(&proposal));
    // The proof shows keyward made the password: audited as generated.
    let details = reset_details(&app).await;
    assert_eq!(
        details.first().map(String::as_str),
        Some("generate"),
        "{details:?}"
    );

    // A proposal changed by hand is a chosen password.
    let edited = format!("{proposal}7");
    let done = browser
        .post_form(
            &format!("/learners/{amy}/password"),
            &[
                ("csrf_token", &csrf),
                ("origin", "generated"),
                ("proof", &proof),
                ("password", &edited),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    let details = reset_details(&app).await;
    assert_eq!(
        details.first().map(String::as_str),
        Some("set"),
        "{details:?}"
    );
    let proposal = edited;
    assert_eq!(
        app.api_sign_in("demo.amy", &proposal).await.status,
        StatusCode::OK
    );

    let refused = browser
        .post_form(
            &format!("/learners/{amy}/password"),
            &[
                ("csrf_token", &csrf),
                ("origin", "chosen"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.page_text().contains("Use at least"),
        "{}",
        refused.page_text()
    );
    assert_eq!(
        app.api_sign_in("demo.amy", &proposal).await.status,
        StatusCode::OK
    );
}

/// The school's `learner_passwords_retrievable`, as the API says it.
async fn kept_copies(app: &TestApp, lead: &Session, school: &str) -> bool {
    let now: Value = app
        .send(call(
            "GET",
            &format!("/api/v1/schools/{school}/settings"),
            lead,
            None,
        ))
        .await
        .json();
    now["learner_passwords_retrievable"] == true
}

#[tokio::test]
async fn the_learner_passwords_setting_page_is_the_lead_teachers() {
    let app = demo_app().await;
    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    let page = lead.get("/school/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.field("csrf_token").unwrap();
    let lead_api = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead_api).await;

    // Switching off destroys the copies: the form asks first, and asking
    // changes nothing.
    let asked = lead
        .post_form("/school/settings", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        asked
            .page_text()
            .contains("Every copy kept so far is destroyed now"),
        "{}",
        asked.page_text()
    );
    assert_eq!(asked.field("confirm").as_deref(), Some("yes"));
    assert!(kept_copies(&app, &lead_api, &school).await);

    let saved = lead
        .post_form(
            "/school/settings",
            &[("csrf_token", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK);
    assert!(
        saved.page_text().contains("keeps no copies"),
        "{}",
        saved.page_text()
    );
    assert!(!kept_copies(&app, &lead_api, &school).await);
    // Off already: nothing left to destroy, so nothing to ask.
    let again = lead
        .post_form("/school/settings", &[("csrf_token", &csrf)])
        .await;
    assert!(again.page_text().contains("keeps no copies"));

    let mut teacher = app.signed_in_browser("demo.teacher", PASSWORD).await;
    let page = teacher.get("/school/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.field("csrf_token").unwrap_or_default();
    let refused = teacher
        .post_form(
            "/school/settings",
            &[
                ("csrf_token", &csrf),
                ("learner_passwords_retrievable", "on"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

/// The details of the learner-password resets in the audit trail, newest first.
async fn reset_details(app: &TestApp) -> Vec<String> {
    keyward_core::audit::recent(app.kw.db(), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.action == "learner.password_reset")
        .filter_map(|row| row.detail)
        .collect()
}
