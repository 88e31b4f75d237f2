//! Security > Users (R-ADM-1) and disabling accounts (R-ADM-4) through the
//! JSON API and the pages: the list's filters and paging, one user, and
//! what a disabled account loses at once (sessions, reset links, codes),
//! also while requests with its session are running.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use keyward_core::settings::{MailTransportKind, SmtpSecurity};
use keyward_core::testing::{MONDAY_MORNING, SmtpCapture, ctx_at, demo_passwords};
use keyward_core::types::UnixTime;
use keyward_core::types::random::SeededRandom;
use serde_json::{Value, json};

use crate::helpers::*;

const PASSWORD: &str = DEMO_PASSWORD;

async fn list(app: &TestApp, who: &Session, query: &str) -> Value {
    let reply = app
        .send(call("GET", &format!("/api/v1/users{query}"), who, None))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.text());
    reply.json()
}

fn usernames(page: &Value) -> Vec<String> {
    page["users"]
        .as_array()
        .expect("a users array")
        .iter()
        .map(|u| u["username"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn post(app: &TestApp, who: &Session, path: &str) -> Reply {
    app.send(call("POST", path, who, None)).await
}

#[tokio::test]
async fn the_users_list_is_filtered_and_paged_through_the_api() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let class = demo_class_id(&app, &teacher).await;

    let learners = list(&app, &lead, "?role=learner").await;
    assert_eq!(usernames(&learners), ["demo.amy", "demo.ben", "demo.cara"]);
    assert_eq!(learners["total"], 3);
    assert!(
        learners["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["mfa_on"] == false && u["last_sign_in_at"].is_null())
    );
    let in_class = list(&app, &lead, &format!("?class_id={class}")).await;
    assert_eq!(
        usernames(&in_class),
        [
            "demo.amy",
            "demo.teacher",
            "demo.ben",
            "demo.cara",
            "demo.lead"
        ],
        "learners enrolled and the teachers teaching, by last name"
    );
    let by_email = list(&app, &lead, "?q=RIVERSIDE.example").await;
    assert_eq!(usernames(&by_email), ["demo.teacher", "demo.lead"]);
    let signed_in = list(&app, &lead, "?q=lena").await;
    assert!(signed_in["users"][0]["last_sign_in_at"].is_i64());
    assert_eq!(list(&app, &lead, "?mfa=on").await["total"], 0);
    assert_eq!(
        list(&app, &lead, "?mfa=off&status=active").await["total"],
        6
    );

    // Two at a time: three pages, each person once, then an empty page.
    let mut everyone = Vec::new();
    for page in 1..=3 {
        let answer = list(&app, &lead, &format!("?per_page=2&page={page}")).await;
        assert_eq!(
            (
                answer["total"].clone(),
                answer["page"].clone(),
                answer["per_page"].clone()
            ),
            (json!(6), json!(page), json!(2))
        );
        everyone.extend(usernames(&answer));
    }
    assert_eq!(everyone.len(), 6);
    everyone.sort();
    everyone.dedup();
    assert_eq!(everyone.len(), 6, "no one twice");
    let past = list(&app, &lead, "?per_page=2&page=4").await;
    assert!(past["users"].as_array().unwrap().is_empty());
    assert_eq!(past["total"], 6);

    for (query, field) in [
        ("role=wizard", "role"),
        ("status=asleep", "status"),
        ("mfa=maybe", "mfa"),
        ("page=0", "page"),
        ("per_page=201", "per_page"),
        ("class_id=4B", "class_id"),
        ("class_id=7d1e0f0a-1b2c-4d3e-8f40-5a6b7c8d9e0f", "class_id"),
    ] {
        let reply = app
            .send(call("GET", &format!("/api/v1/users?{query}"), &lead, None))
            .await;
        assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_filter");
        assert_eq!(reply.json()["field"], field, "{query}");
    }
    let reply = app
        .send(call("GET", "/api/v1/users?school_id=junk", &lead, None))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn one_user_shows_roles_classes_and_second_factors() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let teacher_id = user_id(&app, "demo.teacher", PASSWORD).await;
    let amy_id = user_id(&app, "demo.amy", PASSWORD).await;

    let amy = app
        .send(call("GET", &format!("/api/v1/users/{amy_id}"), &lead, None))
        .await
        .json();
    assert_eq!(amy["classes"][0]["membership"], "enrolled");
    assert_eq!(amy["custom_roles"], json!([]));
    assert_eq!(
        amy["mfa"],
        json!({ "authenticator_app": false, "passkeys": 0 })
    );
    assert_eq!(amy["mfa_on"], false);
    assert!(amy["created_at"].is_i64());
    assert!(amy["last_sign_in_at"].is_i64(), "she signed in above");

    let school = school_of(&app, &lead).await;
    let role = app
        .send(call(
            "POST",
            &format!("/api/v1/schools/{school}/roles"),
            &lead,
            Some(json!({ "name": "Helpers", "permissions": ["users.view"] })),
        ))
        .await
        .json();
    let granted = app
        .send(call(
            "POST",
            &format!("/api/v1/users/{teacher_id}/roles"),
            &lead,
            Some(json!({ "role_id": role["id"] })),
        ))
        .await;
    assert_eq!(granted.status, StatusCode::NO_CONTENT, "{}", granted.text());
    let teacher = app
        .send(call(
            "GET",
            &format!("/api/v1/users/{teacher_id}"),
            &lead,
            None,
        ))
        .await
        .json();
    assert_eq!(teacher["role"], "teacher");
    assert_eq!(teacher["custom_roles"], json!(["Helpers"]));
    assert_eq!(teacher["classes"][0]["membership"], "teaching");
}

#[tokio::test]
async fn disabling_ends_the_session_and_sign_in_fails_like_a_wrong_password() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let amy = app.api_session_as("demo.amy", PASSWORD).await;
    let amy_id = user_id(&app, "demo.amy", PASSWORD).await;
    let path = format!("/api/v1/users/{amy_id}");

    let disabled = post(&app, &lead, &format!("{path}/disable")).await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text());
    assert_eq!(disabled.json()["status"], "disabled");
    let me = app.send(call("GET", "/api/v1/me", &amy, None)).await;
    assert_api_error(&me, StatusCode::UNAUTHORIZED, "unauthenticated");

    let refused = app.api_sign_in("demo.amy", PASSWORD).await;
    let wrong = app.api_sign_in("demo.ben", "not her password").await;
    assert_api_error(&refused, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(refused.json()["message"], wrong.json()["message"]);

    let again = post(&app, &lead, &format!("{path}/disable")).await;
    assert_api_error(&again, StatusCode::CONFLICT, "already_disabled");
    let enabled = post(&app, &lead, &format!("{path}/enable")).await;
    assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.text());
    assert_eq!(enabled.json()["status"], "active");
    assert!(signs_in(&app, "demo.amy", PASSWORD).await);
    let again = post(&app, &lead, &format!("{path}/enable")).await;
    assert_api_error(&again, StatusCode::CONFLICT, "not_disabled");
    let actions = app.audit_actions().await;
    assert!(actions.contains(&("user.disable".into(), "success".into())));
    assert!(actions.contains(&("user.enable".into(), "success".into())));
}

#[tokio::test]
async fn disabling_ends_an_unused_access_code() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let created = create_user(
        &app,
        &lead,
        json!({ "first_name": "Nia", "last_name": "New", "role": "learner", "school_id": school }),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let disabled = post(&app, &lead, &format!("/api/v1/users/{id}/disable")).await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text());
    for code in [&created["access_code"], &created["parent_access_code"]] {
        let body = json!({ "code": code, "username": "nia.new", "password": "BlueTiger427", "email": "p@family.example", "first_name": "P", "last_name": "Q" });
        let used = app.send(json_post("/api/v1/activate", &body)).await;
        assert_api_error(&used, StatusCode::NOT_FOUND, "code_unknown");
    }
    let enabled = post(&app, &lead, &format!("/api/v1/users/{id}/enable")).await;
    assert_eq!(
        enabled.json()["status"],
        "pending",
        "no password chosen yet"
    );
    let shown = app
        .send(call("GET", &format!("/api/v1/users/{id}"), &lead, None))
        .await
        .json();
    assert!(shown["access_code"].is_null(), "the old code stays ended");
    let fresh = post(&app, &lead, &format!("/api/v1/users/{id}/access-code")).await;
    let code = fresh.json()["access_code"].as_str().unwrap().to_owned();
    activate(&app, &code, "nia.new", "BlueTiger427", None).await;
}

#[tokio::test]
async fn disabling_ends_an_open_reset_link() {
    let smtp = SmtpCapture::start();
    let port = smtp.port();
    let app = spawn_app_with(|s| {
        s.mail.transport = MailTransportKind::Smtp;
        s.mail.smtp.host = "127.0.0.1".into();
        s.mail.smtp.port = port;
        s.mail.smtp.security = SmtpSecurity::None;
        s.mail.smtp.timeout = Duration::from_secs(5);
    })
    .await;
    let rng = SeededRandom::new(5);
    app.kw
        .seed_demo(&ctx_at(MONDAY_MORNING, &rng), &demo_passwords(PASSWORD))
        .await
        .unwrap();
    // Signed in once, the teacher may recover by email.
    let teacher_id = user_id(&app, "demo.teacher", PASSWORD).await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let asked = app
        .send(json_post(
            "/api/v1/recovery",
            &json!({ "username": "demo.teacher" }),
        ))
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED);
    app.kw
        .deliver_due_mail(&ctx_at(UnixTime::now(), &rng))
        .await
        .unwrap();
    let mail = smtp
        .messages()
        .into_iter()
        .find(|m| m.subject.contains("Reset"))
        .expect("a reset email");
    let text = mail.text.unwrap_or_default();
    let start = text.find("/recovery/").expect("a link") + "/recovery/".len();
    let token = text[start..].split_whitespace().next().unwrap().to_owned();
    let usable = app.get(&format!("/api/v1/recovery/{token}")).await;
    assert_eq!(usable.status, StatusCode::OK, "{}", usable.text());

    let disabled = post(&app, &lead, &format!("/api/v1/users/{teacher_id}/disable")).await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text());
    let ended = app.get(&format!("/api/v1/recovery/{token}")).await;
    assert_api_error(&ended, StatusCode::GONE, "link_used");
    let reset = app
        .send(json_post(
            &format!("/api/v1/recovery/{token}"),
            &json!({ "new_password": "a brand new passphrase", "confirm_password": "a brand new passphrase" }),
        ))
        .await;
    assert_api_error(&reset, StatusCode::GONE, "link_used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn once_the_disable_returns_no_request_with_the_session_succeeds() {
    let app = Arc::new(demo_app().await);
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let amy = app.api_session_as("demo.amy", PASSWORD).await;
    let amy_id = user_id(&app, "demo.amy", PASSWORD).await;
    let returned = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|n| {
            let (app, amy, returned) = (app.clone(), amy.clone(), returned.clone());
            tokio::spawn(async move {
                let path = ["/api/v1/me", "/api/v1/me/sessions"][n % 2];
                let mut after = Vec::new();
                while after.len() < 5 {
                    // Sent after the disable returned: it must fail.
                    let sent_after = returned.load(Ordering::SeqCst);
                    let reply = app.send(call("GET", path, &amy, None)).await;
                    if sent_after {
                        after.push(reply.status);
                    } else {
                        assert!(
                            matches!(reply.status, StatusCode::OK | StatusCode::UNAUTHORIZED),
                            "{}",
                            reply.text()
                        );
                    }
                }
                after
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let disabled = post(&app, &lead, &format!("/api/v1/users/{amy_id}/disable")).await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text());
    returned.store(true, Ordering::SeqCst);
    for worker in workers {
        let after = worker.await.expect("the worker ran");
        assert!(
            after.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
            "{after:?}"
        );
    }
}

#[tokio::test]
async fn only_someone_managing_the_person_may_disable_them() {
    let app = demo_app().await;
    let admin = app.api_session_as("demo.admin", PASSWORD).await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let amy_id = user_id(&app, "demo.amy", PASSWORD).await;
    let lead_id = user_id(&app, "demo.lead", PASSWORD).await;
    let disable = |id: &str| format!("/api/v1/users/{id}/disable");

    // Without users.manage.
    let reply = post(&app, &teacher, &disable(&amy_id)).await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    // Oneself.
    let reply = post(&app, &lead, &disable(&lead_id)).await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    // Another school's lead learns nothing.
    let hill = create_school(&app, &admin, "Hill Top").await;
    let outsider = create_active_user(
        &app,
        &admin,
        json!({ "first_name": "Hal", "last_name": "Hill", "role": "lead_teacher", "school_id": hill }),
        ("hal.hill", "a fine passphrase"),
        Some("hal@hill.example"),
    )
    .await;
    let reply = post(&app, &outsider, &disable(&amy_id)).await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
    // A teacher given users.manage still may not disable the lead, who holds more.
    let school = school_of(&app, &lead).await;
    let role = app
        .send(call(
            "POST",
            &format!("/api/v1/schools/{school}/roles"),
            &lead,
            Some(json!({ "name": "Managers", "permissions": ["users.view", "users.manage"] })),
        ))
        .await
        .json();
    let teacher_id = user_id(&app, "demo.teacher", PASSWORD).await;
    app.send(call(
        "POST",
        &format!("/api/v1/users/{teacher_id}/roles"),
        &lead,
        Some(json!({ "role_id": role["id"] })),
    ))
    .await;
    let reply = post(&app, &teacher, &disable(&lead_id)).await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    // ...but may disable a learner now.
    let reply = post(&app, &teacher, &disable(&amy_id)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    // Without the CSRF token, nothing happens.
    let mut no_csrf = lead.clone();
    no_csrf.1 = "wrong".into();
    let reply = post(&app, &no_csrf, &format!("/api/v1/users/{amy_id}/enable")).await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "csrf_failed");
}

#[tokio::test]
async fn the_users_page_filters_pages_and_disables_without_javascript() {
    let app = demo_app().await;
    let amy_id = user_id(&app, "demo.amy", PASSWORD).await;
    let mut browser = app.signed_in_browser("demo.lead", PASSWORD).await;

    let learners = browser.get("/users?role=learner").await;
    assert_eq!(learners.status, StatusCode::OK);
    let text = learners.page_text();
    assert!(text.contains("3 people found"), "{text}");
    assert!(
        text.contains("Amy Adams") && !text.contains("Tom Baker"),
        "{text}"
    );
    assert!(
        learners
            .text()
            .contains(r#"<option value="learner" selected>"#)
    );

    let paged = browser.get("/users?per_page=2&role=").await;
    let html = decode_entities(&paged.text());
    assert!(
        html.contains(r#"href="/users?per_page=2&page=2""#),
        "{html}"
    );
    let second = browser.get("/users?per_page=2&page=2").await;
    assert!(second.page_text().contains("Page 2 of 3"));

    let bad = browser.get("/users?mfa=maybe").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.page_text()
            .contains("The two-step verification filter is on or off.")
    );
    let none = browser.get("/users?q=nobody-at-all").await;
    assert!(none.page_text().contains("No one matches these filters."));

    let person = browser.get(&format!("/users/{amy_id}")).await;
    let text = person.page_text();
    assert!(
        text.contains("Actions") && text.contains("Disable account"),
        "{text}"
    );
    assert!(text.contains("4B") || text.contains("Enrolled"), "{text}");
    let confirm = browser.get(&format!("/users/{amy_id}/disable")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    let csrf = confirm.field("csrf_token").expect("a csrf token");
    let done = browser
        .post_form(
            &format!("/users/{amy_id}/disable"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        done.location(),
        Some(format!("/users/{amy_id}?disabled=1").as_str())
    );
    let shown = browser.get(&format!("/users/{amy_id}?disabled=1")).await;
    assert!(shown.page_text().contains("The account is disabled."));
    assert!(shown.page_text().contains("Enable account"));
    assert!(!signs_in(&app, "demo.amy", PASSWORD).await);
    let csrf = shown.field("csrf_token").expect("a csrf token");
    let done = browser
        .post_form(&format!("/users/{amy_id}/enable"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(signs_in(&app, "demo.amy", PASSWORD).await);
    let again = browser.get(&format!("/users/{amy_id}/disable")).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "enabled again: may be disabled again"
    );
}
