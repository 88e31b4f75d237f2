//! Use-case tests of sign-in and sessions, on the backend the test run uses.

use std::time::Duration;

use super::*;
use crate::audit;
use crate::testing::{MONDAY_MORNING, ctx_at, keyward};
use crate::types::Username;
use crate::types::random::SeededRandom;

async fn with_admin(password: &str) -> (std::sync::Arc<Keyward>, crate::testing::TestDb) {
    let (kw, db) = keyward().await;
    let rng = SeededRandom::new(1);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let username = Username::parse("Head.Office").unwrap();
    let password = Password::from(password);
    kw.create_platform_admin(&ctx, &username, None, &password)
        .await
        .unwrap();
    (kw, db)
}

#[tokio::test]
async fn sign_in_succeeds_with_any_case_of_the_username_and_records_it() {
    let (kw, _db) = with_admin("correct horse battery").await;
    let rng = SeededRandom::new(2);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let signed = kw
        .sign_in(&ctx, "head.office", "correct horse battery".into())
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
    assert_eq!(signed.account.username.as_str(), "Head.Office");
    assert_eq!(signed.account.last_sign_in_at, Some(MONDAY_MORNING));
    let session = kw
        .current_session(&ctx, &signed.session_token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.account.last_sign_in_at, Some(MONDAY_MORNING));
    assert_eq!(session.csrf_token, signed.csrf_token);
    let rows = audit::recent(kw.db(), 1).await.unwrap();
    assert_eq!(
        (rows[0].action.as_str(), rows[0].outcome.as_str()),
        ("sign_in", "success")
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_fail_the_same_way() {
    let (kw, _db) = with_admin("correct horse battery").await;
    let rng = SeededRandom::new(3);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let wrong = kw
        .sign_in(&ctx, "head.office", "wrong".into())
        .await
        .unwrap_err();
    let unknown = kw
        .sign_in(&ctx, "nobody.here", "wrong".into())
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), "invalid_credentials");
    assert_eq!(unknown.code(), "invalid_credentials");
    assert_eq!(wrong.to_string(), unknown.to_string());
    let rows = audit::recent(kw.db(), 2).await.unwrap();
    assert!(
        rows.iter()
            .all(|r| r.action == "sign_in" && r.outcome == "failure")
    );
}

#[tokio::test]
async fn the_session_id_is_stored_only_as_a_hash() {
    let (kw, _db) = with_admin("correct horse battery").await;
    let rng = SeededRandom::new(4);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let signed = kw
        .sign_in(&ctx, "head.office", "correct horse battery".into())
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
    let stored: Vec<String> = sqlx::query_scalar("SELECT id_hash FROM sessions")
        .fetch_all(kw.db().pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], signed.session_token.expose());
    assert_eq!(stored[0], signed.session_token.digest().as_str());
}

#[tokio::test]
async fn each_sign_in_opens_a_new_session() {
    let (kw, _db) = with_admin("correct horse battery").await;
    let rng = SeededRandom::new(5);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let a = kw
        .sign_in(&ctx, "head.office", "correct horse battery".into())
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
    let b = kw
        .sign_in(&ctx, "head.office", "correct horse battery".into())
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
    assert_ne!(a.session_token, b.session_token);
}

#[tokio::test]
async fn sessions_end_after_idle_and_absolute_timeouts() {
    let (kw, _db) = with_admin("correct horse battery").await;
    let rng = SeededRandom::new(6);
    let idle = kw.settings().session.idle_timeout;
    let absolute = kw.settings().session.absolute_timeout;
    let signed = kw
        .sign_in(
            &ctx_at(MONDAY_MORNING, &rng),
            "head.office",
            "correct horse battery".into(),
        )
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
    // Used every half idle period, the session lives until the absolute limit.
    let mut now = MONDAY_MORNING;
    while now.plus(idle / 2) < MONDAY_MORNING.plus(absolute) {
        now = now.plus(idle / 2);
        assert!(
            kw.current_session(&ctx_at(now, &rng), &signed.session_token)
                .await
                .unwrap()
                .is_some()
        );
    }
    let past_absolute = MONDAY_MORNING.plus(absolute).plus(Duration::from_secs(1));
    assert!(
        kw.current_session(&ctx_at(past_absolute, &rng), &signed.session_token)
            .await
            .unwrap()
            .is_none()
    );

    let other = kw
        .sign_in(
            &ctx_at(MONDAY_MORNING, &rng),
            "head.office",
            "correct horse battery".into(),
        )
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
    let after_idle = MONDAY_MORNING.plus(idle).plus(Duration::from_secs(1));
    assert!(
        kw.current_session(&ctx_at(after_idle, &rng), &other.session_token)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let (kw, _db) = with_admin("correct horse battery").await;
    let rng = SeededRandom::new(7);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let signed = kw
        .sign_in(&ctx, "head.office", "correct horse battery".into())
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
    kw.sign_out(&ctx, &signed.session_token).await.unwrap();
    assert!(
        kw.current_session(&ctx, &signed.session_token)
            .await
            .unwrap()
            .is_none()
    );
    // Signing out twice is harmless.
    kw.sign_out(&ctx, &signed.session_token).await.unwrap();
}

#[tokio::test]
async fn repeated_failures_slow_the_account_down_then_it_recovers() {
    let (kw, _db) = with_admin("correct horse battery").await;
    let rng = SeededRandom::new(8);
    let free = kw.settings().throttle.account_free_failures;
    let from = |now| ctx_at(now, &rng).with_client(Some("198.51.100.7".into()), None);
    for _ in 0..=free {
        let err = kw
            .sign_in(&from(MONDAY_MORNING), "head.office", "wrong".into())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_credentials");
    }
    let ctx = from(MONDAY_MORNING);
    let err = kw
        .sign_in(&ctx, "head.office", "correct horse battery".into())
        .await
        .unwrap_err();
    let SignInError::Throttled { retry_after_secs } = err else {
        panic!("expected throttling, got {err:?}")
    };
    assert!(retry_after_secs >= 1);
    // Once the delay has passed, the right password works and clears the counter.
    let later = from(MONDAY_MORNING.plus(Duration::from_secs(retry_after_secs)));
    kw.sign_in(&later, "head.office", "correct horse battery".into())
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM throttle WHERE key LIKE 'signin:pair:%'")
            .fetch_one(kw.db().pool())
            .await
            .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn unknown_usernames_are_throttled_like_real_ones() {
    let (kw, _db) = keyward().await;
    let rng = SeededRandom::new(9);
    let free = kw.settings().throttle.account_free_failures;
    let from = || ctx_at(MONDAY_MORNING, &rng).with_client(Some("198.51.100.7".into()), None);
    for _ in 0..=free {
        kw.sign_in(&from(), "ghost.user", "wrong".into())
            .await
            .unwrap_err();
    }
    let err = kw
        .sign_in(&from(), "ghost.user", "x".into())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "too_many_attempts");
}

#[tokio::test]
async fn over_long_input_is_refused_before_hashing() {
    let (kw, _db) = keyward().await;
    let rng = SeededRandom::new(10);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let before = kw
        .hashing_stats()
        .completed
        .load(std::sync::atomic::Ordering::Relaxed);
    let long_name = kw
        .sign_in(&ctx, &"a".repeat(65), "x".into())
        .await
        .unwrap_err();
    let long_password = kw
        .sign_in(&ctx, "amy", "x".repeat(10_000).into())
        .await
        .unwrap_err();
    assert_eq!(long_name.code(), "input_too_long");
    assert_eq!(long_password.code(), "input_too_long");
    assert_eq!(
        kw.hashing_stats()
            .completed
            .load(std::sync::atomic::Ordering::Relaxed),
        before
    );
}

#[tokio::test]
async fn an_old_hash_is_upgraded_at_the_next_sign_in() {
    let db = crate::testing::TestDb::new().await;
    let rng = SeededRandom::new(12);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let mut old = crate::testing::settings_for(&db);
    old.hashing.memory_kib = 128;
    let kw_old = Keyward::new(db.db.clone(), old, &rng).unwrap();
    let name = Username::parse("old.hash").unwrap();
    kw_old
        .create_platform_admin(&ctx, &name, None, &Password::from("correct horse battery"))
        .await
        .unwrap();
    let before: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(db.db.pool())
        .await
        .unwrap();
    assert!(before.contains("m=128"));

    let kw_new = Keyward::new(db.db.clone(), crate::testing::settings_for(&db), &rng).unwrap();
    kw_new
        .sign_in(&ctx, "old.hash", "correct horse battery".into())
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
    let after: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(db.db.pool())
        .await
        .unwrap();
    assert!(
        after.contains(&format!("m={}", kw_new.settings().hashing.memory_kib)),
        "{after}"
    );
    kw_new
        .sign_in(&ctx, "old.hash", "correct horse battery".into())
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
}

#[tokio::test]
async fn creating_a_second_admin_with_a_taken_username_is_a_clear_conflict() {
    let (kw, _db) = with_admin("correct horse battery").await;
    let rng = SeededRandom::new(13);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let err = kw
        .create_platform_admin(
            &ctx,
            &Username::parse("HEAD.OFFICE").unwrap(),
            None,
            &Password::from("another long one"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "username_taken");
}

#[tokio::test]
async fn an_unreachable_database_is_reported_as_unavailable_not_as_a_bug() {
    let (kw, _db) = with_admin("correct horse battery").await;
    let rng = SeededRandom::new(14);
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    kw.db().close().await;
    let err = kw
        .sign_in(&ctx, "head.office", "correct horse battery".into())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "database_unavailable");
    assert!(matches!(err.kind(), crate::error::ErrorKind::Unavailable));
    assert!(!kw.db().ping().await);
}
