//! The audit log (R-AUD-1) through `GET /api/v1/audit`, `GET
//! /api/v1/audit.csv` and the **Audit log** page: the JSON shape, scope,
//! bad filters as 422 `invalid_filter` (never a 500), paging links that keep
//! the filters, and the streamed CSV.

use axum::http::StatusCode;

use crate::helpers::*;

const PASSWORD: &str = DEMO_PASSWORD;

#[tokio::test]
async fn the_api_lists_a_school_s_rows_with_names_and_pages() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    assert!(!signs_in(&app, "demo.amy", "not her password").await);
    assert!(signs_in(&app, "demo.amy", PASSWORD).await);

    let reply = app
        .send(call(
            "GET",
            "/api/v1/audit?person=demo.amy&action=sign_in&limit=1",
            &lead,
            None,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    let entry = &body["entries"][0];
    assert_eq!(entry["action"], "sign_in");
    assert_eq!(entry["outcome"], "success");
    assert_eq!(entry["actor"]["username"], "demo.amy");
    assert_eq!(entry["target"]["username"], "demo.amy");
    assert!(entry["actor"]["name"].as_str().unwrap().len() > 2);
    assert_eq!(entry["school_id"], school.as_str());
    assert_eq!(entry["client_addr"], "192.0.2.10");
    assert!(entry["at"].as_str().unwrap().ends_with('Z'));
    assert!(body["prev_after"].is_null());
    let before = body["next_before"].as_i64().expect("an older page");

    let older = app
        .send(call(
            "GET",
            &format!("/api/v1/audit?person=demo.amy&action=sign_in&limit=1&before={before}"),
            &lead,
            None,
        ))
        .await
        .json();
    let failure = &older["entries"][0];
    assert_eq!(failure["outcome"], "failure");
    assert!(failure["actor"].is_null());
    assert_eq!(failure["target"]["username"], "demo.amy");
    assert!(older["next_before"].is_null());
}

#[tokio::test]
async fn bad_filters_answer_422_invalid_filter_naming_the_field() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    for (query, field) in [
        ("from=2026-02-30", "from"),
        ("to=yesterday", "to"),
        ("person=%3Cscript%3E", "person"),
        ("action=%25", "action"),
        ("outcome=a%20b", "outcome"),
        ("before=-3", "before"),
        ("limit=501", "limit"),
        ("school_id=nope", "school_id"),
    ] {
        for path in ["/api/v1/audit", "/api/v1/audit.csv"] {
            let reply = app
                .send(call("GET", &format!("{path}?{query}"), &lead, None))
                .await;
            assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_filter");
            assert_eq!(reply.json()["field"], field, "{query}");
        }
    }
    // The largest ids are no crash (an outside review found an overflow).
    for query in ["after=9223372036854775807", "before=1"] {
        let reply = app
            .send(call("GET", &format!("/api/v1/audit?{query}"), &lead, None))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.text());
    }
}

#[tokio::test]
async fn only_audit_view_opens_the_log_and_only_in_scope() {
    let app = demo_app().await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    for path in ["/api/v1/audit", "/api/v1/audit.csv"] {
        let reply = app.send(call("GET", path, &teacher, None)).await;
        assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    }
    let admin = app.api_session_as("demo.admin", PASSWORD).await;
    let elsewhere = create_school(&app, &admin, "Hill Top Academy").await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let reply = app
        .send(call(
            "GET",
            &format!("/api/v1/audit?school_id={elsewhere}"),
            &lead,
            None,
        ))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
    // The platform admin sees the other school's creation; the lead does not.
    let mine = app
        .send(call(
            "GET",
            "/api/v1/audit?action=school.create",
            &lead,
            None,
        ))
        .await
        .json();
    assert!(mine["entries"].as_array().unwrap().is_empty());
    let all = app
        .send(call(
            "GET",
            "/api/v1/audit?action=school.create",
            &admin,
            None,
        ))
        .await
        .json();
    assert!(!all["entries"].as_array().unwrap().is_empty());
    let unauthenticated = app.get("/api/v1/audit").await;
    assert_api_error(
        &unauthenticated,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

#[tokio::test]
async fn the_csv_is_a_streamed_download_with_the_filters() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    assert!(!signs_in(&app, "demo.ben", "=cmd|' /C calc'!A0").await);
    let reply = app
        .send(call(
            "GET",
            "/api/v1/audit.csv?action=sign_in&outcome=failure",
            &lead,
            None,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.content_type(), "text/csv; charset=utf-8");
    assert!(
        reply
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment; filename=\"audit-log-")
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert!(reply.text().ends_with("\r\n"));
    let (header, rows) = reply.csv();
    assert_eq!(header[0], "id");
    assert_eq!(header.len(), 14);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][6], "demo.ben");
    assert_eq!(rows[0][10], "failure");
    assert!(!reply.text().contains("calc"), "the password is nowhere");
}

#[tokio::test]
async fn the_page_filters_pages_and_offers_the_csv() {
    let app = demo_app().await;
    for _ in 0..3 {
        assert!(signs_in(&app, "demo.amy", PASSWORD).await);
    }
    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    let home = lead.get("/home").await;
    assert!(
        home.text().contains("href=\"/audit\""),
        "the menu links the log"
    );

    let page = lead
        .get("/audit?person=demo.amy&action=sign_in&limit=2")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let text = page.page_text();
    assert!(text.contains("Audit log"));
    assert!(text.contains("demo.amy"));
    assert!(text.contains("UTC"));
    let html = decode_entities(&page.text());
    assert!(html.contains("href=\"/audit.csv?person=demo.amy&action=sign_in&limit=2\""));
    let older = regex::Regex::new(r#"href="(/audit\?[^"]*before=\d+)""#)
        .unwrap()
        .captures(&html)
        .expect("an Older link")[1]
        .to_owned();
    assert!(older.contains("person=demo.amy&action=sign_in&limit=2"));
    let second = lead.get(&older).await;
    let html = decode_entities(&second.text());
    assert!(html.contains("after="), "a Newer link");
    assert!(html.contains(">Newer<") && !html.contains(">Older<"));

    let empty = lead.get("/audit?person=nobody.here").await;
    assert!(empty.page_text().contains("No entries match"));

    let bad = lead.get("/audit?from=2026-13-40").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.page_text().contains("YYYY-MM-DD"));

    let csv = lead.get("/audit.csv?action=sign_in&person=demo.amy").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.csv().1.len(), 3);
}

#[tokio::test]
async fn a_teacher_has_no_audit_log_in_the_menu_and_is_refused_the_page() {
    let app = demo_app().await;
    let mut teacher = app.signed_in_browser("demo.teacher", PASSWORD).await;
    assert!(
        !teacher
            .get("/home")
            .await
            .text()
            .contains("href=\"/audit\"")
    );
    assert_error_page(&teacher.get("/audit").await, StatusCode::FORBIDDEN);
    let mut visitor = app.browser();
    let reply = visitor.get("/audit").await;
    assert_eq!(reply.location(), Some("/signin?next=%2Faudit"));
}
