//! Use-case tests of changing one's own email address (R-MFA-1), on the
//! backend the test run uses: the password first (counted before it is
//! checked, also in parallel), then the address; the old address is told over
//! real SMTP, with the new one masked; open reset links stop; two changes at
//! once each tell the address they replaced.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;

use super::*;
use crate::mail::kind;
use crate::recovery::RecoveryInput;
use crate::settings::Settings;
use crate::testing::{
    DEMO_PASSWORD, MONDAY_MORNING, SmtpCapture, TestDb, account_named, ctx_at, seed_demo_people,
    settings_for, settings_with_smtp,
};
use crate::types::random::SeededRandom;

const TEACHER_ADDRESS: &str = "tom.baker@riverside.example";
const NEW_ADDRESS: &str = "Tom.B@home.example";

struct World {
    kw: Arc<Keyward>,
    _db: TestDb,
    rng: SeededRandom,
}

async fn world_with(settings: impl FnOnce(&TestDb) -> Settings) -> World {
    let db = TestDb::new().await;
    let kw = Keyward::new(db.db.clone(), settings(&db), &SeededRandom::new(11)).unwrap();
    let rng = SeededRandom::new(12);
    seed_demo_people(&kw, &rng).await;
    World { kw, _db: db, rng }
}

impl World {
    fn ctx(&self) -> Ctx<'_> {
        ctx_at(MONDAY_MORNING, &self.rng)
    }

    /// `username` signed in with the demo password: their session.
    async fn session_of(&self, username: &str) -> CurrentSession {
        let ctx = self.ctx();
        let signed_in = self
            .kw
            .sign_in(&ctx, username, DEMO_PASSWORD.into())
            .await
            .unwrap()
            .complete()
            .expect("signed in without a second step");
        self.kw
            .current_session(&ctx, &signed_in.session_token)
            .await
            .unwrap()
            .unwrap()
    }

    async fn email_of(&self, username: &str) -> Option<String> {
        account_named(&self.kw, username)
            .await
            .email
            .map(|e| e.as_str().to_owned())
    }

    /// Each queued "email address changed" notice: (to, payload).
    async fn notices(&self) -> Vec<(String, serde_json::Value)> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT to_address, payload FROM outbox WHERE kind = $1")
                .bind(kind::EMAIL_CHANGED)
                .fetch_all(self.kw.db().pool())
                .await
                .unwrap();
        rows.into_iter()
            .map(|(to, payload)| (to, serde_json::from_str(&payload).unwrap()))
            .collect()
    }

    /// The newest audit row: (action, outcome, detail).
    async fn last_audit(&self) -> (String, String, Option<String>) {
        let row = crate::audit::recent(self.kw.db(), 1)
            .await
            .unwrap()
            .remove(0);
        (row.action, row.outcome, row.detail)
    }
}

#[tokio::test]
async fn the_new_address_is_kept_and_the_old_one_is_told_over_smtp_with_the_new_one_masked() {
    let capture = SmtpCapture::start();
    let w = world_with(|db| settings_with_smtp(db, &capture)).await;
    let session = w.session_of("demo.teacher").await;
    let stored =
        w.kw.change_own_email(
            &w.ctx(),
            &session,
            &DEMO_PASSWORD.into(),
            " Tom.B@home.example ",
        )
        .await
        .unwrap();
    assert_eq!(stored.as_str(), NEW_ADDRESS, "trimmed, shown as typed");
    assert_eq!(
        w.email_of("demo.teacher").await.as_deref(),
        Some(NEW_ADDRESS)
    );
    let key: Option<String> = sqlx::query_scalar("SELECT email_key FROM users WHERE id = $1")
        .bind(session.account.id.as_str())
        .fetch_one(w.kw.db().pool())
        .await
        .unwrap();
    assert_eq!(key.as_deref(), Some("tom.b@home.example"));
    assert_eq!(
        w.last_audit().await,
        (
            "email.change".into(),
            "success".into(),
            Some("replaced".into())
        )
    );

    assert_eq!(w.kw.deliver_due_mail(&w.ctx()).await.unwrap(), 1);
    let messages = capture.wait_for_messages(1, Duration::from_secs(5)).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let notice = &messages[0];
    assert_eq!(notice.envelope_to, vec![TEACHER_ADDRESS.to_owned()]);
    assert_eq!(notice.subject, "Your keyward email address was changed");
    let text = notice.text.as_deref().expect("a text part");
    let html = notice.html.as_deref().expect("an HTML part");
    for body in [text, html] {
        assert!(body.contains("T***@home.example"), "{body}");
        assert!(body.contains("/security/not-me/"), "{body}");
        assert!(body.contains("demo.teacher"), "{body}");
    }
    assert!(
        !notice.raw.to_lowercase().contains("tom.b@home.example"),
        "the new address travels masked only: {}",
        notice.raw
    );

    // "This wasn't me" from the notice signs the account out everywhere.
    let start = text.find("/security/not-me/").unwrap() + "/security/not-me/".len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    w.kw.report_not_me(&w.ctx(), &token).await.unwrap();
    let signed_in_again: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
            .bind(session.account.id.as_str())
            .fetch_one(w.kw.db().pool())
            .await
            .unwrap();
    assert_eq!(signed_in_again, 0);
}

#[tokio::test]
async fn a_wrong_password_or_a_bad_address_changes_nothing_and_tells_nobody() {
    let w = world_with(settings_for).await;
    let session = w.session_of("demo.teacher").await;
    let ctx = w.ctx();
    let wrong =
        w.kw.change_own_email(&ctx, &session, &"not my password".into(), NEW_ADDRESS)
            .await
            .unwrap_err();
    assert!(
        matches!(wrong, ChangeEmailError::WrongCurrentPassword),
        "{wrong:?}"
    );
    assert_eq!(wrong.code(), "wrong_current_password");
    assert_eq!(
        w.last_audit().await,
        (
            "email.change".into(),
            "failure".into(),
            Some("wrong_current_password".into())
        )
    );
    // A wrong password is refused before the address is even looked at.
    let wrong_and_bad =
        w.kw.change_own_email(&ctx, &session, &"not my password".into(), "not an address")
            .await
            .unwrap_err();
    assert_eq!(wrong_and_bad.code(), "wrong_current_password");
    let over_long = "x".repeat(300);
    for (typed, code) in [
        ("", "email_invalid"),
        ("tom", "email_invalid"),
        ("tom@", "email_invalid"),
        ("tom baker@home.example", "email_invalid"),
        ("tom@home.exa\u{7}mple", "email_invalid"),
        ("tom@@home.example", "email_invalid"),
        (over_long.as_str(), "email_invalid"),
        ("TOM.BAKER@Riverside.Example", "email_unchanged"),
        (TEACHER_ADDRESS, "email_unchanged"),
    ] {
        let err =
            w.kw.change_own_email(&ctx, &session, &DEMO_PASSWORD.into(), typed)
                .await
                .unwrap_err();
        assert_eq!(err.code(), code, "{typed:?}");
    }
    assert_eq!(
        w.email_of("demo.teacher").await.as_deref(),
        Some(TEACHER_ADDRESS)
    );
    assert!(w.notices().await.is_empty());
}

#[tokio::test]
async fn wrong_passwords_are_throttled_after_the_free_failures() {
    let w = world_with(settings_for).await;
    let session = w.session_of("demo.teacher").await;
    let free = w.kw.settings().throttle.account_free_failures as usize;
    let ctx = w.ctx();
    for _ in 0..=free {
        let err =
            w.kw.change_own_email(&ctx, &session, &"guess".into(), NEW_ADDRESS)
                .await
                .unwrap_err();
        assert_eq!(err.code(), "wrong_current_password");
    }
    // Now even the right password waits.
    let err =
        w.kw.change_own_email(&ctx, &session, &DEMO_PASSWORD.into(), NEW_ADDRESS)
            .await
            .unwrap_err();
    assert_eq!(err.code(), "too_many_attempts");
    assert!(err.retry_after_secs().is_some_and(|s| s > 0));
    assert_eq!(
        w.email_of("demo.teacher").await.as_deref(),
        Some(TEACHER_ADDRESS)
    );
    // After the wait, it works.
    let later = ctx_at(MONDAY_MORNING.plus(Duration::from_secs(3600)), &w.rng);
    w.kw.change_own_email(&later, &session, &DEMO_PASSWORD.into(), NEW_ADDRESS)
        .await
        .unwrap();
}

/// A randomness source that lives as long as the test process (spawned tasks
/// need `'static` contexts).
fn leaked_ctx(seed: u64) -> Ctx<'static> {
    let rng: &'static SeededRandom = Box::leak(Box::new(SeededRandom::new(seed)));
    Ctx::new(MONDAY_MORNING, rng).with_client(Some("203.0.113.9".into()), None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_get_the_sequential_tries_only() {
    let w = world_with(settings_for).await;
    let session = Arc::new(w.session_of("demo.teacher").await);
    let tasks = (0..60).map(|i| {
        let (kw, session) = (w.kw.clone(), session.clone());
        tokio::spawn(async move {
            kw.change_own_email(
                &leaked_ctx(3000 + i),
                &session,
                &format!("guess {i}").into(),
                NEW_ADDRESS,
            )
            .await
        })
    });
    let (mut checked, mut throttled) = (0, 0);
    for answer in join_all(tasks).await {
        match answer.expect("task") {
            Err(ChangeEmailError::WrongCurrentPassword) => checked += 1,
            Err(ChangeEmailError::Throttled { .. }) => throttled += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    let allowance = w.kw.settings().throttle.account_free_failures as usize + 1;
    assert_eq!((checked, throttled), (allowance, 60 - allowance));
    assert_eq!(
        w.email_of("demo.teacher").await.as_deref(),
        Some(TEACHER_ADDRESS)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn changes_at_once_each_tell_the_address_they_replaced() {
    let w = world_with(settings_for).await;
    let session = Arc::new(w.session_of("demo.teacher").await);
    // Fewer than the free failures: right passwords in flight count too.
    let count = w.kw.settings().throttle.account_free_failures as u64;
    let tasks = (0..count).map(|i| {
        let (kw, session) = (w.kw.clone(), session.clone());
        tokio::spawn(async move {
            kw.change_own_email(
                &leaked_ctx(4000 + i),
                &session,
                &DEMO_PASSWORD.into(),
                &format!("tom{i}@home.example"),
            )
            .await
        })
    });
    for answer in join_all(tasks).await {
        answer.expect("task").expect("changed");
    }
    let last = w.email_of("demo.teacher").await.unwrap();
    let told: Vec<String> = w.notices().await.into_iter().map(|(to, _)| to).collect();
    let distinct: BTreeSet<&String> = told.iter().collect();
    assert_eq!(told.len() as u64, count, "{told:?}");
    assert_eq!(
        distinct.len(),
        told.len(),
        "an address told twice: {told:?}"
    );
    assert!(told.iter().any(|to| to == TEACHER_ADDRESS), "{told:?}");
    assert!(
        !told.contains(&last),
        "the address kept is not told: {told:?}"
    );
}

#[tokio::test]
async fn a_first_address_is_added_without_a_notice() {
    let w = world_with(settings_for).await;
    let session = w.session_of("demo.amy").await;
    assert_eq!(w.email_of("demo.amy").await, None);
    w.kw.change_own_email(
        &w.ctx(),
        &session,
        &DEMO_PASSWORD.into(),
        "amy@family.example",
    )
    .await
    .unwrap();
    assert_eq!(
        w.email_of("demo.amy").await.as_deref(),
        Some("amy@family.example")
    );
    assert!(w.notices().await.is_empty());
    assert_eq!(
        w.last_audit().await,
        (
            "email.change".into(),
            "success".into(),
            Some("added".into())
        )
    );
}

#[tokio::test]
async fn an_open_reset_link_stops_when_the_address_changes() {
    let w = world_with(settings_for).await;
    let session = w.session_of("demo.teacher").await;
    let input = RecoveryInput {
        username: Some("demo.teacher".into()),
        email: None,
    };
    w.kw.request_recovery(&w.ctx(), &input).await.unwrap();
    w.kw.change_own_email(&w.ctx(), &session, &DEMO_PASSWORD.into(), NEW_ADDRESS)
        .await
        .unwrap();
    let reasons: Vec<Option<String>> =
        sqlx::query_scalar("SELECT ended_reason FROM recovery_requests WHERE user_id = $1")
            .bind(session.account.id.as_str())
            .fetch_all(w.kw.db().pool())
            .await
            .unwrap();
    assert_eq!(reasons, vec![Some("email_changed".to_owned())]);
}
