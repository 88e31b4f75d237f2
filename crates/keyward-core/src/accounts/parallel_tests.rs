//! Guessing in parallel (R-CONC-1, R-LOCK-1): many wrong passwords fired at
//! one account at the same moment get exactly the tries that one after
//! another would (the free failures and one more), also when they arrive at
//! two instances sharing one database; meanwhile the rightful owner still
//! signs in from another address or from a browser holding its device cookie.

use std::sync::Arc;

use futures_util::future::join_all;

use super::*;
use crate::testing::{MONDAY_MORNING, TestDb, keyward};
use crate::types::Username;
use crate::types::random::SeededRandom;

const PASSWORD: &str = "correct horse battery";
const ATTACKER: &str = "198.51.100.66";

/// A randomness source that lives as long as the test process (spawned tasks
/// need `'static` contexts).
fn leaked_rng(seed: u64) -> &'static SeededRandom {
    Box::leak(Box::new(SeededRandom::new(seed)))
}

fn ctx_from(addr: &str, seed: u64) -> Ctx<'static> {
    Ctx::new(MONDAY_MORNING, leaked_rng(seed)).with_client(Some(addr.into()), None)
}

async fn with_teacher() -> (Arc<Keyward>, TestDb) {
    let (kw, db) = keyward().await;
    let rng = SeededRandom::new(1);
    let ctx = Ctx::new(MONDAY_MORNING, &rng);
    kw.create_platform_admin(
        &ctx,
        &Username::parse("mr.jones").unwrap(),
        None,
        &Password::from(PASSWORD),
    )
    .await
    .unwrap();
    (kw, db)
}

/// Fires `count` wrong sign-ins for `mr.jones` at once, spread over
/// `instances`, from the attacker's address; returns how many were checked
/// (answered "wrong password") and how many were throttled.
async fn guess_in_parallel(instances: &[Arc<Keyward>], count: usize) -> (usize, usize) {
    let tasks = (0..count).map(|i| {
        let kw = instances[i % instances.len()].clone();
        tokio::spawn(async move {
            let ctx = ctx_from(ATTACKER, 1000 + i as u64);
            kw.sign_in(&ctx, "mr.jones", format!("guess {i}").into())
                .await
        })
    });
    let (mut checked, mut throttled) = (0, 0);
    for result in join_all(tasks).await {
        match result.expect("task") {
            Err(SignInError::InvalidCredentials) => checked += 1,
            Err(SignInError::Throttled { .. }) => throttled += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    (checked, throttled)
}

fn sequential_allowance(kw: &Keyward) -> usize {
    // The free failures, then one more try before the first delay starts.
    kw.settings().throttle.account_free_failures as usize + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_get_exactly_the_sequential_tries_and_the_owner_still_signs_in() {
    let (kw, _db) = with_teacher().await;
    let (checked, throttled) = guess_in_parallel(std::slice::from_ref(&kw), 120).await;
    assert_eq!(checked, sequential_allowance(&kw), "checked {checked}");
    assert_eq!(throttled, 120 - checked);

    // The same attacker is still held back, even with the right password…
    let err = kw
        .sign_in(&ctx_from(ATTACKER, 1), "mr.jones", PASSWORD.into())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "too_many_attempts");
    // …but the owner at school, on another address, is not.
    kw.sign_in(&ctx_from("203.0.113.9", 2), "mr.jones", PASSWORD.into())
        .await
        .expect("the owner signs in from another address")
        .complete()
        .expect("signed in without a second step");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_known_device_behind_the_attackers_address_still_signs_in() {
    let (kw, _db) = with_teacher().await;
    // The owner signed in once from this browser, which keeps the cookie.
    let first = kw
        .sign_in(&ctx_from(ATTACKER, 3), "mr.jones", PASSWORD.into())
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
    let device = first.device_token.clone();
    let (checked, _) = guess_in_parallel(std::slice::from_ref(&kw), 100).await;
    assert_eq!(checked, sequential_allowance(&kw));

    let owner = ctx_from(ATTACKER, 4).with_device(Some(device.clone()));
    let again = kw
        .sign_in(&owner, "mr.jones", PASSWORD.into())
        .await
        .expect("the owner's browser is not slowed by the stranger")
        .complete()
        .expect("signed in without a second step");
    assert_eq!(
        again.device_token, device,
        "a known device keeps its cookie"
    );

    // A device cookie earned for one account says nothing for another: it
    // is not taken as a device there, so no new cookie is kept for it.
    let elsewhere = ctx_from("203.0.113.20", 5).with_device(Some(device.clone()));
    assert!(kw.known_device(&elsewhere, "someone.else").is_none());
    assert!(kw.known_device(&elsewhere, "mr.jones").is_some());
    // A forged cookie is just an unknown browser.
    let forged = ctx_from(ATTACKER, 6).with_device(Some("abc.def".into()));
    let err = kw
        .sign_in(&forged, "mr.jones", PASSWORD.into())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "too_many_attempts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_database_share_the_limit() {
    let (kw, db) = with_teacher().await;
    let second = crate::testing::second_instance(&db).await;
    let (checked, throttled) = guess_in_parallel(&[kw.clone(), second], 120).await;
    assert_eq!(checked, sequential_allowance(&kw));
    assert_eq!(throttled, 120 - checked);
}

/// Sign-ins of one school behind one address, one counted a second after
/// the other began (it waited in a queue under load, or went to another
/// instance): the later one's count is no delay for the earlier one. A try
/// let through with no delay used to leave the counter "blocked until" its
/// own second, which the earlier request read as a delay running: 429 with
/// no failure at all (found by killing an instance under load).
#[tokio::test]
async fn a_sign_in_that_began_a_second_earlier_is_not_held_by_one_counted_after_it() {
    let (kw, _db) = keyward().await;
    let address = ThrottleKey::sign_in_address("203.0.113.0", &kw.settings().throttle);
    let pair = |name: &str| {
        ThrottleKey::sign_in(
            &crate::types::username_key(name),
            &throttle::Guesser::Address("203.0.113.0".into()),
            &kw.settings().throttle,
        )
    };
    let one_second_later = MONDAY_MORNING.plus(std::time::Duration::from_secs(1));
    let later = throttle::reserve(&kw.db, vec![address.clone(), pair("amy")], one_second_later)
        .await
        .unwrap()
        .expect("the later sign-in is counted");
    let earlier = throttle::reserve(&kw.db, vec![address, pair("ben")], MONDAY_MORNING)
        .await
        .unwrap()
        .expect("the earlier sign-in is not held back");
    later.succeeded_now(&kw.db).await.unwrap();
    earlier.succeeded_now(&kw.db).await.unwrap();
}

#[tokio::test]
async fn a_busy_hashing_pool_gives_the_attempt_back() {
    let (kw, _db) = with_teacher().await;
    let key = ThrottleKey::sign_in(
        &crate::types::username_key("mr.jones"),
        &throttle::Guesser::Address(ATTACKER.into()),
        &kw.settings().throttle,
    );
    let attempt = throttle::reserve(&kw.db, vec![key.clone()], MONDAY_MORNING)
        .await
        .unwrap()
        .unwrap();
    attempt.refund(&kw.db).await.unwrap();
    let failures: i64 = sqlx::query_scalar("SELECT failures FROM throttle WHERE key = $1")
        .bind(&key.key)
        .fetch_one(kw.db.pool())
        .await
        .unwrap();
    assert_eq!(failures, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_current_passwords_get_the_sequential_tries_only() {
    let (kw, _db) = with_teacher().await;
    let ctx = ctx_from("203.0.113.9", 8);
    let signed_in = kw
        .sign_in(&ctx, "mr.jones", PASSWORD.into())
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
    let session = Arc::new(
        kw.current_session(&ctx, &signed_in.session_token)
            .await
            .unwrap()
            .unwrap(),
    );
    let token = Arc::new(signed_in.session_token);
    let tasks = (0..60).map(|i| {
        let (kw, session, token) = (kw.clone(), session.clone(), token.clone());
        tokio::spawn(async move {
            let ctx = ctx_from("203.0.113.9", 2000 + i);
            kw.change_own_password(
                &ctx,
                &session,
                &token,
                format!("guess {i}").into(),
                "a brand new passphrase".into(),
                &"a brand new passphrase".into(),
            )
            .await
        })
    });
    let (mut checked, mut throttled) = (0, 0);
    for answer in join_all(tasks).await {
        match answer.expect("task") {
            Err(ChangePasswordError::WrongCurrentPassword) => checked += 1,
            Err(ChangePasswordError::Throttled { .. }) => throttled += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(
        (checked, throttled),
        (sequential_allowance(&kw), 60 - checked)
    );
}
