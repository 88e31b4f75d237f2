//! The teachers' pages of issue 15: what each learner's row offers (no
//! **Reset password** for a learner who has not set up their account, but
//! **Show access codes**), the class page's learners and ways on, the
//! breadcrumbs that only name pages the person may open (a platform admin's
//! way back from a learner is the learner under Users, not the student
//! database), the confirm step of the class code that changes nothing, and
//! the login cards that say where to sign in.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const PASSWORD: &str = DEMO_PASSWORD;

/// Class 4B's id and a new pending learner in it (Dev Patel): her id.
async fn class_with_pending_learner(app: &TestApp) -> (String, String) {
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let class = demo_class_id(app, &lead).await;
    let school = school_of(app, &lead).await;
    let dev: Value = create_user(
        app,
        &lead,
        json!({ "first_name": "Dev", "last_name": "Patel", "role": "learner", "school_id": school, "class_ids": [class] }),
    )
    .await;
    (class, dev["id"].as_str().expect("an id").to_owned())
}

#[tokio::test]
async fn a_pending_learner_is_offered_show_access_codes_not_reset_password() {
    let app = demo_app().await;
    let (class, dev) = class_with_pending_learner(&app).await;
    let amy = user_id(&app, "demo.amy", PASSWORD).await;
    let mut teacher = app.signed_in_browser("demo.teacher", PASSWORD).await;

    for path in ["/classes".to_owned(), format!("/classes/{class}")] {
        let page = teacher.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let html = page.text();
        assert!(
            html.contains("Dev Patel"),
            "{path}: the pending learner is listed"
        );
        assert!(
            !html.contains(&format!("/learners/{dev}/password")),
            "{path}"
        );
        assert!(
            html.contains(&format!("/classes/{class}/accounts/codes#learner-{dev}")),
            "{path}: {html}"
        );
        assert!(
            html.contains(&format!("/learners/{amy}/password")),
            "{path}"
        );
    }
    // The anchor is on the access codes page, in her row.
    let codes = teacher
        .get(&format!("/classes/{class}/accounts/codes"))
        .await;
    assert!(codes.text().contains(&format!("id=\"learner-{dev}\"")));

    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    let students = lead.get("/school/students").await.text();
    assert!(!students.contains(&format!("/learners/{dev}/password")));
    assert!(students.contains(&format!("/school/accounts/codes#learner-{dev}")));
}

#[tokio::test]
async fn the_two_reset_password_actions_of_the_class_database_read_differently() {
    let app = demo_app().await;
    let mut teacher = app.signed_in_browser("demo.teacher", PASSWORD).await;
    let text = teacher.get("/classes").await.page_text();
    assert!(
        text.contains(">Reset password for the whole class<"),
        "{text}"
    );
    assert!(text.contains(">Reset password<span class=\"visually-hidden\"> for Amy Adams</span>"));
    assert!(text.contains("class=\"intro\""));
    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    let text = lead.get("/school/students").await.page_text();
    assert!(text.contains("<h1>Student database</h1>"));
    assert!(text.contains("class=\"intro\""));
}

#[tokio::test]
async fn the_class_page_lists_its_learners_and_leads_on() {
    let app = demo_app().await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let class = demo_class_id(&app, &teacher).await;
    let mut browser = app.signed_in_browser("demo.teacher", PASSWORD).await;
    let page = browser.get(&format!("/classes/{class}")).await;
    let html = page.page_text();
    for learner in ["Amy Adams", "Ben Brown", "Cara Clark"] {
        assert!(html.contains(learner), "{learner}: {html}");
    }
    assert!(html.contains("Learners (3)"));
    for href in [
        "<li><a href=\"/classes\">Class database</a></li>".to_owned(),
        format!("href=\"/classes/{class}/accounts\""),
        format!("href=\"/classes/{class}/password-reset\""),
    ] {
        assert!(html.contains(&href), "{href}");
    }
    assert!(html.contains("aria-label=\"Breadcrumb\""));

    // A platform admin has no class database: the trail is only Home.
    let mut admin = app.signed_in_browser("demo.admin", PASSWORD).await;
    let page = admin.get(&format!("/classes/{class}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text().contains("href=\"/classes\""));
    assert_eq!(admin.get("/classes").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_learner_page_leads_back_to_a_page_each_role_may_open() {
    let app = demo_app().await;
    let amy = user_id(&app, "demo.amy", PASSWORD).await;
    let path = format!("/learners/{amy}/password");
    for (username, back, refused) in [
        ("demo.admin", format!("/users/{amy}"), "/school/students"),
        ("demo.lead", "/school/students".to_owned(), "/users/"),
        ("demo.teacher", "/classes".to_owned(), "/school/students"),
    ] {
        let mut browser = app.signed_in_browser(username, PASSWORD).await;
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{username}");
        let html = page.text();
        assert!(
            html.contains(&format!("href=\"{back}\"")),
            "{username}: {html}"
        );
        assert!(!html.contains(&format!("href=\"{refused}")), "{username}");
        assert_eq!(
            browser.get(&back).await.status,
            StatusCode::OK,
            "{username}: {back}"
        );
    }
}

#[tokio::test]
async fn the_confirm_step_of_the_class_code_changes_nothing() {
    let app = demo_app().await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let class = demo_class_id(&app, &teacher).await;
    let code = app.kw.demo_class_code().await.unwrap().unwrap();
    let mut browser = app.signed_in_browser("demo.teacher", PASSWORD).await;
    let class_page = browser.get(&format!("/classes/{class}")).await.text();
    let base = format!("/classes/{class}/class-code");
    for (action, button) in [("regenerate", "Regenerate code"), ("disable", "Switch off")] {
        assert!(class_page.contains(&format!("href=\"{base}?action={action}\"")));
        let page = browser.get(&format!("{base}?action={action}")).await;
        assert_eq!(page.status, StatusCode::OK, "{action}");
        let html = page.page_text();
        assert!(html.contains("class=\"confirm\""), "{action}");
        assert!(html.contains(&format!("action=\"{base}\"")), "{action}");
        assert!(html.contains(&format!("value=\"{action}\"")), "{action}");
        assert!(html.contains(&format!(">{button}</button>")), "{action}");
        assert!(
            html.contains(&code),
            "{action}: the code being replaced is named"
        );
        // Opening it changed nothing: the same code, still on.
        assert_eq!(app.kw.demo_class_code().await.unwrap(), Some(code.clone()));
    }
    // Switching on takes nothing away: no confirm page, back to the class.
    let on = browser.get(&format!("{base}?action=enable")).await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    assert_eq!(on.location(), Some(format!("/classes/{class}").as_str()));
    assert_error_page(
        &browser.get(&format!("{base}?action=delete")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    // The confirm page is the class's teachers' only.
    let mut amy = app.signed_in_browser("demo.amy", PASSWORD).await;
    assert_error_page(
        &amy.get(&format!("{base}?action=regenerate")).await,
        StatusCode::FORBIDDEN,
    );
    let signed_out = app.get(&format!("{base}?action=regenerate")).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert_eq!(app.kw.demo_class_code().await.unwrap(), Some(code));

    // The whole-class reset's form changes nothing either: it asks first.
    let form = browser
        .get(&format!("/classes/{class}/password-reset"))
        .await;
    assert!(form.page_text().contains("class=\"confirm\""));
    assert!(signs_in(&app, "demo.amy", PASSWORD).await);
}

#[tokio::test]
async fn printed_cards_name_the_school_and_the_address_to_sign_in_at() {
    let app = demo_app().await;
    let (class, dev) = class_with_pending_learner(&app).await;
    let amy = user_id(&app, "demo.amy", PASSWORD).await;
    let where_ = "Sign in at <strong>http://127.0.0.1:8080</strong>";
    let mut teacher = app.signed_in_browser("demo.teacher", PASSWORD).await;

    // Show access codes: a card for each learner; Dev's has her access code.
    let codes = teacher
        .get(&format!("/classes/{class}/accounts/codes"))
        .await
        .page_text();
    assert_eq!(codes.matches("class=\"login-card\"").count(), 4, "{codes}");
    assert_eq!(codes.matches(where_).count(), 4, "{codes}");
    assert!(codes.contains("Riverside Primary School · Class 4B"));
    assert!(codes.contains("Choose <strong>Use a code</strong>"));
    assert!(codes.contains(">Print cards</button>"));
    // User accounts without the codes prints as a list, not as cards.
    let accounts = teacher.get(&format!("/classes/{class}/accounts")).await;
    assert!(!accounts.text().contains("class=\"login-card\""));

    // The whole-class reset's result: a card per learner given a password.
    let path = format!("/classes/{class}/password-reset");
    let csrf = teacher.get(&path).await.field("csrf_token").unwrap();
    let result = teacher
        .post_form(&path, &[("csrf_token", &csrf), ("mode", "individual")])
        .await;
    assert_eq!(result.status, StatusCode::OK, "{}", result.text());
    let html = result.page_text();
    assert_eq!(html.matches("class=\"login-card\"").count(), 3, "{html}");
    assert_eq!(html.matches(where_).count(), 3);
    assert!(html.contains("Riverside Primary School · Class 4B"));
    assert!(html.contains(&format!(
        "href=\"/classes/{class}/accounts/codes#learner-{dev}\""
    )));
    assert!(html.contains("class=\"stack reset-table\""));

    // One learner: the card after Reset, with the new password.
    let page = teacher.get(&format!("/learners/{amy}/password")).await;
    assert!(
        !page.text().contains("class=\"login-card\""),
        "no card before a password"
    );
    let csrf = page.field("csrf_token").unwrap();
    let done = teacher
        .post_form(
            &format!("/learners/{amy}/password"),
            &[
                ("csrf_token", &csrf),
                ("origin", "chosen"),
                ("password", "TigerApple42"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    let html = done.page_text();
    assert_eq!(html.matches("class=\"login-card\"").count(), 1);
    assert!(html.contains(where_));
    assert!(html.contains("Riverside Primary School"));
    assert!(html.contains("<dd class=\"login-card-secret\">TigerApple42</dd>"));
}

/// A message id missing from English would show as the id itself: every
/// teacher's page, and the whole-class reset's result, says its words.
#[tokio::test]
async fn the_teachers_pages_say_every_message_in_words() {
    let app = demo_app().await;
    let (class, _) = class_with_pending_learner(&app).await;
    let amy = user_id(&app, "demo.amy", PASSWORD).await;
    let lead_session = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead_session).await;
    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    let pages = [
        "/classes".to_owned(),
        format!("/classes/{class}"),
        format!("/classes/{class}?notice=regenerated"),
        format!("/classes/{class}/class-code?action=regenerate"),
        format!("/classes/{class}/class-code?action=disable"),
        format!("/classes/{class}/accounts"),
        format!("/classes/{class}/accounts/codes"),
        format!("/classes/{class}/password-reset"),
        format!("/learners/{amy}/password"),
        "/school/students".to_owned(),
        "/school/accounts".to_owned(),
        "/school/accounts/codes".to_owned(),
        format!("/schools/{school}/roster"),
    ];
    for path in &pages {
        let page = lead.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let text = page.page_text();
        assert!(!text.contains("teacher-"), "{path}: a missing id: {text}");
    }
    let path = format!("/classes/{class}/password-reset");
    let csrf = lead.get(&path).await.field("csrf_token").unwrap();
    let result = lead
        .post_form(&path, &[("csrf_token", &csrf), ("mode", "individual")])
        .await;
    assert_eq!(result.status, StatusCode::OK);
    let text = result.page_text();
    assert!(!text.contains("teacher-"), "{text}");
    assert!(text.contains("learners have a new password."), "{text}");
}
