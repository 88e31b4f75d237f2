//! Roster import (R-TCH-6) through `POST /api/v1/schools/{id}/roster` and the
//! **Import learners** page: a large roster in one go, bad files refused
//! whole with row numbers and nothing written, content types, body limits,
//! and who may import.

use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use keyward_core::testing::TestDb;
use serde_json::{Value, json};

use crate::helpers::*;

/// A call with any content type and a raw body (a roster upload).
fn raw_call(
    method: &str,
    path: &str,
    session: &(String, String),
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("cookie", format!("kw_session={}", session.0))
        .header("x-csrf-token", &session.1);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.body(body.into()).unwrap()
}

const PASSWORD: &str = DEMO_PASSWORD;
const HEADER: &str = "first_name,last_name,class,username,email\n";

async fn post_roster(
    app: &TestApp,
    session: &(String, String),
    school: &str,
    csv: impl Into<Body>,
) -> Reply {
    app.send(raw_call(
        "POST",
        &format!("/api/v1/schools/{school}/roster"),
        session,
        Some("text/csv"),
        csv,
    ))
    .await
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(app.kw.db().pool())
        .await
        .unwrap()
}

/// Rows written by an import: users, classes, enrolments, codes, secrets.
async fn written(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "users",
        "classes",
        "class_learners",
        "access_codes",
        "sealed_secrets",
    ] {
        counts.push(count(app, table).await);
    }
    counts
}

/// Where a problem is and its code: (row, column, code).
type Located = (Value, Value, &'static str);

/// The (row, column, code) of each problem of a 422 answer.
fn problems(reply: &Reply) -> Vec<(Value, Value, String)> {
    assert_api_error(reply, StatusCode::UNPROCESSABLE_ENTITY, "roster_invalid");
    reply.json()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert!(!p["message"].as_str().unwrap().is_empty(), "{p}");
            (
                p["row"].clone(),
                p["column"].clone(),
                p["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn roster_of_a_thousand_learners_imports_in_one_go_and_the_codes_work() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let mut csv = String::from(HEADER);
    for i in 0..1000 {
        csv.push_str(&format!(
            "Learner{i},Surname-of-learner-number-{i},Form {},,family.of.learner.{i}@example.org\n",
            i % 20
        ));
    }
    assert!(
        csv.len() > 64 * 1024,
        "larger than the server's default body limit"
    );
    let users_before = count(&app, "users").await;
    let started = Instant::now();
    let reply = post_roster(&app, &lead, &school, csv).await;
    eprintln!(
        "POST /api/v1/schools/{{id}}/roster with 1,000 learners in 20 classes on {}: {:?}",
        TestDb::backend_name(),
        started.elapsed()
    );
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["created"], 1000);
    assert_eq!(body["new_classes"].as_array().unwrap().len(), 20);
    let learners = body["learners"].as_array().unwrap();
    assert_eq!(learners.len(), 1000);
    assert_eq!(learners[0]["row"], 2);
    assert_eq!(learners[0]["class"], "Form 0");
    assert_eq!(count(&app, "users").await, users_before + 1000);

    // A learner uses the access code, then signs in; a parent uses the other.
    let one = &learners[500];
    let code = one["access_code"].as_str().unwrap();
    activate(&app, code, "learner.500", "TigerApple42", None).await;
    assert!(signs_in(&app, "learner.500", "TigerApple42").await);
    let parent = app
        .send(json_post(
            "/api/v1/activate",
            &json!({ "code": one["parent_access_code"], "username": "parent.500",
                     "password": "a long family passphrase", "email": "p500@example.org",
                     "first_name": "Pat", "last_name": "Five" }),
        ))
        .await;
    assert_eq!(parent.status, StatusCode::CREATED, "{}", parent.text());
    // Staff can show the other learners' codes again.
    let shown = app
        .send(raw_call(
            "GET",
            &format!("/api/v1/users/{}", learners[7]["user_id"].as_str().unwrap()),
            &lead,
            None,
            Body::empty(),
        ))
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
    assert_eq!(shown.json()["access_code"], learners[7]["access_code"]);
    assert_eq!(
        shown.json()["parent_access_code"],
        learners[7]["parent_access_code"]
    );
}

#[tokio::test]
async fn roster_with_bad_rows_is_refused_whole_with_row_numbers_and_nothing_written() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let good = "Ada,Lovelace,Class 6,,\n";
    let cases: Vec<(&str, Vec<u8>, Vec<Located>)> = vec![
        (
            "missing name",
            format!("{HEADER}{good},Turing,Class 6,,\n").into_bytes(),
            vec![(json!(3), json!("first_name"), "missing_value")],
        ),
        (
            "unknown column",
            b"first_name,last_name,class,house\nAda,Lovelace,6,Red\n".to_vec(),
            vec![(json!(1), json!("house"), "unknown_column")],
        ),
        (
            "duplicate username in the file",
            format!("{HEADER}Ada,Lovelace,Class 6,ada,\nAda,Byron,Class 6,ADA,\n").into_bytes(),
            vec![(json!(3), json!("username"), "username_duplicate")],
        ),
        (
            "username already taken",
            format!("{HEADER}{good}Amy,Again,Class 6,Demo.Amy,\n").into_bytes(),
            vec![(json!(3), json!("username"), "username_taken")],
        ),
        (
            "Latin-1 bytes",
            [HEADER.as_bytes(), b"Ren\xe9e,M\xfcller,Class 6,,\n"].concat(),
            vec![(Value::Null, Value::Null, "not_utf8")],
        ),
        (
            "formula cells",
            format!(
                "{HEADER}=SUM(A1),Lovelace,Class 6,,\nAlan,+1,Class 6,,\nGrace,Hopper,-1,,\nKat,Johnson,Class 6,@x,\n"
            )
            .into_bytes(),
            vec![
                (json!(2), json!("first_name"), "formula_cell"),
                (json!(3), json!("last_name"), "formula_cell"),
                (json!(4), json!("class"), "formula_cell"),
                (json!(5), json!("username"), "formula_cell"),
            ],
        ),
        (
            "bad email",
            format!("{HEADER}Ada,Lovelace,Class 6,,ada-at-home\n").into_bytes(),
            vec![(json!(2), json!("email"), "email_invalid")],
        ),
        (
            "header only",
            HEADER.as_bytes().to_vec(),
            vec![(Value::Null, Value::Null, "no_learners")],
        ),
        (
            "empty",
            Vec::new(),
            vec![(Value::Null, Value::Null, "empty_file")],
        ),
        (
            "over the roster limit but within the body limit",
            vec![b'x'; 5 * 1024 * 1024 + 10],
            vec![(Value::Null, Value::Null, "file_too_large")],
        ),
    ];
    let before = written(&app).await;
    for (name, csv, expected) in cases {
        let reply = post_roster(&app, &lead, &school, csv).await;
        let expected: Vec<(Value, Value, String)> = expected
            .into_iter()
            .map(|(row, column, code)| (row, column, code.to_owned()))
            .collect();
        assert_eq!(problems(&reply), expected, "{name}: {}", reply.text());
        assert_eq!(written(&app).await, before, "{name}: something was written");
    }
    // 10 MB of junk never reaches the importer.
    let junk: Vec<u8> = (0..10 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let reply = post_roster(&app, &lead, &school, junk).await;
    assert_api_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(written(&app).await, before);
}

#[tokio::test]
async fn roster_must_be_sent_as_utf8_csv() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let path = format!("/api/v1/schools/{school}/roster");
    let csv = format!("{HEADER}Ada,Lovelace,Class 6,,\n");
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/json"),
        Some("multipart/form-data; boundary=x"),
        Some("text/csv; charset=iso-8859-1"),
    ] {
        let reply = app
            .send(raw_call("POST", &path, &lead, content_type, csv.clone()))
            .await;
        assert_api_error(
            &reply,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
    }
    let before = count(&app, "users").await;
    for content_type in ["text/csv; charset=utf-8", "TEXT/CSV;charset=\"UTF-8\""] {
        let reply = app
            .send(raw_call(
                "POST",
                &path,
                &lead,
                Some(content_type),
                csv.clone(),
            ))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    }
    assert_eq!(count(&app, "users").await, before + 2);
}

#[tokio::test]
async fn roster_with_a_bom_and_crlf_line_endings_imports() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let csv =
        "\u{feff}First_Name,Last_Name,Class\r\nZoë,Ørsted,Class 4B\r\n\"Smith, Jr.\",Ng,Year 5\r\n";
    let reply = post_roster(&app, &lead, &school, csv).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["created"], 2);
    assert_eq!(body["new_classes"], json!(["Year 5"]));
    assert_eq!(body["learners"][0]["first_name"], "Zoë");
    assert_eq!(body["learners"][1]["first_name"], "Smith, Jr.");
    assert_eq!(body["learners"][1]["row"], 3);
}

#[tokio::test]
async fn roster_import_is_for_the_schools_lead_teacher() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let csv = format!("{HEADER}Ada,Lovelace,Class 6,,\n");
    // Another school with its own lead teacher.
    let admin = app.api_session_as("demo.admin", PASSWORD).await;
    let other = create_school(&app, &admin, "Hill Top").await;
    let hana = create_active_user(
        &app,
        &admin,
        json!({ "first_name": "Hana", "last_name": "Hill", "role": "lead_teacher", "school_id": other }),
        ("hana.hill", "a fine passphrase"),
        Some("hana@hilltop.example"),
    )
    .await;

    let before = written(&app).await;
    for who in ["demo.teacher", "demo.amy", "demo.parent"] {
        let session = app.api_session_as(who, PASSWORD).await;
        let reply = post_roster(&app, &session, &school, csv.clone()).await;
        assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    }
    // The other school's lead teacher learns nothing about this school.
    let reply = post_roster(&app, &hana, &school, csv.clone()).await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
    let reply = post_roster(&app, &lead, "not-a-school", csv.clone()).await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
    // Signed out, or without the CSRF token: refused before anything else.
    let reply = app
        .send(
            Request::post(format!("/api/v1/schools/{school}/roster"))
                .header("content-type", "text/csv")
                .body(Body::from(csv.clone()))
                .unwrap(),
        )
        .await;
    assert_api_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
    let reply = post_roster(
        &app,
        &(lead.0.clone(), "wrong".into()),
        &school,
        csv.clone(),
    )
    .await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "csrf_failed");
    assert_eq!(written(&app).await, before);
    // The platform admin may import into any school.
    let reply = post_roster(&app, &admin, &other, csv).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
}

// ---------------------------------------------------------------- the page

/// A multipart form as a browser sends it: the CSRF token, then the file.
fn upload(path: &str, cookies: &str, csrf: &str, file_name: &str, file: &[u8]) -> Request<Body> {
    let boundary = "----keywardTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"roster\"; filename=\"{file_name}\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Request::post(path)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("cookie", cookies)
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn roster_page_imports_a_file_and_shows_the_codes_or_the_problems() {
    let app = demo_app().await;
    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    let home = lead.get("/home").await;
    let school = school_of(&app, &app.api_session_as("demo.lead", PASSWORD).await).await;
    let path = format!("/schools/{school}/roster");
    assert!(
        home.text().contains(&format!("href=\"{path}\"")),
        "{}",
        home.text()
    );

    let form = lead.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    let text = form.text();
    assert!(text.contains("enctype=\"multipart/form-data\""));
    assert!(
        text.contains("type=\"file\" accept=\".csv,text/csv\""),
        "{text}"
    );
    assert!(text.contains("name=\"roster\""));
    assert!(
        form.page_text()
            .contains("first_name,last_name,class,username,email")
    );
    assert!(
        form.page_text()
            .contains("at most 5 MB and 10,000 learners")
    );
    let csrf = form.field("csrf_token").unwrap();

    // A bad file: the problems as a table, nothing written.
    let before = written(&app).await;
    let bad = format!("{HEADER}Ada,,Class 6,,\n=HYPERLINK(\"x\"),Turing,Class 6,,\n");
    let reply = lead
        .send(upload(
            &path,
            &lead.cookie_header(),
            &csrf,
            "class6.csv",
            bad.as_bytes(),
        ))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text()
    );
    let page = reply.page_text();
    assert!(reply.text().contains("role=\"alert\""));
    assert!(page.contains("fix the 2 problems"), "{page}");
    assert!(
        page.contains("<td data-label=\"Row\">2</td>")
            && page.contains("<td data-label=\"Column\">last_name</td>"),
        "{page}"
    );
    assert!(
        page.contains("<td data-label=\"Row\">3</td>") && page.contains("formula"),
        "{page}"
    );
    assert!(!page.contains("HYPERLINK"), "a refused cell is not echoed");
    assert_eq!(written(&app).await, before);

    // No file chosen.
    let reply = lead
        .send(upload(&path, &lead.cookie_header(), &csrf, "", b""))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.page_text().contains("Choose the roster file"));

    // A good file: every learner with both codes, shown once.
    let good = format!("{HEADER}Ada,Lovelace,Class 6,ada.l,\nAlan,Turing,Class 4B,,\n");
    let reply = lead
        .send(upload(
            &path,
            &lead.cookie_header(),
            &csrf,
            "class6.csv",
            good.as_bytes(),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let page = reply.page_text();
    assert!(page.contains("Imported 2 learners"), "{page}");
    assert!(page.contains("New class: Class 6"), "{page}");
    assert!(page.contains("Show access codes"), "{page}");
    let codes = page.matches("<code class=\"code\">").count();
    assert_eq!(codes, 4, "two access codes and two parent access codes");
    assert_eq!(count(&app, "users").await, before[0] + 2);

    // Without the form's token nothing happens.
    let reply = lead
        .send(upload(
            &path,
            &lead.cookie_header(),
            "forged",
            "x.csv",
            good.as_bytes(),
        ))
        .await;
    assert_error_page(&reply, StatusCode::FORBIDDEN);
    assert_eq!(count(&app, "users").await, before[0] + 2);
}

#[tokio::test]
async fn roster_page_is_only_for_those_who_may_import() {
    let app = demo_app().await;
    let school = school_of(&app, &app.api_session_as("demo.lead", PASSWORD).await).await;
    let path = format!("/schools/{school}/roster");
    let signed_out = app.get(&path).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_out.location(), Some("/signin"));
    let mut teacher = app.signed_in_browser("demo.teacher", PASSWORD).await;
    assert!(!teacher.get("/home").await.text().contains("/roster"));
    assert_error_page(&teacher.get(&path).await, StatusCode::FORBIDDEN);
    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    let elsewhere = format!("/schools/{}/roster", uuid_like());
    assert_error_page(&lead.get(&elsewhere).await, StatusCode::NOT_FOUND);
    assert_error_page(
        &lead.get("/schools/nope/roster").await,
        StatusCode::NOT_FOUND,
    );
    // A file over the roster limit is refused by the importer, readably.
    let csrf = lead.get(&path).await.field("csrf_token").unwrap();
    let reply = lead
        .send(upload(
            &path,
            &lead.cookie_header(),
            &csrf,
            "big.csv",
            &vec![b'a'; 5 * 1024 * 1024 + 1],
        ))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.page_text().contains("larger than 5 MB"));
}

/// A well-formed school id that no school has.
fn uuid_like() -> &'static str {
    "7d0e4a52-1c7e-4c1f-9b5e-2f1d3c4b5a69"
}
