//! Use-case tests of the whole-class reset, on the backend of the test run.

use super::*;
use crate::authz::Permission;
use crate::classroom::passwords::PasswordState;
use crate::error::ErrorKind;
use crate::testing::{
    DEMO_PASSWORD, MONDAY_MORNING, TestDb, account_named, actor_named, another_teacher,
    create_pending_user, ctx_at, demo_class, demo_keyward, grant_through_custom_role, parse_csv,
    seed_demo_people, settings_for, signs_in, staff_of_another_school,
};
use crate::types::random::SeededRandom;
use crate::types::{Password, Role, Username};

const LEARNERS: [&str; 3] = ["demo.amy", "demo.ben", "demo.cara"];

async fn all_sign_in_with_demo_password(kw: &Keyward, rng: &SeededRandom) -> bool {
    for username in LEARNERS {
        if !signs_in(kw, rng, username, DEMO_PASSWORD).await {
            return false;
        }
    }
    true
}

async fn class_resets_audited(kw: &Keyward) -> Vec<crate::audit::AuditRow> {
    crate::audit::recent(kw.db(), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.action == action::CLASS_PASSWORD_RESET)
        .collect()
}

fn usernames(reset: &ClassReset) -> Vec<&str> {
    reset.learners.iter().map(|l| l.username.as_str()).collect()
}

#[tokio::test]
async fn individual_mode_gives_every_learner_their_own_password_to_sign_in_with() {
    let (kw, _db, rng) = demo_keyward(41).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;
    let amy_session = kw
        .sign_in(&ctx, "demo.amy", DEMO_PASSWORD.into())
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step")
        .session_token;

    let reset = kw
        .reset_class_passwords(&ctx, &teacher, &class, ClassResetMode::Individual)
        .await
        .unwrap();

    assert_eq!(reset.class_id, class);
    assert_eq!(reset.class_name, crate::demo::DEMO_CLASS_NAME);
    assert_eq!(reset.mode, ClassResetKind::Individual);
    assert!(reset.kept);
    assert!(reset.skipped_pending.is_empty());
    // The order of the class list: Adams, Brown, Clark.
    assert_eq!(usernames(&reset), LEARNERS);
    assert_eq!(reset.learners[0].first_name, "Amy");
    assert_eq!(reset.learners[0].last_name, "Adams");
    let distinct: HashSet<&str> = reset.learners.iter().map(|l| l.password.expose()).collect();
    assert_eq!(distinct.len(), 3);
    let policy = kw
        .password_policy(
            Some(&account_named(&kw, "demo.amy").await.school_id.unwrap()),
            PolicyKind::Learner,
        )
        .await
        .unwrap();
    for learner in &reset.learners {
        assert!(
            policy
                .check(&learner.password, Some(learner.username.as_str()))
                .is_empty()
        );
        assert!(
            signs_in(
                &kw,
                &rng,
                learner.username.as_str(),
                learner.password.expose()
            )
            .await
        );
        assert!(!signs_in(&kw, &rng, learner.username.as_str(), DEMO_PASSWORD).await);
        // Staff set it and a copy is kept: it can be shown again, Cara's too.
        let view = kw
            .learner_password_view(&crate::testing::view_ctx(), &teacher, &learner.user_id)
            .await
            .unwrap();
        assert_eq!(view.state, PasswordState::Retrievable);
        let shown = kw
            .reveal_learner_password(&ctx, &teacher, &learner.user_id)
            .await
            .unwrap();
        assert_eq!(shown.password.expose(), learner.password.expose());
    }
    // Amy's old session ended with her old password.
    assert!(
        kw.current_session(&ctx, &amy_session)
            .await
            .unwrap()
            .is_none()
    );

    let audited = class_resets_audited(&kw).await;
    assert_eq!(audited.len(), 1);
    let detail = audited[0].detail.clone().unwrap();
    assert!(
        detail.contains("mode=individual") && detail.contains("learners=3"),
        "{detail}"
    );
    assert_eq!(audited[0].target_id.as_deref(), Some(class.as_str()));
    for learner in &reset.learners {
        assert!(!detail.contains(learner.password.expose()));
    }
}

#[tokio::test]
async fn same_mode_generates_one_password_that_contains_no_learners_username() {
    let (kw, _db, rng) = demo_keyward(41).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let class = demo_class(&kw).await;

    let reset = kw
        .reset_class_passwords(&ctx, &lead, &class, ClassResetMode::Same(None))
        .await
        .unwrap();
    assert_eq!(reset.mode, ClassResetKind::Same);
    assert_eq!(usernames(&reset), LEARNERS);
    let shared = reset.learners[0].password.expose().to_owned();
    for learner in &reset.learners {
        assert_eq!(learner.password.expose(), shared);
        let key = crate::types::username_key(&shared);
        assert!(!key.contains(learner.username.key()));
        assert!(signs_in(&kw, &rng, learner.username.as_str(), &shared).await);
    }
    let detail = class_resets_audited(&kw).await[0].detail.clone().unwrap();
    assert!(detail.contains("mode=same"), "{detail}");
    assert!(!detail.contains(&shared));
}

#[tokio::test]
async fn same_mode_with_a_chosen_password_sets_it_for_every_learner() {
    let (kw, _db, rng) = demo_keyward(41).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;

    let reset = kw
        .reset_class_passwords(
            &ctx,
            &teacher,
            &class,
            ClassResetMode::Same(Some("Rocket77".into())),
        )
        .await
        .unwrap();
    assert_eq!(reset.learners.len(), 3);
    for username in LEARNERS {
        assert!(
            signs_in(&kw, &rng, username, "Rocket77").await,
            "{username}"
        );
    }
}

#[tokio::test]
async fn a_chosen_password_that_breaks_the_policy_changes_nothing_and_frees_the_class() {
    let (kw, _db, rng) = demo_keyward(41).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;
    let hashed_before = kw
        .hashing_stats()
        .completed
        .load(std::sync::atomic::Ordering::SeqCst);

    let err = kw
        .reset_class_passwords(
            &ctx,
            &teacher,
            &class,
            ClassResetMode::Same(Some("abc".into())),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "password_policy");
    assert_eq!(err.kind(), ErrorKind::BadInput);
    let ClassResetError::PasswordPolicy { violations, .. } = &err else {
        panic!("expected a policy error, got {err:?}");
    };
    assert!(violations.contains(&Violation::TooShort));
    assert!(violations.contains(&Violation::MissingUppercase));
    assert!(!err.to_string().contains("abc"));

    let err = kw
        .reset_class_passwords(
            &ctx,
            &teacher,
            &class,
            ClassResetMode::Same(Some("x".repeat(300).into())),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "password_policy");
    // Refused before any hashing.
    assert_eq!(
        kw.hashing_stats()
            .completed
            .load(std::sync::atomic::Ordering::SeqCst),
        hashed_before
    );
    assert!(all_sign_in_with_demo_password(&kw, &rng).await);
    assert!(class_resets_audited(&kw).await.is_empty());

    // Under a policy that refuses usernames, a password holding one learner's
    // username is refused for the whole class.
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    let mut policy = PasswordPolicy::classic();
    policy.block_username = true;
    kw.set_school_password_policy(&ctx, &lead, &school, PolicyKind::Learner, &policy)
        .await
        .unwrap();
    let err = kw
        .reset_class_passwords(
            &ctx,
            &teacher,
            &class,
            ClassResetMode::Same(Some("Demo.Ben42".into())),
        )
        .await
        .unwrap_err();
    let ClassResetError::PasswordPolicy { violations, .. } = &err else {
        panic!("expected a policy error, got {err:?}");
    };
    assert!(
        violations.contains(&Violation::ContainsUsername),
        "{violations:?}"
    );

    // The failures held the class only while they ran.
    kw.reset_class_passwords(&ctx, &teacher, &class, ClassResetMode::Individual)
        .await
        .unwrap();
}

#[tokio::test]
async fn pending_learners_are_left_alone_and_listed_as_skipped() {
    let (kw, _db, rng) = demo_keyward(41).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let class = demo_class(&kw).await;
    let created = create_pending_user(
        &kw,
        &ctx,
        &lead,
        Role::Learner,
        ("Dev", "Patel"),
        std::slice::from_ref(&class),
    )
    .await;
    let preview = kw
        .class_reset_preview(&crate::testing::view_ctx(), &lead, &class)
        .await
        .unwrap();
    assert_eq!((preview.learners, preview.pending), (3, 1));
    assert_eq!(preview.class_name, crate::demo::DEMO_CLASS_NAME);

    let reset = kw
        .reset_class_passwords(&ctx, &lead, &class, ClassResetMode::Individual)
        .await
        .unwrap();
    assert_eq!(usernames(&reset), LEARNERS);
    assert_eq!(reset.skipped_pending.len(), 1);
    assert_eq!(reset.skipped_pending[0].user_id, created.id);
    assert_eq!(reset.skipped_pending[0].first_name, "Dev");
    let dev = crate::accounts::find_account(kw.db(), &created.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dev.status, AccountStatus::Pending);
    assert_eq!(
        kw.learner_password_view(&crate::testing::view_ctx(), &lead, &created.id)
            .await
            .unwrap()
            .state,
        PasswordState::Pending
    );
    let detail = class_resets_audited(&kw).await[0].detail.clone().unwrap();
    assert!(detail.contains("skipped_pending=1"), "{detail}");
}

#[tokio::test]
async fn a_class_without_learners_who_have_a_password_is_refused() {
    let (kw, _db, rng) = demo_keyward(41).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    let empty = kw
        .create_class(&ctx, &lead, &school, "Class 5A", &[])
        .await
        .unwrap();

    let err = kw
        .reset_class_passwords(&ctx, &lead, &empty.id, ClassResetMode::Individual)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "class_empty");
    assert_eq!(err.kind(), ErrorKind::Conflict);

    // A pending learner alone changes nothing: there is still no password.
    create_pending_user(
        &kw,
        &ctx,
        &lead,
        Role::Learner,
        ("Eli", "Rossi"),
        std::slice::from_ref(&empty.id),
    )
    .await;
    let err = kw
        .reset_class_passwords(&ctx, &lead, &empty.id, ClassResetMode::Same(None))
        .await
        .unwrap_err();
    // Not `reset_in_progress`: the first refusal gave the class back.
    assert_eq!(err.code(), "class_empty");
}

#[tokio::test]
async fn staff_outside_the_class_or_school_cannot_reset_it() {
    let (kw, _db, rng) = demo_keyward(41).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let admin = actor_named(&kw, "demo.admin").await;
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    let class = demo_class(&kw).await;

    // A teacher of another class of the same school.
    let mut other_teacher = another_teacher(&kw, &ctx, &lead).await;
    let own_class = kw
        .create_class(
            &ctx,
            &lead,
            &school,
            "Class 6C",
            std::slice::from_ref(&other_teacher.user_id),
        )
        .await
        .unwrap();
    other_teacher.classes.push(own_class.id);
    let err = kw
        .reset_class_passwords(&ctx, &other_teacher, &class, ClassResetMode::Individual)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");

    // A learner of the class may not reset it either.
    let amy = actor_named(&kw, "demo.amy").await;
    let err = kw
        .reset_class_passwords(&ctx, &amy, &class, ClassResetMode::Individual)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");

    // The lead teacher of another school learns nothing, nor does anyone
    // about a class that does not exist.
    let foreign_lead =
        staff_of_another_school(&kw, &ctx, &admin, other_teacher.user_id, Role::LeadTeacher).await;
    let err = kw
        .reset_class_passwords(&ctx, &foreign_lead, &class, ClassResetMode::Individual)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    let err = kw
        .class_reset_preview(&crate::testing::view_ctx(), &foreign_lead, &class)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    let unknown = ClassId::generate(&rng).unwrap();
    let err = kw
        .reset_class_passwords(&ctx, &lead, &unknown, ClassResetMode::Individual)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");

    assert!(all_sign_in_with_demo_password(&kw, &rng).await);
    // None of the refusals held the class.
    kw.reset_class_passwords(&ctx, &admin, &class, ClassResetMode::Individual)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_learner_holding_a_permission_the_teacher_lacks_stops_the_whole_reset() {
    let (kw, _db, rng) = demo_keyward(41).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;
    grant_through_custom_role(&kw, &ctx, &lead, "demo.ben", &[Permission::UsersView]).await;

    let err = kw
        .reset_class_passwords(&ctx, &teacher, &class, ClassResetMode::Individual)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    assert!(all_sign_in_with_demo_password(&kw, &rng).await);
    assert!(class_resets_audited(&kw).await.is_empty());

    // The lead teacher holds that permission too.
    let reset = kw
        .reset_class_passwords(&ctx, &lead, &class, ClassResetMode::Individual)
        .await
        .unwrap();
    assert_eq!(usernames(&reset), LEARNERS);
}

#[tokio::test]
async fn two_resets_of_one_class_at_once_never_mix() {
    let (kw, _db, rng) = demo_keyward(41).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let lead = actor_named(&kw, "demo.lead").await;
    let class = demo_class(&kw).await;

    let (first, second) = tokio::join!(
        kw.reset_class_passwords(&ctx, &teacher, &class, ClassResetMode::Individual),
        kw.reset_class_passwords(&ctx, &lead, &class, ClassResetMode::Same(None)),
    );
    // The second asks for the class while the first is still hashing.
    let (won, refused) = match (first, second) {
        (Ok(won), Err(refused)) | (Err(refused), Ok(won)) => (won, refused),
        (first, second) => panic!("expected one winner and one refusal: {first:?} {second:?}"),
    };
    assert_eq!(refused.code(), "reset_in_progress");
    assert_eq!(refused.kind(), ErrorKind::Conflict);
    // Every learner has the winner's password: nothing of the other is half done.
    for learner in &won.learners {
        assert!(
            signs_in(
                &kw,
                &rng,
                learner.username.as_str(),
                learner.password.expose()
            )
            .await
        );
    }
    assert_eq!(class_resets_audited(&kw).await.len(), 1);

    // The class is free again.
    kw.reset_class_passwords(&ctx, &teacher, &class, ClassResetMode::Individual)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_held_class_is_refused_until_the_lease_runs_out() {
    let (kw, _db, rng) = demo_keyward(41).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;
    let until = UnixTime(MONDAY_MORNING.secs() + CLASS_RESET_LEASE_SECS);
    assert!(
        crate::schools::store::take_reset_lease(kw.db(), &class, MONDAY_MORNING, until)
            .await
            .unwrap()
    );

    let err = kw
        .reset_class_passwords(&ctx, &teacher, &class, ClassResetMode::Individual)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "reset_in_progress");
    assert!(all_sign_in_with_demo_password(&kw, &rng).await);

    // A reset that died holding the class frees it when its lease runs out.
    let later = ctx_at(UnixTime(until.secs() + 1), &rng);
    kw.reset_class_passwords(&later, &teacher, &class, ClassResetMode::Individual)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_busy_hashing_pool_changes_nothing_and_frees_the_class() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.hashing.max_concurrent = 1;
    settings.hashing.memory_kib = 32 * 1024;
    settings.hashing.iterations = 8;
    settings.hashing.queue_timeout = std::time::Duration::from_millis(1);
    let kw = Keyward::new(db.db.clone(), settings, &SeededRandom::new(5)).unwrap();
    let rng = SeededRandom::new(42);
    seed_demo_people(&kw, &rng).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;

    // The one slot is taken (a sign-in's hash, say) while the reset asks.
    let reset_while_busy = || async {
        let stats = kw.hashing_stats();
        let password = Password::from("Occupant-1");
        let occupant = kw.hashing.hash(&password, &rng);
        let reset = async {
            while stats.running.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            kw.reset_class_passwords(&ctx, &teacher, &class, ClassResetMode::Individual)
                .await
        };
        let (occupied, reset) = tokio::join!(occupant, reset);
        occupied.unwrap();
        reset
    };
    let err = reset_while_busy().await.unwrap_err();
    assert_eq!(err.code(), "server_busy");
    assert!(matches!(err.kind(), ErrorKind::Unavailable));
    assert!(class_resets_audited(&kw).await.is_empty());
    // The class is free again: only the busy pool refuses now, not a lease.
    let err = reset_while_busy().await.unwrap_err();
    assert_eq!(err.code(), "server_busy");
    let held: Option<i64> =
        sqlx::query_scalar("SELECT password_reset_until FROM classes WHERE id = $1")
            .bind(class.as_str())
            .fetch_one(kw.db().pool())
            .await
            .unwrap();
    assert_eq!(held, None);
}

#[tokio::test]
async fn a_reset_dropped_half_way_changes_nothing_and_frees_the_class() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.hashing.max_concurrent = 1;
    settings.hashing.memory_kib = 16 * 1024;
    settings.hashing.iterations = 4;
    let kw = Keyward::new(db.db.clone(), settings, &SeededRandom::new(6)).unwrap();
    let rng = SeededRandom::new(43);
    seed_demo_people(&kw, &rng).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;
    let held = || async {
        let until: Option<i64> =
            sqlx::query_scalar("SELECT password_reset_until FROM classes WHERE id = $1")
                .bind(class.as_str())
                .fetch_one(kw.db().pool())
                .await
                .unwrap();
        until.is_some()
    };

    // The request goes away while the passwords are being hashed.
    let stats = kw.hashing_stats();
    let reset = kw.reset_class_passwords(&ctx, &teacher, &class, ClassResetMode::Individual);
    let hashing = async {
        while stats.running.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        held().await
    };
    tokio::select! {
        _ = reset => panic!("the reset finished before it could be dropped"),
        was_held = hashing => assert!(was_held, "the reset held the class while hashing"),
    }

    let started = std::time::Instant::now();
    while held().await {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the class stayed held"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(all_sign_in_with_demo_password(&kw, &rng).await);
    assert!(class_resets_audited(&kw).await.is_empty());
}

#[tokio::test]
async fn a_school_that_keeps_no_copies_gets_passwords_that_cannot_be_shown_again() {
    let (kw, _db, rng) = demo_keyward(41).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    let class = demo_class(&kw).await;
    kw.set_learner_passwords_retrievable(&ctx, &lead, &school, false)
        .await
        .unwrap();

    let reset = kw
        .reset_class_passwords(&ctx, &lead, &class, ClassResetMode::Individual)
        .await
        .unwrap();
    assert!(!reset.kept);
    for learner in &reset.learners {
        assert_eq!(
            kw.learner_password_view(&crate::testing::view_ctx(), &lead, &learner.user_id)
                .await
                .unwrap()
                .state,
            PasswordState::NotKept
        );
    }
}

#[test]
fn the_csv_lists_every_learner_with_formulas_neutralised() {
    let rng = SeededRandom::new(1);
    let learner = |first: &str, last: &str, username: &str, password: &str| ResetLearner {
        user_id: UserId::generate(&rng).unwrap(),
        username: Username::parse(username).unwrap(),
        first_name: first.into(),
        last_name: last.into(),
        password: Password::from(password),
    };
    let reset = ClassReset {
        class_id: ClassId::generate(&rng).unwrap(),
        class_name: "=Class 4B, \"north\"".into(),
        school_name: "Riverside".into(),
        mode: ClassResetKind::Individual,
        kept: true,
        learners: vec![
            learner("Amy", "Adams", "demo.amy", "TigerApple42"),
            learner("@Ben", "-Brown", "demo.ben", "+Sum(1)"),
        ],
        skipped_pending: Vec::new(),
        skipped_sso: Vec::new(),
    };
    let (header, rows) = parse_csv(reset.to_csv().unwrap().as_bytes());
    assert_eq!(header, CSV_HEADER);
    assert_eq!(
        rows,
        vec![
            vec![
                "'=Class 4B, \"north\"",
                "Amy",
                "Adams",
                "demo.amy",
                "TigerApple42"
            ],
            vec![
                "'=Class 4B, \"north\"",
                "'@Ben",
                "'-Brown",
                "demo.ben",
                "'+Sum(1)"
            ],
        ]
    );
    assert_eq!(reset.csv_file_name(), "Class-4B---north-passwords.csv");
}

#[test]
fn a_class_reset_leaves_a_hashing_slot_to_sign_ins() {
    assert_eq!(class_hashes_in_flight(0), 1);
    assert_eq!(class_hashes_in_flight(1), 1);
    assert_eq!(class_hashes_in_flight(2), 1);
    assert_eq!(class_hashes_in_flight(4), 3);
}

#[tokio::test]
async fn a_sign_in_during_a_big_class_reset_waits_for_at_most_a_few_of_its_hashes() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let (kw, db, rng) = demo_keyward(44).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;
    // Sixteen more learners with a password (cheap hashing while setting up).
    for i in 0..16 {
        let created = create_pending_user(
            &kw,
            &ctx,
            &lead,
            Role::Learner,
            ("Extra", &format!("Learner{i:02}")),
            std::slice::from_ref(&class),
        )
        .await;
        kw.activate(
            &ctx,
            &crate::activation::ActivationInput {
                code: crate::types::TypedCode::from(created.access_code),
                username: format!("extra.{i:02}"),
                password: "ExtraPass42".into(),
                confirm_password: None,
                email: None,
                first_name: None,
                last_name: None,
            },
        )
        .await
        .unwrap();
    }
    // The same school on a server whose hashes take a while, two at a time.
    let mut settings = kw.settings().clone();
    settings.hashing.max_concurrent = 2;
    settings.hashing.memory_kib = 8 * 1024;
    settings.hashing.iterations = 4;
    settings.hashing.queue_timeout = std::time::Duration::from_secs(120);
    let kw = Keyward::new(db.db.clone(), settings, &SeededRandom::new(7)).unwrap();
    let stats = kw.hashing_stats();

    let reset_done = AtomicBool::new(false);
    let reset = async {
        let reset = kw
            .reset_class_passwords(&ctx, &teacher, &class, ClassResetMode::Individual)
            .await;
        reset_done.store(true, Ordering::SeqCst);
        reset
    };
    let sign_in = async {
        // Once the reset is hashing, someone signs in (and mistypes).
        while stats.running.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let before = stats.completed.load(Ordering::SeqCst);
        let signed_in = kw
            .sign_in(&ctx, "demo.amy", "not-her-password".into())
            .await;
        let after = stats.completed.load(Ordering::SeqCst);
        (
            signed_in.is_err(),
            after - before,
            reset_done.load(Ordering::SeqCst),
        )
    };
    let (reset, (refused, hashes_meanwhile, reset_finished_first)) = tokio::join!(reset, sign_in);

    let reset = reset.unwrap();
    assert_eq!(reset.learners.len(), 19);
    assert!(refused);
    assert!(
        !reset_finished_first,
        "the sign-in waited for the whole class"
    );
    // The sign-in's own hash and the class's hash in flight, maybe the next
    // one or two: never the class's queue of nineteen.
    assert!(
        hashes_meanwhile <= 4,
        "{hashes_meanwhile} hashes before the sign-in's"
    );
    assert_eq!(class_resets_audited(&kw).await.len(), 1);
}
