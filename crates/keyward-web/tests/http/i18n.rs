//! Pages and emails in one place per language (issue 15): the pages speak
//! the browser's `Accept-Language` (quality values honoured, English for a
//! language keyward does not speak), a signed-in person's own choice wins
//! (Account Settings > Language, `PUT /api/v1/me/locale`), an unknown
//! language is refused with `unknown_locale` and changes nothing, and the
//! emails sent to a person are in the language they chose.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use keyward_core::settings::{MailTransportKind, SmtpSecurity};
use keyward_core::testing::{CapturedMail, SmtpCapture, ctx_at};
use keyward_core::types::UnixTime;
use keyward_core::types::random::SeededRandom;
use serde_json::{Value, json};

use crate::helpers::*;

const TEACHER: &str = "demo.teacher";

/// A page asked for in a language, with a browser's cookies.
async fn page_in(browser: &mut Browser<'_>, path: &str, accept_language: &str) -> Reply {
    let request = get(path)
        .header(header::ACCEPT_LANGUAGE, accept_language)
        .header(header::COOKIE, browser.cookie_header())
        .body(Body::empty())
        .unwrap();
    browser.send(request).await
}

fn lang_of(reply: &Reply) -> String {
    let text = reply.text();
    let start = text.find("<html lang=\"").expect("<html lang>") + "<html lang=\"".len();
    text[start..start + text[start..].find('"').unwrap()].to_owned()
}

async fn me(app: &TestApp, session: &Session) -> Value {
    app.send(call("GET", "/api/v1/me", session, None))
        .await
        .json()
}

#[tokio::test]
async fn pages_speak_the_browsers_language_and_english_otherwise() {
    let app = spawn_app().await;
    let mut browser = app.browser();
    for (accept, lang, heading) in [
        (
            "es-ES,es;q=0.9,en;q=0.8",
            "es",
            "Te damos la bienvenida a keyward",
        ),
        (
            "en;q=0.5, es;q=0.9",
            "es",
            "Te damos la bienvenida a keyward",
        ),
        ("es;q=0, en", "en", "Welcome to keyward"),
        ("de-DE,fr;q=0.8", "en", "Welcome to keyward"),
        ("", "en", "Welcome to keyward"),
    ] {
        let page = page_in(&mut browser, "/signin", accept).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(lang_of(&page), lang, "{accept:?}");
        assert!(
            page.page_text().contains(heading),
            "{accept:?}: {}",
            page.text()
        );
    }
    let plain = browser.get("/signin").await;
    assert_eq!(lang_of(&plain), "en", "no Accept-Language");
    // The seeds' labels stay as they are in English.
    for label in ["Sign in", "Use a code", "Forgot password?"] {
        assert!(plain.page_text().contains(label), "{label}");
    }

    let spanish = page_in(&mut browser, "/recovery", "es").await;
    assert!(spanish.page_text().contains("¿Has olvidado tu contraseña?"));
    let missing = page_in(&mut browser, "/no-such-page", "es").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(lang_of(&missing), "es");
    assert!(missing.page_text().contains("No encontramos esa página"));
}

#[tokio::test]
async fn a_person_chooses_their_language_through_the_api() {
    let app = demo_app().await;
    let session = app.api_session_as(TEACHER, DEMO_PASSWORD).await;
    assert_eq!(me(&app, &session).await["locale"], Value::Null);

    let chosen = app
        .send(call(
            "PUT",
            "/api/v1/me/locale",
            &session,
            Some(json!({"locale": "es"})),
        ))
        .await;
    assert_eq!(chosen.status, StatusCode::OK, "{}", chosen.text());
    assert_eq!(chosen.json(), json!({"locale": "es"}));
    assert_eq!(me(&app, &session).await["locale"], "es");

    // Refusals change nothing.
    for (body, status, code) in [
        (
            json!({"locale": "de"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_locale",
        ),
        (
            json!({"locale": "ES"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_locale",
        ),
        (
            json!({"locale": "es-ES"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_locale",
        ),
        (
            json!({"locale": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_locale",
        ),
        (
            json!({"locale": 5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
    ] {
        let reply = app
            .send(call(
                "PUT",
                "/api/v1/me/locale",
                &session,
                Some(body.clone()),
            ))
            .await;
        assert_api_error(&reply, status, code);
        assert_eq!(me(&app, &session).await["locale"], "es", "after {body}");
    }
    let no_csrf = app
        .send(call(
            "PUT",
            "/api/v1/me/locale",
            &(session.0.clone(), "wrong".into()),
            Some(json!({"locale": "en"})),
        ))
        .await;
    assert_api_error(&no_csrf, StatusCode::FORBIDDEN, "csrf_failed");
    assert_eq!(me(&app, &session).await["locale"], "es");

    let back = app
        .send(call(
            "PUT",
            "/api/v1/me/locale",
            &session,
            Some(json!({"locale": null})),
        ))
        .await;
    assert_eq!(back.json(), json!({"locale": null}));
    assert_eq!(me(&app, &session).await["locale"], Value::Null);
}

#[tokio::test]
async fn the_chosen_language_wins_over_the_browsers_on_the_language_page() {
    let app = demo_app().await;
    let mut browser = app.browser();
    let home = browser.sign_in(TEACHER, DEMO_PASSWORD).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);

    let page = page_in(&mut browser, "/account/language", "en").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.page_text().contains("Choose the language"));
    let csrf = page.field("csrf_token").unwrap();

    let saved = browser
        .post_form(
            "/account/language",
            &[("csrf_token", &csrf), ("locale", "es")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(saved.location(), Some("/account/language?saved=1"));
    let page = page_in(&mut browser, "/account/language?saved=1", "en-GB,en").await;
    assert_eq!(lang_of(&page), "es", "the choice wins over the browser");
    assert!(page.page_text().contains("Guardado"));
    assert!(page.text().contains("value=\"es\" checked"));
    // The frame and the error pages follow it too.
    assert!(page.page_text().contains("Cerrar sesión"));
    let missing = page_in(&mut browser, "/no-such-page", "en").await;
    assert!(missing.page_text().contains("No encontramos esa página"));

    let refused = browser
        .post_form(
            "/account/language",
            &[("csrf_token", &csrf), ("locale", "xx")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .page_text()
            .contains("Elige uno de los idiomas de la lista.")
    );
    assert!(refused.text().contains("role=\"alert\""));
    let still = page_in(&mut browser, "/account/language", "en").await;
    assert_eq!(lang_of(&still), "es", "a refused choice changes nothing");

    let follow = browser
        .post_form(
            "/account/language",
            &[("csrf_token", &csrf), ("locale", "")],
        )
        .await;
    assert_eq!(follow.status, StatusCode::SEE_OTHER);
    let page = page_in(&mut browser, "/account/language", "en").await;
    assert_eq!(lang_of(&page), "en", "back to the browser's language");
    assert!(page.text().contains("value=\"\" checked"));
}

/// The words of a page's `<main>`, tags taken out and spaces made single.
fn main_words(reply: &Reply) -> String {
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

#[tokio::test]
async fn a_learner_reads_her_home_and_join_pages_in_spanish() {
    let app = demo_app().await;
    let mut amy = app.signed_in_browser("demo.amy", DEMO_PASSWORD).await;

    let home = page_in(&mut amy, "/home", "es-ES,es;q=0.9").await;
    assert_eq!(home.status, StatusCode::OK);
    assert_eq!(lang_of(&home), "es");
    let text = main_words(&home);
    for said in [
        "Hola, Amy Adams",
        "Tus clases",
        "Class 4B Docentes: Tom Baker y Lena Fischer",
        "Tu cuenta",
        "Ajustes de la cuenta",
        "Unirse a otra clase",
        "Código de la clase",
        "Unirme a la clase",
    ] {
        assert!(text.contains(said), "{said:?} in {text}");
    }
    assert!(
        !home.text().contains("learner-"),
        "a raw id: {}",
        home.text()
    );
    assert!(!text.contains("Your classes"), "{text}");

    let join = page_in(&mut amy, "/classes/join", "es").await;
    assert_eq!(join.status, StatusCode::OK);
    let text = main_words(&join);
    assert!(
        text.contains("Escribe el código de la clase que te enseñó tu docente."),
        "{text}"
    );
    assert!(
        !join.text().contains("learner-"),
        "a raw id: {}",
        join.text()
    );

    // The same page for an English browser.
    let english = page_in(&mut amy, "/home", "en").await;
    assert!(main_words(&english).contains("Teachers: Tom Baker and Lena Fischer"));
}

async fn mail_app() -> (TestApp, SmtpCapture) {
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
    keyward_core::testing::seed_demo_people(&app.kw, &SeededRandom::new(5)).await;
    (app, smtp)
}

async fn deliver(app: &TestApp, smtp: &SmtpCapture) -> Vec<CapturedMail> {
    let rng = SeededRandom::new(9);
    app.kw
        .deliver_due_mail(&ctx_at(UnixTime::now(), &rng))
        .await
        .unwrap();
    smtp.messages()
}

fn ask_for_a_reset(username: &str) -> Request<Body> {
    json_post("/api/v1/recovery", &json!({ "username": username }))
}

#[tokio::test]
async fn emails_are_in_the_language_their_recipient_chose() {
    let (app, smtp) = mail_app().await;
    // Both have signed in once, so both may reset by email.
    let teacher = app.api_session_as(TEACHER, DEMO_PASSWORD).await;
    app.api_session_as("demo.lead", DEMO_PASSWORD).await;
    let chosen = app
        .send(call(
            "PUT",
            "/api/v1/me/locale",
            &teacher,
            Some(json!({"locale": "es"})),
        ))
        .await;
    assert_eq!(chosen.status, StatusCode::OK);

    for username in [TEACHER, "demo.lead"] {
        let asked = app.send(ask_for_a_reset(username)).await;
        assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.text());
    }
    let mail = deliver(&app, &smtp).await;
    let to = |address: &str| {
        mail.iter()
            .find(|m| m.to == address)
            .unwrap_or_else(|| panic!("no mail to {address}"))
    };

    let spanish = to("tom.baker@riverside.example");
    assert_eq!(spanish.subject, "Cambia tu contraseña de keyward");
    let text = spanish.text.as_deref().unwrap_or_default();
    assert!(text.contains("Hola, Tom Baker:"), "{text}");
    assert!(text.contains("/recovery/"), "the link is there: {text}");
    assert!(text.contains("1 hora"), "{text}");
    let html = spanish.html.as_deref().unwrap_or_default();
    assert!(html.contains("<html lang=\"es\">"), "{html}");
    assert!(html.contains("Cambiar contraseña"));
    assert!(html.contains("<strong>demo.teacher</strong>"), "{html}");

    let lead = mail
        .iter()
        .find(|m| m.to != "tom.baker@riverside.example")
        .expect("the lead teacher's mail");
    assert_eq!(
        lead.subject, "Reset your keyward password",
        "no choice: English"
    );
    assert!(
        lead.html
            .as_deref()
            .unwrap_or_default()
            .contains("<html lang=\"en\">")
    );
}
