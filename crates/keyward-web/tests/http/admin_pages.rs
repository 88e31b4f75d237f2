//! The administrators' pages (issue 15): every breadcrumb goes to a page
//! the viewer may open — as a platform admin, a lead teacher, a teacher, or
//! the holder of a custom role — the confirm pages (GET) change nothing,
//! switching off a school setting that destroys something asks first, a
//! refusal is said under its field, and a parent's page shows each child
//! with how to help them (or says none is linked).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const PASSWORD: &str = DEMO_PASSWORD;

/// The addresses between `start` and the next `end` of a page, in order.
fn hrefs_in(reply: &Reply, start: &str, end: &str) -> Vec<String> {
    let text = reply.text();
    let Some(from) = text.find(start) else {
        return Vec::new();
    };
    let to = text[from..].find(end).map_or(text.len(), |at| from + at);
    text[from..to]
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// The breadcrumbs' addresses (the current page, last, has none).
fn crumbs(reply: &Reply) -> Vec<String> {
    hrefs_in(reply, "aria-label=\"Breadcrumb\"", "</nav>")
}

/// Fails unless every address opens (200) for this browser.
async fn all_open(browser: &mut Browser<'_>, hrefs: &[String], what: &str) {
    for href in hrefs {
        let reply = browser.get(href).await;
        assert_eq!(reply.status, StatusCode::OK, "{what}: {href} does not open");
    }
}

/// A custom role with `permissions` in the demo school, given to `username`.
async fn grant(app: &TestApp, lead: &Session, username: &str, permissions: Value) {
    let school = school_of(app, lead).await;
    let role = app
        .send(call(
            "POST",
            &format!("/api/v1/schools/{school}/roles"),
            lead,
            Some(json!({ "name": "Office", "permissions": permissions })),
        ))
        .await;
    assert_eq!(role.status, StatusCode::CREATED, "{}", role.text());
    let id = user_id(app, username, PASSWORD).await;
    let granted = app
        .send(call(
            "POST",
            &format!("/api/v1/users/{id}/roles"),
            lead,
            Some(json!({ "role_id": role.json()["id"] })),
        ))
        .await;
    assert!(granted.status.is_success(), "{}", granted.text());
}

#[tokio::test]
async fn a_persons_pages_lead_back_to_lists_each_viewer_may_open() {
    let app = demo_app().await;
    let amy = user_id(&app, "demo.amy", PASSWORD).await;
    let tom = user_id(&app, "demo.teacher", PASSWORD).await;

    // The lead teacher: Home › Users › Amy, and above Amy's actions.
    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    let page = lead.get(&format!("/users/{amy}")).await;
    assert_eq!(crumbs(&page), ["/home", "/users"]);
    let disable = lead.get(&format!("/users/{amy}/disable")).await;
    let amys = format!("/users/{amy}");
    assert_eq!(crumbs(&disable), ["/home", "/users", amys.as_str()]);
    all_open(&mut lead, &crumbs(&disable), "the lead teacher").await;
    // Refused (no second factor of their own): the way back is there too.
    let refused = lead.get(&format!("/users/{tom}/password-reset")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(crumbs(&refused).len(), 3);
    all_open(&mut lead, &crumbs(&refused), "a refusal").await;

    // The teacher may not list users: Amy's page leads to the class database.
    let mut teacher = app.signed_in_browser("demo.teacher", PASSWORD).await;
    let page = teacher.get(&format!("/users/{amy}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(crumbs(&page), ["/home", "/classes"]);
    assert!(!page.text().contains("href=\"/users\""));
    all_open(&mut teacher, &crumbs(&page), "the teacher").await;
    assert_eq!(teacher.get("/users").await.status, StatusCode::FORBIDDEN);

    // The platform admin: Users.
    let mut admin = app.signed_in_browser("demo.admin", PASSWORD).await;
    let page = admin.get(&format!("/users/{tom}")).await;
    assert_eq!(crumbs(&page), ["/home", "/users"]);
    all_open(&mut admin, &crumbs(&page), "the platform admin").await;

    // A teacher given View Users by a custom role: Users, which now opens.
    let lead_api = app.api_session_as("demo.lead", PASSWORD).await;
    grant(&app, &lead_api, "demo.teacher", json!(["users.view"])).await;
    let page = teacher.get(&format!("/users/{amy}")).await;
    assert_eq!(crumbs(&page), ["/home", "/users"]);
    all_open(&mut teacher, &crumbs(&page), "a custom role's holder").await;
}

#[tokio::test]
async fn confirm_pages_change_nothing() {
    let app = demo_app().await;
    let tom = user_id(&app, "demo.teacher", PASSWORD).await;
    let toms_session = app.api_session_as("demo.teacher", PASSWORD).await;
    let lead_api = app.api_session_as("demo.lead", PASSWORD).await;
    enrol_totp(&app, &lead_api, PASSWORD).await;
    let school = school_of(&app, &lead_api).await;
    let pending = create_user(
        &app,
        &lead_api,
        json!({ "first_name": "Pat", "last_name": "Pending", "role": "learner", "school_id": school }),
    )
    .await;
    let pat = pending["id"].as_str().unwrap().to_owned();
    let mut lead = app.browser();
    lead.set_cookie("kw_session", &lead_api.0);
    let before = app.audit_actions().await;

    for (path, asks) in [
        (format!("/users/{tom}/disable"), "sessions end now"),
        (
            format!("/users/{tom}/temporary-password"),
            "stops working now",
        ),
        (
            format!("/users/{tom}/password-reset"),
            "Nothing changes until they use it",
        ),
        (
            format!("/users/{tom}/mfa-reset"),
            "signed out everywhere now",
        ),
        (format!("/users/{pat}/access-code"), "stops working at once"),
    ] {
        let page = lead.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text());
        assert!(page.text().contains("class=\"confirm\""), "{path}");
        assert!(
            page.page_text().contains(asks),
            "{path}: {}",
            page.page_text()
        );
        assert!(
            page.field("csrf_token").is_some(),
            "{path}: a form to confirm"
        );
    }

    assert_eq!(app.audit_actions().await, before, "nothing was done");
    let me = app
        .send(call("GET", "/api/v1/me", &toms_session, None))
        .await;
    assert_eq!(me.status, StatusCode::OK, "Tom's session still works");
    assert!(signs_in(&app, "demo.teacher", PASSWORD).await);
    let code = pending["access_code"].as_str().unwrap();
    activate(&app, code, "pat.pending", "Tiger4Apple", None).await;
}

#[tokio::test]
async fn the_school_pages_lead_back_to_pages_the_viewer_may_open() {
    let app = demo_app().await;
    let lead_api = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead_api).await;
    let sso = format!("/schools/{school}/sso");

    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    let hub = lead.get("/school").await;
    let shortcuts = hrefs_in(&hub, "class=\"card wide school-hub\"", "</section>");
    for wanted in [
        "/users",
        "/users/new",
        "/school/settings",
        sso.as_str(),
        "/audit",
    ] {
        assert!(
            shortcuts.iter().any(|h| h == wanted),
            "{wanted} in {shortcuts:?}"
        );
    }
    all_open(&mut lead, &shortcuts, "the lead teacher's hub").await;
    assert_eq!(
        crumbs(&lead.get("/school/settings").await),
        ["/home", "/school"]
    );
    assert_eq!(crumbs(&lead.get(&sso).await), ["/home", "/school"]);

    // The teacher reads the settings; /school is not theirs.
    let mut teacher = app.signed_in_browser("demo.teacher", PASSWORD).await;
    let settings = teacher.get("/school/settings").await;
    assert_eq!(settings.status, StatusCode::OK);
    assert_eq!(crumbs(&settings), ["/home"]);
    assert_eq!(teacher.get("/school").await.status, StatusCode::FORBIDDEN);

    // The platform admin belongs to no school: single sign-on leads home.
    let mut admin = app.signed_in_browser("demo.admin", PASSWORD).await;
    let page = admin.get(&sso).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(crumbs(&page), ["/home"]);
    assert_eq!(admin.get("/school").await.status, StatusCode::NOT_FOUND);

    // A custom role that opens the hub without users.view: no shortcut it
    // may not follow.
    grant(&app, &lead_api, "demo.teacher", json!(["learners.view"])).await;
    let hub = teacher.get("/school").await;
    assert_eq!(hub.status, StatusCode::OK);
    let shortcuts = hrefs_in(&hub, "class=\"card wide school-hub\"", "</section>");
    assert!(
        !shortcuts
            .iter()
            .any(|h| h.starts_with("/users") || h == "/audit")
    );
    all_open(&mut teacher, &shortcuts, "a custom role's hub").await;
    assert_eq!(
        crumbs(&teacher.get("/school/settings").await),
        ["/home", "/school"]
    );
}

#[tokio::test]
async fn switching_off_learners_passkeys_asks_first() {
    let app = demo_app().await;
    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    let csrf = lead
        .get("/school/settings")
        .await
        .field("csrf_token")
        .unwrap();
    let on = [("csrf_token", csrf.as_str()), ("learner_passkeys", "on")];
    let saved = lead.post_form("/school/settings/passkeys", &on).await;
    assert!(saved.page_text().contains("can now add passkeys"));

    let asked = lead
        .post_form("/school/settings/passkeys", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        asked
            .page_text()
            .contains("Every passkey learners have added is removed now")
    );
    let still = lead.get("/school/settings").await;
    assert!(still.text().contains(
        "name=\"learner_passkeys\" value=\"on\" aria-describedby=\"learner-passkeys-note\" checked"
    ));

    let off = [("csrf_token", csrf.as_str()), ("confirm", "yes")];
    let done = lead.post_form("/school/settings/passkeys", &off).await;
    assert!(done.page_text().contains("Learners cannot use passkeys"));
}

#[tokio::test]
async fn a_refusal_is_said_under_its_field() {
    let app = demo_app().await;
    let lead_api = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead_api).await;
    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    let csrf = lead.get("/users/new").await.field("csrf_token").unwrap();
    let added = lead
        .post_form(
            "/users/new",
            &[
                ("csrf_token", &csrf),
                ("first_name", "Nia"),
                ("last_name", "Noemail"),
                ("role", "teacher"),
                ("school_id", &school),
                ("email", "not an address"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = added.text();
    assert!(
        text.contains(
            "aria-invalid=\"true\" aria-describedby=\"email-error email-hint\" data-focus-on-load"
        ),
        "{text}"
    );
    assert!(text.find("id=\"email\"").unwrap() < text.find("id=\"email-error\"").unwrap());
    assert!(text.contains("value=\"Nia\""), "what was typed is kept");

    let list = lead.get("/users?status=asleep").await;
    assert_eq!(list.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(list.text().contains("id=\"status-error\""));
    assert!(
        list.text()
            .contains("aria-invalid=\"true\" aria-describedby=\"status-error\"")
    );
    // Paging has no field: said above the list.
    let paged = lead.get("/users?page=0").await;
    assert_eq!(paged.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(paged.text().contains("role=\"alert\""));

    let audit = lead.get("/audit?from=2026-02-30").await;
    assert_eq!(audit.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(audit.text().contains("id=\"from-error\""));
    assert!(
        audit
            .text()
            .contains("aria-describedby=\"from-error dates-hint\"")
    );

    let empty = lead.get("/users?q=nobody.by.this.name").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.page_text().contains("No one matches these filters."));
}

#[tokio::test]
async fn a_parent_sees_each_child_with_how_to_help_and_an_empty_page_before_any() {
    let app = demo_app().await;
    let mut parent = app.signed_in_browser("demo.parent", PASSWORD).await;
    let page = parent.get("/children").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.page_text();
    assert!(
        text.contains("Amy Adams") && text.contains("demo.amy"),
        "{text}"
    );
    assert!(text.contains("http://127.0.0.1:8080/signin"), "{text}");
    assert!(text.contains("Parents can't see or change a child's password"));

    let csrf = page.field("csrf_token").unwrap();
    let wrong = parent
        .post_form(
            "/children",
            &[
                ("csrf_token", &csrf),
                ("parent_access_code", "WRONG-CODE-99"),
            ],
        )
        .await;
    assert!(wrong.status.is_client_error(), "{}", wrong.status);
    let html = wrong.text();
    assert!(
        html.find("id=\"parent_access_code\"").unwrap()
            < html.find("id=\"parent_access_code-error\"").unwrap()
    );
    assert!(html.contains("aria-invalid=\"true\""));

    // A parent added by the school, with no child linked yet.
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let pip = json!({ "first_name": "Pip", "last_name": "Parent", "role": "parent", "school_id": school });
    let login = ("pip.parent", "Tiger4Apple-Pear");
    create_active_user(&app, &lead, pip, login, Some("pip@family.example")).await;
    let mut pip = app.signed_in_browser(login.0, login.1).await;
    let page = pip.get("/children").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.page_text()
            .contains("No child is linked to your account yet.")
    );
    assert!(page.text().contains("class=\"empty\""));
}

/// Fails if a page shows a message id instead of its text (a missing
/// message renders as its id, and every id of these pages starts so).
fn says_no_message_id(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{what}");
    let text = reply.text();
    for id in [
        "admin-",
        "role-learner",
        "role-teacher",
        "role-lead-teacher",
    ] {
        assert!(!text.contains(id), "{what} shows a message id ({id}…)");
    }
}

#[tokio::test]
async fn the_users_list_and_a_persons_page_show_words_not_message_ids() {
    let app = demo_app().await;
    let amy = user_id(&app, "demo.amy", PASSWORD).await;
    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;

    let list = lead.get("/users").await;
    says_no_message_id(&list, "the users list");
    assert!(list.text().contains("people found"), "{}", list.text());
    assert!(list.text().contains("data-label=\"Two-step verification\""));
    assert!(list.text().contains("Lead teacher"));
    assert!(list.text().contains("Active"));
    let one = lead.get("/users?q=demo.amy").await;
    says_no_message_id(&one, "a search");
    assert!(one.text().contains("1 person found"), "{}", one.text());
    let nobody = lead.get("/users?q=nobody-at-all").await;
    says_no_message_id(&nobody, "an empty search");
    assert!(nobody.text().contains("No one matches these filters."));

    let page = lead.get(&format!("/users/{amy}")).await;
    says_no_message_id(&page, "a person's page");
    assert!(page.text().contains("Authenticator app: Off"));
    assert!(page.text().contains("Learner"));
    assert!(page.text().contains("(Enrolled)"));
    let added = lead.get(&format!("/users/{amy}?enabled=1")).await;
    says_no_message_id(&added, "a person's page after enabling");
    assert!(added.text().contains("The account is enabled again."));
}
