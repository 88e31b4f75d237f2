//! Class codes (R-CODE-2) through the JSON API and the pages: a new learner
//! joins Class 4B of the demo school with its code, an existing learner joins
//! another class, and the class's teachers show, regenerate and switch the
//! code; everyone else is refused (403 in the school, 404 outside it).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const PASSWORD: &str = DEMO_PASSWORD;
const STAFF_PASSWORD: &str = "a fine passphrase";

/// The demo class's id and code, as its teacher sees them.
async fn demo_class(app: &TestApp) -> (String, String) {
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let id = demo_class_id(app, &teacher).await;
    let code = app.kw.demo_class_code().await.unwrap().unwrap();
    (id, code)
}

/// The code as a child copies it from the board: small letters, spaced.
fn as_typed(code: &str) -> String {
    let lower = code.to_ascii_lowercase();
    format!("{} {}", &lower[..3], &lower[3..])
}

fn joining(code: &str, username: &str) -> Value {
    json!({
        "class_code": code,
        "first_name": "Zoe",
        "last_name": "Zhang",
        "username": username,
        "password": "TigerApple42",
        "confirm_password": "TigerApple42",
    })
}

/// Makes a staff member of a school through the API (created by `by`, then
/// activated with the access code) and signs them in.
async fn staff(
    app: &TestApp,
    by: &Session,
    school: &str,
    role: &str,
    classes: &[&str],
    username: &str,
) -> Session {
    create_active_user(
        app,
        by,
        json!({ "first_name": "Sam", "last_name": "Staff", "role": role, "school_id": school, "class_ids": classes }),
        (username, STAFF_PASSWORD),
        Some(&format!("{username}@school.example")),
    )
    .await
}

#[tokio::test]
async fn a_new_learner_joins_with_the_class_code_through_the_api_and_signs_in() {
    let app = demo_app().await;
    let (_, code) = demo_class(&app).await;
    let joined = app
        .send(json_post(
            "/api/v1/join",
            &joining(&as_typed(&code), "zoe.z"),
        ))
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.text());
    let body = joined.json();
    assert_eq!(body["username"], "zoe.z");
    assert_eq!(body["role"], "learner");
    assert_eq!(body["status"], "active");
    assert_eq!(body["first_name"], "Zoe");
    assert!(body["access_code"].is_null() && body["parent_access_code"].is_null());
    assert_eq!(
        app.api_sign_in("zoe.z", "TigerApple42").await.status,
        StatusCode::OK
    );
    // The class's teacher sees the new learner, with a parent access code to hand out.
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let shown = app
        .send(call(
            "GET",
            &format!("/api/v1/users/{}", body["id"].as_str().unwrap()),
            &teacher,
            None,
        ))
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
    assert!(shown.json()["parent_access_code"].is_string());
    // confirm_password may be left out.
    let mut without = joining(&code, "yan.y");
    without.as_object_mut().unwrap().remove("confirm_password");
    let joined = app.send(json_post("/api/v1/join", &without)).await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.text());
}

#[tokio::test]
async fn joining_with_bad_input_gets_clear_errors_and_makes_nothing() {
    let app = demo_app().await;
    let (_, code) = demo_class(&app).await;
    let reply = app
        .send(json_post("/api/v1/join", &joining("ZZZZZZ", "zoe.z")))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "code_unknown");
    let mut weak = joining(&code, "zoe.z");
    weak["password"] = json!("password");
    weak["confirm_password"] = json!("password");
    let reply = app.send(json_post("/api/v1/join", &weak)).await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "password_policy");
    assert!(
        reply.json()["violations"]
            .as_array()
            .is_some_and(|v| !v.is_empty()),
        "{}",
        reply.text()
    );
    let mut mismatch = joining(&code, "zoe.z");
    mismatch["confirm_password"] = json!("TigerApple43");
    let reply = app.send(json_post("/api/v1/join", &mismatch)).await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "password_policy");
    assert!(reply.text().contains("mismatch"), "{}", reply.text());
    let mut nameless = joining(&code, "zoe.z");
    nameless["first_name"] = json!(" ");
    let reply = app.send(json_post("/api/v1/join", &nameless)).await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_name");
    let reply = app
        .send(json_post("/api/v1/join", &joining(&code, "demo.amy")))
        .await;
    assert_api_error(&reply, StatusCode::CONFLICT, "username_taken");
    let reply = app
        .send(json_post("/api/v1/join", &json!({ "class_code": code })))
        .await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    // Nothing was made, and no submitted value came back.
    assert_eq!(
        app.api_sign_in("zoe.z", "TigerApple42").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn two_people_racing_for_one_username_one_wins_the_other_is_told() {
    let app = demo_app().await;
    let (_, code) = demo_class(&app).await;
    let (first, second) = tokio::join!(
        app.send(json_post("/api/v1/join", &joining(&code, "same.name"))),
        app.send(json_post(
            "/api/v1/join",
            &joining(&as_typed(&code), "SAME.name")
        )),
    );
    let statuses = [first.status, second.status];
    assert!(
        statuses.contains(&StatusCode::CREATED) && statuses.contains(&StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let loser = if first.status == StatusCode::CONFLICT {
        &first
    } else {
        &second
    };
    assert_api_error(loser, StatusCode::CONFLICT, "username_taken");
}

#[tokio::test]
async fn the_teacher_shows_regenerates_and_switches_the_code_and_old_codes_stop_working() {
    let app = demo_app().await;
    let (class, code) = demo_class(&app).await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let path = format!("/api/v1/classes/{class}/class-code");
    let shown = app.send(call("GET", &path, &teacher, None)).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
    assert_eq!(
        shown.json(),
        json!({ "class_id": class, "class_name": "Class 4B", "class_code": code, "enabled": true })
    );

    let off = app
        .send(call(
            "POST",
            &path,
            &teacher,
            Some(json!({ "action": "disable" })),
        ))
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text());
    assert_eq!(off.json()["enabled"], false);
    assert_eq!(off.json()["class_code"], code.as_str());
    let reply = app
        .send(json_post("/api/v1/join", &joining(&code, "zoe.z")))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "code_unknown");

    let on = app
        .send(call(
            "POST",
            &path,
            &teacher,
            Some(json!({ "action": "enable" })),
        ))
        .await;
    assert_eq!(on.json()["enabled"], true);
    let fresh = app
        .send(call(
            "POST",
            &path,
            &teacher,
            Some(json!({ "action": "regenerate" })),
        ))
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text());
    let new_code = fresh.json()["class_code"].as_str().unwrap().to_owned();
    assert_ne!(new_code, code);
    let reply = app
        .send(json_post("/api/v1/join", &joining(&code, "zoe.z")))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "code_unknown");
    let joined = app
        .send(json_post("/api/v1/join", &joining(&new_code, "zoe.z")))
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.text());

    // The lead teacher may too; a wrong action or a missing CSRF token is refused.
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    assert_eq!(
        app.send(call("GET", &path, &lead, None)).await.status,
        StatusCode::OK
    );
    let reply = app
        .send(call(
            "POST",
            &path,
            &lead,
            Some(json!({ "action": "delete" })),
        ))
        .await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    let no_csrf = (lead.0.clone(), String::new());
    let reply = app
        .send(call(
            "POST",
            &path,
            &no_csrf,
            Some(json!({ "action": "regenerate" })),
        ))
        .await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "csrf_failed");
    let actions = app.audit_actions().await;
    for action in [
        "class.code_disable",
        "class.code_enable",
        "class.code_regenerate",
        "class.join",
    ] {
        assert!(actions.iter().any(|(a, _)| a == action), "{action} audited");
    }
}

#[tokio::test]
async fn nobody_else_sees_or_changes_a_class_code() {
    let app = demo_app().await;
    let (class, code) = demo_class(&app).await;
    let admin = app.api_session_as("demo.admin", PASSWORD).await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let other_school = create_school(&app, &admin, "Hill Top").await;
    let outsider = staff(
        &app,
        &admin,
        &other_school,
        "lead_teacher",
        &[],
        "l.outsider",
    )
    .await;
    let colleague_session = staff(&app, &lead, &school, "teacher", &[], "t.colleague").await;
    let colleague_id = user_id(&app, "t.colleague", STAFF_PASSWORD).await;
    create_class(&app, &lead, &school, "Class 5A", &[&colleague_id]).await;
    let learner = app.api_session_as("demo.amy", PASSWORD).await;
    let parent = app.api_session_as("demo.parent", PASSWORD).await;

    let path = format!("/api/v1/classes/{class}/class-code");
    for (who, status, error) in [
        (&colleague_session, StatusCode::FORBIDDEN, "forbidden"),
        (&learner, StatusCode::FORBIDDEN, "forbidden"),
        (&parent, StatusCode::FORBIDDEN, "forbidden"),
        (&outsider, StatusCode::NOT_FOUND, "not_found"),
    ] {
        let reply = app.send(call("GET", &path, who, None)).await;
        assert_api_error(&reply, status, error);
        for action in ["regenerate", "disable", "enable"] {
            let reply = app
                .send(call("POST", &path, who, Some(json!({ "action": action }))))
                .await;
            assert_api_error(&reply, status, error);
        }
    }
    let reply = app
        .send(Request::get(&path).body(Body::empty()).unwrap())
        .await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
    for bad in ["not-a-class", "00000000-0000-4000-8000-000000000000"] {
        let reply = app
            .send(call(
                "GET",
                &format!("/api/v1/classes/{bad}/class-code"),
                &admin,
                None,
            ))
            .await;
        assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
    }
    // The code is as it was and still works.
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let shown = app.send(call("GET", &path, &teacher, None)).await.json();
    assert_eq!(
        (shown["class_code"].as_str(), shown["enabled"].as_bool()),
        (Some(code.as_str()), Some(true))
    );
}

#[tokio::test]
async fn an_existing_learner_joins_another_class_and_its_teacher_then_sees_them() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let colleague = staff(&app, &lead, &school, "teacher", &[], "t.colleague").await;
    let colleague_id = user_id(&app, "t.colleague", STAFF_PASSWORD).await;
    let (class_5a, code_5a) =
        create_class(&app, &lead, &school, "Class 5A", &[&colleague_id]).await;
    let colleague = {
        // Sign in again so the session's actor teaches the new class.
        let _ = colleague;
        app.api_session_as("t.colleague", STAFF_PASSWORD).await
    };
    let amy_id = user_id(&app, "demo.amy", PASSWORD).await;
    let amy_path = format!("/api/v1/users/{amy_id}");
    let reply = app.send(call("GET", &amy_path, &colleague, None)).await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");

    let amy = app.api_session_as("demo.amy", PASSWORD).await;
    let joined = app
        .send(call(
            "POST",
            "/api/v1/me/classes",
            &amy,
            Some(json!({ "class_code": as_typed(&code_5a) })),
        ))
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.text());
    assert_eq!(
        joined.json(),
        json!({ "class_id": class_5a, "class_name": "Class 5A", "newly_enrolled": true })
    );
    let shown = app.send(call("GET", &amy_path, &colleague, None)).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
    let again = app
        .send(call(
            "POST",
            "/api/v1/me/classes",
            &amy,
            Some(json!({ "class_code": code_5a })),
        ))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["newly_enrolled"], false);

    // Only learners join; only with a CSRF token; only their own school's classes.
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let reply = app
        .send(call(
            "POST",
            "/api/v1/me/classes",
            &teacher,
            Some(json!({ "class_code": code_5a })),
        ))
        .await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    let reply = app
        .send(call(
            "POST",
            "/api/v1/me/classes",
            &(amy.0.clone(), String::new()),
            Some(json!({ "class_code": code_5a })),
        ))
        .await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "csrf_failed");
    let admin = app.api_session_as("demo.admin", PASSWORD).await;
    let other_school = create_school(&app, &admin, "Hill Top").await;
    let (_, foreign_code) = create_class(&app, &admin, &other_school, "Elsewhere", &[]).await;
    let reply = app
        .send(call(
            "POST",
            "/api/v1/me/classes",
            &amy,
            Some(json!({ "class_code": foreign_code })),
        ))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "code_unknown");
    let reply = app
        .send(json_post(
            "/api/v1/me/classes",
            &json!({ "class_code": code_5a }),
        ))
        .await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn wrong_class_codes_are_throttled() {
    let app = demo_app().await;
    let (_, code) = demo_class(&app).await;
    let mut throttled = None;
    for i in 0..40 {
        let reply = app
            .send(json_post(
                "/api/v1/join",
                &joining(&format!("ZZZZ{:02}", i % 7 + 2), "guess.er"),
            ))
            .await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some(reply);
            break;
        }
        assert_api_error(&reply, StatusCode::NOT_FOUND, "code_unknown");
    }
    let reply = throttled.expect("guessing class codes is slowed down");
    assert_api_error(&reply, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    assert!(reply.header("retry-after").is_some());
    // While throttled, the right code waits too: the counter is checked first.
    let reply = app
        .send(json_post("/api/v1/join", &joining(&code, "zoe.z")))
        .await;
    if reply.status != StatusCode::CREATED {
        assert_api_error(&reply, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    }
}

#[tokio::test]
async fn a_new_learner_joins_through_the_pages_without_javascript() {
    let app = demo_app().await;
    let (_, code) = demo_class(&app).await;
    let mut browser = app.browser();
    let activate = browser.get("/activate").await;
    assert!(activate.text().contains("href=\"/join\""));
    assert!(
        activate
            .page_text()
            .contains("Have a class code? Join a class")
    );
    let form = browser.get("/join").await;
    assert_eq!(form.status, StatusCode::OK);
    let text = form.text();
    for field in [
        "class_code",
        "first_name",
        "last_name",
        "username",
        "password",
        "confirm_password",
    ] {
        assert!(
            text.contains(&format!("<label for=\"{field}\"")),
            "label for {field}"
        );
    }
    assert!(text.contains("autocomplete=\"new-password\""));
    assert!(text.contains("data-password-hints=\"password\""));
    assert!(form.page_text().contains("Join class"));
    let csrf = form.field("csrf_token").unwrap();

    let wrong = browser
        .post_form(
            "/join",
            &[
                ("csrf_token", &csrf),
                ("class_code", "ZZZZZZ"),
                ("first_name", "Zoe"),
                ("last_name", "Zhang"),
                ("username", "zoe.z"),
                ("password", "TigerApple42"),
                ("confirm_password", "TigerApple42"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert!(wrong.page_text().contains("That class code doesn't work"));
    assert!(wrong.text().contains("role=\"alert\""));
    assert_eq!(wrong.field("first_name").as_deref(), Some("Zoe"));
    assert!(!wrong.text().contains("TigerApple42"), "no password echoed");

    let weak = browser
        .post_form(
            "/join",
            &[
                ("csrf_token", &csrf),
                ("class_code", &code),
                ("first_name", "Zoe"),
                ("last_name", "Zhang"),
                ("username", "zoe.z"),
                ("password", "abc"),
                ("confirm_password", "abc"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.text().contains("aria-invalid=\"true\""));

    let done = browser
        .post_form(
            "/join",
            &[
                ("csrf_token", &csrf),
                ("class_code", &as_typed(&code)),
                ("first_name", "Zoe"),
                ("last_name", "Zhang"),
                ("username", "zoe.z"),
                ("password", "TigerApple42"),
                ("confirm_password", "TigerApple42"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    assert_eq!(done.location(), Some("/signin?notice=joined"));
    assert!(
        browser
            .get("/signin?notice=joined")
            .await
            .page_text()
            .contains("You are in the class")
    );
    let reply = browser.sign_in("zoe.z", "TigerApple42").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());

    // A form without its CSRF token is refused.
    let forged = app
        .browser()
        .post_form("/join", &[("class_code", &code), ("username", "x.y.z")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_teacher_regenerates_and_switches_the_code_on_the_class_page() {
    let app = demo_app().await;
    let (class, code) = demo_class(&app).await;
    let mut teacher = app.signed_in_browser("demo.teacher", PASSWORD).await;
    let home = teacher.get("/home").await;
    assert!(home.page_text().contains("Your classes"));
    assert!(home.text().contains(&format!("href=\"/classes/{class}\"")));
    assert!(!home.page_text().contains("Join another class"));

    let page = teacher.get(&format!("/classes/{class}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains(&format!(">{code}<")));
    assert!(page.page_text().contains("Regenerate code"));
    assert!(page.page_text().contains("Switch off"));
    assert!(page.page_text().contains("http://127.0.0.1:8080/join"));
    let csrf = page.field("csrf_token").unwrap();
    let path = format!("/classes/{class}/class-code");

    let done = teacher
        .post_form(&path, &[("csrf_token", &csrf), ("action", "regenerate")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    let page = teacher.get(done.location().unwrap()).await;
    assert!(page.page_text().contains("The old code no longer works"));
    assert!(!page.text().contains(&format!(">{code}<")));
    let new_code = app.kw.demo_class_code().await.unwrap().unwrap();
    assert!(page.text().contains(&format!(">{new_code}<")));

    let done = teacher
        .post_form(&path, &[("csrf_token", &csrf), ("action", "disable")])
        .await;
    let page = teacher.get(done.location().unwrap()).await;
    assert!(page.page_text().contains("Switch on"));
    assert!(page.page_text().contains("Nobody can join"));
    assert_eq!(app.kw.demo_class_code().await.unwrap(), None);
    let done = teacher
        .post_form(&path, &[("csrf_token", &csrf), ("action", "enable")])
        .await;
    let page = teacher.get(done.location().unwrap()).await;
    assert!(page.page_text().contains("Switch off"));
    assert_eq!(app.kw.demo_class_code().await.unwrap(), Some(new_code));

    let forged = teacher
        .post_form(&path, &[("csrf_token", "nope"), ("action", "regenerate")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let odd = teacher
        .post_form(&path, &[("csrf_token", &csrf), ("action", "delete")])
        .await;
    assert_error_page(&odd, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_class_page_is_only_for_the_class_teachers() {
    let app = demo_app().await;
    let (class, _) = demo_class(&app).await;
    let admin = app.api_session_as("demo.admin", PASSWORD).await;
    let other_school = create_school(&app, &admin, "Hill Top").await;
    staff(
        &app,
        &admin,
        &other_school,
        "lead_teacher",
        &[],
        "l.outsider",
    )
    .await;
    let path = format!("/classes/{class}");

    let mut learner = app.signed_in_browser("demo.amy", PASSWORD).await;
    assert_error_page(&learner.get(&path).await, StatusCode::FORBIDDEN);
    let csrf = learner.get("/home").await.field("csrf_token").unwrap();
    let reply = learner
        .post_form(
            &format!("{path}/class-code"),
            &[("csrf_token", &csrf), ("action", "regenerate")],
        )
        .await;
    assert_error_page(&reply, StatusCode::FORBIDDEN);
    let mut outsider = app.signed_in_browser("l.outsider", STAFF_PASSWORD).await;
    assert_error_page(&outsider.get(&path).await, StatusCode::NOT_FOUND);
    assert_error_page(
        &outsider.get("/classes/not-a-class").await,
        StatusCode::NOT_FOUND,
    );
    let signed_out = app.get(&path).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_out.location(), Some("/signin"));
    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    assert_eq!(lead.get(&path).await.status, StatusCode::OK);
    assert!(lead.get("/home").await.page_text().contains("Class 4B"));
}

#[tokio::test]
async fn a_learner_joins_another_class_from_home() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let (_, code_5a) = create_class(&app, &lead, &school, "Class 5A", &[]).await;
    let mut amy = app.signed_in_browser("demo.amy", PASSWORD).await;
    let home = amy.get("/home").await;
    assert!(home.page_text().contains("Join another class"));
    assert!(home.text().contains("action=\"/classes/join\""));
    // Her own classes, not a teacher's tools (issue 15: the learner's home names them).
    assert!(home.page_text().contains("Class 4B"));
    assert!(!home.page_text().contains("Show access codes"));
    let csrf = home.field("csrf_token").unwrap();

    let wrong = amy
        .post_form(
            "/classes/join",
            &[("csrf_token", &csrf), ("class_code", "ZZZZZZ")],
        )
        .await;
    assert_error_page(&wrong, StatusCode::NOT_FOUND);
    assert!(wrong.page_text().contains("That class code doesn't work"));
    assert_eq!(wrong.field("class_code").as_deref(), Some("ZZZZZZ"));
    let joined = amy
        .post_form(
            "/classes/join",
            &[("csrf_token", &csrf), ("class_code", &as_typed(&code_5a))],
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.text());
    assert!(joined.page_text().contains("You have joined Class 5A."));
    let again = amy
        .post_form(
            "/classes/join",
            &[("csrf_token", &csrf), ("class_code", &code_5a)],
        )
        .await;
    assert!(again.page_text().contains("You are already in Class 5A."));
    assert_eq!(amy.get("/classes/join").await.status, StatusCode::OK);

    // Staff have nothing to join; signed-out visitors sign in first.
    let mut teacher = app.signed_in_browser("demo.teacher", PASSWORD).await;
    let csrf = teacher.get("/home").await.field("csrf_token").unwrap();
    let reply = teacher
        .post_form(
            "/classes/join",
            &[("csrf_token", &csrf), ("class_code", &code_5a)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), Some("/home"));
    let reply = app.get("/classes/join").await;
    assert_eq!(reply.location(), Some("/signin"));
}
