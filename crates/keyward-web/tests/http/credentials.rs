//! The credentials CSV (R-TCH-5) through the JSON API and seed 002's pages
//! (**User accounts** → **Show access codes** → **Download CSV**): what the
//! file holds compared with the class lists, its headers, and everyone out
//! of scope.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const PASSWORD: &str = DEMO_PASSWORD;
const HEADER: [&str; 9] = [
    "school",
    "class",
    "first_name",
    "last_name",
    "username",
    "password",
    "password_status",
    "access_code",
    "parent_access_code",
];

fn assert_csv_download(reply: &Reply, file_name: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.content_type(), "text/csv; charset=utf-8");
    assert_eq!(
        reply.header("content-disposition"),
        Some(format!("attachment; filename=\"{file_name}\"").as_str())
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert!(
        !reply.body.starts_with(b"\xEF\xBB\xBF"),
        "no byte-order mark"
    );
    assert!(reply.text().ends_with("\r\n"), "CRLF line ends");
}

/// `(first_name, last_name, username or "")` of a learners list, sorted.
fn names_of_list(list: &Value) -> Vec<(String, String, String)> {
    let mut names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["first_name"].as_str().unwrap().to_owned(),
                l["last_name"].as_str().unwrap().to_owned(),
                l["username"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    names.sort();
    names
}

fn names_of_rows(rows: &[Vec<String>]) -> Vec<(String, String, String)> {
    let mut names: Vec<_> = rows
        .iter()
        .map(|r| (r[2].clone(), r[3].clone(), r[4].clone()))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_teacher_downloads_the_class_csv_and_it_matches_the_class_list() {
    let app = demo_app().await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let class = demo_class_id(&app, &teacher).await;
    // A learner who has not set up their account yet.
    let created = create_user(
        &app,
        &lead,
        json!({ "first_name": "Nia", "last_name": "New", "role": "learner",
                 "school_id": school, "class_ids": [class] }),
    )
    .await;

    let reply = app
        .send(call(
            "GET",
            &format!("/api/v1/classes/{class}/credentials.csv"),
            &teacher,
            None,
        ))
        .await;
    assert_csv_download(&reply, "riverside-primary-school-class-4b-credentials.csv");
    let (header, rows) = reply.csv();
    assert_eq!(header, HEADER);

    let list = app
        .send(call(
            "GET",
            &format!("/api/v1/classes/{class}/learners"),
            &teacher,
            None,
        ))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    assert_eq!(names_of_rows(&rows), names_of_list(&list.json()));
    assert_eq!(rows.len(), 4);

    let by_first = |name: &str| rows.iter().find(|r| r[2] == name).unwrap().clone();
    assert_eq!(by_first("Amy")[4..7], ["demo.amy", PASSWORD, "retrievable"]);
    assert_eq!(by_first("Cara")[4..7], ["demo.cara", "", "private"]);
    let nia = by_first("Nia");
    assert_eq!(nia[4..7], ["", "", "pending"]);
    assert_eq!(nia[7], created["access_code"].as_str().unwrap());
    assert_eq!(nia[8], created["parent_access_code"].as_str().unwrap());
    assert!(
        rows.iter()
            .all(|r| r[0] == "Riverside Primary School" && r[1] == "Class 4B")
    );
    assert!(rows.iter().all(|r| !r[8].is_empty()));

    let actions = app.audit_actions().await;
    assert_eq!(
        actions[0],
        ("credentials.export".to_owned(), "success".to_owned())
    );
}

#[tokio::test]
async fn the_lead_teacher_downloads_the_whole_school() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let reply = app
        .send(call(
            "GET",
            &format!("/api/v1/schools/{school}/credentials.csv"),
            &lead,
            None,
        ))
        .await;
    assert_csv_download(&reply, "riverside-primary-school-credentials.csv");
    let (header, rows) = reply.csv();
    assert_eq!(header, HEADER);
    let list = app
        .send(call(
            "GET",
            &format!("/api/v1/schools/{school}/learners"),
            &lead,
            None,
        ))
        .await;
    assert_eq!(names_of_rows(&rows), names_of_list(&list.json()));
    let usernames: Vec<&str> = rows.iter().map(|r| r[4].as_str()).collect();
    assert_eq!(usernames, ["demo.amy", "demo.ben", "demo.cara"]);
}

#[tokio::test]
async fn exports_out_of_reach_are_refused_without_saying_what_exists() {
    let app = demo_app().await;
    let admin = app.api_session_as("demo.admin", PASSWORD).await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let learner = app.api_session_as("demo.amy", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let class = demo_class_id(&app, &teacher).await;
    let (other_class, _) = create_class(&app, &lead, &school, "Class 5A", &[]).await;
    let hill = create_school(&app, &admin, "Hill Top").await;
    let (hill_class, _) = create_class(&app, &admin, &hill, "Year 1", &[]).await;
    let before = app.audit_actions().await.len();

    let class_csv = |id: &str| format!("/api/v1/classes/{id}/credentials.csv");
    let school_csv = |id: &str| format!("/api/v1/schools/{id}/credentials.csv");
    let unknown = "6f1c2b7e-0d7a-4c53-9a8e-2f0b9c1d4e5a";
    for (who, path, status, code) in [
        (
            &teacher,
            school_csv(&school),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            &teacher,
            class_csv(&other_class),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            &learner,
            class_csv(&class),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            &learner,
            school_csv(&school),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            &teacher,
            class_csv(&hill_class),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            &lead,
            class_csv(&hill_class),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (&lead, school_csv(&hill), StatusCode::NOT_FOUND, "not_found"),
        (
            &teacher,
            school_csv(&hill),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            &lead,
            class_csv(unknown),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            &lead,
            school_csv(unknown),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            &admin,
            school_csv(unknown),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            &lead,
            class_csv("not-a-class"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            &lead,
            school_csv("%00'%20OR%201=1"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ] {
        let reply = app.send(call("GET", &path, who, None)).await;
        assert_api_error(&reply, status, code);
        assert!(!reply.text().contains(PASSWORD), "{path}");
    }
    let reply = app.get(&class_csv(&class)).await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
    // A refusal shows nothing, so it is not recorded as an export: only the
    // refusals themselves are audited (newest rows first).
    let after = app.audit_actions().await;
    let new = &after[..after.len() - before];
    assert!(
        !new.is_empty()
            && new
                .iter()
                .all(|(action, outcome)| action == "authz.denied" && outcome == "denied"),
        "{new:?}"
    );
    // The platform admin reaches the other school (empty, header only).
    let reply = app
        .send(call("GET", &school_csv(&hill), &admin, None))
        .await;
    assert_csv_download(&reply, "hill-top-credentials.csv");
    assert_eq!(reply.csv().1.len(), 0);
}

#[tokio::test]
async fn openapi_documents_both_downloads_as_csv() {
    let doc = serde_json::to_value(keyward_web::openapi_document()).unwrap();
    for path in [
        "/api/v1/classes/{id}/credentials.csv",
        "/api/v1/schools/{id}/credentials.csv",
    ] {
        let ok = &doc["paths"][path]["get"]["responses"]["200"];
        assert!(
            ok["content"]["text/csv; charset=utf-8"].is_object(),
            "{path}: {ok}"
        );
        for status in ["403", "404"] {
            assert!(doc["paths"][path]["get"]["responses"][status].is_object());
        }
    }
}

#[tokio::test]
async fn the_pages_go_from_user_accounts_to_access_codes_to_the_csv() {
    let app = demo_app().await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let class = demo_class_id(&app, &teacher).await;
    let mut browser = app.signed_in_browser("demo.teacher", PASSWORD).await;

    let class_page = browser.get(&format!("/classes/{class}")).await;
    assert!(
        class_page
            .text()
            .contains(&format!("href=\"/classes/{class}/accounts\"")),
        "the class page links to User accounts"
    );

    let accounts = browser.get(&format!("/classes/{class}/accounts")).await;
    assert_eq!(accounts.status, StatusCode::OK, "{}", accounts.text());
    let text = accounts.page_text();
    assert!(text.contains("User accounts"), "{text}");
    assert!(text.contains("Show access codes"), "{text}");
    assert!(text.contains("demo.amy") && text.contains("Private: chosen by the learner"));
    assert!(
        !text.contains(PASSWORD),
        "no password before Show access codes"
    );
    let before = app.audit_actions().await.len();
    assert_eq!(accounts.header("cache-control"), Some("no-store"));

    let codes = browser
        .get(&format!("/classes/{class}/accounts/codes"))
        .await;
    assert_eq!(codes.status, StatusCode::OK, "{}", codes.text());
    let text = codes.page_text();
    assert!(text.contains(PASSWORD), "the kept passwords are shown");
    assert!(text.contains("Download CSV"));
    assert!(text.contains("The learner has chosen a private password"));
    assert_eq!(codes.header("cache-control"), Some("no-store"));
    assert!(
        codes
            .text()
            .contains(&format!("href=\"/classes/{class}/credentials.csv\""))
    );
    let actions = app.audit_actions().await;
    assert_eq!(actions.len(), before + 1);
    assert_eq!(actions[0].0, "credentials.show");

    let csv = browser
        .get(&format!("/classes/{class}/credentials.csv"))
        .await;
    assert_csv_download(&csv, "riverside-primary-school-class-4b-credentials.csv");
    assert_eq!(csv.csv().1.len(), 3);
    assert_eq!(app.audit_actions().await[0].0, "credentials.export");

    // The whole school is the lead teacher's.
    for path in [
        "/school/accounts",
        "/school/accounts/codes",
        "/school/credentials.csv",
    ] {
        let reply = browser.get(path).await;
        assert_error_page(&reply, StatusCode::FORBIDDEN);
    }
    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    let subscription = lead.get("/school").await;
    assert!(subscription.text().contains("href=\"/school/accounts\""));
    let accounts = lead.get("/school/accounts").await;
    assert_eq!(accounts.status, StatusCode::OK, "{}", accounts.text());
    assert!(accounts.text().contains("href=\"/school/accounts/codes\""));
    let codes = lead.get("/school/accounts/codes").await;
    assert_eq!(codes.status, StatusCode::OK, "{}", codes.text());
    assert!(codes.text().contains("href=\"/school/credentials.csv\""));
    let csv = lead.get("/school/credentials.csv").await;
    assert_csv_download(&csv, "riverside-primary-school-credentials.csv");

    // Signed out: to the sign-in page, and back to the school's accounts after.
    let reply = app.get("/school/accounts").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), Some("/signin?next=%2Fschool%2Faccounts"));
    let reply = app.get(&format!("/classes/{class}/credentials.csv")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    // Unknown and malformed classes are 404 pages.
    for path in [
        "/classes/6f1c2b7e-0d7a-4c53-9a8e-2f0b9c1d4e5a/accounts/codes".to_owned(),
        "/classes/nonsense/credentials.csv".to_owned(),
    ] {
        let reply = browser.get(&path).await;
        assert_error_page(&reply, StatusCode::NOT_FOUND);
    }
}
