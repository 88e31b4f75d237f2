//! `/dev/mail` (R-MAIL-2): the development inbox lists what the file
//! transport captured and shows a message with its links clickable; it does
//! not exist unless `mail.dev_inbox` is on. Also the mail numbers on /metrics.

use axum::http::StatusCode;
use keyward_core::testing::{MONDAY_MORNING, ctx_at};
use keyward_core::types::EmailAddress;
use keyward_core::types::random::SeededRandom;

use crate::helpers::*;

async fn send_test_mail(app: &TestApp, to: &str) {
    let rng = SeededRandom::new(21);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let to = EmailAddress::parse(to).expect("valid address");
    app.kw.send_test_email(&ctx, &to).await.expect("queued");
    assert_eq!(app.kw.deliver_due_mail(&ctx).await.expect("delivered"), 1);
}

#[tokio::test]
async fn dev_mail_lists_captured_mail_and_shows_its_link_as_an_anchor() {
    let app = spawn_app_with(|s| s.mail.dev_inbox = true).await;
    let empty = app.get("/dev/mail").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.page_text().contains("No mail yet"));

    send_test_mail(&app, "ann@example.org").await;
    let list = app.get("/dev/mail").await;
    assert_eq!(list.status, StatusCode::OK);
    let page = list.page_text();
    assert!(page.contains("<h1>Captured mail</h1>"), "{page}");
    assert!(page.contains("ann@example.org"), "{page}");
    assert!(page.contains("keyward can send email"), "{page}");
    assert!(
        page.contains("<time datetime=\"2026-09-07T08:00:00Z\">2026-09-07 08:00 UTC</time>"),
        "{page}"
    );
    let href = page
        .split("href=\"")
        .map(|rest| rest.split('"').next().unwrap_or_default())
        .find(|href| href.starts_with("/dev/mail/"))
        .expect("a link to the message")
        .to_owned();

    let message = app.get(&href).await;
    assert_eq!(message.status, StatusCode::OK);
    let page = message.page_text();
    assert!(page.contains("<h1>keyward can send email</h1>"), "{page}");
    assert!(
        page.contains("<a href=\"http://127.0.0.1:8080/\">http://127.0.0.1:8080/</a>"),
        "the link is an anchor: {page}"
    );
    assert!(page.contains("<html lang=\"en\">"));

    let missing = app.get("/dev/mail/00000000000-0000").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let traversal = app.get("/dev/mail/..%2Fkeyward.db").await;
    assert_eq!(traversal.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dev_mail_is_not_found_when_the_dev_inbox_is_off() {
    let app = spawn_app().await;
    send_test_mail(&app, "ann@example.org").await;
    for path in ["/dev/mail", "/dev/mail/00000000000-0000"] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!reply.text().contains("ann@example.org"));
    }
}

#[tokio::test]
async fn metrics_count_queued_and_sent_email() {
    let app = spawn_app().await;
    send_test_mail(&app, "ann@example.org").await;
    let metrics = app.metrics().await.text();
    assert!(metrics.contains("keyward_emails_sent_total 1"), "{metrics}");
    assert!(metrics.contains("keyward_emails_queued 0"), "{metrics}");
    assert!(
        metrics.contains("keyward_emails_failed_total 0"),
        "{metrics}"
    );
}
