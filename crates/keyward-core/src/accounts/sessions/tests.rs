//! Use-case tests of a person's own sessions, on the backend the test run
//! uses: the list (live ones only, "this device" first), ending one, ending
//! all others, refusing another person's or an unknown id, and many parallel
//! requests ending one session.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;

use super::*;
use crate::accounts::CurrentSession;
use crate::audit;
use crate::testing::{DEMO_PASSWORD, MONDAY_MORNING, TestDb, demo_keyward};
use crate::types::random::SeededRandom;

const LINUX_CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const WINDOWS_FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// A signed-in browser of a test: its session and cookie.
struct Browser {
    session: CurrentSession,
    token: Token,
}

fn ctx<'a>(rng: &'a SeededRandom, at: UnixTime, addr: &str, agent: &str) -> Ctx<'a> {
    Ctx::new(at, rng).with_client(Some(addr.into()), Some(agent.into()))
}

/// Signs `username` in at `at` from `addr` with `agent`.
async fn sign_in(
    kw: &Keyward,
    rng: &SeededRandom,
    username: &str,
    at: UnixTime,
    addr: &str,
    agent: &str,
) -> Browser {
    let ctx = ctx(rng, at, addr, agent);
    let signed = kw
        .sign_in(&ctx, username, DEMO_PASSWORD.into())
        .await
        .expect("sign in")
        .complete()
        .expect("signed in without a second step");
    let session = kw
        .current_session(&ctx, &signed.session_token)
        .await
        .unwrap()
        .expect("a live session");
    Browser {
        session,
        token: signed.session_token,
    }
}

async fn still_signed_in(
    kw: &Keyward,
    rng: &SeededRandom,
    browser: &Browser,
    at: UnixTime,
) -> bool {
    kw.current_session(&Ctx::new(at, rng), &browser.token)
        .await
        .unwrap()
        .is_some()
}

async fn list(
    kw: &Keyward,
    rng: &SeededRandom,
    browser: &Browser,
    at: UnixTime,
) -> Vec<SessionSummary> {
    kw.own_sessions(&Ctx::new(at, rng), &browser.session, &browser.token)
        .await
        .unwrap()
}

/// `(action, detail)` of the `session.end` rows, newest first.
async fn ended_rows(kw: &Keyward) -> Vec<(String, Option<String>)> {
    audit::recent(kw.db(), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.action == action::SESSION_END)
        .map(|row| (row.actor_id.unwrap_or_default(), row.detail))
        .collect()
}

async fn two_browsers_of_the_teacher() -> (Arc<Keyward>, TestDb, SeededRandom, Browser, Browser) {
    let (kw, db, rng) = demo_keyward(41).await;
    let laptop = sign_in(
        &kw,
        &rng,
        "demo.teacher",
        MONDAY_MORNING,
        "192.0.2.10",
        LINUX_CHROME,
    )
    .await;
    let later = MONDAY_MORNING.plus(Duration::from_secs(300));
    let phone = sign_in(
        &kw,
        &rng,
        "demo.teacher",
        later,
        "198.51.100.7",
        WINDOWS_FIREFOX,
    )
    .await;
    (kw, db, rng, laptop, phone)
}

#[tokio::test]
async fn the_list_shows_the_persons_live_sessions_with_this_device_first() {
    let (kw, _db, rng, laptop, phone) = two_browsers_of_the_teacher().await;
    // Somebody else's session is never in the list.
    sign_in(
        &kw,
        &rng,
        "demo.amy",
        MONDAY_MORNING,
        "192.0.2.99",
        LINUX_CHROME,
    )
    .await;
    let at = MONDAY_MORNING.plus(Duration::from_secs(600));

    let seen_from_laptop = list(&kw, &rng, &laptop, at).await;
    assert_eq!(seen_from_laptop.len(), 2);
    let (this, other) = (&seen_from_laptop[0], &seen_from_laptop[1]);
    assert!(this.current && !other.current);
    assert_eq!(this.device.label(), "Chrome on Linux");
    assert_eq!(this.client_addr.as_deref(), Some("192.0.2.10"));
    assert_eq!(this.signed_in_at, MONDAY_MORNING);
    assert_eq!(other.device.label(), "Firefox on Windows");
    assert_eq!(other.client_addr.as_deref(), Some("198.51.100.7"));
    assert_eq!(other.user_agent.as_deref(), Some(WINDOWS_FIREFOX));
    assert_eq!(
        other.last_seen_at,
        MONDAY_MORNING.plus(Duration::from_secs(300))
    );
    assert_ne!(this.id, other.id);
    assert_eq!(this.id.as_str().len(), 32);

    // From the phone, the phone is "this device".
    let seen_from_phone = list(&kw, &rng, &phone, at).await;
    assert_eq!(seen_from_phone[0].id, other.id);
    assert!(seen_from_phone[0].current);
    assert_eq!(seen_from_phone[1].id, this.id);
}

#[tokio::test]
async fn expired_and_idle_sessions_are_not_listed_and_cannot_be_ended() {
    let (kw, _db, rng) = demo_keyward(42).await;
    let idle = kw.settings().session.idle_timeout;
    let absolute = kw.settings().session.absolute_timeout;
    let old = sign_in(
        &kw,
        &rng,
        "demo.teacher",
        MONDAY_MORNING,
        "192.0.2.10",
        LINUX_CHROME,
    )
    .await;
    let old_id = list(&kw, &rng, &old, MONDAY_MORNING).await[0].id.clone();

    // Past the idle timeout, the old session is not listed any more.
    let after_idle = MONDAY_MORNING.plus(idle).plus(Duration::from_secs(1));
    let new = sign_in(
        &kw,
        &rng,
        "demo.teacher",
        after_idle,
        "192.0.2.11",
        WINDOWS_FIREFOX,
    )
    .await;
    let listed = list(&kw, &rng, &new, after_idle).await;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].current);
    let err = kw
        .end_own_session(
            &Ctx::new(after_idle, &rng),
            &new.session,
            &new.token,
            &old_id,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, EndSessionError::NotFound));
    assert_eq!(err.code(), Code::SessionNotFound);
    assert_eq!(
        kw.end_other_sessions(&Ctx::new(after_idle, &rng), &new.session, &new.token)
            .await
            .unwrap(),
        0
    );
    assert!(ended_rows(&kw).await.is_empty());

    // A session kept busy is still gone after its absolute timeout.
    let busy = sign_in(
        &kw,
        &rng,
        "demo.teacher",
        after_idle,
        "192.0.2.12",
        LINUX_CHROME,
    )
    .await;
    let mut at = after_idle;
    let end = after_idle.plus(absolute);
    while at < end.minus(idle / 2) {
        at = at.plus(idle / 2);
        assert!(still_signed_in(&kw, &rng, &busy, at).await);
        assert!(still_signed_in(&kw, &rng, &new, at).await);
    }
    let past_absolute = after_idle.plus(absolute).plus(Duration::from_secs(1));
    let fresh = sign_in(
        &kw,
        &rng,
        "demo.teacher",
        past_absolute,
        "192.0.2.13",
        LINUX_CHROME,
    )
    .await;
    let listed = list(&kw, &rng, &fresh, past_absolute).await;
    assert_eq!(listed.len(), 1, "only the fresh session is live");
}

#[tokio::test]
async fn ending_another_session_signs_it_out_and_audits_how() {
    let (kw, _db, rng, laptop, phone) = two_browsers_of_the_teacher().await;
    let at = MONDAY_MORNING.plus(Duration::from_secs(600));
    let phone_id = list(&kw, &rng, &laptop, at).await[1].id.clone();

    let ended = kw
        .end_own_session(
            &ctx(&rng, at, "192.0.2.10", LINUX_CHROME),
            &laptop.session,
            &laptop.token,
            &phone_id,
        )
        .await
        .unwrap();
    assert_eq!(ended, SessionEnded { was_current: false });
    assert!(!still_signed_in(&kw, &rng, &phone, at).await);
    assert!(still_signed_in(&kw, &rng, &laptop, at).await);
    assert_eq!(list(&kw, &rng, &laptop, at).await.len(), 1);
    let teacher = laptop.session.account.id.to_string();
    assert_eq!(
        ended_rows(&kw).await,
        vec![(teacher, Some(ended_how::SIGNED_OUT_ELSEWHERE.to_owned()))]
    );
    let row = &audit::recent(kw.db(), 1).await.unwrap()[0];
    assert_eq!(row.client_addr.as_deref(), Some("192.0.2.10"));

    // Once ended, the same id is not found again, and nothing more is audited.
    let again = kw
        .end_own_session(
            &Ctx::new(at, &rng),
            &laptop.session,
            &laptop.token,
            &phone_id,
        )
        .await;
    assert!(matches!(again, Err(EndSessionError::NotFound)));
    assert_eq!(ended_rows(&kw).await.len(), 1);
}

#[tokio::test]
async fn ending_the_session_in_use_through_the_list_signs_the_caller_out() {
    let (kw, _db, rng, laptop, phone) = two_browsers_of_the_teacher().await;
    let at = MONDAY_MORNING.plus(Duration::from_secs(600));
    let own_id = list(&kw, &rng, &laptop, at).await[0].id.clone();
    let ended = kw
        .end_own_session(&Ctx::new(at, &rng), &laptop.session, &laptop.token, &own_id)
        .await
        .unwrap();
    assert!(ended.was_current);
    assert!(!still_signed_in(&kw, &rng, &laptop, at).await);
    assert!(still_signed_in(&kw, &rng, &phone, at).await);
    assert_eq!(
        ended_rows(&kw).await[0].1.as_deref(),
        Some(ended_how::SIGNED_OUT_HERE)
    );
}

#[tokio::test]
async fn another_persons_session_or_an_unknown_id_is_not_found_and_nothing_changes() {
    let (kw, _db, rng, laptop, _phone) = two_browsers_of_the_teacher().await;
    let learner = sign_in(
        &kw,
        &rng,
        "demo.amy",
        MONDAY_MORNING,
        "192.0.2.99",
        LINUX_CHROME,
    )
    .await;
    let at = MONDAY_MORNING.plus(Duration::from_secs(600));
    let learners_id = list(&kw, &rng, &learner, at).await[0].id.clone();

    let unknown = SessionId::parse(&"0".repeat(32)).unwrap();
    for id in [&learners_id, &unknown] {
        let err = kw
            .end_own_session(&Ctx::new(at, &rng), &laptop.session, &laptop.token, id)
            .await
            .unwrap_err();
        assert!(matches!(err, EndSessionError::NotFound), "{id}");
    }
    assert!(still_signed_in(&kw, &rng, &learner, at).await);
    assert_eq!(list(&kw, &rng, &laptop, at).await.len(), 2);
    assert!(ended_rows(&kw).await.is_empty());
}

#[tokio::test]
async fn sign_out_other_sessions_ends_all_but_this_one_with_a_row_each() {
    let (kw, _db, rng, laptop, phone) = two_browsers_of_the_teacher().await;
    let tablet = sign_in(
        &kw,
        &rng,
        "demo.teacher",
        MONDAY_MORNING,
        "192.0.2.20",
        LINUX_CHROME,
    )
    .await;
    let learner = sign_in(
        &kw,
        &rng,
        "demo.amy",
        MONDAY_MORNING,
        "192.0.2.99",
        LINUX_CHROME,
    )
    .await;
    let at = MONDAY_MORNING.plus(Duration::from_secs(600));

    let ended = kw
        .end_other_sessions(&Ctx::new(at, &rng), &laptop.session, &laptop.token)
        .await
        .unwrap();
    assert_eq!(ended, 2);
    assert!(still_signed_in(&kw, &rng, &laptop, at).await);
    assert!(!still_signed_in(&kw, &rng, &phone, at).await);
    assert!(!still_signed_in(&kw, &rng, &tablet, at).await);
    // Another person's sessions are left alone.
    assert!(still_signed_in(&kw, &rng, &learner, at).await);
    let rows = ended_rows(&kw).await;
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|(_, detail)| detail.as_deref() == Some(ended_how::ALL_OTHERS))
    );
    // Nothing left to end: no more rows.
    let again = kw
        .end_other_sessions(&Ctx::new(at, &rng), &laptop.session, &laptop.token)
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert_eq!(ended_rows(&kw).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_requests_ending_one_session_succeed_once_and_audit_once() {
    let (kw, _db, rng, laptop, phone) = two_browsers_of_the_teacher().await;
    let at = MONDAY_MORNING.plus(Duration::from_secs(600));
    let phone_id = list(&kw, &rng, &laptop, at).await[1].id.clone();
    let laptop = Arc::new(laptop);
    let tasks = (0..16).map(|_| {
        let (kw, laptop, id) = (kw.clone(), laptop.clone(), phone_id.clone());
        tokio::spawn(async move {
            let rng = SeededRandom::new(7);
            kw.end_own_session(&Ctx::new(at, &rng), &laptop.session, &laptop.token, &id)
                .await
        })
    });
    let (mut ended, mut not_found) = (0, 0);
    for result in join_all(tasks).await {
        match result.expect("task") {
            Ok(_) => ended += 1,
            Err(EndSessionError::NotFound) => not_found += 1,
            Err(other) => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!((ended, not_found), (1, 15));
    assert_eq!(ended_rows(&kw).await.len(), 1);
    assert!(!still_signed_in(&kw, &rng, &phone, at).await);
}

#[test]
fn session_ids_are_32_hex_digits_and_nothing_else_parses() {
    let rng = SeededRandom::new(1);
    let id = SessionId::generate(&rng).unwrap();
    assert_eq!(id.as_str().len(), 32);
    assert_eq!(SessionId::parse(id.as_str()), Some(id.clone()));
    assert_eq!(
        SessionId::parse(&id.as_str().to_ascii_uppercase()),
        Some(id)
    );
    for junk in [
        "",
        "abc",
        &"g".repeat(32),
        &"0".repeat(33),
        "../../etc/passwd",
        &"é".repeat(16),
    ] {
        assert_eq!(SessionId::parse(junk), None, "{junk}");
    }
}
