//! Use-case tests of one learner's password in staff hands, on the backend of
//! the test run.

use super::*;
use crate::crypto::random::SeededRandom;
use crate::testing::{MONDAY_MORNING, TestDb, ctx_at, keyward};
use crate::types::{Password, Username};
use std::sync::Arc;

async fn seeded() -> (Arc<Keyward>, TestDb, SeededRandom) {
    let (kw, db) = keyward().await;
    let rng = SeededRandom::new(31);
    let passwords = crate::demo::DEMO_PEOPLE
        .iter()
        .map(|p| {
            (
                p.username.to_owned(),
                Password::new("DemoPass42".into()).unwrap(),
            )
        })
        .collect();
    kw.seed_demo(&ctx_at(MONDAY_MORNING, &rng), &passwords)
        .await
        .unwrap();
    (kw, db, rng)
}

async fn actor(kw: &Keyward, username: &str) -> Actor {
    let account = account(kw, username).await;
    kw.actor_of(&account).await.unwrap()
}

async fn account(kw: &Keyward, username: &str) -> Account {
    kw.find_account_by_username(&Username::parse(username).unwrap())
        .await
        .unwrap()
        .unwrap()
}

async fn signs_in(kw: &Keyward, rng: &SeededRandom, username: &str, password: &str) -> bool {
    kw.sign_in(&ctx_at(MONDAY_MORNING, rng), username, password.into())
        .await
        .is_ok()
}

#[tokio::test]
async fn a_teacher_generates_a_password_the_learner_signs_in_with_and_can_show_it_again() {
    let (kw, _db, rng) = seeded().await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor(&kw, "demo.teacher").await;
    let amy = account(&kw, "demo.amy").await;

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
    assert!(!signs_in(&kw, &rng, "demo.amy", "DemoPass42").await);

    let view = kw.learner_password_view(&teacher, &amy.id).await.unwrap();
    assert_eq!(view.state, PasswordState::Retrievable);
    let shown = kw
        .reveal_learner_password(&ctx, &teacher, &amy.id)
        .await
        .unwrap();
    assert_eq!(shown.expose(), issued.password.expose());

    let actions: Vec<String> = crate::audit::recent(kw.db(), 50)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.action)
        .collect();
    assert!(actions.contains(&action::LEARNER_PASSWORD_RESET.to_owned()));
    assert!(actions.contains(&action::LEARNER_PASSWORD_REVEAL.to_owned()));
}

#[tokio::test]
async fn a_chosen_password_is_checked_against_the_learner_policy_and_changes_nothing_when_bad() {
    let (kw, _db, rng) = seeded().await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor(&kw, "demo.lead").await;
    let ben = account(&kw, "demo.ben").await;

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
    assert!(signs_in(&kw, &rng, "demo.ben", "DemoPass42").await);

    let err = kw
        .reset_learner_password(
            &ctx,
            &lead,
            &ben.id,
            NewPasswordChoice::Chosen("x".repeat(300)),
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
    let (kw, _db, rng) = seeded().await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor(&kw, "demo.teacher").await;
    let cara = account(&kw, "demo.cara").await;
    let issued = kw
        .reset_learner_password(&ctx, &teacher, &cara.id, NewPasswordChoice::Generate)
        .await
        .unwrap();

    let signed_in = kw
        .sign_in(&ctx, "demo.cara", issued.password.expose().into())
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
        issued.password.expose().into(),
        "MySecret88".into(),
        "MySecret88",
    )
    .await
    .unwrap();

    let err = kw
        .reveal_learner_password(&ctx, &teacher, &cara.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_retrievable");
    assert_eq!(
        kw.learner_password_view(&teacher, &cara.id)
            .await
            .unwrap()
            .state,
        PasswordState::Private
    );
    let copies: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sealed_secrets WHERE purpose = 'learner_password'",
    )
    .fetch_one(kw.db().pool())
    .await
    .unwrap();
    // Amy's and Ben's demo passwords are kept; Cara's went with her change.
    assert_eq!(copies, 2);
}

#[tokio::test]
async fn staff_outside_the_learners_classes_or_school_cannot_reach_them() {
    let (kw, _db, rng) = seeded().await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let admin = actor(&kw, "demo.admin").await;
    let lead = actor(&kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    let amy = account(&kw, "demo.amy").await;

    // A second teacher of the same school, with a class of their own.
    let created = kw
        .create_user(
            &ctx,
            &lead,
            &crate::admin::NewPendingUser {
                first_name: "Ola".into(),
                last_name: "Nowak".into(),
                role: Role::Teacher,
                school_id: Some(school.clone()),
                class_ids: Vec::new(),
                email: None,
            },
        )
        .await
        .unwrap();
    let other_teacher = Actor {
        user_id: created.id.clone(),
        role: Role::Teacher,
        school_id: Some(school.clone()),
        granted: crate::authz::PermissionSet::EMPTY,
        classes: Vec::new(),
    };
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
    let elsewhere = kw
        .create_school(&ctx, &admin, "Hill Top Academy")
        .await
        .unwrap();
    let foreign_lead = Actor {
        user_id: created.id,
        role: Role::LeadTeacher,
        school_id: Some(elsewhere.id),
        granted: crate::authz::PermissionSet::EMPTY,
        classes: Vec::new(),
    };
    let err = kw
        .reset_learner_password(&ctx, &foreign_lead, &amy.id, NewPasswordChoice::Generate)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");

    // Staff are no learners: their passwords are never reset or shown here.
    let teacher = actor(&kw, "demo.teacher").await;
    let err = kw
        .reveal_learner_password(&ctx, &lead, &teacher.user_id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    let unknown = crate::types::UserId::generate(&rng).unwrap();
    let err = kw.learner_password_view(&lead, &unknown).await.unwrap_err();
    assert_eq!(err.code(), "not_found");
    assert!(signs_in(&kw, &rng, "demo.amy", "DemoPass42").await);
}

#[tokio::test]
async fn a_school_that_keeps_no_copies_destroys_them_and_keeps_none_after() {
    let (kw, _db, rng) = seeded().await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor(&kw, "demo.lead").await;
    let teacher = actor(&kw, "demo.teacher").await;
    let school = lead.school_id.clone().unwrap();
    let amy = account(&kw, "demo.amy").await;
    assert!(
        kw.learner_passwords_retrievable(&teacher, &school)
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
        !kw.learner_passwords_retrievable(&teacher, &school)
            .await
            .unwrap()
    );
    let view = kw.learner_password_view(&teacher, &amy.id).await.unwrap();
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
    let copies: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sealed_secrets WHERE purpose = 'learner_password'",
    )
    .fetch_one(kw.db().pool())
    .await
    .unwrap();
    assert_eq!(copies, 0);
}

#[tokio::test]
async fn a_pending_learner_has_no_password_to_reset() {
    let (kw, _db, rng) = seeded().await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor(&kw, "demo.lead").await;
    let created = kw
        .create_user(
            &ctx,
            &lead,
            &crate::admin::NewPendingUser {
                first_name: "Dev".into(),
                last_name: "Patel".into(),
                role: Role::Learner,
                school_id: lead.school_id.clone(),
                class_ids: Vec::new(),
                email: None,
            },
        )
        .await
        .unwrap();
    let err = kw
        .reset_learner_password(&ctx, &lead, &created.id, NewPasswordChoice::Generate)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_activated");
    assert_eq!(
        kw.learner_password_view(&lead, &created.id)
            .await
            .unwrap()
            .state,
        PasswordState::Pending
    );
}
