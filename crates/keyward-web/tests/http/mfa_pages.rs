//! Account Settings → Two-step verification (R-MFA-1) through the pages:
//! set up an authenticator app (password, QR code and key, first code),
//! recovery codes shown once with a download, the second step of the next
//! sign-in, new recovery codes, turning it off; every refusal re-renders
//! with the core's message and status and changes nothing.

use axum::http::StatusCode;

use keyward_core::mfa::code_for;
use keyward_core::testing::account_named;
use keyward_core::types::UnixTime;

use crate::helpers::*;

/// What the set-up page shows in text: the key, spaces dropped.
fn key_on(page: &Reply) -> String {
    let text = page.text();
    let after = &text[text.find("Or type this key").expect("the key's caption")..];
    let start =
        after.find("<code class=\"code\">").expect("the key") + "<code class=\"code\">".len();
    let end = after[start..].find("</code>").expect("end of the key") + start;
    after[start..end].split_whitespace().collect()
}

/// The recovery codes listed on a codes page.
fn codes_on(page: &Reply) -> Vec<String> {
    let text = page.text();
    let list = &text[text
        .find("class=\"recovery-codes\"")
        .expect("the list of codes")..];
    let list = &list[..list.find("</ol>").expect("end of the list")];
    list.split("<code class=\"code\">")
        .skip(1)
        .map(|rest| rest[..rest.find("</code>").expect("end of a code")].to_owned())
        .collect()
}

/// The text file behind **Download recovery codes**.
fn download_on(page: &Reply) -> String {
    let text = page.text();
    let marker = "href=\"data:text/plain;charset=utf-8,";
    let start = text.find(marker).expect("the download link") + marker.len();
    let end = text[start..].find('"').expect("end of the link") + start;
    let tail = &text[end..end + 60];
    assert!(
        tail.contains("download=\"keyward-recovery-codes.txt\""),
        "{tail}"
    );
    percent_encoding::percent_decode_str(&text[start..end])
        .decode_utf8()
        .expect("UTF-8")
        .into_owned()
}

/// The code an authenticator app shows for `key` `steps_ahead` steps from now.
fn app_code(key: &str, steps_ahead: i64) -> String {
    let now = UnixTime::now();
    code_for(key, UnixTime(now.secs() + 30 * steps_ahead)).expect("a code")
}

/// A code of the right shape that the app does not show now (nor a step away).
fn wrong_code(key: &str) -> String {
    let near: Vec<String> = (-1..=1).map(|step| app_code(key, step)).collect();
    (0..)
        .map(|n| format!("{:06}", (123_456 + n * 7_919) % 1_000_000))
        .find(|code| !near.contains(code))
        .expect("a wrong code")
}

/// Waits, when needed, until the current 30-second step has time left, so a
/// test's codes all belong to it or the next.
async fn early_in_a_step() {
    let into_step = UnixTime::now().secs() % 30;
    if into_step > 25 {
        tokio::time::sleep(std::time::Duration::from_secs((31 - into_step) as u64)).await;
    }
}

/// The overview's CSRF token.
async fn csrf_of(browser: &mut Browser<'_>) -> String {
    let page = browser.get("/account/mfa").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.field("csrf_token").expect("csrf_token")
}

/// Sets up the app through the pages: its key, the code that turned it on,
/// and the recovery codes.
async fn enrol(browser: &mut Browser<'_>) -> (String, String, Vec<String>) {
    early_in_a_step().await;
    let csrf = csrf_of(browser).await;
    let setup = browser
        .post_form(
            "/account/mfa/totp",
            &[("csrf_token", &csrf), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.text());
    let key = key_on(&setup);
    let code = app_code(&key, 0);
    let codes = browser
        .post_form(
            "/account/mfa/totp/confirm",
            &[("csrf_token", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(codes.status, StatusCode::OK, "{}", codes.text());
    (key, code, codes_on(&codes))
}

/// Signs out, then in with the password: the answer of the password step.
async fn sign_in_again(browser: &mut Browser<'_>) -> Reply {
    let csrf = csrf_of(browser).await;
    let out = browser
        .post_form("/signout", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    browser.sign_in(ADMIN_USERNAME, ADMIN_PASSWORD).await
}

/// Sends the second step's form; `with` is "recovery" for a recovery code.
async fn second_step(browser: &mut Browser<'_>, code: &str, with: &str) -> Reply {
    let page = browser.get("/signin/verify").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let csrf = page.field("csrf_token").expect("csrf_token");
    browser
        .post_form(
            "/signin/verify",
            &[("csrf_token", &csrf), ("code", code), ("with", with)],
        )
        .await
}

/// Whether the admin's authenticator app is on, as the core sees it.
async fn mfa_on(app: &TestApp) -> bool {
    let admin = account_named(&app.kw, ADMIN_USERNAME).await;
    app.kw.mfa_status(&admin).await.expect("status").totp
}

#[tokio::test]
async fn account_settings_lead_to_two_step_verification_and_back_after_sign_in() {
    let app = spawn_app_with_admin().await;
    let reply = app.get("/account/mfa").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), Some("/signin?next=%2Faccount%2Fmfa"));

    let mut browser = app.signed_in_browser(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let account = browser.get("/account").await;
    assert!(account.text().contains("href=\"/account/mfa\""));
    let page = browser.get("/account/mfa").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.page_text();
    assert!(text.contains("Off."), "{text}");
    assert!(text.contains("Set up an authenticator app"), "{text}");
    assert!(page.text().contains("autocomplete=\"current-password\""));
    assert!(!text.contains("Turn off two-step verification"));
}

#[tokio::test]
async fn setting_up_shows_the_qr_code_and_key_and_turns_on_with_the_first_code() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.signed_in_browser(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let csrf = csrf_of(&mut browser).await;

    // The wrong password: 422, the core's words, nothing started.
    let wrong = browser
        .post_form(
            "/account/mfa/totp",
            &[("csrf_token", &csrf), ("password", "not the password")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.page_text().contains("Your password is not right."));
    assert!(wrong.text().contains("role=\"alert\""));
    assert!(!wrong.text().contains("<svg"));

    early_in_a_step().await;
    let setup = browser
        .post_form(
            "/account/mfa/totp",
            &[("csrf_token", &csrf), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.text());
    assert_eq!(setup.header("cache-control"), Some("no-store"));
    assert_eq!(setup.header("referrer-policy"), Some("no-referrer"));
    let html = setup.text();
    assert!(html.contains("role=\"img\" aria-label=\"QR code"), "{html}");
    assert!(html.contains("<svg viewBox="), "the QR code is inline SVG");
    assert!(html.contains("href=\"otpauth://totp/"), "{html}");
    assert!(html.contains("inputmode=\"numeric\" autocomplete=\"one-time-code\""));
    let shown = &html[html.find("Or type this key").unwrap()..];
    let key = key_on(&setup);
    assert_eq!(key.len(), 32, "160 bits in base32");
    let grouped: Vec<String> = key
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    assert!(shown.contains(&grouped.join(" ")), "the key in fours");
    assert!(!mfa_on(&app).await, "not on before the first code");

    // A malformed and a wrong code: 422, still off.
    for (code, says) in [
        ("12345", "Enter the 6-digit code"),
        (wrong_code(&key).as_str(), "That code is not right"),
    ] {
        let refused = browser
            .post_form(
                "/account/mfa/totp/confirm",
                &[("csrf_token", &csrf), ("code", code)],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{code}");
        assert!(refused.page_text().contains(says), "{}", refused.text());
        assert!(refused.text().contains("aria-invalid=\"true\""));
        assert!(!refused.text().contains("<svg"), "the key is shown once");
    }
    assert!(!mfa_on(&app).await);

    // The code the app shows: on, and ten recovery codes, shown once.
    let code = app_code(&key, 0);
    let codes = browser
        .post_form(
            "/account/mfa/totp/confirm",
            &[("csrf_token", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(codes.status, StatusCode::OK, "{}", codes.text());
    assert_eq!(codes.header("cache-control"), Some("no-store"));
    assert_eq!(codes.header("referrer-policy"), Some("no-referrer"));
    assert!(codes.page_text().contains("Two-step verification is on."));
    let shown = codes_on(&codes);
    assert_eq!(shown.len(), 10);
    let file = download_on(&codes);
    assert!(file.contains(ADMIN_USERNAME), "{file}");
    for code in &shown {
        assert!(file.contains(&format!("{code}\n")), "{code} in {file}");
    }
    assert!(mfa_on(&app).await);

    let page = browser.get("/account/mfa").await;
    let text = page.page_text();
    assert!(text.contains("On."), "{text}");
    assert!(text.contains("10 of 10"), "{text}");
    assert!(!text.contains(&shown[0]), "codes are not shown again");

    // Set up again while on: 409, nothing replaced.
    let again = browser
        .post_form(
            "/account/mfa/totp",
            &[("csrf_token", &csrf), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.page_text().contains("already on"));
}

#[tokio::test]
async fn the_next_sign_in_asks_for_a_code_and_refuses_a_replayed_one() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.signed_in_browser(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let (key, used, recovery) = enrol(&mut browser).await;

    let step = sign_in_again(&mut browser).await;
    assert_eq!(step.status, StatusCode::SEE_OTHER);
    assert_eq!(step.location(), Some("/signin/verify"));
    assert!(browser.cookie("kw_session").is_none(), "no session yet");

    let replayed = second_step(&mut browser, &used, "").await;
    assert_eq!(replayed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(replayed.page_text().contains("already used"));

    // The next step's code is within the window, and not used yet.
    let next = second_step(&mut browser, &app_code(&key, 1), "").await;
    assert_eq!(next.status, StatusCode::SEE_OTHER, "{}", next.text());
    assert_eq!(next.location(), Some("/home"));

    // A recovery code works once.
    sign_in_again(&mut browser).await;
    let with_code = second_step(&mut browser, &recovery[3], "recovery").await;
    assert_eq!(
        with_code.status,
        StatusCode::SEE_OTHER,
        "{}",
        with_code.text()
    );
    let page = browser.get("/account/mfa").await;
    assert!(page.page_text().contains("9 of 10"), "{}", page.text());
    sign_in_again(&mut browser).await;
    let reused = second_step(&mut browser, &recovery[3], "recovery").await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reused.page_text().contains("already used"));
}

#[tokio::test]
async fn new_recovery_codes_replace_the_old_ones() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.signed_in_browser(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let (_, _, old) = enrol(&mut browser).await;
    let csrf = csrf_of(&mut browser).await;

    let wrong = browser
        .post_form(
            "/account/mfa/recovery-codes",
            &[
                ("csrf_token", &csrf),
                ("password", "not it"),
                ("code", &old[1]),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.page_text().contains("Your password is not right."));
    assert!(wrong.text().contains("id=\"codes_password\""));

    let codes = browser
        .post_form(
            "/account/mfa/recovery-codes",
            &[
                ("csrf_token", &csrf),
                ("password", ADMIN_PASSWORD),
                ("code", &old[1]),
            ],
        )
        .await;
    assert_eq!(codes.status, StatusCode::OK, "{}", codes.text());
    assert!(codes.page_text().contains("The old ones no longer work."));
    let new = codes_on(&codes);
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|code| !old.contains(code)));

    sign_in_again(&mut browser).await;
    let stale = second_step(&mut browser, &old[0], "recovery").await;
    assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fresh = second_step(&mut browser, &new[0], "recovery").await;
    assert_eq!(fresh.status, StatusCode::SEE_OTHER, "{}", fresh.text());
}

#[tokio::test]
async fn turning_off_needs_the_password_and_a_code() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.signed_in_browser(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let (key, _, recovery) = enrol(&mut browser).await;
    let csrf = csrf_of(&mut browser).await;

    for (password, code, says) in [
        (ADMIN_PASSWORD, "abc", "Enter the 6-digit code"),
        (
            ADMIN_PASSWORD,
            wrong_code(&key).as_str(),
            "That code is not right",
        ),
        (
            "not it",
            recovery[0].as_str(),
            "Your password is not right.",
        ),
    ] {
        let refused = browser
            .post_form(
                "/account/mfa/off",
                &[
                    ("csrf_token", &csrf),
                    ("password", password),
                    ("code", code),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{says}");
        let text = refused.page_text();
        assert!(text.contains(says), "{text}");
        // The confirm page again (issue 15), saying it is still on.
        assert!(
            text.contains("Two-step verification is on now."),
            "still on: {text}"
        );
    }
    assert!(mfa_on(&app).await);

    let off = browser
        .post_form(
            "/account/mfa/off",
            &[
                ("csrf_token", &csrf),
                ("password", ADMIN_PASSWORD),
                ("code", &recovery[0]),
            ],
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text());
    let text = off.page_text();
    assert!(text.contains("Two-step verification is off."), "{text}");
    assert!(text.contains("Off."), "{text}");
    assert!(off.text().contains("role=\"status\""));
    assert!(!mfa_on(&app).await);

    // The password alone signs in again.
    let signed_in = sign_in_again(&mut browser).await;
    assert_eq!(signed_in.location(), Some("/home"));
}

#[tokio::test]
async fn forms_without_the_session_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.signed_in_browser(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    for token in ["", "not-the-token"] {
        let start = browser
            .post_form(
                "/account/mfa/totp",
                &[("csrf_token", token), ("password", ADMIN_PASSWORD)],
            )
            .await;
        assert_error_page(&start, StatusCode::FORBIDDEN);
        assert!(!start.text().contains("<svg"));
    }
    let page = browser.get("/account/mfa").await;
    assert!(
        !page.page_text().contains("You started a set-up"),
        "no set-up was started"
    );

    let (_, _, recovery) = enrol(&mut browser).await;
    for path in ["/account/mfa/recovery-codes", "/account/mfa/off"] {
        let refused = browser
            .post_form(
                path,
                &[
                    ("csrf_token", "not-the-token"),
                    ("password", ADMIN_PASSWORD),
                    ("code", &recovery[0]),
                ],
            )
            .await;
        assert_error_page(&refused, StatusCode::FORBIDDEN);
    }
    assert!(mfa_on(&app).await);
    let page = browser.get("/account/mfa").await;
    assert!(page.page_text().contains("10 of 10"), "no code was used");
}

#[tokio::test]
async fn confirming_without_a_set_up_is_a_409_page() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.signed_in_browser(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let csrf = csrf_of(&mut browser).await;
    let reply = browser
        .post_form(
            "/account/mfa/totp/confirm",
            &[("csrf_token", &csrf), ("code", "123456")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert!(reply.content_type().starts_with("text/html"));
    let text = reply.page_text();
    assert!(
        text.contains("No set-up of an authenticator app is waiting"),
        "{text}"
    );
    assert!(
        text.contains("Set up an authenticator app"),
        "the way to start: {text}"
    );
    assert!(!mfa_on(&app).await);

    // Turning off or new codes while off: 409 too.
    for (path, pairs) in [
        (
            "/account/mfa/recovery-codes",
            vec![("password", ADMIN_PASSWORD), ("code", "123456")],
        ),
        (
            "/account/mfa/off",
            vec![("password", ADMIN_PASSWORD), ("code", "123456")],
        ),
    ] {
        let mut form = vec![("csrf_token", csrf.as_str())];
        form.extend(pairs);
        let reply = browser.post_form(path, &form).await;
        assert_eq!(
            reply.status,
            StatusCode::CONFLICT,
            "{path}: {}",
            reply.text()
        );
        assert!(reply.page_text().contains("is not on"), "{path}");
    }
}

#[tokio::test]
async fn wrong_codes_in_a_row_are_slowed_with_429_and_retry_after() {
    let app = spawn_app_with_admin().await;
    let mut browser = app.signed_in_browser(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let csrf = csrf_of(&mut browser).await;
    early_in_a_step().await;
    let setup = browser
        .post_form(
            "/account/mfa/totp",
            &[("csrf_token", &csrf), ("password", ADMIN_PASSWORD)],
        )
        .await;
    let key = key_on(&setup);
    let wrong = wrong_code(&key);
    let mut slowed = None;
    for _ in 0..12 {
        let reply = browser
            .post_form(
                "/account/mfa/totp/confirm",
                &[("csrf_token", &csrf), ("code", &wrong)],
            )
            .await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            slowed = Some(reply);
            break;
        }
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let slowed = slowed.expect("wrong codes are slowed down");
    let wait: u64 = slowed
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!(wait >= 1);
    assert!(slowed.page_text().contains("Too many wrong tries"));
    assert!(!mfa_on(&app).await);
}
