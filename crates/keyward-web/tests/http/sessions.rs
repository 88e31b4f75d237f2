//! Account Settings > Sessions and `/api/v1/me/sessions` (R-ACC-4): the
//! list with "this device", ending one session and all the others, through
//! the API and the page's forms; CSRF refusals change nothing; another
//! person's, unknown and malformed ids are 404 `session_not_found`, never a
//! 500; every session ended is audited.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use regex::Regex;
use serde_json::Value;

use crate::helpers::{
    Browser, DEMO_PASSWORD, Reply, Session, TestApp, assert_api_error, call, demo_app,
};

const TEACHER: &str = "demo.teacher";
const FIREFOX_ON_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// Signs the teacher in through the API with a User-Agent.
async fn api_sign_in(app: &TestApp, username: &str, agent: &str) -> Session {
    let body = serde_json::json!({ "username": username, "password": DEMO_PASSWORD });
    let reply = app
        .send(
            Request::post("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::USER_AGENT, agent)
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let cookie = reply.cookie_value("kw_session").expect("session cookie");
    let csrf = reply.json()["csrf_token"].as_str().unwrap().to_owned();
    (cookie, csrf)
}

async fn list(app: &TestApp, session: &Session) -> Vec<Value> {
    let reply = app
        .send(call("GET", "/api/v1/me/sessions", session, None))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()["sessions"].as_array().unwrap().clone()
}

async fn signed_in(app: &TestApp, session: &Session) -> bool {
    let status = app
        .send(call("GET", "/api/v1/me", session, None))
        .await
        .status;
    assert!(matches!(status, StatusCode::OK | StatusCode::UNAUTHORIZED));
    status == StatusCode::OK
}

/// The `detail` of every `session.end` row, newest first.
async fn ended_details(app: &TestApp) -> Vec<String> {
    keyward_core::audit::recent(app.kw.db(), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.action == "session.end")
        .map(|row| row.detail.unwrap_or_default())
        .collect()
}

fn delete(path: &str, session: &Session) -> Request<Body> {
    call("DELETE", path, session, None)
}

#[tokio::test]
async fn the_api_lists_own_sessions_and_ends_one_then_all_others() {
    let app = demo_app().await;
    let laptop = api_sign_in(
        &app,
        TEACHER,
        "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36",
    )
    .await;
    let phone = api_sign_in(&app, TEACHER, FIREFOX_ON_WINDOWS).await;
    let tablet = api_sign_in(&app, TEACHER, "keyward-test").await;
    let learner = api_sign_in(&app, "demo.amy", FIREFOX_ON_WINDOWS).await;

    let sessions = list(&app, &laptop).await;
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(sessions[0]["device"], "Chrome on Linux");
    assert_eq!(sessions[0]["browser"], "Chrome");
    assert_eq!(sessions[0]["system"], "Linux");
    assert_eq!(sessions[0]["client_addr"], "192.0.2.10");
    assert!(sessions[1..].iter().all(|s| s["current"] == false));
    let phone_entry = sessions
        .iter()
        .find(|s| s["device"] == "Firefox on Windows")
        .expect("the phone is listed");
    assert_eq!(phone_entry["user_agent"], FIREFOX_ON_WINDOWS);
    assert!(phone_entry["signed_in_at"].as_i64().unwrap() > 0);
    assert!(sessions.iter().any(|s| s["device"] == "Unknown device"));
    // Neither a cookie nor its digest is ever shown.
    let text = serde_json::to_string(&sessions).unwrap();
    for session in [&laptop, &phone, &tablet] {
        let digest = keyward_core::crypto::tokens::Token::from_client(&session.0)
            .unwrap()
            .digest();
        assert!(!text.contains(&session.0) && !text.contains(digest.as_str()));
    }

    let phone_id = phone_entry["id"].as_str().unwrap();
    let reply = app
        .send(delete(&format!("/api/v1/me/sessions/{phone_id}"), &laptop))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert!(
        reply.set_cookie("kw_session").is_none(),
        "the caller stays signed in"
    );
    assert!(!signed_in(&app, &phone).await);
    assert!(signed_in(&app, &laptop).await);

    let reply = app.send(delete("/api/v1/me/sessions", &laptop)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["ended"], 1);
    assert!(!signed_in(&app, &tablet).await);
    assert!(signed_in(&app, &laptop).await);
    assert!(
        signed_in(&app, &learner).await,
        "another person's session stays"
    );
    assert_eq!(list(&app, &laptop).await.len(), 1);
    assert_eq!(
        ended_details(&app).await,
        vec!["all_others", "signed_out_elsewhere"]
    );
}

#[tokio::test]
async fn ending_the_calling_session_through_the_api_signs_it_out_and_clears_the_cookie() {
    let app = demo_app().await;
    let laptop = api_sign_in(&app, TEACHER, FIREFOX_ON_WINDOWS).await;
    let own_id = list(&app, &laptop).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = app
        .send(delete(&format!("/api/v1/me/sessions/{own_id}"), &laptop))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    let cleared = reply
        .set_cookie("kw_session")
        .expect("the cookie is cleared");
    assert!(
        cleared.to_ascii_lowercase().contains("max-age=0"),
        "{cleared}"
    );
    assert!(!signed_in(&app, &laptop).await);
    assert_eq!(ended_details(&app).await, vec!["signed_out_here"]);
}

#[tokio::test]
async fn api_changes_need_the_csrf_header_and_bad_ids_are_404_session_not_found() {
    let app = demo_app().await;
    let laptop = api_sign_in(&app, TEACHER, FIREFOX_ON_WINDOWS).await;
    let phone = api_sign_in(&app, TEACHER, FIREFOX_ON_WINDOWS).await;
    let learner = api_sign_in(&app, "demo.amy", FIREFOX_ON_WINDOWS).await;
    let phone_id = list(&app, &laptop).await[1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let learners_id = list(&app, &learner).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Without the session's CSRF token: refused, nothing ended.
    let no_csrf = (laptop.0.clone(), String::new());
    for path in [
        format!("/api/v1/me/sessions/{phone_id}"),
        "/api/v1/me/sessions".to_owned(),
    ] {
        let reply = app.send(delete(&path, &no_csrf)).await;
        assert_api_error(&reply, StatusCode::FORBIDDEN, "csrf_failed");
        let wrong = (laptop.0.clone(), phone.1.clone());
        let reply = app.send(delete(&path, &wrong)).await;
        assert_api_error(&reply, StatusCode::FORBIDDEN, "csrf_failed");
    }
    assert!(signed_in(&app, &phone).await);

    // Another person's session, an unknown one, and ids that cannot be one.
    let unknown = "0".repeat(32);
    for id in [
        learners_id.as_str(),
        &unknown,
        "nope",
        "%2E%2E",
        &"a".repeat(33),
        &"g".repeat(32),
    ] {
        let reply = app
            .send(delete(&format!("/api/v1/me/sessions/{id}"), &laptop))
            .await;
        assert_api_error(&reply, StatusCode::NOT_FOUND, "session_not_found");
    }
    assert!(signed_in(&app, &learner).await);
    assert!(signed_in(&app, &phone).await);
    assert!(ended_details(&app).await.is_empty());

    // Without a session: 401.
    let reply = app.get("/api/v1/me/sessions").await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
}

/// The session ids of the rows of the page, "this device" first.
fn row_ids(reply: &Reply) -> Vec<String> {
    let rows = Regex::new(r#"data-session="([0-9a-f]{32})""#).unwrap();
    rows.captures_iter(&reply.text())
        .map(|c| c[1].to_owned())
        .collect()
}

async fn is_signed_in(browser: &mut Browser<'_>) -> bool {
    browser.get("/account").await.status == StatusCode::OK
}

#[tokio::test]
async fn the_page_lists_the_sessions_and_its_forms_sign_out_one_and_the_others() {
    let app = demo_app().await;
    let mut laptop = app.signed_in_browser(TEACHER, DEMO_PASSWORD).await;
    let mut phone = app.signed_in_browser(TEACHER, DEMO_PASSWORD).await;
    let mut tablet = app.signed_in_browser(TEACHER, DEMO_PASSWORD).await;

    let account = laptop.get("/account").await;
    assert!(account.text().contains(r#"href="/account/sessions""#));
    let page = laptop.get("/account/sessions").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.page_text();
    assert_eq!(text.matches("This device").count(), 1, "{text}");
    assert!(text.contains("192.0.2.10") && text.contains("just now"));
    assert!(text.contains("Sign out other sessions"));
    let ids = row_ids(&page);
    assert_eq!(ids.len(), 3);
    let csrf = page.field("csrf_token").unwrap();

    // One other session's Sign out: the phone, found from its own page.
    let phone_id = row_ids(&phone.get("/account/sessions").await)[0].clone();
    assert!(ids[1..].contains(&phone_id));
    let reply = laptop
        .post_form(
            &format!("/account/sessions/{phone_id}/sign-out"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(
        reply
            .page_text()
            .contains("That session has been signed out.")
    );
    assert_eq!(row_ids(&reply).len(), 2);
    assert!(!is_signed_in(&mut phone).await);

    // Sign out other sessions: the tablet goes, the laptop stays.
    let reply = laptop
        .post_form(
            "/account/sessions/sign-out-others",
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(
        reply
            .page_text()
            .contains("1 other session has been signed out.")
    );
    assert_eq!(row_ids(&reply), vec![ids[0].clone()]);
    assert!(
        reply
            .page_text()
            .contains("You are signed in on this device only.")
    );
    assert!(!is_signed_in(&mut tablet).await);
    assert!(is_signed_in(&mut laptop).await);
    assert_eq!(
        ended_details(&app).await,
        vec!["all_others", "signed_out_elsewhere"]
    );
}

#[tokio::test]
async fn the_pages_forms_refuse_a_wrong_csrf_token_and_unknown_ids_are_404_on_the_page() {
    let app = demo_app().await;
    let mut laptop = app.signed_in_browser(TEACHER, DEMO_PASSWORD).await;
    let mut phone = app.signed_in_browser(TEACHER, DEMO_PASSWORD).await;
    let mut learner = app.signed_in_browser("demo.amy", DEMO_PASSWORD).await;
    let page = laptop.get("/account/sessions").await;
    let csrf = page.field("csrf_token").unwrap();
    let phone_id = row_ids(&phone.get("/account/sessions").await)[0].clone();
    let learners_id = row_ids(&learner.get("/account/sessions").await)[0].clone();

    for path in [
        format!("/account/sessions/{phone_id}/sign-out"),
        "/account/sessions/sign-out-others".to_owned(),
    ] {
        let reply = laptop.post_form(&path, &[("csrf_token", "forged")]).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
        let reply = laptop.post_form(&path, &[]).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    }
    assert!(is_signed_in(&mut phone).await);

    for id in [
        learners_id.as_str(),
        &"0".repeat(32),
        "nope",
        &"f".repeat(40),
    ] {
        let reply = laptop
            .post_form(
                &format!("/account/sessions/{id}/sign-out"),
                &[("csrf_token", &csrf)],
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{id}: {}",
            reply.text()
        );
        assert!(reply.text().contains("role=\"alert\""));
        assert!(
            reply
                .page_text()
                .contains("That session has already ended, or it is not one of yours.")
        );
        assert_eq!(row_ids(&reply).len(), 2, "the list is still shown");
    }
    assert!(is_signed_in(&mut learner).await);
    assert!(is_signed_in(&mut phone).await);
    assert!(ended_details(&app).await.is_empty());
}

#[tokio::test]
async fn signing_out_this_device_from_the_page_leads_to_sign_in_and_a_visitor_is_sent_there() {
    let app = demo_app().await;
    let mut laptop = app.signed_in_browser(TEACHER, DEMO_PASSWORD).await;
    let page = laptop.get("/account/sessions").await;
    let csrf = page.field("csrf_token").unwrap();
    let own_id = row_ids(&page)[0].clone();
    let reply = laptop
        .post_form(
            &format!("/account/sessions/{own_id}/sign-out"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    assert_eq!(reply.location(), Some("/signin"));
    assert!(laptop.cookie("kw_session").is_none());

    let reply = laptop.get("/account/sessions").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), Some("/signin?next=%2Faccount%2Fsessions"));
}
