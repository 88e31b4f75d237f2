//! Two-step verification on both databases: enrolment, the second step of a
//! sign-in, codes used once (also when sent in parallel, also to two
//! instances), recovery codes, turning it off, and what a password change
//! leaves alone.

use std::sync::Arc;

use futures_util::future::join_all;
use sqlx::Row;

use super::*;
use crate::accounts::{PendingSignIn, SignInOutcome};
use crate::testing::{
    DEMO_PASSWORD, MONDAY_MORNING, TestDb, account_named, audited_actions, ctx_at, demo_keyward,
};
use crate::types::random::SeededRandom;

const WHO: &str = "demo.lead";

/// A context `secs` seconds after Monday morning.
fn at(rng: &SeededRandom, secs: i64) -> Ctx<'_> {
    ctx_at(UnixTime(MONDAY_MORNING.secs() + secs), rng)
}

fn code_at(secret: &str, ctx: &Ctx<'_>) -> TotpCode {
    TotpCode::parse(&code_for(secret, ctx.now).unwrap()).unwrap()
}

/// Enrols `WHO` at Monday morning; returns the secret and the recovery codes.
async fn enrolled(kw: &Keyward, rng: &SeededRandom) -> (String, RecoveryCodes) {
    let account = account_named(kw, WHO).await;
    let ctx = at(rng, 0);
    let enrolment = kw
        .start_totp_enrolment(&ctx, &account, &DEMO_PASSWORD.into())
        .await
        .unwrap();
    let codes = kw
        .confirm_totp_enrolment(&ctx, &account, &code_at(&enrolment.secret, &ctx))
        .await
        .unwrap();
    (enrolment.secret, codes)
}

async fn second_step(kw: &Keyward, ctx: &Ctx<'_>) -> PendingSignIn {
    match kw.sign_in(ctx, WHO, DEMO_PASSWORD.into()).await.unwrap() {
        SignInOutcome::SecondStep(pending) => pending,
        SignInOutcome::Complete(_) => panic!("signed in without the second step"),
    }
}

#[tokio::test]
async fn enrolment_asks_the_password_then_a_first_code_and_gives_ten_recovery_codes() {
    let (kw, _db, rng) = demo_keyward(1).await;
    let account = account_named(&kw, WHO).await;
    let ctx = at(&rng, 0);
    let err = kw
        .start_totp_enrolment(&ctx, &account, &"wrong".into())
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::WrongPassword), "{err:?}");
    assert!(!kw.mfa_status(&account).await.unwrap().enrolment_pending);

    let enrolment = kw
        .start_totp_enrolment(&ctx, &account, &DEMO_PASSWORD.into())
        .await
        .unwrap();
    assert_eq!(enrolment.secret.len(), 32, "160 bits in base32");
    assert!(enrolment.otpauth_uri.starts_with("otpauth://totp/"));
    assert!(enrolment.qr_svg.starts_with("<svg"));
    assert!(!format!("{enrolment:?}").contains(&enrolment.secret));
    let status = kw.mfa_status(&account).await.unwrap();
    assert!(status.enrolment_pending && !status.totp);

    let wrong = TotpCode::parse(&bump(&code_at(&enrolment.secret, &ctx))).unwrap();
    let err = kw
        .confirm_totp_enrolment(&ctx, &account, &wrong)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "mfa_code_wrong");
    assert!(!kw.mfa_status(&account).await.unwrap().totp);

    let codes = kw
        .confirm_totp_enrolment(&ctx, &account, &code_at(&enrolment.secret, &ctx))
        .await
        .unwrap();
    assert_eq!(codes.0.len(), CODES_PER_SET);
    let status = kw.mfa_status(&account).await.unwrap();
    assert_eq!(
        status,
        MfaStatus {
            totp: true,
            enrolment_pending: false,
            recovery_codes_left: 10
        }
    );
    let actions = audited_actions(&kw, 3).await;
    assert_eq!(actions[0], action::MFA_ENROL);
}

/// The same code with its last digit changed.
fn bump(code: &TotpCode) -> String {
    let mut digits: Vec<u8> = code.as_str().bytes().collect();
    digits[5] = b'0' + (digits[5] - b'0' + 1) % 10;
    String::from_utf8(digits).unwrap()
}

#[tokio::test]
async fn neither_the_secret_nor_a_recovery_code_is_stored_in_plain_form() {
    let (kw, _db, rng) = demo_keyward(2).await;
    let (secret, codes) = enrolled(&kw, &rng).await;
    let mut haystack = String::new();
    for table in [
        "mfa_totp",
        "mfa_recovery_codes",
        "sealed_secrets",
        "audit_log",
    ] {
        let sql = sqlx::AssertSqlSafe(format!("SELECT * FROM {table}"));
        for row in sqlx::query(sql).fetch_all(kw.db().pool()).await.unwrap() {
            for i in 0..row.len() {
                if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                    haystack.push_str(&text);
                    haystack.push('\n');
                }
            }
        }
    }
    assert!(!haystack.contains(&secret));
    for code in codes.shown() {
        assert!(!haystack.contains(&code) && !haystack.contains(&code.replace('-', "")));
    }
}

#[tokio::test]
async fn a_second_enrolment_over_a_live_one_and_a_confirm_without_one_are_refused() {
    let (kw, _db, rng) = demo_keyward(3).await;
    let account = account_named(&kw, WHO).await;
    let ctx = at(&rng, 0);
    let code = TotpCode::parse("123456").unwrap();
    let err = kw
        .confirm_totp_enrolment(&ctx, &account, &code)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "mfa_not_pending");

    // A set-up left waiting too long is no longer pending.
    let enrolment = kw
        .start_totp_enrolment(&ctx, &account, &DEMO_PASSWORD.into())
        .await
        .unwrap();
    let late = at(&rng, 16 * 60);
    let err = kw
        .confirm_totp_enrolment(&late, &account, &code_at(&enrolment.secret, &late))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "mfa_not_pending");

    // Starting again replaces the waiting set-up: the old secret is gone.
    let again = kw
        .start_totp_enrolment(&ctx, &account, &DEMO_PASSWORD.into())
        .await
        .unwrap();
    assert_ne!(again.secret, enrolment.secret);
    let sealed: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM sealed_secrets WHERE purpose = 'totp_secret'")
            .fetch_one(kw.db().pool())
            .await
            .unwrap()
            .get("n");
    assert_eq!(sealed, 1);
    kw.confirm_totp_enrolment(&ctx, &account, &code_at(&again.secret, &ctx))
        .await
        .unwrap();

    let err = kw
        .start_totp_enrolment(&ctx, &account, &DEMO_PASSWORD.into())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "mfa_already_enabled");
    let err = kw
        .confirm_totp_enrolment(&ctx, &account, &code_at(&again.secret, &ctx))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "mfa_already_enabled");
}

#[tokio::test]
async fn sign_in_asks_for_a_code_each_code_works_once_and_drift_of_one_step_is_fine() {
    let (kw, _db, rng) = demo_keyward(4).await;
    let (secret, _codes) = enrolled(&kw, &rng).await;

    // The enrolment's first code (step 0) cannot sign in again.
    let ctx = at(&rng, 10);
    let pending = second_step(&kw, &ctx).await;
    assert!(pending.second_factors.totp);
    let replay = SecondStepCode::App(code_at(&secret, &ctx));
    let err = kw
        .finish_sign_in_with_code(&ctx, &pending.token, &replay)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "mfa_code_used");

    // The phone runs 30 s ahead: the next step's code is accepted now.
    let ahead = at(&rng, 40);
    let code = SecondStepCode::App(code_at(&secret, &ahead));
    let signed_in = kw
        .finish_sign_in_with_code(&ctx, &pending.token, &code)
        .await
        .unwrap();
    assert_eq!(signed_in.account.username.as_str(), WHO);
    assert!(
        kw.current_session(&ctx, &signed_in.session_token)
            .await
            .unwrap()
            .is_some()
    );

    // The step is used up: the same token cannot finish again.
    let err = kw
        .finish_sign_in_with_code(&ctx, &pending.token, &code)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "sign_in_step_expired");

    // A code two steps old is stale.
    let later = at(&rng, 130);
    let pending = second_step(&kw, &later).await;
    let stale = SecondStepCode::App(code_at(&secret, &at(&rng, 60)));
    let err = kw
        .finish_sign_in_with_code(&later, &pending.token, &stale)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "mfa_code_wrong");
    assert!(audited_actions(&kw, 1).await[0] == action::MFA_CODE);

    // A pending step lives five minutes.
    let too_late = at(&rng, 130 + 301);
    let code = SecondStepCode::App(code_at(&secret, &too_late));
    let err = kw
        .finish_sign_in_with_code(&too_late, &pending.token, &code)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "sign_in_step_expired");
}

#[tokio::test]
async fn a_recovery_code_works_once_and_new_ones_replace_the_old() {
    let (kw, _db, rng) = demo_keyward(5).await;
    let (_secret, codes) = enrolled(&kw, &rng).await;
    let account = account_named(&kw, WHO).await;
    let ctx = at(&rng, 60);
    let first = SecondStepCode::recovery(&codes.shown()[0].to_uppercase()).unwrap();
    let pending = second_step(&kw, &ctx).await;
    kw.finish_sign_in_with_code(&ctx, &pending.token, &first)
        .await
        .unwrap();
    assert_eq!(
        kw.mfa_status(&account).await.unwrap().recovery_codes_left,
        9
    );
    assert!(
        audited_actions(&kw, 3)
            .await
            .contains(&action::MFA_RECOVERY_CODE_USE.to_owned())
    );

    let pending = second_step(&kw, &ctx).await;
    let err = kw
        .finish_sign_in_with_code(&ctx, &pending.token, &first)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "mfa_code_used");

    // New codes need the password and a code, not the password alone.
    let used = SecondStepCode::recovery(&codes.shown()[0]).unwrap();
    let err = kw
        .regenerate_recovery_codes(&ctx, &account, &DEMO_PASSWORD.into(), &used)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "mfa_code_used");
    let second = SecondStepCode::recovery(&codes.shown()[2]).unwrap();
    let fresh = kw
        .regenerate_recovery_codes(&ctx, &account, &DEMO_PASSWORD.into(), &second)
        .await
        .unwrap();
    assert_eq!(
        kw.mfa_status(&account).await.unwrap().recovery_codes_left,
        10
    );
    let old = SecondStepCode::recovery(&codes.shown()[1]).unwrap();
    let err = kw
        .finish_sign_in_with_code(&ctx, &pending.token, &old)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "mfa_code_wrong");
    let new = SecondStepCode::recovery(&fresh.shown()[1]).unwrap();
    kw.finish_sign_in_with_code(&ctx, &pending.token, &new)
        .await
        .unwrap();
}

#[tokio::test]
async fn turning_it_off_needs_the_password_and_a_code_and_a_password_change_keeps_it() {
    let (kw, _db, rng) = demo_keyward(6).await;
    let (secret, _codes) = enrolled(&kw, &rng).await;
    let account = account_named(&kw, WHO).await;

    // Changing the password leaves two-step verification on (seed 001).
    let ctx = at(&rng, 90);
    let pending = second_step(&kw, &ctx).await;
    let signed_in = kw
        .finish_sign_in_with_code(
            &ctx,
            &pending.token,
            &SecondStepCode::App(code_at(&secret, &ctx)),
        )
        .await
        .unwrap();
    let session = kw
        .current_session(&ctx, &signed_in.session_token)
        .await
        .unwrap()
        .unwrap();
    kw.change_own_password(
        &ctx,
        &session,
        &signed_in.session_token,
        DEMO_PASSWORD.into(),
        "Another long password 7".into(),
        &"Another long password 7".into(),
    )
    .await
    .unwrap();
    let outcome = kw
        .sign_in(&ctx, WHO, "Another long password 7".into())
        .await
        .unwrap();
    assert!(matches!(outcome, SignInOutcome::SecondStep(_)));

    let later = at(&rng, 150);
    let code = SecondStepCode::App(code_at(&secret, &later));
    let err = kw
        .disable_totp(&later, &account, &"wrong".into(), &code)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "wrong_current_password");
    let wrong = SecondStepCode::app(&bump(&code_at(&secret, &later))).unwrap();
    let err = kw
        .disable_totp(&later, &account, &"Another long password 7".into(), &wrong)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "mfa_code_wrong");
    assert!(kw.mfa_status(&account).await.unwrap().totp);

    kw.disable_totp(&later, &account, &"Another long password 7".into(), &code)
        .await
        .unwrap();
    assert_eq!(
        kw.mfa_status(&account).await.unwrap(),
        MfaStatus {
            totp: false,
            enrolment_pending: false,
            recovery_codes_left: 0
        }
    );
    let outcome = kw
        .sign_in(&later, WHO, "Another long password 7".into())
        .await
        .unwrap();
    assert!(matches!(outcome, SignInOutcome::Complete(_)));
    let err = kw
        .disable_totp(&later, &account, &"Another long password 7".into(), &code)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "mfa_not_enabled");
}

/// Sends `code` for every pending step in `steps` at once, over `instances`;
/// returns how many signed in and the codes of the refusals.
async fn finish_in_parallel(
    instances: &[Arc<Keyward>],
    steps: Vec<Token>,
    code: SecondStepCode,
    secs: i64,
) -> (usize, Vec<String>) {
    let rng: &'static SeededRandom = Box::leak(Box::new(SeededRandom::new(secs as u64)));
    let tasks = steps.into_iter().enumerate().map(|(i, token)| {
        let kw = instances[i % instances.len()].clone();
        let code = code.clone();
        tokio::spawn(async move {
            let ctx = at(rng, secs);
            kw.finish_sign_in_with_code(&ctx, &token, &code).await
        })
    });
    let mut ok = 0;
    let mut refused = Vec::new();
    for result in join_all(tasks).await {
        match result.expect("task") {
            Ok(_) => ok += 1,
            Err(MfaError::Internal(err)) => refused.push(format!("internal: {}", err.cause())),
            Err(err) => refused.push(err.code().as_str().to_owned()),
        }
    }
    (ok, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_code_sent_in_parallel_to_two_instances_signs_in_once() {
    let (kw, db, rng) = demo_keyward(7).await;
    let second = second_instance(&db).await;
    let (secret, _codes) = enrolled(&kw, &rng).await;
    let ctx = at(&rng, 60);
    let mut steps = Vec::new();
    for _ in 0..12 {
        steps.push(second_step(&kw, &ctx).await.token);
    }
    let code = SecondStepCode::App(code_at(&secret, &ctx));
    let (ok, refused) = finish_in_parallel(&[kw.clone(), second.clone()], steps, code, 60).await;
    assert_eq!(ok, 1, "refused: {refused:?}");
    // A replay counts as a wrong try, so the last ones may wait instead.
    assert!(
        refused
            .iter()
            .all(|c| c == "mfa_code_used" || c == "too_many_attempts"),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_pending_step_finished_by_many_requests_at_once_opens_one_session() {
    let (kw, db, rng) = demo_keyward(9).await;
    let second = second_instance(&db).await;
    let (_secret, codes) = enrolled(&kw, &rng).await;
    let ctx = at(&rng, 60);
    let step = second_step(&kw, &ctx).await.token;
    let recovery = SecondStepCode::recovery(&codes.shown()[3]).unwrap();
    let (ok, refused) =
        finish_in_parallel(&[kw.clone(), second], vec![step; 12], recovery, 61).await;
    assert_eq!(ok, 1, "refused: {refused:?}");
    assert!(
        refused.iter().all(|c| c == "mfa_code_used"
            || c == "sign_in_step_expired"
            || c == "too_many_attempts"),
        "{refused:?}"
    );
    let sessions: i64 = sqlx::query("SELECT COUNT(*) AS n FROM sessions")
        .fetch_one(kw.db().pool())
        .await
        .unwrap()
        .get("n");
    assert_eq!(sessions, 1);
}

async fn second_instance(db: &TestDb) -> Arc<Keyward> {
    let second = crate::testing::second_instance(db).await;
    crate::testing::seed_demo_people(&second, &SeededRandom::new(9)).await;
    second
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_codes_get_the_sequential_tries_only() {
    let (kw, _db, rng) = demo_keyward(8).await;
    let (secret, _codes) = enrolled(&kw, &rng).await;
    let ctx = at(&rng, 60);
    let pending = second_step(&kw, &ctx).await;
    let wrong = SecondStepCode::app(&bump(&code_at(&secret, &ctx))).unwrap();
    let (ok, refused) = finish_in_parallel(
        std::slice::from_ref(&kw),
        vec![pending.token.clone(); 60],
        wrong,
        60,
    )
    .await;
    assert_eq!(ok, 0);
    let checked = refused.iter().filter(|c| *c == "mfa_code_wrong").count();
    let allowance = kw.settings().throttle.account_free_failures as usize + 1;
    assert_eq!(checked, allowance, "{refused:?}");
    assert_eq!(refused.len() - checked, 60 - allowance);
    assert!(
        refused
            .iter()
            .all(|c| c == "mfa_code_wrong" || c == "too_many_attempts")
    );

    // Right after, even the right code waits its turn; once the delay is
    // over it signs in.
    let right = SecondStepCode::App(code_at(&secret, &ctx));
    let err = kw
        .finish_sign_in_with_code(&ctx, &pending.token, &right)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "too_many_attempts");
    let later = at(&rng, 90);
    let right = SecondStepCode::App(code_at(&secret, &later));
    kw.finish_sign_in_with_code(&later, &pending.token, &right)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_password_change_ends_sign_ins_halfway_through_their_second_step() {
    let (kw, _db, rng) = demo_keyward(10).await;
    let (secret, _codes) = enrolled(&kw, &rng).await;
    let ctx = at(&rng, 60);
    // Someone with the password waits at the second step...
    let intruder = second_step(&kw, &ctx).await;
    // ...while the owner signs in and changes the password.
    let owner = second_step(&kw, &ctx).await;
    let code = SecondStepCode::App(code_at(&secret, &ctx));
    let signed_in = kw
        .finish_sign_in_with_code(&ctx, &owner.token, &code)
        .await
        .unwrap();
    let session = kw
        .current_session(&ctx, &signed_in.session_token)
        .await
        .unwrap()
        .unwrap();
    kw.change_own_password(
        &ctx,
        &session,
        &signed_in.session_token,
        DEMO_PASSWORD.into(),
        "Another long password 7".into(),
        &"Another long password 7".into(),
    )
    .await
    .unwrap();
    let later = at(&rng, 90);
    let code = SecondStepCode::App(code_at(&secret, &later));
    let err = kw
        .finish_sign_in_with_code(&later, &intruder.token, &code)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "sign_in_step_expired");
}
