//! `/api/v1/schools/{id}/password-policy`: who may read and set a school's
//! password rules, and that the rules set are the rules applied.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::*;

const PASSWORD: &str = DEMO_PASSWORD;

/// The demo app and the demo school's id.
async fn demo_app() -> (TestApp, String) {
    let app = crate::helpers::demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    (app, school)
}

#[tokio::test]
async fn members_read_the_rules_in_force() {
    let (app, school) = demo_app().await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let reply = app
        .send(call(
            "GET",
            &format!("/api/v1/schools/{school}/password-policy"),
            &teacher,
            None,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let rules = reply.json();
    assert_eq!(rules["learner"]["min_length"], 6);
    assert_eq!(rules["learner"]["allow_special"], false);
    assert_eq!(rules["staff"]["min_length"], 8);
    assert_eq!(rules["staff"]["block_common"], true);
}

#[tokio::test]
async fn the_lead_teacher_sets_rules_that_apply_at_once() {
    let (app, school) = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let path = format!("/api/v1/schools/{school}/password-policy/learner");
    let rules = json!({
        "min_length": 12, "max_length": 64, "require_lowercase": true, "require_uppercase": false,
        "require_digit": false, "allow_special": true, "block_common": true, "block_username": true
    });
    let reply = app.send(call("PUT", &path, &lead, Some(rules))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    let amy = app.api_session_as("demo.amy", PASSWORD).await;
    let body = json!({ "current_password": PASSWORD, "new_password": "Short12", "confirm_password": "Short12" });
    let reply = app
        .send(call("POST", "/api/v1/me/password", &amy, Some(body)))
        .await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "password_policy");
    assert_eq!(reply.json()["violations"], json!(["too_short"]));

    let reply = app
        .send(call(
            "PUT",
            &path,
            &lead,
            Some(json!({ "preset": "classic" })),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = json!({ "current_password": PASSWORD, "new_password": "Short12", "confirm_password": "Short12" });
    let reply = app
        .send(call("POST", "/api/v1/me/password", &amy, Some(body)))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

#[tokio::test]
async fn only_the_lead_teacher_or_a_platform_admin_may_set_them() {
    let (app, school) = demo_app().await;
    let path = format!("/api/v1/schools/{school}/password-policy/staff");
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let reply = app
        .send(call(
            "PUT",
            &path,
            &teacher,
            Some(json!({ "preset": "classic" })),
        ))
        .await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    let admin = app.api_session_as("demo.admin", PASSWORD).await;
    let reply = app
        .send(call(
            "PUT",
            &path,
            &admin,
            Some(json!({ "preset": "nist" })),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let anonymous = app
        .send(json_post(&path, &json!({ "preset": "nist" })))
        .await;
    assert!(anonymous.status.is_client_error());
}

#[tokio::test]
async fn bad_paths_and_bodies_get_clear_errors_and_change_nothing() {
    let (app, school) = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let other = "0b7f3c1e-8a3b-4c55-9d2e-7f1a2b3c4d5e";
    for (path, status, code) in [
        (
            format!("/api/v1/schools/{other}/password-policy/staff"),
            StatusCode::NOT_FOUND,
            "school_not_found",
        ),
        (
            "/api/v1/schools/not-a-uuid/password-policy/staff".to_owned(),
            StatusCode::NOT_FOUND,
            "school_not_found",
        ),
        (
            format!("/api/v1/schools/{school}/password-policy/robots"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ] {
        let reply = app
            .send(call("PUT", &path, &lead, Some(json!({ "preset": "nist" }))))
            .await;
        assert_api_error(&reply, status, code);
    }
    let path = format!("/api/v1/schools/{school}/password-policy/learner");
    for body in [
        json!({ "preset": "easy" }),
        json!({ "min_length": 3 }),
        json!([1, 2]),
    ] {
        let reply = app.send(call("PUT", &path, &lead, Some(body))).await;
        assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    }
    let too_loose = json!({
        "min_length": 2, "max_length": 64, "require_lowercase": false, "require_uppercase": false,
        "require_digit": false, "allow_special": true, "block_common": false, "block_username": false
    });
    let reply = app.send(call("PUT", &path, &lead, Some(too_loose))).await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_policy");
    let rules = app
        .send(call(
            "GET",
            &format!("/api/v1/schools/{school}/password-policy"),
            &lead,
            None,
        ))
        .await
        .json();
    assert_eq!(rules["learner"]["min_length"], 6, "nothing changed");
}
