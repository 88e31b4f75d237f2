//! Use-case tests of one learner's password in staff hands, on the backend of
//! the test run.

use super::*;
use crate::testing::{
    DEMO_PASSWORD, MONDAY_MORNING, account_named, actor_named, another_teacher, audited_actions,
    change_own_password_as, create_pending_user, ctx_at, demo_keyward, kept_learner_passwords,
    signs_in, staff_of_another_school,
};

#[tokio::test]
async fn a_teacher_generates_a_password_the_learner_signs_in_with_and_can_show_it_again() {
    let (kw, _db, rng) = demo_keyward(31).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let amy = account_named(&kw, "demo.amy").await;

    let issued = kw
        .reset_learner_password(&ctx, &teacher, &amy.id, NewPasswordChoice::Generate)
        .await
        .unwrap();
    assert!(issued.kept);
    let policy = kw
        .password_policy(amy.school_id.as_ref(), PolicyKind::Learner)
        .await
        .unwrap();
    assert!(policy.check(&issued.password, Some("demo.amy")).is_empty());
    assert!(signs_in(&kw, &rng, "demo.amy", issued.password.expose()).await);
    assert!(!signs_in(&kw, &rng, "demo.amy", DEMO_PASSWORD).await);

    let view = kw
        .learner_password_view(&crate::testing::view_ctx(), &teacher, &amy.id)
        .await
        .unwrap();
    assert_eq!(view.state, PasswordState::Retrievable);
    let shown = kw
        .reveal_learner_password(&ctx, &teacher, &amy.id)
        .await
        .unwrap();
    assert_eq!(shown.password.expose(), issued.password.expose());

    let actions = audited_actions(&kw, 50).await;
    assert!(actions.contains(&action::LEARNER_PASSWORD_RESET.to_owned()));
    assert!(actions.contains(&action::LEARNER_PASSWORD_REVEAL.to_owned()));
}

#[tokio::test]
async fn a_chosen_password_is_checked_against_the_learner_policy_and_changes_nothing_when_bad() {
    let (kw, _db, rng) = demo_keyward(31).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let ben = account_named(&kw, "demo.ben").await;

    let err = kw
        .reset_learner_password(
            &ctx,
            &lead,
            &ben.id,
            NewPasswordChoice::Chosen("abc".into()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "password_policy");
    let LearnerPasswordError::PasswordPolicy { violations, .. } = err else {
        panic!("expected a policy error");
    };
    assert!(violations.contains(&Violation::TooShort));
    assert!(signs_in(&kw, &rng, "demo.ben", DEMO_PASSWORD).await);

    let err = kw
        .reset_learner_password(
            &ctx,
            &lead,
            &ben.id,
            NewPasswordChoice::Chosen("x".repeat(300).into()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "password_policy");

    kw.reset_learner_password(
        &ctx,
        &lead,
        &ben.id,
        NewPasswordChoice::Chosen("Rocket77".into()),
    )
    .await
    .unwrap();
    assert!(signs_in(&kw, &rng, "demo.ben", "Rocket77").await);
}

#[tokio::test]
async fn when_the_learner_chooses_their_own_password_the_copy_is_destroyed() {
    let (kw, _db, rng) = demo_keyward(31).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let cara = account_named(&kw, "demo.cara").await;
    let issued = kw
        .reset_learner_password(&ctx, &teacher, &cara.id, NewPasswordChoice::Generate)
        .await
        .unwrap();
    change_own_password_as(
        &kw,
        &ctx,
        "demo.cara",
        issued.password.expose(),
        "MySecret88",
    )
    .await;

    let err = kw
        .reveal_learner_password(&ctx, &teacher, &cara.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_retrievable");
    assert_eq!(
        kw.learner_password_view(&crate::testing::view_ctx(), &teacher, &cara.id)
            .await
            .unwrap()
            .state,
        PasswordState::Private
    );
    // Amy's and Ben's demo passwords are kept; Cara's went with her change.
    assert_eq!(kept_learner_passwords(&kw).await, 2);
}

#[tokio::test]
async fn staff_outside_the_learners_classes_or_school_cannot_reach_them() {
    let (kw, _db, rng) = demo_keyward(31).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let admin = actor_named(&kw, "demo.admin").await;
    let lead = actor_named(&kw, "demo.lead").await;
    let amy = account_named(&kw, "demo.amy").await;

    // A second teacher of the same school, teaching none of Amy's classes.
    let other_teacher = another_teacher(&kw, &ctx, &lead).await;
    let err = kw
        .reset_learner_password(&ctx, &other_teacher, &amy.id, NewPasswordChoice::Generate)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let err = kw
        .reveal_learner_password(&ctx, &other_teacher, &amy.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");

    // The lead teacher of another school learns nothing.
    let foreign_lead =
        staff_of_another_school(&kw, &ctx, &admin, other_teacher.user_id, Role::LeadTeacher).await;
    let err = kw
        .reset_learner_password(&ctx, &foreign_lead, &amy.id, NewPasswordChoice::Generate)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");

    // Staff are no learners: their passwords are never reset or shown here.
    let teacher = actor_named(&kw, "demo.teacher").await;
    let err = kw
        .reveal_learner_password(&ctx, &lead, &teacher.user_id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    let unknown = crate::types::UserId::generate(&rng).unwrap();
    let err = kw
        .learner_password_view(&crate::testing::view_ctx(), &lead, &unknown)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    assert!(signs_in(&kw, &rng, "demo.amy", DEMO_PASSWORD).await);
}

#[tokio::test]
async fn a_school_that_keeps_no_copies_destroys_them_and_keeps_none_after() {
    let (kw, _db, rng) = demo_keyward(31).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let teacher = actor_named(&kw, "demo.teacher").await;
    let school = lead.school_id.clone().unwrap();
    let amy = account_named(&kw, "demo.amy").await;
    assert!(
        kw.learner_passwords_retrievable(&crate::testing::view_ctx(), &teacher, &school)
            .await
            .unwrap()
    );

    let err = kw
        .set_learner_passwords_retrievable(&ctx, &teacher, &school, false)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    kw.set_learner_passwords_retrievable(&ctx, &lead, &school, false)
        .await
        .unwrap();
    assert!(
        !kw.learner_passwords_retrievable(&crate::testing::view_ctx(), &teacher, &school)
            .await
            .unwrap()
    );
    let view = kw
        .learner_password_view(&crate::testing::view_ctx(), &teacher, &amy.id)
        .await
        .unwrap();
    assert_eq!(view.state, PasswordState::NotKept);

    let issued = kw
        .reset_learner_password(&ctx, &teacher, &amy.id, NewPasswordChoice::Generate)
        .await
        .unwrap();
    assert!(!issued.kept);
    let err = kw
        .reveal_learner_password(&ctx, &teacher, &amy.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_retrievable");
    assert_eq!(kept_learner_passwords(&kw).await, 0);
}

#[tokio::test]
async fn a_pending_learner_has_no_password_to_reset() {
    let (kw, _db, rng) = demo_keyward(31).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let created = create_pending_user(&kw, &ctx, &lead, Role::Learner, ("Dev", "Patel"), &[]).await;
    let err = kw
        .reset_learner_password(&ctx, &lead, &created.id, NewPasswordChoice::Generate)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_activated");
    assert_eq!(
        kw.learner_password_view(&crate::testing::view_ctx(), &lead, &created.id)
            .await
            .unwrap()
            .state,
        PasswordState::Pending
    );
}

/// The learner's own change (or a reset by link) that reaches the account
/// while a staff reset is still writing: it waits, then replaces the
/// password the reset stored, and the copy the reset kept goes with it. On
/// PostgreSQL the copy's id used to be read before the wait, so the reset's
/// copy stayed behind, sealing a password nobody had any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_waiting_for_a_staff_reset_destroys_the_copy_that_reset_kept() {
    let (kw, _db, rng) = demo_keyward(35).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let amy = account_named(&kw, "demo.amy").await;
    let school = amy.school_id.clone().unwrap();

    // The staff reset, up to its commit.
    let mut staff = kw.db.begin_write().await.unwrap();
    assert!(school_keeps_copies_in(&mut staff, &school).await.unwrap());
    crate::accounts::set_password(&mut staff, &amy.id, "staff-hash", ctx.now)
        .await
        .unwrap();
    keep_staff_password(
        &mut staff,
        &ctx,
        &kw.sealer,
        &amy.id,
        &Password::from("Staff1Set"),
        true,
    )
    .await
    .unwrap();
    // Her own change meanwhile, from another connection (on SQLite it
    // waits at its start for the one writer).
    let own = {
        let (kw, amy) = (kw.clone(), amy.id.clone());
        tokio::spawn(async move {
            let mut tx = kw.db.begin_write().await.unwrap();
            crate::accounts::set_password(&mut tx, &amy, "her-own-hash", MONDAY_MORNING)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    staff.commit().await.unwrap();
    own.await.unwrap();

    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(amy.id.as_str())
        .fetch_one(kw.db.pool())
        .await
        .unwrap();
    assert_eq!(hash, "her-own-hash");
    let copies: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sealed_secrets WHERE owner_id = $1 AND purpose = 'learner_password'",
    )
    .bind(amy.id.as_str())
    .fetch_one(kw.db.pool())
    .await
    .unwrap();
    assert_eq!(copies, 0, "a copy of a password she no longer has");
    let view = kw
        .learner_password_view(
            &crate::testing::view_ctx(),
            &actor_named(&kw, "demo.teacher").await,
            &amy.id,
        )
        .await
        .unwrap();
    assert_eq!(view.state, PasswordState::Private);
}
