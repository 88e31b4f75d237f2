//! Schools, classes, users and **Use a code** through the JSON API and the
//! pages, with accounts of every role acting in and out of scope.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::*;

const PASSWORD: &str = DEMO_PASSWORD;

#[tokio::test]
async fn a_school_is_set_up_and_a_learner_activates_with_the_code() {
    let app = demo_app().await;
    let admin = app.api_session_as("demo.admin", PASSWORD).await;
    create_school(&app, &admin, "Hill Top").await;

    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let teacher_id = user_id(&app, "demo.teacher", PASSWORD).await;
    let (class, class_code) = create_class(&app, &lead, &school, "Class 6C", &[&teacher_id]).await;
    assert_eq!(class_code.len(), 6);

    let learner = create_user(
        &app,
        &lead,
        json!({ "first_name": "Nia", "last_name": "New", "role": "learner", "school_id": school, "class_ids": [class] }),
    )
    .await;
    let code = learner["access_code"].as_str().unwrap().to_owned();
    assert!(learner["parent_access_code"].is_string());

    // The teacher of the class sees the learner and can show the codes again.
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let shown = app
        .send(call(
            "GET",
            &format!("/api/v1/users/{}", learner["id"].as_str().unwrap()),
            &teacher,
            None,
        ))
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
    assert_eq!(shown.json()["access_code"], code.as_str());
    assert_eq!(shown.json()["status"], "pending");

    activate(&app, &code, "nia.new", "TigerApple42", None).await;
    assert!(signs_in(&app, "nia.new", "TigerApple42").await);
    let again = app
        .send(json_post(
            "/api/v1/activate",
            &json!({ "code": code, "username": "nia.two", "password": "TigerApple42" }),
        ))
        .await;
    assert_api_error(&again, StatusCode::GONE, "code_used");
}

#[tokio::test]
async fn nothing_out_of_scope_succeeds_or_leaks_existence() {
    let app = demo_app().await;
    let admin = app.api_session_as("demo.admin", PASSWORD).await;
    let other_id = create_school(&app, &admin, "Elsewhere").await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let learner = app.api_session_as("demo.amy", PASSWORD).await;
    let school = school_of(&app, &lead).await;

    // Creating schools: platform admins only.
    for who in [&lead, &teacher, &learner] {
        let reply = app
            .send(call(
                "POST",
                "/api/v1/schools",
                who,
                Some(json!({ "name": "Mine" })),
            ))
            .await;
        assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    }
    // Another school's classes and users: not even its existence.
    let reply = app
        .send(call(
            "POST",
            &format!("/api/v1/schools/{other_id}/classes"),
            &lead,
            Some(json!({ "name": "X" })),
        ))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
    let reply = app
        .send(call("POST", "/api/v1/users", &lead, Some(json!({ "first_name": "A", "last_name": "B", "role": "learner", "school_id": other_id }))))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
    // Teachers and learners do not create users; a lead teacher does not create admins.
    for who in [&teacher, &learner] {
        let reply = app
            .send(call("POST", "/api/v1/users", who, Some(json!({ "first_name": "A", "last_name": "B", "role": "learner", "school_id": school }))))
            .await;
        assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    }
    let reply = app
        .send(call(
            "POST",
            "/api/v1/users",
            &lead,
            Some(json!({ "first_name": "A", "last_name": "B", "role": "platform_admin" })),
        ))
        .await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    // A learner of another class is not the teacher's to see.
    let stranger = create_user(
        &app,
        &lead,
        json!({ "first_name": "S", "last_name": "T", "role": "learner", "school_id": school }),
    )
    .await;
    let reply = app
        .send(call(
            "GET",
            &format!("/api/v1/users/{}", stranger["id"].as_str().unwrap()),
            &teacher,
            None,
        ))
        .await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    // The platform admin is invisible to a school.
    let admin_id = user_id(&app, "demo.admin", PASSWORD).await;
    let reply = app
        .send(call(
            "GET",
            &format!("/api/v1/users/{admin_id}"),
            &lead,
            None,
        ))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
    let reply = app
        .send(call("GET", "/api/v1/users/not-an-id", &lead, None))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn bad_input_gets_clear_errors() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    for body in [
        json!({ "first_name": "", "last_name": "B", "role": "learner", "school_id": school }),
        json!({ "first_name": "A", "last_name": "B", "role": "wizard", "school_id": school }),
        json!({ "first_name": "A", "last_name": "B", "role": "teacher", "school_id": school, "email": "not-an-email" }),
        json!({ "first_name": "A", "last_name": "B", "role": "learner", "school_id": school, "class_ids": ["nope"] }),
    ] {
        let reply = app
            .send(call("POST", "/api/v1/users", &lead, Some(body.clone())))
            .await;
        assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_user");
    }
    let reply = app
        .send(json_post(
            "/api/v1/activate",
            &json!({ "code": "ABCDE-FGHJK", "username": "x.y.z", "password": "TigerApple42" }),
        ))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "code_unknown");
    let reply = app
        .send(json_post(
            "/api/v1/activate",
            &json!({ "code": "", "username": "", "password": "" }),
        ))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "code_unknown");
}

#[tokio::test]
async fn use_a_code_through_the_pages() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let created = create_user(
        &app,
        &lead,
        json!({ "first_name": "Tia", "last_name": "Teach", "role": "teacher", "school_id": school }),
    )
    .await;
    let code = created["access_code"].as_str().unwrap();
    let mut browser = app.browser();
    let form = browser.get("/activate").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.field("csrf_token").unwrap();
    let wrong = browser
        .post_form(
            "/activate/code",
            &[("csrf_token", &csrf), ("code", "ABCDE-FGHJK")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert!(wrong.page_text().contains("doesn't work"));
    let step = browser
        .post_form("/activate/code", &[("csrf_token", &csrf), ("code", code)])
        .await;
    assert_eq!(step.status, StatusCode::OK, "{}", step.text());
    assert!(step.page_text().contains("Hello Tia"));
    assert!(
        step.text().contains("name=\"email\""),
        "staff give an email"
    );
    let csrf = step.field("csrf_token").unwrap();
    let missing = browser
        .post_form(
            "/activate",
            &[
                ("csrf_token", &csrf),
                ("code", code),
                ("username", "tia.teach"),
                ("password", "a fine passphrase"),
                ("confirm_password", "a fine passphrase"),
            ],
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.page_text().contains("Enter your email address"));
    let done = browser
        .post_form(
            "/activate",
            &[
                ("csrf_token", &csrf),
                ("code", code),
                ("username", "tia.teach"),
                ("email", "tia@school.example"),
                ("password", "a fine passphrase"),
                ("confirm_password", "a fine passphrase"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    assert_eq!(done.location(), Some("/signin?notice=activated"));
    assert!(
        browser
            .get("/signin?notice=activated")
            .await
            .page_text()
            .contains("Your account is ready")
    );
    assert_eq!(
        app.api_sign_in("tia.teach", "a fine passphrase")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_users_list_is_searched_in_scope() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let found = app
        .send(call("GET", "/api/v1/users?q=AMY", &lead, None))
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text());
    let names: Vec<String> = found.json()["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(names, vec!["demo.amy".to_owned()]);
    let everyone = app
        .send(call("GET", "/api/v1/users", &lead, None))
        .await
        .json();
    assert_eq!(
        everyone["users"].as_array().unwrap().len(),
        6,
        "the school's six people, not the platform admin"
    );
    assert_eq!(everyone["total"], 6);
    assert_eq!(
        (everyone["page"].clone(), everyone["per_page"].clone()),
        (json!(1), json!(50))
    );
    let wildcard = app
        .send(call("GET", "/api/v1/users?q=%25", &lead, None))
        .await
        .json();
    assert!(
        wildcard["users"].as_array().unwrap().is_empty(),
        "a % matches only a %"
    );
    for who in ["demo.teacher", "demo.amy", "demo.parent"] {
        let session = app.api_session_as(who, PASSWORD).await;
        let reply = app.send(call("GET", "/api/v1/users", &session, None)).await;
        assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    }
}

#[tokio::test]
async fn class_and_student_databases_answer_their_own_people() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let class_4b = demo_class_id(&app, &teacher).await;
    let learners = app
        .send(call(
            "GET",
            &format!("/api/v1/classes/{class_4b}/learners"),
            &teacher,
            None,
        ))
        .await;
    assert_eq!(learners.status, StatusCode::OK, "{}", learners.text());
    assert_eq!(learners.json().as_array().unwrap().len(), 3);
    let (other, _) = create_class(&app, &lead, &school, "Class 1A", &[]).await;
    let reply = app
        .send(call(
            "GET",
            &format!("/api/v1/classes/{other}/learners"),
            &teacher,
            None,
        ))
        .await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    let reply = app
        .send(call(
            "GET",
            &format!("/api/v1/schools/{school}/learners"),
            &teacher,
            None,
        ))
        .await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    let students = app
        .send(call(
            "GET",
            &format!("/api/v1/schools/{school}/learners"),
            &lead,
            None,
        ))
        .await;
    assert_eq!(students.json().as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn parents_see_their_children_and_link_another_with_its_code() {
    let app = demo_app().await;
    let parent = app.api_session_as("demo.parent", PASSWORD).await;
    let children = app
        .send(call("GET", "/api/v1/me/children", &parent, None))
        .await
        .json();
    assert_eq!(children.as_array().unwrap().len(), 1);
    assert_eq!(children[0]["username"], "demo.amy");

    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let sibling = create_user(
        &app,
        &lead,
        json!({ "first_name": "Max", "last_name": "Adams", "role": "learner", "school_id": school }),
    )
    .await;
    let code = sibling["parent_access_code"].as_str().unwrap();
    let wrong = app
        .send(call(
            "POST",
            "/api/v1/me/children",
            &parent,
            Some(json!({ "parent_access_code": "ABCDE-FGHJK" })),
        ))
        .await;
    assert_api_error(&wrong, StatusCode::NOT_FOUND, "code_unknown");
    let linked = app
        .send(call(
            "POST",
            "/api/v1/me/children",
            &parent,
            Some(json!({ "parent_access_code": code })),
        ))
        .await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.text());
    assert_eq!(linked.json()["first_name"], "Max");
    let children = app
        .send(call("GET", "/api/v1/me/children", &parent, None))
        .await
        .json();
    assert_eq!(children.as_array().unwrap().len(), 2);
    // A learner is not a parent.
    let amy = app.api_session_as("demo.amy", PASSWORD).await;
    let reply = app
        .send(call(
            "POST",
            "/api/v1/me/children",
            &amy,
            Some(json!({ "parent_access_code": code })),
        ))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "code_unknown");
}

#[tokio::test]
async fn the_pages_of_seed_002_show_each_role_its_own() {
    let app = demo_app().await;
    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    let home = lead.get("/home").await;
    for link in ["href=\"/classes\"", "href=\"/school\"", "href=\"/users\""] {
        assert!(home.text().contains(link), "{link} in the menu");
    }
    assert!(
        lead.get("/school")
            .await
            .page_text()
            .contains("Student database")
    );
    let students = lead.get("/school/students").await;
    assert!(
        students.page_text().contains("Amy Adams") && students.page_text().contains("Class 4B")
    );
    let form = lead.get("/users/new").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.field("csrf_token").unwrap();
    let school = form
        .text()
        .split("name=\"school_id\"")
        .nth(1)
        .and_then(|rest| rest.split("value=\"").nth(1))
        .and_then(|v| v.split('"').next())
        .unwrap()
        .to_owned();
    let added = lead
        .post_form(
            "/users/new",
            &[
                ("csrf_token", &csrf),
                ("first_name", "Zoe"),
                ("last_name", "Zed"),
                ("role", "learner"),
                ("school_id", &school),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    let shown = lead.get(added.location().unwrap()).await;
    assert!(shown.page_text().contains("Show access codes"));
    assert!(shown.page_text().contains("Parent access code"));
    let id = added
        .location()
        .unwrap()
        .trim_start_matches("/users/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let csrf = shown.field("csrf_token").unwrap();
    let reissued = lead
        .post_form(
            &format!("/users/{id}/access-code"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(
        reissued.status,
        StatusCode::SEE_OTHER,
        "{}",
        reissued.text()
    );
    assert!(
        lead.get(reissued.location().unwrap())
            .await
            .page_text()
            .contains("A new access code was issued")
    );

    let mut teacher = app.signed_in_browser("demo.teacher", PASSWORD).await;
    let database = teacher.get("/classes").await;
    assert!(
        database.page_text().contains("Class 4B") && database.page_text().contains("Amy Adams")
    );
    assert_eq!(
        teacher.get("/school/students").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(teacher.get("/users").await.status, StatusCode::FORBIDDEN);
    assert_eq!(teacher.get("/children").await.status, StatusCode::FORBIDDEN);
    let mut amy = app.signed_in_browser("demo.amy", PASSWORD).await;
    assert_eq!(amy.get("/classes").await.status, StatusCode::FORBIDDEN);

    let mut parent = app.signed_in_browser("demo.parent", PASSWORD).await;
    let children = parent.get("/children").await;
    assert!(children.page_text().contains("demo.amy"));
    assert_eq!(
        app.get("/classes").await.location(),
        Some("/signin?next=%2Fclasses")
    );
}

/// **Add a person** refuses a role it does not know, as the API does, rather
/// than making a learner of them.
#[tokio::test]
async fn add_a_person_refuses_an_unknown_role() {
    let app = demo_app().await;
    let mut lead = app.signed_in_browser("demo.lead", PASSWORD).await;
    let form = lead.get("/users/new").await;
    let csrf = form.field("csrf_token").unwrap();
    let school = form
        .text()
        .split("name=\"school_id\"")
        .nth(1)
        .and_then(|rest| rest.split("value=\"").nth(1))
        .and_then(|v| v.split('"').next())
        .unwrap()
        .to_owned();
    let before = app
        .send(call(
            "GET",
            "/api/v1/users",
            &app.api_session_as("demo.lead", PASSWORD).await,
            None,
        ))
        .await
        .json();
    let refused = lead
        .post_form(
            "/users/new",
            &[
                ("csrf_token", &csrf),
                ("first_name", "Wanda"),
                ("last_name", "Wizard"),
                ("role", "wizard"),
                ("school_id", &school),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .page_text()
            .contains("The role is platform_admin, lead_teacher, teacher, learner or parent."),
        "{}",
        refused.page_text()
    );
    assert!(
        refused.text().contains("value=\"Wanda\""),
        "what was typed is kept"
    );
    let after = app
        .send(call(
            "GET",
            "/api/v1/users",
            &app.api_session_as("demo.lead", PASSWORD).await,
            None,
        ))
        .await
        .json();
    // The people, not the whole rows: signing in again for the second look
    // moves the lead teacher's own last sign-in.
    let ids = |list: &serde_json::Value| -> Vec<String> {
        list["users"]
            .as_array()
            .expect("a users list")
            .iter()
            .map(|user| user["id"].as_str().expect("an id").to_owned())
            .collect()
    };
    assert_eq!(ids(&before), ids(&after), "nobody was added");
}

#[tokio::test]
async fn a_custom_role_grants_its_permissions_in_its_school_and_no_more() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let role = app
        .send(call(
            "POST",
            &format!("/api/v1/schools/{school}/roles"),
            &lead,
            Some(
                json!({ "name": "Office", "permissions": ["users.view", "users.reset_password"] }),
            ),
        ))
        .await;
    assert_eq!(role.status, StatusCode::CREATED, "{}", role.text());
    let role_id = role.json()["id"].as_str().unwrap().to_owned();
    let too_much = app
        .send(call(
            "POST",
            &format!("/api/v1/schools/{school}/roles"),
            &lead,
            Some(json!({ "name": "Boss", "permissions": ["schools.manage"] })),
        ))
        .await;
    assert_api_error(&too_much, StatusCode::UNPROCESSABLE_ENTITY, "invalid_user");
    let unknown = app
        .send(call(
            "POST",
            &format!("/api/v1/schools/{school}/roles"),
            &lead,
            Some(json!({ "name": "X", "permissions": ["root"] })),
        ))
        .await;
    assert_api_error(&unknown, StatusCode::UNPROCESSABLE_ENTITY, "invalid_user");
    let teacher = app.api_session_as("demo.teacher", PASSWORD).await;
    let reply = app
        .send(call(
            "POST",
            &format!("/api/v1/schools/{school}/roles"),
            &teacher,
            Some(json!({ "name": "Mine", "permissions": [] })),
        ))
        .await;
    assert_api_error(&reply, StatusCode::FORBIDDEN, "forbidden");

    // Before: the teacher may not list users. After the role: they may.
    assert_eq!(
        app.send(call("GET", "/api/v1/users", &teacher, None))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let teacher_id = user_id(&app, "demo.teacher", PASSWORD).await;
    let granted = app
        .send(call(
            "POST",
            &format!("/api/v1/users/{teacher_id}/roles"),
            &lead,
            Some(json!({ "role_id": role_id })),
        ))
        .await;
    assert_eq!(granted.status, StatusCode::NO_CONTENT, "{}", granted.text());
    assert_eq!(
        app.send(call("GET", "/api/v1/users", &teacher, None))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_fresh_access_code_replaces_the_old_one() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let created = create_user(
        &app,
        &lead,
        json!({ "first_name": "Re", "last_name": "Issue", "role": "learner", "school_id": school }),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let old = created["access_code"].as_str().unwrap();
    let fresh = app
        .send(call(
            "POST",
            &format!("/api/v1/users/{id}/access-code"),
            &lead,
            None,
        ))
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text());
    let new_code = fresh.json()["access_code"].as_str().unwrap().to_owned();
    assert_ne!(new_code, old);
    let reply = app
        .send(json_post(
            "/api/v1/activate",
            &json!({ "code": old, "username": "re.issue", "password": "TigerApple42" }),
        ))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "code_unknown");
    activate(&app, &new_code, "re.issue", "TigerApple42", None).await;
    let again = app
        .send(call(
            "POST",
            &format!("/api/v1/users/{id}/access-code"),
            &lead,
            None,
        ))
        .await;
    assert_api_error(&again, StatusCode::UNPROCESSABLE_ENTITY, "invalid_user");
}
