//! Administrators' resets on both databases: the second factor asked of the
//! administrator, who may be reset, the hourly link limit under parallel
//! requests, the temporary password's hold and expiry, and the MFA reset.

use futures_util::future::join_all;

use super::*;
use crate::accounts::SignInOutcome;
use crate::authz::Permission;
use crate::mfa::{TotpCode, code_for};
use crate::testing::{
    DEMO_PASSWORD, MONDAY_MORNING, account_named, actor_named, create_pending_user, ctx_at,
    demo_keyward, grant_through_custom_role,
};
use crate::types::Role;
use crate::types::random::SeededRandom;

fn at(rng: &SeededRandom, secs: i64) -> Ctx<'_> {
    ctx_at(UnixTime(MONDAY_MORNING.secs() + secs), rng)
}

/// Turns on an authenticator app for `username`; returns its secret.
async fn enrol_totp(kw: &Keyward, rng: &SeededRandom, username: &str) -> String {
    let account = account_named(kw, username).await;
    let ctx = at(rng, 0);
    let enrolment = kw
        .start_totp_enrolment(&ctx, &account, &DEMO_PASSWORD.into())
        .await
        .unwrap();
    let code = TotpCode::parse(&code_for(&enrolment.secret, ctx.now).unwrap()).unwrap();
    kw.confirm_totp_enrolment(&ctx, &account, &code)
        .await
        .unwrap();
    enrolment.secret
}

/// Signs `username` in once (so they are eligible for a reset link).
async fn sign_in_once(kw: &Keyward, rng: &SeededRandom, username: &str) {
    kw.sign_in(&at(rng, 0), username, DEMO_PASSWORD.into())
        .await
        .unwrap();
}

async fn count(kw: &Keyward, sql: &'static str, user: &UserId) -> i64 {
    sqlx::query_scalar(sql)
        .bind(user.as_str())
        .fetch_one(kw.db().pool())
        .await
        .unwrap()
}

async fn reset_mails(kw: &Keyward, user: &UserId) -> i64 {
    count(
        kw,
        "SELECT COUNT(*) FROM outbox WHERE user_id = $1 AND kind = 'recovery.reset_link'",
        user,
    )
    .await
}

async fn last_audit(kw: &Keyward) -> crate::audit::AuditRow {
    crate::audit::recent(kw.db(), 1).await.unwrap().remove(0)
}

#[tokio::test]
async fn a_reset_link_needs_a_second_factor_on_the_administrators_own_account() {
    let (kw, _db, rng) = demo_keyward(1).await;
    sign_in_once(&kw, &rng, "demo.teacher").await;
    let lead = actor_named(&kw, "demo.lead").await;
    let teacher = account_named(&kw, "demo.teacher").await;

    let err = kw
        .send_password_reset(&at(&rng, 10), &lead, &teacher.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::MfaRequired);
    assert_eq!(err.details(), vec![("enable_at", "/account/mfa".into())]);
    let audited = last_audit(&kw).await;
    assert_eq!(
        (audited.action.as_str(), audited.outcome.as_str()),
        ("admin.password_reset", "refused")
    );
    assert_eq!(audited.detail.as_deref(), Some("mfa_required"));
    assert_eq!(reset_mails(&kw, &teacher.id).await, 0);

    enrol_totp(&kw, &rng, "demo.lead").await;
    let sent = kw
        .send_password_reset(&at(&rng, 20), &lead, &teacher.id)
        .await
        .unwrap();
    assert_eq!(sent.sent_to, "t***@riverside.example");
    assert_eq!(sent.expires_in, Duration::from_secs(3600));
    assert_eq!(reset_mails(&kw, &teacher.id).await, 1);
    let payload: String = sqlx::query_scalar("SELECT payload FROM outbox WHERE user_id = $1")
        .bind(teacher.id.as_str())
        .fetch_one(kw.db().pool())
        .await
        .unwrap();
    assert!(payload.contains("Lena Fischer"), "{payload}");
    let audited = last_audit(&kw).await;
    assert_eq!(
        (audited.action.as_str(), audited.outcome.as_str()),
        ("admin.password_reset", "success")
    );
    assert_eq!(audited.actor_id.as_deref(), Some(lead.user_id.as_str()));
}

#[tokio::test]
async fn someone_who_never_signed_in_gets_no_link_but_an_offer() {
    let (kw, _db, rng) = demo_keyward(2).await;
    enrol_totp(&kw, &rng, "demo.lead").await;
    let lead = actor_named(&kw, "demo.lead").await;
    let teacher = account_named(&kw, "demo.teacher").await;
    let err = kw
        .send_password_reset(&at(&rng, 10), &lead, &teacher.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NeverSignedIn);
    assert_eq!(err.details(), vec![("offer", "temporary_password".into())]);

    let ctx = at(&rng, 10);
    let pending = create_pending_user(&kw, &ctx, &lead, Role::Teacher, ("Ola", "Nowak"), &[]).await;
    let err = kw
        .send_password_reset(&ctx, &lead, &pending.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NeverSignedIn);
    assert_eq!(err.details(), vec![("offer", "access_code".into())]);
    assert_eq!(reset_mails(&kw, &teacher.id).await, 0);
    let audited = last_audit(&kw).await;
    assert_eq!(audited.detail.as_deref(), Some("never_signed_in"));
}

#[tokio::test]
async fn permissions_scope_and_the_target_are_checked_before_the_second_factor() {
    let (kw, _db, rng) = demo_keyward(3).await;
    sign_in_once(&kw, &rng, "demo.teacher").await;
    sign_in_once(&kw, &rng, "demo.parent").await;
    let ctx = at(&rng, 5);
    let lead = actor_named(&kw, "demo.lead").await;
    let admin = actor_named(&kw, "demo.admin").await;
    let teacher = account_named(&kw, "demo.teacher").await;
    let parent = account_named(&kw, "demo.parent").await;

    // View Users alone, then Reset Passwords alone: both needed (seed 001).
    // The holder (a parent) has a second factor, so only permissions decide.
    enrol_totp(&kw, &rng, "demo.parent").await;
    grant_through_custom_role(&kw, &ctx, &lead, "demo.parent", &[Permission::UsersView]).await;
    let viewer = actor_named(&kw, "demo.parent").await;
    let err = kw
        .send_password_reset(&ctx, &viewer, &teacher.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Forbidden);

    // A teacher holding both through a custom role may not reset their
    // lead teacher, who holds more than they do.
    enrol_totp(&kw, &rng, "demo.teacher").await;
    let school = lead.school_id.clone().unwrap();
    let role = kw
        .create_custom_role(
            &ctx,
            &lead,
            &school,
            "Resetters",
            &[Permission::UsersView, Permission::UsersResetPassword],
        )
        .await
        .unwrap();
    kw.grant_custom_role(&ctx, &lead, &teacher.id, &role.id)
        .await
        .unwrap();
    sign_in_once(&kw, &rng, "demo.lead").await;
    let resetter = actor_named(&kw, "demo.teacher").await;
    let err = kw
        .send_password_reset(&ctx, &resetter, &lead.user_id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Forbidden);
    // …but may reset the parent, who holds less.
    kw.send_password_reset(&ctx, &resetter, &parent.id)
        .await
        .unwrap();

    // Oneself, a platform admin seen from a school, and another school.
    enrol_totp(&kw, &rng, "demo.lead").await;
    let err = kw
        .send_password_reset(&ctx, &lead, &lead.user_id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Forbidden);
    let err = kw
        .send_password_reset(&ctx, &lead, &admin.user_id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let elsewhere = kw
        .create_school(&ctx, &admin, "Hill Top Academy")
        .await
        .unwrap();
    let mut outsider = lead.clone();
    outsider.school_id = Some(elsewhere.id);
    let err = kw
        .send_password_reset(&ctx, &outsider, &teacher.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(reset_mails(&kw, &teacher.id).await, 0);
}

#[tokio::test]
async fn reset_passwords_alone_without_view_users_is_refused() {
    let (kw, _db, rng) = demo_keyward(5).await;
    sign_in_once(&kw, &rng, "demo.amy").await;
    let ctx = at(&rng, 5);
    let lead = actor_named(&kw, "demo.lead").await;
    enrol_totp(&kw, &rng, "demo.teacher").await;
    grant_through_custom_role(
        &kw,
        &ctx,
        &lead,
        "demo.teacher",
        &[Permission::UsersResetPassword],
    )
    .await;
    let teacher = actor_named(&kw, "demo.teacher").await;
    let amy = account_named(&kw, "demo.amy").await;
    let err = kw
        .set_temporary_password(&ctx, &teacher, &amy.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Forbidden);
    let actions = crate::testing::audited_actions(&kw, 1).await;
    assert_eq!(actions, vec!["authz.denied"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_resets_on_two_instances_send_at_most_the_hourly_limit_and_leave_one_link()
{
    let (kw, db, rng) = demo_keyward(6).await;
    let second = crate::testing::second_instance(&db).await;
    sign_in_once(&kw, &rng, "demo.teacher").await;
    enrol_totp(&kw, &rng, "demo.admin").await;
    let admin = actor_named(&kw, "demo.admin").await;
    let teacher = account_named(&kw, "demo.teacher").await;
    let answers = join_all((0..20).map(|i| {
        let instance = if i % 2 == 0 { &kw } else { &second };
        let (kw, admin, id, rng) = (instance.clone(), admin.clone(), teacher.id.clone(), &rng);
        async move { kw.send_password_reset(&at(rng, 30), &admin, &id).await }
    }))
    .await;
    let sent = answers.iter().filter(|a| a.is_ok()).count();
    for answer in &answers {
        if let Err(err) = answer {
            assert!(
                matches!(
                    err.code(),
                    Code::TooManyRequests | Code::DatabaseUnavailable
                ),
                "{err:?}"
            );
        }
    }
    let limit = kw.settings().recovery.max_links_per_account_per_hour;
    assert!(sent >= 1 && sent <= limit as usize, "{sent} sent");
    assert_eq!(reset_mails(&kw, &teacher.id).await, sent as i64);
    let open = count(
        &kw,
        "SELECT COUNT(*) FROM recovery_requests WHERE user_id = $1 AND ended_at IS NULL",
        &teacher.id,
    )
    .await;
    assert_eq!(open, 1, "exactly one link stays usable");
}

#[tokio::test]
async fn a_temporary_password_holds_the_session_until_replaced_and_then_expires() {
    let (kw, _db, rng) = demo_keyward(7).await;
    enrol_totp(&kw, &rng, "demo.lead").await;
    let lead = actor_named(&kw, "demo.lead").await;
    let teacher = account_named(&kw, "demo.teacher").await;
    let before = kw
        .sign_in(&at(&rng, 1), "demo.teacher", DEMO_PASSWORD.into())
        .await
        .unwrap()
        .complete()
        .unwrap();

    let temporary = kw
        .set_temporary_password(&at(&rng, 10), &lead, &teacher.id)
        .await
        .unwrap();
    assert_eq!(
        temporary.expires_at.secs(),
        MONDAY_MORNING.secs() + 10 + 86_400
    );
    assert!(!format!("{temporary:?}").contains(temporary.password.expose()));
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(teacher.id.as_str())
        .fetch_one(kw.db().pool())
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$"));
    // The old session ended, and the old password is gone.
    assert!(
        kw.current_session(&at(&rng, 11), &before.session_token)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        kw.sign_in(&at(&rng, 12), "demo.teacher", DEMO_PASSWORD.into())
            .await
            .is_err()
    );
    let typed = temporary.password.expose().to_owned();
    let signed_in = kw
        .sign_in(&at(&rng, 20), "demo.teacher", typed.as_str().into())
        .await
        .unwrap()
        .complete()
        .unwrap();
    let session = kw
        .current_session(&at(&rng, 21), &signed_in.session_token)
        .await
        .unwrap()
        .unwrap();
    assert!(session.password_change_due);
    kw.change_own_password(
        &at(&rng, 22),
        &session,
        &signed_in.session_token,
        typed.as_str().into(),
        "Mine-and-only-mine-9".into(),
        &"Mine-and-only-mine-9".into(),
    )
    .await
    .unwrap();
    let session = kw
        .current_session(&at(&rng, 23), &signed_in.session_token)
        .await
        .unwrap()
        .unwrap();
    assert!(!session.password_change_due);

    // A second temporary password, left to expire.
    let temporary = kw
        .set_temporary_password(&at(&rng, 30), &lead, &teacher.id)
        .await
        .unwrap();
    let typed = temporary.password.expose().to_owned();
    let err = kw
        .sign_in(
            &at(&rng, 30 + 86_400),
            "demo.teacher",
            typed.as_str().into(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::TemporaryPasswordExpired);
    // A wrong password is still just wrong.
    let err = kw
        .sign_in(&at(&rng, 30 + 86_400), "demo.teacher", "Wrong-one-1".into())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidCredentials);
}

#[tokio::test]
async fn an_mfa_reset_removes_every_factor_and_session_and_tells_the_person() {
    let (kw, _db, rng) = demo_keyward(8).await;
    enrol_totp(&kw, &rng, "demo.lead").await;
    enrol_totp(&kw, &rng, "demo.teacher").await;
    let lead = actor_named(&kw, "demo.lead").await;
    let teacher = account_named(&kw, "demo.teacher").await;
    let pending = kw
        .sign_in(&at(&rng, 40), "demo.teacher", DEMO_PASSWORD.into())
        .await
        .unwrap();
    assert!(matches!(pending, SignInOutcome::SecondStep(_)));

    let removed = kw
        .reset_mfa(&at(&rng, 50), &lead, &teacher.id)
        .await
        .unwrap();
    assert!(removed.authenticator_app);
    assert_eq!(removed.recovery_codes, 10);
    for sql in [
        "SELECT COUNT(*) FROM mfa_totp WHERE user_id = $1",
        "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = $1",
        "SELECT COUNT(*) FROM passkeys WHERE user_id = $1",
        "SELECT COUNT(*) FROM sessions WHERE user_id = $1",
        "SELECT COUNT(*) FROM sign_in_steps WHERE user_id = $1",
    ] {
        assert_eq!(count(&kw, sql, &teacher.id).await, 0, "{sql}");
    }
    let mails = count(
        &kw,
        "SELECT COUNT(*) FROM outbox WHERE user_id = $1 AND kind = 'admin.mfa_reset'",
        &teacher.id,
    )
    .await;
    assert_eq!(mails, 1);
    let audited = last_audit(&kw).await;
    assert_eq!(
        (audited.action.as_str(), audited.outcome.as_str()),
        ("admin.mfa_reset", "success")
    );
    // The password alone signs in now.
    let outcome = kw
        .sign_in(&at(&rng, 60), "demo.teacher", DEMO_PASSWORD.into())
        .await
        .unwrap();
    assert!(matches!(outcome, SignInOutcome::Complete(_)));
    let err = kw
        .reset_mfa(&at(&rng, 70), &lead, &teacher.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::MfaNotEnabled);
}
