//! The whole-class reset (R-TCH-3) through the JSON API and the pages: a
//! class of 30 gets a new password each and every learner signs in with the
//! one listed; one shared password; every refusal changes nothing; and no
//! password handed out is ever written to the SQLite file.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use keyward_core::testing::seed_demo_people;
use keyward_core::types::random::SeededRandom;

const RESET_PATH: &str = "/api/v1/classes/{id}/password-reset";

fn reset_path(class: &str) -> String {
    RESET_PATH.replace("{id}", class)
}

/// `POST /api/v1/classes/{class}/password-reset` as `session` with `body`.
async fn post_reset(app: &TestApp, class: &str, session: &Session, body: Value) -> Reply {
    app.send(call("POST", &reset_path(class), session, Some(body)))
        .await
}

/// A learner joins with the class code (the quickest way to an active learner).
async fn join(app: &TestApp, code: &str, username: &str, last_name: &str) {
    let reply = app
        .send(json_post(
            "/api/v1/join",
            &json!({
                "class_code": code,
                "first_name": "Pupil",
                "last_name": last_name,
                "username": username,
                "password": DEMO_PASSWORD,
                "confirm_password": DEMO_PASSWORD,
            }),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
}

/// The new passwords of an answer, as (username, password).
fn handed_out(answer: &Value) -> Vec<(String, String)> {
    answer["learners"]
        .as_array()
        .expect("learners")
        .iter()
        .map(|l| {
            (
                l["username"].as_str().unwrap().to_owned(),
                l["password"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_class_of_30_gets_a_password_each_and_every_learner_signs_in_with_the_listed_one() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let teacher_id = user_id(&app, "demo.teacher", DEMO_PASSWORD).await;
    let (class, code) = create_class(&app, &lead, &school, "Class 7R", &[&teacher_id]).await;
    for i in 0..30 {
        join(
            &app,
            &code,
            &format!("pupil.{i:02}"),
            &format!("Number{i:02}"),
        )
        .await;
    }

    let reply = post_reset(&app, &class, &teacher, json!({ "mode": "individual" })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let answer = reply.json();
    assert_eq!(answer["class_id"], class.as_str());
    assert_eq!(answer["class_name"], "Class 7R");
    assert_eq!(answer["mode"], "individual");
    assert_eq!(answer["passwords_kept"], true);
    assert_eq!(answer["skipped_pending"], json!([]));
    let learners = answer["learners"].as_array().unwrap();
    assert_eq!(learners.len(), 30);
    // The order of the class list, each with a name and an id.
    for (i, learner) in learners.iter().enumerate() {
        assert_eq!(learner["username"], format!("pupil.{i:02}"));
        assert_eq!(learner["last_name"], format!("Number{i:02}"));
        assert_eq!(learner["first_name"], "Pupil");
        assert!(learner["user_id"].as_str().is_some_and(|id| !id.is_empty()));
    }
    let passwords = handed_out(&answer);
    let distinct: std::collections::HashSet<&str> =
        passwords.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(distinct.len(), 30);

    for (username, password) in &passwords {
        assert!(signs_in(&app, username, password).await, "{username}");
    }
    assert!(!signs_in(&app, "pupil.00", DEMO_PASSWORD).await);
    assert!(
        app.audit_actions()
            .await
            .contains(&("class.password_reset".to_owned(), "success".to_owned()))
    );

    // No password handed out is in the database files (SQLite; on
    // PostgreSQL there is no file to read).
    let bytes = sqlite_bytes(&app);
    if keyward_core::testing::TestDb::backend_name() == "sqlite" {
        assert!(!bytes.is_empty(), "the SQLite files were not found");
    }
    for (username, password) in &passwords {
        assert!(
            !contains_bytes(&bytes, password),
            "the password of {username} is in the database file"
        );
    }
}

#[tokio::test]
async fn same_mode_gives_every_learner_one_password_chosen_or_generated() {
    let app = demo_app().await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let class = demo_class_id(&app, &teacher).await;

    let reply = post_reset(
        &app,
        &class,
        &teacher,
        json!({ "mode": "same", "password": "Rocket77" }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let answer = reply.json();
    assert_eq!(answer["mode"], "same");
    let passwords = handed_out(&answer);
    assert_eq!(
        passwords
            .iter()
            .map(|(u, _)| u.as_str())
            .collect::<Vec<_>>(),
        ["demo.amy", "demo.ben", "demo.cara"]
    );
    for (username, password) in &passwords {
        assert_eq!(password, "Rocket77");
        assert!(signs_in(&app, username, "Rocket77").await, "{username}");
    }

    // Without a password, one is generated for them all.
    let reply = post_reset(&app, &class, &teacher, json!({ "mode": "same" })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let passwords = handed_out(&reply.json());
    let shared = passwords[0].1.clone();
    assert_ne!(shared, "Rocket77");
    for (username, password) in &passwords {
        assert_eq!(password, &shared);
        assert!(!shared.to_lowercase().contains(username.as_str()));
        assert!(signs_in(&app, username, &shared).await, "{username}");
    }
}

#[tokio::test]
async fn bad_requests_are_refused_with_stable_codes_and_change_nothing() {
    let app = demo_app().await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let class = demo_class_id(&app, &teacher).await;
    let path = reset_path(&class);

    for body in [
        json!({ "mode": "everyone" }),
        json!({ "mode": "SAME" }),
        json!({}),
        json!({ "mode": null }),
    ] {
        let reply = post_reset(&app, &class, &teacher, body).await;
        assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_mode");
    }
    let reply = post_reset(
        &app,
        &class,
        &teacher,
        json!({ "mode": "individual", "password": "Rocket77" }),
    )
    .await;
    assert_api_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unexpected_password",
    );

    // A password that breaks the learner policy: every rule it breaks, and
    // the password itself never echoed.
    let reply = post_reset(
        &app,
        &class,
        &teacher,
        json!({ "mode": "same", "password": "abc!" }),
    )
    .await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "password_policy");
    let violations = reply.json()["violations"].clone();
    for code in [
        "too_short",
        "missing_uppercase",
        "missing_digit",
        "special_character",
    ] {
        assert!(
            violations.as_array().unwrap().contains(&json!(code)),
            "{violations}"
        );
    }
    assert!(!reply.text().contains("abc!"));
    let reply = post_reset(
        &app,
        &class,
        &teacher,
        json!({ "mode": "same", "password": "A1b".repeat(100) }),
    )
    .await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "password_policy");

    // Unknown and malformed class ids.
    let unknown = "7f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b";
    let reply = post_reset(&app, unknown, &teacher, json!({ "mode": "individual" })).await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
    let reply = post_reset(
        &app,
        "not-a-class",
        &teacher,
        json!({ "mode": "individual" }),
    )
    .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");

    // Without the CSRF token, or signed out.
    let reply = app
        .send(call(
            "POST",
            &path,
            &(teacher.0.clone(), "wrong".to_owned()),
            Some(json!({ "mode": "individual" })),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    let reply = app
        .send(json_post(&path, &json!({ "mode": "individual" })))
        .await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");

    // A learner may not reset their own class.
    let amy = app.api_session_as("demo.amy", DEMO_PASSWORD).await;
    let reply = post_reset(&app, &class, &amy, json!({ "mode": "individual" })).await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");

    for username in ["demo.amy", "demo.ben", "demo.cara"] {
        assert!(signs_in(&app, username, DEMO_PASSWORD).await, "{username}");
    }
    assert!(
        !app.audit_actions()
            .await
            .iter()
            .any(|(action, _)| action == "class.password_reset")
    );
}

#[tokio::test]
async fn two_resets_of_one_class_at_once_one_is_told_to_wait() {
    // Hashing slow enough that the first reset still holds the class when
    // the second asks for it: with the tests' cheap hashing a reset could
    // finish before the other even started, and both would rightly succeed.
    let app = spawn_app_with(|settings| {
        settings.hashing.memory_kib = 8192;
        settings.hashing.iterations = 8;
    })
    .await;
    seed_demo_people(&app.kw, &SeededRandom::new(8)).await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let class = demo_class_id(&app, &teacher).await;

    let (first, second) = tokio::join!(
        post_reset(&app, &class, &teacher, json!({ "mode": "individual" })),
        post_reset(&app, &class, &lead, json!({ "mode": "same" })),
    );
    let (won, refused) = if first.status == StatusCode::OK {
        (first, second)
    } else {
        (second, first)
    };
    assert_eq!(won.status, StatusCode::OK, "{}", won.text());
    assert_api_error(&refused, StatusCode::CONFLICT, "reset_in_progress");
    for (username, password) in handed_out(&won.json()) {
        assert!(signs_in(&app, &username, &password).await, "{username}");
    }
    // Once done, the class can be reset again.
    let reply = post_reset(&app, &class, &lead, json!({ "mode": "same" })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

#[tokio::test]
async fn another_schools_class_is_not_found_and_another_teachers_class_forbidden() {
    let app = demo_app().await;
    app.create_admin(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let admin = app.api_session().await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;

    let school = create_school(&app, &admin, "Hill Top").await;
    let (other, _) = create_class(&app, &admin, &school, "Class 1H", &[]).await;
    for session in [&lead, &teacher] {
        let reply = post_reset(&app, &other, session, json!({ "mode": "individual" })).await;
        assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
    }

    // A class of the same school that demo.teacher does not teach.
    let own_school = school_of(&app, &lead).await;
    let (untaught, _) = create_class(&app, &lead, &own_school, "Class 2L", &[]).await;
    let reply = post_reset(&app, &untaught, &teacher, json!({ "mode": "individual" })).await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    // It has no learners: its lead teacher hears so.
    let reply = post_reset(&app, &untaught, &lead, json!({ "mode": "same" })).await;
    assert_api_error(&reply, StatusCode::CONFLICT, "class_empty");
}

#[tokio::test]
async fn the_openapi_document_describes_the_whole_class_reset() {
    let doc = serde_json::to_value(keyward_web::openapi_document()).unwrap();
    let call = &doc["paths"]["/api/v1/classes/{id}/password-reset"]["post"];
    assert!(call.is_object(), "{}", doc["paths"]);
    for status in ["200", "403", "404", "409", "422", "503"] {
        assert!(
            call["responses"][status].is_object(),
            "no {status} documented"
        );
    }
    assert!(doc["components"]["schemas"]["ClassResetAnswer"].is_object());
}

// ---------------------------------------------------------------------------
// The pages.

/// Decodes the `%XX` escapes of a `data:` URL.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The CSV behind the page's **Download CSV** link, and the file name.
fn downloaded_csv(page: &str) -> (String, String) {
    let marker = "href=\"data:text/csv;charset=utf-8,";
    let start = page.find(marker).expect("a data: link") + marker.len();
    let end = start + page[start..].find('"').unwrap();
    let csv = percent_decode(&page[start..end]);
    let name_marker = "download=\"";
    let at = page[end..].find(name_marker).expect("a download attribute") + end + name_marker.len();
    let name = page[at..at + page[at..].find('"').unwrap()].to_owned();
    (csv, name)
}

#[tokio::test]
async fn the_page_resets_the_class_and_offers_the_passwords_as_csv() {
    let app = demo_app().await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let class = demo_class_id(&app, &teacher).await;
    let page_path = format!("/classes/{class}/password-reset");

    // Signed out: to the sign-in page first.
    let reply = app.get(&page_path).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(reply.location().unwrap_or("").starts_with("/signin"));

    let mut browser = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;
    let form = browser.get(&page_path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());
    let text = form.page_text();
    assert!(text.contains("Reset password for Class 4B"), "{text}");
    assert!(text.contains("The same password for every learner"));
    assert!(text.contains("A new password for each learner"));
    assert!(text.contains(">Reset</button>"));
    let csrf = form.field("csrf_token").expect("csrf_token");

    // No choice, then a password that breaks the rules: the form again.
    let reply = browser
        .post_form(&page_path, &[("csrf_token", &csrf), ("password", "")])
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.page_text().contains("Choose how to reset"),
        "{}",
        reply.text()
    );
    let reply = browser
        .post_form(
            &page_path,
            &[("csrf_token", &csrf), ("mode", "same"), ("password", "abc")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = reply.page_text();
    assert!(text.contains("role=\"alert\""));
    assert!(text.contains("Use at least 6 characters."), "{text}");
    assert!(!text.contains("value=\"abc\""));
    assert!(signs_in(&app, "demo.amy", DEMO_PASSWORD).await);
    // A forged form changes nothing.
    let reply = browser
        .post_form(
            &page_path,
            &[("csrf_token", "forged"), ("mode", "individual")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(signs_in(&app, "demo.ben", DEMO_PASSWORD).await);

    let reply = browser
        .post_form(&page_path, &[("csrf_token", &csrf), ("mode", "individual")])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let page = reply.text();
    let text = reply.page_text();
    assert!(text.contains("New passwords for Class 4B"), "{text}");
    assert!(text.contains("<caption>New passwords for Class 4B</caption>"));
    assert!(text.contains("Download CSV"));
    assert!(text.contains("You can show each learner's password again later"));

    let (csv, name) = downloaded_csv(&page);
    assert_eq!(name, "Class-4B-passwords.csv");
    let (header, rows) = parse_csv(csv.as_bytes());
    assert_eq!(
        header,
        ["class", "first_name", "last_name", "username", "password"]
    );
    assert_eq!(rows.len(), 3, "{csv}");
    let expected = [
        ("Amy", "Adams", "demo.amy"),
        ("Ben", "Brown", "demo.ben"),
        ("Cara", "Clark", "demo.cara"),
    ];
    for (row, (first, last, username)) in rows.iter().zip(expected) {
        assert_eq!(row[..4], ["Class 4B", first, last, username], "{csv}");
        // The table shows the same password, and the learner signs in with it.
        assert!(text.contains(&format!("<code class=\"code\">{}</code>", row[4])));
        assert!(signs_in(&app, username, &row[4]).await, "{username}");
    }
}

#[tokio::test]
async fn the_page_lists_learners_left_alone_and_warns_when_no_copy_is_kept() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let class = demo_class_id(&app, &lead).await;
    let school = school_of(&app, &lead).await;
    create_user(
        &app,
        &lead,
        json!({ "first_name": "Dev", "last_name": "Patel", "role": "learner", "school_id": school, "class_ids": [class] }),
    )
    .await;
    let settings = app
        .send(call(
            "PUT",
            &format!("/api/v1/schools/{school}/settings"),
            &lead,
            Some(json!({ "learner_passwords_retrievable": false })),
        ))
        .await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.text());

    let mut browser = app.signed_in_browser("demo.lead", DEMO_PASSWORD).await;
    let page_path = format!("/classes/{class}/password-reset");
    let form = browser.get(&page_path).await;
    assert!(
        form.page_text()
            .contains("1 learner hasn't set up their account yet")
    );
    let csrf = form.field("csrf_token").unwrap();
    let reply = browser
        .post_form(
            &page_path,
            &[("csrf_token", &csrf), ("mode", "same"), ("password", "")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let text = reply.page_text();
    assert!(text.contains("They all share the same password."), "{text}");
    assert!(text.contains("Note these passwords now."), "{text}");
    assert!(text.contains("Not reset"));
    assert!(
        text.contains("<li>Dev Patel: <a href=\"/classes/"),
        "{text}"
    );
}
