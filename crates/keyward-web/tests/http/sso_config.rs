//! Connecting a school's single sign-on providers over HTTP (issue 14): the
//! JSON API as the lead teacher, a platform admin and an API token; everyone
//! else refused with nothing changed; each bad setting a 422 naming its
//! `field`; the client secret in no answer, page, audit row or database
//! file; parallel removals remove once; the **Single sign-on** page (add
//! with errors next to the field, remove after a confirm page); and the
//! **Sign in with …** buttons, the same for every typed username.

use axum::http::StatusCode;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::*;

const SECRET: &str = "GOCSPX-sealed-and-never-shown-42";

fn google() -> Value {
    json!({
        "name": "Google",
        "issuer": "https://accounts.google.com",
        "client_id": "1234.apps.googleusercontent.com",
        "client_secret": SECRET,
    })
}

/// Signed in through the API as `username`, who then turns on an
/// authenticator app: connecting or removing a provider needs one's own
/// second factor.
async fn enrolled(app: &TestApp, username: &str) -> Session {
    let session = app.api_session_as(username, DEMO_PASSWORD).await;
    let account = keyward_core::testing::account_named(&app.kw, username).await;
    keyward_core::testing::give_second_factor(&app.kw, &account.id).await;
    session
}

fn providers_path(school: &str) -> String {
    format!("/api/v1/schools/{school}/sso-providers")
}

async fn add(app: &TestApp, who: &Session, school: &str, body: Value) -> Reply {
    app.send(call("POST", &providers_path(school), who, Some(body)))
        .await
}

async fn listed(app: &TestApp, who: &Session, school: &str) -> Vec<Value> {
    let reply = app
        .send(call("GET", &providers_path(school), who, None))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(!reply.text().contains(SECRET));
    reply.json()["providers"].as_array().unwrap().clone()
}

/// No answer so far, audit row or stored byte holds the secret in plain.
async fn secret_kept_nowhere(app: &TestApp) {
    for row in keyward_core::audit::recent(app.kw.db(), 200).await.unwrap() {
        assert!(!format!("{row:?}").contains(SECRET), "{row:?}");
    }
    assert!(!contains_bytes(&sqlite_bytes(app), SECRET));
}

#[tokio::test]
async fn the_lead_teacher_and_a_platform_admin_connect_list_and_remove_providers() {
    let app = demo_app().await;
    let lead = enrolled(&app, "demo.lead").await;
    let admin = enrolled(&app, "demo.admin").await;
    let school = school_of(&app, &lead).await;

    let reply = add(&app, &lead, &school, google()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert!(!reply.text().contains(SECRET));
    let created = reply.json();
    let redirect_uri = app.kw.sso_redirect_uri();
    assert!(redirect_uri.ends_with("/sso/callback"), "{redirect_uri}");
    assert_eq!(created["redirect_uri"], redirect_uri.as_str());
    assert_eq!(created["scopes"], json!(["openid", "email", "profile"]));
    assert_eq!(created["claim"], "email");
    assert_eq!(
        created["roles"],
        json!(["lead_teacher", "teacher", "learner", "parent"])
    );
    assert_eq!(created["jit_roles"], json!([]));
    assert_eq!(created["trust_mfa"], false);

    let mut entra = json!({
        "name": "Microsoft",
        "issuer": "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
        "client_id": "6731de76-14a6-49ae-97bc-6eba6914391e",
        "client_secret": SECRET,
        "scopes": ["email"],
        "claim": "preferred_username",
        "roles": ["learner", "teacher"],
        "jit_roles": ["learner"],
        "trust_mfa": true,
    });
    let reply = add(&app, &admin, &school, entra.take()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let second = reply.json();
    assert_eq!(second["scopes"], json!(["openid", "email"]));
    assert_eq!(second["roles"], json!(["teacher", "learner"]));

    for who in [&lead, &admin] {
        // Both were added within one second: oldest first, then by id.
        let providers = listed(&app, who, &school).await;
        assert_eq!(providers.len(), 2);
        let by_id = |id: &Value| providers.iter().find(|p| p["id"] == *id).unwrap();
        assert_eq!(*by_id(&created["id"]), created);
        let entra = by_id(&second["id"]);
        assert_eq!(entra["claim"], "preferred_username");
        assert_eq!(entra["trust_mfa"], true);
        assert_eq!(entra["redirect_uri"], redirect_uri.as_str());
        assert!(providers.iter().all(|p| p.get("client_secret").is_none()));
    }
    let id = created["id"].as_str().unwrap();
    let delete = |who| {
        call(
            "DELETE",
            &format!("{}/{id}", providers_path(&school)),
            who,
            None,
        )
    };
    assert_eq!(
        app.send(delete(&admin)).await.status,
        StatusCode::NO_CONTENT
    );
    let again = app.send(delete(&lead)).await;
    assert_api_error(&again, StatusCode::NOT_FOUND, "sso_provider_not_found");
    assert_eq!(listed(&app, &lead, &school).await.len(), 1);
    let actions: Vec<String> = app.audit_actions().await.into_iter().map(|a| a.0).collect();
    assert!(actions.contains(&"sso.provider_add".to_owned()));
    assert!(actions.contains(&"sso.provider_remove".to_owned()));
    secret_kept_nowhere(&app).await;
}

#[tokio::test]
async fn everyone_else_is_refused_and_nothing_changes() {
    let app = demo_app().await;
    let lead = enrolled(&app, "demo.lead").await;
    let admin = enrolled(&app, "demo.admin").await;
    let school = school_of(&app, &lead).await;
    let hill = create_school(&app, &admin, "Hill Top").await;
    let hill_lead = create_active_user(
        &app,
        &admin,
        json!({"first_name": "Hal", "last_name": "Hill", "role": "lead_teacher", "school_id": hill}),
        ("hal.hill", DEMO_PASSWORD),
        Some("hal@hill.example.org"),
    )
    .await;
    let hal = keyward_core::testing::account_named(&app.kw, "hal.hill").await;
    keyward_core::testing::give_second_factor(&app.kw, &hal.id).await;
    let ours = add(&app, &lead, &school, google()).await.json();
    let ours_path = format!(
        "{}/{}",
        providers_path(&school),
        ours["id"].as_str().unwrap()
    );
    let mut others = vec![hill_lead.clone()];
    for name in ["demo.teacher", "demo.amy", "demo.parent"] {
        others.push(app.api_session_as(name, DEMO_PASSWORD).await);
    }
    for who in &others {
        for request in [
            call("POST", &providers_path(&school), who, Some(google())),
            call("GET", &providers_path(&school), who, None),
            call("DELETE", &ours_path, who, None),
        ] {
            let reply = app.send(request).await;
            assert!(
                matches!(reply.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                "{} {}",
                reply.status,
                reply.text()
            );
        }
    }
    // Through their own school, Hill Top's lead teacher does not reach ours.
    let theirs = format!("{}/{}", providers_path(&hill), ours["id"].as_str().unwrap());
    let reply = app.send(call("DELETE", &theirs, &hill_lead, None)).await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "sso_provider_not_found");
    assert!(listed(&app, &hill_lead, &hill).await.is_empty());
    let providers = listed(&app, &lead, &school).await;
    assert_eq!(providers.len(), 1);
    assert_eq!(providers[0]["id"], ours["id"]);
    // An unknown or malformed school or provider is a 404.
    let unknown = "6f1c2b7e-0d7a-4c53-9a8e-2f0b9c1d4e5a";
    let reply = add(&app, &admin, unknown, google()).await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "school_not_found");
    let reply = app
        .send(call("GET", &providers_path("nope"), &admin, None))
        .await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "not_found");
    let malformed = format!("{}/nope", providers_path(&school));
    let reply = app.send(call("DELETE", &malformed, &lead, None)).await;
    assert_api_error(&reply, StatusCode::NOT_FOUND, "sso_provider_not_found");
}

#[tokio::test]
async fn each_bad_setting_answers_422_naming_its_field() {
    let app = demo_app().await;
    let lead = enrolled(&app, "demo.lead").await;
    let school = school_of(&app, &lead).await;
    let cases: Vec<(&str, Value)> = vec![
        ("name", json!({"name": " "})),
        ("name", json!({"name": "x".repeat(65)})),
        ("issuer", json!({"issuer": "http://idp.example.org"})),
        ("issuer", json!({"issuer": "not a url"})),
        ("client_id", json!({"client_id": ""})),
        ("client_secret", json!({"client_secret": "  "})),
        ("scopes", json!({"scopes": ["open id"]})),
        ("claim", json!({"claim": "upn"})),
        ("claim", json!({"claim": "Email"})),
        ("roles", json!({"roles": []})),
        ("roles", json!({"roles": ["janitor"]})),
        ("roles", json!({"roles": ["platform_admin"]})),
        ("jit_roles", json!({"jit_roles": ["nobody"]})),
        (
            "jit_roles",
            json!({"roles": ["learner"], "jit_roles": ["teacher"]}),
        ),
    ];
    for (field, change) in cases {
        let mut body = google();
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let reply = add(&app, &lead, &school, body).await;
        assert_api_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "sso_provider_invalid",
        );
        assert_eq!(reply.json()["field"], field, "{change}");
        assert!(!reply.text().contains(SECRET));
    }
    // A wrong type is the body's problem, not a setting's.
    let mut body = google();
    body["trust_mfa"] = json!("yes");
    let reply = add(&app, &lead, &school, body).await;
    assert_api_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert!(listed(&app, &lead, &school).await.is_empty());

    // At most ten a school: the eleventh names the school.
    for n in 0..10 {
        let mut body = google();
        body["name"] = json!(format!("Provider {n}"));
        assert_eq!(
            add(&app, &lead, &school, body).await.status,
            StatusCode::CREATED
        );
    }
    let reply = add(&app, &lead, &school, google()).await;
    assert_api_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sso_provider_invalid",
    );
    assert_eq!(reply.json()["field"], "school");
    assert_eq!(listed(&app, &lead, &school).await.len(), 10);
    secret_kept_nowhere(&app).await;
}

#[tokio::test]
async fn an_api_token_with_users_manage_connects_and_removes_providers() {
    let app = demo_app().await;
    let lead = enrolled(&app, "demo.lead").await;
    let school = school_of(&app, &lead).await;
    let token = |permissions: Value| {
        call(
            "POST",
            "/api/v1/tokens",
            &lead,
            Some(json!({"name": "SSO script", "permissions": permissions})),
        )
    };
    let manage = app.send(token(json!(["users.manage"]))).await.json();
    let view = app.send(token(json!(["users.view"]))).await.json();
    let bearer = |method: &str, path: &str, secret: &Value, body: Option<Value>| {
        axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header(
                "authorization",
                format!("Bearer {}", secret.as_str().unwrap()),
            )
            .header("content-type", "application/json")
            .body(body.map(|b| b.to_string().into()).unwrap_or_default())
            .unwrap()
    };
    let path = providers_path(&school);
    let refused = app
        .send(bearer("POST", &path, &view["token"], Some(google())))
        .await;
    assert_api_error(&refused, StatusCode::FORBIDDEN, "forbidden");
    let reply = app
        .send(bearer("POST", &path, &manage["token"], Some(google())))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let reply = app.send(bearer("GET", &path, &manage["token"], None)).await;
    assert_eq!(reply.json()["providers"].as_array().unwrap().len(), 1);
    let reply = app
        .send(bearer(
            "DELETE",
            &format!("{path}/{id}"),
            &manage["token"],
            None,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let rows = keyward_core::audit::recent(app.kw.db(), 20).await.unwrap();
    let add_row = rows
        .iter()
        .find(|r| r.action == "sso.provider_add")
        .unwrap();
    assert!(format!("{add_row:?}").contains(manage["id"].as_str().unwrap()));
}

#[tokio::test]
async fn of_twelve_parallel_removals_exactly_one_removes() {
    let app = demo_app().await;
    let lead = enrolled(&app, "demo.lead").await;
    let admin = enrolled(&app, "demo.admin").await;
    let school = school_of(&app, &lead).await;
    let id = add(&app, &lead, &school, google()).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("{}/{id}", providers_path(&school));
    let replies = join_all((0..12).map(|n| {
        let who = if n % 2 == 0 { &lead } else { &admin };
        app.send(call("DELETE", &path, who, None))
    }))
    .await;
    let removed = replies
        .iter()
        .filter(|r| r.status == StatusCode::NO_CONTENT)
        .count();
    assert_eq!(removed, 1, "{replies:?}");
    for reply in replies
        .iter()
        .filter(|r| r.status != StatusCode::NO_CONTENT)
    {
        assert_api_error(reply, StatusCode::NOT_FOUND, "sso_provider_not_found");
    }
    let removals = app
        .audit_actions()
        .await
        .iter()
        .filter(|(action, _)| action == "sso.provider_remove")
        .count();
    assert_eq!(removals, 1);
}

fn pairs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The part of `/sso` under a school's heading.
fn school_part(text: &str, school: &str) -> String {
    let heading = format!("<h2>{school}</h2>");
    let start = text
        .find(&heading)
        .unwrap_or_else(|| panic!("{school} not listed"))
        + heading.len();
    let end = text[start..]
        .find("<h2>")
        .map_or(text.len(), |end| end + start);
    text[start..end].to_owned()
}

/// The **Sign in with …** section of a sign-in page, as sent.
fn sso_section(reply: &Reply) -> String {
    let text = reply.text();
    let start = text
        .find("<div class=\"sso-choices\"")
        .unwrap_or_else(|| panic!("no sign-in choices in {text}"));
    let end = text[start..].find("</div>").unwrap() + start;
    text[start..end].to_owned()
}

/// The password step a visitor sees after typing `username`.
async fn password_step_for(app: &TestApp, username: &str) -> Reply {
    let mut browser = app.browser();
    let csrf = browser.open_username_step().await;
    let step = browser
        .post_form(
            "/signin/username",
            &[("csrf_token", &csrf), ("username", username)],
        )
        .await;
    assert_eq!(step.status, StatusCode::OK);
    step
}

#[tokio::test]
async fn the_sign_in_pages_show_the_same_buttons_for_every_username() {
    let app = demo_app().await;
    let lead = enrolled(&app, "demo.lead").await;
    let admin = enrolled(&app, "demo.admin").await;
    let school = school_of(&app, &lead).await;
    let first = app.get("/signin").await;
    assert!(!first.text().contains("sso-choices"));
    let id = add(&app, &lead, &school, google()).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hill = create_school(&app, &admin, "Hill Top").await;
    let mut entra = google();
    entra["name"] = json!("Microsoft");
    assert_eq!(
        add(&app, &admin, &hill, entra).await.status,
        StatusCode::CREATED
    );

    let first = sso_section(&app.get("/signin").await);
    assert!(
        first.contains(&format!("href=\"/sso/{id}/start\"")),
        "{first}"
    );
    assert!(first.contains(">Sign in with Google<"), "{first}");
    assert!(first.contains(">Sign in with Microsoft<"), "{first}");
    // demo.lead's school has single sign-on; the others do not exist.
    let existing = sso_section(&password_step_for(&app, "demo.lead").await);
    for missing in ["no.such.person", "demo.leader"] {
        assert_eq!(
            sso_section(&password_step_for(&app, missing).await),
            existing
        );
    }
    assert_eq!(existing, first);
    // A refused password shows them too, the same for both.
    let mut browser = app.browser();
    for username in ["demo.lead", "no.such.person"] {
        let refused = browser.sign_in(username, "not the password").await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(sso_section(&refused), first);
    }

    // More than four: one link to /sso, which lists them by school.
    for n in 0..3 {
        let mut body = google();
        body["name"] = json!(format!("Portal {n}"));
        add(&app, &lead, &school, body).await;
    }
    let first = sso_section(&app.get("/signin").await);
    assert!(first.contains("href=\"/sso\""), "{first}");
    assert!(!first.contains("/start"), "{first}");
    assert_eq!(sso_section(&password_step_for(&app, "nobody").await), first);
    let list = app.get("/sso").await;
    assert_eq!(list.status, StatusCode::OK);
    let text = list.page_text();
    let hill_part = school_part(&text, "Hill Top");
    assert!(hill_part.contains("Sign in with Microsoft"), "{hill_part}");
    assert!(!hill_part.contains("Sign in with Google"), "{hill_part}");
    let demo_part = school_part(&text, keyward_core::demo::DEMO_SCHOOL_NAME);
    for name in ["Google", "Portal 0", "Portal 1", "Portal 2"] {
        assert!(
            demo_part.contains(&format!("Sign in with {name}")),
            "{demo_part}"
        );
    }
    assert!(demo_part.contains(&format!("/sso/{id}/start")));

    // The public JSON list for client apps.
    let reply = app.get("/api/v1/sso/providers").await;
    assert_eq!(reply.status, StatusCode::OK);
    let providers = reply.json()["providers"].as_array().unwrap().clone();
    assert_eq!(providers.len(), 5);
    let google = providers.iter().find(|p| p["id"] == id.as_str()).unwrap();
    assert_eq!(google["name"], "Google");
    assert_eq!(google["school_name"], keyward_core::demo::DEMO_SCHOOL_NAME);
    let start = google["start_url"].as_str().unwrap();
    assert!(start.ends_with(&format!("/sso/{id}/start")), "{start}");
    assert!(!reply.text().contains(SECRET));
}

#[tokio::test]
async fn the_lead_teacher_adds_and_removes_a_provider_on_the_page() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let school = school_of(&app, &lead).await;
    let mut browser = app.signed_in_browser("demo.lead", DEMO_PASSWORD).await;
    let page_path = format!("/schools/{school}/sso");
    assert!(browser.get("/home").await.text().contains(&page_path));
    assert!(browser.get("/school").await.text().contains(&page_path));
    let page = browser.get(&page_path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.page_text().contains(&app.kw.sso_redirect_uri()));
    assert!(page.text().contains("No provider is connected yet."));
    let csrf = page.field("csrf_token").unwrap();

    let form = |csrf: &str, issuer: &str| {
        vec![
            ("csrf_token".to_owned(), csrf.to_owned()),
            ("name".to_owned(), "Google".to_owned()),
            ("issuer".to_owned(), issuer.to_owned()),
            ("client_id".to_owned(), "1234.apps".to_owned()),
            ("client_secret".to_owned(), SECRET.to_owned()),
            ("scopes".to_owned(), "openid email".to_owned()),
            ("claim".to_owned(), "email".to_owned()),
            ("roles".to_owned(), "teacher".to_owned()),
            ("roles".to_owned(), "learner".to_owned()),
            ("jit_roles".to_owned(), "learner".to_owned()),
            ("trust_mfa".to_owned(), "on".to_owned()),
        ]
    };
    // Without the page's CSRF token: refused, nothing added.
    let refused = browser
        .post_form(
            &page_path,
            &pairs(&form("forged", "https://accounts.google.com")),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // Without two-step verification of their own: refused, with the way to
    // turn it on, nothing added.
    let refused = browser
        .post_form(
            &page_path,
            &pairs(&form(&csrf, "https://accounts.google.com")),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert!(
        refused
            .page_text()
            .contains("Turn on two-step verification on your own account first")
    );
    assert!(refused.text().contains("href=\"/account/mfa\""));
    assert!(refused.text().contains("No provider is connected yet."));
    let account = keyward_core::testing::account_named(&app.kw, "demo.lead").await;
    keyward_core::testing::give_second_factor(&app.kw, &account.id).await;
    // A bad issuer: the reason under the issuer field, the rest kept, the
    // secret not written back.
    let bad = browser
        .post_form(
            &page_path,
            &pairs(&form(&csrf, "http://accounts.google.com")),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = bad.text();
    let issuer_at = text.find("id=\"sso-issuer\"").unwrap();
    let error_at = text
        .find("id=\"sso-issuer-error\"")
        .expect("the issuer's error");
    let client_id_at = text.find("id=\"sso-client-id\"").unwrap();
    assert!(issuer_at < error_at && error_at < client_id_at);
    assert!(text.contains("aria-invalid=\"true\" aria-describedby=\"sso-issuer-error"));
    assert!(!text.contains(SECRET));
    assert_eq!(bad.field("client_id").as_deref(), Some("1234.apps"));
    assert!(text.contains("id=\"jit-learner\" name=\"jit_roles\" value=\"learner\" checked"));
    assert!(!text.contains("id=\"role-parent\" name=\"roles\" value=\"parent\" checked"));

    let added = browser
        .post_form(
            &page_path,
            &pairs(&form(&csrf, "https://accounts.google.com")),
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    let page = browser.get(added.location().unwrap()).await;
    let text = page.page_text();
    assert!(text.contains("Provider connected"), "{text}");
    assert!(text.contains("https://accounts.google.com"));
    assert!(text.contains("Teacher, Learner"));
    assert!(text.contains("Trusts the provider's two-step verification"));
    assert!(!page.text().contains(SECRET));
    let provider = listed(&app, &lead, &school).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(app.get("/signin").await.text().contains(&format!(
        "href=\"/sso/{provider}/start\">Sign in with Google<"
    )));

    // Remove: a confirm page (no JavaScript), then the form post.
    let remove_path = format!("{page_path}/{provider}/remove");
    let confirm = browser.get(&remove_path).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm
            .page_text()
            .contains("People who sign in only with Google")
    );
    let csrf = confirm.field("csrf_token").unwrap();
    let forged = browser
        .post_form(&remove_path, &[("csrf_token", "x")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(listed(&app, &lead, &school).await.len(), 1);
    let removed = browser
        .post_form(&remove_path, &[("csrf_token", &csrf)])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let page = browser.get(removed.location().unwrap()).await;
    assert!(page.page_text().contains("Provider removed"));
    assert!(listed(&app, &lead, &school).await.is_empty());
    let again = browser
        .post_form(&remove_path, &[("csrf_token", &csrf)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    secret_kept_nowhere(&app).await;
}

#[tokio::test]
async fn the_page_is_the_lead_teachers_and_the_platform_admins_only() {
    let app = demo_app().await;
    let lead = enrolled(&app, "demo.lead").await;
    let school = school_of(&app, &lead).await;
    let page_path = format!("/schools/{school}/sso");
    let mut admin = app.signed_in_browser("demo.admin", DEMO_PASSWORD).await;
    assert!(admin.get("/home").await.text().contains(&page_path));
    assert_eq!(admin.get(&page_path).await.status, StatusCode::OK);
    for name in ["demo.teacher", "demo.amy"] {
        let mut browser = app.signed_in_browser(name, DEMO_PASSWORD).await;
        assert!(!browser.get("/home").await.text().contains(&page_path));
        let reply = browser.get(&page_path).await;
        assert!(
            matches!(reply.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{name}: {}",
            reply.status
        );
    }
    let anonymous = app.get(&page_path).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
}

/// Connecting or removing a provider needs two-step verification on one's
/// own keyward account: `mfa_required` with where to turn it on. A second
/// factor used at a trusted provider does not do (the lead teacher could
/// connect a provider of their own that says one was used).
#[tokio::test]
async fn without_one_s_own_second_factor_providers_are_not_added_or_removed() {
    let app = demo_app().await;
    let lead = app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let admin = enrolled(&app, "demo.admin").await;
    let school = school_of(&app, &lead).await;
    let added = add(&app, &admin, &school, google()).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    let id = added.json()["id"].as_str().unwrap().to_owned();
    let refused = add(&app, &lead, &school, google()).await;
    assert_api_error(&refused, StatusCode::FORBIDDEN, "mfa_required");
    assert_eq!(refused.json()["enable_at"], "/account/mfa");
    let path = format!("{}/{id}", providers_path(&school));
    let refused = app.send(call("DELETE", &path, &lead, None)).await;
    assert_api_error(&refused, StatusCode::FORBIDDEN, "mfa_required");
    assert_eq!(listed(&app, &admin, &school).await.len(), 1);
}
