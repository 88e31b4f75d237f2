//! The home pages as dashboards and the menu (issue 15): what each role
//! sees on `/home`, the menu marking the page shown and following custom
//! roles, and the confirm pages of Account Settings.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// What `<main>` says, as a person reads it: no tags, one space between words.
fn words(reply: &Reply) -> String {
    let html = reply.page_text();
    let main = html
        .split("<main")
        .nth(1)
        .and_then(|rest| rest.split("</main>").next())
        .unwrap_or(&html)
        .to_owned();
    let text = regex::Regex::new(r"<[^>]*>")
        .unwrap()
        .replace_all(&main, " ");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The menu's links in the side bar, in order, as (address, label, aria-current).
fn menu(html: &str) -> Vec<(String, String, String)> {
    let sidebar = html
        .split("<nav class=\"sidebar\"")
        .nth(1)
        .and_then(|rest| rest.split("</nav>").next())
        .expect("a side bar");
    regex::Regex::new(r#"<a href="([^"]+)"(?: aria-current="([a-z]+)")?>([^<]+)</a>"#)
        .unwrap()
        .captures_iter(sidebar)
        .map(|c| {
            let current = c.get(2).map_or("", |m| m.as_str()).to_owned();
            (c[1].to_owned(), c[3].to_owned(), current)
        })
        .collect()
}

#[tokio::test]
async fn a_teachers_home_counts_the_learners_of_each_class_and_offers_its_actions() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", DEMO_PASSWORD).await;
    let class = demo_class_id(&app, &teacher).await;
    let school = school_of(&app, &lead).await;
    create_user(
        &app,
        &lead,
        json!({ "first_name": "Dev", "last_name": "Patel", "role": "learner",
                "school_id": school, "class_ids": [class] }),
    )
    .await;
    let mut browser = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;
    let home = browser.get("/home").await;
    assert_eq!(home.status, StatusCode::OK);
    let text = words(&home);
    assert!(text.contains("Signed in as demo.teacher"), "{text}");
    assert!(text.contains("Your classes"));
    assert!(
        text.contains("Class 4B 4 learners 1 not started yet"),
        "{text}"
    );
    let html = home.text();
    for action in ["", "/accounts", "/accounts/codes", "/password-reset"] {
        assert!(
            html.contains(&format!("href=\"/classes/{class}{action}\"")),
            "{action}"
        );
    }
    // The teacher sees no school numbers and no other class.
    assert!(!text.contains("Your school") && !text.contains("Class 5"));
}

#[tokio::test]
async fn a_lead_teachers_home_shows_the_schools_numbers_and_shortcuts() {
    let app = demo_app().await;
    let mut browser = app.signed_in_browser("demo.lead", DEMO_PASSWORD).await;
    let home = browser.get("/home").await;
    let text = words(&home);
    // 1 class; Amy, Ben, Cara; the lead teacher and the teacher; the parent; none pending.
    assert!(
        text.contains("Your school 1 Classes 3 Learners 2 Teachers 1 Parents 0 Not activated yet"),
        "{text}"
    );
    let school = school_of(&app, &app.api_session_as("demo.lead", DEMO_PASSWORD).await).await;
    for link in [
        "/classes".to_owned(),
        "/school/students".to_owned(),
        "/school".to_owned(),
        "/users".to_owned(),
        "/audit".to_owned(),
        format!("/schools/{school}/roster"),
        format!("/schools/{school}/sso"),
    ] {
        assert!(home.text().contains(&format!("href=\"{link}\"")), "{link}");
    }
}

#[tokio::test]
async fn a_platform_admins_home_lists_every_school_with_its_numbers() {
    let app = demo_app().await;
    let admin = app.api_session_as("demo.admin", DEMO_PASSWORD).await;
    let elsewhere = create_school(&app, &admin, "Hill Top Academy").await;
    let mut browser = app.signed_in_browser("demo.admin", DEMO_PASSWORD).await;
    let home = browser.get("/home").await;
    let text = words(&home);
    assert!(text.contains("Hill Top Academy 0 0 0 0 0"), "{text}");
    assert!(
        text.contains("Riverside Primary School 1 3 2 1 0"),
        "{text}"
    );
    let html = home.text();
    assert!(html.contains(&format!("href=\"/users?school_id={elsewhere}\"")));
    assert!(html.contains(&format!("href=\"/schools/{elsewhere}/sso\"")));
}

#[tokio::test]
async fn a_learners_home_names_her_class_and_its_teachers() {
    let app = demo_app().await;
    let mut amy = app.signed_in_browser("demo.amy", DEMO_PASSWORD).await;
    let home = amy.get("/home").await;
    let text = words(&home);
    assert!(
        text.contains("Your classes Class 4B Teachers: Tom Baker and Lena Fischer"),
        "{text}"
    );
    assert!(home.text().contains("href=\"/account\""));
    assert!(text.contains("Join another class"));
    assert!(!text.contains("Shortcuts") && !text.contains("Your school"));
}

#[tokio::test]
async fn a_parents_home_shows_each_child_with_username_and_class() {
    let app = demo_app().await;
    let mut parent = app.signed_in_browser("demo.parent", DEMO_PASSWORD).await;
    let text = words(&parent.get("/home").await);
    assert!(
        text.contains(
            "Your children Amy Adams Username: demo.amy Class 4B, with Tom Baker and Lena Fischer"
        ),
        "{text}"
    );
    assert!(text.contains("Link another child"));
}

#[tokio::test]
async fn the_menu_marks_the_page_shown_and_offers_only_what_the_role_may_open() {
    let app = demo_app().await;
    let mut teacher = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;
    let links = menu(&teacher.get("/home").await.text());
    let labels: Vec<(&str, &str)> = links
        .iter()
        .map(|(href, label, current)| {
            (
                label.as_str(),
                if current.is_empty() {
                    href.as_str()
                } else {
                    current.as_str()
                },
            )
        })
        .collect();
    assert_eq!(
        labels,
        [
            ("Home", "page"),
            ("Class database", "/classes"),
            ("Account Settings", "/account")
        ]
    );
    let inside = menu(&teacher.get("/account/sessions").await.text());
    assert_eq!(
        inside[2],
        ("/account".into(), "Account Settings".into(), "true".into())
    );
    assert_eq!(inside[0].2, "");
    // An error page keeps the menu, marking nothing it does not know.
    let refused = teacher.get("/school/students").await;
    assert_eq!(menu(&refused.text()).len(), 3);
}

#[tokio::test]
async fn a_custom_role_with_users_view_brings_users_into_the_menu() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let teacher_id = user_id(&app, "demo.teacher", DEMO_PASSWORD).await;
    let mut teacher = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;
    let before = teacher.get("/home").await.text();
    assert!(!before.contains("href=\"/users\""));
    let role = app
        .send(call(
            "POST",
            &format!("/api/v1/schools/{school}/roles"),
            &lead,
            Some(json!({ "name": "Helpers", "permissions": ["users.view", "audit.view"] })),
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
    let home = teacher.get("/home").await;
    let labels: Vec<String> = menu(&home.text()).into_iter().map(|l| l.1).collect();
    assert_eq!(
        labels,
        [
            "Home",
            "Class database",
            "Users",
            "Audit log",
            "Account Settings"
        ]
    );
    // The menu's Users opens, and the home page counts the school for them.
    assert_eq!(teacher.get("/users").await.status, StatusCode::OK);
    assert!(words(&home).contains("Your school"));
}

#[tokio::test]
async fn turning_off_two_step_and_signing_out_others_each_have_a_confirm_page() {
    let app = demo_app().await;
    let mut laptop = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;
    // Off: the confirm page of turning it off leads back to the overview.
    let off = laptop.get("/account/mfa/off").await;
    assert_eq!(off.location(), Some("/account/mfa"));
    // One session: nothing to confirm.
    let none = laptop.get("/account/sessions/sign-out-others").await;
    assert_eq!(none.location(), Some("/account/sessions"));

    let mut phone = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;
    let sessions = laptop.get("/account/sessions").await;
    assert!(
        sessions
            .text()
            .contains("href=\"/account/sessions/sign-out-others\"")
    );
    let confirm = laptop.get("/account/sessions/sign-out-others").await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(words(&confirm).contains("Sign out 1 other session?"));
    assert_eq!(
        phone.get("/home").await.status,
        StatusCode::OK,
        "nothing ended yet"
    );
    let csrf = confirm.field("csrf_token").unwrap();
    let done = laptop
        .post_form(
            "/account/sessions/sign-out-others",
            &[("csrf_token", &csrf)],
        )
        .await;
    assert!(
        done.page_text()
            .contains("1 other session has been signed out.")
    );
    assert!(phone.get("/home").await.status.is_redirection());
}

#[tokio::test]
async fn a_refusal_stands_next_to_its_field_which_takes_the_focus() {
    let app = demo_app().await;
    let mut teacher = app.signed_in_browser("demo.teacher", DEMO_PASSWORD).await;
    let csrf = teacher
        .get("/account/password")
        .await
        .field("csrf_token")
        .unwrap();
    let refused = teacher
        .post_form(
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", DEMO_PASSWORD),
                ("new_password", "short"),
                ("confirm_password", "shorter"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text();
    let input = |id: &str| {
        let start = html
            .find(&format!("<input id=\"{id}\""))
            .expect("the field");
        html[start..start + html[start..].find('>').unwrap()].to_owned()
    };
    assert!(input("new_password").contains("autofocus"), "{html}");
    assert!(
        input("new_password")
            .contains("aria-describedby=\"new_password-error new_password-rules\"")
    );
    assert!(input("confirm_password").contains("aria-invalid=\"true\""));
    assert!(!input("confirm_password").contains("autofocus"));
    assert!(!input("current_password").contains("aria-invalid"));
    let text = words(&refused);
    assert!(
        text.contains("New password Please fix these: Use at least 8 characters."),
        "{text}"
    );
    assert!(
        text.contains("Confirm new password The two passwords don't match."),
        "{text}"
    );
}
